//! ITI-43 Retrieve Document Set (ITI TF-2 3.43) and RAD-69 Retrieve Imaging Document Set (RAD TF-2
//! 4.69): requests and responses.

use super::*;
use crate::model::ebrim::*;

/// Validate an ITI-43 request (`ITI43-01`).
pub fn validate_retrieve_request(r: &RetrieveDocumentSetRequest) -> Vec<Violation> {
    let mut out = Vec::new();
    if r.documents.is_empty() {
        out.push(Violation::of(&ITI43_01, "no DocumentRequest"));
    }
    for (i, d) in r.documents.iter().enumerate() {
        check_document_request(
            d,
            &ITI43_01,
            &format!("DocumentRequest #{}", i + 1),
            &mut out,
        );
    }
    out
}

fn check_document_request(d: &DocumentRequest, rule: &Rule, who: &str, out: &mut Vec<Violation>) {
    if d.repository_unique_id.as_deref().is_none_or(str::is_empty) {
        out.push(Violation::of(
            rule,
            format!("{who}: RepositoryUniqueId is missing or empty"),
        ));
    }
    if d.document_unique_id.as_deref().is_none_or(str::is_empty) {
        out.push(Violation::of(
            rule,
            format!("{who}: DocumentUniqueId is missing or empty"),
        ));
    }
}

/// How a retrieve response is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrieveKind {
    /// ITI-43 response.
    Iti43,
    /// RAD-69 response (Imaging Document Source).
    Rad69,
    /// ITI-39 / RAD-75 cross-community response (HomeCommunityId required).
    CrossCommunity,
}

/// Validate a retrieve response (`XDS-SOAP-07..14`, `ITI43-02/03`, `ITI39-01`, `RAD69-06`).
pub fn validate_retrieve_response(
    r: &RetrieveDocumentSetResponse,
    kind: RetrieveKind,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(rr) = &r.registry_response else {
        out.push(Violation::of(
            &RAD69_06,
            "RetrieveDocumentSetResponse has no RegistryResponse",
        ));
        return out;
    };
    out.extend(validate_registry_response(rr));
    let n = r.documents.len();
    let errors = rr
        .errors
        .iter()
        .filter(|e| e.severity.as_deref() == Some(SEVERITY_ERROR))
        .count();
    match rr.status.as_deref() {
        Some(RESPONSE_FAILURE) if n > 0 => out.push(Violation::of(
            &ITI43_02,
            format!("status Failure with {n} DocumentResponse(s)"),
        )),
        Some(RESPONSE_PARTIAL_SUCCESS) if n == 0 || errors == 0 => out.push(Violation::of(
            &ITI43_02,
            format!("status PartialSuccess with {n} DocumentResponse(s) and {errors} error(s)"),
        )),
        _ => {}
    }
    for e in &rr.errors {
        if e.severity.as_deref() == Some(SEVERITY_ERROR) {
            let ok = matches!(
                e.error_code.as_deref(),
                Some(
                    "XDSDocumentUniqueIdError"
                        | "XDSUnknownRepositoryId"
                        | "XDSRepositoryError"
                        | "XDSUnknownCommunity"
                        | "XDSMissingHomeCommunityId"
                        | "XDSUnavailableCommunity"
                )
            );
            if !ok {
                out.push(Violation::of(
                    &ITI43_03,
                    format!(
                        "errorCode {} is not a retrieve error code",
                        show(e.error_code.as_deref())
                    ),
                ));
            }
        }
        if e.location.as_deref().is_none_or(|l| l.trim().is_empty()) {
            out.push(Violation::of(
                &ITI43_03W,
                format!(
                    "RegistryError {} has no location",
                    show(e.error_code.as_deref())
                ),
            ));
        }
    }
    for (i, d) in r.documents.iter().enumerate() {
        let who = format!("DocumentResponse #{}", i + 1);
        let mut missing = Vec::new();
        if d.repository_unique_id.as_deref().is_none_or(str::is_empty) {
            missing.push("RepositoryUniqueId");
        }
        if d.document_unique_id.as_deref().is_none_or(str::is_empty) {
            missing.push("DocumentUniqueId");
        }
        if d.mime_type.as_deref().is_none_or(str::is_empty) {
            missing.push("mimeType");
        }
        if d.document.is_none() {
            missing.push("Document");
        }
        if !missing.is_empty() {
            out.push(Violation::of(
                &RAD69_06,
                format!("{who}: missing {}", missing.join(", ")),
            ));
        }
        if kind == RetrieveKind::CrossCommunity
            && d.home_community_id.as_deref().is_none_or(str::is_empty)
        {
            out.push(Violation::of(
                &ITI39_01,
                format!("{who}: HomeCommunityId is missing"),
            ));
        }
    }
    out
}

