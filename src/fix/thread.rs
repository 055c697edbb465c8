//! The thread and sleep fixes: `f(a)` → `await asyncio.to_thread(f, a)`, `time.sleep(x)` →
//! `await asyncio.sleep(x)`, chains offloaded whole, and the decision per finding.

use tree_sitter::Node;

use crate::catalog::{Catalog, EntryFix, Scope};
use crate::find::{Finding, Matched};
use crate::fix::edits::{Edit, Fix};
use crate::fix::model::*;
use crate::fix::spelling::*;
use crate::parse::syntax::{is_field, named_children, needs_parentheses, unparenthesize, within};
use crate::resolve::Resolver;

/// A blocking call whose receiver holds another blocking call (`Path(p).resolve().exists()`)
/// is one blocking expression: it is offloaded whole, as `lambda: <chain>`, and the calls inside
/// share that fix. Offloading the parts separately would leave the outer call on the loop.
pub(crate) fn group_chains<'t>(
    planned: &mut [Planned<'t>],
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    spelling: &Spelling,
) {
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| {
        let n = planned[i].finding.node;
        (n.start_byte(), std::cmp::Reverse(n.end_byte()))
    });
    // A manual call inside is fine when its value is made and used up in this expression.
    let chainable = |p: &Planned| match &p.finding.matched {
        Matched::Call {
            returns: Some(t), ..
        } => catalog.type_def(t).is_some_and(|d| d.chain),
        _ => false,
    };
    let mut covered = vec![false; planned.len()];
    for &i in &order {
        if covered[i] || planned[i].finding.genexp.is_some() {
            continue;
        }
        let Some(callee) = planned[i].finding.node.child_by_field_name("function") else {
            continue;
        };
        // The findings inside the callee: a contiguous run of the order sorted by start.
        let from =
            order.partition_point(|&j| planned[j].finding.node.start_byte() < callee.start_byte());
        let inner: Vec<usize> = order[from..]
            .iter()
            .copied()
            .take_while(|&j| planned[j].finding.node.start_byte() < callee.end_byte())
            .filter(|&j| j != i && within(planned[j].finding.node, callee))
            .collect();
        if inner.is_empty() {
            continue;
        }
        if planned[i].kind() == FixKind::Manual {
            // Only a method on the chainable value itself (`urlopen(u).read()`).
            let receiver = unparenthesize(callee)
                .child_by_field_name("object")
                .map(unparenthesize);
            let on_chainable = receiver.is_some_and(|r| {
                inner
                    .iter()
                    .any(|&j| planned[j].finding.node.id() == r.id() && chainable(&planned[j]))
            });
            if !on_chainable {
                continue;
            }
        }
        if inner
            .iter()
            .any(|&j| planned[j].kind() == FixKind::Manual && !chainable(&planned[j]))
        {
            planned[i]
                .make_manual("chained onto a blocking call that cannot be offloaded".to_string());
            continue;
        }
        let offload = spelling.offload_in(
            resolver,
            planned[i].finding.function_node,
            planned[i].finding.node,
        );
        let fix = lambda_fix(planned[i].finding.node, &offload);
        for j in inner.into_iter().chain(std::iter::once(i)) {
            covered[j] = true;
            planned[j].take_fix(FixKind::Thread, fix.clone());
        }
    }
}

/// `x.a().b()` → `await asyncio.to_thread(lambda: x.a().b())`.
pub(crate) fn lambda_fix(call: Node, offload: &Offload) -> Fix {
    let parens = needs_parentheses(call);
    let head = format!(
        "{}await {}({}lambda: ",
        if parens { "(" } else { "" },
        offload.text,
        offload.leading
    );
    let tail = if parens { "))" } else { ")" };
    Fix {
        edits: vec![
            Edit::insert(call.start_byte(), head),
            Edit::insert(call.end_byte(), tail),
        ],
        needs: offload.needs.clone(),
        ..Fix::default()
    }
}

pub(crate) fn decide<'t>(
    finding: &Finding<'t>,
    catalog: &Catalog,
    spelling: &Spelling,
    offload: &Offload,
    resolver: &Resolver<'t>,
) -> Result<(FixKind, Fix), String> {
    if let Some(reason) = &finding.manual_reason {
        return Err(reason.clone());
    }
    let Matched::Call { entry_fix, returns } = &finding.matched else {
        return Err(
            "iterating it blocks on every step: the loop must move to a helper function"
                .to_string(),
        );
    };
    let call = finding.node;
    let returned = returns.as_deref().and_then(|r| catalog.type_def(r));
    if let Some(def) = returned
        && def.scope != Scope::Call
        && value_is_used(call)
    {
        return Err(def.reason.clone());
    }
    if is_with_item(call) && returned.is_none_or(|d| d.exit_blocks) {
        return Err(
            "used as a `with` block: leaving the block blocks too, so the whole block must move to a helper function"
                .to_string(),
        );
    }
    if let Some(genexp) = finding.genexp {
        let Some((consumer, sole)) = consumer_of(genexp) else {
            return Err(
                "inside a generator expression that is not passed straight to a call: `await` cannot go inside it"
                    .to_string(),
            );
        };
        if consumer.parent().is_some_and(|p| p.kind() == "await") {
            return Err("inside a generator expression consumed by an awaited call".to_string());
        }
        let mode = if sole {
            ArgsMode::GeneratorArgument
        } else {
            ArgsMode::List
        };
        return thread_fix(consumer, mode, offload, spelling, resolver)
            .map(|fix| (FixKind::Thread, fix))
            .ok_or_else(|| "the consuming call has an unusual shape".to_string());
    }
    match entry_fix {
        EntryFix::Sleep => sleep_fix(call, spelling, resolver).map(|f| (FixKind::Native, f)),
        EntryFix::Thread => thread_fix(call, ArgsMode::List, offload, spelling, resolver)
            .map(|f| (FixKind::Thread, f)),
        EntryFix::Manual => None,
    }
    .ok_or_else(|| "the call has an unusual shape".to_string())
}

