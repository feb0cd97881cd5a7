//! `ihe-harness validate` on the third-party corpus (`fixtures/corpus/MANIFEST.json` and
//! `fixtures/corpus/xds/MANIFEST.json`): every `valid` file PASSED, every `invalid` file FAILED,
//! every `unknown` file judged without a panic; the KOS/MADO verdicts compared with dicom3tools'
//! `dciodvfy`; the command's exit codes, `--as`, hostile inputs, and the Gazelle API v2 server.
//!
//! `IHE_HARNESS_ROOT` overrides the repository root (default: this crate's manifest directory).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use ihe_harness::report::gazelle::TestResult;
use ihe_harness::validate::{self, Context, FileType, Options};
use serde_json::Value;

fn root() -> PathBuf {
    std::env::var_os("IHE_HARNESS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn corpus() -> PathBuf {
    root().join("fixtures/corpus")
}

fn nist_context() -> Context {
    Context::load(&corpus().join("nist-responder.toml")).expect("the NIST responder context loads")
}

/// Files whose source verdict our checks contradict, with exactly the checks they fail and why.
/// The MADO IG publishes this Binary as an example, but the KOS it carries (made by the IG's
/// converter) breaks DICOM: its Retrieve Location UID (0040,E011) is "ACME", which is not a UID
/// (PS3.5 §6.2, VR UI; KOS-22); it has no root-level references (TID 2010 rows 8-10; KOS-06); its
/// title is the CP-2595 placeholder (ddd001, DCM) with the meaning "Manifest with description",
/// read under the XDS-I.b manifest title rule (KOS-04). The same reading is pinned in
/// mado_corpus.rs. The IG build validates the FHIR Binary, not the DICOM object inside it.
const DISAGREES: &[(&str, &[&str])] = &[(
    "mado/mado-mado-kos-1.2.250.1.59.40211.22756022.2.1.102-binary.json",
    &["KOS-04", "KOS-06", "KOS-22"],
)];

/// Invalid files whose defect is contextual (fixtures/corpus/README.md, and CONTEXTUAL of
/// xds_corpus.rs), with the check that must report it against the NIST responder context. Without
/// the context they PASS, with these checks reported as not judged.
const CONTEXTUAL: &[(&str, &str)] = &[
    (
        "xds/nist-ids_2018-4811-case-01_Invalid_RepositoryUID-rad69-request.xml",
        "XDSI-01",
    ),
    (
        "xds/nist-ids_2018-4811-case-02_Unknown_SOP_Instance_UID-rad69-request.xml",
        "XDSI-01",
    ),
    (
        "xds/nist-ids_2018-4811-case-09_Invalid_Transfer_Syntax_UID-rad69-request.xml",
        "XDSI-01",
    ),
    ("xds/nist-rig_2018-5424b-RAD-75Request.xml", "XDSI-01"),
    ("xds/nist-rig_2018-5424c-RAD-75Request.xml", "XCAI-06"),
];

/// The type a file must be given: a bare RetrieveImagingDocumentSetRequest is the body of both
/// RAD-69 and RAD-75 (the transaction is in the SOAP Action, which a bare body has not); the
/// NIST rig_2018 files are RAD-75 requests (their test plans, MANIFEST `what`).
fn as_type(file: &str) -> Option<FileType> {
    file.contains("RAD-75Request")
        .then_some(FileType::Rad75Request)
}

/// Every file of both manifests with its verdict, once.
fn entries() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for m in ["MANIFEST.json", "xds/MANIFEST.json"] {
        let v: Value = serde_json::from_slice(
            &std::fs::read(corpus().join(m)).expect("the corpus manifest is readable"),
        )
        .expect("the manifest is JSON");
        for e in v.as_array().expect("an array") {
            let file = e["file"].as_str().expect("file").to_string();
            let expected = e["expected"].as_str().unwrap_or("unknown").to_string();
            out.insert(file, expected);
        }
    }
    out
}

