#!/usr/bin/env bash
# Benchmark (not a test): WADO-RS retrieve of one large study (>= 1 GB) from Orthanc, curl versus
# `ihe-harness retrieve`, both asking for the instances as stored (transfer-syntax=*).
#
#   ci/bench-wado.sh
#
# Steps: generate the large study with ci/make-fixtures.py --large-gb; start Orthanc (ci/start-orthanc.sh); load
# the study with STOW-RS in batches (ci/stow.py); time REPS pairs of retrieves, curl and the harness back to back
# in alternating order, each under /usr/bin/time -v for the peak RSS; print a result table (the median of the
# per-pair ratios, both peak RSS) and exit 0. Orthanc is stopped on exit if this script
# started it (unless BENCH_KEEP_ORTHANC=1).
#
# Env (defaults in brackets):
#   VENV [/tmp/ihe-harness-venv]       Python venv from ci/install.sh (run first if missing)
#   BENCH_GB [1.05]                    size of the generated study in GiB
#   BENCH_FIXTURES [/tmp/ihe-bench-fx] output folder of the generator (wiped and rewritten)
#   BENCH_REUSE_FIXTURES [0]           1 = keep an existing BENCH_FIXTURES whose index.json has a large study
#   BENCH_WORK [/tmp/ihe-bench-work]   logs, /usr/bin/time outputs, the generated SUT profile
#   BENCH_REPS [9]                     timed pairs (one curl and one harness retrieve each, in alternating order)
#   BENCH_WARMUP [1]                   untimed curl retrieves before the timed ones
#   BENCH_BATCH [100]                  instances per STOW-RS request
#   BENCH_KEEP_ORTHANC [0]             1 = use an Orthanc already answering on the port (loading the study only if
#                                      it is not complete there), and leave Orthanc running at the end
#   BENCH_SKIP_HARNESS [0]             1 = time curl only (e.g. before the harness binary is built)
#   HARNESS_BIN [target/release/ihe-harness]
#   ORTHANC_HTTP_PORT [18042], ORTHANC_DIR, ORTHANC_USER / ORTHANC_PASSWORD   as for ci/start-orthanc.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-/tmp/ihe-harness-venv}
export VENV
GB=${BENCH_GB:-1.05}
FX=${BENCH_FIXTURES:-/tmp/ihe-bench-fx}
WORK=${BENCH_WORK:-/tmp/ihe-bench-work}
REPS=${BENCH_REPS:-9}
WARMUP=${BENCH_WARMUP:-1}
BATCH=${BENCH_BATCH:-100}
KEEP=${BENCH_KEEP_ORTHANC:-0}
SKIP_HARNESS=${BENCH_SKIP_HARNESS:-0}
HARNESS_BIN=${HARNESS_BIN:-$ROOT/target/release/ihe-harness}
HTTP_PORT=${ORTHANC_HTTP_PORT:-18042}
BASE="http://127.0.0.1:$HTTP_PORT/dicom-web"
ACCEPT='Accept: multipart/related; type="application/dicom"; transfer-syntax=*'
TIME=/usr/bin/time

log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

CURL_AUTH=()
if [ -n "${ORTHANC_USER:-}" ] && [ -n "${ORTHANC_PASSWORD:-}" ]; then
  CURL_AUTH=(-u "${ORTHANC_USER}:${ORTHANC_PASSWORD}")
