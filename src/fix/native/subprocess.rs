//! Native subprocesses (SPEC §3.5): `p = subprocess.Popen(...)` used only through
//! `communicate()`, `wait()`, `returncode` and `pid` becomes `p = await asyncio.create_subprocess_exec(...)` (`_shell` with `shell=True`), with
//! `communicate()`/`wait()` awaited. Text mode (`text=`, `universal_newlines=`, `encoding=`,
//! `errors=`) is done as `Popen` does it: the piped output is decoded with the same encoding and
//! its newlines translated; text `input=` is encoded.
//!
//! Anything else — a `Popen` that is never waited for, `poll()`, reading `p.stdout` directly, a
//! command whose list-or-string nature is unknown, `timeout=`, `kill()`/`terminate()`/
//! `send_signal()` (a no-op on a `Popen` that has exited, `ProcessLookupError` on an asyncio
//! process) — is left to helper extraction.

use tree_sitter::Node;

use crate::fix::edits::{Edit, Fix};
use crate::fix::model::{FixKind, Planned, give_to_nodes};
use crate::parse::syntax::{
    is_field, line_start, named_children, newline_of, text, unparenthesize,
};
use crate::resolve::Resolver;

/// Keyword arguments that only `Popen` understands; they are turned into decoding instead.
const TEXT_KEYWORDS: &[&str] = &["text", "universal_newlines", "encoding", "errors"];
/// Keyword arguments that cannot be carried over.
const REFUSED_KEYWORDS: &[&str] = &["bufsize", "pipesize", "process_group"];
const ATTRIBUTES: &[&str] = &["returncode", "pid"];

/// The name catalog entries use for this rewrite.
pub const ASYNCIO_NAME: &str = "asyncio-subprocess";

/// Gives `manual` `Popen` findings the asyncio subprocess rewrite where it is exact.
pub fn use_async_subprocesses<'t>(planned: &mut [Planned<'t>], resolver: &Resolver<'t>) {
    for i in 0..planned.len() {
        if planned[i].kind() != FixKind::Manual
            || resolver.catalog().native_of_call(&planned[i].finding.call) != Some(ASYNCIO_NAME)
        {
            continue;
        }
        let call = planned[i].finding.node;
        let Some((fix, covered)) = convert(resolver, call) else {
            continue;
        };
        give_to_nodes(planned, &covered, FixKind::Native, &fix);
    }
}

/// What `Popen` was asked for.
struct Launch<'t> {
    shell: bool,
    command: Node<'t>,
    /// Keyword arguments passed on as they are.
    passed: Vec<Node<'t>>,
    /// `Some((encoding, errors))` in text mode.
    text_mode: Option<(String, Option<String>)>,
    stdin_piped: bool,
    stdout_piped: bool,
    stderr_piped: bool,
}

fn launch<'t>(resolver: &Resolver<'t>, call: Node<'t>) -> Option<Launch<'t>> {
    let src = resolver.src();
    let args = call.child_by_field_name("arguments")?;
    if args.kind() != "argument_list" {
        return None;
    }
    let mut positional = Vec::new();
    let mut keywords: Vec<(String, Node<'t>, Node<'t>)> = Vec::new();
    for arg in named_children(args) {
        match arg.kind() {
            "keyword_argument" => {
                let name = text(arg.child_by_field_name("name")?, src).to_string();
                keywords.push((name, arg.child_by_field_name("value")?, arg));
            }
            "list_splat" | "dictionary_splat" => return None,
            _ => positional.push(arg),
        }
    }
    let command = match (
        positional.as_slice(),
        keywords.iter().find(|(n, _, _)| n == "args"),
    ) {
        ([only], None) => *only,
        ([], Some((_, value, _))) => *value,
        _ => return None,
    };
    let literal = |name: &str| -> Option<Option<bool>> {
        match keywords.iter().find(|(n, _, _)| n == name) {
            None => Some(None),
            Some((_, v, _)) => match text(*v, src) {
                "True" => Some(Some(true)),
                "False" => Some(Some(false)),
                _ => None,
            },
        }
    };
    let shell = literal("shell")?.unwrap_or(false);
    let text_flag =
        literal("text")?.unwrap_or(false) || literal("universal_newlines")?.unwrap_or(false);
    let encoding = keywords
        .iter()
        .find(|(n, _, _)| n == "encoding")
        .map(|(_, v, _)| text(*v, src).to_string());
    let errors = keywords
        .iter()
        .find(|(n, _, _)| n == "errors")
        .map(|(_, v, _)| text(*v, src).to_string());
    let text_mode = if text_flag || encoding.is_some() || errors.is_some() {
        let encoding = encoding.unwrap_or_else(|| "locale.getpreferredencoding(False)".to_string());
        Some((encoding, errors))
    } else {
        None
    };
    if keywords
        .iter()
        .any(|(n, _, _)| REFUSED_KEYWORDS.contains(&n.as_str()))
    {
        return None;
    }
    let piped = |name: &str| {
        keywords.iter().any(|(n, v, _)| {
            n == name && resolver.qualified_name(*v).as_deref() == Some("subprocess.PIPE")
        })
    };
    let command_kind = unparenthesize(command).kind();
    if shell == matches!(command_kind, "list" | "tuple") {
        // `shell=True` takes a string; without it, only a literal list or string is certain.
        return None;
    }
    if !shell && !matches!(command_kind, "list" | "tuple" | "string") {
        return None;
    }
    Some(Launch {
        shell,
        command,
        passed: keywords
            .iter()
            .filter(|(n, _, _)| n != "shell" && n != "args" && !TEXT_KEYWORDS.contains(&n.as_str()))
            .map(|(_, _, arg)| *arg)
            .collect(),
        text_mode,
        stdin_piped: piped("stdin"),
        stdout_piped: piped("stdout"),
        stderr_piped: piped("stderr"),
    })
}

