//! The command line: argument definitions (grouped as in `--help`), and the drivers of
//! `check`, `diff`, `fix`, `rules` and `explain` over many files in parallel.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::catalog::Catalog;
use crate::config::{Configs, Options, RuntimeChoice};
use crate::discover::Walk;
use crate::engine::{Mode, Outcome, process};
use crate::fix::Strategy;
use crate::index::ProjectIndex;
use crate::index::modules::Modules;
use crate::read::read_regular;
use crate::report::diff::unified;
use crate::report::output;
use crate::report::rules;
use crate::report::{
    FileResult, Style, check_github, check_json, check_sarif, check_text, display_path, errors,
    finding_line, packages_line, plural, summary,
};
use crate::write::write_atomic;

#[derive(Parser, Debug)]
#[command(
    name = "unblock",
    version,
    about = "Find blocking I/O in Python async functions and rewrite it so the event loop never stalls."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Report blocking calls (exit 0: none, 1: found, 2: error).
    Check(CheckArgs),
    /// Print the unified diff of every fix (exit 0: no change, 1: changes, 2: error).
    Diff(CommonArgs),
    /// Apply the fixes in place (exit 0: nothing left, 1: manual findings remain, 2: error).
    Fix(CommonArgs),
    /// List every rule: code, id, ASYNC aliases, what it flags, how it fixes.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        output_format: RulesFormat,
    },
    /// Print the documentation of one rule (by id, code or ASYNC alias).
    Explain {
        /// A rule id (`blocking-sleep`), code (`UNB100`) or alias (`ASYNC251`).
        rule: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RulesFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum OutputFormat {
    Text,
    Json,
    /// SARIF 2.1.0 (code-scanning tools).
    Sarif,
    /// GitHub Actions workflow-command annotations.
    Github,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// How findings are printed.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, help_heading = "Output")]
    output_format: OutputFormat,
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// Files or folders to process (`-` reads source from standard input) [default: .]
    paths: Vec<PathBuf>,
    /// The file name used for standard input in messages and configuration look-up.
    #[arg(long, value_name = "NAME", help_heading = "Input")]
    stdin_filename: Option<PathBuf>,

    /// Rules to enable: ids, codes, code prefixes or ASYNC aliases (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RULES",
        help_heading = "Rule selection"
    )]
    select: Option<Vec<String>>,
    /// Rules to disable: ids, codes, code prefixes or ASYNC aliases (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RULES",
        help_heading = "Rule selection"
    )]
    ignore: Option<Vec<String>>,

    /// `auto`: the best proven fix; `thread`: only thread offloading and the runtime's sleep.
    #[arg(long, value_enum, help_heading = "Fixes")]
    strategy: Option<Strategy>,
    /// The async library the fixes target; `auto` detects it from each file's imports.
    #[arg(long, value_enum, help_heading = "Fixes")]
    runtime: Option<RuntimeChoice>,
    /// The project's own offload call, e.g. `hass.async_add_executor_job` (positional arguments only).
    #[arg(long, value_name = "CALL", help_heading = "Fixes")]
    offload: Option<String>,
    /// Also apply unsafe fixes: the same in the common case, different in known corner cases
    /// (`requests` → `httpx.AsyncClient`; see `unblock explain UNB130`).
    #[arg(long, help_heading = "Fixes")]
    unsafe_fixes: bool,
    /// Let native fixes use this library even though the project does not declare it
    /// (repeatable; `aiofiles`, `httpx`).
    #[arg(long, value_name = "LIB", help_heading = "Fixes")]
    native: Vec<String>,
    /// The oldest Python the fixed code must run on, e.g. `py38` (default: the project's
    /// `requires-python`).
    #[arg(long, value_name = "VERSION", help_heading = "Fixes")]
    target_version: Option<String>,

    /// Glob of paths to skip while walking folders (repeatable; replaces `exclude` from the configuration).
    #[arg(long, value_name = "GLOB", help_heading = "File selection")]
    exclude: Vec<String>,
    /// Do not honour `.gitignore`, `.ignore` and git's exclude files.
    #[arg(long, help_heading = "File selection")]
    no_ignore: bool,

    /// Read the configuration from this file (a `pyproject.toml` or a TOML file of `[tool.unblock]` keys).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Configuration",
        conflicts_with = "isolated"
    )]
    config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long, help_heading = "Configuration")]
    isolated: bool,

    /// Worker threads [default: the number of CPUs].
    #[arg(short = 'j', long = "threads", value_name = "N", help_heading = "Run")]
    threads: Option<usize>,
    /// Colour in the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Run")]
    color: ColorChoice,
    /// Print findings and diffs only: no summaries, no progress bar.
    #[arg(short, long, help_heading = "Run")]
    quiet: bool,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    let catalog = Catalog::builtin().context("the built-in catalog is invalid")?;
    catalog
        .check_native_names(crate::fix::native::is_known)
        .context("the built-in catalog is invalid")?;
    match cli.command {
        Command::Rules { output_format } => {
            let text = match output_format {
                RulesFormat::Text => rules::list_text(&catalog),
                RulesFormat::Json => rules::list_json(&catalog) + "\n",
            };
            print!("{text}");
            Ok(0)
        }
        Command::Explain { rule } => match rules::explain(&catalog, &rule) {
            Some(doc) => {
                print!("{doc}");
                Ok(0)
            }
            None => bail!("unknown rule `{rule}` (see `unblock rules`)"),
        },
        Command::Check(args) => {
            let stdin = is_stdin(&args.common.paths)?;
            let style = Style {
                color: use_color(args.common.color),
            };
            // Findings are printed file by file as the run goes; JSON and SARIF are one
            // document, printed at the end.
            let text = |r: &FileResult| check_text(std::slice::from_ref(r), &style).into_bytes();
            let github = |r: &FileResult| check_github(std::slice::from_ref(r)).into_bytes();
            let stream: Option<PerFile> = match args.output_format {
                OutputFormat::Text => Some(&text),
                OutputFormat::Github => Some(&github),
                OutputFormat::Json | OutputFormat::Sarif => None,
            };
            let results = collect(
                &args.common,
                stdin.as_deref(),
                catalog.clone(),
                Mode::Check,
                stream,
            )?;
            match args.output_format {
                OutputFormat::Text if !args.common.quiet => {
                    output::write(format!("{}\n", summary(&results)).as_bytes())?;
                }
                OutputFormat::Json => output::write(check_json(&results).as_bytes())?,
                OutputFormat::Sarif => output::write(check_sarif(&results, &catalog).as_bytes())?,
                OutputFormat::Text | OutputFormat::Github => {}
            }
            report_errors(&results);
            let found = results
                .iter()
                .any(|r| r.outcome.as_ref().is_ok_and(|o| !o.findings.is_empty()));
            Ok(exit_code(&results, found))
        }
        Command::Diff(args) => {
            let stdin = is_stdin(&args.paths)?;
            let diff = |r: &FileResult| match &r.outcome {
                Ok(Outcome {
                    fixed: Some(fixed), ..
                }) => unified(&r.display, fixed),
                _ => Vec::new(),
            };
            let results = collect(&args, stdin.as_deref(), catalog, Mode::Fix, Some(&diff))?;
            let changed = results
                .iter()
                .any(|r| r.outcome.as_ref().is_ok_and(|o| o.fixed.is_some()));
            if let Some(line) = packages_line(&results)
                && !args.quiet
            {
                eprintln!("{line}");
            }
            report_errors(&results);
            Ok(exit_code(&results, changed))
        }
        Command::Fix(args) => fix(&args, catalog),
    }
}

