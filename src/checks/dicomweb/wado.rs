//! WADO-RS (RAD-107) checks: multipart structure, part types and transfer syntaxes, status, the
//! metadata's JSON model and bulk data, the target's membership and patient, metadata of the
//! target, frames (PS3.18 §10.4). Rendered resources are in `rendered.rs`.

use super::*;

pub(super) fn dw01_multipart_structure(s: &Subject<'_>) -> Verdict {
    if !is_success(s.exchange) {
        return Verdict::na("no successful retrieve to judge");
    }
    let media = match response_media(s.exchange) {
        None => return Verdict::fail("a multipart/related Content-Type", "no Content-Type header"),
        Some(Err(e)) => return Verdict::fail("a multipart/related Content-Type", e.to_string()),
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

pub(super) fn essence_matches(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    match expected.split_once('/') {
        Some((t, "*")) => actual.split_once('/').map(|(a, _)| a == t).unwrap_or(false),
        _ => expected == "*/*",
    }
}

pub(super) fn dw02_part_types(s: &Subject<'_>) -> Verdict {
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

pub(super) fn dw03_transfer_syntax(s: &Subject<'_>) -> Verdict {
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

pub(super) fn returned_sops(mp: &MultipartSummary) -> BTreeSet<String> {
    mp.parts
        .iter()
        .filter_map(|p| p.dicom.as_ref())
        .filter_map(|d| {
            d.sop_instance
                .as_deref()
                .or(d.media_storage_sop_instance.as_deref())
        })
        .map(str::to_string)
        .collect()
}

/// The expected-status part shared by the status checks: a Fail when the scenario names the
/// acceptable codes and the SUT answered another.
pub(super) fn unexpected_status(s: &Subject<'_>, status: u16) -> Option<Verdict> {
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

pub(super) fn dw04_wado_status(s: &Subject<'_>) -> Verdict {
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

pub(super) fn dw05_json_model(s: &Subject<'_>) -> Verdict {
    if s.exchange.status() != Some(200) {
        return Verdict::na("no 200 response to judge");
    }
    let v = match json_body(s.exchange) {
        Ok(v) => v,
        Err(e @ ResponseError::TooLarge(_)) => return Verdict::na(e.to_string()),
        Err(e) => return Verdict::fail("a DICOM JSON array", e.to_string()),
    };
    let violations = json::validate_dataset_array(&v);
    let hard: Vec<_> = violations
        .iter()
        .filter(|v| v.level == Level::Shall)
        .collect();
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
                .map(|v| format!("{} {} ({})", v.location, v.message, v.rule))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    )
}

pub(super) fn dw06_bulkdata(s: &Subject<'_>) -> Verdict {
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
    if let Some((uri, size, digest)) = &s.expect.pixel_data {
        let pixel = s
            .followups
            .iter()
            .find(|f| &f.request.url == uri && f.status() == Some(200));
        if let Some(part) = pixel
            .and_then(|f| f.multipart.as_ref())
            .and_then(|mp| mp.parts.first())
            .filter(|p| is_uncompressed_octets(p))
        {
            if part.size != *size || &part.blake3 != digest {
                return Verdict::fail(
                    format!(
                        "the instance's own Pixel Data at its BulkDataURI ({size} bytes, BLAKE3 {})",
                        short_hash(digest)
                    ),
                    format!(
                        "{} bytes, BLAKE3 {} (another value)",
                        part.size,
                        short_hash(&part.blake3)
                    ),
                );
            }
        }
    }
    Verdict::Pass
}

/// A part holding uncompressed octets: `application/octet-stream` without a transfer syntax or
/// with Explicit VR Little Endian (PS3.18 §8.7.3.3).
pub(super) fn is_uncompressed_octets(part: &crate::evidence::PartSummary) -> bool {
    part.content_type()
        .and_then(|ct| MediaType::parse(ct).ok())
        .is_some_and(|m| {
            m.essence == "application/octet-stream"
                && m.transfer_syntax()
                    .is_none_or(|ts| ts == EXPLICIT_VR_LE || ts == IMPLICIT_VR_LE)
        })
}

pub(super) fn short_hash(h: &str) -> String {
    h.get(..12)
        .map(|p| format!("{p}…"))
        .unwrap_or_else(|| h.to_string())
}

pub(super) fn dw17_parts_are_dicom(s: &Subject<'_>) -> Verdict {
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
pub(super) fn patient_breach(
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

pub(super) fn dw18_target_membership(s: &Subject<'_>) -> Verdict {
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
            .as_deref()
            .or(h.media_storage_sop_instance.as_deref());
        if let Some(got) = &h.patient_id {
            let got = got.trim_end_matches(['\0', ' ']);
            let sop = sop_uid.unwrap_or("?");
            let recorded = s.expect.patient_coercion_recorded.contains(sop);
            let in_metadata = s.expect.metadata_patient_ids.get(sop).map(String::as_str);
            if let Some((expected, why)) = patient_breach(s.expect, got, recorded, in_metadata) {
                return Verdict::fail(
                    expected,
                    format!("part {} (SOP {sop}) has Patient ID {got}, {why}", i + 1),
                );
            }
        }
        if let Some(sop) = sop_uid {
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
                Some(target.study.as_str()),
                h.study_instance_uid.as_deref(),
            ),
            (
                "Series Instance UID",
                target.series.as_deref(),
                h.series_instance_uid.as_deref(),
            ),
            ("SOP Instance UID", target.instance.as_deref(), sop_uid),
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

pub(super) fn dw22_metadata_target(s: &Subject<'_>) -> Verdict {
    let Some(target) = &s.expect.target else {
        return Verdict::na("no retrieve target");
    };
    if s.exchange.status() != Some(200) {
        return Verdict::na("no 200 response to judge");
    }
    let items = match json_body(s.exchange) {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(_) => return Verdict::fail("an array of data sets", "another JSON value"),
        Err(e @ ResponseError::TooLarge(_)) => return Verdict::na(e.to_string()),
        Err(e) => return Verdict::fail("an array of data sets", e.to_string()),
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

pub(super) fn dw23_frames(s: &Subject<'_>) -> Verdict {
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
    let mut got: Vec<&str> = mp.parts.iter().map(|p| p.blake3.as_str()).collect();
    if exact {
        let mut want: Vec<&str> = frames.iter().map(|f| f.blake3.as_str()).collect();
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
            if frames[i].blake3 != frames[j].blake3 && mp.parts[i].blake3 == mp.parts[j].blake3 {
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

/// Original Attributes Sequence (0400,0561) and its Modified Attributes Sequence (0400,0550).
pub(super) const ORIGINAL_ATTRIBUTES_SEQUENCE: u32 = 0x0400_0561;

pub(super) const MODIFIED_ATTRIBUTES_SEQUENCE: u32 = 0x0400_0550;

pub(super) const PATIENT_ID: u32 = 0x0010_0020;
