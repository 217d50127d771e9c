#!/bin/bash
# The seed's branch office against strongSwan: qvpn is the HR gateway, a
# strongSwan charon the finance gateway, first with qvpn as initiator, then
# as responder. Preshared key, *BALANCED policies on the qvpn side
# (aes128-sha256-ecp256, ESP aes128gcm16 with PFS group 19).
#
#   [qv-ik2-q] qvpn (QTOVMAN + QTOKVPNIK2)       [qv-ik2-s] strongSwan (libipsec)
#   lo 10.6.0.1/32                                lo 10.196.8.1/32
#   qv-ik2-vq 192.0.2.1/24 ----------------------- qv-ik2-vs 192.0.2.2/24
#
# Checks: STRVPNCNN completes, both sides show the IKE SA and CHILD_SA, ping
# and a TCP transfer cross the tunnel, the wire carries ESP in UDP on 4500
# (strongSwan's libipsec always encapsulates) and no clear ICMP, the job log
# has the lifecycle lines; then strongSwan starts the tunnel and qvpn answers.
# Exit 0 pass, 77 skip (not root or tools missing; a failure under CI=true).
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
need "$CHARON" swanctl dumpcap tshark busybox
for b in QTOVMAN QTOKVPNIK2; do [ -x "$QVPN_LIBEXEC/$b" ] || skip "$b is not built"; done
for b in STRTCPSVR STRVPNCNN CRTVPNCNN CRTLINETH ENDTCPSVR LODIPFTR RMVTCPTBL; do
	command -v $b >/dev/null || skip "$b is not built"
done

NS_Q=qv-ik2-q NS_S=qv-ik2-s
WORK=$(mktemp -d /tmp/qv-ik2-interop.XXXXXX)
on_exit "[ -n \"\${KEEP:-}\" ] || rm -rf $WORK"
QROOT=$WORK/qvpn
SDIR=$WORK/swan
PSK=topsecretstuff
log "work dir $WORK"

make_ns $NS_Q
make_ns $NS_S
veth $NS_Q qv-ik2-vq 192.0.2.1/24 $NS_S qv-ik2-vs 192.0.2.2/24
ip -n $NS_Q addr add 10.6.0.1/32 dev lo
ip -n $NS_S addr add 10.196.8.1/32 dev lo
ip netns exec $NS_Q busybox ping -c1 -w2 192.0.2.2 >/dev/null || die "veth does not work"

# --- the finance gateway: strongSwan ---------------------------------------------
charon_conf "$SDIR"
charon_start $NS_S "$SDIR"
swanctl_conf "$SDIR" 192.0.2.2 192.0.2.1 10.196.8.0/24 10.6.0.0/16 "$PSK" \
	aes128-sha256-ecp256 aes128gcm16-ecp256

# --- the HR gateway: qvpn, configured with the seed's commands ---------------------
q CRTLINETH 'LIND(TRLINE)' 'RSRCNAME(qv-ik2-vq)' >/dev/null || die "CRTLINETH"
q CRTVPNCNN 'NAME(HRgw2FINgw)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' "PSK('$PSK')" \
	'LCLKEYSVR(*IPV4 192.0.2.1)' 'RMTKEYSVR(*IPV4 192.0.2.2)' \
	'LCLDTAEP(*IPV4SUBNET 10.6.0.0 255.255.0.0)' 'RMTDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)' \
	'DTAPCY(*BALANCED)' 'LIND(TRLINE)' >"$WORK/crtvpncnn.out" 2>&1 \
	|| { cat "$WORK/crtvpncnn.out" >&2; die "CRTVPNCNN"; }
capture $NS_Q qv-ik2-vq "$WORK/wire.pcapng"
q STRTCPSVR 'SERVER(*VPN)' >"$WORK/strtcpsvr.out" 2>&1 || { cat "$WORK/strtcpsvr.out" >&2; die "STRTCPSVR"; }
on_exit "ip netns exec $NS_Q env QVPN_ROOT=$QROOT ENDTCPSVR 'SERVER(*VPN)'"
on_exit "ip netns exec $NS_Q env QVPN_ROOT=$QROOT RMVTCPTBL"
# The generated policy filters of the connection (IPSEC rules), loaded.
q LODIPFTR 'OPTION(*LOAD)' 'LIND(*ALL)' 'INCVPN(*YES)' >"$WORK/lodipftr.out" 2>&1 \
	|| { cat "$WORK/lodipftr.out" >&2; die "LODIPFTR"; }

# --- 1. qvpn initiates -------------------------------------------------------------------
log "qvpn initiates"
if ! q STRVPNCNN 'CNN(HRgw2FINgw:L1)' 'WAIT(30)' >"$WORK/strvpncnn.out" 2>&1; then
	cat "$WORK/strvpncnn.out" >&2
	# The IKE half may be fine while QTOVMAN cannot install yet: check
	# that much, then say exactly what is missing.
	if grep -q '"msgid":"VMN0021"\|"msgid":"VMN001B"' "$QROOT/joblog/QTOVMAN.log"; then
		# QTOVMAN refuses to start or install for a part that is not built
		# in yet. The IKE half can still be shown: strongSwan starts, qvpn
		# answers through QTOVMAN's sockets.
		swanctl_in $NS_S "$SDIR" --initiate --child net >"$WORK/initiate.out" 2>&1
		for _ in $(seq 100); do
			grep -q '"msgid":"IKE0A10"' "$QROOT/joblog/QTOKVPNIK2.log" && break
			sleep 0.1
		done
		grep -q '"msgid":"IKE0A10"' "$QROOT/joblog/QTOKVPNIK2.log" \
			|| fail "QTOKVPNIK2 negotiated no CHILD_SA with strongSwan"
		grep -q "CHILD_SA net{1} established" "$SDIR/charon.log" \
			|| fail "strongSwan established no CHILD_SA"
		[ $FAILURES = 0 ] || exit 1
		skip "IKE SA and CHILD_SA negotiated with strongSwan through QTOVMAN, but QTOVMAN" \
			"cannot run the tunnel yet: $(grep -o '"text":"[^"]*not built in[^"]*"' \
			"$QROOT/joblog/QTOVMAN.log" | head -1)"
	fi
	fail "STRVPNCNN did not complete"
