//! The DIMSE SCU against real peers: DCMTK `dcmqrscp` (Q/R SCP, fork mode) preloaded with the
//! uncompressed CT series of the fixtures, DCMTK `storescp` as C-MOVE destination and Store SCP,
//! Orthanc when it already listens on 14242, and two broken peers (nothing listening; a TCP
//! server that never answers). The DCMTK test is skipped with a message when `dcmqrscp` is not
//! installed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dicom_core::Tag;
use dicom_dictionary_std::{tags, uids};
use ihe_harness::actors::dimse_scu::{dataset, DimseScu, QueryModel};
use ihe_harness::dimse::association::Peer;
use ihe_harness::dimse::command::{field, status};
use ihe_harness::evidence::dimse::{DimseRecord, Flow};
use ihe_harness::evidence::Exchange;

use crate::common::ChildServer;

const STUDY: &str = "2.25.901357362012641252499446609424852094";
const SERIES: &str = "2.25.983865178338993844030913115973730272";

fn ct_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/studies/CTH-0001")
        .join(STUDY)
}

fn ct_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(ct_dir().join("01_CT_ELE"))
        .expect("fixture series")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    v.sort();
    v
}

fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn spawn(cmd: &mut Command, log: &Path) -> ChildServer {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    ChildServer(cmd.stdout(out).stderr(err).spawn().expect("server starts"))
}

fn start_storescp(dir: &Path, port: u16) -> ChildServer {
    let out = dir.join("storescp-in");
    std::fs::create_dir_all(&out).expect("storescp dir");
    let s = spawn(
        Command::new("storescp")
            .args(["-aet", "STORESCP", "-od"])
            .arg(&out)
            .args(["+xa", &port.to_string()]),
        &dir.join("storescp.log"),
    );
    crate::common::wait_port(port);
    s
}

fn start_dcmqrscp(dir: &Path, port: u16, move_port: u16) -> ChildServer {
    let db = dir.join("db");
    std::fs::create_dir_all(&db).expect("db dir");
    let cfg = format!(
        "NetworkTCPPort = {port}\nMaxPDUSize = 65536\nMaxAssociations = 16\n\
         HostTable BEGIN\nmovedest = (STORESCP, 127.0.0.1, {move_port})\nHostTable END\n\
         VendorTable BEGIN\nVendorTable END\n\
         AETable BEGIN\nDCMQRSCP {} RW (200, 1024mb) ANY\nAETable END\n",
        db.display()
    );
    std::fs::write(dir.join("dcmqrscp.cfg"), cfg).expect("config");
    let mut copies = Vec::new();
    for (i, f) in ct_files().iter().enumerate() {
        let to = db.join(format!("preload_{i}.dcm"));
        std::fs::copy(f, &to).expect("copy fixture");
        copies.push(to);
    }
    // dcmqridx stores the paths as given: absolute, or C-MOVE/C-GET send nothing.
    let ok = Command::new("dcmqridx")
        .arg("-q")
        .arg(&db)
        .args(&copies)
        .status()
        .expect("dcmqridx runs");
    assert!(ok.success(), "dcmqridx failed");
    let s = spawn(
        Command::new("dcmqrscp")
            .arg("-dhl")
            .arg("-c")
            .arg(dir.join("dcmqrscp.cfg")),
        &dir.join("dcmqrscp.log"),
    );
    crate::common::wait_port(port);
    s
}

fn peer(port: u16, called: &str) -> Peer {
    Peer {
        host: "127.0.0.1".into(),
        port,
        called_ae: called.into(),
        calling_ae: "HARNESS".into(),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(15),
        max_pdu: 16384,
        limits: ihe_harness::dimse::association::Limits::default(),
        tls: None,
    }
}

fn record(ex: &Exchange) -> &DimseRecord {
    ex.dimse.as_deref().expect("DIMSE record")
}

fn show(ex: &Exchange) -> String {
    serde_json::to_string_pretty(ex).unwrap_or_default()
}

/// The pending responses' identifiers, as (keyword, value) lists.
fn matches(ex: &Exchange, rsp: u16) -> Vec<Vec<(String, String)>> {
    record(ex)
        .received(rsp)
        .filter(|m| m.command.status.is_some_and(status::is_pending))
        .map(|m| m.data_summary.clone())
        .collect()
}

fn value<'a>(summary: &'a [(String, String)], key: &str) -> Option<&'a str> {
    summary
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn keys(list: &[(Tag, &str)]) -> Vec<(Tag, String)> {
    list.iter().map(|(t, v)| (*t, v.to_string())).collect()
}

