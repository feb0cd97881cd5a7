//! The SOAP layer of XDS.b messages: SOAP 1.2 and WS-Addressing (ITI TF-2 Appendix V), MTOM/XOP
//! packaging (W3C MTOM, XOP 1.0), and the RegistryResponse every response carries (ITI TF-3 4.2.4).

use super::*;
use crate::model::ebrim::*;
use crate::transport::soap::{
    content_id_of_cid_url, Envelope, HeaderPosition, SoapVersion, NS_SOAP12,
};

/// Role of the message an envelope carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A request (needs MessageID, ReplyTo, To).
    Request,
    /// A response (needs RelatesTo).
    Response,
}

/// Validate the SOAP layer of an envelope (`XDS-SOAP-01/02/03/11/12`). `expected_action` is the
/// transaction's action (§1.2); `None` checks presence only.
pub fn validate_envelope(
    env: &Envelope,
    direction: Direction,
    expected_action: Option<&str>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    if env.version != SoapVersion::Soap12 {
        out.push(Violation::of(
            &SOAP_01,
            format!("envelope namespace is not {NS_SOAP12}"),
        ));
    }
    if env.header_position == HeaderPosition::AfterBody {
        out.push(Violation::of(&SOAP_11, "soap:Header follows soap:Body"));
    }
    let a = &env.addressing;
    match &a.action {
        None => out.push(Violation::of(&SOAP_02, "wsa:Action is missing")),
        Some(h) => {
            if !h.must_understand {
                out.push(Violation::of(
                    &SOAP_02,
                    "wsa:Action lacks mustUnderstand=\"true\"",
                ));
            }
            if let Some(exp) = expected_action {
                if h.value != exp {
                    out.push(Violation::of(
                        &SOAP_02,
                        format!(
                            "wsa:Action is {}, expected {}",
                            show(Some(&h.value)),
                            show(Some(exp))
                        ),
                    ));
                }
            }
        }
    }
    match direction {
        Direction::Request => {
            if a.message_id.as_ref().is_none_or(|m| m.value.is_empty()) {
                out.push(Violation::of(&SOAP_03, "wsa:MessageID is missing"));
            }
            let mut missing = Vec::new();
            if a.reply_to.is_none() {
                missing.push("wsa:ReplyTo");
            }
            if a.to.is_none() {
                missing.push("wsa:To");
            }
            if !missing.is_empty() {
                out.push(Violation::of(
                    &SOAP_12,
                    format!("missing {}", missing.join(", ")),
                ));
            }
        }
        Direction::Response => {
            if a.relates_to.as_ref().is_none_or(|m| m.value.is_empty()) {
                out.push(Violation::of(&SOAP_03, "wsa:RelatesTo is missing"));
            }
        }
    }
    out
}

/// Validate the HTTP Content-Type of an MTOM message (`XDS-SOAP-04`) against its `wsa:Action`.
pub fn validate_mtom_content_type(content_type: &str, wsa_action: Option<&str>) -> Vec<Violation> {
    use crate::transport::media_type::MediaType;
    let mut out = Vec::new();
    let Ok(m) = MediaType::parse(content_type) else {
        out.push(Violation::of(
            &SOAP_04,
            format!("Content-Type {} does not parse", show(Some(content_type))),
        ));
        return out;
    };
    if !m.is_multipart_related() {
        out.push(Violation::of(
            &SOAP_04,
            format!("Content-Type is {}, expected multipart/related", m.essence),
        ));
        return out;
    }
    if !m
        .param("type")
        .is_some_and(|t| t.eq_ignore_ascii_case("application/xop+xml"))
    {
        out.push(Violation::of(
            &SOAP_04,
            format!(
                "type parameter is {}, expected application/xop+xml",
                show(m.param("type"))
            ),
        ));
    }
    if !m
        .param("start-info")
        .is_some_and(|t| t.eq_ignore_ascii_case("application/soap+xml"))
    {
        out.push(Violation::of(
            &SOAP_04,
            format!(
                "start-info parameter is {}, expected application/soap+xml",
                show(m.param("start-info"))
            ),
        ));
    }
    if let (Some(p), Some(a)) = (m.param("action"), wsa_action) {
        if p != a {
            out.push(Violation::of(
                &SOAP_04,
                format!(
                    "action parameter {} differs from wsa:Action {}",
                    show(Some(p)),
                    show(Some(a))
                ),
            ));
        }
    }
    out
}

