//! SOAP 1.2 envelopes with WS-Addressing, and MTOM/XOP packaging, as IHE web services use them
//! (ITI TF-2 Appendix V "Web Services for IHE Transactions"; W3C SOAP 1.2 Part 1 §5; W3C
//! WS-Addressing 1.0 Core and SOAP Binding; W3C SOAP MTOM and XOP 1.0; RFC 2387 multipart/related;
//! RFC 2392 `cid:` URLs). Pinned editions: IHE ITI TF-2 Rev. 20.0 (2023), SOAP 1.2 Second Edition,
//! XOP 1.0 Recommendation (2005).
//!
//! This module speaks the wire and knows nothing of conformance. [`parse_envelope`] records what
//! a message carries (SOAP version, header order, addressing headers, body element, fault) without
//! judging it, so that `model::ebrim`'s validators can cite the rule a message breaks instead of
//! failing at parse time.
//!
//! XML from a system under test may be hostile, so every document goes through [`parse_xml`]: a
//! bounded reader on quick-xml that rejects any `<!DOCTYPE` (no DTD, hence no entity expansion
//! and no external entities), resolves only the five predefined entities and character
//! references, and caps input size, nesting depth and element count. MTOM bodies are read with the
//! streaming [`MultipartParser`]; attachments above a caller-chosen size are not kept in memory,
//! only their size and SHA-256.

use std::ops::Range;

use bytes::Bytes;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer, XmlVersion};
use sha2::{Digest, Sha256};

use crate::transport::media_type::MediaType;
use crate::transport::multipart::{
    boundary_of, build_body, header, make_boundary, MultipartError, MultipartEvent,
    MultipartParser, PartSpec,
};

/// SOAP 1.2 envelope namespace (the only one IHE allows, ITI TF-2 Appendix V).
pub const NS_SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
/// SOAP 1.1 envelope namespace (recognised only to report it).
pub const NS_SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// WS-Addressing 1.0 namespace.
pub const NS_WSA: &str = "http://www.w3.org/2005/08/addressing";
/// XOP 1.0 namespace of `xop:Include`.
pub const NS_XOP: &str = "http://www.w3.org/2004/08/xop/include";
/// XML Media Types namespace (`xmime:contentType`).
pub const NS_XMIME: &str = "http://www.w3.org/2005/05/xmlmime";
/// WS-Addressing anonymous endpoint, used as `wsa:ReplyTo` for synchronous exchanges.
pub const WSA_ANONYMOUS: &str = "http://www.w3.org/2005/08/addressing/anonymous";
/// Media type of the MTOM root part (`application/xop+xml`).
pub const XOP_XML: &str = "application/xop+xml";
/// SOAP 1.2 media type (the `start-info` / `type` of an MTOM package).
pub const SOAP_XML: &str = "application/soap+xml";
/// Content-ID given to the root part of packages built by [`mtom`].
pub const ROOT_CONTENT_ID: &str = "root.message@ihe-harness";

/// Bounds applied while parsing XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Largest document accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting accepted (the root element is depth 1).
    pub max_depth: usize,
    /// Most elements accepted in one document.
    pub max_elements: usize,
}

impl Default for XmlLimits {
    /// 64 MiB, depth 64, one million elements: far above any XDS metadata seen in practice.
    fn default() -> Self {
        XmlLimits {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            max_elements: 1_000_000,
        }
    }
}

/// Errors of the hardened XML reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// The document is larger than [`XmlLimits::max_bytes`].
    #[error("XML document of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Elements nest deeper than [`XmlLimits::max_depth`].
    #[error("XML nesting exceeds {limit} levels at byte {offset}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
        /// Byte offset where the limit was crossed.
        offset: u64,
    },
    /// More elements than [`XmlLimits::max_elements`].
    #[error("XML document has more than {limit} elements")]
    TooManyElements {
        /// The configured limit.
        limit: usize,
    },
    /// A `<!DOCTYPE` declaration: refused because DTDs can define entities (billion laughs, XXE).
    #[error("XML document type declarations (<!DOCTYPE) are not accepted (byte {offset})")]
    DoctypeForbidden {
        /// Byte offset of the declaration.
        offset: u64,
    },
    /// An entity reference other than the five predefined ones.
    #[error("undeclared XML entity reference &{name}; at byte {offset}")]
    UnknownEntity {
        /// The entity name.
        name: String,
        /// Byte offset.
        offset: u64,
    },
    /// Bytes that are not UTF-8 (IHE messages are UTF-8).
    #[error("XML content is not valid UTF-8 near byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the event holding the bad bytes.
        offset: u64,
    },
    /// The reader found a syntax error (unclosed tag, mismatched end tag, bad attribute, ...).
    #[error("malformed XML at byte {offset}: {message}")]
    Malformed {
        /// Byte offset.
        offset: u64,
        /// The reader's description.
        message: String,
    },
    /// No root element (empty document, or only prolog).
    #[error("XML document has no root element")]
    NoRootElement,
    /// Input ended inside an element.
    #[error("XML document is truncated: {open} element(s) still open at end of input")]
    Truncated {
        /// Number of unclosed elements.
        open: usize,
    },
    /// Non-whitespace text or a second element after the root element.
    #[error("content after the XML root element at byte {offset}")]
    TrailingContent {
        /// Byte offset.
        offset: u64,
    },
}

