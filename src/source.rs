//! Reading and decoding a Python source file, and encoding the fixed text back.
//!
//! Owns the byte-level facts a rewrite must keep: the UTF-8 BOM, the PEP 263 coding
//! declaration, and the line ending used for text the fixes insert.

use encoding_rs::Encoding;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unknown source encoding `{0}` in the coding declaration")]
    UnknownEncoding(String),
    #[error("not valid {encoding}: undecodable byte at offset {offset}")]
    Undecodable { encoding: String, offset: usize },
}

/// How the file's bytes map to text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// ISO-8859-1, decoded byte for byte (Python's `latin-1`).
    Latin1,
    Other(&'static Encoding),
}

impl TextEncoding {
    pub fn name(&self) -> String {
        match self {
            TextEncoding::Utf8 => "utf-8".to_string(),
            TextEncoding::Latin1 => "latin-1".to_string(),
            TextEncoding::Other(e) => e.name().to_ascii_lowercase(),
        }
    }
}

/// A decoded source file.
#[derive(Debug, Clone)]
pub struct Source {
    pub text: String,
    pub encoding: TextEncoding,
    pub bom: bool,
    /// `"\r\n"` when the first line ends that way, else `"\n"`.
    pub newline: &'static str,
}

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Cheap test run before decoding and parsing: a file that never says `async` cannot contain a
/// coroutine.
pub fn may_contain_async(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"async").is_some()
}

pub fn decode(bytes: &[u8]) -> Result<Source, DecodeError> {
    let (bom, body) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let encoding = if bom {
        TextEncoding::Utf8
    } else {
        match coding_declaration(body) {
            None => TextEncoding::Utf8,
            Some(label) => encoding_for(&label)?,
        }
    };
    let text = match &encoding {
        TextEncoding::Utf8 => match std::str::from_utf8(body) {
            Ok(s) => s.to_string(),
            Err(e) => {
                return Err(DecodeError::Undecodable {
                    encoding: "UTF-8".to_string(),
                    offset: e.valid_up_to() + usize::from(bom) * UTF8_BOM.len(),
                });
            }
        },
        TextEncoding::Latin1 => body.iter().map(|&b| char::from(b)).collect(),
        TextEncoding::Other(enc) => {
            let (text, had_errors) = enc.decode_without_bom_handling(body);
            if had_errors {
                let offset = first_undecodable(enc, body);
                return Err(DecodeError::Undecodable {
                    encoding: enc.name().to_string(),
                    offset,
                });
            }
            text.into_owned()
        }
    };
    let newline = match memchr::memchr(b'\n', body) {
        Some(i) if i > 0 && body[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    };
    Ok(Source {
        text,
        encoding,
        bom,
        newline,
    })
}

fn first_undecodable(enc: &'static Encoding, body: &[u8]) -> usize {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(body.len() * 3 + 16);
    let (result, read) = decoder.decode_to_string_without_replacement(body, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(len, _) => read.saturating_sub(usize::from(len)),
        _ => read,
    }
}

/// Encodes fixed text the way the original was stored.
pub fn encode(source: &Source, text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 3);
    if source.bom {
        out.extend_from_slice(UTF8_BOM);
    }
    match &source.encoding {
        TextEncoding::Utf8 => out.extend_from_slice(text.as_bytes()),
        TextEncoding::Latin1 => out.extend(
            text.chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
        ),
        TextEncoding::Other(enc) => out.extend_from_slice(&enc.encode(text).0),
    }
    out
}

/// The PEP 263 declaration in the first two lines (`# -*- coding: latin-1 -*-`).
fn coding_declaration(body: &[u8]) -> Option<String> {
    for (index, line) in body.split(|&b| b == b'\n').take(2).enumerate() {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start_matches([' ', '\t', '\x0c']);
        if !trimmed.starts_with('#') {
            // Only comment (or blank) lines may precede the declaration.
            if index == 0 && trimmed.trim().is_empty() {
                continue;
            }
            if !trimmed.trim().is_empty() {
                return None;
            }
            continue;
        }
        if let Some(pos) = trimmed.find("coding") {
            let rest = &trimmed[pos + "coding".len()..];
            let Some(rest) = rest.strip_prefix([':', '=']) else {
                continue;
            };
            let label: String = rest
                .trim_start_matches([' ', '\t'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if !label.is_empty() {
                return Some(label);
            }
        }
    }
    None
}

fn encoding_for(label: &str) -> Result<TextEncoding, DecodeError> {
    let normalized = label.to_ascii_lowercase().replace('_', "-");
    match normalized.as_str() {
        "utf-8" | "utf8" | "utf-8-sig" | "u8" => return Ok(TextEncoding::Utf8),
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" | "iso-latin-1" | "8859"
        | "cp819" => {
            return Ok(TextEncoding::Latin1);
        }
        "ascii" | "us-ascii" => return Ok(TextEncoding::Utf8),
        _ => {}
    }
    let lookup = normalized
        .strip_prefix("cp")
        .map_or(normalized.clone(), |n| {
            if n.chars().all(|c| c.is_ascii_digit()) {
                format!("windows-{n}")
            } else {
                normalized.clone()
            }
        });
    Encoding::for_label(lookup.as_bytes())
        .map(TextEncoding::Other)
        .ok_or_else(|| DecodeError::UnknownEncoding(label.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_bom_round_trips() {
        let bytes = b"\xef\xbb\xbfx = 1\r\ny = 2\r\n";
        let src = decode(bytes).expect("decodes");
        assert!(src.bom);
        assert_eq!(src.newline, "\r\n");
        assert_eq!(src.text, "x = 1\r\ny = 2\r\n");
        assert_eq!(encode(&src, &src.text), bytes.to_vec());
    }

    #[test]
    fn latin1_declaration_decodes_and_round_trips() {
        let bytes = b"# -*- coding: latin-1 -*-\ns = '\xe9\x80'\n";
        let src = decode(bytes).expect("decodes");
        assert_eq!(src.encoding, TextEncoding::Latin1);
        assert!(src.text.contains('\u{e9}'));
        assert_eq!(encode(&src, &src.text), bytes.to_vec());
    }

    #[test]
    fn declaration_on_second_line_after_shebang() {
        let bytes = b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x80'\n";
        let src = decode(bytes).expect("decodes");
        assert_eq!(src.text.chars().filter(|c| *c == '\u{20ac}').count(), 1);
        assert_eq!(encode(&src, &src.text), bytes.to_vec());
    }

    #[test]
    fn invalid_utf8_is_an_error_with_offset() {
        let err = decode(b"x = 1\n\xff\n").expect_err("fails");
        assert_eq!(
            err,
            DecodeError::Undecodable {
                encoding: "UTF-8".to_string(),
                offset: 6
            }
        );
    }

    #[test]
    fn unknown_declared_encoding_is_an_error() {
        let err = decode(b"# coding: klingon\nx = 1\n").expect_err("fails");
        assert_eq!(err, DecodeError::UnknownEncoding("klingon".to_string()));
    }

    #[test]
    fn prefilter_needs_async() {
        assert!(may_contain_async(b"async def f(): pass"));
        assert!(!may_contain_async(b"def f(): pass"));
    }
}
