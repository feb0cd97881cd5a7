//! The XDS/XDS-I.b message parsers and structural validators against the third-party sample
//! corpus in `fixtures/corpus/xds/` (NIST XDS Toolkit and IPF samples, see
//! `fixtures/corpus/xds/MANIFEST.json`).
//!
//! For every file: parse it (SOAP envelope, bare ebXML body, or the captured MTOM HTTP request),
//! run the validators that apply to its transaction and role, and compare with the MANIFEST
//! verdict: `valid` gives no Error-level violation; `invalid` gives at least one, and the one the
//! source names, unless the defect is contextual (only a responder holding other content can
//! refuse it; listed in [`CONTEXTUAL`]); `unknown` only has to be read without panicking.
//!
//! `IHE_HARNESS_ROOT` overrides the repository root (default: this crate's manifest directory).

use std::path::PathBuf;

use ihe_harness::checks::xds::rules::{
    validate_envelope, validate_imaging_retrieve_request, validate_mtom_content_type,
    validate_query_request, validate_query_response, validate_registry_response,
    validate_retrieve_request, validate_retrieve_response, validate_submission,
    validate_xop_references, Direction, RetrieveKind, SubmissionKind, Violation,
};
use ihe_harness::checks::Level;
use ihe_harness::model::ebrim::{self, xop_hrefs, Message};
use ihe_harness::transport::soap::{
    parse_envelope, parse_mtom, parse_xml, MtomLimits, XmlLimits, NS_SOAP11, NS_SOAP12,
};