fi
swanctl_in $NS_S "$SDIR" --list-sas >"$WORK/sas1.txt" 2>&1
grep -q "ESTABLISHED" "$WORK/sas1.txt" || fail "strongSwan shows no established IKE SA"
grep -q "INSTALLED" "$WORK/sas1.txt" || fail "strongSwan shows no installed CHILD_SA"
grep -q "AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256" "$WORK/sas1.txt" \
	|| fail "IKE algorithms: $(grep -m1 'ECP\|MODP' "$WORK/sas1.txt")"
grep -q "AES_GCM_16-128" "$WORK/sas1.txt" || fail "ESP algorithms"

ip netns exec $NS_Q busybox ping -c3 -w6 -I 10.6.0.1 10.196.8.1 >"$WORK/ping1.out" 2>&1 \
	|| fail "ping qvpn -> strongSwan: $(tail -2 "$WORK/ping1.out")"
# tcp_transfer FROM_NS TO_NS TO_ADDR TAG: 1 MB through the tunnel, checked byte by byte.
tcp_transfer() {
	local from=$1 to=$2 addr=$3 tag=$4 nc_pid send_pid
	# The listener's stdin stays open (a background job's is /dev/null):
	# busybox nc ends the connection at EOF on either side.
	sleep 60 | ip netns exec "$to" busybox nc -l -p 5001 >"$WORK/$tag.recv" &
	nc_pid=$!
	on_exit "kill $nc_pid"
	sleep 0.3
	head -c 1000000 /dev/urandom >"$WORK/$tag.send"
	timeout 60 ip netns exec "$from" busybox nc "$addr" 5001 <"$WORK/$tag.send" &
	send_pid=$!
	for _ in $(seq 200); do
		[ "$(stat -c %s "$WORK/$tag.recv")" -ge 1000000 ] && break
		sleep 0.1
	done
	kill $send_pid $nc_pid 2>/dev/null
	cmp -s "$WORK/$tag.send" "$WORK/$tag.recv" \
		|| fail "TCP $tag: $(stat -c %s "$WORK/$tag.recv") of 1000000 bytes arrived"
}
# Full-size packets (fragmented on the way, as needed).
ip netns exec $NS_Q busybox ping -c2 -w6 -s 1400 -I 10.6.0.1 10.196.8.1 >"$WORK/bigping1.out" 2>&1 \
	|| fail "1428-byte ping qvpn -> strongSwan: $(tail -1 "$WORK/bigping1.out")"
tcp_transfer $NS_Q $NS_S 10.196.8.1 qvpn-to-strongswan

# --- 2. strongSwan initiates, qvpn answers ---------------------------------------------------
log "strongSwan initiates"
q ENDVPNCNN 'CNN(HRgw2FINgw:L1)' >/dev/null 2>&1
sleep 1
swanctl_in $NS_S "$SDIR" --initiate --child net >"$WORK/initiate.out" 2>&1 \
	|| { cat "$WORK/initiate.out" >&2; fail "swanctl --initiate"; }
swanctl_in $NS_S "$SDIR" --list-sas >"$WORK/sas2.txt" 2>&1
grep -q "INSTALLED" "$WORK/sas2.txt" || fail "no CHILD_SA when strongSwan initiates"
ip netns exec $NS_S busybox ping -c3 -w6 -I 10.196.8.1 10.6.0.1 >"$WORK/ping2.out" 2>&1 \
	|| fail "ping strongSwan -> qvpn: $(tail -2 "$WORK/ping2.out")"
tcp_transfer $NS_S $NS_Q 10.6.0.1 strongswan-to-qvpn

capture_stop
# --- the wire ------------------------------------------------------------------------------------
esp=$(tshark -r "$WORK/wire.pcapng" -Y 'udp.port == 4500 && esp' 2>/dev/null | wc -l)
clear_icmp=$(tshark -r "$WORK/wire.pcapng" -Y 'icmp && ip.src == 10.6.0.1' 2>/dev/null | wc -l)
ike500=$(tshark -r "$WORK/wire.pcapng" -Y 'udp.port == 500' 2>/dev/null | wc -l)
[ "$esp" -gt 10 ] || fail "only $esp ESP-in-UDP packets on the wire"
[ "$clear_icmp" = 0 ] || fail "$clear_icmp clear ICMP packets from 10.6.0.1"
[ "$ike500" -ge 2 ] || fail "no IKE_SA_INIT on port 500"

grep -q '"msgid":"IKE0A01"' "$QROOT/joblog/QTOKVPNIK2.log" || fail "job log lacks IKE0A01"
grep -q '"msgid":"IKE0A10"' "$QROOT/joblog/QTOKVPNIK2.log" || fail "job log lacks IKE0A10"
if grep -q "$PSK" "$QROOT/joblog/QTOKVPNIK2.log"; then fail "the PSK is in the job log"; fi

log "RESULT esp=$esp clear_icmp=$clear_icmp ike500=$ike500 failures=$FAILURES"
if [ $FAILURES -ne 0 ]; then
	KEEP=1
	log "logs kept in $WORK"
	exit 1
fi
exit 0