/// Check XOP references (`XDS-SOAP-05`): every href names one of `content_ids` (Content-IDs
/// without `<>`), and every attachment is referenced.
pub fn validate_xop_references(hrefs: &[String], content_ids: &[Option<String>]) -> Vec<Violation> {
    let mut out = Vec::new();
    let decoded: Vec<Option<String>> = content_ids
        .iter()
        .map(|c| {
            c.as_ref()
                .and_then(|c| content_id_of_cid_url(&format!("cid:{c}")).ok())
        })
        .collect();
    let mut used = vec![false; content_ids.len()];
    for h in hrefs {
        match content_id_of_cid_url(h) {
            Err(_) => out.push(Violation::of(
                &SOAP_05,
                format!("xop:Include href {} is not a cid: URL", show(Some(h))),
            )),
            Ok(want) => {
                let hit = content_ids.iter().zip(&decoded).position(|(raw, dec)| {
                    raw.as_deref() == Some(want.as_str()) || dec.as_deref() == Some(want.as_str())
                });
                match hit {
                    Some(i) => {
                        if let Some(u) = used.get_mut(i) {
                            *u = true;
                        }
                    }
                    None => out.push(Violation::of(
                        &SOAP_05,
                        format!("xop:Include href {} names no MIME part", show(Some(h))),
                    )),
                }
            }
        }
    }
    for (i, u) in used.iter().enumerate() {
        if !u {
            out.push(Violation::of(
                &SOAP_05,
                format!(
                    "MIME part {} is not referenced by any xop:Include",
                    show(content_ids.get(i).and_then(|c| c.as_deref()))
                ),
            ));
        }
    }
    out
}

/// Validate the status and errors of a RegistryResponse or of the status part of another
/// response (`XDS-SOAP-07/08/09/13/14`).
pub fn validate_registry_response(r: &RegistryResponse) -> Vec<Violation> {
    let mut out = Vec::new();
    match r.status.as_deref() {
        Some(RESPONSE_SUCCESS | RESPONSE_FAILURE | RESPONSE_PARTIAL_SUCCESS) => {}
        Some(RESPONSE_PARTIAL_SUCCESS_OASIS) => out.push(Violation::of(&SOAP_07, format!(
            "status uses the OASIS namespace for PartialSuccess; expected {RESPONSE_PARTIAL_SUCCESS}"))),
        other => out.push(Violation::of(&SOAP_07, format!("status is {}", show(other)))),
    }
    for e in &r.errors {
        let mut problems = Vec::new();
        if e.error_code.as_deref().is_none_or(str::is_empty) {
            problems.push("no errorCode".to_owned());
        }
        if !matches!(
            e.severity.as_deref(),
            Some(SEVERITY_ERROR | SEVERITY_WARNING)
        ) {
            problems.push(format!("severity {}", show(e.severity.as_deref())));
        }
        if e.code_context
            .as_deref()
            .is_none_or(|c| c.trim().is_empty())
        {
            problems.push("empty codeContext".to_owned());
        }
        if !problems.is_empty() {
            out.push(Violation::of(
                &SOAP_08,
                format!(
                    "RegistryError {}: {}",
                    show(e.error_code.as_deref()),
                    problems.join(", ")
                ),
            ));
        }
        if let Some(code) = e.error_code.as_deref() {
            if !code.is_empty() && !ERROR_CODES.contains(&code) {
                out.push(Violation::of(
                    &SOAP_14,
                    format!(
                        "errorCode {} is not in ITI TF-3 Table 4.2.4.1-2",
                        show(Some(code))
                    ),
                ));
            }
        }
    }
    let errors = r
        .errors
        .iter()
        .filter(|e| e.severity.as_deref() == Some(SEVERITY_ERROR))
        .count();
    match r.status.as_deref() {
        Some(RESPONSE_FAILURE) if errors == 0 => out.push(Violation::of(
            &SOAP_09,
            if r.has_error_list {
                "status Failure without a RegistryError of severity Error"
            } else {
                "status Failure without a RegistryErrorList"
            },
        )),
        Some(RESPONSE_SUCCESS) if errors > 0 => out.push(Violation::of(
            &SOAP_13,
            format!("status Success with {errors} RegistryError(s) of severity Error"),
        )),
        _ => {}
    }
    out
}
