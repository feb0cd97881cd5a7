#!/usr/bin/env bash
# Make a throw-away test PKI for trying TLS and mutual TLS with the harness (README "TLS in one screen") and for
# the TLS peers of the CI (ci/start-nginx-tls.sh, ci/start-orthanc-tls.sh, ci/start-rsyslog-tls.sh).
#
#   ci/make-test-pki.sh [DIR]        # DIR [/tmp/ihe-harness-pki]; PKI_FORCE=1 makes everything anew
#
# Idempotent: when DIR already holds every file and the good certificates still verify against the CA, nothing is
# made again (the file names and the CA stay the same, so running servers keep working); otherwise the whole set
# is made anew. All files are PEM; keys are RSA 2048 (DICOM TLS peers built on DCMTK offer RSA suites only in
# their BCP 195 profile, PS3.15 B.9) and unencrypted, readable by the owner only.
#
#   ca.pem                 test CA ("ihe-harness test CA"): the CA every peer and the harness trust
#   server.pem server.key  server certificate, signed by the CA, for localhost, 127.0.0.1 and ::1 (SAN); its
#                          extended key usage allows client authentication too, as a node certificate: a DICOM
#                          TLS peer such as Orthanc presents the same certificate when it calls out (C-STORE)
#   client.pem client.key  client certificate (CN ihe-harness-client), signed by the CA
#   untrusted-ca.pem       a second CA that no peer trusts
#   untrusted-client.pem untrusted-client.key   client certificate from that CA
#   untrusted-server.pem untrusted-server.key   server certificate for localhost from that CA
#   expired-client.pem expired-client.key       client certificate of the CA, valid 2020-01-01 .. 2021-01-01
#   expired-server.pem expired-server.key       server certificate for localhost of the CA, same dates
#   wrong-name-server.pem wrong-name-server.key server certificate of the CA for wrong-name.invalid only
#   not-yet-valid-server.pem not-yet-valid-server.key   server certificate of the CA valid from 2099 on
#   *-chain.pem            leaf + CA, for peers that want the chain in one file
# The CA keys (ca.key, untrusted-ca.key) and the openssl ca database live in DIR/ca/.
set -euo pipefail
DIR=${1:-${PKI_DIR:-/tmp/ihe-harness-pki}}
DAYS=${PKI_DAYS:-825}
command -v openssl >/dev/null || { echo "openssl missing (apt-get install openssl)" >&2; exit 1; }

GOOD=(ca.pem server.pem server.key client.pem client.key)
ALL=("${GOOD[@]}" untrusted-ca.pem untrusted-client.pem untrusted-client.key untrusted-server.pem
     untrusted-server.key expired-client.pem expired-client.key expired-server.pem expired-server.key
     wrong-name-server.pem wrong-name-server.key not-yet-valid-server.pem not-yet-valid-server.key
     server-chain.pem client-chain.pem)

list() {
  echo "test PKI in $DIR:"
  for f in "${ALL[@]}"; do
    case $f in
      *.key|*-chain.pem) continue ;;
    esac
    printf '  %-26s %s; %s .. %s\n' "$f" \
      "$(openssl x509 -in "$DIR/$f" -noout -subject -nameopt oneline 2>/dev/null | sed 's/^subject= *//')" \
      "$(openssl x509 -in "$DIR/$f" -noout -startdate | cut -d= -f2)" \
      "$(openssl x509 -in "$DIR/$f" -noout -enddate | cut -d= -f2)"
  done
  echo "  (each leaf .pem has its .key beside it; server-chain.pem/client-chain.pem = leaf + CA)"
}

complete() {
  for f in "${ALL[@]}"; do [ -s "$DIR/$f" ] || return 1; done
  openssl verify -CAfile "$DIR/ca.pem" "$DIR/server.pem" "$DIR/client.pem" "$DIR/wrong-name-server.pem" \
    >/dev/null 2>&1
}

