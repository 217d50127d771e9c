#!/bin/bash
# Packet rules on a real kernel: what passes, what is denied, on ruled
# interfaces only; port and address operators; implicit IKE; QIPFILTER
# entries for JRN = FULL rules, exactly one per packet; the counters of
# DSPIPFTR; the lock-out check.
#
#   qv-ru-fc                      qv-ru-fs                        qv-ru-fd
#   qv-ru-fc0 192.0.2.2/24 ---- qv-ru-fs0 192.0.2.1/24 (rules)
#             192.0.2.3/24        qv-ru-fs1 198.51.100.1/24 ---- qv-ru-fd0 198.51.100.2/24
#                                 (no rules)
. "$(dirname "$0")/lib.sh"

C=qv-ru-fc S=qv-ru-fs D=qv-ru-fd
qv_ns $C
qv_ns $S
qv_ns $D
qv_veth $C qv-ru-fc0 192.0.2.2/24 $S qv-ru-fs0 192.0.2.1/24
ip -n $C addr add 192.0.2.3/24 dev qv-ru-fc0
ip -n $C addr add 2001:db8::2/64 dev qv-ru-fc0 nodad
ip -n $S addr add 2001:db8::1/64 dev qv-ru-fs0 nodad
qv_veth $S qv-ru-fs1 198.51.100.1/24 $D qv-ru-fd0 198.51.100.2/24
qv_bg $S /usr/bin/python3 "$QV_NET" tcp-serve 22 8022 8023
sleep 0.3

RULES=$QV_TMP/filter.i3p
cat >"$RULES" <<'EOF'
# Test rules for the server's line qv-ru-fs0.
ADDRESS client IP = 192.0.2.2
ADDRESS clients IP = 192.0.2.0 MASK = 255.255.255.0
SERVICE app PROTOCOL = TCP DSTPORT = 8022
FILTER SET basic ACTION = PERMIT DIRECTION = INBOUND SRCADDR = client SERVICE = app
FILTER SET basic ACTION = PERMIT DIRECTION = OUTBOUND DSTADDR = client PROTOCOL = TCP SRCPORT = 8022
FILTER SET basic ACTION = DENY DIRECTION = INBOUND PROTOCOL = UDP DSTPORT = 9003 JRN = FULL
FILTER SET basic ACTION = PERMIT DIRECTION = INBOUND SRCADDR = clients PROTOCOL = UDP %
       DSTPORT = 9000-9010
FILTER SET basic ACTION = PERMIT DIRECTION = INBOUND SRCADDR <> client PROTOCOL = UDP DSTPORT < 7000
FILTER SET journal ACTION = PERMIT DIRECTION = INBOUND PROTOCOL = UDP DSTPORT = 9100 JRN = FULL
FILTER SET journal ACTION = PERMIT DIRECTION = INBOUND PROTOCOL = UDP DSTPORT = 9101
FILTER SET journal ACTION = PERMIT DIRECTION = INBOUND PROTOCOL = UDP DSTPORT = 9102
FILTER SET journal ACTION = PERMIT DIRECTION = INBOUND PROTOCOL = ICMP TYPE = 8 CODE = 0
FILTER SET journal ACTION = PERMIT DIRECTION = OUTBOUND PROTOCOL = ICMP TYPE = 0
FILTER SET six ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 2001:db8::2 PROTOCOL = UDP DSTPORT = 9300
FILTER SET six ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 2001:db8::3 PROTOCOL = UDP DSTPORT = 9300
FILTER SET six ACTION = PERMIT DIRECTION = INBOUND SRCADDR = 2001:db8::/64 PROTOCOL = UDP %
       DSTPORT = 9310-9319 FRAGMENTS = ALL
FILTER_INTERFACE LINE = qv-ru-fs0 SET = basic, journal, six
EOF

