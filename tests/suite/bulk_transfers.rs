//! Transfers over several associations or requests at once, against the embedded reference
//! (`ihe-harness serve` in another process): the test data load over several C-STORE
//! associations (every fixture instance stored exactly once; an association that fails names the
//! files it left without an answer), `store --stow --requests` (each instance judged by its own
//! entry of the Store Instances Response, a refused one included), and `retrieve --dimse` by C-GET
//! and C-MOVE, series by series at once (every instance received exactly once; a series whose
//! association fails is named with what it left undone).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ihe_harness::actors::dimse_scu::{dataset, store_file_outcomes, DimseScu, StoreOutcome};
use ihe_harness::dimse::association::Peer;
use ihe_harness::model::fixtures::Fixtures;

use crate::common::{arrivals, dump, free_port, harness, root, serve_reference_with, ChildServer};

/// The fixture study with four series (CT in three transfer syntaxes, and its manifest).
const STUDY: &str = "2.25.901357362012641252499446609424852094";

/// `ihe-harness serve` on free ports with `extra` options: the server, its HTTP and DICOM ports.
fn serve(extra: &[String]) -> (ChildServer, u16, u16) {
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    serve_reference_with(&extra)
}

fn peer(port: u16, read_timeout: Duration) -> Peer {
    Peer {
        host: "127.0.0.1".into(),
        port,
        called_ae: "IHE_REFERENCE".into(),
        calling_ae: "HARNESS".into(),
        connect_timeout: Duration::from_secs(5),
        read_timeout,
        max_pdu: 16384,
        limits: ihe_harness::dimse::association::Limits::default(),
        tls: None,
    }
}

fn fixtures() -> Fixtures {
    Fixtures::load(&root().join("fixtures/studies")).expect("fixtures load")
}

#[tokio::test]
async fn the_test_data_load_stores_every_instance_once_over_several_associations() {
    let (_server, _, port) = serve(&[]);
    let fx = fixtures();
    let scu = DimseScu::new(peer(port, Duration::from_secs(15)));
    let mut exchanges = Vec::new();
    let result = ihe_harness::test_data::load_dimse(&fx, &scu, 4, &mut exchanges).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(exchanges.len(), 4, "one exchange per association");
    // Every fixture instance went on exactly one association and was answered 0000.
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for ex in &exchanges {
        assert!(ex.failure.is_none(), "{:?}", ex.failure);
        let rec = ex.dimse.as_deref().expect("DIMSE record");
        for m in rec.messages.iter().filter(|m| {
            m.flow == ihe_harness::evidence::dimse::Flow::Sent
                && m.command.field == ihe_harness::dimse::command::field::C_STORE_RQ
        }) {
            let uid = m.command.affected_sop_instance.clone().expect("instance");
            *sent.entry(uid).or_default() += 1;
        }
    }
    let want: BTreeMap<String, usize> = fx
        .instances
        .iter()
        .map(|i| (i.sop_uid.clone(), 1))
        .collect();
    assert_eq!(sent, want);

    // One association, as before the load went parallel.
    let mut one = Vec::new();
    let result = ihe_harness::test_data::load_dimse(&fx, &scu, 1, &mut one).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(one.len(), 1);
}

#[tokio::test]
async fn a_failed_load_association_names_the_files_it_left_unanswered() {
    // The SCP takes the first C-STORE-RQ of each association and never answers it.
    let (_server, _, port) = serve(&["--fault".into(), "dimse-stall".into()]);
    let fx = fixtures();
    let scu = DimseScu::new(peer(port, Duration::from_millis(1500)));
    let mut exchanges = Vec::new();
    let started = std::time::Instant::now();
    let err = ihe_harness::test_data::load_dimse(&fx, &scu, 3, &mut exchanges)
        .await
        .expect_err("the load fails");
    // The three associations waited at once, not one after the other.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(exchanges.len(), 3, "each association's evidence is kept");
    assert_eq!(err.kind, "timeout", "{err:?}");
    assert!(
        err.message.contains("(association 1 of 3)"),
        "{}",
        err.message
    );
    // The first association's share: the largest study (CT-CHEST), whole, none answered.
    let shares = ihe_harness::test_data::by_study(&fx, 3);
    let share: Vec<_> = shares[0].iter().map(|&i| &fx.instances[i]).collect();
    assert_eq!(share.len(), 43);
    assert!(share.iter().all(|i| i.study_alias == "CT-CHEST"));
    assert!(
        err.message.contains(&format!(
            "{} of its {} instances without a C-STORE-RSP",
            share.len(),
            share.len()
        )),
        "{}",
        err.message
    );
    let first = share[0]
        .path
        .rsplit('/')
        .next()
        .expect("a file name")
        .to_string();
    assert!(err.message.contains(&first), "{}", err.message);
    // The outcomes of the files say the same, file by file.
    let files: Vec<_> = share
        .iter()
        .map(|i| ihe_harness::actors::dimse_scu::StoreFile {
            path: fx.file(i),
            fallback: i.ele_path.as_ref().map(|p| fx.dir.join(p)),
        })
        .collect();
    assert!(store_file_outcomes(&exchanges[0], &files)
        .iter()
        .all(|o| *o == StoreOutcome::NoResponse));
}

