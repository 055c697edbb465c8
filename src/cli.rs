//! The command line: argument definitions (grouped as in `--help`), and the drivers of
//! `check`, `diff`, `fix`, `rules` and `explain` over many files in parallel.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use rayon::prelude::*;

use crate::catalog::Catalog;
use crate::config::{Configs, Options, RuntimeChoice};
use crate::discover::Walk;
use crate::engine::{Mode, Outcome, process};
use crate::fix::Strategy;
use crate::index::ProjectIndex;
use crate::index::modules::Modules;
use crate::noqa::Spot;
use crate::read::{decode, encode, read_regular};
use crate::report::color::{self, ColorChoice};
use crate::report::diff::unified;
use crate::report::output;
use crate::report::progress::Progress;
use crate::report::rules;
use crate::report::{
    FileResult, Style, check_github, check_json, check_sarif, check_text, display_path, errors,
    finding_line, fix_summary, github_errors, packages_line, plural, statistics_json,
    statistics_text, summary,
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
    /// Print a completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
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

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// How findings are printed.
    #[arg(
        long,
        value_enum,
        default_value_t = OutputFormat::Text,
        env = "UNBLOCK_OUTPUT_FORMAT",
        help_heading = "Output"
    )]
    output_format: OutputFormat,
    /// Write the findings (or statistics) to this file instead of standard output.
    #[arg(
        long,
        value_name = "FILE",
        env = "UNBLOCK_OUTPUT_FILE",
        help_heading = "Output"
    )]
    output_file: Option<PathBuf>,
    /// Print how many findings each rule has, by fix kind, instead of the findings.
    #[arg(long, help_heading = "Output", conflicts_with = "add_noqa")]
    statistics: bool,
    /// Add `# noqa: UNBxxx` comments to the lines of the findings, so that they are
    /// suppressed from now on (existing comments are kept; codes are merged into an existing
    /// `# noqa:`).
    #[arg(long, help_heading = "Fixes", conflicts_with_all = ["fix", "diff"])]
    add_noqa: bool,
    /// The same as `unblock fix`: apply the fixes in place.
    #[arg(long, help_heading = "Fixes", conflicts_with_all = ["statistics", "output_file"])]
    fix: bool,
    /// The same as `unblock diff`: print the diff of every fix (wins over `--fix`, as in ruff).
    #[arg(long, help_heading = "Fixes", conflicts_with_all = ["statistics", "output_file"])]
    diff: bool,
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// Files or folders to process (`-` reads source from standard input) [default: .]
    paths: Vec<PathBuf>,
    /// The file name of the source read from standard input, for messages and the
    /// configuration look-up; given without a path, standard input is read (as with `-`).
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
    /// Rules to enable on top of `select` (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RULES",
        help_heading = "Rule selection"
    )]
    extend_select: Option<Vec<String>>,
    /// Rules to disable: ids, codes, code prefixes or ASYNC aliases (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RULES",
        help_heading = "Rule selection"
    )]
    ignore: Option<Vec<String>>,
    /// Rules to disable on top of `ignore` (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RULES",
        help_heading = "Rule selection"
    )]
    extend_ignore: Option<Vec<String>>,

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

    /// Glob of paths to skip while walking folders (repeatable; replaces `exclude` from the
    /// configuration, and so the built-in skipped folders).
    #[arg(long, value_name = "GLOB", help_heading = "File selection")]
    exclude: Vec<String>,
    /// Glob of paths to skip on top of `exclude` (repeatable; added to `extend-exclude` from
    /// the configuration).
    #[arg(long, value_name = "GLOB", help_heading = "File selection")]
    extend_exclude: Vec<String>,
    /// Apply `exclude`/`extend-exclude` to the paths named on the command line and to
    /// `--stdin-filename` too (for pre-commit and editors, which name every file).
    #[arg(
        long,
        help_heading = "File selection",
        overrides_with = "no_force_exclude"
    )]
    force_exclude: bool,
    /// Process every path named on the command line (the default), even with
    /// `force-exclude = true` in the configuration.
    #[arg(
        long,
        help_heading = "File selection",
        overrides_with = "force_exclude"
    )]
    no_force_exclude: bool,
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
    /// Colour in the output (`auto`: off with `NO_COLOR`, on with `FORCE_COLOR` or
    /// `CLICOLOR_FORCE`, else when standard output is a colour terminal).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Run")]
    color: ColorChoice,
    /// Print findings and diffs only: no summaries, no progress bar.
    #[arg(short, long, help_heading = "Run")]
    quiet: bool,
    /// Exit with 0 even when there are findings (or changes); errors still exit with 2.
    #[arg(long, help_heading = "Run")]
    exit_zero: bool,
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
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "unblock", &mut script);
            output::write(&script)?;
            Ok(0)
        }
        Command::Check(args) if args.diff => diff(&args.common, catalog),
        Command::Check(args) if args.fix => fix(&args.common, catalog, Some(args.output_format)),
        Command::Check(args) if args.add_noqa => add_noqa(&args.common, catalog),
        Command::Check(args) => check(&args, catalog),
        Command::Diff(args) => diff(&args, catalog),
        Command::Fix(args) => fix(&args, catalog, None),
    }
}

