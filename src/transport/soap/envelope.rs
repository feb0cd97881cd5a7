//! SOAP envelopes: reading one without judging it ([`parse_envelope`]) and writing requests and
//! responses with their WS-Addressing headers ([`envelope`], [`response_envelope`]).

use super::*;

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
