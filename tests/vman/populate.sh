#!/bin/bash
# Populate from packet: a host-to-gateway group whose remote data endpoint
# is the gateway's whole subnet, started on demand; the outbound packet that
# starts it decides the single remote address the connection protects.
#
#   [qvc-pp-a] System A (a host)                       [qvc-pp-c] System C (gateway)
#     192.0.2.227 qvcppa0 ============================ qvcppc0 198.51.100.250
#                                                        10.196.8.5/24 (lo)
#   A: HOSTtoFIN *HOST2GW, remote data 10.196.8.0/24, PKTRMTADR(*YES), ONDEMAND(*YES)
#   C: HOSTtoFIN *GW2HOST, local data 10.196.8.0/24
#
# Checks: armed at server start; a ping from A to 10.196.8.5 starts the
# connection with remote data endpoint 10.196.8.5 alone (DSPVPNCNN on both
# sides, A's journal TSRCAD); the ping passes the tunnel; ENDVPNCNN ends it.
#
# Exit 0 pass, 1 fail, 77 skipped (not root, tools missing; a failure under
# CI=true).
. "$(dirname "$0")/../scenarios/lib.sh"
need_root
need busybox jq "$QVPN_LIBEXEC/QTOIPFJRN"
need_qvpn CRTLINETH CRTVPNCNN CHGVPNDKG STRTCPSVR ENDTCPSVR STRVPNCNN ENDVPNCNN DSPVPNCNN DSPJRN
workdir populate
A=qvc-pp-a C=qvc-pp-c
PSK=topsecretstuff

in_ns $A
in_ns $C
in_veth $A qvcppa0 192.0.2.227/24 $C qvcppc0 198.51.100.250/24
ip -n $A route add 198.51.100.250/32 dev qvcppa0
ip -n $C route add 192.0.2.227/32 dev qvcppc0
ip -n $C addr add 10.196.8.5/24 dev lo
in_system A $A "$WORK/systemA"
in_system C $C "$WORK/systemC"

sys A CRTLINETH 'LIND(TRLINE)' 'RSRCNAME(qvcppa0)' >/dev/null || die "CRTLINETH on A"
sys A CRTVPNCNN 'NAME(HOSTtoFIN)' 'SCENARIO(*HOST2GW)' 'KEYPCY(*BALANCED)' "PSK('$PSK')" \
	'LCLKEYSVR(*IPV4 192.0.2.227)' 'RMTKEYSVR(*IPV4 198.51.100.250)' \
	'RMTDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)' 'ONDEMAND(*YES)' \
	'DTAPCY(*BALANCED)' 'LIND(TRLINE)' 'OTHERTRAFFIC(*PERMIT)' 'JRN(*ALL)' 'ACTFTR(*YES)' \
	>/dev/null || die "CRTVPNCNN on A"
sys A CHGVPNDKG 'DKG(HOSTtoFIN)' 'PKTRMTADR(*YES)' >/dev/null || die "CHGVPNDKG on A"
sys C CRTLINETH 'LIND(TRLINE)' 'RSRCNAME(qvcppc0)' >/dev/null || die "CRTLINETH on C"
sys C CRTVPNCNN 'NAME(HOSTtoFIN)' 'SCENARIO(*GW2HOST)' 'KEYPCY(*BALANCED)' "PSK('$PSK')" \
	'LCLKEYSVR(*IPV4 198.51.100.250)' 'RMTKEYSVR(*IPV4 192.0.2.227)' \
	'LCLDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)' \
	'DTAPCY(*BALANCED)' 'LIND(TRLINE)' 'OTHERTRAFFIC(*PERMIT)' 'JRN(*ALL)' 'ACTFTR(*YES)' \
	>/dev/null || die "CRTVPNCNN on C"

live() { sys "$1" DSPVPNCNN "CNN($2)" --json | jq -r ".live.$3"; }

for s in C A; do
	expect_msg 0 VMN0001 $s STRTCPSVR 'SERVER(*VPN)' || die "server $s"
done
check "A: armed (*ONDEMAND)" is_state A HOSTtoFIN:L1 '*ONDEMAND'

ip netns exec $A busybox ping -c 1 -W 1 10.196.8.5 >/dev/null 2>&1
check "A: started by the packet" wait_for 20 is_state A HOSTtoFIN:L1 '*ENABLED'
check "C: enabled" wait_for 10 is_state C HOSTtoFIN:R1 '*ENABLED'
[ "$(live A HOSTtoFIN:L1 remote_data)" = 10.196.8.5 ] ||
	bad "A's remote data endpoint: $(live A HOSTtoFIN:L1 remote_data), want 10.196.8.5 alone"
[ "$(live C HOSTtoFIN:R1 local_data)" = 10.196.8.5 ] ||
	bad "C's local data endpoint: $(live C HOSTtoFIN:R1 local_data), want 10.196.8.5 alone"
check "traffic passes the tunnel" \
	ip netns exec $A busybox ping -c 2 -W 2 10.196.8.5
journal_csv A | grep -q ',HOSTtoFIN:L1,\*DYNAMIC,\*ENABLED,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,192.0.2.227,[^,]*,10.196.8.5,' ||
	bad "A's journal has no *ENABLED entry with TSRCAD 10.196.8.5: $(journal_csv A | grep ENABLED)"

expect_msg 0 VMN0015 A ENDVPNCNN 'CNN(HOSTtoFIN)'
check "C: its side ended too" wait_for 10 is_state C HOSTtoFIN:R1 '*IDLE'
for s in A C; do
	expect_msg 0 VMN0002 $s ENDTCPSVR 'SERVER(*VPN)'
done
finish "populate from packet"
