//! Streaming, bounded-memory parser and writer helpers for `multipart/related`
//! bodies as used by DICOMweb (PS3.18 §8.7.3.5, RFC 2387).
//!
//! The body syntax is RFC 2046 §5.1.1: a delimiter is CRLF `--` boundary; the
//! first one may appear at the very start of the body (no CRLF); transport
//! padding (spaces/tabs) may follow the boundary before the CRLF; a boundary
//! followed by `--` is the close delimiter and everything after it is the
//! epilogue (ignored), as everything before the first delimiter is the preamble
//! (ignored, up to a limit). Part headers are `Name: value` lines ending in
//! CRLF, terminated by an empty line.
//!
//! Bodies come from a system under test and may be hostile (gigabytes, no
//! boundary at all, huge headers, invalid UTF-8), so the parser is push-based:
//! feed chunks of any size (down to one byte) and it emits [`MultipartEvent`]s
//! as soon as bytes are known not to belong to a delimiter. It keeps only a
//! small carry buffer (at most about the delimiter length in part bodies, at
//! most the header limit while reading headers); part bodies are never
//! accumulated. Only the complete `CRLF--boundary` sequence is matched, so the
//! boundary text appearing inside data is not mistaken for a delimiter.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::transport::media_type::MediaType;

/// Default maximum number of preamble bytes before the first delimiter.
pub const DEFAULT_MAX_PREAMBLE: usize = 64 * 1024;
/// Default maximum size of the header block (including transport padding) of one part.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Longest boundary accepted (RFC 2046 allows 70 characters; some leeway for
/// non-conformant servers).
pub const MAX_BOUNDARY_LEN: usize = 256;
/// Input is processed in slices of at most this size, which bounds the
/// internal buffer and the size of each emitted [`MultipartEvent::PartData`].
const PIECE: usize = 64 * 1024;
/// Bound on the text reported in [`MultipartError::MalformedHeader`].
const MAX_REPORTED_CHARS: usize = 200;

/// One parsing event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartEvent {
    /// A part begins; its headers in order of appearance (names as received,
    /// values trimmed, non-UTF-8 bytes replaced lossily, folded lines joined).
    PartStart {
        /// `(name, value)` pairs; use [`header`] for a case-insensitive lookup.
        headers: Vec<(String, String)>,
    },
    /// A slice of the current part's body (never empty, at most 64 KiB).
    PartData(Bytes),
    /// The current part ended (a delimiter or the close delimiter was seen).
    PartEnd,
}

/// Errors of the multipart parser. Once an error is returned the parser keeps
/// returning it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MultipartError {
    /// The stream ended, or exceeded the preamble limit, without a `--boundary` line.
    #[error("no opening multipart delimiter found")]
    NoOpeningDelimiter,
    /// A part's header block exceeded the limit.
    #[error("multipart part headers exceed {limit} bytes")]
    HeaderTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A header line is not `Name: value` (or there is no CRLF within the limit).
    #[error("malformed multipart header line: {}", crate::evidence::quote(line))]
    MalformedHeader {
        /// The offending line, lossily decoded and bounded to 200 characters.
        line: String,
    },
    /// Transport padding after a boundary was not followed by CRLF.
    #[error("malformed multipart delimiter line after {parts_complete} complete parts")]
    MalformedDelimiter {
        /// Number of parts completed before the problem.
        parts_complete: usize,
    },
    /// End of input before the close delimiter `--boundary--`.
    #[error("multipart body truncated after {parts_complete} complete parts (no close delimiter)")]
    Truncated {
        /// Number of parts completed before the end of input.
        parts_complete: usize,
    },
    /// The boundary is empty, too long, or contains CR/LF.
    #[error("invalid multipart boundary: {reason}")]
    InvalidBoundary {
        /// Why the boundary was rejected.
        reason: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Preamble,
    /// Transport padding after a boundary, before its CRLF.
    Padding,
    Headers,
    Body,
    Epilogue,
    Failed(MultipartError),
}

/// Outcome of looking for a delimiter at a position.
enum Delim {
    NeedMore,
    No,
    /// `CRLF--boundary CRLF`
    Line,
    /// `CRLF--boundary` followed by SP/HT (transport padding).
    Padded,
    /// `CRLF--boundary--`
    Close,
}

/// Push-based streaming `multipart/related` parser (see the module docs).
#[derive(Debug, Clone)]
pub struct MultipartParser {
    /// `CRLF--boundary`
    delim: Vec<u8>,
    /// Searches part bodies for `delim` (SIMD memmem: no per-byte work between delimiters).
    finder: memchr::memmem::Finder<'static>,
    state: State,
    /// Carry buffer; bytes before `pos` are consumed.
    buf: Vec<u8>,
    pos: usize,
    max_preamble: usize,
    max_header_bytes: usize,
    preamble_bytes: usize,
    header_bytes: usize,
    saw_header_crlf: bool,
    /// Bytes after `pos` already searched for CRLF in the header state.
    header_scanned: usize,
    headers: Vec<(String, String)>,
    /// The CRLF ending the header block is still in `buf`: it is either the
    /// header/body separator or, for an empty body, part of the next delimiter.
    body_sep_pending: bool,
    part_open: bool,
    parts_complete: usize,
    closed: bool,
}

fn validate_boundary(boundary: &str) -> Result<(), MultipartError> {
    if boundary.is_empty() {
        Err(MultipartError::InvalidBoundary { reason: "empty" })
    } else if boundary.len() > MAX_BOUNDARY_LEN {
        Err(MultipartError::InvalidBoundary {
            reason: "longer than 256 bytes",
        })
    } else if boundary.bytes().any(|b| b == b'\r' || b == b'\n') {
        Err(MultipartError::InvalidBoundary {
            reason: "contains CR or LF",
        })
    } else {
        Ok(())
    }
}

