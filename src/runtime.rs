//! The async runtimes a file may run on: the module each is imported as, and the call that
//! runs a sync callable in a worker thread. The finder reads them (a call already offloaded is
//! no finding) as the fixes do (to write one).

/// The async library a file runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Asyncio,
    Anyio,
    Trio,
}

impl Runtime {
    pub const ALL: [Runtime; 3] = [Runtime::Asyncio, Runtime::Anyio, Runtime::Trio];

    /// The module the runtime is imported as.
    pub fn module(self) -> &'static str {
        match self {
            Runtime::Asyncio => "asyncio",
            Runtime::Anyio => "anyio",
            Runtime::Trio => "trio",
        }
    }

    /// Whether it comes from PyPI rather than the standard library.
    pub fn is_third_party(self) -> bool {
        self != Runtime::Asyncio
    }

    /// The path of its thread-offload function inside the module (`to_thread`,
    /// `to_thread.run_sync`).
    pub fn offload_path(self) -> &'static str {
        match self {
            Runtime::Asyncio => "to_thread",
            Runtime::Anyio | Runtime::Trio => "to_thread.run_sync",
        }
    }

    /// Whether a qualified name is a runtime's thread-offload function.
    pub fn is_offload_call(qualified: &str) -> bool {
        Runtime::ALL.iter().any(|r| {
            qualified
                .strip_prefix(r.module())
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(r.offload_path())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offload_calls_are_named_by_the_runtimes() {
        for q in [
            "asyncio.to_thread",
            "anyio.to_thread.run_sync",
            "trio.to_thread.run_sync",
        ] {
            assert!(Runtime::is_offload_call(q), "{q}");
        }
        assert!(!Runtime::is_offload_call("asyncio.sleep"));
        assert!(!Runtime::is_offload_call("asyncio.to_thread.x"));
    }
}
