//! DICOMweb checks: WADO-RS (IHE RAD-107), QIDO-RS (RAD-129) and STOW-RS (RAD-108), as specified by
//! DICOM PS3.18 (2024+ editions; the sections cited are those of the current edition at
//! <https://dicom.nema.org/medical/dicom/current/output/chtml/part18/>).
//!
//! Ids DW-01..DW-16 are those of the project's standards reference (§8.7); DW-17 and up are the
//! harness's own, each citing the text it reads. Where the standard leaves a status code open, the
//! step that sets the [`Expect`] decides what is acceptable, strict or lenient, and says why.

use std::collections::BTreeSet;

use super::{Check, Expect, Level, QidoLevel, Subject, Verdict};
use crate::evidence::{Exchange, MultipartSummary};
use crate::model::dicom_json;
use crate::transport::media_type::MediaType;

/// Explicit VR Little Endian, the default transfer syntax of `application/dicom` (PS3.18 §8.7.3.5.2).
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Implicit VR Little Endian: not to be used by web services (PS3.18 §8.7.3.5.2).
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR Big Endian (retired): not to be used by web services.
pub const EXPLICIT_VR_BE: &str = "1.2.840.10008.1.2.2";

/// Transfer syntaxes whose pixel data is uncompressed, deflated or losslessly compressed:
/// decoded, they are the same bytes whatever decoder an origin server uses (PS3.5 §8 and
/// Annex A; JPEG Lossless, JPEG-LS Lossless, JPEG 2000 and HTJ2K Lossless Only, RLE).
pub const LOSSLESS_TRANSFER_SYNTAXES: &[&str] = &[
    IMPLICIT_VR_LE,
    EXPLICIT_VR_LE,
    "1.2.840.10008.1.2.1.99",
    EXPLICIT_VR_BE,
    "1.2.840.10008.1.2.5",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
];

/// Is pixel data in this transfer syntax possibly lossy compressed (JPEG Baseline and Extended,
/// JPEG-LS Near-Lossless, JPEG 2000 and HTJ2K that may be lossy, MPEG, ...)?
pub fn possibly_lossy(ts: &str) -> bool {
    !LOSSLESS_TRANSFER_SYNTAXES.contains(&ts)
}

const ORIGIN: &str = "DICOMweb origin server (RAD-107/129 Responder, RAD-108 Receiver)";

