#!/usr/bin/env bash
# A small test PKI with the openssl command line: a CA (with the database `openssl ca`
# keeps, so certificates can be revoked and a CRL issued), the server's certificate and
# client certificates. The integration tests build theirs with it, and the README's
# production walk-through runs the same commands.
#
#   scripts/pki.sh ca      DIR [NAME]                 CA key + certificate: DIR/NAME.{key,pem}
#   scripts/pki.sh server  DIR HOST...                DIR/server.{key,pem}, SANs HOST...
#   scripts/pki.sh client  DIR NAME [BITS] [START END] client cert DIR/NAME.{key,pem}
#                                                     (START/END: YYYYMMDDHHMMSSZ)
#   scripts/pki.sh revoke  DIR NAME                   revoke DIR/NAME.pem
#   scripts/pki.sh crl     DIR [NAME] [HOURS]         DIR/NAME.crl (PEM), valid HOURS (24);
#                                                     HOURS may be NNs for seconds
#
# NAME defaults to "ca". Keys are RSA; BITS defaults to 2048. Signatures are SHA-256.
set -euo pipefail

cmd=${1:?usage: pki.sh ca|server|client|revoke|crl DIR ...}
dir=${2:?the PKI directory}
mkdir -p "$dir"
cd "$dir"

config() { # the CA configuration of `openssl ca`, for CA $1
    local ca=$1
    mkdir -p "$ca.db/certs"
    [ -f "$ca.db/index.txt" ] || : > "$ca.db/index.txt"
    [ -f "$ca.db/serial" ] || openssl rand -hex 8 > "$ca.db/serial"
    [ -f "$ca.db/crlnumber" ] || echo 01 > "$ca.db/crlnumber"
    cat > "$ca.db/ca.cnf" <<EOF
[ ca ]
default_ca = this
[ this ]
dir = $PWD/$ca.db
database = \$dir/index.txt
new_certs_dir = \$dir/certs
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $PWD/$ca.pem
private_key = $PWD/$ca.key
default_md = sha256
default_days = 365
default_crl_hours = 24
policy = anything
unique_subject = no
copy_extensions = copy
[ anything ]
commonName = supplied
organizationName = optional
countryName = optional
[ client ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[ server ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
EOF
}

issue() { # issue NAME SUBJECT EXTENSIONS BITS [START END] [CA]
    local name=$1 subject=$2 ext=$3 bits=$4 start=${5:-} end=${6:-} ca=${7:-ca}
    config "$ca"
    openssl genrsa -out "$name.key" "$bits" 2>/dev/null
    openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" ${SAN:+-addext "subjectAltName=$SAN"}
    local dates=()
    if [ -n "$start" ]; then dates=(-startdate "$start" -enddate "$end"); fi
    openssl ca -batch -config "$ca.db/ca.cnf" -extensions "$ext" -in "$name.csr" \
        -out "$name.pem" -notext -rand_serial "${dates[@]}" 2>/dev/null
    rm -f "$name.csr"
}

case $cmd in
ca)
    name=${3:-ca}
    openssl req -x509 -newkey rsa:3072 -sha256 -days 3650 -nodes \
        -keyout "$name.key" -out "$name.pem" -subj "/C=LT/O=Nomen test/CN=$name" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    config "$name"
    ;;
server)
    shift 2
    san=""
    for host in "${@:-localhost}"; do
        if [[ $host =~ ^[0-9.]+$ ]]; then san+="IP:$host,"; else san+="DNS:$host,"; fi
    done
    SAN=${san%,} issue server "/O=Nomen test/CN=${1:-localhost}" server 2048
    ;;
client)
    name=${3:?client name}
    issue "$name" "/O=Nomen test/CN=$name" client "${4:-2048}" "${5:-}" "${6:-}" "${CA:-ca}"
    ;;
revoke)
    name=${3:?client name}
    config "${CA:-ca}"
    openssl ca -batch -config "${CA:-ca}.db/ca.cnf" -revoke "$name.pem" 2>/dev/null
    ;;
crl)
    name=${3:-ca}
    config "$name"
    validity=${4:-24}
    if [[ $validity == *s ]]; then period=(-crlsec "${validity%s}"); else period=(-crlhours "$validity"); fi
    openssl ca -batch -config "$name.db/ca.cnf" -gencrl "${period[@]}" -out "$name.crl" 2>/dev/null
    ;;
*)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
