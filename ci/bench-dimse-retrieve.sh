#!/usr/bin/env bash
# Benchmark (not a test): C-GET and C-MOVE of a study from Orthanc, the harness against DCMTK.
#
#   ci/bench-dimse-retrieve.sh
#
# A private Orthanc (ci/start-orthanc.sh on ports of its own) is loaded once with BENCH_PER_SERIES
# instances of each series of the large CT study (five series of ELE slices); then, on that study:
#   - C-GET: DCMTK getscu (one study-level C-GET, one association) against
#     `ihe-harness retrieve --dimse --get --associations BENCH_ASSOCIATIONS` (a SERIES-level
#     C-FIND, then the series at once, each on its own association);
#   - C-MOVE: DCMTK movescu receiving on its own port (--port, -od) against
#     `ihe-harness retrieve --dimse --move` (its own Storage SCP on the same port, taking the
#     sub-associations of the concurrent moves at once); Orthanc knows the destination as HARNESS.
# Every run writes the instances into a fresh folder and must receive them all, once.
# The two clients alternate, pair after pair; the ratio printed is the median of the per-pair
# ratios. Each timed run is wrapped in /usr/bin/time for the peak RSS. Exits 0 when the benchmark
# ran (whatever the figures), 1 when it could not run.
#
# Env (defaults in brackets):
#   VENV [/tmp/ihe-harness-venv]        Python venv from ci/install.sh (for the fixture generator)
#   BENCH_PER_SERIES [100]               instances of each of the five series loaded
#   BENCH_FIXTURES [/tmp/ihe-bench-fx]   fixture folder with the large CT study (generated if missing)
#   BENCH_WORK [/tmp/ihe-bench-retrieve] Orthanc, received files, logs, profile
#   BENCH_REPS [3]                       timed pairs per row
#   BENCH_ASSOCIATIONS [4]               `ihe-harness retrieve --dimse --associations`
#   BENCH_HTTP_PORT [18242] BENCH_DICOM_PORT [14442] BENCH_MOVE_PORT [11214]   ports
#   HARNESS_BIN [target/release/ihe-harness, built with cargo build --release when missing]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-/tmp/ihe-harness-venv}
PER=${BENCH_PER_SERIES:-100}
FX=${BENCH_FIXTURES:-/tmp/ihe-bench-fx}
WORK=${BENCH_WORK:-/tmp/ihe-bench-retrieve}
REPS=${BENCH_REPS:-3}
ASSOCS=${BENCH_ASSOCIATIONS:-4}
HTTP_PORT=${BENCH_HTTP_PORT:-18242}
DICOM_PORT=${BENCH_DICOM_PORT:-14442}
MOVE_PORT=${BENCH_MOVE_PORT:-11214}
HARNESS_BIN=${HARNESS_BIN:-$ROOT/target/release/ihe-harness}
TIME=/usr/bin/time
# shellcheck source=ci/bench-lib.sh
. "$ROOT/ci/bench-lib.sh"

need getscu movescu storescu python3 curl "$TIME" /usr/sbin/Orthanc
need_harness
rm -rf "$WORK" && mkdir -p "$WORK"

# BENCH_PER_SERIES files of each series of the large study (generated once, 1.05 GiB: five series).
series_dirs() { find "$FX/PERF-0001" -mindepth 2 -maxdepth 2 -type d -name '*_CT_ELE' 2>/dev/null | sort; }
if [ "$(series_dirs | wc -l)" -lt 5 ]; then
  "$VENV/bin/python" -c 'import pydicom, numpy' >/dev/null 2>&1 || "$ROOT/ci/install.sh"
  log "generating a 1.05 GiB study in $FX"
  rm -rf "$FX" && "$VENV/bin/python" "$ROOT/ci/make-fixtures.py" "$FX" --large-gb 1.05 >/dev/null
fi
FILES=()
while read -r d; do
  mapfile -t some < <(find "$d" -name '*.dcm' ! -name '*.ele.dcm' | sort | head -n "$PER")
  FILES+=("${some[@]}")