fn sop_uid(p: &Path) -> String {
    dataset::read_head(p).expect("fixture head").sop_instance
}

fn assert_ok(ex: &Exchange) {
    assert!(ex.failure.is_none(), "{}", show(ex));
    assert_eq!(ex.status(), Some(0), "{}", show(ex));
    assert_eq!(record(ex).ended, "released", "{}", show(ex));
}

#[tokio::test]
async fn dcmtk_peers() {
    if !installed("dcmqrscp") || !installed("storescp") {
        eprintln!("DCMTK dcmqrscp/storescp not installed (apt-get install dcmtk): skipping");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (qr_port, store_port) = (free_port(), free_port());
    let _storescp = start_storescp(dir.path(), store_port);
    let _qr = start_dcmqrscp(dir.path(), qr_port, store_port);
    let qr = DimseScu::new(peer(qr_port, "DCMQRSCP"));
    let sources = ct_files();
    let n = sources.len();

    // C-ECHO
    let ex = qr.echo().await;
    assert_ok(&ex);
    assert_eq!(ex.request.method, "C-ECHO-RQ");
    assert_eq!(
        ex.request.url,
        format!("dicom://DCMQRSCP@127.0.0.1:{qr_port}")
    );
    assert!(
        ex.repro.starts_with("echoscu -aet HARNESS -aec DCMQRSCP"),
        "{}",
        ex.repro
    );
    let rec = record(&ex);
    assert_eq!(rec.proposed[0].id, 1);
    assert_eq!(rec.negotiated.len(), 1);
    assert_eq!(rec.peer_max_pdu, 65536);

    // C-FIND, study level
    let study_keys = keys(&[
        (tags::QUERY_RETRIEVE_LEVEL, "STUDY"),
        (tags::PATIENT_ID, "CTH-0001"),
        (tags::STUDY_INSTANCE_UID, ""),
        (tags::PATIENT_NAME, ""),
        (tags::STUDY_DATE, ""),
    ]);
    let ex = qr.find(QueryModel::StudyRoot, &study_keys, None).await;
    assert_ok(&ex);
    assert_eq!(ex.operation, "C-FIND STUDY");
    assert!(
        ex.repro.contains("findscu") && ex.repro.contains("-S"),
        "{}",
        ex.repro
    );
    assert!(ex.repro.contains("-k PatientID=CTH-0001"), "{}", ex.repro);
    let found = matches(&ex, field::C_FIND_RSP);
    assert!(
        found
            .iter()
            .any(|m| value(m, "StudyInstanceUID") == Some(STUDY)
                && value(m, "PatientID") == Some("CTH-0001")
                && value(m, "PatientName").is_some()
                && value(m, "StudyDate").is_some()),
        "{}",
        show(&ex)
    );
    let sent = &record(&ex).messages[0];
    assert_eq!(sent.flow, Flow::Sent);
    assert_eq!(sent.command.field, field::C_FIND_RQ);
    assert!(sent.data_sha256.is_some() && ex.request.body.size > 0);

    // C-FIND, series level
    let series_keys = keys(&[
        (tags::QUERY_RETRIEVE_LEVEL, "SERIES"),
        (tags::STUDY_INSTANCE_UID, STUDY),
        (tags::SERIES_INSTANCE_UID, ""),
        (tags::MODALITY, ""),
    ]);
    let ex = qr.find(QueryModel::StudyRoot, &series_keys, None).await;
    assert_ok(&ex);
    let found = matches(&ex, field::C_FIND_RSP);
    assert_eq!(found.len(), 1, "{}", show(&ex));
    assert_eq!(value(&found[0], "SeriesInstanceUID"), Some(SERIES));
    assert_eq!(value(&found[0], "Modality"), Some("CT"));

    // C-FIND at image level, cancelled after 2 matches
    let image_keys = keys(&[
        (tags::QUERY_RETRIEVE_LEVEL, "IMAGE"),
        (tags::STUDY_INSTANCE_UID, STUDY),
        (tags::SERIES_INSTANCE_UID, SERIES),
        (tags::SOP_INSTANCE_UID, ""),
    ]);
    let ex = qr.find(QueryModel::StudyRoot, &image_keys, Some(2)).await;
    assert!(ex.failure.is_none(), "{}", show(&ex));
    assert!(ex.repro.contains("--cancel 2"), "{}", ex.repro);
    let rec = record(&ex);
    let cancel = rec
        .messages
        .iter()
        .position(|m| m.flow == Flow::Sent && m.command.field == field::C_CANCEL_RQ)
        .expect("C-CANCEL-RQ sent");
    let request_id = rec
        .messages
        .iter()
        .find(|m| m.flow == Flow::Sent)
        .and_then(|m| m.command.message_id);
    assert_eq!(rec.messages[cancel].command.responded_to, request_id);
    let before = rec.messages[..cancel]
        .iter()
        .filter(|m| m.flow == Flow::Received && m.command.status.is_some_and(status::is_pending))
        .count();
    assert_eq!(before, 2, "{}", show(&ex));
    // dcmqrscp 3.6.7 has its matches queued and ignores the cancel of a C-FIND (as with
    // `findscu --cancel 2`): both endings are conformant.
    assert!(
        matches!(ex.status(), Some(status::CANCEL | status::SUCCESS)),
        "{}",
        show(&ex)
    );
    assert_eq!(rec.ended, "released");

    // C-STORE of 3 files into storescp
    let store = DimseScu::new(peer(store_port, "STORESCP"));
    let three: Vec<PathBuf> = sources[..3].to_vec();
    let ex = store.store(&three).await;
    assert_ok(&ex);
    assert_eq!(ex.operation, "C-STORE 3 instances");
    assert!(ex.request.headers.is_empty(), "{}", show(&ex));
    let rsps: Vec<_> = record(&ex).received(field::C_STORE_RSP).collect();
    assert_eq!(rsps.len(), 3);
    assert!(rsps.iter().all(|m| m.command.status == Some(0)));
    let sent: Vec<_> = record(&ex)
        .messages
        .iter()
        .filter(|m| m.flow == Flow::Sent)
        .collect();
    for (m, f) in sent.iter().zip(&three) {
        let head = dataset::read_head(f).expect("head");
        assert_eq!(m.data_len, Some(head.data_len));
        assert!(m.pdus > 1, "a 100 KB data set is fragmented at 64 KB");
    }
    let arrived = |uid: &str| {
        std::fs::read_dir(dir.path().join("storescp-in"))
            .expect("storescp dir")
            .any(|e| {
                e.expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .contains(uid)
            })
    };
    for f in &three {
        assert!(arrived(&sop_uid(f)), "{} did not arrive", f.display());
    }
    assert!(ex.repro.starts_with("storescu "), "{}", ex.repro);

    // C-MOVE to STORESCP
    let move_keys = keys(&[
        (tags::QUERY_RETRIEVE_LEVEL, "SERIES"),
        (tags::STUDY_INSTANCE_UID, STUDY),
        (tags::SERIES_INSTANCE_UID, SERIES),
    ]);
    let ex = qr
        .move_to(QueryModel::StudyRoot, &move_keys, "STORESCP", None)
        .await;
    assert_ok(&ex);
    assert!(ex.repro.contains("movescu") && ex.repro.contains("-aem STORESCP"));
    let move_id = record(&ex)
        .messages
        .iter()
        .find(|m| m.flow == Flow::Sent)
        .and_then(|m| m.command.message_id)
        .expect("request message id");
    let last = record(&ex)
        .final_response(move_id)
        .expect("final C-MOVE-RSP");
    assert_eq!(last.command.completed, Some(n as u16), "{}", show(&ex));
    assert_eq!(last.command.failed.unwrap_or(0), 0);
    let pend = record(&ex)
        .received(field::C_MOVE_RSP)
        .filter(|m| m.command.status == Some(status::PENDING))
        .count();
    assert!(pend > 0, "{}", show(&ex));
    for f in &sources {
        assert!(arrived(&sop_uid(f)), "{} was not moved", f.display());
    }

    // C-MOVE to an unknown AE
    let ex = qr
        .move_to(QueryModel::StudyRoot, &move_keys, "NOWHERE", None)
        .await;
    assert!(ex.failure.is_none(), "{}", show(&ex));
    assert_eq!(
        ex.status(),
        Some(status::MOVE_DESTINATION_UNKNOWN),
        "{}",
        show(&ex)
    );

    // C-MOVE cancelled after the first pending response
    let ex = qr
        .move_to(QueryModel::StudyRoot, &move_keys, "STORESCP", Some(1))
        .await;
    assert!(ex.failure.is_none(), "{}", show(&ex));
    assert!(record(&ex)
        .messages
        .iter()
        .any(|m| m.flow == Flow::Sent && m.command.field == field::C_CANCEL_RQ));
    assert!(ex.status().is_some(), "{}", show(&ex));

    // C-GET: the instances arrive on the same association, data sets byte-identical
    let got = dir.path().join("got");
    std::fs::create_dir_all(&got).expect("get dir");
    let ex = qr
        .get(
            QueryModel::StudyRoot,
            &move_keys,
            &vec![(uids::CT_IMAGE_STORAGE, uids::EXPLICIT_VR_LITTLE_ENDIAN); n],
            &got,
            None,
        )
        .await;
    assert_ok(&ex);
    assert_eq!(ex.request.method, "C-GET-RQ");
    let rec = record(&ex);
    // One storage context for the SOP Class, not one per instance, and one role item.
    assert_eq!(rec.proposed.len(), 2, "{}", show(&ex));
    assert_eq!(
        rec.roles,
        vec![(uids::CT_IMAGE_STORAGE.to_string(), false, true)]
    );
    let stores: Vec<_> = rec.received(field::C_STORE_RQ).collect();
    assert_eq!(stores.len(), n, "{}", show(&ex));
    for f in &sources {
        let src = dataset::read_head(f).expect("source head");
        let copy = got.join(format!("{}.dcm", src.sop_instance));
        let head = dataset::read_head(&copy).expect("received file is PS3.10");
        assert_eq!(head.sop_class, src.sop_class);
        assert_eq!(
            dataset::sha256_from(&copy, head.data_offset).expect("hash"),
            dataset::sha256_from(f, src.data_offset).expect("hash"),
            "data set of {} differs",
            src.sop_instance
        );
        let m = stores
            .iter()
            .find(|m| m.command.affected_sop_instance.as_deref() == Some(&src.sop_instance))
            .expect("recorded");
        assert_eq!(m.data_len, Some(src.data_len));
        assert!(m.data_summary.iter().any(|(k, _)| k == "TransferSyntaxUID"));
    }
    let sent_rsps = rec
        .messages
        .iter()
        .filter(|m| m.flow == Flow::Sent && m.command.field == field::C_STORE_RSP)
        .count();
    assert_eq!(sent_rsps, n);

    // A compressed file with only uncompressed syntaxes accepted is not sent (not transcoded)
    let jpeg = std::fs::read_dir(ct_dir().join("02_CT_JPEGLossless"))
        .expect("jpeg series")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".dcm") && !name.ends_with(".ele.dcm")
        })
        .expect("a JPEG file");
    let ex = qr.store(&[jpeg]).await;
    assert!(ex.failure.is_none(), "{}", show(&ex));
    assert_eq!(ex.status(), None, "{}", show(&ex));
    assert_eq!(ex.request.headers.len(), 1, "{}", show(&ex));
    assert_eq!(ex.request.headers[0].0, "not-sent");
    assert!(ex.operation.contains("1 not sent"), "{}", ex.operation);

    // A wrong called AE title: rejected, recorded, not a failure of the harness
    let wrong = DimseScu::new(peer(qr_port, "WRONG"));
    let ex = wrong.echo().await;
    assert!(ex.failure.is_none(), "{}", show(&ex));
    assert!(ex.response.is_none());
    let rj = record(&ex).rejection.clone().expect("rejection recorded");
    assert_eq!((rj.result, rj.source, rj.reason), (1, 1, 7), "{rj:?}");
    assert!(
        record(&ex).ended.starts_with("rejected"),
        "{}",
        record(&ex).ended
    );
}

