#!/usr/bin/env bash
# Stop the Orthanc started by ci/start-orthanc-tls.sh (by its PID file, as ci/stop-orthanc.sh does).
#   ORTHANC_TLS_DIR [/tmp/ihe-harness-orthanc-tls]
set -uo pipefail
ORTHANC_DIR=${ORTHANC_TLS_DIR:-/tmp/ihe-harness-orthanc-tls} exec bash "$(dirname "$0")/stop-orthanc.sh"
