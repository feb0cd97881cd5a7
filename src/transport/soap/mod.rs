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
//!
//! The reader is in `xml.rs`, the envelopes in `envelope.rs`, MTOM/XOP in `mtom.rs`; every name
//! is used from here.

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

mod envelope;
mod mtom;
mod xml;

pub use envelope::*;
pub use mtom::*;
pub use xml::*;

#[cfg(test)]
mod tests;
