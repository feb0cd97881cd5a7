#!/usr/bin/env bash
# Stop the Orthanc started by ci/start-orthanc.sh, by the PID in its PID file (never by process name).
# TERM, wait up to 10 s, then KILL. Exit 0 also when nothing was running.
#   ORTHANC_DIR [/tmp/ihe-harness-orthanc]
set -uo pipefail
ORTHANC_DIR=${ORTHANC_DIR:-/tmp/ihe-harness-orthanc}
PIDFILE="$ORTHANC_DIR/orthanc.pid"
# A killed child of a reparented process may stay a zombie here (state Z) when PID 1 does not reap it; a zombie
# holds no port and counts as stopped.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$s" ] && [ "${s:0:1}" != Z ]; }
ours() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF "$ORTHANC_DIR/orthanc.json"; }

[ -f "$PIDFILE" ] || { echo "orthanc: no pid file $PIDFILE, nothing to stop"; exit 0; }
PID=$(cat "$PIDFILE")
if [[ "$PID" =~ ^[0-9]+$ ]] && alive "$PID"; then
  if ! ours "$PID"; then
    echo "orthanc: pid $PID is not the Orthanc of $ORTHANC_DIR; not killing it" >&2
    rm -f "$PIDFILE"
    exit 0
  fi
  kill -TERM "$PID"
  for _ in $(seq 1 100); do alive "$PID" || break; sleep 0.1; done
  if alive "$PID"; then kill -KILL "$PID"; echo "orthanc $PID did not stop within 10 s; killed"; fi
fi
rm -f "$PIDFILE"
echo "orthanc $PID stopped"
