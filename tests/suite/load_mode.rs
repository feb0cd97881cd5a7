//! `ihe-harness load` against `ihe-harness serve`: the QIDO-RS requests of the RAD-129 scenarios
//! replayed by virtual users, counted and timed in load.json without an error, and two shards'
//! files merged by `load merge`.

use crate::common::*;

fn profile(http: u16) -> String {
    format!(
        "[sut]\nname = \"ihe-harness serve\"\n[test_data]\nmode = \"preloaded\"\n\
         [dicomweb]\nbase_url = \"http://127.0.0.1:{http}/dicom-web\"\n"
    )
}

fn load_args<'a>(sut: &'a str, reports: &'a str, users: &'a str) -> Vec<&'a str> {
    vec![
        "load",
        "--sut",
        sut,
        "--tags",
        "@txn:RAD-129",
        "--users",
        users,
        "--duration",
        "2s",
        "--sample",
        "3",
        "--report-dir",
        reports,
    ]
}

fn load_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no {} ({e})\n{}", path.display(), last_output()));
    serde_json::from_str(&text).expect("load.json parses")
}

fn rad129(file: &serde_json::Value) -> &serde_json::Value {
    file["transactions"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["transaction"] == "RAD-129"))
        .unwrap_or_else(|| panic!("no RAD-129 row in {file:#}"))
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn load_against_serve_counts_and_times_every_request_without_errors() {
    let (_server, http) = serve_reference(None);
    let dir = report_dir("load");
    let sut = dir.path().join("serve.toml");
    std::fs::write(&sut, profile(http)).expect("profile written");
    let reports = dir.path().join("out");
    let (sut_s, rep_s) = (sut.display().to_string(), reports.display().to_string());
    let out = harness(&load_args(&sut_s, &rep_s, "2"));
    assert!(out.status.success(), "{}", dump(&out));
    let file = load_json(&reports.join("load.json"));
    assert_eq!(file["users"], 2);
    assert_eq!(file["sample_every"], 3);
    let row = rad129(&file);
    let requests = n(&row["requests"]);
    assert!(requests > 10, "{row:#}");
    assert_eq!(row["errors"], 0, "{file:#}");
    assert_eq!(row["failures"], 0, "{file:#}");
    // Every third answer judged.
    assert!(n(&row["sampled"]) >= requests / 3, "{row:#}");
    // The seconds add up to the whole, each with its own histogram.
    let seconds = row["seconds"].as_array().expect("seconds");
    assert!(seconds.len() >= 2, "{row:#}");
    assert_eq!(
        seconds.iter().map(|s| n(&s["requests"])).sum::<u64>(),
        requests
    );
    assert!(seconds
        .iter()
        .all(|s| s["histogram"].as_str().is_some_and(|h| !h.is_empty())));
    let (p50, p99, max) = (
        row["p50_ms"].as_f64().expect("p50"),
        row["p99_ms"].as_f64().expect("p99"),
        row["max_ms"].as_f64().expect("max"),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{row:#}");
    // The console table has the row.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("RAD-129")), "{stdout}");
    // The histogram is the HdrHistogram V2 form, base64: it holds one value per answer.
    let h = ihe_harness::load::stats::decode(row["histogram"].as_str().expect("histogram"))
        .expect("histogram decodes");
    assert_eq!(h.len(), requests);
}

#[test]
fn two_shards_merge_into_one_load_file() {
    let (_server, http) = serve_reference(None);
    let dir = report_dir("load-shards");
    let sut = dir.path().join("serve.toml");
    std::fs::write(&sut, profile(http)).expect("profile written");
    let sut_s = sut.display().to_string();
    let shards: Vec<_> = (1..=2)
        .map(|i| {
            let reports = dir.path().join(format!("shard-{i}"));
            let rep_s = reports.display().to_string();
            let shard = format!("{i}/2");
            let mut args = load_args(&sut_s, &rep_s, "3");
            args.extend(["--shard", &shard]);
            // The shards run at the same time, as the Jobs of one load run do.
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
                .args(&args)
                .current_dir(root())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the binary runs");
            (reports, child)
        })
        .collect();
    let mut files = Vec::new();
    for (reports, child) in shards {
        let out = child.wait_with_output().expect("the shard ends");
        assert!(out.status.success(), "{}", dump(&out));
        files.push(reports.join("load.json"));
    }
    let (a, b) = (load_json(&files[0]), load_json(&files[1]));
    // Three users: two for the first shard, one for the second.
    assert_eq!(
        (a["users"].clone(), b["users"].clone()),
        (2.into(), 1.into())
    );
    assert_eq!(a["shards"][0], "1/2");
    let merged_path = dir.path().join("merged.json");
    let out = harness(&[
        "load",
        "merge",
        &files[0].display().to_string(),
        &files[1].display().to_string(),
        "--output",
        &merged_path.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", dump(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("RAD-129"));
    let m = load_json(&merged_path);
    assert_eq!(m["users"], 3);
    let (ra, rb, rm) = (rad129(&a), rad129(&b), rad129(&m));
    assert_eq!(rm["errors"], 0, "{m:#}");
    for k in ["requests", "errors", "failures", "sampled"] {
        assert_eq!(n(&rm[k]), n(&ra[k]) + n(&rb[k]), "{k}");
    }
    let p99 = |r: &serde_json::Value| r["p99_ms"].as_f64().expect("p99");
    let (lo, hi) = (p99(ra).min(p99(rb)), p99(ra).max(p99(rb)));
    assert!(lo <= p99(rm) && p99(rm) <= hi, "{lo} {} {hi}", p99(rm));
    let h = ihe_harness::load::stats::decode(rm["histogram"].as_str().expect("histogram"))
        .expect("merged histogram decodes");
    assert_eq!(h.len(), n(&rm["requests"]));
}

#[test]
fn merge_refuses_a_file_that_is_not_a_load_file() {
    let dir = report_dir("load-merge-bad");
    let bad = dir.path().join("x.json");
    std::fs::write(&bad, "{\"transactions\": 3}").expect("written");
    let out = harness(&["load", "merge", &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a load.json"));
}

/// The replay connects as the profile says: over TLS with the profile's CA and client certificate
/// (Orthanc behind the nginx HTTPS front of ci/start-nginx-tls.sh, which requires one).
#[test]
fn load_replays_over_the_profiles_mutual_tls() {
    // It loads the test data into Orthanc: one Orthanc test at a time.
    let _orthanc = orthanc_lock();
    let Ok(profile) = std::env::var("IHE_HARNESS_ORTHANC_TLS_PROFILE") else {
        eprintln!("IHE_HARNESS_ORTHANC_TLS_PROFILE is not set: ci/test.sh starts the TLS peers and sets it; skipping");
        return;
    };
    let dir = report_dir("load-tls");
    let reports = dir.path().join("out");
    let rep_s = reports.display().to_string();
    let out = harness(&load_args(&profile, &rep_s, "2"));
    assert!(out.status.success(), "{}", dump(&out));
    let file = load_json(&reports.join("load.json"));
    let row = rad129(&file);
    assert!(n(&row["requests"]) > 0, "{file:#}");
    assert_eq!(n(&row["errors"]), 0, "{file:#}");
    assert_eq!(n(&row["failures"]), 0, "{file:#}");
}