fn judge_file(file: &str, context: bool) -> validate::Judgement {
    let bytes = std::fs::read(corpus().join(file)).expect("corpus file is readable");
    let opts = Options {
        as_type: as_type(file),
        context: context.then(nist_context),
        strict: false,
    };
    validate::judge(file, &bytes, &opts)
}

#[test]
fn corpus_verdicts_agree_with_the_manifests() {
    let mut failures = Vec::new();
    let (mut agree, mut judged, mut agree_no_fhir, mut judged_no_fhir) = (0, 0, 0, 0);
    for (file, expected) in entries() {
        let j = judge_file(&file, true);
        let result = j.result();
        println!("{file} | {expected} | {result} | {}", j.kind);
        for l in validate::console_lines(&j).iter().skip(1) {
            println!("   {l}");
        }
        let want = match expected.as_str() {
            "valid" => TestResult::Passed,
            "invalid" => TestResult::Failed,
            _ => continue,
        };
        let fhir = matches!(
            j.file_type,
            Some(FileType::FhirJson | FileType::FhirXml | FileType::Fsh)
        );
        judged += 1;
        if !fhir {
            judged_no_fhir += 1;
        }
        if result == want {
            agree += 1;
            if !fhir {
                agree_no_fhir += 1;
            }
        } else if let Some((_, checks)) = DISAGREES.iter().find(|(f, _)| *f == file) {
            let mut failed: Vec<&str> = j
                .assertions
                .iter()
                .filter(|a| a.finding.is_failure())
                .map(|a| a.finding.check.as_str())
                .collect();
            failed.sort_unstable();
            failed.dedup();
            assert_eq!(&failed, checks, "{file}: the pinned disagreement changed");
        } else {
            failures.push(format!("{file}: expected {want}, got {result}"));
        }
        if let Some((_, rule)) = CONTEXTUAL.iter().find(|(f, _)| *f == file) {
            assert!(
                j.assertions
                    .iter()
                    .any(|a| a.finding.check == *rule && a.finding.is_failure()),
                "{file}: {rule} must report the contextual defect"
            );
        }
    }
    println!(
        "agreement: {agree}/{judged} valid/invalid files; without FHIR files {agree_no_fhir}/{judged_no_fhir}"
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(agree_no_fhir, judged_no_fhir);
    assert_eq!(agree + DISAGREES.len(), judged);
}

#[test]
fn pinned_disagreements_are_files_of_the_manifest() {
    let all = entries();
    for (f, _) in DISAGREES {
        assert!(all.contains_key(*f), "{f} is not in a MANIFEST");
    }
}

#[test]
fn contextual_defects_are_not_judged_without_a_context() {
    for (file, rule) in CONTEXTUAL {
        let j = judge_file(file, false);
        assert_eq!(j.result(), TestResult::Passed, "{file}");
        assert!(
            j.assertions.iter().any(|a| a.finding.check == *rule
                && a.finding.outcome == ihe_harness::checks::Outcome::NotApplicable),
            "{file}: {rule} is reported as not judged"
        );
        assert!(j.notes.iter().any(|n| n.contains("no --context")), "{file}");
    }
}

/// Files where our verdict's structural part and dciodvfy's Error lines disagree, and why.
const DCIODVFY_DISAGREES: &[(&str, &str)] = &[
    (
        "mado-MADO_KOS_A.dcm",
        "dciodvfy reports Value Types NUM, DATE and TIME as unrecognised in the KOS content tree: \
         the Key Object Selection Document Content Module of the PS3.3 edition it knows allows \
         only CONTAINER, TEXT, CODE, UIDREF, PNAME and references; MADO Rev 1.1 §6.X.2 (the \
         'Manifest with Description', TID 1600 Image Library descriptors, CP-2595) adds them. The \
         MADO rules accept them; the IG uses the file as its example",
    ),
    ("mado-MADO_KOS_B.dcm", "as mado-MADO_KOS_A.dcm"),
    (
        "hl7eu-GK17285-KOS.dcm",
        "a Key Object Selection titled (113000, DCM, 'Of Interest'), a well-formed KOS for \
         dciodvfy; judged as an XDS-I.b manifest it breaks KOS-04 (RAD TF-2 §4.68.4.1.2.1: the \
         title of a manifest is (113030, DCM, 'Manifest')), a rule of the profile dciodvfy does \
         not know. The source gives no verdict (unknown)",
    ),
    (
        "nist-ids_2018-4801a-kos-evaluate.dcm",
        "dciodvfy reports Manufacturer (0008,0070), Type 2 of the General Equipment Module, \
         missing: a PS3.3 module attribute that neither RAD TF-3 §4.68.4.1.2 nor the XDS-I.b \
         manifest rules check; NIST's test plan uses the file as the comparison standard (valid)",
    ),
    (
        "nist-ids_2018-4801b-kos-evaluate.dcm",
        "as nist-ids_2018-4801a-kos-evaluate.dcm",
    ),
    (
        "nist-ids_2018-4801c-kos-evaluate.dcm",
        "as nist-ids_2018-4801a-kos-evaluate.dcm",
    ),
];

#[test]
fn kos_verdicts_cross_checked_with_dciodvfy() {
    if Command::new("dciodvfy").arg("-version").output().is_err() {
        println!("notice: dciodvfy (Debian package dicom3tools) is not installed; skipped");
        return;
    }
    let mut files: Vec<String> = entries()
        .into_keys()
        .filter(|f| f.ends_with(".dcm"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut unexplained = Vec::new();
    let (mut same, mut differ) = (0, 0);
    for file in &files {
        let path = corpus().join(file);
        let out = Command::new("dciodvfy")
            .arg(&path)
            .output()
            .expect("dciodvfy runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("Error")).collect();
        let j = judge_file(file, false);
        // The structural part of our verdict: a SHALL of the KOS/MADO rules broken (or the file
        // not DICOM).
        let ours = j.result() == TestResult::Failed;
        let theirs = !errors.is_empty();
        let name = file.rsplit('/').next().unwrap_or(file);
        println!(
            "{file}: ours {} | dciodvfy {} error lines",
            j.result(),
            errors.len()
        );
        for e in errors.iter().take(5) {
            println!("    {e}");
        }
        if ours == theirs {
            same += 1;
        } else {
            differ += 1;
            if !DCIODVFY_DISAGREES.iter().any(|(f, _)| *f == name) {
                unexplained.push(format!(
                    "{file}: ours {ours}, dciodvfy {theirs}: {errors:?}"
                ));
            }
        }
    }
    println!("dciodvfy: {same} agree, {differ} differ (each explained in DCIODVFY_DISAGREES)");
    assert!(unexplained.is_empty(), "{unexplained:#?}");
}

#[test]
fn hostile_inputs_end_failed_or_undefined() {
    let kos = std::fs::read(corpus().join("kos/nist-testdata-IDCDEPT002-kos.dcm")).unwrap();
    let cases: Vec<(&str, Vec<u8>, Option<FileType>)> = vec![
        ("empty", vec![], None),
        ("truncated DICOM", kos[..kos.len().min(400)].to_vec(), None),
        ("DICM only", {
            let mut b = vec![0u8; 128];
            b.extend_from_slice(b"DICM");
            b
        }, None),
        (
            "invalid UTF-8 XML",
            b"<?xml version=\"1.0\"?><AdhocQueryRequest>\xff\xfe</AdhocQueryRequest>".to_vec(),
            None,
        ),
        (
            "XML bomb",
            br#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>"#.to_vec(),
            None,
        ),
        (
            "XML bomb as an ITI-18 request",
            br#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">]><l>&a;</l>"#.to_vec(),
            Some(FileType::Iti18Request),
        ),
        ("binary junk", (0..=255u8).cycle().take(5000).collect(), None),
        ("JSON junk", b"{\"a\": [1, 2, {".to_vec(), None),
        ("deep JSON", {
            let mut v = vec![b'['; 10_000];
            v.extend(vec![b']'; 10_000]);
            v
        }, None),
        ("KOS as an ITI-18 request", kos.clone(), Some(FileType::Iti18Request)),
    ];
    for (what, bytes, as_type) in cases {
        let j = validate::judge(
            what,
            &bytes,
            &Options {
                as_type,
                ..Options::default()
            },
        );
        println!("{what}: {} ({})", j.result(), j.kind);
        assert_ne!(j.result(), TestResult::Passed, "{what}");
        // Every file gets a report the Gazelle model can carry.
        let r = validate::gazelle_report("auto", std::slice::from_ref(&j));
        assert_ne!(r.overall_result, TestResult::Passed, "{what}");
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
}

/// A folder is validated as the files in it, every level down: the ones of a type validate knows
/// are judged, the others (a README, a manifest) skipped and named, hidden ones left out; a file
/// named on the command line is judged whatever it is.
#[test]
fn a_folder_is_validated_as_the_messages_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("messages");
    std::fs::create_dir_all(tree.join("bad")).unwrap();
    std::fs::copy(corpus().join("xds/nist-sq-req.xml"), tree.join("query.xml")).unwrap();
    std::fs::copy(
        corpus().join("xds/nist-sq-req-missing-stat.xml"),
        tree.join("bad/query.xml"),
    )
    .unwrap();
    std::fs::write(tree.join("README.md"), "# what these are\n").unwrap();
    std::fs::write(tree.join(".hidden.xml"), "<not judged/>").unwrap();
    let reports = dir.path().join("reports");
    let validate = |args: &[&std::path::Path]| {
        bin()
            .arg("validate")
            .arg("--report-dir")
            .arg(&reports)
            .args(args)
            .output()
            .expect("the binary runs")
    };
    let out = validate(&[&tree]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // The bad query fails: exit 1, not 2 for the README.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("2 files: 1 PASSED, 1 FAILED, 0 UNDEFINED, 1 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SKIPPED") && stdout.contains("README.md"),
        "{stdout}"
    );
    assert!(!stdout.contains(".hidden.xml"), "{stdout}");
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 2, "{junit}");
    // Named, the README is judged: UNDEFINED, exit 2.
    let out = validate(&[&tree.join("README.md")]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn command_exit_codes_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let valid = corpus().join("xds/nist-sq-req.xml");
    let invalid = corpus().join("xds/nist-sq-req-missing-stat.xml");
    let empty = dir.path().join("empty.xml");
    std::fs::write(&empty, b"").unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = bin()
            .arg("validate")
            .arg("--report-dir")
            .arg(&reports)
            .args(args)
            .output()
            .expect("the binary runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(&[valid.as_os_str()]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("PASSED"));
    let (code, stdout, _) = run(&[valid.as_os_str(), invalid.as_os_str()]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("ITI18-03"), "{stdout}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(reports.join("validation.json")).unwrap()).unwrap();
    assert_eq!(report["overallResult"], "FAILED");
    assert_eq!(report["inputs"].as_array().unwrap().len(), 2);
    assert!(report["reports"][1]["assertionReports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["assertionID"] == "ITI18-03" && a["severity"] == "ERROR"));
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 2);
    assert!(junit.contains("<failure type=\"ITI18-03\""), "{junit}");
    let (code, _, _) = run(&[empty.as_os_str()]);
    assert_eq!(code, Some(2));
    let (code, _, _) = run(&[dir.path().join("absent.xml").as_os_str()]);
    assert_eq!(code, Some(2));
    let (code, _, stderr) = run(&["--as".as_ref(), "nope".as_ref(), valid.as_os_str()]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("rad69-request"),
        "the known types are listed: {stderr}"
    );
    // --as with a type that does not fit the file: not judged, UNDEFINED.
    let (code, stdout, _) = run(&["--as".as_ref(), "kos".as_ref(), valid.as_os_str()]);
    assert_ne!(code, Some(0), "{stdout}");
    let (code, stdout, _) = run(&[
        "--context".as_ref(),
        corpus().join("nist-responder.toml").as_os_str(),
        corpus()
            .join("xds/nist-ids_2018-4811-case-01_Invalid_RepositoryUID-rad69-request.xml")
            .as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("XDSUnknownRepositoryId"), "{stdout}");
    let out = bin().args(["validate", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for t in FileType::ALL {
        assert!(help.contains(t.id()), "--help lists {}", t.id());
    }
}

#[tokio::test]
async fn gazelle_api_v2_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let opts = Options {
        context: Some(nist_context()),
        ..Options::default()
    };
    tokio::spawn(validate::serve::serve(listener, opts));
    ihe_harness::transport::install_crypto_provider();
    let client = reqwest::Client::builder().build().unwrap();
    let base = format!("http://{addr}/validation/v2");

    let profiles: Value = client
        .get(format!("{base}/profiles"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let profiles = profiles.as_array().unwrap();
    assert_eq!(profiles.len(), FileType::ALL.len());
    assert!(profiles
        .iter()
        .any(|p| p["profileID"] == "rad69-request" && p["domain"] == "RAD"));
    assert!(profiles[0]["coveredItems"].as_array().is_some());

    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let case01 = std::fs::read(
        corpus().join("xds/nist-ids_2018-4811-case-01_Invalid_RepositoryUID-rad69-request.xml"),
    )
    .unwrap();
    let req = serde_json::json!({
        "validationServiceName": "ihe-harness",
        "validationProfileId": "rad69-request",
        "inputs": [{ "id": "case-01.xml", "content": b64(&case01) }]
    });
    let resp = client
        .post(format!("{base}/validate"))
        .header("content-type", "application/json")
        .body(req.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let report: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(report["overallResult"], "FAILED");
    assert_eq!(report["modelVersion"], "2.0");
    let a = report["reports"][0]["assertionReports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["result"] == "FAILED")
        .cloned()
        .unwrap();
    assert_eq!(a["assertionID"], "XDSI-01");
    assert_eq!(a["priority"], "MANDATORY");
    assert!(a["subjectLocations"][0]["value"]
        .as_str()
        .unwrap()
        .ends_with("RepositoryUniqueId"));

    let post = |body: Vec<u8>| {
        let client = client.clone();
        let url = format!("{base}/validate");
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    };
    let bad_b64 = serde_json::json!({"inputs": [{"id": "x", "content": "%%%not base64%%%"}]});
    assert_eq!(post(bad_b64.to_string().into_bytes()).await.unwrap(), 400);
    assert_eq!(post(b"{not json".to_vec()).await.unwrap(), 400);
    let unknown = serde_json::json!({"validationProfileId": "nope", "inputs": [{"content": ""}]});
    assert_eq!(post(unknown.to_string().into_bytes()).await.unwrap(), 400);
    let giant = vec![b' '; validate::serve::MAX_REQUEST_BYTES + 1024];
    // The server refuses the body (413) or closes the connection while it is sent.
    match post(giant).await {
        Ok(code) => assert_eq!(code, 413),
        Err(e) => println!("giant body: connection closed ({e})"),
    }
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><l>&b;</l>"#;
    let req = serde_json::json!({"inputs": [{"id": "bomb.xml", "content": b64(bomb)}]});
    let resp = client
        .post(format!("{base}/validate"))
        .body(req.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let report: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(report["overallResult"], "UNDEFINED");
    // Still serving after all that.
    let status = client
        .get(format!("{base}/profiles"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}
