//! XML writers for the ebRIM 3.0 / XDS.b model of [`super`]: the messages an Imaging
//! Document Source, a simulated Registry or a simulated Repository sends (RAD-68 / ITI-41
//! `xdsb:ProvideAndRegisterDocumentSetRequest`, `lcm:SubmitObjectsRequest`, ITI-18
//! `query:AdhocQueryResponse`, ITI-43 / RAD-69 `xdsb:RetrieveDocumentSetResponse`).
//!
//! Every writer is the inverse of [`super::parse_message_bytes`]: what it writes parses back
//! into an equal value, which the round-trip tests at the bottom pin. Two consequences follow.
//! First, values are written exactly as held (no defaults filled in; an absent `status` stays
//! absent), so a writer can also reproduce a defective message for a fault-injection scenario.
//! Second, escaping goes beyond quick-xml's default: XML 1.0 §3.3.3 makes a parser replace tab,
//! line feed and carriage return in an attribute value with spaces, and §2.11 turns a carriage
//! return in text into a line feed, so those characters are written as character references.
//!
//! Children follow the ebRIM 3.0 `RegistryObjectType` sequence (OASIS ebRIM 3.0 rim.xsd): Slot*,
//! Name?, Description?, Classification*, ExternalIdentifier*. The root element of each message
//! declares the `rim`, `lcm`, `query`, `rs` and `xdsb` prefixes (standards reference §1.1);
//! `xop:Include` declares its own. What the model does not hold cannot be written: the names kept
//! in [`RegistryObjectList::other`] and the [`RegistryObject::order_issues`] the parser noted
//! (the writer always emits schema order). Pinned editions: OASIS ebRIM/ebRS 3.0 (2005), IHE ITI
//! TF-2/TF-3 Rev. 20.0, IHE RAD TF-2 Rev. 22.0 (<https://profiles.ihe.net/ITI/TF/Volume3/>).

use std::borrow::Cow;

use base64::Engine as _;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{
    end, finish, AdhocQueryResponse, Association, Classification, DocumentContent,
    DocumentResponse, ExternalIdentifier, LocalizedString, ObjectKind, ObjectRef,
    ProvideAndRegisterRequest, RegistryObject, RegistryObjectList, RegistryResponse,
    RetrieveDocumentSetResponse, Slot, SubmitObjectsRequest, WResult, NS_LCM, NS_QUERY, NS_RIM,
    NS_RS, NS_XDSB,
};
use crate::transport::soap::NS_XOP;

/// The writer every function here appends to.
pub type XmlWriter = Writer<Vec<u8>>;

/// Prefix declarations carried by the root element of every message written here.
const ROOT_NAMESPACES: [(&str, &str); 5] = [
    ("xmlns:rim", NS_RIM),
    ("xmlns:lcm", NS_LCM),
    ("xmlns:query", NS_QUERY),
    ("xmlns:rs", NS_RS),
    ("xmlns:xdsb", NS_XDSB),
];

// ---------------------------------------------------------------------------------------------
// Escaping and element helpers

/// Escape an attribute value (double-quoted): markup characters, both quotes, and the whitespace
/// characters attribute-value normalisation would otherwise turn into spaces (XML 1.0 §3.3.3).
fn escape_attr(v: &str) -> Cow<'_, str> {
    if !v
        .chars()
        .any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\t' | '\n' | '\r'))
    {
        return Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len() + 16);
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escape character data: markup characters, and carriage return, which end-of-line handling
/// would otherwise turn into a line feed (XML 1.0 §2.11). `>` is escaped so `]]>` cannot occur.
fn escape_text(v: &str) -> Cow<'_, str> {
    if !v.chars().any(|c| matches!(c, '&' | '<' | '>' | '\r')) {
        return Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len() + 16);
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A start tag with the present attributes, values escaped by [`escape_attr`].
fn tag<'a>(name: &'a str, attrs: &[(&str, Option<&str>)]) -> BytesStart<'a> {
    let mut s = BytesStart::new(name);
    for (k, v) in attrs {
        if let Some(v) = v {
            let value = escape_attr(v);
            s.push_attribute(Attribute::from((k.as_bytes(), value.as_bytes())));
        }
    }
    s
}

fn start(w: &mut XmlWriter, name: &str, attrs: &[(&str, Option<&str>)]) -> WResult {
    w.write_event(Event::Start(tag(name, attrs)))
}

