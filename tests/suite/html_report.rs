//! report.html in a real browser: a run of the embedded reference with a fault (so that some
//! scenarios fail) writes report.html, and headless Chromium, driven through chromedriver's
//! WebDriver HTTP API, shows the verdict and counts of results.json, filters by outcome and by
//! profile, links a failing finding to its requirement's row, and logs no script error.
//!
//! chromedriver is found through `IHE_HARNESS_CHROMEDRIVER` (ci/test.sh sets it; ci/install.sh
//! installs Debian's chromium and chromium-driver); without it the test says it is skipped.
//! `IHE_HARNESS_CHROMIUM` names the browser when it is not /usr/bin/chromium.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver call: a plain HTTP/1.1 request on loopback, the JSON answer.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    // Read the head, then as many bytes as its Content-Length says (chromedriver may keep the
    // connection open).
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let (head_len, length) = loop {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!(
                "connection closed: {}",
                String::from_utf8_lossy(&raw)
            ));
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| format!("no Content-Length: {head}"))?;
            break (end + 4, length);
        }
    };
    while raw.len() < head_len + length {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the body ended".into());
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let rest = String::from_utf8_lossy(&raw[head_len..head_len + length]).to_string();
    let v: Value = serde_json::from_str(&rest).map_err(|e| format!("{e}: {rest}"))?;
    if v["value"].get("error").is_some() {
        return Err(format!("{method} {path}: {}", v["value"]));
    }
    Ok(v)
}