/// An attribute with its namespace resolved (`ns` is `None` for unprefixed attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlAttr {
    /// Namespace URI of a prefixed attribute.
    pub ns: Option<String>,
    /// Local name.
    pub local: String,
    /// Value with entities and character references resolved and whitespace normalised as XML 1.0
    /// attribute-value normalisation prescribes.
    pub value: String,
}

/// One element of a parsed document, namespaces resolved. Namespace declarations (`xmlns`,
/// `xmlns:*`) are not kept as attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlElement {
    /// Namespace URI, `None` when the element is in no namespace.
    pub ns: Option<String>,
    /// Local name.
    pub local: String,
    /// Attributes in document order.
    pub attrs: Vec<XmlAttr>,
    /// Child elements in document order.
    pub children: Vec<XmlElement>,
    /// Concatenated character data directly inside this element (CDATA included).
    pub text: String,
    /// Bytes of the whole element, from `<` of the start tag to `>` of the end tag.
    pub span: Range<usize>,
    /// Bytes between the start tag and the end tag (empty for `<a/>`).
    pub inner: Range<usize>,
}

impl XmlElement {
    /// True when the element has namespace `ns` and local name `local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.local == local
    }

    /// Value of the unprefixed attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Value of the attribute `local` in namespace `ns`.
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// First child named `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&XmlElement> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// All children named `{ns}local`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a XmlElement> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    /// Text content with surrounding whitespace removed.
    pub fn text_trimmed(&self) -> &str {
        self.text.trim()
    }

    /// Text of the first child `{ns}local`, trimmed.
    pub fn child_text(&self, ns: &str, local: &str) -> Option<&str> {
        self.child(ns, local).map(XmlElement::text_trimmed)
    }

    /// First descendant (depth first, self excluded) named `{ns}local`.
    pub fn find(&self, ns: &str, local: &str) -> Option<&XmlElement> {
        for c in &self.children {
            if c.is(ns, local) {
                return Some(c);
            }
            if let Some(found) = c.find(ns, local) {
                return Some(found);
            }
        }
        None
    }

    /// Every descendant (self excluded) named `{ns}local`, in document order.
    pub fn find_all<'a>(&'a self, ns: &str, local: &str, out: &mut Vec<&'a XmlElement>) {
        for c in &self.children {
            if c.is(ns, local) {
                out.push(c);
            }
            c.find_all(ns, local, out);
        }
    }
}

fn malformed(offset: u64, e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed {
        offset,
        message: e.to_string(),
    }
}

fn resolved_ns(r: &ResolveResult<'_>, offset: u64) -> Result<Option<String>, XmlError> {
    match r {
        ResolveResult::Bound(ns) => std::str::from_utf8(ns.0)
            .map(|s| Some(s.to_owned()))
            .map_err(|_| XmlError::InvalidUtf8 { offset }),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(XmlError::Malformed {
            offset,
            message: format!(
                "undeclared namespace prefix {}",
                crate::evidence::quote(&String::from_utf8_lossy(p))
            ),
        }),
    }
}

/// Parse a whole document into an [`XmlElement`] tree, enforcing `limits`.
///
/// Rejects `<!DOCTYPE`, undeclared entities, undeclared prefixes, invalid UTF-8, mismatched tags,
/// truncation and content after the root element. Never panics on any input.
pub fn parse_xml(bytes: &[u8], limits: &XmlLimits) -> Result<XmlElement, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let mut reader = NsReader::from_reader(bytes);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text_start = false;
        cfg.trim_text_end = false;
    }
    let mut buf = Vec::new();
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    let mut elements = 0usize;
    loop {
        let before = reader.buffer_position();
        buf.clear();
        let (ns, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok((res, ev)) => (resolved_ns(&res, before), ev),
            Err(e) => return Err(malformed(reader.error_position(), e)),
        };
        let after = reader.buffer_position();
        let start_off = usize::try_from(before).unwrap_or(usize::MAX);
        let end_off = usize::try_from(after).unwrap_or(usize::MAX);
        match event {
            Event::DocType(_) => return Err(XmlError::DoctypeForbidden { offset: before }),
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() {
                    return Err(XmlError::TrailingContent { offset: before });
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements {
                        limit: limits.max_elements,
                    });
                }
                if stack.len() + 1 > limits.max_depth {
                    return Err(XmlError::TooDeep {
                        limit: limits.max_depth,
                        offset: before,
                    });
                }
                let el = new_element(&reader, e, ns?, start_off, end_off, before)?;
                if matches!(event, Event::Empty(_)) {
                    close_element(&mut stack, &mut root, el);
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let Some(mut el) = stack.pop() else {
                    return Err(malformed(before, "end tag without start tag"));
                };
                el.inner.end = start_off;
                el.span.end = end_off;
                close_element(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|_| XmlError::InvalidUtf8 { offset: before })?;
                push_text(&mut stack, root.is_some(), &s, before)?;
            }
            Event::CData(t) => {
                let s = t
                    .decode()
                    .map_err(|_| XmlError::InvalidUtf8 { offset: before })?;
                push_text(&mut stack, root.is_some(), &s, before)?;
            }
            Event::GeneralRef(r) => {
                let name = r
                    .decode()
                    .map_err(|_| XmlError::InvalidUtf8 { offset: before })?;
                let resolved: String = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) | Err(_) => {
                            return Err(malformed(
                                before,
                                format!("bad character reference &{name};"),
                            ))
                        }
                    }
                } else {
                    match name.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => {
                            return Err(XmlError::UnknownEntity {
                                name: other.to_owned(),
                                offset: before,
                            })
                        }
                    }
                };
                push_text(&mut stack, root.is_some(), &resolved, before)?;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Truncated { open: stack.len() });
    }
    root.ok_or(XmlError::NoRootElement)
}

