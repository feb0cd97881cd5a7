//! The retrieve checks (ITI-43): the documents asked for, each with the mimeType (XDSI-03), size
//! and hash (XDSI-04) it was registered with, under the repository it was asked at (XDSI-13).

use super::*;

/// XDSI-03: a retrieved document has the mimeType it was registered with.
pub(super) fn xdsi_03(s: &Subject<'_>) -> Verdict {
    if s.expect.xds.documents.is_empty() {
        return Verdict::na("no registered document to compare with");
    }
    let (_, r) = match retrieve_response(s) {
        Ok(x) => x,
        Err(v) => return owed(v, "the registered documents, with their mimeType"),
    };
    let mut bad = Vec::new();
    for d in &r.documents {
        let Some(reg) = d
            .document_unique_id
            .as_ref()
            .and_then(|u| s.expect.xds.documents.get(u))
        else {
            continue;
        };
        if let Some(want) = &reg.mime_type {
            if d.mime_type.as_deref() != Some(want.as_str()) {
                bad.push(format!(
                    "{}: mimeType {}, registered {want}",
                    d.document_unique_id.as_deref().unwrap_or(""),
                    d.mime_type.as_deref().unwrap_or("(none)")
                ));
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail("the registered mimeType", bad.join("; "))
    }
}

/// XDSI-04: a retrieved document has the size and SHA-1 hash the registry holds, judged on the
/// bytes when the evidence kept them, else on the digest taken while the body streamed.
pub(super) fn xdsi_04(s: &Subject<'_>) -> Verdict {
    if s.expect.xds.documents.is_empty() {
        return Verdict::na("no registered document to compare with");
    }
    let (msg, r) = match retrieve_response(s) {
        Ok(x) => x,
        Err(v) => return owed(v, "the registered documents, with their size and hash"),
    };
    let mut bad = Vec::new();
    let mut undigested = Vec::new();
    let mut judged = 0;
    for d in &r.documents {
        let uid = d.document_unique_id.as_deref().unwrap_or("");
        let Some(reg) = s.expect.xds.documents.get(uid) else {
            continue;
        };
        let Some(content) = &d.document else { continue };
        let (size, hash) = match document_bytes(&msg, content) {
            Some(b) => (
                Some(b.len() as u64),
                Some(crate::model::ebrim::document_hash(&b)),
            ),
            None => match streamed_digest(s, content) {
                Some((hash, size)) => (Some(size), Some(hash)),
                None => (document_part(&msg, content).map(|p| p.size), None),
            },
        };
        judged += 1;
        if let (Some(want), Some(got)) = (reg.size, size) {
            if want != got {
                bad.push(format!("{uid}: {got} bytes, registered size {want}"));
            }
        }
        match (&reg.hash, &hash) {
            (Some(want), Some(got)) if !want.trim().eq_ignore_ascii_case(got) => {
                bad.push(format!("{uid}: SHA-1 {got}, registered hash {want}"));
            }
            (Some(_), None) => undigested.push(uid.to_string()),
            _ => {}
        }
    }
    if judged == 0 {
        return Verdict::na("no registered document was returned (XDSI-13 judges which were)");
    }
    if !bad.is_empty() {
        Verdict::fail("the registered size and hash", bad.join("; "))
    } else if !undigested.is_empty() {
        Verdict::na(format!(
            "the bytes of {} were neither kept nor digested",
            undigested.join(", ")
        ))
    } else {
        Verdict::Pass
    }
}

/// The SHA-1 and size of an attachment digested while the response streamed.
fn streamed_digest(s: &Subject<'_>, content: &DocumentContent) -> Option<(String, u64)> {
    let DocumentContent::Xop { href } = content else {
        return None;
    };
    let cid = crate::transport::soap::content_id_of_cid_url(href).ok()?;
    s.expect.xds.streamed.get(cid.trim()).cloned()
}

/// XDSI-13: a retrieve returns only the documents asked for, each once, under the repository
/// and community they were asked at.
pub(super) fn xdsi_13(s: &Subject<'_>) -> Verdict {
    if s.exchange.direction != Direction::Outbound {
        return Verdict::na("not a response to the harness");
    }
    let Some(asked) = crate::checks::soap_message::harness_request(s.exchange)
        .as_ref()
        .and_then(identity::asked_documents)
    else {
        return Verdict::na("the harness's retrieve request is not in the exchange");
    };
    let (_, r) = match retrieve_response(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let bad = retrieve_mismatches(&asked, &r);
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "DocumentResponses for the documents asked only, each once, echoing their DocumentUniqueId, RepositoryUniqueId and HomeCommunityId",
            bad.join("; "),
        )
    }
}