tcp() { qv_in $1 /usr/bin/python3 "$QV_NET" tcp-try "${@:2}"; }
# udp NS_FROM HOST PORT COUNT [SRC]: datagrams that arrived at the server
udp() {
	local from=$1 host=$2 port=$3 count=$4 src=${5:-}
	ip netns exec $S /usr/bin/python3 "$QV_NET" udp-count "$port" 1.2 >"$QV_TMP/udp.$port" &
	local l=$!
	sleep 0.3
	qv_in "$from" /usr/bin/python3 "$QV_NET" udp-send "$host" "$port" "$count" $src
	wait $l
	cat "$QV_TMP/udp.$port"
}
expect_udp() {  # expect_udp WANT DESCRIPTION ARGS...
	local want=$1 what=$2
	shift 2
	local got
	got=$(udp "$@")
	[ "$got" = "$want" ] || qv_fail "$what: $got datagrams arrived, expected $want"
	qv_ok "$what"
}

# --- before any rules: everything flows ---
qv_expect 0 "no rules: TCP 8023 reaches the server" tcp $C 192.0.2.1 8023

qv_expect 0 "LODIPFTR loads the rules" qv_in $S LODIPFTR '*LOAD' '*ALL' "STMF($RULES)"
grep -q "NFT0001" "$QV_TMP/out" || qv_fail "no NFT0001 completion message"
grep -q "map u1_m1_i" <(ip netns exec $S nft list table inet qvpn) ||
	qv_fail "rules 6-8 did not become a verdict map"

# --- what is permitted flows, the rest is denied, on the ruled line only ---
qv_expect 0 "TCP 8022 from the client is permitted (SERVICE)" tcp $C 192.0.2.1 8022
qv_expect 1 "TCP 8022 from the second client address is denied" tcp $C 192.0.2.1 8022 192.0.2.3
qv_expect 1 "TCP 8023 falls to the default deny" tcp $C 192.0.2.1 8023
qv_expect 0 "TCP 8023 over the line without rules still flows" tcp $D 198.51.100.1 8023
expect_udp 5 "UDP 9005 inside the range 9000-9010 is permitted" $C 192.0.2.1 9005 5
expect_udp 0 "UDP 9003: the earlier DENY rule wins (first match)" $C 192.0.2.1 9003 5
expect_udp 0 "UDP 9011 is outside the range" $C 192.0.2.1 9011 5
expect_udp 3 "UDP 6999 from <> client (192.0.2.3) is permitted" $C 192.0.2.1 6999 3 192.0.2.3
expect_udp 0 "UDP 6999 from the client itself is not" $C 192.0.2.1 6999 3 192.0.2.2
expect_udp 0 "UDP 7000 is not below 7000" $C 192.0.2.1 7000 3 192.0.2.3
qv_expect 0 "ping (ICMP TYPE = 8 in, TYPE = 0 out) is permitted" \
	qv_in $C busybox ping -c 2 -W 1 192.0.2.1

# --- IPv6: a verdict map of ip6 addresses; neighbour discovery is implicit ---
grep -q "ip6 saddr . meta l4proto . th dport vmap" <(ip netns exec $S nft list table inet qvpn) ||
	qv_fail "the IPv6 rules did not become a verdict map"
expect_udp 4 "UDP 9300 from 2001:db8::2 is permitted" $C 2001:db8::1 9300 4
expect_udp 4 "UDP 9315 from the IPv6 subnet is permitted" $C 2001:db8::1 9315 4
expect_udp 0 "UDP 9301 over IPv6 is denied" $C 2001:db8::1 9301 4

# --- implicit IKE: no rule speaks about UDP 500 ---
expect_udp 4 "IKE (UDP 500) passes implicitly" $C 192.0.2.1 500 4
expect_udp 4 "NAT-T (UDP 4500) passes implicitly" $C 192.0.2.1 4500 4

