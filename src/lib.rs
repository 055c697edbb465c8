//! unblock: find blocking I/O in Python `async def` functions and rewrite it so the event loop
//! never stalls.
//!
//! The pipeline, one module per stage: [`discover`] files → [`source`] read/decode →
//! [`syntax`] parse → [`resolve`] names and scopes → [`find`] blocking calls → [`plan`] fixes
//! → [`edits`] apply (with [`imports`]) → [`verify`] → [`report`] / [`diff`] / [`write`].
//! [`engine`] runs one file through it; [`cli`] drives many.

pub mod catalog;
pub mod source;
pub mod syntax;
pub mod resolve;
