//! MHD Provide Document Bundle (ITI-65) with the harness as Document Source: new manifests and reports
//! provided, refused when broken, replaced, and found and retrieved again.

use super::*;

// ---------------------------------------------------------------------------------------------
// ITI-65

pub(super) fn fresh_seed(world: &HarnessWorld, what: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{what}-{}-{}-{now}",
        std::process::id(),
        world.evidence.exchanges().len()
    )
}

/// A Patient reference on the SUT for the patient of `alias` (looked up by identifier).
pub(super) async fn patient_reference(
    world: &mut HarnessWorld,
    alias: &str,
    actor: &'static str,
) -> Result<String, StepError> {
    let c = client(world)?;
    let p = patient_of(world, alias)?;
    let token = format!("{}|{p}", patient_system(world));
    let ex = c.find_patient(&token, actor).await;
    let idx = record(world, ex)?;
    world
        .evidence
        .get(idx)
        .and_then(crate::actors::mhd::first_patient)
        .ok_or_else(|| {
            harness_error(
                world,
                "patient not found",
                format!("the SUT holds no Patient with identifier {token}"),
            )
        })
}

/// The spec of a new document of `kind` for study `alias`, with fresh identifiers.
pub(super) fn new_document(
    world: &mut HarnessWorld,
    alias: &str,
    kind: &str,
) -> Result<(crate::model::mhd_bundle::DocumentSpec, PublishedDoc), StepError> {
    use crate::model::fhir::{CodeableConcept, Coding, Extension, Identifier};
    let Some(base) = world.ctx.mhd_catalogue.doc(alias, kind).cloned() else {
        return Err(harness_error(
            world,
            "no such test document",
            format!("the test data has no {kind} document for study {alias}"),
        ));
    };
    let (bytes, uid) = if kind == "kos" {
        let old = crate::model::kos::parse(&base.bytes)
            .ok()
            .and_then(|m| m.sop_instance_uid)
            .unwrap_or_default();
        crate::test_data::fresh_manifest(&base.bytes, &old)
    } else {
        (
            base.bytes.to_vec(),
            crate::model::kos::seeded_uid(&fresh_seed(world, kind)),
        )
    };
    let d = &base.docref;
    let cc = |p: &str| -> CodeableConcept {
        d.pointer(p)
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    };
    let format: Coding = d
        .pointer("/content/0/format")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let related: Vec<Identifier> = d
        .pointer("/context/related")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("identifier").cloned())
                .filter_map(|i| serde_json::from_value(i).ok())
                .collect()
        })
        .unwrap_or_default();
    let extensions: Vec<Extension> = d
        .get("extension")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let period = d
        .pointer("/context/period/start")
        .and_then(Value::as_str)
        .map(str::to_string);
    let spec = crate::model::mhd_bundle::DocumentSpec {
        bytes: bytes.clone(),
        content_type: base.content_type.clone(),
        format,
        type_: cc("/type"),
        category: cc("/category/0"),
        master_identifier: format!("urn:oid:{uid}"),
        related,
        extensions,
        period_start: period.clone(),
        language: "en".into(),
        creation: period.unwrap_or_default(),
        ..crate::model::mhd_bundle::DocumentSpec::default()
    };
    let published = PublishedDoc {
        docref: serde_json::json!({"masterIdentifier": {"value": format!("urn:oid:{uid}")}}),
        bytes: Bytes::from(bytes),
        ..base
    };
    Ok((spec, published))
}

