#!/bin/bash
# On-demand and autostarted dynamic-key connections between two qvpn
# systems, configured with CRTVPNCNN ONDEMAND(*YES) and CHGVPNDKC AUTOSTART:
#
#   [qvc-od-a] System A                                 [qvc-od-c] System C
#     10.6.11.1/16 (lo)                                    10.196.8.5/24 (lo)
#     192.0.2.227 qvc-oda0 ======================== qvc-odc0 198.51.100.250
#       HRgw2FINgw: *GW2GW, 10.6.0.0/16 <-> 10.196.8.0/24, JRN(*ALL)
#
# Checks:
#  1. A's server arms the connection (VMN0024, *ONDEMAND, journaled); a
#     STRVPNCNN finds it armed;
#  2. the first packet from 10.6.11.1 to 10.196.8.5 starts it: *ENABLED on
#     both sides, traffic passes, the journal says *ONDEMAND, *STARTING,
#     *ENABLED in that order;
#  3. C ends its side: A's connection waits for traffic again (*ONDEMAND),
#     and the next packet starts it again;
#  4. ENDVPNCNN on A ends it for good (*IDLE, no trap left to start it);
#  5. CHGVPNDKC AUTOSTART(*YES) ONDEMAND(*NO): the next server start starts
#     the connection without a command.
#
# Exit 0 pass, 1 fail, 77 skipped (not root, tools missing; a failure under
# CI=true).
. "$(dirname "$0")/../scenarios/lib.sh"
need_root
need busybox "$QVPN_LIBEXEC/QTOIPFJRN"
need_qvpn CRTLINETH CRTVPNCNN CHGVPNDKC STRTCPSVR ENDTCPSVR STRVPNCNN ENDVPNCNN DSPVPNCNN DSPJRN \
	DSPJOBLOG
workdir ondemand
A=qvc-od-a C=qvc-od-c
PSK=topsecretstuff

in_ns $A
in_ns $C
in_veth $A qvc-oda0 192.0.2.227/24 $C qvc-odc0 198.51.100.250/24
ip -n $A route add 198.51.100.250/32 dev qvc-oda0
ip -n $C route add 192.0.2.227/32 dev qvc-odc0
ip -n $A addr add 10.6.11.1/16 dev lo
ip -n $C addr add 10.196.8.5/24 dev lo
in_system A $A "$WORK/systemA"
in_system C $C "$WORK/systemC"

configure() { # S LOCAL REMOTE LNET LMASK RNET RMASK IF ONDEMAND
	sys "$1" CRTLINETH 'LIND(TRLINE)' "RSRCNAME($8)" >/dev/null || die "CRTLINETH on $1"
	sys "$1" CRTVPNCNN 'NAME(HRgw2FINgw)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' "PSK('$PSK')" \
		"LCLKEYSVR(*IPV4 $2)" "RMTKEYSVR(*IPV4 $3)" \
		"LCLDTAEP(*IPV4SUBNET $4 $5)" "RMTDTAEP(*IPV4SUBNET $6 $7)" \
		'DTAPCY(*BALANCED)' 'LIND(TRLINE)' 'OTHERTRAFFIC(*PERMIT)' 'JRN(*ALL)' 'ACTFTR(*YES)' \
		"ONDEMAND($9)" >/dev/null || die "CRTVPNCNN on $1"
}
configure A 192.0.2.227 198.51.100.250 10.6.0.0 255.255.0.0 10.196.8.0 255.255.255.0 qvc-oda0 '*YES'
configure C 198.51.100.250 192.0.2.227 10.196.8.0 255.255.255.0 10.6.0.0 255.255.0.0 qvc-odc0 '*NO'

# One packet from A's subnet to C's; it may be lost to the negotiation.
poke() { ip netns exec $A busybox ping -c 1 -W 1 -I 10.6.11.1 10.196.8.5 >/dev/null 2>&1; }
ping_ok() { ip netns exec $A busybox ping -c 2 -W 2 -I 10.6.11.1 10.196.8.5 >/dev/null 2>&1; }
states() { journal_csv A | tail -n +2 | cut -d, -f19 | tr '\n' ' '; }

step "1. Armed when the server starts"
for s in C A; do
	expect_msg 0 VMN0001 $s STRTCPSVR 'SERVER(*VPN)' || die "server $s"
done
check "A: *ONDEMAND" is_state A HRgw2FINgw:L1 '*ONDEMAND'
[ "$(joblog_ids A QTOVMAN HRgw2FINgw:L1)" = "VMN0024 " ] ||
	bad "A's job log: $(joblog_ids A QTOVMAN HRgw2FINgw:L1)"
expect_msg 0 'already \*ONDEMAND' A STRVPNCNN 'CNN(HRgw2FINgw)'
[ "$(states)" = "*ONDEMAND " ] || bad "A's journal: $(states)"

step "2. The first packet starts it"
poke
check "A: enabled by traffic" wait_for 20 is_state A HRgw2FINgw:L1 '*ENABLED'
check "C: enabled" wait_for 10 is_state C HRgw2FINgw:R1 '*ENABLED'
check "traffic passes" ping_ok
st=$(states)
[[ "$st" == "*ONDEMAND *STARTING "*"*ENABLED "* ]] || bad "A's journal: $st"
grep -q '"msgid":"VMN0014".*"conn":"HRgw2FINgw:L1"\|"conn":"HRgw2FINgw:L1".*"msgid":"VMN0014"' \
	"$WORK/systemA/joblog/QTOVMAN.log" || bad "A's job log lacks VMN0014"

step "3. The peer ends it: A waits for traffic again"
expect_msg 0 VMN0015 C ENDVPNCNN 'CNN(HRgw2FINgw:R1)'
check "A: *ONDEMAND again" wait_for 15 is_state A HRgw2FINgw:L1 '*ONDEMAND'
poke
check "A: enabled by traffic again" wait_for 20 is_state A HRgw2FINgw:L1 '*ENABLED'
check "traffic passes again" ping_ok

step "4. ENDVPNCNN ends it for good"
expect_msg 0 VMN0015 A ENDVPNCNN 'CNN(HRgw2FINgw)'
check "A: *IDLE" is_state A HRgw2FINgw:L1 '*IDLE'
poke
sleep 2
check "A: still *IDLE after traffic" is_state A HRgw2FINgw:L1 '*IDLE'

step "5. Started with the server"
expect_msg 0 VMN0002 A ENDTCPSVR 'SERVER(*VPN)'
sys A CHGVPNDKC 'CNN(HRgw2FINgw:L1)' 'ONDEMAND(*NO)' 'AUTOSTART(*YES)' >/dev/null || bad "CHGVPNDKC"
expect_msg 0 VMN0001 A STRTCPSVR 'SERVER(*VPN)'
check "A: enabled without a command" wait_for 20 is_state A HRgw2FINgw:L1 '*ENABLED'
check "traffic passes" ping_ok
for s in A C; do
	expect_msg 0 VMN0002 $s ENDTCPSVR 'SERVER(*VPN)'
done
finish "on-demand and autostarted connections"
