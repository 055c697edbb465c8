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
pub mod model;
pub mod native;
pub mod spelling;
pub mod temporaries;
pub mod thread;

use crate::catalog::Catalog;
use crate::find::Finding;
use crate::resolve::Resolver;

pub use model::{
    Allowed, FixKind, Planned, Resolution, Runtime, Strategy, give_to_nodes, give_where,
};
pub use native::NATIVE_LIBRARIES;
pub use spelling::{Offload, Spelling, module_at};

use crate::fix::temporaries::*;
use crate::fix::thread::*;

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
            let resolution = match decision {
                Ok((kind, fix)) => Resolution::Fixed { kind, fix },
                Err(reason) => Resolution::Manual { reason },
            };
            let note = offload.note.filter(|_| {
                matches!(
                    resolution,
                    Resolution::Fixed {
                        kind: FixKind::Thread,
                        ..
                    }
                )
            });
            Planned {
                finding,
                resolution,
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
        .filter(|p| p.kind() == FixKind::Manual)
        .filter_map(|p| p.finding.genexp.map(|g| g.id()))
        .collect();
    for p in planned.iter_mut() {
        if p.kind() != FixKind::Manual
            && p.finding.genexp.is_some_and(|g| blocked.contains(&g.id()))
        {
            p.make_manual(
                "shares a generator expression with a call that cannot be offloaded".to_string(),
            );
        }
    }
    // The native rewrites, where the table allows them; helpers take what is left.
    native::apply_all(planned, resolver, spelling, allowed);
    await_into_temporaries(planned, resolver);
}
