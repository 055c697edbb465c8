//! A mutation fuzzer over the engine, in process: seeds are the fixtures and the examples;
//! mutations flip bytes, delete, duplicate and splice lines and tokens, wrap code in
//! `async def`, insert blocking calls, change indentation, add form feeds, and switch line
//! endings and BOMs. Each input runs through `check` and `fix`, and a failure is:
//!
//! - a panic;
//! - a run longer than the per-input limit;
//! - a fix whose output does not parse although the input did, or that the verification gate
//!   refuses against the input (a new unbound name, a hidden import, bad indentation);
//! - a fix that is not a fixed point (a second run changes it again);
//! - `check` and `fix` labelling the findings differently.
//!
//! `cargo test` runs it for about 30 seconds. A longer run:
//! `UNBLOCK_FUZZ_MINUTES=10 cargo test --release --test fuzz -- --nocapture` (and
//! `UNBLOCK_FUZZ_SEED=N` to vary the sequence, `UNBLOCK_FUZZ_SEEDS=dir` to add the small
//! `async` files under a real-code tree as seeds); `scripts/fuzz` wraps this. It prints the
//! executions made; a failing input is written to `target/fuzz-failures/`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use unblock::catalog::Catalog;
use unblock::config::{Config, Options};
use unblock::engine::{FileOptions, Mode, Outcome, process};

/// A small deterministic generator (xorshift64*): the same seed, the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const SNIPPETS: &[&str] = &[
    "time.sleep(1)",
    "open(p).read()",
    "os.path.exists(p)",
    "requests.get(u).json()",
    "subprocess.run(cmd)",
    "TOTAL += os.path.getsize(p)",
    "self.n = self.n + os.path.getsize(p)",
    "with open(p) as f:\n    data = f.read()",
    "for root, dirs, files in os.walk(p):\n    print(files)",
    "x = [open(n).read() for n in names]",
    "await asyncio.sleep(0)",
    "conn = sqlite3.connect(p)\nconn.execute('select 1')",
    "proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)\nout = proc.stdout.read()",
    "yield 1",
    "return",
    "global TOTAL",
    "del x",
    "try:\n    pass\nexcept Exception:\n    raise",
];

const HEADER: &str =
    "import asyncio\nimport os\nimport time\nimport subprocess\nimport sqlite3\nimport requests\n";

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(3) {
        out = mutate_once(rng, &out);
    }
    out
}

fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn mutate_once(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut ls = lines(input);
    match rng.below(12) {
        0 if !input.is_empty() => {
            let mut out = input.to_vec();
            let at = rng.below(out.len());
            out[at] ^= 1 << rng.below(8);
            return out;
        }
        1 if !ls.is_empty() => {
            let at = rng.below(ls.len());
            ls.remove(at);
        }
        2 if !ls.is_empty() => {
            let at = rng.below(ls.len());
            let line = ls[at].clone();
            ls.insert(at, line);
        }
        3 if ls.len() > 1 => {
            let from = rng.below(ls.len());
            let to = rng.below(ls.len());
            let line = ls[from].clone();
            ls.insert(to, line);
        }
        4 => {
            // Wrap everything in an async function.
            let mut out = b"async def fuzzed(p, u, cmd, names, x):\n".to_vec();
            for l in &ls {
                out.extend_from_slice(b"    ");
                out.extend_from_slice(l);
            }
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            return out;
        }
        5 => {
            // A snippet at the indentation of a random line.
            let snippet = SNIPPETS[rng.below(SNIPPETS.len())];
            let at = rng.below(ls.len() + 1);
            let indent: Vec<u8> = ls
                .get(at)
                .map(|l| l.iter().copied().take_while(|b| *b == b' ').collect())
                .unwrap_or_default();
            let mut block = Vec::new();
            for line in snippet.lines() {
                block.extend_from_slice(&indent);
                block.extend_from_slice(line.as_bytes());
                block.push(b'\n');
            }
            ls.insert(at, block);
        }
        6 if !ls.is_empty() => {
            let at = rng.below(ls.len());
            if rng.below(2) == 0 {
                ls[at].splice(0..0, *b"    ");
            } else if ls[at].starts_with(b"    ") {
                ls[at].drain(0..4);
            }
        }
        7 if !ls.is_empty() => {
            let at = rng.below(ls.len());
            let pos = ls[at].iter().take_while(|b| **b == b' ').count();
            ls[at].insert(rng.below(pos + 1), 0x0c);
        }
        8 => {
            let out: Vec<u8> = input.to_vec();
            return match rng.below(3) {
                0 => String::from_utf8_lossy(&out)
                    .replace('\n', "\r\n")
                    .into_bytes(),
                1 => String::from_utf8_lossy(&out)
                    .replace('\n', "\r")
                    .into_bytes(),
                _ => [b"\xef\xbb\xbf".as_slice(), &out].concat(),
            };
        }
        9 if !input.is_empty() => {
            // Delete or duplicate a token-sized piece.
            let mut out = input.to_vec();
            let at = rng.below(out.len());
            let len = 1 + rng.below(8.min(out.len() - at));
            if rng.below(2) == 0 {
                out.drain(at..at + len);
            } else {
                let piece = out[at..at + len].to_vec();
                out.splice(at..at, piece);
            }
            return out;
        }
        10 => {
            let mut out = HEADER.as_bytes().to_vec();
            out.extend_from_slice(input);
            return out;
        }
        _ => {
            // Indent a run of lines under a new `if`/`with`/`for`.
            if ls.is_empty() {
                return input.to_vec();
            }
            let from = rng.below(ls.len());
            let to = (from + 1 + rng.below(4)).min(ls.len());
            let indent: Vec<u8> = ls[from]
                .iter()
                .copied()
                .take_while(|b| *b == b' ')
                .collect();
            let header = ["if x:", "for n in names:", "with open(p) as g:", "try:"][rng.below(4)];
            let mut block = indent.clone();
            block.extend_from_slice(header.as_bytes());
            block.push(b'\n');
            for l in &mut ls[from..to] {
                l.splice(0..0, *b"    ");
            }
            ls.insert(from, block);
            if header == "try:" {
                let mut tail = indent;
                tail.extend_from_slice(b"finally:\n    pass\n");
                ls.insert(to + 1, tail);
            }
        }
    }
    ls.concat()
}

fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in ["tests/fixtures", "examples"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            paths.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "py")),
            );
        }
    }
    paths.sort();
    let mut seeds: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if let Some(dir) = std::env::var_os("UNBLOCK_FUZZ_SEEDS") {
        seeds.extend(real_code_seeds(Path::new(&dir)));
    }
    seeds
}

/// Python files under `dir` (real code, e.g. `target/corpus`) that hold an `async def` and are
/// small enough to keep executions quick, in a stable order.
fn real_code_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "py") => {
                    found.push(path)
                }
                _ => {}
            }
        }
    }
    found.sort();
    found
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() <= 24 * 1024 && b.windows(10).any(|w| w == b"async def "))
        .collect()
}

/// The options of a module `fuzz` that gathers its facts for the project index.
fn options() -> FileOptions {
    let catalog = Catalog::builtin().expect("catalog");
    let mut options = Config::new(PathBuf::from("."), None, Options::default(), &catalog)
        .expect("config")
        .file_options(Path::new("fuzz.py"));
    options.module = Some(unblock::index::modules::ModuleName {
        name: "fuzz".to_string(),
        package: false,
    });
    options.facts_as = Some("fuzz.py".to_string());
    options
}

/// What is wrong with the engine's handling of `input`, if anything. The input is its own
/// project: its facts make the index its calls of its own blocking functions are checked with.
fn failure(input: &[u8], options: &FileOptions, limit: Duration) -> Option<String> {
    let started = Instant::now();
    let facts = match catch_unwind(AssertUnwindSafe(|| process(input, options, Mode::Check))) {
        Err(_) => return Some("panic while gathering facts".to_string()),
        Ok(r) => r.ok().and_then(|o| o.facts),
    };
    let indexed = FileOptions {
        index: facts.map(|f| std::sync::Arc::new(unblock::index::ProjectIndex::build(vec![f]))),
        facts_as: None,
        ..options.clone()
    };
    let options = &indexed;
    let run = |bytes: &[u8], mode: Mode| {
        catch_unwind(AssertUnwindSafe(|| process(bytes, options, mode)))
            .map_err(|_| format!("panic in {mode:?}"))
    };
    let checked = match run(input, Mode::Check) {
        Err(e) => return Some(e),
        Ok(r) => r,
    };
    let fixed = match run(input, Mode::Fix) {
        Err(e) => return Some(e),
        Ok(r) => r,
    };
    if started.elapsed() > limit {
        return Some(format!("took {:?}", started.elapsed()));
    }
    let (Ok(checked), Ok(fixed)) = (checked, fixed) else {
        return None; // A per-file error (syntax, encoding, size) is a correct answer.
    };
    let labels = |o: &Outcome| -> Vec<String> {
        o.findings
            .iter()
            .map(|f| format!("{}:{} {} {:?}", f.line, f.column, f.call, f.fix))
            .collect()
    };
    if labels(&checked) != labels(&fixed) {
        return Some(format!(
            "check and fix disagree:\n{:?}\n{:?}",
            labels(&checked),
            labels(&fixed)
        ));
    }
    let Some(f) = &fixed.fixed else {
        return None;
    };
    // Old Mac line endings are analysed as `\n`, one byte for one.
    let lf = |t: &str| {
        if t.contains('\n') {
            t.to_string()
        } else {
            t.replace('\r', "\n")
        }
    };
    let (before, after) = (lf(&f.source.text), lf(&f.after));
    if let Some(tree) = unblock::parse::syntax::parse(&before)
        && unblock::parse::syntax::first_error(&tree).is_none()
        && let Err(refusal) = unblock::verify::gate(&before, &tree, &after)
    {
        return Some(format!("the output fails the gate: {refusal}"));
    }
    match run(&f.bytes, Mode::Fix) {
        Err(e) => Some(format!("second run: {e}")),
        Ok(Ok(again)) if again.fixed.is_some() => Some("not a fixed point".to_string()),
        _ => None,
    }
}

#[test]
fn fuzz_check_and_fix() {
    let minutes: f64 = std::env::var("UNBLOCK_FUZZ_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0.5);
    let seed: u64 = std::env::var("UNBLOCK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1e55);
    let budget = Duration::from_secs_f64(minutes * 60.0);
    let seeds = seeds();
    assert!(seeds.len() > 20, "the fuzz seeds went missing");
    let options = options();
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let mut executions = 0u64;
    let mut failures: Vec<String> = Vec::new();
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    while started.elapsed() < budget && failures.len() < 5 {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base);
        executions += 1;
        if executions.is_multiple_of(50_000) {
            println!(
                "fuzz: {executions} executions in {:.0} s, {} failures so far",
                started.elapsed().as_secs_f64(),
                failures.len()
            );
        }
        if let Some(why) = failure(&input, &options, Duration::from_secs(20)) {
            let _ = std::fs::create_dir_all(&out_dir);
            let path = out_dir.join(format!("case-{executions}.py"));
            let _ = std::fs::write(&path, &input);
            failures.push(format!("{}: {why}", path.display()));
        }
    }
    println!(
        "fuzz: {executions} executions over {} seeds in {:.1} s, {} failures",
        seeds.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "fuzz failures:\n{}",
        failures.join("\n")
    );
}
