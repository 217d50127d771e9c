#!/bin/bash
# A manual connection between System A and System C, started by STRVPNCNN on
# both through QTOVMAN and the SA backend (the userspace data path on a host
# kernel without ESP; the kernel's where QVPNDTAPTH and the kernel allow):
#
#   [qv-vm-ma] 10.6.11.1 (lo)                          [qv-vm-mc] 10.196.8.5 (lo)
#              192.0.2.227 qvvma0 ======= qvvmc0 198.51.100.250
#                      MANUAL1: ESP AES-CBC-128 / HMAC-SHA-256, tunnel, SPIs 1001/2002
#
# Checks: both enabled, ping from subnet address to subnet address answered,
# only ESP on the wire (no ICMP in clear), SA counters moving, QVPN journal
# entries on both sides, ENDVPNCNN removes the SAs, ENDTCPSVR with an active
# connection, and QTOVMAN killed with SIGKILL: the next start removes what it
# left (VMN001E) and the connection starts again.
set -u
. "$(dirname "$0")/lib.sh"
need_root
command -v busybox >/dev/null || skip "busybox (Debian package busybox-static) provides ping"
command -v tcpdump >/dev/null || skip "tcpdump is needed to look at the wire"
A=qv-vm-ma C=qv-vm-mc
TMP=$(mktemp -d /tmp/qv-vm-man.XXXXXX)
cleanup() {
	for s in A C; do
		QVPN_ROOT=$TMP/$s ip netns exec "$(ns_of $s)" ENDTCPSVR 'SERVER(*VPN)' >/dev/null 2>&1
	done
	cleanup_ns $A
	cleanup_ns $C
	rm -rf "$TMP"
}
trap cleanup EXIT
ns_of() { [ "$1" = A ] && echo $A || echo $C; }
on() { local s=$1; shift; QVPN_ROOT=$TMP/$s ip netns exec "$(ns_of $s)" "$@"; }

make_ns $A
make_ns $C
ip link add qvvma0 netns $A type veth peer name qvvmc0 netns $C
ip -n $A addr add 192.0.2.227/24 dev qvvma0
ip -n $C addr add 198.51.100.250/24 dev qvvmc0
ip -n $A link set qvvma0 up
ip -n $C link set qvvmc0 up
ip -n $A route add 198.51.100.250/32 dev qvvma0
ip -n $C route add 192.0.2.227/32 dev qvvmc0
ip -n $A addr add 10.6.11.1/16 dev lo
ip -n $C addr add 10.196.8.5/24 dev lo
QVPN_ROOT=$TMP/A $QVPN_BUILD_DIR/tests/vman_policy_seed manual-a || fail "seed A"
QVPN_ROOT=$TMP/C $QVPN_BUILD_DIR/tests/vman_policy_seed manual-c || fail "seed C"

for s in A C; do
	expect_rc 0 VMN0001 on $s STRTCPSVR 'SERVER(*VPN)'
	expect_rc 0 VMN0014 on $s STRVPNCNN 'CNN(manual1)'
done
expect_rc 0 VMN0019 on A STRVPNCNN 'CNN(MANUAL1)'

# Traffic from subnet to subnet, and what the wire carries meanwhile.
ip netns exec $C tcpdump -i qvvmc0 -n -w "$TMP/wire.pcap" 2>/dev/null &
dump=$!
sleep 1
on A busybox ping -c 4 -W 2 -I 10.6.11.1 10.196.8.5 >/dev/null || fail "ping A -> C"
on C busybox ping -c 2 -W 2 -I 10.196.8.5 10.6.11.1 >/dev/null || fail "ping C -> A"
sleep 1
kill $dump
wait $dump 2>/dev/null
esp=$(tcpdump -n -r "$TMP/wire.pcap" 'esp or (udp port 4500)' 2>/dev/null | wc -l)
clear=$(tcpdump -n -r "$TMP/wire.pcap" icmp 2>/dev/null | wc -l)
[ "$esp" -ge 12 ] || fail "only $esp ESP packets on the wire"
[ "$clear" = 0 ] || fail "$clear ICMP packets in clear on the wire"

js=$(on A DSPVPNCNN 'CNN(MANUAL1)' --json)
echo "$js" | grep -q '"spi_out": "00001001"' || fail "DSPVPNCNN SAs: $js"
bytes=$(echo "$js" | jq -r '.live.sas[0].bytes_out')
[ "${bytes:-0}" -gt 0 ] 2>/dev/null || fail "no bytes counted out: $bytes"

# The journal of both systems: MANUAL1 enabled.
for s in A C; do
	QVPN_ROOT=$TMP/$s DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | grep -q ',MANUAL1,\*MANUAL,\*ENABLED,' \
	  || fail "$s: no *ENABLED entry"
done

# End on A: the SAs go, the traffic no longer passes, the journal says so.
expect_rc 0 VMN0015 on A ENDVPNCNN 'CNN(MANUAL1)'
on A busybox ping -c 1 -W 1 -I 10.6.11.1 10.196.8.5 >/dev/null 2>&1 && fail "ping passes after ENDVPNCNN"
QVPN_ROOT=$TMP/A DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | grep -q ',MANUAL1,\*MANUAL,\*STOPPED,' \
  || fail "A: no *STOPPED entry"
expect_rc 1 TCP8602 on A ENDVPNCNN 'CNN(MANUAL1)'

# Start again, then kill QTOVMAN: the next server removes what it left.
expect_rc 0 VMN0014 on A STRVPNCNN 'CNN(MANUAL1)'
on A busybox ping -c 1 -W 2 -I 10.6.11.1 10.196.8.5 >/dev/null || fail "ping after restart"
pid=$(cat $TMP/A/run/QTOVMAN.pid)
kill -9 "$pid"
for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
expect_rc 0 VMN0001 on A STRTCPSVR 'SERVER(*VPN)'
grep -q '"msgid":"VMN001E"' $TMP/A/joblog/QTOVMAN.log || fail "no VMN001E after SIGKILL"
on A DSPVPNCNN 'CNN(MANUAL1)' --json | grep -A2 '"live"' | grep -q '"state": "\*IDLE"' \
  || fail "MANUAL1 not idle after recovery"
QVPN_ROOT=$TMP/A DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | grep -c ',MANUAL1,' | grep -q '^[3-9]' \
  || fail "journal lost entries across SIGKILL"
expect_rc 0 VMN0014 on A STRVPNCNN 'CNN(MANUAL1)'
on A busybox ping -c 2 -W 2 -I 10.6.11.1 10.196.8.5 >/dev/null || fail "ping after recovery"

# Server end with the connection active: it ends the connection first.
expect_rc 0 VMN0002 on A ENDTCPSVR 'SERVER(*VPN)'
grep -q '"msgid":"VMN0015".*"conn":"MANUAL1"\|"conn":"MANUAL1".*"msgid":"VMN0015"' \
  $TMP/A/joblog/QTOVMAN.log || fail "ENDTCPSVR did not end MANUAL1"
expect_rc 0 VMN0002 on C ENDTCPSVR 'SERVER(*VPN)'
pass