fn lossy_bounded(bytes: &[u8]) -> String {
    let cut = bytes.get(..MAX_REPORTED_CHARS * 4).unwrap_or(bytes);
    String::from_utf8_lossy(cut)
        .chars()
        .take(MAX_REPORTED_CHARS)
        .collect()
}

fn trim_ws(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn malformed(line: &[u8]) -> MultipartError {
    MultipartError::MalformedHeader {
        line: lossy_bounded(line),
    }
}

/// Parse one header line (without CRLF) into `headers`.
fn parse_header_line(
    line: &[u8],
    headers: &mut Vec<(String, String)>,
) -> Result<(), MultipartError> {
    if line.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Err(malformed(line));
    }
    if matches!(line.first(), Some(b' ' | b'\t')) {
        // Obsolete line folding (RFC 5322 §3.2.2): continuation of the previous value.
        let Some((_, value)) = headers.last_mut() else {
            return Err(malformed(line));
        };
        let cont = String::from_utf8_lossy(trim_ws(line));
        if !cont.is_empty() {
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(&cont);
        }
        return Ok(());
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Err(malformed(line));
    };
    let name = trim_ws(line.get(..colon).unwrap_or_default());
    let value = trim_ws(line.get(colon + 1..).unwrap_or_default());
    if name.is_empty() || !name.iter().all(|&b| (0x21..=0x7e).contains(&b)) {
        return Err(malformed(line));
    }
    headers.push((
        String::from_utf8_lossy(name).into_owned(),
        String::from_utf8_lossy(value).into_owned(),
    ));
    Ok(())
}

impl MultipartParser {
    /// Parser with default limits: preamble 64 KiB, headers 16 KiB per part.
    ///
    /// An invalid boundary (empty, longer than [`MAX_BOUNDARY_LEN`], or with
    /// CR/LF) makes every `feed`/`finish` return [`MultipartError::InvalidBoundary`].
    pub fn new(boundary: &str) -> Self {
        Self::with_limits(boundary, DEFAULT_MAX_PREAMBLE, DEFAULT_MAX_HEADER_BYTES)
    }

    /// Parser with explicit limits on the preamble and on each part's header block.
    pub fn with_limits(boundary: &str, max_preamble: usize, max_header_bytes: usize) -> Self {
        let mut delim = Vec::with_capacity(boundary.len() + 4);
        delim.extend_from_slice(b"\r\n--");
        delim.extend_from_slice(boundary.as_bytes());
        let state = match validate_boundary(boundary) {
            Ok(()) => State::Preamble,
            Err(e) => State::Failed(e),
        };
        MultipartParser {
            finder: memchr::memmem::Finder::new(&delim).into_owned(),
            delim,
            state,
            // A virtual CRLF so that a delimiter at the very start is found by
            // the same `CRLF--boundary` search as all later ones.
            buf: b"\r\n".to_vec(),
            pos: 0,
            max_preamble,
            max_header_bytes,
            preamble_bytes: 0,
            header_bytes: 0,
            saw_header_crlf: false,
            header_scanned: 0,
            headers: Vec::new(),
            body_sep_pending: false,
            part_open: false,
            parts_complete: 0,
            closed: false,
        }
    }

    /// Number of parts whose end delimiter has been seen.
    pub fn parts_complete(&self) -> usize {
        self.parts_complete
    }

    /// True once the close delimiter `--boundary--` has been seen.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Bytes currently retained in the carry buffer (not yet emitted or discarded).
    pub fn buffered_len(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Feed the next chunk of the body (any size, including empty or one
    /// byte); complete events are appended to `out`.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<MultipartEvent>,
    ) -> Result<(), MultipartError> {
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        for piece in chunk.chunks(PIECE) {
            if self.state == State::Epilogue {
                return Ok(());
            }
            self.take_piece(piece, out)?;
        }
        Ok(())
    }

    /// Append `piece` to the carry buffer and parse what it completes; a parse error fails the
    /// parser for good.
    fn take_piece(
        &mut self,
        piece: &[u8],
        out: &mut Vec<MultipartEvent>,
    ) -> Result<(), MultipartError> {
        self.buf.extend_from_slice(piece);
        let result = self.process(out);
        self.compact();
        if let Err(e) = &result {
            self.fail(e.clone());
        }
        result
    }

    /// Feed the next chunk without copying what can be passed on as it is: a piece of a part body
    /// with the carry buffer empty and no delimiter in it goes out as slices of `chunk` itself;
    /// anything else takes the path of [`MultipartParser::feed`], with the same events.
    pub fn feed_bytes(
        &mut self,
        chunk: &Bytes,
        out: &mut Vec<MultipartEvent>,
    ) -> Result<(), MultipartError> {
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        let mut at = 0;
        while at < chunk.len() {
            if self.state == State::Epilogue {
                return Ok(());
            }
            let end = chunk.len().min(at + PIECE);
            let piece = chunk.slice(at..end);
            at = end;
            let in_body = self.state == State::Body && !self.body_sep_pending;
            if in_body && self.pos >= self.buf.len() && self.finder.find(&piece).is_none() {
                let hold = held_tail(&self.delim, &piece, 0);
                if hold > 0 {
                    out.push(MultipartEvent::PartData(piece.slice(..hold)));
                }
                self.buf.clear();
                self.pos = 0;
                self.buf
                    .extend_from_slice(piece.get(hold..).unwrap_or_default());
                continue;
            }
            self.take_piece(&piece, out)?;
        }
        Ok(())
    }

    /// Signal end of input. Returns `Err(Truncated)` if the close delimiter was
    /// never seen (after emitting any body bytes still held back), or
    /// `Err(NoOpeningDelimiter)` if no delimiter was seen at all.
    pub fn finish(&mut self, out: &mut Vec<MultipartEvent>) -> Result<(), MultipartError> {
        let err = match &self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Epilogue => return Ok(()),
            State::Preamble => MultipartError::NoOpeningDelimiter,
            State::Body => {
                let mut rest = self.buf.get(self.pos..).unwrap_or_default();
                if self.body_sep_pending {
                    rest = rest.strip_prefix(b"\r\n").unwrap_or(rest);
                }
                if !rest.is_empty() {
                    out.push(MultipartEvent::PartData(Bytes::copy_from_slice(rest)));
                }
                MultipartError::Truncated {
                    parts_complete: self.parts_complete,
                }
            }
            State::Padding | State::Headers => MultipartError::Truncated {
                parts_complete: self.parts_complete,
            },
        };
        self.fail(err.clone());
        Err(err)
    }

