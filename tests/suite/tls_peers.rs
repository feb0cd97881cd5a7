//! The ATNA (ITI-19) scenarios against `openssl s_server`, a real TLS server configured well and
//! badly by `ci/openssl-peer.sh` on the test PKI of `ci/make-test-pki.sh`: each certificate and
//! protocol negative fails on the misconfigured peer, passes on the strict one, and a peer that
//! refuses the harness's own certificate turns every scenario into an Error naming the TLS cause.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

/// `openssl version` runs (the tool has no `--version`).
fn openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn peer(pki: &Path, mode: &str) -> (ChildServer, u16) {
    let port = free_port();
    let child = Command::new("bash")
        .arg(root().join("ci/openssl-peer.sh"))
        .args(["server", mode, &port.to_string()])
        .env("PKI_DIR", pki)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl-peer.sh");
    wait_port(port);
    (ChildServer(child), port)
}

fn profile(pki: &Path, port: u16, client: &str) -> String {
    let f = |n: &str| toml_string(&pki.join(n).display().to_string());
    format!(
        "[sut]\nname = \"openssl s_server\"\n[tls]\nca_file = {}\ncert_file = {}\nkey_file = {}\nca_key_file = {}\n\
         [dicomweb]\nbase_url = \"https://localhost:{port}/dicom-web\"\n[test_data]\nmode = \"preloaded\"\n",
        f("ca.pem"),
        f(&format!("{client}.pem")),
        f(&format!("{client}.key")),
        f("ca/test/key.pem"),
    )
}

