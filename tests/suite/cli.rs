//! The command line contract: exit codes, configuration errors with hints, listing.

use crate::common::*;

#[test]
fn help_documents_exit_codes() {
    let out = harness(&["run", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Exit codes"), "{text}");
    assert!(text.contains("--sut"));
}

#[test]
fn unknown_profile_key_is_exit_2_with_hint() {
    let dir = report_dir("badprofile");
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        "[dicomweb]\nbase_ulr = \"http://127.0.0.1:1/dicom-web\"\n",
    )
    .unwrap();
    let out = harness(&[
        "run",
        "--sut",
        profile.to_str().unwrap(),
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown key `dicomweb.base_ulr`, did you mean `base_url`?"),
        "{err}"
    );
}

#[test]
fn bad_tag_expression_is_exit_2() {
    let out = harness(&[
        "run",
        "--tags",
        "@a and and",
        "--report-dir",
        "/tmp/ihe-harness-unused",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
}

#[test]
fn no_matching_scenario_is_exit_2() {
    let dir = report_dir("nomatch");
    let out = harness(&[
        "run",
        "--tags",
        "@no-such-tag",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
}

#[test]
fn unreachable_sut_is_an_error_not_a_failure() {
    let dir = report_dir("unreachable");
    // Port 9 (discard) on loopback: nothing listens there.
    let (out, reports) = run_profile_in(
        dir.path(),
        "[dicomweb]\nbase_url = \"http://127.0.0.1:9/dicom-web\"\nconnect_timeout_ms = 500\n[test_data]\nmode = \"preloaded\"\n",
        "@txn:RAD-129 and not @role:simulator",
    );
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
    let results = results(&reports);
    assert!(outcomes(&results).iter().all(|(_, o)| o == "error"));
    assert!(failures(&results).is_empty());
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(junit.contains("<error"));
    assert!(!junit.contains("<failure"));
}

#[test]
fn list_shows_tags_and_requirements() {
    let out = harness(&["list", "--tags", "@txn:RAD-108"]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("@txn:RAD-108"));
    assert!(text.contains("DW-10 [DICOM PS3.18 §10.5.3"), "{text}");
    assert!(!text.contains("unknown requirement key"));
}

#[test]
fn every_check_is_named_by_a_scenario_and_every_requirement_tag_is_a_check() {
    let out = harness(&["list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("unknown requirement key"), "{text}");
    let checks = harness(&["checks"]);
    for line in String::from_utf8_lossy(&checks.stdout).lines() {
        let id = line.split('\t').next().unwrap();
        assert!(
            text.contains(&format!("@req:{id}")),
            "no scenario names {id}"
        );
    }
}

#[test]
fn a_profile_without_dicomweb_makes_dicomweb_scenarios_not_applicable() {
    let dir = report_dir("nodicomweb");
    let (out, reports) = run_profile_in(
        dir.path(),
        "[sut]\nname = \"registry only\"\n",
        "@txn:RAD-129",
    );
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let results = results(&reports);
    assert!(
        outcomes(&results)
            .iter()
            .all(|(_, o)| o == "not-applicable"),
        "{:?}",
        outcomes(&results)
    );
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(junit.contains("<skipped"));
}

#[test]
fn shards_partition_the_suite() {
    let mut seen: Vec<(String, String)> = Vec::new();
    for i in 1..=3 {
        let dir = report_dir(&format!("shard{i}"));
        let shard = format!("{i}/3");
        let out = harness(&[
            "run",
            "--shard",
            &shard,
            "--tags",
            "@txn:RAD-129",
            "--report-dir",
            dir.path().to_str().unwrap(),
        ]);
        // An empty shard is a usage error (exit 2); a non-empty one passes.
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "{}",
            dump(&out)
        );
        if out.status.code() == Some(0) {
            seen.extend(outcomes(&results(dir.path())));
        }
    }
    let listed = harness(&["list", "--tags", "@txn:RAD-129"]);
    let total = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| l.starts_with("    tags:"))
        .count();
    let mut names: Vec<&String> = seen.iter().map(|(n, _)| n).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), seen.len(), "a scenario ran in two shards");
    assert_eq!(
        seen.len(),
        total,
        "every scenario runs in exactly one shard"
    );
    let bad = harness(&["run", "--shard", "4/3"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// The counts of a run, as stdout, results.json and junit.xml each give them.
fn counts_agree(out: &std::process::Output, reports: &std::path::Path) -> [usize; 5] {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let (breakdown, closing) = match lines.as_slice() {
        [.., b, c] => (*b, *c),
        _ => panic!("no summary\n{}", dump(out)),
    };
    let number = |text: &str, word: &str| -> usize {
        let at = text
            .find(word)
            .unwrap_or_else(|| panic!("no `{word}` in `{text}`"));
        text[..at]
            .trim_end()
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count before `{word}` in `{text}`"))
    };
    let stdout_counts = [
        number(breakdown, " pass,"),
        number(breakdown, " FAIL,"),
        number(breakdown, " ERROR,"),
        number(breakdown, " not applicable,"),
        number(breakdown, " skipped"),
    ];
    let total = number(breakdown, " scenarios:");
    assert_eq!(total, stdout_counts.iter().sum::<usize>(), "{breakdown}");
    // The closing line adds ERROR to failed and not applicable to skipped.
    assert_eq!(
        closing,
        format!(
            "{} passed, {} failed, {} skipped",
            stdout_counts[0],
            stdout_counts[1] + stdout_counts[2],
            stdout_counts[3] + stdout_counts[4]
        )
    );
    let r = results(reports);
    let s = &r["summary"];
    let json_counts = [
        s["passed"].as_u64().unwrap_or(99) as usize,
        s["failed"].as_u64().unwrap_or(99) as usize,
        s["errors"].as_u64().unwrap_or(99) as usize,
        s["not_applicable"].as_u64().unwrap_or(99) as usize,
        s["skipped"].as_u64().unwrap_or(99) as usize,
    ];
    assert_eq!(json_counts, stdout_counts, "results.json summary");
    assert_eq!(
        r["scenarios"].as_array().map(Vec::len),
        Some(total),
        "results.json scenarios"
    );
    let junit = std::fs::read_to_string(reports.join("junit.xml")).expect("junit.xml");
    let cases = junit.matches("<testcase ").count();
    let failures = junit.matches("<failure ").count();
    let errors = junit.matches("<error ").count();
    let skipped = junit.matches("<skipped").count();
    assert_eq!(cases, total, "junit test cases");
    assert_eq!(failures, stdout_counts[1], "junit failures");
    assert_eq!(errors, stdout_counts[2], "junit errors");
    assert_eq!(
        skipped,
        stdout_counts[3] + stdout_counts[4],
        "junit skipped"
    );
    stdout_counts
}

/// One truth: stdout's two summary lines, results.json and junit.xml give the same counts, for a
/// run with passes and Fails and one with Errors and not-applicable scenarios.
#[test]
fn stdout_results_json_and_junit_agree_on_the_counts() {
    let dir = report_dir("one-truth-a");
    let out = harness(&[
        "run",
        "--reference-fault",
        "peer-closes",
        "--tags",
        "@txn:RAD-129 or @req:DW-01",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    let [pass, fail, ..] = counts_agree(&out, dir.path());
    assert!(pass > 0 && fail > 0, "{}", dump(&out));

    let dir = report_dir("one-truth-b");
    let (out, reports) = run_profile_in(
        dir.path(),
        "[sut]\nname = \"unreachable\"\n[test_data]\nmode = \"preloaded\"\n[dicomweb]\nbase_url = \"http://127.0.0.1:1/dicom-web\"\n",
        "@txn:RAD-129 or @txn:ITI-67",
    );
    let [_, _, error, na, _] = counts_agree(&out, &reports);
    assert!(error > 0 && na > 0, "{}", dump(&out));
}

/// A run that wrote no results.json: the test's failure shows what the harness printed, so that a
/// CI log explains itself.
#[test]
fn a_missing_results_json_shows_what_the_harness_printed() {
    let dir = report_dir("no-results");
    let out = harness(&[
        "run",
        "--tags",
        "@a and and",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let path = dir.path().to_path_buf();
    let panic = std::panic::catch_unwind(move || results(&path)).expect_err("no results.json");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("no results.json")
            && message.contains("--- stderr")
            && message.contains("invalid --tags expression"),
        "{message}"
    );
}

/// `ihe-harness serve` with `faults`, as the SUT of a `retrieve`: the server and its HTTP port.
fn serve_with(faults: &[&str]) -> (ChildServer, u16) {
    let args: Vec<&str> = faults.iter().flat_map(|f| ["--fault", f]).collect();
    let (server, http, _) = serve_reference_with(&args);
    (server, http)
}

#[test]
fn retrieve_judges_the_streamed_study_with_the_retrieve_checks() {
    // MR-BRAIN, a fixture study of the reference.
    const STUDY: &str = "2.25.663258457482632739394936969467240525";
    let dir = report_dir("retrieve");
    let sut = dir.path().join("serve.toml");
    let run = |http: u16| {
        std::fs::write(
            &sut,
            format!(
                "[sut]\nname = \"serve\"\n[test_data]\nmode = \"preloaded\"\n\
                 [dicomweb]\nbase_url = \"http://127.0.0.1:{http}/dicom-web\"\n"
            ),
        )
        .expect("profile written");
        let sut = sut.display().to_string();
        harness(&[
            "retrieve",
            "--sut",
            &sut,
            "--study",
            STUDY,
            "--transfer-syntax",
            "*",
        ])
    };
    let (_good, http) = serve_with(&[]);
    let out = run(http);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", dump(&out));
    assert!(stdout.contains("status 200"), "{stdout}");
    assert!(stdout.contains("checks 5 of 5 pass"), "{stdout}");
    // The first instance twice: DW-18 fails and the exit code says so.
    let (_bad, http) = serve_with(&["duplicate-instance"]);
    let out = run(http);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
    assert!(stderr.contains("FAIL DW-18"), "{stderr}");
    assert!(stderr.contains("repeats SOP"), "{stderr}");
}
