//! MTOM/XOP packages: `cid:` URLs and `xop:Include` ([`cid_url`], [`xop_include`]), packaging
//! an envelope with its attachments ([`mtom`]) and reading one back ([`parse_mtom`]).

use super::*;
use crate::transport::digest::Identity;

/// Percent-encode a Content-ID (without `<>`) for use in a `cid:` URL (RFC 2392): everything
/// except RFC 3986 unreserved characters, `@` and `.` is encoded.
pub fn cid_url(content_id: &str) -> String {
    let mut out = String::from("cid:");
    for b in content_id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Content-ID a `cid:` URL names: `cid:` prefix removed (case-insensitively) and
/// percent-decoded (RFC 2392).
pub fn content_id_of_cid_url(href: &str) -> Result<String, SoapError> {
    let bad = || SoapError::BadCid(href.chars().take(200).collect());
    let rest = href
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("cid:"))
        .and_then(|_| href.get(4..))
        .ok_or_else(bad)?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hexpair = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let s = std::str::from_utf8(hexpair).map_err(|_| bad())?;
            out.push(u8::from_str_radix(s, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    let s = String::from_utf8(out).map_err(|_| bad())?;
    if s.is_empty() {
        return Err(bad());
    }
    Ok(s)
}

/// An `xop:Include` element referring to `content_id` (declares its own namespace).
pub fn xop_include(content_id: &str) -> String {
    let mut w = Writer::new(Vec::new());
    let href = cid_url(content_id);
    let el = BytesStart::new("xop:Include")
        .with_attributes([("xmlns:xop", NS_XOP), ("href", href.as_str())]);
    if w.write_event(Event::Empty(el)).is_err() {
        return String::new();
    }
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

/// One attachment for [`mtom`]: `(content_id without <>, content type, bytes)`.
pub type AttachmentSpec<'a> = (&'a str, &'a str, &'a [u8]);

/// Package a SOAP envelope and its attachments as MTOM/XOP (`multipart/related;
/// type="application/xop+xml"; start-info="application/soap+xml"`), as ITI TF-2 Appendix V and
/// RAD TF-2 4.68/4.69 use it. The envelope must already refer to each attachment with an
/// `xop:Include href="cid:..."` (see [`xop_include`]). Returns the HTTP `Content-Type` value and
/// the body. The `action` parameter is copied from the envelope's `wsa:Action` when present.
pub fn mtom(envelope_xml: &str, attachments: &[AttachmentSpec<'_>]) -> (String, Vec<u8>) {
    let mut seed = Sha256::new();
    seed.update(envelope_xml.as_bytes());
    for (cid, ct, data) in attachments {
        seed.update(cid.as_bytes());
        seed.update(ct.as_bytes());
        seed.update(data);
    }
    let mut seed = seed.finalize().to_vec();
    let mut boundary = make_boundary(&seed);
    // The boundary must not occur in any part; derive another one in the unlikely event it does.
    for _ in 0..8 {
        let needle = format!("--{boundary}");
        let clash = memchr::memmem::find(envelope_xml.as_bytes(), needle.as_bytes()).is_some()
            || attachments
                .iter()
                .any(|(_, _, d)| memchr::memmem::find(d, needle.as_bytes()).is_some());
        if !clash {
            break;
        }
        seed.push(0);
        boundary = make_boundary(&seed);
    }
    let action = parse_envelope(envelope_xml.as_bytes())
        .ok()
        .and_then(|e| e.addressing.action.map(|a| a.value));
    let root_ct = format!("{XOP_XML}; charset=UTF-8; type=\"{SOAP_XML}\"");
    let root_cid = format!("<{ROOT_CONTENT_ID}>");
    let root_headers: Vec<(&str, &str)> = vec![
        ("Content-Type", root_ct.as_str()),
        ("Content-Transfer-Encoding", "binary"),
        ("Content-ID", root_cid.as_str()),
    ];
    let att_cids: Vec<String> = attachments
        .iter()
        .map(|(c, _, _)| format!("<{c}>"))
        .collect();
    let att_headers: Vec<Vec<(&str, &str)>> = attachments
        .iter()
        .zip(att_cids.iter())
        .map(|((_, ct, _), cid)| {
            vec![
                ("Content-Type", *ct),
                ("Content-Transfer-Encoding", "binary"),
                ("Content-ID", cid.as_str()),
            ]
        })
        .collect();
    let mut parts: Vec<PartSpec<'_>> = vec![(root_headers.as_slice(), envelope_xml.as_bytes())];
    for (h, (_, _, d)) in att_headers.iter().zip(attachments.iter()) {
        parts.push((h.as_slice(), d));
    }
    let body = build_body(&boundary, &parts);
    let mut media = MediaType::new("multipart/related")
        .with_param("boundary", &boundary)
        .with_param("type", XOP_XML)
        .with_param("start", &root_cid)
        .with_param("start-info", SOAP_XML);
    if let Some(a) = action.as_deref() {
        media = media.with_param("action", a);
    }
    (media.to_header_value(), body)
}

/// Bounds applied while reading an MTOM package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MtomLimits {
    /// Largest root (SOAP) part kept; a larger one is an error.
    pub max_root_bytes: usize,
    /// Attachments larger than this are not kept in memory: only size and SHA-256 are reported.
    pub max_attachment_in_memory: usize,
    /// Most parts accepted.
    pub max_parts: usize,
    /// Limits for parsing the root envelope.
    pub xml: XmlLimits,
}

impl Default for MtomLimits {
    /// 64 MiB root, 64 MiB per in-memory attachment, 10 000 parts.
    fn default() -> Self {
        MtomLimits {
            max_root_bytes: 64 * 1024 * 1024,
            max_attachment_in_memory: 64 * 1024 * 1024,
            max_parts: 10_000,
            xml: XmlLimits::default(),
        }
    }
}

/// Bytes of one attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentData {
    /// Kept in memory (at most [`MtomLimits::max_attachment_in_memory`] bytes).
    InMemory(Bytes),
    /// Above the in-memory cap: only measured. A caller that needs the bytes streams the body
    /// through [`MultipartParser`] itself and spools to disk.
    Oversize {
        /// Total size in bytes.
        size: u64,
        /// Identity digest of the bytes (BLAKE3, lowercase hex: [`Identity`]).
        blake3: String,
    },
}

impl AttachmentData {
    /// Size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            AttachmentData::InMemory(b) => b.len() as u64,
            AttachmentData::Oversize { size, .. } => *size,
        }
    }

    /// True when the attachment is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes when kept in memory.
    pub fn bytes(&self) -> Option<&Bytes> {
        match self {
            AttachmentData::InMemory(b) => Some(b),
            AttachmentData::Oversize { .. } => None,
        }
    }
}

