#!/bin/bash
# ctest wrapper: make a test CA and host certificates (RSA, and ECDSA on
# P-384) with openssl, then boot the VM and run guest/strongswan_kernel.sh
# (qvpn against strongSwan, both on the kernel's XFRM; see run-vm.sh).
# The keys live only in this run's work directory.
here=$(cd "$(dirname "$0")" && pwd)
skip() {
	echo "SKIP: $*" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
command -v openssl >/dev/null || skip "missing openssl"
export QV_VM_WORK=${QV_VM_WORK:-$(mktemp -d /tmp/qvpn-vm-strongswan_kernel.XXXXXX)}
certs=$QV_VM_WORK/certs
mkdir -p "$certs"
cd "$certs" || exit 1

# ca NAME KEYOPTS...: a self-signed CA
ca() {
	local n=$1
	shift
	openssl req -x509 -new -nodes "$@" -keyout "ca-$n.key" -out "ca-$n.pem" -days 2 \
		-subj "/O=qvpn test/CN=qvpn test CA $n" \
		-addext 'basicConstraints=critical,CA:TRUE' \
		-addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
}
# host WHO ADDR CA KEYOPTS...: a host certificate for ADDR, signed by CA
host() {
	local who=$1 addr=$2 c=$3
	shift 3
	openssl req -new -nodes "$@" -keyout "$who-$c.key" -out "$who-$c.csr" \
		-subj "/O=qvpn test/CN=$addr" 2>/dev/null &&
		printf 'subjectAltName=IP:%s\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' \
			"$addr" >"$who-$c.ext" &&
		openssl x509 -req -in "$who-$c.csr" -CA "ca-$c.pem" -CAkey "ca-$c.key" -CAcreateserial \
			-days 2 -extfile "$who-$c.ext" -out "$who-$c.pem" "${SIGN[@]}" 2>/dev/null
}
RSA=(-newkey rsa:2048)
EC=(-newkey ec -pkeyopt ec_paramgen_curve:P-384)
ca rsa "${RSA[@]}" -sha256 || { echo "FAIL: openssl (RSA CA)" >&2; exit 1; }
ca ec "${EC[@]}" -sha384 || { echo "FAIL: openssl (ECDSA CA)" >&2; exit 1; }
SIGN=(-sha256)
host q 192.0.2.11 rsa "${RSA[@]}" && host s 192.0.2.12 rsa "${RSA[@]}" ||
	{ echo "FAIL: openssl (RSA host certificates)" >&2; exit 1; }
SIGN=(-sha384)
host q 192.0.2.21 ec "${EC[@]}" && host s 192.0.2.22 ec "${EC[@]}" ||
	{ echo "FAIL: openssl (ECDSA host certificates)" >&2; exit 1; }
rm -f ./*.csr ./*.ext ./*.srl ca-*.key
cd / || exit 1
exec bash "$here/run-vm.sh" --name strongswan_kernel --timeout 420 \
	"$here/guest/strongswan_kernel.sh" "$certs"