fn fix(args: &CommonArgs, catalog: Catalog) -> Result<u8> {
    let stdin = is_stdin(&args.paths)?;
    let mut results = collect(args, stdin.as_deref(), catalog, Mode::Fix, None)?;
    if let Some(original) = &stdin {
        if let Some(Ok(outcome)) = results.first().map(|r| &r.outcome) {
            let bytes = outcome
                .fixed
                .as_ref()
                .map_or(original.as_slice(), |f| f.bytes.as_slice());
            output::write(bytes)?;
        } else {
            output::write(original)?;
        }
    } else {
        // Writing is done file by file; a failure becomes that file's error.
        results.par_iter_mut().for_each(|r| {
            let failure = match (&r.outcome, &r.path, &r.original) {
                (
                    Ok(Outcome {
                        fixed: Some(fixed), ..
                    }),
                    Some(path),
                    Some(original),
                ) => write_atomic(path, original, &fixed.bytes).err(),
                _ => None,
            };
            if let Some(e) = failure {
                r.outcome = Err(e.to_string());
            }
        });
    }
    let style = Style {
        color: use_color(args.color),
    };
    let mut remaining = 0;
    let mut fixed_total = 0;
    let mut files = 0;
    let mut out = String::new();
    let mut err = String::new();
    for r in &results {
        let Ok(outcome) = &r.outcome else { continue };
        remaining += outcome.remaining.len();
        if stdin.is_none() {
            for f in &outcome.remaining {
                out.push_str(&finding_line(&r.display, f, &style));
                out.push('\n');
            }
        }
        if let Some(fixed) = &outcome.fixed {
            files += 1;
            fixed_total += fixed.fixed;
            err.push_str(&format!(
                "Fixed {} blocking {} in {}\n",
                fixed.fixed,
                plural(fixed.fixed, "call", "calls"),
                r.display
            ));
        }
    }
    output::write(out.as_bytes())?;
    if !args.quiet {
        err.push_str(&format!(
            "Fixed {fixed_total} blocking {} in {files} {}; {remaining} manual {} {}.\n",
            plural(fixed_total, "call", "calls"),
            plural(files, "file", "files"),
            plural(remaining, "finding", "findings"),
            plural(remaining, "remains", "remain"),
        ));
        if let Some(line) = packages_line(&results) {
            err.push_str(&line);
            err.push('\n');
        }
        eprint!("{err}");
    }
    report_errors(&results);
    Ok(exit_code(&results, remaining > 0))
}

