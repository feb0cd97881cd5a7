#!/usr/bin/env bash
# Benchmark (not a test): STOW-RS throughput into Orthanc, the harness against a sequential client.
#
#   ci/bench-stow.sh
#
# N instances stored with STOW-RS into a private Orthanc (ci/start-orthanc.sh on ports of its own,
# fresh storage for every run, so that no run meets instances an earlier one stored):
#   - the reference client: curl, one request per batch of BENCH_BATCH instances, one after the
#     other; each body is prebuilt on disk before the timed run (multipart/related of the files);
#   - the harness: `ihe-harness store --stow --batch BENCH_BATCH --requests BENCH_REQUESTS`, the
#     same batches, BENCH_REQUESTS requests at once, each body read from the files as it is sent,
#     each instance judged by the Store Instances Response.
# The two clients alternate, pair after pair, so that a machine getting slower or faster during
# the run moves both sides of a pair alike; the ratio printed is the median of the per-pair ratios.
# Each timed run is wrapped in /usr/bin/time for the peak RSS. Exits 0 when the benchmark ran
# (whatever the figures), 1 when it could not run.
#
# Env (defaults in brackets):
#   VENV [/tmp/ihe-harness-venv]        Python venv from ci/install.sh (for the fixture generator)
#   BENCH_N [500]                        instances stored per run
#   BENCH_FIXTURES [/tmp/ihe-bench-fx]   fixture folder with a large CT study (generated if missing)
#   BENCH_GB [0.3]                       size of that study when it has to be generated
#   BENCH_WORK [/tmp/ihe-bench-stow]     Orthanc, bodies, logs, profile
#   BENCH_REPS [3]                       timed pairs
#   BENCH_BATCH [50]                     instances per request (both clients)
#   BENCH_REQUESTS [4]                   `ihe-harness store --stow --requests`
#   BENCH_HTTP_PORT [18142] BENCH_DICOM_PORT [14342]   the private Orthanc's ports
#   HARNESS_BIN [target/release/ihe-harness, built with cargo build --release when missing]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-/tmp/ihe-harness-venv}
N=${BENCH_N:-500}
FX=${BENCH_FIXTURES:-/tmp/ihe-bench-fx}
GB=${BENCH_GB:-0.3}
WORK=${BENCH_WORK:-/tmp/ihe-bench-stow}
REPS=${BENCH_REPS:-3}
BATCH=${BENCH_BATCH:-50}
REQUESTS=${BENCH_REQUESTS:-4}
HTTP_PORT=${BENCH_HTTP_PORT:-18142}
DICOM_PORT=${BENCH_DICOM_PORT:-14342}
HARNESS_BIN=${HARNESS_BIN:-$ROOT/target/release/ihe-harness}
TIME=/usr/bin/time
# shellcheck source=ci/bench-lib.sh
. "$ROOT/ci/bench-lib.sh"

need curl python3 "$TIME" /usr/sbin/Orthanc
need_harness
rm -rf "$WORK" && mkdir -p "$WORK/bodies"
load_large_files

# The reference client's bodies: one multipart/related file per batch, in the order the harness
# batches them (path order), with the boundary of its Content-Type.
BOUNDARY=bench-stow-5f0c2d7e
printf '%s\n' "${FILES[@]}" >"$WORK/files.txt"
python3 - "$WORK/bodies" "$BATCH" "$BOUNDARY" "$WORK/files.txt" <<'PY'
import sys
out, batch, boundary = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
files = [l.strip() for l in open(sys.argv[4]) if l.strip()]
for n, i in enumerate(range(0, len(files), batch)):
    with open(f"{out}/batch-{n:05d}.body", "wb") as b:
        for f in files[i:i + batch]:
            b.write(b"--" + boundary + b"\r\nContent-Type: application/dicom\r\n\r\n")
            with open(f, "rb") as fh:
                b.write(fh.read())
            b.write(b"\r\n")
        b.write(b"--" + boundary + b"--\r\n")
PY
BATCHES=$(find "$WORK/bodies" -name '*.body' | wc -l)
log "$N instances, $BYTES bytes, $BATCHES requests of up to $BATCH"

