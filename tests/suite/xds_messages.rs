//! The SOAP messages and the KOS manifest the harness sends, as reviewed snapshots.
//!
//! Each message is built exactly as the actors put it on the wire (`actors::xds::soap_request`),
//! pretty-printed one element per line, with what changes from run to run redacted: generated
//! UIDs (`2.25.…`), `urn:uuid:` ids, MIME boundaries and 14-digit timestamps. Standard OIDs
//! (formatCode, scheme UUIDs of the classifications are `urn:uuid:` too and are kept when they are
//! the XDS constants) stay, since they are what a reviewer checks.

use std::path::PathBuf;

use bytes::Bytes;
use ihe_harness::actors::xds::{soap_request, Attachment};
use ihe_harness::model::ebrim::{
    self as e, AdhocQueryRequest, DocumentRequest, RetrieveDocumentSetRequest,
    RetrieveImagingDocumentSetRequest, SeriesRequest, StudyRequest,
};
use ihe_harness::model::fixtures::Fixtures;
use ihe_harness::model::kos::{self, ManifestSpec, Patient, ReferencedInstance, Study};
use ihe_harness::model::xds_metadata::{manifest_submission, AffinityDomain, SubmissionContext};

const ENDPOINT: &str = "http://sut.example/xds";

fn fixtures() -> Fixtures {
    Fixtures::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies"))
        .expect("fixtures")
}

/// The XDS constants that are `urn:uuid:` values and must stay visible.
fn constants() -> Vec<&'static str> {
    let mut v = vec![
        e::DOC_ENTRY_STABLE,
        e::DOC_ENTRY_ON_DEMAND,
        e::SUBMISSION_SET_NODE,
        e::DE_AUTHOR,
        e::DE_CLASS_CODE,
        e::DE_CONFIDENTIALITY_CODE,
        e::DE_EVENT_CODE,
        e::DE_FORMAT_CODE,
        e::DE_HEALTHCARE_FACILITY_TYPE_CODE,
        e::DE_PATIENT_ID,
        e::DE_PRACTICE_SETTING_CODE,
        e::DE_TYPE_CODE,
        e::DE_UNIQUE_ID,
        e::SS_AUTHOR,
        e::SS_CONTENT_TYPE_CODE,
        e::SS_PATIENT_ID,
        e::SS_SOURCE_ID,
        e::SS_UNIQUE_ID,
    ];
    v.extend(e::STORED_QUERIES.iter().map(|(id, _)| *id));
    v
}

