#!/bin/bash
# Guest test: the userspace ESP/AH data path against the kernel's, with the
# same manual keys: proof that qvpn's userspace ESP is wire-compatible.
#
#   [qv-sa-ul] lo 10.1.0.1/32   qvpn-espctl --backend userspace, TUN qv-sa-tun
#              qv-sa-ulv 192.0.2.1/24 ===== qv-sa-urv 192.0.2.2/24
#   [qv-sa-ur] lo 10.2.0.1/32   the kernel: ip xfrm state/policy by hand
#
# Every transform qvpn offers, each with pings both ways (a large one too)
# and the left's wire showing only the protocol under test; then ESN, NAT-T
# (both ways of feeding ESP-in-UDP in), transport mode, AH alone and around
# ESP, IPComp and TFC padding.
set -u
. /qvpn-test/lib/qvtest.sh
. /qvpn-test/lib/sa.sh
trap qv_finish EXIT
ESPCTL=$QVPN_BUILD_DIR/libexec/qvpn/qvpn-espctl
export QVPN_ROOT=$QV_WORK/root
L=qv-sa-ul R=qv-sa-ur

qv_check espctl-present test -x "$ESPCTL"
qv_ns_add $L || qv_done
qv_ns_add $R || qv_done
qv_veth $L qv-sa-ulv 192.0.2.1/24 $R qv-sa-urv 192.0.2.2/24
ip -n $L addr add 10.1.0.1/32 dev lo
ip -n $R addr add 10.2.0.1/32 dev lo
ip -n $R route add 10.1.0.0/24 dev qv-sa-urv src 10.2.0.1
qv_wire_counters $L qv-sa-ulv 10.1.0.1 10.2.0.1

PID= OUTF= RUNS=0 ENCAP_PID=
start() {
	RUNS=$((RUNS + 1))
	OUTF=$QV_WORK/espctl.$RUNS.out
	ip netns exec $L "$ESPCTL" run --backend userspace --tun qv-sa-tun "$@" </dev/null \
		>"$OUTF" 2>>"$QV_WORK/espctl.err" &
	PID=$!
	qv_wait_line "$OUTF" '^(READY|ERR)' 30 && grep -q '^READY backend=\*USERSPACE' "$OUTF" && return 0
	cat "$OUTF"
	tail -5 "$QV_WORK/espctl.err"
	return 1
}
stop() {
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	local ok=1 i
	for ((i = 0; i < 100; i++)); do
		grep -q '^DONE' "$OUTF" && { ok=0; break; }
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	qv_kill "$PID"
	PID=
	return $ok
}
qv_on_exit 'stop; [ -n "$ENCAP_PID" ] && qv_kill $ENCAP_PID'

cross() {
	local a=10.1.0.1 b=10.2.0.1
	[ "${SA_MODE:-tunnel}" = transport ] && a=192.0.2.1 b=192.0.2.2
	ip netns exec $L ping -c 3 -i 0.3 -W 3 -q $b &&
		ip netns exec $L ping -c 1 -s 1300 -W 3 -q $b &&
		ip netns exec $R ping -c 3 -i 0.3 -W 3 -q $a &&
		ip netns exec $R ping -c 1 -s 1300 -W 3 -q $a
}
wire() {
	local n clear
	n=$(qv_count $L "$1")
	clear=$(qv_count $L clear_icmp)
	echo "left sent $1=$n clear_icmp=$clear"
	[ "${n:-0}" -ge 8 ] && [ "${clear:-1}" = 0 ]
}
# the kernel counted what the userspace sent it: its inbound state has packets
kernel_received() {
	ip -n $R -s xfrm state | sed 's/0x[0-9a-f]\{16,\}/<key>/g'
	ip -n $R -s xfrm state | awk '
		/^src 192.0.2.1 dst 192.0.2.2/ { mine = 1; next }
		/^src / { mine = 0 }
		mine && /lifetime current:/ { getline; split($0, a, "[(,]"); p = a[3] + 0; if (p >= 8) ok = 1 }
		END { exit !ok }'
}

# what the kernel peer thought of it, when a case fails
peer_diagnosis() {
	ip -n $R -s xfrm state | sed 's/0x[0-9a-f]\{16,\}/<key>/g'
	ip netns exec $R cat /proc/net/xfrm_stat | awk '$2 != 0'
	return 1
}

# ucase NAME CHANNEL [espctl options]
ucase() {
	local name=$1 chan=$2
	shift 2
	[[ $name =~ ${QV_ONLY:-.} ]] || return 0
	qv_child_json "$QV_WORK/$name.json" l
	qv_reset_counters $L
	qv_check "$name-peer" qv_xfrm_side $R r &&
		qv_check "$name-start" start "$@" "$QV_WORK/$name.json" &&
		{ qv_check "$name-ping" cross || { qv_check "$name-peer-says" peer_diagnosis; false; }; } &&
		qv_check "$name-wire" wire "$chan" &&
		qv_check "$name-kernel-counted" kernel_received
	qv_check "$name-stop" stop
	qv_xfrm_flush $R
}