fn new_element(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    ns: Option<String>,
    start_off: usize,
    end_off: usize,
    offset: u64,
) -> Result<XmlElement, XmlError> {
    let local = std::str::from_utf8(e.local_name().into_inner())
        .map_err(|_| XmlError::InvalidUtf8 { offset })?
        .to_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| malformed(offset, err))?;
        let key = a.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (ares, alocal) = reader.resolver().resolve_attribute(key);
        let ans = resolved_ns(&ares, offset)?;
        let alocal = std::str::from_utf8(alocal.into_inner())
            .map_err(|_| XmlError::InvalidUtf8 { offset })?
            .to_owned();
        let value =
            a.decoded_and_normalized_value(XmlVersion::Implicit1_0, reader.decoder())
                .map_err(|err| match err {
                    quick_xml::Error::Escape(
                        quick_xml::escape::EscapeError::UnrecognizedEntity(_, name),
                    ) => XmlError::UnknownEntity { name, offset },
                    quick_xml::Error::Encoding(_) => XmlError::InvalidUtf8 { offset },
                    other => malformed(offset, other),
                })?
                .into_owned();
        attrs.push(XmlAttr {
            ns: ans,
            local: alocal,
            value,
        });
    }
    Ok(XmlElement {
        ns,
        local,
        attrs,
        children: Vec::new(),
        text: String::new(),
        span: start_off..end_off,
        inner: end_off..end_off,
    })
}

fn close_element(stack: &mut [XmlElement], root: &mut Option<XmlElement>, el: XmlElement) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(
    stack: &mut [XmlElement],
    after_root: bool,
    s: &str,
    offset: u64,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None if after_root => Err(XmlError::TrailingContent { offset }),
        None => Err(malformed(offset, "text before the root element")),
    }
}

/// Which SOAP envelope namespace a message uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapVersion {
    /// `http://www.w3.org/2003/05/soap-envelope`.
    Soap12,
    /// `http://schemas.xmlsoap.org/soap/envelope/` (not allowed by IHE; parsed to report it).
    Soap11,
}

/// Where the optional `Header` element stands relative to `Body`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderPosition {
    /// No Header element.
    Absent,
    /// Header precedes Body, as SOAP 1.2 Part 1 §5 requires.
    BeforeBody,
    /// Header follows Body (a SOAP 1.2 Part 1 §5 violation).
    AfterBody,
}

/// A WS-Addressing header value with its `mustUnderstand` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressingHeader {
    /// The trimmed text (for `ReplyTo`, the text of its `wsa:Address`).
    pub value: String,
    /// True when `soap:mustUnderstand` is `true` or `1`.
    pub must_understand: bool,
}

/// The WS-Addressing headers of an envelope (ITI TF-2 Appendix V).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressing {
    /// `wsa:Action`.
    pub action: Option<AddressingHeader>,
    /// `wsa:MessageID`.
    pub message_id: Option<AddressingHeader>,
    /// `wsa:RelatesTo`.
    pub relates_to: Option<AddressingHeader>,
    /// `wsa:To`.
    pub to: Option<AddressingHeader>,
    /// `wsa:ReplyTo/wsa:Address`.
    pub reply_to: Option<AddressingHeader>,
}

/// Namespace and local name of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedName {
    /// Namespace URI (`None`: no namespace).
    pub ns: Option<String>,
    /// Local name.
    pub local: String,
}

/// A SOAP 1.2 Fault (SOAP 1.2 Part 1 §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `Code/Value` as written (a QName such as `soap:Sender`).
    pub code: String,
    /// `Subcode/Value` chain, outermost first.
    pub subcodes: Vec<String>,
    /// The first `Reason/Text`.
    pub reason: String,
}

