//! QIDO-RS Search (RAD-129): studies, series and instances searched, the matches judged against the
//! test studies the query selects.

use super::*;

// ---------------------------------------------------------------------------------------------
// QIDO-RS RAD-129

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

async fn do_search(
    world: &mut HarnessWorld,
    path: String,
    level: QidoLevel,
    query: &str,
    scope: Option<(String, Option<String>)>,
) -> StepResult {
    let c = client(world)?;
    let params = parse_query(query);
    let exchange = qido_rs::search(&c, &path, &params, None).await;
    let idx = record(world, exchange)?;
    let mut expect = Expect {
        qido_level: Some(level),
        qido_path: scope,
        ..Expect::default()
    };
    for (k, v) in &params {
        match k.as_str() {
            "limit" => expect.limit = v.parse().ok(),
            "offset" => expect.offset = v.parse().ok(),
            "includefield" => {
                for f in v.split(',') {
                    if let Some(t) = qido_key_tag(f) {
                        expect.includefield.push(t);
                    }
                }
            }
            "fuzzymatching" => {}
            _ => expect.query.push((k.clone(), v.clone())),
        }
    }
    if expect.limit.is_none() && expect.offset.is_none() {
        let uids: Option<Vec<String>> = world
            .evidence
            .get(idx)
            .and_then(|e| e.response.as_ref())
            .and_then(|r| r.json())
            .and_then(|v| v.as_array().cloned())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|d| dicom_json::first_string(d, unique_key(level)))
                    .collect()
            });
        world.dicomweb.unpaged = uids;
    } else {
        expect.unpaged = world.dicomweb.unpaged.clone();
    }
    expect.qido_known = known_entities(world, level);
    world.dicomweb.last = Some(idx);
    world.dicomweb.level = Some(level);
    world.dicomweb.expect = expect;
    Ok(())
}

/// What the harness knows of every fixture entity of `level`, by unique key (DW-26). A SUT
/// holds the whole of every fixture study it holds (loaded by the harness, or preloaded), so
/// the related series and instances it counts are at least the fixture's.
fn known_entities(
    world: &HarnessWorld,
    level: QidoLevel,
) -> std::collections::BTreeMap<String, crate::checks::dicomweb::KnownEntity> {
    use crate::checks::dicomweb::KnownEntity;
    let mut out: std::collections::BTreeMap<String, KnownEntity> = Default::default();
    for study in world.ctx.fixtures.studies() {
        for i in &study.instances {
            let key = match level {
                QidoLevel::Study => &i.study_uid,
                QidoLevel::Series => &i.series_uid,
                QidoLevel::Instance => &i.sop_uid,
            };
            let k = out.entry(key.clone()).or_default();
            if !i.modality.is_empty() && level != QidoLevel::Instance {
                k.modalities.insert(i.modality.clone());
            }
            match level {
                QidoLevel::Study => {}
                QidoLevel::Series => k.series_number = i.series_number,
                QidoLevel::Instance => {
                    k.instance_number = i.instance_number;
                    k.sop_class = Some(i.sop_class.clone());
                }
            }
            if level != QidoLevel::Instance {
                *k.related_instances.get_or_insert(0) += 1;
            }
        }
        if level == QidoLevel::Study {
            let series: BTreeSet<&str> = study
                .instances
                .iter()
                .map(|i| i.series_uid.as_str())
                .collect();
            if let Some(first) = study.instances.first() {
                if let Some(k) = out.get_mut(&first.study_uid) {
                    k.related_series = Some(series.len());
                }
            }
        }
    }
    out
}

#[when("the consumer searches for all studies")]
async fn search_all_studies(world: &mut HarnessWorld) -> StepResult {
    do_search(world, "studies".into(), QidoLevel::Study, "", None).await
}

#[when(expr = "the consumer searches for studies with {string}")]
async fn search_studies(world: &mut HarnessWorld, query: String) -> StepResult {
    do_search(world, "studies".into(), QidoLevel::Study, &query, None).await
}

#[when(expr = "the consumer searches for studies of patient {string}")]
async fn search_studies_patient(world: &mut HarnessWorld, pid: String) -> StepResult {
    do_search(
        world,
        "studies".into(),
        QidoLevel::Study,
        &format!("PatientID={pid}"),
        None,
    )
    .await
}

