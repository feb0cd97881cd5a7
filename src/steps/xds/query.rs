//! XDS-I.b Registry Stored Query (ITI-18): FindDocuments, GetDocuments, GetAssociations and the
//! ObjectRef resolution, the matches judged against the manifests of the test studies.

use super::*;

// ---------------------------------------------------------------------------------------------
// ITI-18 Registry Stored Query

#[when(expr = "the consumer finds the manifests of the patient of study {string}")]
async fn find_manifests(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], "LeafClass");
    let x = XdsExpect {
        matches: Some(patient_manifests(world, &k.patient_id, None)),
        tolerated: submitted_for(world, &k.patient_id, None),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocuments (manifests of a patient)", x).await
}

#[when(
    expr = "the consumer finds the manifests of the patient of study {string} as object references"
)]
async fn find_manifests_refs(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], "ObjectRef");
    let x = XdsExpect {
        matches: Some(patient_manifests(world, &k.patient_id, None)),
        tolerated: submitted_for(world, &k.patient_id, None),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocuments (ObjectRef)", x).await?;
    resolve_object_refs(world).await
}

/// The references of the last ObjectRef answer, resolved with a LeafClass GetDocuments by
/// entryUUID (ITI TF-2 3.18.4.1.2.3.7.5), so that what they name is judged, not their count. The
/// references of each community go in one query naming it (3.18.4.1.2.3.7.5 note 2: the consumer
/// gives the homeCommunityId it received with them). A registry refuses a LeafClass GetDocuments
/// whose entries span patients with XDSResultNotSinglePatient (note 3): the references are then
/// resolved one by one, and that refusal is judged right when they do span patients. Each answer
/// is judged as the answer to its own query (XDSI-01, ITI18-10, XDSI-12); when the references
/// cannot be resolved (a refusal, an unreadable answer, references given back as references),
/// that breach is the GetDocuments answer's, and the ObjectRef answer is judged on its count.
async fn resolve_object_refs(world: &mut HarnessWorld) -> StepResult {
    let Some(idx) = world.xds.last else {
        return Ok(());
    };
    let refs: Vec<e::ObjectRef> = world
        .evidence
        .get(idx)
        .and_then(|ex| SutMessage::of(ex).ok())
        .and_then(|m| m.message().ok())
        .map(|m| match m {
            Message::AdhocQueryResponse(r) if r.objects.extrinsic_objects.is_empty() => {
                r.objects.object_refs
            }
            _ => Vec::new(),
        })
        .unwrap_or_default();
    let mut by_home: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for r in refs {
        if let Some(id) = r.id.filter(|i| !i.trim().is_empty()) {
            let home = r.home.filter(|h| !h.trim().is_empty());
            by_home.entry(home).or_default().push(id);
        }
    }
    if by_home.is_empty() {
        return Ok(());
    }
    let c = client(world)?;
    let mut entries = Vec::new();
    let mut resolved = true;
    for (home, ids) in by_home {
        let Some((r, got)) = get_documents(world, &c, &ids, &home).await? else {
            return Ok(());
        };
        let not_single = got.refusal.iter().any(|x| x == "XDSResultNotSinglePatient");
        if !not_single || ids.len() < 2 {
            judge_resolved(world, r)?;
            resolved &= got.entries.is_some();
            entries.extend(got.entries.unwrap_or_default());
            continue;
        }
        // The references span patients, says the registry: one query each tells which.
        let mut patients = BTreeSet::new();
        for id in ids.iter().take(MAX_SINGLE_RESOLUTIONS) {
            let Some((r1, one)) = get_documents(world, &c, std::slice::from_ref(id), &home).await?
            else {
                return Ok(());
            };
            judge_resolved(world, r1)?;
            resolved &= one.entries.is_some();
            for d in one.entries.unwrap_or_default() {
                patients.extend(d.patient_id.clone());
                entries.push(d);
            }
        }
        resolved &= ids.len() <= MAX_SINGLE_RESOLUTIONS;
        // XDSResultNotSinglePatient is the answer owed when they do span patients.
        judge(
            world,
            r,
            &resolution_expect(patients.len() > 1),
            &[],
            &["XDSI-01"],
        )?;
    }
    world.xds.expect.xds.resolved = resolved.then_some(entries);
    world.xds.expect.xds.resolution_refusal = None;
    Ok(())
}

/// How many references of one ObjectRef answer the harness resolves one by one.
const MAX_SINGLE_RESOLUTIONS: usize = 50;

