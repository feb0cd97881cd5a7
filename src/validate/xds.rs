//! XDS SOAP/ebXML messages: a SOAP envelope, a bare ebRS/ebRIM body, or a captured HTTP message
//! (an MTOM request or response, head and body). The transaction and direction come from the body element and the WS-Addressing
//! Action; the rules are those of [`crate::checks::xds::rules`], the validators a run applies to
//! the same message ([`crate::checks::xds::judge`]).

use super::{context, Assertion, FileType, Judgement, Options};
use crate::checks::xds::rules::{
    self as r, validate_envelope, validate_imaging_retrieve_request, validate_mtom_content_type,
    validate_query_request, validate_query_response, validate_registry_response,
    validate_retrieve_request, validate_retrieve_response, validate_submission,
    validate_xop_references, RetrieveKind, SubmissionKind, Violation,
};
use crate::checks::Outcome;
use crate::model::ebrim::{self as e, Message};
use crate::transport::soap::{
    parse_envelope, parse_mtom, parse_xml, Envelope, MtomLimits, XmlLimits, NS_SOAP11, NS_SOAP12,
};

/// The ITI-42 Register Document Set-b action (ITI TF-2 Table 3.42.5-1).
const ACTION_REGISTER: &str = "urn:ihe:iti:2007:RegisterDocumentSet-b";
/// Its response.
const ACTION_REGISTER_RESPONSE: &str = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse";
/// The ITI-57 Update Document Set action (ITI TF-2 §3.57.5).
const ACTION_UPDATE: &str = "urn:ihe:iti:2010:UpdateDocumentSet";
/// Its response.
const ACTION_UPDATE_RESPONSE: &str = "urn:ihe:iti:2010:UpdateDocumentSetResponse";
/// The FHIR namespace.
const NS_FHIR: &str = "http://hl7.org/fhir";

/// The limits of the XML reader for a file: a run's body limit.
fn xml_limits() -> XmlLimits {
    let l = crate::config::Limits::default();
    XmlLimits {
        max_bytes: l.max_body as usize * 4,
        max_elements: l.max_nodes as usize,
        ..XmlLimits::default()
    }
}

/// The type of an XML file, from its root element; `None` for XML `validate` does not know or
/// XML that does not parse.
pub(super) fn xml_type(bytes: &[u8]) -> Option<FileType> {
    let root = parse_xml(bytes, &xml_limits()).ok()?;
    if root.ns.as_deref() == Some(NS_FHIR) {
        return Some(FileType::FhirXml);
    }
    if root.local == "Envelope" && matches!(root.ns.as_deref(), Some(NS_SOAP12 | NS_SOAP11)) {
        return Some(FileType::Iti41);
    }
    e::parse_message(&root).ok().map(|m| of_message(&m, None))
}

fn action_is(action: Option<&str>, want: &str) -> bool {
    action.is_some_and(|a| a.trim() == want)
}

/// An ITI-57 update: the UpdateDocumentSet action, or metadata only an update carries (a
/// HasMember with PreviousVersion, an UpdateAvailabilityStatus association; ITI TF-3 §4.2.2).
fn is_update(s: &e::SubmitObjectsRequest) -> bool {
    s.objects.associations.iter().any(|a| {
        a.association_type
            .as_deref()
            .is_some_and(|t| t.ends_with("UpdateAvailabilityStatus"))
            || a.slots.iter().any(|s| s.name == "PreviousVersion")
    })
}

fn is_imaging(objects: &e::RegistryObjectList) -> bool {
    objects
        .extrinsic_objects
        .iter()
        .any(|o| o.mime_type.as_deref() == Some(e::MIME_DICOM))
}