#[when(expr = "the consumer searches for studies with the UIDs of {string} and {string}")]
async fn search_uid_list(world: &mut HarnessWorld, a: String, b: String) -> StepResult {
    let ua = study_instances(world, &a)?[0].study_uid.clone();
    let ub = study_instances(world, &b)?[0].study_uid.clone();
    do_search(
        world,
        "studies".into(),
        QidoLevel::Study,
        &format!("StudyInstanceUID={ua},{ub}"),
        None,
    )
    .await
}

#[when(expr = "the consumer searches for series of study {string}")]
async fn search_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    search_series_with(world, alias, String::new()).await
}

#[when(expr = "the consumer searches for series of study {string} with {string}")]
async fn search_series_with(world: &mut HarnessWorld, alias: String, query: String) -> StepResult {
    let uid = study_instances(world, &alias)?[0].study_uid.clone();
    do_search(
        world,
        format!("studies/{uid}/series"),
        QidoLevel::Series,
        &query,
        Some((uid.clone(), None)),
    )
    .await
}

#[when(expr = "the consumer searches for instances of series {int} of study {string}")]
async fn search_instances(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    let path = format!(
        "studies/{}/series/{}/instances",
        insts[0].study_uid, insts[0].series_uid
    );
    let scope = Some((
        insts[0].study_uid.clone(),
        Some(insts[0].series_uid.clone()),
    ));
    do_search(world, path, QidoLevel::Instance, "", scope).await
}

#[then("every result has the required attributes")]
async fn required_attrs(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-07"])
}

#[then("every result describes the test-data entity it names")]
async fn results_describe_their_entity(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-26"])
}

#[then("every result matches the query")]
async fn results_match(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-19"])
}

#[then("the results are the requested page of the unpaged results")]
async fn page_ok(world: &mut HarnessWorld) -> StepResult {
    // Ask the unpaged query again: if its matches changed meanwhile (another client stored a
    // study), the page is not judged against the earlier list (PS3.18 §8.3.4.4.1).
    let idx = last_index(world)?;
    let url = world
        .evidence
        .get(idx)
        .map(|e| e.request.url.clone())
        .unwrap_or_default();
    let c = client(world)?;
    if let (Some(rest), Some(level)) = (url.strip_prefix(&c.base), world.dicomweb.level) {
        let (path, query) = rest
            .trim_start_matches('/')
            .split_once('?')
            .unwrap_or((rest, ""));
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "limit" && k != "offset")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let again = qido_rs::search(&c, path, &params, None).await;
        let uids = again
            .response
            .as_ref()
            .and_then(|r| r.json())
            .and_then(|v| v.as_array().cloned())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|d| dicom_json::first_string(d, unique_key(level)))
                    .collect()
            });
        record(world, again)?;
        world.dicomweb.expect.unpaged_after = uids;
    }
    judge_last(world, &["DW-08", "DW-25"])
}

#[then(expr = "the results include the studies {string}")]
async fn results_include_studies(world: &mut HarnessWorld, aliases: String) -> StepResult {
    let mut known = BTreeSet::new();
    for a in aliases.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        known.insert(study_instances(world, a)?[0].study_uid.clone());
    }
    world.dicomweb.expect.known_matches = Some(known);
    judge_last(world, &["DW-09"])
}

#[then(expr = "the results include every series of study {string}")]
async fn results_include_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    let known: BTreeSet<String> = study_instances(world, &alias)?
        .iter()
        .map(|i| i.series_uid.clone())
        .collect();
    world.dicomweb.expect.known_matches = Some(known);
    judge_last(world, &["DW-09"])
}

#[then(expr = "the results include every instance of series {int} of study {string}")]
async fn results_include_instances(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
) -> StepResult {
    let known = sops(&series_instances(world, &alias, series)?);
    world.dicomweb.expect.known_matches = Some(known);
    judge_last(world, &["DW-09"])
}

/// An empty list is judged by DW-19: any result of another patient fails the matching rule.
#[then("the result list is empty")]
async fn result_empty(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-19"])
}