/// One non-root MIME part of an MTOM package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtomAttachment {
    /// `Content-ID` with the angle brackets removed (as sent, not percent-decoded).
    pub content_id: Option<String>,
    /// `Content-Type` header value.
    pub content_type: Option<String>,
    /// The bytes or their measurements.
    pub data: AttachmentData,
}

/// A parsed MTOM/XOP package.
#[derive(Debug, Clone, PartialEq)]
pub struct MtomMessage {
    /// The HTTP `Content-Type`, parsed.
    pub content_type: MediaType,
    /// `Content-Type` of the root part.
    pub root_content_type: Option<String>,
    /// `Content-ID` of the root part (brackets removed).
    pub root_content_id: Option<String>,
    /// Bytes of the root part (the SOAP envelope).
    pub root: Vec<u8>,
    /// The other parts in order.
    pub attachments: Vec<MtomAttachment>,
}

impl MtomMessage {
    /// Parse the root part as a SOAP envelope.
    pub fn envelope(&self, limits: &XmlLimits) -> Result<Envelope, SoapError> {
        parse_envelope_with(&self.root, limits)
    }

    /// The attachment an `xop:Include/@href` (`cid:...`) names. The href is percent-decoded and
    /// compared with each Content-ID, itself also compared percent-decoded, because some senders
    /// encode the header too.
    pub fn resolve(&self, href: &str) -> Option<&MtomAttachment> {
        let want = content_id_of_cid_url(href).ok()?;
        self.attachments.iter().find(|a| {
            a.content_id.as_deref().is_some_and(|c| {
                c == want || content_id_of_cid_url(&format!("cid:{c}")).is_ok_and(|d| d == want)
            })
        })
    }
}

fn strip_angle(s: &str) -> String {
    let t = s.trim();
    t.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(t)
        .to_owned()
}

/// True when a `Content-Type` value is `multipart/related` (whatever its parameters).
pub fn is_multipart_related(content_type: &str) -> bool {
    MediaType::parse(content_type).is_ok_and(|m| m.is_multipart_related())
}

struct PartAcc {
    headers: Vec<(String, String)>,
    data: Vec<u8>,
    size: u64,
    /// Set once the part outgrew its in-memory cap: from then on it is only measured, and its
    /// identity digest (started with the bytes held until then) is all that is kept.
    spilled: Option<Identity>,
}

