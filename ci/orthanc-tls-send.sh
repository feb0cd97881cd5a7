#!/usr/bin/env bash
# Trigger for the TLS Orthanc profile (fixtures/sut/orthanc-tls.toml): make the Orthanc of ci/start-orthanc-tls.sh
# C-STORE one series over DICOM TLS to the modality "harness" (the harness's DICOM TLS SCP, 127.0.0.1:11115),
# through its plain loopback REST API.
#   orthanc-tls-send.sh SERIES_INSTANCE_UID      ORTHANC_TLS_URL [http://127.0.0.1:18043]
set -euo pipefail
ORTHANC_URL=${ORTHANC_TLS_URL:-http://127.0.0.1:18043} exec bash "$(dirname "$0")/orthanc-send.sh" "$@"
