#!/bin/bash
# A manual connection with AH and ESP together (*AHESP), between System A
# and System C, started by STRVPNCNN through QTOVMAN and the SA backend:
#
#   [qvc-ah-a] 10.6.11.1 (lo)                          [qvc-ah-c] 10.196.8.5 (lo)
#              192.0.2.227 qvcaha0 ====== qvcahc0 198.51.100.250
#     MANUAL1: AH HMAC-SHA-256 (SPIs 3003/4004) over ESP AES-CBC-128 /
#              HMAC-SHA-256 (SPIs 1001/2002), tunnel
#
# Checks: both enabled with AH and ESP (DSPVPNCNN), ping from subnet to
# subnet answered, AH on the wire with the configured SPIs and no ICMP in
# clear, the QVPN journal names the manual algorithms (TSAUTH, TSENCR),
# ENDVPNCNN removes the SAs on both sides. Then MANUALAH, AH alone in
# transport mode between the two hosts (SPIs 5005/6006): enabled, ping
# answered, every ICMP packet inside AH; with AUTOSTART(*YES) it starts
# with the server.
set -u
. "$(dirname "$0")/lib.sh"
need_root
command -v busybox >/dev/null || skip "busybox (Debian package busybox-static) provides ping"
command -v tcpdump >/dev/null || skip "tcpdump is needed to look at the wire"
command -v jq >/dev/null || skip "jq is needed to read DSPVPNCNN --json"
A=qvc-ah-a C=qvc-ah-c
TMP=$(mktemp -d /tmp/qvc-ah.XXXXXX)
ns_of() { [ "$1" = A ] && echo $A || echo $C; }
on() { local s=$1; shift; QVPN_ROOT=$TMP/$s ip netns exec "$(ns_of $s)" "$@"; }
cleanup() {
	for s in A C; do on $s ENDTCPSVR 'SERVER(*VPN)' >/dev/null 2>&1; done
	cleanup_ns $A
	cleanup_ns $C
	rm -rf "$TMP"
}
trap cleanup EXIT

make_ns $A
make_ns $C
ip link add qvcaha0 netns $A type veth peer name qvcahc0 netns $C
ip -n $A addr add 192.0.2.227/24 dev qvcaha0
ip -n $C addr add 198.51.100.250/24 dev qvcahc0
ip -n $A link set qvcaha0 up
ip -n $C link set qvcahc0 up
ip -n $A route add 198.51.100.250/32 dev qvcaha0
ip -n $C route add 192.0.2.227/32 dev qvcahc0
ip -n $A addr add 10.6.11.1/16 dev lo
ip -n $C addr add 10.196.8.5/24 dev lo
QVPN_ROOT=$TMP/A $QVPN_BUILD_DIR/tests/vman_policy_seed manual-ahesp-a || fail "seed A"
QVPN_ROOT=$TMP/C $QVPN_BUILD_DIR/tests/vman_policy_seed manual-ahesp-c || fail "seed C"

for s in A C; do
	expect_rc 0 VMN0001 on $s STRTCPSVR 'SERVER(*VPN)'
	expect_rc 0 VMN0014 on $s STRVPNCNN 'CNN(manual1)'
done
js=$(on A DSPVPNCNN 'CNN(MANUAL1)' --json)
[ "$(echo "$js" | jq -r '.live.sas[0].protocols')" = AH+ESP ] || fail "not AH+ESP: $js"
[ "$(echo "$js" | jq -r '.live.sas[0].spi_out')" = 00003003/00001001 ] \
  || fail "outbound SPIs: $js"

ip netns exec $C tcpdump -i qvcahc0 -n -w "$TMP/wire.pcap" 2>/dev/null &
dump=$!
sleep 1
on A busybox ping -c 4 -W 2 -I 10.6.11.1 10.196.8.5 >/dev/null || fail "ping A -> C"
sleep 1
kill $dump
wait $dump 2>/dev/null
ah_a=$(tcpdump -n -r "$TMP/wire.pcap" 'ah and src 192.0.2.227' 2>/dev/null | grep -c 'spi=0x00003003')
ah_c=$(tcpdump -n -r "$TMP/wire.pcap" 'ah and src 198.51.100.250' 2>/dev/null | grep -c 'spi=0x00004004')
clear=$(tcpdump -n -r "$TMP/wire.pcap" icmp 2>/dev/null | wc -l)
[ "$ah_a" -ge 4 ] || fail "only $ah_a AH packets with SPI 3003 from A"
[ "$ah_c" -ge 4 ] || fail "only $ah_c AH packets with SPI 4004 from C"
[ "$clear" = 0 ] || fail "$clear ICMP packets in clear on the wire"

