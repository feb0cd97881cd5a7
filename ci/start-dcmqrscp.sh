#!/usr/bin/env bash
# Start DCMTK's dcmqrscp (Debian dcmtk 3.6.7) on loopback as a DIMSE SUT for
# fixtures/sut/dcmqrscp.toml, with the harness's Storage SCP (HARNESS, 127.0.0.1:11114) in its
# HostTable as the C-MOVE destination. Fork mode: --single-process segfaults after the first
# association in 3.6.7. tests/suite/dcmqrscp.rs starts its own instance on free ports instead.
#
#   ci/start-dcmqrscp.sh [files-or-dirs-to-preload...]     ci/stop-dcmqrscp.sh
#
# Env: QR_DIR [/tmp/ihe-harness-dcmqrscp]  QR_PORT [11112]  QR_AET [DCMQRSCP]
#      HARNESS_AET [HARNESS]  HARNESS_PORT [11114]
set -euo pipefail
QR_DIR=${QR_DIR:-/tmp/ihe-harness-dcmqrscp}
QR_PORT=${QR_PORT:-11112}
QR_AET=${QR_AET:-DCMQRSCP}
HARNESS_AET=${HARNESS_AET:-HARNESS}
HARNESS_PORT=${HARNESS_PORT:-11114}

if (exec 3<>"/dev/tcp/127.0.0.1/$QR_PORT") 2>/dev/null; then
  echo "port $QR_PORT is already in use on 127.0.0.1" >&2; exit 1
fi
rm -rf "$QR_DIR"; mkdir -p "$QR_DIR/db"
cat >"$QR_DIR/dcmqrscp.cfg" <<CFG
NetworkTCPPort  = $QR_PORT
MaxPDUSize      = 65536
MaxAssociations = 16
HostTable BEGIN
harness = ($HARNESS_AET, 127.0.0.1, $HARNESS_PORT)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
$QR_AET $QR_DIR/db RW (200, 1024mb) ANY
AETable END
CFG
if [ "$#" -gt 0 ]; then
  n=0
  while IFS= read -r -d '' f; do n=$((n+1)); cp "$f" "$QR_DIR/db/preload_$n.dcm"; done < <(find "$@" -type f -name '*.dcm' -print0)
  # dcmqridx stores the paths as given: absolute, or C-MOVE/C-GET send nothing.
  dcmqridx -q "$QR_DIR/db" "$QR_DIR"/db/preload_*.dcm
fi
dcmqrscp -c "$QR_DIR/dcmqrscp.cfg" >"$QR_DIR/dcmqrscp.log" 2>&1 &
PID=$!
echo "$PID" >"$QR_DIR/dcmqrscp.pid"
for _ in $(seq 1 100); do
  if echoscu -to 2 -aec "$QR_AET" 127.0.0.1 "$QR_PORT" >/dev/null 2>&1; then
    echo "dcmqrscp pid=$PID $QR_AET@127.0.0.1:$QR_PORT"; exit 0
  fi
  kill -0 "$PID" 2>/dev/null || { echo "dcmqrscp died:"; cat "$QR_DIR/dcmqrscp.log"; exit 1; } >&2
  sleep 0.1
done
echo "dcmqrscp not ready" >&2; kill "$PID"; exit 1
