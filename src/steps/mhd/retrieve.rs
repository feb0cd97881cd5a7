//! MHD Retrieve Document (ITI-68): the documents a search found, fetched and judged as their
//! DocumentReference describes them, with the MADO manifests and the HL7 Europe imaging report they
//! carry.

use super::*;

// ---------------------------------------------------------------------------------------------
// ITI-68

/// Find the DocumentReference of the catalogue document `kind` of `alias` on the SUT (ITI-67 by
/// patient and status, judged), then retrieve it (ITI-68) with `accept`.
async fn retrieve_doc(
    world: &mut HarnessWorld,
    alias: &str,
    kind: &str,
    accept: Option<&str>,
) -> StepResult {
    let Some(want) = world.ctx.mhd_catalogue.doc(alias, kind).cloned() else {
        return Err(not_applicable(
            world,
            "document not published",
            &format!("the test data publishes no {kind} document for study {alias}"),
        ));
    };
    if let Some(m) = &world.ctx.config.mhd {
        let published = match kind {
            "kos" => m.manifest_format.kos(),
            "fhir" => m.manifest_format.fhir(),
            _ => true,
        };
        if !published {
            return Err(not_applicable(
                world,
                "manifest format not published",
                &format!("the SUT profile says the SUT does not publish {kind} manifests"),
            ));
        }
    }
    let p = patient_of(world, alias)?;
    let mut extra = Vec::new();
    if want.status() != "current" {
        extra.push(("status".to_string(), want.status().to_string()));
    }
    let params = with_patient(world, &p, &extra);
    search(world, params.clone(), params, false, false).await?;
    let search_idx = world.mhd.last;
    let found = hit_with_master(world, want.master_identifier());
    let Some(docref) = found else {
        // The SUT does not list a document it holds: judge the search, which says so, and stop
        // on that breach.
        judge_last(world, SEARCH_CHECKS)?;
        return Err(absent_from_search(
            world,
            search_idx,
            format!(
                "the DocumentReference with masterIdentifier {}",
                want.master_identifier()
            ),
            "absent from the search answer",
        ));
    };
    fetch(world, docref, accept, kind, search_idx).await
}

/// Retrieve the document `docref` describes (ITI-68). `accept` None asks for the document itself:
/// its own content type, or `*/*` when that is a FHIR type, since a FHIR type in Accept asks a
/// FHIR server for the Binary resource instead (FHIR R4 binary.html#rest).
pub(super) async fn fetch(
    world: &mut HarnessWorld,
    docref: Value,
    accept: Option<&str>,
    kind: &str,
    _search: Option<usize>,
) -> StepResult {
    let c = client(world)?;
    let url = docref
        .pointer("/content/0/attachment/url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let content_type = docref
        .pointer("/content/0/attachment/contentType")
        .and_then(Value::as_str)
        .map(str::to_string);
    let accept = match accept {
        Some(a) => a.to_string(),
        None => document_accept(content_type.as_deref().unwrap_or("*/*")),
    };
    let (ex, digest) = c.retrieve_digested(&url, Some(&accept)).await;
    let idx = record(world, ex)?;
    world.mhd.pages.clear();
    world.mhd.cut = None;
    let expect = Expect {
        status: vec![200],
        mhd: MhdExpect {
            accept: Some(accept),
            streamed: Some(digest),
            document: Some(ExpectedDocument {
                content_type,
                size: docref
                    .pointer("/content/0/attachment/size")
                    .and_then(Value::as_u64),
                hash: docref
                    .pointer("/content/0/attachment/hash")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }),
            ..MhdExpect::default()
        },
        ..Expect::default()
    };
    let bytes = world
        .evidence
        .get(idx)
        .and_then(|e| e.response.as_ref())
        .map(|r| r.body.kept.clone())
        .unwrap_or_default();
    let got = Retrieved { idx, docref, bytes };
    match kind {
        "kos" => world.mhd.kos = Some(got),
        "fhir" => world.mhd.fhir = Some(got),
        "report" | "preliminary-report" => world.mhd.report = Some(got),
        _ => {}
    }
    world.mhd.expect = expect;
    world.mhd.last = Some(idx);
    Ok(())
}

#[when(expr = "the consumer retrieves the KOS manifest of study {string}")]
async fn retrieve_kos(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_doc(world, &alias, "kos", Some(mhd_content::DICOM)).await
}

#[when(expr = "the consumer retrieves the KOS manifest of study {string} accepting only {string}")]
async fn retrieve_kos_as(world: &mut HarnessWorld, alias: String, accept: String) -> StepResult {
    retrieve_doc(world, &alias, "kos", Some(&accept)).await
}

#[when(expr = "the consumer retrieves the FHIR manifest of study {string}")]
async fn retrieve_fhir(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_doc(world, &alias, "fhir", None).await
}

#[when(expr = "the consumer retrieves the report of study {string}")]
async fn retrieve_report(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_doc(world, &alias, "report", None).await
}

#[when("the consumer retrieves an unknown document")]
async fn retrieve_unknown(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let ex = c.retrieve("Binary/unknown-document-0000", None).await;
    let idx = record(world, ex)?;
    world.mhd.expect = Expect {
        status: vec![404],
        ..Expect::default()
    };
    world.mhd.last = Some(idx);
    Ok(())
}

#[then("the document is returned as its DocumentReference describes it")]
async fn returned_as_described(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, RETRIEVE_CHECKS)
}

