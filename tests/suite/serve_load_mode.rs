//! The embedded reference serves what it receives, whatever way it arrived: `ihe-harness run` with a
//! load-mode profile (the harness first stores the test studies with STOW-RS, publishes the
//! manifests and documents) against `ihe-harness serve` passes every scenario that a preloaded
//! profile passes against a fresh `serve`.

use crate::common::*;

/// `ihe-harness serve` on free ports, ready to answer.
fn serve() -> (ChildServer, u16, u16, u16) {
    let (http, dimse, sim) = (free_port(), free_port(), free_port());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{http}"),
            "--dimse-bind",
            &format!("127.0.0.1:{dimse}"),
            "--move-destination",
            &format!("HARNESS=127.0.0.1:{sim}"),
        ])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let server = ChildServer(child);
    let t0 = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", dimse)).is_err() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(30),
            "serve is not ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (server, http, dimse, sim)
}

fn profile(mode: &str, http: u16, dimse: u16, sim: u16) -> String {
    format!(
        r#"[sut]
name = "ihe-harness serve ({mode})"
[dicomweb]
base_url = "http://127.0.0.1:{http}/dicom-web"
[xds]
registry_url = "http://127.0.0.1:{http}/xds/registry"
repository_url = "http://127.0.0.1:{http}/xds/repository"
imaging_source_url = "http://127.0.0.1:{http}/xds/imaging-source"
[mhd]
base_url = "http://127.0.0.1:{http}/fhir"
[dimse]
host = "127.0.0.1"
port = {dimse}
called_ae = "IHE_REFERENCE"
calling_ae = "HARNESS"
move_destination = "HARNESS"
[simulator]
dimse_bind = "127.0.0.1:{sim}"
ae_title = "HARNESS"
[test_data]
mode = "{mode}"
"#
    )
}

#[test]
fn a_load_mode_profile_against_serve_passes_what_a_preloaded_one_passes() {
    let mut runs = Vec::new();
    for mode in ["preloaded", "load"] {
        let (_server, http, dimse, sim) = serve();
        let run = run_profile(
            &format!("serve-{mode}"),
            &profile(mode, http, dimse, sim),
            "not @neverset",
        );
        runs.push(run);
    }
    let (pre, load) = (&runs[0], &runs[1]);
    let pre_outcomes = outcomes(&pre.results);
    assert!(
        pre_outcomes
            .iter()
            .all(|(_, o)| o == "pass" || o == "not-applicable"),
        "a preloaded serve must pass: {:?}\n{}",
        failures(&pre.results),
        dump(&pre.out)
    );
    assert!(pre_outcomes.iter().filter(|(_, o)| o == "pass").count() > 100);
    let load_outcomes = outcomes(&load.results);
    let lost: Vec<_> = pre_outcomes
        .iter()
        .filter(|(_, o)| o == "pass")
        .filter(|p| !load_outcomes.contains(p))
        .collect();
    assert!(
        lost.is_empty(),
        "pass when preloaded, not in load mode: {lost:#?}\n{:?}\n{}",
        failures(&load.results),
        dump(&load.out)
    );
}
