#!/usr/bin/env bash
# Start a throw-away Orthanc (Debian bookworm: Orthanc 1.10.1 + DICOMweb plugin 1.7) on loopback, as a plain
# background process of its own (not the system service), and wait until its HTTP API answers.
#
#   ci/start-orthanc.sh     # prints one line with the PID and ports once ready; exit 1 if it cannot start
#   ci/stop-orthanc.sh      # stops it by PID file
#
# Env (defaults in brackets):
#   ORTHANC_DIR [/tmp/ihe-harness-orthanc]  config, storage, logs and PID file (wiped on start unless ORTHANC_KEEP=1)
#   ORTHANC_HTTP_PORT [18042]  ORTHANC_DICOM_PORT [14242]  ORTHANC_AET [ORTHANC]
#   ORTHANC_USER / ORTHANC_PASSWORD   if both are set, HTTP Basic auth is switched on with that one user
#   MOVE_DEST_AET [STORESCP] MOVE_DEST_PORT [11113]   C-MOVE destination "movedest" on 127.0.0.1
#   HARNESS_AET [HARNESS]    HARNESS_PORT [11114]     C-MOVE destination "harness" on 127.0.0.1
#   ORTHANC_GDCM [0]   1 = also load the GDCM plugin if installed (J2K transcoding). Off by default: with it,
#                      Orthanc 1.10.1 crashes within a few requests that decode JPEG-LS/RLE/J2K frames. Without it,
#                      J2K objects are stored and served as stored (transfer-syntax=*), but not transcoded.
#   ORTHANC_DICOM_TLS_DIR []   a PKI folder (ci/make-test-pki.sh): the DICOM port speaks DICOM TLS only
#                      (PS3.15 B.1), with server.pem/server.key, trusting ca.pem and requiring a client certificate;
#                      the modalities "movedest" and "harness" are called with DICOM TLS too. ci/start-orthanc-tls.sh
#   ORTHANC_DICOMWEB_BASE [http://127.0.0.1:HTTP_PORT]   the public base (scheme, host, port) of the absolute URLs
#                      the DICOMweb plugin writes (RetrieveURL, BulkDataURI): https://... behind a TLS proxy
#   ORTHANC_NAME [ihe-harness-orthanc]
set -euo pipefail

ORTHANC_DIR=${ORTHANC_DIR:-/tmp/ihe-harness-orthanc}
HTTP_PORT=${ORTHANC_HTTP_PORT:-18042}
DICOM_PORT=${ORTHANC_DICOM_PORT:-14242}
AET=${ORTHANC_AET:-ORTHANC}
MOVE_DEST_AET=${MOVE_DEST_AET:-STORESCP}
MOVE_DEST_PORT=${MOVE_DEST_PORT:-11113}
HARNESS_AET=${HARNESS_AET:-HARNESS}
HARNESS_PORT=${HARNESS_PORT:-11114}
ORTHANC_BIN=/usr/sbin/Orthanc
PLUGDIR=/usr/share/orthanc/plugins

