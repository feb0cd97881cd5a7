//! ITI-20 FHIR Feed with a real third-party client: the SUT profile places the harness's Audit
//! Record Repository with `[simulator] audit_fhir_bind` and `[simulator.tls]` (client certificates
//! required), and its `audit_source_sends` trigger is `curl` posting a recorded public AuditEvent
//! sample (`fixtures/audit/`, the IHE BALP examples and defects derived from them) over HTTPS with
//! the test PKI's client certificate to `{audit_fhir_base}/AuditEvent`. The scenario's verdict is
//! the sample's intended one (`fixtures/audit/MANIFEST.json`); the syslog scenarios, which the
//! profile does not place, are not applicable.

use crate::common::*;

fn profile(pki: &std::path::Path, sample: &std::path::Path) -> String {
    let p = |f: &str| toml_string(&pki.join(f).display().to_string());
    let trigger = format!(
        "curl -sS -o /dev/null --cacert {} --cert {} --key {} -H 'Content-Type: application/fhir+json' --data-binary @{} {{audit_fhir_base}}/AuditEvent",
        pki.join("ca.pem").display(),
        pki.join("client.pem").display(),
        pki.join("client.key").display(),
        sample.display()
    );
    format!(
        "[sut]\nname = \"curl as a FHIR audit source\"\n[simulator]\naudit_fhir_bind = \"127.0.0.1:0\"\ntrigger_timeout_ms = 20000\n[simulator.tls]\ncert_file = {}\nkey_file = {}\nca_file = {}\nrequire_client_cert = true\n[triggers]\naudit_source_sends = {}\n",
        p("server.pem"),
        p("server.key"),
        p("ca.pem"),
        toml_string(&trigger)
    )
}

fn intended(file: &str) -> (String, Vec<String>) {
    let text =
        std::fs::read_to_string(root().join("fixtures/audit/MANIFEST.json")).expect("manifest");
    let entries: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON");
    let e = entries
        .iter()
        .find(|e| e["file"].as_str() == Some(file))
        .unwrap_or_else(|| panic!("{file} is not in MANIFEST.json"));
    let rules = e["rules"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (
        e["expected"].as_str().unwrap_or_default().to_string(),
        rules,
    )
}

#[test]
fn curl_posting_balp_samples_over_mutual_tls_gets_their_intended_verdicts() {
    if !installed("curl") {
        eprintln!("skipped: no curl");
        return;
    }
    let dir = report_dir("audit-fhir-curl");
    let pki = test_pki(dir.path());
    for file in [
        "balp/ex-auditBasicQueryGet.json",
        "derived/balp-recorded-no-zone.json",
    ] {
        let (expected, rules) = intended(file);
        let sample = root().join("fixtures/audit").join(file);
        let sub = dir.path().join(file.replace(['/', '.'], "-"));
        std::fs::create_dir_all(&sub).expect("run folder");
        let (out, reports) = run_profile_in(
            &sub,
            &profile(&pki, &sample),
            "@txn:ITI-20 and @role:simulator",
        );
        let results = results(&reports);
        let o = outcomes(&results);
        assert_eq!(o.len(), 3, "{file}\n{}", dump(&out));
        for (scenario, outcome) in &o {
            let want = if !scenario.contains("FHIR AuditEvent") {
                "not-applicable"
            } else if expected == "valid" {
                "pass"
            } else {
                "fail"
            };
            assert_eq!(outcome, want, "{file}: {scenario}\n{}", dump(&out));
        }
        let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
        for r in &rules {
            assert!(failed.contains(r), "{file}: {r} did not fail: {failed:?}");
        }
        // The request came from curl over the mutual-TLS listener: the exchange records the
        // create, the peer and the client certificate curl presented.
        let exchange = results["scenarios"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["evidence"].as_array().into_iter().flatten())
            .filter_map(|e| e.as_str())
            .find(|e| e.ends_with("-iti-20.json"))
            .unwrap_or_else(|| panic!("{file}: no ITI-20 exchange in the evidence"));
        let ex: serde_json::Value =
            serde_json::from_slice(&std::fs::read(reports.join(exchange)).expect("exchange file"))
                .expect("exchange JSON");
        assert_eq!(ex["request"]["method"], "POST", "{file}");
        assert!(
            ex["request"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://127.0.0.1:") && u.ends_with("/AuditEvent")),
            "{file}: {}",
            ex["request"]["url"]
        );
        let headers = ex["request"]["headers"].to_string();
        assert!(headers.contains("Audit-Peer"), "{file}: no peer: {headers}");
        let cert = &ex["tls"]["peer_certificates"][0]["subject"];
        assert!(
            cert.as_str().is_some_and(|c| c.contains("ihe-harness")),
            "{file}: no client certificate: {}",
            ex["tls"]
        );
    }
}
