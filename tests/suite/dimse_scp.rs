//! The reference's DIMSE SCP against real DCMTK clients (echoscu, findscu, storescu, movescu with
//! a storescp destination, getscu), and against a Rust SCU built on the harness's DIMSE layer for
//! what DCMTK cannot do on demand (C-CANCEL at a known point, a message on a context that was not
//! accepted, a stalled peer). Each `dimse-*` fault is shown to change what the client sees.
//!
//! Skipped, with a message, when DCMTK (`echoscu`) is not installed.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_ul::ClientAssociationOptions;
use ihe_harness::dimse::command::{field, status, Command};
use ihe_harness::dimse::message::{self, Outgoing, ReceiveOptions};
use ihe_harness::evidence::inbox::Inbox;
use ihe_harness::evidence::Exchange;
use ihe_harness::reference::dimse::sub_operations::meta_end;
use ihe_harness::reference::{Fault, ReferenceOptions, ReferenceServer};
use ihe_harness::transaction::Transaction;

const AE: &str = "IHE_REFERENCE";
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

fn dcmtk_missing() -> bool {
    let missing = std::process::Command::new("echoscu")
        .arg("--version")
        .output()
        .is_err();
    if missing {
        eprintln!("skipped: DCMTK (echoscu) is not installed");
    }
    missing
}

fn fixtures_dir() -> PathBuf {
    std::env::var_os("IHE_HARNESS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies"))
}

/// One fixture instance from `index.json`.
#[derive(Debug, Clone)]
struct Fixture {
    path: PathBuf,
    patient: String,
    study: String,
    series: String,
    sop: String,
    ts: String,
}

fn fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let text = std::fs::read_to_string(dir.join("index.json")).expect("index.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("index parses");
    v.as_array()
        .expect("array")
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            Fixture {
                path: dir.join(s("path")),
                patient: s("patient_id"),
                study: s("study_uid"),
                series: s("series_uid"),
                sop: s("sop_uid"),
                ts: s("transfer_syntax"),
            }
        })
        .collect()
}

/// The instances of the largest series stored in `ts`.
fn series_in(ts: &str) -> Vec<Fixture> {
    let mut by_series: BTreeMap<String, Vec<Fixture>> = BTreeMap::new();
    for f in fixtures().into_iter().filter(|f| f.ts == ts) {
        by_series.entry(f.series.clone()).or_default().push(f);
    }
    by_series
        .into_values()
        .max_by_key(|v| v.len())
        .expect("a series in that syntax")
}

fn dataset_bytes(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).expect("file reads");
    let off = meta_end(&bytes).expect("a PS3.10 file");
    bytes[off..].to_vec()
}

fn sop_of(path: &Path) -> String {
    ihe_harness::reference::store::archive::read_header(path)
        .ok()
        .and_then(|o| {
            o.get(tags::SOP_INSTANCE_UID)
                .and_then(|e| e.to_str().ok())
                .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
        })
        .unwrap_or_default()
}

