#!/bin/bash
# Guest test: qvpn's kernel SA backend (XFRM over netlink) against manually
# keyed `ip xfrm` peers, in the VM's stock Debian kernel.
#
#   [qv-sa-kl] lo 10.1.0.1/32   qvpn-espctl --backend kernel (ChildSa JSON)
#              qv-sa-klv 192.0.2.1/24 ===== qv-sa-krv 192.0.2.2/24
#   [qv-sa-kr] lo 10.2.0.1/32   ip xfrm state/policy (tests/vm/lib/sa.sh)
#
# Per case: the peer is keyed by hand, qvpn installs the same CHILD_SA from
# JSON, pings cross both ways, the left's wire shows only the protocol under
# test, and stopping qvpn leaves no state or policy. Then rekey, traps and
# acquires, kernel expire events, counters, cleanup after a crash (sparing
# a foreign entry), and *AUTO choosing the kernel.
set -u
. /qvpn-test/lib/qvtest.sh
. /qvpn-test/lib/sa.sh
trap qv_finish EXIT
ESPCTL=$QVPN_BUILD_DIR/libexec/qvpn/qvpn-espctl
export QVPN_ROOT=$QV_WORK/root
L=qv-sa-kl R=qv-sa-kr

qv_check espctl-present test -x "$ESPCTL"
qv_check kernel-accepts-esp "$ESPCTL" probe
qv_ns_add $L || qv_done
qv_ns_add $R || qv_done
qv_veth $L qv-sa-klv 192.0.2.1/24 $R qv-sa-krv 192.0.2.2/24
ip -n $L addr add 10.1.0.1/32 dev lo
ip -n $R addr add 10.2.0.1/32 dev lo
# the hand-keyed peer routes the left's data endpoints itself (qvpn's
# kernel backend adds its own routes, sourced inside the local selectors)
ip -n $R route add 10.1.0.0/24 dev qv-sa-krv src 10.2.0.1
qv_wire_counters $L qv-sa-klv 10.1.0.1 10.2.0.1

# --- qvpn on the left, commands through a FIFO ------------------------------
PID= OUTF= RUNS=0 ENCAP_PID=
start() { # start ESPCTL-OPTIONS... FILES...
	RUNS=$((RUNS + 1))
	OUTF=$QV_WORK/espctl.$RUNS.out
	rm -f "$QV_WORK/in"
	mkfifo "$QV_WORK/in"
	ip netns exec $L "$ESPCTL" run --backend kernel "$@" <"$QV_WORK/in" >"$OUTF" 2>>"$QV_WORK/espctl.err" &
	PID=$!
	exec 7>"$QV_WORK/in"
	qv_wait_line "$OUTF" '^(READY|ERR)' 30 && grep -q '^READY backend=\*KERNEL' "$OUTF" && return 0
	cat "$OUTF"
	tail -5 "$QV_WORK/espctl.err"
	return 1
}
cmd() {
	local n i
	n=$(wc -l <"$OUTF")
	echo "$*" >&7
	for ((i = 0; i < 300; i++)); do
		tail -n +$((n + 1)) "$OUTF" | grep -m1 -E '^(OK|ERR)' && return 0
		sleep 0.05
	done
	return 1
}
stop() {
	[ -n "$PID" ] || return 0
	echo quit >&7 2>/dev/null
	exec 7>&-
	local ok=1 i
	for ((i = 0; i < 200; i++)); do
		grep -q '^DONE' "$OUTF" && { ok=0; break; }
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	qv_kill "$PID"
	PID=
	[ $ok = 0 ] || { tail -3 "$OUTF"; tail -5 "$QV_WORK/espctl.err"; }
	return $ok
}
encap_peer() { # the right's kernel needs a UDP_ENCAP socket to take ESP-in-UDP
	ip netns exec $R "$ESPCTL" udp-encap --ike-port 4500 >"$QV_WORK/encap.out" 2>&1 &
	ENCAP_PID=$!
	qv_wait_line "$QV_WORK/encap.out" '^READY' 20
}
qv_on_exit 'stop; [ -n "$ENCAP_PID" ] && qv_kill $ENCAP_PID'

cross() { # both directions; transport mode protects the outer addresses
	local a=10.1.0.1 b=10.2.0.1
	[ "${SA_MODE:-tunnel}" = transport ] && a=192.0.2.1 b=192.0.2.2
	ip netns exec $L ping -c 3 -i 0.3 -W 3 -q $b &&
		ip netns exec $L ping -c 1 -s 1300 -W 3 -q $b &&
		ip netns exec $R ping -c 3 -i 0.3 -W 3 -q $a
}
wire() { # CHANNEL MIN: the left sent >= MIN packets on CHANNEL, no cleartext
	local n clear
	n=$(qv_count $L "$1")
	clear=$(qv_count $L clear_icmp)
	echo "left sent $1=$n clear_icmp=$clear"
	[ "${n:-0}" -ge "${2:-4}" ] && [ "${clear:-1}" = 0 ]
}
states_are() { # NS N: exactly N XFRM states (and print them, keys masked)
	ip -n "$1" xfrm state | sed 's/0x[0-9a-f]\{16,\}/<key>/g'
	[ "$(ip -n "$1" xfrm state | grep -c '^src ')" = "$2" ]
}
policies_are() { # NS N: exactly N policies (per-socket bypass policies not counted)
	ip -n "$1" xfrm policy
	[ "$(ip -n "$1" xfrm policy | grep -cE '^[[:space:]]+dir (in|out|fwd) ')" = "$2" ]
}
left_has_nothing() { # no state, policy or route of qvpn's (while it runs)
	states_are $L 0 && policies_are $L 0 && ! ip -n $L route show table 20822 | grep .
}
left_is_empty() { # ... and after it stopped, no routing rule either
	left_has_nothing && ! ip -n $L rule | grep 'lookup 20822'
}

