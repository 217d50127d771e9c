#!/bin/bash
# bench/datapath/run.sh -- TCP throughput through qvpn's userspace ESP data
# path against strongSwan's userspace ESP (charon with kernel-libipsec), in
# the same run on the same machine, with the cipher ceiling next to them.
#
#   [qv-sa-bl] lo 10.1.0.1/32   ---- veth 192.0.2.0/24 ----   lo 10.2.0.1/32 [qv-sa-br]
#   iperf3 -c 10.2.0.1 (left)  through the tunnel  iperf3 -s (right)
#
# Rows: the OpenSSL ceiling on 1400-byte buffers (one core), qvpn's ESP
# transform alone, then iperf3 through: qvpn userspace with raw ESP, qvpn
# userspace with ESP-in-UDP, charon kernel-libipsec (which always uses
# ESP-in-UDP). Columns: AES-GCM-128 and AES-CBC-128/HMAC-SHA-256. The
# tunnel MTU is 1400 bytes on both implementations (libipsec's is fixed).
#
# usage: sudo bench/datapath/run.sh [SECONDS per iperf3 run, default 10]
# env: QVPN_BUILD_DIR (default ./build), QV_BENCH_WORKERS (qvpn threads),
#      QV_BENCH_NS (prefix of the namespaces and links made, default qv-sa-b)
set -u
SECS=${1:-10}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${QVPN_BUILD_DIR:-$SRC/build}
ESPCTL=$BUILD/libexec/qvpn/qvpn-espctl
CRYPTO=$BUILD/bench/bench_datapath_crypto
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)" >&2; exit 2; }
for f in "$ESPCTL" "$CRYPTO"; do
	[ -x "$f" ] || { echo "build first: ninja -C $BUILD qvpn-espctl bench_datapath_crypto" >&2; exit 2; }
done
for c in iperf3 /usr/lib/ipsec/charon swanctl; do
	command -v "$c" >/dev/null || { echo "missing $c" >&2; exit 2; }
done
. "$SRC/tests/vm/lib/qvtest.sh"
. "$SRC/tests/vm/lib/sa.sh"
QV_WORK=$(mktemp -d /tmp/qv-sa-bench.XXXXXX)
export QVPN_ROOT=$QV_WORK/root
trap 'QV_DONE=1; qv_run_cleanup' EXIT
trap 'exit 130' INT TERM
NSP=${QV_BENCH_NS:-qv-sa-b}
L=${NSP}l R=${NSP}r
log() { echo "[bench] $*" >&2; }

topology() {
	qv_ns_add $L && qv_ns_add $R || exit 1
	qv_veth $L ${NSP}lv 192.0.2.1/24 $R ${NSP}rv 192.0.2.2/24
	ip -n $L addr add 10.1.0.1/32 dev lo
	ip -n $R addr add 10.2.0.1/32 dev lo
}
teardown() {
	qv_run_cleanup
}

# iperf3 through whatever tunnel is up; prints Mbit/s (receiver side)
iperf() {
	local out=$QV_WORK/iperf.$1.json
	ip netns exec $R iperf3 -s -1 -B 10.2.0.1 >/dev/null 2>&1 &
	local s=$!
	sleep 0.5
	ip netns exec $L iperf3 -c 10.2.0.1 -B 10.1.0.1 -t "$SECS" -O 1 -J >"$out" 2>&1
	wait $s 2>/dev/null
	awk -F'[:,]' '/"sum_received"/ { f = 1 } f && /"bits_per_second"/ { printf "%.0f\n", $2 / 1e6; exit }' "$out"
}

