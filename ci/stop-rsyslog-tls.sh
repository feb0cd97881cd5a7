#!/usr/bin/env bash
# Stop the rsyslogd started by ci/start-rsyslog-tls.sh, by the PID in its PID file (never by process name).
# TERM, wait up to 10 s, then KILL. Exit 0 also when nothing was running.
#   RSYSLOG_DIR [/tmp/ihe-harness-rsyslog]
set -uo pipefail
RSYSLOG_DIR=${RSYSLOG_DIR:-/tmp/ihe-harness-rsyslog}
PIDFILE="$RSYSLOG_DIR/rsyslogd-main.pid"
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$s" ] && [ "${s:0:1}" != Z ]; }
ours() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF "$RSYSLOG_DIR/rsyslog.conf"; }

[ -f "$PIDFILE" ] || { echo "rsyslog-tls: no pid file $PIDFILE, nothing to stop"; exit 0; }
PID=$(cat "$PIDFILE")
if [[ "$PID" =~ ^[0-9]+$ ]] && alive "$PID"; then
  if ! ours "$PID"; then
    echo "rsyslog-tls: pid $PID is not the rsyslogd of $RSYSLOG_DIR; not killing it" >&2
    rm -f "$PIDFILE"
    exit 0
  fi
  kill -TERM "$PID"
  for _ in $(seq 1 100); do alive "$PID" || break; sleep 0.1; done
  if alive "$PID"; then kill -KILL "$PID"; echo "rsyslog-tls $PID did not stop within 10 s; killed"; fi
fi
rm -f "$PIDFILE"
echo "rsyslog-tls $PID stopped"
