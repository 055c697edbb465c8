//! The native rewrites: a blocking call replaced by the async API that does the same thing.
//! Each lives in its own file behind [`NativeRewrite`]; [`TABLE`] says, in one place and in
//! the order they run, where each applies: the runtimes, the library it imports (which the
//! project must have), whether it is safe, and whether a project offload call rules it out.
//! Catalog entries name the rewrite that takes them (`native = "async-files"`); the names are
//! checked against this table when the catalog loads.

pub mod files;
pub mod http;
pub mod paths;
pub mod run_process;
pub mod subprocess;

pub use crate::fix::edits::Applicability;
use crate::fix::model::{Allowed, Planned, Runtime, Strategy};
use crate::fix::spelling::Spelling;
use crate::resolve::Resolver;

/// One native rewrite: gives the findings it can rewrite exactly their native fix (and leaves
/// the others as they are).
pub trait NativeRewrite: Sync {
    fn apply<'t>(&self, planned: &mut [Planned<'t>], resolver: &Resolver<'t>, spelling: &Spelling);
}

/// A row of the table: a rewrite and where it applies.
pub struct Native {
    /// The name catalog entries use.
    pub name: &'static str,
    pub runtimes: &'static [Runtime],
    /// The third-party library the rewrite imports.
    pub library: Option<&'static str>,
    pub applicability: Applicability,
    /// Not where the project routes blocking work through its own offload call.
    pub needs_runtime_offload: bool,
    pub rewrite: &'static dyn NativeRewrite,
}

const ASYNCIO: &[Runtime] = &[Runtime::Asyncio];
const ANYIO_TRIO: &[Runtime] = &[Runtime::Anyio, Runtime::Trio];

/// Every native rewrite, in the order they run (`--strategy thread` runs none).
pub const TABLE: &[Native] = &[
    Native {
        name: files::NAME,
        runtimes: ASYNCIO,
        library: Some("aiofiles"),
        applicability: Applicability::Safe,
        needs_runtime_offload: false,
        rewrite: &files::AsyncFiles,
    },
    Native {
        name: files::NAME,
        runtimes: ANYIO_TRIO,
        library: None,
        applicability: Applicability::Safe,
        needs_runtime_offload: false,
        rewrite: &files::AsyncFiles,
    },
    Native {
        name: subprocess::ASYNCIO_NAME,
        runtimes: ASYNCIO,
        library: None,
        applicability: Applicability::Safe,
        needs_runtime_offload: true,
        rewrite: &subprocess::AsyncioSubprocess,
    },
    Native {
        name: http::NAME,
        runtimes: ASYNCIO,
        library: Some("httpx"),
        applicability: Applicability::Unsafe,
        needs_runtime_offload: true,
        rewrite: &http::HttpxRequests,
    },
    Native {
        name: http::NAME,
        runtimes: ASYNCIO,
        library: Some("httpx"),
        applicability: Applicability::Unsafe,
        needs_runtime_offload: true,
        rewrite: &http::HttpxSessions,
    },
    Native {
        name: paths::NAME,
        runtimes: ANYIO_TRIO,
        library: None,
        applicability: Applicability::Safe,
        needs_runtime_offload: true,
        rewrite: &paths::RuntimePaths,
    },
    Native {
        name: run_process::NAME,
        runtimes: ANYIO_TRIO,
        library: None,
        applicability: Applicability::Safe,
        needs_runtime_offload: true,
        rewrite: &run_process::RunProcess,
    },
];

/// The third-party libraries a native rewrite may bring in.
pub const NATIVE_LIBRARIES: &[&str] = &["aiofiles", "httpx"];

/// Whether a catalog entry may name this rewrite.
pub fn is_known(name: &str) -> bool {
    TABLE.iter().any(|n| n.name == name)
}

impl Native {
    /// Whether this row runs for a file with this runtime and these allowances; with
    /// `with_unsafe`, as if `--unsafe-fixes` were given.
    pub fn applies(&self, spelling: &Spelling, allowed: &Allowed, with_unsafe: bool) -> bool {
        allowed.strategy == Strategy::Auto
            && self.runtimes.contains(&spelling.runtime)
            && self.library.is_none_or(|l| allowed.library(l))
            && (self.applicability == Applicability::Safe || allowed.unsafe_fixes || with_unsafe)
            && (!self.needs_runtime_offload || spelling.uses_runtime_offload())
    }
}

/// Runs every native rewrite that applies, in table order.
pub fn apply_all<'t>(
    planned: &mut [Planned<'t>],
    resolver: &Resolver<'t>,
    spelling: &Spelling,
    allowed: &Allowed,
) {
    for native in TABLE.iter().filter(|n| n.applies(spelling, allowed, false)) {
        native.rewrite.apply(planned, resolver, spelling);
    }
}

/// Whether `--unsafe-fixes` would run a rewrite that does not run now on one of these calls
/// (qualified names, `requests.get` or `requests.Session.get`): only then is the file worth
/// planning a second time to say so.
pub fn unsafe_would_apply<'c>(
    spelling: &Spelling,
    allowed: &Allowed,
    catalog: &crate::catalog::Catalog,
    mut calls: impl Iterator<Item = &'c str>,
) -> bool {
    let names: Vec<&str> = TABLE
        .iter()
        .filter(|n| {
            n.applicability == Applicability::Unsafe
                && !n.applies(spelling, allowed, false)
                && n.applies(spelling, allowed, true)
        })
        .map(|n| n.name)
        .collect();
    !names.is_empty()
        && calls.any(|call| catalog.native_of(call).is_some_and(|n| names.contains(&n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_has_its_rows_and_libraries_are_known() {
        for runtime in Runtime::ALL {
            assert!(TABLE.iter().any(|n| n.runtimes.contains(&runtime)));
        }
        for n in TABLE {
            if let Some(lib) = n.library {
                assert!(NATIVE_LIBRARIES.contains(&lib), "{lib}");
            }
        }
        assert!(is_known("async-files") && is_known("httpx") && !is_known("nope"));
    }

    #[test]
    fn the_catalog_names_only_rewrites_of_the_table_and_each_rewrite_has_entries() {
        let catalog = crate::catalog::Catalog::builtin().expect("catalog");
        assert!(catalog.check_native_names(is_known).is_ok());
        assert_eq!(catalog.native_of_call("open"), Some(files::NAME));
        assert_eq!(catalog.native_of_call("codecs.open"), None);
        assert_eq!(catalog.native_of_call("requests.get"), Some(http::NAME));
        assert_eq!(catalog.native_of_method("requests.Session", "send"), None);
        assert_eq!(
            catalog.native_of_method("pathlib.Path", "exists"),
            Some(paths::NAME)
        );
        assert_eq!(catalog.native_of_method("pathlib.Path", "resolve"), None);
        assert!(catalog.check_native_names(|n| n != http::NAME).is_err());
    }
}
