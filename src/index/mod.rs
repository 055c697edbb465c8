//! The project index (UNB180): which sync functions and methods of the first-party code
//! block, directly (a catalog call) or through further sync calls, computed to a fixed point
//! over the call graph of every file summarised in the run, with the chain that shows it.
//!
//! First-party code is the files the run walks, plus any module they import that is found
//! under the folders their top-level packages sit in, or under the project root or its `src/`
//! (so checking one file still sees the modules it imports). Everything else (the standard
//! library, installed packages) is the catalog's business.

pub mod build;
pub mod modules;
pub mod summary;

use std::collections::HashMap;

use summary::{FileFacts, Site};

/// Why a project call blocks, for the finding's message and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The functions from the one called down to the one that blocks (`load → _read`).
    pub chain: Vec<String>,
    /// The catalog call that blocks at the end of the chain (`open`).
    pub call: String,
    /// Where it is: `app/config.py:12`.
    pub location: String,
    /// Why offloading the call alone does not help (a generator: the loop over it must move).
    pub manual: Option<String>,
    /// Why the call must stay on the event loop's thread, when it must.
    pub pinned: Option<String>,
}

impl Verdict {
    /// `load → _read → open (app/config.py:12)`.
    pub fn describe(&self) -> String {
        format!(
            "{} → {} ({})",
            self.chain.join(" → "),
            self.call,
            self.location
        )
    }
}

/// How a function blocks: at one of its own calls, or through a project function.
#[derive(Debug, Clone)]
enum Via {
    Blocking { call: String, line: usize },
    Calls(usize),
}

#[derive(Debug)]
struct Function {
    file: usize,
    name: String,
    sites: Vec<Site>,
    generator: bool,
    loop_bound: Option<String>,
    returns: Option<String>,
}

/// The index of a run.
#[derive(Default, Debug)]
pub struct ProjectIndex {
    files: Vec<String>,
    functions: Vec<Function>,
    by_key: HashMap<String, usize>,
    bases: HashMap<String, Vec<String>>,
    aliases: HashMap<String, String>,
    blocks: Vec<Option<Via>>,
    /// Why each function must stay on the loop's thread (its own reason or a callee's).
    bound: Vec<Option<String>>,
}

/// How deep aliases and base classes are followed.
const MAX_DEPTH: usize = 16;

impl ProjectIndex {
    /// The index of these files' facts.
    pub fn build(facts: Vec<FileFacts>) -> ProjectIndex {
        let mut index = ProjectIndex::default();
        for file in facts {
            let file_id = index.files.len();
            index.files.push(file.file);
            for f in file.functions {
                index.by_key.insert(f.key, index.functions.len());
                index.functions.push(Function {
                    file: file_id,
                    name: f.name,
                    sites: f.sites,
                    generator: f.generator,
                    loop_bound: f.loop_bound,
                    returns: f.returns,
                });
            }
            for c in file.classes {
                index.bases.insert(c.key, c.bases);
            }
            for (alias, target) in file.aliases {
                if alias != target {
                    index.aliases.insert(alias, target);
                }
            }
        }
        index.solve();
        index
    }

    /// Whether the index knows any function at all.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The function a key names, through re-exports, classes (`Class(...)` runs
    /// `Class.__init__`) and inherited methods.
    fn function(&self, key: &str) -> Option<usize> {
        self.function_at(key, 0)
    }

