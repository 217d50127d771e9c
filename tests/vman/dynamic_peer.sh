#!/bin/bash
# A dynamic-key connection between two qvpn systems, through everything that
# can go wrong with it: a wrong preshared key, the key manager killed while
# the connection is enabled, QTOVMAN killed while it negotiates, the server
# ended under an enabled connection. Configured with CRTVPNCNN; the data
# path is QVPNDTAPTH's (*AUTO: userspace ESP on a kernel without ESP).
#
#   [qvc-dp-a] System A                                 [qvc-dp-c] System C
#     10.6.11.1/16 (lo)                                    10.196.8.5/24 (lo)
#     192.0.2.227 qvc-dpa0 ======================== qvc-dpc0 198.51.100.250
#       HRgw2FINgw: *GW2GW, 10.6.0.0/16 <-> 10.196.8.0/24, JRN(*ALL)
#
# Checks:
#  1. A's preshared key differs from C's: STRVPNCNN fails with TCP8606
#     reason 24 then TCP8601 reason 3, in the reply, A's job log and journal;
#     no SA on either side; RSTVPNCNN returns it to idle.
#  1b. The key corrected (CHGVPNKEYP), but C's connection protects another
#     subnet (CHGVPNDKC): TCP8606 reason 8407 (no phase 2 policy), C's side
#     in error too.
#  2. C's connection corrected: STRVPNCNN WAIT(*NOWAIT) answers
#     VMN0023, the connection becomes enabled, traffic passes.
#  3. DSPJRN OUTFILE of A's real journal, the *ENABLED and *ERROR entries
#     field by field.
#  4. QTOKVPNIK2 killed with SIGKILL: QTOVMAN says so (VMN0011), starts it
#     again, the connection negotiates again and is enabled, traffic passes;
#     C keeps one connection (INITIAL_CONTACT replaced the old IKE SA).
#  5. C's QTOKVPNIK2 killed: the connection A started cannot be negotiated
#     again from C, so C's side goes to error (TCP8605, TCP8601 reason 5).
#  6. C's server ended, A starts the connection with no one answering,
#     QTOVMAN killed with SIGKILL mid-negotiation: its key manager ends with
#     it; the next server recovers (VMN001E), the connection is idle, no SA
#     or policy is left, the journal kept every entry.
#  7. Both servers up again, the connection enabled, C's QTOVMAN killed
#     with SIGKILL: ENDVPNCNN on A still ends it; C's next server recovers
#     (VMN001E) with the connection idle.
#  8. C's answers dropped, STRVPNCNN on A, A's QTOKVPNIK2 killed while it
#     retransmits: the new key manager negotiates the connection again, and
#     once C's answers arrive it is enabled.
#  9. ENDTCPSVR on A ends the enabled connection first: C's side ends too,
#     nothing left on A.
#
# Exit 0 pass, 1 fail, 77 skipped (not root, tools missing; a failure under
# CI=true).
. "$(dirname "$0")/../scenarios/lib.sh"
need_root
need busybox sqlite3 jq "$QVPN_LIBEXEC/QTOIPFJRN"
need_qvpn CRTLINETH CRTVPNCNN CHGVPNKEYP CHGVPNDKC WRKVPNCNN STRTCPSVR ENDTCPSVR STRVPNCNN ENDVPNCNN RSTVPNCNN \
	DSPVPNCNN DSPJRN DSPJOBLOG
workdir dynpeer
A=qvc-dp-a C=qvc-dp-c
PSK=topsecretstuff

in_ns $A
in_ns $C
in_veth $A qvc-dpa0 192.0.2.227/24 $C qvc-dpc0 198.51.100.250/24
ip -n $A route add 198.51.100.250/32 dev qvc-dpa0
ip -n $C route add 192.0.2.227/32 dev qvc-dpc0
ip -n $A addr add 10.6.11.1/16 dev lo
ip -n $C addr add 10.196.8.5/24 dev lo
in_system A $A "$WORK/systemA"
in_system C $C "$WORK/systemC"