/// The DICOMweb checks.
pub static CHECKS: &[Check] = &[
    Check {
        id: "DW-01",
        requirement: "DICOM PS3.18 §8.7.3.5.1; RFC 2046 §5.1.1",
        requirements: &["PS18-8.7.3.5.1", "RFC2046-5.1.1"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "A multipart response is multipart/related with type and boundary parameters and parses per RFC 2046, close delimiter included",
        eval: dw01_multipart_structure,
    },
    Check {
        id: "DW-02",
        requirement: "DICOM PS3.18 §8.7.3.5.1",
        requirements: &["PS18-8.7.3.5.1"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "Each part's Content-Type matches the type parameter of the multipart response",
        eval: dw02_part_types,
    },
    Check {
        id: "DW-03",
        requirement: "DICOM PS3.18 §8.7.3 (the default, and its exception for lossy compressed pixel data), §8.7.3.5.2, §8.7.9",
        requirements: &["PS18-8.7.3", "PS18-8.7.3.5.2", "PS18-8.7.9"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "Returned instances use an acceptable transfer syntax: the one asked for, Explicit VR Little Endian when none was asked for (unless the server holds only lossy compressed pixel data), never Implicit VR LE or Explicit VR BE",
        eval: dw03_transfer_syntax,
    },
    Check {
        id: "DW-04",
        requirement: "DICOM PS3.18 §10.4.3 Table 10.4.3-1",
        requirements: &["PS18-10.4.3"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "WADO-RS status: 200 only when every target instance is returned, 404 for an unknown target, 406 when no acceptable media type can be returned",
        eval: dw04_wado_status,
    },
    Check {
        id: "DW-05",
        requirement: "DICOM PS3.18 §F.2.2-F.2.6",
        requirements: &["PS18-F.2.2-6"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "DICOM JSON: an array of datasets keyed by 8 upper-case hex digits in ascending order, each attribute with a vr and at most one of Value, BulkDataURI, InlineBinary",
        eval: dw05_json_model,
    },
    Check {
        id: "DW-06",
        requirement: "DICOM PS3.18 §F.2.6, §10.4.1.1.5, §8.7.3.3 (uncompressed Bulkdata by default)",
        requirements: &["PS18-F.2.6", "PS18-10.4.1.1.5", "PS18-8.7.3.3"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "Every BulkDataURI in metadata can be retrieved: 200 with multipart/related; type=\"application/octet-stream\", and the Pixel Data URI gives the instance's own pixel data",
        eval: dw06_bulkdata,
    },
    Check {
        id: "DW-07",
        requirement: "DICOM PS3.18 §10.6.3.3.1 Tables 10.6.3-3, -4, -5",
        requirements: &["PS18-10.6.3.3.1"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "QIDO-RS results carry every required return attribute of their level (matching and includefield attributes beyond those only where the origin server supports them)",
        eval: dw07_qido_required,
    },
    Check {
        id: "DW-08",
        requirement: "DICOM PS3.18 §8.3.4 Table 8.3.4-1 (limit and offset: Origin Server M), §8.3.4.4, §8.3.4.4.1",
        requirements: &["PS18-8.3.4", "PS18-8.3.4.4", "PS18-8.3.4.4.1"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "QIDO-RS honours limit and offset: at most limit results, the matches from offset on in the order of the unpaged list, fewer only with a Warning header",
        eval: dw08_paging,
    },
    Check {
        id: "DW-09",
        requirement: "DICOM PS3.18 §10.6.3, §8.3.4.4",
        requirements: &["PS18-10.6.3", "PS18-8.3.4.4"],
        level: Level::Should,
        actor: ORIGIN,
        title: "QIDO-RS does not silently truncate: every match is returned unless 413 or a Warning header says otherwise",
        eval: dw09_no_silent_truncation,
    },
    Check {
        id: "DW-10",
        requirement: "DICOM PS3.18 §10.5.3 Table 10.5.3-1, Annex I (Store Instances Response Module, Table I.2-1); PS3.4 §B.2.3",
        requirements: &["PS18-10.5.3", "PS18-I.2", "PS4-B.2.3"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "STOW-RS status agrees with the response: 200 with every instance sent referenced and none failed, 202 with some stored and some failed or warned and every instance accounted for, 409 with nothing stored",
        eval: dw10_stow_status,
    },
    Check {
        id: "DW-11",
        requirement: "DICOM PS3.18 §I.1 Table I.1-1, §I.2 Tables I.2-1, I.2-2 (additional, implementation-specific codes allowed); PS3.7 Annex C",
        requirements: &["PS18-I.1", "PS18-I.2", "PS7-C"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "Every Failed SOP Sequence item has a Failure Reason, and every warned item a Warning Reason, whose status class agrees with it",
        eval: dw11_stow_reasons,
    },
    Check {
        id: "DW-12",
        requirement: "DICOM PS3.18 §10.5.1, §10.5.3",
        requirements: &["PS18-10.5.1", "PS18-10.5.3"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "STOW-RS to /studies/{study}: instances of another study are not stored and are listed as failed",
        eval: dw12_stow_study_mismatch,
    },
    Check {
        id: "DW-13",
        requirement: "DICOM PS3.18 §8.9, Annex H",
        requirements: &["PS18-8.9", "PS18-H"],
        level: Level::Should,
        actor: ORIGIN,
        title: "OPTIONS on the service root answers 200 with a WADL capabilities description",
        eval: dw13_capabilities,
    },
    Check {
        id: "DW-14",
        requirement: "IHE RAD TF-2 §4.107.4.0 (Responder supports all four message pairs; XDS-I.b clarification §4.107.4.0.1 proposed by MADO Rev 1.1)",
        requirements: &["RAD2-4.107.4.0"],
        level: Level::Shall,
        actor: "Imaging Document Source (RAD-107 Responder)",
        title: "The RAD-107 Responder answers Get Instances, Get Metadata, Get Bulkdata (when its metadata gives a BulkDataURI) and Get Rendered Instances for an instance it holds",
        eval: dw14_four_message_pairs,
    },
    Check {
        id: "DW-17",
        requirement: "DICOM PS3.18 §8.7.3.5.2; PS3.10 §7.1",
        requirements: &["PS18-8.7.3.5.2", "PS10-7.1"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "Each application/dicom part holds a DICOM PS3.10 object (preamble, DICM, File Meta Information)",
        eval: dw17_parts_are_dicom,
    },
    Check {
        id: "DW-18",
        requirement: "DICOM PS3.18 §10.4.1 (Study, Series, Instance resources), §10.4.3, §10.5.3 (a coerced attribute is recorded in the Original Attributes Sequence); PS3.4 §B.4.1.3",
        requirements: &["PS18-10.4.1", "PS18-10.4.3", "PS18-10.5.3", "PS4-B.4.1.3"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "A retrieve returns only instances of the target study, series or instance, each once, with their Study, Series and SOP Instance UIDs, and their Patient ID unchanged unless a coercion is recorded",
        eval: dw18_target_membership,
    },
    Check {
        id: "DW-19",
        requirement: "DICOM PS3.18 §8.3.4.1, §10.6.1 (the study and series of the resource path); PS3.4 §C.2.2.2",
        requirements: &["PS18-8.3.4.1", "PS18-10.6.1", "PS4-C.2.2.2"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "Every QIDO-RS result matches the query keys (single value, wildcard, range, UID list) and belongs to the study and series named in the resource path",
        eval: dw19_qido_matching,
    },
    Check {
        id: "DW-20",
        requirement: "DICOM PS3.18 §10.6.3 (status codes); §8.7.3.5 (application/dicom+json)",
        requirements: &["PS18-10.6.3", "PS18-8.7.3.5"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "QIDO-RS answers a valid query with 200 and application/dicom+json (an empty array, or 204, when nothing matches)",
        eval: dw20_qido_status,
    },
    Check {
        id: "DW-21",
        requirement: "DICOM PS3.18 §10.4.1.1.3, §8.7.4 Table 8.7.4-1 (rendered media types; image/jpeg: the JPEG baseline lossy 8-bit Huffman non-hierarchical process of ISO/IEC 10918-1), §8.7.8.1 (406), §8.3.5.1.3 (no viewport: the source's pixel matrix)",
        requirements: &["PS18-10.4.1.1.3", "PS18-8.7.4", "PS18-8.7.8.1", "PS18-8.3.5.1.3"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "A rendered resource is returned as an image in a media type the request accepts (else 406), the body is that format (a JPEG of the lossy 8-bit Huffman non-hierarchical process; baseline when strict), with the source image's rows and columns",
        eval: dw21_rendered,
    },
    Check {
        id: "DW-22",
        requirement: "DICOM PS3.18 §10.4.1 (Study, Series and Instance Metadata resources), §10.4.3, §10.5.3 (a coerced attribute is recorded in the Original Attributes Sequence); PS3.4 §B.4.1.3",
        requirements: &["PS18-10.4.1", "PS18-10.4.3", "PS18-10.5.3", "PS4-B.4.1.3"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "Retrieve Metadata answers one data set for each instance of the target study, series or instance and nothing else, each with the target's Study, Series and SOP Instance UIDs, and its Patient ID unless a coercion is recorded",
        eval: dw22_metadata_target,
    },
    Check {
        id: "DW-23",
        requirement: "DICOM PS3.18 §10.4.1 (Frames resource), §8.7.3 and §8.7.3.3 (uncompressed Bulkdata by default, unless held only in lossy form), §10.4.3",
        requirements: &["PS18-10.4.1", "PS18-8.7.3", "PS18-8.7.3.3", "PS18-10.4.3"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "Retrieve Frames answers one part for each frame asked, each that frame of the instance (uncompressed, its very bytes, when the instance is stored losslessly and no transfer syntax was asked; distinct frames differ)",
        eval: dw23_frames,
    },
    Check {
        id: "DW-24",
        requirement: "DICOM PS3.18 §10.5.3, Annex I (Store Instances Response Module, Table I.2-1: Referenced SOP Class/Instance UID, Retrieve URL)",
        requirements: &["PS18-10.5.3", "PS18-I.2"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "A Store Instances Response is about the instances sent: every referenced or failed item names an instance of the request with its SOP Class, and a Retrieve URL names that instance's study",
        eval: dw24_stow_identity,
    },
    Check {
        id: "DW-26",
        requirement: "DICOM PS3.18 §10.6.3.3 (the attributes of each matching Study, Series or Instance); PS3.4 §C.3.4 (Number of Study/Series Related Series/Instances, Modalities in Study)",
        requirements: &["PS18-10.6.3.3", "PS4-C.3.4"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "A QIDO-RS result that names a test-data study, series or instance describes it: its modalities, Series and Instance Number, SOP Class, and at least the related series and instances it holds",
        eval: dw26_qido_identity,
    },
    Check {
        id: "DW-25",
        requirement: "DICOM PS3.18 §8.3.4.4.1 (Paging Behavior: if remaining > 0 the response shall include a Warning header field); RFC 7234 §5.5",
        requirements: &["PS18-8.3.4.4.1", "RFC7234-5.5"],
        level: Level::Shall,
        actor: ORIGIN,
        title: "A QIDO-RS page after which matches remain carries Warning: 299 <service>: There are <remaining> additional results that can be requested",
        eval: dw25_paging_warning,
    },
];

fn response_media(ex: &Exchange) -> Option<Result<MediaType, String>> {
    let ct = ex.response.as_ref()?.header("content-type")?;
    Some(MediaType::parse(ct).map_err(|e| format!("unparsable Content-Type \"{ct}\": {e}")))
}

fn is_success(ex: &Exchange) -> bool {
    matches!(ex.status(), Some(200 | 206))
}

fn multipart_of<'a>(s: &'a Subject<'_>) -> Option<&'a MultipartSummary> {
    s.exchange.multipart.as_ref()
}

/// The multipart body of a successful retrieve, or why a check of its parts does not apply.
fn successful_multipart<'a>(s: &'a Subject<'_>) -> Result<&'a MultipartSummary, Verdict> {
    let Some(mp) = multipart_of(s) else {
        return Err(Verdict::na("not a multipart response"));
    };
    if !is_success(s.exchange) {
        return Err(Verdict::na("no successful retrieve to judge"));
    }
    Ok(mp)
}

fn dw01_multipart_structure(s: &Subject<'_>) -> Verdict {
    if !is_success(s.exchange) {
        return Verdict::na("no successful retrieve to judge");
    }
    let media = match response_media(s.exchange) {
        None => return Verdict::fail("a multipart/related Content-Type", "no Content-Type header"),
        Some(Err(e)) => return Verdict::fail("a multipart/related Content-Type", e),
        Some(Ok(m)) => m,
    };
    if media.essence != "multipart/related" {
        return Verdict::fail("Content-Type multipart/related", media.to_header_value());
    }
    let mut missing = Vec::new();
    if media.param("type").is_none() {
        missing.push("type");
    }
    if media.param("boundary").is_none() {
        missing.push("boundary");
    }
    if !missing.is_empty() {
        return Verdict::fail(
            "type and boundary parameters",
            format!(
                "Content-Type {} lacks {}",
                media.to_header_value(),
                missing.join(" and ")
            ),
        );
    }
    let Some(mp) = multipart_of(s) else {
        return Verdict::fail(
            "a parsable multipart body",
            "the body was not parsed as multipart",
        );
    };
    if let Some(e) = &mp.error {
        return Verdict::fail(
            "a body that parses per RFC 2046 up to the close delimiter",
            format!("{e} after {} part(s)", mp.parts.len()),
        );
    }
    if !mp.closed {
        return Verdict::fail("a close delimiter --boundary--", "none");
    }
    if mp.parts.is_empty() {
        return Verdict::fail("at least one part in a 200/206 response", "no parts");
    }
    Verdict::Pass
}

fn essence_matches(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    match expected.split_once('/') {
        Some((t, "*")) => actual.split_once('/').map(|(a, _)| a == t).unwrap_or(false),
        _ => expected == "*/*",
    }
}

fn dw02_part_types(s: &Subject<'_>) -> Verdict {
    let Some(mp) = multipart_of(s) else {
        return Verdict::na("not a multipart response");
    };
    let Some(Ok(media)) = response_media(s.exchange) else {
        return Verdict::na("no parsable Content-Type");
    };
    let Some(related) = media.related_type() else {
        return Verdict::na("no type parameter to compare with (see DW-01)");
    };
    for (i, part) in mp.parts.iter().enumerate() {
        let Some(ct) = part.content_type() else {
            return Verdict::fail(
                format!("part {} with Content-Type {}", i + 1, related.essence),
                "no Content-Type header",
            );
        };
        match MediaType::parse(ct) {
            Ok(pm) if essence_matches(&related.essence, &pm.essence) => {}
            Ok(pm) => {
                return Verdict::fail(
                    format!("part {} of type {}", i + 1, related.essence),
                    pm.essence,
                )
            }
            Err(e) => {
                return Verdict::fail(
                    format!("part {} with a valid Content-Type", i + 1),
                    format!("\"{ct}\": {e}"),
                )
            }
        }
    }
    Verdict::Pass
}

fn dw03_transfer_syntax(s: &Subject<'_>) -> Verdict {
    let mp = match successful_multipart(s) {
        Ok(mp) => mp,
        Err(v) => return v,
    };
    let mut judged = 0;
    for (i, part) in mp.parts.iter().enumerate() {
        let Some(head) = &part.dicom else { continue };
        let Some(ts) = head.transfer_syntax.as_deref() else {
            continue;
        };
        judged += 1;
        let sop = head.sop_instance.as_deref().unwrap_or("?");
        if ts == IMPLICIT_VR_LE || ts == EXPLICIT_VR_BE {
            return Verdict::fail(
                "no Implicit VR Little Endian or Explicit VR Big Endian over the web",
                format!("part {} (SOP {sop}) in {ts}", i + 1),
            );
        }
        // §8.7.3: without a Transfer Syntax parameter the default applies "unless the origin
        // server has only access to the pixel data in lossy compressed form".
        let lossy_only = s.expect.lossy_instances.contains(sop);
        match s.expect.requested_ts.as_deref() {
            None if ts != EXPLICIT_VR_LE && !lossy_only => {
                return Verdict::fail(
                    format!("the default {EXPLICIT_VR_LE} (no transfer-syntax was asked for)"),
                    format!("part {} (SOP {sop}) in {ts}", i + 1),
                )
            }
            Some(req) if req != "*" && req != ts => {
                return Verdict::fail(
                    format!("the requested transfer syntax {req}"),
                    format!("part {} (SOP {sop}) in {ts}", i + 1),
                )
            }
            _ => {}
        }
        if let Some(labelled) = part
            .content_type()
            .and_then(|ct| MediaType::parse(ct).ok())
            .and_then(|m| m.transfer_syntax())
        {
            if labelled != ts && labelled != "*" {
                return Verdict::fail(
                    format!("part {} labelled with its own transfer syntax {ts}", i + 1),
                    format!("labelled transfer-syntax={labelled}"),
                );
            }
        }
    }
    if judged == 0 {
        return Verdict::na("no DICOM part with a readable transfer syntax");
    }
    Verdict::Pass
}

fn returned_sops(mp: &MultipartSummary) -> BTreeSet<String> {
    mp.parts
        .iter()
        .filter_map(|p| p.dicom.as_ref())
        .filter_map(|d| {
            d.sop_instance
                .clone()
                .or_else(|| d.media_storage_sop_instance.clone())
        })
        .collect()
}

/// The expected-status part shared by the status checks: a Fail when the scenario names the
/// acceptable codes and the SUT answered another.
fn unexpected_status(s: &Subject<'_>, status: u16) -> Option<Verdict> {
    let e = s.expect;
    if e.status.is_empty() || e.status.contains(&status) {
        return None;
    }
    let want = e
        .status
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ");
    let why = if e.status_reason.is_empty() {
        String::new()
    } else {
        format!(" for {}", e.status_reason)
    };
    Some(Verdict::fail(format!("{want}{why}"), status.to_string()))
}

fn dw04_wado_status(s: &Subject<'_>) -> Verdict {
    let Some(status) = s.exchange.status() else {
        return Verdict::na("no response");
    };
    if let Some(v) = unexpected_status(s, status) {
        return v;
    }
    let e = s.expect;
    if status == 200 {
        if let (Some(expected), Some(mp)) = (&e.instances, multipart_of(s)) {
            let got = returned_sops(mp);
            let missing: Vec<&String> = expected.difference(&got).collect();
            if !missing.is_empty() {
                return Verdict::fail(
                    format!(
                        "200 only with all {} target instances (otherwise 206)",
                        expected.len()
                    ),
                    format!(
                        "200 with {} of them; missing {}",
                        expected.len() - missing.len(),
                        first_three(&missing)
                    ),
                );
            }
        }
    }
    Verdict::Pass
}

fn json_body(ex: &Exchange) -> Result<serde_json::Value, String> {
    let Some(r) = &ex.response else {
        return Err("no response".into());
    };
    if !r.body.complete {
        return Err(format!(
            "body of {} bytes exceeds what the harness keeps for JSON checks",
            r.body.size
        ));
    }
    serde_json::from_slice(&r.body.kept).map_err(|e| format!("not JSON: {e}"))
}

fn dw05_json_model(s: &Subject<'_>) -> Verdict {
    if s.exchange.status() != Some(200) {
        return Verdict::na("no 200 response to judge");
    }
    let v = match json_body(s.exchange) {
        Ok(v) => v,
        Err(e) if e.starts_with("body of") => return Verdict::na(e),
        Err(e) => return Verdict::fail("a DICOM JSON array", e),
    };
    let violations = dicom_json::validate_dataset_array(&v);
    let hard: Vec<_> = violations.iter().filter(|v| !v.is_warning()).collect();
    if hard.is_empty() {
        return Verdict::Pass;
    }
    Verdict::fail(
        "a DICOM JSON model per Annex F",
        format!(
            "{} violation(s): {}",
            hard.len(),
            hard.iter()
                .take(3)
                .map(|v| format!("{} {} ({})", v.path, v.message, v.rule))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    )
}

fn dw06_bulkdata(s: &Subject<'_>) -> Verdict {
    if s.followups.is_empty() {
        return Verdict::na("no BulkDataURI was dereferenced");
    }
    for f in s.followups {
        if f.failure.is_some() && f.response.is_none() {
            continue;
        }
        match f.status() {
            Some(200) => {}
            Some(other) => {
                return Verdict::fail(
                    "200 for the BulkDataURI",
                    format!("{other} (exchange #{}, {})", f.seq, f.request.url),
                )
            }
            None => continue,
        }
        let media = response_media(f).and_then(Result::ok);
        let ok = media
            .as_ref()
            .map(|m| {
                (m.essence == "multipart/related"
                    && m.related_type()
                        .map(|t| t.essence == "application/octet-stream")
                        .unwrap_or(false))
                    || m.essence == "application/octet-stream"
            })
            .unwrap_or(false);
        if !ok {
            return Verdict::fail(
                "multipart/related; type=\"application/octet-stream\"",
                format!(
                    "{} (exchange #{})",
                    media
                        .map(|m| m.to_header_value())
                        .unwrap_or_else(|| "no Content-Type".into()),
                    f.seq
                ),
            );
        }
    }
    // The Pixel Data URI must give this instance's pixel data: when the instance is stored
    // losslessly every origin server returns the same uncompressed bytes.
    if let Some((uri, size, sha)) = &s.expect.pixel_data {
        let pixel = s
            .followups
            .iter()
            .find(|f| &f.request.url == uri && f.status() == Some(200));
        if let Some(part) = pixel
            .and_then(|f| f.multipart.as_ref())
            .and_then(|mp| mp.parts.first())
            .filter(|p| is_uncompressed_octets(p))
        {
            if part.size != *size || &part.sha256 != sha {
                return Verdict::fail(
                    format!(
                        "the instance's own Pixel Data at its BulkDataURI ({size} bytes, SHA-256 {})",
                        short_hash(sha)
                    ),
                    format!(
                        "{} bytes, SHA-256 {} (another value)",
                        part.size,
                        short_hash(&part.sha256)
                    ),
                );
            }
        }
    }
    Verdict::Pass
}

/// A part holding uncompressed octets: `application/octet-stream` without a transfer syntax or
/// with Explicit VR Little Endian (PS3.18 §8.7.3.3).
fn is_uncompressed_octets(part: &crate::evidence::PartSummary) -> bool {
    part.content_type()
        .and_then(|ct| MediaType::parse(ct).ok())
        .is_some_and(|m| {
            m.essence == "application/octet-stream"
                && m.transfer_syntax()
                    .is_none_or(|ts| ts == EXPLICIT_VR_LE || ts == IMPLICIT_VR_LE)
        })
}

fn short_hash(h: &str) -> String {
    h.get(..12)
        .map(|p| format!("{p}…"))
        .unwrap_or_else(|| h.to_string())
}

/// Required return attributes per level (PS3.18 Tables 10.6.3-3/-4/-5, as the project reads them).
pub fn required_attributes(level: QidoLevel) -> &'static [(u32, &'static str)] {
    match level {
        QidoLevel::Study => &[
            (0x0008_0020, "StudyDate"),
            (0x0008_0030, "StudyTime"),
            (0x0008_0050, "AccessionNumber"),
            (0x0008_0061, "ModalitiesInStudy"),
            (0x0008_0090, "ReferringPhysicianName"),
            (0x0010_0010, "PatientName"),
            (0x0010_0020, "PatientID"),
            (0x0010_0030, "PatientBirthDate"),
            (0x0010_0040, "PatientSex"),
            (0x0020_000D, "StudyInstanceUID"),
            (0x0020_0010, "StudyID"),
            (0x0020_1206, "NumberOfStudyRelatedSeries"),
            (0x0020_1208, "NumberOfStudyRelatedInstances"),
        ],
        QidoLevel::Series => &[
            (0x0008_0060, "Modality"),
            (0x0020_000E, "SeriesInstanceUID"),
            (0x0020_0011, "SeriesNumber"),
            (0x0020_1209, "NumberOfSeriesRelatedInstances"),
        ],
        QidoLevel::Instance => &[
            (0x0008_0016, "SOPClassUID"),
            (0x0008_0018, "SOPInstanceUID"),
            (0x0020_0013, "InstanceNumber"),
        ],
    }
}

/// The unique key of a level.
pub fn unique_key(level: QidoLevel) -> u32 {
    match level {
        QidoLevel::Study => 0x0020_000D,
        QidoLevel::Series => 0x0020_000E,
        QidoLevel::Instance => 0x0008_0018,
    }
}

fn qido_results(s: &Subject<'_>) -> Result<Vec<serde_json::Value>, Verdict> {
    match s.exchange.status() {
        Some(204) => return Ok(Vec::new()),
        Some(200) => {}
        _ => return Err(Verdict::na("no 200 response to judge")),
    }
    match json_body(s.exchange) {
        Ok(serde_json::Value::Array(items)) => Ok(items),
        Ok(_) => Err(Verdict::fail(
            "a JSON array of results",
            "another JSON value",
        )),
        Err(e) => Err(Verdict::fail("a JSON array of results", e)),
    }
}

/// The level and the results of a QIDO-RS query, or the verdict when there is none to judge.
fn query_results(s: &Subject<'_>) -> Result<(QidoLevel, Vec<serde_json::Value>), Verdict> {
    let Some(level) = s.expect.qido_level else {
        return Err(Verdict::na("not a QIDO-RS query"));
    };
    Ok((level, qido_results(s)?))
}

fn result_uids(items: &[serde_json::Value], level: QidoLevel) -> Vec<String> {
    items
        .iter()
        .filter_map(|d| dicom_json::first_string(d, unique_key(level)))
        .collect()
}

fn dw07_qido_required(s: &Subject<'_>) -> Verdict {
    let (level, items) = match query_results(s) {
        Ok(q) => q,
        Err(v) => return v,
    };
    if items.is_empty() {
        return Verdict::na("no results to judge");
    }
    for (n, item) in items.iter().enumerate() {
        let mut missing: Vec<String> = required_attributes(level)
            .iter()
            .filter(|(tag, _)| dicom_json::attr(item, *tag).is_none())
            .map(|(_, name)| name.to_string())
            .collect();
        // An includefield attribute that is not required at the level is returned only "if
        // supported by the origin server" (PS3.18 §10.6.3.3.1 to §10.6.3.3.3: "All other ...
        // Attributes passed as match or includefield parameters in the request that are
        // supported by the origin server"), and which are is the Conformance Statement's to
        // say: its absence is not judged.
        if dicom_json::first_string(item, unique_key(level)).is_none()
            && !missing.iter().any(|m| m.ends_with("InstanceUID"))
        {
            missing.push(format!(
                "a value for {}",
                dicom_json::tag_key(unique_key(level))
            ));
        }
        if !missing.is_empty() {
            return Verdict::fail(
                "every required return attribute",
                format!("result {} lacks {}", n + 1, missing.join(", ")),
            );
        }
    }
    Verdict::Pass
}

/// The level, the unpaged matches and the results of a paged QIDO-RS query (DW-08, DW-25), or
/// the verdict when there is no page to judge: no paging expectation, no `limit` or `offset`
/// sent, matches that changed while the pages were asked for (PS3.18 §8.3.4.4.1: paged results
/// may then be inconsistent), or no JSON array of results.
fn paged_results<'a>(
    s: &Subject<'a>,
) -> Result<(QidoLevel, &'a [String], Vec<serde_json::Value>), Verdict> {
    let (Some(level), Some(unpaged)) = (s.expect.qido_level, &s.expect.unpaged) else {
        return Err(Verdict::na("no paging expectation"));
    };
    if s.expect.limit.is_none() && s.expect.offset.is_none() {
        return Err(Verdict::na("no limit or offset sent"));
    }
    if s.expect
        .unpaged_after
        .as_ref()
        .is_some_and(|a| a != unpaged)
    {
        return Err(Verdict::na(
            "the matches changed while the pages were asked for",
        ));
    }
    Ok((level, unpaged.as_slice(), qido_results(s)?))
}

fn dw08_paging(s: &Subject<'_>) -> Verdict {
    let (level, unpaged, items) = match paged_results(s) {
        Ok(p) => p,
        Err(v) => return v,
    };
    let got = result_uids(&items, level);
    let offset = s.expect.offset.unwrap_or(0);
    let limit = s.expect.limit.unwrap_or(usize::MAX);
    if got.len() > limit {
        return Verdict::fail(
            format!("at most {limit} results"),
            format!("{} results", got.len()),
        );
    }
    let want: Vec<String> = unpaged.iter().skip(offset).take(limit).cloned().collect();
    // Fewer than the page holds only when the origin server's own maximum applies, and then
    // the remaining matches are announced in a Warning header (PS3.18 §8.3.4.4.1).
    let warned = has_warning(s.exchange);
    if got.len() < want.len() && warned && want.starts_with(&got) {
        return Verdict::Pass;
    }
    if got != want {
        return Verdict::fail(
            format!(
                "results {}..{} of the unpaged list ({})",
                offset + 1,
                offset + want.len(),
                abbreviate(&want).join(", ")
            ),
            abbreviate(&got).join(", "),
        );
    }
    Verdict::Pass
}

/// What the harness knows of an entity it stored, for the QIDO-RS results that name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownEntity {
    /// Study: the Modalities in Study include these; series: its Modality (one).
    pub modalities: BTreeSet<String>,
    /// Series Number (series level).
    pub series_number: Option<i64>,
    /// Instance Number (instance level).
    pub instance_number: Option<i64>,
    /// SOP Class UID (instance level).
    pub sop_class: Option<String>,
    /// Study level: at least this many related series.
    pub related_series: Option<usize>,
    /// Study and series level: at least this many related instances.
    pub related_instances: Option<usize>,
}

/// An IS or US value of a DICOM JSON attribute, as a Number or a String (PS3.18 §F.2.3).
fn int_value(item: &serde_json::Value, tag: u32) -> Option<i64> {
    match dicom_json::values(item, tag)?.first()? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// DW-26. A result is about the entity its unique key names (PS3.18 §10.6.3.3: the attributes
/// "for each matching" Study, Series or Instance): for one of the test data, the values no
/// Storage SCP coerces (Modality, Series and Instance Number, SOP Class UID) are the stored ones,
/// Modalities in Study holds every Modality of its series (PS3.4 §C.3.4), and the Number of
/// Study or Series Related Series or Instances counts at least the fixture's (more when the SUT
/// holds more of that study: a PACS may add objects of its own).
/// An attribute a result lacks is DW-07's to judge.
fn dw26_qido_identity(s: &Subject<'_>) -> Verdict {
    let (level, items) = match query_results(s) {
        Ok(q) => q,
        Err(v) => return v,
    };
    let mut judged = 0;
    for (n, item) in items.iter().enumerate() {
        let Some(uid) = dicom_json::first_string(item, unique_key(level)) else {
            continue;
        };
        let Some(known) = s.expect.qido_known.get(&uid) else {
            continue;
        };
        judged += 1;
        let strings = |tag: u32| -> Option<Vec<String>> {
            dicom_json::values(item, tag).map(|v| {
                v.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
        };
        let what = match level {
            QidoLevel::Study => "Study",
            QidoLevel::Series => "Series",
            QidoLevel::Instance => "SOP Instance",
        };
        let fail = |expected: String, actual: String| {
            Verdict::fail(
                expected,
                format!("result {} ({what} {uid}) has {actual}", n + 1),
            )
        };
        match level {
            QidoLevel::Study => {
                if let Some(got) = strings(0x0008_0061) {
                    let missing: Vec<&String> = known
                        .modalities
                        .iter()
                        .filter(|m| !got.contains(m))
                        .collect();
                    if !missing.is_empty() {
                        return fail(
                            format!(
                                "Modalities in Study (0008,0061) with every modality of the study: {}",
                                known.modalities.iter().cloned().collect::<Vec<_>>().join(", ")
                            ),
                            format!("{} (no {})", got.join(", "), missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")),
                        );
                    }
                }
            }
            QidoLevel::Series => {
                if let (Some(want), Some(got)) = (known.modalities.first(), strings(0x0008_0060)) {
                    if got.first() != Some(want) {
                        return fail(
                            format!("Modality (0008,0060) {want}"),
                            format!("Modality {}", got.join(", ")),
                        );
                    }
                }
                if let (Some(want), Some(got)) = (known.series_number, int_value(item, 0x0020_0011))
                {
                    if got != want {
                        return fail(
                            format!("Series Number (0020,0011) {want}"),
                            format!("Series Number {got}"),
                        );
                    }
                }
            }
            QidoLevel::Instance => {
                if let (Some(want), Some(got)) = (&known.sop_class, strings(0x0008_0016)) {
                    if got.first() != Some(want) {
                        return fail(
                            format!("SOP Class UID (0008,0016) {want}"),
                            format!("SOP Class UID {}", got.join(", ")),
                        );
                    }
                }
                if let (Some(want), Some(got)) =
                    (known.instance_number, int_value(item, 0x0020_0013))
                {
                    if got != want {
                        return fail(
                            format!("Instance Number (0020,0013) {want}"),
                            format!("Instance Number {got}"),
                        );
                    }
                }
            }
        }
        let counts = [
            (
                "Number of Study Related Series (0020,1206)",
                0x0020_1206_u32,
                known.related_series,
            ),
            (
                if level == QidoLevel::Study {
                    "Number of Study Related Instances (0020,1208)"
                } else {
                    "Number of Series Related Instances (0020,1209)"
                },
                if level == QidoLevel::Study {
                    0x0020_1208
                } else {
                    0x0020_1209
                },
                known.related_instances,
            ),
        ];
        for (name, tag, at_least) in counts {
            let (Some(at_least), Some(got)) = (at_least, int_value(item, tag)) else {
                continue;
            };
            if got < at_least as i64 {
                return fail(
                    format!("{name} of at least {at_least}, the test data's count"),
                    format!("{got}"),
                );
            }
        }
    }
    if judged == 0 {
        return Verdict::na("no result names a test-data entity");
    }
    Verdict::Pass
}

/// DW-25. PS3.18 §8.3.4.4.1 defines `remaining` as "the number of matches that were not yet
/// returned" and says: "If (remaining > 0) the response shall include a Warning header field
/// (see RFC 7234 Section 5.5) containing the following: `Warning: 299 <service>: There are
/// <remaining> additional results that can be requested`". The rule does not depend on what cut
/// the page: `results` is the minimum of `matches - offset`, `maxResults` and `limit`, so a page
/// cut by `limit` leaves matches remaining as much as one cut by the server's own maximum.
///
/// Reading: the matches not yet returned are those after the page (offset + results onwards);
/// the ones before `offset` are those earlier pages returned. Only that case is judged: a page
/// that reaches the end of the matches is not judged either way. The harness knows the matches
/// from the unpaged query of the same search (possibly cut by the server's maximum, so the count
/// it derives is a lower bound): a page with fewer results after it than the harness sees needs
/// the header. The header must hold a warning-value with warn-code 299; the wording is not
/// judged, but a text that states a number of additional results must not state fewer than
/// remain after the page. Not judged when the matches changed while the pages were asked for
/// (§8.3.4.4.1: paged results may then be inconsistent).
fn dw25_paging_warning(s: &Subject<'_>) -> Verdict {
    let (level, unpaged, items) = match paged_results(s) {
        Ok(p) => p,
        Err(v) => return v,
    };
    let offset = s.expect.offset.unwrap_or(0);
    let returned = result_uids(&items, level).len();
    let remaining = unpaged
        .len()
        .saturating_sub(offset.saturating_add(returned));
    if remaining == 0 {
        return Verdict::na("no match remains after this page");
    }
    let expected = format!(
        "Warning: 299 <service>: There are {remaining} additional results that can be requested ({remaining} of the {} matches come after this page)",
        unpaged.len()
    );
    let values = warning_values(s.exchange);
    let Some(value) = values.iter().find(|v| warn_code(v) == Some("299")) else {
        let actual = if values.is_empty() {
            "no Warning header field".to_string()
        } else {
            format!("Warning: {}", bounded(&values.join(", "), 200))
        };
        return Verdict::fail(expected, actual);
    };
    if let Some(stated) = stated_additional(value) {
        if stated < remaining {
            return Verdict::fail(expected, format!("Warning: {}", bounded(value, 200)));
        }
    }
    Verdict::Pass
}

/// Every warning-value of the response's Warning header fields (RFC 7234 §5.5: a comma-separated
/// list; commas inside a quoted warn-text do not separate).
fn warning_values(ex: &Exchange) -> Vec<String> {
    let Some(r) = ex.response.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, v) in r
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("warning"))
    {
        let mut current = String::new();
        let mut quoted = false;
        let mut escaped = false;
        for ch in v.chars() {
            match ch {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    out.push(std::mem::take(&mut current).trim().to_string());
                    continue;
                }
                _ => {}
            }
            current.push(ch);
        }
        out.push(current.trim().to_string());
    }
    out.retain(|v| !v.is_empty());
    out
}

/// The warn-code of a warning-value: its first token.
fn warn_code(value: &str) -> Option<&str> {
    value.split_whitespace().next()
}

/// The number in "There are N additional results", when the text states one.
fn stated_additional(value: &str) -> Option<usize> {
    let lower = value.to_ascii_lowercase();
    let at = lower.find("there are ")? + "there are ".len();
    let rest = &lower[at..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !rest[digits.len()..].trim_start().starts_with("additional") {
        return None;
    }
    digits.parse().ok()
}

/// At most `max` characters of a text from the SUT, with an ellipsis when cut.
fn bounded(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

fn abbreviate(uids: &[String]) -> Vec<String> {
    uids.iter()
        .map(|u| {
            let chars = u.chars().count();
            if chars > 16 {
                // The last 12 characters (a value from the SUT need not be ASCII).
                format!("…{}", u.chars().skip(chars - 12).collect::<String>())
            } else {
                u.clone()
            }
        })
        .collect()
}

/// The first three of `items`, comma-separated: the ones a message names of a longer list.
fn first_three<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .take(3)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

fn has_warning(ex: &Exchange) -> bool {
    ex.response
        .as_ref()
        .map(|r| {
            r.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("warning"))
        })
        .unwrap_or(false)
}

fn dw09_no_silent_truncation(s: &Subject<'_>) -> Verdict {
    let (Some(level), Some(known)) = (s.expect.qido_level, &s.expect.known_matches) else {
        return Verdict::na("the harness does not know which matches the SUT holds");
    };
    if s.expect.limit.is_some() || s.expect.offset.is_some() {
        return Verdict::na("a paged query may return fewer results");
    }
    if s.exchange.status() == Some(413) {
        return Verdict::Pass;
    }
    let items = match qido_results(s) {
        Ok(i) => i,
        Err(v) => return v,
    };
    let got: BTreeSet<String> = result_uids(&items, level).into_iter().collect();
    let missing: Vec<&String> = known.difference(&got).collect();
    if missing.is_empty() {
        return Verdict::Pass;
    }
    if has_warning(s.exchange) {
        return Verdict::Pass;
    }
    Verdict::fail(
        format!(
            "all {} known matches, or 413, or a Warning header",
            known.len()
        ),
        format!("{} of them missing without a warning", missing.len()),
    )
}

fn stow_response(s: &Subject<'_>) -> Result<serde_json::Value, Verdict> {
    let v = match json_body(s.exchange) {
        Ok(v) => v,
        Err(e) => {
            return Err(if s.exchange.status().map(|c| c >= 400).unwrap_or(false) {
                Verdict::na(format!(
                    "error status without a Store Instances Response: {e}"
                ))
            } else {
                Verdict::fail("a Store Instances Response in DICOM JSON", e)
            })
        }
    };
    // PS3.18 §10.5.3.2: the response payload is one dataset; tolerate it wrapped in a one-item array.
    match v {
        serde_json::Value::Array(mut a) if a.len() == 1 => Ok(a.remove(0)),
        serde_json::Value::Object(_) => Ok(v),
        _ if s.exchange.status().is_some_and(|c| c >= 400) => Err(Verdict::na(
            "error status whose JSON body is not a Store Instances Response",
        )),
        _ => Err(Verdict::fail(
            "a Store Instances Response dataset",
            "another JSON value",
        )),
    }
}

/// A 4xx answer to a store without a Store Instances Response: nothing was stored, and the
/// payload that would list why is optional (PS3.18 Table 10.5.3-1: for 409, "Additional
/// information regarding the Instance errors may be found in the payload"; 400 and 415 name
/// none).
fn refused_without_payload(s: &Subject<'_>, v: &Verdict) -> bool {
    matches!(v, Verdict::NotApplicable(_))
        && s.exchange.status().is_some_and(|c| (400..500).contains(&c))
}

fn seq_items(ds: &serde_json::Value, tag: u32) -> Vec<serde_json::Value> {
    dicom_json::attr(ds, tag)
        .and_then(|a| a.get("Value"))
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default()
}

const FAILED_SOP_SEQUENCE: u32 = 0x0008_1198;
const REFERENCED_SOP_SEQUENCE: u32 = 0x0008_1199;
const FAILURE_REASON: u32 = 0x0008_1197;
const WARNING_REASON: u32 = 0x0008_1196;
const REFERENCED_SOP_INSTANCE_UID: u32 = 0x0008_1155;
const REFERENCED_SOP_CLASS_UID: u32 = 0x0008_1150;
const RETRIEVE_URL: u32 = 0x0008_1190;

fn dw10_stow_status(s: &Subject<'_>) -> Verdict {
    let Some(status) = s.exchange.status() else {
        return Verdict::na("no response");
    };
    if let Some(v) = unexpected_status(s, status) {
        return v;
    }
    if !matches!(status, 200 | 202 | 409) {
        return Verdict::Pass;
    }
    let ds = match stow_response(s) {
        Ok(d) => d,
        // A 409 that says nothing was stored and lists no instance agrees with itself.
        Err(v) if refused_without_payload(s, &v) => return Verdict::Pass,
        Err(v) => return v,
    };
    let failed = seq_items(&ds, FAILED_SOP_SEQUENCE);
    let referenced = seq_items(&ds, REFERENCED_SOP_SEQUENCE);
    let warned = referenced
        .iter()
        .any(|r| dicom_json::attr(r, WARNING_REASON).is_some());
    // Which instances of the request the response accounts for (PS3.18 §10.5.3: the Referenced
    // SOP Sequence lists every stored instance, the Failed SOP Sequence every one not stored).
    let uids = |items: &[serde_json::Value]| -> BTreeSet<String> {
        items
            .iter()
            .filter_map(|r| dicom_json::first_string(r, REFERENCED_SOP_INSTANCE_UID))
            .collect()
    };
    let (ref_uids, failed_uids) = (uids(&referenced), uids(&failed));
    let sent: Vec<&super::SentInstance> = s
        .expect
        .stow_sent
        .iter()
        .filter(|i| !i.sop_instance.is_empty())
        .collect();
    if status == 200 {
        let missing: Vec<&str> = sent
            .iter()
            .filter(|i| !ref_uids.contains(&i.sop_instance))
            .map(|i| i.sop_instance.as_str())
            .collect();
        if !missing.is_empty() {
            return Verdict::fail(
                format!(
                    "200 with all {} instances sent in the Referenced SOP Sequence (0008,1199)",
                    sent.len()
                ),
                format!(
                    "{} of them not referenced ({}{}), {} referenced item(s) in all",
                    missing.len(),
                    first_three(&missing),
                    if missing.len() > 3 { ", …" } else { "" },
                    referenced.len()
                ),
            );
        }
    }
    if status == 202 {
        if let Some(i) = sent
            .iter()
            .find(|i| !ref_uids.contains(&i.sop_instance) && !failed_uids.contains(&i.sop_instance))
        {
            return Verdict::fail(
                "202 listing every instance sent as referenced (stored) or failed",
                format!("SOP {} is in neither sequence", i.sop_instance),
            );
        }
    }
    match status {
        200 if !failed.is_empty() => Verdict::fail(
            "200 only when every instance was stored (no Failed SOP Sequence items)",
            format!("200 with {} failed item(s)", failed.len()),
        ),
        202 if referenced.is_empty() || (failed.is_empty() && !warned) => Verdict::fail(
            "202 with at least one stored and at least one failed or warned instance",
            format!(
                "202 with {} referenced, {} failed",
                referenced.len(),
                failed.len()
            ),
        ),
        409 if !referenced.is_empty() => Verdict::fail(
            "409 only when no instance was stored (no Referenced SOP Sequence items)",
            format!("409 with {} referenced item(s)", referenced.len()),
        ),
        _ => Verdict::Pass,
    }
}

/// Why a reason code cannot be the reason of its item, or `None` when it can.
///
/// PS3.18 §I.2.1 and §I.2.2 list the codes with their semantics and add: "Implementation specific
/// warning and error codes shall be defined in the conformance statement" and "Additional codes
/// may be used for the Failure Reason (0008,1197) to address the semantics of other issues". A
/// code outside Tables I.2-1 and I.2-2 is therefore not a breach. What no reading allows is a
/// code whose DICOM status class (PS3.7 Annex C) says the opposite of the sequence holding it: a
/// Failure Reason of Success (0000), of the Warning class (0001, 0107, 0116, Bxxx), Cancel (FE00)
/// or Pending (FF00, FF01); a Warning Reason of Success or of a Failure class of Table I.2-2
/// (A7xx Refused: Out of Resources, A9xx Error: Data Set does not match SOP Class, Cxxx Error:
/// Cannot understand).
fn reason_contradiction(code: u64, failure: bool) -> Option<&'static str> {
    if code == 0x0000 {
        return Some("the Success status");
    }
    if failure {
        if matches!(code, 0x0001 | 0x0107 | 0x0116) || code >> 12 == 0xB {
            return Some("a Warning status (PS3.7 Annex C.4)");
        }
        if code == 0xFE00 {
            return Some("the Cancel status (PS3.7 Annex C.3)");
        }
        if matches!(code, 0xFF00 | 0xFF01) {
            return Some("a Pending status (PS3.7 Annex C.2)");
        }
    } else if matches!(code >> 8, 0xA7 | 0xA9) || code >> 12 == 0xC {
        return Some("a Failure status of Table I.2-2");
    }
    None
}

fn reason_value(item: &serde_json::Value, tag: u32) -> Option<u64> {
    dicom_json::attr(item, tag)?
        .get("Value")?
        .as_array()?
        .first()?
        .as_u64()
}

fn dw11_stow_reasons(s: &Subject<'_>) -> Verdict {
    if !matches!(s.exchange.status(), Some(200 | 202 | 409)) {
        return Verdict::na("no Store Instances Response expected");
    }
    let ds = match stow_response(s) {
        Ok(d) => d,
        Err(v) => return v,
    };
    let failed = seq_items(&ds, FAILED_SOP_SEQUENCE);
    let referenced = seq_items(&ds, REFERENCED_SOP_SEQUENCE);
    if failed.is_empty()
        && referenced
            .iter()
            .all(|r| dicom_json::attr(r, WARNING_REASON).is_none())
    {
        return Verdict::na("no failed or warned item");
    }
    for (i, item) in failed.iter().enumerate() {
        match reason_value(item, FAILURE_REASON) {
            None => {
                return Verdict::fail(
                    "a Failure Reason (0008,1197) in every Failed SOP Sequence item, a US value written as a JSON Number (PS3.18 §F.2.3)",
                    if dicom_json::attr(item, FAILURE_REASON).is_some() {
                        format!("item {} has one without a numeric value", i + 1)
                    } else {
                        format!("item {} has none", i + 1)
                    },
                )
            }
            Some(code) => {
                if let Some(why) = reason_contradiction(code, true) {
                    return Verdict::fail(
                        "a Failure Reason that is a failure (Table I.2-2, or an implementation-specific failure code)",
                        format!("item {} has {code:04X}H, {why}", i + 1),
                    );
                }
            }
        }
    }
    for (i, item) in referenced.iter().enumerate() {
        if dicom_json::attr(item, WARNING_REASON).is_some() {
            match reason_value(item, WARNING_REASON) {
                None => {
                    return Verdict::fail(
                        "a Warning Reason (0008,1196) with a value (Table I.2-1)",
                        format!("referenced item {} has no readable value", i + 1),
                    )
                }
                Some(code) => {
                    if let Some(why) = reason_contradiction(code, false) {
                        return Verdict::fail(
                            "a Warning Reason that is a warning (Table I.2-1, or an implementation-specific warning code)",
                            format!("referenced item {} has {code:04X}H, {why}", i + 1),
                        );
                    }
                }
            }
        }
    }
    Verdict::Pass
}

fn dw12_stow_study_mismatch(s: &Subject<'_>) -> Verdict {
    let Some(url_study) = &s.expect.stow_url_study else {
        return Verdict::na("not a STOW-RS to /studies/{study}");
    };
    let foreign: Vec<&super::SentInstance> = s
        .expect
        .stow_sent
        .iter()
        .filter(|i| !i.sop_instance.is_empty() && &i.study != url_study)
        .collect();
    if foreign.is_empty() {
        return Verdict::na("every instance sent belongs to the study of the URL");
    }
    let Some(status) = s.exchange.status() else {
        return Verdict::na("no response");
    };
    let own = s.expect.stow_sent.len() - foreign.len();
    if own == 0 && status != 409 {
        return Verdict::fail(
            "409: no instance belongs to the study of the URL",
            status.to_string(),
        );
    }
    let ds = match stow_response(s) {
        Ok(d) => d,
        // Refused without a payload: nothing was stored, the foreign instances included.
        Err(v) if refused_without_payload(s, &v) => return Verdict::Pass,
        Err(v) => return v,
    };
    let referenced: BTreeSet<String> = seq_items(&ds, REFERENCED_SOP_SEQUENCE)
        .iter()
        .filter_map(|r| dicom_json::first_string(r, REFERENCED_SOP_INSTANCE_UID))
        .collect();
    let failed: BTreeSet<String> = seq_items(&ds, FAILED_SOP_SEQUENCE)
        .iter()
        .filter_map(|r| dicom_json::first_string(r, REFERENCED_SOP_INSTANCE_UID))
        .collect();
    for f in &foreign {
        if referenced.contains(&f.sop_instance) {
            return Verdict::fail(
                format!("SOP {} (study {}) not stored", f.sop_instance, f.study),
                "listed in the Referenced SOP Sequence".to_string(),
            );
        }
        if !failed.contains(&f.sop_instance) {
            return Verdict::fail(
                format!("SOP {} listed in the Failed SOP Sequence", f.sop_instance),
                "not listed".to_string(),
            );
        }
    }
    Verdict::Pass
}

fn dw17_parts_are_dicom(s: &Subject<'_>) -> Verdict {
    let mp = match successful_multipart(s) {
        Ok(mp) => mp,
        Err(v) => return v,
    };
    let mut judged = 0;
    for (i, part) in mp.parts.iter().enumerate() {
        if let Some(why) = &part.not_dicom {
            return Verdict::fail(
                format!("part {} to be a DICOM PS3.10 object", i + 1),
                format!("{why} ({} bytes)", part.size),
            );
        }
        if part.dicom.is_some() {
            judged += 1;
        }
    }
    if judged == 0 {
        return Verdict::na("no application/dicom part");
    }
    Verdict::Pass
}

/// Original Attributes Sequence (0400,0561) and its Modified Attributes Sequence (0400,0550).
const ORIGINAL_ATTRIBUTES_SEQUENCE: u32 = 0x0400_0561;
const MODIFIED_ATTRIBUTES_SEQUENCE: u32 = 0x0400_0550;
const PATIENT_ID: u32 = 0x0010_0020;

/// Does a DICOM JSON data set record a change of its Patient ID: an item of its Original
/// Attributes Sequence (0400,0561) whose Modified Attributes Sequence (0400,0550) holds the prior
/// Patient ID (PS3.3 §C.12.1.1.9: "Attributes that were modified or removed shall be placed in
/// the Modified Attributes Sequence (0400,0550) with their prior values")?
pub fn records_patient_id_change(ds: &serde_json::Value) -> bool {
    seq_items(ds, ORIGINAL_ATTRIBUTES_SEQUENCE)
        .iter()
        .any(|item| {
            seq_items(item, MODIFIED_ATTRIBUTES_SEQUENCE)
                .iter()
                .any(|m| dicom_json::attr(m, PATIENT_ID).is_some())
        })
}

/// The Patient ID of an answer against the one the harness knows for the target.
///
/// A Storage SCP may coerce attributes, the Patient ID among them (PS3.4 §B.4.1.3; PS3.3
/// §C.12.1.1.9 names IHE Patient Information Reconciliation), so another Patient ID is not by
/// itself an answer about another patient: the Study, Series and SOP Instance UIDs say which
/// objects they are. What the standard binds:
/// - the record: "If any element is coerced or corrected, the Original Attribute Sequence
///   (0400,0561) shall be included in the DICOM Object that is stored" (PS3.18 §10.5.3). When
///   the harness stored the objects itself with STOW-RS, another Patient ID that no Original
///   Attributes Sequence records is a Fail. When the SUT got them by other means (a preloaded
///   profile), a change made outside the transfer "may" be recorded (PS3.3 §C.12.1.1.9) and is
///   not judged on its own;
/// - one instance, one Patient ID: a retrieved instance whose Patient ID is not the one the SUT's
///   own metadata of that instance gives (`in_metadata`) contradicts it, whatever the mode (the
///   metadata resource holds the instance's attributes, PS3.18 §10.4.1, §10.4.3.3.2).
///
/// An empty value is not judged.
fn patient_breach(
    e: &Expect,
    got: &str,
    recorded: bool,
    in_metadata: Option<&str>,
) -> Option<(String, String)> {
    let want = e.patient_id.as_deref()?;
    if got.is_empty() || got == want {
        return None;
    }
    if let Some(meta) = in_metadata.filter(|m| *m != got) {
        return Some((
            format!(
                "Patient ID {want} of the test data, or the one the origin server's metadata of the instance gives"
            ),
            format!("while its metadata gives Patient ID {meta}"),
        ));
    }
    if recorded || !e.stored_by_harness {
        return None;
    }
    Some((
        format!(
            "Patient ID {want} of the test data, or a coerced one recorded in an Original Attributes Sequence (0400,0561) (PS3.18 §10.5.3)"
        ),
        "and no Original Attributes Sequence records the change".to_string(),
    ))
}

fn dw18_target_membership(s: &Subject<'_>) -> Verdict {
    let (Some(target), Some(mp)) = (&s.expect.target, multipart_of(s)) else {
        return Verdict::na("no retrieve target or no multipart body");
    };
    if !is_success(s.exchange) {
        return Verdict::na("no successful retrieve to judge");
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, part) in mp.parts.iter().enumerate() {
        let Some(h) = &part.dicom else { continue };
        // A data set the walker could not read (deflated) still names its instance in the
        // File Meta Information.
        let sop_uid = h
            .sop_instance
            .as_ref()
            .or(h.media_storage_sop_instance.as_ref());
        if let Some(got) = &h.patient_id {
            let got = got.trim_end_matches(['\0', ' ']);
            let sop = sop_uid.map(String::as_str).unwrap_or("?");
            let recorded = s.expect.patient_coercion_recorded.contains(sop);
            let in_metadata = s.expect.metadata_patient_ids.get(sop).map(String::as_str);
            if let Some((expected, why)) = patient_breach(s.expect, got, recorded, in_metadata) {
                return Verdict::fail(
                    expected,
                    format!("part {} (SOP {sop}) has Patient ID {got}, {why}", i + 1),
                );
            }
        }
        if let Some(sop) = sop_uid.map(String::as_str) {
            if !seen.insert(sop) {
                return Verdict::fail(
                    "each instance of the target once",
                    format!("part {} repeats SOP {sop}", i + 1),
                );
            }
        }
        let checks = [
            (
                "Study Instance UID",
                Some(&target.study),
                h.study_instance_uid.as_ref(),
            ),
            (
                "Series Instance UID",
                target.series.as_ref(),
                h.series_instance_uid.as_ref(),
            ),
            ("SOP Instance UID", target.instance.as_ref(), sop_uid),
        ];
        for (name, want, got) in checks {
            if let (Some(want), Some(got)) = (want, got) {
                if want != got {
                    return Verdict::fail(
                        format!("{name} {want}"),
                        format!("part {} has {got}", i + 1),
                    );
                }
            }
        }
        // An instance the harness did not store is still of the target when its UIDs place it
        // there: the Study and Series resources are every instance the server holds of them
        // (PS3.18 §10.4.1), its own objects included. One whose UIDs cannot be read is judged
        // by the list of instances the harness knows.
        let placed = h.study_instance_uid.is_some()
            && (target.series.is_none() || h.series_instance_uid.is_some());
        if let (Some(expected), Some(sop), false) = (&s.expect.instances, sop_uid, placed) {
            if !expected.contains(sop) {
                return Verdict::fail(
                    "only instances of the target".to_string(),
                    format!(
                        "part {} is SOP {sop}, not an instance of the target, and names no Study and Series Instance UID",
                        i + 1
                    ),
                );
            }
        }
    }
    Verdict::Pass
}

/// Does a value match a QIDO/C-FIND matching key value (PS3.4 C.2.2.2)?
pub fn value_matches(key_value: &str, value: &str, is_pn: bool, is_date: bool) -> bool {
    if key_value.is_empty() {
        return true;
    }
    if is_date {
        if let Some((from, to)) = key_value.split_once('-') {
            let v = value.get(..8).unwrap_or(value);
            return (from.is_empty() || v >= from) && (to.is_empty() || v <= to);
        }
    }
    let list: Vec<&str> = key_value.split([',', '\\']).collect();
    if list.len() > 1 && !key_value.contains(['*', '?']) {
        return list.contains(&value);
    }
    if key_value.contains(['*', '?']) {
        let (k, v) = if is_pn {
            (key_value.to_lowercase(), value.to_lowercase())
        } else {
            (key_value.to_string(), value.to_string())
        };
        return wildcard(
            &k.chars().collect::<Vec<_>>(),
            &v.chars().collect::<Vec<_>>(),
        );
    }
    if is_pn {
        key_value.eq_ignore_ascii_case(value)
    } else {
        key_value == value
    }
}

fn wildcard(p: &[char], v: &[char]) -> bool {
    // Iterative glob with single backtrack point: linear in practice, never recursive on SUT data.
    let (mut pi, mut vi, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Resolve a QIDO key (keyword or 8-hex tag) to a tag number.
pub fn qido_key_tag(key: &str) -> Option<u32> {
    if key.len() == 8 && key.chars().all(|c| c.is_ascii_hexdigit()) {
        return u32::from_str_radix(key, 16).ok();
    }
    dicom_dictionary_std::StandardDataDictionary
        .by_name(key)
        .map(|e| {
            let t = e.tag.inner();
            ((t.group() as u32) << 16) | t.element() as u32
        })
}

use dicom_core::dictionary::DataDictionary as _;

fn dw19_qido_matching(s: &Subject<'_>) -> Verdict {
    if s.expect.qido_level.is_none() {
        return Verdict::na("not a QIDO-RS query");
    }
    let items = match qido_results(s) {
        Ok(i) => i,
        Err(v) => return v,
    };
    let keys: Vec<(u32, &str)> = s
        .expect
        .query
        .iter()
        .filter_map(|(k, v)| qido_key_tag(k).map(|t| (t, v.as_str())))
        .collect();
    if let Some((study, series)) = &s.expect.qido_path {
        for (n, item) in items.iter().enumerate() {
            let in_path = [
                (0x0020_000D_u32, "Study", Some(study)),
                (0x0020_000E_u32, "Series", series.as_ref()),
            ];
            for (tag, level, want) in in_path {
                let (Some(want), Some(got)) = (want, dicom_json::first_string(item, tag)) else {
                    continue;
                };
                if &got != want {
                    return Verdict::fail(
                        format!("results of the {level} Instance UID {want} in the resource path"),
                        format!("result {} has {level} Instance UID {got}", n + 1),
                    );
                }
            }
        }
    }
    let level = s.expect.qido_level.unwrap_or(QidoLevel::Study);
    for (n, item) in items.iter().enumerate() {
        for (tag, want) in &keys {
            let Some(attr) = dicom_json::attr(item, *tag) else {
                // A matching attribute is returned when the origin server supports it (PS3.18
                // §10.6.3.3.1 to §10.6.3.3.3); one that every result of the level must carry
                // (the unique key, a required attribute) cannot be missing.
                let required = *tag == unique_key(level)
                    || required_attributes(level).iter().any(|(t, _)| t == tag);
                if !required {
                    continue;
                }
                return Verdict::fail(
                    format!("matching key {} returned", dicom_json::tag_key(*tag)),
                    format!("result {} lacks it", n + 1),
                );
            };
            let vr = attr.get("vr").and_then(|v| v.as_str()).unwrap_or("");
            let values: Vec<String> = attr
                .get("Value")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| match x {
                            serde_json::Value::String(s) => Some(s.clone()),
                            serde_json::Value::Number(n) => Some(n.to_string()),
                            serde_json::Value::Object(o) => o
                                .get("Alphabetic")
                                .and_then(|a| a.as_str())
                                .map(str::to_string),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let ok = values
                .iter()
                .any(|v| value_matches(want, v, vr == "PN", matches!(vr, "DA" | "DT")));
            if !ok {
                return Verdict::fail(
                    format!("{}={want}", dicom_json::tag_key(*tag)),
                    format!("result {} has {}", n + 1, values.join(", ")),
                );
            }
        }
    }
    Verdict::Pass
}

fn dw20_qido_status(s: &Subject<'_>) -> Verdict {
    let Some(status) = s.exchange.status() else {
        return Verdict::na("no response");
    };
    if let Some(v) = unexpected_status(s, status) {
        return v;
    }
    if status == 200 {
        let media = response_media(s.exchange).and_then(Result::ok);
        let essence = media.map(|m| m.essence).unwrap_or_default();
        if essence != "application/dicom+json" && essence != "application/json" {
            return Verdict::fail(
                "Content-Type application/dicom+json",
                if essence.is_empty() {
                    "none".to_string()
                } else {
                    essence
                },
            );
        }
        if let Err(v) = qido_results(s) {
            return v;
        }
    }
    Verdict::Pass
}

/// The four RAD-107 message pairs, identified by the operation names the WADO-RS actor records.
const FOUR_PAIRS: [(&str, &str); 4] = [
    ("Retrieve Instance", "Get Instances"),
    ("Retrieve Instance Metadata", "Get Metadata"),
    ("Retrieve Bulkdata", "Get Bulkdata"),
    ("Retrieve Rendered Instance", "Get Rendered Instances"),
];

fn dw14_four_message_pairs(s: &Subject<'_>) -> Verdict {
    let all: Vec<&Exchange> = std::iter::once(s.exchange)
        .chain(s.followups.iter())
        .collect();
    // Get Bulkdata dereferences a BulkDataURI of the metadata; the origin server "is permitted"
    // to replace a value with one (PS3.18 §10.4.3.3.2), not bound to, so metadata of the
    // instance without any (every value inline) leaves no bulk data to get.
    let nothing_to_get = all.iter().any(|e| {
        e.operation == "Retrieve Instance Metadata"
            && e.status() == Some(200)
            && json_body(e).is_ok_and(|v| dicom_json::bulk_data_uris(&v).is_empty())
    });
    let mut missing = Vec::new();
    for (operation, pair) in FOUR_PAIRS {
        let answered = all
            .iter()
            .any(|e| e.operation == operation && e.status() == Some(200));
        let asked = all.iter().any(|e| e.operation == operation);
        if !answered && !asked && operation == "Retrieve Bulkdata" && nothing_to_get {
            continue;
        }
        if !answered {
            let got = all
                .iter()
                .find(|e| e.operation == operation)
                .and_then(|e| e.status())
                .map(|c| c.to_string())
                .unwrap_or_else(|| "not asked".into());
            missing.push(format!("{pair}: {got}"));
        }
    }
    if missing.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail("200 for each of the four message pairs", missing.join(", "))
    }
}

/// The WADL namespace (W3C member submission, 2009).
const WADL_NS: &str = "http://wadl.dev.java.net/2009/02";

fn dw13_capabilities(s: &Subject<'_>) -> Verdict {
    let Some(resp) = &s.exchange.response else {
        return Verdict::na("no response");
    };
    if resp.status != 200 {
        return Verdict::fail("200 with a WADL document", resp.status.to_string());
    }
    if !resp.body.complete {
        return Verdict::na("the capabilities document is larger than the harness keeps");
    }
    match crate::transport::soap::parse_xml(
        &resp.body.kept,
        &crate::transport::soap::XmlLimits::default(),
    ) {
        Ok(root) if root.local == "application" && root.ns.as_deref() == Some(WADL_NS) => {
            Verdict::Pass
        }
        Ok(root) => Verdict::fail(
            format!("a WADL <application> element in {WADL_NS}"),
            format!(
                "<{}> in {}",
                root.local,
                root.ns.as_deref().unwrap_or("no namespace")
            ),
        ),
        Err(e) => Verdict::fail("a WADL document", format!("not well-formed XML: {e}")),
    }
}

/// Magic numbers of the rendered image formats (PNG, JPEG, GIF, JPEG 2000).
fn image_signature_matches(essence: &str, body: &[u8]) -> bool {
    match essence {
        "image/png" => body.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => body.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => body.starts_with(b"GIF8"),
        // A JP2 file (signature box) or a bare JPEG 2000 codestream (SOC, SIZ).
        "image/jp2" => {
            body.starts_with(b"\x00\x00\x00\x0cjP  \r\n\x87\n")
                || body.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
        }
        _ => true,
    }
}

fn dw21_rendered(s: &Subject<'_>) -> Verdict {
    if s.exchange.status() != Some(200) {
        return Verdict::na("no 200 response to judge");
    }
    let Some(Ok(media)) = response_media(s.exchange) else {
        return Verdict::fail("an image Content-Type", "none or unparsable");
    };
    let accepted: Vec<MediaType> = s
        .exchange
        .request
        .header("accept")
        .and_then(|a| crate::transport::media_type::parse_accept(a).ok())
        .map(|items| {
            items
                .into_iter()
                .filter(|i| i.q > 0.0)
                .map(|i| i.media)
                .collect()
        })
        .unwrap_or_default();
    let acceptable = if accepted.is_empty() {
        media.essence == "image/jpeg"
    } else {
        accepted.iter().any(|a| a.range_matches(&media))
    };
    if !acceptable || !media.essence.starts_with("image/") {
        return Verdict::fail(
            format!(
                "an image in {}",
                if accepted.is_empty() {
                    "image/jpeg (the default)".to_string()
                } else {
                    accepted
                        .iter()
                        .map(|m| m.essence.clone())
                        .collect::<Vec<_>>()
                        .join(" or ")
                }
            ),
            media.essence,
        );
    }
    let Some(resp) = &s.exchange.response else {
        return Verdict::na("no response");
    };
    let body = &resp.body.kept;
    if !image_signature_matches(&media.essence, body) {
        return Verdict::fail(
            format!("a body in the {} format", media.essence),
            format!(
                "{} bytes starting {}",
                resp.body.size,
                hex::encode(&body[..body.len().min(8)])
            ),
        );
    }
    let header = image_header(&media.essence, body);
    if let Some(h) = &header {
        if media.essence == "image/jpeg" {
            if let Some(why) = jpeg_process_breach(h, s.strict) {
                return Verdict::fail(
                    if s.strict {
                        "a baseline JPEG (SOF0: lossy, 8-bit, Huffman, sequential, non-hierarchical; PS3.18 §8.7.4)"
                    } else {
                        "a JPEG of the lossy 8-bit Huffman non-hierarchical process (PS3.18 §8.7.4: SOF0 baseline; SOF1 or SOF2 pass unless strict)"
                    },
                    why,
                );
            }
        }
        if let Some((cols, rows)) = s.expect.rendered_size {
            if (h.width, h.height) != (cols, rows) {
                return Verdict::fail(
                    format!(
                        "the source's pixel matrix, {cols}×{rows} (no viewport asked; PS3.18 §8.3.5.1.3)"
                    ),
                    format!("{}×{}", h.width, h.height),
                );
            }
        }
    } else if resp.body.complete && matches!(media.essence.as_str(), "image/jpeg" | "image/png") {
        return Verdict::fail(
            format!("a readable {} header", media.essence),
            "no image dimensions found in the body",
        );
    }
    Verdict::Pass
}

/// What the header of a rendered image says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImageHeader {
    width: u32,
    height: u32,
    bits_per_channel: u32,
    /// JPEG: the start of frame marker (0xC0 for baseline).
    sof: Option<u8>,
    /// JPEG: a DHP marker (hierarchical process) came before the first frame header.
    hierarchical: bool,
}

/// Why a rendered JPEG is not of the process PS3.18 §8.7.4 names, or `None` when it is.
///
/// §8.7.4 (2019 to 2025 editions alike): "When an image/jpeg Media Type is returned, the image
/// shall be encoded using the JPEG baseline lossy 8-bit Huffman encoded non-hierarchical
/// non-sequential process defined in [ISO/IEC 10918-1]". Every word but one points at the
/// baseline process (SOF0); "non-sequential" contradicts "baseline", which ISO/IEC 10918-1
/// defines as sequential, and would rather describe progressive (SOF2). What every reading
/// shares is judged always: lossy DCT, 8-bit sample precision, Huffman coding, no hierarchy;
/// so lossless (SOF3, SOF7, SOF11, SOF15), arithmetic coding (SOF9 to SOF15), hierarchical
/// (DHP, differential SOF5 to SOF7) and 12-bit precision fail. Extended sequential (SOF1) and
/// progressive (SOF2) 8-bit Huffman JPEGs fail only in strict mode, which reads "baseline".
/// The 2019 text's "Rendered images shall contain no more than 8 bits per channel" is gone
/// from the current edition (which adds image/jph and image/jxl), so other formats are not
/// held to 8 bits.
fn jpeg_process_breach(h: &ImageHeader, strict: bool) -> Option<String> {
    let Some(sof) = h.sof else {
        return Some("no start of frame marker".to_string());
    };
    let process = match sof {
        0xC0 => "baseline",
        0xC1 => "extended sequential",
        0xC2 => "progressive",
        0xC3 => "lossless",
        0xC5..=0xC7 => "differential (hierarchical)",
        0xC9..=0xCB | 0xCD..=0xCF => "arithmetic-coded",
        _ => "unknown",
    };
    let allowed = if strict {
        sof == 0xC0
    } else {
        matches!(sof, 0xC0..=0xC2)
    };
    if !allowed || h.hierarchical || h.bits_per_channel != 8 {
        return Some(format!(
            "start of frame marker FF{sof:02X} ({process}{}), {} bits per sample",
            if h.hierarchical { ", hierarchical" } else { "" },
            h.bits_per_channel
        ));
    }
    None
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// Width, height and sample depth from a PNG, GIF or JPEG header (None when the kept bytes do
/// not reach it). Markers are walked by their lengths, never past the bytes.
fn image_header(essence: &str, b: &[u8]) -> Option<ImageHeader> {
    match essence {
        "image/png" => {
            if b.get(12..16)? != b"IHDR" {
                return None;
            }
            let w = u32::from_be_bytes(b.get(16..20)?.try_into().ok()?);
            let h = u32::from_be_bytes(b.get(20..24)?.try_into().ok()?);
            Some(ImageHeader {
                width: w,
                height: h,
                bits_per_channel: u32::from(*b.get(24)?),
                sof: None,
                hierarchical: false,
            })
        }
        "image/gif" => Some(ImageHeader {
            width: u32::from(u16::from_le_bytes([*b.get(6)?, *b.get(7)?])),
            height: u32::from(u16::from_le_bytes([*b.get(8)?, *b.get(9)?])),
            bits_per_channel: 8,
            sof: None,
            hierarchical: false,
        }),
        "image/jpeg" => {
            let mut i = 2usize;
            let mut hierarchical = false;
            while i + 1 < b.len() {
                if b[i] != 0xFF {
                    return None;
                }
                let marker = b[i + 1];
                if marker == 0xFF {
                    i += 1; // fill byte
                    continue;
                }
                if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
                    i += 2;
                    continue;
                }
                let len = be16(b, i + 2)? as usize;
                let is_sof =
                    (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker);
                if marker == 0xDE {
                    hierarchical = true;
                }
                if is_sof {
                    return Some(ImageHeader {
                        bits_per_channel: u32::from(*b.get(i + 4)?),
                        height: be16(b, i + 5)?,
                        width: be16(b, i + 7)?,
                        sof: Some(marker),
                        hierarchical,
                    });
                }
                if marker == 0xDA || len < 2 {
                    // Scan data before any frame header: not a valid JPEG.
                    return Some(ImageHeader {
                        width: 0,
                        height: 0,
                        bits_per_channel: 0,
                        sof: None,
                        hierarchical,
                    });
                }
                i += 2 + len;
            }
            None
        }
        _ => None,
    }
}

fn dw22_metadata_target(s: &Subject<'_>) -> Verdict {
    let Some(target) = &s.expect.target else {
        return Verdict::na("no retrieve target");
    };
    if s.exchange.status() != Some(200) {
        return Verdict::na("no 200 response to judge");
    }
    let items = match json_body(s.exchange) {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(_) => return Verdict::fail("an array of data sets", "another JSON value"),
        Err(e) if e.starts_with("body of") => return Verdict::na(e),
        Err(e) => return Verdict::fail("an array of data sets", e),
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (n, ds) in items.iter().enumerate() {
        let id = |tag: u32| dicom_json::first_string(ds, tag);
        let Some(sop) = id(0x0008_0018) else {
            return Verdict::fail(
                "a SOP Instance UID (0008,0018) in every data set",
                format!("data set {} has none", n + 1),
            );
        };
        let wanted = [
            ("Study Instance UID", 0x0020_000D_u32, Some(&target.study)),
            (
                "Series Instance UID",
                0x0020_000E_u32,
                target.series.as_ref(),
            ),
            (
                "SOP Instance UID",
                0x0008_0018_u32,
                target.instance.as_ref(),
            ),
        ];
        for (name, tag, want) in wanted {
            let Some(want) = want else { continue };
            match id(tag) {
                Some(got) if &got == want => {}
                got => {
                    return Verdict::fail(
                        format!("the {name} of the target, {want}"),
                        format!(
                            "data set {} (SOP {sop}) has {}",
                            n + 1,
                            got.unwrap_or_else(|| "none".into())
                        ),
                    )
                }
            }
        }
        if let Some(got) = id(0x0010_0020) {
            let recorded =
                records_patient_id_change(ds) || s.expect.patient_coercion_recorded.contains(&sop);
            if let Some((expected, why)) = patient_breach(s.expect, &got, recorded, None) {
                return Verdict::fail(
                    expected,
                    format!("data set {} (SOP {sop}) has Patient ID {got}, {why}", n + 1),
                );
            }
        }
        // A data set whose UIDs (checked above) place it in the target is of the target, an
        // object the server holds there of its own included (PS3.18 §10.4.1).
        if !seen.insert(sop.clone()) {
            return Verdict::fail(
                "one data set per instance",
                format!("SOP {sop} described twice"),
            );
        }
    }
    if let Some(expected) = &s.expect.instances {
        let missing: Vec<&String> = expected.difference(&seen).collect();
        if !missing.is_empty() {
            return Verdict::fail(
                format!(
                    "a data set for each of the {} instances of the target",
                    expected.len()
                ),
                format!(
                    "{} data set(s); missing SOP {}",
                    items.len(),
                    first_three(&missing)
                ),
            );
        }
    }
    Verdict::Pass
}

fn dw23_frames(s: &Subject<'_>) -> Verdict {
    let frames = &s.expect.frames;
    if frames.is_empty() {
        return Verdict::na("no frames asked");
    }
    if s.exchange.status() != Some(200) {
        return Verdict::na("no 200 response to judge");
    }
    let Some(mp) = multipart_of(s) else {
        return Verdict::na("not a multipart response (see DW-01)");
    };
    let list = frames
        .iter()
        .map(|f| f.number.to_string())
        .collect::<Vec<_>>()
        .join(",");
    if mp.parts.len() != frames.len() {
        return Verdict::fail(
            format!("{} parts, one for each frame asked ({list})", frames.len()),
            format!("{} part(s)", mp.parts.len()),
        );
    }
    let exact = frames.iter().all(|f| f.exact);
    // Only uncompressed parts are compared byte for byte: another transfer syntax, where the
    // request allowed one, has other bytes for the same frame. Where it did not (no Transfer
    // Syntax asked: application/octet-stream is uncompressed by default, §8.7.3.3), an instance
    // held losslessly has no reason to come compressed (§8.7.3 makes an exception only for
    // pixel data held in lossy form).
    if let Some((i, part)) = mp
        .parts
        .iter()
        .enumerate()
        .find(|(_, p)| !is_uncompressed_octets(p))
    {
        if exact && s.expect.requested_ts.is_none() {
            return Verdict::fail(
                format!(
                    "frame(s) {list} uncompressed, the default of application/octet-stream (no transfer syntax was asked; PS3.18 §8.7.3.3)"
                ),
                format!(
                    "part {} labelled {}",
                    i + 1,
                    part.content_type().unwrap_or("with no Content-Type")
                ),
            );
        }
        return Verdict::Pass;
    }
    // Frames of one instance are of one size uncompressed. A lossy fixture is not held to it:
    // without a Transfer Syntax parameter the default (uncompressed) applies "unless the origin
    // server has only access to the pixel data in lossy compressed form" (§8.7.3), and such
    // frames need not be labelled apart from uncompressed ones.
    if let Some(size) = mp.parts.first().map(|p| p.size).filter(|_| exact) {
        if let Some((i, p)) = mp.parts.iter().enumerate().find(|(_, p)| p.size != size) {
            return Verdict::fail(
                "frames of one instance, all of one size uncompressed",
                format!("part 1 has {size} bytes, part {} {}", i + 1, p.size),
            );
        }
    }
    let mut got: Vec<&str> = mp.parts.iter().map(|p| p.sha256.as_str()).collect();
    if exact {
        let mut want: Vec<&str> = frames.iter().map(|f| f.sha256.as_str()).collect();
        for (i, (p, f)) in mp.parts.iter().zip(frames).enumerate() {
            if p.size != f.size {
                return Verdict::fail(
                    format!("frame {} uncompressed, {} bytes", f.number, f.size),
                    format!("part {} has {} bytes", i + 1, p.size),
                );
            }
        }
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            return Verdict::fail(
                format!("the bytes of frame(s) {list} of the instance"),
                "parts of the right size with other pixel values (another frame or instance)",
            );
        }
        return Verdict::Pass;
    }
    for i in 0..frames.len() {
        for j in i + 1..frames.len() {
            if frames[i].sha256 != frames[j].sha256 && mp.parts[i].sha256 == mp.parts[j].sha256 {
                return Verdict::fail(
                    format!(
                        "frames {} and {} of the instance, which differ",
                        frames[i].number, frames[j].number
                    ),
                    format!("parts {} and {} are identical", i + 1, j + 1),
                );
            }
        }
    }
    Verdict::Pass
}

/// A URL without its query and fragment: a Retrieve URL may carry parameters of the server's
/// own (a token, a gateway route) after the resource path that names the study and instance.
fn url_path(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn dw24_stow_identity(s: &Subject<'_>) -> Verdict {
    if s.expect.stow_sent.is_empty() {
        return Verdict::na("not a STOW-RS request");
    }
    if !matches!(s.exchange.status(), Some(200 | 202 | 409)) {
        return Verdict::na("no Store Instances Response expected");
    }
    let ds = match stow_response(s) {
        Ok(d) => d,
        Err(v) => return v,
    };
    let sent = &s.expect.stow_sent;
    let by_sop = |uid: &str| {
        sent.iter()
            .find(|i| !i.sop_instance.is_empty() && i.sop_instance == uid)
    };
    let seqs = [
        ("Referenced SOP Sequence", REFERENCED_SOP_SEQUENCE),
        ("Failed SOP Sequence", FAILED_SOP_SEQUENCE),
    ];
    for (name, tag) in seqs {
        for (n, item) in seq_items(&ds, tag).iter().enumerate() {
            let Some(uid) = dicom_json::first_string(item, REFERENCED_SOP_INSTANCE_UID) else {
                if tag == REFERENCED_SOP_SEQUENCE {
                    return Verdict::fail(
                        "a Referenced SOP Instance UID (0008,1155) in every referenced item",
                        format!("{name} item {} has none", n + 1),
                    );
                }
                // A failed part that was not readable DICOM has no SOP Instance UID to give.
                continue;
            };
            let Some(inst) = by_sop(&uid) else {
                return Verdict::fail(
                    "items only for instances of the request",
                    format!("{name} item {} names SOP {uid}, which was not sent", n + 1),
                );
            };
            if let Some(class) = dicom_json::first_string(item, REFERENCED_SOP_CLASS_UID) {
                if !inst.sop_class.is_empty() && class != inst.sop_class {
                    return Verdict::fail(
                        format!("SOP {uid} with its SOP Class UID {}", inst.sop_class),
                        format!("{name} item {} has SOP Class UID {class}", n + 1),
                    );
                }
            }
            if tag == REFERENCED_SOP_SEQUENCE {
                if let Some(url) = dicom_json::first_string(item, RETRIEVE_URL) {
                    let study = format!("studies/{}/", inst.study);
                    let path = url_path(&url);
                    let names_it =
                        path.contains(&study) && path.trim_end_matches('/').ends_with(uid.as_str());
                    if !url.is_empty() && !names_it {
                        return Verdict::fail(
                            format!(
                                "a Retrieve URL of SOP {uid} in study {} (…/studies/{}/series/…/instances/{uid})",
                                inst.study, inst.study
                            ),
                            url,
                        );
                    }
                }
            }
        }
    }
    // The response's own Retrieve URL (type 2) names the study of the request.
    if let Some(url) = dicom_json::first_string(&ds, RETRIEVE_URL).filter(|u| !u.is_empty()) {
        let studies: BTreeSet<&str> = match &s.expect.stow_url_study {
            Some(u) => BTreeSet::from([u.as_str()]),
            None => sent
                .iter()
                .filter(|i| !i.study.is_empty())
                .map(|i| i.study.as_str())
                .collect(),
        };
        let names_one = studies.iter().any(|st| {
            url_path(&url)
                .trim_end_matches('/')
                .ends_with(&format!("studies/{st}"))
        });
        if !studies.is_empty() && !names_one {
            return Verdict::fail(
                format!(
                    "a Retrieve URL (0008,1190) of the study of the request (…/studies/{})",
                    studies
                        .iter()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" or …/studies/")
                ),
                url,
            );
        }
    }
    Verdict::Pass
}

#[cfg(test)]
mod tests;