/// What an envelope carries. Parsing does not judge: see `model::ebrim::validate_envelope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// SOAP version from the Envelope namespace.
    pub version: SoapVersion,
    /// Position of the Header element.
    pub header_position: HeaderPosition,
    /// WS-Addressing headers.
    pub addressing: Addressing,
    /// Name of the first element in Body.
    pub body_element: Option<QualifiedName>,
    /// Byte range of the Body content (between `<Body>` and `</Body>`) within the parsed input.
    pub body_range: Range<usize>,
    /// The first element in Body, as a tree (namespaces declared on ancestors already resolved).
    pub body: Option<XmlElement>,
    /// The SOAP Fault, when the body holds one.
    pub fault: Option<Fault>,
}

/// Errors of SOAP and MTOM parsing and packaging.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SoapError {
    /// The XML could not be read.
    #[error("SOAP message is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    /// The root element is not a SOAP Envelope.
    #[error("root element {{{ns}}}{local} is not a SOAP Envelope")]
    NotAnEnvelope {
        /// Namespace of the root element.
        ns: String,
        /// Local name of the root element.
        local: String,
    },
    /// The envelope has no Body, or more than one.
    #[error("SOAP Envelope must contain exactly one Body (found {count})")]
    BodyCount {
        /// Number of Body elements found.
        count: usize,
    },
    /// The HTTP Content-Type could not be parsed.
    #[error("invalid Content-Type {}: {reason}", crate::evidence::quote(value))]
    BadContentType {
        /// The header value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The package is not `multipart/related` with a boundary.
    #[error("MTOM package must be multipart/related with a boundary, got {}", crate::evidence::quote(.0))]
    NotMultipartRelated(String),
    /// The multipart body is malformed.
    #[error("MTOM multipart body: {0}")]
    Multipart(#[from] MultipartError),
    /// No part matches the `start` parameter (or there are no parts).
    #[error("MTOM package has no root part ({})", start.as_deref().map(|s| format!("start={}", crate::evidence::quote(s))).unwrap_or_else(|| "no start parameter".into()))]
    NoRootPart {
        /// The `start` parameter, if any.
        start: Option<String>,
    },
    /// The root part is larger than the limit.
    #[error("MTOM root part exceeds {limit} bytes")]
    RootTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// More parts than the limit.
    #[error("MTOM package has more than {limit} parts")]
    TooManyParts {
        /// The configured limit.
        limit: usize,
    },
    /// A `cid:` URL is not well formed.
    #[error("invalid cid URL {}", crate::evidence::quote(.0))]
    BadCid(String),
}

fn must_understand(el: &XmlElement, soap_ns: &str) -> bool {
    matches!(el.attr_ns(soap_ns, "mustUnderstand"), Some("true" | "1"))
}

/// Parse a SOAP envelope with default [`XmlLimits`].
pub fn parse_envelope(xml: &[u8]) -> Result<Envelope, SoapError> {
    parse_envelope_with(xml, &XmlLimits::default())
}

/// Parse a SOAP envelope: addressing headers, the first Body element (name, byte range and tree)
/// and any Fault. SOAP 1.1 envelopes and a Header after the Body are recorded, not rejected.
pub fn parse_envelope_with(xml: &[u8], limits: &XmlLimits) -> Result<Envelope, SoapError> {
    let root = parse_xml(xml, limits)?;
    let (version, soap_ns) = match root.ns.as_deref() {
        Some(NS_SOAP12) if root.local == "Envelope" => (SoapVersion::Soap12, NS_SOAP12),
        Some(NS_SOAP11) if root.local == "Envelope" => (SoapVersion::Soap11, NS_SOAP11),
        _ => {
            return Err(SoapError::NotAnEnvelope {
                ns: root.ns.clone().unwrap_or_default(),
                local: root.local.clone(),
            })
        }
    };
    let bodies: Vec<usize> = root
        .children
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is(soap_ns, "Body"))
        .map(|(i, _)| i)
        .collect();
    let [body_index] = bodies[..] else {
        return Err(SoapError::BodyCount {
            count: bodies.len(),
        });
    };
    let header_index = root.children.iter().position(|c| c.is(soap_ns, "Header"));
    let header_position = match header_index {
        None => HeaderPosition::Absent,
        Some(h) if h < body_index => HeaderPosition::BeforeBody,
        Some(_) => HeaderPosition::AfterBody,
    };
    let mut addressing = Addressing::default();
    if let Some(h) = header_index.and_then(|i| root.children.get(i)) {
        for block in h
            .children
            .iter()
            .filter(|c| c.ns.as_deref() == Some(NS_WSA))
        {
            let value = if block.local == "ReplyTo" {
                block.child_text(NS_WSA, "Address").unwrap_or("").to_owned()
            } else {
                block.text_trimmed().to_owned()
            };
            let header = Some(AddressingHeader {
                value,
                must_understand: must_understand(block, soap_ns),
            });
            let slot = match block.local.as_str() {
                "Action" => &mut addressing.action,
                "MessageID" => &mut addressing.message_id,
                "RelatesTo" => &mut addressing.relates_to,
                "To" => &mut addressing.to,
                "ReplyTo" => &mut addressing.reply_to,
                _ => continue,
            };
            if slot.is_none() {
                *slot = header;
            }
        }
    }
    let mut root = root;
    let mut body_el = root.children.swap_remove(body_index);
    let body_range = body_el.inner.clone();
    let first = if body_el.children.is_empty() {
        None
    } else {
        Some(body_el.children.swap_remove(0))
    };
    let fault = first
        .as_ref()
        .filter(|f| f.is(soap_ns, "Fault"))
        .map(|f| parse_fault(f, soap_ns));
    Ok(Envelope {
        version,
        header_position,
        addressing,
        body_element: first.as_ref().map(|f| QualifiedName {
            ns: f.ns.clone(),
            local: f.local.clone(),
        }),
        body_range,
        body: first,
        fault,
    })
}

