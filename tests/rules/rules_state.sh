#!/bin/bash
# Packet rules and the VPN configuration: a failed load changes nothing
# (table and state byte-identical), VPN-generated rules (INCVPN(*YES)) and
# what their policy filter does with cleartext, TCP5B28, rules under active
# connections, and RMVTCPTBL.
#
#   qv-ru-gc                                   qv-ru-gs
#   lo 10.196.8.1/32                           lo 10.6.0.1/32
#   qv-ru-gc0 192.0.2.2/24 ------------------- qv-ru-gs0 192.0.2.1/24  (line TRLINE)
#             192.0.2.3/24
#   qv-ru-gc1 198.51.100.2/24 ---------------- qv-ru-gs1 198.51.100.1/24
#
# The server's VPN configuration is the seed's branch office gateway
# HRgw2FINgw: key servers 192.0.2.1 and 192.0.2.2, data endpoints
# 10.6.0.0/16 (local) and 10.196.8.0/24 (remote), plus manual connection
# MANCNN.
. "$(dirname "$0")/lib.sh"

C=qv-ru-gc S=qv-ru-gs
qv_ns $C
qv_ns $S
qv_veth $C qv-ru-gc0 192.0.2.2/24 $S qv-ru-gs0 192.0.2.1/24
qv_veth $C qv-ru-gc1 198.51.100.2/24 $S qv-ru-gs1 198.51.100.1/24
ip -n $C addr add 192.0.2.3/24 dev qv-ru-gc0
ip -n $C addr add 10.196.8.1/32 dev lo
ip -n $S addr add 10.6.0.1/32 dev lo
ip -n $C route add 10.6.0.0/16 via 192.0.2.1
ip -n $S route add 10.196.8.0/24 via 192.0.2.2

qv_in $S "$QV_FIXTURE" --line TRLINE --interface qv-ru-gs0 --manual --no-permit-other ||
	qv_fail "cannot write the VPN configuration"
ping_ok() { qv_in $C busybox ping -c 1 -W 1 "$@" >/dev/null 2>&1; }
udp() {  # udp PORT COUNT SRC: datagrams that reached the server
	ip netns exec $S /usr/bin/python3 "$QV_NET" udp-count "$1" 1.0 >"$QV_TMP/udp" &
	local l=$!
	sleep 0.3
	qv_in $C /usr/bin/python3 "$QV_NET" udp-send 192.0.2.1 "$1" "$2" "$3" 500
	wait $l
	cat "$QV_TMP/udp"
}
dsp() { qv_in $S DSPIPFTR --json >"$QV_TMP/dsp.json" || qv_fail "DSPIPFTR"; }
py() { /usr/bin/python3 -c "import json; j = json.load(open('$QV_TMP/dsp.json')); $1"; }

# --- INCVPN(*YES) without STMF: exactly the generated rules ---
qv_expect 0 "LODIPFTR *LOAD *ALL INCVPN(*YES) loads the generated rules" \
	qv_in $S LODIPFTR '*LOAD' '*ALL' 'INCVPN(*YES)'
gen=$QVPN_ROOT/rulegen/qvpn_generated.i3p
[ -f "$gen" ] || qv_fail "no generated rules file in the rulegen directory"
grep -q "CONNECTION_DEFINITION = HRgw2FINgw" "$gen" || qv_fail "generated file lacks the policy filter"
dsp
py "
l = j['lines']
assert [x['line'] for x in l] == ['TRLINE'], l
assert l[0]['interface'] == 'qv-ru-gs0' and l[0]['incvpn'] and l[0]['file'] == '', l[0]
assert l[0]['sets'] == ['preipsec_HRgw2FINgw', 'policy_HRgw2FINgw', 'policy_MANCNN'], l[0]['sets']
pol = [r for r in l[0]['rules'] if r['action'] == 'IPSEC']
assert [r['connection'] for r in pol] == ['HRgw2FINgw', 'MANCNN'], pol
" || qv_fail "DSPIPFTR does not show the generated rules"
qv_ok "the line object TRLINE carries the generated sets on interface qv-ru-gs0"

