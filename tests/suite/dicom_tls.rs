//! DICOM TLS (PS3.15 §B.1) in both roles against DCMTK's TLS tools, on the test PKI of
//! `ci/make-test-pki.sh`: the harness's SCP (`serve --tls-cert`) takes `echoscu +tls` and
//! `storescu +tls` with a trusted client certificate and refuses an untrusted one and a plain
//! association; the harness's SCU (`store`) stores into `storescp +tls`, and a certificate the
//! SCP does not trust is an Error naming the TLS cause.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

fn fixture_file() -> std::path::PathBuf {
    fn walk(d: &Path) -> Option<std::path::PathBuf> {
        for e in std::fs::read_dir(d).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                if let Some(f) = walk(&p) {
                    return Some(f);
                }
            } else if p.extension().is_some_and(|x| x == "dcm") {
                return Some(p);
            }
        }
        None
    }
    walk(&root().join("fixtures/studies")).expect("a fixture file")
}

fn dcmtk(tool: &str, args: &[&str]) -> bool {
    Command::new(tool)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_harness_scp_speaks_dicom_tls_to_dcmtk_and_refuses_untrusted_and_plain_peers() {
    if !installed("echoscu") || !installed("storescu") {
        eprintln!("skipped: DCMTK is not installed");
        return;
    }
    let dir = report_dir("dicom-tls-scp");
    let p = test_pki(dir.path());
    let f = |n: &str| p.join(n).display().to_string();
    let (http, dimse) = (free_port(), free_port());
    let _serve = ChildServer(
        Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
            .args(["serve", "--bind", &format!("127.0.0.1:{http}")])
            .args(["--dimse-bind", &format!("127.0.0.1:{dimse}")])
            .args([
                "--tls-cert",
                &f("server.pem"),
                "--tls-key",
                &f("server.key"),
            ])
            .args(["--tls-client-ca", &f("ca.pem")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    wait_port(dimse);
    let port = dimse.to_string();
    let tls = |key: &str, cert: &str| {
        vec![
            "+tls".to_string(),
            f(key),
            f(cert),
            "+cf".into(),
            f("ca.pem"),
            "-aec".into(),
            "IHE_REFERENCE".into(),
            "127.0.0.1".into(),
            port.clone(),
        ]
    };
    let args = tls("client.key", "client.pem");
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(
        dcmtk("echoscu", &a),
        "echoscu +tls with a trusted certificate"
    );
    let file = fixture_file();
    let mut store = a.clone();
    let file_s = file.display().to_string();
    store.push(&file_s);
    assert!(
        dcmtk("storescu", &store),
        "storescu +tls with a trusted certificate"
    );
    let args = tls("untrusted-client.key", "untrusted-client.pem");
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(
        !dcmtk("echoscu", &a),
        "an untrusted client certificate is refused"
    );
    assert!(
        !dcmtk("echoscu", &["-aec", "IHE_REFERENCE", "127.0.0.1", &port]),
        "a plain association on the TLS port is refused"
    );
}

#[test]
fn the_harness_scu_stores_into_storescp_over_dicom_tls() {
    if !installed("storescp") {
        eprintln!("skipped: DCMTK is not installed");
        return;
    }
    let dir = report_dir("dicom-tls-scu");
    let p = test_pki(dir.path());
    let f = |n: &str| p.join(n).display().to_string();
    let port = free_port();
    let out = dir.path().join("received");
    std::fs::create_dir_all(&out).unwrap();
    let _scp = ChildServer(
        Command::new("storescp")
            .args([
                "+tls",
                &f("server.key"),
                &f("server.pem"),
                "+cf",
                &f("ca.pem"),
            ])
            .args([
                "-aet",
                "STORESCP",
                "-od",
                out.to_str().unwrap(),
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("storescp"),
    );
    wait_port(port);
    let profile = |client: &str| {
        format!(
            "[tls]\nca_file = {}\ncert_file = {}\nkey_file = {}\n[dimse]\nhost = \"localhost\"\nport = {port}\ncalled_ae = \"STORESCP\"\ntls = true\n",
            toml_string(&f("ca.pem")),
            toml_string(&f(&format!("{client}.pem"))),
            toml_string(&f(&format!("{client}.key"))),
        )
    };
    let file = fixture_file();
    let path = dir.path().join("good.toml");
    std::fs::write(&path, profile("client")).unwrap();
    let good = harness(&[
        "store",
        "--sut",
        path.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&good.stdout).to_string();
    assert!(text.contains("final status 0000"), "{}", dump(&good));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, profile("untrusted-client")).unwrap();
    let bad = harness(&[
        "store",
        "--sut",
        path.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&bad.stdout).to_string();
    assert!(
        text.contains("the TLS handshake failed: handshake alert"),
        "{}",
        dump(&bad)
    );
}

/// The Study Instance UID of a DICOM file, read with DCMTK's dcmdump.
fn study_uid_of(file: &Path) -> String {
    let out = Command::new("dcmdump")
        .args(["+P", "0020,000d", "-q"])
        .arg(file)
        .output()
        .expect("dcmdump");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split('[')
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap_or_default()
        .to_string()
}

fn storescp_tls(
    dir: &Path,
    pki: &Path,
    port: u16,
    cert: &str,
) -> (ChildServer, std::path::PathBuf) {
    let f = |n: &str| pki.join(n).display().to_string();
    let out = dir.join(format!("received-{cert}"));
    std::fs::create_dir_all(&out).unwrap();
    let scp = ChildServer(
        Command::new("storescp")
            .args([
                "+tls",
                &f(&format!("{cert}.key")),
                &f(&format!("{cert}.pem")),
            ])
            .args(["+cf", &f("ca.pem"), "-aet", "STORESCP", "-od"])
            .arg(&out)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("storescp"),
    );
    wait_port(port);
    (scp, out)
}

#[test]
fn the_harness_scp_opens_c_move_sub_associations_over_dicom_tls() {
    if !installed("movescu") || !installed("storescp") || !installed("dcmdump") {
        eprintln!("skipped: DCMTK is not installed");
        return;
    }
    let dir = report_dir("dicom-tls-move");
    let p = test_pki(dir.path());
    let f = |n: &str| p.join(n).display().to_string();
    let (http, dimse, good_port, bad_port) = (free_port(), free_port(), free_port(), free_port());
    // A destination with a certificate from the test CA, and one from a CA the harness does not trust.
    let (_good, good_dir) = storescp_tls(dir.path(), &p, good_port, "server");
    let (_bad, bad_dir) = storescp_tls(dir.path(), &p, bad_port, "untrusted-server");
    let _serve = ChildServer(
        Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
            .args(["serve", "--bind", &format!("127.0.0.1:{http}")])
            .args(["--dimse-bind", &format!("127.0.0.1:{dimse}")])
            .args([
                "--tls-cert",
                &f("server.pem"),
                "--tls-key",
                &f("server.key"),
            ])
            .args(["--tls-client-ca", &f("ca.pem")])
            .args([
                "--move-destination",
                &format!("STORESCP=127.0.0.1:{good_port}"),
            ])
            .args([
                "--move-destination",
                &format!("UNTRUSTED=127.0.0.1:{bad_port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    wait_port(dimse);
    let study = study_uid_of(&fixture_file());
    assert!(!study.is_empty());
    // DCMTK 3.6.7's movescu speaks no TLS: the harness's own C-MOVE SCU asks, over DICOM TLS.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let move_to = |dest: &str| {
        let mut peer = ihe_harness::config::dimse::Dimse::embedded(dimse);
        peer.tls = Some(ihe_harness::transport::tls::TlsSettings {
            ca_file: Some(p.join("ca.pem")),
            cert_file: Some(p.join("client.pem")),
            key_file: Some(p.join("client.key")),
            ..Default::default()
        });
        let scu = ihe_harness::actors::dimse_scu::DimseScu::from_config(&peer);
        let keys = [
            (
                dicom_dictionary_std::tags::QUERY_RETRIEVE_LEVEL,
                "STUDY".to_string(),
            ),
            (
                dicom_dictionary_std::tags::STUDY_INSTANCE_UID,
                study.clone(),
            ),
        ];
        rt.block_on(scu.move_to(
            ihe_harness::actors::dimse_scu::QueryModel::StudyRoot,
            &keys,
            dest,
            None,
        ))
    };
    let ex = move_to("STORESCP");
    assert_eq!(ex.status(), Some(0), "{ex:?}");
    let delivered = std::fs::read_dir(&good_dir).unwrap().count();
    assert!(delivered > 0, "nothing delivered over DICOM TLS");
    // The untrusted destination: the handshake fails, nothing is delivered, the C-MOVE says so.
    let ex = move_to("UNTRUSTED");
    assert_eq!(std::fs::read_dir(&bad_dir).unwrap().count(), 0);
    assert_ne!(ex.status(), Some(0), "{ex:?}");
}

/// storescu +tls as the SUT modality of the ATNA SUT-client scenarios: the modality_stores
/// trigger makes it send a fixture file to the harness's DICOM TLS SCP.
fn storescu_profile(p: &Path, port: u16, verify: bool) -> String {
    let f = |n: &str| p.join(n).display().to_string();
    let t = |n: &str| toml_string(&f(n));
    let check = if verify {
        format!("+cf {}", f("ca.pem"))
    } else {
        "-ic".to_string()
    };
    let command = format!(
        "storescu +tls {} {} {check} -aec {{harness_ae}} {{harness_host}} {{harness_port}} {}",
        f("client.key"),
        f("client.pem"),
        fixture_file().display()
    );
    format!(
        "[sut]\nname = \"storescu +tls as a modality\"\n[simulator]\ndimse_bind = \"127.0.0.1:{port}\"\nbind = \"127.0.0.1:0\"\ntrigger_timeout_ms = 15000\n\
         [simulator.tls]\ncert_file = {}\nkey_file = {}\nca_file = {}\nca_key_file = {}\n\
         [triggers]\nmodality_stores = {}\n",
        t("server.pem"),
        t("server.key"),
        t("ca.pem"),
        t("ca/test/key.pem"),
        toml_string(&command),
    )
}

#[test]
fn storescu_verifying_the_harness_aborts_and_storescu_ignoring_it_fails() {
    if !installed("storescu") {
        eprintln!("skipped: DCMTK is not installed");
        return;
    }
    let dir = report_dir("dicom-tls-sut-client");
    let p = test_pki(dir.path());
    let tags = "@profile:ATNA and @txn:ITI-19 and @role:simulator";
    let run = run_profile(
        "dicom-tls-storescu-verifying",
        &storescu_profile(&p, free_port(), true),
        tags,
    );
    let dicom: Vec<(String, String)> = outcomes(&run.results)
        .into_iter()
        .filter(|(s, _)| s.contains("DICOM SCP"))
        .collect();
    assert_eq!(dicom.len(), 3, "{}", dump(&run.out));
    assert!(
        dicom.iter().all(|(_, o)| o == "pass"),
        "{dicom:?}\n{}",
        dump(&run.out)
    );
    // storescu -ic takes any certificate: it stores into an untrusted and an expired SCP (Fails)
    // and a wrong-name one (TLS-12 is SHOULD: a warning unless strict).
    let run = run_profile(
        "dicom-tls-storescu-ignoring",
        &storescu_profile(&p, free_port(), false),
        tags,
    );
    let mut failed: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    failed.sort();
    failed.dedup();
    assert_eq!(failed, ["TLS-10", "TLS-11"], "{}", dump(&run.out));
    // Under strict judging the wrong-name certificate it took fails TLS-12 too.
    let strict = format!(
        "{}[options]\nstrict = true\n",
        storescu_profile(&p, free_port(), false)
    );
    let run = run_profile("dicom-tls-storescu-ignoring-strict", &strict, tags);
    let mut failed: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    failed.sort();
    failed.dedup();
    assert_eq!(failed, ["TLS-10", "TLS-11", "TLS-12"], "{}", dump(&run.out));
}