fn sop_class_of(path: &Path) -> String {
    ihe_harness::reference::store::archive::read_header(path)
        .ok()
        .and_then(|o| {
            o.get(tags::SOP_CLASS_UID)
                .and_then(|e| e.to_str().ok())
                .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
        })
        .unwrap_or_default()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start(faults: &[Fault], dest: Option<(&str, u16)>) -> ReferenceServer {
    let mut opts = ReferenceOptions::new(fixtures_dir())
        .with_dimse_bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .with_stall(Duration::from_secs(3))
        .with_dimse_timeout(Duration::from_secs(10));
    for f in faults {
        opts = opts.with_fault(*f);
    }
    if let Some((ae, port)) = dest {
        opts = opts.with_move_destination(ae, SocketAddr::from(([127, 0, 0, 1], port)));
    }
    ReferenceServer::start(opts).await.expect("server starts")
}

fn port(server: &ReferenceServer) -> String {
    server
        .dimse_addr()
        .expect("DIMSE listener")
        .port()
        .to_string()
}

async fn run(tool: &str, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(tool);
    cmd.args(args).kill_on_drop(true);
    tokio::time::timeout(TOOL_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{tool} did not finish in time"))
        .unwrap_or_else(|e| panic!("{tool} runs: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn wait_exchange(
    inbox: &Inbox,
    mark: usize,
    pred: &(dyn Fn(&Exchange) -> bool + Sync),
) -> Exchange {
    inbox
        .wait_for(mark, Transaction::Dimse, Duration::from_secs(15), pred)
        .await
        .expect("the exchange was recorded")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoscu_gets_success_and_the_exchange_is_recorded() {
    if dcmtk_missing() {
        return;
    }
    let server = start(&[], None).await;
    let out = run("echoscu", &["-aec", AE, "127.0.0.1", &port(&server)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let inbox = server.inbox();
    let echo = wait_exchange(&inbox, 0, &|x| x.request.method == "C-ECHO-RQ").await;
    assert_eq!(echo.status(), Some(0));
    assert_eq!(echo.direction, ihe_harness::evidence::Direction::Inbound);
    let rec = echo.dimse.as_ref().expect("a DIMSE record");
    assert_eq!(rec.called_ae, AE);
    assert!(!rec.proposed.is_empty() && !rec.negotiated.is_empty());
    assert!(echo.repro.starts_with("echoscu "));
    let assoc = wait_exchange(&inbox, 0, &|x| x.request.method == "A-ASSOCIATE-RQ").await;
    assert_eq!(
        assoc.dimse.as_ref().map(|d| d.ended.as_str()),
        Some("released")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findscu_finds_the_two_studies_of_the_patient() {
    if dcmtk_missing() {
        return;
    }
    let server = start(&[], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(
        "findscu",
        &[
            "-S",
            "-aec",
            AE,
            "-X",
            "-od",
            dir.path().to_str().expect("utf-8"),
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            "PatientID=CTH-0001",
            "-k",
            "StudyInstanceUID",
            "127.0.0.1",
            &port(&server),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let expected: BTreeSet<String> = fixtures()
        .into_iter()
        .filter(|f| f.patient == "CTH-0001")
        .map(|f| f.study)
        .collect();
    assert_eq!(expected.len(), 2);
    let mut found = BTreeSet::new();
    for f in files_in(dir.path()) {
        let obj = dicom_object::open_file(&f).expect("a response file");
        let keys: BTreeSet<String> = obj.iter().map(|e| format!("{}", e.header().tag)).collect();
        // Exactly the requested keys plus Query/Retrieve Level (and Specific Character Set).
        let allowed: BTreeSet<String> = [
            tags::QUERY_RETRIEVE_LEVEL,
            tags::PATIENT_ID,
            tags::STUDY_INSTANCE_UID,
            tags::SPECIFIC_CHARACTER_SET,
        ]
        .iter()
        .map(|t| format!("{t}"))
        .collect();
        assert!(keys.is_subset(&allowed), "{keys:?}");
        found.insert(
            obj.element(tags::STUDY_INSTANCE_UID)
                .expect("study uid")
                .to_str()
                .expect("text")
                .trim_end_matches('\0')
                .to_string(),
        );
    }
    assert_eq!(found, expected);
    let find = wait_exchange(&server.inbox(), 0, &|x| x.request.method == "C-FIND-RQ").await;
    assert_eq!(find.status(), Some(0));
    let rec = find.dimse.as_ref().expect("record");
    let pendings = rec
        .messages
        .iter()
        .filter(|m| m.command.status == Some(status::PENDING))
        .count();
    assert_eq!(pendings, 2);
    assert!(find.repro.contains("findscu -S"), "{}", find.repro);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storescu_stores_fixture_files_in_their_stored_syntax() {
    if dcmtk_missing() {
        return;
    }
    let server = start(&[], None).await;
    let mut files = Vec::new();
    // storescu proposes uncompressed syntaxes unless told which compressed one to propose.
    for (ts, option) in [
        (uids::RLE_LOSSLESS, "-xr"),
        (uids::JPEG2000_LOSSLESS, "-xv"),
        (uids::JPEG_BASELINE8_BIT, "-xy"),
        (uids::EXPLICIT_VR_LITTLE_ENDIAN, "-xe"),
        (uids::IMPLICIT_VR_LITTLE_ENDIAN, "-xi"),
    ] {
        let some: Vec<Fixture> = series_in(ts).into_iter().take(2).collect();
        let mut args: Vec<String> = vec![
            option.into(),
            "-aec".into(),
            AE.into(),
            "127.0.0.1".into(),
            port(&server),
        ];
        args.extend(some.iter().map(|f| f.path.to_string_lossy().into_owned()));
        let out = run_owned("storescu", &args).await;
        assert_eq!(out.status.code(), Some(0), "{ts}: {}", text(&out));
        files.extend(some);
    }
    let inbox = server.inbox();
    for f in &files {
        let sop = f.sop.clone();
        let ex = wait_exchange(&inbox, 0, &move |x| {
            x.request.method == "C-STORE-RQ"
                && x.dimse.as_ref().is_some_and(|d| {
                    d.messages
                        .first()
                        .is_some_and(|m| m.command.affected_sop_instance.as_deref() == Some(&sop))
                })
        })
        .await;
        assert_eq!(ex.status(), Some(0), "{}", f.path.display());
        let rec = ex.dimse.as_ref().expect("record");
        let summary = &rec.messages[0].data_summary;
        let get = |k: &str| {
            summary
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(get("TransferSyntaxUID"), f.ts, "stored syntax negotiated");
        let spooled = PathBuf::from(get("spooled"));
        assert_eq!(dataset_bytes(&spooled), dataset_bytes(&f.path));
    }
    server.shutdown().await;
}

/// A storescp started by the test, stopped when dropped.
struct StoreScp {
    child: tokio::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

async fn storescp() -> StoreScp {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let child = tokio::process::Command::new("storescp")
        .args([
            "-aet",
            "STORESCP",
            "+B",
            "+xa",
            "-od",
            dir.path().to_str().expect("utf-8"),
            &port.to_string(),
        ])
        .kill_on_drop(true)
        .spawn()
        .expect("storescp starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "storescp did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    StoreScp { child, dir, port }
}

impl StoreScp {
    async fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill().await;
        self.dir
    }
}

fn move_args<'a>(port: &'a str, dest: &'a str, study: &'a str, series: &'a str) -> Vec<String> {
    vec![
        "-S".into(),
        "-aec".into(),
        AE.into(),
        "-aem".into(),
        dest.into(),
        "-k".into(),
        "QueryRetrieveLevel=SERIES".into(),
        "-k".into(),
        format!("StudyInstanceUID={study}"),
        "-k".into(),
        format!("SeriesInstanceUID={series}"),
        "127.0.0.1".into(),
        port.into(),
    ]
}

async fn run_owned(tool: &str, args: &[String]) -> Output {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    run(tool, &argv).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn movescu_delivers_a_series_byte_identical_to_storescp() {
    if dcmtk_missing() {
        return;
    }
    let scp = storescp().await;
    let server = start(&[], Some(("STORESCP", scp.port))).await;
    let series = series_in(uids::RLE_LOSSLESS);
    let p = port(&server);
    let out = run_owned(
        "movescu",
        &move_args(&p, "STORESCP", &series[0].study, &series[0].series),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mv = wait_exchange(&server.inbox(), 0, &|x| x.request.method == "C-MOVE-RQ").await;
    assert_eq!(mv.status(), Some(0));
    let last = mv
        .dimse
        .as_ref()
        .and_then(|d| d.messages.last().cloned())
        .expect("final response");
    assert_eq!(last.command.completed, Some(series.len() as u16));
    assert_eq!(last.command.failed, Some(0));
    let sub = wait_exchange(&server.inbox(), 0, &|x| {
        x.request.method == "C-STORE-RQ"
            && x.direction == ihe_harness::evidence::Direction::Outbound
    })
    .await;
    assert_eq!(sub.status(), Some(0));
    server.shutdown().await;
    let dir = scp.stop().await;
    let received: BTreeMap<String, PathBuf> = files_in(dir.path())
        .into_iter()
        .map(|p| (sop_of(&p), p))
        .collect();
    assert_eq!(received.len(), series.len(), "{received:?}");
    for f in &series {
        let got = received.get(&f.sop).expect("instance delivered");
        assert_eq!(
            dataset_bytes(got),
            dataset_bytes(&f.path),
            "{} differs",
            f.sop
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getscu_gets_a_series() {
    if dcmtk_missing() {
        return;
    }
    let server = start(&[], None).await;
    let series = series_in(uids::EXPLICIT_VR_LITTLE_ENDIAN);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(
        "getscu",
        &[
            "-S",
            "-aec",
            AE,
            "-od",
            dir.path().to_str().expect("utf-8"),
            "-k",
            "QueryRetrieveLevel=SERIES",
            "-k",
            &format!("StudyInstanceUID={}", series[0].study),
            "-k",
            &format!("SeriesInstanceUID={}", series[0].series),
            "127.0.0.1",
            &port(&server),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let got: BTreeSet<String> = files_in(dir.path()).iter().map(|p| sop_of(p)).collect();
    let want: BTreeSet<String> = series.iter().map(|f| f.sop.clone()).collect();
    assert_eq!(got, want);
    let get = wait_exchange(&server.inbox(), 0, &|x| x.request.method == "C-GET-RQ").await;
    assert_eq!(get.status(), Some(0));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_called_ae_title_is_rejected_with_reason_7() {
    if dcmtk_missing() {
        return;
    }
    let server = start(&[], None).await;
    let p = port(&server);
    let echo = run("echoscu", &["-aec", "WRONG_AE", "127.0.0.1", &p]).await;
    assert_ne!(echo.status.code(), Some(0), "{}", text(&echo));
    assert!(
        text(&echo).contains("Called AE Title Not Recognized"),
        "{}",
        text(&echo)
    );
    let find = run(
        "findscu",
        &[
            "-S",
            "-aec",
            "WRONG_AE",
            "-k",
            "QueryRetrieveLevel=STUDY",
            "127.0.0.1",
            &p,
        ],
    )
    .await;
    assert_ne!(find.status.code(), Some(0), "{}", text(&find));
    let rj = wait_exchange(&server.inbox(), 0, &|x| {
        x.dimse.as_ref().is_some_and(|d| d.rejection.is_some())
    })
    .await;
    let r = rj
        .dimse
        .as_ref()
        .and_then(|d| d.rejection.clone())
        .expect("rejection");
    assert_eq!((r.result, r.source, r.reason), (1, 1, 7));
    server.shutdown().await;
}

/// A Rust SCU on the harness's DIMSE layer.
struct Scu {
    assoc: dicom_ul::association::AsyncClientAssociation<tokio::net::TcpStream>,
    opts: ReceiveOptions,
}

impl Scu {
    async fn connect(server: &ReferenceServer, contexts: &[&str]) -> Scu {
        let mut o = ClientAssociationOptions::new()
            .calling_ae_title("RUST_SCU")
            .called_ae_title(AE);
        for c in contexts {
            o = o.with_presentation_context(
                c.to_string(),
                vec![uids::EXPLICIT_VR_LITTLE_ENDIAN.to_string()],
            );
        }
        let assoc = o
            .establish_async(server.dimse_addr().expect("listener"))
            .await
            .expect("association");
        Scu {
            assoc,
            opts: ReceiveOptions::new(Duration::from_secs(10)),
        }
    }

    fn pc(&self, abstract_syntax: &str) -> u8 {
        dicom_ul::association::Association::presentation_contexts(&self.assoc)
            .iter()
            .find(|c| c.abstract_syntax == abstract_syntax)
            .map(|c| c.id)
            .expect("context accepted")
    }

    async fn send(&mut self, pc: u8, cmd: &Command, data: Option<&[u8]>) {
        let out = data.map(Outgoing::Bytes).unwrap_or(Outgoing::None);
        message::send(&mut self.assoc, pc, cmd, out)
            .await
            .expect("sent");
    }

    async fn receive(&mut self) -> Result<Command, message::DimseError> {
        message::receive(&mut self.assoc, &self.opts)
            .await
            .map(|r| r.command)
    }
}

fn identifier(pairs: &[(dicom_core::Tag, VR, &str)]) -> Vec<u8> {
    let mut o = InMemDicomObject::new_empty();
    for (t, vr, v) in pairs {
        let value = if v.is_empty() {
            PrimitiveValue::Empty
        } else {
            PrimitiveValue::from(*v)
        };
        o.put(DataElement::new(*t, *vr, value));
    }
    let ts = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
    let mut out = Vec::new();
    o.write_dataset_with_ts(&mut out, &ts).expect("encodes");
    out
}

const FIND: &str = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND;

/// C-FIND at IMAGE level over a whole series, immediately followed by C-CANCEL: the final status.
async fn find_then_cancel(server: &ReferenceServer) -> (u16, usize) {
    let series = series_in(uids::EXPLICIT_VR_LITTLE_ENDIAN);
    let mut scu = Scu::connect(server, &[FIND]).await;
    let pc = scu.pc(FIND);
    let data = identifier(&[
        (tags::QUERY_RETRIEVE_LEVEL, VR::CS, "IMAGE"),
        (tags::STUDY_INSTANCE_UID, VR::UI, &series[0].study),
        (tags::SERIES_INSTANCE_UID, VR::UI, &series[0].series),
        (tags::SOP_INSTANCE_UID, VR::UI, ""),
    ]);
    scu.send(
        pc,
        &Command::request(field::C_FIND_RQ, FIND, 7, true),
        Some(&data),
    )
    .await;
    scu.send(
        pc,
        &Command::request(field::C_CANCEL_RQ, FIND, 7, false),
        None,
    )
    .await;
    let mut pendings = 0;
    loop {
        let c = scu.receive().await.expect("a response");
        match c.status {
            Some(s) if status::is_pending(s) => pendings += 1,
            Some(s) => return (s, pendings),
            None => panic!("a response without status"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_cancel_ends_a_find_with_fe00() {
    let server = start(&[], None).await;
    let (st, pendings) = find_then_cancel(&server).await;
    assert_eq!(st, status::CANCEL);
    assert!(pendings < series_in(uids::EXPLICIT_VR_LITTLE_ENDIAN).len());
    server.shutdown().await;
}

const MOVE: &str = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_cancel_ends_a_move_with_fe00_and_counts() {
    if dcmtk_missing() {
        return;
    }
    let scp = storescp().await;
    let server = start(&[], Some(("STORESCP", scp.port))).await;
    let series = series_in(uids::EXPLICIT_VR_LITTLE_ENDIAN);
    let mut scu = Scu::connect(&server, &[MOVE]).await;
    let pc = scu.pc(MOVE);
    let data = identifier(&[
        (tags::QUERY_RETRIEVE_LEVEL, VR::CS, "SERIES"),
        (tags::STUDY_INSTANCE_UID, VR::UI, &series[0].study),
        (tags::SERIES_INSTANCE_UID, VR::UI, &series[0].series),
    ]);
    let mut rq = Command::request(field::C_MOVE_RQ, MOVE, 9, true);
    rq.move_destination = Some("STORESCP".into());
    scu.send(pc, &rq, Some(&data)).await;
    scu.send(
        pc,
        &Command::request(field::C_CANCEL_RQ, MOVE, 9, false),
        None,
    )
    .await;
    let last = loop {
        let c = scu.receive().await.expect("a response");
        if !c.status.is_some_and(status::is_pending) {
            break c;
        }
    };
    assert_eq!(last.status, Some(status::CANCEL));
    let n = series.len() as u16;
    let remaining = last.remaining.expect("remaining on a cancel");
    assert!(remaining > 0);
    assert_eq!(
        remaining
            + last.completed.unwrap_or(0)
            + last.failed.unwrap_or(0)
            + last.warning.unwrap_or(0),
        n
    );
    server.shutdown().await;
    scp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_are_answered_per_ps3_7_and_ps3_8() {
    let server = start(&[], None).await;
    // C-FIND on the Verification context: 0211 Unrecognized Operation.
    let mut scu = Scu::connect(&server, &[uids::VERIFICATION, FIND, uids::CT_IMAGE_STORAGE]).await;
    let pc = scu.pc(uids::VERIFICATION);
    let data = identifier(&[(tags::QUERY_RETRIEVE_LEVEL, VR::CS, "STUDY")]);
    scu.send(
        pc,
        &Command::request(field::C_FIND_RQ, uids::VERIFICATION, 1, true),
        Some(&data),
    )
    .await;
    assert_eq!(scu.receive().await.expect("response").status, Some(0x0211));
    // A command field that does not exist: 0211 too.
    let mut odd = Command::request(field::C_ECHO_RQ, uids::VERIFICATION, 2, false);
    odd.field = 0x0123;
    scu.send(pc, &odd, None).await;
    let r = scu.receive().await.expect("response");
    assert_eq!((r.field, r.status), (0x8123, Some(0x0211)));
    // A C-FIND without the level: A900.
    let pcf = scu.pc(FIND);
    let data = identifier(&[(tags::PATIENT_ID, VR::LO, "CTH-0001")]);
    scu.send(
        pcf,
        &Command::request(field::C_FIND_RQ, FIND, 3, true),
        Some(&data),
    )
    .await;
    assert_eq!(
        scu.receive().await.expect("response").status,
        Some(status::IDENTIFIER_DOES_NOT_MATCH)
    );
    // A C-STORE whose data set is another instance than the command says: A900 (PS3.4 B.2.3).
    let ct = series_in(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        .into_iter()
        .find(|f| sop_class_of(&f.path) == uids::CT_IMAGE_STORAGE)
        .expect("a CT instance in Explicit VR Little Endian");
    let pcs = scu.pc(uids::CT_IMAGE_STORAGE);
    let mut store = Command::request(field::C_STORE_RQ, uids::CT_IMAGE_STORAGE, 4, true);
    store.affected_sop_instance = Some("2.25.1234".into());
    scu.send(pcs, &store, Some(&dataset_bytes(&ct.path))).await;
    assert_eq!(
        scu.receive().await.expect("response").status,
        Some(status::IDENTIFIER_DOES_NOT_MATCH)
    );
    store.message_id = Some(5);
    store.affected_sop_instance = Some(ct.sop.clone());
    scu.send(pcs, &store, Some(&dataset_bytes(&ct.path))).await;
    assert_eq!(
        scu.receive().await.expect("response").status,
        Some(status::SUCCESS)
    );
    // A message on a context that was not accepted: A-ABORT.
    scu.send(
        99,
        &Command::request(field::C_ECHO_RQ, uids::VERIFICATION, 6, false),
        None,
    )
    .await;
    assert!(matches!(
        scu.receive().await,
        Err(message::DimseError::Aborted)
    ));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_scu_is_aborted_within_the_timeout() {
    let opts = ReferenceOptions::new(fixtures_dir())
        .with_dimse_bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .with_dimse_timeout(Duration::from_secs(1));
    let server = ReferenceServer::start(opts).await.expect("starts");
    let t0 = Instant::now();
    let mut scu = Scu::connect(&server, &[uids::VERIFICATION]).await;
    let r = tokio::time::timeout(Duration::from_secs(5), scu.receive())
        .await
        .expect("the SCP ends the association");
    assert!(matches!(r, Err(message::DimseError::Aborted)), "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(4));
    let ex = wait_exchange(&server.inbox(), 0, &|x| {
        x.request.method == "A-ASSOCIATE-RQ"
    })
    .await;
    let ended = ex
        .dimse
        .as_ref()
        .map(|d| d.ended.clone())
        .unwrap_or_default();
    assert!(ended.starts_with("timeout"), "{ended}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_to_an_unknown_destination_is_a801() {
    if dcmtk_missing() {
        return;
    }
    let server = start(&[], None).await;
    let series = series_in(uids::EXPLICIT_VR_LITTLE_ENDIAN);
    let out = run_owned(
        "movescu",
        &move_args(
            &port(&server),
            "NOBODY",
            &series[0].study,
            &series[0].series,
        ),
    )
    .await;
    let mv = wait_exchange(&server.inbox(), 0, &|x| x.request.method == "C-MOVE-RQ").await;
    assert_eq!(
        mv.status(),
        Some(status::MOVE_DESTINATION_UNKNOWN),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("MoveDestinationUnknown"),
        "{}",
        text(&out)
    );
    server.shutdown().await;
}

/// The Number of Completed Sub-operations of each C-MOVE-RSP in a `movescu -d` log
/// (`D: Completed Suboperations       : 5`).
fn completed_counts(log: &str) -> Vec<u32> {
    log.lines()
        .filter(|l| l.contains("Completed Suboperations"))
        .filter_map(|l| l.rsplit(':').next()?.trim().parse().ok())
        .collect()
}

/// Each fault changes what the client sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_dimse_fault_changes_what_the_client_sees() {
    if dcmtk_missing() {
        return;
    }
    let mut problems = Vec::new();
    let ele = series_in(uids::EXPLICIT_VR_LITTLE_ENDIAN);
    let (study, series) = (ele[0].study.clone(), ele[0].series.clone());

    // dimse-echo-wrong-status: echoscu sees a failure status.
    let server = start(&[Fault::DimseEchoWrongStatus], None).await;
    let out = run("echoscu", &["-v", "-aec", AE, "127.0.0.1", &port(&server)]).await;
    if !text(&out).contains("Unknown Status: 0x110") {
        problems.push(format!("dimse-echo-wrong-status: {}", text(&out)));
    }
    server.shutdown().await;

    // dimse-accept-any-ae: an unknown called AE title is accepted.
    let server = start(&[Fault::DimseAcceptAnyAe], None).await;
    let out = run(
        "echoscu",
        &["-aec", "WRONG_AE", "127.0.0.1", &port(&server)],
    )
    .await;
    if out.status.code() != Some(0) {
        problems.push(format!("dimse-accept-any-ae: {}", text(&out)));
    }
    server.shutdown().await;

    // dimse-stall: echoscu gets no answer; the SCP aborts after the stall.
    let server = start(&[Fault::DimseStall], None).await;
    let out = run(
        "echoscu",
        &["-td", "2", "-aec", AE, "127.0.0.1", &port(&server)],
    )
    .await;
    if out.status.code() == Some(0) {
        problems.push(format!("dimse-stall: {}", text(&out)));
    }
    server.shutdown().await;

    // dimse-store-wrong-status: storescu reports 0110.
    let server = start(&[Fault::DimseStoreWrongStatus], None).await;
    let file = ele[0].path.to_string_lossy().into_owned();
    let out = run(
        "storescu",
        &["-v", "-aec", AE, "127.0.0.1", &port(&server), &file],
    )
    .await;
    if !text(&out).contains("Unknown Status: 0x110") {
        problems.push(format!("dimse-store-wrong-status: {}", text(&out)));
    }
    server.shutdown().await;

    // dimse-find-no-final: the pendings, then an A-RELEASE-RQ instead of the final response.
    let server = start(&[Fault::DimseFindNoFinal], None).await;
    let out = run(
        "findscu",
        &[
            "-S",
            "-td",
            "2",
            "-aec",
            AE,
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            "PatientID=CTH-0001",
            "127.0.0.1",
            &port(&server),
        ],
    )
    .await;
    // The fault asks to release the association instead of the final response; findscu 3.6.7
    // exits 0 even then, but says the find failed.
    if !text(&out).contains("Find SCU Failed") && !text(&out).contains("Find Failed") {
        problems.push(format!("dimse-find-no-final: {}", text(&out)));
    }
    server.shutdown().await;

    // dimse-find-extra-keys: the response files carry keys that were not asked for.
    let server = start(&[Fault::DimseFindExtraKeys], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(
        "findscu",
        &[
            "-S",
            "-X",
            "-od",
            dir.path().to_str().expect("utf-8"),
            "-aec",
            AE,
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            "StudyInstanceUID",
            "127.0.0.1",
            &port(&server),
        ],
    )
    .await;
    let extra = files_in(dir.path()).iter().any(|f| {
        dicom_object::open_file(f).is_ok_and(|o| {
            o.iter().any(|e| {
                let t = e.header().tag;
                t != tags::QUERY_RETRIEVE_LEVEL
                    && t != tags::STUDY_INSTANCE_UID
                    && t != tags::SPECIFIC_CHARACTER_SET
            })
        })
    });
    if !extra {
        problems.push(format!("dimse-find-extra-keys: {}", text(&out)));
    }
    server.shutdown().await;

    // dimse-move-unknown-destination-ok: movescu sees Success for an unknown AE.
    let server = start(&[Fault::DimseMoveUnknownDestinationOk], None).await;
    let out = run_owned(
        "movescu",
        &move_args(&port(&server), "NOBODY", &study, &series),
    )
    .await;
    if text(&out).contains("MoveDestinationUnknown") {
        problems.push(format!("dimse-move-unknown-destination-ok: {}", text(&out)));
    }
    let mv = wait_exchange(&server.inbox(), 0, &|x| x.request.method == "C-MOVE-RQ").await;
    if mv.status() != Some(0) {
        problems.push("dimse-move-unknown-destination-ok: status not 0000".into());
    }
    server.shutdown().await;

    // dimse-move-wrong-counts: movescu's final response counts one more than storescp got.
    let scp = storescp().await;
    let server = start(&[Fault::DimseMoveWrongCounts], Some(("STORESCP", scp.port))).await;
    let mut args = move_args(&port(&server), "STORESCP", &study, &series);
    args.insert(0, "-d".into());
    let out = run_owned("movescu", &args).await;
    if completed_counts(&text(&out)).last() != Some(&(ele.len() as u32 + 1)) {
        problems.push(format!("dimse-move-wrong-counts: {}", text(&out)));
    }
    server.shutdown().await;
    let dir = scp.stop().await;
    if files_in(dir.path()).len() != ele.len() {
        problems.push("dimse-move-wrong-counts: storescp did not get the series".into());
    }

    // dimse-get-wrong-instance: getscu receives an instance of another series.
    let server = start(&[Fault::DimseGetWrongInstance], None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(
        "getscu",
        &[
            "-S",
            "-aec",
            AE,
            "-od",
            dir.path().to_str().expect("utf-8"),
            "-k",
            "QueryRetrieveLevel=SERIES",
            "-k",
            &format!("StudyInstanceUID={study}"),
            "-k",
            &format!("SeriesInstanceUID={series}"),
            "127.0.0.1",
            &port(&server),
        ],
    )
    .await;
    let want: BTreeSet<String> = ele.iter().map(|f| f.sop.clone()).collect();
    let foreign = files_in(dir.path())
        .iter()
        .any(|p| !want.contains(&sop_of(p)));
    if !foreign {
        problems.push(format!("dimse-get-wrong-instance: {}", text(&out)));
    }
    server.shutdown().await;

    // dimse-cancel-ignored: the find completes with 0000 after a C-CANCEL.
    let server = start(&[Fault::DimseCancelIgnored], None).await;
    let (st, _) = find_then_cancel(&server).await;
    if st != status::SUCCESS {
        problems.push(format!("dimse-cancel-ignored: final status {st:04X}"));
    }
    server.shutdown().await;

    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A C-MOVE whose sub-operations name the SCP itself as Move Originator, without a Message ID
/// (both are a user option, PS3.7 Table 9.1-1): the instances that arrived on the move's
/// sub-associations are counted all the same (DIM-08 passes, where matching by Move Originator
/// said "not received"), and the missing originator is a warning of its own (DIM-18, SHOULD).
#[test]
fn move_sub_operations_are_counted_without_their_move_originator() {
    use crate::common::{harness, report_dir, results};
    let dir = report_dir("move-originator");
    let out = harness(&[
        "run",
        "--reference-fault",
        "dimse-move-own-originator",
        "--tags",
        "@req:DIM-18",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let results = results(dir.path());
    let findings: Vec<&serde_json::Value> = results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["findings"].as_array().unwrap())
        .collect();
    let of = |id: &str| {
        findings
            .iter()
            .find(|f| f["check"] == id)
            .map(|f| (f["outcome"].as_str().unwrap_or(""), f["advisory"] == true))
    };
    assert_eq!(of("DIM-08"), Some(("pass", false)), "{text}");
    assert_eq!(of("DIM-17"), Some(("pass", false)), "{text}");
    assert_eq!(of("DIM-18"), Some(("fail", true)), "{text}");
    let actual = findings
        .iter()
        .find(|f| f["check"] == "DIM-18")
        .and_then(|f| f["actual"].as_str())
        .unwrap_or_default();
    assert!(
        actual.contains("carry no Move Originator Message ID")
            && actual.contains("name Move Originator AE Title IHE_REFERENCE"),
        "{actual}"
    );
}

/// An A-ASSOCIATE-RQ with the called and calling AE titles padded with NUL bytes instead of
/// spaces, as a real SCU sent them: the answer's PDU type (2 accepted, 3 rejected).
async fn associate_nul_padded(server: &ReferenceServer, called: &str, calling: &str) -> u8 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rq = dicom_ul::pdu::AssociationRQ {
        protocol_version: 1,
        calling_ae_title: "X".into(),
        called_ae_title: "X".into(),
        application_context_name: "1.2.840.10008.3.1.1.1".into(),
        presentation_contexts: vec![dicom_ul::pdu::PresentationContextProposed {
            id: 1,
            abstract_syntax: uids::VERIFICATION.into(),
            transfer_syntaxes: vec![uids::IMPLICIT_VR_LITTLE_ENDIAN.into()],
        }],
        user_variables: vec![dicom_ul::pdu::UserVariableItem::MaxLength(16384)],
    };
    let mut bytes = Vec::new();
    dicom_ul::write_pdu(&mut bytes, &dicom_ul::Pdu::AssociationRQ(rq)).expect("encodes");
    let padded = |ae: &str| {
        let mut field = [0u8; 16];
        field[..ae.len()].copy_from_slice(ae.as_bytes());
        field
    };
    // PS3.8 9.3.2: Called-AE-title in bytes 11-26, Calling-AE-title in 27-42.
    bytes[10..26].copy_from_slice(&padded(called));
    bytes[26..42].copy_from_slice(&padded(calling));
    let mut tcp = tokio::net::TcpStream::connect(server.dimse_addr().expect("DIMSE listens"))
        .await
        .expect("connects");
    tcp.write_all(&bytes).await.expect("sends");
    let mut head = [0u8; 6];
    tokio::time::timeout(Duration::from_secs(10), tcp.read_exact(&mut head))
        .await
        .expect("answered in time")
        .expect("reads");
    if head[0] == 2 {
        let len = u32::from_be_bytes([head[2], head[3], head[4], head[5]]) as usize;
        let mut rest = vec![0u8; len];
        let _ = tcp.read_exact(&mut rest).await;
        // A-RELEASE-RQ, then its A-RELEASE-RP.
        let _ = tcp.write_all(&[5, 0, 0, 0, 0, 4, 0, 0, 0, 0]).await;
        let mut rp = [0u8; 10];
        let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut rp)).await;
    }
    head[0]
}

/// The harness's SCP accepts AE titles padded with NUL bytes (a real SCU sent them; PS3.8 pads
/// with spaces, and padding is not significant), and records a refusal with its reason in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_padded_ae_titles_are_accepted_and_refusals_say_why() {
    let server = start(&[], None).await;
    let inbox = server.inbox();
    let mark = inbox.len();
    assert_eq!(associate_nul_padded(&server, AE, "NULSCU").await, 2);
    let ex = wait_exchange(&inbox, mark, &|e| {
        e.request.method == "A-ASSOCIATE-RQ"
            && e.dimse.as_deref().is_some_and(|r| r.ended != "open")
    })
    .await;
    let r = ex.dimse.as_deref().expect("record");
    assert_eq!(r.calling_ae, "NULSCU");
    assert_eq!(r.called_ae, AE);
    assert!(r.rejection.is_none(), "{}", r.ended);

    let mark = inbox.len();
    assert_eq!(associate_nul_padded(&server, "OTHER", "NULSCU").await, 3);
    let ex = wait_exchange(&inbox, mark, &|e| e.request.method == "A-ASSOCIATE-RQ").await;
    let r = ex.dimse.as_deref().expect("record");
    let rj = r.rejection.as_ref().expect("rejection recorded");
    assert_eq!((rj.result, rj.source, rj.reason), (1, 1, 7));
    assert!(
        r.ended
            .contains("the called AE title `OTHER` (padded with 11 NUL bytes) is not this SCP's `IHE_REFERENCE`"),
        "{}",
        r.ended
    );
    server.shutdown().await;
}

/// A real SCU (DCMTK storescu) that the harness's SCP refuses: the scenario ends as an Error whose
/// message names the refusal (A-ASSOCIATE-RJ and why), and the refused association is in its
/// evidence; the same SCU with the right called AE title stores the series.
#[test]
fn a_refused_scu_is_named_in_the_scenario() {
    use crate::common::{dump, free_port, report_dir, results, run_profile_in};
    if dcmtk_missing() {
        return;
    }
    for (called, ok) in [("WRONG_AE", false), ("{harness_ae}", true)] {
        let dir = report_dir("refused-scu");
        let (out, reports) = run_profile_in(
            dir.path(),
            &format!(
                "[sut]\nname = \"storescu\"\n[simulator]\ndimse_bind = \"127.0.0.1:{}\"\n\
                 ae_title = \"HARNESS\"\ntrigger_timeout_ms = 15000\n[triggers]\n\
                 modality_stores = \"storescu -aet MODALITY -aec {called} {{harness_host}} {{harness_port}} {{files}}\"\n",
                free_port()
            ),
            "@profile:DIMSE and @role:simulator and @actor:StorageScu",
        );
        let results = results(&reports);
        let scenario = &results["scenarios"][0];
        if ok {
            assert_eq!(scenario["outcome"], "pass", "{}", dump(&out));
            continue;
        }
        assert_eq!(scenario["outcome"], "error", "{}", dump(&out));
        let messages: Vec<String> = scenario["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["outcome"] == "error")
            .map(|f| f["actual"].as_str().unwrap_or_default().to_string())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains(
                "refused the association from `MODALITY` (called AE title `WRONG_AE`): A-ASSOCIATE-RJ result 1, source 1, reason 7"
            ) && m.contains("is not this SCP's `HARNESS`")),
            "{messages:?}\n{}",
            dump(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("A-ASSOCIATE-RJ"), "{stdout}");
        let evidence = scenario["evidence"].as_array().unwrap();
        let refused = evidence.iter().any(|p| {
            let path = reports.join(p.as_str().unwrap_or_default());
            std::fs::read_to_string(path).is_ok_and(|t| t.contains("\"rejection\""))
        });
        assert!(refused, "the refused association is not in the evidence");
    }
}

/// An association the SUT rejects where a scenario needs one (here: the profile names another
/// called AE title) is an Error that says so, not a Fail of the checks that follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_association_is_an_error_naming_the_rejection() {
    let server = start(&[], None).await;
    let dir = crate::common::report_dir("rejected");
    let profile = format!(
        "[sut]\nname = \"wrong called AE\"\n[dimse]\nhost = \"127.0.0.1\"\nport = {}\n\
         called_ae = \"NOT_IT\"\n[test_data]\nmode = \"preloaded\"\n",
        port(&server)
    );
    let folder = dir.path().to_path_buf();
    let (out, reports) = tokio::task::spawn_blocking(move || {
        crate::common::run_profile_in(&folder, &profile, "@txn:C-FIND and @req:PEER-01")
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert_eq!(out.status.code(), Some(2), "{}", crate::common::dump(&out));
    let results = crate::common::results(&reports);
    let scenario = &results["scenarios"][0];
    assert_eq!(
        scenario["outcome"],
        "error",
        "{}",
        crate::common::dump(&out)
    );
    let text = scenario["findings"].to_string();
    assert!(
        text.contains("rejected the association: A-ASSOCIATE-RJ result 1, source 1, reason 7")
            && text.contains("the SUT's AE title is not NOT_IT"),
        "{text}"
    );
    assert!(!text.contains("\"fail\""), "{text}");
}
