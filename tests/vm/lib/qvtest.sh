# shellcheck shell=bash
# tests/vm/lib/qvtest.sh -- helpers for test scripts: VM guest tests
# (run-vm.sh) and host namespace tests alike.
#
#   . /qvpn-test/lib/qvtest.sh          (host tests: tests/vm/lib/qvtest.sh)
#   qv_ns_add qv-sa-left ...           namespaces, removed at exit
#   qv_check <name> <command...>       run a check; QV:CHECK <name> ok|FAIL
#   qv_done                            the script's last line: it got through
#   trap qv_finish EXIT                copy artifacts, print QV:RESULT
#
# Every check is one console line the host counts; the test's verdict is
# whether any check failed. Artifacts go to $QV_WORK and are copied to the
# host's share ($QV_OUT) at the end.
QV_WORK=${QV_WORK:-/tmp/qv}
mkdir -p "$QV_WORK"
QV_FAILED=0
QV_CHECKS=0
QV_CLEANUP=()
exec 9>&1 # the console, even where a check's output is redirected
# a write to a FIFO whose reader died must fail, not kill the test
trap "" PIPE

qv_up() { cut -d' ' -f1 /proc/uptime; }
qv_emit() { echo "QV:$*" >&9; }
qv_log() { echo "[$(qv_up)] $*" >&2; }

# qv_check NAME CMD...: run CMD, record the outcome. Its output goes to
# $QV_WORK/check-NAME.out and, on failure, to the log.
qv_check() {
	local name=$1
	shift
	QV_CHECKS=$((QV_CHECKS + 1))
	if "$@" >"$QV_WORK/check-$name.out" 2>&1; then
		qv_emit "CHECK $name ok"
		return 0
	fi
	QV_FAILED=$((QV_FAILED + 1))
	qv_emit "CHECK $name FAIL"
	sed "s/^/  $name: /" "$QV_WORK/check-$name.out" | tail -25 >&2
	return 1
}

qv_on_exit() { QV_CLEANUP+=("$*"); }
qv_run_cleanup() {
	local i
	for ((i = ${#QV_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${QV_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	QV_CLEANUP=()
}

qv_done() {
	QV_DONE=1
	exit 0
}

qv_finish() {
	local status=$?
	if [ "${QV_DONE:-0}" != 1 ]; then
		# An unexpected exit (a failed command under set -e/-u, a signal)
		# is a failure, whatever the checks said so far.
		QV_FAILED=$((QV_FAILED + 1))
		qv_emit "CHECK completed FAIL (exit status $status before qv_done)"
	fi
	qv_run_cleanup
	if [ -n "${QV_OUT:-}" ]; then
		mkdir -p "$QV_OUT/guest"
		(cd "$QV_WORK" && find . -type f) | while read -r f; do
			mkdir -p "$QV_OUT/guest/$(dirname "$f")"
			cp "$QV_WORK/$f" "$QV_OUT/guest/$f"
		done
		dmesg >"$QV_OUT/dmesg.txt" 2>/dev/null
	fi
	[ -n "${QV_IN_VM:-}" ] && dmesg | grep -iE "alg: |xfrm|esp|BUG|WARNING" | tail -10 | sed "s/^/dmesg: /" >&9
	local rc=0
	[ "$QV_FAILED" = 0 ] && [ "$QV_CHECKS" -gt 0 ] || rc=1
	qv_emit "RESULT rc=$rc checks=$QV_CHECKS failed=$QV_FAILED uptime=$(qv_up)"
	exit $rc
}

# qv_ns_add NAME: a namespace with lo up (refuses to reuse one).
qv_ns_add() {
	if ip netns list | awk '{print $1}' | grep -qx -- "$1"; then
		qv_log "namespace $1 exists already"
		return 1
	fi
	ip netns add "$1" || return 1
	qv_on_exit "ip netns del '$1'"
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

# qv_veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B
qv_veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# qv_kill PID: TERM, wait up to 5 s, then KILL (our own children only).
qv_kill() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# qv_wait_line FILE REGEX [SECONDS]: wait until FILE has a matching line.
qv_wait_line() {
	local i n=$(( ${3:-20} * 10 ))
	for ((i = 0; i < n; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- wire counters: what a namespace SENDS on one device, counted in the
# device's netdev egress hook -- after any XFRM processing, exactly what goes
# on the wire. (Counting on the receiving side would also count the inner
# packets the kernel re-injects after decapsulation.) Counters: ESP, AH,
# IPComp, ESP-in-UDP (UDP 4500), cleartext ICMP between two addresses, and
# ESP packets longer than 1000 bytes (IPComp shrinks, TFC pads).
# qv_count NS NAME prints a counter's packets.
qv_wire_counters() {
	local ns=$1 dev=$2 a=$3 b=$4
	ip netns exec "$ns" nft -f - <<EOF
table netdev qvwire {
  counter n_esp {}
  counter n_ah {}
  counter n_comp {}
  counter n_udp4500 {}
  counter n_clear_icmp {}
  counter n_esp_big {}
  chain egress {
    type filter hook egress device "$dev" priority 0; policy accept;
    ip protocol esp counter name n_esp
    ip protocol esp ip length > 1000 counter name n_esp_big
    ip protocol ah counter name n_ah
    ip protocol 108 counter name n_comp
    udp dport 4500 counter name n_udp4500
    ip saddr { $a, $b } ip daddr { $a, $b } ip protocol icmp counter name n_clear_icmp
  }
}
EOF
}
qv_count() {
	ip netns exec "$1" nft list counter netdev qvwire "n_$2" 2>/dev/null |
		awk '/packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") { print $(i + 1); exit } }'
}
qv_reset_counters() {
	ip netns exec "$1" nft reset counters table netdev qvwire >/dev/null 2>&1
}
