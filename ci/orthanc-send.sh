#!/usr/bin/env bash
# Trigger for the Orthanc SUT profile: make Orthanc C-STORE one series to the modality "harness"
# (the harness's Storage SCP), through Orthanc's REST API.
#   orthanc-send.sh SERIES_INSTANCE_UID      ORTHANC_URL [http://127.0.0.1:18042]
set -euo pipefail
series=${1:?usage: orthanc-send.sh SERIES_INSTANCE_UID}
url=${ORTHANC_URL:-http://127.0.0.1:18042}
id=$(curl -fsS -X POST "$url/tools/lookup" --data-binary "$series" \
  | python3 -c 'import json,sys; r=[x["ID"] for x in json.load(sys.stdin) if x.get("Type")=="Series"]; print(r[0] if r else "")')
if [ -z "$id" ]; then
  echo "orthanc-send: Orthanc holds no series $series" >&2
  exit 1
fi
curl -fsS -X POST "$url/modalities/harness/store" --data-binary "{\"Resources\":[\"$id\"],\"Synchronous\":true}" >/dev/null
