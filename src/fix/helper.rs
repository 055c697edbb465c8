//! Helper extraction (SPEC §3.2): a region of statements that must block together — a `with`
//! block over a file, a loop over a blocking iterator, a sqlite3 connection and everything done
//! with it — moves into a sync function placed just above the async one, called once through
//! the runtime's thread offload:
//!
//! ```python
//! def _size_sync(cache_dir):                       async def size(cache_dir):
//!     total = 0                             ←          return await asyncio.to_thread(_size_sync, cache_dir)
//!     for root, _dirs, files in os.walk(cache_dir): ...
//!     return total
//! ```
//!
//! Parameters are the function's names the region reads (first use first); the return value
//! is the names it assigns that are read elsewhere in the function. A region with `await`,
//! `yield`, `nonlocal`/`global`, a `break`/`continue` leaving it, or a `return` that does not
//! end the function is never extracted; neither is one that calls something tied to the event
//! loop (`put_nowait`, `set_result`, `asyncio.*`, …).

use std::collections::HashSet;

use tree_sitter::Node;

use crate::fix::edits::{Edit, Fix};
use crate::fix::model::{FixKind, Planned};
use crate::fix::spelling::{Offload, Spelling};
use crate::parse::syntax::{
    children, indent_unit, is_binding_target, is_field, line_end, line_start, named_children,
    newline_of, text, within,
};
use crate::resolve::{Resolver, names_bound_in};

/// Calls that are fine to move to a worker thread along with the blocking ones.
const SAFE_BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "bool",
    "bytes",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "format",
    "frozenset",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "print",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
];
const SAFE_QUALIFIED: &[&str] = &[
    "os.path.join",
    "os.path.basename",
    "os.path.dirname",
    "os.path.splitext",
    "os.path.split",
    "os.path.normpath",
    "os.path.expanduser",
    "json.dumps",
    "json.loads",
    "hashlib.sha256",
    "hashlib.md5",
    "hashlib.sha1",
];
const SAFE_METHODS: &[&str] = &[
    "append",
    "extend",
    "items",
    "keys",
    "values",
    "get",
    "strip",
    "rstrip",
    "lstrip",
    "split",
    "splitlines",
    "join",
    "format",
    "lower",
    "upper",
    "startswith",
    "endswith",
    "replace",
    "encode",
    "decode",
    "hexdigest",
    "digest",
    "update",
    "copy",
    "count",
    "index",
    "partition",
    "sort",
    "pop",
    "add",
    "insert",
    "setdefault",
    "discard",
];

/// Statements `first..=last` of one block.
#[derive(Debug, Clone, Copy)]
struct Span<'t> {
    block: Node<'t>,
    first: usize,
    last: usize,
}

impl<'t> Span<'t> {
    fn statements(&self) -> Vec<Node<'t>> {
        statements(self.block)[self.first..=self.last].to_vec()
    }

    fn start(&self) -> usize {
        statement_at(self.block, self.first).map_or(self.block.start_byte(), |s| s.start_byte())
    }

    fn end(&self) -> usize {
        statement_at(self.block, self.last).map_or(self.block.end_byte(), |s| s.end_byte())
    }

    fn contains(&self, node: Node) -> bool {
        self.start() <= node.start_byte() && node.end_byte() <= self.end()
    }
}

/// Statement `index` of a block (comments are not statements), without building the list:
/// `contains` runs for every finding against every region.
fn statement_at(block: Node, index: usize) -> Option<Node> {
    let mut cursor = block.walk();
    block
        .named_children(&mut cursor)
        .filter(|c| c.kind() != "comment")
        .nth(index)
}

fn statements(block: Node) -> Vec<Node> {
    named_children(block)
}