#[then(expr = "the answer is {int} Not Acceptable")]
async fn answer_406(world: &mut HarnessWorld, status: u16) -> StepResult {
    world.mhd.expect.status = vec![status];
    judge_last(world, &["MHD-15"])
}

/// ITI-68 406 for a format the responder cannot supply, where a FHIR type in Accept also asks a
/// FHIR server for the Binary resource itself (FHIR R4 binary.html#rest): MHD-15 accepts either;
/// MHD-19 judges what a Binary resource carries.
#[then(expr = "the answer is {int} Not Acceptable, or the Binary resource that FHIR type asks for")]
async fn answer_406_or_binary(world: &mut HarnessWorld, status: u16) -> StepResult {
    world.mhd.expect.status = vec![status];
    judge_last(world, RETRIEVE_CHECKS)
}

#[then(expr = "the answer is {int} Not Found")]
async fn answer_404(world: &mut HarnessWorld, status: u16) -> StepResult {
    world.mhd.expect.status = vec![status];
    judge_last(world, &["MHD-15"])
}

// ---------------------------------------------------------------------------------------------
// Manifests (MADO)

/// The document of `kind` retrieved earlier in the scenario, or a harness error saying so.
fn retrieved(world: &mut HarnessWorld, kind: &str) -> Result<Retrieved, StepError> {
    let got = match kind {
        "kos" => world.mhd.kos.clone(),
        "fhir" => world.mhd.fhir.clone(),
        _ => world.mhd.report.clone(),
    };
    got.ok_or_else(|| {
        harness_error(
            world,
            "nothing retrieved",
            format!("retrieve the {kind} document first"),
        )
    })
}

/// Judge exchange `idx` by the MADO checks `ids`, with the profile's code table and `tweak`.
fn judge_mado(
    world: &mut HarnessWorld,
    idx: usize,
    ids: &[&str],
    tweak: impl FnOnce(&mut crate::checks::mado::MadoExpect),
) -> StepResult {
    let mut mado = mado_expect(world);
    tweak(&mut mado);
    let expect = Expect {
        mado,
        ..Expect::default()
    };
    judge(world, idx, &expect, &[], ids)
}

#[then("the KOS manifest is a conformant MADO manifest")]
async fn kos_is_mado(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    judge_mado(world, k.idx, KOS_MADO_CHECKS, |_| {})
}

#[then("the manifest agrees with its DocumentReference")]
async fn kos_agrees_docref(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    judge_mado(world, k.idx, &["MADO-C3"], |m| m.docref = Some(k.docref))
}

#[then("the FHIR manifest is a conformant MADO FHIR manifest")]
async fn fhir_is_mado(world: &mut HarnessWorld) -> StepResult {
    let f = retrieved(world, "fhir")?;
    judge_mado(world, f.idx, FHIR_MANIFEST_CHECKS, |_| {})
}

#[then("the KOS and FHIR manifests agree")]
async fn twins_agree(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    let f = retrieved(world, "fhir")?;
    judge_mado(world, f.idx, &["MADO-C1"], |m| m.twin_kos = Some(k.bytes))
}

#[when("the consumer retrieves the series the manifest references by WADO-RS")]
async fn retrieve_series(world: &mut HarnessWorld) -> StepResult {
    let Some(dw) = world.ctx.dicomweb.clone() else {
        return Err(not_applicable(
            world,
            "no DICOMweb endpoint",
            "the SUT profile declares no image source ([dicomweb] table)",
        ));
    };
    if world.ctx.config.test_data == TestDataMode::Load {
        crate::steps::load_test_studies(world, dw.clone()).await?;
    }
    retrieve_series_from(world, &dw, None).await
}

