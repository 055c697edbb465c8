//! Python syntax the tree-sitter grammar does not know, made parseable without forking it.
//!
//! PEP 696 type-parameter defaults (`class ConfigEntry[_DataT = Any]:`, Python 3.13) are
//! unknown to tree-sitter-python 0.25. When a file does not parse, each `= default` inside the
//! type-parameter brackets of a `class`, `def` or `type` statement is blanked to spaces of the
//! same byte length (newlines kept), so that every offset, line and column stays true; the
//! analysis runs on that text. Likewise the `*` of `yield a, b, *c` / `return a, *b`
//! (unparenthesized starred items, Python 3.8). A rewrite is carried back to the real text line
//! by line, and refused if it would move or drop a line that held a blanked part.

use similar::{ChangeTag, TextDiff};

/// The text with what the grammar does not know blanked (type-parameter defaults, and the
/// `*` of an unparenthesized starred item after `yield`/`return`), and the blanked byte
/// ranges; `None` when there is nothing to blank.
pub fn blank_newer_syntax(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let (mut out, mut ranges) = match blank_type_parameter_defaults(text) {
        Some((blanked, ranges)) => (blanked, ranges),
        None => (text.to_string(), Vec::new()),
    };
    let stars = starred_after_yield_or_return(&out);
    if !stars.is_empty() {
        let mut bytes = out.into_bytes();
        for &(start, end) in &stars {
            bytes[start..end].fill(b' ');
        }
        out = String::from_utf8(bytes).ok()?;
        ranges.extend(stars);
        ranges.sort_unstable();
    }
    (!ranges.is_empty()).then_some((out, ranges))
}

/// `yield a, b, *c` and `return a, *b` (Python 3.8): the `*` of each starred item that
/// follows a comma at the top level of the statement's expression list.
fn starred_after_yield_or_return(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(bytes.len(), |i| line_start + i);
        let line = &text[line_start..line_end];
        let trimmed = line.trim_start();
        let keyword = ["yield ", "return "]
            .into_iter()
            .find(|k| trimmed.starts_with(k));
        if let Some(keyword) = keyword {
            let mut i = line_start + (line.len() - trimmed.len()) + keyword.len();
            let mut depth = 0usize;
            let mut after_comma = false;
            while i < line_end {
                match bytes[i] {
                    b'\'' | b'"' | b'#' => break,
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    b',' if depth == 0 => after_comma = true,
                    b'*' if depth == 0
                        && after_comma
                        && bytes.get(i + 1).is_some_and(|b| *b != b'*') =>
                    {
                        out.push((i, i + 1));
                        after_comma = false;
                    }
                    b' ' | b'\t' => {}
                    _ => after_comma = false,
                }
                i += 1;
            }
        }
        line_start = line_end + 1;
    }
    out
}

/// The text with every type-parameter default blanked, and the blanked byte ranges; `None`
/// when there is nothing to blank.
fn blank_type_parameter_defaults(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
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
        let (blanked, ranges) = blank_newer_syntax(text).expect("blanked");
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
    fn blanks_the_star_of_a_starred_item_after_yield_and_return() {
        let text = "async def f(h):\n    yield None, h, *[1 for _ in h]\n    return a, *b\n";
        let (blanked, ranges) = blank_newer_syntax(text).expect("blanked");
        assert_eq!(
            blanked,
            "async def f(h):\n    yield None, h,  [1 for _ in h]\n    return a,  b\n"
        );
        assert_eq!(ranges.len(), 2);
        assert!(blank_newer_syntax("def f():\n    return a * b, f(*c), d ** 2\n").is_none());
    }

    #[test]
    fn leaves_other_brackets_alone() {
        assert!(blank_newer_syntax("x = d[k == 1]\nclass A(B[C]): pass\n").is_none());
        assert!(blank_newer_syntax("subclass[x = 1]\n").is_none());
    }

    #[test]
    fn restores_the_real_text_around_a_rewrite() {
        let original = "class A[T = int]:\n    x = 1\nasync def f():\n    time.sleep(1)\n";
        let (blanked, ranges) = blank_newer_syntax(original).expect("blanked");
        let rewritten = blanked.replace("time.sleep(1)", "await asyncio.sleep(1)");
        assert_eq!(
            restore(original, &blanked, &ranges, &rewritten).as_deref(),
            Some("class A[T = int]:\n    x = 1\nasync def f():\n    await asyncio.sleep(1)\n")
        );
        let moved = rewritten.replace("class A[T      ]:\n", "");
        assert_eq!(restore(original, &blanked, &ranges, &moved), None);
    }
}
