#!/usr/bin/env bash
# openssl s_server / s_client as TLS peers with a chosen (mis)configuration, on the test PKI of
# ci/make-test-pki.sh: the real peers of the certificate negatives (ITI TF-2 §3.19 Authenticate Node, BCP 195).
# The server runs in the foreground until killed (start it in the background and stop it by its PID).
#
#   ci/openssl-peer.sh server MODE PORT     # HTTPS on 127.0.0.1:PORT (-www: any GET gets 200 and a status page);
#                                           # PEER_RAW=1: print what arrives instead (e.g. a syslog receiver)
#     strict               TLS 1.2+, BCP 195 suites, a client certificate of the test CA required (handshake refused
#                          otherwise), presents server.pem
#     lax                  any client certificate or none, TLS 1.0 and up, any suite (@SECLEVEL=0): a misconfigured
#                          server that a conformant client's negative probes must find proceeding
#     null-suites          TLS 1.2 with the NULL-encryption suites only (RFC 9325 §4.1 forbids them): the misconfigured
#                          server a conformant client's weak-suite probe must find proceeding
#     tls12-only | tls13-only
#                          strict, but TLS 1.2 only (RFC 9325 §3.1.1: SHOULD support 1.3) or TLS 1.3 only (MUST
#                          support 1.2): the server a conformant client's positive probe of the other version fails
#     untrusted-server | expired-server | not-yet-valid-server | wrong-name-server
#                          presents that certificate, otherwise lax: a conformant client must abort
#   ci/openssl-peer.sh client MODE HOST:PORT    # connects, sends one HTTP GET (or stdin, with PEER_RAW=1), prints
#                                               # the answer; exit 0 when the request was sent
#     strict               verifies the server (test CA, host name localhost, -verify_return_error), presents
#                          client.pem
#     lax                  does not verify the server (continues whatever it presents): a misconfigured client
#     no-cert | untrusted-client | expired-client
#                          verifies the server like strict, but presents no / that client certificate
# Env: PKI_DIR [/tmp/ihe-harness-pki]
#
# Measured on Debian 12 (OpenSSL 3.0.19, curl 7.88, 2026-12-07), server modes against curl --cacert ca.pem:
#   strict: client.pem -> 200; untrusted-client.pem -> alert 48 "unknown ca"; expired-client.pem -> alert 45
#     "certificate expired"; no certificate -> TLS 1.3 alert 116 "certificate required" (TLS 1.2: alert 40
#     "handshake failure"); with TLS 1.3 curl sees the refusal on its first read (exit 56), not in the handshake
#     (exit 35), because the client's handshake is over before the server judges its certificate.
#   plain `openssl s_server -Verify 1` (without -verify_return_error) logs a bad client certificate and goes on:
#     curl with untrusted-client.pem or expired-client.pem gets 200. Its stdin must stay open: at EOF on stdin
#     it stops serving the connection (this script gives it a FIFO that never ends).
#   lax: untrusted-client.pem or no certificate -> 200; TLS 1.0 and TLS 1.1 (curl --ciphers DEFAULT:@SECLEVEL=0)
#     -> 200; TLS 1.2 with AES128-SHA (no forward secrecy) -> 200.
#   untrusted-server / expired-server / not-yet-valid-server / wrong-name-server -> curl exit 60 "unable to get
#     local issuer certificate" / "certificate has expired" / "certificate is not yet valid" / "no alternative
#     certificate subject name matches target host name 'localhost'".
#   client modes against `server strict`: strict and lax -> "HTTP/1.0 200 ok"; no-cert -> alert 116, untrusted-client
#     -> alert 48, expired-client -> alert 45 (exit 1). strict against wrong-name / untrusted / expired server ->
#     "hostname mismatch" / "unable to get local issuer certificate" / "certificate has expired", exit 1 before
#     sending; lax against each of them -> the request is sent (exit 0).
#   PEER_RAW=1 server strict 16514 as the receiver of ci/start-rsyslog-tls.sh 16514 prints the relayed frame
#     "97 <13>1 2026-12-07T01:02:07.649048+00:00 vm ihe - - [timeQuality tzKnown="1" isSynced="0"] raw peer".
set -euo pipefail
ROLE=${1:?usage: openssl-peer.sh server MODE PORT | client MODE HOST:PORT}
MODE=${2:?mode missing}
WHERE=${3:?port (server) or host:port (client) missing}
PKI_DIR=${PKI_DIR:-/tmp/ihe-harness-pki}
P=$PKI_DIR
[ -s "$P/ca.pem" ] || bash "$(dirname "$0")/make-test-pki.sh" "$P" >/dev/null
BCP195="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"

