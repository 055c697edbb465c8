//! anyio/trio: `subprocess.run(...)` in bytes mode → `await anyio.run_process(...)` /
//! `await trio.run_process(...)`, with every default that differs written out.

use tree_sitter::Node;

use crate::fix::edits::{Edit, Fix};
use crate::fix::model::{FixKind, Planned};
use crate::parse::syntax::{named_children, text, unparenthesize};
use crate::resolve::Resolver;

/// The name catalog entries use for this rewrite.
pub const NAME: &str = "runtime-process";

/// Under anyio or trio, `subprocess.run(...)` in bytes mode → `await anyio.run_process(...)` /
/// `await trio.run_process(...)`, with every default that differs written out: they capture
/// output (anyio) or feed an empty stdin (trio) and check the exit status unless told not to,
/// where `subprocess.run` does none of that. Text mode, `timeout=`, `stdin=` and other
/// arguments keep the thread fix.
pub fn use_run_process<'t>(
    planned: &mut [Planned<'t>],
    resolver: &Resolver<'t>,
    runtime: crate::fix::model::Runtime,
) {
    use crate::fix::model::Runtime;
    let module = match runtime {
        Runtime::Anyio => "anyio",
        Runtime::Trio => "trio",
        Runtime::Asyncio => return,
    };
    for p in planned.iter_mut() {
        if p.kind() != FixKind::Thread
            || resolver.catalog().native_of_call(&p.finding.call) != Some(NAME)
            || p.finding.genexp.is_some()
        {
            continue;
        }
        let call = p.finding.node;
        if crate::parse::syntax::in_generator_scope(call) {
            continue;
        }
        let Some(text) = run_process_call(resolver, call, module) else {
            continue;
        };
        let (head, tail) = crate::parse::syntax::await_parts(call);
        let replacement = format!("{head}{text}{tail}");
        let needs = if resolver.module_alias_for(module).is_none() {
            vec![module]
        } else {
            Vec::new()
        };
        let edits = vec![Edit::replace(
            call.start_byte(),
            call.end_byte(),
            replacement,
        )];
        p.take_fix(
            FixKind::Native,
            Fix {
                edits,
                needs,
                ..Fix::default()
            },
        );
    }
}

fn run_process_call<'t>(resolver: &Resolver<'t>, call: Node<'t>, module: &str) -> Option<String> {
    let src = resolver.src();
    let args = call.child_by_field_name("arguments")?;
    if args.kind() != "argument_list" {
        return None;
    }
    let mut command = None;
    let mut shell = false;
    let mut check = "False".to_string();
    let mut capture = [false, false];
    let mut input = None;
    let mut passed: Vec<String> = Vec::new();
    for arg in named_children(args) {
        if arg.kind() != "keyword_argument" {
            if command.is_some() || matches!(arg.kind(), "list_splat" | "dictionary_splat") {
                return None;
            }
            command = Some(arg);
            continue;
        }
        let name = text(arg.child_by_field_name("name")?, src);
        let value = arg.child_by_field_name("value")?;
        let value_text = text(value, src);
        let literal_bool = matches!(value_text, "True" | "False");
        match name {
            "args" if command.is_none() => command = Some(value),
            "shell" if literal_bool => shell = value_text == "True",
            "check" if literal_bool => check = value_text.to_string(),
            "capture_output" if literal_bool => {
                if value_text == "True" {
                    capture = [true, true];
                }
            }
            "stdout" | "stderr" => {
                let index = usize::from(name == "stderr");
                match resolver.qualified_name(value).as_deref() {
                    Some("subprocess.PIPE") => capture[index] = true,
                    _ if value.kind() == "none" => {}
                    _ => return None,
                }
            }
            "input" => input = Some(value_text.to_string()),
            "cwd" | "env" | "start_new_session" => passed.push(text(arg, src).to_string()),
            _ => return None,
        }
    }
    let command = unparenthesize(command?);
    let command_text = text(command, src).to_string();
    let is_list = matches!(command.kind(), "list" | "tuple");
    let mut out = vec![command_text];
    if module == "anyio" {
        // anyio runs a string through the shell and a sequence directly, as Popen does with and
        // without `shell=True`; anything else is not certain.
        if shell != (command.kind() == "string") || (!shell && !is_list) {
            return None;
        }
        if let Some(input) = input {
            out.push(format!("input={input}"));
        }
        out.push(format!(
            "stdout={}",
            if capture[0] {
                "subprocess.PIPE"
            } else {
                "None"
            }
        ));
        out.push(format!(
            "stderr={}",
            if capture[1] {
                "subprocess.PIPE"
            } else {
                "None"
            }
        ));
        if capture.iter().any(|c| *c)
            && resolver.module_alias_for("subprocess").as_deref() != Some("subprocess")
        {
            return None;
        }
    } else {
        if !shell && !is_list {
            return None;
        }
        out.push(format!(
            "stdin={}",
            input.unwrap_or_else(|| "None".to_string())
        ));
        if capture[0] {
            out.push("capture_stdout=True".to_string());
        }
        if capture[1] {
            out.push("capture_stderr=True".to_string());
        }
        if shell {
            out.push("shell=True".to_string());
        }
    }
    out.push(format!("check={check}"));
    out.extend(passed);
    let base = resolver
        .module_alias_for(module)
        .unwrap_or_else(|| module.to_string());
    Some(format!("{base}.run_process({})", out.join(", ")))
}

/// `subprocess.run(...)` → `await anyio.run_process(...)` / `trio.run_process(...)`.
pub struct RunProcess;

impl super::NativeRewrite for RunProcess {
    fn apply<'t>(
        &self,
        planned: &mut [Planned<'t>],
        resolver: &Resolver<'t>,
        spelling: &crate::fix::spelling::Spelling,
    ) {
        use_run_process(planned, resolver, spelling.runtime);
    }
}
