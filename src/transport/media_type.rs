//! Media types (`Content-Type`) and `Accept` header parsing for DICOMweb.
//!
//! Parses the `media-type` production of RFC 9110 §8.3.1 with parameters whose
//! values are either tokens or quoted strings (RFC 9110 §5.6.6 and §5.6.4), and
//! the `Accept` header of RFC 9110 §12.5.1 with its `q` weights. DICOMweb
//! (PS3.18 §8.7.3.5) carries the transfer syntax as a `transfer-syntax`
//! parameter, and for `multipart/related` (RFC 2387, RFC 2046 §5.1.1) the
//! media type of the parts in the `type` parameter. Some servers (notably
//! Orthanc) put the transfer syntax *inside* the quoted `type` parameter, e.g.
//! `multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"`;
//! [`MediaType::transfer_syntax`] looks in both places. Parsing is strict on
//! syntax (the harness reports non-conformant headers) but never panics: all
//! failures are reported as [`MediaTypeError`].

use std::fmt;

/// A parsed media type: `type/subtype` plus parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// Lower-cased `type/subtype`, e.g. `multipart/related`.
    pub essence: String,
    /// Parameters in header order; names lower-cased, values unquoted
    /// (quoted-pairs resolved) with their case preserved.
    pub params: Vec<(String, String)>,
}

/// Error while parsing a media type or an `Accept` header.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum MediaTypeError {
    /// The input (or one `Accept` list element that must not be empty) is empty.
    #[error("empty media type")]
    Empty,
    /// The `type` or `subtype` is missing or is not a token.
    #[error("invalid type/subtype at byte {at}")]
    InvalidEssence {
        /// Byte offset in the input where the problem was found.
        at: usize,
    },
    /// A parameter is not of the form `name=value`, or its name is not a token.
    #[error("invalid parameter at byte {at}")]
    InvalidParameter {
        /// Byte offset in the input where the problem was found.
        at: usize,
    },
    /// A quoted string is not terminated, or contains a forbidden character.
    #[error("unterminated or invalid quoted string at byte {at}")]
    InvalidQuotedString {
        /// Byte offset in the input where the problem was found.
        at: usize,
    },
    /// Unexpected character after a media type (e.g. garbage after a value).
    #[error("unexpected character {} at byte {at}", crate::evidence::quote(&found.to_string()))]
    UnexpectedChar {
        /// Byte offset in the input.
        at: usize,
        /// The offending character.
        found: char,
    },
    /// A `q` weight in an `Accept` header does not match RFC 9110 §12.4.2 `qvalue`.
    #[error("invalid q value {}", crate::evidence::quote(value))]
    InvalidQValue {
        /// The offending value (bounded to 40 characters).
        value: String,
    },
}

/// One element of an `Accept` header: a media range and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptItem {
    /// The media range (may contain `*` wildcards); the `q` parameter and any
    /// accept-ext parameters following it are not included in `params`.
    pub media: MediaType,
    /// Weight in `0.0..=1.0` (default 1.0).
    pub q: f32,
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Is `s` a non-empty RFC 9110 token?
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Byte cursor over a header value.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        // tchar is ASCII so these are char boundaries.
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Parse a quoted-string starting at the opening DQUOTE.
    fn quoted(&mut self) -> Result<String, MediaTypeError> {
        let open = self.pos;
        self.pos += 1; // opening quote
        let mut out = String::new();
        let rest = self.s.get(self.pos..).unwrap_or("");
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e)) if e == '\t' || !e.is_control() => out.push(e),
                    _ => return Err(MediaTypeError::InvalidQuotedString { at: open }),
                },
                c if c == '\t' || !c.is_control() => out.push(c),
                _ => return Err(MediaTypeError::InvalidQuotedString { at: open }),
            }
        }
        Err(MediaTypeError::InvalidQuotedString { at: open })
    }

    fn unexpected(&self) -> MediaTypeError {
        let found = self
            .s
            .get(self.pos..)
            .and_then(|r| r.chars().next())
            .unwrap_or('\0');
        MediaTypeError::UnexpectedChar {
            at: self.pos,
            found,
        }
    }
}