if [ "${PKI_FORCE:-0}" != 1 ] && complete; then
  echo "test PKI already complete, nothing made"
  list
  exit 0
fi

rm -rf "$DIR"
mkdir -p "$DIR/ca"
chmod 700 "$DIR/ca"
umask 077

# One `openssl ca` database per CA: it is the only way openssl 3.0 signs with a chosen start date (-startdate),
# which the expired and not-yet-valid certificates need (x509 -not_before came only with openssl 3.4).
init_ca() { # name subject -> DIR/ca/NAME/{key,cert,db}
  local d="$DIR/ca/$1"
  mkdir -p "$d/new"
  : > "$d/index.txt"
  echo 1000 > "$d/serial"
  cat > "$d/openssl.cnf" <<CNF
[ca]
default_ca = this
[this]
dir = $d
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/new
certificate = \$dir/cert.pem
private_key = \$dir/key.pem
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no
[anything]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \${ENV::PKI_SAN}
[client]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
  openssl req -new -newkey rsa:2048 -nodes -keyout "$d/key.pem" -subj "$2" -out "$d/ca.csr" 2>/dev/null
  PKI_SAN=none openssl ca -batch -config "$d/openssl.cnf" -selfsign -keyfile "$d/key.pem" -in "$d/ca.csr" \
    -extensions v3_ca -days 3650 -notext -out "$d/cert.pem" 2>"$d/last.log" \
    || { cat "$d/last.log" >&2; exit 1; }
}

# issue CA NAME PROFILE CN SAN [openssl ca date options...] -> DIR/NAME.pem, DIR/NAME.key
issue() {
  local ca=$1 name=$2 profile=$3 cn=$4 san=$5; shift 5
  local d="$DIR/ca/$ca"
  local dates=("$@")
  [ ${#dates[@]} -gt 0 ] || dates=(-days "$DAYS")
  openssl req -new -newkey rsa:2048 -nodes -keyout "$DIR/$name.key" -subj "/O=ihe-harness test/CN=$cn" \
    -out "$d/$name.csr" 2>/dev/null
  PKI_SAN=$san openssl ca -batch -config "$d/openssl.cnf" -in "$d/$name.csr" -extensions "$profile" \
    -notext -out "$DIR/$name.pem" "${dates[@]}" 2>"$d/last.log" || { cat "$d/last.log" >&2; exit 1; }
}

LOCAL_SAN="DNS:localhost,IP:127.0.0.1,IP:::1"
init_ca test "/O=ihe-harness test/CN=ihe-harness test CA"
init_ca untrusted "/O=ihe-harness test/CN=ihe-harness untrusted CA"
cp "$DIR/ca/test/cert.pem" "$DIR/ca.pem"
cp "$DIR/ca/untrusted/cert.pem" "$DIR/untrusted-ca.pem"

issue test server server localhost "$LOCAL_SAN"
issue test client client ihe-harness-client none
issue test wrong-name-server server wrong-name.invalid "DNS:wrong-name.invalid"
issue test expired-server server localhost "$LOCAL_SAN" -startdate 20200101000000Z -enddate 20210101000000Z
issue test expired-client client ihe-harness-expired-client none -startdate 20200101000000Z -enddate 20210101000000Z
issue test not-yet-valid-server server localhost "$LOCAL_SAN" -startdate 20990101000000Z -enddate 21000101000000Z
issue untrusted untrusted-client client ihe-harness-untrusted-client none
issue untrusted untrusted-server server localhost "$LOCAL_SAN"
cat "$DIR/server.pem" "$DIR/ca.pem" > "$DIR/server-chain.pem"
cat "$DIR/client.pem" "$DIR/ca.pem" > "$DIR/client-chain.pem"
# Certificates and CA files are public; keys stay private (0600).
chmod 644 "$DIR"/*.pem
chmod 755 "$DIR"

complete || { echo "the new PKI in $DIR does not verify" >&2; exit 1; }
echo "test PKI made"
list