fn exit_code(results: &[FileResult], positive: bool) -> u8 {
    if results.iter().any(|r| r.outcome.is_err()) {
        2
    } else {
        u8::from(positive)
    }
}

fn report_errors(results: &[FileResult]) {
    for line in errors(results) {
        eprintln!("{line}");
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

/// `Some(bytes)` when the only path is `-` (the source read from standard input).
fn is_stdin(paths: &[PathBuf]) -> Result<Option<Vec<u8>>> {
    if !paths.iter().any(|p| p.as_os_str() == "-") {
        return Ok(None);
    }
    if paths.len() > 1 {
        bail!("`-` (standard input) cannot be combined with other paths");
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("cannot read standard input")?;
    Ok(Some(bytes))
}

fn cli_options(args: &CommonArgs) -> Options {
    Options {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        strategy: args.strategy,
        runtime: args.runtime,
        offload: args.offload.clone(),
        unsafe_fixes: args.unsafe_fixes.then_some(true),
        native: (!args.native.is_empty()).then(|| args.native.clone()),
        target_version: args.target_version.clone(),
        exclude: (!args.exclude.is_empty()).then(|| args.exclude.clone()),
        ..Options::default()
    }
}

/// The text a command prints for one file, streamed in discovery order while the run goes on.
type PerFile<'a> = &'a (dyn Fn(&FileResult) -> Vec<u8> + Sync);

/// Runs every file through the engine, in parallel, returning results in path order.
fn collect(
    args: &CommonArgs,
    stdin: Option<&[u8]>,
    catalog: Catalog,
    mode: Mode,
    stream: Option<PerFile>,
) -> Result<Vec<FileResult>> {
    let configs = Arc::new(Configs::new(
        cli_options(args),
        args.config.as_deref(),
        args.isolated,
        catalog,
    )?);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);

    if let Some(bytes) = stdin {
        let name = args
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("-"));
        let modules = Modules::default();
        let index = crate::index::build::for_stdin(&name, bytes, &configs, &modules).map(Arc::new);
        let mut options = configs.file_options(&name)?;
        options.module = modules.module_of(&name).map(|(m, _)| m);
        options.index = index;
        let outcome = process(bytes, &options, mode).map_err(|e| e.to_string());
        let result = FileResult {
            display: display_path(&name),
            path: None,
            original: None,
            outcome,
        };
        if let Some(text) = stream {
            output::write(&text(&result))?;
        }
        return Ok(vec![result]);
    }

    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    // Check every configuration up front: a broken one is an error before any work.
    for path in &paths {
        configs.for_path(path)?;
    }
    let walk = Walk {
        configs: configs.clone(),
        respect_ignore_files: !args.no_ignore,
        threads,
    };
    let discovered = walk.discover(&paths);
    let modules = Modules::default();
    let progress = progress_bar(discovered.files.len(), args.quiet);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let ordered = output::Ordered::new();
    let print = |text: &[u8]| {
        progress.suspend(|| {
            // A failed write (other than a closed pipe) shows in the final output's write.
            let _ = output::write(text);
        })
    };
    // UNB180 needs the project index: the main pass also gathers each file's facts, and the
    // files whose coroutines call a blocking project function are run again with the index
    // (so output waits for the index instead of streaming).
    let indexing = paths.iter().any(|p| {
        configs
            .file_options(p)
            .is_ok_and(|o| crate::index::build::sync_calls_selected(&o))
    });
    let run_file = |path: &PathBuf, index: Option<Arc<ProjectIndex>>| {
        let mut original = None;
        let mut facts = None;
        let outcome = read_regular(path).and_then(|bytes| {
            let mut options = configs.file_options(path).map_err(|e| e.to_string())?;
            options.module = modules.module_of(path).map(|(m, _)| m);
            if indexing && index.is_none() {
                options.facts_as = Some(crate::index::build::display(path));
            }
            options.index = index;
            let mut outcome = process(&bytes, &options, mode).map_err(|e| e.to_string())?;
            if outcome.fixed.is_some() {
                original = Some(bytes);
            }
            if let (Some(f), Some(module)) = (outcome.facts.take(), options.module) {
                facts = Some((module, f, options.project.root.clone()));
            }
            Ok(outcome)
        });
        let result = FileResult {
            display: display_path(path),
            path: Some(path.clone()),
            original,
            outcome,
        };
        (result, facts)
    };
    let mut results: Vec<FileResult> = pool.install(|| {
        let first: Vec<(FileResult, Option<_>)> = discovered
            .files
            .par_iter()
            .enumerate()
            .map(|(index, path)| {
                let done = run_file(path, None);
                progress.inc(1);
                if let Some(text) = stream
                    && !indexing
                {
                    ordered.arrive(index, text(&done.0), &print);
                }
                done
            })
            .collect();
        if !indexing {
            return first.into_iter().map(|(r, _)| r).collect();
        }
        let mut builder = crate::index::build::Builder::new(&discovered.files, &modules);
        let mut results = Vec::with_capacity(first.len());
        let mut callers = Vec::new();
        for (i, (result, facts)) in first.into_iter().enumerate() {
            if let (Some(path), Some((module, facts, root))) = (&result.path, facts) {
                callers.push((i, facts.called_from_async.clone()));
                builder.add(path, &module, facts, root.as_deref());
            }
            results.push(result);
        }
        let index = Arc::new(builder.finish(&configs));
        // Run again the files that call a blocking project function from a coroutine.
        let again: Vec<usize> = callers
            .into_iter()
            .filter(|(_, keys)| keys.iter().any(|k| index.verdict(k).is_some()))
            .map(|(i, _)| i)
            .collect();
        let redone: Vec<(usize, FileResult)> = again
            .par_iter()
            .map(|&i| (i, run_file(&discovered.files[i], Some(index.clone())).0))
            .collect();
        for (i, result) in redone {
            results[i] = result;
        }
        if let Some(text) = stream {
            for (i, result) in results.iter().enumerate() {
                ordered.arrive(i, text(result), &print);
            }
        }
        results
    });
    progress.finish_and_clear();
    for (path, reason) in discovered.errors {
        results.push(FileResult {
            display: display_path(&path),
            path: Some(path),
            original: None,
            outcome: Err(reason),
        });
    }
    Ok(results)
}

fn progress_bar(len: usize, quiet: bool) -> ProgressBar {
    if quiet || len < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files") {
        bar.set_style(style);
    }
    bar
}
