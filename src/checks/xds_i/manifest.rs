//! The cross-walk between a manifest (KOS) and its DocumentEntry (XDSI-05..08).

use super::*;

/// The manifest and its DocumentEntry in the subject: the attached KOS and its metadata in an
/// inbound RAD-68, or the retrieved KOS (ITI-43) and the entry the registry returned.
fn manifest_and_entry(s: &Subject<'_>) -> Result<(kos::Manifest, DocumentEntry), Verdict> {
    let msg = SutMessage::of(s.exchange).map_err(|e| Verdict::na(e.to_string()))?;
    let m = msg.message().map_err(|why| Verdict::na(why.to_string()))?;
    let (entry, bytes) = match (s.exchange.direction, m) {
        (Direction::Inbound, Message::ProvideAndRegister(p)) => {
            let entries = p.submit.objects.extrinsic_objects;
            let Some(eo) = entries.first() else {
                return Err(Verdict::na("the submission has no DocumentEntry"));
            };
            let entry = eo.document_entry();
            let doc = p
                .documents
                .iter()
                .find(|d| d.id.is_some() && d.id == eo.id)
                .ok_or_else(|| Verdict::na("no Document for the DocumentEntry"))?;
            let bytes = document_bytes(&msg, &doc.content)
                .ok_or_else(|| Verdict::na("the manifest bytes were not kept"))?;
            (entry, bytes)
        }
        (Direction::Outbound, Message::RetrieveDocumentSetResponse(r)) => {
            let entry = s.expect.xds.entry.clone().ok_or_else(|| {
                Verdict::na("the scenario holds no DocumentEntry for the manifest")
            })?;
            let d = r
                .documents
                .iter()
                .find(|d| d.document_unique_id.is_some() && d.document_unique_id == entry.unique_id)
                .ok_or_else(|| Verdict::na("the manifest was not returned"))?;
            let bytes = d
                .document
                .as_ref()
                .and_then(|c| document_bytes(&msg, c))
                .ok_or_else(|| Verdict::na("the manifest bytes were not kept"))?;
            (entry, bytes)
        }
        _ => return Err(Verdict::na("no manifest in this exchange")),
    };
    let manifest = kos::parse(&bytes)
        .map_err(|err| Verdict::na(format!("the document is not a KOS manifest: {err}")))?;
    Ok((manifest, entry))
}

/// XDSI-05: the DocumentEntry uniqueId is the manifest's SOP Instance UID.
pub(super) fn xdsi_05(s: &Subject<'_>) -> Verdict {
    let (m, entry) = match manifest_and_entry(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    if entry.unique_id.is_some() && entry.unique_id == m.sop_instance_uid {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "uniqueId = KOS SOP Instance UID {}",
                m.sop_instance_uid.as_deref().unwrap_or("(none)")
            ),
            format!(
                "uniqueId {}",
                entry.unique_id.as_deref().unwrap_or("(none)")
            ),
        )
    }
}

/// XDSI-06: sourcePatientId is the manifest's Patient ID (with its issuer when it has one).
pub(super) fn xdsi_06(s: &Subject<'_>) -> Verdict {
    let (m, entry) = match manifest_and_entry(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let Some(pid) = m.patient.id.as_deref().filter(|p| !p.is_empty()) else {
        return Verdict::na("the manifest has no Patient ID");
    };
    let got = entry.source_patient_id.as_deref().unwrap_or("");
    if got.split('^').next() == Some(pid) {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("sourcePatientId with id {pid} (KOS Patient ID)"),
            format!(
                "sourcePatientId {}",
                if got.is_empty() { "(none)" } else { got }
            ),
        )
    }
}

/// XDSI-07: referenceIdList carries the manifest's Study Instance UID.
pub(super) fn xdsi_07(s: &Subject<'_>) -> Verdict {
    let (m, entry) = match manifest_and_entry(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let Some(study) = m.study.instance_uid.as_deref() else {
        return Verdict::na("the manifest has no Study Instance UID");
    };
    let found = entry.reference_ids.iter().any(|r| {
        let mut f = r.split('^');
        f.next() == Some(study) && r.ends_with(e::REFERENCE_ID_STUDY_INSTANCE_UID)
    });
    if found {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("{study}^^^^{}", e::REFERENCE_ID_STUDY_INSTANCE_UID),
            format!("referenceIdList [{}]", entry.reference_ids.join(", ")),
        )
    }
}

/// XDSI-08: eventCodeList holds a code for each modality of the referenced series.
pub(super) fn xdsi_08(s: &Subject<'_>) -> Verdict {
    let modalities = &s.expect.xds.modalities;
    if modalities.is_empty() {
        return Verdict::na("the scenario does not know the study's modalities");
    }
    let (_, entry) = match manifest_and_entry(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let codes: BTreeSet<&str> = entry.event_codes.iter().map(|c| c.code.as_str()).collect();
    let missing: Vec<&String> = modalities
        .iter()
        .filter(|md| !codes.contains(md.as_str()))
        .collect();
    if missing.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "event codes for modalities {}",
                modalities.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            format!(
                "eventCodeList [{}], missing {}",
                codes.iter().copied().collect::<Vec<_>>().join(", "),
                missing
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}