/// Read an MTOM/XOP HTTP body given its `Content-Type` header value. The root part is the one
/// whose Content-ID equals the `start` parameter, or the first part when `start` is absent.
pub fn parse_mtom(
    content_type: &str,
    body: &[u8],
    limits: &MtomLimits,
) -> Result<MtomMessage, SoapError> {
    let media = MediaType::parse(content_type).map_err(|e| SoapError::BadContentType {
        value: content_type.chars().take(200).collect(),
        reason: e.to_string(),
    })?;
    if !media.is_multipart_related() {
        return Err(SoapError::NotMultipartRelated(media.essence.clone()));
    }
    let boundary = boundary_of(&media)
        .ok_or_else(|| SoapError::NotMultipartRelated(media.to_header_value()))?
        .to_owned();
    let start = media.param("start").map(strip_angle);
    let mut parser = MultipartParser::new(&boundary);
    let mut events = Vec::new();
    let mut parts: Vec<(Vec<(String, String)>, AttachmentData)> = Vec::new();
    let mut cur: Option<PartAcc> = None;
    // The root part must be held whole; other parts up to the in-memory cap.
    let cap_for = |headers: &[(String, String)], first: bool| -> usize {
        let cid = header(headers, "Content-ID").map(strip_angle);
        let is_root = match &start {
            Some(s) => cid.as_deref() == Some(s.as_str()),
            None => first,
        };
        if is_root {
            limits.max_root_bytes
        } else {
            limits.max_attachment_in_memory
        }
    };
    let handle = |events: &mut Vec<MultipartEvent>,
                  parts: &mut Vec<(Vec<(String, String)>, AttachmentData)>,
                  cur: &mut Option<PartAcc>|
     -> Result<(), SoapError> {
        for ev in events.drain(..) {
            match ev {
                MultipartEvent::PartStart { headers } => {
                    if parts.len() >= limits.max_parts {
                        return Err(SoapError::TooManyParts {
                            limit: limits.max_parts,
                        });
                    }
                    *cur = Some(PartAcc {
                        headers,
                        data: Vec::new(),
                        size: 0,
                        spilled: None,
                    });
                }
                MultipartEvent::PartData(d) => {
                    if let Some(p) = cur.as_mut() {
                        let cap = cap_for(&p.headers, parts.is_empty());
                        p.size += d.len() as u64;
                        if p.spilled.is_none() && p.data.len() + d.len() > cap {
                            let mut h = Identity::new();
                            h.update(&p.data);
                            p.spilled = Some(h);
                            p.data = Vec::new();
                        }
                        match p.spilled.as_mut() {
                            Some(h) => h.update(&d),
                            None => p.data.extend_from_slice(&d),
                        }
                    }
                }
                MultipartEvent::PartEnd => {
                    if let Some(p) = cur.take() {
                        let data = match p.spilled {
                            Some(h) => AttachmentData::Oversize {
                                size: p.size,
                                blake3: h.finish_hex(),
                            },
                            None => AttachmentData::InMemory(Bytes::from(p.data)),
                        };
                        parts.push((p.headers, data));
                    }
                }
            }
        }
        Ok(())
    };
    for chunk in body.chunks(64 * 1024) {
        parser.feed(chunk, &mut events)?;
        handle(&mut events, &mut parts, &mut cur)?;
    }
    let finished = parser.finish(&mut events);
    handle(&mut events, &mut parts, &mut cur)?;
    finished?;
    let root_index = match &start {
        Some(s) => parts
            .iter()
            .position(|(h, _)| header(h, "Content-ID").map(strip_angle).as_deref() == Some(s)),
        None => (!parts.is_empty()).then_some(0),
    }
    .ok_or(SoapError::NoRootPart {
        start: start.clone(),
    })?;
    let (root_headers, root_data) = parts.remove(root_index);
    let root = match root_data {
        AttachmentData::InMemory(b) => b.to_vec(),
        AttachmentData::Oversize { .. } => {
            return Err(SoapError::RootTooLarge {
                limit: limits.max_root_bytes,
            })
        }
    };
    let attachments = parts
        .into_iter()
        .map(|(h, data)| MtomAttachment {
            content_id: header(&h, "Content-ID").map(strip_angle),
            content_type: header(&h, "Content-Type").map(str::to_owned),
            data,
        })
        .collect();
    Ok(MtomMessage {
        root_content_type: header(&root_headers, "Content-Type").map(str::to_owned),
        root_content_id: header(&root_headers, "Content-ID").map(strip_angle),
        content_type: media,
        root,
        attachments,
    })
}
