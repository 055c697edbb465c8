//! The native rewrites: a blocking call replaced by the async API that does the same thing.

pub mod files;
pub mod http;
pub mod paths;
pub mod subprocess;

/// The third-party libraries a native fix may bring in.
pub const NATIVE_LIBRARIES: &[&str] = &["aiofiles", "httpx"];