/// The transaction of a message, from its body and the Action when there is one.
fn of_message(m: &Message, action: Option<&str>) -> FileType {
    match m {
        Message::ProvideAndRegister(p) if is_imaging(&p.submit.objects) => FileType::Rad68,
        Message::ProvideAndRegister(_) => FileType::Iti41,
        Message::SubmitObjects(s) if action_is(action, ACTION_UPDATE) || is_update(s) => {
            FileType::Iti57
        }
        Message::SubmitObjects(_) => FileType::Iti42,
        Message::AdhocQueryRequest(_) if action_is(action, e::ACTION_XC_QUERY) => {
            FileType::Iti38Request
        }
        Message::AdhocQueryRequest(_) => FileType::Iti18Request,
        Message::AdhocQueryResponse(_) if action_is(action, e::ACTION_XC_QUERY_RESPONSE) => {
            FileType::Iti38Response
        }
        Message::AdhocQueryResponse(_) => FileType::Iti18Response,
        Message::RegistryResponse(_) => FileType::RegistryResponse,
        Message::RetrieveDocumentSetRequest(_) if action_is(action, e::ACTION_XC_RETRIEVE) => {
            FileType::Iti39Request
        }
        Message::RetrieveDocumentSetRequest(_) => FileType::Iti43Request,
        Message::RetrieveDocumentSetResponse(_)
            if action_is(action, e::ACTION_XC_RETRIEVE_IMAGING_RESPONSE) =>
        {
            FileType::Rad75Response
        }
        Message::RetrieveDocumentSetResponse(_)
            if action_is(action, e::ACTION_XC_RETRIEVE_RESPONSE) =>
        {
            FileType::Iti39Response
        }
        // RAD-69 answers with the ITI-43 response element and action; its documents are DICOM.
        Message::RetrieveDocumentSetResponse(r)
            if !r.documents.is_empty()
                && r.documents
                    .iter()
                    .all(|d| d.mime_type.as_deref() == Some(e::MIME_DICOM)) =>
        {
            FileType::Rad69Response
        }
        Message::RetrieveDocumentSetResponse(_) => FileType::Iti43Response,
        Message::RetrieveImagingDocumentSetRequest(_)
            if action_is(action, e::ACTION_XC_RETRIEVE_IMAGING) =>
        {
            FileType::Rad75Request
        }
        Message::RetrieveImagingDocumentSetRequest(_) => FileType::Rad69Request,
    }
}

/// Does the message's element fit the type asked?
fn fits(m: &Message, t: FileType) -> bool {
    use FileType::*;
    matches!(
        (m, t),
        (Message::ProvideAndRegister(_), Iti41 | Rad68)
            | (Message::SubmitObjects(_), Iti42 | Iti57 | Iti41 | Rad68)
            | (Message::AdhocQueryRequest(_), Iti18Request | Iti38Request)
            | (
                Message::AdhocQueryResponse(_),
                Iti18Response | Iti38Response
            )
            | (Message::RegistryResponse(_), RegistryResponse)
            | (
                Message::RetrieveDocumentSetRequest(_),
                Iti43Request | Iti39Request
            )
            | (
                Message::RetrieveDocumentSetResponse(_),
                Iti43Response | Iti39Response | Rad69Response | Rad75Response
            )
            | (
                Message::RetrieveImagingDocumentSetRequest(_),
                Rad69Request | Rad75Request
            )
    )
}

fn direction(t: FileType) -> r::Direction {
    use FileType::*;
    match t {
        Iti41 | Rad68 | Iti42 | Iti57 | Iti18Request | Iti38Request | Iti43Request
        | Iti39Request | Rad69Request | Rad75Request => r::Direction::Request,
        _ => r::Direction::Response,
    }
}

/// The action the transaction's message carries (ITI TF-2 Appendix V and the transactions'
/// WSDL tables, as [`crate::transaction::Transaction`] names them).
fn expected_action(t: FileType, found: Option<&str>) -> &'static str {
    use FileType::*;
    match t {
        Iti41 | Rad68 => e::ACTION_PNR,
        Iti42 => ACTION_REGISTER,
        Iti57 => ACTION_UPDATE,
        Iti18Request => e::ACTION_STORED_QUERY,
        Iti18Response => e::ACTION_STORED_QUERY_RESPONSE,
        Iti38Request => e::ACTION_XC_QUERY,
        Iti38Response => e::ACTION_XC_QUERY_RESPONSE,
        Iti43Request => e::ACTION_RETRIEVE,
        Iti43Response | Rad69Response => e::ACTION_RETRIEVE_RESPONSE,
        Iti39Request => e::ACTION_XC_RETRIEVE,
        Iti39Response => e::ACTION_XC_RETRIEVE_RESPONSE,
        Rad69Request => e::ACTION_RETRIEVE_IMAGING,
        Rad75Request => e::ACTION_XC_RETRIEVE_IMAGING,
        Rad75Response => e::ACTION_XC_RETRIEVE_IMAGING_RESPONSE,
        // A RegistryResponse answers ITI-41, ITI-42, ITI-57 and RAD-68: its action names which.
        _ => [ACTION_REGISTER_RESPONSE, ACTION_UPDATE_RESPONSE]
            .into_iter()
            .find(|a| action_is(found, a))
            .unwrap_or(e::ACTION_PNR_RESPONSE),
    }
}

