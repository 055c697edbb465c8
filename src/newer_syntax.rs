//! Python syntax newer than the tree-sitter grammar, made parseable without forking it.
//!
//! PEP 696 type-parameter defaults (`class ConfigEntry[_DataT = Any]:`, Python 3.13) are
//! unknown to tree-sitter-python 0.25. When a file does not parse, each `= default` inside the
//! type-parameter brackets of a `class`, `def` or `type` statement is blanked to spaces of the
//! same byte length (newlines kept), so that every offset, line and column stays true; the
//! analysis runs on that text. A rewrite is carried back to the real text line by line, and
//! refused if it would move or drop a line that held a blanked default.

use similar::{ChangeTag, TextDiff};

/// The text with every type-parameter default blanked, and the blanked byte ranges; `None`
/// when there is nothing to blank.
pub fn blank_type_parameter_defaults(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    let mut at = 0;
    while let Some(open) = next_type_parameters(text, at) {
        let mut depth = 0usize;
        let mut i = open;
        let mut default_start: Option<usize> = None;
        while i < bytes.len() {
            match bytes[i] {
                b'[' | b'(' | b'{' => depth += 1,
                b']' | b')' | b'}' => {
                    if depth == 1
                        && let Some(start) = default_start.take()
                    {
                        ranges.push((start, i));
                    }
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                b',' if depth == 1 => {
                    if let Some(start) = default_start.take() {
                        ranges.push((start, i));
                    }
                }
                b'=' if depth == 1 && default_start.is_none() => default_start = Some(i),
                b'\'' | b'"' => return None,
                _ => {}
            }
            i += 1;
        }
        at = i.max(open + 1);
    }
    if ranges.is_empty() {
        return None;
    }
    let mut out = text.as_bytes().to_vec();
    for &(start, end) in &ranges {
        for b in &mut out[start..end] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    // Blanking only replaces ASCII bytes of whole characters or whole multi-byte sequences
    // inside the ranges, so the result is UTF-8 again; refuse rather than trust it otherwise.
    let blanked = String::from_utf8(out).ok()?;
    Some((blanked, ranges))
}

/// The offset of the `[` opening the type parameters of the next `class NAME[`, `def NAME[`
/// or `type NAME[` at or after `from` (one pass over the text).
fn next_type_parameters(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    while at < bytes.len() {
        let keyword = [b"class ".as_slice(), b"def ", b"type "]
            .into_iter()
            .find(|k| bytes[at..].starts_with(k));
        let Some(keyword) = keyword else {
            at += 1;
            continue;
        };
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after_keyword = at + keyword.len();
        at = after_keyword;
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b >= 0x80)
        {
            continue;
        }
        let name_len = bytes[after_keyword..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b >= 0x80)
            .count();
        if name_len > 0 && bytes.get(after_keyword + name_len) == Some(&b'[') {
            return Some(after_keyword + name_len);
        }
    }
    None
}

/// Carries a rewrite of the blanked text back to the real text: unchanged lines are taken
/// from `original`, changed ones from `rewritten`. `None` when a changed line held a blanked
/// default (the rewrite would lose it).
pub fn restore(
    original: &str,
    blanked: &str,
    ranges: &[(usize, usize)],
    rewritten: &str,
) -> Option<String> {
    let original_lines: Vec<&str> = original.split_inclusive('\n').collect();
    let mut line_starts = Vec::with_capacity(original_lines.len());
    let mut offset = 0;
    for line in &original_lines {
        line_starts.push(offset);
        offset += line.len();
    }
    let touches_blank = |index: usize| {
        let start = line_starts[index];
        let end = start + original_lines[index].len();
        ranges.iter().any(|&(s, e)| s < end && start < e)
    };
    let diff = TextDiff::from_lines(blanked, rewritten);
    let mut out = String::with_capacity(rewritten.len());
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => {
                let index = change.old_index()?;
                out.push_str(original_lines.get(index)?);
            }
            ChangeTag::Delete => {
                if touches_blank(change.old_index()?) {
                    return None;
                }
            }
            ChangeTag::Insert => out.push_str(change.value()),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_defaults_keeping_every_offset() {
        let text = "class Entry[T = Any, *Ts = *tuple[int, ...]]:\n    pass\ndef f[T: int = int](x: T) -> T: ...\n";
        let (blanked, ranges) = blank_type_parameter_defaults(text).expect("blanked");
        assert_eq!(blanked.len(), text.len());
        assert_eq!(
            blanked,
            "class Entry[T      , *Ts                   ]:\n    pass\ndef f[T: int      ](x: T) -> T: ...\n"
        );
        assert_eq!(ranges.len(), 3);
        assert!(
            crate::syntax::first_error(&crate::syntax::parse(&blanked).expect("tree")).is_none()
        );
    }

    #[test]
    fn leaves_other_brackets_alone() {
        assert!(blank_type_parameter_defaults("x = d[k == 1]\nclass A(B[C]): pass\n").is_none());
        assert!(blank_type_parameter_defaults("subclass[x = 1]\n").is_none());
    }

    #[test]
    fn restores_the_real_text_around_a_rewrite() {
        let original = "class A[T = int]:\n    x = 1\nasync def f():\n    time.sleep(1)\n";
        let (blanked, ranges) = blank_type_parameter_defaults(original).expect("blanked");
        let rewritten = blanked.replace("time.sleep(1)", "await asyncio.sleep(1)");
        assert_eq!(
            restore(original, &blanked, &ranges, &rewritten).as_deref(),
            Some("class A[T = int]:\n    x = 1\nasync def f():\n    await asyncio.sleep(1)\n")
        );
        let moved = rewritten.replace("class A[T      ]:\n", "");
        assert_eq!(restore(original, &blanked, &ranges, &moved), None);
    }
}