# Pre-IPSec rules permit IKE between the key servers only (implicit IKE is
# off: the generated rules speak about UDP 500).
[ "$(udp 500 3 192.0.2.2)" = 3 ] || qv_fail "IKE from the remote key server"
qv_ok "IKE from the remote key server passes the pre-IPSec rule"
[ "$(udp 500 3 192.0.2.3)" = 0 ] || qv_fail "IKE from another address passed"
qv_ok "IKE from another address is denied"
# The policy filter: cleartext between the data endpoints never passes.
ping_ok -I 10.196.8.1 10.6.0.1 && qv_fail "cleartext to the protected subnet passed"
qv_ok "cleartext from 10.196.8.1 to 10.6.0.1 is dropped by the policy filter"
ping_ok 192.0.2.1 && qv_fail "without permit-other, other traffic must be denied"
qv_ok "without 'permit all other traffic', other traffic is denied"
dsp
py "
r = [r for r in j['lines'][0]['rules'] if r['connection'] == 'HRgw2FINgw'][0]
assert r['ipsec']['clear_dropped']['packets'] >= 1, r
assert r['ipsec']['secure']['packets'] == 0, r
" || qv_fail "the policy filter's cleartext counter"
qv_ok "DSPIPFTR counts the dropped cleartext on the policy filter"

# --- STMF and INCVPN together: the generated sets frame the file's ---
cat >"$QV_TMP/mine.i3p" <<'EOF'
FILTER SET mine ACTION = PERMIT DIRECTION = * PROTOCOL = ICMP
FILTER_INTERFACE LINE = TRLINE SET = mine
EOF
qv_expect 0 "STMF with INCVPN(*YES)" \
	qv_in $S LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/mine.i3p)" 'INCVPN(*YES)'
dsp
py "
l = j['lines'][0]
assert l['sets'] == ['preipsec_HRgw2FINgw', 'policy_HRgw2FINgw', 'policy_MANCNN', 'mine'], l['sets']
assert [r['number'] for r in l['rules'] if r['set'] == 'mine'] == [1], l['rules']
" || qv_fail "merged set order or rule numbers"
qv_ok "generated pre-IPSec and policy sets come first; the file keeps its rule numbers"
ping_ok 192.0.2.1 || qv_fail "the file's ICMP rule does not apply"
ping_ok -I 10.196.8.1 10.6.0.1 && qv_fail "the file's PERMIT came before the policy filter"
qv_ok "the policy filter still wins over the file's later PERMIT"

# --- a failed load changes nothing ---
before=$(qv_snapshot $S)
printf 'FILTER SET x ACTION = PERMIT DSTPORT = 99999\nFILTER_INTERFACE LINE = TRLINE SET = x\n' \
	>"$QV_TMP/syntax.i3p"
qv_expect 1 "a file with an error is refused" \
	qv_in $S LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/syntax.i3p)"
grep -q "RUL0107: $QV_TMP/syntax.i3p:1:" "$QV_TMP/out" || qv_fail "no RUL0107 with file:line:col"
grep -q "RUL0001" "$QV_TMP/out" || qv_fail "no RUL0001 escape message"
[ "$(qv_snapshot $S)" = "$before" ] || qv_fail "the refused file changed the table or the state"
qv_ok "table and state are byte-identical after a refused file"
printf 'FILTER SET x ACTION = IPSEC CONNECTION_DEFINITION = NOSUCH\nFILTER_INTERFACE LINE = TRLINE SET = x\n' \
	>"$QV_TMP/nocnn.i3p"
qv_expect 1 "an unknown connection definition is refused" \
	qv_in $S LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/nocnn.i3p)"
grep -q "RUL0148: $QV_TMP/nocnn.i3p:1:53: connection definition NOSUCH" "$QV_TMP/out" ||
	qv_fail "RUL0148 text"
# Two lines on one interface: found only after the state transaction began,
# so this proves the rollback.
printf 'FILTER SET x ACTION = PERMIT\nFILTER_INTERFACE LINE = TRLINE SET = x\nFILTER_INTERFACE LINE = qv-ru-gs0 SET = x\n' \
	>"$QV_TMP/twice.i3p"
qv_expect 1 "two lines on one interface are refused" \
	qv_in $S LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/twice.i3p)"
grep -q "NFT0115" "$QV_TMP/out" || qv_fail "no NFT0115"
[ "$(qv_snapshot $S)" = "$before" ] || qv_fail "a rolled-back load changed the table or the state"
qv_ok "a load refused inside the state transaction leaves both byte-identical"

