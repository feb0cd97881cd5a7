//! The SUT as Audit Record Repository (features/atna/audit_repository.feature) against real
//! third-party repositories, and the harness as Secure Node auditing its own transactions:
//! - rsyslog (`ci/start-rsyslog-arr.sh`: imtcp over TLS, client certificates of the test CA
//!   required) takes the harness's two audits on one syslog/TLS session, and what it wrote is,
//!   byte for byte, the two messages the harness framed;
//! - Medplum's in-memory FHIR server (`ci/start-fhir.sh` on a port and folder of the test's own)
//!   takes the FHIR AuditEvent feed and finds the audit again with ITI-81: the feed and ITI-81
//!   scenarios pass, the syslog ones are not applicable (its profile names no syslog);
//! - with `send_own_audits = true`, each MHD search the harness makes against `ihe-harness serve`
//!   is audited to a UDP repository the test listens on, and a repository that cannot be reached
//!   changes no verdict.
//!
//! The rsyslog and Medplum tests are skipped (with a message) where rsyslog or Medplum's npm
//! packages are not installed (`ci/install.sh` installs both).

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

struct Stop(&'static str, &'static str, std::path::PathBuf);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join(self.0))
            .env(self.1, &self.2)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The evidence files of every exchange of `transaction` (e.g. `iti-20`) in a report, with the