/// Validate a RAD-69 (or RAD-75, `to_gateway = true`) request (`RAD69-01` to `RAD69-05`).
pub fn validate_imaging_retrieve_request(
    r: &RetrieveImagingDocumentSetRequest,
    to_gateway: bool,
) -> Vec<Violation> {
    let mut out = Vec::new();
    if r.studies.is_empty() {
        out.push(Violation::of(&RAD69_01, "no StudyRequest"));
    }
    for (si, s) in r.studies.iter().enumerate() {
        let who = format!("StudyRequest #{}", si + 1);
        match s.study_instance_uid.as_deref().map(str::trim) {
            None | Some("") => out.push(Violation::of(
                &RAD69_01,
                format!("{who}: studyInstanceUID is missing or empty"),
            )),
            Some(u) if !is_uid(u) => out.push(Violation::of(
                &RAD69_01,
                format!("{who}: studyInstanceUID {} is not a UID", show(Some(u))),
            )),
            Some(_) => {}
        }
        if s.series.is_empty() {
            out.push(Violation::of(&RAD69_02, format!("{who}: no SeriesRequest")));
        }
        for (ri, se) in s.series.iter().enumerate() {
            let who = format!("{who} SeriesRequest #{}", ri + 1);
            match se.series_instance_uid.as_deref().map(str::trim) {
                None | Some("") => out.push(Violation::of(
                    &RAD69_02,
                    format!("{who}: seriesInstanceUID is missing or empty"),
                )),
                Some(u) if !is_uid(u) => out.push(Violation::of(
                    &RAD69_02,
                    format!("{who}: seriesInstanceUID {} is not a UID", show(Some(u))),
                )),
                Some(_) => {}
            }
            if se.documents.is_empty() {
                out.push(Violation::of(
                    &RAD69_03,
                    format!("{who}: no DocumentRequest"),
                ));
            }
            for (di, d) in se.documents.iter().enumerate() {
                let who = format!("{who} DocumentRequest #{}", di + 1);
                check_document_request(d, &RAD69_03, &who, &mut out);
                if let Some(u) = d.document_unique_id.as_deref().filter(|u| !u.is_empty()) {
                    if !is_uid(u) {
                        out.push(Violation::of(
                            &RAD69_03,
                            format!(
                                "{who}: DocumentUniqueId {} is not a SOP Instance UID",
                                show(Some(u))
                            ),
                        ));
                    }
                }
                if to_gateway && d.home_community_id.as_deref().is_none_or(str::is_empty) {
                    out.push(Violation::of(
                        &RAD69_05,
                        format!("{who}: HomeCommunityId is missing"),
                    ));
                }
            }
        }
    }
    match &r.transfer_syntaxes {
        None => out.push(Violation::of(&RAD69_04, "TransferSyntaxUIDList is missing")),
        Some(list) if list.is_empty() => {
            out.push(Violation::of(&RAD69_04, "TransferSyntaxUIDList is empty"))
        }
        Some(list) => {
            for t in list {
                if t.is_empty() {
                    out.push(Violation::of(&RAD69_04, "a TransferSyntaxUID is empty"));
                } else if !is_uid(t) {
                    out.push(Violation::of(
                        &RAD69_04,
                        format!("TransferSyntaxUID {} is not a UID", show(Some(t))),
                    ));
                }
            }
        }
    }
    out
}
