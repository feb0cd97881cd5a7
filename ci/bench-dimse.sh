#!/usr/bin/env bash
# Benchmark (not a test): C-STORE throughput, the harness against DCMTK in the same run.
#
#   ci/bench-dimse.sh
#
# 1. SCU: N instances stored by DCMTK storescu and by `ihe-harness store` (over
#    BENCH_ASSOCIATIONS associations) into DCMTK dcmqrscp (a fresh, empty archive per run) and
#    into DCMTK storescp (a fresh folder per run; --fork: a process per association, as an
#    archive serves several senders at once);
# 2. SCP: the same N instances sent by storescu into DCMTK storescp and into the harness's own
#    Storage SCP (`ihe-harness serve --dimse-bind`).
# The two clients (or the two receivers) alternate, pair after pair, so that a machine getting
# slower or faster during the run moves both sides of a pair alike; the ratio printed is the
# median of the per-pair ratios. Each timed run is wrapped in /usr/bin/time for the peak RSS.
# Exits 0 when the benchmark ran (whatever the figures), 1 when it could not run.
#
# Env (defaults in brackets):
#   VENV [/tmp/ihe-harness-venv]        Python venv from ci/install.sh (for the fixture generator)
#   BENCH_N [500]                        instances stored per run
#   BENCH_FIXTURES [/tmp/ihe-bench-fx]   fixture folder with a large CT study (generated if missing)
#   BENCH_GB [0.3]                       size of that study when it has to be generated
#   BENCH_WORK [/tmp/ihe-bench-dimse]    archives, logs, profile
#   BENCH_REPS [3]                       timed pairs per row
#   BENCH_ASSOCIATIONS [4]               `ihe-harness store --associations`
#   HARNESS_BIN [target/release/ihe-harness, built with cargo build --release when missing]
#   TCP_NODELAY [unset]                  read by every DCMTK tool itself: unset, DCMTK 3.6.7 leaves Nagle's
#                                        algorithm on and each small C-STORE-RSP waits for a delayed ACK
#                                        (about 40 ms per instance, the receiver's latency the harness's
#                                        parallel associations hide); TCP_NODELAY=1 measures DCMTK without it
#                                        (the harness sets TCP_NODELAY on its sockets either way)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-/tmp/ihe-harness-venv}
N=${BENCH_N:-500}
FX=${BENCH_FIXTURES:-/tmp/ihe-bench-fx}
GB=${BENCH_GB:-0.3}
WORK=${BENCH_WORK:-/tmp/ihe-bench-dimse}
REPS=${BENCH_REPS:-3}
ASSOCS=${BENCH_ASSOCIATIONS:-4}
HARNESS_BIN=${HARNESS_BIN:-$ROOT/target/release/ihe-harness}
TIME=/usr/bin/time
# shellcheck source=ci/bench-lib.sh
. "$ROOT/ci/bench-lib.sh"

need storescu storescp dcmqrscp "$TIME"
need_harness
rm -rf "$WORK" && mkdir -p "$WORK"
load_large_files
log "$N instances, $BYTES bytes"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; die "nothing on port $1"; }
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { pkill -P "$p" 2>/dev/null || true; }; kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_dcmqrscp() { # dir port -> pid
  mkdir -p "$1/db"
  cat >"$1/dcmqrscp.cfg" <<EOF
NetworkTCPPort = $2
MaxPDUSize = 16384
MaxAssociations = 16
HostTable BEGIN
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
DCMQRSCP $1/db RW (2000, 4096mb) ANY
AETable END
EOF
  dcmqrscp -c "$1/dcmqrscp.cfg" >"$1/dcmqrscp.log" 2>&1 &
  echo $!
}

# run LABEL CMD...: time one run; prints "seconds maxrss_kb"
run() {
  local out="$WORK/time.$$"
  local rc=0
  "$TIME" -f '%e %M' -o "$out" "$@" >"$WORK/last.log" 2>&1 || rc=$?
  # `ihe-harness store` exits 1 when the receiver answered a failure status: timed, and said.
  if [ "$rc" = 1 ] && [ "$1" = "$HARNESS_BIN" ]; then
    log "the receiver refused $(grep -c ': status ' "$WORK/last.log") instances (see $WORK/last.log)"
    cp "$WORK/last.log" "$WORK/refused.log"
  elif [ "$rc" != 0 ]; then cat "$WORK/last.log" >&2; die "run failed: $1"; fi
  tail -n 1 "$out"
}

