//! Profile packs (`run --pack`, `[options] pack`): the pack is named in every output, an unknown
//! pack is a usage error, and the pack decides the MADO code table a manifest is judged against
//! unless the profile names one.

use std::process::{Command, Stdio};

use crate::common::*;

#[test]
fn the_pack_is_reported_and_an_unknown_one_is_a_usage_error() {
    let dir = report_dir("pack-cp2595");
    let out = harness(&[
        "run",
        "--tags",
        "@profile:MADO",
        "--pack",
        "ehn-imaging-cp2595",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pack ehn-imaging-cp2595@2026.1"));
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    assert_eq!(results["run"]["pack"]["name"], "ehn-imaging-cp2595");
    assert_eq!(results["run"]["pack"]["mado_code_table"], "dicom-final");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<property name="pack" value="ehn-imaging-cp2595@2026.1"/>"#),
        "{junit}"
    );
    let out = harness(&[
        "run",
        "--tags",
        "@profile:MADO",
        "--pack",
        "ehn-imaging@1999.1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ehn-imaging@2026.1"),
        "{}",
        dump(&out)
    );
}

#[test]
fn the_pack_decides_the_mado_code_table_unless_the_profile_names_one() {
    // `serve` publishes MADO manifests with the default pack's codes (the Trial Implementation's).
    let port = free_port();
    let _serve = ChildServer(
        Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    wait_port(port);
    let profile = |extra: &str| {
        format!(
            "[sut]\nname = \"serve\"\n[mhd]\nbase_url = \"http://127.0.0.1:{port}/fhir\"\n{extra}\n[test_data]\nmode = \"preloaded\"\n"
        )
    };
    let tags = "@profile:MADO and @req:KOS-12";
    // A pack on CP-2595's codes judges the Trial Implementation's codes a Fail of KOS-12.
    let run = run_profile(
        "pack-mismatch",
        &format!("{}[options]\npack = \"ehn-imaging-cp2595\"\n", profile("")),
        tags,
    );
    let failed: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert!(failed.iter().any(|c| c == "KOS-12"), "{}", dump(&run.out));
    // The profile's own code table wins over the pack.
    let run = run_profile(
        "pack-overridden",
        &format!(
            "{}[options]\npack = \"ehn-imaging-cp2595\"\n",
            profile("code_table = \"mado-ti\"")
        ),
        tags,
    );
    assert!(failures(&run.results).is_empty(), "{}", dump(&run.out));
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
    // `serve --pack` publishes the pack's codes: the same pack on both sides agrees.
    let port = free_port();
    let _serve = ChildServer(
        Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--pack", "ehn-imaging-cp2595"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    wait_port(port);
    let run = run_profile(
        "pack-both",
        &format!(
            "[sut]\nname = \"serve\"\n[mhd]\nbase_url = \"http://127.0.0.1:{port}/fhir\"\n[test_data]\nmode = \"preloaded\"\n[options]\npack = \"ehn-imaging-cp2595\"\n"
        ),
        tags,
    );
    assert!(failures(&run.results).is_empty(), "{}", dump(&run.out));
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
}