fi
ocurl() { curl ${CURL_AUTH[@]+"${CURL_AUTH[@]}"} "$@"; }
orthanc_up() { ocurl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/system" 2>/dev/null; }

[ -x "$TIME" ] || die "$TIME missing (apt package 'time'): run ci/install.sh"
if ! "$VENV/bin/python" -c 'import pydicom, numpy' >/dev/null 2>&1; then "$ROOT/ci/install.sh"; fi
if [ "$SKIP_HARNESS" != 1 ] && [ ! -x "$HARNESS_BIN" ]; then
  die "harness binary $HARNESS_BIN not found: build it (cargo build --release) or set BENCH_SKIP_HARNESS=1"
fi
mkdir -p "$WORK"

# --- 1. the large study -------------------------------------------------------------------------------------
large_files() {  # prints the study UID on the first line, then the absolute paths of its instances
  "$VENV/bin/python" - "$FX/index.json" <<'PY'
import json, os, sys
idx = json.load(open(sys.argv[1]))
large = [e for e in idx if e.get("large")]
uids = sorted({e["study_uid"] for e in large})
if len(uids) != 1:
    sys.exit(f"expected one large study in {sys.argv[1]}, found {len(uids)}")
print(uids[0])
base = os.path.dirname(os.path.abspath(sys.argv[1]))
for e in large:
    print(os.path.join(base, e["path"]))
PY
}
if [ "${BENCH_REUSE_FIXTURES:-0}" = 1 ] && [ -f "$FX/index.json" ] && large_files > "$WORK/large.txt" 2>/dev/null; then
  log "reusing the large study in $FX"
else
  log "generating a ${GB} GiB study in $FX"
  "$VENV/bin/python" "$ROOT/ci/make-fixtures.py" "$FX" --large-gb "$GB" >&2
  large_files > "$WORK/large.txt"
fi
STUDY=$(head -1 "$WORK/large.txt")
tail -n +2 "$WORK/large.txt" > "$WORK/large-files.txt"
N_INST=$(wc -l < "$WORK/large-files.txt")
STUDY_BYTES=$(xargs -d '\n' stat -c %s < "$WORK/large-files.txt" | awk '{s += $1} END {print s}')
log "study $STUDY: $N_INST instances, $(awk -v b="$STUDY_BYTES" 'BEGIN {printf "%.2f", b / 1e9}') GB"

# --- 2. Orthanc ---------------------------------------------------------------------------------------------
STARTED=0
cleanup() {
  local rc=$?
  if [ "$STARTED" = 1 ] && [ "$KEEP" != 1 ]; then "$ROOT/ci/stop-orthanc.sh" >&2 || true; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "$KEEP" = 1 ] && orthanc_up; then
  log "using the Orthanc already running on port $HTTP_PORT"
else
  "$ROOT/ci/start-orthanc.sh" >&2
  STARTED=1
fi

# --- 3. load it with STOW-RS (unless the SUT already holds all of it) ----------------------------------------
held=$(ocurl -sf "$BASE/studies?StudyInstanceUID=$STUDY&includefield=00201208" \
  | "$VENV/bin/python" -c 'import json,sys; a=json.load(sys.stdin); print(a[0]["00201208"]["Value"][0] if a else 0)' \
  2>/dev/null || echo 0)
if [ "$held" = "$N_INST" ]; then
  log "Orthanc already holds the $N_INST instances; not loading"
else
  log "loading $N_INST instances with STOW-RS, $BATCH per request"
  STOW_USER=${ORTHANC_USER:-} STOW_PASSWORD=${ORTHANC_PASSWORD:-} \
    "$VENV/bin/python" "$ROOT/ci/stow.py" "$BASE/studies" --batch "$BATCH" --files-from "$WORK/large-files.txt" >&2
fi

# --- 4. timed retrieves, in alternating pairs ---------------------------------------------------------------
# Each pair runs curl and the harness back to back on the same study (curl first in odd pairs, the harness first
# in even ones), so that drift of the machine (other builds, the page cache) moves both sides of a pair alike;
# the result is the median of the per-pair ratios.
now_ns() { date +%s%N; }
rss_kb() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
secs() { awk -v us="$1" 'BEGIN {printf "%.3f", us / 1e6}'; }

for i in $(seq 1 "$WARMUP"); do
  ocurl -s -o /dev/null -H "$ACCEPT" "$BASE/studies/$STUDY" || die "warm-up retrieve failed"
done

PROFILE="$WORK/bench-sut.toml"
{
  echo '[sut]'
  echo 'name = "Orthanc + DICOMweb plugin (benchmark, large study preloaded)"'
  echo
  echo '[dicomweb]'
  echo "base_url = \"$BASE\""
  if [ ${#CURL_AUTH[@]} -gt 0 ]; then
    echo "username = \"$ORTHANC_USER\""
    echo 'password_env = "ORTHANC_PASSWORD"'
  fi
  echo 'connect_timeout_ms = 5000'
  echo 'read_timeout_ms = 60000'
  echo 'timeout_ms = 600000'
  echo
  echo '[test_data]'
  echo 'mode = "preloaded"'
  echo
  echo '[options]'
  echo 'strict = false'
} > "$PROFILE"

run_curl() {  # $1 = pair number; appends "microseconds <TAB> peak RSS kB" to curl.tsv
  local t0 t1 out code size
  t0=$(now_ns)
  out=$("$TIME" -v -o "$WORK/time-curl-$1.txt" \
        curl ${CURL_AUTH[@]+"${CURL_AUTH[@]}"} -s -o /dev/null -w '%{http_code} %{size_download}' \
        -H "$ACCEPT" "$BASE/studies/$STUDY") || die "curl retrieve $1 failed (exit $?)"
  t1=$(now_ns)
  read -r code size <<< "$out"
  [ "$code" = 200 ] || die "curl retrieve $1: HTTP $code"
  [ "$size" -ge "$STUDY_BYTES" ] || die "curl retrieve $1: $size bytes received, less than the study's $STUDY_BYTES"
  printf '%s\t%s\n' "$(( (t1 - t0) / 1000 ))" "$(rss_kb "$WORK/time-curl-$1.txt")" >> "$WORK/curl.tsv"
  log "pair $1 curl:    $(secs $(( (t1 - t0) / 1000 ))) s, $size bytes"
}
run_harness() {  # $1 = pair number; appends to harness.tsv
  local t0 t1
  t0=$(now_ns)
  if ! "$TIME" -v -o "$WORK/time-harness-$1.txt" \
       "$HARNESS_BIN" retrieve --sut "$PROFILE" --study "$STUDY" --transfer-syntax '*' > "$WORK/harness-$1.log" 2>&1
  then
    tail -20 "$WORK/harness-$1.log" >&2
    die "harness retrieve $1 failed (log: $WORK/harness-$1.log)"
  fi
  t1=$(now_ns)
  printf '%s\t%s\n' "$(( (t1 - t0) / 1000 ))" "$(rss_kb "$WORK/time-harness-$1.txt")" >> "$WORK/harness.tsv"
  log "pair $1 harness: $(secs $(( (t1 - t0) / 1000 ))) s ($(tail -1 "$WORK/harness-$1.log"))"
}

: > "$WORK/curl.tsv"
: > "$WORK/harness.tsv"
for i in $(seq 1 "$REPS"); do
  if [ "$SKIP_HARNESS" = 1 ]; then
    run_curl "$i"
  elif [ $((i % 2)) = 1 ]; then
    run_curl "$i"; run_harness "$i"
  else
    run_harness "$i"; run_curl "$i"
  fi
done

# --- 5. result table ----------------------------------------------------------------------------------------
c_us=$(cut -f1 "$WORK/curl.tsv" | median)
c_rss=$(cut -f2 "$WORK/curl.tsv" | sort -g | tail -1)
mb=$(awk -v b="$STUDY_BYTES" 'BEGIN {printf "%.1f", b / 1e6}')
echo
echo "WADO-RS retrieve of study $STUDY"
echo "  $N_INST instances, $mb MB stored, transfer-syntax=*, $REPS alternating pairs (medians), Orthanc on 127.0.0.1:$HTTP_PORT"
echo "  machine: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
printf '  %-32s %12s\n' "metric" "value"
printf '  %-32s %12.3f\n' "median time curl (s)" "$(awk -v u="$c_us" 'BEGIN {print u / 1e6}')"
printf '  %-32s %12.1f\n' "curl throughput (MB/s)" "$(awk -v u="$c_us" -v b="$STUDY_BYTES" 'BEGIN {print b / u}')"
if [ -s "$WORK/harness.tsv" ]; then
  h_us=$(cut -f1 "$WORK/harness.tsv" | median)
  h_rss=$(cut -f2 "$WORK/harness.tsv" | sort -g | tail -1)
  ratio=$(paste "$WORK/harness.tsv" "$WORK/curl.tsv" | awk -F'\t' '{print $1 / $3}' | median)
  printf '  %-32s %12.3f\n' "median time harness (s)" "$(awk -v u="$h_us" 'BEGIN {print u / 1e6}')"
  printf '  %-32s %12.1f\n' "harness throughput (MB/s)" "$(awk -v u="$h_us" -v b="$STUDY_BYTES" 'BEGIN {print b / u}')"
  printf '  %-32s %12.2f\n' "median of pair ratios (h/curl)" "$ratio"
  printf '  %-32s %12s\n' "pair ratios" "$(paste "$WORK/harness.tsv" "$WORK/curl.tsv" | awk -F'\t' '{printf "%s%.2f", (NR > 1 ? " " : ""), $1 / $3}')"
  printf '  %-32s %12.1f\n' "harness peak RSS (MB)" "$(awk -v k="$h_rss" 'BEGIN {print k / 1024}')"
else
  printf '  %-32s %12s\n' "median time harness (s)" "skipped"
  printf '  %-32s %12s\n' "median of pair ratios (h/curl)" "-"
  printf '  %-32s %12s\n' "harness peak RSS (MB)" "-"
fi
printf '  %-32s %12.1f\n' "curl peak RSS (MB)" "$(awk -v k="$c_rss" 'BEGIN {print k / 1024}')"
# A benchmark that ran reports, it does not judge: the table is the result.
exit 0