async fn provide(
    world: &mut HarnessWorld,
    alias: &str,
    kind: &str,
    mutate: Option<&str>,
    comprehensive: bool,
    replaces: Option<String>,
) -> StepResult {
    let c = client(world)?;
    let patient = patient_reference(world, alias, crate::actors::mhd::SOURCE).await?;
    let (mut doc, published) = new_document(world, alias, kind)?;
    // ITI TF-2 3.65.4.1.2.3: the replacement names the replaced DocumentReference, and the bundle
    // PATCHes that one to superseded.
    doc.relates_to = replaces.map(|target| ("replaces".to_string(), target));
    let seed = fresh_seed(world, "submission");
    let spec = crate::model::mhd_bundle::ProvideSpec {
        patient,
        comprehensive,
        submission_set_unique_id: format!("urn:oid:{}", crate::model::kos::seeded_uid(&seed)),
        source_id: format!("urn:oid:{}", crate::config::xds::DEFAULT_SOURCE_ID),
        date: doc.creation.clone(),
        documents: vec![doc],
        ..crate::model::mhd_bundle::ProvideSpec::default()
    };
    let mut bundle = crate::model::mhd_bundle::build_provide_bundle(&spec);
    let mut status = vec![200];
    match mutate {
        Some("no-submission-set") => {
            if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
                entries.retain(|e| {
                    e.pointer("/resource/resourceType").and_then(Value::as_str) != Some("List")
                });
            }
            status = vec![400, 422];
        }
        Some("no-status") => {
            // DocumentReference.status is 1..1 in FHIR R4: invalid for any FHIR server.
            if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
                for e in entries {
                    if e.pointer("/resource/resourceType").and_then(Value::as_str)
                        == Some("DocumentReference")
                    {
                        if let Some(r) = e.get_mut("resource").and_then(Value::as_object_mut) {
                            r.remove("status");
                        }
                    }
                }
            }
            status = vec![400, 422];
        }
        Some("wrong-hash") => {
            if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
                for e in entries {
                    if let Some(h) = e.pointer_mut("/resource/content/0/attachment/hash") {
                        *h = Value::String(crate::model::mhd_bundle::sha1_base64(
                            b"not the document",
                        ));
                    }
                }
            }
            status = vec![400, 422];
        }
        _ => {}
    }
    let ex = c.provide_bundle(&bundle, false).await;
    let idx = record(world, ex)?;
    world.mhd.expect = Expect {
        status,
        ..Expect::default()
    };
    world.mhd.provided = Some(published);
    world.mhd.last = Some(idx);
    Ok(())
}

#[when(expr = "the source provides a new KOS manifest of study {string}")]
async fn provide_kos(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "kos", None, false, None).await
}

#[when(
    expr = "the source provides a new KOS manifest of study {string} with the Comprehensive metadata"
)]
async fn provide_kos_comprehensive(world: &mut HarnessWorld, alias: String) -> StepResult {
    if !world
        .ctx
        .config
        .mhd
        .as_ref()
        .map(|m| m.comprehensive)
        .unwrap_or(false)
    {
        return Err(not_applicable(
            world,
            "Comprehensive Metadata not claimed",
            "the SUT profile does not claim the Comprehensive Metadata option ([mhd] comprehensive)",
        ));
    }
    provide(world, &alias, "kos", None, true, None).await
}

#[when(expr = "the source provides a new report of study {string}")]
async fn provide_report(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "report", None, false, None).await
}

#[when(expr = "the source provides a bundle of study {string} without its SubmissionSet")]
async fn provide_no_ss(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "kos", Some("no-submission-set"), false, None).await
}

#[when(expr = "the source provides a bundle of study {string} whose document hash is wrong")]
async fn provide_wrong_hash(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "kos", Some("wrong-hash"), false, None).await
}

#[then("the recipient accepts the bundle")]
async fn accepted(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["FHIR-01", "FHIR-02", "MHD-09"])
}

#[when(
    expr = "the source provides a bundle of study {string} whose DocumentReference has no status"
)]
async fn provide_no_status(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "kos", Some("no-status"), false, None).await
}

#[then("the recipient refuses the bundle with an OperationOutcome")]
async fn refused(world: &mut HarnessWorld) -> StepResult {
    let Some(idx) = world.mhd.last else {
        return Err(harness_error(
            world,
            "no MHD exchange",
            "a Then step ran before any MHD When step",
        ));
    };
    // A transaction is atomic: after the refusal nothing of the bundle can be found, by ITI-67
    // (DocumentReferences in any status) and ITI-66 (the SubmissionSet) by identifier.
    let c = client(world)?;
    let alias = provided(world)?.alias;
    let patient = patient_of(world, &alias)?;
    let sent = world
        .evidence
        .get(idx)
        .and_then(|e| serde_json::from_slice::<Value>(&e.request.body.kept).ok());
    let mut lookups = Vec::new();
    for r in sent.iter().flat_map(entry_resources) {
        match r.get("resourceType").and_then(Value::as_str) {
            Some("DocumentReference") => {
                if let Some(id) = r.pointer("/masterIdentifier/value").and_then(Value::as_str) {
                    lookups.push((true, id.to_string()));
                }
            }
            Some("List") => {
                for id in array_at(r, "identifier")
                    .iter()
                    .filter_map(|i| i.get("value").and_then(Value::as_str))
                {
                    lookups.push((false, id.to_string()));
                }
            }
            _ => {}
        }
    }
    let mut followups = Vec::new();
    for (docref, id) in lookups {
        let ex = if docref {
            let params = vec![
                patient_param(world, &patient),
                (
                    "status".to_string(),
                    "current,superseded,entered-in-error".to_string(),
                ),
                ("identifier".to_string(), id),
            ];
            c.find_document_references(&params, false, false).await
        } else {
            let params = vec![
                patient_param(world, &patient),
                ("code".to_string(), format!("{LIST_TYPES}|submissionset")),
                ("status".to_string(), "current".to_string()),
                ("identifier".to_string(), id),
            ];
            c.find_lists(&params, false).await
        };
        let f = record(world, ex)?;
        if let Some(ex) = world.evidence.get(f) {
            followups.push(ex.clone());
        }
    }
    let expect = world.mhd.expect.clone();
    judge(world, idx, &expect, &followups, &["MHD-20"])
}

