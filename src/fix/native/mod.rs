//! The native rewrites: a blocking call replaced by the async API that does the same thing.

pub mod files;
pub mod http;
pub mod subprocess;
