#!/bin/bash
# The tunnel half of the branch office scenario: System A and System C (as
# configured by branch_office.sh, or by this script when run alone) in
# network namespaces, with a host on each subnet, the VPN servers started,
# HRgw2FINgw started on System A, traffic from subnet to subnet, the QVPN
# journal entries shown, everything ended and removed.
#
#  [qv-vm-hr] 10.6.1.5/16                                     [qv-vm-fin] 10.196.8.9/24
#      | qv-vm-h0                                                  qv-vm-f0 |
#      | qv-vm-a1 10.6.11.1/16                           10.196.8.5/24 qv-vm-c1 |
#  [qv-vm-A] 192.0.2.227 qv-vm-a0 ========== qv-vm-c0 198.51.100.250 [qv-vm-C]
#               TRLINE     (ESP: userspace data path, or the kernel's)   TRLINE
#
# Needs: QTOKVPNIK2 (the IKEv2 key manager) in the build, root. Exit 0 pass,
# 1 fail, 77 skipped (not root; a failure under CI=true).
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${QVPN_BUILD_DIR:-$SRC/build}
BIN=$BUILD/bin
export PATH=$BIN:$PATH
export QVPN_LIBEXEC=${QVPN_LIBEXEC:-$BUILD/libexec/qvpn}
NS_A=qv-vm-A NS_C=qv-vm-C NS_HR=qv-vm-hr NS_FIN=qv-vm-fin
vpn_failures=0
vfail() { echo "FAIL: $*"; vpn_failures=$((vpn_failures + 1)); }
vstep() { printf '\n=== %s\n' "$*"; }

# Run a command as system A or C inside its namespace.
on() {
	local s=$1 root ns
	shift
	root=$([ "$s" = A ] && echo "$SYS_A" || echo "$SYS_C")
	ns=$([ "$s" = A ] && echo $NS_A || echo $NS_C)
	echo "[System $s] $*"
	QVPN_ROOT=$root ip netns exec "$ns" "$@"
}

vpn_topology() {
	vstep "Network: System A, System C and one host on each subnet"
	local ns
	for ns in $NS_A $NS_C $NS_HR $NS_FIN; do
		ip netns add $ns && ip -n $ns link set lo up || return 1
	done
	ip link add qv-vm-a0 netns $NS_A type veth peer name qv-vm-c0 netns $NS_C
	ip link add qv-vm-a1 netns $NS_A type veth peer name qv-vm-h0 netns $NS_HR
	ip link add qv-vm-c1 netns $NS_C type veth peer name qv-vm-f0 netns $NS_FIN
	ip -n $NS_A addr add 192.0.2.227/24 dev qv-vm-a0
	ip -n $NS_C addr add 198.51.100.250/24 dev qv-vm-c0
	ip -n $NS_A addr add 10.6.11.1/16 dev qv-vm-a1
	ip -n $NS_C addr add 10.196.8.5/24 dev qv-vm-c1
	ip -n $NS_HR addr add 10.6.1.5/16 dev qv-vm-h0
	ip -n $NS_FIN addr add 10.196.8.9/24 dev qv-vm-f0
	for l in "$NS_A qv-vm-a0" "$NS_A qv-vm-a1" "$NS_C qv-vm-c0" "$NS_C qv-vm-c1" \
		"$NS_HR qv-vm-h0" "$NS_FIN qv-vm-f0"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	# The two gateways reach each other on the Internet link; each subnet
	# routes through its gateway.
	ip -n $NS_A route add 198.51.100.250/32 dev qv-vm-a0
	ip -n $NS_C route add 192.0.2.227/32 dev qv-vm-c0
	ip -n $NS_HR route add default via 10.6.11.1
	ip -n $NS_FIN route add default via 10.196.8.5
	ip netns exec $NS_A sysctl -qw net.ipv4.ip_forward=1
	ip netns exec $NS_C sysctl -qw net.ipv4.ip_forward=1
}

