//! Python syntax the tree-sitter grammar does not know, made parseable without forking it.
//!
//! PEP 696 type-parameter defaults (`class ConfigEntry[_DataT = Any]:`, Python 3.13) are
//! unknown to tree-sitter-python 0.25. When a file does not parse, each `= default` inside the
//! type-parameter brackets of a `class`, `def` or `type` statement is blanked to spaces of the
//! same byte length (newlines kept), so that every offset, line and column stays true; the
//! analysis runs on that text. Likewise the `*` of `yield a, b, *c` / `return a, *b`
//! (unparenthesized starred items, Python 3.8). And a line inside brackets indented less than
//! the statement it continues, right after an operator (`(bar.` / `    baz)`): the grammar's
//! scanner closes the block there; its leading spaces become tabs (one byte each, eight
//! columns to the scanner), so the line is as deep as the block. A rewrite is carried back to
//! the real text line by line, and refused if it would move or drop a line that held a
//! changed part. And an annotation that starts with a subscripted name and goes on with an
//! operator (`a: Optional[int] or str`): its brackets are read as a call's parentheses.

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
    let shallow = shallow_continuation_indents(&out);
    let generics = operators_after_a_generic_annotation(&out);
    if !shallow.is_empty() || !generics.is_empty() {
        let mut bytes = out.into_bytes();
        for &(start, end) in &shallow {
            bytes[start..end].fill(b'\t');
        }
        for &(at, _) in &generics {
            bytes[at] = if bytes[at] == b'[' { b'(' } else { b')' };
        }
        out = String::from_utf8(bytes).ok()?;
        ranges.extend(shallow);
        ranges.extend(generics);
        ranges.sort_unstable();
    }
    (!ranges.is_empty()).then_some((out, ranges))
}

/// Columns as the grammar's scanner counts them: a space one, a tab eight.
fn scanner_columns(indent: &[u8]) -> usize {
    indent.iter().map(|&b| if b == b'\t' { 8 } else { 1 }).sum()
}