configure() { # S PSK LOCAL REMOTE LNET LMASK RNET RMASK IF
	sys "$1" CRTLINETH 'LIND(TRLINE)' "RSRCNAME($9)" >/dev/null || die "CRTLINETH on $1"
	sys "$1" CRTVPNCNN 'NAME(HRgw2FINgw)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' "PSK('$2')" \
		"LCLKEYSVR(*IPV4 $3)" "RMTKEYSVR(*IPV4 $4)" \
		"LCLDTAEP(*IPV4SUBNET $5 $6)" "RMTDTAEP(*IPV4SUBNET $7 $8)" \
		'DTAPCY(*BALANCED)' 'LIND(TRLINE)' 'OTHERTRAFFIC(*PERMIT)' 'JRN(*ALL)' 'ACTFTR(*YES)' \
		>/dev/null || die "CRTVPNCNN on $1"
}
configure A wrongsecretstuff 192.0.2.227 198.51.100.250 10.6.0.0 255.255.0.0 10.196.8.0 255.255.255.0 qvc-dpa0
configure C $PSK 198.51.100.250 192.0.2.227 10.196.8.0 255.255.255.0 10.6.0.0 255.255.0.0 qvc-dpc0
for s in A C; do
	expect_msg 0 VMN0001 $s STRTCPSVR 'SERVER(*VPN)' || die "server $s"
done

# pid_of NS PROGRAM: the process of that name in the namespace.
pid_of() {
	local p
	for p in $(ip netns pids "$1"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = "$2" ] && echo "$p" && return 0
	done
	return 1
}
ping_ok() { ip netns exec $A busybox ping -c 2 -W 2 -I 10.6.11.1 10.196.8.5 >/dev/null 2>&1; }
sa_count() { sys "$1" DSPVPNCNN "CNN($2)" --json | jq '.live.sas | length'; }
n_entries() { journal_csv A | tail -n +2 | wc -l; }

step "1. A wrong preshared key"
expect_msg 1 TCP8601 A STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(30)'
sys C DSPJOBLOG 'JOB(QTOKVPNIK2)' 'MSGID(IKE0909)' --json | grep -q 'HRgw2FINgw:R1' ||
	bad "C's QTOKVPNIK2 job log lacks the authentication failure (IKE0909)"
head -1 <<<"$OUT" | grep -q '^TCP8606: .*HRgw2FINgw:L1, reason code 24\.' ||
	bad "first message is not TCP8606 reason 24: $OUT"
tail -1 <<<"$OUT" | grep -q '^TCP8601: .*HRgw2FINgw:L1, reason code 3\.' ||
	bad "last message is not TCP8601 reason 3: $OUT"
ids=$(joblog_ids A QTOVMAN HRgw2FINgw:L1)
[ "$ids" = "TCP8606 TCP8601 " ] || bad "A's job log for HRgw2FINgw:L1: '$ids'"
check "A: *ERROR with TCP8606" is_state A HRgw2FINgw:L1 '*ERROR'
sys A DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json | jq -e '.live.error | startswith("TCP8606")' >/dev/null ||
	bad "DSPVPNCNN does not show the error: $(sys A DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json)"
journal_csv A | tail -1 | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*ERROR,.*,TCP8606$' ||
	bad "A's journal: $(journal_csv A | tail -1)"
[ "$(sa_count A HRgw2FINgw:L1)" = 0 ] || bad "A holds SAs after the failure"
is_state C HRgw2FINgw:R1 '*ENABLED' && bad "C enabled a connection A could not authenticate"
expect_msg 0 VMN0016 A RSTVPNCNN 'CNN(hrgw2fingw)'

step "1b. The key corrected, but C's connection protects another subnet"
sys A CHGVPNKEYP 'KEYPCY(HRgw2FINgw)' "PSK('$PSK')" >/dev/null || bad "CHGVPNKEYP"
sys C CHGVPNDKC 'CNN(HRgw2FINgw:L1)' 'LCLDTAEP(*IPV4SUBNET 10.196.9.0 255.255.255.0)' >/dev/null ||
	bad "CHGVPNDKC on C"
