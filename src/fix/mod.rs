//! Fix planning: for each finding, the rewrite it gets (native, thread, helper) or `manual`
//! with the reason, and the edits that make it.
//!
//! The forms:
//! - sleep: `time.sleep(x)` → `await asyncio.sleep(x)`;
//! - thread: `f(a, k=v)` → `await asyncio.to_thread(f, a, k=v)`; a method passes the bound
//!   method; parentheses where the call's value is used as a primary (`(await …).json()`);
//!   anyio/trio `run_sync` takes keyword arguments through `functools.partial`;
//! - a call inside a generator expression offloads the call that consumes the generator, since
//!   `await` cannot go inside one.

pub mod edits;
pub mod helper;
pub mod imports;
pub mod native;

use serde::Serialize;
use tree_sitter::Node;

use crate::find::catalog::{Catalog, EntryFix, Scope};
use crate::find::{Finding, Matched};
use crate::fix::edits::{Edit, Fix};
use crate::parse::syntax::{
    is_field, named_children, needs_parentheses, text, unparenthesize, within,
};
use crate::resolve::Resolver;

/// The kind of fix a finding gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum FixKind {
    Native,
    Thread,
    Helper,
    Manual,
}

impl FixKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::Native => "native",
            FixKind::Thread => "thread",
            FixKind::Helper => "helper",
            FixKind::Manual => "manual",
        }
    }
}

/// The async library a file runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Asyncio,
    Anyio,
    Trio,
}

/// How to offload work: the default (`auto`) or only with the standard library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    #[default]
    Auto,
    Thread,
}

/// How the fixes spell the runtime's functions in this file, and which imports each needs.
#[derive(Debug, Clone)]
pub struct Spelling {
    pub runtime: Runtime,
    to_thread: Named,
    sleep: Named,
    partial: Named,
    /// The project's own offload call (`hass.async_add_executor_job`), if configured.
    project_offload: Option<String>,
    /// Python 3.8 on asyncio: no `asyncio.to_thread` (3.9+), the loop's default executor.
    executor: bool,
}

/// The offload call used in one function.
#[derive(Debug, Clone)]
pub struct Offload {
    pub text: String,
    pub needs: Vec<&'static str>,
    /// Written before the callable, inside the call (`None, ` for `run_in_executor`).
    pub leading: &'static str,
    /// Takes no keyword arguments for the callable: they go through `functools.partial`.
    pub positional_only: bool,
    /// Said on the finding when the fix is not the one configured.
    pub note: Option<String>,
}

/// A runtime (or `functools`) function as this module spells it.
#[derive(Debug, Clone)]
struct Named {
    text: String,
    needs: Option<&'static str>,
    /// The module and the path inside it (`asyncio`, `to_thread`), to respell it under an
    /// alias where a local hides the name.
    module: &'static str,
    member: String,
}

impl Named {
    /// The spelling to use at `at`: as is when its first name means the module there;
    /// otherwise through an alias import (`import asyncio as _asyncio` → `_asyncio.to_thread`)
    /// when a parameter or local of that name hides it. `None` when the alias is taken too.
    fn at<'t>(&self, resolver: &Resolver<'t>, at: Node<'t>) -> Option<Named> {
        let root = self.text.split('.').next().unwrap_or(&self.text);
        let usable = match self.needs {
            // To be imported at module level: nothing may bind the name on the way there.
            Some(_) => resolver.binding_scope(root, at).is_none(),
            None => resolver.is_module_level(root, at),
        };
        if usable {
            return Some(self.clone());
        }
        let (alias, import) = alias_import(self.module)?;
        let needs = if resolver.is_module_level(alias, at) {
            None
        } else if resolver.binding_scope(alias, at).is_none() {
            Some(import)
        } else {
            return None;
        };
        Some(Named {
            text: format!("{alias}.{}", self.member),
            needs,
            module: self.module,
            member: self.member.clone(),
        })
    }
}

/// How to name `module` at `at`: an import of it that the place sees, else its plain name to
/// be imported, else an alias import (`import asyncio as _asyncio`) where a local hides the
/// name; `None` when every spelling is taken. The second part is the import the fix needs.
pub fn module_at<'t>(
    resolver: &Resolver<'t>,
    module: &'static str,
    at: Node<'t>,
) -> Option<(String, Option<&'static str>)> {
    if let Some(alias) = resolver.module_alias_for(module)
        && resolver.is_module_level(&alias, at)
    {
        return Some((alias, None));
    }
    if !resolver.module_binds(module) && resolver.binding_scope(module, at).is_none() {
        return Some((module.to_string(), Some(module)));
    }
    let (alias, import) = alias_import(module)?;
    if resolver.imports_as(module, alias) && resolver.is_module_level(alias, at) {
        return Some((alias.to_string(), None));
    }
    if resolver.binding_scope(alias, at).is_none() {
        return Some((alias.to_string(), Some(import)));
    }
    None
}