/// `path` copied into `dir` as a new instance: its SOP Instance UID replaced by one of the same
/// length wherever it occurs (File Meta group and data set).
fn fresh_copy(path: &Path, dir: &Path, tag: u8) -> PathBuf {
    let bytes = std::fs::read(path).expect("fixture");
    let uid = dataset::read_head(path).expect("head").sop_instance;
    let mut fresh = uid.clone().into_bytes();
    let n = fresh.len();
    fresh[n - 1] = if fresh[n - 1] == b'0' + tag {
        b'9' - tag
    } else {
        b'0' + tag
    };
    fresh[n - 2] = if fresh[n - 2] == b'7' { b'8' } else { b'7' };
    let mut out = bytes.clone();
    let mut i = 0;
    while let Some(pos) = memchr::memmem::find(&out[i..], uid.as_bytes()) {
        let at = i + pos;
        out[at..at + n].copy_from_slice(&fresh);
        i = at + n;
    }
    let to = dir.join(format!(
        "{}-{tag}.dcm",
        path.file_stem().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&to, out).expect("copy");
    to
}

fn ct_files(series: &str) -> Vec<PathBuf> {
    let dir = root()
        .join("fixtures/studies/CTH-0001")
        .join(STUDY)
        .join(series);
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture series")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "dcm") && !p.to_string_lossy().ends_with(".ele.dcm")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn stow_over_several_requests_judges_each_instance_by_its_own_entry() {
    let (_server, http, _) = serve(&["--refuse-duplicates".into()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("reference.toml");
    std::fs::write(
        &profile,
        format!("[dicomweb]\nbase_url = \"http://127.0.0.1:{http}/dicom-web\"\n"),
    )
    .expect("profile");
    let originals = ct_files("01_CT_ELE");
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(&fresh).expect("dir");
    let copies: Vec<PathBuf> = originals[..5]
        .iter()
        .map(|f| fresh_copy(f, &fresh, 1))
        .collect();
    let store = |batch: &str, paths: &[&Path]| {
        let mut args: Vec<String> = [
            "store",
            "--stow",
            "--requests",
            "3",
            "--batch",
            batch,
            "--sut",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(profile.display().to_string());
        args.extend(paths.iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        harness(&args)
    };
    // Five new instances in three requests at once: all stored, every check passes.
    let out = store("2", &[fresh.as_path()]);
    let shown = dump(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("5 files"), "{shown}");
    assert!(
        shown.contains("in 3 STOW-RS requests (2 instances each, 3 at once)"),
        "{shown}"
    );
    assert!(
        shown.contains(": 5 stored, 0 stored with a warning, 0 failed, 0 refused"),
        "{shown}"
    );
    assert!(shown.contains("0 check(s) failed"), "{shown}");
    assert!(!shown.contains("not stored"), "{shown}");

    // Two new instances and one the archive holds, in one request: 202, the held one refused as
    // a duplicate (0111) and named alone, with its Failure Reason.
    let more: Vec<PathBuf> = originals[5..7]
        .iter()
        .map(|f| fresh_copy(f, &fresh, 2))
        .collect();
    let held = &originals[0];
    let held_uid = dataset::read_head(held).expect("head").sop_instance;
    let out = store("3", &[&more[0], held, &more[1]]);
    let shown = dump(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains(": 2 stored, 0 stored with a warning, 1 failed, 0 refused"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "{} ({held_uid}): not stored: Failure Reason 0111H (request 1 of 1)",
            held.display()
        )),
        "{shown}"
    );
    assert_eq!(shown.matches("not stored").count(), 1, "{shown}");
    assert!(shown.contains("0 check(s) failed"), "{shown}");
    assert_eq!(copies.len(), 5);
}

/// A profile for the reference's SCP on `port`, the harness's move receiver on `receiver`.
fn retrieve_profile(dir: &Path, port: u16, receiver: u16) -> PathBuf {
    let profile = dir.join("reference-dimse.toml");
    std::fs::write(
        &profile,
        format!(
            "[dimse]\nhost = \"127.0.0.1\"\nport = {port}\ncalled_ae = \"IHE_REFERENCE\"\n\
             calling_ae = \"HARNESS\"\nmove_destination = \"HARNESS\"\nread_timeout_ms = 3000\n\
             [simulator]\ndimse_bind = \"127.0.0.1:{receiver}\"\nae_title = \"HARNESS\"\n"
        ),
    )
    .expect("profile");
    profile
}

/// `ihe-harness retrieve --dimse` of the fixture study with the SUT profile `profile` and `extra`.
fn retrieve_study(profile: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["retrieve", "--sut", profile, "--study", STUDY, "--dimse"];
    args.extend_from_slice(extra);
    harness(&args)
}

/// The fixture study retrieved with `retrieve --dimse --get`, then `--move`, over `associations`
/// associations into folders under `dir`: each a success that received all 43 instances, each
/// exactly once. Returns what each printed, by mode.
fn every_instance_once_both_ways(
    profile: &str,
    associations: &str,
    dir: &Path,
) -> Vec<(&'static str, String)> {
    let want: BTreeMap<String, usize> = fixtures()
        .instances
        .iter()
        .filter(|i| i.study_uid == STUDY)
        .map(|i| (i.sop_uid.clone(), 1))
        .collect();
    assert_eq!(want.len(), 43);
    let mut printed = Vec::new();
    for how in ["--get", "--move"] {
        let into = dir.join(how.trim_start_matches('-'));
        let out = retrieve_study(
            profile,
            &[
                how,
                "--associations",
                associations,
                "--output",
                &into.display().to_string(),
            ],
        );
        let shown = dump(&out);
        assert!(out.status.success(), "{how}: {shown}");
        assert!(shown.contains("43 of 43 instances"), "{how}: {shown}");
        assert_eq!(arrivals(&into), want, "{how}: {shown}");
        printed.push((how, shown));
    }
    printed
}

#[test]
fn retrieve_by_series_at_once_receives_every_instance_exactly_once() {
    let receiver = free_port();
    let (_server, _, port) = serve(&[
        "--move-destination".into(),
        format!("HARNESS=127.0.0.1:{receiver}"),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = retrieve_profile(dir.path(), port, receiver);
    for (how, shown) in
        every_instance_once_both_ways(&profile.display().to_string(), "3", dir.path())
    {
        assert!(shown.contains("4 series by"), "{how}: {shown}");
        assert!(!shown.contains("more than once"), "{how}: {shown}");
    }
}

#[test]
fn a_retrieve_association_that_fails_names_what_it_left_undone() {
    // The SCP aborts every C-GET after its first sub-operation: the SUT's breach (PEER-01).
    let (_server, _, port) = serve(&["--fault".into(), "dimse-get-abort-midway".into()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = retrieve_profile(dir.path(), port, free_port());
    let out = retrieve_study(&profile.display().to_string(), &["--associations", "4"]);
    let shown = dump(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    // The 24-instance series is named, with the instances it did not deliver.
    assert!(
        shown.contains("(2.25.983865178338993844030913115973730272)"),
        "{shown}"
    );
    assert!(shown.contains("left undone:"), "{shown}");
    assert!(
        shown.contains("of its 24 instances not received"),
        "{shown}"
    );
}

/// Against the Orthanc of `ci/test.sh`: the CT study stored with STOW-RS in several requests at
/// once (every instance stored), then retrieved by C-GET and by C-MOVE (into the harness's own
/// Storage SCP, which Orthanc knows as HARNESS), its series at once: every instance once.
#[test]
fn orthanc_takes_concurrent_stow_requests_and_serves_series_retrieves_at_once() {
    let _orthanc = crate::common::orthanc_lock();
    let Some(profile) = crate::common::orthanc_profile() else {
        return;
    };
    // The study as stored (not the uncompressed twins, `*.ele.dcm`, of the same instances).
    let files: Vec<String> = [
        "01_CT_ELE",
        "02_CT_JPEGLossless",
        "03_CT_J2KLossless",
        "KOS",
    ]
    .iter()
    .flat_map(|s| ct_files(s))
    .map(|p| p.display().to_string())
    .collect();
    assert_eq!(files.len(), 43);
    let mut args = vec![
        "store",
        "--stow",
        "--requests",
        "3",
        "--batch",
        "8",
        "--sut",
        &profile,
    ];
    args.extend(files.iter().map(String::as_str));
    let out = harness(&args);
    let shown = dump(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("in 6 STOW-RS requests"), "{shown}");
    assert!(
        shown.contains(": 43 stored, 0 stored with a warning, 0 failed"),
        "{shown}"
    );
    assert!(shown.contains("0 check(s) failed"), "{shown}");
    let dir = tempfile::tempdir().expect("tempdir");
    every_instance_once_both_ways(&profile, "4", dir.path());
}
