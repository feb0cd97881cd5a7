#!/usr/bin/env bash
# Regenerates the screenshots of docs/report.md: runs the harness against a SUT profile (default
# fixtures/sut/orthanc.toml, the Orthanc that ci/start-orthanc.sh serves; `reference` runs the embedded
# reference with the faults in FAULTS injected), then opens its report.html in headless Chromium through
# chromedriver's WebDriver API and saves
#   docs/report-summary.png           the top of the page (verdict, counts, what failed, charts)
#   docs/report-failing-scenario.png  a failing scenario, open
# Needs chromium and chromium-driver (ci/install.sh), curl and python3.
#   REPORT_DIR [/tmp/orthanc-report]   SKIP_RUN=1 uses the report already in REPORT_DIR
#   SCENARIO   the id of the scenario to show (sc-N) [the first failing one]
#   FAULTS     for `reference` [qido-wrong-content-type missing-instance]
set -euo pipefail
cd "$(dirname "$0")/.."
SUT=${1:-fixtures/sut/orthanc.toml}
REPORT_DIR=${REPORT_DIR:-/tmp/orthanc-report}
CHROMEDRIVER=${IHE_HARNESS_CHROMEDRIVER:-/usr/bin/chromedriver}

if [ "${SKIP_RUN:-0}" != 1 ]; then
  # Exit 1 says that scenarios failed: that is what the second screenshot shows.
  if [ "$SUT" = reference ]; then
    args=()
    for f in ${FAULTS:-qido-wrong-content-type missing-instance}; do args+=(--reference-fault "$f"); done
    cargo run --quiet -- run "${args[@]}" --report-dir "$REPORT_DIR" >/dev/null || [ $? -eq 1 ]
  else
    cargo run --quiet -- run --sut "$SUT" --report-dir "$REPORT_DIR" >/dev/null || [ $? -eq 1 ]
  fi
fi
report="$(realpath "$REPORT_DIR")/report.html"
[ -f "$report" ] || { echo "no $report" >&2; exit 2; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
profile=$(mktemp -d)
"$CHROMEDRIVER" --port="$port" >/dev/null 2>&1 &
driver=$!
trap 'kill "$driver" 2>/dev/null || true; rm -rf "$profile"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/status" >/dev/null && break; sleep 0.1; done

wd() { curl -sf -X "$1" -H 'Content-Type: application/json' "http://127.0.0.1:$port$2" ${3:+-d "$3"}; }
value() { python3 -c 'import json, sys; v = json.load(sys.stdin)["value"]; print(v if v is not None else "")'; }
caps='{"capabilities":{"alwaysMatch":{"goog:chromeOptions":{"args":["--headless=new","--no-sandbox","--disable-gpu","--hide-scrollbars","--window-size=1280,2000","--user-data-dir='"$profile"'"]}}}}'
session=$(wd POST /session "$caps" | python3 -c 'import json, sys; print(json.load(sys.stdin)["value"]["sessionId"])')
js() { wd POST "/session/$session/execute/sync" "$(python3 -c 'import json, sys; print(json.dumps({"script": sys.argv[1], "args": []}))' "$1")" | value; }
shot() {
  wd GET "/session/$session/screenshot" \
    | python3 -c 'import base64, json, sys; sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)["value"]))' > "$1"
  echo "wrote $1"
}

wd POST "/session/$session/url" "$(python3 -c 'import json, sys; print(json.dumps({"url": "file://" + sys.argv[1]}))' "$report")" >/dev/null
shot docs/report-summary.png
id=$(js "var s = document.getElementById('${SCENARIO:-}') || document.querySelector('details.sc[data-outcome=fail]'); if (!s) { return null; } s.open = true; s.scrollIntoView(); return s.id;")
[ -n "$id" ] || { echo "no failing scenario in $report" >&2; exit 1; }
sleep 0.5
shot docs/report-failing-scenario.png
wd DELETE "/session/$session" >/dev/null
