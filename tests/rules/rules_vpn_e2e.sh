#!/bin/bash
# End to end with qvpn's own connection manager: the seed's branch office
# between two qvpn systems, rules activated by CRTVPNCNN ACTFTR(*YES), the
# tunnel started with STRVPNCNN over the userspace data path. Traffic between
# the data endpoints flows through the connection, rules cannot be unloaded
# under it (NFT0110 from the real connection state), and once it ends the
# cleartext is dropped by the policy filter again.
#
#   qv-ru-ea (System A)                           qv-ru-ec (System C)
#   lo 10.6.0.1/32                                lo 10.196.8.1/32
#   qv-ru-ea0 192.0.2.1/24 (TRLINE) ------------- qv-ru-ec0 192.0.2.2/24 (TRLINE)
#
# It needs QTOVMAN with its SA backend and packet-rules port (rules::ActiveRules)
# wired; until then STRVPNCNN names the gap (VMN001B, VMN0021) and this test
# says so and skips, which is why rules/tests/CMakeLists.txt does not
# register it yet.
. "$(dirname "$0")/lib.sh"

for exe in CRTLINETH CRTVPNCNN CHGSYSVAL STRTCPSVR ENDTCPSVR STRVPNCNN ENDVPNCNN; do
	[ -x "$QV_BIN/$exe" ] || qv_skip "$exe not built"
done
A=qv-ru-ea C=qv-ru-ec
qv_ns $A
qv_ns $C
qv_veth $A qv-ru-ea0 192.0.2.1/24 $C qv-ru-ec0 192.0.2.2/24
ip -n $A addr add 10.6.0.1/32 dev lo
ip -n $C addr add 10.196.8.1/32 dev lo
ip -n $A route add 10.196.8.0/24 via 192.0.2.2
ip -n $C route add 10.6.0.0/16 via 192.0.2.1
ROOT_A=$QV_TMP/systemA ROOT_C=$QV_TMP/systemC
sys() {  # sys A|C CMD ARGS...
	local ns=$A root=$ROOT_A
	[ "$1" = C ] && ns=$C root=$ROOT_C
	shift
	ip netns exec "$ns" env QVPN_ROOT="$root" PATH="$QV_BIN:$PATH" "$@"
}
server_pids=()
stop_servers() {
	sys A ENDTCPSVR 'SERVER(*VPN)' >/dev/null 2>&1
	sys C ENDTCPSVR 'SERVER(*VPN)' >/dev/null 2>&1
}
trap 'stop_servers; qv_cleanup' EXIT

configure() {  # configure A|C LOCAL REMOTE LNET LMASK RNET RMASK IF
	qv_expect 0 "System $1: CRTLINETH" sys "$1" CRTLINETH 'LIND(TRLINE)' "RSRCNAME($8)"
	qv_expect 0 "System $1: QVPNDTAPTH(*USERSPACE)" \
		sys "$1" CHGSYSVAL 'SYSVAL(QVPNDTAPTH)' 'VALUE(*USERSPACE)'
	qv_expect 0 "System $1: CRTVPNCNN ... ACTFTR(*YES)" sys "$1" CRTVPNCNN 'NAME(HRgw2FINgw)' \
		'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' "PSK('topsecretstuff')" \
		"LCLKEYSVR(*IPV4 $2)" "RMTKEYSVR(*IPV4 $3)" "LCLDTAEP(*IPV4SUBNET $4 $5)" \
		"RMTDTAEP(*IPV4SUBNET $6 $7)" 'DTAPCY(*BALANCED)' 'LIND(TRLINE)' \
		'OTHERTRAFFIC(*PERMIT)' 'ACTFTR(*YES)'
}
configure A 192.0.2.1 192.0.2.2 10.6.0.0 255.255.0.0 10.196.8.0 255.255.255.0 qv-ru-ea0
configure C 192.0.2.2 192.0.2.1 10.196.8.0 255.255.255.0 10.6.0.0 255.255.0.0 qv-ru-ec0
ping_ok() { sys C busybox ping -c 2 -W 1 -I 10.196.8.1 10.6.0.1 >/dev/null 2>&1; }
ping_ok && qv_fail "cleartext between the data endpoints passed before the tunnel"
qv_ok "before the connection, the policy filters drop the cleartext"

qv_expect 0 "System A: STRTCPSVR SERVER(*VPN)" sys A STRTCPSVR 'SERVER(*VPN)'
qv_expect 0 "System C: STRTCPSVR SERVER(*VPN)" sys C STRTCPSVR 'SERVER(*VPN)'
sys C STRVPNCNN 'CNN(HRgw2FINgw:L1)' 'WAIT(30)' >"$QV_TMP/start" 2>&1
rc=$?
if [ $rc != 0 ] && grep -qE '^(VMN001B|VMN0021)' "$QV_TMP/start"; then
	cat "$QV_TMP/start"
	qv_skip "QTOVMAN's SA backend or packet-rules port is not wired yet"
fi
[ $rc = 0 ] || { cat "$QV_TMP/start"; qv_fail "STRVPNCNN on System C"; }
qv_ok "System C started HRgw2FINgw:L1"

ping_ok || qv_fail "no traffic through the connection"
qv_ok "traffic between the data endpoints flows through the connection"
qv_expect 1 "System A cannot unload rules under the connection" sys A LODIPFTR '*UNLOAD' '*ALL'
grep -q NFT0110 "$QV_TMP/out" || qv_fail "no NFT0110"

qv_expect 0 "System C ends the connection" sys C ENDVPNCNN 'CNN(HRgw2FINgw:L1)'
ping_ok && qv_fail "cleartext passed after the connection ended"
qv_ok "after the connection, the cleartext is dropped again"
echo "PASS: rules_vpn_e2e"
