# Sourced by ci/start-rsyslog-tls.sh and ci/start-rsyslog-arr.sh: check the configuration in
# $RSYSLOG_DIR/rsyslog.conf, start rsyslogd in the background and wait (10 s at most) until it listens.
#
#   run_rsyslogd PROTO PORT READY_MESSAGE     # PROTO: UDP or TCP; exits the calling script: 0 when ready
run_rsyslogd() {
  local proto=$1 port=$2 ready=$3 flag
  case $proto in UDP) flag=-lun ;; *) flag=-ltn ;; esac
  if ! "$RSYSLOGD" -N1 -f "$RSYSLOG_DIR/rsyslog.conf" > "$RSYSLOG_DIR/configcheck.log" 2>&1; then
    cat "$RSYSLOG_DIR/configcheck.log" >&2
    exit 1
  fi
  setsid "$RSYSLOGD" -n -f "$RSYSLOG_DIR/rsyslog.conf" -i "$RSYSLOG_DIR/rsyslogd.pid" \
    > "$RSYSLOG_DIR/stdout.log" 2>&1 < /dev/null &
  PID=$!
  echo "$PID" > "$RSYSLOG_DIR/rsyslogd-main.pid"
  for _ in $(seq 1 100); do
    if ! kill -0 "$PID" 2>/dev/null || [ "$(ps -o stat= -p "$PID" 2>/dev/null | cut -c1)" = Z ]; then
      echo "rsyslogd died during startup; log:" >&2
      tail -20 "$RSYSLOG_DIR/stdout.log" "$RSYSLOG_DIR/internal.log" >&2 2>/dev/null || true
      rm -f "$RSYSLOG_DIR/rsyslogd-main.pid"
      exit 1
    fi
    if ss "$flag" 2>/dev/null | awk '{print $4}' | grep -qE "^127\.0\.0\.1:$port\$"; then
      echo "${ready/\$PID/$PID}"
      exit 0
    fi
    sleep 0.1
  done
  echo "rsyslogd not listening on $proto $port after 10 s; stopping it" >&2
  kill "$PID" 2>/dev/null || true
  rm -f "$RSYSLOG_DIR/rsyslogd-main.pid"
  exit 1
}