# --- JRN = FULL: exactly one entry per packet; none for the default deny ---
expect_udp 50 "50 datagrams to the journaled rule arrive" $C 192.0.2.1 9100 50
expect_udp 0 "UDP 9200 hits the default deny" $C 192.0.2.1 9200 7
sleep 1.5
n=$(qv_tf_count "TFREVT = 'A' AND TFRNUM = '6'")
[ "$n" = 50 ] || qv_fail "rule 6 journaled $n entries for 50 packets"
qv_ok "rule 6: 50 packets, 50 QIPFILTER entries"
n=$(qv_tf_count "TFREVT = 'A' AND TFRNUM = '3' AND TFACT = 'DENY'")
[ "$n" = 5 ] || qv_fail "the journaled DENY rule wrote $n entries for 5 packets"
qv_ok "rule 3 (DENY, JRN = FULL): 5 packets, 5 entries"
n=$(qv_tf_count "TFREVT = 'A' AND TFDSTP = '9200'")
[ "$n" = 0 ] || qv_fail "the default deny was journaled ($n entries)"
qv_ok "the default deny is never journaled"
row=$(sqlite3 -separator '|' "$QVPN_ROOT/journal/QIPFILTER.db" "SELECT TFLINE, TFPDIR, TFACT, \
TFPROT, TFSRCA, TFDSTA, TFDSTP, job FROM entries WHERE TFRNUM = '6' LIMIT 1")
[ "$row" = "qv-ru-fs0|I|PERMIT|17|192.0.2.2|192.0.2.1|9100|QTOIPFJRN" ] ||
	qv_fail "action entry fields: $row"
qv_ok "action entries carry line, direction, action, protocol, addresses and ports"
n=$(qv_tf_count "TFREVT = 'L*'")
m=$(qv_tf_count "TFREVT = 'L' AND TFLINE = 'qv-ru-fs0'")
[ "$n" = 1 ] && [ "$m" = 1 ] || qv_fail "load entries: L* $n, L $m"
qv_ok "the load wrote L* and L entries"

# --- DSPIPFTR counters ---
qv_in $S DSPIPFTR --json >"$QV_TMP/dsp.json" || qv_fail "DSPIPFTR --json"
/usr/bin/python3 - "$QV_TMP/dsp.json" <<'EOF' || qv_fail "DSPIPFTR counters"
import json, sys
j = json.load(open(sys.argv[1]))
line = j["lines"][0]
rules = {r["number"]: r for r in line["rules"]}
assert line["line"] == "qv-ru-fs0", line["line"]
assert rules[6]["in"]["packets"] == 50, rules[6]
assert rules[3]["in"]["packets"] == 5, rules[3]
assert rules[4]["in"]["packets"] == 5, rules[4]
assert line["implicit"]["ike"]["in"]["packets"] == 8, line["implicit"]["ike"]
assert line["implicit"]["deny"]["in"]["packets"] >= 7 + 5 + 3 + 3, line["implicit"]["deny"]
assert j["journal_job"]["running"] and j["journal_job"]["written"] >= 55, j["journal_job"]
assert j["journal_job"]["dropped"] == 0, j["journal_job"]
EOF
qv_ok "DSPIPFTR counts packets per rule, implicit IKE and the default deny"
qv_expect 0 "DSPIPFTR text output" qv_in $S DSPIPFTR
grep -q "Default deny" "$QV_TMP/out" || qv_fail "DSPIPFTR text has no default deny line"

# --- a flood is bounded: the token bucket drops what is over the rate ---
qv_expect 0 "unload (ends the journal job)" qv_in $S LODIPFTR '*UNLOAD' '*ALL'
qv_expect 0 "reload with a journal rate of 20 entries/s, bursts of 30" \
	qv_in $S env QVPN_IPFJRN_RATE=20 QVPN_IPFJRN_BURST=30 LODIPFTR '*LOAD' '*ALL' "STMF($RULES)"
before=$(qv_tf_count "TFREVT = 'A'")
expect_udp 300 "300 datagrams in about a second to the journaled rule" $C 192.0.2.1 9100 300
sleep 1.5
written=$(( $(qv_tf_count "TFREVT = 'A'") - before ))
qv_in $S DSPIPFTR --json >"$QV_TMP/dsp.json" || qv_fail "DSPIPFTR --json"
dropped=$(/usr/bin/python3 -c "import json; print(json.load(open('$QV_TMP/dsp.json'))['journal_job']['dropped_rate'])")
[ "$written" -ge 30 ] && [ "$written" -lt 150 ] || qv_fail "$written entries written under the rate limit"
[ $((written + dropped)) = 300 ] || qv_fail "written $written + dropped $dropped is not 300"
qv_ok "the flood wrote $written entries and DSPIPFTR counts $dropped dropped"

