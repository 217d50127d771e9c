#!/bin/bash
# STRVPNCNN through a running QTOVMAN against real policy databases: the
# detail message and TCP8601 with its reason code, in the reply, in the
# QTOVMAN job log, in the state table, and in the QVPN journal.
#
#   [qv-vm-chk]  veth qvvm0 192.0.2.227/24 (System A's connection endpoint)
#     one QTOVMAN at a time, each with its own state root and configuration
set -u
. "$(dirname "$0")/lib.sh"
need_root
NS=qv-vm-chk
TMP=$(mktemp -d /tmp/qv-vm-chk.XXXXXX)
trap 'for r in "$TMP"/*; do QVPN_ROOT=$r ip netns exec $NS ENDTCPSVR "SERVER(*VPN)" >/dev/null 2>&1; done; cleanup_ns $NS; rm -rf "$TMP"' EXIT
make_ns $NS
ip -n $NS link add qvvm0 type veth peer name qvvm1
ip -n $NS addr add 192.0.2.227/24 dev qvvm0
ip -n $NS link set qvvm0 up
ip -n $NS link set qvvm1 up
SEED=$QVPN_BUILD_DIR/tests/vman_policy_seed

# start_fails VARIANT DETAIL REASON: configure, start the server, start the
# connection, check both messages everywhere they belong, end the server.
start_fails() {
	local variant=$1 detail=$2 reason=$3 root=$TMP/$1 out rc
	mkdir -p "$root"
	QVPN_ROOT=$root $SEED "$variant" || fail "seed $variant"
	QVPN_ROOT=$root ip netns exec $NS STRTCPSVR 'SERVER(*VPN)' >/dev/null || fail "server $variant"
	out=$(QVPN_ROOT=$root ip netns exec $NS STRVPNCNN 'CNN(hrgw2fingw)' 'WAIT(10)' 2>&1); rc=$?
	[ $rc = 1 ] || fail "$variant: rc $rc: $out"
	echo "$out" | head -1 | grep -q "^$detail" || fail "$variant: first message: $out"
	echo "$out" | tail -1 | grep -q "^TCP8601: Could not start VPN connection HRgw2FINgw:L1, reason code $reason\." \
	  || fail "$variant: last message: $out"
	# The job log: the same two messages, in that order, with conn=.
	local log
	log=$(QVPN_ROOT=$root DSPJOBLOG QTOVMAN | grep 'conn=HRgw2FINgw:L1' | awk '{print $2}' | tr '\n' ' ')
	[ "$log" = "$detail TCP8601 " ] || fail "$variant: job log has '$log'"
	# The journal: an *ERROR entry naming the detail message.
	local row
	row=$(QVPN_ROOT=$root DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | tr -d '\r' | tail -1)
	echo "$row" | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*ERROR,' || fail "$variant: journal: $row"
	echo "$row" | grep -q ",$detail\$" || fail "$variant: TSERRC: $row"
	# DSPVPNCNN: the state table and QTOVMAN's live section agree.
	local js
	js=$(QVPN_ROOT=$root ip netns exec $NS DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json)
	echo "$js" | grep -A2 '"live"' | grep -q '"state": "\*ERROR"' || fail "$variant: live state: $js"
	echo "$js" | grep -q "\"error\": \"$detail" || fail "$variant: live error: $js"
	# Starting again is refused until reset; reset makes it idle.
	expect_rc 1 VMN0019 env QVPN_ROOT=$root ip netns exec $NS STRVPNCNN 'CNN(HRgw2FINgw:L1)'
	expect_rc 0 VMN0016 env QVPN_ROOT=$root ip netns exec $NS RSTVPNCNN 'CNN(HRgw2FINgw)'
	expect_rc 1 VMN0018 env QVPN_ROOT=$root ip netns exec $NS RSTVPNCNN 'CNN(HRgw2FINgw)'
	QVPN_ROOT=$root ip netns exec $NS ENDTCPSVR 'SERVER(*VPN)' >/dev/null || fail "end $variant"
}

start_fails remote-init TCP8604 1
QVPN_ROOT=$TMP/remote-init DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 5' \
  || fail "remote-init: not reason code 5"
start_fails fqdn TCP8604 4
start_fails keyid TCP8604 4
# System C's configuration on System A's namespace: its endpoint is not here.
start_fails branch-c TCP8620 2
# System A's configuration with no packet rules loaded at all.
start_fails branch-a TCP8604 1
QVPN_ROOT=$TMP/branch-a DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 3' \
  || fail "branch-a: not reason code 3"
# A dynamic policy filter must be started by this system.
start_fails npf-both TCP8604 1
QVPN_ROOT=$TMP/npf-both DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 5' \
  || fail "npf-both: not reason code 5"
# Every check passes; no key manager is installed here (QVPN_LIBEXEC points
# to a directory with QTOVMAN only), so the key manager cannot be reached.
mkdir -p "$TMP/libexec"
ln -s "$QVPN_BUILD_DIR/libexec/qvpn/QTOVMAN" "$TMP/libexec/QTOVMAN"
QVPN_LIBEXEC=$TMP/libexec start_fails npf TCP8605 5
grep -q '"msgid":"VMN0025"' "$TMP/npf/joblog/QTOVMAN.log" || fail "npf: no VMN0025 for QTOKVPNIK2"

# On demand: armed at server start (traps through the SA backend), the first
# packet between the data endpoints starts it, which here ends at TCP8605.
root=$TMP/npf-ondemand
mkdir -p "$root"
QVPN_ROOT=$root $SEED npf-ondemand || fail "seed npf-ondemand"
ip -n $NS route add 198.51.100.250/32 dev qvvm0
export QVPN_LIBEXEC=$TMP/libexec
expect_rc 0 VMN0001 env QVPN_ROOT=$root ip netns exec $NS STRTCPSVR 'SERVER(*VPN)'
grep -q '"msgid":"VMN0024"' "$root/joblog/QTOVMAN.log" || fail "on-demand connection not armed"
expect_rc 0 'already \*ONDEMAND' env QVPN_ROOT=$root ip netns exec $NS STRVPNCNN 'CNN(HRgw2FINgw)'
# The first packet hits the trap (there is no peer to answer it either way).
ip netns exec $NS busybox ping -c 1 -W 1 -I 192.0.2.227 198.51.100.250 >/dev/null 2>&1
for _ in $(seq 30); do grep -q '"msgid":"TCP8601"' "$root/joblog/QTOVMAN.log" && break; sleep 0.1; done
log=$(QVPN_ROOT=$root DSPJOBLOG QTOVMAN | grep 'conn=HRgw2FINgw:L1' | awk '{print $2}' | tr '\n' ' ')
[ "$log" = "VMN0024 TCP8605 TCP8601 " ] || fail "on-demand job log: $log"
states=$(QVPN_ROOT=$root DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | tr -d '\r' | tail -n +2 | cut -d, -f19 | tr '\n' ' ')
[ "$states" = "*ONDEMAND *ERROR " ] || fail "on-demand journal: $states"
QVPN_ROOT=$root ip netns exec $NS ENDTCPSVR 'SERVER(*VPN)' >/dev/null
pass