fn empty(w: &mut XmlWriter, name: &str, attrs: &[(&str, Option<&str>)]) -> WResult {
    w.write_event(Event::Empty(tag(name, attrs)))
}

/// The start tag of a message's root element, with the prefix declarations and `attrs`.
fn start_root(w: &mut XmlWriter, name: &str, attrs: &[(&str, Option<&str>)]) -> WResult {
    let mut all: Vec<(&str, Option<&str>)> = ROOT_NAMESPACES
        .iter()
        .map(|(k, v)| (*k, Some(*v)))
        .collect();
    all.extend_from_slice(attrs);
    start(w, name, &all)
}

fn text(w: &mut XmlWriter, s: &str) -> WResult {
    w.write_event(Event::Text(BytesText::from_escaped(escape_text(s))))
}

fn text_el(w: &mut XmlWriter, name: &str, s: &str) -> WResult {
    start(w, name, &[])?;
    text(w, s)?;
    end(w, name)
}

fn opt_text_el(w: &mut XmlWriter, name: &str, s: Option<&str>) -> WResult {
    match s {
        Some(s) => text_el(w, name, s),
        None => Ok(()),
    }
}

fn build(f: impl FnOnce(&mut XmlWriter) -> WResult) -> String {
    let mut w = Writer::new(Vec::new());
    finish(f(&mut w).map(|()| w.into_inner()))
}

// ---------------------------------------------------------------------------------------------
// ebRIM building blocks (fragments: the caller's root declares the `rim` prefix)

/// Write `rim:Slot name=…` elements with their `rim:ValueList/rim:Value` strings, untrimmed.
pub fn write_slots(w: &mut XmlWriter, slots: &[Slot]) -> WResult {
    for s in slots {
        start(w, "rim:Slot", &[("name", Some(s.name.as_str()))])?;
        start(w, "rim:ValueList", &[])?;
        for v in &s.values {
            text_el(w, "rim:Value", v)?;
        }
        end(w, "rim:ValueList")?;
        end(w, "rim:Slot")?;
    }
    Ok(())
}

/// Write a `rim:Name` or `rim:Description` (`wrapper`) holding `rim:LocalizedString value=…
/// [xml:lang] [charset]` items; nothing when `strings` is empty.
pub fn write_international_string(
    w: &mut XmlWriter,
    wrapper: &str,
    strings: &[LocalizedString],
) -> WResult {
    if strings.is_empty() {
        return Ok(());
    }
    start(w, wrapper, &[])?;
    for l in strings {
        empty(
            w,
            "rim:LocalizedString",
            &[
                ("value", Some(l.value.as_str())),
                ("xml:lang", l.lang.as_deref()),
                ("charset", l.charset.as_deref()),
            ],
        )?;
    }
    end(w, wrapper)
}

/// Write a `rim:Classification` (ITI TF-3 4.2.3.1.2: coded attributes, authors, and the
/// SubmissionSet / Folder node classification).
pub fn write_classification(w: &mut XmlWriter, c: &Classification) -> WResult {
    start(
        w,
        "rim:Classification",
        &[
            ("id", c.id.as_deref()),
            ("classificationScheme", c.scheme.as_deref()),
            ("classifiedObject", c.classified_object.as_deref()),
            ("classificationNode", c.node.as_deref()),
            ("nodeRepresentation", c.node_representation.as_deref()),
        ],
    )?;
    write_slots(w, &c.slots)?;
    write_international_string(w, "rim:Name", &c.name)?;
    end(w, "rim:Classification")
}

/// Write a `rim:ExternalIdentifier` (ITI TF-3 4.2.3.1.1: patientId, uniqueId, sourceId).
pub fn write_external_identifier(w: &mut XmlWriter, e: &ExternalIdentifier) -> WResult {
    start(
        w,
        "rim:ExternalIdentifier",
        &[
            ("id", e.id.as_deref()),
            ("registryObject", e.registry_object.as_deref()),
            ("identificationScheme", e.scheme.as_deref()),
            ("value", e.value.as_deref()),
        ],
    )?;
    write_international_string(w, "rim:Name", &e.name)?;
    end(w, "rim:ExternalIdentifier")
}