/// The cross-border leg: the home community's image source behind its XC-WADO Responding Imaging
/// Gateway (`[xc_wado]`), addressed by community and Retrieve Location UID (RAD-160). In load mode
/// the test studies are first stored at the image source (`[dicomweb]`) the gateway fronts.
#[when("the consumer retrieves the series the manifest references through the XC-WADO gateway")]
async fn retrieve_series_across(world: &mut HarnessWorld) -> StepResult {
    let Some(x) = world.ctx.config.xc_wado.clone() else {
        return Err(not_applicable(
            world,
            "no XC-WADO gateway",
            "the SUT profile declares no XC-WADO Responding Imaging Gateway ([xc_wado] table)",
        ));
    };
    if let (TestDataMode::Load, Some(dw)) = (world.ctx.config.test_data, world.ctx.dicomweb.clone())
    {
        crate::steps::load_test_studies(world, dw).await?;
    }
    let endpoint = crate::config::Dicomweb {
        base_url: x.service_root(),
        auth: crate::config::Auth::None,
        timeouts: x.timeouts,
        tls: x.tls.clone(),
    };
    let gateway =
        match crate::actors::dicomweb::DicomwebClient::new(&endpoint, &world.ctx.config.limits) {
            Ok(c) => c,
            Err(e) => {
                return Err(harness_error(
                    world,
                    "could not build the XC-WADO client",
                    e.to_string(),
                ))
            }
        };
    retrieve_series_from(world, &gateway, Some(Transaction::Rad160)).await
}

