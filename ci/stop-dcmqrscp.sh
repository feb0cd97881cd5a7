#!/usr/bin/env bash
# Stop the dcmqrscp started by ci/start-dcmqrscp.sh (by its PID file, with its per-association children).
set -u
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$s" ] && [ "${s:0:1}" != Z ]; }
QR_DIR=${QR_DIR:-/tmp/ihe-harness-dcmqrscp}
PIDFILE="$QR_DIR/dcmqrscp.pid"
[ -f "$PIDFILE" ] || exit 0
PID=$(cat "$PIDFILE")
CHILDREN=$(ps -o pid= --ppid "$PID" 2>/dev/null || true)
alive "$PID" && kill -TERM "$PID"
for c in $CHILDREN; do kill -TERM "$c" 2>/dev/null || true; done
for _ in $(seq 1 50); do alive "$PID" || break; sleep 0.1; done
alive "$PID" && kill -KILL "$PID"
rm -f "$PIDFILE"
