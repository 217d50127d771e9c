#!/bin/bash
# A key manager that dies and cannot come back: QTOVMAN says so (VMN0011),
# keeps trying with backoff, and after 30 seconds puts the connections that
# were waiting for it in error (TCP8605, TCP8601 reason 5).
#
#   [qvc-kl] veth qvckl0 192.0.2.227/24, route to 198.51.100.250 into a
#            veth end where nothing answers (the connection stays *STARTING)
#   QVPN_LIBEXEC: a directory of links to QTOVMAN and QTOKVPNIK2; the
#   QTOKVPNIK2 link is removed before the key manager is killed.
#
# Takes about 35 seconds.
set -u
. "$(dirname "$0")/lib.sh"
need_root
NS=qvc-kl
TMP=$(mktemp -d /tmp/qvc-kl.XXXXXX)
trap 'QVPN_ROOT=$TMP/root ip netns exec $NS ENDTCPSVR "SERVER(*VPN)" >/dev/null 2>&1; cleanup_ns $NS; rm -rf "$TMP"' EXIT
export QVPN_ROOT=$TMP/root
mkdir -p "$TMP/root" "$TMP/libexec"
for p in QTOVMAN QTOKVPNIK2; do
	ln -s "$QVPN_BUILD_DIR/libexec/qvpn/$p" "$TMP/libexec/$p"
done
export QVPN_LIBEXEC=$TMP/libexec
make_ns $NS
ip -n $NS link add qvckl0 type veth peer name qvckl1
ip -n $NS addr add 192.0.2.227/24 dev qvckl0
ip -n $NS link set qvckl0 up
ip -n $NS link set qvckl1 up
ip -n $NS route add 198.51.100.250/32 dev qvckl0
$QVPN_BUILD_DIR/tests/vman_policy_seed npf || fail "seed"
in_ns() { ip netns exec $NS "$@"; }
state() { in_ns DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json | grep -A2 '"live"' | grep -o '"state": "[^"]*"'; }

expect_rc 0 VMN0001 in_ns STRTCPSVR 'SERVER(*VPN)'
expect_rc 0 VMN0023 in_ns STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(*NOWAIT)'
[ "$(state)" = '"state": "*STARTING"' ] || fail "not starting: $(state)"
km=
for p in $(ip netns pids $NS); do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = QTOKVPNIK2 ] && km=$p
done
[ -n "$km" ] || fail "no QTOKVPNIK2 runs"
rm "$TMP/libexec/QTOKVPNIK2"
kill -9 "$km"
for _ in $(seq 50); do
	grep -q '"msgid":"VMN0011"' "$TMP/root/joblog/QTOVMAN.log" && break
	sleep 0.1
done
grep -q '"msgid":"VMN0011"' "$TMP/root/joblog/QTOVMAN.log" || fail "no VMN0011 for the killed key manager"
# Within the grace period the connection waits.
sleep 5
[ "$(state)" = '"state": "*STARTING"' ] || fail "gave up before the grace period: $(state)"
for _ in $(seq 40); do
	grep -q '"msgid":"TCP8601"' "$TMP/root/joblog/QTOVMAN.log" && break
	sleep 1
done
log=$(DSPJOBLOG QTOVMAN | grep 'conn=HRgw2FINgw:L1\b' | awk '{print $2}' | tr '\n' ' ')
[ "$log" = "TCP8605 TCP8601 " ] || fail "job log: $log"
DSPJOBLOG QTOVMAN 'MSGID(TCP8601)' | grep -q 'HRgw2FINgw:L1, reason code 5\.' || fail "TCP8601 not reason 5"
[ "$(state)" = '"state": "*ERROR"' ] || fail "not in error: $(state)"
DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | tr -d '\r' | tail -1 | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*ERROR,.*,TCP8605$' \
  || fail "journal: $(DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | tail -1)"
[ "$(grep -c '"msgid":"VMN0011"' "$TMP/root/joblog/QTOVMAN.log")" -ge 2 ] \
  || fail "QTOVMAN did not keep trying to restart the key manager"
expect_rc 0 VMN0002 in_ns ENDTCPSVR 'SERVER(*VPN)'
pass