# A stdin that never reaches EOF and needs no extra process: a FIFO opened read-write by this process.
endless_stdin() {
  local fifo
  fifo=$(mktemp -u /tmp/openssl-peer.XXXXXX)
  mkfifo "$fifo"
  exec 3<>"$fifo"
  rm -f "$fifo"
}

case $ROLE in
server)
  [[ "$WHERE" =~ ^[0-9]+$ ]] || { echo "server: PORT must be a number: $WHERE" >&2; exit 1; }
  STRICT=(-Verify 1 -verify_return_error -CAfile "$P/ca.pem" -no_tls1 -no_tls1_1 -cipher "$BCP195")
  LAX=(-verify 1 -CAfile "$P/ca.pem" -min_protocol TLSv1 -cipher 'ALL:@SECLEVEL=0')
  case $MODE in
    strict) CERT=server; POLICY=("${STRICT[@]}") ;;
    lax) CERT=server; POLICY=("${LAX[@]}") ;;
    null-suites) CERT=server; POLICY=(-verify 1 -CAfile "$P/ca.pem" -tls1_2 -cipher 'eNULL:@SECLEVEL=0') ;;
    tls12-only) CERT=server; POLICY=("${STRICT[@]}" -no_tls1_3) ;;
    tls13-only) CERT=server; POLICY=(-Verify 1 -verify_return_error -CAfile "$P/ca.pem" -tls1_3) ;;
    untrusted-server|expired-server|not-yet-valid-server|wrong-name-server) CERT=$MODE; POLICY=("${LAX[@]}") ;;
    *) echo "server: unknown mode $MODE" >&2; exit 1 ;;
  esac
  OUT=(-www)
  [ "${PEER_RAW:-0}" = 1 ] && OUT=(-quiet)
  endless_stdin
  exec openssl s_server -accept "127.0.0.1:$WHERE" -cert "$P/$CERT.pem" -key "$P/$CERT.key" "${POLICY[@]}" \
    "${OUT[@]}" <&3
  ;;
client)
  VERIFY=(-CAfile "$P/ca.pem" -verify_return_error -verify_hostname localhost)
  case $MODE in
    strict) ID=(-cert "$P/client.pem" -key "$P/client.key"); CHECK=("${VERIFY[@]}") ;;
    lax) ID=(-cert "$P/client.pem" -key "$P/client.key"); CHECK=() ;;
    no-cert) ID=(); CHECK=("${VERIFY[@]}") ;;
    untrusted-client|expired-client) ID=(-cert "$P/$MODE.pem" -key "$P/$MODE.key"); CHECK=("${VERIFY[@]}") ;;
    *) echo "client: unknown mode $MODE" >&2; exit 1 ;;
  esac
  if [ "${PEER_RAW:-0}" = 1 ]; then
    exec openssl s_client -connect "$WHERE" -servername localhost "${ID[@]}" "${CHECK[@]}" -quiet
  fi
  printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' \
    | exec openssl s_client -connect "$WHERE" -servername localhost "${ID[@]}" "${CHECK[@]}" -quiet -ign_eof
  ;;
*) echo "usage: openssl-peer.sh server MODE PORT | client MODE HOST:PORT" >&2; exit 1 ;;
esac
