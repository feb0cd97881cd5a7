#!/usr/bin/env bash
# The project's test command (README "Run the tests"): installs the real servers the tests need
# (Debian packages: Orthanc + DICOMweb plugin, DCMTK, dicom3tools; npm: Medplum's FHIR engine), starts
# Orthanc and the FHIR server on loopback,
# runs formatting and lint gates, the whole cargo test suite and the requirement coverage gate
# (`ihe-harness requirements --uncovered`), and stops both again.
#   ORTHANC_HTTP_PORT [18042]   SKIP_LINT=1 skips fmt/clippy
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/install.sh

export ORTHANC_DIR=${ORTHANC_DIR:-/tmp/ihe-harness-orthanc}
cleanup() { bash ci/stop-orthanc.sh >/dev/null 2>&1 || true; bash ci/stop-fhir.sh >/dev/null 2>&1 || true; }
trap cleanup EXIT
bash ci/stop-orthanc.sh >/dev/null 2>&1 || true
bash ci/stop-fhir.sh >/dev/null 2>&1 || true
bash ci/start-orthanc.sh
bash ci/start-fhir.sh
export IHE_HARNESS_ORTHANC_PROFILE="$PWD/fixtures/sut/orthanc.toml"
export IHE_HARNESS_FHIR_PROFILE="$PWD/fixtures/sut/medplum.toml"

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
