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
    Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

/// A fresh report folder.
pub fn report_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ihe-harness-{name}-"))
        .tempdir()
        .expect("temp dir")
}

/// results.json of a report folder.
pub fn results(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json written");
    serde_json::from_str(&text).expect("results.json parses")
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

/// A known-deviations file: (scenario, check) per `CHECK | scenario` line, sorted.
pub fn pinned_from(text: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" | "))
        .map(|(check, scenario)| (scenario.trim().to_string(), check.trim().to_string()))
        .collect();
    v.sort();
    v
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

/// True when `tool --version` runs and succeeds (DCMTK and the like).
pub fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