fn convert<'t>(resolver: &Resolver<'t>, call: Node<'t>) -> Option<(Fix, Vec<Node<'t>>)> {
    let src = resolver.src();
    let assignment = call
        .parent()
        .filter(|p| p.kind() == "assignment" && is_field(*p, "right", call))?;
    let target = assignment
        .child_by_field_name("left")
        .filter(|l| l.kind() == "identifier")?;
    let statement = assignment
        .parent()
        .filter(|s| s.kind() == "expression_statement")?;
    let function = crate::resolve::enclosing_function(statement)?;
    if crate::parse::syntax::in_generator_scope(call) {
        return None;
    }
    let launch = launch(resolver, call)?;
    let (asyncio, import) = crate::fix::spelling::module_at(resolver, "asyncio", call)?;
    let mut needs: Vec<&'static str> = import.into_iter().collect();

    // The launch itself.
    let factory = if launch.shell {
        "create_subprocess_shell"
    } else {
        "create_subprocess_exec"
    };
    let command = unparenthesize(launch.command);
    let mut parts: Vec<String> = if !launch.shell && matches!(command.kind(), "list" | "tuple") {
        named_children(command)
            .iter()
            .map(|n| text(*n, src).to_string())
            .collect()
    } else {
        vec![text(command, src).to_string()]
    };
    if parts.is_empty() {
        return None;
    }
    parts.extend(launch.passed.iter().map(|a| text(*a, src).to_string()));
    let mut edits = vec![Edit::replace(
        call.start_byte(),
        call.end_byte(),
        format!("await {asyncio}.{factory}({})", parts.join(", ")),
    )];
    let mut covered = vec![call];

    // Every other use of the name.
    let mut waited = false;
    for parent in resolver.attribute_uses_after(target, statement, function)? {
        let attr = text(parent.child_by_field_name("attribute")?, src);
        let method_call = parent
            .parent()
            .filter(|c| c.kind() == "call" && is_field(*c, "function", parent));
        match (attr, method_call) {
            (a, None) if ATTRIBUTES.contains(&a) => {}
            ("wait", Some(c)) => {
                if !named_children(c.child_by_field_name("arguments")?).is_empty()
                    || crate::parse::syntax::in_generator_scope(c)
                {
                    return None;
                }
                edits.extend(crate::fix::edits::await_call(c));
                covered.push(c);
                waited = true;
            }
            ("communicate", Some(c)) => {
                if crate::parse::syntax::in_generator_scope(c) {
                    return None;
                }
                edits.extend(communicate_edits(resolver, c, &launch, &mut needs)?);
                covered.push(c);
                waited = true;
            }
            _ => return None,
        }
    }
    if !waited {
        // The original waited nowhere either; a process nobody awaits is not a rewrite we make.
        return None;
    }
    Some((
        Fix {
            edits,
            needs,
            ..Fix::default()
        },
        covered,
    ))
}