#[tokio::test]
async fn orthanc_when_running() {
    if std::net::TcpStream::connect(("127.0.0.1", 14242)).is_err() {
        eprintln!("no Orthanc on 127.0.0.1:14242 (ci/start-orthanc.sh starts one): skipping");
        return;
    }
    let scu = DimseScu::new(peer(14242, "ORTHANC"));
    let ex = scu.echo().await;
    assert_ok(&ex);
    let ex = scu
        .find(
            QueryModel::StudyRoot,
            &keys(&[
                (tags::QUERY_RETRIEVE_LEVEL, "STUDY"),
                (tags::STUDY_INSTANCE_UID, ""),
            ]),
            None,
        )
        .await;
    assert_ok(&ex);
    // C-GET of the CT series when Orthanc holds it (the harness's runs against it load the
    // fixtures): one storage context for the SOP Class, one role item, every instance delivered.
    let series = keys(&[
        (tags::QUERY_RETRIEVE_LEVEL, "IMAGE"),
        (tags::STUDY_INSTANCE_UID, STUDY),
        (tags::SERIES_INSTANCE_UID, SERIES),
        (tags::SOP_INSTANCE_UID, ""),
    ]);
    let held = matches(
        &scu.find(QueryModel::StudyRoot, &series, None).await,
        field::C_FIND_RSP,
    )
    .len();
    if held == 0 {
        eprintln!("Orthanc does not hold the CT fixture series: C-GET not tried");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let ex = scu
        .get(
            QueryModel::StudyRoot,
            &keys(&[
                (tags::QUERY_RETRIEVE_LEVEL, "SERIES"),
                (tags::STUDY_INSTANCE_UID, STUDY),
                (tags::SERIES_INSTANCE_UID, SERIES),
            ]),
            &vec![(uids::CT_IMAGE_STORAGE, uids::EXPLICIT_VR_LITTLE_ENDIAN); held],
            dir.path(),
            None,
        )
        .await;
    assert_ok(&ex);
    let rec = record(&ex);
    assert_eq!(rec.proposed.len(), 2, "{}", show(&ex));
    assert_eq!(rec.roles.len(), 1, "{}", show(&ex));
    assert_eq!(
        rec.received(field::C_STORE_RQ).count(),
        held,
        "{}",
        show(&ex)
    );
}

#[tokio::test]
async fn nothing_listening_is_a_connect_failure() {
    let port = free_port();
    let ex = DimseScu::new(peer(port, "ANY")).echo().await;
    let failure = ex.failure.as_ref().expect("failure");
    assert_eq!(failure.kind, "connect", "{}", show(&ex));
    assert!(ex.response.is_none());
}

#[tokio::test]
async fn silent_server_times_out_within_the_read_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let mut p = peer(port, "SILENT");
    p.read_timeout = Duration::from_secs(1);
    let t0 = Instant::now();
    let study = keys(&[(tags::QUERY_RETRIEVE_LEVEL, "STUDY")]);
    let ex = DimseScu::new(p)
        .find(QueryModel::StudyRoot, &study, None)
        .await;
    let took = t0.elapsed();
    hold.abort();
    let failure = ex.failure.as_ref().expect("failure");
    assert_eq!(failure.kind, "timeout", "{}", show(&ex));
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    assert!(ex.response.is_none());
    assert!(
        record(&ex).ended.starts_with("timeout"),
        "{}",
        record(&ex).ended
    );
}

