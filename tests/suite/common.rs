//! Helpers shared by the integration tests: run the real binary, read what it wrote.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `ihe-harness` with `args` from the crate root.
pub fn harness(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs");
    remember(&out);
    out
}

thread_local! {
    /// The output of the last run of the binary on this test's thread, for [`results`] to show
    /// when a run wrote no report.
    static LAST_OUTPUT: std::cell::RefCell<Option<Output>> = const { std::cell::RefCell::new(None) };
}

fn remember(out: &Output) {
    LAST_OUTPUT.with(|l| *l.borrow_mut() = Some(out.clone()));
}

/// What the last run on this thread printed, or a note that there was none.
pub fn last_output() -> String {
    LAST_OUTPUT.with(|l| {
        l.borrow()
            .as_ref()
            .map(dump)
            .unwrap_or_else(|| "(the harness was not run on this thread)".into())
    })
}

/// A fresh report folder.
pub fn report_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ihe-harness-{name}-"))
        .tempdir()
        .expect("temp dir")
}

/// results.json of a report folder; when there is none, the failure shows what the harness
/// printed, so that a CI log explains itself.
pub fn results(dir: &Path) -> serde_json::Value {
    let path = dir.join("results.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => panic!(
            "no results.json in {} ({e})\n{}",
            dir.display(),
            last_output()
        ),
    };
    match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => panic!("results.json does not parse ({e})\n{}", last_output()),
    }
}