row=$(QVPN_ROOT=$TMP/A DSPJRN 'JRN(QVPN)' 'OUTPUT(*JSON)' |
	jq -r '[.[] | select(.TSCOS == "*ENABLED")][0] | [.TSCONM, .TSCOTY, .TSSAPH, .TSAUTH, .TSENCR] | join("|")')
[ "$row" = "MANUAL1|*MANUAL|2|*HMACSHA256|*AESCBC128" ] || fail "journal entry: $row"

expect_rc 0 VMN0015 on A ENDVPNCNN 'CNN(MANUAL1)'
[ "$(on A DSPVPNCNN 'CNN(MANUAL1)' --json | jq '.live.sas | length')" = 0 ] || fail "SAs left on A"
on A busybox ping -c 1 -W 1 -I 10.6.11.1 10.196.8.5 >/dev/null 2>&1 && fail "ping passes after ENDVPNCNN"
expect_rc 0 VMN0015 on C ENDVPNCNN 'CNN(MANUAL1)'
# The *STOPPED entry names the algorithms of the SAs that were removed.
row=$(QVPN_ROOT=$TMP/A DSPJRN 'JRN(QVPN)' 'OUTPUT(*JSON)' |
	jq -r '[.[] | select(.TSCOS == "*STOPPED")][0] | [.TSCONM, .TSSAPH, .TSAUTH, .TSENCR] | join("|")')
[ "$row" = "MANUAL1|2|*HMACSHA256|*AESCBC128" ] || fail "*STOPPED journal entry: $row"

# AH alone in transport mode, host to host, on the same two systems.
QVPN_ROOT=$TMP/A $QVPN_BUILD_DIR/tests/vman_policy_seed manual-ah-a || fail "seed A (AH)"
QVPN_ROOT=$TMP/C $QVPN_BUILD_DIR/tests/vman_policy_seed manual-ah-c || fail "seed C (AH)"
for s in A C; do
	expect_rc 0 VMN0014 on $s STRVPNCNN 'CNN(ManualAH)'
done
js=$(on A DSPVPNCNN 'CNN(MANUALAH)' --json)
[ "$(echo "$js" | jq -r '.live.sas[0].protocols + " " + .live.sas[0].mode + " " + .live.sas[0].spi_out')" \
  = "AH *TRANSPORT 00005005" ] || fail "MANUALAH: $js"
ip netns exec $C tcpdump -i qvcahc0 -n -w "$TMP/wire2.pcap" 2>/dev/null &
dump=$!
sleep 1
on A busybox ping -c 3 -W 2 -I 192.0.2.227 198.51.100.250 >/dev/null || fail "ping A -> C over AH"
sleep 1
kill $dump
wait $dump 2>/dev/null
ah_a=$(tcpdump -n -r "$TMP/wire2.pcap" 'ah and src 192.0.2.227' 2>/dev/null | grep -c 'spi=0x00005005')
ah_c=$(tcpdump -n -r "$TMP/wire2.pcap" 'ah and src 198.51.100.250' 2>/dev/null | grep -c 'spi=0x00006006')
bare=$(tcpdump -n -r "$TMP/wire2.pcap" icmp 2>/dev/null | wc -l)
[ "$ah_a" -ge 3 ] || fail "only $ah_a AH packets with SPI 5005 from A"
[ "$ah_c" -ge 3 ] || fail "only $ah_c AH packets with SPI 6006 from C"
[ "$bare" = 0 ] || fail "$bare ICMP packets without AH on the wire"
row=$(QVPN_ROOT=$TMP/A DSPJRN 'JRN(QVPN)' 'OUTPUT(*JSON)' |
	jq -r '[.[] | select(.TSCONM == "MANUALAH" and .TSCOS == "*ENABLED")][0] | [.TSAUTH, .TSENCR] | join("|")')
[ "$row" = "*HMACSHA256|*NONE" ] || fail "MANUALAH journal entry: $row"

# AUTOSTART(*YES) (CHGVPNMNC): the next server start installs it at once.
for s in A C; do
	expect_rc 0 VMN0002 on $s ENDTCPSVR 'SERVER(*VPN)'
	on $s CHGVPNMNC 'CNN(MANUALAH)' 'AUTOSTART(*YES)' >/dev/null || fail "CHGVPNMNC on $s"
	expect_rc 0 VMN0001 on $s STRTCPSVR 'SERVER(*VPN)'
done
on A DSPVPNCNN 'CNN(MANUALAH)' --json | jq -e '.live.state == "*ENABLED"' >/dev/null \
  || fail "MANUALAH not started with the server"
on A busybox ping -c 2 -W 2 -I 192.0.2.227 198.51.100.250 >/dev/null || fail "ping after autostart"
for s in A C; do
	expect_rc 0 VMN0002 on $s ENDTCPSVR 'SERVER(*VPN)'
done
pass
