//! The files a run leaves for people and other tools: `tar.xml` (GITB TAR), the qualification
//! statement, `MANIFEST.sha256` with `report --verify`; and the commands around them: `init`
//! (with `--probe` against the real servers when their profiles are given) and `completions`.

use std::path::Path;

use crate::common::*;

/// An embedded run of the C-ECHO scenarios into `dir`.
fn small_run(dir: &Path) {
    let out = harness(&[
        "run",
        "--tags",
        "@txn:C-ECHO",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
}

#[test]
fn a_run_writes_tar_xml_and_a_manifest_that_verify_checks() {
    let dir = report_dir("report-files");
    small_run(dir.path());
    let tar = std::fs::read_to_string(dir.path().join("tar.xml")).expect("tar.xml");
    assert!(tar.contains("xsi:type=\"TAR\""));
    assert!(tar.contains("<result>SUCCESS</result>"));
    assert!(tar.contains("<assertionID>DIM-"), "{tar}");
    // The GITB schema accepts it, where xmllint is installed (ci/install.sh installs it).
    if let Ok(out) = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(root().join("fixtures/schemas/gitb_tr.xsd"))
        .arg(dir.path().join("tar.xml"))
        .output()
    {
        assert!(out.status.success(), "{}", dump(&out));
    }
    let manifest =
        std::fs::read_to_string(dir.path().join("MANIFEST.sha256")).expect("MANIFEST.sha256");
    for f in ["junit.xml", "results.json", "tar.xml"] {
        assert!(
            manifest.lines().any(|l| l.ends_with(&format!("  {f}"))),
            "{f} not in the manifest:\n{manifest}"
        );
    }
    assert!(manifest.lines().any(|l| l.contains("  evidence/")));
    let ok = harness(&["report", "--verify", dir.path().to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", dump(&ok));
    // One byte changed is caught, and named.
    let path = dir.path().join("results.json");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let bad = harness(&["report", "--verify", dir.path().to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1), "{}", dump(&bad));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("CHANGED  results.json"));
}

#[test]
fn report_statement_writes_the_statement_of_the_claims_and_the_manifest_again() {
    let dir = report_dir("statement");
    small_run(dir.path());
    let profile = dir.path().join("..").join(format!(
        "{}-claims.toml",
        dir.path().file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(
        &profile,
        "[sut]\nname = \"Claims\"\n[claims]\nactors = [\"DICOM SCP\"]\ntransactions = [\"C-ECHO\", \"C-STORE\"]\n",
    )
    .unwrap();
    let out = harness(&[
        "report",
        "--statement",
        "--report-dir",
        dir.path().to_str().unwrap(),
        "--sut",
        profile.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&profile);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("statement.json")).unwrap()).unwrap();
    let items = s["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{s:#}");
    let echo = items
        .iter()
        .find(|i| i["name"] == "C-ECHO")
        .expect("C-ECHO item");
    assert!(echo["tested"].as_u64().unwrap() > 0, "{echo:#}");
    assert_eq!(echo["failed"], 0);
    // C-STORE was claimed but the run selected only C-ECHO: not tested, and why.
    let store = items
        .iter()
        .find(|i| i["name"] == "C-STORE")
        .expect("C-STORE item");
    assert!(store["not_tested"].as_u64().unwrap() > 0, "{store:#}");
    assert!(
        store["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["why"].as_str().unwrap_or("").contains("@txn:C-ECHO")),
        "{store:#}"
    );
    let html = std::fs::read_to_string(dir.path().join("statement.html")).unwrap();
    // The statement is about the run's SUT; the profile only brings the claims.
    assert!(
        html.contains("Qualification statement: ihe-harness embedded reference"),
        "{html}"
    );
    let manifest = std::fs::read_to_string(dir.path().join("MANIFEST.sha256")).unwrap();
    assert!(manifest.contains("  statement.html\n") && manifest.contains("  statement.json\n"));
    let ok = harness(&["report", "--verify", dir.path().to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", dump(&ok));
    // A profile without [claims] is a usage error.
    let none = harness(&[
        "report",
        "--statement",
        "--report-dir",
        dir.path().to_str().unwrap(),
        "--sut",
        "fixtures/sut/orthanc.toml",
    ]);
    assert_eq!(none.status.code(), Some(2), "{}", dump(&none));
}

#[test]
fn init_writes_a_profile_that_run_accepts() {
    let dir = report_dir("init");
    let file = dir.path().join("sut.toml");
    let out = harness(&[
        "init",
        "--dicomweb",
        "http://127.0.0.1:1/dicom-web",
        "--dimse",
        "127.0.0.1:1",
        "--called-ae",
        "PACS",
        "--xds-registry",
        "http://127.0.0.1:1/registry",
        "--mhd",
        "http://127.0.0.1:1/fhir",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let c = ihe_harness::config::Config::load(&file).expect("the profile loads");
    assert!(c.dicomweb.is_some() && c.dimse.is_some() && c.xds.is_some() && c.mhd.is_some());
    let none = harness(&["init"]);
    assert_eq!(none.status.code(), Some(2), "{}", dump(&none));
    // An existing file is replaced only with --force.
    let args = [
        "init",
        "--dicomweb",
        "http://127.0.0.1:1/dicom-web",
        "--output",
        file.to_str().unwrap(),
    ];
    let again = harness(&args);
    assert_eq!(again.status.code(), Some(2), "{}", dump(&again));
    assert!(ihe_harness::config::Config::load(&file)
        .unwrap()
        .dimse
        .is_some());
    let forced = harness(&[&args[..], &["--force"]].concat());
    assert_eq!(forced.status.code(), Some(0), "{}", dump(&forced));
    assert!(ihe_harness::config::Config::load(&file)
        .unwrap()
        .dimse
        .is_none());
}

#[test]
fn completions_generate_for_bash() {
    let out = harness(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("_ihe__harness()"), "{text}");
    assert!(text.contains("complete -F _ihe__harness"), "{text}");
    assert!(text.contains("completions") && text.contains("--report-dir"));
}

#[test]
fn init_probe_finds_what_the_real_servers_offer() {
    let _orthanc = orthanc_lock();
    let (Ok(orthanc), Ok(fhir)) = (
        std::env::var("IHE_HARNESS_ORTHANC_PROFILE"),
        std::env::var("IHE_HARNESS_FHIR_PROFILE"),
    ) else {
        eprintln!("IHE_HARNESS_ORTHANC_PROFILE / IHE_HARNESS_FHIR_PROFILE are not set: ci/test.sh starts the servers and sets them; skipping");
        return;
    };
    let o = ihe_harness::config::Config::load(Path::new(&orthanc)).expect("Orthanc profile");
    let f = ihe_harness::config::Config::load(Path::new(&fhir)).expect("FHIR profile");
    let dw = o.dicomweb.expect("[dicomweb]").base_url;
    let d = o.dimse.expect("[dimse]");
    let mhd = f.mhd.expect("[mhd]").base_url;
    let dir = report_dir("init-probe");
    let file = dir.path().join("sut.toml");
    let out = harness(&[
        "init",
        "--probe",
        "--dicomweb",
        &dw,
        "--dimse",
        &format!("{}:{}", d.host, d.port),
        "--called-ae",
        &d.called_ae,
        "--mhd",
        &mhd,
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("# probe: QIDO-RS GET") && text.contains("application/dicom+json"),
        "{text}"
    );
    assert!(text.contains("# probe: C-ECHO to"), "{text}");
    assert!(text.contains("accepted (status 0000)"), "{text}");
    assert!(
        text.contains("CapabilityStatement, fhirVersion 4.0.1"),
        "{text}"
    );
    assert!(!text.contains("probe FAILED"), "{text}");
    ihe_harness::config::Config::load(&file).expect("the probed profile loads");
}

#[test]
fn init_probe_finds_what_the_served_reference_offers() {
    let (_server, http, dimse) = serve_reference_ports(None);
    let out = harness(&[
        "init",
        "--probe",
        "--dicomweb",
        &format!("http://127.0.0.1:{http}/dicom-web"),
        "--dimse",
        &format!("127.0.0.1:{dimse}"),
        "--called-ae",
        "IHE_REFERENCE",
        "--mhd",
        &format!("http://127.0.0.1:{http}/fhir"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# probe: QIDO-RS GET"), "{text}");
    assert!(text.contains("application/dicom+json"), "{text}");
    assert!(text.contains("# probe: C-ECHO to IHE_REFERENCE"), "{text}");
    assert!(text.contains("# probe: GET http://127.0.0.1:"), "{text}");
    assert!(
        text.contains("CapabilityStatement, fhirVersion 4.0.1"),
        "{text}"
    );
    let dir = report_dir("init-served");
    let file = dir.path().join("sut.toml");
    std::fs::write(&file, text.as_bytes()).unwrap();
    ihe_harness::config::Config::load(&file).expect("the probed profile loads");
}

#[test]
fn an_unreachable_sut_with_claims_gives_an_undefined_tar_and_a_statement_without_failures() {
    let dir = report_dir("unreachable-claims");
    // Port 9 (discard) on loopback: nothing listens there.
    let (out, reports) = run_profile_in(
        dir.path(),
        "[dicomweb]\nbase_url = \"http://127.0.0.1:9/dicom-web\"\nconnect_timeout_ms = 500\n\
         [test_data]\nmode = \"preloaded\"\n\
         [claims]\nactors = [\"DICOMweb origin server\"]\ntransactions = [\"RAD-129\"]\n",
        "@txn:RAD-129 and not @role:simulator",
    );
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("statement.html"), "{stdout}");
    let tar = std::fs::read_to_string(reports.join("tar.xml")).unwrap();
    assert!(tar.contains("<result>UNDEFINED</result>"), "{tar}");
    assert!(tar.contains("<nrOfErrors>0</nrOfErrors>"), "{tar}");
    assert!(tar.contains("<type>harness-error</type>"), "{tar}");
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("statement.json")).unwrap()).unwrap();
    assert_eq!(s["verdict"], "incomplete", "{s:#}");
    for item in s["items"].as_array().unwrap() {
        assert_eq!(item["failed"], 0, "{item:#}");
    }
    let rad129 = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "RAD-129")
        .expect("RAD-129");
    assert!(
        rad129["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["verdict"] == "error"),
        "{rad129:#}"
    );
    // The statement is in the manifest, which the run wrote last.
    let manifest = std::fs::read_to_string(reports.join("MANIFEST.sha256")).unwrap();
    assert!(manifest.contains("  statement.html\n"), "{manifest}");
    let ok = harness(&["report", "--verify", reports.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", dump(&ok));
    // A later run into the same folder without claims leaves no statement behind.
    let (out, reports) = run_profile_in(
        dir.path(),
        "[dicomweb]\nbase_url = \"http://127.0.0.1:9/dicom-web\"\nconnect_timeout_ms = 500\n\
         [test_data]\nmode = \"preloaded\"\n",
        "@txn:RAD-129 and not @role:simulator",
    );
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
    assert!(!reports.join("statement.html").exists());
    assert!(!reports.join("statement.json").exists());
}
