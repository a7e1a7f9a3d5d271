#!/bin/sh
# tests/unit/tls_certs/gen.sh - regenerate the certificate fixtures of
# tests/unit/test_tls_cert.c with the openssl CLI (3.0 or later).
#
# The files are checked in: the test never runs this.  Names, subjects,
# serials and dates are fixed; keys and ECDSA signatures are fresh on
# every run, so a rerun changes every file and the test must still pass.
#
#   root-ec.pem/.der  test root CA, ECDSA P-256
#   int-ec.pem        intermediate CA (P-256) under root-ec
#   root-rsa.pem      a second root, RSA 2048 (issues rsa4096)
#   p256*             leaf under int-ec: a.test, *.w.test, 192.0.2.7 and a
#                     dNSName "192.0.2.8" (an IP literal must not match it);
#                     CN cn-ignored.test (a SAN is present, so not used)
#                     .key: EC PARAMETERS then EC PRIVATE KEY (SEC1)
#                     .key.der: SEC1 DER; .der: the certificate in DER
#                     -enc.key: the key as encrypted PKCS#8 (refused)
#                     -other.key: a P-256 key that is not its key (refused)
#   p384*             leaf under int-ec, PKCS#8 key: p384.test,
#                     UPPER.p384.test, and the bad wildcards *.test and
#                     f*.p384.test that must match nothing
#   rsa2048*          leaf under int-ec, "RSA PRIVATE KEY": rsa.test
#   rsa4096*          leaf under root-rsa, PKCS#8 key: rsa4096.test
#   cn-only*          leaf under int-ec, no SAN, CN cn.test
#   expired-chain.pem leaf valid 2000-2001 (+ int-ec): expired.test
#   future-chain.pem  leaf valid 2100-2125 (+ int-ec): future.test
#   self*             self-signed leaf (CA:FALSE): self.test
#   rsa1024*          self-signed, RSA 1024 (refused)
#   p521*             self-signed, P-521 (refused)
#   msg.txt, sig-*.bin  openssl's signatures of msg.txt: ECDSA (DER) with
#                     p256/SHA-256 and p384/SHA-384, PKCS#1 v1.5 with
#                     rsa2048/SHA-256
#
# Everything except expired/future is valid from 2020-01-01 (CAs from
# 2000-01-01) until 2125-01-01.
set -eu
umask 022

out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

mkdir "$tmp/new"
: >"$tmp/index.txt"
echo 1000 >"$tmp/serial"

cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = ca_test

[ca_test]
database = $tmp/index.txt
serial = $tmp/serial
new_certs_dir = $tmp/new
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none

[policy_any]
commonName = supplied
organizationName = optional

[req]
distinguished_name = req_dn
prompt = no

[req_dn]
CN = unused
EOF

cat >"$tmp/ext.cnf" <<'EOF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[int]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[p256]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:a.test, DNS:*.w.test, IP:192.0.2.7, DNS:192.0.2.8

[p384]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:p384.test, DNS:UPPER.p384.test, DNS:*.test, DNS:f*.p384.test

[rsa2048]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:rsa.test

[rsa4096]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:rsa4096.test

[cn_only]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth

[expired]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:expired.test

[future]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:future.test

[self]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:self.test

[rsa1024]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
subjectAltName = DNS:rsa1024.test

[p521]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = DNS:p521.test
EOF

CA_START=20000101000000Z
START=20200101000000Z
END=21250101000000Z

eckey() { # curve file: PKCS#8 "PRIVATE KEY"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$1" \
		-pkeyopt ec_param_enc:named_curve -out "$2" 2>/dev/null
}

rsakey() { # bits file: PKCS#8 "PRIVATE KEY"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$1" -out "$2" 2>/dev/null
}

# issue key cn ext start end out issuer_cert issuer_key
#   issuer_cert "self": self-signed with key
issue() {
	openssl req -new -config "$tmp/ca.cnf" -key "$1" -subj "/O=atoll test/CN=$2" \
		-out "$tmp/req.csr"
	if [ "$7" = self ]; then
		issuer="-selfsign -keyfile $1"
	else
		issuer="-cert $7 -keyfile $8"
	fi
	# shellcheck disable=SC2086 # $issuer is several words on purpose
	openssl ca -batch -config "$tmp/ca.cnf" -notext -preserveDN $issuer \
		-in "$tmp/req.csr" -out "$6" -startdate "$4" -enddate "$5" \
		-extfile "$tmp/ext.cnf" -extensions "$3" 2>/dev/null
}

# ---- the CAs (their keys stay in $tmp) ----
eckey P-256 "$tmp/root-ec.key"
issue "$tmp/root-ec.key" "atoll test root EC" root $CA_START $END "$out/root-ec.pem" self
openssl x509 -in "$out/root-ec.pem" -outform DER -out "$out/root-ec.der"

eckey P-256 "$tmp/int-ec.key"
issue "$tmp/int-ec.key" "atoll test intermediate EC" int $CA_START $END "$tmp/int-ec.pem" \
	"$out/root-ec.pem" "$tmp/root-ec.key"