# --- TCP5B28: connection definitions in another order than on another line ---
cat >"$QV_TMP/order1.i3p" <<'EOF'
FILTER SET p ACTION = IPSEC DSTADDR = 10.196.8.0/24 CONNECTION_DEFINITION = HRgw2FINgw
FILTER SET p ACTION = IPSEC DSTADDR = 10.196.9.0/24 CONNECTION_DEFINITION = MANCNN
FILTER SET p ACTION = PERMIT
FILTER_INTERFACE LINE = TRLINE SET = p
EOF
cat >"$QV_TMP/order2.i3p" <<'EOF'
FILTER SET q ACTION = IPSEC DSTADDR = 10.196.9.0/24 CONNECTION_DEFINITION = MANCNN
FILTER SET q ACTION = IPSEC DSTADDR = 10.196.8.0/24 CONNECTION_DEFINITION = HRgw2FINgw
FILTER SET q ACTION = PERMIT
FILTER_INTERFACE LINE = qv-ru-gs1 SET = q
EOF
qv_expect 0 "line TRLINE: HRgw2FINgw before MANCNN" \
	qv_in $S LODIPFTR '*LOAD' TRLINE "STMF($QV_TMP/order1.i3p)"
before=$(qv_snapshot $S)
qv_expect 1 "line qv-ru-gs1 with the other order is refused" \
	qv_in $S LODIPFTR '*LOAD' qv-ru-gs1 "STMF($QV_TMP/order2.i3p)"
grep -q "RUL0152" "$QV_TMP/out" && grep -q "TCP5B28: CONNECTION_DEFINITION order violation" "$QV_TMP/out" ||
	qv_fail "no RUL0152 and TCP5B28"
[ "$(qv_snapshot $S)" = "$before" ] || qv_fail "TCP5B28 changed the table or the state"
qv_ok "TCP5B28 names the order violation and loads nothing"
qv_expect 0 "the same file on *ALL replaces every line and loads" \
	qv_in $S LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/order2.i3p)"
dsp
py "assert [x['line'] for x in j['lines']] == ['qv-ru-gs1'], j['lines']" || qv_fail "*ALL kept TRLINE"

# --- per-line loads keep the other lines ---
qv_expect 0 "loading TRLINE alone keeps qv-ru-gs1" \
	qv_in $S LODIPFTR '*LOAD' TRLINE "STMF($QV_TMP/mine.i3p)"
dsp
py "assert sorted(x['line'] for x in j['lines']) == ['TRLINE', 'qv-ru-gs1'], j['lines']" ||
	qv_fail "per-line load dropped a line"
qv_expect 0 "unloading TRLINE alone" qv_in $S LODIPFTR '*UNLOAD' TRLINE
dsp
py "assert [x['line'] for x in j['lines']] == ['qv-ru-gs1'], j['lines']" || qv_fail "per-line unload"
qv_expect 1 "unloading a line without rules" qv_in $S LODIPFTR '*UNLOAD' TRLINE
grep -q NFT0111 "$QV_TMP/out" || qv_fail "no NFT0111"

# --- a record whose table is gone (as after a reboot) describes nothing ---
printf 'FILTER SET o ACTION = DENY PROTOCOL = UDP\nFILTER_INTERFACE LINE = qv-ru-gs1 SET = o\n' \
	>"$QV_TMP/other.i3p"
qv_expect 0 "TRLINE loaded beside qv-ru-gs1" qv_in $S LODIPFTR '*LOAD' TRLINE "STMF($QV_TMP/mine.i3p)"
ip netns exec $S nft delete table inet qvpn
qv_expect 0 "DSPIPFTR after the table vanished" qv_in $S DSPIPFTR --json
grep -q NFT0123 "$QV_TMP/out" || qv_fail "DSPIPFTR did not report the stale record"
qv_in $S DSPIPFTR --json 2>/dev/null >"$QV_TMP/dsp.json"
py "assert j['lines'] == [], j['lines']" || qv_fail "DSPIPFTR showed rules that are not active"
qv_expect 0 "a per-line load drops the stale record instead of reviving it" \
	qv_in $S LODIPFTR '*LOAD' qv-ru-gs1 "STMF($QV_TMP/other.i3p)"
grep -q NFT0123 "$QV_TMP/out" || qv_fail "LODIPFTR did not report the stale record"
dsp
py "assert [x['line'] for x in j['lines']] == ['qv-ru-gs1'], j['lines']" ||
	qv_fail "the stale TRLINE came back"