/// The document the harness provided last, or a harness error.
fn provided(world: &mut HarnessWorld) -> Result<PublishedDoc, StepError> {
    match world.mhd.provided.clone() {
        Some(p) => Ok(p),
        None => Err(harness_error(
            world,
            "nothing provided",
            "provide a document first",
        )),
    }
}

/// ITI-67 by the patient of `p`'s study, `status` and `p`'s masterIdentifier, judged: the answer
/// holds `p` when `present`, else it must not. Returns `p`'s DocumentReference when found.
async fn find_by_identifier(
    world: &mut HarnessWorld,
    p: &PublishedDoc,
    status: &str,
    present: bool,
) -> Result<Option<Value>, StepError> {
    let c = client(world)?;
    let patient = patient_of(world, &p.alias)?;
    let master = p.master_identifier().to_string();
    let params = vec![
        patient_param(world, &patient),
        ("status".to_string(), status.to_string()),
        ("identifier".to_string(), master.clone()),
    ];
    let mut patient_refs = patient_refs_of(world, &c, &params).await?;
    let ex = c.find_document_references(&params, false, false).await;
    let idx = record(world, ex)?;
    let pages = follow_pages(world, &c, idx, Transaction::Iti67, false).await?;
    complete_patient_refs(world, &c, &params, idx, &pages, &mut patient_refs).await?;
    let (known, absent) = if present {
        (BTreeSet::from([master.clone()]), BTreeSet::new())
    } else {
        (BTreeSet::new(), BTreeSet::from([master.clone()]))
    };
    world.mhd.expect = Expect {
        status: vec![200],
        mhd: MhdExpect {
            search: params.clone(),
            known_matches: Some(known),
            must_not_match: absent,
            patient_refs,
            ..MhdExpect::default()
        },
        ..Expect::default()
    };
    world.mhd.pages = pages;
    world.mhd.last = Some(idx);
    judge_last(world, SEARCH_CHECKS)?;
    Ok(hit_with_master(world, &master))
}

#[when("the source replaces the published document with a new version")]
async fn replace_published(world: &mut HarnessWorld) -> StepResult {
    let old = provided(world)?;
    let Some(id) = find_by_identifier(world, &old, "current", true)
        .await?
        .and_then(|d| d.get("id").and_then(Value::as_str).map(str::to_string))
    else {
        let search = world.mhd.last;
        return Err(absent_from_search(
            world,
            search,
            format!(
                "the published DocumentReference {}, with its id",
                old.master_identifier()
            ),
            "no such DocumentReference with an id in the search answer",
        ));
    };
    let target = format!("DocumentReference/{id}");
    provide(world, &old.alias, old.kind, None, false, Some(target)).await?;
    world.mhd.replaced = Some(old);
    Ok(())
}

#[then("the replaced document is superseded and its replacement is current")]
async fn replaced_superseded(world: &mut HarnessWorld) -> StepResult {
    let new = provided(world)?;
    let Some(old) = world.mhd.replaced.clone() else {
        return Err(harness_error(
            world,
            "nothing replaced",
            "replace a document first",
        ));
    };
    // ITI TF-2 3.65.4.1.3.2: the Recipient marks the replaced document superseded.
    find_by_identifier(world, &new, "current", true).await?;
    find_by_identifier(world, &old, "current", false).await?;
    find_by_identifier(world, &old, "superseded", true).await?;
    Ok(())
}

#[then("the published document can be found and retrieved unchanged")]
async fn found_unchanged(world: &mut HarnessWorld) -> StepResult {
    let p = provided(world)?;
    let Some(docref) = find_by_identifier(world, &p, "current", true).await? else {
        let search = world.mhd.last;
        return Err(absent_from_search(
            world,
            search,
            format!("the published DocumentReference {}", p.master_identifier()),
            "absent from the search answer",
        ));
    };
    fetch(world, docref, None, "provided", None).await?;
    // The bytes must be the ones sent, whatever the DocumentReference now says.
    world.mhd.expect.mhd.document = Some(ExpectedDocument {
        content_type: Some(p.content_type.clone()),
        size: Some(p.bytes.len() as u64),
        hash: Some(crate::model::mhd_bundle::sha1_base64(&p.bytes)),
    });
    judge_last(world, RETRIEVE_CHECKS)
}
