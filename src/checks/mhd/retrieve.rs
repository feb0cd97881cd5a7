//! The ITI-68 retrieve checks: the document in the format asked (MHD-15) and a FHIR Binary answered
//! as FHIR R4 defines it (MHD-19), with the Accept negotiation they share.

use super::*;

pub(super) fn accept_allows(accept: &str, ct: &str) -> bool {
    let m = media_type(ct);
    let (ty, _) = m.split_once('/').unwrap_or((m.as_str(), ""));
    accept.split(',').any(|a| {
        let a = media_type(a);
        a == "*/*" || a == m || a == format!("{ty}/*")
    })
}

/// The FHIR content types a Binary read treats as a request for the resource itself rather than
/// its content (FHIR R4 binary.html#rest), with the R3 spellings.
pub(super) const FHIR_TYPES: &[&str] = &[
    "application/fhir+json",
    "application/fhir+xml",
    "application/json+fhir",
    "application/xml+fhir",
];

/// Does the Accept header name a FHIR content type explicitly?
pub fn names_fhir_type(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',')
            .any(|r| FHIR_TYPES.contains(&media_type(r).as_str()))
    })
}

/// The Accept header a Document Consumer sends to fetch a document of `content_type` itself:
/// its own type, or `*/*` when that is a FHIR content type, which a FHIR server reads as a request
/// for the Binary resource instead of its content (FHIR R4 binary.html#rest).
pub fn document_accept(content_type: &str) -> String {
    if FHIR_TYPES.contains(&media_type(content_type).as_str()) {
        "*/*".to_string()
    } else {
        content_type.to_string()
    }
}

/// A FHIR Binary resource in an ITI-68 answer: its `contentType` and decoded `data`.
pub(super) fn binary_resource(ex: &Exchange) -> Option<(Option<String>, Vec<u8>)> {
    let r = ex.response.as_ref()?;
    let ct = r.header("content-type")?;
    if !(is_json_type(ct) || is_xml_type(ct)) || !r.body.complete {
        return None;
    }
    let v = parse_fhir(&r.body.kept, Some(ct)).ok()?;
    if str_at(&v, "resourceType") != Some("Binary") {
        return None;
    }
    let data = str_at(&v, "data").and_then(b64_decode).unwrap_or_default();
    Some((str_at(&v, "contentType").map(str::to_string), data))
}

pub(super) fn mhd_15(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti68 || ex.direction != Direction::Outbound {
        return Verdict::na("not an ITI-68 response");
    }
    let e = &s.expect.mhd;
    let status = ex.status().unwrap_or(0);
    let doc_ct = e.document.as_ref().and_then(|d| d.content_type.as_deref());
    let accept = e.accept.as_deref().or_else(|| ex.request.header("accept"));
    let negotiated_away = matches!((accept, doc_ct), (Some(a), Some(ct)) if !accept_allows(a, ct));
    // A consumer that names a FHIR type in Accept asks a FHIR server for the Binary resource
    // itself (FHIR R4 binary.html#rest): that answer, carrying the document under its own
    // contentType, is the one the request defines, not a substitute (MHD-19 judges its content).
    let binary_asked_for = status == 200
        && e.document.is_some()
        && names_fhir_type(accept)
        && binary_resource(ex).is_some_and(|(ct, _)| {
            doc_ct.is_none_or(|want| ct.as_deref().map(media_type) == Some(media_type(want)))
        });
    if binary_asked_for {
        return Verdict::Pass;
    }
    if !s.expect.status.is_empty() {
        if !s.expect.status.contains(&status) {
            let statuses: Vec<String> = s.expect.status.iter().map(u16::to_string).collect();
            return Verdict::fail(
                format!(
                    "HTTP {} ({})",
                    statuses.join(" or "),
                    s.expect.status_reason
                ),
                format!("HTTP {status}"),
            );
        }
    } else if e.document.is_some() && status != 200 && !(negotiated_away && status == 406) {
        return Verdict::fail("HTTP 200 with the document", format!("HTTP {status}"));
    }
    if status != 200 {
        return Verdict::Pass;
    }
    let got = ex
        .response
        .as_ref()
        .and_then(|r| r.header("content-type"))
        .unwrap_or("");
    let shown = if got.is_empty() { "(none)" } else { got };
    match (doc_ct, accept) {
        (Some(ct), _) if !negotiated_away => {
            if media_type(got) == media_type(ct) {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("Content-Type {ct}"),
                    format!("Content-Type {shown}"),
                )
            }
        }
        (_, Some(a)) => {
            if accept_allows(a, got) {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("a Content-Type within Accept {a}"),
                    format!("Content-Type {shown}"),
                )
            }
        }
        _ => Verdict::Pass,
    }
}

