//! A SUT that stops answering mid-response, or never answers, ends as an Error within the configured
//! read timeout: not a Fail, not a hang, and the report is still written.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

fn serve_with_fault(
    fault: &str,
) -> (
    std::process::Child,
    String,
    BufReader<std::process::ChildStdout>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args(["serve", "--bind", "127.0.0.1:0", "--fault", fault])
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).expect("endpoint line");
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url, reader)
}

fn run_stalled(fault: &str) {
    let (mut server, url, _stdout) = serve_with_fault(fault);
    let run = run_profile(
        fault,
        &format!(
            "[sut]\nname = \"stalling reference\"\n[dicomweb]\nbase_url = \"{url}\"\nread_timeout_ms = 1000\ntimeout_ms = 5000\n[test_data]\nmode = \"preloaded\"\n"
        ),
        "@req:DW-18 and @txn:RAD-107 and not @txn:ITI-43",
    );
    let _ = server.kill();
    let _ = server.wait();
    run.assert_errors_within(Duration::from_secs(60));
    let text = serde_json::to_string(&run.results).unwrap();
    assert!(text.contains("harness.timeout"), "{text}");
}

#[test]
fn stall_mid_response_is_an_error_within_the_timeout() {
    run_stalled("stall-mid-response");
}

#[test]
fn stall_before_headers_is_an_error_within_the_timeout() {
    run_stalled("stall-before-headers");
}

/// A DICOM SCP that stops answering mid-association ends as an Error within the read timeout.
#[test]
fn dimse_stall_is_an_error_within_the_timeout() {
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--dimse-bind",
            &format!("127.0.0.1:{port}"),
            "--fault",
            "dimse-stall",
        ])
        .current_dir(root())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve starts");
    wait_port(port);
    let run = run_profile(
        "dimse-stall",
        &format!(
            "[sut]\nname = \"stalling SCP\"\n[dimse]\nhost = \"127.0.0.1\"\nport = {port}\ncalled_ae = \"IHE_REFERENCE\"\nread_timeout_ms = 1000\n[test_data]\nmode = \"preloaded\"\n"
        ),
        "@txn:C-FIND and not @neg and not @role:simulator",
    );
    let _ = server.kill();
    let _ = server.wait();
    run.assert_errors_within(Duration::from_secs(60));
}
