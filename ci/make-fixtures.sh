#!/usr/bin/env bash
# Regenerate the committed fixture set fixtures/studies (DICOM files + index.json) with ci/make-fixtures.py,
# using the Python venv of ci/install.sh (installed first if it is missing).
#
#   ci/make-fixtures.sh            # rewrite fixtures/studies
#   ci/make-fixtures.sh --check    # regenerate into a temporary folder and compare with fixtures/studies
#                                  # (exit 1 if they differ)
#
# Env: VENV [/tmp/ihe-harness-venv]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-/tmp/ihe-harness-venv}
export VENV
OUT="$ROOT/fixtures/studies"

have_tools() {
  "$VENV/bin/python" -c 'import pydicom, numpy' >/dev/null 2>&1 &&
    command -v dcmcjpeg >/dev/null && command -v dcmcrle >/dev/null && command -v dcmcjpls >/dev/null &&
    command -v dcmconv >/dev/null && command -v gdcmconv >/dev/null
}
have_tools || "$ROOT/ci/install.sh"

case "${1:-}" in
  --check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$VENV/bin/python" "$ROOT/ci/make-fixtures.py" "$tmp/studies"
    if diff -r "$OUT" "$tmp/studies" > "$tmp/diff.txt"; then
      echo "fixtures/studies is up to date"
    else
      echo "fixtures/studies differs from a fresh generation:" >&2
      head -20 "$tmp/diff.txt" >&2
      exit 1
    fi
    ;;
  "")
    "$VENV/bin/python" "$ROOT/ci/make-fixtures.py" "$OUT"
    echo "fixtures/studies: $(du -sh "$OUT" | cut -f1) on disk, $(find "$OUT" -type f | wc -l) files"
    ;;
  *)
    echo "usage: ci/make-fixtures.sh [--check]" >&2
    exit 2
    ;;
esac
