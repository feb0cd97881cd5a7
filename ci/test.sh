#!/usr/bin/env bash
# The project's test command (README "Run the tests"): installs the real servers the tests need
# (Debian packages: Orthanc + DICOMweb plugin, DCMTK, dicom3tools, nginx, rsyslog; npm: Medplum's FHIR engine),
# starts Orthanc and the FHIR server on loopback, then the TLS peers: the test PKI (ci/make-test-pki.sh), the
# DICOM TLS Orthanc (ci/start-orthanc-tls.sh) and its nginx HTTPS front (ci/start-nginx-tls.sh);
# runs formatting and lint gates, the whole cargo test suite and the requirement coverage gate
# (`ihe-harness requirements --uncovered`), and stops them all again.
# Tests find the peers through IHE_HARNESS_ORTHANC_PROFILE, IHE_HARNESS_FHIR_PROFILE,
# IHE_HARNESS_ORTHANC_TLS_PROFILE (fixtures/sut/orthanc-tls.toml), IHE_HARNESS_ARR_PROFILE
# (fixtures/sut/medplum-arr.toml), IHE_HARNESS_PKI_DIR (the test PKI) and IHE_HARNESS_CHROMEDRIVER.
#   ORTHANC_HTTP_PORT [18042]   SKIP_LINT=1 skips fmt/clippy
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/install.sh
# The Python dicomweb-client, the real DICOMweb user agent of tests/suite/dicomweb_client.rs.
bash ci/install-dicomweb-client.sh

export ORTHANC_DIR=${ORTHANC_DIR:-/tmp/ihe-harness-orthanc}
export PKI_DIR=${PKI_DIR:-/tmp/ihe-harness-pki}
stop_all() {
  for s in stop-nginx-tls stop-orthanc-tls stop-orthanc stop-fhir; do bash "ci/$s.sh" >/dev/null 2>&1 || true; done
}
trap stop_all EXIT
stop_all
bash ci/start-orthanc.sh
bash ci/start-fhir.sh
export IHE_HARNESS_ORTHANC_PROFILE="$PWD/fixtures/sut/orthanc.toml"
export IHE_HARNESS_FHIR_PROFILE="$PWD/fixtures/sut/medplum.toml"
# The same FHIR server as the SUT Audit Record Repository (RESTful ATNA feed and ITI-81).
export IHE_HARNESS_ARR_PROFILE="$PWD/fixtures/sut/medplum-arr.toml"
# TLS peers (fixtures/sut/orthanc-tls.toml names the PKI's default folder: keep PKI_DIR at its default for it).
bash ci/make-test-pki.sh "$PKI_DIR"
bash ci/start-orthanc-tls.sh
bash ci/start-nginx-tls.sh
export IHE_HARNESS_ORTHANC_TLS_PROFILE="$PWD/fixtures/sut/orthanc-tls.toml"
export IHE_HARNESS_PKI_DIR="$PKI_DIR"
# Headless Chromium for report.html's browser test (Debian's chromium-driver, from ci/install.sh).
export IHE_HARNESS_CHROMEDRIVER=/usr/bin/chromedriver

# A build from scratch gains nothing from incremental state, which would double the disk it needs.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
echo "disk before the build: $(df -h . | awk 'NR==2 {print $4}') free"

if [ "${SKIP_LINT:-0}" != 1 ]; then
  cargo fmt --check
  cargo clippy --all-targets --locked -- -D warnings
fi
cargo test --locked
# Every requirement has a check, every check a scenario and a proof that it can fail.
cargo run --locked --quiet -- requirements --uncovered
echo "disk after the tests: $(df -h . | awk 'NR==2 {print $4}') free, target/ $(du -sh target | cut -f1)"