/// (scenario name, check id) of every counted failure, sorted.
pub fn failures(results: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in results["scenarios"].as_array().expect("scenarios") {
        for f in s["findings"].as_array().expect("findings") {
            if f["outcome"] == "fail" && f["advisory"] == false {
                out.push((
                    s["scenario"].as_str().unwrap_or_default().to_string(),
                    f["check"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Outcomes of the scenarios: (scenario, outcome).
pub fn outcomes(results: &serde_json::Value) -> Vec<(String, String)> {
    results["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| {
            (
                s["scenario"].as_str().unwrap_or_default().to_string(),
                s["outcome"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Show the harness's output when an assertion is about to fail.
pub fn dump(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A run against a real server reports no harness error, and exactly the pinned deviations: a new
/// deviation and a lost detection both fail (a deviation pinned as one the server may show is
/// neither).
#[allow(dead_code)]
pub fn assert_only_pinned(results: &serde_json::Value, want: &Pins, out: &Output) {
    let errors: Vec<_> = outcomes(results)
        .into_iter()
        .filter(|(_, o)| o == "error")
        .collect();
    assert!(
        errors.is_empty(),
        "harness errors: {errors:?}\n{}",
        dump(out)
    );
    let got = failures(results);
    let new: Vec<_> = got
        .iter()
        .filter(|g| !want.must.contains(g) && !want.may.contains(g))
        .collect();
    let lost: Vec<_> = want.must.iter().filter(|w| !got.contains(w)).collect();
    assert!(
        new.is_empty() && lost.is_empty(),
        "new deviations (not pinned): {new:#?}\npinned but no longer detected: {lost:#?}\n{}",
        dump(out)
    );
}

/// The deviations a known-deviations file pins, each a (scenario, check), sorted.
#[derive(Debug, Default)]
pub struct Pins {
    /// `CHECK | scenario` lines: detected on every run.
    pub must: Vec<(String, String)>,
    /// `? CHECK | scenario` lines: the server shows it on some runs and not on others, by state
    /// the test does not control (the file's comment says which); never a new deviation, never
    /// a lost one.
    pub may: Vec<(String, String)>,
}

/// A known-deviations file: its `CHECK | scenario` and `? CHECK | scenario` lines.
pub fn pinned_from(text: &str) -> Pins {
    let mut pins = Pins::default();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (optional, line) = match line.strip_prefix('?') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, line),
        };
        let Some((check, scenario)) = line.split_once(" | ") else {
            continue;
        };
        let pin = (scenario.trim().to_string(), check.trim().to_string());
        if optional {
            pins.may.push(pin);
        } else {
            pins.must.push(pin);
        }
    }
    pins.must.sort();
    pins.may.sort();
    pins
}

/// A server process started by a test, stopped with its children (DCMTK forks one per
/// association) when dropped.
pub struct ChildServer(pub std::process::Child);

impl Drop for ChildServer {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        if let Ok(out) = Command::new("ps")
            .args(["-o", "pid=", "--ppid", &pid])
            .output()
        {
            for child in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").arg(child).status();
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Wait (at most 30 s: a debug binary on a loaded machine) until something listens on `port` of
/// loopback; panic otherwise.
pub fn wait_port(port: u16) {
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on {port}");
}

/// The test PKI of `ci/make-test-pki.sh`, made under `dir/pki`.
pub fn test_pki(dir: &Path) -> PathBuf {
    let p = dir.join("pki");
    let ok = Command::new("bash")
        .arg(root().join("ci/make-test-pki.sh"))
        .arg(&p)
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ci/make-test-pki.sh failed");
    p
}

/// True when `tool --version` runs and succeeds (DCMTK and the like).
pub fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What a fake server answers to every request.
#[allow(dead_code)]
#[derive(Clone)]
pub enum Fake {
    /// These bytes (a whole HTTP response), then close.
    Bytes(Vec<u8>),
    /// A 200 announcing 64 MiB of this media type, then 64 MiB of spaces.
    Huge(&'static str),
    /// Nothing, for a minute.
    Silence,
    /// Close at once.
    Close,
    /// A 200 of this media type whose chunked body never ends: this prefix once, then this chunk
    /// over and over, as fast as the client reads.
    Endless(&'static str, &'static [u8], Vec<u8>),
}

/// A server on a free loopback port that reads each request (briefly) and answers with `fake`;
/// returns `http://127.0.0.1:PORT{path}`.
#[allow(dead_code)]
pub fn spawn_fake(fake: Fake, path: &str) -> String {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let fake = fake.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let _ = tokio::time::timeout(Duration::from_millis(300), sock.read(&mut buf)).await;
                    match fake {
                        Fake::Silence => tokio::time::sleep(Duration::from_secs(60)).await,
                        Fake::Close => {}
                        Fake::Huge(ct) => {
                            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: 67108864\r\n\r\n");
                            let _ = sock.write_all(head.as_bytes()).await;
                            let chunk = vec![b' '; 1 << 20];
                            for _ in 0..64 {
                                if sock.write_all(&chunk).await.is_err() {
                                    break;
                                }
                            }
                        }
                        Fake::Bytes(b) => {
                            let _ = sock.write_all(&b).await;
                        }
                        Fake::Endless(ct, prefix, chunk) => {
                            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nTransfer-Encoding: chunked\r\n\r\n");
                            let frame = |data: &[u8]| {
                                let mut v = format!("{:x}\r\n", data.len()).into_bytes();
                                v.extend_from_slice(data);
                                v.extend_from_slice(b"\r\n");
                                v
                            };
                            let mut first = head.into_bytes();
                            first.extend(frame(prefix));
                            let repeated = frame(&chunk);
                            if sock.write_all(&first).await.is_ok() {
                                while sock.write_all(&repeated).await.is_ok() {}
                            }
                        }
                    }
                });
            }
        });
    });
    let addr = rx.recv().unwrap();
    format!("http://{addr}{path}")
}

/// A 200 answer of media type `ct` holding `body`, then close.
pub fn answer_200(ct: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

/// A web server's error page: a 500 holding HTML, not an answer of the protocol asked.
pub fn html_error_page() -> Vec<u8> {
    let mut v = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: 28\r\nConnection: close\r\n\r\n".to_vec();
    v.extend_from_slice(b"<html><h1>oops</h1></html>\n");
    v.push(b'\n');
    v
}

/// An XML document whose DOCTYPE declares nine entities, each ten of the one before (`&lol9;`
/// expands to 10^9 "lol"), followed by `root`.
pub fn entity_bomb(root: &str) -> String {
    let mut x = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 {
            String::new()
        } else {
            (i - 1).to_string()
        };
        x.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&lol{prev};").repeat(10)
        ));
    }
    x.push_str("]>");
    x.push_str(root);
    x
}

/// The profile of a preloaded SUT `name` reached at `[section] key = "url"`, read with a timeout of
/// 1 s and given 20 s for a whole exchange.
pub fn preloaded_profile(name: &str, section: &str, key: &str, url: &str) -> String {
    format!(
        "[sut]\nname = \"{name}\"\n[test_data]\nmode = \"preloaded\"\n[{section}]\n\
         {key} = \"{url}\"\nread_timeout_ms = 1000\ntimeout_ms = 20000\n"
    )
}

/// `s` as a TOML basic string, quotes included.
pub fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The profile of a SUT `name` made to act by the trigger `key` running `command`, waited for
/// `timeout_ms`.
pub fn trigger_profile(name: &str, timeout_ms: u32, key: &str, command: &str) -> String {
    format!(
        "[sut]\nname = \"{name}\"\n[simulator]\ntrigger_timeout_ms = {timeout_ms}\n[triggers]\n\
         {key} = {}\n",
        toml_string(command)
    )
}

/// The Orthanc of `ci/start-orthanc.sh` is shared: the tests that load data into it or judge what it
/// holds take this lock, so they run one after another as they did in separate test binaries.
pub fn orthanc_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One `ihe-harness run` against a profile written for the test.
pub struct Run {
    /// The process's exit status and output.
    pub out: Output,
    /// results.json of the run.
    pub results: serde_json::Value,
    /// Wall time of the run.
    pub took: std::time::Duration,
}

/// Write `profile` (TOML text) to `dir/sut.toml`: its path, and the report folder beside it.
fn write_profile(dir: &Path, profile: &str) -> (PathBuf, PathBuf) {
    let path = dir.join("sut.toml");
    std::fs::write(&path, profile).expect("profile written");
    (path, dir.join("reports"))
}

/// The arguments of `ihe-harness run` against the profile at `sut`, for the scenarios `tags`
/// selects, the report in `reports`.
pub fn run_args<'a>(sut: &'a Path, tags: &'a str, reports: &'a Path) -> [&'a str; 7] {
    [
        "run",
        "--sut",
        sut.to_str().expect("UTF-8 temp path"),
        "--tags",
        tags,
        "--report-dir",
        reports.to_str().expect("UTF-8 temp path"),
    ]
}

/// Write `profile` (TOML text) to `dir/sut.toml` and run the scenarios `tags` selects against it:
/// what the harness printed, and its report folder `dir/reports`.
pub fn run_profile_in(dir: &Path, profile: &str, tags: &str) -> (Output, PathBuf) {
    let (path, reports) = write_profile(dir, profile);
    (harness(&run_args(&path, tags, &reports)), reports)
}

/// Write `profile` (TOML text) to a fresh folder and run the scenarios `tags` selects against it;
/// the report must be written whatever happened.
pub fn run_profile(name: &str, profile: &str, tags: &str) -> Run {
    let dir = report_dir(name);
    let (path, reports) = write_profile(dir.path(), profile);
    let t0 = std::time::Instant::now();
    let out = harness(&run_args(&path, tags, &reports));
    let took = t0.elapsed();
    assert!(
        reports.join("junit.xml").is_file(),
        "no junit.xml\n{}",
        dump(&out)
    );
    Run {
        results: results(&reports),
        out,
        took,
    }
}

impl Run {
    /// Every scenario ended as an Error (exit 2) within `limit`, and none as a Fail: what a silent,
    /// stalled or vanished peer must give.
    pub fn assert_errors_within(&self, limit: std::time::Duration) {
        assert_eq!(self.out.status.code(), Some(2), "{}", dump(&self.out));
        let outcomes = outcomes(&self.results);
        assert!(!outcomes.is_empty(), "no scenario ran\n{}", dump(&self.out));
        assert!(
            outcomes.iter().all(|(_, o)| o == "error"),
            "{outcomes:?}\n{}",
            dump(&self.out)
        );
        assert!(
            failures(&self.results).is_empty(),
            "a broken peer must not be reported as a Fail"
        );
        assert!(self.took < limit, "took {:?}", self.took);
    }

    /// The run failed `check` (exit 1) within `limit`: what a SUT answering `what` must give.
    pub fn assert_fails_within(&self, what: &str, check: &str, limit: std::time::Duration) {
        assert_eq!(
            self.out.status.code(),
            Some(1),
            "{what}\n{}",
            dump(&self.out)
        );
        let failed: Vec<String> = failures(&self.results)
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        assert!(
            failed.iter().any(|c| c == check),
            "{what}: {failed:?}\n{}",
            dump(&self.out)
        );
        assert!(self.took < limit, "{what} took {:?}", self.took);
    }
}

/// Peak resident memory allowed to a run (VmHWM, code pages of the debug binary included: the
/// debug binary alone, `ihe-harness list`, is about 32.5 MB resident since the cross-community
/// gateways joined it, and the hostile runs keep up to their evidence budget, about 47 MB, in
/// memory; runs on a loaded machine peaked at 113 MB). What the limit guards is that endless input
/// does not grow memory without bound: the endless and oversized bodies of these tests would take
/// gigabytes.
pub const RSS_LIMIT_KB: u64 = 120 * 1024;

/// One run of the binary with the peak of its resident memory.
pub struct Measured {
    /// The run.
    pub run: Run,
    /// VmHWM of the harness process, in kB: its peak resident set (code pages included).
    pub peak_rss_kb: u64,
    /// Bytes written under the evidence folder.
    pub evidence_bytes: u64,
    /// The report folder (kept until the value is dropped).
    pub reports: PathBuf,
    _dir: tempfile::TempDir,
}

fn tree_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => tree_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// As [`run_profile`], watching the harness's peak resident memory (VmHWM in /proc, read every
/// 20 ms while it runs: a high-water mark, so the last reading before it exits is its peak up to
/// then).
pub fn run_profile_measured(name: &str, profile: &str, tags: &str) -> Measured {
    use std::io::Read as _;
    use std::process::Stdio;
    let dir = report_dir(name);
    let (path, reports) = write_profile(dir.path(), profile);
    let t0 = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args(run_args(&path, tags, &reports))
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = vm_hwm_kb(pid) {
            peak = peak.max(kb);
        }
        match child.try_wait().expect("wait") {
            Some(status) => break status,
            None => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    let took = t0.elapsed();
    let out = Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    };
    remember(&out);
    assert!(
        reports.join("junit.xml").is_file(),
        "no junit.xml\n{}",
        dump(&out)
    );
    Measured {
        run: Run {
            results: results(&reports),
            out,
            took,
        },
        peak_rss_kb: peak,
        evidence_bytes: tree_size(&reports.join("evidence")),
        reports,
        _dir: dir,
    }
}

impl Measured {
    /// A request of the SUT past the limits, refused at once: every Fail of the run is BODY-01
    /// (exit 1), within 20 s, in bounded memory, with less than 3 MiB of evidence.
    pub fn assert_request_refused(&self, what: &str) {
        let run = &self.run;
        eprintln!(
            "{what}: {:.1} s, peak RSS {} kB, evidence {} bytes",
            run.took.as_secs_f64(),
            self.peak_rss_kb,
            self.evidence_bytes
        );
        assert_eq!(run.out.status.code(), Some(1), "{what}\n{}", dump(&run.out));
        let failed = failures(&run.results);
        assert!(
            !failed.is_empty() && failed.iter().all(|(_, c)| c == "BODY-01"),
            "{what}: {failed:?}\n{}",
            dump(&run.out)
        );
        assert!(
            run.took < std::time::Duration::from_secs(20),
            "{what}: took {:?}",
            run.took
        );
        assert!(
            self.peak_rss_kb < RSS_LIMIT_KB,
            "{what}: peak RSS {} kB",
            self.peak_rss_kb
        );
        assert!(
            self.evidence_bytes < 3 * 1024 * 1024,
            "{what}: {} bytes of evidence",
            self.evidence_bytes
        );
    }
}

/// `ihe-harness serve` in another process on free ports (HTTP and DICOM), its Imaging Document
/// Source and XC-WADO gateway in front of `upstream`'s WADO-RS when given: the server (killed on
/// drop) and its HTTP port, once both ports answer.
pub fn serve_reference(upstream: Option<&str>) -> (ChildServer, u16) {
    let (server, http, _) = serve_reference_ports(upstream);
    (server, http)
}

/// [`serve_reference`], also giving the port of its DICOM SCP.
pub fn serve_reference_ports(upstream: Option<&str>) -> (ChildServer, u16, u16) {
    match upstream {
        Some(up) => serve_reference_with(&["--wado-upstream", up]),
        None => serve_reference_with(&[]),
    }
}

/// `ihe-harness serve` on free HTTP and DICOM ports with the `extra` options (faults,
/// `--refuse-duplicates`, a move destination...): the server and both ports, once they answer.
pub fn serve_reference_with(extra: &[&str]) -> (ChildServer, u16, u16) {
    let (http, dimse) = (free_port(), free_port());
    let mut args = vec![
        "serve".to_string(),
        "--bind".into(),
        format!("127.0.0.1:{http}"),
        "--dimse-bind".into(),
        format!("127.0.0.1:{dimse}"),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args(&args)
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let server = ChildServer(child);
    wait_port(dimse);
    wait_port(http);
    (server, http, dimse)
}

/// The Orthanc profile `ci/test.sh` names in `IHE_HARNESS_ORTHANC_PROFILE`; None, said on
/// stderr, when the variable is not set (the test then skips).
pub fn orthanc_profile() -> Option<String> {
    let profile = std::env::var("IHE_HARNESS_ORTHANC_PROFILE").ok();
    if profile.is_none() {
        eprintln!("IHE_HARNESS_ORTHANC_PROFILE is not set: ci/test.sh starts Orthanc and sets it; skipping");
    }
    profile
}

/// The DICOMweb part of the Orthanc profile `ci/test.sh` names in `IHE_HARNESS_ORTHANC_PROFILE`
/// (the DIMSE simulator's fixed port belongs to the Orthanc DIMSE test) and Orthanc's DICOMweb
/// base URL; None, said on stderr, when the variable is not set.
pub fn orthanc_dicomweb_profile() -> Option<(String, String)> {
    let profile = orthanc_profile()?;
    let full = std::fs::read_to_string(&profile).expect("the Orthanc profile reads");
    let text = full.split("\n[dimse]").next().unwrap_or(&full).to_string();
    let base = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("base_url = "))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("the Orthanc profile names its base_url");
    Some((text, base))
}

/// The SOP Instance UIDs of the DICOM files under `dir`, with how many files hold each.
pub fn arrivals(dir: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(head) = ihe_harness::actors::dimse_scu::dataset::read_head(&p) {
                *out.entry(head.sop_instance).or_insert(0) += 1;
            }
        }
    }
    out
}

/// `ihe-harness serve` in another process as the SUT's Initiating (Imaging) Gateway, calling the
/// Responding (Imaging) Gateways of a harness simulator on port `sim` (`--xca-responding-gateways`,
/// whose server serves `/xca` and `/xca-i`), with `faults` injected: the server and its HTTP port.
pub fn serve_gateway_in_front_of(sim: u16, faults: &[&str]) -> (ChildServer, u16) {
    let http = free_port();
    let mut args = vec![
        "serve".to_string(),
        "--bind".into(),
        format!("127.0.0.1:{http}"),
        "--xca-responding-gateways".into(),
        format!("http://127.0.0.1:{sim}/xca"),
    ];
    for f in faults {
        args.push("--fault".into());
        args.push((*f).into());
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args(&args)
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let server = ChildServer(child);
    wait_port(http);
    (server, http)
}