fn parse_fault(f: &XmlElement, soap_ns: &str) -> Fault {
    if soap_ns == NS_SOAP11 {
        return Fault {
            code: f
                .children
                .iter()
                .find(|c| c.local == "faultcode")
                .map(|c| c.text_trimmed().to_owned())
                .unwrap_or_default(),
            subcodes: Vec::new(),
            reason: f
                .children
                .iter()
                .find(|c| c.local == "faultstring")
                .map(|c| c.text_trimmed().to_owned())
                .unwrap_or_default(),
        };
    }
    let code_el = f.child(soap_ns, "Code");
    let code = code_el
        .and_then(|c| c.child_text(soap_ns, "Value"))
        .unwrap_or("")
        .to_owned();
    let mut subcodes = Vec::new();
    let mut cur = code_el.and_then(|c| c.child(soap_ns, "Subcode"));
    while let Some(sc) = cur {
        if let Some(v) = sc.child_text(soap_ns, "Value") {
            subcodes.push(v.to_owned());
        }
        cur = sc.child(soap_ns, "Subcode");
    }
    let reason = f
        .child(soap_ns, "Reason")
        .and_then(|r| r.child_text(soap_ns, "Text"))
        .unwrap_or("")
        .to_owned();
    Fault {
        code,
        subcodes,
        reason,
    }
}

/// A `urn:uuid:` message id derived from `seed` (SHA-256, laid out as an RFC 9562 version 8
/// UUID), for callers that need a deterministic `wsa:MessageID` without a UUID generator.
pub fn message_id_from(seed: &[u8]) -> String {
    let d = Sha256::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(d.get(..16).unwrap_or(&[0u8; 16]));
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn strip_xml_decl(s: &str) -> &str {
    let t = s.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("<?xml") {
        if let Some(end) = t.find("?>") {
            return t[end + 2..].trim_start();
        }
    }
    t
}

fn write_text_element(
    w: &mut Writer<Vec<u8>>,
    name: &str,
    attrs: &[(&str, &str)],
    text: &str,
) -> std::io::Result<()> {
    let mut start = BytesStart::new(name);
    for a in attrs {
        start.push_attribute(*a);
    }
    w.write_event(Event::Start(start))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn write_envelope(
    action: &str,
    message_id: &str,
    to: Option<&str>,
    body_xml: &str,
) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Vec::new());
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let env = BytesStart::new("soap:Envelope")
        .with_attributes([("xmlns:soap", NS_SOAP12), ("xmlns:wsa", NS_WSA)]);
    w.write_event(Event::Start(env))?;
    w.write_event(Event::Start(BytesStart::new("soap:Header")))?;
    let mu = [("soap:mustUnderstand", "true")];
    write_text_element(&mut w, "wsa:Action", &mu, action)?;
    write_text_element(&mut w, "wsa:MessageID", &[], message_id)?;
    w.write_event(Event::Start(BytesStart::new("wsa:ReplyTo")))?;
    write_text_element(&mut w, "wsa:Address", &[], WSA_ANONYMOUS)?;
    w.write_event(Event::End(BytesEnd::new("wsa:ReplyTo")))?;
    if let Some(to) = to {
        write_text_element(&mut w, "wsa:To", &mu, to)?;
    }
    w.write_event(Event::End(BytesEnd::new("soap:Header")))?;
    w.write_event(Event::Start(BytesStart::new("soap:Body")))?;
    w.get_mut()
        .extend_from_slice(strip_xml_decl(body_xml).as_bytes());
    w.write_event(Event::End(BytesEnd::new("soap:Body")))?;
    w.write_event(Event::End(BytesEnd::new("soap:Envelope")))?;
    Ok(w.into_inner())
}