/// How the fake SCP misbehaves once it has read the request's first PDU.
#[derive(Clone, Copy)]
enum Misbehave {
    /// Never answers.
    Silent,
    /// Sends A-ABORT.
    Abort,
    /// Closes the TCP connection (A-P-ABORT).
    Close,
    /// Answers with a command set that is not in group 0000.
    BadCommand,
}

/// An SCP that accepts the first association proposing `abstract_syntax` and hands it to
/// `serve`; returns its port and the task that serves it.
async fn one_association<F, Fut>(
    abstract_syntax: &'static str,
    serve: F,
) -> (u16, tokio::task::JoinHandle<()>)
where
    F: FnOnce(dicom_ul::association::AsyncServerAssociation<tokio::net::TcpStream>) -> Fut
        + Send
        + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let Ok(assoc) = dicom_ul::ServerAssociationOptions::new()
            .accept_any()
            .with_abstract_syntax(abstract_syntax)
            .establish_async(stream)
            .await
        else {
            return;
        };
        serve(assoc).await;
    });
    (port, task)
}

/// An SCP that accepts Verification, reads one PDU and then misbehaves; returns its port.
async fn fake_scp(mode: Misbehave) -> (u16, tokio::task::JoinHandle<()>) {
    use dicom_ul::pdu::{AbortRQSource, PDataValue, PDataValueType};
    use dicom_ul::Pdu;
    one_association(uids::VERIFICATION, move |mut assoc| async move {
        let _ = assoc.receive().await;
        match mode {
            Misbehave::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
            Misbehave::Abort => {
                let _ = assoc
                    .send(&Pdu::AbortRQ {
                        source: AbortRQSource::ServiceUser,
                    })
                    .await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Misbehave::Close => drop(assoc),
            Misbehave::BadCommand => {
                let pdu = Pdu::PData {
                    data: vec![PDataValue {
                        presentation_context_id: 1,
                        value_type: PDataValueType::Command,
                        is_last: true,
                        data: vec![0x08, 0, 0x18, 0, 2, 0, 0, 0, b'1', 0],
                    }],
                };
                let _ = assoc.send(&pdu).await;
                let _ = assoc.receive().await;
            }
        }
    })
    .await
}

#[tokio::test]
async fn misbehaving_peers_end_within_the_read_timeout() {
    // A peer that takes the whole C-ECHO-RQ and then aborts or closes broke the request/response
    // contract: the SUT's Fail (PEER-01, kind `peer-closed`); silence stays a timeout (an Error).
    for (mode, kind, ended) in [
        (Misbehave::Silent, Some("timeout"), "timeout"),
        (Misbehave::Abort, Some("peer-closed"), "aborted by the peer"),
        (Misbehave::Close, Some("peer-closed"), "closed by the peer"),
        (Misbehave::BadCommand, None, "protocol violation"),
    ] {
        let (port, task) = fake_scp(mode).await;
        let mut p = peer(port, "FAKE");
        p.read_timeout = Duration::from_secs(1);
        let t0 = Instant::now();
        let ex = DimseScu::new(p).echo().await;
        let took = t0.elapsed();
        task.abort();
        assert!(took < Duration::from_millis(3500), "took {took:?}");
        assert_eq!(
            ex.failure.as_ref().map(|f| f.kind.as_str()),
            kind,
            "{}",
            show(&ex)
        );
        assert!(ex.response.is_none(), "{}", show(&ex));
        assert!(
            record(&ex).ended.starts_with(ended),
            "{}",
            record(&ex).ended
        );
        assert_eq!(record(&ex).negotiated.len(), 1);
    }
}

/// A Storage SCP that refuses, with 0111 Duplicate SOP Instance, every instance whose SOP Instance
/// UID is in `held`, and stores the others (PS3.4 B.2.3 leaves duplicates to the SCP); it serves
/// associations until the task is aborted.
async fn refuses_duplicates(
    held: std::collections::BTreeSet<String>,
) -> (u16, tokio::task::JoinHandle<()>) {
    use ihe_harness::dimse::command::Command;
    use ihe_harness::dimse::message::{self, Outgoing, ReceiveOptions};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = std::sync::Arc::new(held);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let held = held.clone();
            tokio::spawn(async move {
                let Ok(mut assoc) = dicom_ul::ServerAssociationOptions::new()
                    .accept_any()
                    .promiscuous(true)
                    .with_transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
                    .with_transfer_syntax(uids::IMPLICIT_VR_LITTLE_ENDIAN)
                    .establish_async(stream)
                    .await
                else {
                    return;
                };
                let opts = ReceiveOptions::new(Duration::from_secs(10));
                while let Ok(rx) = message::receive(&mut assoc, &opts).await {
                    let st = match rx.command.affected_sop_instance.as_deref() {
                        Some(uid) if held.contains(uid) => status::DUPLICATE_SOP_INSTANCE,
                        _ => status::SUCCESS,
                    };
                    let rsp = Command::response_to(&rx.command, st, false);
                    if message::send(&mut assoc, rx.pc_id, &rsp, Outgoing::None)
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (port, task)
}

/// Load mode stores the fixtures first, so a store scenario that stored them again met an archive
/// that holds them: one that refuses duplicates (allowed) failed DIM-12. The store scenarios now
/// store re-identified copies, and the duplicate scenario accepts 0111.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_that_refuses_duplicates_passes_the_store_scenarios() {
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies/index.json"),
        )
        .expect("fixture index"),
    )
    .expect("fixture index parses");
    let held: std::collections::BTreeSet<String> = index
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|i| i["sop_uid"].as_str().map(str::to_string))
        .collect();
    let (port, task) = refuses_duplicates(held).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("sut.toml");
    std::fs::write(
        &profile,
        format!(
            "[sut]\nname = \"refuses duplicates\"\n[dimse]\nhost = \"127.0.0.1\"\nport = {port}\n\
             called_ae = \"ARCHIVE\"\n[test_data]\nmode = \"preloaded\"\n"
        ),
    )
    .expect("profile");
    let reports = dir.path().join("reports");
    let out = tokio::task::spawn_blocking(move || {
        crate::common::harness(&[
            "run",
            "--sut",
            profile.to_str().unwrap_or_default(),
            "--tags",
            "@profile:DIMSE and @actor:StorageScp",
            "--report-dir",
            reports.to_str().unwrap_or_default(),
        ])
    })
    .await
    .expect("harness ran");
    task.abort();
    let results = crate::common::results(&dir.path().join("reports"));
    let outcomes = crate::common::outcomes(&results);
    assert_eq!(outcomes.len(), 3, "{}", crate::common::dump(&out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "pass"),
        "{outcomes:?}\n{}",
        crate::common::dump(&out)
    );
}