/// The alias a fix imports a module under where its own name is taken.
fn alias_import(module: &str) -> Option<(&'static str, &'static str)> {
    Some(match module {
        "asyncio" => ("_asyncio", "asyncio as _asyncio"),
        "anyio" => ("_anyio", "anyio as _anyio"),
        "trio" => ("_trio", "trio as _trio"),
        "functools" => ("_functools", "functools as _functools"),
        _ => return None,
    })
}

impl Spelling {
    /// Reuses the module's imports (`import asyncio as aio` → `aio.to_thread`, `from asyncio
    /// import to_thread` → `to_thread`); otherwise the plain module name, to be imported.
    pub fn for_module(
        resolver: &Resolver,
        runtime: Option<Runtime>,
        project_offload: Option<&str>,
        target: Option<crate::config::project::PythonVersion>,
    ) -> Spelling {
        // anyio runs on asyncio and trio alike, so it wins when used; trio only when asyncio is
        // not used too (a module pre-importing trio is still an asyncio program).
        let runtime = runtime.unwrap_or_else(|| {
            if resolver.uses_module("anyio") {
                Runtime::Anyio
            } else if resolver.uses_module("trio") && !resolver.uses_module("asyncio") {
                Runtime::Trio
            } else {
                Runtime::Asyncio
            }
        });
        let executor = runtime == Runtime::Asyncio && target.is_some_and(|t| t < (3, 9));
        let (module, to_thread_path) = match runtime {
            Runtime::Asyncio if executor => ("asyncio", "get_running_loop().run_in_executor"),
            Runtime::Asyncio => ("asyncio", "to_thread"),
            Runtime::Anyio => ("anyio", "to_thread.run_sync"),
            Runtime::Trio => ("trio", "to_thread.run_sync"),
        };
        let name = |module: &'static str, member: &str| -> Named {
            let full = format!("{module}.{member}");
            if let Some(alias) = resolver.module_alias_for(module) {
                return Named {
                    text: format!("{alias}.{member}"),
                    needs: None,
                    module,
                    member: member.to_string(),
                };
            }
            // `from asyncio import to_thread`, `from anyio import to_thread` (→ `to_thread.run_sync`)
            let (head, rest) = member.split_once('.').map_or((member, ""), |(h, r)| (h, r));
            if let Some(alias) = resolver.module_alias_for(&format!("{module}.{head}")) {
                let text = if rest.is_empty() {
                    alias
                } else {
                    format!("{alias}.{rest}")
                };
                return Named {
                    text,
                    needs: None,
                    module,
                    member: member.to_string(),
                };
            }
            Named {
                text: full,
                needs: Some(module),
                module,
                member: member.to_string(),
            }
        };
        Spelling {
            runtime,
            to_thread: name(module, to_thread_path),
            sleep: name(module, "sleep"),
            partial: name("functools", "partial"),
            project_offload: project_offload.map(str::to_string),
            executor,
        }
    }

    /// Whether no project offload call is configured (a project that routes blocking work
    /// through its own call keeps subprocesses in that form too).
    pub fn uses_runtime_offload(&self) -> bool {
        self.project_offload.is_none()
    }

    /// The offload call for code at `at` in `function`: the project's own (`offload` setting)
    /// when its receiver is in scope there (`hass` bound in the function, or `self.hass` used in
    /// its class), else the runtime's.
    pub fn offload_in<'t>(
        &self,
        resolver: &Resolver<'t>,
        function: Node<'t>,
        at: Node<'t>,
    ) -> Offload {
        let to_thread = self
            .to_thread
            .at(resolver, at)
            .unwrap_or_else(|| self.to_thread.clone());
        let runtime = Offload {
            text: to_thread.text,
            needs: to_thread.needs.into_iter().collect(),
            leading: if self.executor { "None, " } else { "" },
            positional_only: self.runtime != Runtime::Asyncio || self.executor,
            note: None,
        };
        let Some(spec) = &self.project_offload else {
            return runtime;
        };
        let root = spec.split('.').next().unwrap_or(spec);
        if resolver.is_bound(root, at) {
            return Offload {
                text: spec.clone(),
                needs: Vec::new(),
                leading: "",
                positional_only: true,
                note: None,
            };
        }
        if let Some(receiver) = self_with_attribute(resolver.src(), function, root) {
            return Offload {
                text: format!("{receiver}.{spec}"),
                needs: Vec::new(),
                leading: "",
                positional_only: true,
                note: None,
            };
        }
        Offload {
            note: Some(format!(
                "`{root}` is not in scope here, so `{}` is used instead of `{spec}`",
                runtime.text
            )),
            ..runtime
        }
    }
}

