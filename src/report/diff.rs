//! Unified diffs of fixed files, with git-style `a/`/`b/` headers so that `git apply` and
//! `patch -p1` take the output as is. Emitted in the file's own encoding (and BOM), so the
//! context lines match the bytes on disk.

use crate::engine::Fixed;
use crate::read::{Source, encode};

pub fn unified(display_path: &str, fixed: &Fixed) -> Vec<u8> {
    let bom = if fixed.source.bom { "\u{feff}" } else { "" };
    let old = format!("{bom}{}", fixed.source.text);
    let new = format!("{bom}{}", fixed.after);
    let diff = similar::TextDiff::from_lines(&old, &new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{display_path}"), &format!("b/{display_path}"))
        .to_string();
    let plain = Source {
        bom: false,
        ..fixed.source.clone()
    };
    encode(&plain, &text)
}
