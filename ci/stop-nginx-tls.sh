#!/usr/bin/env bash
# Stop the nginx started by ci/start-nginx-tls.sh, by the PID in its PID file (never by process name): QUIT
# (graceful), wait up to 10 s, then TERM, then KILL. Exit 0 also when nothing was running.
#   NGINX_DIR [/tmp/ihe-harness-nginx]
set -uo pipefail
NGINX_DIR=${NGINX_DIR:-/tmp/ihe-harness-nginx}
PIDFILE="$NGINX_DIR/nginx-master.pid"
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$s" ] && [ "${s:0:1}" != Z ]; }
ours() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF "$NGINX_DIR/nginx.conf"; }

[ -f "$PIDFILE" ] || { echo "nginx-tls: no pid file $PIDFILE, nothing to stop"; exit 0; }
PID=$(cat "$PIDFILE")
if [[ "$PID" =~ ^[0-9]+$ ]] && alive "$PID"; then
  if ! ours "$PID"; then
    echo "nginx-tls: pid $PID is not the nginx of $NGINX_DIR; not killing it" >&2
    rm -f "$PIDFILE"
    exit 0
  fi
  kill -QUIT "$PID"
  for _ in $(seq 1 100); do alive "$PID" || break; sleep 0.1; done
  if alive "$PID"; then kill -TERM "$PID"; sleep 1; fi
  if alive "$PID"; then kill -KILL "$PID"; echo "nginx-tls $PID did not stop; killed"; fi
fi
rm -f "$PIDFILE"
echo "nginx-tls $PID stopped"
