//! Awaits in read-modify-write statements: the awaited call goes to a temporary on the line
//! before, so that a concurrent update is not lost.

use tree_sitter::Node;

use crate::fix::edits::{Edit, Fix};
use crate::fix::model::*;
use crate::parse::syntax::{named_children, needs_parentheses, text, unparenthesize, within};
use crate::resolve::Resolver;

/// `TOTAL += await f()` reads `TOTAL` before the await and writes it after: a task that
/// updates it meanwhile loses its update. Where a fix puts an `await` in a statement that
/// reads shared state it also assigns (an augmented assignment, or `self.n = self.n + …`, to an
/// attribute, a subscript, or a global/nonlocal name), the awaited call goes into a temporary
/// on the line before: `size = await …` then `TOTAL += size`. Where it cannot move there
/// unchanged (a branch, a comprehension, a call that runs before it), the finding is manual.
pub(crate) fn await_into_temporaries<'t>(planned: &mut [Planned<'t>], resolver: &Resolver<'t>) {
    let src = resolver.src();
    for i in 0..planned.len() {
        if !matches!(planned[i].kind(), FixKind::Thread | FixKind::Native) {
            continue;
        }
        let Some(fix) = planned[i].fix().cloned() else {
            continue;
        };
        let node = planned[i].finding.node;
        let function = planned[i].finding.function_node;
        let statement = crate::parse::syntax::enclosing_statement(resolver.root(), node);
        // The statement's own call offloaded whole reads and writes in the worker thread.
        if named_children(statement)
            .first()
            .is_some_and(|e| e.id() == node.id())
        {
            continue;
        }
        let Some(target) = shared_target_read_first(resolver, statement, function) else {
            continue;
        };
        let target_text = text(target, src).to_string();
        let hoisted = hoist(src, statement, node, &fix, function);
        let others = planned
            .iter()
            .filter(|p| p.fix() != Some(&fix) && within(p.finding.node, statement))
            .count();
        let same = |p: &Planned<'t>| p.fix() == Some(&fix);
        match hoisted {
            Some(new_fix) if others == 0 => give_where(planned, same, planned[i].kind(), &new_fix),
            _ => {
                for p in planned.iter_mut().filter(|p| same(p)) {
                    p.make_manual(format!(
                        "the statement reads `{target_text}` before the call and changes it after: awaiting there would lose concurrent updates, and the call cannot move to a line of its own"
                    ));
                }
            }
        }
    }
}

/// The assignment target of an expression statement that is shared state read before the
/// value is computed (`x += …` to a non-local, `self.n = self.n + …`).
pub(crate) fn shared_target_read_first<'t>(
    resolver: &Resolver<'t>,
    statement: Node<'t>,
    function: Node<'t>,
) -> Option<Node<'t>> {
    let src = resolver.src();
    if statement.kind() != "expression_statement" {
        return None;
    }
    let expr = *named_children(statement).first()?;
    let declared = crate::parse::syntax::declared_outside(function, src);
    let shared = |target: Node<'t>| match target.kind() {
        "attribute" | "subscript" => true,
        "identifier" => {
            let name = text(target, src);
            declared.contains(name) || resolver.binding_scope(name, target) != Some(function.id())
        }
        _ => false,
    };
    // Reads of the state a target lives in: `TOTAL`, `self.n`, and for `self.cache[k]` also
    // `self.cache` (read by `self.cache.get(k, 0)`).
    let reads_state = |target: Node<'t>, right: Node<'t>| {
        let mut state: Vec<&str> = vec![text(target, src)];
        if target.kind() == "subscript"
            && let Some(value) = target.child_by_field_name("value")
        {
            state.push(text(value, src));
        }
        let mut stack = vec![right];
        while let Some(n) = stack.pop() {
            if matches!(n.kind(), "identifier" | "attribute" | "subscript")
                && state.contains(&text(n, src))
            {
                return true;
            }
            stack.extend(crate::parse::syntax::children(n));
        }
        false
    };
    match expr.kind() {
        "augmented_assignment" => {
            let target = expr.child_by_field_name("left")?;
            shared(target).then_some(target)
        }
        "assignment" => {
            let left = expr.child_by_field_name("left")?;
            let right = expr.child_by_field_name("right")?;
            // `a, self.n = …` and `[self.n] = […]` too: each target of the pattern.
            let targets = match left.kind() {
                "pattern_list" | "tuple_pattern" | "list_pattern" => named_children(left),
                _ => vec![left],
            };
            targets
                .into_iter()
                .find(|t| shared(*t) && reads_state(*t, right))
        }
        // `self.items.update({k: self.items.get(k, 0) + …})`: a method of shared state
        // called with what was read from it.
        "call" => {
            let callee = expr.child_by_field_name("function")?;
            let receiver = callee
                .child_by_field_name("object")
                .filter(|_| callee.kind() == "attribute")?;
            let args = expr.child_by_field_name("arguments")?;
            // State, not a module: `self.items`, `cache[k]`, not `os` or `os.path`.
            let state = matches!(receiver.kind(), "attribute" | "subscript")
                && resolver.qualified_name(receiver).is_none();
            (state && reads_state(receiver, args)).then_some(receiver)
        }
        _ => None,
    }
}

/// The fix rewritten to await into a fresh temporary on the line before `statement`.
pub(crate) fn hoist<'t>(
    src: &str,
    statement: Node<'t>,
    node: Node<'t>,
    fix: &Fix,
    function: Node<'t>,
) -> Option<Fix> {
    let start = fix.edits.iter().map(|e| e.start).min()?;
    let end = fix.edits.iter().map(|e| e.end).max()?;
    let mut cover = node;
    while cover.start_byte() > start || cover.end_byte() < end {
        cover = cover.parent()?;
    }
    if !within(cover, statement)
        || cover.id() == statement.id()
        || !crate::parse::syntax::can_move_before(cover, statement)
    {
        return None;
    }
    let line = crate::parse::syntax::line_start(src, statement.start_byte());
    let indent = &src[line..statement.start_byte()];
    if !indent.trim().is_empty() {
        return None;
    }
    let mut value = crate::fix::edits::splice_within(src, cover, &fix.edits);
    if needs_parentheses(cover) && value.starts_with("(await ") && value.ends_with(')') {
        value = value[1..value.len() - 1].to_string();
    }
    let base = match cover.kind() {
        "call" => cover
            .child_by_field_name("function")
            .map(unparenthesize)
            .map(|f| match f.kind() {
                "attribute" => f.child_by_field_name("attribute").unwrap_or(f),
                _ => f,
            })
            .map(|f| text(f, src).to_ascii_lowercase())
            .filter(|b| b.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
        _ => None,
    }
    .unwrap_or_else(|| "value".to_string());
    let temporary = crate::parse::syntax::free_name(
        src,
        function,
        &format!("{}_result", base.trim_matches('_')),
    );
    let newline = crate::parse::syntax::newline_of(src);
    Some(Fix {
        edits: vec![
            Edit::insert(line, format!("{indent}{temporary} = {value}{newline}")),
            Edit::replace(cover.start_byte(), cover.end_byte(), temporary),
        ],
        needs: fix.needs.clone(),
        applicability: fix.applicability,
    })
}