[ -x "$ORTHANC_BIN" ] || { echo "orthanc not installed ($ORTHANC_BIN missing): run ci/install.sh" >&2; exit 1; }
[ -e "$PLUGDIR/libOrthancDicomWeb.so" ] || { echo "orthanc-dicomweb not installed: run ci/install.sh" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$HTTP_PORT" "$DICOM_PORT"; do
  if port_in_use "$p"; then
    echo "port $p already in use on 127.0.0.1 (an earlier Orthanc still running? try ci/stop-orthanc.sh)" >&2
    exit 1
  fi
done
if [ "${ORTHANC_KEEP:-0}" != 1 ]; then rm -rf "$ORTHANC_DIR"; fi
mkdir -p "$ORTHANC_DIR/storage"

AUTH_JSON='"AuthenticationEnabled" : false,'
CURL_AUTH=()
if [ -n "${ORTHANC_USER:-}" ] && [ -n "${ORTHANC_PASSWORD:-}" ]; then
  AUTH_JSON="\"AuthenticationEnabled\" : true, \"RegisteredUsers\" : { \"${ORTHANC_USER}\" : \"${ORTHANC_PASSWORD}\" },"
  CURL_AUTH=(-u "${ORTHANC_USER}:${ORTHANC_PASSWORD}")
fi

DW_BASE=${ORTHANC_DICOMWEB_BASE:-http://127.0.0.1:$HTTP_PORT}
case $DW_BASE in
  https://*) DW_SSL=true; DW_HOST=${DW_BASE#https://} ;;
  http://*) DW_SSL=false; DW_HOST=${DW_BASE#http://} ;;
  *) echo "ORTHANC_DICOMWEB_BASE must start with http:// or https://: $DW_BASE" >&2; exit 1 ;;
esac
DW_HOST=${DW_HOST%/}

# Modalities: the C-MOVE / C-STORE destinations on 127.0.0.1 (object form, so DICOM TLS can be switched on).
TLS_JSON=
USE_TLS=false
if [ -n "${ORTHANC_DICOM_TLS_DIR:-}" ]; then
  for f in server.pem server.key ca.pem; do
    [ -s "$ORTHANC_DICOM_TLS_DIR/$f" ] || { echo "$ORTHANC_DICOM_TLS_DIR/$f missing: run ci/make-test-pki.sh" >&2; exit 1; }
  done
  USE_TLS=true
  TLS_JSON="\"DicomTlsEnabled\" : true,
  \"DicomTlsCertificate\" : \"$ORTHANC_DICOM_TLS_DIR/server.pem\",
  \"DicomTlsPrivateKey\" : \"$ORTHANC_DICOM_TLS_DIR/server.key\",
  \"DicomTlsTrustedCertificates\" : \"$ORTHANC_DICOM_TLS_DIR/ca.pem\",
  \"DicomTlsRemoteCertificateRequired\" : true,"
fi

PLUGINS="\"$PLUGDIR/libOrthancDicomWeb.so\""
GDCM_JSON=
if [ "${ORTHANC_GDCM:-0}" = 1 ]; then
  if [ -e "$PLUGDIR/libOrthancGdcm.so" ]; then
    PLUGINS="$PLUGINS, \"$PLUGDIR/libOrthancGdcm.so\""
    GDCM_JSON="\"Gdcm\" : { \"Enable\" : true, \"Throttling\" : ${ORTHANC_GDCM_THREADS:-2} },"
  else
    echo "ORTHANC_GDCM=1 but the orthanc-gdcm plugin is not installed; starting without it" >&2
  fi
fi

# The config holds the password when auth is on: keep it private.
umask 077
cat > "$ORTHANC_DIR/orthanc.json" <<JSON
{
  "Name" : "${ORTHANC_NAME:-ihe-harness-orthanc}",
  "StorageDirectory" : "$ORTHANC_DIR/storage",
  "IndexDirectory"   : "$ORTHANC_DIR/storage",
  "Plugins" : [ $PLUGINS ],

  "HttpServerEnabled" : true,
  "HttpPort" : $HTTP_PORT,
  "RemoteAccessAllowed" : false,
  $AUTH_JSON

  "DicomServerEnabled" : true,
  "DicomAet" : "$AET",
  "DicomPort" : $DICOM_PORT,
  "DicomCheckCalledAet" : false,
  "DicomAlwaysAllowEcho" : true,
  "DicomAlwaysAllowStore" : true,
  "DicomAlwaysAllowFind" : true,
  "DicomAlwaysAllowGet" : true,
  "DicomAlwaysAllowMove" : true,
  "UnknownSopClassAccepted" : true,
  $TLS_JSON
  "DicomModalities" : {
    "movedest" : { "AET" : "$MOVE_DEST_AET", "Host" : "127.0.0.1", "Port" : $MOVE_DEST_PORT, "UseDicomTls" : $USE_TLS },
    "harness"  : { "AET" : "$HARNESS_AET", "Host" : "127.0.0.1", "Port" : $HARNESS_PORT, "UseDicomTls" : $USE_TLS }
  },

  "SaveJobs" : false,
  "StableAge" : 5,
  "OverwriteInstances" : true,
  "HttpsVerifyPeers" : false,
  $GDCM_JSON

  "DicomWeb" : {
    "Enable" : true,
    "Root" : "/dicom-web/",
    "EnableWado" : true,
    "WadoRoot" : "/wado",
    "Host" : "$DW_HOST",
    "Ssl" : $DW_SSL,
    "StudiesMetadata" : "Full",
    "SeriesMetadata" : "Full"
  }
}
JSON
umask 022

t0=$(date +%s%N)
# --no-jobs: do not resume jobs of an earlier run. Started with setsid so that it survives the caller's shell and
# does not receive its terminal signals; stopped by PID only (ci/stop-orthanc.sh).
setsid "$ORTHANC_BIN" --no-jobs --logfile="$ORTHANC_DIR/orthanc.log" "$ORTHANC_DIR/orthanc.json" \
  > "$ORTHANC_DIR/stdout.log" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$ORTHANC_DIR/orthanc.pid"

for _ in $(seq 1 300); do
  if ! kill -0 "$PID" 2>/dev/null || [ "$(ps -o stat= -p "$PID" 2>/dev/null | cut -c1)" = Z ]; then
    echo "orthanc died during startup; log:" >&2
    tail -40 "$ORTHANC_DIR/orthanc.log" "$ORTHANC_DIR/stdout.log" >&2 || true
    rm -f "$ORTHANC_DIR/orthanc.pid"
    exit 1
  fi
  if curl -sf ${CURL_AUTH[@]+"${CURL_AUTH[@]}"} "http://127.0.0.1:$HTTP_PORT/system" > /dev/null 2>&1; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    echo "orthanc pid=$PID http=http://127.0.0.1:$HTTP_PORT dicom=$AET@127.0.0.1:$DICOM_PORT" \
         "dicom-tls=$USE_TLS dir=$ORTHANC_DIR" \
         "auth=$([ ${#CURL_AUTH[@]} -gt 0 ] && echo basic || echo none) ready in ${ms} ms"
    exit 0
  fi
  sleep 0.1
done
echo "orthanc not ready after 30 s; stopping it" >&2
kill "$PID" 2>/dev/null || true
rm -f "$ORTHANC_DIR/orthanc.pid"
exit 1