fn root() -> PathBuf {
    std::env::var_os("IHE_HARNESS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn corpus_dir() -> PathBuf {
    root().join("fixtures").join("corpus")
}

/// Invalid files whose defect is contextual: the message is well formed and only a responder
/// holding other content refuses it. A validator without that content accepts them.
const CONTEXTUAL: &[(&str, &str)] = &[
    (
        "xds/nist-ids_2018-4811-case-01_Invalid_RepositoryUID-rad69-request.xml",
        "the RepositoryUniqueId is well formed; only the Imaging Document Source knows it is not its own (XDSUnknownRepositoryId)",
    ),
    (
        "xds/nist-ids_2018-4811-case-02_Unknown_SOP_Instance_UID-rad69-request.xml",
        "the SOP Instance UID is well formed; only the source knows it holds no such instance (XDSDocumentUniqueIdError)",
    ),
    (
        "xds/nist-ids_2018-4811-case-09_Invalid_Transfer_Syntax_UID-rad69-request.xml",
        "1.2.840.10008.1.2.1.999 is a well-formed UID; only the source knows it cannot encode to it (XDSRepositoryError)",
    ),
    (
        "xds/nist-rig_2018-5424b-RAD-75Request.xml",
        "the DICOM UIDs are well formed; only the source behind the gateway knows they are unknown (XDSDocumentUniqueIdError)",
    ),
    (
        "xds/nist-rig_2018-5424c-RAD-75Request.xml",
        "the RepositoryUniqueId is well formed; only the Responding Imaging Gateway knows it has no such source (XDSIUnknownIdsUid)",
    ),
];

/// The rule each structurally invalid file must trip: the defect its source names.
const EXPECTED_RULE: &[(&str, &str)] = &[
    (
        "xds/ipf-SubmitObjectsRequest_ebrs30_update_sameLid.xml",
        "ITI57-01",
    ),
    (
        "xds/nist-ids_2018-4811-case-05_Empty_Study_Instance_UID-rad69-request.xml",
        "RAD69-01",
    ),
    (
        "xds/nist-ids_2018-4811-case-06_Empty_Series_Instance_UID-rad69-request.xml",
        "RAD69-02",
    ),
    (
        "xds/nist-ids_2018-4811-case-08_Empty_Transfer_Syntax_UID-rad69-request.xml",
        "RAD69-04",
    ),
    ("xds/nist-pnr-assoc-to-self.xml", "ITI41-24"),
    ("xds/nist-pnr-bad-uplink.xml", "ITI41-25"),
    ("xds/nist-pnr-element-order.xml", "EBRIM-01"),
    ("xds/nist-regresp-fail-noerr.xml", "XDS-SOAP-09"),
    ("xds/nist-regresp-suc-err.xml", "XDS-SOAP-13"),
    ("xds/nist-soap-noaction-pnr.xml", "XDS-SOAP-02"),
    ("xds/nist-soap-pnr-soap-order.xml", "XDS-SOAP-11"),
    ("xds/nist-soap-xret-resp-homeless.xml", "ITI39-01"),
    ("xds/nist-sq-req-bad-code.xml", "ITI18-05"),
    ("xds/nist-sq-req-bad-pid-format.xml", "ITI18-05"),
    ("xds/nist-sq-req-bad-stat-format1.xml", "ITI18-05"),
    ("xds/nist-sq-req-missing-stat.xml", "ITI18-03"),
    ("xds/nist-sq-resp-lc-no-objectType.xml", "ITI18-08"),
    ("xds/nist-sq-resp-lc-no-status.xml", "ITI18-08"),
    ("xds/nist-sq-resp-nostat-objectref.xml", "XDS-SOAP-07"),
    ("xds/nist-soap-xcq-resp.xml", "XDS-SOAP-02"),
];

/// How a submission file is judged: which transaction its MANIFEST `what` names.
fn submission_kind(file: &str, has_documents: bool) -> SubmissionKind {
    let imaging = file.contains("idc_init") || file.contains("ids_2018-4801a");
    if file.contains("_update") {
        SubmissionKind::Iti57
    } else if !has_documents && file.contains("ids_2018-4801a") {
        // NIST's comparison standard: RAD-68 metadata without its document (see MANIFEST).
        SubmissionKind::MetadataOnly { imaging: true }
    } else if imaging {
        SubmissionKind::Rad68
    } else {
        SubmissionKind::Iti41
    }
}

fn expected_action(body_local: &str, direction: Direction, xc: bool) -> Option<&'static str> {
    Some(match (body_local, direction) {
        ("ProvideAndRegisterDocumentSetRequest", _) => ebrim::ACTION_PNR,
        ("RegistryResponse", _) => ebrim::ACTION_PNR_RESPONSE,
        ("AdhocQueryRequest", _) => ebrim::ACTION_STORED_QUERY,
        ("AdhocQueryResponse", _) => ebrim::ACTION_STORED_QUERY_RESPONSE,
        ("RetrieveDocumentSetRequest", _) => ebrim::ACTION_RETRIEVE,
        ("RetrieveDocumentSetResponse", _) if xc => ebrim::ACTION_XC_RETRIEVE_RESPONSE,
        ("RetrieveDocumentSetResponse", _) => ebrim::ACTION_RETRIEVE_RESPONSE,
        ("RetrieveImagingDocumentSetRequest", _) => ebrim::ACTION_RETRIEVE_IMAGING,
        _ => return None,
    })
}

/// The returnType a query response sample answers, when its name says it.
fn return_type_of(file: &str) -> Option<&'static str> {
    if file.contains("-lc") {
        Some("LeafClass")
    } else if file.contains("objectref") {
        Some("ObjectRef")
    } else {
        None
    }
}