/// What a resolving GetDocuments must answer: Success (PartialSuccess from a gateway), or, for
/// references that span patients, Failure with XDSResultNotSinglePatient (ITI TF-2
/// 3.18.4.1.2.3.7.5 note 3).
fn resolution_expect(spans_patients: bool) -> Expect {
    let xds = if spans_patients {
        XdsExpect {
            statuses: vec![e::RESPONSE_FAILURE.into()],
            error_codes: vec!["XDSResultNotSinglePatient".into()],
            reason: "a LeafClass GetDocuments of entries of several patients".into(),
            ..XdsExpect::default()
        }
    } else {
        XdsExpect {
            statuses: vec![
                e::RESPONSE_SUCCESS.into(),
                e::RESPONSE_PARTIAL_SUCCESS.into(),
            ],
            reason: "GetDocuments by the entryUUIDs the registry returned".into(),
            ..XdsExpect::default()
        }
    };
    Expect {
        xds,
        ..Expect::default()
    }
}

/// Judge resolving GetDocuments `idx` of references of one patient: its status (XDSI-01), the full
/// objects of its LeafClass answer (ITI18-10), entries that match the query (XDSI-12).
fn judge_resolved(world: &mut HarnessWorld, idx: usize) -> StepResult {
    judge(
        world,
        idx,
        &resolution_expect(false),
        &[],
        &["XDSI-01", "ITI18-10", "XDSI-12"],
    )
}

/// What one resolving GetDocuments gave: the entries, when the answer resolves the references
/// (None for a refusal, an unreadable answer, or references given back as references), and the
/// error codes of a refusal.
struct Resolution {
    entries: Option<Vec<e::DocumentEntry>>,
    refusal: Vec<String>,
}

/// Send a LeafClass GetDocuments of `ids` in community `home` and read its answer. None when the
/// harness has no registry to send it to.
async fn get_documents(
    world: &mut HarnessWorld,
    c: &XdsClient,
    ids: &[String],
    home: &Option<String>,
) -> Result<Option<(usize, Resolution)>, StepError> {
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut q = AdhocQueryRequest::get_documents_by_uuid(&refs, "LeafClass");
    q.home = home.clone();
    let Ok(ex) = c
        .stored_query(&q, "GetDocuments (the ObjectRefs of the answer, resolved)")
        .await
    else {
        return Ok(None);
    };
    let r = record(world, ex)?;
    let answer = world
        .evidence
        .get(r)
        .and_then(|ex| SutMessage::of(ex).ok())
        .and_then(|m| m.message().ok());
    let got = match answer {
        Some(Message::AdhocQueryResponse(a))
            if a.response.status.as_deref() == Some(e::RESPONSE_FAILURE) =>
        {
            Resolution {
                entries: None,
                refusal: a
                    .response
                    .errors
                    .iter()
                    .filter_map(|er| er.error_code.clone())
                    .collect(),
            }
        }
        Some(Message::AdhocQueryResponse(a)) => {
            // A reference answered with a reference resolves nothing.
            let echoed = a
                .objects
                .object_refs
                .iter()
                .any(|o| o.id.as_deref().is_some_and(|i| ids.iter().any(|x| x == i)));
            Resolution {
                entries: (!echoed).then(|| a.objects.document_entries()),
                refusal: Vec::new(),
            }
        }
        _ => Resolution {
            entries: None,
            refusal: Vec::new(),
        },
    };
    Ok(Some((r, got)))
}

#[when(expr = "the consumer finds the {word} manifests of the patient of study {string}")]
async fn find_manifests_modality(
    world: &mut HarnessWorld,
    modality: String,
    alias: String,
) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let mut q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], "LeafClass");
    q.params.push(QueryParam {
        name: "$XDSDocumentEntryEventCodeList".into(),
        values: vec![e::quote_list(&[e::query_code(
            &modality,
            "1.2.840.10008.2.16.4",
        )])],
    });
    let x = XdsExpect {
        matches: Some(patient_manifests(world, &k.patient_id, Some(&modality))),
        tolerated: submitted_for(world, &k.patient_id, None),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocuments (by modality event code)", x).await
}

#[when("the consumer finds the manifests of an unknown patient")]
async fn find_unknown_patient(world: &mut HarnessWorld) -> StepResult {
    let cx = patient_cx(world, UNKNOWN_PATIENT);
    let q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], "LeafClass");
    let x = XdsExpect {
        matches: Some(BTreeSet::new()),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocuments (unknown patient)", x).await
}

#[when("the consumer sends FindDocuments without a patient id")]
async fn find_without_patient(world: &mut HarnessWorld) -> StepResult {
    let mut q = AdhocQueryRequest::find_documents("x", &[e::STATUS_APPROVED], &[], "LeafClass");
    q.params.retain(|p| p.name != "$XDSDocumentEntryPatientId");
    run_query(
        world,
        q,
        "FindDocuments (no patient id)",
        XdsExpect::default(),
    )
    .await
}

