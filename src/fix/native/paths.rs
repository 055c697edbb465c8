//! anyio/trio: `pathlib.Path` methods awaited on the runtime's own `Path`.

use tree_sitter::Node;

use crate::fix::edits::{Edit, Fix};
use crate::fix::model::*;
use crate::fix::spelling::*;
use crate::parse::syntax::{needs_parentheses, unparenthesize, within};
use crate::resolve::Resolver;

/// The name catalog entries use for this rewrite: the `pathlib.Path` methods whose anyio/trio
/// `Path` counterparts return the same thing.
pub const NAME: &str = "runtime-paths";

/// Under anyio or trio, `p.read_text()` → `await anyio.Path(p).read_text()` (`trio.Path`).
pub(crate) fn use_async_paths<'t>(
    planned: &mut [Planned<'t>],
    resolver: &Resolver<'t>,
    spelling: &Spelling,
) {
    let module = match spelling.runtime {
        Runtime::Anyio => "anyio",
        Runtime::Trio => "trio",
        Runtime::Asyncio => return,
    };
    let (base, needs) = match resolver.module_alias_for(module) {
        Some(alias) => (alias, Vec::new()),
        None => (module.to_string(), vec![module]),
    };
    let findings: Vec<Node<'t>> = planned.iter().map(|p| p.finding.node).collect();
    for p in planned.iter_mut() {
        if p.kind() != FixKind::Thread || p.finding.genexp.is_some() {
            continue;
        }
        let Some(method) = p.finding.call.strip_prefix("pathlib.Path.") else {
            continue;
        };
        if resolver.catalog().native_of_method("pathlib.Path", method) != Some(NAME) {
            continue;
        }
        let call = p.finding.node;
        let Some(receiver) = call
            .child_by_field_name("function")
            .map(unparenthesize)
            .and_then(|f| f.child_by_field_name("object"))
        else {
            continue;
        };
        if findings
            .iter()
            .any(|f| f.id() != call.id() && within(*f, receiver))
        {
            continue;
        }
        let parens = needs_parentheses(call);
        let head = if parens { "(await " } else { "await " };
        // `Path(x).exists()` → `await anyio.Path(x).exists()`; `p.exists()` → `await anyio.Path(p).exists()`.
        let constructor = unparenthesize(receiver)
            .child_by_field_name("function")
            .filter(|f| resolver.qualified_name(*f).as_deref() == Some("pathlib.Path"));
        let mut edits = match constructor {
            Some(ctor) if ctor.start_byte() == call.start_byte() => vec![Edit::replace(
                ctor.start_byte(),
                ctor.end_byte(),
                format!("{head}{base}.Path"),
            )],
            Some(ctor) => vec![
                Edit::insert(call.start_byte(), head),
                Edit::replace(ctor.start_byte(), ctor.end_byte(), format!("{base}.Path")),
            ],
            None => vec![
                Edit::insert(call.start_byte(), format!("{head}{base}.Path(")),
                Edit::insert(receiver.end_byte(), ")"),
            ],
        };
        if parens {
            edits.push(Edit::insert(call.end_byte(), ")"));
        }
        p.take_fix(
            FixKind::Native,
            Fix {
                edits,
                needs: needs.clone(),
                ..Fix::default()
            },
        );
    }
}

/// anyio/trio: `p.read_text()` → `await anyio.Path(p).read_text()`.
pub struct RuntimePaths;

impl super::NativeRewrite for RuntimePaths {
    fn apply<'t>(&self, planned: &mut [Planned<'t>], resolver: &Resolver<'t>, spelling: &Spelling) {
        use_async_paths(planned, resolver, spelling);
    }
}
