//! DICOMweb checks: WADO-RS (IHE RAD-107), QIDO-RS (RAD-129) and STOW-RS (RAD-108), as specified by
//! DICOM PS3.18 (2024+ editions; the sections cited are those of the current edition at
//! <https://dicom.nema.org/medical/dicom/current/output/chtml/part18/>).
//!
//! Ids DW-01..DW-16 are those of the project's standards reference (§8.7); DW-17 and up are the
//! harness's own, each citing the text it reads. Where the standard leaves a status code open, the
//! step that sets the [`Expect`] decides what is acceptable, strict or lenient, and says why.
//!
//! The registry of the family is [`CHECKS`]; the checks live by transaction: `wado.rs` (RAD-107),
//! `rendered.rs` (RAD-107 rendered resources), `qido.rs` (RAD-129), `stow.rs` (RAD-108) and
//! `capabilities.rs`; `json.rs` validates the DICOM JSON model (PS3.18 Annex F) for DW-05 and the
//! reference's tests; this module keeps what they share.

use std::collections::BTreeSet;

mod capabilities;
pub mod json;
mod qido;
mod rendered;
mod stow;
pub mod user_agent;
mod wado;

use super::{Check, Expect, Level, QidoLevel, Subject, Verdict};
use crate::evidence::{Exchange, MultipartSummary};
use crate::model::dicom_json;
use crate::transport::media_type::{MediaType, MediaTypeError};
use capabilities::*;
use qido::*;
pub use qido::{qido_key_tag, required_attributes, unique_key, value_matches, KnownEntity};
use rendered::*;
use stow::*;
pub use wado::records_patient_id_change;
use wado::*;

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

/// The checks `ihe-harness retrieve` applies to a study or series retrieve it knows nothing else
/// about (no fixture, so not DW-04's completeness): the multipart body, each part's type, the
/// transfer syntax asked for, each part a PS3.10 object of the target, each once.
pub const RETRIEVE_CHECKS: &[&str] = &["DW-01", "DW-02", "DW-03", "DW-17", "DW-18"];

/// Judge a WADO-RS retrieve of `target` made outside a scenario (the `retrieve` command) with
/// [`RETRIEVE_CHECKS`]: all of them run on the summary the body left while it streamed by.
pub fn judge_retrieve(
    exchange: &Exchange,
    target: &super::Target,
    requested_ts: Option<&str>,
    strict: bool,
) -> Vec<super::Finding> {
    let expect = Expect {
        status: vec![200],
        requested_ts: requested_ts.map(str::to_string),
        target: Some(target.clone()),
        ..Expect::default()
    };
    let subject = Subject {
        exchange,
        expect: &expect,
        strict,
        followups: &[],
    };
    super::evaluate_ids(RETRIEVE_CHECKS, &subject)
}

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

/// Why a response's Content-Type or JSON body could not be read.
#[derive(Debug, thiserror::Error)]
enum ResponseError {
    /// The Content-Type does not parse as a media type.
    #[error("unparsable Content-Type \"{value}\": {source}")]
    ContentType {
        /// The header value.
        value: String,
        /// Why it does not parse.
        source: MediaTypeError,
    },
    /// No response was received.
    #[error("no response")]
    NoResponse,
    /// The body is larger than the harness keeps for JSON checks (its size in bytes).
    #[error("body of {0} bytes exceeds what the harness keeps for JSON checks")]
    TooLarge(u64),
    /// The body is not JSON.
    #[error("not JSON: {0}")]
    NotJson(serde_json::Error),
}

fn response_media(ex: &Exchange) -> Option<Result<MediaType, ResponseError>> {
    let ct = ex.response.as_ref()?.header("content-type")?;
    Some(
        MediaType::parse(ct).map_err(|source| ResponseError::ContentType {
            value: ct.to_string(),
            source,
        }),
    )
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

fn json_body(ex: &Exchange) -> Result<serde_json::Value, ResponseError> {
    let Some(r) = &ex.response else {
        return Err(ResponseError::NoResponse);
    };
    if !r.body.complete {
        return Err(ResponseError::TooLarge(r.body.size));
    }
    serde_json::from_slice(&r.body.kept).map_err(ResponseError::NotJson)
}

#[cfg(test)]
pub(crate) mod tests;