# kcase NAME CHANNEL STATES POLICIES [espctl options]
# ($QV_ONLY, a regular expression, limits the cases run while developing.)
kcase() {
	local name=$1 chan=$2 nst=$3 npol=$4
	shift 4
	[[ $name =~ ${QV_ONLY:-.} ]] || return 0
	qv_child_json "$QV_WORK/$name.json" l
	qv_reset_counters $L
	qv_check "$name-peer" qv_xfrm_side $R r &&
		qv_check "$name-install" start "$@" "$QV_WORK/$name.json" &&
		qv_check "$name-states" states_are $L "$nst" &&
		qv_check "$name-policies" policies_are $L "$npol" &&
		qv_check "$name-ping" cross &&
		qv_check "$name-wire" wire "$chan"
	qv_check "$name-stop" stop
	qv_check "$name-clean" left_is_empty
	qv_xfrm_flush $R
}

SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA2_256_128 kcase esp-cbc-sha256 esp 2 3
SA_ENCR=ENCR_AES_GCM_16 SA_BITS=256 kcase esp-gcm256 esp 2 3
SA_ENCR=ENCR_AES_GCM_16 SA_ESN=true SA_WINDOW=128 kcase esn esp 2 3
SA_MODE=transport SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA1_96 kcase transport esp 2 2
SA_ESP=0 SA_AH_INTEG=AUTH_HMAC_SHA2_256_128 kcase ah ah 2 3
SA_AH_INTEG=AUTH_HMAC_SHA1_96 SA_ENCR=ENCR_AES_CTR SA_INTEG=AUTH_AES_XCBC_96 kcase ah-esp ah 4 3

# UDP encapsulation: the right holds a UDP_ENCAP socket, the left's socket
# is prepared by the backend (prepare_ike_socket) like QTOVMAN's.
if qv_check encap-peer-socket encap_peer; then
	SA_ENCAP=1 kcase encap udp4500 2 3 --ike-port 4500
	qv_kill $ENCAP_PID
	ENCAP_PID=
fi

# IPComp: big compressible pings cross as small ESP packets; the kernel adds
# its IPIP tunnel state for uncompressed packets itself.
ipcomp_shrinks() {
	ip netns exec $L ping -c 3 -s 1300 -W 3 -q 10.2.0.1 || return 1
	local big
	big=$(qv_count $L esp_big)
	echo "esp packets > 1000 bytes: $big"
	ip -n $L xfrm state | grep -E '^src|proto'
	# small packets go uncompressed, as IPIP inside ESP: the kernel added
	# the IPIP state that takes them in beside our IPComp state
	ip -n $L xfrm state | grep -qE 'proto (4|ipip) ' || { echo "no IPIP state"; return 1; }
	[ "$big" = 0 ]
}
SA_IPCOMP=1 SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA2_256_128 qv_child_json "$QV_WORK/comp.json" l
qv_reset_counters $L
if qv_check ipcomp-peer env SA_IPCOMP=1 SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA2_256_128 \
	bash -c ". /qvpn-test/lib/sa.sh; qv_xfrm_side $R r"; then
	qv_check ipcomp-install start "$QV_WORK/comp.json" &&
		qv_check ipcomp-ping cross &&
		qv_check ipcomp-shrinks ipcomp_shrinks
	qv_check ipcomp-stop stop
	qv_check ipcomp-clean left_is_empty
fi
qv_xfrm_flush $R

# --- rekey, ordered as IKE does it: the peer takes generation 1 inbound,
# qvpn replaces (sending on 1 at once, still taking 0 for the grace period),
# the peer switches its outbound to 1 and drops 0. No ping may be lost.
rekey() {
	ip netns exec $L ping -c 30 -i 0.1 -W 2 -q 10.2.0.1 >"$QV_WORK/rekey-ping.out" 2>&1 &
	local p=$!
	sleep 1
	SA_GEN=1 qv_xfrm_side $R r states-in || return 1
	cmd "replace $SA_REQID $QV_WORK/g1.json" | grep -q '^OK' || return 1
	SA_GEN=1 qv_xfrm_side $R r states-out || return 1
	ip -n $R xfrm state delete src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x0000b001 &&
		ip -n $R xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x0000a001 || return 1
	wait $p
	cat "$QV_WORK/rekey-ping.out"
	grep -q '30 packets received' "$QV_WORK/rekey-ping.out" || return 1
	ip -n $L xfrm state | grep -q 'spi 0x0001a001' || return 1
	# the old inbound state is gone once the grace period is over
	sleep 6
	states_are $L 2 && ! ip -n $L xfrm state | grep -q 'spi 0x0000b001' &&
		ip netns exec $L ping -c 2 -W 3 -q 10.2.0.1
}
qv_child_json "$QV_WORK/g0.json" l
SA_GEN=1 qv_child_json "$QV_WORK/g1.json" l
qv_sa_defaults
qv_xfrm_side $R r
if qv_check rekey-install start "$QV_WORK/g0.json"; then
	qv_check rekey rekey
	qv_check rekey-stop stop
	qv_check rekey-clean left_is_empty
