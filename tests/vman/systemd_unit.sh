#!/bin/bash
# The shipped systemd unit qvpn@.service, run the way systemd runs it
# (without systemd itself, which does not run in a test namespace):
#
#   [qvc-sd] lo + veth qvcsd0 192.0.2.227/24
#     ExecStart: QTOVMAN --foreground, QVPN_ROOT from the instance
#     ExecStop:  ENDTCPSVR SERVER(*VPN)      then, KillMode=mixed: SIGTERM
#
# Checks: the unit's lines; QTOVMAN in the foreground is the process systemd
# started (its pid file names it, no fork); ExecStop ends it with exit
# status 0; SIGTERM alone ends it cleanly too (VMN0009, VMN0002, no pid file,
# no socket); STRTCPSVR meanwhile says it is already started.
set -u
. "$(dirname "$0")/lib.sh"
need_root
UNIT=$QVPN_BUILD_DIR/systemd/qvpn@.service
[ -f "$UNIT" ] || fail "no unit at $UNIT"
NS=qvc-sd
TMP=$(mktemp -d /tmp/qvc-sd.XXXXXX)
trap 'QVPN_ROOT=$TMP ip netns exec $NS ENDTCPSVR "SERVER(*VPN)" >/dev/null 2>&1; cleanup_ns $NS; rm -rf "$TMP"' EXIT
export QVPN_ROOT=$TMP

# The unit: a simple service per state root, stopped by ENDTCPSVR.
grep -qx 'Type=simple' "$UNIT" || fail "unit: Type"
grep -qx 'Environment=QVPN_ROOT=%f' "$UNIT" || fail "unit: QVPN_ROOT"
grep -q '^ExecStart=/.*/QTOVMAN --foreground$' "$UNIT" || fail "unit: ExecStart"
grep -q '^ExecStop=/.*/ENDTCPSVR SERVER(\*VPN)$' "$UNIT" || fail "unit: ExecStop"
grep -qx 'Restart=on-failure' "$UNIT" || fail "unit: Restart"
grep -qx 'KillMode=mixed' "$UNIT" || fail "unit: KillMode"

make_ns $NS
ip -n $NS link add qvcsd0 type veth peer name qvcsd1
ip -n $NS addr add 192.0.2.227/24 dev qvcsd0
ip -n $NS link set qvcsd0 up

# start_foreground: what ExecStart does; sets $main.
start_foreground() {
	ip netns exec $NS "$QVPN_LIBEXEC/QTOVMAN" --foreground >"$TMP/stderr" 2>&1 &
	main=$!
	for _ in $(seq 50); do
		[ -S "$TMP/run/QTOVMAN.sock" ] && break
		sleep 0.1
	done
	[ -S "$TMP/run/QTOVMAN.sock" ] || fail "no socket: $(cat "$TMP/stderr")"
	[ "$(cat "$TMP/run/QTOVMAN.pid")" = "$main" ] || fail "QTOVMAN forked: pid file $(cat "$TMP/run/QTOVMAN.pid"), started $main"
}

start_foreground
expect_rc 1 VMN0003 ip netns exec $NS STRTCPSVR 'SERVER(*VPN)'
expect_rc 0 VMN0002 ip netns exec $NS ENDTCPSVR 'SERVER(*VPN)'
wait $main
rc=$?
[ $rc = 0 ] || fail "QTOVMAN exited $rc after ExecStop"

start_foreground
kill -TERM $main
wait $main
rc=$?
[ $rc = 0 ] || fail "QTOVMAN exited $rc after SIGTERM"
# What the second run logged, from its VMN0001 on.
since=$(awk '/"msgid":"VMN0001"/ {buf = ""} {buf = buf $0 "\n"} END {printf "%s", buf}' \
	"$TMP/joblog/QTOVMAN.log")
grep -q '"msgid":"VMN0009"' <<<"$since" || fail "no VMN0009 after SIGTERM: $since"
tail -1 <<<"$since" | grep -q '"msgid":"VMN0002"' || fail "not ended with VMN0002: $since"
[ -e "$TMP/run/QTOVMAN.pid" ] && fail "pid file left after SIGTERM"
[ -e "$TMP/run/QTOVMAN.sock" ] && fail "socket left after SIGTERM"
expect_rc 1 VMN0004 ip netns exec $NS ENDTCPSVR 'SERVER(*VPN)'
pass
