#!/usr/bin/env bash
# Install the systems under test and the tools the CI scripts use, on Debian 12 (bookworm), as root.
# Idempotent: apt-get runs (with one `apt-get update`) only if a package is missing; pip only if the venv
# lacks the pinned versions.
#
#   ci/install.sh
#
# Env (defaults in brackets):
#   VENV   [/tmp/ihe-harness-venv]  Python venv with pydicom + numpy (fixture generator, STOW loader)
#   PYTHON [python3]                interpreter used to create the venv
#
# The FHIR server of the MHD tests (Medplum's FHIR engine) comes from the npm registry: ci/install-fhir.sh.
#
# The postinst scripts of Orthanc, nginx and rsyslog try to start their system services (ports 8042/4242, 80,
# /dev/log). A policy-rc.d that denies service starts is put in place for the duration of the install if none
# exists, so no system service is ever left running; the CI scripts start their own processes (ci/start-*.sh).
set -euo pipefail
VENV=${VENV:-/tmp/ihe-harness-venv}
PYTHON=${PYTHON:-python3}
PYDICOM_VERSION=3.0.2
t0=$(date +%s)

# python3/python3-venv: the venv below; procps: ps, used by the start/stop scripts (absent on minimal images);
# TLS peers: openssl (test PKI, s_server/s_client), nginx (HTTPS front of Orthanc), rsyslog + rsyslog-openssl
# (syslog relay over TLS), iproute2 (ss, used by ci/start-rsyslog-tls.sh)
PKGS=(orthanc orthanc-dicomweb dcmtk dicom3tools libgdcm-tools curl time python3 python3-venv procps bc
      openssl nginx rsyslog rsyslog-openssl iproute2)
# report.html's browser test (tests/suite/html_report.rs): headless Chromium driven through chromedriver
PKGS+=(chromium chromium-driver)
need=()
did=()
for p in "${PKGS[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  CREATED_POLICY=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    CREATED_POLICY=1
  fi
  remove_policy() { [ "$CREATED_POLICY" = 1 ] && rm -f /usr/sbin/policy-rc.d; return 0; }
  trap remove_policy EXIT
  apt_log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -qq --no-install-recommends "${need[@]}"; } > "$apt_log" 2>&1; then
    cat "$apt_log" >&2
    rm -f "$apt_log"
    echo "apt-get failed" >&2
    exit 1
  fi
  rm -f "$apt_log"
  did+=("apt: ${need[*]}")
  remove_policy
  trap - EXIT
fi
# The optional orthanc-gdcm plugin (J2K transcoding) is deliberately not installed: Orthanc 1.10.1 with it
# crashes under load on JPEG-LS/RLE/J2K frame requests. ci/start-orthanc.sh does not load it by default.

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" - "$PYDICOM_VERSION" >/dev/null 2>&1 <<'PY'
import sys, pydicom, numpy
sys.exit(0 if pydicom.__version__ == sys.argv[1] else 1)
PY
then
  "$VENV/bin/pip" install -q --disable-pip-version-check "pydicom==$PYDICOM_VERSION" numpy
  did+=("pip: pydicom==$PYDICOM_VERSION numpy")
fi

fhir_out=$(FHIR_DIR=${FHIR_DIR:-/tmp/ihe-harness-fhir} bash "$(dirname "$0")/install-fhir.sh")
[ -z "$fhir_out" ] || did+=("$(echo "$fhir_out" | tail -1)")

summary="nothing to install"
[ ${#did[@]} -eq 0 ] || summary=$(IFS=';'; echo "${did[*]}")
echo "install ok in $(( $(date +%s) - t0 ))s ($summary):" \
  "Orthanc $(dpkg-query -W -f='${Version}' orthanc)," \
  "orthanc-dicomweb $(dpkg-query -W -f='${Version}' orthanc-dicomweb)," \
  "dcmtk $(dpkg-query -W -f='${Version}' dcmtk)," \
  "dicom3tools $(dpkg-query -W -f='${Version}' dicom3tools)," \
  "gdcm $(dpkg-query -W -f='${Version}' libgdcm-tools)," \
  "nginx $(dpkg-query -W -f='${Version}' nginx)," \
  "rsyslog $(dpkg-query -W -f='${Version}' rsyslog) + rsyslog-openssl," \
  "pydicom $("$VENV/bin/python" -c 'import pydicom; print(pydicom.__version__)')," \
  "numpy $("$VENV/bin/python" -c 'import numpy; print(numpy.__version__)')," \
  "venv $VENV," \
  "node $(node --version)"
if ! command -v xmllint >/dev/null 2>&1; then
  # xmllint: the tests validate reports/tar.xml against the GITB schema (fixtures/schemas/).
  apt-get install -y -q libxml2-utils >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libxml2-utils >/dev/null; }
fi