expect_msg 1 TCP8601 A STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(30)'
head -1 <<<"$OUT" | grep -q '^TCP8606: .*HRgw2FINgw:L1, reason code 8407\.' ||
	bad "first message is not TCP8606 reason 8407: $OUT"
tail -1 <<<"$OUT" | grep -q '^TCP8601: .*reason code 3\.' || bad "last message: $OUT"
check "A: *ERROR" is_state A HRgw2FINgw:L1 '*ERROR'
[ "$(sa_count A HRgw2FINgw:L1)" = 0 ] || bad "A holds SAs after the failure"
expect_msg 0 VMN0016 A RSTVPNCNN 'CNN(HRgw2FINgw)'
# C refused the CHILD_SA of the connection A started: its side is in error
# too, and keeps its name until reset.
check "C: HRgw2FINgw:R1 in error" is_state C HRgw2FINgw:R1 '*ERROR'
expect_msg 0 VMN0016 C RSTVPNCNN 'CNN(HRgw2FINgw:R1)'
sys C CHGVPNDKC 'CNN(HRgw2FINgw:L1)' 'LCLDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)' >/dev/null ||
	bad "CHGVPNDKC on C (back)"

step "2. Everything agrees, started without waiting"
expect_msg 0 VMN0023 A STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(*NOWAIT)'
check "A: HRgw2FINgw:L1 enabled" wait_for 20 is_state A HRgw2FINgw:L1 '*ENABLED'
check "C: HRgw2FINgw:R1 enabled" wait_for 10 is_state C HRgw2FINgw:R1 '*ENABLED'
check "traffic passes the tunnel" ping_ok
expect_msg 0 VMN0019 A STRVPNCNN 'CNN(HRGW2FINGW)'
wrk=$(sys A WRKVPNCNN)
grep -q 'HRgw2FINgw:L1 .*\*ENABLED' <<<"$wrk" || bad "WRKVPNCNN: $wrk"
read -r a_in a_out <<<"$(live_spis A HRgw2FINgw:L1)"
[ -n "$a_out" ] && grep -q "$a_out" <<<"$wrk" || bad "WRKVPNCNN lacks the outbound SPI '$a_out': $wrk"

step "3. DSPJRN of A's journal, field by field"
expect_msg 0 JRN0007 A DSPJRN 'JRN(QVPN)' 'JRNCDE((M))' 'ENTTYP((TS))' 'OUTPUT(*OUTFILE)' \
	'OUTFILFMT(*TYPE4)' 'OUTFILE(QGPL/VPNJRN)'
db=$WORK/systemA/lib/QGPL.db
today=$(date +%Y%m%d)
q() { sqlite3 -separator '|' "$db" "$1"; }
row=$(q "SELECT TSCODE,TSENTT,TSJOB,TSPGM,TSCMPN,TSCONM,TSCOTY,TSCOS,TSCOSD,TSLCAD,TSRCAD,TSLEP,TSREP,TSCORF,TSSAPH,TSAUTH,TSENCR,TSDHGR,TSERRC,TSCOED,length(TSCOST),length(TSRFDA),length(TSRFTI),TSTRPR,TSLCPR,TSCPR,TSRFLS,TSUSER,length(TSTIME) FROM VPNJRN WHERE TSCOS='*ENABLED' ORDER BY TSSEQN DESC LIMIT 1")
want="M|TS|QTOVMAN|QTOVMAN|QTOVMAN|HRgw2FINgw:L1|*DYNAMIC|*ENABLED|$today|10.6.0.0/16|10.196.8.0/24|192.0.2.227|198.51.100.250|0|2|*NONE|*AESGCM128|19|||6|8|6|*ANY|*ANY|*ANY|*NOMAX|ROOT|26"
[ "$row" = "$want" ] || bad "*ENABLED entry: $row (want $want)"
# Phase 1: the IKE SA's authentication method and cipher (*BALANCED key
# policy); phase 2 above: the CHILD_SA's (*BALANCED data policy: AES-GCM).
row=$(q "SELECT TSCOS,TSAUTH,TSENCR,TSDHGR FROM VPNJRN WHERE TSSAPH='1' AND TSAUTH<>'' LIMIT 1")
[ "$row" = "*STARTING|*PSK|*AESCBC128|19" ] || bad "phase 1 entry: $row"
row=$(q "SELECT TSCONM,TSCOS,TSCOSD,TSCOED,length(TSCOET),TSERRC FROM VPNJRN WHERE TSCOS='*ERROR' ORDER BY TSSEQN LIMIT 1")
[ "$row" = "HRgw2FINgw:L1|*ERROR|$today|$today|6|TCP8606" ] || bad "*ERROR entry: $row"
seqs=$(q "SELECT group_concat(TSSEQN, ' ') FROM VPNJRN")
[ "$seqs" = "$(seq -s ' ' 1 "$(q 'SELECT count(*) FROM VPNJRN')")" ] || bad "sequence numbers: $seqs"
ok "DSPJRN outfile checked"