fi
qv_xfrm_flush $R

# --- traps: policies without states; a packet raises an acquire -----------
trap_acquire() {
	policies_are $L 3 && states_are $L 0 || return 1
	ip netns exec $L ping -c 1 -W 2 -q 10.2.0.1 && return 1  # nothing to send with
	qv_wait_line "$OUTF" '^EVENT .*"dst":"10.2.0.1".*"kind":"acquire"' 10 || return 1
	grep '^EVENT' "$OUTF"
	# the key manager answers: install fills the trap
	cmd "install $QV_WORK/g0.json" | grep -q '^OK' || return 1
	ip netns exec $L ping -c 2 -i 0.3 -W 3 -q 10.2.0.1 || return 1
	# the CHILD_SA goes; the trap stays armed
	cmd "remove $SA_REQID" | grep -q '^OK' && states_are $L 0 && policies_are $L 3 &&
		cmd "untrap $SA_REQID" | grep -q '^OK' && left_has_nothing
}
qv_xfrm_side $R r
if qv_check trap-install start --trap "$QV_WORK/g0.json"; then
	qv_check trap-acquire trap_acquire
	qv_check trap-stop stop
fi
qv_xfrm_flush $R

# --- expire events from the kernel (seconds), and counters -----------------
expire_and_counters() {
	ip netns exec $L ping -c 3 -i 0.3 -W 3 -q 10.2.0.1 || return 1
	local c
	c=$(cmd "counters $SA_REQID") || return 1
	echo "$c"
	echo "$c" | grep -qE '"out":\{"bytes":[1-9]' || return 1
	echo "$c" | grep -qE '"in":\{"bytes":[1-9]' || return 1
	qv_wait_line "$OUTF" '^EVENT .*"inbound":false.*"kind":"soft-expire"' 15 || return 1
	qv_wait_line "$OUTF" '^EVENT .*"inbound":true.*"kind":"hard-expire"' 15 || return 1
	grep '^EVENT' "$OUTF"
	# hard expiry removed the states in the kernel; remove tolerates that
	cmd "remove $SA_REQID" | grep -q '^OK' && left_has_nothing
}
SA_SOFT_SECONDS=3 SA_HARD_SECONDS=6 qv_child_json "$QV_WORK/life.json" l
qv_xfrm_side $R r
if qv_check expire-install start "$QV_WORK/life.json"; then
	qv_check expire-and-counters expire_and_counters
	qv_check expire-stop stop
fi
qv_xfrm_flush $R

# --- a crash: cleanup removes qvpn's entries and nothing else ---------------
crash_cleanup() {
	# a foreign IPsec daemon's policy (reqid 7) must survive
	ip -n $L xfrm policy add src 10.9.0.0/24 dst 10.8.0.0/24 dir out \
		tmpl src 192.0.2.1 dst 192.0.2.9 proto esp reqid 7 mode tunnel || return 1
	start "$QV_WORK/g0.json" || return 1
	kill -9 $PID
	wait $PID 2>/dev/null
	PID=
	exec 7>&-
	states_are $L 2 && policies_are $L 4 || return 1
	ip -n $L route show table 20822 | grep -q 10.2.0.0/24 || return 1
	ip netns exec $L "$ESPCTL" cleanup --backend kernel | tee /dev/stderr |
		grep -qE 'states=2 policies=3 routes=[1-9]' || return 1
	states_are $L 0 && policies_are $L 1 && ip -n $L xfrm policy | grep -q 'reqid 7' &&
		! ip -n $L route show table 20822 | grep . && ! ip -n $L rule | grep 'lookup 20822'
}
qv_check crash-cleanup crash_cleanup
ip -n $L xfrm policy flush

# --- *AUTO on a kernel with ESP picks the kernel ----------------------------
auto_kernel() {
	ip netns exec $L "$ESPCTL" run --backend auto --no-cleanup </dev/null >"$QV_WORK/auto.out" 2>&1 &
	local p=$!
	qv_wait_line "$QV_WORK/auto.out" '^READY' 20
	qv_kill $p
	cat "$QV_WORK/auto.out"
	grep -q 'READY backend=\*KERNEL' "$QV_WORK/auto.out" && grep -q XFR0111 "$QV_WORK/auto.out" &&
		left_is_empty
}
qv_check auto-picks-kernel auto_kernel

qv_done
