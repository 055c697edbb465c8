//! unblock: find blocking I/O in Python `async def` functions and rewrite it so the event loop
//! never stalls.
//!
//! The pipeline, one module per stage: [`discover`] files → [`source`] read/decode →
//! [`syntax`] parse (with [`newer_syntax`]) → [`resolve`] names and scopes → [`find`] blocking calls → [`plan`] fixes
//! (with [`native_files`], [`native_http`], [`native_subprocess`] and [`extract`]) → [`edits`]
//! apply (with [`imports`]) → [`verify`] →
//! [`report`] / [`diff`] / [`write`](mod@write).
//! [`engine`] runs one file through it; [`cli`] drives many.

pub mod budget;
pub mod catalog;
pub mod cli;
pub mod diff;
pub mod discover;
pub mod edits;
pub mod engine;
pub mod extract;
pub mod find;
pub mod imports;
pub mod native_files;
pub mod native_http;
pub mod native_subprocess;
pub mod newer_syntax;
pub mod output;
pub mod plan;
pub mod project;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod selector;
pub mod settings;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod verify;
pub mod write;