step "4. QTOKVPNIK2 killed while the connection is enabled"
km=$(pid_of $A QTOKVPNIK2) || die "A: no QTOKVPNIK2"
before=$(n_entries)
kill -9 "$km"
check "QTOVMAN reports the end (VMN0011)" wait_for 5 grep -q '"msgid":"VMN0011"' "$WORK/systemA/joblog/QTOVMAN.log"
new_km() { local p; p=$(pid_of $A QTOKVPNIK2) && [ "$p" != "$km" ]; }
check "QTOKVPNIK2 runs again" wait_for 10 new_km
check "A: enabled again" wait_for 20 is_state A HRgw2FINgw:L1 '*ENABLED'
journal_csv A | tail -n +$((before + 2)) | grep -q ',\*STARTING,.*,TCP8605$' ||
	bad "A's journal lacks *STARTING with TCP8605 after the key manager ended"
check "traffic passes after the key manager restart" ping_ok
check "C: one connection, enabled" wait_for 10 is_state C HRgw2FINgw:R1 '*ENABLED'
is_state C HRgw2FINgw:R2 '*ENABLED' && bad "C holds a second connection for A"

step "5. C's key manager killed: C's side (a peer's connection) goes to error"
km=$(pid_of $C QTOKVPNIK2) || die "C: no QTOKVPNIK2"
kill -9 "$km"
check "C: HRgw2FINgw:R1 in error" wait_for 10 is_state C HRgw2FINgw:R1 '*ERROR'
ids=$(joblog_ids C QTOVMAN HRgw2FINgw:R1)
[[ "$ids" == *"TCP8605 TCP8601 " ]] || bad "C's job log for HRgw2FINgw:R1: '$ids'"
grep -q '"msgid":"TCP8601".*reason code 5\|"TCP8601".*"5"' "$WORK/systemC/joblog/QTOVMAN.log" ||
	sys C DSPJOBLOG QTOVMAN 'MSGID(TCP8601)' | grep -q 'HRgw2FINgw:R1, reason code 5' ||
	bad "C: no TCP8601 reason 5 for HRgw2FINgw:R1"
expect_msg 0 VMN0015 A ENDVPNCNN 'CNN(HRgw2FINgw)'
check "A: idle" is_state A HRgw2FINgw:L1 '*IDLE'
expect_msg 0 VMN0016 C RSTVPNCNN 'CNN(HRgw2FINgw:R1)'

