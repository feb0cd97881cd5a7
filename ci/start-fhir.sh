#!/usr/bin/env bash
# Start an in-memory FHIR R4 server on 127.0.0.1: Medplum's FHIR engine (FhirRouter + MemoryRepository,
# from the npm registry) behind ci/fhir-memory-server.cjs. It is the real-server MHD Document Recipient and
# Document Responder of the tests (ITI-65 transactions, ITI-66/67 searches, Binary reads for ITI-68).
#
#   ci/start-fhir.sh            # npm packages are installed by ci/install.sh (or here on first use)
#   ci/stop-fhir.sh
# Env: FHIR_DIR [/tmp/ihe-harness-fhir]  FHIR_PORT [18080]  FHIR_BASE [/fhir]  FHIR_VALIDATE [1]
#      MEDPLUM_VERSION [5.2.13]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
FHIR_DIR=${FHIR_DIR:-/tmp/ihe-harness-fhir}
FHIR_PORT=${FHIR_PORT:-18080}
FHIR_BASE=${FHIR_BASE:-/fhir}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_in_use "$FHIR_PORT"; then
  echo "port FHIR_PORT=$FHIR_PORT already in use on 127.0.0.1 (old instance still running?)" >&2; exit 1
fi
FHIR_DIR=$FHIR_DIR bash "$HERE/install-fhir.sh"
NODE_FLAGS=()
# Medplum 5.x wants node >= 22 (a global WebSocket); node 20 works with --experimental-websocket.
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then NODE_FLAGS+=(--experimental-websocket); fi
t0=$(date +%s.%N)
FHIR_PORT=$FHIR_PORT FHIR_BASE=$FHIR_BASE NODE_PATH="$FHIR_DIR/node_modules" \
  nohup node "${NODE_FLAGS[@]}" "$HERE/fhir-memory-server.cjs" > "$FHIR_DIR/fhir.log" 2>&1 &
PID=$!
echo "$PID" > "$FHIR_DIR/fhir.pid"
for _ in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$FHIR_PORT$FHIR_BASE/metadata" > /dev/null; then
    echo "fhir pid=$PID http://127.0.0.1:$FHIR_PORT$FHIR_BASE ready in $(echo "$(date +%s.%N) - $t0" | bc)s"
    exit 0
  fi
  kill -0 "$PID" 2>/dev/null || { echo "fhir server died:" >&2; tail -20 "$FHIR_DIR/fhir.log" >&2; exit 1; }
  sleep 0.1
done
echo "fhir server not ready after 30s" >&2
kill "$PID"
exit 1
