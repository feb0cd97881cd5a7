//! The DIMSE suite against DCMTK's `dcmqrscp` (Debian package `dcmtk`), a second, independent
//! Query/Retrieve SCP, with DCMTK's `storescu` as a real Storage SCU sending to the harness's own
//! SCP. dcmqrscp's real deviations are Fails with evidence, pinned in
//! `tests/suite/known-deviations/dcmqrscp.txt`: a new deviation and a lost detection both break this test.

use std::path::Path;
use std::process::Command;

use crate::common::*;

/// dcmqrscp in its default fork mode.
fn start_dcmqrscp(dir: &Path, port: u16, harness_port: u16) -> ChildServer {
    let db = dir.join("db");
    std::fs::create_dir_all(&db).expect("db dir");
    let cfg = format!(
        "NetworkTCPPort = {port}\nMaxPDUSize = 65536\nMaxAssociations = 16\n\
         HostTable BEGIN\nharness = (HARNESS, 127.0.0.1, {harness_port})\nHostTable END\n\
         VendorTable BEGIN\nVendorTable END\n\
         AETable BEGIN\nDCMQRSCP {} RW (200, 1024mb) ANY\nAETable END\n",
        db.display()
    );
    std::fs::write(dir.join("dcmqrscp.cfg"), cfg).expect("config");
    let log = std::fs::File::create(dir.join("dcmqrscp.log")).expect("log");
    let err = log.try_clone().expect("log");
    let child = Command::new("dcmqrscp")
        .arg("-c")
        .arg(dir.join("dcmqrscp.cfg"))
        .stdout(log)
        .stderr(err)
        .spawn()
        .expect("dcmqrscp starts");
    wait_port(port);
    ChildServer(child)
}

/// dcmqrscp started in `dir` on a free port, and fixtures/sut/dcmqrscp.toml on the free ports of
/// this test.
fn start_with_profile(dir: &Path) -> (ChildServer, String) {
    let port = free_port();
    let harness_port = free_port();
    let server = start_dcmqrscp(dir, port, harness_port);
    let template = std::fs::read_to_string(root().join("fixtures/sut/dcmqrscp.toml")).unwrap();
    let text = template
        .replace("port = 11112", &format!("port = {port}"))
        .replace("127.0.0.1:11114", &format!("127.0.0.1:{harness_port}"));
    assert!(text.contains(&format!("port = {port}")) && text.contains(&harness_port.to_string()));
    (server, text)
}

fn pinned() -> Pins {
    pinned_from(include_str!("known-deviations/dcmqrscp.txt"))
}

#[test]
fn dcmqrscp_reports_only_the_pinned_deviations() {
    if !installed("dcmqrscp") || !installed("storescu") {
        eprintln!("DCMTK is not installed (ci/install.sh installs it): skipping");
        return;
    }
    let dir = report_dir("dcmqrscp");
    let (_server, text) = start_with_profile(dir.path());
    let text = text.replace("[simulator]\n", "[simulator]\ntrigger_timeout_ms = 20000\n");
    let (out, reports) = run_profile_in(dir.path(), &text, "@profile:DIMSE");
    let results = results(&reports);
    let want = pinned();
    assert_only_pinned(&results, &want, &out);
    let passed = outcomes(&results)
        .iter()
        .filter(|(_, o)| o == "pass")
        .count();
    assert!(
        passed >= 10,
        "only {passed} scenarios passed\n{}",
        dump(&out)
    );
    // dcmqrscp does not take JPEG-LS or JPEG 2000: the load stored those instances' Explicit VR
    // Little Endian twins, and the timed C-GET and C-MOVE that bring them back so are not
    // warned of a transcoding (PERF-05).
    let perf05: Vec<_> = results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["findings"].as_array().unwrap())
        .filter(|f| f["check"] == "PERF-05" && f["outcome"] != "pass")
        .collect();
    assert!(perf05.is_empty(), "{perf05:#?}\n{}", dump(&out));
}

/// The repro.sh of DIMSE scenarios repeats them from any working directory against the same SUT:
/// C-GET into a folder it creates, C-MOVE with a DCMTK storescp standing in for the harness's
/// Storage SCP, C-STORE of the re-identified copies kept in the evidence folder.
#[test]
fn dimse_repro_scripts_repeat_the_scenarios() {
    if !installed("dcmqrscp") || !installed("storescp") || !installed("getscu") {
        eprintln!("DCMTK is not installed (ci/install.sh installs it): skipping");
        return;
    }
    let dir = report_dir("dcmqrscp-repro");
    let (_server, text) = start_with_profile(dir.path());
    let (out, reports) = run_profile_in(
        dir.path(),
        &text,
        "@profile:DIMSE and not @role:simulator and not @neg",
    );
    let scenario = |name: &str| -> std::path::PathBuf {
        std::fs::read_dir(reports.join("evidence"))
            .unwrap()
            .flat_map(|f| std::fs::read_dir(f.unwrap().path()).unwrap())
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains(name))
            .unwrap_or_else(|| panic!("no evidence for {name}\n{}", dump(&out)))
    };
    let elsewhere = tempfile::tempdir().unwrap();
    // Whether the scenario's repro.sh succeeded, and what it printed.
    let run = |folder: &std::path::Path| {
        let o = Command::new("sh")
            .arg(folder.join("repro.sh"))
            .current_dir(elsewhere.path())
            .output()
            .expect("sh runs");
        let log = format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.success(), log)
    };
    let count = |p: std::path::PathBuf| std::fs::read_dir(&p).map(|d| d.count()).unwrap_or(0);
    let get = scenario("retrieved-on-the-same-association-by-c-get");
    let (_, log) = run(&get);
    assert!(count(get.join("get-received")) > 0, "C-GET repro: {log}");
    let moved = scenario("is-moved-to-the-harness-s-storage-scp");
    let (_, log) = run(&moved);
    assert!(
        count(moved.join("move-received")) > 0,
        "C-MOVE repro: {log}"
    );
    let stored = scenario("a-study-is-imported-into-the-pacs");
    let script = std::fs::read_to_string(stored.join("repro.sh")).unwrap();
    assert!(script.contains("01-dimse-files/0001"), "{script}");
    let (stored_ok, log) = run(&stored);
    assert!(stored_ok, "C-STORE repro: {log}");
}
