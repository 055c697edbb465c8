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
    /// An OEM (DOS) code page: `cp437`, `cp850`, …
    Oem(u16),
}

impl TextEncoding {
    pub fn name(&self) -> String {
        match self {
            TextEncoding::Utf8 => "utf-8".to_string(),
            TextEncoding::Latin1 => "latin-1".to_string(),
            TextEncoding::Other(e) => e.name().to_ascii_lowercase(),
            TextEncoding::Oem(page) => format!("cp{page}"),
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

/// The bytes of a regular file; anything else (a FIFO, a device) is refused before it is
/// opened, since reading it could wait forever.
pub fn read_regular(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file; skipped".to_string());
    }
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}

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
        TextEncoding::Oem(page) => oem_cp::code_table::DECODING_TABLE_CP_MAP
            .get(page)
            .and_then(|table| table.decode_string_checked(body))
            .ok_or_else(|| DecodeError::Undecodable {
                encoding: format!("cp{page}"),
                offset: 0,
            })?,
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
        TextEncoding::Oem(page) => {
            if let Some(table) = oem_cp::code_table::ENCODING_TABLE_CP_MAP.get(page) {
                out.extend(oem_cp::encode_string_lossy(text, table));
            }
        }
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

/// The decoder for a PEP 263 coding declaration, by the names CPython accepts: its codec names
/// and their aliases, normalized the way `encodings.normalize_encoding` does (runs of other
/// characters than letters, digits and `.` become `_`, lower case).
fn encoding_for(label: &str) -> Result<TextEncoding, DecodeError> {
    let mut normalized = String::with_capacity(label.len());
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            normalized.push(c.to_ascii_lowercase());
        } else if !normalized.ends_with('_') {
            normalized.push('_');
        }
    }
    let normalized = normalized.trim_matches('_');
    // The tokenizer's own spellings: `utf-8-…` is UTF-8, `latin-1-…` / `iso-8859-1-…` Latin-1.
    let key = if normalized.starts_with("utf_8") {
        "utf_8"
    } else if ["latin_1", "iso_8859_1", "iso_latin_1"]
        .iter()
        .any(|p| normalized.starts_with(p))
    {
        "latin_1"
    } else {
        normalized
    };
    let unknown = || DecodeError::UnknownEncoding(label.to_string());
    let index = CODECS
        .binary_search_by(|(name, _)| name.cmp(&key))
        .map_err(|_| unknown())?;
    match CODECS[index].1 {
        "utf-8" => Ok(TextEncoding::Utf8),
        "latin-1" => Ok(TextEncoding::Latin1),
        decoder => match decoder.strip_prefix("oem:") {
            Some(page) => page.parse().map(TextEncoding::Oem).map_err(|_| unknown()),
            None => Encoding::for_label(decoder.as_bytes())
                .map(TextEncoding::Other)
                .ok_or_else(unknown),
        },
    }
}