# --- rules cannot change under an active connection that uses them ---
qv_expect 0 "load the generated rules again" qv_in $S LODIPFTR '*LOAD' '*ALL' 'INCVPN(*YES)'
qv_in $S "$QV_FIXTURE" --state HRgw2FINgw:L1 '*ENABLED' || qv_fail "cannot set the state"
before=$(qv_snapshot $S)
qv_expect 1 "*UNLOAD under the active connection is refused" qv_in $S LODIPFTR '*UNLOAD' '*ALL'
grep -q "NFT0110: The active rules cannot be unloaded while VPN connection HRgw2FINgw:L1 is active" \
	"$QV_TMP/out" || qv_fail "NFT0110 text"
qv_expect 1 "*LOAD replacing them is refused too" \
	qv_in $S LODIPFTR '*LOAD' '*ALL' "STMF($QV_TMP/mine.i3p)"
[ "$(qv_snapshot $S)" = "$before" ] || qv_fail "refused changes altered the table or the state"
qv_ok "active connection: nothing changed"
qv_expect 0 "a line whose rules the connection does not use can still be loaded" \
	qv_in $S LODIPFTR '*LOAD' qv-ru-gs1 "STMF($QV_TMP/other.i3p)"

# --- RMVTCPTBL: the way out ---
ping_ok 192.0.2.1 && qv_fail "ping should be denied before RMVTCPTBL"
qv_expect 0 "RMVTCPTBL TBL(*IPFTR) removes every filter under the active connection" \
	qv_in $S RMVTCPTBL 'TBL(*IPFTR)'
ping_ok 192.0.2.1 || qv_fail "connectivity not restored"
qv_ok "connectivity is back"
ip netns exec $S nft list table inet qvpn >/dev/null 2>&1 && qv_fail "table inet qvpn remains"
[ -f "$QVPN_ROOT/ipfilter.db" ] && qv_fail "the state file remains"
[ -f "$gen" ] || qv_fail "TBL(*IPFTR) deleted the generated rules"
qv_ok "TBL(*IPFTR) keeps the generated rules file"
qv_in $S "$QV_FIXTURE" --state HRgw2FINgw:L1 '*IDLE' || qv_fail "cannot reset the state"
qv_expect 0 "load once more" qv_in $S LODIPFTR '*LOAD' '*ALL' 'INCVPN(*YES)'
touch "$QV_TMP/outside.i3p"

# With a VPN server "running" (something answers on QTOVMAN.sock) RMVTCPTBL
# ends it and starts it again with the executables beside it.
mkdir -p "$QV_TMP/bin"
cp "$QV_BIN/RMVTCPTBL" "$QV_TMP/bin/"
for cmd in ENDTCPSVR STRTCPSVR; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/server.log"\n' "$cmd" "$QV_TMP" >"$QV_TMP/bin/$cmd"
	chmod +x "$QV_TMP/bin/$cmd"
done
/usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4); time.sleep(30)
" "$QVPN_ROOT/run/QTOVMAN.sock" &
QV_PIDS+=($!)
sleep 0.3
qv_expect 0 "RMVTCPTBL *ALL with a running VPN server" qv_in $S "$QV_TMP/bin/RMVTCPTBL" '*ALL'
[ "$(cat "$QV_TMP/server.log")" = "ENDTCPSVR SERVER(*VPN)
STRTCPSVR SERVER(*VPN)" ] || qv_fail "server end/start: $(cat "$QV_TMP/server.log")"
grep -q NFT0151 "$QV_TMP/out" || qv_fail "no NFT0151"
qv_ok "the VPN server was ended and started again around the removal"
[ -z "$(ls -A "$QVPN_ROOT/rulegen")" ] || qv_fail "TBL(*ALL) left generated rules"
[ -f "$QV_TMP/outside.i3p" ] || qv_fail "RMVTCPTBL deleted a file outside the rulegen directory"
qv_ok "TBL(*ALL) empties the rulegen directory and nothing else"
n=$(qv_tf_count "TFREVT = 'U*' AND TFLINE = '*ALL' AND pgm = 'RMVTCPTBL'")
[ "$n" = 2 ] || qv_fail "RMVTCPTBL wrote $n U* entries, expected 2"
qv_ok "each RMVTCPTBL wrote a U* entry"
qv_expect 0 "RMVTCPTBL with nothing loaded is harmless" qv_in $S RMVTCPTBL
echo "PASS: rules_state"
