//! unblock: find blocking I/O in Python `async def` functions and rewrite it so the event loop
//! never stalls.
//!
//! The pipeline, one module (or folder) per stage: [`discover`] files (with their [`config`]
//! and project) → [`read`] and decode → [`parse`] → [`resolve`] names and scopes → [`find`]
//! blocking calls (with the [`catalog`], rule selectors, suppression) → [`fix`] (plan each finding's
//! rewrite: thread, sleep, helper, the native rewrites; edits and imports) → [`verify`] the
//! result → [`write`](mod@write) files / [`report`] findings and diffs
//! ([`noqa`] adds suppression comments for `check --add-noqa`). [`engine`] runs one
//! file through it, within its [`budget`]; [`runtime`] names the async runtimes; [`cli`]
//! drives many.

pub mod budget;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod discover;
pub mod engine;
pub mod find;
pub mod fix;
pub mod index;
pub mod noqa;
pub mod parse;
pub mod read;
pub mod report;
pub mod resolve;
pub mod runtime;
pub mod verify;
pub mod write;