# --- qvpn userspace ---------------------------------------------------------
qvpn_run() { # NAME ENCR INTEG ENCAP
	local name=$1 pids=() side ns opts=() mbps
	topology
	[ "$4" = 1 ] && opts=(--udp-port 4500)
	[ -n "${QV_BENCH_WORKERS:-}" ] && opts+=(--workers "$QV_BENCH_WORKERS")
	for side in l r; do
		ns=$([ $side = l ] && echo $L || echo $R)
		SA_ENCR=$2 SA_BITS=128 SA_INTEG=$3 SA_ENCAP=$4 qv_child_json "$QV_WORK/$name-$side.json" $side
		ip netns exec "$ns" "$ESPCTL" run --tun ${NSP}tun "${opts[@]}" "$QV_WORK/$name-$side.json" \
			</dev/null >"$QV_WORK/$name-$side.out" 2>&1 &
		pids+=($!)
		qv_on_exit "qv_kill $!"
	done
	qv_wait_line "$QV_WORK/$name-l.out" '^READY' 20 && qv_wait_line "$QV_WORK/$name-r.out" '^READY' 20 ||
		{ log "qvpn did not start ($name)"; teardown; echo 0; return; }
	ip netns exec $L busybox ping -c 1 -W 2 -q 10.2.0.1 >/dev/null || log "no ping through qvpn ($name)"
	mbps=$(iperf "$name")
	teardown
	echo "${mbps:-0}"
}