/// given suffix.
fn evidence_files(
    reports: &std::path::Path,
    transaction: &str,
    suffix: &str,
) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![reports.join("evidence")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(transaction) && n.ends_with(suffix))
            {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn rsyslog_takes_the_audits_on_one_tls_session_and_writes_what_was_sent() {
    if Command::new("rsyslogd").arg("-v").output().is_err() {
        eprintln!("skipped: rsyslog is not installed");
        return;
    }
    let dir = report_dir("arr-rsyslog");
    let pki = test_pki(dir.path());
    let port = free_port();
    let rdir = dir.path().join("rsyslog");
    let started = Command::new("bash")
        .arg(root().join("ci/start-rsyslog-arr.sh"))
        .arg(port.to_string())
        .env("PKI_DIR", &pki)
        .env("RSYSLOG_DIR", &rdir)
        .output()
        .expect("start-rsyslog-arr.sh");
    let _stop = Stop("ci/stop-rsyslog-tls.sh", "RSYSLOG_DIR", rdir.clone());
    assert!(started.status.success(), "{}", dump(&started));
    let profile = format!(
        "[sut]\nname = \"rsyslog\"\n[tls]\nca_file = {}\ncert_file = {}\nkey_file = {}\n\
         [audit_repository]\nsyslog_tls = \"127.0.0.1:{port}\"\n[audit_repository.tls]\nserver_name = \"localhost\"\n",
        toml_string(&pki.join("ca.pem").display().to_string()),
        toml_string(&pki.join("client.pem").display().to_string()),
        toml_string(&pki.join("client.key").display().to_string()),
    );
    let (out, reports) = run_profile_in(
        dir.path(),
        &profile,
        "@actor:AuditRecordRepository and not @role:simulator",
    );
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let results = results(&reports);
    let passed: Vec<_> = outcomes(&results)
        .into_iter()
        .filter(|(_, o)| o == "pass")
        .collect();
    assert_eq!(passed.len(), 1, "{passed:?}");
    let sent = evidence_files(&reports, "iti-20", "-request.body");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let wire = std::fs::read(&sent[0]).expect("request body");
    let (frames, err) = ihe_harness::transport::syslog::decode_all(&wire, 1 << 20);
    assert!(
        err.is_none() && frames.len() == 2,
        "{err:?} {}",
        frames.len()
    );
    let mut written = String::new();
    for _ in 0..100 {
        written = std::fs::read_to_string(rdir.join("audit.log")).unwrap_or_default();
        if written.lines().count() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 2, "rsyslog wrote:\n{written}");
    for (line, frame) in lines.iter().zip(&frames) {
        assert_eq!(
            line.as_bytes(),
            &frame[..],
            "rsyslog did not write the message the harness sent"
        );
    }

    // A client certificate rsyslog does not trust: it ends the session with an alert after the
    // handshake (TLS 1.3), an Error that names the cause, not a verdict on the repository.
    let untrusted = profile
        .replace("client.pem", "untrusted-client.pem")
        .replace("client.key", "untrusted-client.key");
    let bad = report_dir("arr-rsyslog-untrusted");
    let (out, reports) = run_profile_in(
        bad.path(),
        &untrusted,
        "@actor:AuditRecordRepository and not @role:simulator",
    );
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
    let judged = crate::common::results(&reports);
    assert!(failures(&judged).is_empty(), "{}", dump(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("unknown_ca"),
        "{}",
        dump(&out)
    );
}

#[test]
fn medplum_takes_the_fhir_feed_and_finds_the_audit_with_iti81() {
    let modules = std::env::var("IHE_HARNESS_FHIR_MODULES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from("/tmp/ihe-harness-fhir/node_modules"));
    if !modules.join("@medplum/fhir-router").is_dir() {
        eprintln!(
            "skipped: Medplum's npm packages are not in {} (ci/install-fhir.sh)",
            modules.display()
        );
        return;
    }
    let dir = report_dir("arr-medplum");
    let fdir = dir.path().join("fhir");
    std::fs::create_dir_all(&fdir).expect("fhir dir");
    std::os::unix::fs::symlink(&modules, fdir.join("node_modules")).expect("modules linked");
    let port = free_port();
    let started = Command::new("bash")
        .arg(root().join("ci/start-fhir.sh"))
        .env("FHIR_DIR", &fdir)
        .env("FHIR_PORT", port.to_string())
        .output()
        .expect("start-fhir.sh");
    let _stop = Stop("ci/stop-fhir.sh", "FHIR_DIR", fdir.clone());
    assert!(started.status.success(), "{}", dump(&started));
    let profile = format!(
        "[sut]\nname = \"Medplum\"\n[audit_repository]\nfhir = \"http://127.0.0.1:{port}/fhir\"\nquery = true\n"
    );
    let (out, reports) = run_profile_in(
        dir.path(),
        &profile,
        "@actor:AuditRecordRepository and not @role:simulator",
    );
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let results = results(&reports);
    let o = outcomes(&results);
    assert_eq!(o.iter().filter(|(_, x)| x == "pass").count(), 3, "{o:?}");
    assert_eq!(
        o.iter().filter(|(_, x)| x == "not-applicable").count(),
        3,
        "{o:?}"
    );
    let text = results.to_string();
    assert!(text.contains("ARR-04"), "ITI-81 found the audit: {text}");
}

/// `ihe-harness serve` on free ports, ready.
fn serve() -> (ChildServer, u16) {
    let http = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args(["serve", "--bind", &format!("127.0.0.1:{http}")])
        .current_dir(root())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve starts");
    let server = ChildServer(child);
    wait_port(http);
    (server, http)
}

#[test]
fn own_audits_reach_the_repository_and_a_dead_one_changes_no_verdict() {
    let (_server, http) = serve();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    udp.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let udp_port = udp.local_addr().expect("addr").port();
    let mhd = format!(
        "[sut]\nname = \"serve\"\n[mhd]\nbase_url = \"http://127.0.0.1:{http}/fhir\"\n[test_data]\nmode = \"preloaded\"\n"
    );
    let tags = "@txn:ITI-67 and not @neg";
    let plain = run_profile("own-audits-off", &mhd, tags);
    assert_eq!(plain.out.status.code(), Some(0), "{}", dump(&plain.out));

    let audited = run_profile(
        "own-audits-udp",
        &format!("{mhd}[audit_repository]\nsyslog_udp = \"127.0.0.1:{udp_port}\"\nsend_own_audits = true\n"),
        tags,
    );
    assert_eq!(audited.out.status.code(), Some(0), "{}", dump(&audited.out));
    assert_eq!(outcomes(&audited.results), outcomes(&plain.results));
    let mut buf = vec![0u8; 65_536];
    let (n, _) = udp.recv_from(&mut buf).expect("an own audit arrives");
    let got = String::from_utf8_lossy(&buf[..n]);
    assert!(
        got.contains("IHE+RFC-3881") && got.contains("ITI-67"),
        "{got}"
    );

    // A repository nobody listens on: the audits fail, the verdicts do not change.
    let dead = free_port();
    let unreachable = run_profile(
        "own-audits-dead",
        &format!(
            "{mhd}[audit_repository]\nsyslog_tls = \"127.0.0.1:{dead}\"\nsend_own_audits = true\n"
        ),
        tags,
    );
    assert_eq!(
        unreachable.out.status.code(),
        Some(0),
        "{}",
        dump(&unreachable.out)
    );
    assert_eq!(outcomes(&unreachable.results), outcomes(&plain.results));
}

#[test]
fn the_ci_fhir_server_as_audit_record_repository() {
    let Ok(profile) = std::env::var("IHE_HARNESS_ARR_PROFILE") else {
        eprintln!("IHE_HARNESS_ARR_PROFILE is not set (fixtures/sut/medplum-arr.toml once ci/start-fhir.sh runs); skipping");
        return;
    };
    let dir = report_dir("arr-ci-fhir");
    let out = harness(&[
        "run",
        "--sut",
        &profile,
        "--tags",
        "@actor:AuditRecordRepository and not @role:simulator",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let o = outcomes(&results(dir.path()));
    assert_eq!(o.iter().filter(|(_, x)| x == "pass").count(), 3, "{o:?}");
}
