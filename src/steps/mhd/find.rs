//! MHD Find Document References (ITI-67) and Find Document Lists (ITI-66): the consumer's searches
//! and the judging of the searchsets against the catalogue filtered by the same parameters.

use super::*;

// ---------------------------------------------------------------------------------------------
// ITI-67

#[when(expr = "the consumer finds the documents of the patient of study {string}")]
async fn find_by_patient(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    let params = with_patient(world, &p, &[]);
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the documents of the patient of study {string} with {string}")]
async fn find_with(world: &mut HarnessWorld, alias: String, extra: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    let params = with_patient(world, &p, &pairs(&extra));
    search(world, params.clone(), params, false, false).await
}

#[when(
    expr = "the consumer finds the documents of the patient of study {string} with POST _search"
)]
async fn find_post(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    let params = with_patient(world, &p, &[]);
    search(world, params.clone(), params, true, false).await
}

#[when(expr = "the consumer finds the documents of the patient of study {string} in FHIR XML")]
async fn find_xml(world: &mut HarnessWorld, alias: String) -> StepResult {
    // A Document Responder shall support both XML and JSON (ITI TF-2 3.67.4.1.2.2); no option
    // lets it claim one only, so this scenario applies to every Responder.
    let p = patient_of(world, &alias)?;
    let params = with_patient(world, &p, &[]);
    search(world, params.clone(), params, false, true).await
}

#[when(
    expr = "the consumer finds the documents of the patient of study {string} by patient reference"
)]
async fn find_by_reference(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    // Resolve the Patient resource first, as a consumer grouped with PDQm would.
    let reference = patient_reference(world, &alias, crate::actors::mhd::CONSUMER).await?;
    let params = vec![
        ("patient".to_string(), reference),
        ("status".to_string(), "current".to_string()),
    ];
    let truth = with_patient(world, &p, &[]);
    search(world, params, truth, false, false).await
}

