#!/usr/bin/env bash
# The cost of a TLS handshake, measured in the same run: connections per second to the harness's
# reference (`ihe-harness serve`) over plain HTTP and over HTTPS with mutual TLS (TLS 1.3, the test
# PKI of ci/make-test-pki.sh), each connection new and carrying one small GET (a 404), alternating
# blocks of plain and TLS connections so that drift of the machine moves both alike; the median of
# the blocks is reported. The client is Python's ssl module (OpenSSL).
#   HARNESS [target/release/ihe-harness, else target/debug/ihe-harness]  N [200 per block]  BLOCKS [5]
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS=${HARNESS:-}
if [ -z "$HARNESS" ]; then
  if [ -x target/release/ihe-harness ]; then HARNESS=target/release/ihe-harness; else HARNESS=target/debug/ihe-harness; fi
fi
PKI=${PKI_DIR:-/tmp/ihe-harness-pki}
bash ci/make-test-pki.sh "$PKI" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
P1=$(free_port); P2=$(free_port)
"$HARNESS" serve --bind "127.0.0.1:$P1" >/dev/null 2>&1 & A=$!
"$HARNESS" serve --bind "127.0.0.1:$P2" --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" \
  --tls-client-ca "$PKI/ca.pem" >/dev/null 2>&1 & B=$!
trap 'kill $A $B 2>/dev/null || true' EXIT
python3 - "$P1" "$P2" "$PKI" "${N:-200}" "${BLOCKS:-5}" <<'PY'
import socket, ssl, statistics, sys, time
p1, p2, pki, n, blocks = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
for port in (p1, p2):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
        except OSError:
            time.sleep(0.1)
ctx = ssl.create_default_context(cafile=f"{pki}/ca.pem")
ctx.load_cert_chain(f"{pki}/client.pem", f"{pki}/client.key")
req = b"GET /nowhere HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
def one(port, tls):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(req)
    while s.recv(65536):
        pass
    s.close()
def rate(port, tls):
    t0 = time.perf_counter()
    for _ in range(n):
        one(port, tls)
    return n / (time.perf_counter() - t0)
plain, tls = [], []
for _ in range(blocks):
    plain.append(rate(p1, False)); tls.append(rate(p2, True))
mp, mt = statistics.median(plain), statistics.median(tls)
print(f"connections/s, one GET each, median of {blocks} alternating blocks of {n}:")
print(f"  plain HTTP : {mp:8.0f}")
print(f"  mutual TLS : {mt:8.0f}  (TLS 1.3, ECDSA P-256 server, RSA client certificate)")
print(f"  TLS costs {1000/mt - 1000/mp:.2f} ms per connection ({mp/mt:.2f}x)")
PY