fn failed_checks(results: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = failures(results).into_iter().map(|(_, c)| c).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn a_lax_server_fails_every_client_and_version_negative() {
    if !openssl() {
        eprintln!("skipped: no openssl");
        return;
    }
    let dir = report_dir("tls-lax");
    let pki = test_pki(dir.path());
    let (_p, port) = peer(&pki, "lax");
    let run = run_profile(
        "tls-lax-run",
        &profile(&pki, port, "client"),
        "@profile:ATNA",
    );
    assert_eq!(
        failed_checks(&run.results),
        ["TLS-01", "TLS-02", "TLS-03", "TLS-04", "TLS-05"],
        "{}",
        dump(&run.out)
    );
    assert_eq!(run.out.status.code(), Some(1), "{}", dump(&run.out));
}

#[test]
fn a_server_that_negotiates_null_encryption_fails_the_suite_negative() {
    if !openssl() {
        eprintln!("skipped: no openssl");
        return;
    }
    let dir = report_dir("tls-null");
    let pki = test_pki(dir.path());
    let (_p, port) = peer(&pki, "null-suites");
    let run = run_profile(
        "tls-null-run",
        &profile(&pki, port, "client"),
        "@profile:ATNA and @req:TLS-06",
    );
    assert_eq!(
        failed_checks(&run.results),
        ["TLS-06"],
        "{}",
        dump(&run.out)
    );
}

#[test]
fn a_strict_server_passes_and_refusing_the_harness_is_an_error_naming_the_cause() {
    if !openssl() {
        eprintln!("skipped: no openssl");
        return;
    }
    let dir = report_dir("tls-strict");
    let pki = test_pki(dir.path());
    let (_p, port) = peer(&pki, "strict");
    let run = run_profile(
        "tls-strict-run",
        &profile(&pki, port, "client"),
        "@profile:ATNA",
    );
    assert!(failed_checks(&run.results).is_empty(), "{}", dump(&run.out));
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
    // The same server, the harness presenting a certificate it does not trust: no scenario can
    // pass; each is an Error whose message names the TLS cause.
    let run = run_profile(
        "tls-strict-untrusted",
        &profile(&pki, port, "untrusted-client"),
        "@profile:DICOMweb and @txn:RAD-129 and not @role:simulator",
    );
    run.assert_errors_within(std::time::Duration::from_secs(60));
    let text = String::from_utf8_lossy(&run.out.stdout).to_string();
    assert!(
        text.contains("the TLS handshake failed: handshake alert"),
        "{text}"
    );
    assert!(text.contains("unknown_ca"), "{text}");
}

/// curl as the SUT's MHD Document Source (the source_provides_bundle trigger POSTs a Bundle to the
/// harness's Document Recipient over HTTPS with the test client certificate).
fn curl_source_profile(pki: &Path, dir: &Path, port: u16, insecure: bool) -> String {
    let f = |n: &str| toml_string(&pki.join(n).display().to_string());
    let p = |n: &str| pki.join(n).display().to_string();
    let bundle = dir.join("bundle.json");
    std::fs::write(
        &bundle,
        r#"{"resourceType":"Bundle","type":"transaction","entry":[]}"#,
    )
    .expect("bundle");
    let command = format!(
        "curl -sS --max-time 10 {} --cacert {} --cert {} --key {} -H 'Content-Type: application/fhir+json' --data-binary @{} {{endpoint}}",
        if insecure { "-k" } else { "" },
        p("ca.pem"),
        p("client.pem"),
        p("client.key"),
        bundle.display()
    );
    format!(
        "[sut]\nname = \"curl as an MHD Document Source\"\n[simulator]\nbind = \"127.0.0.1:{port}\"\ntrigger_timeout_ms = 15000\n\
         [simulator.tls]\ncert_file = {}\nkey_file = {}\nca_file = {}\nca_key_file = {}\nrequire_client_cert = true\n\
         [triggers]\nsource_provides_bundle = {}\n",
        f("server.pem"),
        f("server.key"),
        f("ca.pem"),
        f("ca/test/key.pem"),
        toml_string(&command),
    )
}

fn curl() -> bool {
    Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn curl_as_document_source_aborts_on_bad_certificates_and_curl_k_fails() {
    if !curl() {
        eprintln!("skipped: no curl");
        return;
    }
    let dir = report_dir("tls-curl-source");
    let pki = test_pki(dir.path());
    let tags = "@profile:ATNA and @txn:ITI-19 and @role:simulator";
    let run = run_profile(
        "tls-curl-verifying",
        &curl_source_profile(&pki, dir.path(), free_port(), false),
        tags,
    );
    let mhd: Vec<(String, String)> = outcomes(&run.results)
        .into_iter()
        .filter(|(s, _)| s.contains("MHD Document Recipient"))
        .collect();
    assert_eq!(mhd.len(), 3, "{}", dump(&run.out));
    assert!(
        mhd.iter().all(|(_, o)| o == "pass"),
        "{mhd:?}\n{}",
        dump(&run.out)
    );
    // The DICOM rows are not applicable: the profile claims no DICOM role.
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
    // curl -k takes any certificate: it posts to an untrusted and an expired server (Fails) and
    // to a wrong-name one (TLS-12 is SHOULD: a warning unless strict).
    let run = run_profile(
        "tls-curl-insecure",
        &curl_source_profile(&pki, dir.path(), free_port(), true),
        tags,
    );
    assert_eq!(
        failed_checks(&run.results),
        ["TLS-10", "TLS-11"],
        "{}",
        dump(&run.out)
    );
    assert_eq!(run.out.status.code(), Some(1), "{}", dump(&run.out));
}

#[test]
fn a_server_presenting_a_bad_certificate_fails_the_server_identity_check() {
    if !openssl() {
        eprintln!("skipped: no openssl");
        return;
    }
    let dir = report_dir("tls-bad-server");
    let pki = test_pki(dir.path());
    for mode in ["untrusted-server", "expired-server", "wrong-name-server"] {
        let (_p, port) = peer(&pki, mode);
        let run = run_profile(
            &format!("tls-{mode}"),
            &profile(&pki, port, "client"),
            "@profile:ATNA and @req:TLS-09",
        );
        assert_eq!(
            failed_checks(&run.results),
            ["TLS-09"],
            "{mode}\n{}",
            dump(&run.out)
        );
        assert_eq!(run.out.status.code(), Some(1), "{mode}\n{}", dump(&run.out));
    }
}

#[test]
fn a_server_without_tls_1_2_fails_and_one_without_tls_1_3_fails_when_strict() {
    if !openssl() {
        eprintln!("skipped: no openssl");
        return;
    }
    let dir = report_dir("tls-versions");
    let pki = test_pki(dir.path());
    let tags = "@profile:ATNA and (@req:TLS-07 or @req:TLS-08)";
    let (_p13, port13) = peer(&pki, "tls13-only");
    let run = run_profile("tls-13-only", &profile(&pki, port13, "client"), tags);
    assert_eq!(
        failed_checks(&run.results),
        ["TLS-07"],
        "{}",
        dump(&run.out)
    );
    let (_p12, port12) = peer(&pki, "tls12-only");
    // TLS 1.3 is a SHOULD of RFC 9325 §3.1.1: a warning, and a Fail under --strict.
    let run = run_profile("tls-12-only", &profile(&pki, port12, "client"), tags);
    assert!(failed_checks(&run.results).is_empty(), "{}", dump(&run.out));
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
    let strict = profile(&pki, port12, "client")
        .replace("[test_data]", "[options]\nstrict = true\n[test_data]");
    let run = run_profile("tls-12-only-strict", &strict, tags);
    assert_eq!(
        failed_checks(&run.results),
        ["TLS-08"],
        "{}",
        dump(&run.out)
    );
}