/// Write a `rim:ExtrinsicObject` (with `@mimeType`) or `rim:RegistryPackage`, by
/// [`RegistryObject::kind`], children in schema order. A RegistryPackage has no `@mimeType` in
/// rim.xsd, so [`RegistryObject::mime_type`] is not written for one.
pub fn write_registry_object(w: &mut XmlWriter, o: &RegistryObject) -> WResult {
    let (name, mime) = match o.kind {
        ObjectKind::ExtrinsicObject => ("rim:ExtrinsicObject", o.mime_type.as_deref()),
        ObjectKind::RegistryPackage => ("rim:RegistryPackage", None),
    };
    start(
        w,
        name,
        &[
            ("id", o.id.as_deref()),
            ("lid", o.lid.as_deref()),
            ("objectType", o.object_type.as_deref()),
            ("status", o.status.as_deref()),
            ("home", o.home.as_deref()),
            ("mimeType", mime),
        ],
    )?;
    write_slots(w, &o.slots)?;
    write_international_string(w, "rim:Name", &o.name)?;
    write_international_string(w, "rim:Description", &o.description)?;
    for c in &o.classifications {
        write_classification(w, c)?;
    }
    for e in &o.external_identifiers {
        write_external_identifier(w, e)?;
    }
    end(w, name)
}

/// Write a `rim:Association` with its slots (`SubmissionSetStatus`, ...).
pub fn write_association(w: &mut XmlWriter, a: &Association) -> WResult {
    start(
        w,
        "rim:Association",
        &[
            ("id", a.id.as_deref()),
            ("associationType", a.association_type.as_deref()),
            ("sourceObject", a.source_object.as_deref()),
            ("targetObject", a.target_object.as_deref()),
            ("status", a.status.as_deref()),
        ],
    )?;
    write_slots(w, &a.slots)?;
    end(w, "rim:Association")
}

/// Write a `rim:ObjectRef`.
pub fn write_object_ref(w: &mut XmlWriter, r: &ObjectRef) -> WResult {
    empty(
        w,
        "rim:ObjectRef",
        &[("id", r.id.as_deref()), ("home", r.home.as_deref())],
    )
}

/// Write the content of a `rim:RegistryObjectList`: ExtrinsicObjects, RegistryPackages,
/// top-level Classifications, ExternalIdentifiers, Associations, ObjectRefs, in that order.
fn write_object_list_content(w: &mut XmlWriter, list: &RegistryObjectList) -> WResult {
    for o in &list.extrinsic_objects {
        write_registry_object(w, o)?;
    }
    for o in &list.registry_packages {
        write_registry_object(w, o)?;
    }
    for c in &list.classifications {
        write_classification(w, c)?;
    }
    for e in &list.external_identifiers {
        write_external_identifier(w, e)?;
    }
    for a in &list.associations {
        write_association(w, a)?;
    }
    for r in &list.object_refs {
        write_object_ref(w, r)?;
    }
    Ok(())
}

/// Write a `rim:RegistryObjectList` fragment (no namespace declarations).
pub fn write_registry_object_list(w: &mut XmlWriter, list: &RegistryObjectList) -> WResult {
    start(w, "rim:RegistryObjectList", &[])?;
    write_object_list_content(w, list)?;
    end(w, "rim:RegistryObjectList")
}

/// The `rim:RegistryObjectList` element as a document of its own (prefixes declared on it).
pub fn registry_object_list_xml(list: &RegistryObjectList) -> String {
    build(|w| {
        start_root(w, "rim:RegistryObjectList", &[])?;
        write_object_list_content(w, list)?;
        end(w, "rim:RegistryObjectList")
    })
}

/// Write `rs:RegistryErrorList` when the response has one (or has errors).
fn write_error_list(w: &mut XmlWriter, r: &RegistryResponse) -> WResult {
    if !r.has_error_list && r.errors.is_empty() {
        return Ok(());
    }
    start(w, "rs:RegistryErrorList", &[])?;
    for e in &r.errors {
        empty(
            w,
            "rs:RegistryError",
            &[
                ("errorCode", e.error_code.as_deref()),
                ("codeContext", e.code_context.as_deref()),
                ("location", e.location.as_deref()),
                ("severity", e.severity.as_deref()),
            ],
        )?;
    }
    end(w, "rs:RegistryErrorList")
}