/// How a hostile C-FIND SCP answers, once it has the whole request.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    /// A pending response whose identifier never ends: data fragments never flagged last.
    EndlessDataSet,
    /// Pending responses, each complete, without end.
    EndlessPending,
    /// A pending response, then empty data fragments every 50 ms: bytes keep coming, nothing
    /// accumulates, and no PDU wait ever times out.
    Drip,
}

/// A Study Root C-FIND SCP that answers the first request as `mode` says until the harness goes.
async fn hostile_scp(mode: Hostile) -> (u16, tokio::task::JoinHandle<()>) {
    use dicom_ul::pdu::{PDataValue, PDataValueType};
    use dicom_ul::Pdu;
    use ihe_harness::dimse::command::Command;
    use ihe_harness::dimse::message::{self, Outgoing, ReceiveOptions};
    let find = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND;
    one_association(find, move |mut assoc| async move {
        let Ok(rq) =
            message::receive(&mut assoc, &ReceiveOptions::new(Duration::from_secs(5))).await
        else {
            return;
        };
        let pending = Command::response_to(&rq.command, status::PENDING, true);
        let identifier = dataset::encode_identifier(
            &[
                (tags::QUERY_RETRIEVE_LEVEL, "STUDY".into()),
                (tags::STUDY_INSTANCE_UID, "1.2.3".into()),
            ],
            uids::IMPLICIT_VR_LITTLE_ENDIAN,
        )
        .expect("identifier");
        let fragment = |data: Vec<u8>| Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: rq.pc_id,
                value_type: PDataValueType::Data,
                is_last: false,
                data,
            }],
        };
        match mode {
            Hostile::EndlessPending => loop {
                if message::send(&mut assoc, rq.pc_id, &pending, Outgoing::Bytes(&identifier))
                    .await
                    .is_err()
                {
                    return;
                }
            },
            Hostile::EndlessDataSet | Hostile::Drip => {
                if message::send(&mut assoc, rq.pc_id, &pending, Outgoing::None)
                    .await
                    .is_err()
                {
                    return;
                }
                loop {
                    let data = match mode {
                        Hostile::EndlessDataSet => vec![0x20; 8 * 1024],
                        _ => Vec::new(),
                    };
                    if assoc.send(&fragment(data)).await.is_err() {
                        return;
                    }
                    if matches!(mode, Hostile::Drip) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
    })
    .await
}