cp "$tmp/int-ec.pem" "$out/int-ec.pem"

rsakey 2048 "$tmp/root-rsa.key"
issue "$tmp/root-rsa.key" "atoll test root RSA" root $CA_START $END "$out/root-rsa.pem" self

INT="$out/int-ec.pem $tmp/int-ec.key"

# ---- P-256 leaf: SEC1 key with its EC PARAMETERS block ----
openssl ecparam -name prime256v1 -genkey -out "$out/p256.key"
# shellcheck disable=SC2086
issue "$out/p256.key" "cn-ignored.test" p256 $START $END "$out/p256.pem" $INT
openssl x509 -in "$out/p256.pem" -outform DER -out "$out/p256.der"
cat "$out/p256.pem" "$out/int-ec.pem" >"$out/p256-chain.pem"
openssl ec -in "$out/p256.key" -outform DER -out "$out/p256.key.der" 2>/dev/null
openssl pkcs8 -topk8 -in "$out/p256.key" -v2 aes-256-cbc -passout pass:atoll \
	-out "$out/p256-enc.key"
openssl ecparam -name prime256v1 -genkey -noout -out "$out/p256-other.key"

# ---- P-384 leaf, PKCS#8 key ----
eckey P-384 "$out/p384.key"
# shellcheck disable=SC2086
issue "$out/p384.key" "p384.test" p384 $START $END "$tmp/p384.pem" $INT
cat "$tmp/p384.pem" "$out/int-ec.pem" >"$out/p384-chain.pem"

# ---- RSA 2048 leaf, traditional "RSA PRIVATE KEY" ----
rsakey 2048 "$tmp/rsa2048.p8"
openssl rsa -in "$tmp/rsa2048.p8" -traditional -out "$out/rsa2048.key" 2>/dev/null
# shellcheck disable=SC2086
issue "$out/rsa2048.key" "rsa.test" rsa2048 $START $END "$tmp/rsa2048.pem" $INT
cat "$tmp/rsa2048.pem" "$out/int-ec.pem" >"$out/rsa2048-chain.pem"

# ---- RSA 4096 leaf under the RSA root, PKCS#8 key ----
rsakey 4096 "$out/rsa4096.key"
issue "$out/rsa4096.key" "rsa4096.test" rsa4096 $START $END "$out/rsa4096.pem" \
	"$out/root-rsa.pem" "$tmp/root-rsa.key"

# ---- CN only ----
eckey P-256 "$out/cn-only.key"
# shellcheck disable=SC2086
issue "$out/cn-only.key" "cn.test" cn_only $START $END "$tmp/cn-only.pem" $INT
cat "$tmp/cn-only.pem" "$out/int-ec.pem" >"$out/cn-only-chain.pem"

# ---- expired and not yet valid ----
eckey P-256 "$tmp/expired.key"
# shellcheck disable=SC2086
issue "$tmp/expired.key" "expired.test" expired 20000101000000Z 20010101000000Z \
	"$tmp/expired.pem" $INT
cat "$tmp/expired.pem" "$out/int-ec.pem" >"$out/expired-chain.pem"

eckey P-256 "$tmp/future.key"
# shellcheck disable=SC2086
issue "$tmp/future.key" "future.test" future 21000101000000Z $END "$tmp/future.pem" $INT
cat "$tmp/future.pem" "$out/int-ec.pem" >"$out/future-chain.pem"

# ---- self-signed leaf ----
eckey P-256 "$out/self.key"
issue "$out/self.key" "self.test" self $START $END "$out/self.pem" self

# ---- refused keys ----
rsakey 1024 "$out/rsa1024.key"
issue "$out/rsa1024.key" "rsa1024.test" rsa1024 $START $END "$out/rsa1024.pem" self
eckey P-521 "$out/p521.key"
issue "$out/p521.key" "p521.test" p521 $START $END "$out/p521.pem" self

# ---- signatures made by openssl, for verification ----
printf 'atoll signs this\n' >"$out/msg.txt"
openssl dgst -sha256 -sign "$out/p256.key" -out "$out/sig-p256.bin" "$out/msg.txt"
openssl dgst -sha384 -sign "$out/p384.key" -out "$out/sig-p384.bin" "$out/msg.txt"
openssl dgst -sha256 -sign "$out/rsa2048.key" -out "$out/sig-rsa2048.bin" "$out/msg.txt"

# Check the chains as openssl sees them.
openssl verify -CAfile "$out/root-ec.pem" -untrusted "$out/int-ec.pem" \
	"$out/p256.pem" "$tmp/p384.pem" "$tmp/rsa2048.pem" "$tmp/cn-only.pem" >/dev/null
openssl verify -CAfile "$out/root-rsa.pem" "$out/rsa4096.pem" >/dev/null

chmod 644 "$out"/*.key "$out"/*.pem "$out"/*.der "$out"/*.bin "$out"/msg.txt
