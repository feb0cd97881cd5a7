//! XDS-I.b Retrieve Document Set (ITI-43) of the manifests and Retrieve Imaging Document Set (RAD-69)
//! of the instances they reference.

use super::*;

// ---------------------------------------------------------------------------------------------
// ITI-43 Retrieve Document Set

/// The entry of the fixture manifest among `entries`: by its uniqueId, or else by its study
/// reference (a source may register a manifest under another uniqueId), leaving aside the
/// manifests the harness itself registered during the run.
fn describing<'a>(
    entries: &'a [e::DocumentEntry],
    k: &FixtureInstance,
    ours: &BTreeSet<String>,
) -> Option<&'a e::DocumentEntry> {
    entries
        .iter()
        .find(|d| d.unique_id.as_deref() == Some(k.sop_uid.as_str()))
        .or_else(|| {
            entries.iter().find(|d| {
                !d.unique_id.as_ref().is_some_and(|u| ours.contains(u))
                    && d.reference_ids.iter().any(|r| {
                        r.split('^').next() == Some(k.study_uid.as_str())
                            && r.ends_with(e::REFERENCE_ID_STUDY_INSTANCE_UID)
                    })
            })
        })
}

/// What the registry says about the fixture manifest.
enum Lookup {
    /// Its DocumentEntry.
    Found(Box<e::DocumentEntry>),
    /// The profile declares no registry to ask.
    NoRegistry,
    /// The registry answered, without it: the index of its last answer.
    NotFound(usize),
}

/// The registry's DocumentEntry of the fixture manifest: from the last query, else found as a
/// consumer finds it (GetDocuments by uniqueId, then the patient's manifests by study reference).
async fn manifest_entry(
    world: &mut HarnessWorld,
    k: &FixtureInstance,
) -> Result<Lookup, StepError> {
    let ours = submitted_for(world, &k.patient_id, None);
    if let Some(d) = describing(&world.xds.entries, k, &ours) {
        return Ok(Lookup::Found(Box::new(d.clone())));
    }
    let c = client(world)?;
    let cx = patient_cx(world, &k.patient_id);
    let queries = [
        (
            AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass"),
            "GetDocuments (metadata of the manifest)",
        ),
        (
            AdhocQueryRequest::find_documents(
                &cx,
                &[e::STATUS_APPROVED],
                &[kos_format()],
                "LeafClass",
            ),
            "FindDocuments (manifests of the patient)",
        ),
    ];
    let mut last = None;
    for (q, op) in queries {
        let Ok(ex) = c.stored_query(&q, op).await else {
            return Ok(Lookup::NoRegistry);
        };
        let idx = record(world, ex)?;
        last = Some(idx);
        let entries = world
            .evidence
            .get(idx)
            .and_then(|ex| SutMessage::of(ex).ok())
            .and_then(|m| m.message().ok())
            .map(|m| match m {
                Message::AdhocQueryResponse(r) => r.objects.document_entries(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        if let Some(d) = describing(&entries, k, &ours) {
            let d = d.clone();
            world.xds.entries = entries;
            return Ok(Lookup::Found(Box::new(d)));
        }
    }
    Ok(last.map(Lookup::NotFound).unwrap_or(Lookup::NoRegistry))
}

pub(super) async fn retrieve(
    world: &mut HarnessWorld,
    docs: Vec<DocumentRequest>,
    mut x: XdsExpect,
    operation: &str,
) -> StepResult {
    let c = client(world)?;
    let r = RetrieveDocumentSetRequest { documents: docs };
    // The documents are digested as they stream, so their SHA-1 is judged whatever their size.
    let (ex, digests) = match c.retrieve_documents_digested(&r, operation).await {
        Ok(x) => x,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no Document Repository",
                &err.to_string(),
            ))
        }
    };
    x.streamed = digests;
    record_xds(world, ex, x)
}