/// Whether the call's value is kept or used (anything but a bare expression statement).
pub(crate) fn value_is_used(call: Node) -> bool {
    let mut node = call;
    while let Some(parent) = node.parent() {
        if parent.kind() == "parenthesized_expression" {
            node = parent;
            continue;
        }
        return parent.kind() != "expression_statement";
    }
    false
}

pub(crate) fn is_with_item(call: Node) -> bool {
    let mut node = call;
    while let Some(parent) = node.parent() {
        match parent.kind() {
            "parenthesized_expression" | "as_pattern" => node = parent,
            "with_item" => return true,
            _ => return false,
        }
    }
    false
}

/// The call that consumes a generator expression, and whether the generator is its sole
/// argument (`sum(x for x in y)`).
pub(crate) fn consumer_of(genexp: Node) -> Option<(Node, bool)> {
    let parent = genexp.parent()?;
    if parent.kind() == "call" && is_field(parent, "arguments", genexp) {
        return Some((parent, true));
    }
    if parent.kind() == "argument_list" {
        let call = parent.parent()?;
        return (call.kind() == "call").then_some((call, false));
    }
    None
}

pub(crate) fn sleep_fix<'t>(
    call: Node<'t>,
    spelling: &Spelling,
    resolver: &Resolver<'t>,
) -> Option<Fix> {
    let callee = call.child_by_field_name("function")?;
    let sleep = spelling
        .sleep
        .at(resolver, call)
        .unwrap_or_else(|| spelling.sleep.clone());
    // The call starts with its callee: one replacement adds `await` and respells it.
    let (head, tail) = crate::parse::syntax::await_parts(call);
    let mut edits = vec![Edit::replace(
        callee.start_byte(),
        callee.end_byte(),
        format!("{head}{}", sleep.text),
    )];
    if !tail.is_empty() {
        edits.push(Edit::insert(call.end_byte(), tail));
    }
    Some(Fix {
        edits,
        needs: sleep.needs.into_iter().collect(),
        ..Fix::default()
    })
}

/// The thread fix of one call, `f(a)` → `await asyncio.to_thread(f, a)`.
pub(crate) fn offload_call<'t>(
    call: Node<'t>,
    offload: &Offload,
    spelling: &Spelling,
    resolver: &Resolver<'t>,
) -> Option<Fix> {
    thread_fix(call, ArgsMode::List, offload, spelling, resolver)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgsMode {
    /// `f(a, b)`
    List,
    /// `f(x for x in y)`: the generator is passed on as one parenthesized argument.
    GeneratorArgument,
}

pub(crate) fn thread_fix<'t>(
    call: Node<'t>,
    mode: ArgsMode,
    offload: &Offload,
    spelling: &Spelling,
    resolver: &Resolver<'t>,
) -> Option<Fix> {
    let src = resolver.src();
    let args = call.child_by_field_name("arguments")?;
    let callee_node = call.child_by_field_name("function")?;
    let parens = needs_parentheses(call);
    let has_keywords = mode == ArgsMode::List
        && named_children(args)
            .iter()
            .any(|a| matches!(a.kind(), "keyword_argument" | "dictionary_splat"));
    let partial = has_keywords && offload.positional_only;

    let mut needs: Vec<&'static str> = offload.needs.clone();
    let mut prefix = String::new();
    if parens {
        prefix.push('(');
    }
    prefix.push_str("await ");
    prefix.push_str(&offload.text);
    prefix.push('(');
    prefix.push_str(offload.leading);
    if partial {
        let partial = spelling
            .partial
            .at(resolver, call)
            .unwrap_or_else(|| spelling.partial.clone());
        prefix.push_str(&partial.text);
        prefix.push('(');
        needs.extend(partial.needs);
    }
    let mut edits = vec![Edit::insert(callee_node.start_byte(), prefix)];
    let open = args.start_byte();
    match mode {
        ArgsMode::GeneratorArgument => edits.push(Edit::insert(open, ", ")),
        ArgsMode::List => {
            if src.as_bytes().get(open) != Some(&b'(') {
                return None;
            }
            let after = src.as_bytes().get(open + 1).copied();
            let text = if named_children(args).is_empty() {
                ""
            } else if matches!(after, Some(b'\n' | b'\r')) {
                ","
            } else {
                ", "
            };
            edits.push(Edit::replace(open, open + 1, text));
        }
    }
    let mut closing = String::new();
    if mode == ArgsMode::GeneratorArgument {
        closing.push(')');
    }
    if partial {
        closing.push(')');
    }
    if parens {
        closing.push(')');
    }
    if !closing.is_empty() {
        edits.push(Edit::insert(call.end_byte(), closing));
    }
    Some(Fix {
        edits,
        needs,
        ..Fix::default()
    })
}