    fn fail(&mut self, e: MultipartError) {
        self.state = State::Failed(e);
        self.buf = Vec::new();
        self.pos = 0;
        self.headers.clear();
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.drain(..self.pos.min(self.buf.len()));
            self.pos = 0;
        }
    }

    /// Is there a delimiter starting at `i` (which holds a `\r`)?
    fn check_delim(&self, i: usize) -> Delim {
        let avail = self.buf.get(i..).unwrap_or_default();
        let d = &self.delim;
        let n = avail.len().min(d.len());
        if avail.get(..n) != d.get(..n) {
            return Delim::No;
        }
        match (avail.get(d.len()), avail.get(d.len() + 1)) {
            (None, _) => Delim::NeedMore,
            (Some(b' ' | b'\t'), _) => Delim::Padded,
            (Some(b'-' | b'\r'), None) => Delim::NeedMore,
            (Some(b'-'), Some(b'-')) => Delim::Close,
            (Some(b'\r'), Some(b'\n')) => Delim::Line,
            _ => Delim::No,
        }
    }

    /// Emit (body) or discard (preamble) `buf[pos..end]` and advance `pos`.
    fn emit(&mut self, end: usize, out: &mut Vec<MultipartEvent>) -> Result<(), MultipartError> {
        let start = self.pos;
        if end <= start {
            return Ok(());
        }
        self.pos = end;
        if self.state == State::Preamble {
            self.preamble_bytes = self.preamble_bytes.saturating_add(end - start);
            // +2: the virtual CRLF is not part of the real preamble.
            if self.preamble_bytes > self.max_preamble.saturating_add(2) {
                return Err(MultipartError::NoOpeningDelimiter);
            }
        } else if let Some(data) = self.buf.get(start..end) {
            out.push(MultipartEvent::PartData(Bytes::copy_from_slice(data)));
        }
        Ok(())
    }

    /// Act on a delimiter found at `at`.
    fn on_delim(&mut self, kind: Delim, at: usize, out: &mut Vec<MultipartEvent>) {
        if self.part_open {
            out.push(MultipartEvent::PartEnd);
            self.part_open = false;
            self.parts_complete += 1;
        }
        self.body_sep_pending = false;
        self.header_bytes = 0;
        self.saw_header_crlf = false;
        self.header_scanned = 0;
        self.headers.clear();
        let after = at + self.delim.len();
        match kind {
            Delim::Close => {
                self.closed = true;
                self.state = State::Epilogue;
                self.pos = self.buf.len();
            }
            Delim::Line => {
                self.state = State::Headers;
                self.pos = after + 2;
            }
            _ => {
                self.state = State::Padding;
                self.pos = after;
            }
        }
    }

    fn process(&mut self, out: &mut Vec<MultipartEvent>) -> Result<(), MultipartError> {
        loop {
            match self.state {
                State::Failed(ref e) => return Err(e.clone()),
                State::Epilogue => {
                    self.pos = self.buf.len();
                    return Ok(());
                }
                State::Preamble | State::Body => {
                    if self.body_sep_pending {
                        match self.check_delim(self.pos) {
                            Delim::NeedMore => return Ok(()),
                            Delim::No => {
                                self.body_sep_pending = false;
                                self.pos += 2;
                            }
                            kind => {
                                self.on_delim(kind, self.pos, out);
                                continue;
                            }
                        }
                    }
                    let mut i = self.pos;
                    loop {
                        let found = self.buf.get(i..).and_then(|rest| self.finder.find(rest));
                        let Some(off) = found else {
                            // No whole delimiter: everything goes out but a tail that may be the
                            // start of one split across feeds.
                            let hold = held_tail(&self.delim, &self.buf, i);
                            self.emit(hold, out)?;
                            return Ok(());
                        };
                        let j = i + off;
                        match self.check_delim(j) {
                            Delim::NeedMore => {
                                self.emit(j, out)?;
                                return Ok(());
                            }
                            Delim::No => i = j + 1,
                            kind => {
                                self.emit(j, out)?;
                                self.on_delim(kind, j, out);
                                break;
                            }
                        }
                    }
                }
                State::Padding => {
                    while matches!(self.buf.get(self.pos), Some(b' ' | b'\t')) {
                        self.pos += 1;
                        self.header_bytes += 1;
                    }
                    if self.header_bytes > self.max_header_bytes {
                        return Err(MultipartError::HeaderTooLarge {
                            limit: self.max_header_bytes,
                        });
                    }
                    let bad = MultipartError::MalformedDelimiter {
                        parts_complete: self.parts_complete,
                    };
                    match (self.buf.get(self.pos), self.buf.get(self.pos + 1)) {
                        (None, _) | (Some(b'\r'), None) => return Ok(()),
                        (Some(b'\r'), Some(b'\n')) => {
                            self.pos += 2;
                            self.state = State::Headers;
                        }
                        _ => return Err(bad),
                    }
                }
                State::Headers => {
                    let rest = self.buf.get(self.pos..).unwrap_or_default();
                    // Resume the CRLF search where the previous feed stopped
                    // (minus one byte, for a CR at the end), keeping it linear.
                    let from = self.header_scanned.saturating_sub(1);
                    let found = rest
                        .get(from..)
                        .and_then(|r| r.windows(2).position(|w| w == b"\r\n"))
                        .map(|off| from + off);
                    self.header_scanned = rest.len();
                    let Some(end) = found else {
                        if self.header_bytes.saturating_add(rest.len()) > self.max_header_bytes {
                            return Err(if self.saw_header_crlf {
                                MultipartError::HeaderTooLarge {
                                    limit: self.max_header_bytes,
                                }
                            } else {
                                malformed(rest)
                            });
                        }
                        return Ok(());
                    };
                    self.header_bytes = self.header_bytes.saturating_add(end + 2);
                    if self.header_bytes > self.max_header_bytes {
                        return Err(MultipartError::HeaderTooLarge {
                            limit: self.max_header_bytes,
                        });
                    }
                    if end == 0 {
                        // Empty line: end of headers. Keep the CRLF (see body_sep_pending).
                        out.push(MultipartEvent::PartStart {
                            headers: std::mem::take(&mut self.headers),
                        });
                        self.part_open = true;
                        self.body_sep_pending = true;
                        self.state = State::Body;
                        continue;
                    }
                    self.saw_header_crlf = true;
                    self.header_scanned = 0;
                    let line = rest.get(..end).unwrap_or_default();
                    parse_header_line(line, &mut self.headers)?;
                    self.pos += end + 2;
                }
            }
        }
    }
}