#[when(expr = "the consumer retrieves the manifest of study {string} from the repository")]
async fn retrieve_manifest(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let insts = study_instances(world, &alias)?;
    let entry = match manifest_entry(world, &k).await? {
        Lookup::Found(d) => Some(*d),
        Lookup::NoRegistry => None,
        Lookup::NotFound(idx) => {
            // The registry holds the manifest (the test data) but neither GetDocuments nor
            // FindDocuments returns it: a breach of its own (of the message rule it breaks, when
            // the answer is not a registry response); the repository is still judged, against
            // what the harness knows.
            let (check, expected, actual) = answer_problem(world, idx).unwrap_or((
                "XDSI-02",
                format!("the DocumentEntry of the manifest of study {alias}"),
                "neither GetDocuments by its uniqueId nor FindDocuments for its patient returns it"
                    .to_string(),
            ));
            fail_continue(world, check, Some(idx), expected, actual);
            None
        }
    };
    let c = client(world)?;
    let repo = entry
        .as_ref()
        .and_then(|d| d.repository_unique_id.clone())
        .unwrap_or_else(|| c.cfg.repository_unique_id.clone());
    let uid = entry
        .as_ref()
        .and_then(|d| d.unique_id.clone())
        .unwrap_or_else(|| k.sop_uid.clone());
    let mut documents = BTreeMap::new();
    if let Some(d) = &entry {
        documents.insert(
            uid.clone(),
            RegisteredDoc {
                mime_type: d.mime_type.clone(),
                hash: d.hash.clone(),
                size: d.size.as_deref().and_then(|s| s.trim().parse().ok()),
            },
        );
    }
    // The consumer names the community of an entry that has one (ITI TF-2 3.43.4.1.1).
    let home = entry
        .as_ref()
        .and_then(|d| d.home_community_id.clone())
        .filter(|h| !h.trim().is_empty());
    let x = XdsExpect {
        documents,
        entry,
        modalities: modalities(&insts),
        ..XdsExpect::default()
    };
    retrieve(
        world,
        vec![DocumentRequest {
            home_community_id: home,
            ..crate::actors::xds::doc_request(&repo, &uid)
        }],
        x,
        "Retrieve Document Set (manifest)",
    )
    .await
}

#[when("the consumer retrieves an unknown document from the repository")]
async fn retrieve_unknown(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let repo = c.cfg.repository_unique_id.clone();
    retrieve(
        world,
        vec![crate::actors::xds::doc_request(&repo, UNKNOWN_DOCUMENT)],
        XdsExpect::default(),
        "Retrieve Document Set (unknown document)",
    )
    .await
}

#[when(expr = "the consumer retrieves the manifest of study {string} and an unknown document")]
async fn retrieve_partial(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let c = client(world)?;
    let repo = c.cfg.repository_unique_id.clone();
    retrieve(
        world,
        vec![
            crate::actors::xds::doc_request(&repo, &k.sop_uid),
            crate::actors::xds::doc_request(&repo, UNKNOWN_DOCUMENT),
        ],
        XdsExpect::default(),
        "Retrieve Document Set (one known, one unknown)",
    )
    .await
}

#[when(expr = "the consumer retrieves the manifest of study {string} from an unknown repository")]
async fn retrieve_unknown_repo(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    retrieve(
        world,
        vec![crate::actors::xds::doc_request(
            UNKNOWN_REPOSITORY,
            &k.sop_uid,
        )],
        XdsExpect::default(),
        "Retrieve Document Set (unknown repository)",
    )
    .await
}

#[then("the repository returns the manifest as registered")]
async fn returns_registered(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-13", "XDSI-03", "XDSI-04"])
}

#[then("the manifest agrees with its registry metadata")]
async fn agrees_with_metadata(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-05", "XDSI-06", "XDSI-07", "XDSI-08"])
}

// ---------------------------------------------------------------------------------------------
// RAD-69 Retrieve Imaging Document Set

fn parse_ts_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Which of these instances a conformant source returns for this transfer syntax list: the
/// stored syntax, or Explicit VR Little Endian (every fixture has an uncompressed form).
fn returnable(insts: &[&FixtureInstance], ts: &[String]) -> BTreeSet<String> {
    insts
        .iter()
        .filter(|i| ts.contains(&i.transfer_syntax) || ts.iter().any(|t| t == ELE))
        .map(|i| i.sop_uid.clone())
        .collect()
}