/// For a method whose class uses `self.<attribute>`: the name of `self`.
fn self_with_attribute(src: &str, function: Node, attribute: &str) -> Option<String> {
    let params = function.child_by_field_name("parameters")?;
    let first = *named_children(params).first()?;
    let receiver = match first.kind() {
        "identifier" => crate::parse::syntax::text(first, src),
        "typed_parameter" => crate::parse::syntax::text(*named_children(first).first()?, src),
        _ => return None,
    };
    let mut up = function.parent()?;
    if up.kind() == "decorated_definition" {
        up = up.parent()?;
    }
    let class = up
        .parent()
        .filter(|c| up.kind() == "block" && c.kind() == "class_definition")?;
    let needle = format!("{receiver}.{attribute}");
    let body = crate::parse::syntax::text(class, src);
    let used = body.match_indices(&needle).any(|(i, _)| {
        let after = body[i + needle.len()..].chars().next();
        !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    });
    used.then(|| receiver.to_string())
}

/// A finding with its planned fix.
#[derive(Debug, Clone)]
pub struct Planned<'t> {
    pub finding: Finding<'t>,
    pub kind: FixKind,
    pub reason: Option<String>,
    pub fix: Option<Fix>,
    /// Something the reviewer should know about the fix (an offload call not in scope).
    pub note: Option<String>,
    /// The finding would get a native fix with `--unsafe-fixes` (the httpx swap).
    pub unsafe_native: bool,
}

impl Planned<'_> {
    /// Takes `fix` as a fix of this `kind`; a manual reason it had no longer applies.
    pub fn take_fix(&mut self, kind: FixKind, fix: Fix) {
        self.kind = kind;
        self.reason = None;
        self.fix = Some(fix);
    }
}

