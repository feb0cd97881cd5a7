//! DIMSE C-FIND as an SCU: the queries of the Study Root and Patient Root models and the judging of
//! their matches against the test studies the keys select.

use super::*;

// ---------------------------------------------------------------------------------------------
// C-FIND

/// The keys the study-level queries ask for (PS3.4 C.6.2.1.2 required keys).
fn study_keys() -> Vec<(Tag, &'static str)> {
    vec![
        (tags::STUDY_DATE, "StudyDate"),
        (tags::STUDY_TIME, "StudyTime"),
        (tags::ACCESSION_NUMBER, "AccessionNumber"),
        (tags::PATIENT_NAME, "PatientName"),
        (tags::PATIENT_ID, "PatientID"),
        (tags::STUDY_ID, "StudyID"),
        (tags::STUDY_INSTANCE_UID, "StudyInstanceUID"),
    ]
}

async fn find(
    world: &mut HarnessWorld,
    model: QueryModel,
    level: &str,
    keys: Vec<(Tag, &'static str)>,
    values: &[(Tag, String)],
    matches: Option<(String, BTreeSet<String>)>,
    cancel_after: Option<usize>,
) -> StepResult {
    let s = scu(world)?;
    let mut query: Vec<(Tag, String)> = vec![(tags::QUERY_RETRIEVE_LEVEL, level.to_string())];
    for (t, _) in &keys {
        let v = values
            .iter()
            .find(|(vt, _)| vt == t)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        query.push((*t, v));
    }
    let ex = s.find(model, &query, cancel_after).await;
    let mut requested: Vec<String> = vec!["QueryRetrieveLevel".into()];
    requested.extend(keys.iter().map(|(_, k)| k.to_string()));
    let known = known_values(world, level);
    let values = fixture_values(world, level);
    record_dimse(
        world,
        ex,
        DimseExpect {
            requested_keys: requested,
            matches,
            known,
            values,
            cancelled: cancel_after.is_some(),
            ..DimseExpect::default()
        },
    )
}

/// Every value of the unique key of `level` the test data holds (DIM-06 judges only these).
fn known_values(world: &HarnessWorld, level: &str) -> Option<BTreeSet<String>> {
    let of = |f: fn(&FixtureInstance) -> &String| -> BTreeSet<String> {
        world
            .ctx
            .fixtures
            .instances
            .iter()
            .map(|i| f(i).clone())
            .collect()
    };
    match level {
        "PATIENT" => Some(of(|i| &i.patient_id)),
        "STUDY" => Some(of(|i| &i.study_uid)),
        "SERIES" => Some(of(|i| &i.series_uid)),
        "IMAGE" => Some(of(|i| &i.sop_uid)),
        _ => None,
    }
}

/// For each entity of `level` in the test data (by its unique key), the values DIM-06 compares:
/// those a Storage SCP does not coerce (PS3.4 §B.4.1.3 lets it change patient identification and
/// UIDs; a patient level entity has none of the others).
fn fixture_values(world: &HarnessWorld, level: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for i in &world.ctx.fixtures.instances {
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let (uid, values) = match level {
            "STUDY" => (
                &i.study_uid,
                vec![(
                    "StudyDate".to_string(),
                    i.study_date.clone().unwrap_or_default(),
                )],
            ),
            "SERIES" => (
                &i.series_uid,
                vec![
                    ("Modality".to_string(), i.modality.clone()),
                    ("SeriesNumber".to_string(), number(i.series_number)),
                ],
            ),
            "IMAGE" => (
                &i.sop_uid,
                vec![("InstanceNumber".to_string(), number(i.instance_number))],
            ),
            _ => continue,
        };
        out.entry(uid.clone()).or_insert(values);
    }
    out
}

fn studies_where(
    world: &HarnessWorld,
    pred: impl Fn(&FixtureInstance) -> bool,
) -> BTreeSet<String> {
    world
        .ctx
        .fixtures
        .instances
        .iter()
        .filter(|i| pred(i))
        .map(|i| i.study_uid.clone())
        .collect()
}

#[when(expr = "the SCU finds the studies of the patient of study {string}")]
async fn find_patient_studies(world: &mut HarnessWorld, alias: String) -> StepResult {
    let pid = study_instances(world, &alias)?[0].patient_id.clone();
    let m = studies_where(world, |i| i.patient_id == pid);
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[(tags::PATIENT_ID, pid)],
        Some(("StudyInstanceUID".into(), m)),
        None,
    )
    .await
}

#[when("the SCU finds the studies of an unknown patient")]
async fn find_unknown_patient(world: &mut HarnessWorld) -> StepResult {
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[(tags::PATIENT_ID, UNKNOWN_PATIENT.into())],
        Some(("StudyInstanceUID".into(), BTreeSet::new())),
        None,
    )
    .await
}

#[when(expr = "the SCU finds the series of study {string}")]
async fn find_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let study = insts[0].study_uid.clone();
    let m: BTreeSet<String> = insts.iter().map(|i| i.series_uid.clone()).collect();
    find(
        world,
        QueryModel::StudyRoot,
        "SERIES",
        vec![
            (tags::STUDY_INSTANCE_UID, "StudyInstanceUID"),
            (tags::SERIES_INSTANCE_UID, "SeriesInstanceUID"),
            (tags::MODALITY, "Modality"),
            (tags::SERIES_NUMBER, "SeriesNumber"),
        ],
        &[(tags::STUDY_INSTANCE_UID, study)],
        Some(("SeriesInstanceUID".into(), m)),
        None,
    )
    .await
}

