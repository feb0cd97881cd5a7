//! DCMTK findscu, movescu and getscu as the SUT Query/Retrieve SCU: the profile's triggers make
//! them send to the harness's SCP (the simulator on `[simulator] dimse_bind`), and the harness
//! judges the requests it received (DIMSCU-01..04; `findscu --cancel 1` sends the C-CANCEL). A
//! command line that asks for a wrong thing (another level, no Study Instance UID above a series)
//! fails the check that reads it.

use crate::common::{dump, failures, free_port, outcomes, run_profile};

fn dcmtk_missing() -> bool {
    let missing = std::process::Command::new("findscu")
        .arg("--version")
        .output()
        .is_err();
    if missing {
        eprintln!("skipped: DCMTK (findscu) is not installed");
    }
    missing
}

/// A profile with the harness's SCP on a free port and these triggers.
fn profile(triggers: &str) -> String {
    format!(
        "[sut]\nname = \"DCMTK Query/Retrieve SCU\"\n[simulator]\ndimse_bind = \"127.0.0.1:{}\"\n\
         bind = \"127.0.0.1:0\"\nae_title = \"HARNESS\"\ntrigger_timeout_ms = 20000\n[triggers]\n{triggers}",
        free_port()
    )
}

#[test]
fn findscu_movescu_and_getscu_send_the_requests_asked_for() {
    if dcmtk_missing() {
        return;
    }
    let od = tempfile::tempdir().unwrap();
    let triggers = format!(
        "qr_scu_finds = \"findscu -S -aet VIEWER -aec {{harness_ae}} {{dcmtk_keys}} {{harness_host}} {{harness_port}}\"\n\
         qr_scu_moves = \"movescu -S -aet VIEWER -aec {{harness_ae}} -aem {{move_destination}} {{dcmtk_keys}} {{harness_host}} {{harness_port}}\"\n\
         qr_scu_gets = \"getscu -S -aet VIEWER -aec {{harness_ae}} -od {} {{dcmtk_keys}} {{harness_host}} {{harness_port}}\"\n\
         qr_scu_cancels_find = \"findscu -S --cancel 1 -aet VIEWER -aec {{harness_ae}} {{dcmtk_keys}} {{harness_host}} {{harness_port}}\"\n",
        od.path().display()
    );
    let run = run_profile(
        "qr-scu-dcmtk",
        &profile(&triggers),
        "@actor:QueryRetrieveScu",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 5, "{outcomes:?}\n{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "pass"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    // getscu received the series on its own association.
    let got = std::fs::read_dir(od.path()).map(|d| d.count()).unwrap_or(0);
    assert!(got > 0, "getscu stored nothing\n{}", dump(&run.out));
}

#[test]
fn a_dcmtk_command_line_asking_the_wrong_thing_fails_negative() {
    if dcmtk_missing() {
        return;
    }
    // findscu at IMAGE level where the scenario asks for series or studies; movescu without the
    // Study Instance UID above its series.
    let triggers = "qr_scu_finds = \"findscu -S -aet VIEWER -aec {harness_ae} -k 0008,0052=IMAGE -k 0020,000D={study_uid} -k 0010,0020={dicom_patient_id} {harness_host} {harness_port}\"\n\
         qr_scu_moves = \"movescu -S -aet VIEWER -aec {harness_ae} -aem {move_destination} -k 0008,0052=SERIES -k 0020,000E={series_uid} {harness_host} {harness_port}\"\n";
    let run = run_profile(
        "qr-scu-dcmtk-wrong",
        &profile(triggers),
        "@actor:QueryRetrieveScu and not @txn:C-GET and not @req:DIMSCU-04",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 3, "{outcomes:?}\n{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "fail"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    let checks: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        checks,
        ["DIMSCU-01", "DIMSCU-01", "DIMSCU-02"],
        "{}",
        dump(&run.out)
    );
}

#[test]
fn a_profile_without_the_triggers_leaves_the_scenarios_not_applicable() {
    let triggers = "modality_stores = \"true\"\n";
    let run = run_profile("qr-scu-none", &profile(triggers), "@actor:QueryRetrieveScu");
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 5, "{outcomes:?}\n{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "not-applicable"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
}
