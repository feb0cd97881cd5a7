# Shared by the benchmarks (ci/bench-dimse.sh, ci/bench-stow.sh, ci/bench-dimse-retrieve.sh): sourced, not run.
# Each script sets ROOT, VENV, FX, N, GB, HARNESS_BIN and WORK, and defines `run CMD...` (time one run, print
# "seconds maxrss_kb"); this file gives the rest: messages, the harness binary, the large study's files, medians
# and the alternating pairs.

log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# need TOOL...: each on the PATH (or an absolute path that exists), else a pointer to ci/install.sh.
need() { for t in "$@"; do command -v "$t" >/dev/null || die "$t missing: run ci/install.sh"; done; }

# The release binary, built when it is the default one and missing.
need_harness() {
  if [ ! -x "$HARNESS_BIN" ] && [ "$HARNESS_BIN" = "$ROOT/target/release/ihe-harness" ]; then
    log "building the harness (cargo build --release)"
    (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
  fi
  [ -x "$HARNESS_BIN" ] || die "harness binary $HARNESS_BIN not found: cargo build --release"
}

# The large study of ci/make-fixtures.py in $FX, generated ($GB GiB) when it holds fewer than $1 ELE CT slices.
ensure_large_study() {
  if [ "$(large_files | wc -l)" -lt "$1" ]; then
    "$VENV/bin/python" -c 'import pydicom, numpy' >/dev/null 2>&1 || "$ROOT/ci/install.sh"
    log "generating a ${GB} GiB study in $FX"
    rm -rf "$FX" && "$VENV/bin/python" "$ROOT/ci/make-fixtures.py" "$FX" --large-gb "$GB" >/dev/null
  fi
}
large_files() { find "$FX/PERF-0001" -name '*.dcm' ! -name '*.ele.dcm' 2>/dev/null | sort | head -n "$N"; }

# FILES: the first $N slices of the large study (generated if need be); BYTES: their size.
load_large_files() {
  ensure_large_study "$N"
  mapfile -t FILES < <(large_files)
  [ "${#FILES[@]}" -ge "$N" ] || die "only ${#FILES[@]} files in $FX"
  BYTES=$(du -cb "${FILES[@]}" | tail -1 | cut -f1)
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mbps() { awk -v b="$BYTES" -v s="$1" 'BEGIN {printf "%.1f", b/1e6/s}'; }

# Called after each timed run of `pairs`; a script that starts a receiver per run redefines it.
teardown() { :; }

declare -A SECS RSS RATIO
# pairs KEY_A SETUP_A CMD_A -- KEY_B SETUP_B CMD_B: REPS pairs, A then B, each run after its SETUP (a function
# given the pair number, or `:`) and followed by `teardown`; sets SECS and RSS (medians of each side) and RATIO
# (the median of the per-pair ratios B / A): drift of the machine moves both sides of a pair alike.
pairs() {
  local ka=$1 sa=$2; shift 2; local a=(); while [ "$1" != "--" ]; do a+=("$1"); shift; done; shift
  local kb=$1 sb=$2; shift 2; local b=("$@")
  local as=() ar=() bs=() br=() rs=()
  for i in $(seq "$REPS"); do
    $sa "$i"; read -r s1 k1 < <(run "${a[@]}"); teardown
    $sb "$i"; read -r s2 k2 < <(run "${b[@]}"); teardown
    as+=("$s1"); ar+=("$k1"); bs+=("$s2"); br+=("$k2")
    rs+=("$(awk -v a="$s1" -v b="$s2" 'BEGIN {printf "%.4f", (a > 0 ? b / a : 0)}')")
    log "pair $i: $ka $s1 s, $kb $s2 s"
  done
  SECS[$ka]=$(printf '%s\n' "${as[@]}" | median); RSS[$ka]=$(printf '%s\n' "${ar[@]}" | median)
  SECS[$kb]=$(printf '%s\n' "${bs[@]}" | median); RSS[$kb]=$(printf '%s\n' "${br[@]}" | median)
  RATIO[$kb]=$(printf '%s\n' "${rs[@]}" | median)
  log "$ka: ${as[*]}; $kb: ${bs[*]}; ratios ${rs[*]}"
}

# The machine line of a result table.
machine() { echo "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"; }