/// Redact what varies between runs.
fn redact(text: &str, boundary: Option<&str>) -> String {
    let mut s = text.to_string();
    if let Some(b) = boundary {
        s = s.replace(b, "[boundary]");
    }
    let keep = constants();
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("urn:uuid:") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 9..];
        let len = tail
            .find(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
            .unwrap_or(tail.len());
        let whole = &rest[i..i + 9 + len];
        if keep.iter().any(|k| k.eq_ignore_ascii_case(whole)) {
            out.push_str(whole);
        } else {
            out.push_str("urn:uuid:[id]");
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    // Generated UIDs and timestamps, token by token.
    let mut res = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, res: &mut String| {
        let dots = token.len() - token.trim_start_matches('.').len();
        if token[dots..].starts_with("2.25.") {
            res.push_str(&token[..dots]);
            res.push_str("[uid]");
        } else if token.len() == 14
            && token.starts_with("20")
            && token.bytes().all(|b| b.is_ascii_digit())
        {
            res.push_str("[timestamp]");
        } else {
            res.push_str(token);
        }
        token.clear();
    };
    for c in out.chars() {
        if c.is_ascii_digit() || c == '.' {
            token.push(c);
        } else {
            flush(&mut token, &mut res);
            res.push(c);
        }
    }
    flush(&mut token, &mut res);
    res
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One element per line.
fn pretty(xml: &str) -> String {
    xml.replace("><", ">\n<")
}

/// Content-Type and body of a request, printed: the XML root part in full, attachments as sizes.
fn render(content_type: &str, body: &[u8]) -> String {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string());
    let mut out = format!("Content-Type: {content_type}\n\n");
    match &boundary {
        None => out.push_str(&pretty(&String::from_utf8_lossy(body))),
        Some(b) => {
            let delim = format!("--{b}");
            let mut parts = Vec::new();
            let mut at = 0;
            while let Some(i) = find(&body[at..], delim.as_bytes()) {
                parts.push(at + i + delim.len());
                at += i + delim.len();
            }
            for (n, start) in parts.iter().enumerate() {
                let end = parts
                    .get(n + 1)
                    .map(|next| next - delim.len())
                    .unwrap_or(body.len());
                let part = &body[*start..end];
                if part.starts_with(b"--") {
                    out.push_str("[end of package]\n");
                    break;
                }
                let split = find(part, b"\r\n\r\n").unwrap_or(part.len());
                let head = String::from_utf8_lossy(&part[..split]);
                let data = part.get(split + 4..).unwrap_or_default();
                // The part's data ends with the CRLF that precedes the next delimiter.
                let data = data.strip_suffix(b"\r\n").unwrap_or(data);
                out.push_str(&format!("[part]{}\n", head.replace("\r\n", "\n  ")));
                if head.contains("application/xop+xml") {
                    out.push_str(&pretty(String::from_utf8_lossy(data).trim_end()));
                    out.push('\n');
                } else {
                    out.push_str(&format!("[{} bytes]\n", data.len()));
                }
            }
        }
    }
    redact(&out, boundary.as_deref())
}

fn request(action: &str, body_xml: &str, mtom: bool, attachments: &[Attachment]) -> String {
    let (ct, body) = soap_request(
        ENDPOINT,
        action,
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        body_xml,
        mtom,
        attachments,
    );
    render(&ct, &body)
}

#[test]
fn iti18_find_manifests_of_a_patient() {
    let q = AdhocQueryRequest::find_documents(
        "CTH-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO",
        &[e::STATUS_APPROVED],
        &[(e::KOS_FORMAT_CODE, e::KOS_FORMAT_CODING_SCHEME)],
        "LeafClass",
    );
    insta::assert_snapshot!(request(e::ACTION_STORED_QUERY, &q.to_xml(), false, &[]));
}

#[test]
fn iti43_retrieve_a_manifest() {
    let fx = fixtures();
    let k = fx
        .instances
        .iter()
        .find(|i| i.kos && i.study_alias == "CT-CHEST")
        .unwrap();
    let r = RetrieveDocumentSetRequest {
        documents: vec![DocumentRequest {
            home_community_id: None,
            repository_unique_id: Some("1.3.6.1.4.1.21367.13.80.120".into()),
            document_unique_id: Some(k.sop_uid.clone()),
        }],
    };
    insta::assert_snapshot!(request(e::ACTION_RETRIEVE, &r.to_xml(), true, &[]));
}

#[test]
fn rad69_retrieve_a_series() {
    let fx = fixtures();
    let dx: Vec<_> = fx
        .instances
        .iter()
        .filter(|i| i.study_alias == "DX-CHEST" && !i.kos)
        .collect();
    let r = RetrieveImagingDocumentSetRequest {
        studies: vec![StudyRequest {
            study_instance_uid: Some(dx[0].study_uid.clone()),
            series: vec![SeriesRequest {
                series_instance_uid: Some(dx[0].series_uid.clone()),
                documents: dx
                    .iter()
                    .map(|i| DocumentRequest {
                        home_community_id: None,
                        repository_unique_id: Some("1.3.6.1.4.1.21367.13.80.110".into()),
                        document_unique_id: Some(i.sop_uid.clone()),
                    })
                    .collect(),
            }],
        }],
        transfer_syntaxes: Some(vec![
            "1.2.840.10008.1.2.4.50".into(),
            "1.2.840.10008.1.2.1".into(),
        ]),
    };
    insta::assert_snapshot!(request(e::ACTION_RETRIEVE_IMAGING, &r.to_xml(), true, &[]));
}

#[test]
fn rad68_provide_and_register_a_manifest() {
    let fx = fixtures();
    let k = fx
        .instances
        .iter()
        .find(|i| i.kos && i.study_alias == "CT-CHEST")
        .unwrap();
    let bytes = std::fs::read(fx.file(k)).unwrap();
    let m = kos::parse(&bytes).unwrap();
    let modalities = fx
        .instances
        .iter()
        .filter(|i| i.study_alias == "CT-CHEST" && !i.kos)
        .map(|i| (i.series_uid.clone(), i.modality.clone()))
        .collect();
    let ctx = SubmissionContext::for_manifest(
        "CTH-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO",
        "1.3.6.1.4.1.21367.13.80.130",
        &k.sop_uid,
        modalities,
    );
    let pnr = manifest_submission(&bytes, &m, &ctx, &AffinityDomain::default_set());
    let att = Attachment {
        content_id: ctx.document_content_id(),
        content_type: "application/dicom".into(),
        data: Bytes::from(bytes),
    };
    insta::assert_snapshot!(request(e::ACTION_PNR, &pnr.to_xml(), true, &[att]));
}

#[test]
fn kos_manifest_the_harness_builds() {
    let fx = fixtures();
    let dx: Vec<_> = fx
        .instances
        .iter()
        .filter(|i| i.study_alias == "DX-CHEST" && !i.kos)
        .collect();
    let spec = ManifestSpec {
        sop_instance_uid: "2.25.111111111111111111111111111111111".into(),
        series_instance_uid: "2.25.222222222222222222222222222222222".into(),
        series_number: 999,
        instance_number: 1,
        content_date: "20260201".into(),
        content_time: "120000".into(),
        patient: Patient {
            id: Some(dx[0].patient_id.clone()),
            name: dx[0].patient_name.clone(),
            ..Patient::default()
        },
        study: Study {
            instance_uid: Some(dx[0].study_uid.clone()),
            accession_number: dx[0].accession.clone(),
            date: dx[0].study_date.clone(),
            ..Study::default()
        },
        manufacturer: Some("ihe-harness".into()),
        instances: dx
            .iter()
            .map(|i| ReferencedInstance {
                study_uid: i.study_uid.clone(),
                series_uid: i.series_uid.clone(),
                sop_class: i.sop_class.clone(),
                sop_instance: i.sop_uid.clone(),
                retrieve_ae_title: Some("IHE_HARNESS".into()),
                retrieve_location_uid: Some("1.3.6.1.4.1.21367.13.80.110".into()),
                retrieve_url: None,
            })
            .collect(),
        ..ManifestSpec::default()
    };
    let bytes = kos::build(&spec).unwrap();
    let manifest = kos::parse(&bytes).unwrap();
    insta::assert_snapshot!(redact(&format!("{manifest:#?}"), None));
}