#[when(expr = "the SCU finds the instances of series {int} of study {string}")]
async fn find_instances(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    let m: BTreeSet<String> = insts.iter().map(|i| i.sop_uid.clone()).collect();
    let (study, series) = (insts[0].study_uid.clone(), insts[0].series_uid.clone());
    find(
        world,
        QueryModel::StudyRoot,
        "IMAGE",
        vec![
            (tags::STUDY_INSTANCE_UID, "StudyInstanceUID"),
            (tags::SERIES_INSTANCE_UID, "SeriesInstanceUID"),
            (tags::SOP_INSTANCE_UID, "SOPInstanceUID"),
            (tags::INSTANCE_NUMBER, "InstanceNumber"),
        ],
        &[
            (tags::STUDY_INSTANCE_UID, study),
            (tags::SERIES_INSTANCE_UID, series),
        ],
        Some(("SOPInstanceUID".into(), m)),
        None,
    )
    .await
}

#[when(expr = "the SCU finds studies with {string} matching {string}")]
async fn find_matching(world: &mut HarnessWorld, key: String, value: String) -> StepResult {
    let tag = match key.as_str() {
        "PatientName" => tags::PATIENT_NAME,
        "StudyDate" => tags::STUDY_DATE,
        "PatientID" => tags::PATIENT_ID,
        "AccessionNumber" => tags::ACCESSION_NUMBER,
        other => {
            return Err(harness_error(
                world,
                "unsupported key",
                format!("{other} is not a key this step knows"),
            ))
        }
    };
    // The expected matches are stated by the Then step.
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[(tag, value)],
        None,
        None,
    )
    .await
}

#[when(expr = "the SCU finds the studies {string} and {string} by their UIDs")]
async fn find_uid_list(world: &mut HarnessWorld, a: String, b: String) -> StepResult {
    let ua = study_instances(world, &a)?[0].study_uid.clone();
    let ub = study_instances(world, &b)?[0].study_uid.clone();
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[(tags::STUDY_INSTANCE_UID, format!("{ua}\\{ub}"))],
        None,
        None,
    )
    .await
}

#[when(expr = "the SCU finds the patient of study {string} with the Patient Root model")]
async fn find_patient(world: &mut HarnessWorld, alias: String) -> StepResult {
    let pid = study_instances(world, &alias)?[0].patient_id.clone();
    find(
        world,
        QueryModel::PatientRoot,
        "PATIENT",
        vec![
            (tags::PATIENT_NAME, "PatientName"),
            (tags::PATIENT_ID, "PatientID"),
        ],
        &[(tags::PATIENT_ID, pid.clone())],
        Some(("PatientID".into(), BTreeSet::from([pid]))),
        None,
    )
    .await
}

#[when("the SCU finds all studies and cancels after the first match")]
async fn find_cancel(world: &mut HarnessWorld) -> StepResult {
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[],
        None,
        Some(1),
    )
    .await
}

#[then("every match is a pending response with an identifier, then a final response")]
async fn pendings(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-04"])
}

#[then("every identifier holds the keys asked for and no others")]
async fn keys_asked(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-05"])
}

#[then("every match is at the level asked and satisfies the keys asked")]
async fn about_what_was_asked(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-15", "DIM-16"])
}

// DIM-06 knows the test data only: each of these steps says that every entity of the test data
// that matches is found (with the values the test data holds) and that no other entity of the
// test data is; a match the harness does not know is judged by its keys alone (DIM-16).

#[then(
    regex = r"^the test (?:studies|series|instances) of that (?:patient|study|series) are all found, and no other test (?:study|series|instance)$"
)]
async fn matches_known(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-06"])
}

#[then(expr = "the test patient of study {string} is found, and no other test patient")]
async fn matches_known_patient(world: &mut HarnessWorld, _alias: String) -> StepResult {
    judge_dimse(world, &["DIM-06"])
}

#[then(expr = "the test studies of patient {string} are all found, and no other test study")]
async fn matches_patient(world: &mut HarnessWorld, pid: String) -> StepResult {
    let m = studies_where(world, |i| i.patient_id == pid);
    world.dimse.expect.dimse.matches = Some(("StudyInstanceUID".into(), m));
    judge_dimse(world, &["DIM-06"])
}

#[then(regex = r#"^the test (?:study|studies) "(.*)" (?:is|are) found, and no other test study$"#)]
async fn matches_studies(world: &mut HarnessWorld, list: String) -> StepResult {
    let mut m = BTreeSet::new();
    for alias in list.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        m.insert(study_instances(world, alias)?[0].study_uid.clone());
    }
    world.dimse.expect.dimse.matches = Some(("StudyInstanceUID".into(), m));
    judge_dimse(world, &["DIM-06"])
}

#[then("no test study is found")]
async fn matches_none(world: &mut HarnessWorld) -> StepResult {
    world.dimse.expect.dimse.matches = Some(("StudyInstanceUID".into(), BTreeSet::new()));
    judge_dimse(world, &["DIM-06"])
}