/// Write the content of an `xdsb:Document` (ITI-41) or `xdsb:Document` of a DocumentResponse:
/// base64 text, or an `xop:Include` declaring its own namespace.
fn write_document(w: &mut XmlWriter, id: Option<&str>, content: &DocumentContent) -> WResult {
    start(w, "xdsb:Document", &[("id", id)])?;
    match content {
        DocumentContent::Inline(bytes) => {
            text(w, &base64::engine::general_purpose::STANDARD.encode(bytes))?;
        }
        DocumentContent::Xop { href } => empty(
            w,
            "xop:Include",
            &[("xmlns:xop", Some(NS_XOP)), ("href", Some(href.as_str()))],
        )?,
        // Kept as received so a recorded defect can be replayed.
        DocumentContent::InvalidBase64(t) => text(w, t)?,
    }
    end(w, "xdsb:Document")
}

fn write_document_response(w: &mut XmlWriter, d: &DocumentResponse) -> WResult {
    start(w, "xdsb:DocumentResponse", &[])?;
    opt_text_el(w, "xdsb:HomeCommunityId", d.home_community_id.as_deref())?;
    opt_text_el(
        w,
        "xdsb:RepositoryUniqueId",
        d.repository_unique_id.as_deref(),
    )?;
    opt_text_el(w, "xdsb:DocumentUniqueId", d.document_unique_id.as_deref())?;
    opt_text_el(
        w,
        "xdsb:NewRepositoryUniqueId",
        d.new_repository_unique_id.as_deref(),
    )?;
    opt_text_el(
        w,
        "xdsb:NewDocumentUniqueId",
        d.new_document_unique_id.as_deref(),
    )?;
    opt_text_el(w, "xdsb:mimeType", d.mime_type.as_deref())?;
    if let Some(doc) = &d.document {
        write_document(w, None, doc)?;
    }
    end(w, "xdsb:DocumentResponse")
}

// ---------------------------------------------------------------------------------------------
// Messages

impl SubmitObjectsRequest {
    /// Serialise as an `lcm:SubmitObjectsRequest` element (ITI-42 body, the metadata of
    /// ITI-41/RAD-68). The request's own slots are written as direct `rim:Slot` children, the
    /// form [`super::parse_message`] reads.
    pub fn to_xml(&self) -> String {
        build(|w| {
            start_root(w, "lcm:SubmitObjectsRequest", &[])?;
            write_slots(w, &self.slots)?;
            write_registry_object_list(w, &self.objects)?;
            end(w, "lcm:SubmitObjectsRequest")
        })
    }
}

impl ProvideAndRegisterRequest {
    /// Serialise as an `xdsb:ProvideAndRegisterDocumentSetRequest` (ITI-41 / RAD-68, ITI TF-2
    /// 3.41.4.1.2): the `lcm:SubmitObjectsRequest`, then one `xdsb:Document id=…` per document,
    /// inline base64 or an `xop:Include` for MTOM packaging.
    pub fn to_xml(&self) -> String {
        build(|w| {
            start_root(w, "xdsb:ProvideAndRegisterDocumentSetRequest", &[])?;
            start(w, "lcm:SubmitObjectsRequest", &[])?;
            write_slots(w, &self.submit.slots)?;
            write_registry_object_list(w, &self.submit.objects)?;
            end(w, "lcm:SubmitObjectsRequest")?;
            for d in &self.documents {
                write_document(w, d.id.as_deref(), &d.content)?;
            }
            end(w, "xdsb:ProvideAndRegisterDocumentSetRequest")
        })
    }
}

impl AdhocQueryResponse {
    /// Serialise as a `query:AdhocQueryResponse` (ITI-18 response, ITI TF-2 3.18.4.1.3): `@status`
    /// when set, the `rs:RegistryErrorList` when present, and the `rim:RegistryObjectList` when
    /// [`AdhocQueryResponse::has_object_list`] is set or objects are held.
    pub fn to_xml(&self) -> String {
        build(|w| {
            start_root(
                w,
                "query:AdhocQueryResponse",
                &[("status", self.response.status.as_deref())],
            )?;
            write_error_list(w, &self.response)?;
            if self.has_object_list || self.objects != RegistryObjectList::default() {
                write_registry_object_list(w, &self.objects)?;
            }
            end(w, "query:AdhocQueryResponse")
        })
    }
}