/// MHD-19: the body of an ITI-68 answer is the document the DocumentReference describes, by
/// size and SHA-1 (ITI TF-2 3.68.4.2.2: "the HTTP message-body shall be the content of the
/// requested document"; 3.65.4.1.2.1: hash and size are those of the document).
///
/// A FHIR server serves a Binary read as the Binary resource when the Accept header names a FHIR
/// content type, and as the raw content otherwise (FHIR R4 binary.html#rest, "Serving Binary
/// Resources using the RESTful API"). ITI-68 does not override that, so a consumer that names a
/// FHIR type in Accept for a document whose own type is FHIR JSON has asked an ambiguous question:
/// the Binary resource is then an answer the request defines, and the document it carries is
/// judged. Where no FHIR type was named, a Binary resource is not the document: a Fail.
pub(super) fn mhd_19(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti68 || ex.direction != Direction::Outbound {
        return Verdict::na("not an ITI-68 response");
    }
    let Some(doc) = &s.expect.mhd.document else {
        return Verdict::na("the DocumentReference is unknown");
    };
    let Some(resp) = ex.response.as_ref().filter(|r| r.status == 200) else {
        return Verdict::na("no document returned");
    };
    let accept = s
        .expect
        .mhd
        .accept
        .as_deref()
        .or_else(|| ex.request.header("accept"));
    let binary = binary_resource(ex);
    if let (Some(a), Some(ct)) = (accept, doc.content_type.as_deref()) {
        if !accept_allows(a, ct) && binary.is_none() {
            return Verdict::na("another representation than the document's was asked for");
        }
    }
    // The body as received: kept whole, or digested while it streamed.
    let raw: Option<(u64, String)> = if resp.body.complete {
        Some((resp.body.size, sha1_base64(&resp.body.kept)))
    } else {
        s.expect.mhd.streamed.as_ref().map(|(h, n)| (*n, h.clone()))
    };
    let expected = "the document whose size and SHA-1 the DocumentReference gives";
    let problems = |size: u64, hash: Option<&str>| -> Vec<String> {
        let mut p = Vec::new();
        if let Some(want) = doc.size {
            if want != size {
                p.push(format!("{size} bytes, the DocumentReference says {want}"));
            }
        }
        if let (Some(want), Some(got)) = (&doc.hash, hash) {
            if !same_hash(want, got) {
                p.push(format!("SHA-1 {got}, the DocumentReference says {want}"));
            }
        }
        p
    };
    let raw_problems = match &raw {
        Some((size, hash)) => problems(*size, Some(hash)),
        None => problems(resp.body.size, None),
    };
    if raw_problems.is_empty() {
        return if raw.is_none() && doc.hash.is_some() {
            Verdict::na("the body was neither kept whole nor digested")
        } else {
            Verdict::Pass
        };
    }
    match binary {
        Some((ct, data)) if names_fhir_type(accept) => {
            let mut p = problems(data.len() as u64, Some(&sha1_base64(&data)));
            if let (Some(want), Some(got)) = (doc.content_type.as_deref(), ct.as_deref()) {
                if media_type(want) != media_type(got) {
                    p.push(format!(
                        "the Binary resource holds {got}, the DocumentReference says {want}"
                    ));
                }
            }
            fails(
                p.into_iter()
                    .map(|x| format!("Binary.data: {x}"))
                    .collect(),
                expected,
            )
        }
        Some(_) => Verdict::fail(
            expected,
            format!(
                "a FHIR Binary resource wrapping content, though the request named no FHIR type in Accept ({})",
                accept.unwrap_or("no Accept header")
            ),
        ),
        None => fails(raw_problems, expected),
    }
}
