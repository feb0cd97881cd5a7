#!/usr/bin/env bash
# Install the Python dicomweb-client (the real DICOMweb user agent of tests/suite/dicomweb_client.rs) into a
# venv of its own. Idempotent and quick when the pinned version is already there; python3-venv comes from apt
# only when the venv module is missing and the script runs as root.
#
#   ci/install-dicomweb-client.sh
#
# Env (defaults in brackets):
#   DICOMWEB_CLIENT_VENV [/tmp/ihe-harness-dicomweb-client]  the venv; the tests look for its bin/dicomweb_client
#                                                            (IHE_HARNESS_DICOMWEB_CLIENT_VENV names another)
#   PYTHON               [python3]                           interpreter used to create the venv
set -euo pipefail
VENV=${DICOMWEB_CLIENT_VENV:-/tmp/ihe-harness-dicomweb-client}
PYTHON=${PYTHON:-python3}
VERSION=0.61.2

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$VERSION" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
sys.exit(0 if version("dicomweb-client") == sys.argv[1] else 1)
PY
then
  echo "dicomweb-client $VERSION already in $VENV"
  exit 0
fi
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv
  else
    echo "python venv module missing (install python3-venv)" >&2
    exit 1
  fi
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "dicomweb-client==$VERSION"
echo "dicomweb-client $("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("dicomweb-client"))') in $VENV"