#[when("the consumer sends a stored query with an unknown query id")]
async fn unknown_query(world: &mut HarnessWorld) -> StepResult {
    let mut q = AdhocQueryRequest::get_documents_by_unique_id(&[UNKNOWN_DOCUMENT], "LeafClass");
    q.query_id = Some("urn:uuid:00000000-0000-4000-8000-000000000000".into());
    run_query(world, q, "unknown stored query", XdsExpect::default()).await
}

#[when(
    expr = "the consumer sends GetDocuments naming both a uniqueId and an entryUUID for study {string}"
)]
async fn get_documents_both(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let mut q = AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass");
    q.params.push(QueryParam {
        name: "$XDSDocumentEntryEntryUUID".into(),
        values: vec![e::quote_list(&[
            "urn:uuid:6a3f2b9e-1c4d-4e5f-8a7b-9c0d1e2f3a4b",
        ])],
    });
    run_query(
        world,
        q,
        "GetDocuments (both parameters)",
        XdsExpect::default(),
    )
    .await
}

#[when(expr = "the consumer gets the manifest of study {string} by its uniqueId")]
async fn get_manifest(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let q = AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass");
    let x = XdsExpect {
        matches: Some(BTreeSet::from([k.sop_uid.clone()])),
        ..XdsExpect::default()
    };
    run_query(world, q, "GetDocuments (by uniqueId)", x).await
}

#[when(expr = "the consumer finds the manifest of study {string} by its Study Instance UID")]
async fn find_by_reference(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let mut q = AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[], "LeafClass");
    q.query_id = Some(e::SQ_FIND_DOCUMENTS_BY_REFERENCE_ID.into());
    q.params.push(QueryParam {
        name: "$XDSDocumentEntryReferenceIdList".into(),
        values: vec![e::quote_list(&[format!(
            "{}^^^^{}",
            k.study_uid,
            e::REFERENCE_ID_STUDY_INSTANCE_UID
        )])],
    });
    let x = XdsExpect {
        matches: Some(BTreeSet::from([k.sop_uid.clone()])),
        tolerated: submitted_for(world, &k.patient_id, Some(&k.study_uid)),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocumentsByReferenceId (study)", x).await
}

#[when("the consumer asks for the associations of that manifest")]
async fn get_associations(world: &mut HarnessWorld) -> StepResult {
    let Some(uuid) = world.xds.entries.first().and_then(|d| d.entry_uuid.clone()) else {
        // The GetDocuments before this step found no entry (or one without entryUUID) for a
        // manifest the registry holds: nothing to ask associations of.
        let Some(idx) = world.xds.last else {
            return Err(harness_error(
                world,
                "no manifest entry",
                "no stored query was sent before this step",
            ));
        };
        return Err(stop_on_answer(
            world,
            idx,
            "XDSI-02",
            "the manifest's DocumentEntry, with its entryUUID",
            "no DocumentEntry with an entryUUID in the answer".into(),
        ));
    };
    let q = AdhocQueryRequest {
        return_type: Some("LeafClass".into()),
        return_composed_objects: Some("true".into()),
        query_id: Some(e::SQ_GET_ASSOCIATIONS.into()),
        home: None,
        params: vec![QueryParam {
            name: "$uuid".into(),
            values: vec![e::quote_list(&[uuid])],
        }],
    };
    run_query(world, q, "GetAssociations", XdsExpect::default()).await
}

#[then("the query returns exactly the matching manifests")]
async fn query_matches(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-02", "XDSI-12"])
}

#[then("the result holds the submission set association of the manifest")]
async fn has_association(world: &mut HarnessWorld) -> StepResult {
    let idx = last(world)?;
    let found = world
        .evidence
        .get(idx)
        .and_then(|ex| SutMessage::of(ex).ok())
        .and_then(|m| m.message().ok())
        .map(|m| match m {
            Message::AdhocQueryResponse(r) => r
                .objects
                .associations
                .iter()
                .any(|a| a.association_type.as_deref() == Some(e::ASSOC_HAS_MEMBER)),
            _ => false,
        })
        .unwrap_or(false);
    world.xds.expect.xds.statuses = vec![e::RESPONSE_SUCCESS.into()];
    judge_xds(world, &["XDSI-01"])?;
    if !found {
        // ITI TF-2 3.18.4.1.2.3.7.7: GetAssociations returns the associations of the entry, and
        // every DocumentEntry is a HasMember of its SubmissionSet (ITI TF-3 4.2.2.1).
        fail_continue(
            world,
            "XDSI-02",
            Some(idx),
            "the HasMember association of the SubmissionSet to the entry (GetAssociations, ITI TF-2 3.18.4.1.2.3.7.7)",
            "no HasMember association in the answer",
        );
    }
    Ok(())
}