/// The rules of the message itself, by transaction.
fn message_rules(m: &Message, t: FileType) -> Vec<Violation> {
    match m {
        Message::ProvideAndRegister(p) => {
            let kind = if t == FileType::Rad68 {
                SubmissionKind::Rad68
            } else {
                SubmissionKind::Iti41
            };
            validate_submission(&p.submit, Some(&p.documents), kind)
        }
        Message::SubmitObjects(s) => {
            let kind = if t == FileType::Iti57 {
                SubmissionKind::Iti57
            } else {
                SubmissionKind::MetadataOnly {
                    imaging: t == FileType::Rad68 || is_imaging(&s.objects),
                }
            };
            validate_submission(s, None, kind)
        }
        Message::AdhocQueryRequest(q) => validate_query_request(q),
        // The returnType asked is in the request, not in the answer: ITI18-09/10 need it.
        Message::AdhocQueryResponse(q) => validate_query_response(q, None),
        Message::RegistryResponse(q) => validate_registry_response(q),
        Message::RetrieveDocumentSetRequest(q) => validate_retrieve_request(q),
        Message::RetrieveDocumentSetResponse(q) => {
            let kind = match t {
                FileType::Iti39Response | FileType::Rad75Response => RetrieveKind::CrossCommunity,
                FileType::Rad69Response => RetrieveKind::Rad69,
                _ => RetrieveKind::Iti43,
            };
            validate_retrieve_response(q, kind)
        }
        Message::RetrieveImagingDocumentSetRequest(q) => {
            validate_imaging_retrieve_request(q, t == FileType::Rad75Request)
        }
    }
}

struct Parsed {
    envelope: Option<Envelope>,
    message: Option<Message>,
    packaging: Vec<Violation>,
    notes: Vec<String>,
}

/// A captured HTTP request: head and body split at the first empty line. A capture stored with
/// bare LF line endings gets CRLF back when it holds no CR at all.
fn parse_http(bytes: &[u8]) -> Result<Parsed, String> {
    let text = if bytes.contains(&b'\r') {
        bytes.to_vec()
    } else {
        let mut v = Vec::with_capacity(bytes.len() + bytes.len() / 20);
        for &b in bytes {
            if b == b'\n' {
                v.push(b'\r');
            }
            v.push(b);
        }
        v
    };
    let split = memchr::memmem::find(&text, b"\r\n\r\n").ok_or("no end of the HTTP head")?;
    let head = String::from_utf8_lossy(text.get(..split).unwrap_or_default()).into_owned();
    let body = text.get(split + 4..).unwrap_or_default();
    let content_type = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_owned())
        .ok_or("the HTTP head has no Content-Type")?;
    let limits = MtomLimits::default();
    let msg = parse_mtom(&content_type, body, &limits).map_err(|e| e.to_string())?;
    let env = msg.envelope(&xml_limits()).map_err(|e| e.to_string())?;
    let action = env.addressing.action.as_ref().map(|a| a.value.clone());
    let mut packaging = validate_mtom_content_type(&content_type, action.as_deref());
    if let Some(body_el) = &env.body {
        let cids: Vec<Option<String>> = msg
            .attachments
            .iter()
            .map(|a| a.content_id.clone())
            .collect();
        packaging.extend(validate_xop_references(&e::xop_hrefs(body_el), &cids));
    }
    let message = env.body.as_ref().map(e::parse_message).transpose();
    let message = message.map_err(|e| format!("the SOAP Body is not an ebXML message: {e}"))?;
    let mut notes = Vec::new();
    if !bytes.contains(&b'\r') {
        notes.push("the capture has bare LF line endings; read with CRLF restored".into());
    }
    Ok(Parsed {
        envelope: Some(env),
        message,
        packaging,
        notes,
    })
}

fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let head = super::trim_start(bytes);
    if head.starts_with(b"POST ") || head.starts_with(b"HTTP/1.") {
        return parse_http(bytes);
    }
    let limits = xml_limits();
    let root = parse_xml(bytes, &limits).map_err(|e| format!("not well-formed XML: {e}"))?;
    if root.local == "Envelope" && matches!(root.ns.as_deref(), Some(NS_SOAP12 | NS_SOAP11)) {
        let env = parse_envelope(bytes).map_err(|e| e.to_string())?;
        let message = match (&env.body, &env.fault) {
            (_, Some(_)) | (None, _) => None,
            (Some(b), None) => Some(
                e::parse_message(b)
                    .map_err(|e| format!("the SOAP Body is not an ebXML message: {e}"))?,
            ),
        };
        return Ok(Parsed {
            envelope: Some(env),
            message,
            packaging: vec![],
            notes: vec![
                "a SOAP envelope alone: its HTTP/MTOM packaging is not in the file and not judged"
                    .into(),
            ],
        });
    }
    let message = e::parse_message(&root).map_err(|e| e.to_string())?;
    Ok(Parsed {
        envelope: None,
        message: Some(message),
        packaging: vec![],
        notes: vec![
            "a bare message body: the SOAP envelope and WS-Addressing rules are not judged".into(),
        ],
    })
}

/// Judge an XDS message file.
pub(super) fn judge(name: &str, bytes: &[u8], opts: &Options) -> Judgement {
    let mut j = Judgement {
        file: name.into(),
        sha256: String::new(),
        file_type: opts.as_type,
        kind: "XDS message".into(),
        validator: "XDS SOAP/ebXML".into(),
        assertions: vec![],
        notes: vec![],
    };
    let parsed = match parse(bytes) {
        Ok(p) => p,
        Err(why) => {
            if opts.as_type.is_some() {
                // Asked to judge an XDS message: one that cannot be read is a breach of the
                // envelope rule, as a run reports an unreadable SOAP answer.
                j.assertions.push(Assertion::of_check(
                    r::SOAP_01.id,
                    Outcome::Fail,
                    opts.strict,
                    "a SOAP 1.2 envelope or ebXML message (ITI TF-2 Appendix V)",
                    why,
                    "",
                ));
            } else {
                j.file_type = None;
                j.kind = "not recognised".into();
                j.assertions
                    .push(Assertion::plain(crate::checks::Finding::harness_error(
                        "the file cannot be judged",
                        why,
                    )));
            }
            return j;
        }
    };
    j.notes.extend(parsed.notes);
    let action = parsed
        .envelope
        .as_ref()
        .and_then(|env| env.addressing.action.as_ref())
        .map(|a| a.value.clone());
    let t = match (&parsed.message, opts.as_type) {
        (Some(m), Some(t)) if !fits(m, t) => {
            j.file_type = None;
            j.kind = of_message(m, action.as_deref()).name().into();
            j.assertions
                .push(Assertion::plain(crate::checks::Finding::harness_error(
                    "the file is not the type asked",
                    format!(
                        "--as {} was asked; the file is a {}",
                        t.id(),
                        of_message(m, action.as_deref()).name()
                    ),
                )));
            return j;
        }
        (_, Some(t)) => t,
        (Some(m), None) => of_message(m, action.as_deref()),
        (None, None) => {
            // A SOAP Fault, or an empty Body: only the envelope rules apply.
            j.kind = "SOAP Fault".into();
            if let Some(env) = &parsed.envelope {
                j.file_type = Some(FileType::RegistryResponse);
                j.assertions.extend(
                    validate_envelope(env, r::Direction::Response, None)
                        .iter()
                        .map(|v| Assertion::of_violation(v, opts.strict, "XPath")),
                );
            }
            return j;
        }
    };
    j.file_type = Some(t);
    j.kind = t.name().into();
    let mut violations = parsed.packaging;
    if let Some(env) = &parsed.envelope {
        violations.extend(validate_envelope(
            env,
            direction(t),
            Some(expected_action(t, action.as_deref())),
        ));
    }
    if let Some(m) = &parsed.message {
        violations.extend(message_rules(m, t));
        j.assertions.extend(
            violations
                .iter()
                .map(|v| Assertion::of_violation(v, opts.strict, "XPath")),
        );
        let (ctx_assertions, ctx_notes) = context::judge_request(m, t, opts);
        j.assertions.extend(ctx_assertions);
        j.notes.extend(ctx_notes);
    } else {
        j.assertions.extend(
            violations
                .iter()
                .map(|v| Assertion::of_violation(v, opts.strict, "XPath")),
        );
    }
    if t == FileType::Iti18Response || t == FileType::Iti38Response {
        j.notes.push(
            "ITI18-09 and ITI18-10 (the returnType asked) need the request and are not judged"
                .into(),
        );
    }
    j
}