/// `p.communicate(input)` → `await p.communicate(input)`; in text mode the input is encoded and
/// the piped outputs (`out, err = ...`) are decoded on the lines that follow.
fn communicate_edits<'t>(
    resolver: &Resolver<'t>,
    call: Node<'t>,
    launch: &Launch,
    needs: &mut Vec<&'static str>,
) -> Option<Vec<Edit>> {
    let src = resolver.src();
    let args = call.child_by_field_name("arguments")?;
    let arguments = named_children(args);
    let input = match arguments.as_slice() {
        [] => None,
        [one] if one.kind() != "keyword_argument" => Some(*one),
        [one]
            if one
                .child_by_field_name("name")
                .is_some_and(|n| text(n, src) == "input") =>
        {
            Some(one.child_by_field_name("value")?)
        }
        _ => return None,
    };
    if input.is_some() && !launch.stdin_piped {
        return None;
    }
    let mut edits = crate::fix::edits::await_call(call);
    let Some((encoding, errors)) = &launch.text_mode else {
        return Some(edits);
    };
    if encoding.starts_with("locale.") {
        // `locale` must mean the module where the decoding is written: a parameter or local
        // of that name would hide it (then the helper fallback is used).
        match resolver.module_alias_for("locale") {
            Some(alias) if alias == "locale" && resolver.is_module_level("locale", call) => {}
            None if resolver.binding_scope("locale", call).is_none() => needs.push("locale"),
            _ => return None,
        }
    }
    let codec = match errors {
        Some(e) => format!("{encoding}, {e}"),
        None => encoding.clone(),
    };
    if let Some(input) = input {
        let primary = matches!(
            input.kind(),
            "identifier"
                | "attribute"
                | "call"
                | "subscript"
                | "string"
                | "parenthesized_expression"
        );
        if primary {
            edits.push(Edit::insert(input.end_byte(), format!(".encode({codec})")));
        } else {
            edits.push(Edit::insert(input.start_byte(), "("));
            edits.push(Edit::insert(input.end_byte(), format!(").encode({codec})")));
        }
    }
    // The result must land in `out, err` (names) for the decoding lines to follow it.
    let assignment = call
        .parent()
        .filter(|p| p.kind() == "assignment" && is_field(*p, "right", call));
    let statement = assignment
        .and_then(|a| a.parent())
        .filter(|s| s.kind() == "expression_statement");
    let (Some(assignment), Some(statement)) = (assignment, statement) else {
        // A discarded result needs no decoding.
        return call
            .parent()
            .is_some_and(|p| p.kind() == "expression_statement")
            .then_some(edits);
    };
    let left = assignment.child_by_field_name("left")?;
    let names: Vec<Node> = named_children(left);
    if !matches!(left.kind(), "pattern_list" | "tuple_pattern")
        || names.len() != 2
        || names.iter().any(|n| n.kind() != "identifier")
    {
        return None;
    }
    let indent = &src[line_start(src, statement.start_byte())..statement.start_byte()];
    if !indent.trim().is_empty() {
        return None;
    }
    let newline = newline_of(src);
    let mut lines = String::new();
    for (name, piped) in names.iter().zip([launch.stdout_piped, launch.stderr_piped]) {
        let name = text(*name, src);
        if piped && name != "_" {
            lines.push_str(&format!(
                "{newline}{indent}{name} = {name}.decode({codec}).replace(\"\\r\\n\", \"\\n\").replace(\"\\r\", \"\\n\")"
            ));
        }
    }
    if !lines.is_empty() {
        // After the statement's line (and any comment on it), before its line break.
        let eol = crate::parse::syntax::line_end(src, statement.end_byte());
        let at = if src[..eol].ends_with("\r\n") {
            eol - 2
        } else if src[..eol].ends_with('\n') {
            eol - 1
        } else {
            eol
        };
        edits.push(Edit::insert(at, lines));
    }
    Some(edits)
}

/// `subprocess.Popen` used through `communicate()`/`wait()` → `asyncio.create_subprocess_*`.
pub struct AsyncioSubprocess;

impl super::NativeRewrite for AsyncioSubprocess {
    fn apply<'t>(
        &self,
        planned: &mut [Planned<'t>],
        resolver: &Resolver<'t>,
        _: &crate::fix::spelling::Spelling,
    ) {
        use_async_subprocesses(planned, resolver);
    }
}
