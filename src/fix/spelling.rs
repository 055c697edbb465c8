//! How the runtime's names are spelled in a module (`asyncio.to_thread`, an alias, the
//! project's offload call, `run_in_executor` for Python 3.8), and the offload call for a place.

use tree_sitter::Node;

use crate::fix::model::*;
use crate::resolve::Resolver;

/// How the fixes spell the runtime's functions in this file, and which imports each needs.
#[derive(Debug, Clone)]
pub struct Spelling {
    pub runtime: Runtime,
    pub(crate) to_thread: Named,
    pub(crate) sleep: Named,
    pub(crate) partial: Named,
    /// The project's own offload call (`hass.async_add_executor_job`), if configured.
    pub(crate) project_offload: Option<String>,
    /// Python 3.8 on asyncio: no `asyncio.to_thread` (3.9+), the loop's default executor.
    pub(crate) executor: bool,
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
pub(crate) struct Named {
    pub(crate) text: String,
    pub(crate) needs: Option<&'static str>,
    /// The module and the path inside it (`asyncio`, `to_thread`), to respell it under an
    /// alias where a local hides the name.
    pub(crate) module: &'static str,
    pub(crate) member: String,
}

impl Named {
    /// The spelling to use at `at`: as is when its first name means the module there;
    /// otherwise through an alias import (`import asyncio as _asyncio` → `_asyncio.to_thread`)
    /// when a parameter or local of that name hides it. `None` when the alias is taken too.
    pub(crate) fn at<'t>(&self, resolver: &Resolver<'t>, at: Node<'t>) -> Option<Named> {
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
pub(crate) fn alias_import(module: &str) -> Option<(&'static str, &'static str)> {
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
        let module = runtime.module();
        let to_thread_path = if executor {
            "get_running_loop().run_in_executor"
        } else {
            runtime.offload_path()
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
pub(crate) fn self_with_attribute(src: &str, function: Node, attribute: &str) -> Option<String> {
    let receiver = crate::parse::syntax::first_parameter_name(function, src)?;
    let class = crate::parse::syntax::class_of_method(function)?;
    let needle = format!("{receiver}.{attribute}");
    let body = crate::parse::syntax::text(class, src);
    let used = body.match_indices(&needle).any(|(i, _)| {
        let after = body[i + needle.len()..].chars().next();
        !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    });
    used.then(|| receiver.to_string())
}