# --- a rule that speaks about UDP 500 ends implicit IKE ---
sed 's/^FILTER_INTERFACE.*/FILTER SET basic ACTION = DENY DIRECTION = INBOUND PROTOCOL = UDP DSTPORT = 500\n&/' \
	"$RULES" >"$QV_TMP/ike.i3p"
qv_expect 0 "rules with a UDP 500 rule load" qv_in $S LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/ike.i3p)"
expect_udp 0 "UDP 500 is no longer implicit" $C 192.0.2.1 500 3
expect_udp 0 "nor is UDP 4500" $C 192.0.2.1 4500 3

# --- lock-out check ---
cat >"$QV_TMP/nossh.i3p" <<'EOF'
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND PROTOCOL = TCP DSTPORT = 8022
FILTER_INTERFACE LINE = qv-ru-fs0 SET = s
EOF
before=$(qv_snapshot $S)
qv_expect 1 "CHKLCKOUT(*YES) refuses rules that drop the SSH session" \
	qv_in $S env SSH_CONNECTION="192.0.2.2 50000 192.0.2.1 22" \
	LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/nossh.i3p)" 'CHKLCKOUT(*YES)'
grep -q "RUL0161" "$QV_TMP/out" || qv_fail "no RUL0161 for the default deny"
[ "$(qv_snapshot $S)" = "$before" ] || qv_fail "the refused load changed the table or the state"
cat >>"$QV_TMP/nossh.i3p" <<'EOF'
FILTER SET s ACTION = DENY DIRECTION = INBOUND PROTOCOL = TCP DSTPORT = 22
EOF
qv_expect 1 "a DENY rule for the session is named" \
	qv_in $S env SSH_CONNECTION="192.0.2.2 50000 192.0.2.1 22" \
	LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/nossh.i3p)" 'CHKLCKOUT(*YES)'
grep -q "RUL0160.*nossh.i3p:3:1: rule 2 would deny" "$QV_TMP/out" || qv_fail "RUL0160 text"
# Without SSH_CONNECTION: the TCP connection a parent of the command holds
# (opened while no rules are active).
qv_expect 0 "LODIPFTR *UNLOAD *ALL" qv_in $S LODIPFTR '*UNLOAD' '*ALL'
ip netns exec $C /usr/bin/python3 "$QV_NET" tcp-serve 2222 &
QV_PIDS+=($!)
sleep 0.3
qv_expect 1 "LODIPFTR under a process holding a TCP session refuses to cut it" \
	qv_in $S /usr/bin/python3 "$QV_NET" hold 192.0.2.2 2222 -- \
	env -u SSH_CONNECTION QVPN_ROOT="$QVPN_ROOT" "$QV_BIN/LODIPFTR" '*LOAD' '*ALL' \
	"STMF($QV_TMP/nossh.i3p)" 'CHKLCKOUT(*YES)'
grep -q "RUL0161" "$QV_TMP/out" || qv_fail "socket-based session: no RUL0161"
cat >"$QV_TMP/ssh.i3p" <<'EOF'
FILTER SET s ACTION = PERMIT DIRECTION = INBOUND PROTOCOL = TCP DSTPORT = 22
FILTER SET s ACTION = PERMIT DIRECTION = OUTBOUND PROTOCOL = TCP SRCPORT = 22
FILTER_INTERFACE LINE = qv-ru-fs0 SET = s
EOF
qv_expect 0 "rules that keep the session load with CHKLCKOUT(*YES)" \
	qv_in $S env SSH_CONNECTION="192.0.2.2 50000 192.0.2.1 22" \
	LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/ssh.i3p)" 'CHKLCKOUT(*YES)'

# --- unload: everything flows again, the journal job ends ---
qv_expect 0 "LODIPFTR *UNLOAD *ALL" qv_in $S LODIPFTR '*UNLOAD' '*ALL'
qv_expect 0 "after unloading, TCP 8023 flows again" tcp $C 192.0.2.1 8023
ip netns exec $S nft list table inet qvpn >/dev/null 2>&1 && qv_fail "table inet qvpn still there"
[ "$(qv_tf_count "TFREVT = 'U*' AND TFLINE = '*ALL'")" = 3 ] || qv_fail "U* entries missing"
qv_ok "the unload removed the table and wrote U*"
echo "PASS: rules_filter"