/// Hostile answers stay bounded: an identifier that never ends and endless pending responses end
/// as the SUT's Fail (a protocol violation judged by DIM-10) at the data set and message limits,
/// a drip that never lets a PDU wait time out ends as an Error at the operation's time limit; each
/// within the time limit, with what is kept bounded by the limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_end_within_the_limits() {
    use ihe_harness::dimse::association::Limits;
    let limits = Limits {
        timeout: Duration::from_secs(3),
        max_data_set: 1024 * 1024,
        max_messages: 500,
    };
    for (mode, kind, ended) in [
        (Hostile::EndlessDataSet, None, "grew past 1048576 bytes"),
        (Hostile::EndlessPending, None, "more than 500 messages"),
        (Hostile::Drip, Some("timeout"), "did not end within 3000 ms"),
    ] {
        let (port, task) = hostile_scp(mode).await;
        let mut p = peer(port, "HOSTILE");
        p.read_timeout = Duration::from_secs(2);
        p.limits = limits;
        let t0 = Instant::now();
        let scu = DimseScu::new(p);
        let study = keys(&[
            (tags::QUERY_RETRIEVE_LEVEL, "STUDY"),
            (tags::STUDY_INSTANCE_UID, ""),
        ]);
        let find = scu.find(QueryModel::StudyRoot, &study, None);
        let ex = tokio::time::timeout(Duration::from_secs(20), find)
            .await
            .unwrap_or_else(|_| panic!("{mode:?}: the C-FIND did not end"));
        let took = t0.elapsed();
        task.abort();
        assert!(took < Duration::from_secs(6), "{mode:?} took {took:?}");
        assert_eq!(
            ex.failure.as_ref().map(|f| f.kind.as_str()),
            kind,
            "{mode:?}: {}",
            show(&ex)
        );
        let rec = record(&ex);
        let why = ex
            .failure
            .as_ref()
            .map_or(rec.ended.clone(), |f| f.message.clone());
        assert!(why.contains(ended), "{mode:?}: {why}");
        if kind.is_none() {
            assert!(rec.ended.starts_with("protocol violation"), "{}", rec.ended);
        }
        assert!(
            rec.messages.len() <= 502,
            "{mode:?}: {} messages kept",
            rec.messages.len()
        );
    }
}