/// Parse one media type at the cursor. Stops (without consuming) at a
/// top-level `,` when `in_list` is set, otherwise requires end of input.
fn parse_at(c: &mut Cursor<'_>, in_list: bool) -> Result<MediaType, MediaTypeError> {
    c.skip_ows();
    let start = c.pos;
    let ty = c.token();
    if ty.is_empty() {
        return Err(
            if c.peek().is_none() || (in_list && c.peek() == Some(b',')) {
                MediaTypeError::Empty
            } else {
                MediaTypeError::InvalidEssence { at: start }
            },
        );
    }
    if c.peek() != Some(b'/') {
        return Err(MediaTypeError::InvalidEssence { at: c.pos });
    }
    c.pos += 1;
    let sub = c.token();
    if sub.is_empty() {
        return Err(MediaTypeError::InvalidEssence { at: c.pos });
    }
    let essence = format!("{}/{}", ty.to_ascii_lowercase(), sub.to_ascii_lowercase());
    let mut params = Vec::new();
    loop {
        c.skip_ows();
        match c.peek() {
            None => break,
            Some(b',') if in_list => break,
            Some(b';') => {
                c.pos += 1;
                c.skip_ows();
                // Empty parameter (";;" or trailing ";") is allowed by the grammar.
                match c.peek() {
                    None | Some(b';') => continue,
                    Some(b',') if in_list => continue,
                    _ => {}
                }
                let at = c.pos;
                let name = c.token();
                if name.is_empty() || c.peek() != Some(b'=') {
                    return Err(MediaTypeError::InvalidParameter { at });
                }
                c.pos += 1;
                let value = match c.peek() {
                    Some(b'"') => c.quoted()?,
                    _ => {
                        let v = c.token();
                        if v.is_empty() {
                            return Err(MediaTypeError::InvalidParameter { at });
                        }
                        v.to_string()
                    }
                };
                params.push((name.to_ascii_lowercase(), value));
            }
            Some(_) => return Err(c.unexpected()),
        }
    }
    Ok(MediaType { essence, params })
}

impl MediaType {
    /// Build a media type from an essence (`type/subtype`, lower-cased here)
    /// without parameters. No validation is done; see [`MediaType::parse`].
    pub fn new(essence: &str) -> MediaType {
        MediaType {
            essence: essence.to_ascii_lowercase(),
            params: Vec::new(),
        }
    }

