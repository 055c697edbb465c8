//! The async runtimes a file may run on: the module each is imported as, and the call that
//! runs a sync callable in a worker thread. The finder reads them (a call already offloaded is
//! no finding) as the fixes do (to write one). Also which calls are tied to the loop's thread
//! ([`thread_tie`]), which helpers and the project index both respect.

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

/// Why a call must run on the thread that runs the event loop (so no fix may move it to a
/// worker thread), as far as its name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadTie {
    /// It reads the exception being handled (`traceback.print_exc()`, `logger.exception(...)`):
    /// that belongs to the thread handling it, a worker thread has none.
    HandledException,
    /// It belongs to the event loop: anything of `asyncio`/`anyio`/`trio`, or a loop method on
    /// a value the resolver cannot name (`loop.call_soon(...)`, `fut.set_result(...)`).
    EventLoop,
    /// A method name event-loop objects share with plain containers (`event.set()`,
    /// `cache.clear()`): tied only where caution costs little.
    Ambiguous,
    /// A sync `async_*` callable: by Home Assistant's convention it runs on the loop.
    LoopCallback,
}

/// Calls that read the exception being handled (and `.exception(...)`, by its method name).
const HANDLED_EXCEPTION_CALLS: &[&str] = &[
    "traceback.print_exc",
    "traceback.format_exc",
    "sys.exc_info",
    "sys.exception",
    "logging.exception",
];

/// Method names of values bound to the event loop (loops, futures, tasks, asyncio queues).
const LOOP_METHODS: &[&str] = &[
    "put_nowait",
    "get_nowait",
    "set_result",
    "set_exception",
    "add_done_callback",
    "call_soon",
    "call_later",
    "call_at",
    "create_task",
    "ensure_future",
    "run_until_complete",
    "get_event_loop",
    "get_running_loop",
];

/// Loop-bound method names that plain containers have too (`asyncio.Event.set`, `dict.clear`).
const AMBIGUOUS_METHODS: &[&str] = &["set", "clear", "notify", "notify_all"];

/// How a call is tied to the loop's thread, from its qualified name (when the resolver knows
/// it) and the last name it is called by (`call_soon` in `loop.call_soon(...)`).
pub fn thread_tie(qualified: Option<&str>, name: Option<&str>) -> Option<ThreadTie> {
    if name == Some("exception") || qualified.is_some_and(|q| HANDLED_EXCEPTION_CALLS.contains(&q))
    {
        return Some(ThreadTie::HandledException);
    }
    if name.is_some_and(|n| n.starts_with("async_")) {
        return Some(ThreadTie::LoopCallback);
    }
    match (qualified, name) {
        (Some(q), _) => Runtime::ALL
            .iter()
            .any(|r| q.starts_with(r.module()) && q[r.module().len()..].starts_with('.'))
            .then_some(ThreadTie::EventLoop),
        (None, Some(n)) if LOOP_METHODS.contains(&n) => Some(ThreadTie::EventLoop),
        (None, Some(n)) if AMBIGUOUS_METHODS.contains(&n) => Some(ThreadTie::Ambiguous),
        _ => None,
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

    #[test]
    fn calls_tied_to_the_loop_thread() {
        let tie = |q: Option<&str>, n: &str| thread_tie(q, Some(n));
        assert_eq!(
            tie(Some("traceback.print_exc"), "print_exc"),
            Some(ThreadTie::HandledException)
        );
        assert_eq!(tie(None, "exception"), Some(ThreadTie::HandledException));
        assert_eq!(
            tie(Some("asyncio.get_event_loop"), "get_event_loop"),
            Some(ThreadTie::EventLoop)
        );
        assert_eq!(tie(None, "call_soon"), Some(ThreadTie::EventLoop));
        assert_eq!(tie(None, "clear"), Some(ThreadTie::Ambiguous));
        assert_eq!(
            tie(None, "async_write_ha_state"),
            Some(ThreadTie::LoopCallback)
        );
        // A name the resolver knows is judged by its module, not its method name.
        assert_eq!(tie(Some("os.path.exists"), "exists"), None);
        assert_eq!(tie(Some("asyncio_helpers.run"), "run"), None);
        assert_eq!(tie(Some("collections.OrderedDict.clear"), "clear"), None);
    }
}