/// `ihe-harness store --associations 3` of the fixture CT series into `port`: the binary exits 0,
/// says it used 3 associations, and every instance arrived once in `received` (`lossy`: at most
/// once, for a receiver known to drop instances it answered 0000).
fn store_over_three_associations(
    dir: &Path,
    port: u16,
    called: &str,
    received: &Path,
    lossy: bool,
) {
    let profile = dir.join(format!("{called}.toml"));
    std::fs::write(
        &profile,
        format!(
            "[sut]\nname = \"{called}\"\n[dimse]\nhost = \"127.0.0.1\"\nport = {port}\n\
             called_ae = \"{called}\"\ncalling_ae = \"HARNESS\"\n"
        ),
    )
    .expect("profile");
    let series = ct_dir().join("01_CT_ELE");
    let out = crate::common::harness(&[
        "store",
        "--associations",
        "3",
        "--sut",
        &profile.display().to_string(),
        &series.display().to_string(),
    ]);
    let shown = crate::common::dump(&out);
    if lossy {
        // dcmqrscp 3.6.7 may also refuse (C000) an instance that concurrent associations store
        // into one study: the harness names the file and exits 1, the receiver's verdict.
        let refused = out.status.code() == Some(1) && shown.contains("final status C000");
        assert!(out.status.success() || refused, "{shown}");
    } else {
        assert!(out.status.success(), "{shown}");
        assert!(shown.contains("final status 0000"), "{shown}");
    }
    assert!(shown.contains("24 files"), "{shown}");
    assert!(shown.contains("over 3 associations"), "{shown}");
    let want: std::collections::BTreeMap<String, usize> =
        ct_files().iter().map(|f| (sop_uid(f), 1)).collect();
    assert_eq!(want.len(), 24);
    let got = crate::common::arrivals(received);
    if lossy {
        assert!(!got.is_empty(), "{shown}");
        assert!(
            got.iter().all(|(uid, n)| want.contains_key(uid) && *n == 1),
            "{got:#?}"
        );
    } else {
        assert_eq!(got, want, "{shown}");
    }
}