# --- strongSwan charon with kernel-libipsec -----------------------------------
# One charon per namespace, each with a private /run (its pid file path is
# compiled in), its own strongswan.conf and vici socket.
charon_conf() { # DIR LOCAL REMOTE LOCAL_TS REMOTE_TS ESP_PROPOSAL ID PEER_ID
	local d=$1
	mkdir -p "$d/run" "$d/swanctl"/{x509,x509ca,private,rsa,ecdsa,pkcs8,pkcs12,pubkey,x509crl,x509ocsp,x509aa,x509ac,bliss}
	# Every algorithm from the openssl plugin, as qvpn's come from OpenSSL:
	# with strongSwan's own aes, gcm, sha2 and hmac plugins loaded before
	# it, libipsec encrypted in plain C without AES-NI.
	cat >"$d/strongswan.conf" <<EOF
charon {
  load = random nonce openssl kdf socket-default kernel-libipsec kernel-netlink vici
  plugins { vici { socket = unix://$d/vici } }
  filelog { f { path = $d/charon.log
    default = 1 } }
}
swanctl { load = random nonce }
EOF
	cat >"$d/swanctl/swanctl.conf" <<EOF
connections { b { version = 2
  local_addrs = $2
  remote_addrs = $3
  proposals = aes128-sha256-modp2048
  local { auth = psk
    id = $7 }
  remote { auth = psk
    id = $8 }
  children { b { mode = tunnel
    local_ts = $4
    remote_ts = $5
    esp_proposals = $6 } } } }
secrets { ike { id-a = $7
  id-b = $8
  secret = "qvpn-bench-0123456789" } }
EOF
}
swan() { # DIR ARGS...
	local d=$1
	shift
	STRONGSWAN_CONF=$d/strongswan.conf timeout 30 swanctl "$@" --uri "unix://$d/vici"
}
libipsec_run() { # NAME ESP_PROPOSAL
	local name=$1 d side ns mbps i
	topology
	for side in l r; do
		d=$QV_WORK/$name-$side
		if [ $side = l ]; then
			ns=$L
			charon_conf "$d" 192.0.2.1 192.0.2.2 10.1.0.0/24 10.2.0.0/24 "$2" left.bench right.bench
		else
			ns=$R
			charon_conf "$d" 192.0.2.2 192.0.2.1 10.2.0.0/24 10.1.0.0/24 "$2" right.bench left.bench
		fi
		ip netns exec "$ns" sh -c 'mount -o bind "$1/run" /run && STRONGSWAN_CONF="$1/strongswan.conf" exec /usr/lib/ipsec/charon' \
			sh "$d" >"$d/stdout" 2>&1 </dev/null &
		qv_on_exit "qv_kill $!"
	done
	for side in l r; do
		d=$QV_WORK/$name-$side
		for ((i = 0; i < 100; i++)); do
			[ -S "$d/vici" ] && swan "$d" --stats >/dev/null 2>&1 && break
			sleep 0.1
		done
		swan "$d" --load-all --noprompt --file "$d/swanctl/swanctl.conf" >"$d/load.out" 2>&1
	done
	if ! swan "$QV_WORK/$name-l" --initiate --child b --timeout 20 >"$QV_WORK/$name-init.out" 2>&1; then
		log "charon tunnel did not come up ($name)"
		teardown
		echo 0
		return
	fi
	mbps=$(iperf "$name")
	teardown
	echo "${mbps:-0}"
}

# --- the runs ------------------------------------------------------------------
log "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $SECS s per run"
log "cipher ceiling"
"$CRYPTO" 3 >"$QV_WORK/crypto.txt"
val() { awk -v k="$1" '$1 == k { print $2 }' "$QV_WORK/crypto.txt"; }
log "qvpn, AES-GCM-128, raw ESP"
q_gcm=$(qvpn_run q-gcm ENCR_AES_GCM_16 NONE 0)
log "qvpn, AES-CBC-128/HMAC-SHA-256, raw ESP"
q_cbc=$(qvpn_run q-cbc ENCR_AES_CBC AUTH_HMAC_SHA2_256_128 0)
log "qvpn, AES-GCM-128, ESP-in-UDP"
qu_gcm=$(qvpn_run qu-gcm ENCR_AES_GCM_16 NONE 1)
log "qvpn, AES-CBC-128/HMAC-SHA-256, ESP-in-UDP"
qu_cbc=$(qvpn_run qu-cbc ENCR_AES_CBC AUTH_HMAC_SHA2_256_128 1)
log "charon kernel-libipsec, aes128gcm16"
s_gcm=$(libipsec_run s-gcm aes128gcm16)
log "charon kernel-libipsec, aes128-sha256"
s_cbc=$(libipsec_run s-cbc aes128-sha256)

raw_gcm=$(val raw-aes128gcm)
raw_cbc=$(val raw-aes128cbc-hmacsha256)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / (b * 1000); else print "-" }'; }
gb() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }
echo
echo "Data path benchmark: TCP (iperf3, ${SECS} s) through a 1400-byte-MTU tunnel between two"
echo "network namespaces of this host ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg) at the end); Gbit/s."
printf '%-46s %14s %26s\n' "" "AES-GCM-128" "AES-CBC-128/HMAC-SHA-256"
printf '%-46s %14s %26s\n' "OpenSSL bulk cipher (openssl speed), 1 core" "$(val bulk-aes128gcm)" "-"
printf '%-46s %14s %26s\n' "OpenSSL raw cipher per 1400-byte packet, 1 core" "$raw_gcm" "$raw_cbc"
printf '%-46s %14s %26s\n' "  half of it (the goal)" "$(awk -v r="$raw_gcm" 'BEGIN{printf "%.2f", r/2}')" "$(awk -v r="$raw_cbc" 'BEGIN{printf "%.2f", r/2}')"
printf '%-46s %14s %26s\n' "qvpn ESP seal alone (EspTransform), 1 core" "$(val qvpn-seal-aes128gcm)" "$(val qvpn-seal-aes128cbc-hmacsha256)"
printf '%-46s %14s %26s\n' "qvpn ESP open alone (EspTransform), 1 core" "$(val qvpn-open-aes128gcm)" "$(val qvpn-open-aes128cbc-hmacsha256)"
printf '%-46s %14s %26s\n' "qvpn userspace data path, raw ESP" "$(gb "$q_gcm")" "$(gb "$q_cbc")"
printf '%-46s %14s %26s\n' "qvpn userspace data path, ESP-in-UDP" "$(gb "$qu_gcm")" "$(gb "$qu_cbc")"
printf '%-46s %14s %26s\n' "strongSwan charon kernel-libipsec (ESP-in-UDP)" "$(gb "$s_gcm")" "$(gb "$s_cbc")"
printf '%-46s %14s %26s\n' "qvpn (ESP-in-UDP) / kernel-libipsec" "$(ratio "$qu_gcm" "$s_gcm")" "$(ratio "$qu_cbc" "$s_cbc")"
printf '%-46s %14s %26s\n' "qvpn (ESP-in-UDP) / raw cipher" "$(pct "$qu_gcm" "$raw_gcm")" "$(pct "$qu_cbc" "$raw_cbc")"
printf '%-46s %14s %26s\n' "qvpn (raw ESP) / raw cipher" "$(pct "$q_gcm" "$raw_gcm")" "$(pct "$q_cbc" "$raw_cbc")"
echo "The raw cipher and ESP-alone rows are the best of three rounds on one core; the"
echo "tunnels share the machine's CPUs with both iperf3 ends and everything else running."
echo "(artifacts: $QV_WORK)"