    fn function_at(&self, key: &str, depth: usize) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        if let Some(&id) = self.by_key.get(key) {
            return Some(id);
        }
        if let Some(target) = self.aliases.get(key) {
            return self.function_at(target, depth + 1);
        }
        if self.bases.contains_key(key) {
            return self.method(key, "__init__", depth + 1);
        }
        let (owner, name) = key.rsplit_once('.')?;
        if let Some(target) = self.aliases.get(owner) {
            return self.function_at(&format!("{target}.{name}"), depth + 1);
        }
        if self.bases.contains_key(owner) {
            return self.method(owner, name, depth + 1);
        }
        None
    }

    /// A method of a class or of its first-party bases, in order.
    fn method(&self, class: &str, name: &str, depth: usize) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        let class = self.aliases.get(class).map_or(class, String::as_str);
        if let Some(&id) = self.by_key.get(&format!("{class}.{name}")) {
            return Some(id);
        }
        self.bases
            .get(class)?
            .iter()
            .find_map(|base| self.method(base, name, depth + 1))
    }

    /// Blocking, to a fixed point: first the functions with a blocking call of their own, then
    /// those calling one of them, and so on, so each function's chain is a shortest one (the
    /// first such call in its body). Cycles end by themselves: a function is decided once.
    fn solve(&mut self) {
        let callees: Vec<Vec<Option<usize>>> = self
            .functions
            .iter()
            .map(|f| {
                f.sites
                    .iter()
                    .map(|s| match s {
                        Site::Project { key, .. } => self.function(key),
                        Site::Blocking { .. } => None,
                    })
                    .collect()
            })
            .collect();
        let mut blocks: Vec<Option<Via>> = self
            .functions
            .iter()
            .map(|f| {
                f.sites.iter().find_map(|s| match s {
                    Site::Blocking { call, line } => Some(Via::Blocking {
                        call: call.clone(),
                        line: *line,
                    }),
                    Site::Project { .. } => None,
                })
            })
            .collect();
        loop {
            let mut next = blocks.clone();
            for (id, calls) in callees.iter().enumerate() {
                if blocks[id].is_some() {
                    continue;
                }
                next[id] = calls
                    .iter()
                    .find_map(|c| c.filter(|c| blocks[*c].is_some()).map(Via::Calls));
            }
            let changed = next
                .iter()
                .zip(&blocks)
                .any(|(a, b)| a.is_some() != b.is_some());
            blocks = next;
            if !changed {
                break;
            }
        }
        let mut bound: Vec<Option<String>> = self
            .functions
            .iter()
            .map(|f| f.loop_bound.clone())
            .collect();
        loop {
            let mut changed = false;
            for (id, calls) in callees.iter().enumerate() {
                if bound[id].is_some() {
                    continue;
                }
                if let Some(reason) = calls.iter().flatten().find_map(|c| bound[*c].clone()) {
                    bound[id] = Some(reason);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        self.blocks = blocks;
        self.bound = bound;
    }

    /// The tracked type a call of `key` returns (`open_log(p)` returns the file it opens),
    /// for a function that blocks.
    pub fn returns(&self, key: &str) -> Option<String> {
        let id = self.function(key)?;
        self.blocks.get(id)?.as_ref()?;
        self.functions[id].returns.clone()
    }

    /// Whether calling `key` blocks (what [`Self::verdict`] says, without building it).
    pub fn blocks(&self, key: &str) -> bool {
        self.function(key)
            .is_some_and(|id| self.blocks.get(id).is_some_and(Option::is_some))
    }

    /// Whether calling `key` blocks, and how.
    pub fn verdict(&self, key: &str) -> Option<Verdict> {
        let first = self.function(key)?;
        self.blocks.get(first)?.as_ref()?;
        let mut chain = Vec::new();
        let mut id = first;
        loop {
            let f = &self.functions[id];
            chain.push(f.name.clone());
            match self.blocks.get(id)?.as_ref()? {
                Via::Calls(next) => id = *next,
                Via::Blocking { call, line } => {
                    let f = &self.functions[first];
                    let manual = f.generator.then(|| {
                        format!(
                            "`{}` is a generator: calling it runs nothing, iterating it blocks, so the loop that consumes it must move to a thread",
                            f.name
                        )
                    });
                    let pinned = self.bound[first]
                        .clone()
                        .map(|why| format!("{why}: offloading it to a thread is not safe"));
                    return Some(Verdict {
                        chain,
                        call: call.clone(),
                        location: format!("{}:{line}", self.files[self.functions[id].file]),
                        manual,
                        pinned,
                    });
                }
            }
            if chain.len() > self.functions.len() {
                return None;
            }
        }
    }

    /// The modules (as candidate dotted prefixes) a set of facts calls into: for `a.b.c`,
    /// `a.b` and `a` (and `a.b.c` itself, a module imported as a whole and called never, but
    /// cheap to try).
    pub fn candidate_modules<'k>(keys: impl Iterator<Item = &'k str>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for key in keys {
            let mut prefix = key;
            while let Some((head, _)) = prefix.rsplit_once('.') {
                out.push(head.to_string());
                prefix = head;
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::summary::{ClassFacts, FunctionFacts};
    use super::*;

    fn function(key: &str, sites: Vec<Site>) -> FunctionFacts {
        FunctionFacts {
            key: key.to_string(),
            name: key.rsplit('.').next().unwrap_or(key).to_string(),
            sites,
            generator: false,
            loop_bound: None,
            returns: None,
        }
    }

    fn calls(key: &str) -> Site {
        Site::Project {
            key: key.to_string(),
            line: 1,
        }
    }

    #[test]
    fn blocking_travels_up_the_call_graph_and_cycles_end() {
        let facts = FileFacts {
            file: "app/m.py".to_string(),
            functions: vec![
                function("app.m.a", vec![calls("app.m.b")]),
                function("app.m.b", vec![calls("app.m.a"), calls("app.m.c")]),
                function(
                    "app.m.c",
                    vec![Site::Blocking {
                        call: "open".to_string(),
                        line: 7,
                    }],
                ),
                function("app.m.d", vec![calls("app.m.d"), calls("app.m.e")]),
            ],
            ..FileFacts::default()
        };
        let index = ProjectIndex::build(vec![facts]);
        let verdict = index.verdict("app.m.a").unwrap();
        assert_eq!(verdict.describe(), "a → b → c → open (app/m.py:7)");
        assert!(index.verdict("app.m.d").is_none());
        assert!(index.verdict("app.m.nothing").is_none());
    }

    #[test]
    fn classes_run_their_init_and_inherit_methods() {
        let base = FileFacts {
            file: "app/base.py".to_string(),
            functions: vec![function(
                "app.base.Base.__init__",
                vec![Site::Blocking {
                    call: "time.sleep".to_string(),
                    line: 3,
                }],
            )],
            classes: vec![ClassFacts {
                key: "app.base.Base".to_string(),
                bases: vec![],
            }],
            ..FileFacts::default()
        };
        let child = FileFacts {
            file: "app/child.py".to_string(),
            classes: vec![ClassFacts {
                key: "app.child.Child".to_string(),
                bases: vec!["app.Base".to_string()],
            }],
            aliases: vec![("app.Base".to_string(), "app.base.Base".to_string())],
            ..FileFacts::default()
        };
        let index = ProjectIndex::build(vec![base, child]);
        assert!(index.verdict("app.child.Child").is_some());
        assert!(index.verdict("app.Base").is_some());
        assert!(index.verdict("app.child.Child.other").is_none());
    }
}