step "6. QTOVMAN killed with SIGKILL mid-negotiation"
expect_msg 0 VMN0002 C ENDTCPSVR 'SERVER(*VPN)'
expect_msg 0 VMN0023 A STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(*NOWAIT)'
sleep 1
check "A: starting (no one answers)" is_state A HRgw2FINgw:L1 '*STARTING'
vman=$(cat "$WORK/systemA/run/QTOVMAN.pid")
km=$(pid_of $A QTOKVPNIK2)
before=$(n_entries)
kill -9 "$vman"
gone() { ! kill -0 "$1" 2>/dev/null; }
check "QTOKVPNIK2 ends with QTOVMAN" wait_for 5 gone "$km"
expect_msg 1 VMN0004 A ENDTCPSVR 'SERVER(*VPN)'
expect_msg 0 VMN0001 A STRTCPSVR 'SERVER(*VPN)'
grep -q '"msgid":"VMN001E"' "$WORK/systemA/joblog/QTOVMAN.log" || bad "no recovery message VMN001E"
check "A: idle after recovery" is_state A HRgw2FINgw:L1 '*IDLE'
[ "$(ip -n $A xfrm state | grep -c '^src')" = 0 ] || bad "XFRM states left: $(ip -n $A xfrm state)"
# (QTOVMAN's own IKE sockets carry per-socket bypass policies; only
# policies with a direction belong to connections.)
[ "$(ip -n $A xfrm policy | grep -c '^\s*dir ')" = 0 ] || bad "XFRM policies left: $(ip -n $A xfrm policy)"
[ "$(sa_count A HRgw2FINgw:L1)" = 0 ] || bad "SAs left in the data path"
[ "$(n_entries)" -ge "$before" ] || bad "journal lost entries: $before before, $(n_entries) after"
journal_csv A | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*STARTING,' || bad "the *STARTING entry is gone"

step "7. The peer's QTOVMAN killed under an enabled connection"
expect_msg 0 VMN0001 C STRTCPSVR 'SERVER(*VPN)'
expect_msg 0 VMN0014 A STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(30)'
check "traffic passes after recovery" ping_ok
kill -9 "$(cat "$WORK/systemC/run/QTOVMAN.pid")"
# The key manager deletes the CHILD_SA at once; the peer's answer is not
# waited for.
expect_msg 0 VMN0015 A ENDVPNCNN 'CNN(HRgw2FINgw)'
check "A: idle" is_state A HRgw2FINgw:L1 '*IDLE'
[ "$(sa_count A HRgw2FINgw:L1)" = 0 ] || bad "A holds SAs after the end"
expect_msg 0 VMN0001 C STRTCPSVR 'SERVER(*VPN)'
grep -q '"msgid":"VMN001E"' "$WORK/systemC/joblog/QTOVMAN.log" || bad "C: no recovery message VMN001E"
check "C: idle after recovery" is_state C HRgw2FINgw:R1 '*IDLE'

step "8. QTOKVPNIK2 killed mid-negotiation, back within the grace period"
# C's answers go nowhere for a while: A's IKE_SA_INIT is retransmitted.
ip -n $C route replace blackhole 192.0.2.227/32
expect_msg 0 VMN0023 A STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(*NOWAIT)'
sleep 1
check "A: starting" is_state A HRgw2FINgw:L1 '*STARTING'
km=$(pid_of $A QTOKVPNIK2) || die "A: no QTOKVPNIK2"
kill -9 "$km"
check "QTOKVPNIK2 runs again" wait_for 10 new_km
ip -n $C route replace 192.0.2.227/32 dev qvc-dpc0
check "A: enabled by the new key manager" wait_for 25 is_state A HRgw2FINgw:L1 '*ENABLED'
check "C: enabled" wait_for 10 is_state C HRgw2FINgw:R1 '*ENABLED'
check "traffic passes after the peer recovered" ping_ok

step "9. The server ended under an enabled connection"
expect_msg 0 VMN0002 A ENDTCPSVR 'SERVER(*VPN)'
ids=$(joblog_ids A QTOVMAN HRgw2FINgw:L1 | awk '{print $NF}')
[ "$ids" = VMN0015 ] || bad "A's last message for the connection: $ids"
check "C: its side ended with A's server" wait_for 10 is_state C HRgw2FINgw:R1 '*IDLE'
[ "$(ip -n $A xfrm state | grep -c '^src')" = 0 ] || bad "XFRM states left on A"
ip -n $A link show qvpn0 >/dev/null 2>&1 && bad "the data path's TUN device is left on A"
finish "dynamic connection between two systems"