/// Where the bytes of `buf` that must wait for the next feed begin: the first CR at or after `from`
/// in the last `delim.len() - 1` bytes whose remainder is a prefix of `delim` (the end of `buf` when
/// there is none). Only meaningful when no whole delimiter starts at or after `from`.
fn held_tail(delim: &[u8], buf: &[u8], from: usize) -> usize {
    let len = buf.len();
    let start = len.saturating_sub(delim.len().saturating_sub(1)).max(from);
    let tail = buf.get(start..).unwrap_or_default();
    memchr::memchr_iter(b'\r', tail)
        .map(|off| start + off)
        .find(|&at| delim.starts_with(buf.get(at..).unwrap_or_default()))
        .unwrap_or(len)
}

/// Case-insensitive lookup of the first header named `name`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The `boundary` parameter of a `multipart/*` media type (`None` if absent or empty).
pub fn boundary_of(content_type: &MediaType) -> Option<&str> {
    if content_type.type_() != "multipart" {
        return None;
    }
    content_type.param("boundary").filter(|b| !b.is_empty())
}

/// A boundary derived from `seed` (e.g. a request id): `ihe-harness-` plus 24
/// hex digits of its SHA-256. 36 characters, all RFC 2046 `bchars`.
pub fn make_boundary(seed: &[u8]) -> String {
    let digest = Sha256::digest(seed);
    format!(
        "ihe-harness-{}",
        hex::encode(digest.get(..12).unwrap_or_default())
    )
}

fn push_sanitized(out: &mut Vec<u8>, s: &str) {
    out.extend(s.bytes().filter(|&b| b != b'\r' && b != b'\n'));
}