fn validate_message(file: &str, msg: &Message, cross_community: bool) -> Vec<Violation> {
    match msg {
        Message::ProvideAndRegister(p) => validate_submission(
            &p.submit,
            Some(&p.documents),
            submission_kind(file, !p.documents.is_empty()),
        ),
        Message::SubmitObjects(s) => {
            let kind = match submission_kind(file, false) {
                SubmissionKind::Iti57 => SubmissionKind::Iti57,
                SubmissionKind::Rad68 | SubmissionKind::MetadataOnly { imaging: true } => {
                    SubmissionKind::MetadataOnly { imaging: true }
                }
                _ => SubmissionKind::MetadataOnly { imaging: false },
            };
            validate_submission(s, None, kind)
        }
        Message::AdhocQueryRequest(q) => validate_query_request(q),
        // The NIST responses name the returnType they answer (`-lc-`: LeafClass), so the
        // returnType rules (ITI18-09, ITI18-10) judge them as a registry's answer to that query.
        Message::AdhocQueryResponse(r) => validate_query_response(r, return_type_of(file)),
        Message::RegistryResponse(r) => validate_registry_response(r),
        Message::RetrieveDocumentSetRequest(r) => validate_retrieve_request(r),
        Message::RetrieveDocumentSetResponse(r) => {
            let kind = if cross_community {
                RetrieveKind::CrossCommunity
            } else if file.contains("RAD-69") {
                RetrieveKind::Rad69
            } else {
                RetrieveKind::Iti43
            };
            validate_retrieve_response(r, kind)
        }
        Message::RetrieveImagingDocumentSetRequest(r) => {
            // RAD-75 requests go to an Imaging Gateway and must carry HomeCommunityId.
            validate_imaging_retrieve_request(r, file.contains("RAD-75"))
        }
    }
}

fn validate_envelope_file(file: &str, bytes: &[u8]) -> Result<Vec<Violation>, String> {
    let env = parse_envelope(bytes).map_err(|e| e.to_string())?;
    let body = env.body.as_ref().ok_or("empty SOAP Body")?;
    let direction = if body.local.ends_with("Request") {
        Direction::Request
    } else {
        Direction::Response
    };
    let xc = env
        .addressing
        .action
        .as_ref()
        .is_some_and(|a| a.value.contains("CrossGateway"));
    let mut out = validate_envelope(&env, direction, expected_action(&body.local, direction, xc));
    let msg = ebrim::parse_message(body).map_err(|e| e.to_string())?;
    out.extend(validate_message(file, &msg, xc));
    Ok(out)
}

/// The captured HTTP request: head and body split at the first empty line. The NIST capture is
/// stored with bare LF line endings, so CRLF is restored when the file holds no CR at all (a
/// text-only capture; the attachment is `text/plain`).
fn validate_http_mtom(file: &str, bytes: &[u8]) -> Result<Vec<Violation>, String> {
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
    let split = memchr::memmem::find(&text, b"\r\n\r\n").ok_or("no end of HTTP head")?;
    let head = String::from_utf8_lossy(text.get(..split).ok_or("head")?).into_owned();
    let body = text.get(split + 4..).ok_or("body")?;
    let content_type = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_owned())
        .ok_or("no Content-Type")?;
    let msg = parse_mtom(&content_type, body, &MtomLimits::default()).map_err(|e| e.to_string())?;
    let env = msg
        .envelope(&XmlLimits::default())
        .map_err(|e| e.to_string())?;
    let action = env.addressing.action.as_ref().map(|a| a.value.clone());
    let mut out = validate_mtom_content_type(&content_type, action.as_deref());
    let body_el = env.body.as_ref().ok_or("empty SOAP Body")?;
    let cids: Vec<Option<String>> = msg
        .attachments
        .iter()
        .map(|a| a.content_id.clone())
        .collect();
    out.extend(validate_xop_references(&xop_hrefs(body_el), &cids));
    out.extend(validate_envelope(
        &env,
        Direction::Request,
        Some(ebrim::ACTION_PNR),
    ));
    let m = ebrim::parse_message(body_el).map_err(|e| e.to_string())?;
    out.extend(validate_message(file, &m, false));
    Ok(out)
}

fn validate_file(file: &str, bytes: &[u8]) -> Result<Vec<Violation>, String> {
    if bytes.starts_with(b"POST ") {
        return validate_http_mtom(file, bytes);
    }
    let rootel = parse_xml(bytes, &XmlLimits::default()).map_err(|e| e.to_string())?;
    if rootel.local == "Envelope" && matches!(rootel.ns.as_deref(), Some(NS_SOAP12 | NS_SOAP11)) {
        return validate_envelope_file(file, bytes);
    }
    let msg = ebrim::parse_message(&rootel).map_err(|e| e.to_string())?;
    Ok(validate_message(file, &msg, false))
}