impl Driver {
    fn start(chromedriver: &str) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
        let profile = tempfile::tempdir().expect("temp dir");
        let mut d = Driver {
            child,
            port,
            session: String::new(),
            _profile: profile,
        };
        let t0 = Instant::now();
        while http(port, "GET", "/status", None)
            .map(|v| v["value"]["ready"] != true)
            .unwrap_or(true)
        {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "chromedriver did not get ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut options = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,2000",
                format!("--user-data-dir={}", d._profile.path().display()),
            ]
        });
        let binary = std::env::var("IHE_HARNESS_CHROMIUM")
            .ok()
            .or_else(|| Some("/usr/bin/chromium".to_string()))
            .filter(|b| Path::new(b).exists());
        if let Some(b) = binary {
            options["binary"] = json!(b);
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let v = http(port, "POST", "/session", Some(&caps)).expect("a browser session");
        d.session = v["value"]["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        d
    }

    fn call(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{what}", self.session);
        match http(self.port, method, &path, body.as_ref()) {
            Ok(v) => v["value"].clone(),
            Err(e) => panic!("{e}"),
        }
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn js(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn click(&self, css: &str) {
        // As a reader would: bring it to the middle of the window first (the filter bar stays
        // at the top).
        self.js(&format!(
            "var e = document.querySelector({}); if (e) {{ e.scrollIntoView({{block: 'center'}}); }}",
            json!(css)
        ));
        let el = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        let id = el[ELEMENT].as_str().expect("an element").to_string();
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let el = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        let id = el[ELEMENT].as_str().expect("an element").to_string();
        self.call("POST", &format!("/element/{id}/clear"), Some(json!({})));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// The browser's console messages at level SEVERE, if chromedriver keeps a log.
    fn severe_log(&self) -> Vec<String> {
        let path = format!("/session/{}/se/log", self.session);
        let Ok(v) = http(self.port, "POST", &path, Some(&json!({"type": "browser"}))) else {
            return Vec::new();
        };
        v["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// The class report.html gives an outcome of results.json.
fn class_of(outcome: &str) -> &str {
    match outcome {
        "not-applicable" => "na",
        "skip" => "skip",
        o => o,
    }
}

#[test]
fn the_html_report_renders_filters_and_links_in_a_browser() {
    let Ok(chromedriver) = std::env::var("IHE_HARNESS_CHROMEDRIVER") else {
        eprintln!("IHE_HARNESS_CHROMEDRIVER is not set (ci/test.sh sets it once ci/install.sh installs chromium-driver); skipping");
        return;
    };
    let dir = report_dir("html-report");
    let d = dir.path().to_str().expect("utf-8 path");
    let out = harness(&[
        "run",
        "--reference-fault",
        "qido-wrong-content-type",
        "--tags",
        "@profile:DICOMweb or @profile:MHD",
        "--report-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
    let results = results(dir.path());
    let scenarios = results["scenarios"].as_array().expect("scenarios");
    let summary = &results["summary"];
    let report = dir.path().join("report.html");
    assert!(report.is_file(), "no report.html");

    let driver = Driver::start(&chromedriver);
    let url = format!("file://{}", report.display());
    driver.open(&url);

    // The summary: the verdict, and every count as results.json has it.
    assert_eq!(
        driver.js("return document.querySelector('#verdict .word').textContent"),
        "FAIL"
    );
    for (class, key) in [
        ("pass", "passed"),
        ("fail", "failed"),
        ("error", "errors"),
        ("na", "not_applicable"),
        ("skip", "skipped"),
    ] {
        let shown = driver.js(&format!(
            "return document.querySelector('#counts [data-outcome={class}] .n').textContent"
        ));
        assert_eq!(shown, summary[key].to_string(), "count of {class}");
    }
    let total = scenarios.len();
    assert_eq!(
        driver.js("return document.querySelectorAll('details.sc').length"),
        json!(total)
    );
    assert_eq!(
        driver.js("return document.getElementById('shown').textContent"),
        format!("{total} of {total} scenarios shown")
    );

    // Visible scenarios: (outcome class, profiles).
    let visible = || -> Vec<(String, String)> {
        let v = driver.js("return Array.from(document.querySelectorAll('details.sc')).filter(function (s) { return !s.hidden && s.offsetParent !== null; }).map(function (s) { return [s.getAttribute('data-outcome'), s.getAttribute('data-profiles')]; })");
        v.as_array()
            .expect("an array")
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap_or_default().to_string(),
                    p[1].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };

    // The outcome filter: without "pass", no passing scenario is shown, and the count follows.
    driver.click("#f-o-pass");
    let not_passed = scenarios.iter().filter(|s| s["outcome"] != "pass").count();
    let shown = visible();
    assert_eq!(shown.len(), not_passed, "{shown:?}");
    assert!(shown.iter().all(|(o, _)| o != "pass"), "{shown:?}");
    assert!(not_passed > 0 && not_passed < total);
    assert_eq!(
        driver.js("return document.getElementById('shown').textContent"),
        format!("{not_passed} of {total} scenarios shown")
    );
    driver.click("#f-o-pass");
    assert_eq!(visible().len(), total);

    // The profile filter.
    driver.click("#f-profile option[value='MHD']");
    let mhd = scenarios
        .iter()
        .filter(|s| {
            s["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "profile:MHD"))
        })
        .count();
    let shown = visible();
    assert!(mhd > 0 && mhd < total, "{mhd} of {total}");
    assert_eq!(shown.len(), mhd, "{shown:?}");
    assert!(shown.iter().all(|(_, p)| p.split(' ').any(|p| p == "MHD")));
    assert_eq!(
        driver.js("return document.getElementById('shown').textContent"),
        format!("{mhd} of {total} scenarios shown")
    );
    driver.click("#f-profile option[value='']");
    assert_eq!(visible().len(), total);

    // The tag filter: a transaction's tag shows the scenarios that carry it.
    let tag = "txn:RAD-107";
    let tagged = scenarios
        .iter()
        .filter(|s| {
            s["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == tag))
        })
        .count();
    assert!(tagged > 0 && tagged < total, "{tagged} of {total}");
    driver.type_into("#f-tag", tag);
    assert_eq!(visible().len(), tagged);
    assert_eq!(
        driver.js("return document.getElementById('shown').textContent"),
        format!("{tagged} of {total} scenarios shown")
    );
    driver.type_into("#f-tag", "");
    assert_eq!(visible().len(), total);

    // A failing scenario is open, shows its finding, and the finding's requirement link leads to
    // the requirement's row of the coverage matrix.
    let (k, failing) = scenarios
        .iter()
        .enumerate()
        .find(|(_, s)| s["outcome"] == "fail")
        .expect("a failing scenario");
    let check = failing["findings"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["outcome"] == "fail" && f["advisory"] == false)
        })
        .and_then(|f| f["check"].as_str())
        .expect("a failed check");
    assert_eq!(
        driver.js(&format!("return document.getElementById('sc-{k}').open")),
        true
    );
    assert_eq!(
        driver.js(&format!(
            "return document.getElementById('sc-{k}').getAttribute('data-outcome')"
        )),
        class_of("fail")
    );
    let row = format!("#sc-{k} table.findings tr.f-fail");
    let text = driver.js(&format!(
        "return Array.from(document.querySelectorAll('{row}')).map(function (r) {{ return r.textContent; }}).join('\\n')"
    ));
    assert!(
        text.as_str().unwrap_or_default().contains(check),
        "{check} not in {text}"
    );
    let href = driver.js(&format!(
        "var a = document.querySelector('{row} a.req'); return a ? a.getAttribute('href') : null"
    ));
    let href = href.as_str().expect("a requirement link").to_string();
    assert!(href.starts_with("#req-"), "{href}");
    driver.click(&format!("{row} a.req"));
    assert_eq!(driver.js("return location.hash"), href.as_str());
    let target = driver.js(&format!(
        "var el = document.getElementById({}); if (!el) {{ return null; }} var r = el.getBoundingClientRect(); return [el.tagName, r.top >= 0 && r.top < window.innerHeight, el.closest('#coverage') !== null]",
        json!(&href[1..])
    ));
    assert_eq!(target, json!(["TR", true, true]), "{href}");

    // A closed scenario fills its details when opened; a copy button answers.
    let (p, _) = scenarios
        .iter()
        .enumerate()
        .find(|(_, s)| s["outcome"] == "pass")
        .expect("a passing scenario");
    driver.click(&format!("#sc-{p} > summary"));
    let filled = driver.js(&format!(
        "var s = document.getElementById('sc-{p}'); return [s.open, s.querySelector('.sc-body > template') === null, s.querySelectorAll('table.findings tr').length > 1]"
    ));
    assert_eq!(filled, json!([true, true, true]));
    let copy = format!("#sc-{p} button.copy");
    if driver.js(&format!("return document.querySelector('{copy}') !== null")) == true {
        driver.click(&copy);
        std::thread::sleep(Duration::from_millis(300));
        let said = driver.js(&format!(
            "return document.querySelector('{copy}').textContent"
        ));
        assert!(
            said == "copied" || said == "selected: press Ctrl+C",
            "copy button says {said}"
        );
    }

    // No script error in the page, none in the browser's log.
    assert_eq!(driver.js("return window.__reportErrors"), json!([]));
    let severe = driver.severe_log();
    assert!(severe.is_empty(), "browser console: {severe:?}");
}