/// Head of the **first** part: `--boundary CRLF (Name: value CRLF)* CRLF`.
///
/// Writing convention (yields a valid RFC 2046 body with an empty preamble):
/// `part_head(b, h1) ++ data1 ++ next_part_head(b, h2) ++ data2 ++ ... ++ close_delimiter(b)`.
/// The CRLF that ends each part's data belongs to the following delimiter, so
/// part data is written as-is with no trailing CRLF. CR and LF are removed from
/// header names and values to prevent header injection.
pub fn part_head(boundary: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(boundary.len() + 8 + headers.len() * 32);
    out.extend_from_slice(b"--");
    push_sanitized(&mut out, boundary);
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        push_sanitized(&mut out, name);
        out.extend_from_slice(b": ");
        push_sanitized(&mut out, value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Head of every part **after the first**: `CRLF` followed by [`part_head`].
pub fn next_part_head(boundary: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = b"\r\n".to_vec();
    out.extend_from_slice(&part_head(boundary, headers));
    out
}

/// Close delimiter ending the last part: `CRLF --boundary-- CRLF`.
pub fn close_delimiter(boundary: &str) -> Vec<u8> {
    let mut out = b"\r\n--".to_vec();
    push_sanitized(&mut out, boundary);
    out.extend_from_slice(b"--\r\n");
    out
}

/// One part for [`build_body`]: `(headers, data)`.
pub type PartSpec<'a> = (&'a [(&'a str, &'a str)], &'a [u8]);

/// Build a whole body from `(headers, data)` parts following the convention
/// documented on [`part_head`]. Holds the whole body in memory: for tests and
/// small payloads.
pub fn build_body(boundary: &str, parts: &[PartSpec<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (headers, data)) in parts.iter().enumerate() {
        if i == 0 {
            out.extend_from_slice(&part_head(boundary, headers));
        } else {
            out.extend_from_slice(&next_part_head(boundary, headers));
        }
        out.extend_from_slice(data);
    }
    out.extend_from_slice(&close_delimiter(boundary));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Merge adjacent PartData events so that chunking does not matter.
    fn normalize(events: Vec<MultipartEvent>) -> Vec<MultipartEvent> {
        let mut out: Vec<MultipartEvent> = Vec::new();
        for e in events {
            if let MultipartEvent::PartData(d) = &e {
                assert!(!d.is_empty(), "empty PartData emitted");
                if let Some(MultipartEvent::PartData(prev)) = out.last_mut() {
                    let mut v = prev.to_vec();
                    v.extend_from_slice(d);
                    *prev = Bytes::from(v);
                    continue;
                }
            }
            out.push(e);
        }
        out
    }

    fn parse_chunks(
        boundary: &str,
        chunks: &[&[u8]],
    ) -> (Vec<MultipartEvent>, Result<(), MultipartError>) {
        let mut p = MultipartParser::new(boundary);
        let mut out = Vec::new();
        for c in chunks {
            if let Err(e) = p.feed(c, &mut out) {
                return (normalize(out), Err(e));
            }
        }
        let r = p.finish(&mut out);
        (normalize(out), r)
    }

    fn parse_all(boundary: &str, body: &[u8]) -> (Vec<MultipartEvent>, Result<(), MultipartError>) {
        parse_chunks(boundary, &[body])
    }

    fn start(h: &[(&str, &str)]) -> MultipartEvent {
        MultipartEvent::PartStart {
            headers: h
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    fn data(d: &[u8]) -> MultipartEvent {
        MultipartEvent::PartData(Bytes::copy_from_slice(d))
    }

    /// A tricky but valid body: preamble, padding, near-miss boundaries in data,
    /// empty part, part without headers, epilogue.
    fn tricky_body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"preamble --bnd\r\n-- ignored\r\n");
        b.extend_from_slice(
            b"--bnd \t\r\nContent-Type: application/dicom\r\nContent-Location:  x/1 \r\n\r\n",
        );
        b.extend_from_slice(b"DATA\r\n--bn\r\n--bndX\r\n--bnd-x\r\r\n-\r\n--bnd\rEND");
        b.extend_from_slice(b"\r\n--bnd\r\nContent-Type: a/b\r\n\r\n");
        b.extend_from_slice(b"\r\n--bnd\r\n\r\nnoheaders\r\n");
        b.extend_from_slice(b"\r\n--bnd--  \r\nepilogue\r\n--bnd\r\nX: y\r\n\r\n");
        b
    }

    fn tricky_expected() -> Vec<MultipartEvent> {
        vec![
            start(&[
                ("Content-Type", "application/dicom"),
                ("Content-Location", "x/1"),
            ]),
            data(b"DATA\r\n--bn\r\n--bndX\r\n--bnd-x\r\r\n-\r\n--bnd\rEND"),
            MultipartEvent::PartEnd,
            start(&[("Content-Type", "a/b")]),
            MultipartEvent::PartEnd,
            start(&[]),
            data(b"noheaders\r\n"),
            MultipartEvent::PartEnd,
        ]
    }

    #[test]
    fn parses_tricky_body() {
        let (ev, r) = parse_all("bnd", &tricky_body());
        assert_eq!(r, Ok(()));
        assert_eq!(ev, tricky_expected());
    }

    #[test]
    fn split_at_every_position_gives_identical_events() {
        let body = tricky_body();
        let expected = tricky_expected();
        for k in 0..=body.len() {
            let (ev, r) = parse_chunks("bnd", &[&body[..k], &body[k..]]);
            assert_eq!(r, Ok(()), "split at {k}");
            assert_eq!(ev, expected, "split at {k}");
        }
        for k1 in 0..=body.len() {
            for k2 in k1..=body.len() {
                let (ev, _) = parse_chunks("bnd", &[&body[..k1], &body[k1..k2], &body[k2..]]);
                assert_eq!(ev, expected, "split at {k1},{k2}");
            }
        }
        let singles: Vec<&[u8]> = body.chunks(1).collect();
        let (ev, r) = parse_chunks("bnd", &singles);
        assert_eq!(r, Ok(()));
        assert_eq!(ev, expected);
    }

    #[test]
    fn random_splits_with_fixed_seed() {
        let h1: &[(&str, &str)] = &[("Content-Type", "application/dicom")];
        let payload: Vec<u8> = (0..5000u32)
            .map(|i| match i % 97 {
                0 => b'\r',
                1 => b'\n',
                2 | 3 => b'-',
                _ => (i % 251) as u8,
            })
            .collect();
        let body = build_body("B0undary", &[(h1, &payload), (h1, b"second")]);
        let (expected, r) = parse_all("B0undary", &body);
        assert_eq!(r, Ok(()));
        assert_eq!(
            expected,
            vec![
                start(&[("Content-Type", "application/dicom")]),
                data(&payload),
                MultipartEvent::PartEnd,
                start(&[("Content-Type", "application/dicom")]),
                data(b"second"),
                MultipartEvent::PartEnd,
            ]
        );
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..300 {
            let mut chunks = Vec::new();
            let mut i = 0;
            while i < body.len() {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let len = ((seed >> 33) % 200) as usize;
                let end = (i + len).min(body.len());
                chunks.push(&body[i..end]);
                i = end;
            }
            let (ev, r) = parse_chunks("B0undary", &chunks);
            assert_eq!(r, Ok(()));
            assert_eq!(ev, expected);
        }
    }

    #[test]
    fn writer_convention_roundtrip() {
        assert_eq!(part_head("b", &[("H", "v")]), b"--b\r\nH: v\r\n\r\n");
        assert_eq!(next_part_head("b", &[]), b"\r\n--b\r\n\r\n");
        assert_eq!(close_delimiter("b"), b"\r\n--b--\r\n");
        assert_eq!(
            part_head("b", &[("H", "v\r\nX: injected")]),
            b"--b\r\nH: vX: injected\r\n\r\n"
        );
        let body = build_body("b", &[(&[("A", "1")], b"x\r\n"), (&[], b"")]);
        let (ev, r) = parse_all("b", &body);
        assert_eq!(r, Ok(()));
        assert_eq!(
            ev,
            vec![
                start(&[("A", "1")]),
                data(b"x\r\n"),
                MultipartEvent::PartEnd,
                start(&[]),
                MultipartEvent::PartEnd
            ]
        );
        let b = make_boundary(b"seed");
        assert_eq!(b.len(), 36);
        assert_eq!(b, make_boundary(b"seed"));
    }

    #[test]
    fn boundary_of_content_type() {
        let ct = MediaType::parse(r#"multipart/related; type="application/dicom"; boundary="a b""#)
            .unwrap();
        assert_eq!(boundary_of(&ct), Some("a b"));
        let ct = MediaType::parse("multipart/related; boundary=\"\"").unwrap();
        assert_eq!(boundary_of(&ct), None);
        let ct = MediaType::parse("application/dicom; boundary=x").unwrap();
        assert_eq!(boundary_of(&ct), None);
    }

    #[test]
    fn state_accessors() {
        let mut p = MultipartParser::new("b");
        let mut out = Vec::new();
        p.feed(b"--b\r\n\r\nabc\r\n--b\r\n\r\n", &mut out).unwrap();
        assert_eq!(p.parts_complete(), 1);
        assert!(!p.closed());
        p.feed(b"\r\n--b--", &mut out).unwrap();
        assert_eq!(p.parts_complete(), 2);
        assert!(p.closed());
        p.feed(b"lots of epilogue", &mut out).unwrap();
        assert_eq!(p.buffered_len(), 0);
        assert_eq!(p.finish(&mut out), Ok(()));
    }

    #[test]
    fn close_without_parts_and_header_lookup() {
        let (ev, r) = parse_all("b", b"--b--");
        assert_eq!(r, Ok(()));
        assert!(ev.is_empty());
        let h = vec![("Content-Type".to_string(), "x/y".to_string())];
        assert_eq!(header(&h, "content-type"), Some("x/y"));
        assert_eq!(header(&h, "content-length"), None);
    }

    #[test]
    fn folded_header_lines() {
        let (ev, r) = parse_all("b", b"--b\r\nA: one\r\n  two\r\n\r\nd\r\n--b--");
        assert_eq!(r, Ok(()));
        assert_eq!(ev[0], start(&[("A", "one two")]));
        let (_, r) = parse_all("b", b"--b\r\n two\r\n\r\nd\r\n--b--");
        assert!(matches!(r, Err(MultipartError::MalformedHeader { .. })));
    }

    #[test]
    fn truncated_body() {
        let (ev, r) = parse_all("b", b"--b\r\nA: 1\r\n\r\nabc\r\n--b\r\n\r\ndef\r\n--");
        assert_eq!(r, Err(MultipartError::Truncated { parts_complete: 1 }));
        assert_eq!(ev.last(), Some(&data(b"def\r\n--")));
        let (_, r) = parse_all("b", b"--b\r\nA: 1\r\n");
        assert_eq!(r, Err(MultipartError::Truncated { parts_complete: 0 }));
        let (_, r) = parse_all("b", b"--b  ");
        assert_eq!(r, Err(MultipartError::Truncated { parts_complete: 0 }));
    }

    #[test]
    fn missing_close_delimiter() {
        let (ev, r) = parse_all("b", b"--b\r\n\r\nabc\r\n--b\r\n\r\ndef\r\n");
        assert_eq!(r, Err(MultipartError::Truncated { parts_complete: 1 }));
        assert_eq!(normalize(ev).last(), Some(&data(b"def\r\n")));
    }

    #[test]
    fn errors_are_sticky() {
        let mut p = MultipartParser::new("b");
        let mut out = Vec::new();
        assert!(p.finish(&mut out).is_err());
        assert_eq!(
            p.feed(b"--b--", &mut out),
            Err(MultipartError::NoOpeningDelimiter)
        );
        assert_eq!(p.finish(&mut out), Err(MultipartError::NoOpeningDelimiter));
    }

    #[test]
    fn wrong_boundary() {
        let body = build_body("right", &[(&[], b"x")]);
        let (ev, r) = parse_all("wrong", &body);
        assert_eq!(r, Err(MultipartError::NoOpeningDelimiter));
        assert!(ev.is_empty());
        // boundary that is a prefix of the real one is not matched either
        let (_, r) = parse_all("rig", &body);
        assert_eq!(r, Err(MultipartError::NoOpeningDelimiter));
        // preamble limit exceeded during feed
        let mut p = MultipartParser::with_limits("b", 100, 100);
        let mut out = Vec::new();
        assert_eq!(p.feed(&[b'x'; 50], &mut out), Ok(()));
        assert_eq!(
            p.feed(&[b'x'; 60], &mut out),
            Err(MultipartError::NoOpeningDelimiter)
        );
        // LF-only line endings never match a delimiter
        let (_, r) = parse_all("b", b"--b\n\nabc\n--b--\n");
        assert_eq!(r, Err(MultipartError::NoOpeningDelimiter));
    }

    #[test]
    fn invalid_boundaries() {
        for b in ["", "a\r\nb"] {
            let (_, r) = parse_all(b, b"--\r\n\r\n");
            assert!(
                matches!(r, Err(MultipartError::InvalidBoundary { .. })),
                "{b:?}"
            );
        }
        let long = "x".repeat(MAX_BOUNDARY_LEN + 1);
        let (_, r) = parse_all(&long, b"");
        assert!(matches!(r, Err(MultipartError::InvalidBoundary { .. })));
        let ok = "x".repeat(MAX_BOUNDARY_LEN);
        let (_, r) = parse_all(&ok, &build_body(&ok, &[(&[], b"z")]));
        assert_eq!(r, Ok(()));
    }

    #[test]
    fn malformed_delimiter_padding() {
        let (_, r) = parse_all("b", b"--b  x\r\n\r\n");
        assert_eq!(
            r,
            Err(MultipartError::MalformedDelimiter { parts_complete: 0 })
        );
        let (_, r) = parse_all("b", b"--b \r\r\n");
        assert_eq!(
            r,
            Err(MultipartError::MalformedDelimiter { parts_complete: 0 })
        );
    }

    #[test]
    fn header_too_large() {
        let mut body = b"--b\r\n".to_vec();
        for i in 0..2000 {
            body.extend_from_slice(format!("X-H{i}: aaaaaaaaaaaa\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\nabc\r\n--b--");
        let (_, r) = parse_all("b", &body);
        assert_eq!(
            r,
            Err(MultipartError::HeaderTooLarge {
                limit: DEFAULT_MAX_HEADER_BYTES
            })
        );
        // streamed byte by byte: the buffer never exceeds the limit
        let mut p = MultipartParser::new("b");
        let mut out = Vec::new();
        let mut err = None;
        for c in body.chunks(7) {
            if let Err(e) = p.feed(c, &mut out) {
                err = Some(e);
                break;
            }
            assert!(p.buffered_len() <= DEFAULT_MAX_HEADER_BYTES + 16);
        }
        assert_eq!(
            err,
            Some(MultipartError::HeaderTooLarge {
                limit: DEFAULT_MAX_HEADER_BYTES
            })
        );
        // one huge line without CRLF is malformed, reported bounded
        let mut body = b"--b\r\nX: ".to_vec();
        body.extend(std::iter::repeat_n(b'a', 20_000));
        let (_, r) = parse_all("b", &body);
        match r {
            Err(MultipartError::MalformedHeader { line }) => assert_eq!(line.chars().count(), 200),
            other => panic!("unexpected {other:?}"),
        }
        // padding counts against the header limit
        let mut p = MultipartParser::with_limits("b", 10, 10);
        let mut out = Vec::new();
        let mut body = b"--b".to_vec();
        body.extend_from_slice(&[b' '; 20]);
        assert_eq!(
            p.feed(&body, &mut out),
            Err(MultipartError::HeaderTooLarge { limit: 10 })
        );
    }

    #[test]
    fn malformed_headers() {
        for bad in [
            &b"no colon"[..],
            b": empty name",
            b"bad name: v",
            b"A\nB: v",
            b"\xff\xfe: v",
        ] {
            let mut body = b"--b\r\n".to_vec();
            body.extend_from_slice(bad);
            body.extend_from_slice(b"\r\n\r\nx\r\n--b--");
            let (_, r) = parse_all("b", &body);
            assert!(
                matches!(r, Err(MultipartError::MalformedHeader { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn invalid_utf8_in_header_values_is_lossy() {
        let (ev, r) = parse_all("b", b"--b\r\nX-Name: caf\xe9 \xff\r\n\r\nd\r\n--b--");
        assert_eq!(r, Ok(()));
        match &ev[0] {
            MultipartEvent::PartStart { headers } => {
                assert_eq!(headers[0].0, "X-Name");
                assert!(headers[0].1.starts_with("caf\u{fffd}"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed: u64 = 42;
        let alphabet = b"\r\n-b \t:xA\xff";
        for _ in 0..2000 {
            let mut body = Vec::new();
            for _ in 0..64 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                body.push(alphabet[((seed >> 33) % alphabet.len() as u64) as usize]);
            }
            let (_, _) = parse_all("b", &body);
            let singles: Vec<&[u8]> = body.chunks(1).collect();
            let _ = parse_chunks("b", &singles);
        }
    }

    #[test]
    fn fifty_megabytes_bounded_buffer() {
        const TOTAL: usize = 50 * 1024 * 1024;
        let boundary = "0123456789abcdef0123456789abcdef";
        let mut chunk = vec![b'a'; 64 * 1024];
        // near-misses, including one straddling the chunk end
        for (i, b) in b"\r\n--0123456789abcdef".iter().enumerate() {
            chunk[1000 + i] = *b;
            chunk[64 * 1024 - 10 + i.min(9)] = *b;
        }
        let mut p = MultipartParser::new(boundary);
        let mut out = Vec::new();
        p.feed(
            &part_head(boundary, &[("Content-Type", "application/dicom")]),
            &mut out,
        )
        .unwrap();
        let mut data_len = 0usize;
        let mut max_buffered = 0usize;
        let mut fed = 0usize;
        while fed < TOTAL {
            p.feed(&chunk, &mut out).unwrap();
            fed += chunk.len();
            max_buffered = max_buffered.max(p.buffered_len());
            for e in out.drain(..) {
                if let MultipartEvent::PartData(d) = e {
                    assert!(d.len() <= PIECE + 64);
                    data_len += d.len();
                }
            }
        }
        p.feed(&close_delimiter(boundary), &mut out).unwrap();
        p.finish(&mut out).unwrap();
        for e in out.drain(..) {
            if let MultipartEvent::PartData(d) = e {
                data_len += d.len();
            }
        }
        assert_eq!(data_len, TOTAL);
        assert!(
            max_buffered <= boundary.len() + 6,
            "buffered {max_buffered}"
        );
        assert_eq!(p.parts_complete(), 1);
    }

    #[test]
    fn delimiter_split_across_feeds_is_held_back_only_while_it_may_be_one() {
        let boundary = "frontier";
        let mut body = part_head(boundary, &[("Content-Type", "application/dicom")]);
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        body.extend_from_slice(&payload);
        body.extend_from_slice(&next_part_head(boundary, &[]));
        body.extend_from_slice(b"second");
        body.extend_from_slice(&close_delimiter(boundary));
        let cut = body.len() - close_delimiter(boundary).len() - b"second".len();
        let delim_at = cut - next_part_head(boundary, &[]).len();
        for split in delim_at..delim_at + 14 {
            let mut p = MultipartParser::new(boundary);
            let mut out = Vec::new();
            p.feed(&body[..split], &mut out).unwrap();
            // Nothing but a possible delimiter prefix waits for the next feed.
            assert!(
                p.buffered_len() <= "\r\n--frontier\r\n".len(),
                "split {split}"
            );
            let emitted: usize = out
                .iter()
                .map(|e| match e {
                    MultipartEvent::PartData(d) => d.len(),
                    _ => 0,
                })
                .sum();
            // The whole payload is out as soon as the delimiter after it has begun.
            assert_eq!(emitted, payload.len(), "split {split}");
            p.feed(&body[split..], &mut out).unwrap();
            p.finish(&mut out).unwrap();
            let ev = normalize(out);
            assert_eq!(ev.len(), 6, "split {split}");
            assert_eq!(ev[1], data(&payload), "split {split}");
            assert_eq!(
                ev[4],
                MultipartEvent::PartData(Bytes::from_static(b"second"))
            );
        }
    }

    #[test]
    fn a_cr_that_cannot_start_a_delimiter_is_not_held_back() {
        let mut p = MultipartParser::new("b");
        let mut out = Vec::new();
        p.feed(b"--b\r\n\r\nabc\r\n-x", &mut out).unwrap();
        assert_eq!(p.buffered_len(), 0);
        p.feed(b"yz\r\n-", &mut out).unwrap();
        assert_eq!(p.buffered_len(), 3);
        p.feed(b"-b--", &mut out).unwrap();
        p.finish(&mut out).unwrap();
        assert_eq!(
            normalize(out),
            vec![start(&[]), data(b"abc\r\n-xyz"), MultipartEvent::PartEnd]
        );
    }

    #[test]
    fn truncated_inside_a_delimiter_keeps_the_held_bytes_as_data() {
        let mut p = MultipartParser::new("boundary");
        let mut out = Vec::new();
        p.feed(b"--boundary\r\n\r\npayload\r\n--bound", &mut out)
            .unwrap();
        assert_eq!(
            p.finish(&mut out),
            Err(MultipartError::Truncated { parts_complete: 0 })
        );
        assert_eq!(
            normalize(out),
            vec![start(&[]), data(b"payload\r\n--bound")]
        );
    }

    fn parse_bytes_chunks(boundary: &str, chunks: &[&[u8]]) -> Vec<MultipartEvent> {
        let mut p = MultipartParser::new(boundary);
        let mut out = Vec::new();
        for c in chunks {
            if p.feed_bytes(&Bytes::copy_from_slice(c), &mut out).is_err() {
                return normalize(out);
            }
        }
        let _ = p.finish(&mut out);
        normalize(out)
    }

    #[test]
    fn feed_bytes_gives_the_events_of_feed_at_every_split() {
        let body = tricky_body();
        for k1 in 0..=body.len() {
            for k2 in k1..=body.len() {
                let chunks: &[&[u8]] = &[&body[..k1], &body[k1..k2], &body[k2..]];
                assert_eq!(
                    parse_bytes_chunks("bnd", chunks),
                    tricky_expected(),
                    "split at {k1},{k2}"
                );
            }
        }
        let singles: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(parse_bytes_chunks("bnd", &singles), tricky_expected());
    }

    #[test]
    fn feed_bytes_passes_part_bodies_on_without_copying_them() {
        let boundary = "frontier";
        let mut p = MultipartParser::new(boundary);
        let mut out = Vec::new();
        let head = Bytes::from(part_head(boundary, &[]));
        p.feed_bytes(&head, &mut out).unwrap();
        // One byte of the body arrives with the head, so that the body separator is settled.
        p.feed_bytes(&Bytes::from_static(b"x"), &mut out).unwrap();
        let chunk = Bytes::from(vec![7u8; 3 * PIECE + 5]);
        out.clear();
        p.feed_bytes(&chunk, &mut out).unwrap();
        assert_eq!(out.len(), 4);
        let range = chunk.as_ptr_range();
        for e in &out {
            let MultipartEvent::PartData(d) = e else {
                panic!("not data")
            };
            assert!(range.contains(&d.as_ptr()), "a copy was emitted");
            assert!(d.len() <= PIECE);
        }
        // A chunk ending in what may begin a delimiter keeps only that tail.
        out.clear();
        p.feed_bytes(&Bytes::from_static(b"abc\r\n--fron"), &mut out)
            .unwrap();
        assert_eq!(out, vec![data(b"abc")]);
        assert_eq!(p.buffered_len(), 8);
        out.clear();
        p.feed_bytes(&Bytes::from_static(b"tier--"), &mut out)
            .unwrap();
        p.finish(&mut out).unwrap();
        assert_eq!(out, vec![MultipartEvent::PartEnd]);
    }

    #[test]
    fn feed_bytes_truncated_body() {
        let body = b"--b\r\n\r\nsome data\r\n--";
        for k in 0..=body.len() {
            let mut p = MultipartParser::new("b");
            let mut out = Vec::new();
            p.feed_bytes(&Bytes::copy_from_slice(&body[..k]), &mut out)
                .unwrap();
            p.feed_bytes(&Bytes::copy_from_slice(&body[k..]), &mut out)
                .unwrap();
            assert_eq!(
                p.finish(&mut out),
                Err(MultipartError::Truncated { parts_complete: 0 }),
                "split at {k}"
            );
            assert_eq!(
                normalize(out),
                vec![start(&[]), data(b"some data\r\n--")],
                "split at {k}"
            );
        }
    }
}