#[when("the consumer finds the documents of an unknown patient")]
async fn find_unknown(world: &mut HarnessWorld) -> StepResult {
    let params = with_patient(world, UNKNOWN_PATIENT, &[]);
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the documents of an unknown patient with {string}")]
async fn find_unknown_with(world: &mut HarnessWorld, extra: String) -> StepResult {
    let params = with_patient(world, UNKNOWN_PATIENT, &pairs(&extra));
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the documents of study {string} by Study Instance UID")]
async fn find_by_study(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = crate::steps::study_instances(world, &alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    let extra = vec![(
        "study-instance-uid".to_string(),
        format!("urn:oid:{}", first.study_uid),
    )];
    let params = with_patient(world, &first.patient_id, &extra);
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the documents of study {string} by accession number")]
async fn find_by_accession(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = crate::steps::study_instances(world, &alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    let acc = first.accession.clone().unwrap_or_default();
    let extra = vec![(
        "accession-number".to_string(),
        format!("{}|{acc}", accession_system(world)),
    )];
    let params = with_patient(world, &first.patient_id, &extra);
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the reports of study {string} in every status")]
async fn find_reports_all(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    let insts = crate::steps::study_instances(world, &alias)?;
    let study = insts
        .first()
        .map(|i| i.study_uid.clone())
        .unwrap_or_default();
    let extra = vec![
        ("status".to_string(), "current,superseded".to_string()),
        (
            "type".to_string(),
            format!("{}|{}", crate::model::fhir::LOINC, mhd_content::REPORT_TYPE),
        ),
        ("study-instance-uid".to_string(), format!("urn:oid:{study}")),
    ];
    let params = with_patient(world, &p, &extra);
    search(world, params.clone(), params, false, false).await
}

#[then("the result is a searchset holding exactly the matching documents")]
async fn exact_result(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, SEARCH_CHECKS)
}

#[then("the result is an empty searchset")]
async fn empty_result(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, SEARCH_CHECKS)
}

#[then("the result holds a report and no manifest")]
async fn report_no_manifest(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, SEARCH_CHECKS)?;
    let mut types: Vec<String> = Vec::new();
    visit_hits(world, |d| {
        types.extend(
            d.pointer("/type/coding/0/code")
                .and_then(Value::as_str)
                .map(str::to_string),
        );
        true
    });
    if types.iter().any(|t| t == mhd_content::REPORT_TYPE)
        && !types.iter().any(|t| t == mhd_content::MANIFEST_TYPE)
    {
        Ok(())
    } else {
        // The SUT holds the study's report and no manifest (the test data): an answer with
        // other documents is its breach.
        let idx = world.mhd.last;
        let expected = "the study's report, and no manifest";
        let actual = format!("documents of types [{}]", types.join(", "));
        if types.iter().any(|t| t == mhd_content::MANIFEST_TYPE) {
            Err(stop_once(world, "MHD-18", idx, expected, actual))
        } else {
            Err(absent_from_search(world, idx, expected, actual))
        }
    }
}

#[then(expr = "the KOS and FHIR manifest DocumentReferences of study {string} point to each other")]
async fn twins_linked(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = crate::steps::study_instances(world, &alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    world.mhd.expect.mado.twin_study = Some(first.study_uid.clone());
    judge_last(world, &["MADO-C4"])
}

/// Point the twin-manifest checks at study `alias` of the last search answer.
fn manifests_of(world: &mut HarnessWorld, alias: &str) -> StepResult {
    let insts = crate::steps::study_instances(world, alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    world.mhd.expect.mado.twin_study = Some(first.study_uid.clone());
    Ok(())
}

#[then(
    expr = "the manifest DocumentReferences of study {string} list their masterIdentifier among their identifiers"
)]
async fn master_listed(world: &mut HarnessWorld, alias: String) -> StepResult {
    manifests_of(world, &alias)?;
    judge_last(world, &["MADO-C5"])
}

#[then(
    expr = "the manifest DocumentReferences of study {string} carry the Medical-Imaging category"
)]
async fn priority_category(world: &mut HarnessWorld, alias: String) -> StepResult {
    manifests_of(world, &alias)?;
    judge_last(world, &["MADO-C6"])
}

#[then("the manifest DocumentReferences follow the MADO envelope")]
async fn mado_envelope(world: &mut HarnessWorld) -> StepResult {
    world.mhd.expect.mhd.imaging = true;
    judge_last(world, &["MHD-16", "MHD-17"])
}

pub(super) fn judge_last(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let Some(idx) = world.mhd.last else {
        return Err(harness_error(
            world,
            "no MHD exchange",
            "a Then step ran before any MHD When step",
        ));
    };
    let expect = world.mhd.expect.clone();
    let pages: Vec<Exchange> = world
        .mhd
        .pages
        .iter()
        .filter_map(|i| world.evidence.get(*i).cloned())
        .collect();
    judge(world, idx, &expect, &pages, ids)?;
    // MHD-18 judges what the pages read show; a match they do not show may be on a page the
    // harness did not read. That is the harness's limit, not the SUT's breach: an Error that says so.
    let (Some(known), true) = (&expect.mhd.known_matches, ids.contains(&"MHD-18")) else {
        return Ok(());
    };
    let read: Vec<&Exchange> = world.evidence.get(idx).into_iter().chain(&pages).collect();
    let why = world.mhd.cut.clone().unwrap_or_else(|| {
        format!("the harness follows at most {MAX_PAGES} next links, none twice")
    });
    match unseen_matches(&read, known) {
        Some(unseen) => Err(harness_error(
            world,
            "search not read to its end",
            format!(
                "after {} pages the answer still links a next page ({why}): whether {} {} returned on a later page is not judged",
                read.len(),
                crate::evidence::quote_list(&unseen),
                if unseen.len() == 1 { "is" } else { "are" }
            ),
        )),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// ITI-66

#[when(expr = "the consumer finds the submission sets of the patient of study {string}")]
async fn find_lists(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    lists(world, &p).await
}

#[when("the consumer finds the submission sets of an unknown patient")]
async fn find_lists_unknown(world: &mut HarnessWorld) -> StepResult {
    lists(world, UNKNOWN_PATIENT).await
}

async fn lists(world: &mut HarnessWorld, patient: &str) -> StepResult {
    let c = client(world)?;
    let params = vec![
        patient_param(world, patient),
        ("code".to_string(), format!("{LIST_TYPES}|submissionset")),
        ("status".to_string(), "current".to_string()),
    ];
    let mut patient_refs = patient_refs_of(world, &c, &params).await?;
    let ex = c.find_lists(&params, false).await;
    let idx = record(world, ex)?;
    let pages = follow_pages(world, &c, idx, Transaction::Iti66, false).await?;
    complete_patient_refs(world, &c, &params, idx, &pages, &mut patient_refs).await?;
    let cat = &world.ctx.mhd_catalogue;
    let ids = |r: &str| cat.patient_identifiers(r);
    let unique = |l: &Value| {
        l.pointer("/identifier/0/value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let matching: BTreeSet<String> = cat
        .submission_sets
        .iter()
        .filter(|l| crate::model::fhir::search::list_matches(l, &params, &ids))
        .map(unique)
        .collect();
    let all: BTreeSet<String> = cat.submission_sets.iter().map(unique).collect();
    world.mhd.expect = Expect {
        status: vec![200],
        mhd: MhdExpect {
            search: params.clone(),
            known_matches: Some(matching.clone()),
            must_not_match: all.difference(&matching).cloned().collect(),
            patient_refs,
            ..MhdExpect::default()
        },
        ..Expect::default()
    };
    world.mhd.pages = pages;
    world.mhd.last = Some(idx);
    Ok(())
}

#[then("the result is a searchset holding exactly the matching submission sets")]
async fn exact_lists(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, SEARCH_CHECKS)
}
