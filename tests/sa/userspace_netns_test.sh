#!/bin/bash
# tests/sa/userspace_netns_test.sh -- the userspace data path against itself,
# on the host (no VM: the host kernel cannot do ESP, the userspace path does
# not need it).
#
#   [qv-sa-ul] lo 10.1.0.1/32          qvpn-espctl (userspace)  TUN qv-sa-tun
#              qv-sa-ulv 192.0.2.1/24 ===== qv-sa-urv 192.0.2.2/24
#   [qv-sa-ur] lo 10.2.0.1/32          qvpn-espctl (userspace)  TUN qv-sa-tun
#
# For each case both ends install the same manually keyed CHILD_SA
# (tests/vm/lib/sa.sh), pings cross in both directions, and the left's wire
# (netdev egress counters) shows only ESP/AH/ESP-in-UDP, never cleartext.
# Then: rekey under traffic, traps and acquires, byte lifetimes, malformed
# packets, the *AUTO fallback, cleanup after a crash.
set -u
SRC=${QVPN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${QVPN_BUILD_DIR:-$SRC/build}
ESPCTL=$BUILD/libexec/qvpn/qvpn-espctl
. "$SRC/tests/vm/lib/qvtest.sh"
. "$SRC/tests/vm/lib/sa.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (network namespaces)"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
[ -x "$ESPCTL" ] || { echo "FAIL: $ESPCTL not built"; exit 1; }
QV_WORK=$(mktemp -d /tmp/qv-sa-us.XXXXXX)
export QVPN_ROOT=$QV_WORK/root
trap 'qv_finish' EXIT
trap 'exit 130' INT TERM

L=qv-sa-ul R=qv-sa-ur
qv_ns_add $L || exit 1
qv_ns_add $R || exit 1
qv_veth $L qv-sa-ulv 192.0.2.1/24 $R qv-sa-urv 192.0.2.2/24
ip -n $L addr add 10.1.0.1/32 dev lo
ip -n $R addr add 10.2.0.1/32 dev lo
qv_wire_counters $L qv-sa-ulv 10.1.0.1 10.2.0.1
qv_wire_counters $R qv-sa-urv 10.1.0.1 10.2.0.1
PING="busybox ping"

# --- one espctl per side, commands through a FIFO --------------------------
declare -A PID OUT
RUNS=0
start() { # start SIDE NS [espctl options...] -- JSON files follow the options
	local side=$1 ns=$2
	shift 2
	local dir=$QV_WORK/$side
	mkdir -p "$dir"
	rm -f "$dir/in"
	mkfifo "$dir/in"
	RUNS=$((RUNS + 1))
	OUT[$side]=$dir/out.$RUNS
	ip netns exec "$ns" "$ESPCTL" run --tun qv-sa-tun "$@" <"$dir/in" >"${OUT[$side]}" 2>>"$dir/err" &
	PID[$side]=$!
	eval "exec {fd_$side}>\"$dir/in\""
	qv_wait_line "${OUT[$side]}" '^(READY|ERR)' 20 && grep -q '^READY' "${OUT[$side]}"
}
cmd() { # cmd SIDE COMMAND: print the answer line
	local side=$1 n
	shift
	n=$(wc -l <"${OUT[$side]}")
	local fdv="fd_$side"
	echo "$*" >&"${!fdv}"
	local i
	for ((i = 0; i < 100; i++)); do
		tail -n +$((n + 1)) "${OUT[$side]}" | grep -m1 -E '^(OK|ERR)' && return 0
		sleep 0.05
	done
	return 1
}
stop() { # stop SIDE: quit, wait, and require a clean DONE
	local side=$1 fdv="fd_$1"
	[ -n "${PID[$side]:-}" ] || return 0
	echo quit >&"${!fdv}" 2>/dev/null
	eval "exec ${!fdv}>&-"
	qv_wait_line "${OUT[$side]}" '^DONE' 10
	local ok=$?
	qv_kill "${PID[$side]}"
	PID[$side]=
	return $ok
}
qv_on_exit 'stop l; stop r'

pings() { # both directions, a small and a big packet each way
	$PING -c 2 -i 0.2 -W 2 -q "$@" && return 0
	return 1
}
cross() {
	ip netns exec $L $PING -c 3 -i 0.2 -W 2 -q 10.2.0.1 &&
		ip netns exec $L $PING -c 1 -s 1300 -W 2 -q 10.2.0.1 &&
		ip netns exec $R $PING -c 3 -i 0.2 -W 2 -q 10.1.0.1
}
wire_only_ipsec() { # CHANNEL: the left sent >= 4 packets on it, no cleartext ICMP
	local n clear
	n=$(qv_count $L "$1")
	clear=$(qv_count $L clear_icmp)
	echo "left sent: $1=$n clear_icmp=$clear"
	[ "${n:-0}" -ge 4 ] && [ "${clear:-1}" = 0 ]
}
no_routes_left() {
	! ip -n "$1" route show table 20822 2>/dev/null | grep -q . &&
		! ip -n "$1" rule | grep -q 'lookup 20822'
}

# run_case NAME CHANNEL [espctl options]: both ends, traffic, wire, teardown
run_case() {
	local name=$1 chan=$2
	shift 2
	qv_child_json "$QV_WORK/$name-l.json" l
	qv_child_json "$QV_WORK/$name-r.json" r
	qv_reset_counters $L
	qv_check "$name-start" start l $L "$@" "$QV_WORK/$name-l.json" &&
		qv_check "$name-start-peer" start r $R "$@" "$QV_WORK/$name-r.json" &&
		qv_check "$name-ping" cross &&
		qv_check "$name-wire" wire_only_ipsec "$chan"
	qv_check "$name-stop" stop l
	stop r
	qv_check "$name-clean" no_routes_left $L
}

# --- algorithms and modes ----------------------------------------------------
SA_ENCR=ENCR_AES_GCM_16 SA_BITS=128 run_case gcm128 esp
SA_ENCR=ENCR_AES_CBC SA_BITS=256 SA_INTEG=AUTH_HMAC_SHA2_256_128 run_case cbc256-sha256 esp
SA_ENCR=ENCR_AES_CCM_12 SA_BITS=192 run_case ccm192 esp
SA_ENCR=ENCR_3DES SA_BITS=192 SA_INTEG=AUTH_AES_XCBC_96 run_case 3des-xcbc esp
SA_ENCR=ENCR_AES_GCM_16 SA_ESN=true SA_WINDOW=256 run_case esn esp
SA_ENCAP=1 run_case encap-own udp4500 --udp-port 4500
SA_ENCAP=1 run_case encap-ike udp4500 --ike-port 4500
SA_AH_INTEG=AUTH_HMAC_SHA2_256_128 SA_ESP=0 run_case ah ah
SA_AH_INTEG=AUTH_HMAC_SHA1_96 SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA1_96 run_case ah-esp ah

# IPComp: big compressible pings leave as small ESP packets.
ipcomp_shrinks() {
	ip netns exec $L $PING -c 3 -s 1300 -W 2 -q 10.2.0.1 || return 1
	local big
	big=$(qv_count $L esp_big)
	echo "esp packets > 1000 bytes: $big"
	[ "$big" = 0 ]
}
SA_IPCOMP=1 run_case ipcomp esp
SA_IPCOMP=1 qv_child_json "$QV_WORK/comp-l.json" l
SA_IPCOMP=1 qv_child_json "$QV_WORK/comp-r.json" r
start l $L "$QV_WORK/comp-l.json" && start r $R "$QV_WORK/comp-r.json" && qv_reset_counters $L &&
	qv_check ipcomp-shrinks ipcomp_shrinks
stop l
stop r

# TFC: small pings leave padded to the MTU.
tfc_pads() {
	ip netns exec $L $PING -c 3 -i 0.2 -W 2 -q 10.2.0.1 || return 1
	local big
	big=$(qv_count $L esp_big)
	echo "esp packets > 1000 bytes: $big"
	[ "${big:-0}" -ge 3 ]
}
SA_TFC=true qv_child_json "$QV_WORK/tfc-l.json" l
SA_TFC=true qv_child_json "$QV_WORK/tfc-r.json" r
start l $L "$QV_WORK/tfc-l.json" && start r $R "$QV_WORK/tfc-r.json" && qv_reset_counters $L &&
	qv_check tfc-pads tfc_pads
stop l
stop r

# Transport mode: the outer addresses themselves are protected.
transport_ping() {
	ip netns exec $L $PING -c 3 -i 0.2 -W 2 -q 192.0.2.2 &&
		ip netns exec $R $PING -c 3 -i 0.2 -W 2 -q 192.0.2.1
}
SA_MODE=transport qv_child_json "$QV_WORK/tr-l.json" l
SA_MODE=transport qv_child_json "$QV_WORK/tr-r.json" r
qv_reset_counters $L
start l $L "$QV_WORK/tr-l.json" && start r $R "$QV_WORK/tr-r.json" &&
	qv_check transport-ping transport_ping &&
	qv_check transport-wire bash -c "n=\$(. $SRC/tests/vm/lib/qvtest.sh; qv_count $L esp); echo esp=\$n; [ \"\$n\" -ge 3 ]"
stop l
stop r

# --- IPv6 outside and inside -------------------------------------------------
v6_setup() {
	local ns
	for ns in $L $R; do
		ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
		ip netns exec $ns sysctl -qw net.ipv6.conf.qv-sa-ulv.disable_ipv6=0 2>/dev/null
		ip netns exec $ns sysctl -qw net.ipv6.conf.qv-sa-urv.disable_ipv6=0 2>/dev/null
		ip netns exec $ns sysctl -qw net.ipv6.conf.lo.disable_ipv6=0
	done
	ip -n $L addr add 2001:db8::1/64 dev qv-sa-ulv nodad &&
		ip -n $R addr add 2001:db8::2/64 dev qv-sa-urv nodad &&
		ip -n $L addr add 2001:db8:1::1/128 dev lo nodad &&
		ip -n $R addr add 2001:db8:2::1/128 dev lo nodad
}
v6_cross() {
	ip netns exec $L $PING -6 -c 3 -i 0.2 -W 2 -q 2001:db8:2::1 &&
		ip netns exec $L $PING -6 -c 1 -s 1300 -W 2 -q 2001:db8:2::1 &&
		ip netns exec $R $PING -6 -c 3 -i 0.2 -W 2 -q 2001:db8:1::1
}
v6_tcp() { # a TCP transfer exercises TSO cutting and GRO joining over IPv6
	ip netns exec $R iperf3 -s -1 -B 2001:db8:2::1 >/dev/null 2>&1 &
	local s=$!
	sleep 0.3
	ip netns exec $L iperf3 -c 2001:db8:2::1 -B 2001:db8:1::1 -t 2 -f m 2>&1 | tail -3
	local rc=${PIPESTATUS[0]}
	wait $s
	return $rc
}
v6_case() { # NAME [espctl options]
	local name=$1
	shift
	qv_child_json "$QV_WORK/$name-l.json" l
	qv_child_json "$QV_WORK/$name-r.json" r
	qv_check "$name-start" start l $L "$@" "$QV_WORK/$name-l.json" &&
		qv_check "$name-start-peer" start r $R "$@" "$QV_WORK/$name-r.json" &&
		qv_check "$name-ping" v6_cross &&
		qv_check "$name-tcp" v6_tcp
	stop l
	stop r
}
if qv_check v6-setup v6_setup; then
	export SA_L_OUT=2001:db8::1 SA_R_OUT=2001:db8::2 SA_L_TS=2001:db8:1::/48 SA_R_TS=2001:db8:2::/48
	SA_ENCR=ENCR_AES_GCM_16 v6_case v6-gcm
	SA_ENCAP=1 SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA2_256_128 v6_case v6-encap --udp-port 4500
	SA_ESP=0 SA_AH_INTEG=AUTH_HMAC_SHA2_256_128 v6_case v6-ah
	unset SA_L_OUT SA_R_OUT SA_L_TS SA_R_TS
fi

# --- rekey under traffic: replace with generation 1, same reqid ------------
qv_child_json "$QV_WORK/g0-l.json" l
qv_child_json "$QV_WORK/g0-r.json" r
SA_GEN=1 qv_child_json "$QV_WORK/g1-l.json" l
SA_GEN=1 qv_child_json "$QV_WORK/g1-r.json" r
rekey() {
	ip netns exec $L $PING -c 40 -i 0.05 -W 1 -q 10.2.0.1 >"$QV_WORK/rekey-ping.out" 2>&1 &
	local p=$!
	sleep 0.6
	cmd r "replace $SA_REQID $QV_WORK/g1-r.json" | grep -q '^OK' || return 1
	cmd l "replace $SA_REQID $QV_WORK/g1-l.json" | grep -q '^OK' || return 1
	wait $p
	cat "$QV_WORK/rekey-ping.out"
	# both ends switch within a few milliseconds; allow a loss or two there
	local recv
	recv=$(awk '/packets received/ { print $4 }' "$QV_WORK/rekey-ping.out")
	[ "${recv:-0}" -ge 37 ] && ip netns exec $L $PING -c 2 -W 2 -q 10.2.0.1
}
qv_sa_defaults
start l $L "$QV_WORK/g0-l.json" && start r $R "$QV_WORK/g0-r.json" && qv_check rekey rekey
stop l
stop r

# --- traps: a packet raises an acquire; installing fills the trap ----------
acquire_then_install() {
	ip netns exec $L $PING -c 1 -W 1 -q 10.2.0.1 && return 1  # must not pass yet
	qv_wait_line "${OUT[l]}" '^EVENT .*"dst":"10.2.0.1".*"kind":"acquire"' 5 || return 1
	grep '^EVENT' "${OUT[l]}"
	cmd l "install $QV_WORK/g0-l.json" | grep -q '^OK' &&
		ip netns exec $L $PING -c 2 -i 0.2 -W 2 -q 10.2.0.1 &&
		cmd l "remove $SA_REQID" | grep -q '^OK' &&
		! ip netns exec $L $PING -c 1 -W 1 -q 10.2.0.1  # the trap again
}
start l $L --trap "$QV_WORK/g0-l.json" && start r $R "$QV_WORK/g0-r.json" &&
	qv_check trap-acquire acquire_then_install
stop l
stop r

# --- byte lifetimes: soft and hard expire events ----------------------------
lifetimes() {
	ip netns exec $L $PING -c 30 -i 0.02 -s 500 -W 1 -q 10.2.0.1 >/dev/null
	qv_wait_line "${OUT[l]}" '^EVENT .*"inbound":false.*"kind":"soft-expire"' 3 &&
		qv_wait_line "${OUT[l]}" '^EVENT .*"inbound":false.*"kind":"hard-expire"' 3 &&
		grep '^EVENT' "${OUT[l]}" &&
		! ip netns exec $L $PING -c 1 -W 1 -q 10.2.0.1  # hard: no more traffic
}
SA_SOFT_BYTES=4000 SA_HARD_BYTES=9000 qv_child_json "$QV_WORK/life-l.json" l
start l $L "$QV_WORK/life-l.json" && start r $R "$QV_WORK/g0-r.json" && qv_check lifetimes lifetimes
stop l
stop r

# --- malformed packets: counted and dropped, the data path keeps going ------
malformed() {
	ip netns exec $L "$ESPCTL" inject --to 192.0.2.2 --spi 0000a001 --count 3000 --ike-port 4500 || return 1
	sleep 0.5
	kill -0 "${PID[r]}" || return 1
	cmd r "stats"
	cmd r "drops $SA_REQID"
	local drops
	drops=$(cmd r "drops $SA_REQID" | sed 's/^OK //')
	echo "$drops" | grep -q '"integrity":[1-9]' || return 1
	ip netns exec $L $PING -c 3 -i 0.2 -W 2 -q 10.2.0.1
}
SA_ENCAP=1 qv_child_json "$QV_WORK/mal-l.json" l
SA_ENCAP=1 qv_child_json "$QV_WORK/mal-r.json" r
start l $L --udp-port 4500 "$QV_WORK/mal-l.json" && start r $R --udp-port 4500 "$QV_WORK/mal-r.json" &&
	qv_check malformed malformed
stop l
stop r

# --- *AUTO on this kernel: refuses ESP, so userspace, and the log says why --
auto_fallback() {
	start l $L --backend auto "$QV_WORK/g0-l.json" || return 1
	grep READY "${OUT[l]}"
	grep -q 'backend=\*USERSPACE' "${OUT[l]}" && grep -q ESP0003 "$QV_WORK/l/err" &&
		grep -q '"msgid":"ESP0003"' "$QVPN_ROOT/joblog/QVPNESPCTL.log"
}
if ip netns exec $L "$ESPCTL" probe >/dev/null; then
	qv_log "this kernel accepts ESP states: the *AUTO fallback is tested in the VM only"
else
	qv_check auto-fallback auto_fallback
	stop l
fi

# --- a crash leaves the rule behind; the next start's cleanup removes it ----
crash_cleanup() {
	start l $L "$QV_WORK/g0-l.json" || return 1
	kill -9 "${PID[l]}"
	wait "${PID[l]}" 2>/dev/null
	PID[l]=
	ip -n $L rule | grep 'lookup 20822' || return 1
	ip netns exec $L "$ESPCTL" cleanup --tun qv-sa-tun | tee /dev/stderr | grep -q 'routes=[1-9]' &&
		no_routes_left $L
}
qv_check crash-cleanup crash_cleanup

qv_done