vpn_cleanup() {
	local s ns p
	for s in A C; do
		on $s ENDTCPSVR 'SERVER(*VPN)' >/dev/null 2>&1
		on $s RMVTCPTBL >/dev/null 2>&1
	done
	for ns in $NS_A $NS_C $NS_HR $NS_FIN; do
		for p in $(ip netns pids $ns 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del $ns 2>/dev/null
	done
	true
}

vpn_start() {
	vstep "Start the VPN servers and load the generated policy filters"
	local s
	for s in A C; do
		on $s STRTCPSVR 'SERVER(*VPN)' || vfail "STRTCPSVR on $s"
		on $s LODIPFTR 'OPTION(*LOAD)' 'LIND(*ALL)' 'INCVPN(*YES)' || vfail "LODIPFTR on $s"
	done
	vstep "Start HRgw2FINgw on System A"
	on A STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(60)' || vfail "STRVPNCNN on A"
	on A WRKVPNCNN || vfail "WRKVPNCNN on A"
	on A DSPVPNCNN 'CNN(HRgw2FINgw:L1)' || vfail "DSPVPNCNN on A"
	local js
	js=$(QVPN_ROOT=$SYS_A ip netns exec $NS_A DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json)
	jq -e '.live.state == "*ENABLED" and (.live.sas | length) >= 1' <<<"$js" >/dev/null \
		|| vfail "HRgw2FINgw:L1 is not enabled with SAs on A"
	js=$(QVPN_ROOT=$SYS_C ip netns exec $NS_C DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json)
	jq -e '.live.state == "*ENABLED"' <<<"$js" >/dev/null \
		|| echo "note: System C shows the connection as its responder connection (HRgw2FINgw:R1)"
}

vpn_traffic() {
	vstep "Ping from the HR subnet (10.6.1.5) to the Finance subnet (10.196.8.9)"
	ip netns exec $NS_C tcpdump -i qv-vm-c0 -n -w "$WORK/wire.pcap" 2>/dev/null &
	local dump=$!
	sleep 1
	ip netns exec $NS_HR busybox ping -c 4 -W 2 10.196.8.9 || vfail "ping HR -> Finance"
	ip netns exec $NS_FIN busybox ping -c 2 -W 2 10.6.1.5 || vfail "ping Finance -> HR"
	sleep 1
	kill $dump
	wait $dump 2>/dev/null
	local esp clear
	esp=$(tcpdump -n -r "$WORK/wire.pcap" 'esp or (udp port 4500)' 2>/dev/null | wc -l)
	clear=$(tcpdump -n -r "$WORK/wire.pcap" 'icmp and net 10.0.0.0/8' 2>/dev/null | wc -l)
	echo "on the Internet link: $esp ESP packets, $clear subnet packets in clear"
	[ "$esp" -ge 12 ] || vfail "too few ESP packets ($esp)"
	[ "$clear" = 0 ] || vfail "subnet traffic in clear ($clear packets)"
	on A DSPVPNCNN 'CNN(HRgw2FINgw:L1)' | sed -n '/Security associations/,$p'
}

vpn_journal() {
	vstep "The QVPN journal of System A and System C"
	on A DSPJRN 'JRN(QVPN)' 'JRNCDE((M))' 'ENTTYP((TS))' || vfail "DSPJRN on A"
	on C DSPJRN 'JRN(QVPN)' 'JRNCDE((M))' 'ENTTYP((TS))' || vfail "DSPJRN on C"
	QVPN_ROOT=$SYS_A DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*ENABLED,' \
		|| vfail "no *ENABLED entry on A"
}

vpn_end() {
	vstep "End the connection and the servers"
	on A ENDVPNCNN 'CNN(HRgw2FINgw)' || vfail "ENDVPNCNN on A"
	on A ENDTCPSVR 'SERVER(*VPN)' || vfail "ENDTCPSVR on A"
	on C ENDTCPSVR 'SERVER(*VPN)' || vfail "ENDTCPSVR on C"
	QVPN_ROOT=$SYS_A DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*STOPPED,' \
		|| vfail "no *STOPPED entry on A"
}

# Everything after the configuration. SYS_A, SYS_C and WORK are set; the
# topology is made first unless $1 is "have-topology".
vpn_main() {
	if [ "${1:-}" != have-topology ]; then
		vpn_topology || { vfail "network namespaces"; return; }
	fi
	vpn_start
	vpn_traffic
	vpn_journal
	vpn_end
}

# Run alone: configure both systems first, the way branch_office.sh does.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root for network namespaces"
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
	[ -x "$QVPN_LIBEXEC/QTOKVPNIK2" ] || { echo "FAIL: QTOKVPNIK2 is not built"; exit 1; }
	WORK=$(mktemp -d /tmp/qv-vm-branch.XXXXXX)
	SYS_A=$WORK/systemA SYS_C=$WORK/systemC
	trap 'vpn_cleanup; rm -rf "$WORK"' EXIT
	vpn_topology || { echo "FAIL: network namespaces"; exit 1; }
	for s in A C; do
		lcl=$([ $s = A ] && echo 192.0.2.227 || echo 198.51.100.250)
		rmt=$([ $s = A ] && echo 198.51.100.250 || echo 192.0.2.227)
		lnet=$([ $s = A ] && echo "10.6.0.0 255.255.0.0" || echo "10.196.8.0 255.255.255.0")
		rnet=$([ $s = A ] && echo "10.196.8.0 255.255.255.0" || echo "10.6.0.0 255.255.0.0")
		itf=$([ $s = A ] && echo qv-vm-a0 || echo qv-vm-c0)
		root=$([ $s = A ] && echo "$SYS_A" || echo "$SYS_C")
		ns=$([ $s = A ] && echo $NS_A || echo $NS_C)
		QVPN_ROOT=$root ip netns exec $ns CRTLINETH 'LIND(TRLINE)' "RSRCNAME($itf)" >/dev/null \
			|| vfail "CRTLINETH $s"
		QVPN_ROOT=$root ip netns exec $ns CRTVPNCNN 'NAME(HRgw2FINgw)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' \
			"PSK('topsecretstuff')" "LCLKEYSVR(*IPV4 $lcl)" "RMTKEYSVR(*IPV4 $rmt)" \
			"LCLDTAEP(*IPV4SUBNET $lnet)" "RMTDTAEP(*IPV4SUBNET $rnet)" 'DTAPCY(*BALANCED)' \
			'LIND(TRLINE)' 'OTHERTRAFFIC(*PERMIT)' 'JRN(*ALL)' >/dev/null || vfail "CRTVPNCNN $s"
	done
	vpn_main have-topology
	echo
	[ $vpn_failures = 0 ] || { echo "branch_office_vpn: $vpn_failures failure(s)"; exit 1; }
	echo "branch_office_vpn: tunnel up, traffic encrypted, journals written, all ended"
fi
