#!/bin/bash
# A dynamic-key connection whose peer never answers: STRVPNCNN WAIT(3)
# returns while it is still starting (VMN001C), and once QTOKVPNIK2 has
# retransmitted IKE_SA_INIT for its whole schedule (1+2+4+8+16+30 s) the
# connection fails with TCP8606 reason 8327 then TCP8601 reason 3.
#
#   [qvc-to] veth qvcto0 192.0.2.227/24, route to 198.51.100.250 into a
#            veth end where nothing answers
#
# Takes about 65 seconds.
set -u
. "$(dirname "$0")/lib.sh"
need_root
NS=qvc-to
TMP=$(mktemp -d /tmp/qvc-to.XXXXXX)
trap 'QVPN_ROOT=$TMP ip netns exec $NS ENDTCPSVR "SERVER(*VPN)" >/dev/null 2>&1; cleanup_ns $NS; rm -rf "$TMP"' EXIT
export QVPN_ROOT=$TMP
make_ns $NS
ip -n $NS link add qvcto0 type veth peer name qvcto1
ip -n $NS addr add 192.0.2.227/24 dev qvcto0
ip -n $NS link set qvcto0 up
ip -n $NS link set qvcto1 up
ip -n $NS route add 198.51.100.250/32 dev qvcto0
$QVPN_BUILD_DIR/tests/vman_policy_seed npf || fail "seed"
in_ns() { ip netns exec $NS "$@"; }

expect_rc 0 VMN0001 in_ns STRTCPSVR 'SERVER(*VPN)'
expect_rc 0 VMN001C in_ns STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(3)'
in_ns DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json | grep -A2 '"live"' | grep -q '"state": "\*STARTING"' \
  || fail "not *STARTING after WAIT(3)"
for _ in $(seq 90); do
	grep -q '"msgid":"TCP8601"' "$TMP/joblog/QTOVMAN.log" && break
	sleep 1
done
log=$(DSPJOBLOG QTOVMAN | grep 'conn=HRgw2FINgw:L1\b' | awk '{print $2}' | tr '\n' ' ')
[ "$log" = "TCP8606 TCP8601 " ] || fail "job log: $log"
DSPJOBLOG QTOVMAN 'MSGID(TCP8606)' | grep -q 'reason code 8327\.' || fail "TCP8606 not reason 8327"
DSPJOBLOG QTOVMAN 'MSGID(TCP8601)' | grep -q 'HRgw2FINgw:L1, reason code 3\.' || fail "TCP8601 not reason 3"
in_ns DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json | grep -A2 '"live"' | grep -q '"state": "\*ERROR"' \
  || fail "not *ERROR after the timeout"
DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | tr -d '\r' | tail -1 | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*ERROR,.*,TCP8606$' \
  || fail "journal: $(DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | tail -1)"
expect_rc 0 VMN0016 in_ns RSTVPNCNN 'CNN(HRgw2FINgw)'
expect_rc 0 VMN0002 in_ns ENDTCPSVR 'SERVER(*VPN)'
pass