async fn rad69(
    world: &mut HarnessWorld,
    r: RetrieveImagingDocumentSetRequest,
    x: XdsExpect,
    operation: &str,
) -> StepResult {
    let c = client(world)?;
    let ex = match c.retrieve_imaging(&r, operation).await {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no Imaging Document Source",
                &err.to_string(),
            ))
        }
    };
    record_xds(world, ex, x)
}

/// A RAD-69 request for these instances, grouped by study and series.
#[when(
    expr = "the imaging consumer retrieves series {int} of study {string} in transfer syntaxes {string}"
)]
async fn rad69_series(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    ts: String,
) -> StepResult {
    let ts = parse_ts_list(&ts);
    let fx = world.ctx.clone();
    let Some(s) = fx.fixtures.study(&alias) else {
        return Err(harness_error(world, "unknown fixture study", alias));
    };
    let insts = s.series_by_number(series);
    if insts.is_empty() {
        return Err(harness_error(
            world,
            "unknown fixture series",
            format!("{alias} {series}"),
        ));
    }
    let c = client(world)?;
    let repo = c.cfg.imaging_source_unique_id.clone();
    let triples: Vec<(String, String, String)> = insts
        .iter()
        .map(|i| (i.study_uid.clone(), i.series_uid.clone(), i.sop_uid.clone()))
        .collect();
    let x = XdsExpect {
        transfer_syntaxes: ts.clone(),
        requested: triples
            .iter()
            .map(|(st, se, sop)| (sop.clone(), (st.clone(), se.clone())))
            .collect(),
        returnable: Some(returnable(&insts, &ts)),
        ..XdsExpect::default()
    };
    rad69(
        world,
        crate::actors::xds::imaging_request(&triples, &repo, &ts),
        x,
        "Retrieve Imaging Document Set (series)",
    )
    .await
}

#[when(
    expr = "the imaging consumer asks for instance {int} of series {int} of study {string} under study {string}"
)]
async fn rad69_wrong_study(
    world: &mut HarnessWorld,
    number: i64,
    series: i64,
    alias: String,
    other: String,
) -> StepResult {
    let fx = world.ctx.clone();
    let (Some(s), Some(o)) = (fx.fixtures.study(&alias), fx.fixtures.study(&other)) else {
        return Err(harness_error(
            world,
            "unknown fixture study",
            format!("{alias} / {other}"),
        ));
    };
    let Some(inst) = s
        .series_by_number(series)
        .into_iter()
        .find(|i| i.instance_number == Some(number))
    else {
        return Err(harness_error(
            world,
            "unknown fixture instance",
            format!("{alias} {series} {number}"),
        ));
    };
    let other_series = o
        .series()
        .first()
        .map(|x| x.to_string())
        .unwrap_or_default();
    let c = client(world)?;
    let repo = c.cfg.imaging_source_unique_id.clone();
    let triple = (o.uid.to_string(), other_series, inst.sop_uid.clone());
    let ts = vec![ELE.to_string()];
    let x = XdsExpect {
        transfer_syntaxes: ts.clone(),
        requested: BTreeMap::from([(triple.2.clone(), (triple.0.clone(), triple.1.clone()))]),
        returnable: Some(BTreeSet::new()),
        ..XdsExpect::default()
    };
    rad69(
        world,
        crate::actors::xds::imaging_request(&[triple], &repo, &ts),
        x,
        "Retrieve Imaging Document Set (UID outside the study)",
    )
    .await
}