/// Gives `fix` to every finding `covers` accepts: the findings one rewrite handles together.
pub fn give_where<'t>(
    planned: &mut [Planned<'t>],
    covers: impl Fn(&Planned<'t>) -> bool,
    kind: FixKind,
    fix: &Fix,
) {
    for p in planned.iter_mut().filter(|p| covers(p)) {
        p.take_fix(kind, fix.clone());
    }
}

/// Gives `fix` to the findings at exactly these nodes.
pub fn give_to_nodes<'t>(
    planned: &mut [Planned<'t>],
    nodes: &[Node<'t>],
    kind: FixKind,
    fix: &Fix,
) {
    give_where(
        planned,
        |p| nodes.iter().any(|n| n.id() == p.finding.node.id()),
        kind,
        fix,
    );
}

/// The third-party libraries a native fix may bring in.
pub const NATIVE_LIBRARIES: &[&str] = &["aiofiles", "httpx"];

/// What the fixes of one file may use.
#[derive(Debug, Clone)]
pub struct Allowed {
    pub strategy: Strategy,
    /// Unsafe fixes too (the httpx swap).
    pub unsafe_fixes: bool,
    /// The third-party libraries of [`NATIVE_LIBRARIES`] the project declares, the file
    /// imports, or the configuration allows (`native`).
    pub libraries: Vec<&'static str>,
}

impl Allowed {
    pub fn library(&self, name: &str) -> bool {
        self.libraries.contains(&name)
    }
}

pub fn plan<'t>(
    findings: Vec<Finding<'t>>,
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    spelling: &Spelling,
    allowed: &Allowed,
) -> Vec<Planned<'t>> {
    let planned: Vec<Planned<'t>> = findings
        .into_iter()
        .map(|finding| {
            crate::budget::tick();
            let offload = spelling.offload_in(resolver, finding.function_node, finding.node);
            let decision = decide(&finding, catalog, spelling, &offload, resolver);
            let (kind, reason, fix) = match decision {
                Ok((kind, fix)) => (kind, None, Some(fix)),
                Err(reason) => (FixKind::Manual, Some(reason), None),
            };
            let note = offload.note.filter(|_| kind == FixKind::Thread);
            Planned {
                finding,
                kind,
                reason,
                fix,
                note,
                unsafe_native: false,
            }
        })
        .collect();
    // The passes below look at one function's findings at a time (chains, generator
    // expressions, `with` blocks, pipes, sessions, statements never span two functions), so
    // they run per function: their cost follows the size of a function, not of the file.
    let mut by_function: Vec<Vec<(usize, Planned<'t>)>> = Vec::new();
    let mut group_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (index, p) in planned.into_iter().enumerate() {
        let g = *group_of
            .entry(p.finding.function_node.id())
            .or_insert_with(|| {
                by_function.push(Vec::new());
                by_function.len() - 1
            });
        by_function[g].push((index, p));
    }
    let mut indexed: Vec<(usize, Planned<'t>)> = Vec::new();
    for group in by_function {
        let (indices, mut part): (Vec<usize>, Vec<Planned<'t>>) = group.into_iter().unzip();
        plan_function(&mut part, resolver, catalog, spelling, allowed);
        indexed.extend(indices.into_iter().zip(part));
    }
    indexed.sort_by_key(|(index, _)| *index);
    let mut planned: Vec<Planned<'t>> = indexed.into_iter().map(|(_, p)| p).collect();
    crate::fix::helper::extract_helpers(&mut planned, resolver, spelling);
    planned
}

/// The rewrites that look at the findings of one function together: chains, generator
/// expressions, native files, subprocesses, HTTP and paths, and temporaries for awaits in
/// read-modify-write statements.
fn plan_function<'t>(
    planned: &mut [Planned<'t>],
    resolver: &Resolver<'t>,
    catalog: &Catalog,
    spelling: &Spelling,
    allowed: &Allowed,
) {
    group_chains(planned, resolver, catalog, spelling);
    // A generator expression is offloaded whole or not at all.
    let blocked: Vec<usize> = planned
        .iter()
        .filter(|p| p.kind == FixKind::Manual)
        .filter_map(|p| p.finding.genexp.map(|g| g.id()))
        .collect();
    for p in planned.iter_mut() {
        if p.kind != FixKind::Manual && p.finding.genexp.is_some_and(|g| blocked.contains(&g.id()))
        {
            p.kind = FixKind::Manual;
            p.fix = None;
            p.reason = Some(
                "shares a generator expression with a call that cannot be offloaded".to_string(),
            );
        }
    }
    // Native file I/O first (aiofiles on asyncio when the project has it, the runtime's own
    // files on anyio and trio; `--strategy thread` uses none of them); helpers take what is
    // left.
    if allowed.strategy == Strategy::Auto {
        if spelling.runtime != Runtime::Asyncio || allowed.library("aiofiles") {
            let opener =
                crate::fix::native::files::FileOpener::for_runtime(resolver, spelling.runtime);
            crate::fix::native::files::use_async_files(planned, resolver, &opener);
        }
        if spelling.runtime == Runtime::Asyncio && spelling.uses_runtime_offload() {
            crate::fix::native::subprocess::use_async_subprocesses(planned, resolver);
            // requests and httpx differ in ways no local analysis rules out (the user agent,
            // JSON body spacing, a query in the URL beside `params=`): an unsafe fix.
            if allowed.unsafe_fixes && allowed.library("httpx") {
                crate::fix::native::http::use_async_http(planned, resolver);
                crate::fix::native::http::use_async_sessions(planned, resolver);
            }
        }
        if spelling.runtime != Runtime::Asyncio && spelling.uses_runtime_offload() {
            use_async_paths(planned, resolver, spelling);
            crate::fix::native::subprocess::use_run_process(planned, resolver, spelling.runtime);
        }
    }
    await_into_temporaries(planned, resolver);
}

/// `TOTAL += await f()` reads `TOTAL` before the await and writes it after: a task that
/// updates it meanwhile loses its update. Where a fix puts an `await` in a statement that
/// reads shared state it also assigns (an augmented assignment, or `self.n = self.n + …`, to an
/// attribute, a subscript, or a global/nonlocal name), the awaited call goes into a temporary
/// on the line before: `size = await …` then `TOTAL += size`. Where it cannot move there
/// unchanged (a branch, a comprehension, a call that runs before it), the finding is manual.
fn await_into_temporaries<'t>(planned: &mut [Planned<'t>], resolver: &Resolver<'t>) {
    let src = resolver.src();
    for i in 0..planned.len() {
        if !matches!(planned[i].kind, FixKind::Thread | FixKind::Native) {
            continue;
        }
        let Some(fix) = planned[i].fix.clone() else {
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
            .filter(|p| p.fix.as_ref() != Some(&fix) && within(p.finding.node, statement))
            .count();
        let same = |p: &Planned<'t>| p.fix.as_ref() == Some(&fix);
        match hoisted {
            Some(new_fix) if others == 0 => give_where(planned, same, planned[i].kind, &new_fix),
            _ => {
                for p in planned.iter_mut().filter(|p| same(p)) {
                    p.kind = FixKind::Manual;
                    p.fix = None;
                    p.reason = Some(format!(
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
fn hoist<'t>(
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
    let shifted: Vec<Edit> = fix
        .edits
        .iter()
        .map(|e| {
            Edit::replace(
                e.start - cover.start_byte(),
                e.end - cover.start_byte(),
                e.text.clone(),
            )
        })
        .collect();
    let mut sorted: Vec<&Edit> = shifted.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut value = crate::fix::edits::splice(text(cover, src), &sorted);
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
    })
}

/// `pathlib.Path` methods whose anyio/trio `Path` counterparts return the same thing (not the
/// ones that return a new path, which would be an async `Path` instead).
const ASYNC_PATH_METHODS: &[&str] = &[
    "exists",
    "is_dir",
    "is_file",
    "is_symlink",
    "is_mount",
    "is_socket",
    "is_fifo",
    "is_block_device",
    "is_char_device",
    "stat",
    "lstat",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "mkdir",
    "rmdir",
    "unlink",
    "touch",
    "chmod",
    "symlink_to",
    "hardlink_to",
    "samefile",
    "owner",
    "group",
];

/// Under anyio or trio, `p.read_text()` → `await anyio.Path(p).read_text()` (`trio.Path`).
fn use_async_paths<'t>(planned: &mut [Planned<'t>], resolver: &Resolver<'t>, spelling: &Spelling) {
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
        if p.kind != FixKind::Thread || p.finding.genexp.is_some() {
            continue;
        }
        let Some(method) = p.finding.call.strip_prefix("pathlib.Path.") else {
            continue;
        };
        if !ASYNC_PATH_METHODS.contains(&method) {
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
            },
        );
    }
}

/// A blocking call whose receiver holds another blocking call (`Path(p).resolve().exists()`)
/// is one blocking expression: it is offloaded whole, as `lambda: <chain>`, and the calls inside
/// share that fix. Offloading the parts separately would leave the outer call on the loop.
fn group_chains<'t>(
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
        if planned[i].kind == FixKind::Manual {
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
            .any(|&j| planned[j].kind == FixKind::Manual && !chainable(&planned[j]))
        {
            planned[i].kind = FixKind::Manual;
            planned[i].fix = None;
            planned[i].reason =
                Some("chained onto a blocking call that cannot be offloaded".to_string());
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
fn lambda_fix(call: Node, offload: &Offload) -> Fix {
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
    }
}

fn decide<'t>(
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
fn value_is_used(call: Node) -> bool {
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

fn is_with_item(call: Node) -> bool {
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
fn consumer_of(genexp: Node) -> Option<(Node, bool)> {
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

fn sleep_fix<'t>(call: Node<'t>, spelling: &Spelling, resolver: &Resolver<'t>) -> Option<Fix> {
    let callee = call.child_by_field_name("function")?;
    let sleep = spelling
        .sleep
        .at(resolver, call)
        .unwrap_or_else(|| spelling.sleep.clone());
    let parens = needs_parentheses(call);
    // The call starts with its callee: one replacement adds `await` and respells it.
    let head = if parens { "(await " } else { "await " };
    let mut edits = vec![Edit::replace(
        callee.start_byte(),
        callee.end_byte(),
        format!("{head}{}", sleep.text),
    )];
    if parens {
        edits.push(Edit::insert(call.end_byte(), ")"));
    }
    Some(Fix {
        edits,
        needs: sleep.needs.into_iter().collect(),
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
enum ArgsMode {
    /// `f(a, b)`
    List,
    /// `f(x for x in y)`: the generator is passed on as one parenthesized argument.
    GeneratorArgument,
}

fn thread_fix<'t>(
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
    Some(Fix { edits, needs })
}
