#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that read bytes from a system under test (cargo-fuzz,
# libFuzzer). Not part of the CI test command: run it by hand or in a nightly job.
#
#   ci/fuzz.sh                    every target, FUZZ_SECONDS each
#   ci/fuzz.sh kos mtom           only these targets
#   FUZZ_SECONDS=600 ci/fuzz.sh
#
# Env (defaults in brackets):
#   FUZZ_SECONDS [60]     run time per target
#   FUZZ_SANITIZER [address]   passed to --sanitizer (use `none` if AddressSanitizer fails to link)
#   FUZZ_MAX_LEN [65536]  largest input libFuzzer generates
# A single allocation above 512 MB counts as a crash: no input of that size may make a parser
# allocate that much (dicom-parser allocates an element's declared length before reading it).
#
# Works on stable Rust: cargo-fuzz needs nightly-only -Z flags, so RUSTC_BOOTSTRAP=1 is set for
# every cargo fuzz command. The corpus grows in fuzz/corpus/<target> (git-ignored); the seeds in
# fuzz/seeds/<target> are read as a second corpus directory. At the first crash (panic, timeout,
# out-of-memory) the script stops with a non-zero exit and prints the artifact path; reproduce with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <artifact>
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_EACH=${FUZZ_SECONDS:-60}
SANITIZER=${FUZZ_SANITIZER:-address}
MAX_LEN=${FUZZ_MAX_LEN:-65536}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(cargo fuzz list)
fi

cargo fuzz build -O --sanitizer "$SANITIZER"
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t" "fuzz/artifacts/$t"
  before=$(find "fuzz/artifacts/$t" -type f | sort)
  echo "fuzz: $t for ${SECONDS_EACH}s" >&2
  rc=0
  cargo fuzz run -O --sanitizer "$SANITIZER" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$SECONDS_EACH" -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -print_final_stats=1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    new=$(comm -13 <(echo "$before") <(find "fuzz/artifacts/$t" -type f | sort) || true)
    echo "fuzz: $t FAILED (exit $rc)" >&2
    if [ -n "$new" ]; then
      echo "fuzz: artifact(s):" >&2
      echo "$new" >&2
      echo "fuzz: reproduce with RUSTC_BOOTSTRAP=1 cargo fuzz run $t <artifact>" >&2
    fi
    exit "$rc"
  fi
done
echo "fuzz: ${#TARGETS[@]} targets, no crash" >&2
