//! Colour: whether standard output gets it (`--color`, then `NO_COLOR`, `FORCE_COLOR`, and
//! through anstream `CLICOLOR_FORCE`, `CLICOLOR`, `TERM` and whether it is a terminal), and
//! the styles of findings and diffs (anstyle). Coloured text is written through anstream, which
//! also drives Windows consoles.

use anstyle::{AnsiColor, Style};

/// `--color auto|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Whether output to standard output is coloured.
pub fn stdout_colored(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => from_environment(&std::io::stdout()),
    }
}

/// `NO_COLOR` (set, not empty) turns colour off, `FORCE_COLOR` (set, not empty, not `0` or
/// `false`) on; otherwise anstream decides from `CLICOLOR_FORCE`, `CLICOLOR`, `TERM` and
/// whether the stream is a terminal.
fn from_environment(stream: &impl anstream::stream::RawStream) -> bool {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if set("NO_COLOR").is_some() {
        return false;
    }
    if let Some(force) = set("FORCE_COLOR") {
        let force = force.to_string_lossy().to_ascii_lowercase();
        return force != "0" && force != "false";
    }
    anstream::AutoStream::choice(stream) == anstream::ColorChoice::Always
}

pub const PATH: Style = Style::new().bold();
pub const CODE: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
pub const RULE: Style = Style::new().dimmed();
pub const DIFF_HEADER: Style = Style::new().bold();
pub const DIFF_HUNK: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));
pub const DIFF_ADDED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
pub const DIFF_REMOVED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));

/// `text` in `style`.
pub fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// A unified diff (in the file's own encoding, whose line structure and ASCII are those of
/// UTF-8) with its headers, hunk lines, additions and removals coloured; line endings stay
/// outside the colour.
pub fn diff(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 4);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let style = if line.starts_with(b"--- ") || line.starts_with(b"+++ ") {
            DIFF_HEADER
        } else if line.starts_with(b"@@") {
            DIFF_HUNK
        } else if line.starts_with(b"+") {
            DIFF_ADDED
        } else if line.starts_with(b"-") {
            DIFF_REMOVED
        } else {
            out.extend_from_slice(line);
            continue;
        };
        let body_len = line.len()
            - line
                .iter()
                .rev()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
        out.extend_from_slice(style.render().to_string().as_bytes());
        out.extend_from_slice(&line[..body_len]);
        out.extend_from_slice(style.render_reset().to_string().as_bytes());
        out.extend_from_slice(&line[body_len..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lines_are_coloured_by_kind_and_endings_kept() {
        let plain = b"--- a/x.py\r\n+++ b/x.py\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n c\r\n";
        let coloured = diff(plain);
        let text = String::from_utf8(coloured.clone()).expect("utf-8");
        assert!(text.starts_with("\x1b[1m--- a/x.py\x1b[0m\r\n"), "{text:?}");
        assert!(text.contains("\x1b[36m@@ -1 +1 @@\x1b[0m\r\n"), "{text:?}");
        assert!(
            text.contains("\x1b[31m-a\x1b[0m\r\n\x1b[32m+b\x1b[0m\r\n c\r\n"),
            "{text:?}"
        );
        let stripped: Vec<u8> = anstream::adapter::strip_bytes(&coloured).into_vec();
        assert_eq!(stripped, plain);
    }
}
