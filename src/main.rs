//! The `unblock` binary: everything lives in the library; see `cli`.

fn main() -> std::process::ExitCode {
    unblock::cli::main()
}