URL="http://127.0.0.1:$HTTP_PORT/dicom-web/studies"
cat >"$WORK/curl-stow.sh" <<EOF
#!/usr/bin/env bash
# One request per prebuilt body, one after the other; any answer but 200 fails the run. No
# "Expect: 100-continue" (curl's default for large bodies), which Orthanc does not answer: curl
# would wait a second before each body.
set -euo pipefail
for b in "$WORK"/bodies/*.body; do
  code=\$(curl -sS -o "$WORK/curl-answer.json" -w '%{http_code}' -X POST \\
    -H 'Content-Type: multipart/related; type="application/dicom"; boundary=$BOUNDARY' \\
    -H 'Accept: application/dicom+json' -H 'Expect:' --data-binary @"\$b" "$URL")
  [ "\$code" = 200 ] || { echo "\$b: HTTP \$code" >&2; exit 1; }
done
EOF
chmod +x "$WORK/curl-stow.sh"
cat >"$WORK/orthanc.toml" <<EOF
[sut]
name = "Orthanc (benchmark)"
[dicomweb]
base_url = "http://127.0.0.1:$HTTP_PORT/dicom-web"
read_timeout_ms = 120000
timeout_ms = 600000
EOF

ORTHANC=(env ORTHANC_DIR="$WORK/orthanc" ORTHANC_HTTP_PORT="$HTTP_PORT" ORTHANC_DICOM_PORT="$DICOM_PORT" ORTHANC_NAME=bench-stow)
fresh_orthanc() { "${ORTHANC[@]}" "$ROOT/ci/stop-orthanc.sh" >/dev/null 2>&1 || true; "${ORTHANC[@]}" "$ROOT/ci/start-orthanc.sh" >/dev/null || die "Orthanc did not start (see $WORK/orthanc/orthanc.log)"; }
stop_orthanc() { "${ORTHANC[@]}" "$ROOT/ci/stop-orthanc.sh" >/dev/null 2>&1 || true; }
trap stop_orthanc EXIT
stored() { curl -sf "http://127.0.0.1:$HTTP_PORT/statistics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])'; }

# run CMD...: time one run on a fresh Orthanc; prints "seconds maxrss_kb"; the run must store all N.
run() {
  fresh_orthanc
  local out="$WORK/time.$$" rc=0
  "$TIME" -f '%e %M' -o "$out" "$@" >"$WORK/last.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then cat "$WORK/last.log" >&2; die "run failed ($rc): $1"; fi
  local got; got=$(stored)
  [ "$got" = "$N" ] || die "$1: Orthanc holds $got instances, not $N (see $WORK/last.log)"
  tail -n 1 "$out"
}
cs=() cr=() hs=() hr=() rs=()
for i in $(seq "$REPS"); do
  read -r s1 k1 < <(run "$WORK/curl-stow.sh")
  read -r s2 k2 < <(run "$HARNESS_BIN" store --stow --batch "$BATCH" --requests "$REQUESTS" --sut "$WORK/orthanc.toml" "${FILES[@]}")
  cs+=("$s1"); cr+=("$k1"); hs+=("$s2"); hr+=("$k2")
  rs+=("$(awk -v a="$s1" -v b="$s2" 'BEGIN {printf "%.4f", (a > 0 ? b / a : 0)}')")
  log "pair $i: curl $s1 s, harness $s2 s"
done
C=$(printf '%s\n' "${cs[@]}" | median); CR=$(printf '%s\n' "${cr[@]}" | median)
H=$(printf '%s\n' "${hs[@]}" | median); HR=$(printf '%s\n' "${hr[@]}" | median)
R=$(printf '%s\n' "${rs[@]}" | median)
log "curl: ${cs[*]}; harness: ${hs[*]}; ratios ${rs[*]}"
cat <<EOF

STOW-RS of $N instances ($BYTES bytes) into Orthanc, $BATCHES requests of up to $BATCH; $REPS alternating pairs, each run on a fresh Orthanc; medians, ratio = median of per-pair ratios
machine: $(machine)
| client | time | throughput | peak RSS |
|---|---|---|---|
| curl, prebuilt bodies, one request after the other | $C s | $(mbps "$C") MB/s | $CR KB |
| ihe-harness store --stow --requests $REQUESTS (bodies streamed from the files) | $H s | $(mbps "$H") MB/s | $HR KB |
| time ratio (harness / curl) | $R | speed-up $(awk -v r="$R" 'BEGIN {printf "%.2f", (r > 0 ? 1 / r : 0)}')x | |
EOF
exit 0