SERVER=""
teardown() { if [ -n "$SERVER" ]; then pkill -P "$SERVER" 2>/dev/null || true; kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; fi; }

# 1. SCU into dcmqrscp
QPORT=$(free_port)
setup_qr() { rm -rf "$WORK/qr"; mkdir -p "$WORK/qr"; SERVER=$(start_dcmqrscp "$WORK/qr" "$QPORT"); PIDS+=("$SERVER"); wait_port "$QPORT"; }
cat >"$WORK/qr.toml" <<EOF
[sut]
name = "dcmqrscp (benchmark)"
[dimse]
host = "127.0.0.1"
port = $QPORT
called_ae = "DCMQRSCP"
calling_ae = "BENCH"
max_pdu = 16384
EOF
pairs qr_storescu setup_qr storescu -aet BENCH -aec DCMQRSCP 127.0.0.1 "$QPORT" "${FILES[@]}" -- \
  qr_harness setup_qr "$HARNESS_BIN" store --associations "$ASSOCS" --sut "$WORK/qr.toml" "${FILES[@]}"

# 2. The harness into storescp --fork; storescu into storescp and into the harness's Storage SCP
SPORT=$(free_port)
setup_storescp() { rm -rf "$WORK/in"; mkdir -p "$WORK/in"; storescp -aet STORESCP -od "$WORK/in" "$SPORT" >"$WORK/storescp.log" 2>&1 & SERVER=$!; PIDS+=("$SERVER"); wait_port "$SPORT"; }
setup_storescp_fork() { rm -rf "$WORK/in"; mkdir -p "$WORK/in"; storescp --fork -aet STORESCP -od "$WORK/in" "$SPORT" >"$WORK/storescp.log" 2>&1 & SERVER=$!; PIDS+=("$SERVER"); wait_port "$SPORT"; }
setup_harness_scp() { "$HARNESS_BIN" serve --bind 127.0.0.1:0 --dimse-bind "127.0.0.1:$SPORT" --ae-title STORESCP >"$WORK/serve.log" 2>&1 & SERVER=$!; PIDS+=("$SERVER"); wait_port "$SPORT"; }
cat >"$WORK/scp.toml" <<EOF
[sut]
name = "storescp (benchmark)"
[dimse]
host = "127.0.0.1"
port = $SPORT
called_ae = "STORESCP"
calling_ae = "BENCH"
max_pdu = 16384
EOF
pairs sc_storescu setup_storescp_fork storescu -aet BENCH -aec STORESCP 127.0.0.1 "$SPORT" "${FILES[@]}" -- \
  sc_harness setup_storescp_fork "$HARNESS_BIN" store --associations "$ASSOCS" --sut "$WORK/scp.toml" "${FILES[@]}"
pairs scp_storescp setup_storescp storescu -aet BENCH -aec STORESCP 127.0.0.1 "$SPORT" "${FILES[@]}" -- \
  scp_harness setup_harness_scp storescu -aet BENCH -aec STORESCP 127.0.0.1 "$SPORT" "${FILES[@]}"

NODELAY=${TCP_NODELAY:-"unset (Nagle on, the DCMTK default)"}
cat <<EOF

C-STORE of $N instances ($BYTES bytes); $REPS alternating pairs; medians, ratio = median of per-pair ratios
machine: $(machine); DCMTK TCP_NODELAY=$NODELAY
| direction | DCMTK | ihe-harness | time ratio (harness / DCMTK) |
|---|---|---|---|
| SCU -> dcmqrscp | storescu ${SECS[qr_storescu]} s ($(mbps "${SECS[qr_storescu]}") MB/s, ${RSS[qr_storescu]} KB) | store --associations $ASSOCS ${SECS[qr_harness]} s ($(mbps "${SECS[qr_harness]}") MB/s, ${RSS[qr_harness]} KB) | ${RATIO[qr_harness]} |
| SCU -> storescp | storescu ${SECS[sc_storescu]} s ($(mbps "${SECS[sc_storescu]}") MB/s, ${RSS[sc_storescu]} KB) | store --associations $ASSOCS ${SECS[sc_harness]} s ($(mbps "${SECS[sc_harness]}") MB/s, ${RSS[sc_harness]} KB) | ${RATIO[sc_harness]} |
| storescu -> SCP | storescp ${SECS[scp_storescp]} s ($(mbps "${SECS[scp_storescp]}") MB/s) | serve ${SECS[scp_harness]} s ($(mbps "${SECS[scp_harness]}") MB/s) | ${RATIO[scp_harness]} |
EOF
exit 0