done < <(series_dirs)
N=${#FILES[@]}
[ "$N" -ge "$PER" ] || die "no series in $FX/PERF-0001"
STUDY=$(basename "$(dirname "$(dirname "${FILES[0]}")")")
BYTES=$(du -cb "${FILES[@]}" | tail -1 | cut -f1)

ORTHANC=(env ORTHANC_DIR="$WORK/orthanc" ORTHANC_HTTP_PORT="$HTTP_PORT" ORTHANC_DICOM_PORT="$DICOM_PORT"
         HARNESS_AET=HARNESS HARNESS_PORT="$MOVE_PORT" ORTHANC_NAME=bench-retrieve)
stop_orthanc() { "${ORTHANC[@]}" "$ROOT/ci/stop-orthanc.sh" >/dev/null 2>&1 || true; }
trap stop_orthanc EXIT
stop_orthanc
"${ORTHANC[@]}" "$ROOT/ci/start-orthanc.sh" >/dev/null || die "Orthanc did not start"
log "loading $N instances ($BYTES bytes) of study $STUDY into Orthanc"
storescu -aet BENCH -aec ORTHANC 127.0.0.1 "$DICOM_PORT" "${FILES[@]}" >"$WORK/load.log" 2>&1 || die "storescu failed (see $WORK/load.log)"
held=$(curl -sf "http://127.0.0.1:$HTTP_PORT/statistics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])')
[ "$held" = "$N" ] || die "Orthanc holds $held instances, not $N"

cat >"$WORK/orthanc.toml" <<EOF
[sut]
name = "Orthanc (benchmark)"
[dimse]
host = "127.0.0.1"
port = $DICOM_PORT
called_ae = "ORTHANC"
calling_ae = "BENCH"
move_destination = "HARNESS"
max_pdu = 16384
read_timeout_ms = 60000
[simulator]
dimse_bind = "127.0.0.1:$MOVE_PORT"
ae_title = "HARNESS"
EOF

# run CMD...: time one run into a fresh folder $WORK/in; prints "seconds maxrss_kb"; every
# instance must arrive, once.
run() {
  rm -rf "$WORK/in" && mkdir -p "$WORK/in"
  local out="$WORK/time.$$" rc=0
  "$TIME" -f '%e %M' -o "$out" "$@" >"$WORK/last.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then cat "$WORK/last.log" >&2; die "run failed ($rc): $1"; fi
  local got; got=$(find "$WORK/in" -type f | wc -l)
  [ "$got" = "$N" ] || die "$1: $got files received, not $N (see $WORK/last.log)"
  tail -n 1 "$out"
}

KEYS=(-k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$STUDY")
# DCMTK 3.6.7 leaves Nagle's algorithm on unless TCP_NODELAY=1 is in its environment: its small
# C-STORE-RSP writes then wait for delayed ACKs, about 45 ms per instance here (getscu 25 s
# instead of 6 s for 500 instances). The harness sets TCP_NODELAY on its sockets; DCMTK gets it too.
DCMTK=(env TCP_NODELAY=1)
pairs getscu : "${DCMTK[@]}" getscu -S -aet BENCH -aec ORTHANC -pdu 16384 -od "$WORK/in" "${KEYS[@]}" 127.0.0.1 "$DICOM_PORT" -- \
  harness_get : "$HARNESS_BIN" retrieve --sut "$WORK/orthanc.toml" --study "$STUDY" --dimse --get --associations "$ASSOCS" --output "$WORK/in"
# The same with one association: what of the difference is the series at once.
pairs getscu_1 : "${DCMTK[@]}" getscu -S -aet BENCH -aec ORTHANC -pdu 16384 -od "$WORK/in" "${KEYS[@]}" 127.0.0.1 "$DICOM_PORT" -- \
  harness_get_1 : "$HARNESS_BIN" retrieve --sut "$WORK/orthanc.toml" --study "$STUDY" --dimse --get --associations 1 --output "$WORK/in"
pairs movescu : "${DCMTK[@]}" movescu -S -aet HARNESS -aec ORTHANC -aem HARNESS -pdu 16384 --port "$MOVE_PORT" -od "$WORK/in" "${KEYS[@]}" 127.0.0.1 "$DICOM_PORT" -- \
  harness_move : "$HARNESS_BIN" retrieve --sut "$WORK/orthanc.toml" --study "$STUDY" --dimse --move --associations "$ASSOCS" --output "$WORK/in"

speedup() { awk -v r="$1" 'BEGIN {printf "%.2f", (r > 0 ? 1 / r : 0)}'; }
cat <<EOF

Retrieve of a $N-instance study ($BYTES bytes, 5 series) from Orthanc; $REPS alternating pairs; medians, ratio = median of per-pair ratios
machine: $(machine); DCMTK with TCP_NODELAY=1
| operation | DCMTK | ihe-harness (--associations $ASSOCS) | time ratio (harness / DCMTK) |
|---|---|---|---|
| C-GET | getscu ${SECS[getscu]} s ($(mbps "${SECS[getscu]}") MB/s, ${RSS[getscu]} KB) | ${SECS[harness_get]} s ($(mbps "${SECS[harness_get]}") MB/s, ${RSS[harness_get]} KB) | ${RATIO[harness_get]} (speed-up $(speedup "${RATIO[harness_get]}")x) |
| C-GET, --associations 1 | getscu ${SECS[getscu_1]} s ($(mbps "${SECS[getscu_1]}") MB/s, ${RSS[getscu_1]} KB) | ${SECS[harness_get_1]} s ($(mbps "${SECS[harness_get_1]}") MB/s, ${RSS[harness_get_1]} KB) | ${RATIO[harness_get_1]} (speed-up $(speedup "${RATIO[harness_get_1]}")x) |
| C-MOVE | movescu --port ${SECS[movescu]} s ($(mbps "${SECS[movescu]}") MB/s, ${RSS[movescu]} KB) | ${SECS[harness_move]} s ($(mbps "${SECS[harness_move]}") MB/s, ${RSS[harness_move]} KB) | ${RATIO[harness_move]} (speed-up $(speedup "${RATIO[harness_move]}")x) |
EOF
exit 0