fn check(args: &CheckArgs, catalog: Catalog) -> Result<u8> {
    let stdin = is_stdin(&args.common)?;
    let color = match (args.common.color, &args.output_file) {
        (ColorChoice::Auto, Some(_)) => false,
        (choice, _) => use_color(choice),
    };
    let style = Style { color };
    // Findings are printed file by file as the run goes; JSON and SARIF are one document,
    // printed at the end, and so is everything that goes to a file or into statistics.
    let text = |r: &FileResult| check_text(std::slice::from_ref(r), &style).into_bytes();
    let github = |r: &FileResult| check_github(std::slice::from_ref(r)).into_bytes();
    let streamed = args.output_file.is_none() && !args.statistics;
    let stream: Option<PerFile> = match args.output_format {
        OutputFormat::Text if streamed => Some(&text),
        OutputFormat::Github if streamed => Some(&github),
        _ => None,
    };
    let results = collect(
        &args.common,
        stdin.as_deref(),
        catalog.clone(),
        Mode::Check,
        stream,
    )?;
    // `--statistics` prints a table (JSON rows with `--output-format json`) instead of the
    // findings; the text summary follows the findings or the table.
    let (mut doc, summarized) = match (args.statistics, args.output_format) {
        (true, OutputFormat::Json) => (statistics_json(&results), false),
        (true, _) => (statistics_text(&results), true),
        (false, OutputFormat::Json) => (check_json(&results), false),
        (false, OutputFormat::Sarif) => (check_sarif(&results, &catalog), false),
        (false, OutputFormat::Github) if !streamed => {
            (check_github(&results) + &github_errors(&results), false)
        }
        (false, OutputFormat::Text) if !streamed => (check_text(&results, &style), true),
        // The findings were streamed; the files that failed close the output.
        (false, OutputFormat::Github) => (github_errors(&results), false),
        (false, OutputFormat::Text) => (String::new(), true),
    };
    let summary = summary(&results);
    if summarized && !args.common.quiet && !summary.is_empty() {
        doc.push_str(&summary);
        doc.push('\n');
    }
    match &args.output_file {
        Some(file) => write_output_file(file, doc.as_bytes())?,
        None => output::write(doc.as_bytes())?,
    }
    report_errors(&results);
    let found = results
        .iter()
        .any(|r| r.outcome.as_ref().is_ok_and(|o| !o.findings.is_empty()));
    Ok(exit_code(&results, found, args.common.exit_zero))
}

/// `--output-file`: the file and the folders it needs are created; an existing file is
/// replaced.
fn write_output_file(file: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder of {}", file.display()))?;
    }
    std::fs::write(file, bytes).with_context(|| format!("cannot write {}", file.display()))
}

fn diff(args: &CommonArgs, catalog: Catalog) -> Result<u8> {
    let stdin = is_stdin(args)?;
    let colored = use_color(args.color);
    let diff = |r: &FileResult| match &r.outcome {
        Ok(Outcome {
            fixed: Some(fixed), ..
        }) if colored => color::diff(&unified(&r.display, fixed)),
        Ok(Outcome {
            fixed: Some(fixed), ..
        }) => unified(&r.display, fixed),
        _ => Vec::new(),
    };
    let results = collect(args, stdin.as_deref(), catalog, Mode::Fix, Some(&diff))?;
    let changed = results
        .iter()
        .any(|r| r.outcome.as_ref().is_ok_and(|o| o.fixed.is_some()));
    if !args.quiet {
        // On standard error: the diff on standard output stays a patch.
        if let Some(line) = fix_summary(&results, true) {
            eprintln!("{line}");
        }
        if let Some(line) = packages_line(&results) {
            eprintln!("{line}");
        }
    }
    report_errors(&results);
    Ok(exit_code(&results, changed, args.exit_zero))
}

/// `check --add-noqa`: a `# noqa` comment for every finding, written in place.
fn add_noqa(args: &CommonArgs, catalog: Catalog) -> Result<u8> {
    if is_stdin(args)?.is_some() {
        bail!("`--add-noqa` edits files in place: it cannot read standard input");
    }
    let mut results = collect(args, None, catalog, Mode::Check, None)?;
    let added: usize = results
        .par_iter_mut()
        .map(|r| {
            let (Ok(outcome), Some(path)) = (&r.outcome, &r.path) else {
                return 0;
            };
            if outcome.findings.is_empty() {
                return 0;
            }
            let spots: Vec<Spot> = outcome
                .findings
                .iter()
                .map(|f| Spot {
                    line: f.line,
                    column: f.column,
                    code: f.code.clone(),
                })
                .collect();
            match add_noqa_to_file(path, &spots) {
                Ok(n) => n,
                Err(e) => {
                    r.outcome = Err(e);
                    0
                }
            }
        })
        .sum();
    if !args.quiet {
        eprintln!(
            "Added {added} noqa {}.",
            plural(added, "directive", "directives")
        );
    }
    report_errors(&results);
    Ok(exit_code(&results, false, args.exit_zero))
}