# --- every transform ---------------------------------------------------------
SA_ENCR=ENCR_AES_CBC SA_BITS=128 SA_INTEG=AUTH_HMAC_SHA2_256_128 ucase cbc128-sha256 esp
SA_ENCR=ENCR_AES_CBC SA_BITS=192 SA_INTEG=AUTH_HMAC_SHA2_384_192 ucase cbc192-sha384 esp
SA_ENCR=ENCR_AES_CBC SA_BITS=256 SA_INTEG=AUTH_HMAC_SHA2_512_256 ucase cbc256-sha512 esp
SA_ENCR=ENCR_AES_CBC SA_BITS=128 SA_INTEG=AUTH_HMAC_SHA1_96 ucase cbc128-sha1 esp
SA_ENCR=ENCR_AES_CBC SA_BITS=128 SA_INTEG=AUTH_HMAC_MD5_96 ucase cbc128-md5 esp
SA_ENCR=ENCR_AES_CBC SA_BITS=128 SA_INTEG=AUTH_AES_XCBC_96 ucase cbc128-xcbc esp
SA_ENCR=ENCR_AES_CTR SA_BITS=128 SA_INTEG=AUTH_HMAC_SHA2_256_128 ucase ctr128-sha256 esp
SA_ENCR=ENCR_AES_CTR SA_BITS=256 SA_INTEG=AUTH_HMAC_SHA1_96 ucase ctr256-sha1 esp
SA_ENCR=ENCR_AES_GCM_16 SA_BITS=128 ucase gcm16-128 esp
SA_ENCR=ENCR_AES_GCM_12 SA_BITS=192 ucase gcm12-192 esp
SA_ENCR=ENCR_AES_GCM_8 SA_BITS=256 ucase gcm8-256 esp
SA_ENCR=ENCR_AES_CCM_16 SA_BITS=128 ucase ccm16-128 esp
SA_ENCR=ENCR_AES_CCM_12 SA_BITS=192 ucase ccm12-192 esp
SA_ENCR=ENCR_AES_CCM_8 SA_BITS=256 ucase ccm8-256 esp
SA_ENCR=ENCR_NULL_AUTH_AES_GMAC SA_BITS=128 ucase gmac128 esp
SA_ENCR=ENCR_NULL_AUTH_AES_GMAC SA_BITS=256 ucase gmac256 esp
SA_ENCR=ENCR_3DES SA_BITS=192 SA_INTEG=AUTH_HMAC_SHA1_96 ucase 3des-sha1 esp
SA_ENCR=ENCR_DES SA_BITS=64 SA_INTEG=AUTH_HMAC_MD5_96 ucase des-md5 esp
SA_ENCR=ENCR_NULL SA_BITS=0 SA_INTEG=AUTH_HMAC_SHA2_256_128 ucase null-sha256 esp

# --- sequence numbers, modes, bundles ---------------------------------------
SA_ENCR=ENCR_AES_GCM_16 SA_ESN=true SA_WINDOW=128 ucase esn-gcm esp
SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA2_256_128 SA_ESN=true ucase esn-cbc esp
SA_MODE=transport SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA2_256_128 ucase transport esp
SA_MODE=transport SA_ENCR=ENCR_AES_GCM_16 ucase transport-gcm esp
SA_ESP=0 SA_AH_INTEG=AUTH_HMAC_SHA2_256_128 ucase ah-sha256 ah
SA_ESP=0 SA_AH_INTEG=AUTH_HMAC_SHA1_96 ucase ah-sha1 ah
SA_ESP=0 SA_AH_INTEG=AUTH_HMAC_SHA2_512_256 SA_ESN=true ucase ah-sha512-esn ah
SA_ESP=0 SA_AH_INTEG=AUTH_AES_XCBC_96 SA_MODE=transport ucase ah-xcbc-transport ah
SA_AH_INTEG=AUTH_HMAC_SHA1_96 SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA1_96 ucase ah-esp ah
SA_IPCOMP=1 SA_ENCR=ENCR_AES_GCM_16 ucase ipcomp esp
SA_TFC=true SA_ENCR=ENCR_AES_GCM_16 ucase tfc esp

# ESP-in-UDP: the kernel peer needs a UDP_ENCAP socket; qvpn takes the
# datagrams either in its own workers (--udp-port) or through input_udp()
# from a socket it prepared (--ike-port, as QTOVMAN's port 4500).
encap_peer() {
	ip netns exec $R "$ESPCTL" udp-encap --ike-port 4500 >"$QV_WORK/encap.out" 2>&1 &
	ENCAP_PID=$!
	qv_wait_line "$QV_WORK/encap.out" '^READY' 20
}
if qv_check encap-peer-socket encap_peer; then
	SA_ENCAP=1 SA_ENCR=ENCR_AES_GCM_16 ucase encap-own udp4500 --udp-port 4500
	SA_ENCAP=1 SA_ENCR=ENCR_AES_CBC SA_INTEG=AUTH_HMAC_SHA2_256_128 ucase encap-ike udp4500 --ike-port 4500
	qv_kill $ENCAP_PID
	ENCAP_PID=
fi

qv_done