#[when(
    expr = "the imaging consumer retrieves series {int} of study {string} from an unknown imaging source"
)]
async fn rad69_unknown_repo(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let fx = world.ctx.clone();
    let Some(s) = fx.fixtures.study(&alias) else {
        return Err(harness_error(world, "unknown fixture study", alias));
    };
    let triples: Vec<(String, String, String)> = s
        .series_by_number(series)
        .iter()
        .map(|i| (i.study_uid.clone(), i.series_uid.clone(), i.sop_uid.clone()))
        .collect();
    let ts = vec![ELE.to_string()];
    let x = XdsExpect {
        transfer_syntaxes: ts.clone(),
        requested: triples
            .iter()
            .map(|(st, se, sop)| (sop.clone(), (st.clone(), se.clone())))
            .collect(),
        returnable: Some(BTreeSet::new()),
        ..XdsExpect::default()
    };
    rad69(
        world,
        crate::actors::xds::imaging_request(&triples, UNKNOWN_REPOSITORY, &ts),
        x,
        "Retrieve Imaging Document Set (unknown source)",
    )
    .await
}

#[when("the imaging consumer retrieves every instance the manifest references")]
async fn rad69_manifest(world: &mut HarnessWorld) -> StepResult {
    let Some(bytes) = world.xds.manifest.clone() else {
        let Some(idx) = world.xds.last else {
            return Err(harness_error(
                world,
                "no manifest",
                "no manifest was retrieved before this step",
            ));
        };
        // A KOS part the evidence did not keep whole is the harness's limit, not the SUT's.
        let too_large = world
            .evidence
            .get(idx)
            .and_then(|ex| ex.multipart.as_ref())
            .is_some_and(|mp| {
                mp.parts.iter().any(|p| {
                    p.document.is_none()
                        && p.dicom.as_ref().and_then(|d| d.sop_class.as_deref())
                            == Some(kos::KOS_SOP_CLASS)
                })
            });
        if too_large {
            return Err(harness_error(
                world,
                "manifest not kept",
                "the manifest is larger than the harness keeps of a document, so its references cannot be read",
            ));
        }
        return Err(stop_on_answer(
            world,
            idx,
            "KOS-01",
            "the manifest asked for, a DICOM KOS (RAD TF-2 4.68.4.1.2.1)",
            "no KOS manifest in the answer".into(),
        ));
    };
    let m = match kos::parse(&bytes) {
        Ok(m) => m,
        Err(err) => {
            let idx = world.xds.last;
            return Err(stop_once(
                world,
                "KOS-01",
                idx,
                "a KOS manifest that parses as DICOM PS3.10",
                err.to_string(),
            ));
        }
    };
    // RAD69-001: the repositoryUniqueId is the manifest's Retrieve Location UID.
    let mut triples = Vec::new();
    let mut by_repo: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for r in &m.evidence {
        let repo = r.retrieve_location_uid.clone().unwrap_or_default();
        let t = (
            r.study_uid.clone(),
            r.series_uid.clone(),
            r.sop_instance.clone(),
        );
        triples.push(t.clone());
        by_repo.entry(repo).or_default().push(t);
    }
    let fx = world.ctx.clone();
    let mut ts: Vec<String> = vec![ELE.to_string()];
    for (_, _, sop) in &triples {
        if let Some(i) = fx.fixtures.instances.iter().find(|i| &i.sop_uid == sop) {
            if !ts.contains(&i.transfer_syntax) {
                ts.push(i.transfer_syntax.clone());
            }
        }
    }
    let x = XdsExpect {
        transfer_syntaxes: ts.clone(),
        requested: triples
            .iter()
            .map(|(st, se, sop)| (sop.clone(), (st.clone(), se.clone())))
            .collect(),
        returnable: Some(triples.iter().map(|t| t.2.clone()).collect()),
        ..XdsExpect::default()
    };
    // The fixture manifests name one Imaging Document Source; a request goes to the first.
    let repo = match by_repo.into_keys().next() {
        Some(x) => x,
        None => {
            let idx = world.xds.last;
            return Err(stop_once(
                world,
                "KOS-05",
                idx,
                "a manifest referencing the instances of its study (Current Requested Procedure Evidence Sequence)",
                "the manifest references no instance",
            ));
        }
    };
    rad69(
        world,
        crate::actors::xds::imaging_request(&triples, &repo, &ts),
        x,
        "Retrieve Imaging Document Set (every referenced instance)",
    )
    .await
}

#[then("the imaging source returns exactly the requested instances it holds")]
async fn rad69_exact(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-13", "XDSI-09", "XDSI-10"])
}
