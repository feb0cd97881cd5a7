#!/usr/bin/env bash
# Stop the FHIR server ci/start-fhir.sh started.   FHIR_DIR [/tmp/ihe-harness-fhir]
set -uo pipefail
FHIR_DIR=${FHIR_DIR:-/tmp/ihe-harness-fhir}
if [ -f "$FHIR_DIR/fhir.pid" ]; then
  PID=$(cat "$FHIR_DIR/fhir.pid")
  kill "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$PID" 2>/dev/null || true
  rm -f "$FHIR_DIR/fhir.pid"
fi
