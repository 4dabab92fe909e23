#!/bin/sh
# The cluster CA and one certificate per role for mutual TLS between the
# services; the same material scripts/cluster makes. Run once, into $1.
set -eu
out=${1:-/certs}
[ -f "$out/ca.pem" ] && exit 0
mkdir -p "$out" && cd "$out"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.pem -days 3650 -subj "/O=GophKeeper/CN=GophKeeper cluster CA"
for role in gateway auth query producer consumer probe; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$role.key" -out "$role.csr" -subj "/O=GophKeeper/CN=$role"
    # The role the certificate names; each internal service answers only
    # its callers' roles (the probe's names none: health answers anyone).
    case $role in
        producer) uri=",URI:urn:gophkeeper:role:command-producer" ;;
        consumer) uri=",URI:urn:gophkeeper:role:command-consumer" ;;
        probe) uri="" ;;
        *) uri=",URI:urn:gophkeeper:role:$role" ;;
    esac
    printf '%s\n' "subjectAltName=DNS:localhost,DNS:$role,DNS:command-producer,DNS:command-consumer,IP:127.0.0.1$uri" \
        "extendedKeyUsage=serverAuth,clientAuth" "keyUsage=digitalSignature" > "$role.ext"
    openssl x509 -req -in "$role.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -days 3650 -extfile "$role.ext" -out "$role.pem"
    rm -f "$role.csr" "$role.ext"
done
rm -f ca.key ca.srl
# The server runs as uid 10001 (see Dockerfile).
chown 10001 ./*.key ./*.pem