impl RetrieveDocumentSetResponse {
    /// Serialise as an `xdsb:RetrieveDocumentSetResponse` (ITI-43, RAD-69, RAD-75 responses):
    /// the `rs:RegistryResponse`, then each `xdsb:DocumentResponse` with its children in schema
    /// order (HomeCommunityId?, RepositoryUniqueId, DocumentUniqueId, NewRepositoryUniqueId?,
    /// NewDocumentUniqueId?, mimeType, Document).
    pub fn to_xml(&self) -> String {
        build(|w| {
            start_root(w, "xdsb:RetrieveDocumentSetResponse", &[])?;
            if let Some(r) = &self.registry_response {
                start(w, "rs:RegistryResponse", &[("status", r.status.as_deref())])?;
                write_error_list(w, r)?;
                end(w, "rs:RegistryResponse")?;
            }
            for d in &self.documents {
                write_document_response(w, d)?;
            }
            end(w, "xdsb:RetrieveDocumentSetResponse")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ebrim::{
        parse_message_bytes, Document, Message, RegistryError, ASSOC_HAS_MEMBER, DE_CLASS_CODE,
        DE_PATIENT_ID, DOC_ENTRY_STABLE, RESPONSE_FAILURE, RESPONSE_PARTIAL_SUCCESS,
        RESPONSE_SUCCESS, SEVERITY_ERROR, SEVERITY_WARNING, SUBMISSION_SET_NODE,
    };

    /// Characters that need escaping, non-ASCII text, and whitespace normalisation would eat.
    const NASTY: &str = "a&b<c>d\"e'f ü Ωmega 日本 😀";
    const WHITESPACE: &str = " lead\ttab\nline\r\ncrlf trail ";

    fn ls(value: &str) -> LocalizedString {
        LocalizedString {
            value: value.into(),
            lang: Some("de-CH".into()),
            charset: Some("UTF-8".into()),
        }
    }

    fn slot(name: &str, values: &[&str]) -> Slot {
        Slot {
            name: name.into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn sample_list() -> RegistryObjectList {
        let de = RegistryObject {
            kind: ObjectKind::ExtrinsicObject,
            id: Some("Doc&1".into()),
            lid: Some("urn:uuid:lid".into()),
            object_type: Some(DOC_ENTRY_STABLE.into()),
            status: Some("urn:oasis:names:tc:ebxml-regrep:StatusType:Approved".into()),
            home: Some("urn:oid:1.2.3".into()),
            mime_type: Some("application/dicom".into()),
            slots: vec![
                slot("creationTime", &["20240101"]),
                slot(
                    "sourcePatientInfo",
                    &["PID-5|Müller^Zoë", NASTY, WHITESPACE],
                ),
                slot("empty", &[]),
            ],
            name: vec![ls(NASTY), ls("second")],
            description: vec![LocalizedString {
                value: WHITESPACE.into(),
                lang: None,
                charset: None,
            }],
            classifications: vec![Classification {
                id: Some("cl\"1".into()),
                scheme: Some(DE_CLASS_CODE.into()),
                node: None,
                classified_object: Some("Doc&1".into()),
                node_representation: Some("c<1>".into()),
                slots: vec![slot("codingScheme", &["s'1"])],
                name: vec![ls("Ärztlicher Bericht")],
            }],
            external_identifiers: vec![ExternalIdentifier {
                id: Some("ei1".into()),
                scheme: Some(DE_PATIENT_ID.into()),
                registry_object: Some("Doc&1".into()),
                value: Some("P1^^^&1.2.3&ISO".into()),
                name: vec![LocalizedString {
                    value: "XDSDocumentEntry.patientId".into(),
                    lang: None,
                    charset: None,
                }],
            }],
            order_issues: vec![],
        };
        let ss = RegistryObject {
            kind: ObjectKind::RegistryPackage,
            id: Some("SS1".into()),
            lid: None,
            object_type: None,
            status: None,
            home: None,
            mime_type: None,
            slots: vec![slot("submissionTime", &["20240101120000"])],
            name: vec![],
            description: vec![],
            classifications: vec![],
            external_identifiers: vec![],
            order_issues: vec![],
        };
        RegistryObjectList {
            extrinsic_objects: vec![de],
            registry_packages: vec![ss],
            classifications: vec![Classification {
                id: Some("c10".into()),
                classified_object: Some("SS1".into()),
                node: Some(SUBMISSION_SET_NODE.into()),
                ..Default::default()
            }],
            external_identifiers: vec![ExternalIdentifier {
                id: Some("top".into()),
                value: Some(WHITESPACE.into()),
                ..Default::default()
            }],
            associations: vec![Association {
                id: Some("as1".into()),
                association_type: Some(ASSOC_HAS_MEMBER.into()),
                source_object: Some("SS1".into()),
                target_object: Some("Doc&1".into()),
                status: None,
                slots: vec![slot("SubmissionSetStatus", &["Original"])],
                order_issues: vec![],
            }],
            object_refs: vec![
                ObjectRef {
                    id: Some("urn:uuid:ref".into()),
                    home: Some("urn:oid:9.8".into()),
                },
                ObjectRef::default(),
            ],
            other: vec![],
        }
    }

    fn errors() -> RegistryResponse {
        RegistryResponse {
            status: Some(RESPONSE_PARTIAL_SUCCESS.into()),
            has_error_list: true,
            errors: vec![
                RegistryError {
                    error_code: Some("XDSDocumentUniqueIdError".into()),
                    code_context: Some(format!("unknown {NASTY}")),
                    location: Some("1.2.3".into()),
                    severity: Some(SEVERITY_ERROR.into()),
                },
                RegistryError {
                    error_code: None,
                    code_context: Some(WHITESPACE.into()),
                    location: None,
                    severity: Some(SEVERITY_WARNING.into()),
                },
            ],
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_attr("plain"), Cow::Borrowed("plain"));
        assert_eq!(
            escape_attr("&<>\"'\t\n\r"),
            "&amp;&lt;&gt;&quot;&apos;&#9;&#10;&#13;"
        );
        assert_eq!(escape_text("a]]>b\r\n\"'"), "a]]&gt;b&#13;\n\"'");
    }

    #[test]
    fn submit_objects_round_trip() {
        let s = SubmitObjectsRequest {
            slots: vec![slot("requestSlot", &[NASTY])],
            objects: sample_list(),
        };
        let xml = s.to_xml();
        assert!(
            xml.starts_with("<lcm:SubmitObjectsRequest xmlns:rim="),
            "{xml}"
        );
        for ns in ["xmlns:lcm=", "xmlns:query=", "xmlns:rs=", "xmlns:xdsb="] {
            assert!(xml.contains(ns), "{ns} missing");
        }
        match parse_message_bytes(xml.as_bytes()) {
            Ok(Message::SubmitObjects(back)) => assert_eq!(back, s),
            other => panic!("does not parse back: {other:?}\n{xml}"),
        }
    }

    #[test]
    fn children_in_schema_order() {
        let xml = registry_object_list_xml(&sample_list());
        let pos = |needle: &str| xml.find(needle).unwrap_or(usize::MAX);
        assert!(pos("<rim:Slot name=\"creationTime\"") < pos("<rim:Name>"));
        assert!(pos("<rim:Name>") < pos("<rim:Description>"));
        assert!(pos("<rim:Description>") < pos("<rim:Classification id=\"cl"));
        assert!(pos("<rim:Classification id=\"cl") < pos("<rim:ExternalIdentifier id=\"ei1\""));
        assert!(pos("<rim:ExtrinsicObject") < pos("<rim:RegistryPackage"));
        assert!(pos("<rim:Association") < pos("<rim:ObjectRef"));
        let root = crate::transport::soap::parse_xml(
            xml.as_bytes(),
            &crate::transport::soap::XmlLimits::default(),
        )
        .expect("well-formed");
        let back = crate::model::ebrim::parse_registry_object_list(&root);
        assert_eq!(back, sample_list());
    }

    #[test]
    fn provide_and_register_round_trip() {
        let r = ProvideAndRegisterRequest {
            submit: SubmitObjectsRequest {
                slots: vec![],
                objects: sample_list(),
            },
            documents: vec![
                Document {
                    id: Some("Doc&1".into()),
                    content: DocumentContent::Inline(b"\x00\x01DICM\xff".to_vec()),
                },
                Document {
                    id: Some("Doc2".into()),
                    content: DocumentContent::Xop {
                        href: "cid:1.urn%3Auuid%3Aab@ihe.example".into(),
                    },
                },
                Document {
                    id: None,
                    content: DocumentContent::Inline(vec![]),
                },
            ],
        };
        let xml = r.to_xml();
        assert!(xml.contains(
            "<xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:1.urn%3Auuid%3Aab@ihe.example\"/>"
        ));
        match parse_message_bytes(xml.as_bytes()) {
            Ok(Message::ProvideAndRegister(back)) => assert_eq!(back, r),
            other => panic!("does not parse back: {other:?}\n{xml}"),
        }
    }

    #[test]
    fn adhoc_query_response_round_trip() {
        for resp in [
            AdhocQueryResponse {
                response: RegistryResponse {
                    status: Some(RESPONSE_SUCCESS.into()),
                    has_error_list: false,
                    errors: vec![],
                },
                objects: sample_list(),
                has_object_list: true,
            },
            AdhocQueryResponse {
                response: RegistryResponse {
                    status: Some(RESPONSE_SUCCESS.into()),
                    has_error_list: false,
                    errors: vec![],
                },
                objects: RegistryObjectList::default(),
                has_object_list: true,
            },
            AdhocQueryResponse {
                response: errors(),
                objects: RegistryObjectList {
                    object_refs: vec![ObjectRef {
                        id: Some("urn:uuid:1".into()),
                        home: None,
                    }],
                    ..Default::default()
                },
                has_object_list: true,
            },
            AdhocQueryResponse {
                response: RegistryResponse {
                    status: Some(RESPONSE_FAILURE.into()),
                    has_error_list: true,
                    errors: vec![],
                },
                objects: RegistryObjectList::default(),
                has_object_list: false,
            },
            AdhocQueryResponse::default(),
        ] {
            let xml = resp.to_xml();
            match parse_message_bytes(xml.as_bytes()) {
                Ok(Message::AdhocQueryResponse(back)) => assert_eq!(back, resp, "{xml}"),
                other => panic!("does not parse back: {other:?}\n{xml}"),
            }
        }
    }

    #[test]
    fn retrieve_response_round_trip() {
        for resp in [
            RetrieveDocumentSetResponse {
                registry_response: Some(errors()),
                documents: vec![
                    DocumentResponse {
                        home_community_id: Some("urn:oid:1.2.3".into()),
                        repository_unique_id: Some("1.2.9".into()),
                        document_unique_id: Some("1.2.9.1".into()),
                        new_repository_unique_id: Some("1.2.10".into()),
                        new_document_unique_id: Some("1.2.10.1".into()),
                        mime_type: Some("application/dicom".into()),
                        document: Some(DocumentContent::Inline(NASTY.as_bytes().to_vec())),
                    },
                    DocumentResponse {
                        home_community_id: None,
                        repository_unique_id: Some("a&b<c>".into()),
                        document_unique_id: Some("Ω".into()),
                        new_repository_unique_id: None,
                        new_document_unique_id: None,
                        mime_type: Some("text/plain; charset=\"utf-8\"".into()),
                        document: Some(DocumentContent::Xop {
                            href: "cid:part'1@x".into(),
                        }),
                    },
                    DocumentResponse::default(),
                ],
            },
            RetrieveDocumentSetResponse {
                registry_response: Some(RegistryResponse {
                    status: Some(RESPONSE_SUCCESS.into()),
                    ..Default::default()
                }),
                documents: vec![],
            },
            RetrieveDocumentSetResponse::default(),
        ] {
            let xml = resp.to_xml();
            match parse_message_bytes(xml.as_bytes()) {
                Ok(Message::RetrieveDocumentSetResponse(back)) => assert_eq!(back, resp, "{xml}"),
                other => panic!("does not parse back: {other:?}\n{xml}"),
            }
        }
    }

    #[test]
    fn document_response_children_in_schema_order() {
        let resp = RetrieveDocumentSetResponse {
            registry_response: Some(RegistryResponse::default()),
            documents: vec![DocumentResponse {
                home_community_id: Some("h".into()),
                repository_unique_id: Some("r".into()),
                document_unique_id: Some("d".into()),
                new_repository_unique_id: Some("nr".into()),
                new_document_unique_id: Some("nd".into()),
                mime_type: Some("m".into()),
                document: Some(DocumentContent::Inline(vec![1])),
            }],
        };
        let xml = resp.to_xml();
        let order = [
            "<rs:RegistryResponse",
            "<xdsb:HomeCommunityId>",
            "<xdsb:RepositoryUniqueId>",
            "<xdsb:DocumentUniqueId>",
            "<xdsb:NewRepositoryUniqueId>",
            "<xdsb:NewDocumentUniqueId>",
            "<xdsb:mimeType>",
            "<xdsb:Document>",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|n| xml.find(n).unwrap_or(usize::MAX))
            .collect();
        assert!(positions.windows(2).all(|p| p[0] < p[1]), "{xml}");
    }
}
