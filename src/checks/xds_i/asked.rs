//! The checks of a SUT that acts first: a source publishes the manifest it was asked to (XDSI-15),
//! a consumer queries and retrieves what it was asked about (XDSI-16).

use super::*;

/// XDSI-15: an Imaging Document Source asked to publish the manifest of a study publishes that
/// study's manifest, for its patient.
pub(super) fn xdsi_15(s: &Subject<'_>) -> Verdict {
    let Some(asked) = &s.expect.xds.asked else {
        return Verdict::na("the SUT was not asked to publish a given study");
    };
    if s.exchange.direction != Direction::Inbound {
        return Verdict::na("not a request of the SUT");
    }
    let msg = match SutMessage::of(s.exchange) {
        Ok(m) => m,
        Err(err) => return Verdict::na(format!("no SOAP message: {err}")),
    };
    let Ok(Message::ProvideAndRegister(p)) = msg.message() else {
        return Verdict::na("not a Provide and Register request");
    };
    let mut bad = Vec::new();
    let sets: Vec<e::SubmissionSet> = p
        .submit
        .objects
        .submission_set_packages()
        .into_iter()
        .map(|o| o.submission_set())
        .collect();
    for ss in &sets {
        if ss.patient_id.as_deref().map(str::trim) != Some(asked.patient.as_str()) {
            bad.push(format!(
                "SubmissionSet patientId {}",
                ss.patient_id.as_deref().unwrap_or("(none)")
            ));
        }
    }
    let mut manifests = 0;
    for eo in &p.submit.objects.extrinsic_objects {
        let d = eo.document_entry();
        let who = d.unique_id.clone().unwrap_or_else(|| "an entry".into());
        if d.patient_id.as_deref().map(str::trim) != Some(asked.patient.as_str()) {
            bad.push(format!(
                "{who}: patientId {}",
                d.patient_id.as_deref().unwrap_or("(none)")
            ));
        }
        let bytes = p
            .documents
            .iter()
            .find(|doc| doc.id.is_some() && doc.id == eo.id)
            .and_then(|doc| document_bytes(&msg, &doc.content));
        if let Some(study) = bytes
            .as_deref()
            .and_then(|b| kos::parse(b).ok())
            .and_then(|m| m.study.instance_uid)
        {
            manifests += 1;
            if study != asked.study {
                bad.push(format!("{who}: the manifest of study {study}"));
            }
        }
    }
    if manifests == 0 && bad.is_empty() {
        return Verdict::fail(
            format!("the manifest of study {}", asked.study),
            "no manifest (KOS) in the submission",
        );
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "the manifest of study {} for patient {}",
                asked.study, asked.patient
            ),
            bad.join("; "),
        )
    }
}

/// XDSI-16: a Document Consumer asked to find the manifests of a patient queries for that
/// patient; asked to retrieve a manifest, it asks for that manifest at its repository.
pub(super) fn xdsi_16(s: &Subject<'_>) -> Verdict {
    let Some(asked) = &s.expect.xds.asked else {
        return Verdict::na("the SUT was not asked about a given patient or manifest");
    };
    if s.exchange.direction != Direction::Inbound {
        return Verdict::na("not a request of the SUT");
    }
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return v,
    };
    match m {
        Message::AdhocQueryRequest(q) => {
            const PATIENT: &[&str] = &[
                "$XDSDocumentEntryPatientId",
                "$patientId",
                "$XDSSubmissionSetPatientId",
                "$XDSFolderPatientId",
            ];
            let named: Vec<String> = q
                .params
                .iter()
                .filter(|p| PATIENT.contains(&p.name.trim()))
                .flat_map(identity::slot_values)
                .collect();
            let expected = format!("a query for patient {}", asked.patient);
            if named.is_empty() {
                Verdict::fail(expected, "a query naming no patient")
            } else if named.iter().all(|p| p.trim() == asked.patient) {
                Verdict::Pass
            } else {
                Verdict::fail(
                    expected,
                    format!("a query for patient {}", named.join(", ")),
                )
            }
        }
        Message::RetrieveDocumentSetRequest(r) => {
            let bad: Vec<String> = r
                .documents
                .iter()
                .filter(|d| {
                    d.document_unique_id.as_deref().map(str::trim) != Some(asked.manifest.as_str())
                        || d.repository_unique_id.as_deref().map(str::trim)
                            != Some(asked.repository.as_str())
                })
                .map(|d| {
                    format!(
                        "{} at {}",
                        d.document_unique_id
                            .as_deref()
                            .unwrap_or("(no DocumentUniqueId)"),
                        d.repository_unique_id
                            .as_deref()
                            .unwrap_or("(no RepositoryUniqueId)")
                    )
                })
                .collect();
            if bad.is_empty() && !r.documents.is_empty() {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!(
                        "manifest {} at repository {}",
                        asked.manifest, asked.repository
                    ),
                    if bad.is_empty() {
                        "no DocumentRequest".to_string()
                    } else {
                        bad.join("; ")
                    },
                )
            }
        }
        _ => Verdict::na("not an ITI-18 or ITI-43 request"),
    }
}