#[test]
fn store_over_several_associations_delivers_every_instance_once() {
    if !installed("dcmqrscp") || !installed("storescp") {
        eprintln!("DCMTK dcmqrscp/storescp not installed (apt-get install dcmtk): skipping");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // storescp, a process per association (--fork), so the three run at once.
    let port = free_port();
    let into = dir.path().join("in");
    std::fs::create_dir_all(&into).expect("storescp dir");
    let _storescp = spawn(
        Command::new("storescp")
            .args(["--fork", "-aet", "STORESCP", "-od"])
            .arg(&into)
            .args(["+xa", &port.to_string()]),
        &dir.path().join("storescp.log"),
    );
    crate::common::wait_port(port);
    store_over_three_associations(dir.path(), port, "STORESCP", &into, false);

    // dcmqrscp with an empty archive, a process per association. dcmqrscp 3.6.7 loses instances
    // when concurrent associations store into the same study, whoever sends them (three storescu
    // at once leave 19 of 24 files), answering 0000 or at times C000, and in its single-process
    // mode (-s) it resets the connections that wait: none arrives twice.
    let qr = dir.path().join("qr");
    let db = qr.join("db");
    std::fs::create_dir_all(&db).expect("db dir");
    let port = free_port();
    let cfg = format!(
        "NetworkTCPPort = {port}\nMaxPDUSize = 65536\nMaxAssociations = 16\n\
         HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n\
         AETable BEGIN\nDCMQRSCP {} RW (200, 1024mb) ANY\nAETable END\n",
        db.display()
    );
    std::fs::write(qr.join("dcmqrscp.cfg"), cfg).expect("config");
    let _qr = spawn(
        Command::new("dcmqrscp")
            .arg("-c")
            .arg(qr.join("dcmqrscp.cfg")),
        &qr.join("dcmqrscp.log"),
    );
    crate::common::wait_port(port);
    store_over_three_associations(&qr, port, "DCMQRSCP", &db, true);
}