#[test]
fn xds_corpus_verdicts() {
    let dir = corpus_dir();
    let manifest_path = dir.join("xds").join("MANIFEST.json");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&manifest_path).expect("xds MANIFEST.json is readable"),
    )
    .expect("MANIFEST.json is JSON");
    let entries = manifest.as_array().expect("MANIFEST is an array");
    assert!(!entries.is_empty());
    let mut table = Vec::new();
    let mut failures = Vec::new();
    for e in entries {
        let file = e["file"].as_str().expect("file");
        let expected = e["expected"].as_str().expect("expected");
        let bytes = std::fs::read(dir.join(file)).expect("corpus file is readable");
        let result = validate_file(file, &bytes);
        let errors: Vec<&Violation> = match &result {
            Ok(v) => v.iter().filter(|x| x.level == Level::Shall).collect(),
            Err(_) => Vec::new(),
        };
        let mut rules: Vec<&str> = errors.iter().map(|v| v.rule).collect();
        rules.dedup();
        let contextual = CONTEXTUAL.iter().any(|(f, _)| *f == file);
        let outcome = match &result {
            Err(e) => format!("parse error: {e}"),
            Ok(_) if errors.is_empty() => "no errors".to_owned(),
            Ok(_) => format!("errors {}", rules.join(",")),
        };
        let ok = match (expected, &result) {
            ("unknown", _) => true,
            (_, Err(_)) => false,
            ("valid", Ok(_)) => errors.is_empty(),
            ("invalid", Ok(_)) if contextual => errors.is_empty(),
            ("invalid", Ok(_)) => {
                let want = EXPECTED_RULE
                    .iter()
                    .find(|(f, _)| *f == file)
                    .map(|(_, r)| *r);
                !errors.is_empty() && want.is_none_or(|w| rules.contains(&w))
            }
            _ => false,
        };
        if !ok {
            let detail: Vec<String> = match &result {
                Ok(v) => v
                    .iter()
                    .map(|x| format!("  {:?} {} {}", x.level, x.rule, x.message))
                    .collect(),
                Err(e) => vec![format!("  {e}")],
            };
            failures.push(format!(
                "{file} (expected {expected}):\n{}",
                detail.join("\n")
            ));
        }
        table.push(format!(
            "{file} | {expected}{} | {outcome}",
            if contextual { " (contextual)" } else { "" }
        ));
    }
    println!("{}", table.join("\n"));
    assert!(
        failures.is_empty(),
        "corpus verdicts differ:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_corpus_file_is_in_the_manifest() {
    let dir = corpus_dir().join("xds");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("MANIFEST.json")).expect("manifest"))
            .expect("json");
    let listed: Vec<String> = manifest
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["file"].as_str().map(str::to_owned))
        .collect();
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name == "MANIFEST.json" {
            continue;
        }
        assert!(
            listed.contains(&format!("xds/{name}")),
            "{name} missing from MANIFEST.json"
        );
    }
    for f in &listed {
        assert!(corpus_dir().join(f).is_file(), "{f} listed but absent");
    }
    for (f, _) in CONTEXTUAL.iter().chain(EXPECTED_RULE) {
        assert!(
            listed.iter().any(|l| l == f),
            "{f} named in the test but not in MANIFEST.json"
        );
    }
}

#[test]
fn corpus_parsing_survives_truncation() {
    let dir = corpus_dir().join("xds");
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == "MANIFEST.json" {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let file = format!("xds/{name}");
        for cut in [
            0,
            1,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len().saturating_sub(2),
        ] {
            let _ = validate_file(&file, bytes.get(..cut).unwrap_or(&[]));
        }
    }
}
