#!/bin/bash
# STRTCPSVR / ENDTCPSVR SERVER(*VPN) and what the runtime commands say around
# them, in a network namespace of its own:
#
#   [qv-vm-a]  lo + dummy qvvm0 192.0.2.227/24, 2001:db8::227/64
#      QTOVMAN (state root A) on UDP 500/4500, v4 and v6
#      QTOVMAN (state root B) tries the same ports -> ends during start
#
# Checks: start (QTOVMAN and its key manager QTOKVPNIK2), start twice, end
# (both processes gone), end twice, end before start, a server that
# dies during start (port taken), SIGKILL of QTOVMAN then a clean restart
# (VMN001E), the job log, IPC0001 without a server, TCP8050 without
# authority, and an unknown connection (VMN0017, TCP8601 / TCP8602 reason 1).
set -u
. "$(dirname "$0")/lib.sh"
need_root
NS=qv-vm-life
trap 'cleanup_ns $NS; rm -rf "$TMP"' EXIT
TMP=$(mktemp -d /tmp/qv-vm-life.XXXXXX)
make_ns $NS
ip -n $NS link add qvvm0 type veth peer name qvvm1
ip -n $NS link set qvvm1 up
ip -n $NS addr add 192.0.2.227/24 dev qvvm0
ip -n $NS addr add 2001:db8::227/64 dev qvvm0 nodad
ip -n $NS link set qvvm0 up
A=$TMP/a B=$TMP/b
in_a() { ip netns exec $NS env QVPN_ROOT=$A "$@"; }
in_b() { ip netns exec $NS env QVPN_ROOT=$B "$@"; }

# Not started yet.
expect_rc 1 VMN0004 in_a ENDTCPSVR 'SERVER(*VPN)'
expect_rc 1 IPC0001 in_a STRVPNCNN 'CNN(HRgw2FINgw)'
expect_rc 1 VMN0006 in_a STRTCPSVR 'SERVER(*HTTP)'
expect_rc 2 CPF0001 in_a STRTCPSVR 'SERVER(*NOSUCH)'

# Start, and start again.
expect_rc 0 VMN0001 in_a STRTCPSVR 'SERVER(*VPN)'
pid=$(cat $A/run/QTOVMAN.pid)
[ -S $A/run/QTOVMAN.sock ] || fail "no socket"
[ "$(stat -c %a $A/run/QTOVMAN.sock)" = 660 ] || fail "socket mode $(stat -c %a $A/run/QTOVMAN.sock)"
expect_rc 1 VMN0003 in_a STRTCPSVR 'SERVER(*VPN)'
# QTOVMAN started its key manager QTOKVPNIK2 (VMN0010 names its process).
km=$(ip netns exec $NS ps -o pid= --ppid "$pid" | tr -d ' ')
[ -n "$km" ] && [ "$(cat /proc/$km/comm 2>/dev/null)" = QTOKVPNIK2 ] || fail "no QTOKVPNIK2 child of QTOVMAN: '$km'"
grep -q "\"msgid\":\"VMN0010\".*\"values\":\[\"QTOKVPNIK2\",\"$km\"\]" $A/joblog/QTOVMAN.log \
  || fail "VMN0010 does not name QTOKVPNIK2 $km"
socks=$(ip netns exec $NS ss -ulnp | grep -c "pid=$pid,")
[ "$socks" -ge 4 ] || fail "QTOVMAN holds $socks UDP sockets, want 500+4500 for v4 and v6"
ip netns exec $NS ss -ulnp | grep "pid=$pid," | grep -q '0.0.0.0:500 ' || fail "no UDP 500 v4"
ip netns exec $NS ss -ulnp | grep "pid=$pid," | grep -q '\[::\]:4500 ' || fail "no UDP 4500 v6"

# Another system on the same ports ends during start.
expect_rc 1 VMN0005 in_b STRTCPSVR 'SERVER(*VPN)'
grep -q '"msgid":"VMN001D"' $B/joblog/QTOVMAN.log || fail "B's job log lacks VMN001D"

# DSPJOBLOG --follow shows what the job writes from now on.
in_a DSPJOBLOG QTOVMAN --follow > $TMP/follow.txt &
follow=$!
sleep 0.5
# An unknown connection: the detail, then TCP8601 / TCP8602 with reason 1.
out=$(in_a STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(5)' 2>&1); rc=$?
[ $rc = 1 ] || fail "STRVPNCNN rc $rc: $out"
echo "$out" | head -1 | grep -q '^VMN0017' || fail "first message: $out"
echo "$out" | tail -1 | grep -q '^TCP8601: .*HRgw2FINgw, reason code 1' || fail "last: $out"
in_a DSPJOBLOG QTOVMAN 'MSGID(TCP8601)' | grep -q 'conn=HRgw2FINgw' || fail "job log lacks TCP8601"
out=$(in_a ENDVPNCNN 'CNN(HRgw2FINgw)' 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q '^VMN0017' && echo "$out" | tail -1 | grep -q '^TCP8602: .*reason code 1' \
  || fail "ENDVPNCNN unknown: rc $rc $out"
expect_rc 1 VMN0017 in_a RSTVPNCNN 'CNN(HRgw2FINgw)'
sleep 0.5
kill $follow
wait $follow 2>/dev/null
grep -q 'TCP8601 .*conn=HRgw2FINgw' $TMP/follow.txt || fail "--follow missed TCP8601: $(cat $TMP/follow.txt)"
grep -q 'TCP8602 .*conn=HRgw2FINgw' $TMP/follow.txt || fail "--follow missed TCP8602"
js=$(in_a DSPJOBLOG QTOVMAN --json)
[ "${js:0:1}" = "[" ] && echo "$js" | grep -q '"msgid":"VMN0001"' || fail "DSPJOBLOG --json: $js"
expect_rc 1 CPF3C53 in_a DSPJOBLOG 'JOB(NOSUCHJOB)'

# Authority: a user outside qvpnadm is refused by the command.
expect_rc 3 TCP8050 ip netns exec $NS setpriv --reuid=65534 --regid=65534 --clear-groups \
  env QVPN_ROOT=$A STRVPNCNN 'CNN(X)'

# End, and end again.
expect_rc 0 VMN0002 in_a ENDTCPSVR 'SERVER(*VPN)'
alive $pid && fail "QTOVMAN $pid still runs"
alive $km && fail "QTOKVPNIK2 $km still runs"
grep -q '"msgid":"IKE0B06"' $A/joblog/QTOKVPNIK2.log || fail "QTOKVPNIK2 did not log its end (IKE0B06)"
[ -e $A/run/QTOVMAN.sock ] && fail "socket left behind"
[ -e $A/run/QTOVMAN.pid ] && fail "pid file left behind"
expect_rc 1 VMN0004 in_a ENDTCPSVR 'SERVER(*VPN)'

# Killed: the next start recovers (VMN001E) and works.
expect_rc 0 VMN0001 in_a STRTCPSVR 'SERVER(*VPN)'
pid=$(cat $A/run/QTOVMAN.pid)
kill -9 $pid
for _ in $(seq 50); do alive $pid || break; sleep 0.1; done
expect_rc 1 VMN0004 in_a ENDTCPSVR 'SERVER(*VPN)'
expect_rc 0 VMN0001 in_a STRTCPSVR 'SERVER(*VPN)'
grep -q '"msgid":"VMN001E"' $A/joblog/QTOVMAN.log || fail "no recovery message VMN001E"
expect_rc 0 VMN0002 in_a ENDTCPSVR 'SERVER(*VPN)'
pass