/// Adds the directives to one file (written atomically); how many lines got one.
fn add_noqa_to_file(path: &Path, spots: &[Spot]) -> Result<usize, String> {
    let bytes = read_regular(path)?;
    let source = decode(&bytes).map_err(|e| e.to_string())?;
    let (text, added) = crate::noqa::add_noqa(&source.text, spots)
        .ok_or_else(|| "cannot parse the file to add noqa comments".to_string())?;
    if added > 0 {
        write_atomic(path, &bytes, &encode(&source, &text)).map_err(|e| e.to_string())?;
    }
    Ok(added)
}

/// `fix`, and `check --fix` (whose `--output-format` prints the findings that remain).
fn fix(args: &CommonArgs, catalog: Catalog, format: Option<OutputFormat>) -> Result<u8> {
    let stdin = is_stdin(args)?;
    let machine = format.filter(|f| *f != OutputFormat::Text && stdin.is_none());
    let mut results = collect(args, stdin.as_deref(), catalog.clone(), Mode::Fix, None)?;
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
    let mut out = String::new();
    let mut err = String::new();
    for r in &results {
        let Ok(outcome) = &r.outcome else { continue };
        remaining += outcome.remaining.len();
        if stdin.is_none() && machine.is_none() {
            for f in &outcome.remaining {
                out.push_str(&finding_line(&r.display, f, &style));
                out.push('\n');
            }
        }
        if let Some(fixed) = &outcome.fixed {
            err.push_str(&format!(
                "Fixed {} blocking {} in {}\n",
                fixed.fixed,
                plural(fixed.fixed, "call", "calls"),
                r.display
            ));
        }
    }
    let closing = fix_summary(&results, false);
    if let Some(format) = machine {
        // The findings that remain, as `check` prints findings in that format.
        for r in &mut results {
            if let Ok(outcome) = &mut r.outcome {
                outcome.findings = std::mem::take(&mut outcome.remaining);
            }
        }
        out = match format {
            OutputFormat::Json => check_json(&results),
            OutputFormat::Sarif => check_sarif(&results, &catalog),
            OutputFormat::Github | OutputFormat::Text => {
                check_github(&results) + &github_errors(&results)
            }
        };
    }
    output::write(out.as_bytes())?;
    if let Some(line) = closing
        && !args.quiet
    {
        err.push_str(&line);
        err.push('\n');
        if let Some(line) = packages_line(&results) {
            err.push_str(&line);
            err.push('\n');
        }
        eprint!("{err}");
    }
    report_errors(&results);
    Ok(exit_code(&results, remaining > 0, args.exit_zero))
}

/// 2 when a file failed; else 1 for findings or changes (`positive`), unless `--exit-zero`.
fn exit_code(results: &[FileResult], positive: bool, exit_zero: bool) -> u8 {
    if results.iter().any(|r| r.outcome.is_err()) {
        2
    } else {
        u8::from(positive && !exit_zero)
    }
}

fn report_errors(results: &[FileResult]) {
    for line in errors(results) {
        eprintln!("{line}");
    }
}

/// Whether standard output is coloured; coloured text is written through anstream.
fn use_color(choice: ColorChoice) -> bool {
    let on = color::stdout_colored(choice);
    output::set_colored(on);
    on
}

/// `Some(bytes)` when the source is read from standard input: the only path is `-`, or
/// `--stdin-filename` is given with no path (as in ruff).
fn is_stdin(args: &CommonArgs) -> Result<Option<Vec<u8>>> {
    let paths = &args.paths;
    let dash = paths.iter().any(|p| p.as_os_str() == "-");
    let named_only = paths.is_empty() && args.stdin_filename.is_some();
    if !dash && !named_only {
        if args.stdin_filename.is_some() {
            bail!(
                "`--stdin-filename` names standard input: give no path (or `-`) with it, not {}",
                paths
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
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
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        extend_ignore: args.extend_ignore.clone(),
        strategy: args.strategy,
        runtime: args.runtime,
        offload: args.offload.clone(),
        unsafe_fixes: args.unsafe_fixes.then_some(true),
        native: (!args.native.is_empty()).then(|| args.native.clone()),
        target_version: args.target_version.clone(),
        exclude: (!args.exclude.is_empty()).then(|| args.exclude.clone()),
        extend_exclude: (!args.extend_exclude.is_empty()).then(|| args.extend_exclude.clone()),
        force_exclude: if args.force_exclude {
            Some(true)
        } else if args.no_force_exclude {
            Some(false)
        } else {
            None
        },
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
    let walk = Walk {
        configs: configs.clone(),
        respect_ignore_files: !args.no_ignore,
        threads,
    };

    if let Some(bytes) = stdin {
        let name = args
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("-"));
        if args.stdin_filename.is_some() && walk.is_force_excluded(&name) {
            // Excluded: nothing to report, and `fix -` echoes the input unchanged.
            return Ok(Vec::new());
        }
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
            .filter(|(_, keys)| keys.iter().any(|k| index.blocks(k)))
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

fn progress_bar(len: usize, quiet: bool) -> Progress {
    Progress::new(len, !quiet && len >= 2 && std::io::stderr().is_terminal())
}