/// Retrieve every series the retrieved KOS references from `dw`, recording each answer (as
/// `transaction` when given) and what it held for MADO-C2.
async fn retrieve_series_from(
    world: &mut HarnessWorld,
    dw: &crate::actors::dicomweb::DicomwebClient,
    transaction: Option<Transaction>,
) -> StepResult {
    let k = retrieved(world, "kos")?;
    let manifest = match crate::model::kos::parse(&k.bytes) {
        Ok(m) => m,
        Err(e) => return Err(unreadable_manifest(world, k.idx, e.to_string())),
    };
    let mut by_series: BTreeMap<String, String> = BTreeMap::new();
    for r in &manifest.evidence {
        by_series.insert(r.series_uid.clone(), r.study_uid.clone());
    }
    let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    world.mhd.images_unanswered.clear();
    for (series, study) in by_series {
        let target = crate::checks::Target {
            study,
            series: Some(series.clone()),
            instance: None,
        };
        let mut ex = crate::actors::wado_rs::retrieve(
            dw,
            &target,
            &crate::actors::wado_rs::Resource::Instances,
            Some(&crate::actors::wado_rs::accept_dicom(Some("*"))),
        )
        .await;
        if let Some(t) = transaction {
            ex.transaction = t;
        }
        let idx = record(world, ex)?;
        // A retrieve that did not answer with the series says nothing of what the source holds:
        // it is judged as the retrieve it is (the WADO-RS status, or XCW-05 through a gateway),
        // and its series is left out of the manifest's comparison with the holdings (MADO-C2).
        let answered = world
            .evidence
            .get(idx)
            .and_then(|e| e.response.as_ref())
            .is_some_and(|r| r.status == 200);
        if !answered {
            let (expect, check) = match transaction {
                Some(Transaction::Rad160) => (crate::checks::Expect::default(), "XCW-05"),
                _ => (
                    crate::checks::Expect {
                        status: vec![200],
                        status_reason: "a series the manifest references".into(),
                        ..crate::checks::Expect::default()
                    },
                    "DW-04",
                ),
            };
            crate::steps::judge_once(world, idx, &expect, &[], &[check])?;
            world.mhd.images_unanswered.push(series);
            continue;
        }
        let got: BTreeSet<String> = world
            .evidence
            .get(idx)
            .and_then(|e| e.multipart.as_ref())
            .map(|mp| {
                mp.parts
                    .iter()
                    .filter_map(|p| p.dicom.as_ref().and_then(|d| d.sop_instance.as_deref()))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        held.insert(series, got);
    }
    world.mhd.images = Some(held);
    Ok(())
}

#[then("the manifest agrees with the images the image source returned")]
async fn manifest_agrees_images(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    let Some(held) = world.mhd.images.clone() else {
        return Err(harness_error(
            world,
            "nothing to compare",
            "retrieve the series the manifest references first",
        ));
    };
    // A series whose retrieve failed (already judged as that retrieve) cannot be compared.
    if !world.mhd.images_unanswered.is_empty() {
        return Ok(());
    }
    judge_mado(world, k.idx, &["MADO-C2"], |m| m.held = Some(held))
}

/// The KOS the Responder returned does not parse: the scenario cannot follow its references, and
/// the document is not the manifest its DocumentReference describes (MHD-19 judges its bytes).
fn unreadable_manifest(world: &mut HarnessWorld, idx: usize, why: String) -> StepError {
    stop_once(
        world,
        "MHD-19",
        Some(idx),
        "the KOS manifest the DocumentReference describes (DICOM PS3.10)",
        format!("a body that does not parse as a KOS: {why}"),
    )
}

fn mado_expect(world: &HarnessWorld) -> crate::checks::mado::MadoExpect {
    crate::checks::mado::MadoExpect {
        code_table: world
            .ctx
            .config
            .mhd
            .as_ref()
            .map(|m| m.code_table == crate::config::mhd::CodeTable::DicomFinal)
            .map(|final_codes| {
                if final_codes {
                    crate::model::mado::CodeTable::DicomFinal
                } else {
                    crate::model::mado::CodeTable::MadoTi
                }
            })
            .unwrap_or(crate::model::mado::CodeTable::MadoTi),
        ..crate::checks::mado::MadoExpect::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Reports

#[then("the report is a conformant HL7 Europe imaging report")]
async fn report_conformant(world: &mut HarnessWorld) -> StepResult {
    let r = retrieved(world, "report")?;
    judge(
        world,
        r.idx,
        &Expect::default(),
        &[],
        crate::checks::report::DOCUMENT_CHECK_IDS,
    )
}

#[then("the report links to the manifest of the same study")]
async fn report_links(world: &mut HarnessWorld) -> StepResult {
    let r = retrieved(world, "report")?;
    let k = retrieved(world, "kos")?;
    let manifest = match crate::model::kos::parse(&k.bytes) {
        Ok(m) => m,
        Err(e) => return Err(unreadable_manifest(world, k.idx, e.to_string())),
    };
    let expect = Expect {
        report: crate::checks::report::ReportExpect {
            study_uid: manifest.study.instance_uid.clone(),
            accession: manifest
                .study
                .accession_number
                .clone()
                .filter(|a| !a.is_empty())
                .map(|a| (accession_system(world), a)),
            ..crate::checks::report::ReportExpect::default()
        },
        ..Expect::default()
    };
    judge(world, r.idx, &expect, &[], &["RPT-10"])
}

/// The most report versions RPT-14 compares.
const MAX_VERSIONS: usize = 20;

#[then("only the final report is current and both versions share the report identifier")]
async fn versions_share_identifier(world: &mut HarnessWorld) -> StepResult {
    let mut hits = Vec::new();
    visit_hits(world, |d| {
        hits.push(d);
        hits.len() < MAX_VERSIONS
    });
    let max_body = world.ctx.config.limits.max_body;
    let mut followups = Vec::new();
    let mut first = None;
    let mut fetched = 0u64;
    // The versions compared are read within the limits of one answer: at most MAX_VERSIONS
    // documents, until they hold max_body_bytes (a Responder that lists many reports for the
    // study, e.g. one per run against a shared test system, is not read whole).
    for d in hits {
        if fetched > max_body {
            break;
        }
        fetch(world, d, None, "report", None).await?;
        fetched += world
            .mhd
            .last
            .and_then(|i| world.evidence.get(i))
            .and_then(|e| e.response.as_ref())
            .map_or(0, |r| r.body.size);
        if let Some(idx) = world.mhd.last {
            match first {
                None => first = Some(idx),
                Some(_) => {
                    if let Some(ex) = world.evidence.get(idx) {
                        followups.push(ex.clone());
                    }
                }
            }
        }
    }
    let Some(idx) = first else {
        let search = world.mhd.last;
        return Err(absent_from_search(
            world,
            search,
            "the study's reports, final and preliminary",
            "no report in the search answer",
        ));
    };
    judge(world, idx, &Expect::default(), &followups, &["RPT-14"])
}