/// For each byte, whether it is code: not inside a string literal (triple-quoted too) or a
/// comment. A light lexer; string prefixes need no care since they are code.
fn code_mask(bytes: &[u8]) -> Vec<bool> {
    let mut mask = vec![true; bytes.len()];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    mask[i] = false;
                    i += 1;
                }
                continue;
            }
            b'\\' => i += 1, // An escaped newline (or stray byte) stays code.
            quote @ (b'\'' | b'"') => {
                let triple = bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
                let open = i;
                i += if triple { 3 } else { 1 };
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'\n' if !triple => break,
                        b if b == quote
                            && (!triple
                                || (bytes.get(i + 1) == Some(&quote)
                                    && bytes.get(i + 2) == Some(&quote))) =>
                        {
                            i += if triple { 3 } else { 1 };
                            break;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                let end = i.min(bytes.len());
                mask[open..end].fill(false);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    mask
}

/// The leading whitespace of each line that continues a bracketed expression at fewer columns
/// than the line that opened it, where tabs would make it deep enough (a line at column 0 has
/// nothing to widen). Brackets inside strings and comments do not count.
fn shallow_continuation_indents(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mask = code_mask(bytes);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut statement_columns = 0usize;
    let mut at_line_start = true;
    let mut i = 0;
    while i < bytes.len() {
        if at_line_start {
            at_line_start = false;
            let start = i;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            let has_code = i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r' | b'#');
            let columns = scanner_columns(&bytes[start..i]);
            if depth == 0 {
                if has_code {
                    statement_columns = columns;
                }
            } else if has_code
                && columns < statement_columns
                && i > start
                && 8 * (i - start) >= statement_columns
            {
                out.push((start, i));
            }
            continue;
        }
        if mask[i] {
            match bytes[i] {
                b'\n' => at_line_start = true,
                b'\\' => i += 1, // A backslash continuation: the next line goes on this one.
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    out
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

const STATEMENT_KEYWORDS: &[&str] = &[
    "if", "elif", "else", "for", "while", "with", "try", "except", "finally", "def", "class",
    "async", "lambda", "match", "case", "return", "yield", "assert", "del", "global", "nonlocal",
    "import", "from", "raise", "await", "not",
];

/// An annotation that starts with a subscripted name and goes on with an operator
/// (`a: Optional[int] or str`, `-> List[int] + X`): the grammar reads `Name[...]` there as a
/// generic type, after which no operator may follow. The brackets become parentheses (a call
/// reads the same names): the byte ranges of each `[` and its `]`. Annotations are the start
/// of a return annotation, of a parameter's annotation in a `def`, and of an annotated
/// assignment.
fn operators_after_a_generic_annotation(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mask = code_mask(bytes);
    let mut out = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut statement_start = 0usize;
    let mut at_line_start = true;
    for i in 0..bytes.len() {
        if !mask[i] {
            continue;
        }
        let b = bytes[i];
        if at_line_start && stack.is_empty() && !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            statement_start = i;
        }
        if !matches!(b, b' ' | b'\t') {
            at_line_start = b == b'\n' && (i == 0 || bytes[i - 1] != b'\\');
        }
        match b {
            b'(' | b'{' => stack.push(i),
            b')' | b'}' | b']' => {
                stack.pop();
            }
            b'[' => {
                if i > 0
                    && is_identifier_byte(bytes[i - 1])
                    && annotation_starts_at(bytes, i, &stack, statement_start)
                    && let Some(close) = matching_bracket(bytes, &mask, i)
                    && followed_by_an_operator(bytes, close + 1)
                {
                    out.push((i, i + 1));
                    out.push((close, close + 1));
                }
                stack.push(i);
            }
            _ => {}
        }
    }
    out
}

/// Whether the name ending just before `bracket` starts an annotation.
fn annotation_starts_at(bytes: &[u8], bracket: usize, stack: &[usize], statement: usize) -> bool {
    let mut start = bracket;
    while start > 0 && is_identifier_byte(bytes[start - 1]) {
        start -= 1;
    }
    if bytes[start].is_ascii_digit() {
        return false;
    }
    let mut p = start;
    while p > 0 && matches!(bytes[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    if p >= 2 && &bytes[p - 2..p] == b"->" {
        return true;
    }
    if p == 0 || bytes[p - 1] != b':' {
        return false;
    }
    let colon = p - 1;
    match stack.last() {
        // A parameter of a `def`: the bracket opens after `def name`.
        Some(&open) if bytes[open] == b'(' => {
            let between = &bytes[open..colon];
            if contains_word(between, b"lambda") {
                return false;
            }
            let mut q = open;
            while q > 0 && matches!(bytes[q - 1], b' ' | b'\t') {
                q -= 1;
            }
            let name_end = q;
            while q > 0 && is_identifier_byte(bytes[q - 1]) {
                q -= 1;
            }
            if q == name_end {
                return false;
            }
            let mut r = q;
            while r > 0 && matches!(bytes[r - 1], b' ' | b'\t') {
                r -= 1;
            }
            r < q && r >= 3 && &bytes[r - 3..r] == b"def"
        }
        Some(_) => false,
        // An annotated assignment: a statement that starts with no keyword.
        None => {
            let head = &bytes[statement..colon];
            let word_end = head
                .iter()
                .position(|&b| !is_identifier_byte(b))
                .unwrap_or(head.len());
            let word = &head[..word_end];
            !STATEMENT_KEYWORDS.iter().any(|k| k.as_bytes() == word)
                && !contains_word(head, b"lambda")
                && !head.contains(&b'=')
        }
    }
}

fn contains_word(haystack: &[u8], word: &[u8]) -> bool {
    haystack.windows(word.len()).enumerate().any(|(at, w)| {
        w == word
            && (at == 0 || !is_identifier_byte(haystack[at - 1]))
            && haystack
                .get(at + word.len())
                .is_none_or(|&b| !is_identifier_byte(b))
    })
}

/// The `]` that closes the `[` at `open`, counting only code.
fn matching_bracket(bytes: &[u8], mask: &[bool], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for i in open..bytes.len() {
        if !mask[i] {
            continue;
        }
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (bytes[i] == b']').then_some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether what follows `at` (past blanks) goes on with the expression rather than ending the
/// annotation (`,` `)` `=` `:` `|` a newline or a comment end it).
fn followed_by_an_operator(bytes: &[u8], at: usize) -> bool {
    let mut i = at;
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    match bytes.get(i) {
        None => false,
        Some(b'=') => bytes.get(i + 1) == Some(&b'='),
        Some(b) => !matches!(
            b,
            b',' | b')' | b']' | b'}' | b':' | b'|' | b'\n' | b'\r' | b'#' | b';' | b'\\'
        ),
    }
}

/// `yield a, b, *c` and `return a, *b` (Python 3.8): the `*` of each starred item that
/// follows a comma at the top level of the statement's expression list.
fn starred_after_yield_or_return(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mask = code_mask(bytes);
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
                if !mask[i] {
                    // A string is an item like any other; a comment ends the statement.
                    if bytes[i] == b'#' {
                        break;
                    }
                    after_comma = false;
                    i += 1;
                    continue;
                }
                match bytes[i] {
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

    fn parses(text: &str) -> bool {
        crate::parse::syntax::parse(text)
            .is_some_and(|tree| crate::parse::syntax::first_error(&tree).is_none())
    }

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
        assert!(parses(&blanked));
    }

    #[test]
    fn blanks_the_star_of_a_starred_item_after_yield_and_return() {
        let text = "async def f(h):\n    yield None, h, *[1 for _ in h]\n    return a, *b\n    yield \"x\", *h\n";
        let (blanked, ranges) = blank_newer_syntax(text).expect("blanked");
        assert_eq!(
            blanked,
            "async def f(h):\n    yield None, h,  [1 for _ in h]\n    return a,  b\n    yield \"x\",  h\n"
        );
        assert_eq!(ranges.len(), 3);
        assert!(blank_newer_syntax("def f():\n    return a * b, f(*c), d ** 2\n").is_none());
    }

    #[test]
    fn deepens_a_shallow_continuation_line_after_an_operator() {
        let text = "async def g():\n    def f():\n        (bar.\n    baz)\n        s = \"\"\"\n  x\n\"\"\"\n";
        assert!(!parses(text));
        let (blanked, ranges) = blank_newer_syntax(text).expect("blanked");
        assert_eq!(
            blanked,
            "async def g():\n    def f():\n        (bar.\n\t\t\t\tbaz)\n        s = \"\"\"\n  x\n\"\"\"\n"
        );
        assert_eq!(ranges.len(), 1);
        assert!(parses(&blanked));
        // At column 0 there is nothing to widen; deep enough lines and strings are left alone.
        assert!(blank_newer_syntax("async def g():\n    x = (a or\nb)\n").is_none());
        assert!(blank_newer_syntax("def g():\n    x = (a or\n         b)  # (\n").is_none());
    }

    #[test]
    fn reads_a_generic_annotation_followed_by_an_operator_as_a_call() {
        let text = "class A:\n    async def f(self, a: X[int] or\n  str = None, b: Y[1] + 2) -> Z[a] == 1:\n        c: D[int] or str = None\n        e = {k: E[i] or y}\n        if c: F[i] or y\n";
        assert!(!parses(text));
        let (blanked, ranges) = blank_newer_syntax(text).expect("blanked");
        assert_eq!(
            blanked,
            "class A:\n    async def f(self, a: X(int) or\n\t\tstr = None, b: Y(1) + 2) -> Z(a) == 1:\n        c: D(int) or str = None\n        e = {k: E[i] or y}\n        if c: F[i] or y\n"
        );
        assert_eq!(ranges.len(), 9);
        assert!(parses(&blanked));
        assert!(
            blank_newer_syntax("def f(a: X[int], b: Y[1] | None = Z[0] or 1): ...\n").is_none()
        );
        assert!(blank_newer_syntax("x = f(lambda a: X[1] or 2)\ny = z[1: X[2] or 3]\n").is_none());
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