/// Build a SOAP 1.2 request envelope with the WS-Addressing headers ITI TF-2 Appendix V asks for:
/// `wsa:Action` (mustUnderstand), `wsa:MessageID`, `wsa:ReplyTo` = anonymous and, when given,
/// `wsa:To` (mustUnderstand). `body_xml` is inserted verbatim as the Body content (a leading XML
/// declaration is dropped); it must be a well-formed element carrying its own namespace
/// declarations. Header values are escaped.
pub fn envelope(action: &str, message_id: &str, to: Option<&str>, body_xml: &str) -> String {
    // Writing into a Vec cannot fail; an empty string would be rejected by any parser anyway.
    write_envelope(action, message_id, to, body_xml)
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default()
}

/// Build a SOAP 1.2 response envelope: `wsa:Action` (mustUnderstand) and `wsa:RelatesTo` equal to
/// the request's MessageID, as ITI TF-2 Appendix V expects of synchronous responses.
pub fn response_envelope(action: &str, relates_to: &str, body_xml: &str) -> String {
    let build = || -> std::io::Result<Vec<u8>> {
        let mut w = Writer::new(Vec::new());
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let env = BytesStart::new("soap:Envelope")
            .with_attributes([("xmlns:soap", NS_SOAP12), ("xmlns:wsa", NS_WSA)]);
        w.write_event(Event::Start(env))?;
        w.write_event(Event::Start(BytesStart::new("soap:Header")))?;
        write_text_element(
            &mut w,
            "wsa:Action",
            &[("soap:mustUnderstand", "true")],
            action,
        )?;
        write_text_element(&mut w, "wsa:RelatesTo", &[], relates_to)?;
        w.write_event(Event::End(BytesEnd::new("soap:Header")))?;
        w.write_event(Event::Start(BytesStart::new("soap:Body")))?;
        w.get_mut()
            .extend_from_slice(strip_xml_decl(body_xml).as_bytes());
        w.write_event(Event::End(BytesEnd::new("soap:Body")))?;
        w.write_event(Event::End(BytesEnd::new("soap:Envelope")))?;
        Ok(w.into_inner())
    };
    build()
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default()
}

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
        /// SHA-256 of the bytes, lowercase hex.
        sha256: String,
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
    hasher: Sha256,
    spilled: bool,
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
                        hasher: Sha256::new(),
                        spilled: false,
                    });
                }
                MultipartEvent::PartData(d) => {
                    if let Some(p) = cur.as_mut() {
                        let cap = cap_for(&p.headers, parts.is_empty());
                        p.size += d.len() as u64;
                        p.hasher.update(&d);
                        if !p.spilled && p.data.len() + d.len() > cap {
                            p.spilled = true;
                            p.data = Vec::new();
                        }
                        if !p.spilled {
                            p.data.extend_from_slice(&d);
                        }
                    }
                }
                MultipartEvent::PartEnd => {
                    if let Some(p) = cur.take() {
                        let data = if p.spilled {
                            AttachmentData::Oversize {
                                size: p.size,
                                sha256: hex::encode(p.hasher.finalize()),
                            }
                        } else {
                            AttachmentData::InMemory(Bytes::from(p.data))
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

#[cfg(test)]
mod tests {
    use super::*;

    const ACTION: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";

    fn body() -> &'static str {
        r#"<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest><xdsb:RepositoryUniqueId>1.2.3</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3.4</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>"#
    }

    #[test]
    fn envelope_round_trip() {
        let id = message_id_from(b"seed");
        let xml = envelope(ACTION, &id, Some("http://sut/x?a=1&b=2"), body());
        let env = parse_envelope(xml.as_bytes()).expect("parses");
        assert_eq!(env.version, SoapVersion::Soap12);
        assert_eq!(env.header_position, HeaderPosition::BeforeBody);
        let a = env.addressing.action.expect("action");
        assert_eq!(a.value, ACTION);
        assert!(a.must_understand);
        assert_eq!(env.addressing.message_id.map(|m| m.value), Some(id));
        assert_eq!(
            env.addressing.to.map(|t| t.value).as_deref(),
            Some("http://sut/x?a=1&b=2")
        );
        assert_eq!(
            env.addressing.reply_to.map(|r| r.value).as_deref(),
            Some(WSA_ANONYMOUS)
        );
        let be = env.body_element.expect("body element");
        assert_eq!(be.ns.as_deref(), Some("urn:ihe:iti:xds-b:2007"));
        assert_eq!(be.local, "RetrieveDocumentSetRequest");
        assert_eq!(xml.get(env.body_range.clone()).map(str::trim), Some(body()));
        assert!(env.fault.is_none());
    }

    #[test]
    fn response_envelope_has_relates_to() {
        let xml = response_envelope("urn:x:Response", "urn:uuid:1", "<a xmlns='urn:a'/>");
        let env = parse_envelope(xml.as_bytes()).expect("parses");
        assert_eq!(
            env.addressing.relates_to.map(|r| r.value).as_deref(),
            Some("urn:uuid:1")
        );
    }

    #[test]
    fn message_id_is_uuid_shaped() {
        let id = message_id_from(b"x");
        assert_eq!(id.len(), "urn:uuid:".len() + 36);
        assert_eq!(id.as_bytes()[9 + 14], b'8');
        assert_ne!(id, message_id_from(b"y"));
    }

    #[test]
    fn fault_is_read() {
        let xml = format!(
            r#"<e:Envelope xmlns:e="{NS_SOAP12}"><e:Body><e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>a:ActionNotSupported</e:Value></e:Subcode></e:Code><e:Reason><e:Text xml:lang="en">nope</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>"#
        );
        let env = parse_envelope(xml.as_bytes()).expect("parses");
        let f = env.fault.expect("fault");
        assert_eq!(f.code, "e:Sender");
        assert_eq!(f.subcodes, vec!["a:ActionNotSupported".to_owned()]);
        assert_eq!(f.reason, "nope");
        assert_eq!(env.header_position, HeaderPosition::Absent);
    }

    #[test]
    fn soap11_and_header_order_are_recorded() {
        let xml = format!(r#"<e:Envelope xmlns:e="{NS_SOAP11}"><e:Body/><e:Header/></e:Envelope>"#);
        let env = parse_envelope(xml.as_bytes()).expect("parses");
        assert_eq!(env.version, SoapVersion::Soap11);
        assert_eq!(env.header_position, HeaderPosition::AfterBody);
        assert!(env.body_element.is_none());
    }

    #[test]
    fn not_an_envelope_and_body_count() {
        assert!(matches!(
            parse_envelope(b"<a xmlns='urn:a'/>"),
            Err(SoapError::NotAnEnvelope { .. })
        ));
        let xml = format!(r#"<e:Envelope xmlns:e="{NS_SOAP12}"><e:Header/></e:Envelope>"#);
        assert!(matches!(
            parse_envelope(xml.as_bytes()),
            Err(SoapError::BodyCount { count: 0 })
        ));
    }

    #[test]
    fn doctype_and_entity_bomb_rejected() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>"#;
        assert!(matches!(
            parse_xml(bomb, &XmlLimits::default()),
            Err(XmlError::DoctypeForbidden { .. })
        ));
        let xxe = br#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert!(matches!(
            parse_xml(xxe, &XmlLimits::default()),
            Err(XmlError::DoctypeForbidden { .. })
        ));
        assert!(matches!(
            parse_xml(b"<a>&x;</a>", &XmlLimits::default()),
            Err(XmlError::UnknownEntity { .. })
        ));
        assert!(matches!(
            parse_xml(b"<a b='&x;'/>", &XmlLimits::default()),
            Err(XmlError::UnknownEntity { .. } | XmlError::Malformed { .. })
        ));
    }

    #[test]
    fn entities_and_char_refs_resolved() {
        let el = parse_xml(
            b"<a v='x&amp;y&#65;'>1&lt;2&#x42;<![CDATA[<z>]]></a>",
            &XmlLimits::default(),
        )
        .expect("parses");
        assert_eq!(el.attr("v"), Some("x&yA"));
        assert_eq!(el.text, "1<2B<z>");
    }

    #[test]
    fn depth_size_and_count_limits() {
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(matches!(
            parse_xml(deep.as_bytes(), &XmlLimits::default()),
            Err(XmlError::TooDeep { .. })
        ));
        let small = XmlLimits {
            max_bytes: 10,
            ..XmlLimits::default()
        };
        assert!(matches!(
            parse_xml(b"<a>0123456789</a>", &small),
            Err(XmlError::TooLarge { .. })
        ));
        let few = XmlLimits {
            max_elements: 2,
            ..XmlLimits::default()
        };
        assert!(matches!(
            parse_xml(b"<a><b/><c/></a>", &few),
            Err(XmlError::TooManyElements { .. })
        ));
    }

    #[test]
    fn invalid_utf8_truncated_and_trailing() {
        assert!(parse_xml(b"<a>\xff\xfe</a>", &XmlLimits::default()).is_err());
        assert!(parse_xml(b"<a\xff/>", &XmlLimits::default()).is_err());
        assert!(matches!(
            parse_xml(b"<a><b>", &XmlLimits::default()),
            Err(XmlError::Truncated { .. } | XmlError::Malformed { .. })
        ));
        assert!(parse_xml(b"<a><b></a>", &XmlLimits::default()).is_err());
        assert!(matches!(
            parse_xml(b"<a/><b/>", &XmlLimits::default()),
            Err(XmlError::TrailingContent { .. })
        ));
        assert!(matches!(
            parse_xml(b"  ", &XmlLimits::default()),
            Err(XmlError::NoRootElement)
        ));
        assert!(parse_xml(b"<p:a/>", &XmlLimits::default()).is_err());
        let env = envelope(ACTION, "urn:uuid:1", None, body());
        for cut in [1, 10, env.len() / 2, env.len() - 3] {
            assert!(parse_envelope(&env.as_bytes()[..cut]).is_err(), "cut {cut}");
        }
    }

    /// Deterministic mutation run: flipped, inserted and deleted bytes never panic the reader.
    #[test]
    fn mutated_envelopes_never_panic() {
        let base = envelope(ACTION, "urn:uuid:1", Some("http://x"), body()).into_bytes();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"<>/=\"'&;:!?[]- \xff\x00ax";
        for _ in 0..3000 {
            let mut m = base.clone();
            for _ in 0..1 + next() % 4 {
                let pos = (next() as usize) % m.len().max(1);
                let byte = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 => m[pos] = byte,
                    1 => m.insert(pos, byte),
                    _ => {
                        m.remove(pos);
                    }
                }
            }
            let _ = parse_envelope(&m);
        }
    }

    #[test]
    fn cid_urls() {
        let cid = "1.urn:uuid:ABC@apache.org";
        let url = cid_url(cid);
        assert_eq!(url, "cid:1.urn%3Auuid%3AABC@apache.org");
        assert_eq!(content_id_of_cid_url(&url).as_deref(), Ok(cid));
        assert_eq!(content_id_of_cid_url("CID:a%41").as_deref(), Ok("aA"));
        assert!(content_id_of_cid_url("http://x").is_err());
        assert!(content_id_of_cid_url("cid:%4").is_err());
        assert!(content_id_of_cid_url("cid:%ff").is_err());
        assert!(content_id_of_cid_url("cid:").is_err());
    }

    #[test]
    fn mtom_round_trip() {
        let cid = "doc1@ihe-harness";
        let body = format!(
            r#"<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:Document id="Document01">{}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>"#,
            xop_include(cid)
        );
        let env = envelope(
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
            "urn:uuid:1",
            None,
            &body,
        );
        let payload = b"\x00\x01DICM\r\n--not-a-boundary\r\n".to_vec();
        let (ct, bytes) = mtom(&env, &[(cid, "application/dicom", &payload)]);
        assert!(ct.starts_with("multipart/related"));
        assert!(ct.contains("application/xop+xml"));
        assert!(ct.contains("start-info"));
        assert!(ct.contains("ProvideAndRegisterDocumentSet-b"));
        let msg = parse_mtom(&ct, &bytes, &MtomLimits::default()).expect("parses");
        assert_eq!(msg.root, env.as_bytes());
        assert_eq!(msg.root_content_id.as_deref(), Some(ROOT_CONTENT_ID));
        assert_eq!(msg.attachments.len(), 1);
        let env2 = msg.envelope(&XmlLimits::default()).expect("envelope");
        let body_el = env2.body.expect("body");
        let inc = body_el.find(NS_XOP, "Include").expect("include");
        let att = msg
            .resolve(inc.attr("href").unwrap_or(""))
            .expect("resolves");
        assert_eq!(att.data.bytes().map(|b| b.to_vec()), Some(payload));
        assert_eq!(att.content_type.as_deref(), Some("application/dicom"));
    }

    #[test]
    fn mtom_oversize_attachment_is_measured_not_kept() {
        let env = envelope("urn:a", "urn:uuid:1", None, "<a xmlns='urn:a'/>");
        let big = vec![7u8; 10_000];
        let (ct, bytes) = mtom(&env, &[("big@x", "application/octet-stream", &big)]);
        let limits = MtomLimits {
            max_attachment_in_memory: 1000,
            ..MtomLimits::default()
        };
        let msg = parse_mtom(&ct, &bytes, &limits).expect("parses");
        match &msg.attachments[0].data {
            AttachmentData::Oversize { size, sha256 } => {
                assert_eq!(*size, 10_000);
                assert_eq!(sha256, &hex::encode(Sha256::digest(&big)));
            }
            other => panic!("expected oversize, got {other:?}"),
        }
        let tiny_root = MtomLimits {
            max_root_bytes: 10,
            ..MtomLimits::default()
        };
        assert!(matches!(
            parse_mtom(&ct, &bytes, &tiny_root),
            Err(SoapError::RootTooLarge { .. })
        ));
    }

    #[test]
    fn mtom_errors() {
        assert!(matches!(
            parse_mtom("application/soap+xml", b"<a/>", &MtomLimits::default()),
            Err(SoapError::NotMultipartRelated(_))
        ));
        assert!(parse_mtom("multipart/related", b"", &MtomLimits::default()).is_err());
        assert!(matches!(
            parse_mtom(
                "multipart/related; boundary=b; start=\"<nope>\"",
                b"--b\r\nContent-ID: <x>\r\n\r\nhi\r\n--b--\r\n",
                &MtomLimits::default()
            ),
            Err(SoapError::NoRootPart { .. })
        ));
        assert!(matches!(
            parse_mtom(
                "multipart/related; boundary=b",
                b"--b\r\nContent-ID: <x>\r\n\r\nhi",
                &MtomLimits::default()
            ),
            Err(SoapError::Multipart(_))
        ));
        assert!(!is_multipart_related("text/xml"));
        assert!(is_multipart_related("Multipart/Related; boundary=x"));
    }
}