/// Python's codec names and aliases (normalized as `encodings.normalize_encoding` does, lower
/// case), with the decoder used for each: a WHATWG label for `encoding_rs`, `oem:N` for an
/// OEM code page, or `utf-8` / `latin-1`. Sorted, for the binary search.
const CODECS: &[(&str, &str)] = &[
    ("1250", "windows-1250"),
    ("1251", "windows-1251"),
    ("1252", "windows-1252"),
    ("1253", "windows-1253"),
    ("1254", "windows-1254"),
    ("1255", "windows-1255"),
    ("1256", "windows-1256"),
    ("1257", "windows-1257"),
    ("1258", "windows-1258"),
    ("437", "oem:437"),
    ("646", "utf-8"),
    ("775", "oem:775"),
    ("850", "oem:850"),
    ("852", "oem:852"),
    ("855", "oem:855"),
    ("857", "oem:857"),
    ("858", "oem:858"),
    ("860", "oem:860"),
    ("861", "oem:861"),
    ("862", "oem:862"),
    ("863", "oem:863"),
    ("864", "oem:864"),
    ("865", "oem:865"),
    ("866", "ibm866"),
    ("869", "oem:869"),
    ("8859", "latin-1"),
    ("932", "shift_jis"),
    ("936", "gbk"),
    ("949", "euc-kr"),
    ("950", "big5"),
    ("ansi_x3.4_1968", "utf-8"),
    ("ansi_x3.4_1986", "utf-8"),
    ("ansi_x3_4_1968", "utf-8"),
    ("arabic", "iso-8859-6"),
    ("ascii", "utf-8"),
    ("asmo_708", "iso-8859-6"),
    ("big5", "big5"),
    ("big5_tw", "big5"),
    ("chinese", "gbk"),
    ("cp1250", "windows-1250"),
    ("cp1251", "windows-1251"),
    ("cp1252", "windows-1252"),
    ("cp1253", "windows-1253"),
    ("cp1254", "windows-1254"),
    ("cp1255", "windows-1255"),
    ("cp1256", "windows-1256"),
    ("cp1257", "windows-1257"),
    ("cp1258", "windows-1258"),
    ("cp367", "utf-8"),
    ("cp437", "oem:437"),
    ("cp65001", "utf-8"),
    ("cp720", "oem:720"),
    ("cp737", "oem:737"),
    ("cp775", "oem:775"),
    ("cp819", "latin-1"),
    ("cp850", "oem:850"),
    ("cp852", "oem:852"),
    ("cp855", "oem:855"),
    ("cp857", "oem:857"),
    ("cp858", "oem:858"),
    ("cp860", "oem:860"),
    ("cp861", "oem:861"),
    ("cp862", "oem:862"),
    ("cp863", "oem:863"),
    ("cp864", "oem:864"),
    ("cp865", "oem:865"),
    ("cp866", "ibm866"),
    ("cp869", "oem:869"),
    ("cp874", "windows-874"),
    ("cp932", "shift_jis"),
    ("cp936", "gbk"),
    ("cp949", "euc-kr"),
    ("cp950", "big5"),
    ("cp_gr", "oem:869"),
    ("cp_is", "oem:861"),
    ("csascii", "utf-8"),
    ("csbig5", "big5"),
    ("csibm855", "oem:855"),
    ("csibm857", "oem:857"),
    ("csibm858", "oem:858"),
    ("csibm860", "oem:860"),
    ("csibm861", "oem:861"),
    ("csibm863", "oem:863"),
    ("csibm864", "oem:864"),
    ("csibm865", "oem:865"),
    ("csibm866", "ibm866"),
    ("csibm869", "oem:869"),
    ("csiso2022jp", "iso-2022-jp"),
    ("csiso58gb231280", "gbk"),
    ("csisolatin1", "latin-1"),
    ("csisolatin2", "iso-8859-2"),
    ("csisolatin3", "iso-8859-3"),
    ("csisolatin4", "iso-8859-4"),
    ("csisolatin6", "iso-8859-10"),
    ("csisolatinarabic", "iso-8859-6"),
    ("csisolatincyrillic", "iso-8859-5"),
    ("csisolatingreek", "iso-8859-7"),
    ("csisolatinhebrew", "iso-8859-8"),
    ("cskoi8r", "koi8-r"),
    ("cspc775baltic", "oem:775"),
    ("cspc850multilingual", "oem:850"),
    ("cspc862latinhebrew", "oem:862"),
    ("cspc8codepage437", "oem:437"),
    ("cspcp852", "oem:852"),
    ("csshiftjis", "shift_jis"),
    ("cyrillic", "iso-8859-5"),
    ("ecma_114", "iso-8859-6"),
    ("ecma_118", "iso-8859-7"),
    ("elot_928", "iso-8859-7"),
    ("euc_cn", "gbk"),
    ("euc_jp", "euc-jp"),
    ("euc_kr", "euc-kr"),
    ("euccn", "gbk"),
    ("eucgb2312_cn", "gbk"),
    ("eucjp", "euc-jp"),
    ("euckr", "euc-kr"),
    ("gb18030", "gb18030"),
    ("gb18030_2000", "gb18030"),
    ("gb2312", "gbk"),
    ("gb2312_1980", "gbk"),
    ("gb2312_80", "gbk"),
    ("gbk", "gbk"),
    ("greek", "iso-8859-7"),
    ("greek8", "iso-8859-7"),
    ("hebrew", "iso-8859-8"),
    ("ibm367", "utf-8"),
    ("ibm437", "oem:437"),
    ("ibm775", "oem:775"),
    ("ibm819", "latin-1"),
    ("ibm850", "oem:850"),
    ("ibm852", "oem:852"),
    ("ibm855", "oem:855"),
    ("ibm857", "oem:857"),
    ("ibm858", "oem:858"),
    ("ibm860", "oem:860"),
    ("ibm861", "oem:861"),
    ("ibm862", "oem:862"),
    ("ibm863", "oem:863"),
    ("ibm864", "oem:864"),
    ("ibm865", "oem:865"),
    ("ibm866", "ibm866"),
    ("ibm869", "oem:869"),
    ("iso2022_jp", "iso-2022-jp"),
    ("iso2022jp", "iso-2022-jp"),
    ("iso646_us", "utf-8"),
    ("iso8859", "latin-1"),
    ("iso8859_1", "latin-1"),
    ("iso8859_10", "iso-8859-10"),
    ("iso8859_13", "iso-8859-13"),
    ("iso8859_14", "iso-8859-14"),
    ("iso8859_15", "iso-8859-15"),
    ("iso8859_16", "iso-8859-16"),
    ("iso8859_2", "iso-8859-2"),
    ("iso8859_3", "iso-8859-3"),
    ("iso8859_4", "iso-8859-4"),
    ("iso8859_5", "iso-8859-5"),
    ("iso8859_6", "iso-8859-6"),
    ("iso8859_7", "iso-8859-7"),
    ("iso8859_8", "iso-8859-8"),
    ("iso_2022_jp", "iso-2022-jp"),
    ("iso_646.irv_1991", "utf-8"),
    ("iso_8859_1", "latin-1"),
    ("iso_8859_10", "iso-8859-10"),
    ("iso_8859_10_1992", "iso-8859-10"),
    ("iso_8859_13", "iso-8859-13"),
    ("iso_8859_14", "iso-8859-14"),
    ("iso_8859_14_1998", "iso-8859-14"),
    ("iso_8859_15", "iso-8859-15"),
    ("iso_8859_16", "iso-8859-16"),
    ("iso_8859_16_2001", "iso-8859-16"),
    ("iso_8859_1_1987", "latin-1"),
    ("iso_8859_2", "iso-8859-2"),
    ("iso_8859_2_1987", "iso-8859-2"),
    ("iso_8859_3", "iso-8859-3"),
    ("iso_8859_3_1988", "iso-8859-3"),
    ("iso_8859_4", "iso-8859-4"),
    ("iso_8859_4_1988", "iso-8859-4"),
    ("iso_8859_5", "iso-8859-5"),
    ("iso_8859_5_1988", "iso-8859-5"),
    ("iso_8859_6", "iso-8859-6"),
    ("iso_8859_6_1987", "iso-8859-6"),
    ("iso_8859_7", "iso-8859-7"),
    ("iso_8859_7_1987", "iso-8859-7"),
    ("iso_8859_8", "iso-8859-8"),
    ("iso_8859_8_1988", "iso-8859-8"),
    ("iso_celtic", "iso-8859-14"),
    ("iso_ir_100", "latin-1"),
    ("iso_ir_101", "iso-8859-2"),
    ("iso_ir_109", "iso-8859-3"),
    ("iso_ir_110", "iso-8859-4"),
    ("iso_ir_126", "iso-8859-7"),
    ("iso_ir_127", "iso-8859-6"),
    ("iso_ir_138", "iso-8859-8"),
    ("iso_ir_144", "iso-8859-5"),
    ("iso_ir_157", "iso-8859-10"),
    ("iso_ir_199", "iso-8859-14"),
    ("iso_ir_226", "iso-8859-16"),
    ("iso_ir_58", "gbk"),
    ("iso_ir_6", "utf-8"),
    ("koi8_r", "koi8-r"),
    ("koi8_u", "koi8-u"),
    ("korean", "euc-kr"),
    ("ks_c_5601", "euc-kr"),
    ("ks_c_5601_1987", "euc-kr"),
    ("ks_x_1001", "euc-kr"),
    ("ksc5601", "euc-kr"),
    ("ksx1001", "euc-kr"),
    ("l1", "latin-1"),
    ("l10", "iso-8859-16"),
    ("l2", "iso-8859-2"),
    ("l3", "iso-8859-3"),
    ("l4", "iso-8859-4"),
    ("l6", "iso-8859-10"),
    ("l7", "iso-8859-13"),
    ("l8", "iso-8859-14"),
    ("l9", "iso-8859-15"),
    ("latin", "latin-1"),
    ("latin1", "latin-1"),
    ("latin10", "iso-8859-16"),
    ("latin2", "iso-8859-2"),
    ("latin3", "iso-8859-3"),
    ("latin4", "iso-8859-4"),
    ("latin6", "iso-8859-10"),
    ("latin7", "iso-8859-13"),
    ("latin8", "iso-8859-14"),
    ("latin9", "iso-8859-15"),
    ("latin_1", "latin-1"),
    ("mac_cyrillic", "x-mac-cyrillic"),
    ("mac_roman", "macintosh"),
    ("maccyrillic", "x-mac-cyrillic"),
    ("macintosh", "macintosh"),
    ("macroman", "macintosh"),
    ("ms932", "shift_jis"),
    ("ms936", "gbk"),
    ("ms949", "euc-kr"),
    ("ms950", "big5"),
    ("ms_kanji", "shift_jis"),
    ("mskanji", "shift_jis"),
    ("s_jis", "shift_jis"),
    ("shift_jis", "shift_jis"),
    ("shiftjis", "shift_jis"),
    ("sjis", "shift_jis"),
    ("u8", "utf-8"),
    ("u_jis", "euc-jp"),
    ("uhc", "euc-kr"),
    ("ujis", "euc-jp"),
    ("us", "utf-8"),
    ("us_ascii", "utf-8"),
    ("utf", "utf-8"),
    ("utf8", "utf-8"),
    ("utf8_ucs2", "utf-8"),
    ("utf8_ucs4", "utf-8"),
    ("utf_8", "utf-8"),
    ("windows_1250", "windows-1250"),
    ("windows_1251", "windows-1251"),
    ("windows_1252", "windows-1252"),
    ("windows_1253", "windows-1253"),
    ("windows_1254", "windows-1254"),
    ("windows_1255", "windows-1255"),
    ("windows_1256", "windows-1256"),
    ("windows_1257", "windows-1257"),
    ("windows_1258", "windows-1258"),
    ("x_mac_japanese", "shift_jis"),
    ("x_mac_korean", "euc-kr"),
    ("x_mac_simp_chinese", "gbk"),
    ("x_mac_trad_chinese", "big5"),
];

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
    fn codecs_are_sorted_and_resolve() {
        assert!(CODECS.windows(2).all(|w| w[0].0 < w[1].0));
        for (name, _) in CODECS {
            assert!(encoding_for(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn python_codec_names_and_aliases_decode() {
        for (label, bytes, text) in [
            (
                "cp437",
                b"# coding: cp437\nx = '\x82'\n".as_slice(),
                "\u{e9}",
            ),
            (
                "cp932",
                b"# coding: cp932\nx = '\x82\xa0'\n".as_slice(),
                "\u{3042}",
            ),
            (
                "ms932",
                b"# -*- coding: MS932 -*-\nx = '\x82\xa0'\n".as_slice(),
                "\u{3042}",
            ),
            (
                "latin-1",
                b"# coding=Latin-1\nx = '\xe9'\n".as_slice(),
                "\u{e9}",
            ),
            (
                "euc_jp",
                b"# coding: euc_jp\nx = '\xa4\xa2'\n".as_slice(),
                "\u{3042}",
            ),
        ] {
            let src = decode(bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert!(src.text.contains(text), "{label}: {}", src.text);
            assert_eq!(
                encode(&src, &src.text),
                bytes.to_vec(),
                "{label} round-trips"
            );
        }
    }

    #[test]
    fn prefilter_needs_async() {
        assert!(may_contain_async(b"async def f(): pass"));
        assert!(!may_contain_async(b"def f(): pass"));
    }
}