/// Gives the `manual` findings of each async function a helper-extraction fix where a legal
/// region holds them.
pub fn extract_helpers<'t>(
    planned: &mut [Planned<'t>],
    resolver: &Resolver<'t>,
    spelling: &Spelling,
) {
    // The findings of each function (that has one without a native fix), in source order.
    let mut groups: Vec<(Node<'t>, Vec<usize>)> = Vec::new();
    let mut group_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (i, p) in planned.iter().enumerate() {
        let id = p.finding.function_node.id();
        let g = *group_of.entry(id).or_insert_with(|| {
            groups.push((p.finding.function_node, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(i);
    }
    groups.retain(|(_, mine)| mine.iter().any(|&i| planned[i].kind() != FixKind::Native));
    // Helper names given out in this round, so that two functions never get the same one.
    let taken = &mut HashSet::new();
    for (function, mine) in groups {
        let of = |keep: &dyn Fn(&Planned<'t>) -> bool| -> Vec<Node<'t>> {
            mine.iter()
                .map(|&i| &planned[i])
                .filter(|p| keep(p))
                .map(|p| p.finding.node)
                .collect()
        };
        // Calls with a native fix stay native: they are not moved into a helper.
        let nodes = of(&|p| p.kind() != FixKind::Native);
        let lazy = of(&|p| p.finding.lazy);
        let pinned: Vec<(Node<'t>, String)> = mine
            .iter()
            .filter_map(|&i| {
                let f = &planned[i].finding;
                f.pinned.clone().map(|why| (f.node, why))
            })
            .collect();
        let mut anchors = of(&|p| p.kind() == FixKind::Manual);
        let offloaded = of(&|p| p.kind() == FixKind::Thread);
        anchors.extend(blocking_runs(function, &offloaded));
        anchors.sort_by_key(|n| n.start_byte());
        let extractor = Extractor {
            resolver,
            src: resolver.src(),
            function,
            findings: &nodes,
            lazy: &lazy,
            pinned: &pinned,
        };
        let mut spans: Vec<Span<'t>> = Vec::new();
        let mut refused: Vec<(Node<'t>, String)> = Vec::new();
        for &anchor in &anchors {
            if spans.iter().any(|s| s.contains(anchor)) {
                continue;
            }
            match extractor.region_for(anchor) {
                Ok(span) => {
                    spans.retain(|s| !(span.start() <= s.start() && s.end() <= span.end()));
                    spans.push(span);
                }
                Err(why) => refused.push((anchor, why)),
            }
        }
        // Say why a `manual` finding was not moved to a helper.
        for &i in &mine {
            let p = &mut planned[i];
            if let Some((_, why)) = refused.iter().find(|(a, _)| a.id() == p.finding.node.id()) {
                p.add_to_reason("; not moved to a helper: ", why);
            }
        }
        // Every region of the function in this round: the helpers go in together, above the
        // function, as one edit (two insertions at one place would conflict).
        spans.sort_by_key(|s| s.start());
        let mut helpers: Vec<(Span<'t>, Fix, Option<String>)> = Vec::new();
        for span in spans {
            // One statement that is just one blocking call: the plain thread fix reads better.
            if let Some(call) = extractor.single_call(span)
                && let Some(fix) = crate::fix::thread::offload_call(
                    call,
                    &spelling.offload_in(resolver, function, call),
                    spelling,
                    resolver,
                )
            {
                for &i in &mine {
                    if planned[i].finding.node.id() == call.id() {
                        planned[i].take_fix(FixKind::Thread, fix.clone());
                    }
                }
                continue;
            }
            let offload =
                spelling.offload_in(resolver, function, statements(span.block)[span.first]);
            match extractor.helper_fix(span, &offload, taken) {
                Ok(fix) => helpers.push((span, fix, offload.note)),
                Err(why) => {
                    for &i in &mine {
                        let p = &mut planned[i];
                        if span.contains(p.finding.node) {
                            p.add_to_reason("; not moved to a helper: ", &why);
                        }
                    }
                }
            }
        }
        let Some(fix) = merge_helper_fixes(helpers.iter().map(|(_, fix, _)| fix)) else {
            continue;
        };
        for (span, _, note) in &helpers {
            for &i in &mine {
                let p = &mut planned[i];
                if span.contains(p.finding.node) {
                    p.take_fix(FixKind::Helper, fix.clone());
                    p.note.clone_from(note);
                }
            }
        }
    }
}

/// The helper fixes of one function as one fix: their helper definitions (each an insertion
/// at the same place, above the function) joined in order, and every region's replacement.
fn merge_helper_fixes<'f>(fixes: impl Iterator<Item = &'f Fix>) -> Option<Fix> {
    let mut merged: Option<Fix> = None;
    for fix in fixes {
        let Some(into) = merged.as_mut() else {
            merged = Some(fix.clone());
            continue;
        };
        for edit in &fix.edits {
            match into
                .edits
                .iter_mut()
                .find(|e| e.start == edit.start && e.start == e.end && edit.start == edit.end)
            {
                Some(same_place) => same_place.text.push_str(&edit.text),
                None => into.edits.push(edit.clone()),
            }
        }
        for need in &fix.needs {
            if !into.needs.contains(need) {
                into.needs.push(need);
            }
        }
    }
    merged
}

/// Statements in a row that do nothing but one blocking call each (`shutil.rmtree(d)`,
/// `names = os.listdir(d)`): from this many on, one helper reads better than a `to_thread`
/// per line, and keeps the run from interleaving with other tasks.
const RUN_LENGTH: usize = 3;

/// The first call of every run of [`RUN_LENGTH`] or more such statements in the function.
fn blocking_runs<'t>(function: Node<'t>, offloaded: &[Node<'t>]) -> Vec<Node<'t>> {
    let only_blocks = |stmt: Node<'t>| -> Option<Node<'t>> {
        if stmt.kind() != "expression_statement" {
            return None;
        }
        let mut expr = *named_children(stmt).first()?;
        if expr.kind() == "assignment" {
            expr = expr.child_by_field_name("right")?;
        }
        offloaded.iter().find(|o| o.id() == expr.id()).copied()
    };
    let mut out = Vec::new();
    for block in crate::parse::syntax::descendants(function)
        .into_iter()
        .filter(|n| n.kind() == "block")
    {
        let mut run: Vec<Node<'t>> = Vec::new();
        for stmt in statements(block)
            .into_iter()
            .map(Some)
            .chain(std::iter::once(None))
        {
            match stmt.and_then(only_blocks) {
                Some(call) => run.push(call),
                None => {
                    if run.len() >= RUN_LENGTH {
                        out.push(run[0]);
                    }
                    run.clear();
                }
            }
        }
    }
    out
}

struct Extractor<'r, 't> {
    resolver: &'r Resolver<'t>,
    src: &'t str,
    function: Node<'t>,
    /// Every finding node of the function that has no native fix.
    findings: &'r [Node<'t>],
    /// The calls returning lazy iterators.
    lazy: &'r [Node<'t>],
    /// Calls that must stay on the event loop's thread, with the reason.
    pinned: &'r [(Node<'t>, String)],
}

impl<'t> Extractor<'_, 't> {
    fn body(&self) -> Option<Node<'t>> {
        self.function.child_by_field_name("body")
    }

    /// The call, when the span is one statement that is nothing but one blocking call
    /// (`x = open(p)`, `self.f = open(p)`, `os.remove(p)`).
    fn single_call(&self, span: Span<'t>) -> Option<Node<'t>> {
        if span.first != span.last {
            return None;
        }
        let stmt = statements(span.block)[span.first];
        if stmt.kind() != "expression_statement" {
            return None;
        }
        let mut expr = *named_children(stmt).first()?;
        if expr.kind() == "assignment" {
            expr = expr.child_by_field_name("right")?;
        }
        let inside: Vec<&Node<'t>> = self.findings.iter().filter(|f| within(**f, stmt)).collect();
        (expr.kind() == "call" && inside.len() == 1 && inside[0].id() == expr.id()).then_some(expr)
    }

    /// The statement holding `node` in a block of this function, as a one-statement span.
    fn statement_span(&self, node: Node<'t>) -> Option<Span<'t>> {
        let mut current = node;
        while let Some(parent) = current.parent() {
            if parent.kind() == "block" {
                let index = statements(parent)
                    .iter()
                    .position(|s| s.id() == current.id())?;
                return Some(Span {
                    block: parent,
                    first: index,
                    last: index,
                });
            }
            if parent.id() == self.function.id() {
                return None;
            }
            current = parent;
        }
        None
    }

    /// The region a `manual` finding needs: its statement, grown over the uses of a resource it
    /// binds, over neighbouring blocking statements, and out of enclosing statements it fills.
    fn region_for(&self, anchor: Node<'t>) -> Result<Span<'t>, String> {
        if let Some((_, why)) = self.pinned.iter().find(|(n, _)| n.id() == anchor.id()) {
            return Err(why.clone());
        }
        let mut span = self
            .statement_span(anchor)
            .ok_or_else(|| "the call is not in a statement of the function body".to_string())?;
        span = self.grow_over_resource(span);
        if span.statements().into_iter().any(has_async_parts) {
            return Err("the block awaits or yields".to_string());
        }
        if let Some(why) = self.loop_bound_call(&span) {
            return Err(why);
        }
        loop {
            span = self.grow_over_blocking(span);
            match self.lift(span) {
                Some(outer) => span = outer,
                None => break,
            }
        }
        span = self.grow_to_whole_body(span);
        match self.refusal(&span) {
            Some(why) => Err(why),
            None => Ok(span),
        }
    }

    /// `conn = sqlite3.connect(db)` … the last statement of the block that uses `conn` (or a
    /// name made from it, like `cur = conn.cursor()`).
    fn grow_over_resource(&self, span: Span<'t>) -> Span<'t> {
        let stmts = statements(span.block);
        let stmt = stmts[span.first];
        let mut names: HashSet<String> = HashSet::new();
        if stmt.kind() == "expression_statement"
            && let Some(assign) = named_children(stmt)
                .into_iter()
                .find(|n| n.kind() == "assignment")
            && let Some(left) = assign.child_by_field_name("left")
            && left.kind() == "identifier"
            && let Some(right) = assign.child_by_field_name("right")
            && (self.findings.iter().any(|f| f.id() == right.id())
                || self
                    .resolver
                    .type_of(right)
                    .is_some_and(|t| self.resolver.manual_reason_for(&t).is_some()))
        {
            // Only the value of a blocking call (a connection, a lazy iterator, what was
            // read) or one that must stay with the code using it (a file).
            names.insert(text(left, self.src).to_string());
        }
        if names.is_empty() {
            return span;
        }
        let mut last = span.last;
        for (i, s) in stmts.iter().enumerate().skip(span.first + 1) {
            let reads = identifiers(*s, self.src);
            if reads.iter().any(|(n, _)| names.contains(n)) {
                last = i;
                // Values made from the resource that are resources too (`cur = conn.cursor()`).
                for (left, right) in assignments(*s) {
                    if left.kind() == "identifier" && self.resolver.type_of(right).is_some() {
                        names.insert(text(left, self.src).to_string());
                    }
                }
            }
        }
        Span { last, ..span }
    }

    /// Neighbouring statements that block too (a finding in them, no `await`, only safe calls).
    fn grow_over_blocking(&self, mut span: Span<'t>) -> Span<'t> {
        let stmts = statements(span.block);
        let blocking = |s: Node<'t>| {
            self.findings.iter().any(|f| within(*f, s))
                && !has_async_parts(s)
                && self.only_safe_calls(s)
        };
        while span.first > 0
            && blocking(stmts[span.first - 1])
            && !self.is_docstring(stmts[span.first - 1])
        {
            span.first -= 1;
        }
        while span.last + 1 < stmts.len() && blocking(stmts[span.last + 1]) {
            span.last += 1;
        }
        span
    }

    /// When the span fills a block of a compound statement that is itself free of `await` and
    /// unsafe calls, the whole compound statement is the region.
    fn lift(&self, span: Span<'t>) -> Option<Span<'t>> {
        let stmts = statements(span.block);
        let first = if self.is_docstring(stmts[0]) { 1 } else { 0 };
        if span.first > first || span.last + 1 != stmts.len() {
            return None;
        }
        let compound = span.block.parent()?;
        if compound.id() == self.function.id() {
            return None;
        }
        // `else`/`elif`/`except` blocks belong to the statement above them.
        let statement = if compound.parent().is_some_and(|p| p.kind() == "block") {
            compound
        } else {
            compound.parent()?
        };
        if statement.id() == self.function.id()
            || has_async_parts(statement)
            || !self.only_safe_calls(statement)
        {
            return None;
        }
        self.statement_span(statement)
    }

    /// A region of the function body that only pure statements separate from both ends of the
    /// body takes them in: the whole body moves (`return await to_thread(...)`).
    fn grow_to_whole_body(&self, span: Span<'t>) -> Span<'t> {
        let Some(body) = self.body() else { return span };
        if span.block.id() != body.id() {
            return span;
        }
        let stmts = statements(body);
        let start = usize::from(stmts.first().is_some_and(|s| self.is_docstring(*s)));
        let pure = |s: &Node<'t>| !has_async_parts(*s) && self.only_safe_calls(*s);
        if stmts[start..span.first].iter().all(pure) && stmts[span.last + 1..].iter().all(pure) {
            Span {
                block: body,
                first: start,
                last: stmts.len() - 1,
            }
        } else {
            span
        }
    }

    fn is_docstring(&self, stmt: Node) -> bool {
        self.body()
            .is_some_and(|b| statements(b).first().is_some_and(|f| f.id() == stmt.id()))
            && crate::parse::syntax::is_string_statement(stmt)
    }

    /// Every call is a finding or known to be safe off the loop.
    fn only_safe_calls(&self, node: Node<'t>) -> bool {
        calls_in(node).into_iter().all(|call| {
            if self.findings.iter().any(|f| f.id() == call.id()) {
                return true;
            }
            let Some(callee) = call.child_by_field_name("function") else {
                return false;
            };
            if self.resolver.is_tracked_constructor(callee) {
                return true;
            }
            if let Some(q) = self.resolver.qualified_name(callee) {
                return SAFE_QUALIFIED.contains(&q.as_str()) || q == "print";
            }
            match callee.kind() {
                "identifier" => {
                    let name = text(callee, self.src);
                    SAFE_BUILTINS.contains(&name) && !self.resolver.is_bound(name, callee)
                }
                "attribute" => callee
                    .child_by_field_name("attribute")
                    .is_some_and(|a| SAFE_METHODS.contains(&text(a, self.src))),
                _ => false,
            }
        })
    }

    /// Why a call in the region must stay on the event loop's thread (it is tied to the loop,
    /// or reads the exception being handled), if one must.
    fn loop_bound_call(&self, span: &Span<'t>) -> Option<String> {
        for s in span.statements() {
            if let Some(why) = self.loop_bound_in(s) {
                return Some(why);
            }
            // One step into the functions of this file it calls (`note()` at module level,
            // `self.track()` in the class): they run in the worker thread too.
            for call in calls_in(s) {
                let Some(def) = self.local_definition(call) else {
                    continue;
                };
                if let Some(body) = def.child_by_field_name("body")
                    && self.loop_bound_in(body).is_some()
                {
                    let name = call
                        .child_by_field_name("function")
                        .map_or("", |c| text(c, self.src));
                    return Some(format!(
                        "the block calls `{name}`, which uses the event loop or the exception being handled"
                    ));
                }
            }
        }
        None
    }

    /// The definition in this file of the function a call runs: a module-level `def`, or a
    /// method of the class around the async function called through its first parameter.
    fn local_definition(&self, call: Node<'t>) -> Option<Node<'t>> {
        let callee = crate::parse::syntax::unparenthesize(call.child_by_field_name("function")?);
        let (scope, name) = match callee.kind() {
            "identifier" => {
                let name = text(callee, self.src);
                if !self.resolver.is_module_level(name, callee) {
                    return None;
                }
                (self.resolver_root()?, name)
            }
            "attribute" => {
                let object = callee.child_by_field_name("object")?;
                let receiver = self.method_receiver(self.outer())??;
                if object.kind() != "identifier" || text(object, self.src) != receiver {
                    return None;
                }
                let class_body = self.outer().parent().filter(|b| b.kind() == "block")?;
                (
                    class_body,
                    text(callee.child_by_field_name("attribute")?, self.src),
                )
            }
            _ => return None,
        };
        named_children(scope).into_iter().find_map(|n| {
            let def = match n.kind() {
                "function_definition" => n,
                "decorated_definition" => n.child_by_field_name("definition")?,
                _ => return None,
            };
            (def.kind() == "function_definition"
                && def
                    .child_by_field_name("name")
                    .is_some_and(|d| text(d, self.src) == name))
            .then_some(def)
        })
    }

    /// The module node.
    fn resolver_root(&self) -> Option<Node<'t>> {
        let mut node = self.function;
        while let Some(parent) = node.parent() {
            node = parent;
        }
        Some(node)
    }

    /// The async function, or the decorated definition holding it.
    fn outer(&self) -> Node<'t> {
        match self.function.parent() {
            Some(p) if p.kind() == "decorated_definition" => p,
            _ => self.function,
        }
    }

    /// Why code under `node` must stay on the event loop's thread, looking at its own calls.
    fn loop_bound_in(&self, node: Node<'t>) -> Option<String> {
        {
            for call in calls_in(node) {
                let Some(callee) = call.child_by_field_name("function") else {
                    continue;
                };
                let qualified = self.resolver.qualified_name(callee);
                let name = text(callee, self.src);
                let why = match crate::runtime::thread_tie(
                    qualified.as_deref(),
                    crate::parse::syntax::last_name(callee, self.src),
                ) {
                    None => continue,
                    Some(crate::runtime::ThreadTie::HandledException) => {
                        "reads the exception being handled: a worker thread has none"
                    }
                    Some(_) => "belongs to the event loop",
                };
                return Some(format!("the block calls `{name}`, which {why}"));
            }
        }
        None
    }

    /// Why the region cannot be extracted, or `None` when it can.
    fn refusal(&self, span: &Span<'t>) -> Option<String> {
        let stmts = span.statements();
        if stmts.iter().any(|s| has_async_parts(*s)) {
            return Some("the block awaits or yields".to_string());
        }
        if let Some(why) = self.loop_bound_call(span) {
            return Some(why);
        }
        if let Some((_, why)) = self.pinned.iter().find(|(n, _)| span.contains(*n)) {
            return Some(why.clone());
        }
        // A thread-bound value (a sqlite3 connection) must be made inside the region.
        let mut bound_inside: HashSet<String> = HashSet::new();
        for s in &stmts {
            bound_inside.extend(names_bound_in(*s, self.src));
        }
        for s in &stmts {
            for node in crate::parse::syntax::descendants(*s) {
                let made_outside = match node.kind() {
                    "identifier" => !bound_inside.contains(text(node, self.src)),
                    "attribute" => true,
                    _ => continue,
                };
                if made_outside
                    && let Some(typed) = self.resolver.type_of(node)
                    && self.resolver.is_thread_bound(&typed)
                {
                    return Some(format!(
                        "`{}` was made outside the block, in another thread",
                        text(node, self.src)
                    ));
                }
            }
        }
        for s in &stmts {
            for node in crate::parse::syntax::descendants(*s) {
                if node.kind() == "raise_statement" && node.named_child_count() == 0 {
                    return Some(
                        "a bare `raise` re-raises the exception being handled, which a worker thread does not have"
                            .to_string(),
                    );
                }
                // A module-level dict, list or set: other tasks may change it while the helper
                // iterates or serializes it in its thread.
                if node.kind() == "identifier"
                    && !is_binding_target(node)
                    && self.resolver.is_module_level(text(node, self.src), node)
                    && self
                        .resolver
                        .module_value(text(node, self.src))
                        .is_some_and(|v| is_mutable_container(v, self.src))
                {
                    return Some(format!(
                        "it reads the module's mutable `{}`, which other tasks may change while a worker thread uses it",
                        text(node, self.src)
                    ));
                }
            }
        }
        // Shared state read and written around a blocking call (`self.n += os.path.getsize(p)`):
        // in a worker thread, tasks on the loop would run between the read and the write.
        for s in &stmts {
            for node in crate::parse::syntax::descendants(*s) {
                if node.kind() == "expression_statement"
                    && self.findings.iter().any(|f| within(*f, node))
                    && let Some(target) = crate::fix::temporaries::shared_target_read_first(
                        self.resolver,
                        node,
                        self.function,
                    )
                {
                    return Some(format!(
                        "it reads `{}` before a blocking call and changes it after: in a worker thread, other tasks could change it in between",
                        text(target, self.src)
                    ));
                }
            }
        }
        // A name the function declares `global`/`nonlocal` would be a local of the helper:
        // its writes would be lost (or raise before the first one).
        let declared = crate::parse::syntax::declared_outside(self.function, self.src);
        for name in &bound_inside {
            if declared.contains(name) {
                return Some(format!(
                    "the block sets `{name}`, which the function declares `global`/`nonlocal`"
                ));
            }
        }
        let ends_function = self.body().is_some_and(|b| b.id() == span.block.id())
            && span.last + 1 == statements(span.block).len();
        for s in &stmts {
            for node in crate::parse::syntax::descendants(*s) {
                match node.kind() {
                    "return_statement" if !ends_function => {
                        return Some(
                            "a `return` in the block does not end the function".to_string(),
                        );
                    }
                    "break_statement" | "continue_statement" => {
                        let target = node.parent().and_then(|_| enclosing_loop(node));
                        if target.is_none_or(|l| !span.contains(l)) {
                            return Some(format!("`{}` leaves the block", text(node, self.src)));
                        }
                    }
                    "global_statement" | "nonlocal_statement" => {
                        return Some("the block declares `global`/`nonlocal` names".to_string());
                    }
                    _ => {}
                }
            }
        }
        // The first and last lines hold nothing but the region.
        let first = stmts[0];
        let last = stmts[stmts.len() - 1];
        let before = &self.src[line_start(self.src, first.start_byte())..first.start_byte()];
        let after_end = line_end(self.src, last.end_byte());
        let after = self.src[last.end_byte()..after_end].trim();
        if before.trim().is_empty() && (after.is_empty() || after.starts_with('#')) {
            None
        } else {
            Some("the block shares a line with other statements".to_string())
        }
    }

    /// The edits: the helper above the async function, the region replaced by one call.
    fn helper_fix(
        &self,
        span: Span<'t>,
        offload: &Offload,
        taken: &mut HashSet<String>,
    ) -> Result<Fix, String> {
        let shape = || "the function has an unusual shape".to_string();
        let src = self.src;
        let function_name = text(
            self.function
                .child_by_field_name("name")
                .ok_or_else(shape)?,
            src,
        );
        let outer = match self.function.parent() {
            Some(p) if p.kind() == "decorated_definition" => p,
            _ => self.function,
        };
        let method = self
            .method_receiver(outer)
            .ok_or_else(|| "helpers for static and class methods are not supported".to_string())?;
        let def_line = line_start(src, outer.start_byte());
        let def_indent = &src[def_line..outer.start_byte()];
        let body = self.body().ok_or_else(shape)?;
        let body_first = *statements(body).first().ok_or_else(shape)?;
        let unit = indent_unit(src, self.function).ok_or_else(shape)?;
        let newline = newline_of(src);

        let (params, returns) = self.dataflow(span, method.as_deref())?;
        let line = self.function.start_position().row + 1;
        let name = unique_name(src, &helper_base_name(function_name, line), taken);
        taken.insert(name.clone());

        let stmts = span.statements();
        let first = stmts[0];
        let last = stmts[stmts.len() - 1];
        let region_start = line_start(src, first.start_byte());
        let region_end = line_end(src, last.end_byte());
        let base = &src[region_start..first.start_byte()];
        let helper_indent = format!("{def_indent}{unit}");

        let mut helper = String::new();
        helper.push_str(def_indent);
        let annotations = self.parameter_annotations();
        let mut signature: Vec<String> = method.iter().cloned().collect();
        signature.extend(params.iter().map(|p| match annotations.get(p) {
            Some(t) => format!("{p}: {t}"),
            None => p.clone(),
        }));
        let ends_function = span.block.id() == body.id() && span.last + 1 == statements(body).len();
        let returns_annotation = self
            .function
            .child_by_field_name("return_type")
            .filter(|_| ends_function && span.first <= usize::from(self.is_docstring(body_first)))
            .map(|t| format!(" -> {}", text(t, src)))
            .unwrap_or_default();
        helper.push_str(&format!(
            "def {name}({}){returns_annotation}:{newline}",
            signature.join(", ")
        ));
        helper.push_str(&reindent(
            src,
            &stmts,
            region_start,
            region_end,
            base,
            &helper_indent,
            newline,
        ));
        let has_return = stmts.iter().any(|s| {
            crate::parse::syntax::descendants(*s)
                .iter()
                .any(|n| n.kind() == "return_statement")
        });
        // A `return` that ends the function returns the helper's value itself.
        let returned_by_call = ends_function && has_return;
        if !returns.is_empty() && !returned_by_call {
            helper.push_str(&format!(
                "{helper_indent}return {}{newline}",
                returns.join(", ")
            ));
        }
        // Two blank lines after a module-level function, one after a method or nested function.
        let blank_lines = if def_indent.is_empty() { 2 } else { 1 };
        helper.push_str(&newline.repeat(blank_lines));

        let callee = match &method {
            Some(receiver) => format!("{receiver}.{name}"),
            None => name.clone(),
        };
        let mut call_args = vec![callee];
        call_args.extend(params.iter().cloned());
        let call = format!(
            "await {}({}{})",
            offload.text,
            offload.leading,
            call_args.join(", ")
        );
        // An async generator cannot return a value: its `return`s in the region are bare, and
        // the call ends the function anyway.
        let line = if ends_function && has_return && !self.is_async_generator() {
            format!("return {call}")
        } else if returns.is_empty() || (ends_function && has_return) {
            call
        } else {
            format!("{} = {call}", returns.join(", "))
        };
        let trailing = if src[..region_end].ends_with('\n') {
            newline
        } else {
            ""
        };
        Ok(Fix {
            edits: vec![
                Edit::insert(def_line, helper),
                Edit::replace(region_start, region_end, format!("{base}{line}{trailing}")),
            ],
            needs: offload.needs.clone(),
            ..Fix::default()
        })
    }

    /// Whether the function yields (outside nested functions): an async generator.
    fn is_async_generator(&self) -> bool {
        self.body().is_some_and(|b| {
            crate::parse::syntax::descendants(b)
                .iter()
                .any(|n| n.kind() == "yield")
        })
    }

    /// Whether a statement after the region, in its block, binds `name` on every path before
    /// `read` runs (`with open(q) as f:` around it, `f = …` above it): the read sees that value,
    /// not the region's.
    fn rebound_before(&self, name: &str, read: Node<'t>, span: Span<'t>) -> bool {
        statements(span.block)
            .into_iter()
            .skip(span.last + 1)
            .filter(|s| s.start_byte() <= read.start_byte())
            .any(|s| {
                if !definitely_bound(s, self.src).contains(name) {
                    return false;
                }
                let in_with_body = s.kind() == "with_statement"
                    && s.child_by_field_name("body")
                        .is_some_and(|b| within(read, b));
                in_with_body || read.start_byte() >= s.end_byte()
            })
    }

    /// The names bound on every path into the region: the parameters, what the statements
    /// before it in each enclosing block bind for sure, and the targets of the `for`, `with`
    /// and `except` headers around it.
    fn bound_on_entry(&self, span: Span<'t>) -> HashSet<String> {
        let mut out: HashSet<String> = self.parameter_names().into_iter().collect();
        let mut block = span.block;
        loop {
            for s in statements(block) {
                if s.end_byte() <= span.start() {
                    out.extend(definitely_bound(s, self.src));
                }
            }
            let Some(owner) = block.parent() else {
                return out;
            };
            if owner.id() == self.function.id() {
                return out;
            }
            match owner.kind() {
                "for_statement"
                    if owner
                        .child_by_field_name("body")
                        .is_some_and(|b| b.id() == block.id()) =>
                {
                    if let Some(left) = owner.child_by_field_name("left") {
                        out.extend(identifiers(left, self.src).into_iter().map(|(n, _)| n));
                    }
                }
                "with_statement" | "except_clause" | "except_group_clause" => {
                    for target in crate::parse::syntax::descendants(owner)
                        .into_iter()
                        .filter(|n| n.kind() == "as_pattern_target" && !within(*n, block))
                    {
                        out.extend(identifiers(target, self.src).into_iter().map(|(n, _)| n));
                    }
                }
                _ => {}
            }
            // Up to the block holding the statement this block belongs to.
            let mut up = owner;
            loop {
                let Some(parent) = up.parent() else {
                    return out;
                };
                if parent.id() == self.function.id() {
                    return out;
                }
                if parent.kind() == "block" {
                    block = parent;
                    break;
                }
                up = parent;
            }
        }
    }

    /// The names of functions defined in the async function's body (closures).
    fn nested_functions(&self) -> HashSet<String> {
        let Some(body) = self.body() else {
            return HashSet::new();
        };
        crate::parse::syntax::descendants(body)
            .into_iter()
            .filter(|n| n.kind() == "function_definition")
            .filter_map(|n| n.child_by_field_name("name"))
            .map(|n| text(n, self.src).to_string())
            .collect()
    }

    /// Whether a `try` with an `except` clause holds the region in its body (in this function).
    fn handled_around(&self, span: Span<'t>) -> bool {
        let mut child = span.block;
        while let Some(parent) = child.parent() {
            if parent.id() == self.function.id() {
                return false;
            }
            if parent.kind() == "try_statement"
                && is_field(parent, "body", child)
                && named_children(parent)
                    .iter()
                    .any(|c| matches!(c.kind(), "except_clause" | "except_group_clause"))
            {
                return true;
            }
            child = parent;
        }
        false
    }

    /// The innermost `for`/`while` loop of the function that runs the region more than once.
    fn loop_around(&self, span: Span<'t>) -> Option<Node<'t>> {
        let mut child = span.block;
        while let Some(parent) = child.parent() {
            if parent.id() == self.function.id() {
                return None;
            }
            if matches!(parent.kind(), "for_statement" | "while_statement")
                && is_field(parent, "body", child)
            {
                return Some(parent);
            }
            child = parent;
        }
        None
    }

    /// A name of `names` that an `except` or `finally` clause of a `try` around the region
    /// reads: if the region raises half-way, the original had already set it there.
    fn read_by_handler(&self, span: Span<'t>, names: &[String]) -> Option<String> {
        let mut child = span.block;
        while let Some(parent) = child.parent() {
            if parent.id() == self.function.id() {
                return None;
            }
            if parent.kind() == "try_statement" && is_field(parent, "body", child) {
                for clause in named_children(parent) {
                    if !matches!(
                        clause.kind(),
                        "except_clause" | "except_group_clause" | "finally_clause"
                    ) {
                        continue;
                    }
                    if let Some((name, _)) = reads(clause, self.src)
                        .into_iter()
                        .find(|(n, _)| names.contains(n))
                    {
                        return Some(name);
                    }
                }
            }
            child = parent;
        }
        None
    }

    /// The async function's parameter names, in signature order.
    fn parameter_names(&self) -> Vec<String> {
        let Some(params) = self.function.child_by_field_name("parameters") else {
            return Vec::new();
        };
        identifiers(params, self.src)
            .into_iter()
            .filter(|(_, node)| !is_default_value_part(*node, params))
            .map(|(n, _)| n)
            .collect()
    }

    /// The annotation text of each annotated parameter of the async function.
    fn parameter_annotations(&self) -> std::collections::HashMap<String, String> {
        let mut out = std::collections::HashMap::new();
        let Some(params) = self.function.child_by_field_name("parameters") else {
            return out;
        };
        for p in named_children(params) {
            let (name, annotation) = match p.kind() {
                "typed_parameter" => (
                    named_children(p)
                        .into_iter()
                        .find(|n| n.kind() == "identifier"),
                    p.child_by_field_name("type"),
                ),
                "typed_default_parameter" => {
                    (p.child_by_field_name("name"), p.child_by_field_name("type"))
                }
                _ => continue,
            };
            if let (Some(name), Some(annotation)) = (name, annotation) {
                out.insert(
                    text(name, self.src).to_string(),
                    text(annotation, self.src).to_string(),
                );
            }
        }
        out
    }

    /// For a method: `Some(Some("self"))`; a plain function: `Some(None)`; static or class
    /// methods are not supported (`None`).
    fn method_receiver(&self, outer: Node<'t>) -> Option<Option<String>> {
        let in_class = outer
            .parent()
            .filter(|p| p.kind() == "block")
            .and_then(|b| b.parent())
            .is_some_and(|c| c.kind() == "class_definition");
        if !in_class {
            return Some(None);
        }
        if outer.kind() == "decorated_definition" {
            let decorated = named_children(outer)
                .into_iter()
                .filter(|n| n.kind() == "decorator")
                .any(|d| {
                    let t = text(d, self.src);
                    t.contains("staticmethod") || t.contains("classmethod")
                });
            if decorated {
                return None;
            }
        }
        let name = crate::parse::syntax::first_parameter_name(self.function, self.src)?;
        Some(Some(name.to_string()))
    }

    /// Parameters (the function's variables the region reads that may hold a value when it
    /// starts, first use first) and return values (names it binds that the function reads
    /// after it, or again in the region on the next turn of a loop around it).
    ///
    /// A def-use analysis over the whole function, not just its top-level statements: a name
    /// bound earlier in an enclosing `if`/`for`/`try`/`with` block, a parameter, or a name set
    /// on an earlier turn of an enclosing loop is passed in.
    fn dataflow(
        &self,
        span: Span<'t>,
        receiver: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        let body = self
            .body()
            .ok_or_else(|| "the function has no body".to_string())?;
        let scope = self.function.id();
        let stmts = span.statements();
        let mut bound_inside: HashSet<String> = HashSet::new();
        for s in &stmts {
            bound_inside.extend(names_bound_in(*s, self.src));
        }
        let in_loop = self.loop_around(span).is_some();
        // Where the function binds each name outside the region: before it in the text, or
        // after it but inside a loop that runs the region again.
        let mut bound_before: HashSet<String> = HashSet::new();
        for ident in binding_identifiers(body) {
            if span.contains(ident) {
                continue;
            }
            let name = text(ident, self.src).to_string();
            let loops_back = self.loop_around(span).is_some_and(|l| within(ident, l));
            if ident.start_byte() < span.start() || loops_back {
                bound_before.insert(name);
            }
        }
        if let Some(params) = self.function.child_by_field_name("parameters") {
            for (name, node) in identifiers(params, self.src) {
                if !is_default_value_part(node, params) {
                    bound_before.insert(name);
                }
            }
        }

        // Names the region binds on every path before it first reads them need no value
        // from outside; every other local it reads does.
        let mut read_first: Vec<(String, Node<'t>)> = Vec::new();
        unsettled_reads(&stmts, &HashSet::new(), self.src, &mut read_first);
        let mut params: Vec<String> = Vec::new();
        for (name, node) in &read_first {
            if Some(name.as_str()) == receiver
                || self.resolver.binding_scope(name, *node) != Some(scope)
            {
                continue;
            }
            if bound_before.contains(name) || !bound_inside.contains(name) {
                // Bound before (or only after: the original raises there too, and so does
                // the call).
                params.push(name.clone());
            } else if in_loop {
                return Err(format!(
                    "`{name}` is read before the block sets it, on an earlier turn of the loop"
                ));
            }
        }
        // A parameter is read at the call, before the region runs: it must be bound there on
        // every path (`x` bound only under `if flag:` would raise where the original, reading
        // it only under the same flag, did not).
        let entry = self.bound_on_entry(span);
        if let Some(name) = params.iter().find(|p| !entry.contains(*p)) {
            return Err(format!("`{name}` may be unbound when the block starts"));
        }
        // A function defined in this function and read by the region would see this
        // function's variables, not the helper's.
        let closures = self.nested_functions();
        if let Some(name) = params.iter().find(|p| closures.contains(*p))
            && !bound_inside.is_empty()
        {
            return Err(format!(
                "it calls `{name}`, defined in this function: it would not see what the block sets"
            ));
        }
        // Parameters in the order of the function's signature where they come from it.
        let signature = self.parameter_names();
        params.sort_by_key(|p| signature.iter().position(|s| s == p).unwrap_or(usize::MAX));

        // Read after the region: later in the text, anywhere in a loop around it (the next
        // turn), or in a nested function (it may run later). Reads before it cannot see what
        // it sets.
        let around = self.loop_around(span);
        let mut read_outside: HashSet<String> = HashSet::new();
        for (name, node) in identifiers(body, self.src) {
            if span.contains(node) || is_binding_target(node) {
                continue;
            }
            let nested = crate::parse::syntax::in_nested_scope(node, self.function);
            let after = node.start_byte() >= span.end() && !self.rebound_before(&name, node, span);
            if after || nested || around.is_some_and(|l| within(node, l)) {
                read_outside.insert(name);
            }
        }
        let mut returns: Vec<String> = Vec::new();
        for s in &stmts {
            for (name, _) in identifiers(*s, self.src) {
                let read_again = in_loop && params.contains(&name);
                if bound_inside.contains(&name)
                    && (read_outside.contains(&name) || read_again)
                    && Some(name.as_str()) != receiver
                    && !returns.contains(&name)
                {
                    returns.push(name);
                }
            }
        }
        if let Some(name) = self.read_by_handler(span, &returns) {
            return Err(format!(
                "`{name}` is set in the block and read by an `except`/`finally` around it"
            ));
        }
        // A thread-bound value (a sqlite3 connection) made in the region must not leave it:
        // used after the helper returns, it would be used by another thread.
        for s in &stmts {
            for (left, right) in assignments(*s) {
                if left.kind() == "identifier"
                    && returns.iter().any(|r| r == text(left, self.src))
                    && self
                        .resolver
                        .type_of(right)
                        .is_some_and(|t| self.resolver.is_thread_bound(&t))
                {
                    return Err(format!(
                        "`{}` is bound to the thread that makes it, and is used after the block",
                        text(left, self.src)
                    ));
                }
            }
        }
        // If the region raises half-way and an `except` around it goes on, the original had
        // already set what it set before the error; the helper's values are lost with it.
        if self.handled_around(span)
            && let Some(name) = returns
                .iter()
                .find(|r| set_before_a_call(&stmts, r, self.src))
        {
            return Err(format!(
                "`{name}` is set before the block may raise, and an `except` around it goes on without it"
            ));
        }
        // `del x` in the helper would delete its own copy.
        for s in &stmts {
            for node in crate::parse::syntax::descendants(*s) {
                if node.kind() == "delete_statement"
                    && let Some(name) = identifiers(node, self.src)
                        .into_iter()
                        .map(|(n, _)| n)
                        .find(|n| params.contains(n))
                {
                    return Err(format!(
                        "the block deletes `{name}`, a variable of the function"
                    ));
                }
            }
        }
        // A value leaving the region must not carry blocking work back to the loop: a lazy
        // iterator or a generator made in the region would still be iterated there.
        let carries = |expr: Node<'t>| {
            let expr = crate::parse::syntax::unparenthesize(expr);
            expr.kind() == "generator_expression" || self.lazy.iter().any(|l| l.id() == expr.id())
        };
        let mut carrying: HashSet<String> = HashSet::new();
        for s in &stmts {
            for (left, right) in assignments(*s) {
                if carries(right) {
                    carrying.extend(identifiers(left, self.src).into_iter().map(|(n, _)| n));
                }
            }
        }
        if returns.iter().any(|r| carrying.contains(r)) {
            return Err(
                "a lazy iterator or generator made in the block would be used after it".to_string(),
            );
        }
        for s in &stmts {
            for ret in crate::parse::syntax::descendants(*s)
                .into_iter()
                .filter(|n| n.kind() == "return_statement")
            {
                let values: Vec<Node<'t>> = named_children(ret)
                    .into_iter()
                    .flat_map(|v| {
                        if v.kind() == "expression_list" {
                            named_children(v)
                        } else {
                            vec![v]
                        }
                    })
                    .collect();
                let escapes = values.iter().any(|v| {
                    carries(*v)
                        || (v.kind() == "identifier" && carrying.contains(text(*v, self.src)))
                });
                if escapes {
                    return Err(
                        "a lazy iterator or generator made in the block would be used after it"
                            .to_string(),
                    );
                }
            }
        }
        // A returned name must be bound on every path through the region (or before it).
        let definite: HashSet<String> = stmts
            .iter()
            .flat_map(|s| definitely_bound(*s, self.src))
            .collect();
        if returns
            .iter()
            .any(|r| !definite.contains(r) && !params.contains(r))
        {
            return Err("a name the block sets may be unbound after it".to_string());
        }
        Ok((params, returns))
    }
}

/// The names read by `stmts` (run in order) at a point where they may not be bound yet by
/// the statements themselves: `settled` holds what is bound for sure on entry. Each name once,
/// at its first such read.
fn unsettled_reads<'t>(
    stmts: &[Node<'t>],
    settled: &HashSet<String>,
    src: &str,
    out: &mut Vec<(String, Node<'t>)>,
) {
    let mut settled = settled.clone();
    for &stmt in stmts {
        unsettled_reads_in(stmt, &settled, src, out);
        settled.extend(definitely_bound(stmt, src));
    }
}

fn unsettled_reads_in<'t>(
    node: Node<'t>,
    settled: &HashSet<String>,
    src: &str,
    out: &mut Vec<(String, Node<'t>)>,
) {
    let mut push = |reads: Vec<(String, Node<'t>)>, settled: &HashSet<String>| {
        for (name, n) in reads {
            if !settled.contains(&name) && !out.iter().any(|(o, _)| *o == name) {
                out.push((name, n));
            }
        }
    };
    /// The parts of compound statements that hold a header and (or) a block.
    const CLAUSES: &[&str] = &[
        "elif_clause",
        "else_clause",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "with_clause",
        "with_item",
    ];
    let kind = node.kind();
    let compound = matches!(
        kind,
        "with_statement" | "for_statement" | "while_statement" | "if_statement" | "try_statement"
    );
    match kind {
        _ if compound || CLAUSES.contains(&kind) => {
            // Headers first (their targets bind for what follows), then each block with what
            // is settled by then.
            let mut inner = settled.clone();
            let mut children = named_children(node);
            // `for x in f(x):` reads the iterable before the target is bound.
            if kind == "for_statement" {
                children.sort_by_key(|c| !is_field(node, "right", *c));
            }
            for child in children {
                match child.kind() {
                    "block" => {
                        let mut out_block = Vec::new();
                        unsettled_reads(&statements(child), &inner, src, &mut out_block);
                        push(out_block, &HashSet::new());
                    }
                    k if CLAUSES.contains(&k) => {
                        let mut out_clause = Vec::new();
                        unsettled_reads_in(child, &inner, src, &mut out_clause);
                        push(out_clause, &HashSet::new());
                        if child.kind() == "with_clause" || child.kind() == "with_item" {
                            inner.extend(
                                crate::parse::syntax::descendants(child)
                                    .into_iter()
                                    .filter(|n| n.kind() == "as_pattern_target")
                                    .flat_map(|t| identifiers(t, src).into_iter().map(|(n, _)| n)),
                            );
                        }
                    }
                    _ => {
                        push(reads(child, src), &inner);
                        let binds_here = (node.kind() == "for_statement"
                            && is_field(node, "left", child))
                            || child.kind() == "as_pattern_target";
                        if binds_here {
                            inner.extend(identifiers(child, src).into_iter().map(|(n, _)| n));
                        }
                        // `except E as e:` binds `e` for the clause body.
                        for target in crate::parse::syntax::descendants(child)
                            .into_iter()
                            .filter(|n| n.kind() == "as_pattern_target")
                        {
                            inner.extend(identifiers(target, src).into_iter().map(|(n, _)| n));
                        }
                    }
                }
            }
        }
        _ => push(reads(node, src), settled),
    }
}

/// A dict, list or set display or comprehension, or a call making one (`dict()`,
/// `collections.defaultdict(list)`, …).
fn is_mutable_container(value: Node, src: &str) -> bool {
    const MAKERS: &[&str] = &[
        "dict",
        "list",
        "set",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "deque",
    ];
    match value.kind() {
        "dictionary"
        | "list"
        | "set"
        | "dictionary_comprehension"
        | "list_comprehension"
        | "set_comprehension" => true,
        "call" => value.child_by_field_name("function").is_some_and(|f| {
            let name = match f.kind() {
                "attribute" => f.child_by_field_name("attribute"),
                "identifier" => Some(f),
                _ => None,
            };
            name.is_some_and(|n| MAKERS.contains(&text(n, src)))
        }),
        _ => false,
    }
}

/// Whether the region sets `name` and then still runs a call (which may raise) — or sets it
/// in a loop, which runs its calls again after.
fn set_before_a_call(stmts: &[Node], name: &str, src: &str) -> bool {
    let mut last_binding: Option<Node> = None;
    for s in stmts {
        for ident in variable_identifiers_in(*s) {
            let bound = is_binding_target(ident)
                || ident.parent().is_some_and(|p| {
                    p.kind() == "augmented_assignment" && is_field(p, "left", ident)
                });
            if bound && text(ident, src) == name {
                last_binding = Some(ident);
            }
        }
    }
    let Some(binding) = last_binding else {
        return false;
    };
    if enclosing_loop(binding).is_some_and(|l| stmts.iter().any(|s| within(l, *s))) {
        return true;
    }
    // An assignment binds once its value is computed: its own calls come before.
    let mut set_at = binding.end_byte();
    let mut up = binding.parent();
    while let Some(n) = up {
        if matches!(n.kind(), "assignment" | "augmented_assignment") {
            set_at = n.end_byte();
            break;
        }
        if n.kind() == "block" {
            break;
        }
        up = n.parent();
    }
    stmts
        .iter()
        .flat_map(|s| calls_in(*s))
        .any(|c| c.start_byte() >= set_at)
}

fn variable_identifiers_in(node: Node) -> Vec<Node> {
    crate::parse::syntax::variable_identifiers(node, &[])
}

/// Names bound by a statement on every path through it (plain statements and `with` bodies).
fn definitely_bound(stmt: Node, src: &str) -> HashSet<String> {
    match stmt.kind() {
        "with_statement" => {
            let mut out = HashSet::new();
            for alias in crate::parse::syntax::descendants(stmt) {
                if alias.kind() == "as_pattern_target" {
                    out.extend(identifiers(alias, src).into_iter().map(|(n, _)| n));
                }
            }
            if let Some(body) = stmt.child_by_field_name("body") {
                for s in statements(body) {
                    out.extend(definitely_bound(s, src));
                }
            }
            out
        }
        "expression_statement" | "import_statement" | "import_from_statement" => {
            names_bound_in(stmt, src)
        }
        "function_definition" | "class_definition" | "decorated_definition" => {
            names_bound_in(stmt, src)
        }
        _ => HashSet::new(),
    }
}

/// The identifiers that bind a name in the function whose body this is: assignment, loop,
/// `with`/`except` and import targets, and the names of nested functions and classes (whose
/// bodies, like lambdas and comprehensions, bind in scopes of their own).
fn binding_identifiers(body: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "function_definition" | "class_definition" => {
                out.extend(n.child_by_field_name("name"));
                continue;
            }
            "lambda" => continue,
            k if crate::parse::syntax::is_comprehension(k) => continue,
            "identifier" => {
                if is_binding_target(n) {
                    out.push(n);
                }
                continue;
            }
            _ => {}
        }
        stack.extend(children(n));
    }
    out
}

fn is_default_value_part(node: Node, params: Node) -> bool {
    let mut current = node;
    while let Some(parent) = current.parent() {
        if parent.id() == params.id() {
            return false;
        }
        if matches!(
            parent.kind(),
            "default_parameter" | "typed_default_parameter"
        ) && (is_field(parent, "value", current) || is_field(parent, "type", current))
        {
            return true;
        }
        if parent.kind() == "typed_parameter" && is_field(parent, "type", current) {
            return true;
        }
        current = parent;
    }
    false
}

/// The `(target, value)` of every assignment under `node` (nested functions excluded).
fn assignments(node: Node) -> Vec<(Node, Node)> {
    crate::parse::syntax::descendants(node)
        .into_iter()
        .filter(|n| n.kind() == "assignment")
        .filter_map(|n| {
            Some((
                n.child_by_field_name("left")?,
                n.child_by_field_name("right")?,
            ))
        })
        .collect()
}

fn calls_in(node: Node) -> Vec<Node> {
    crate::parse::syntax::descendants(node)
        .into_iter()
        .filter(|n| n.kind() == "call")
        .collect()
}

/// `await`, `yield`, `async for`/`async with` (outside nested functions).
fn has_async_parts(node: Node) -> bool {
    crate::parse::syntax::descendants(node)
        .into_iter()
        .any(|n| match n.kind() {
            "await" | "yield" => true,
            "for_statement" | "with_statement" | "for_in_clause" => {
                crate::parse::syntax::has_async_keyword(n)
            }
            _ => false,
        })
}

/// The loop a `break`/`continue` belongs to; a loop's `else:` clause belongs to the loop around it.
fn enclosing_loop(node: Node) -> Option<Node> {
    let mut current = node;
    while let Some(parent) = current.parent() {
        match parent.kind() {
            "for_statement" | "while_statement" if !is_field(parent, "alternative", current) => {
                return Some(parent);
            }
            "function_definition" | "class_definition" | "lambda" => return None,
            _ => current = parent,
        }
    }
    None
}

/// Identifier nodes that name variables (not attribute or keyword-argument names), in order.
fn identifiers<'t>(node: Node<'t>, src: &str) -> Vec<(String, Node<'t>)> {
    crate::parse::syntax::variable_identifiers(node, &[])
        .into_iter()
        .map(|n| (text(n, src).to_string(), n))
        .collect()
}

/// Identifiers read in a statement, in source order (binding targets excluded, except the
/// target of an augmented assignment, which is read too).
fn reads<'t>(node: Node<'t>, src: &str) -> Vec<(String, Node<'t>)> {
    identifiers(node, src)
        .into_iter()
        .filter(|(_, n)| !is_binding_target(*n))
        .collect()
}

/// The region's lines with `base` indentation swapped for `indent`; lines inside multi-line
/// strings are kept as they are.
fn reindent(
    src: &str,
    stmts: &[Node],
    start: usize,
    end: usize,
    base: &str,
    indent: &str,
    newline: &str,
) -> String {
    let mut protected: HashSet<usize> = HashSet::new();
    for s in stmts {
        for n in crate::parse::syntax::descendants(*s) {
            if n.kind() == "string" && n.end_position().row > n.start_position().row {
                protected.extend(n.start_position().row + 1..=n.end_position().row);
            }
        }
    }
    let first_row = stmts.first().map_or(0, |s| s.start_position().row);
    let mut out = String::new();
    let region = &src[start..end];
    for (offset, line) in region.split_inclusive('\n').enumerate() {
        let row = first_row + offset;
        let content = line.trim_end_matches(['\r', '\n']);
        if protected.contains(&row) {
            out.push_str(line);
            continue;
        }
        if content.trim().is_empty() {
            out.push_str(newline);
            continue;
        }
        // CPython restarts the column count at a form feed: what follows the last one is
        // the indentation that counts.
        let indent_len = content.len() - content.trim_start_matches([' ', '\t', '\x0c']).len();
        let content = match content[..indent_len].rfind('\x0c') {
            Some(at) => &content[at + 1..],
            None => content,
        };
        match content.strip_prefix(base) {
            Some(rest) => {
                out.push_str(indent);
                out.push_str(rest);
            }
            None => out.push_str(content),
        }
        out.push_str(newline);
    }
    out
}

/// The helper name for an async function: `_load_sync` for `load`, also for `_load` and
/// `__aenter__` (never dunder-shaped, never name-mangled in a class); for a function named
/// only with underscores (`async def _(event):`, common for bot handlers) the line tells
/// handlers apart: `_handler_sync_L120`.
fn helper_base_name(function: &str, line: usize) -> String {
    let core = function.trim_matches('_');
    if core.is_empty() {
        format!("_handler_sync_L{line}")
    } else {
        format!("_{core}_sync")
    }
}

/// `base`, or `base_2`, `base_3`, … : the first that the module does not use and that no
/// other helper of this round took.
fn unique_name(src: &str, base: &str, taken: &HashSet<String>) -> String {
    let used = |candidate: &str| {
        taken.contains(candidate)
            || src.match_indices(candidate).any(|(i, _)| {
                let after = src[i + candidate.len()..].chars().next();
                let before = src[..i].chars().next_back();
                !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
    };
    crate::parse::syntax::first_free(base, "_", used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_names_are_readable_and_never_dunder_shaped() {
        assert_eq!(helper_base_name("load", 3), "_load_sync");
        assert_eq!(helper_base_name("_load", 3), "_load_sync");
        assert_eq!(helper_base_name("__aenter__", 3), "_aenter_sync");
        assert_eq!(helper_base_name("_", 120), "_handler_sync_L120");
        assert_eq!(helper_base_name("__", 7), "_handler_sync_L7");
    }

    #[test]
    fn unique_names_skip_the_module_and_this_round() {
        let taken: HashSet<String> = ["_a_sync_2".to_string()].into_iter().collect();
        assert_eq!(unique_name("x = _a_sync\n", "_a_sync", &taken), "_a_sync_3");
        assert_eq!(
            unique_name("x = _a_syncs\n", "_a_sync", &HashSet::new()),
            "_a_sync"
        );
    }
}
