#!/usr/bin/env bash
# Start a second Orthanc whose DICOM port speaks DICOM TLS only (PS3.15 B.1): the DIMSE peer of the TLS profile
# fixtures/sut/orthanc-tls.toml. It is ci/start-orthanc.sh with other defaults: own folder and ports, the test PKI
# of ci/make-test-pki.sh (made if missing), a client certificate required from every caller
# (DicomTlsRemoteCertificateRequired), and the C-MOVE / C-STORE destination "harness" called with DICOM TLS too.
# Its HTTP port stays plain and on loopback (REST API, triggers, and the upstream of ci/start-nginx-tls.sh); the
# DICOMweb plugin writes its absolute URLs for the HTTPS front, https://localhost:18443.
#
#   ci/start-orthanc-tls.sh      # prints one line with the PID and ports once ready; exit 1 if it cannot start
#   ci/stop-orthanc-tls.sh
#
# Env (defaults in brackets), passed on to ci/start-orthanc.sh:
#   PKI_DIR [/tmp/ihe-harness-pki]                   certificates (server.pem/server.key/ca.pem)
#   ORTHANC_TLS_DIR [/tmp/ihe-harness-orthanc-tls]   config, storage, logs and PID file
#   ORTHANC_TLS_HTTP_PORT [18043]  ORTHANC_TLS_DICOM_PORT [14243]  ORTHANC_TLS_AET [ORTHANCTLS]
#   HARNESS_TLS_AET [HARNESS]  HARNESS_TLS_PORT [11115]   the harness's DICOM TLS SCP ("harness" modality)
#   MOVE_DEST_TLS_AET [STORESCP]  MOVE_DEST_TLS_PORT [11116]   a DCMTK storescp +tls ("movedest" modality)
#   NGINX_TLS_PORT [18443]   the HTTPS front, for the DICOMweb plugin's absolute URLs
#
# Measured on Debian 12 (Orthanc 1.10.1, DCMTK 3.6.7, test PKI of ci/make-test-pki.sh, 2026-12-07):
#   echoscu +tls client.key client.pem +cf ca.pem -aec ORTHANCTLS 127.0.0.1 14243   -> Echo Response (Success)
#   storescu +tls client.key client.pem +cf ca.pem -aec ORTHANCTLS ... 3 files      -> stored
#   echoscu without TLS        -> "Peer aborted Association"; Orthanc logs "TLS error: wrong version number"
#   +tls with untrusted-client / expired-client -> refused, Orthanc logs "certificate verify failed"
#   +tla (TLS, no client certificate) -> refused, Orthanc logs "peer did not return a certificate"
#   Orthanc as SCU (ci/orthanc-tls-send.sh SERIES) -> storescp +tls server.pem on 11115: the series arrives;
#     storescp presenting untrusted-server.pem -> "unknown ca" alert, expired-server.pem -> "certificate expired",
#     not-yet-valid-server.pem -> "bad certificate": HTTP 500 from the REST call, nothing stored;
#     wrong-name-server.pem (CN/SAN wrong-name.invalid) -> ACCEPTED: Orthanc/DCMTK does not check the peer's
#     host name on DICOM TLS associations.
#   DCMTK 3.6.7's movescu/findscu/getscu have no +tls option (echoscu, storescu, storescp have it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PKI_DIR=${PKI_DIR:-/tmp/ihe-harness-pki}
bash "$HERE/make-test-pki.sh" "$PKI_DIR" >/dev/null
export ORTHANC_DIR=${ORTHANC_TLS_DIR:-/tmp/ihe-harness-orthanc-tls}
export ORTHANC_HTTP_PORT=${ORTHANC_TLS_HTTP_PORT:-18043}
export ORTHANC_DICOM_PORT=${ORTHANC_TLS_DICOM_PORT:-14243}
export ORTHANC_AET=${ORTHANC_TLS_AET:-ORTHANCTLS}
export HARNESS_AET=${HARNESS_TLS_AET:-HARNESS}
export HARNESS_PORT=${HARNESS_TLS_PORT:-11115}
export MOVE_DEST_AET=${MOVE_DEST_TLS_AET:-STORESCP}
export MOVE_DEST_PORT=${MOVE_DEST_TLS_PORT:-11116}
export ORTHANC_DICOM_TLS_DIR=$PKI_DIR
export ORTHANC_DICOMWEB_BASE=https://localhost:${NGINX_TLS_PORT:-18443}
export ORTHANC_NAME=ihe-harness-orthanc-tls
unset ORTHANC_KEEP
exec bash "$HERE/start-orthanc.sh"
