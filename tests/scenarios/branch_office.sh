#!/bin/bash
# The seed's branch office scenario (HR gateway System A to Finance gateway
# System C), configured on two qvpn systems side by side. Each system is its
# own state root (QVPN_ROOT) under one temporary directory.
#
#    10.6.0.0/16 --- [System A] 192.0.2.227 ==== 198.51.100.250 [System C] --- 10.196.8.0/24
#                     TRLINE                                     TRLINE
#
# Steps are functions so later steps (starting the tunnel in network
# namespaces and pinging across it) can be added after `display_system`.
# Exit 0: pass; 77: skipped (not root; a failure under CI=true).
set -u

BIN=${QVPN_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}/bin
PSK=topsecretstuff
A_PUBLIC=192.0.2.227
C_PUBLIC=198.51.100.250
A_SUBNET=(10.6.0.0 255.255.0.0)
C_SUBNET=(10.196.8.0 255.255.255.0)
# The Linux interfaces behind each system's TRLINE line description.
A_IF=${QVPN_A_IF:-qv-fd-a0}
C_IF=${QVPN_C_IF:-qv-fd-c0}

failures=0
step() { printf '\n=== %s\n' "$*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Run a CL command as system $1 (A or C): sys A CRTVPNCNN ...
sys() {
	local s=$1
	shift
	local root
	root=$([ "$s" = A ] && echo "$SYS_A" || echo "$SYS_C")
	echo "[System $s] $*"
	QVPN_ROOT=$root "$BIN/$1" "${@:2}"
}

setup() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: the configuration commands need *IOSYSCFG (root or group qvpnadm)"
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
	[ -x "$BIN/CRTVPNCNN" ] || { echo "FAIL: $BIN/CRTVPNCNN not built"; exit 1; }
	WORK=$(mktemp -d /tmp/qv-fd-branch.XXXXXX)
	trap 'rm -rf "$WORK"' EXIT
	SYS_A=$WORK/systemA
	SYS_C=$WORK/systemC
}

# One side of the connection: $1 system, $2 local public address, $3 remote
# public address, $4/$5 local subnet, $6/$7 remote subnet, $8 interface.
configure_system() {
	local s=$1 lcl=$2 rmt=$3
	step "Configure System $s"
	sys "$s" CRTLINETH "LIND(TRLINE)" "RSRCNAME($8)" "TEXT('Internet')" || fail "CRTLINETH on $s"
	sys "$s" CRTVPNCNN "NAME(HRgw2FINgw)" "SCENARIO(*GW2GW)" \
		"KEYPCY(*BALANCED)" "PSK('$PSK')" \
		"LCLKEYSVR(*IPV4 $lcl)" "RMTKEYSVR(*IPV4 $rmt)" \
		"LCLDTAEP(*IPV4SUBNET $4 $5)" "RMTDTAEP(*IPV4SUBNET $6 $7)" \
		"DTAPCY(*BALANCED)" "LIND(TRLINE)" "OTHERTRAFFIC(*PERMIT)" \
		"TEXT('Branch office HR to Finance')" || fail "CRTVPNCNN on $s"
}

display_system() {
	local s=$1
	step "Display System $s"
	sys "$s" WRKVPNCNN || fail "WRKVPNCNN on $s"
	sys "$s" DSPVPNCNN "CNN(HRgw2FINgw:L1)" || fail "DSPVPNCNN on $s"
	sys "$s" DSPVPNDKG "DKG(HRgw2FINgw)" || fail "DSPVPNDKG on $s"
	sys "$s" DSPVPNKEYP "KEYPCY(HRgw2FINgw)" || fail "DSPVPNKEYP on $s"
	sys "$s" DSPVPNDTAP "DTAPCY(HRgw2FINgw)" || fail "DSPVPNDTAP on $s"
	sys "$s" DSPLIND "LIND(TRLINE)" || fail "DSPLIND on $s"
}

# What both systems must hold: mirrored key servers and data endpoints, the
# balanced transforms, the key stored but never shown.
check_system() {
	local s=$1 lcl=$2 rmt=$3 lnet=$4 rnet=$5 out
	step "Check System $s"
	out=$(QVPN_ROOT=$([ "$s" = A ] && echo "$SYS_A" || echo "$SYS_C") \
		"$BIN/DSPVPNCNN" "CNN(HRgw2FINgw:L1)" --json) || fail "DSPVPNCNN --json on $s"
	for want in "\"local_key_server\": \"*IPV4 $lcl\"" "\"remote_key_server\": \"*IPV4 $rmt\"" \
		"\"local_data_endpoint\": \"*IPV4SUBNET $lnet" "\"remote_data_endpoint\": \"*IPV4SUBNET $rnet" \
		'"key_policy": "HRgw2FINgw"' '"state": "*IDLE"'; do
		grep -qF "$want" <<<"$out" || fail "System $s: DSPVPNCNN lacks $want"
	done
	out=$(QVPN_ROOT=$([ "$s" = A ] && echo "$SYS_A" || echo "$SYS_C") \
		"$BIN/DSPVPNKEYP" "KEYPCY(HRgw2FINgw)" --json)
	grep -qF '"psk": "*SET"' <<<"$out" || fail "System $s: preshared key not stored"
	grep -qF '"encryption": "*AESCBC128"' <<<"$out" || fail "System $s: not *BALANCED"
	if grep -rqF "$PSK" "$([ "$s" = A ] && echo "$SYS_A" || echo "$SYS_C")"; then
		fail "System $s: the preshared key is readable in the state root"
	fi
}

main() {
	setup
	configure_system A "$A_PUBLIC" "$C_PUBLIC" "${A_SUBNET[@]}" "${C_SUBNET[@]}" "$A_IF"
	configure_system C "$C_PUBLIC" "$A_PUBLIC" "${C_SUBNET[@]}" "${A_SUBNET[@]}" "$C_IF"
	display_system A
	display_system C
	check_system A "$A_PUBLIC" "$C_PUBLIC" "${A_SUBNET[0]}" "${C_SUBNET[0]}"
	check_system C "$C_PUBLIC" "$A_PUBLIC" "${C_SUBNET[0]}" "${A_SUBNET[0]}"
	echo
	if [ $failures -ne 0 ]; then
		echo "branch_office: $failures failure(s)"
		exit 1
	fi
	echo "branch_office: configured and checked on System A and System C"
}

main "$@"
