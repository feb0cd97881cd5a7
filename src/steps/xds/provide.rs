//! XDS-I.b Provide and Register Imaging Document Set (RAD-68) with the harness as Imaging Document
//! Source: new manifests submitted, refused when broken, and found and retrieved again.

use super::*;

// ---------------------------------------------------------------------------------------------
// RAD-68 Provide and Register Imaging Document Set (the harness is the Imaging Document Source)

/// How the harness breaks a submission, for the negative scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breakage {
    None,
    UnknownPatient,
    PatientMismatch,
    UniqueIdNotSop,
    WrongHash,
}

async fn provide(world: &mut HarnessWorld, alias: &str, how: Breakage) -> StepResult {
    let k = manifest_of(world, alias)?;
    let insts = study_instances(world, alias)?;
    let c = client(world)?;
    let bytes = match tokio::fs::read(world.ctx.fixtures.file(&k)).await {
        Ok(b) => b,
        Err(err) => return Err(harness_error(world, "fixture unreadable", err.to_string())),
    };
    let (fresh, fresh_uid) = crate::test_data::fresh_manifest(&bytes, &k.sop_uid);
    note_submitted(world, &k.patient_id, &k.study_uid, &fresh_uid);
    let unknown = patient_cx(world, UNKNOWN_PATIENT);
    let override_pid = (how == Breakage::UnknownPatient).then_some(unknown.as_str());
    let (mut pnr, atts) = match manifest_submission(&c.cfg, &fresh, &insts, override_pid) {
        Ok(x) => x,
        Err(err) => {
            return Err(harness_error(
                world,
                "submission not built",
                err.to_string(),
            ))
        }
    };
    for eo in &mut pnr.submit.objects.extrinsic_objects {
        for x in &mut eo.external_identifiers {
            if x.scheme.as_deref() == Some(e::DE_PATIENT_ID) && how == Breakage::PatientMismatch {
                // Another patient of the affinity domain: known, but not the submission set's.
                let other = another_patient(world, &k.patient_id);
                x.value = Some(c.cfg.patient_cx(&other));
            }
            if x.scheme.as_deref() == Some(e::DE_UNIQUE_ID) && how == Breakage::UniqueIdNotSop {
                x.value = Some(format!("{fresh_uid}.9"));
            }
        }
        if how == Breakage::WrongHash {
            for s in &mut eo.slots {
                if s.name == "hash" {
                    s.values = vec!["0000000000000000000000000000000000000000".into()];
                }
            }
        }
    }
    let ex = match c
        .provide_and_register(&pnr, &atts, "Provide and Register (manifest)")
        .await
    {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no Document Repository",
                &err.to_string(),
            ))
        }
    };
    world.xds.manifest = Some(Bytes::from(fresh));
    record_xds(world, ex, XdsExpect::default())?;
    // Remember the new manifest, and the metadata registered, for the follow-up steps.
    world.xds.entries.clear();
    world.xds.expect.xds.matches = Some(BTreeSet::from([fresh_uid]));
    world.xds.expect.xds.registered = pnr
        .submit
        .objects
        .extrinsic_objects
        .first()
        .map(|o| o.document_entry());
    Ok(())
}

#[when(expr = "the imaging source provides and registers a new manifest of study {string}")]
async fn provide_ok(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::None).await
}

#[when(
    expr = "the imaging source provides a new manifest of study {string} for an unknown patient"
)]
async fn provide_unknown_patient(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::UnknownPatient).await
}

#[when(
    expr = "the imaging source provides a new manifest of study {string} whose entry names another patient than its submission set"
)]
async fn provide_mismatch(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::PatientMismatch).await
}

#[when(
    expr = "the imaging source provides a new manifest of study {string} whose uniqueId is not its SOP Instance UID"
)]
async fn provide_uid_mismatch(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::UniqueIdNotSop).await
}

#[when(
    expr = "the imaging source provides a new manifest of study {string} with a hash that does not match it"
)]
async fn provide_wrong_hash(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::WrongHash).await
}

#[then("the consumer can find and retrieve the new manifest unchanged")]
async fn find_new(world: &mut HarnessWorld) -> StepResult {
    let Some(uid) = world
        .xds
        .expect
        .xds
        .matches
        .as_ref()
        .and_then(|m| m.iter().next().cloned())
    else {
        return Err(harness_error(
            world,
            "no new manifest",
            "nothing was submitted",
        ));
    };
    let bytes = world.xds.manifest.clone().unwrap_or_default();
    let registered = world.xds.expect.xds.registered.clone();
    let q = AdhocQueryRequest::get_documents_by_unique_id(&[&uid], "LeafClass");
    run_query(
        world,
        q,
        "GetDocuments (the new manifest)",
        XdsExpect {
            matches: Some(BTreeSet::from([uid.clone()])),
            statuses: vec![e::RESPONSE_SUCCESS.into()],
            registered,
            ..XdsExpect::default()
        },
    )
    .await?;
    // The metadata round trip: what the registry returns is what was registered.
    judge_xds(world, &["XDSI-01", "XDSI-02", "XDSI-12", "XDSI-14"])?;
    let repo = world
        .xds
        .entries
        .first()
        .and_then(|d| d.repository_unique_id.clone())
        .or_else(|| {
            world
                .ctx
                .xds
                .as_ref()
                .map(|c| c.cfg.repository_unique_id.clone())
        })
        .unwrap_or_default();
    let hash = e::document_hash(&bytes);
    let x = XdsExpect {
        statuses: vec![e::RESPONSE_SUCCESS.into()],
        documents: BTreeMap::from([(
            uid.clone(),
            RegisteredDoc {
                mime_type: Some(e::MIME_DICOM.into()),
                hash: Some(hash),
                size: Some(bytes.len() as u64),
            },
        )]),
        ..XdsExpect::default()
    };
    let home = world
        .xds
        .entries
        .first()
        .and_then(|d| d.home_community_id.clone())
        .filter(|h| !h.trim().is_empty());
    retrieve(
        world,
        vec![DocumentRequest {
            home_community_id: home,
            ..crate::actors::xds::doc_request(&repo, &uid)
        }],
        x,
        "Retrieve Document Set (the new manifest)",
    )
    .await?;
    judge_xds(world, &["XDSI-01", "XDSI-13", "XDSI-03", "XDSI-04"])
}