    /// Builder: append a parameter (name lower-cased).
    pub fn with_param(mut self, name: &str, value: &str) -> MediaType {
        self.params
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Parse an RFC 9110 §8.3.1 `media-type`: `type/subtype *( OWS ";" OWS [ name=value ] )`
    /// where values are tokens or quoted strings. Leading/trailing whitespace is ignored.
    pub fn parse(s: &str) -> Result<MediaType, MediaTypeError> {
        let mut c = Cursor::new(s);
        parse_at(&mut c, false)
    }

    /// Value of the first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `type` part of the essence (`multipart` for `multipart/related`).
    pub fn type_(&self) -> &str {
        self.essence.split('/').next().unwrap_or("")
    }

    /// `subtype` part of the essence (`related` for `multipart/related`).
    pub fn subtype(&self) -> &str {
        self.essence.split_once('/').map(|(_, s)| s).unwrap_or("")
    }

    /// True for `multipart/related` (RFC 2387).
    pub fn is_multipart_related(&self) -> bool {
        self.essence == "multipart/related"
    }

    /// True if this media range (possibly with `*` wildcards, as in an `Accept`
    /// header) matches the essence of `other`. Parameters are not compared.
    pub fn range_matches(&self, other: &MediaType) -> bool {
        if self.essence == "*/*" {
            return true;
        }
        if self.subtype() == "*" {
            return self.type_() == other.type_();
        }
        self.essence == other.essence
    }

    /// For `multipart/related`: the `type` parameter parsed as a media type.
    ///
    /// Orthanc puts the transfer syntax inside the quoted type, e.g.
    /// `type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"`;
    /// that is supported (the inner parameters end up in the returned
    /// [`MediaType::params`]). Returns `None` for other media types, when the
    /// parameter is absent, or when it does not parse.
    pub fn related_type(&self) -> Option<MediaType> {
        if !self.is_multipart_related() {
            return None;
        }
        MediaType::parse(self.param("type")?).ok()
    }

    /// The `transfer-syntax` parameter (PS3.18 §8.7.3.5), looking at this media
    /// type and, for `multipart/related`, inside the `type` parameter.
    pub fn transfer_syntax(&self) -> Option<String> {
        if let Some(ts) = self.param("transfer-syntax") {
            return Some(ts.to_string());
        }
        self.related_type()?
            .param("transfer-syntax")
            .map(str::to_string)
    }

    /// Render as a header value: `essence; name=value; ...`, quoting values that
    /// are not tokens (RFC 9110 §5.6.6) and escaping `"` and `\`. Control
    /// characters other than HTAB are dropped so the result can never inject
    /// a header line.
    pub fn to_header_value(&self) -> String {
        let mut out = self.essence.clone();
        for (name, value) in &self.params {
            out.push_str("; ");
            out.push_str(name);
            out.push('=');
            if is_token(value) {
                out.push_str(value);
            } else {
                out.push('"');
                for ch in value.chars() {
                    match ch {
                        '"' | '\\' => {
                            out.push('\\');
                            out.push(ch);
                        }
                        '\t' => out.push(ch),
                        c if c.is_control() => {}
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
        }
        out
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

impl std::str::FromStr for MediaType {
    type Err = MediaTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediaType::parse(s)
    }
}

/// Parse an RFC 9110 §12.4.2 `qvalue`: `0[.ddd]` or `1[.000]`.
fn parse_qvalue(v: &str) -> Result<f32, MediaTypeError> {
    let bad = || MediaTypeError::InvalidQValue {
        value: v.chars().take(40).collect(),
    };
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, f),
        None => (v, ""),
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match int {
        "0" => {
            let mut thousandths = 0u32;
            for (i, b) in frac.bytes().enumerate() {
                let weight = [100, 10, 1].get(i).copied().unwrap_or(0);
                thousandths += u32::from(b - b'0') * weight;
            }
            Ok(thousandths as f32 / 1000.0)
        }
        "1" if frac.bytes().all(|b| b == b'0') => Ok(1.0),
        _ => Err(bad()),
    }
}

/// Parse an `Accept` header (RFC 9110 §12.5.1): a comma-separated list of media
/// ranges with optional `q` weights. Commas inside quoted strings are respected,
/// empty list elements are skipped, and the `q` parameter (and accept-ext
/// parameters after it) are removed from the media parameters. The result is
/// sorted by `q` descending; items with equal `q` keep header order. An empty
/// header yields an empty list.
pub fn parse_accept(header: &str) -> Result<Vec<AcceptItem>, MediaTypeError> {
    let mut c = Cursor::new(header);
    let mut items = Vec::new();
    loop {
        c.skip_ows();
        match c.peek() {
            None => break,
            Some(b',') => {
                c.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let mut media = parse_at(&mut c, true)?;
        let mut q = 1.0f32;
        if let Some(idx) = media.params.iter().position(|(n, _)| n == "q") {
            let tail = media.params.split_off(idx);
            if let Some((_, v)) = tail.first() {
                q = parse_qvalue(v)?;
            }
        }
        items.push(AcceptItem { media, q });
    }
    items.sort_by(|a, b| b.q.total_cmp(&a.q));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_simple_and_case() {
        let m = MediaType::parse("Application/DICOM+JSON").unwrap();
        assert_eq!(m.essence, "application/dicom+json");
        assert!(m.params.is_empty());
        assert_eq!(m.type_(), "application");
        assert_eq!(m.subtype(), "dicom+json");
    }

    #[test]
    fn parses_params_quoted_and_token() {
        let m = MediaType::parse(
            r#"multipart/related ; Type="application/dicom" ;boundary=Abc123;x="a\"b\\c""#,
        )
        .unwrap();
        assert!(m.is_multipart_related());
        assert_eq!(m.param("TYPE"), Some("application/dicom"));
        assert_eq!(m.param("boundary"), Some("Abc123"));
        assert_eq!(m.param("x"), Some("a\"b\\c"));
        assert_eq!(m.params[0].0, "type");
    }

    #[test]
    fn empty_params_allowed() {
        let m = MediaType::parse("text/plain;;charset=utf-8;").unwrap();
        assert_eq!(m.param("charset"), Some("utf-8"));
    }

    #[test]
    fn orthanc_transfer_syntax_inside_type() {
        let m = MediaType::parse(
            r#"multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; boundary=xyz"#,
        )
        .unwrap();
        let rt = m.related_type().unwrap();
        assert_eq!(rt.essence, "application/octet-stream");
        assert_eq!(m.transfer_syntax().as_deref(), Some("1.2.840.10008.1.2.1"));
    }

    #[test]
    fn transfer_syntax_outer_param() {
        let m = MediaType::parse(
            r#"multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50"#,
        )
        .unwrap();
        assert_eq!(
            m.transfer_syntax().as_deref(),
            Some("1.2.840.10008.1.2.4.50")
        );
        let single = MediaType::parse("application/dicom; transfer-syntax=*").unwrap();
        assert_eq!(single.transfer_syntax().as_deref(), Some("*"));
        assert_eq!(single.related_type(), None);
        assert_eq!(
            MediaType::parse("application/dicom")
                .unwrap()
                .transfer_syntax(),
            None
        );
    }

    #[test]
    fn header_value_roundtrip() {
        let m = MediaType::new("multipart/related")
            .with_param("type", "application/dicom")
            .with_param("boundary", "abc")
            .with_param("x", "a\"b\\c d");
        let h = m.to_header_value();
        assert_eq!(
            h,
            r#"multipart/related; type="application/dicom"; boundary=abc; x="a\"b\\c d""#
        );
        assert_eq!(MediaType::parse(&h).unwrap(), m);
        assert_eq!(m.to_string(), h);
        let injected = MediaType::new("text/plain").with_param("x", "a\r\nSet-Cookie: 1");
        assert!(!injected.to_header_value().contains('\n'));
        let empty = MediaType::new("text/plain").with_param("x", "");
        assert_eq!(empty.to_header_value(), r#"text/plain; x="""#);
    }

    #[test]
    fn rejects_invalid() {
        assert_eq!(MediaType::parse(""), Err(MediaTypeError::Empty));
        assert_eq!(MediaType::parse("   "), Err(MediaTypeError::Empty));
        assert!(matches!(
            MediaType::parse("application"),
            Err(MediaTypeError::InvalidEssence { .. })
        ));
        assert!(matches!(
            MediaType::parse("application/"),
            Err(MediaTypeError::InvalidEssence { .. })
        ));
        assert!(matches!(
            MediaType::parse("/json"),
            Err(MediaTypeError::InvalidEssence { .. })
        ));
        assert!(matches!(
            MediaType::parse("a/b; c"),
            Err(MediaTypeError::InvalidParameter { .. })
        ));
        assert!(matches!(
            MediaType::parse("a/b; c="),
            Err(MediaTypeError::InvalidParameter { .. })
        ));
        assert!(matches!(
            MediaType::parse(r#"a/b; c="unterminated"#),
            Err(MediaTypeError::InvalidQuotedString { .. })
        ));
        assert!(matches!(
            MediaType::parse("a/b; c=\"x\u{1}\""),
            Err(MediaTypeError::InvalidQuotedString { .. })
        ));
        assert!(matches!(
            MediaType::parse("a/b c"),
            Err(MediaTypeError::UnexpectedChar { .. })
        ));
        assert!(matches!(
            MediaType::parse("a/b, c/d"),
            Err(MediaTypeError::UnexpectedChar { found: ',', .. })
        ));
        assert!(matches!(
            MediaType::parse("a/b; c=\"x\"y"),
            Err(MediaTypeError::UnexpectedChar { found: 'y', .. })
        ));
        assert!(MediaType::parse("é/b").is_err());
        assert!(MediaType::parse("a/b; c=\"\\").is_err());
    }

    #[test]
    fn non_ascii_in_quoted_value_is_kept() {
        let m = MediaType::parse("a/b; c=\"é ü\"").unwrap();
        assert_eq!(m.param("c"), Some("é ü"));
    }

    #[test]
    fn accept_sorted_and_quoted_commas() {
        let items = parse_accept(
            r#"application/json;q=0.5, multipart/related; type="application/dicom, x"; transfer-syntax=*, */*;q=0.1 ,, application/dicom+json"#,
        )
        .unwrap();
        let essences: Vec<_> = items.iter().map(|i| i.media.essence.as_str()).collect();
        assert_eq!(
            essences,
            [
                "multipart/related",
                "application/dicom+json",
                "application/json",
                "*/*"
            ]
        );
        assert_eq!(items[0].media.param("type"), Some("application/dicom, x"));
        assert_eq!(items[0].media.param("transfer-syntax"), Some("*"));
        assert_eq!(items[2].q, 0.5);
        assert!(items[2].media.params.is_empty());
        assert!((items[3].q - 0.1).abs() < 1e-6);
        assert!(items[3].media.range_matches(&MediaType::new("x/y")));
    }

    #[test]
    fn accept_q_ext_params_dropped_and_stable() {
        let items = parse_accept("a/b;q=1;ext=1, c/d, e/f;q=1.000").unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].media.essence, "a/b");
        assert!(items[0].media.params.is_empty());
        assert_eq!(items[1].media.essence, "c/d");
        assert_eq!(items[2].media.essence, "e/f");
        assert!(parse_accept("").unwrap().is_empty());
        assert!(parse_accept(" , ").unwrap().is_empty());
    }

    #[test]
    fn accept_rejects_bad_q_and_bad_items() {
        for bad in [
            "a/b;q=2",
            "a/b;q=0.1234",
            "a/b;q=1.5",
            "a/b;q=abc",
            "a/b;q=-0",
        ] {
            assert!(
                matches!(parse_accept(bad), Err(MediaTypeError::InvalidQValue { .. })),
                "{bad}"
            );
        }
        assert!(parse_accept("a/b, c").is_err());
        assert!(parse_accept("*").is_err());
        assert!(parse_accept(r#"a/b; t="x, c/d"#).is_err());
    }

    #[test]
    fn range_matching() {
        let json = MediaType::new("application/json");
        assert!(MediaType::new("application/*").range_matches(&json));
        assert!(!MediaType::new("text/*").range_matches(&json));
        assert!(MediaType::new("application/json").range_matches(&json));
    }

    #[test]
    fn garbage_never_panics() {
        let samples = [
            "\"",
            "a/b;\"",
            "a/b;=",
            ";;;",
            "a/b;c=\"\u{7f}\"",
            "\u{0}",
            "a/\u{ff}",
            "a/b; c=\"é\\",
            ",,,",
            "q=1",
        ];
        for s in samples {
            let _ = MediaType::parse(s);
            let _ = parse_accept(s);
        }
        // every prefix of a complex header
        let h = r#"multipart/related; type="application/dicom; x=\"é\""; q=0.5, */*"#;
        for (i, _) in h.char_indices() {
            let _ = MediaType::parse(&h[..i]);
            let _ = parse_accept(&h[..i]);
        }
    }
}
