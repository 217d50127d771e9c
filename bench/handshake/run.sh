#!/bin/bash
# bench/handshake/run.sh -- IKEv2 handshakes against qvpn and against
# strongSwan's charon, in the same run, with the same load generator.
#
#   [qvd-hb-i] hs_load x P                           [qvd-hb-r] the responder
#   qvd-hb-vi 10.64.0.2/24                           qvd-hb-vr 10.64.0.1/24
#     + 10.65.0.1/32 ... (one source address per IKE SA)   lo 10.100.0.1/32
#                                                     route 10.65.0.0/16 via 10.64.0.2
#   TSi 10.200.0.1 ... (one /32 per CHILD_SA)        TSr 10.100.0.0/16
#
# Every IKE SA: IKE_SA_INIT + IKE_AUTH with one CHILD_SA, PSK,
# AES-CBC-128/HMAC-SHA-256/PRF-SHA-256 with DH group 19 or 14, ESP
# AES-GCM-128. The responder is either
#  - qvpn: QTOVMAN + QTOKVPNIK2 started with STRTCPSVR SERVER(*VPN), the
#    userspace data path, configured with CL commands (a *ANYIP key policy,
#    a data policy, a dynamic-key group with POLICYFTR(*NONE)); or
#  - charon 5.9.8 with kernel-libipsec (userspace ESP), remote_addrs=%any,
#    remote_ts covering every TSi, the same proposals; all its crypto from
#    its openssl plugin (qvpn uses OpenSSL too).
# Both with liveness checks off and cookies out of the way (every IKE SA
# comes from its own address; the half-open threshold is set high on both).
#
# Why QTOVMAN and not the tests' ik2_peer harness: charon's figures include
# installing every CHILD_SA (into libipsec) and its policy checks, so qvpn's
# must include QTOVMAN's share of the same work; and QTOVMAN's SA
# installation, though large (about a third of QTOVMAN's CPU time per IKE SA
# at 1,000 SAs; perf with HB_PERF shows the rest), is not the whole of it:
# policy checks, state and forwarding are product work too. The key
# manager's own share is printed beside the total (KM columns), from
# QTOKVPNIK2's /proc readings, so the IKE engine alone can be compared too.
#
# The initiators (hs_load) run qvpn's own IKEv2 engine (daemon/ikev2/engine)
# on plain UDP sockets: the same wire code and OpenSSL crypto as the
# product, no second implementation.
#
# Measured per run: wall time from the first IKE_SA_INIT to the last
# CHILD_SA (IKE SAs per second), responder CPU time (utime+stime of every
# responder process, /proc/<pid>/stat) per IKE SA, and responder memory per
# established SA (Pss and Private_Dirty of /proc/<pid>/smaps_rollup after
# all are established, minus the same before the first handshake). The
# count of established SAs is checked on the responder (WRKVPNCNN --json,
# swanctl --stats and --list-sas) before any number is printed.
#
# usage: sudo bench/handshake/run.sh [--sas N] [--procs P] [--window W]
#                                    [--groups "19 14"] [--runs R] [--quick]
#   --quick: 100 SAs, group 19, one run: checks the machinery, asserts no speed.
#   --runs R: R runs per responder and group (alternating); the table shows
#             the best (lowest responder CPU) run and the spread of all.
#   --only qvpn|charon: one responder (for profiling).
# env: HB_PERF=DIR records the responder with perf (call graphs) during the
#      load, one DIR/<impl>-<group>-<run>.data per run.
# env: QVPN_BUILD_DIR (default ./build), KEEP=1 keeps the work directory.
# Exit 0 when every run established every SA and all numbers were read;
# 1 otherwise; 2 when something is missing (77 from quick.sh under ctest).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${QVPN_BUILD_DIR:-$SRC/build}
SAS=1000 PROCS=4 WINDOW=16 GROUPS_LIST="19 14" RUNS=1 ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	--sas) SAS=$2; shift ;;
	--procs) PROCS=$2; shift ;;
	--window) WINDOW=$2; shift ;;
	--groups) GROUPS_LIST=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--quick) SAS=100 PROCS=2 GROUPS_LIST=19 RUNS=1 ;;
	--only) ONLY=$2; shift ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
MISSING=2
missing() { echo "hsbench: $*" >&2; exit $MISSING; }
[ "$(id -u)" = 0 ] || missing "run as root (network namespaces)"
HS_LOAD=$BUILD/bench/hs_load
export QVPN_LIBEXEC=$BUILD/libexec/qvpn
export PATH=$BUILD/bin:$PATH
CHARON=${CHARON:-/usr/lib/ipsec/charon}
for f in "$HS_LOAD" "$QVPN_LIBEXEC/QTOVMAN" "$QVPN_LIBEXEC/QTOKVPNIK2" "$CHARON"; do
	[ -x "$f" ] || missing "$f is not built or installed (ninja -C $BUILD hs_load QTOVMAN QTOKVPNIK2 and the CL commands)"
done
for c in busybox STRTCPSVR ENDTCPSVR CRTLINETH LODIPFTR CRTVPNKEYP CRTVPNDTAP CRTVPNDKG CHGVPNA CHGSYSVAL WRKVPNCNN swanctl jq; do
	command -v $c >/dev/null || missing "$c is not built or installed"
done
[ "$SAS" -ge "$PROCS" ] || missing "--sas must be at least --procs"
[ "$SAS" -le 60000 ] || missing "--sas is at most 60000 (addresses in 10.65.0.0/16)"

NS_I=qvd-hb-i NS_R=qvd-hb-r
WORK=$(mktemp -d /tmp/qvd-hb-bench.XXXXXX)
PSK=hb-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export HB_PSK=$PSK
RESP=10.64.0.1
FIRST_INNER=10.200.0.1
DATA_NET=10.100.0.0/16
log() { printf '[hsbench %s] %s\n' "$(date +%T)" "$*" >&2; }

# --- cleanup: by pid and by the namespaces this script made --------------------------
PIDS=()
MADE_NS=()
cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for ns in "${MADE_NS[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	MADE_NS=()
	PIDS=()
}
on_exit() {
	cleanup
	if [ -n "${KEEP:-}" ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

make_ns() {
	ip netns list | grep -qw "$1" && missing "namespace $1 exists (a stale run? ip netns del $1)"
	ip netns add "$1" || exit 1
	MADE_NS+=("$1")
	ip -n "$1" link set lo up
}

topology() {
	make_ns $NS_I
	make_ns $NS_R
	ip link add qvd-hb-vi netns $NS_I type veth peer name qvd-hb-vr netns $NS_R || exit 1
	ip -n $NS_I addr add 10.64.0.2/24 dev qvd-hb-vi
	ip -n $NS_R addr add $RESP/24 dev qvd-hb-vr
	ip -n $NS_R addr add 10.100.0.1/32 dev lo
	ip -n $NS_I link set qvd-hb-vi up
	ip -n $NS_R link set qvd-hb-vr up
	# One source address per IKE SA (/32s, added in one batch), routed on
	# the responder's side through the initiator's link address: two
	# neighbour entries in all, whatever the count (the neighbour table's
	# limits are the host's, shared with every other namespace).
	ip -n $NS_R route add 10.65.0.0/16 via 10.64.0.2 || exit 1
	local i base=$(( (10 << 24) | (65 << 16) | 1 ))
	for ((i = 0; i < SAS; i++)); do
		local a=$((base + i))
		echo "addr add $((a >> 24 & 255)).$((a >> 16 & 255)).$((a >> 8 & 255)).$((a & 255))/32 dev qvd-hb-vi"
	done >"$WORK/addrs.batch"
	ip -n $NS_I -batch "$WORK/addrs.batch" || exit 1
	ip netns exec $NS_I busybox ping -c1 -W2 -I 10.65.0.1 $RESP >/dev/null || { log "veth does not work"; exit 1; }
}

# --- /proc readings ---------------------------------------------------------------------

# cpu_ticks PID...: utime + stime summed (clock ticks)
cpu_ticks() {
	local p t=0 f
	for p in "$@"; do
		f=$(sed 's/^.*) //' "/proc/$p/stat") || return 1
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	echo $t
}
# mem_kb FIELD PID...: a field of smaps_rollup summed (kB)
mem_kb() {
	local field=$1 p t=0 v
	shift
	for p in "$@"; do
		v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/smaps_rollup") || return 1
		t=$((t + v))
	done
	echo $t
}
TCK=$(getconf CLK_TCK)

# --- the load ----------------------------------------------------------------------------

# generators GROUP TAG: P hs_load processes, started together; waits until
# every one has reported; leaves them running (they hold the SAs).
GEN_PIDS=()
generators() {
	local group=$1 tag=$2 k per rest count first=0 start_at
	per=$((SAS / PROCS)) rest=$((SAS % PROCS))
	start_at=$(($(date +%s%3N) + 1500))
	GEN_PIDS=()
	for ((k = 0; k < PROCS; k++)); do
		count=$((per + (k < rest ? 1 : 0)))
		local src inner a b
		a=$(( ((10 << 24) | (65 << 16) | 1) + first ))
		b=$(( ((10 << 24) | (200 << 16) | 1) + first ))
		src="$((a >> 24 & 255)).$((a >> 16 & 255)).$((a >> 8 & 255)).$((a & 255))"
		inner="$((b >> 24 & 255)).$((b >> 16 & 255)).$((b >> 8 & 255)).$((b & 255))"
		ip netns exec $NS_I "$HS_LOAD" --responder $RESP --first-addr "$src" --count $count \
			--inner-first "$inner" --remote-net $DATA_NET --group "$group" --window $WINDOW \
			--start-at $start_at --timeout 600 --index $k \
			>"$WORK/$tag.gen$k.json" 2>"$WORK/$tag.gen$k.err" &
		GEN_PIDS+=($!)
		PIDS+=($!)
		first=$((first + count))
	done
	local done_n
	for _ in $(seq 6200); do
		done_n=0
		for ((k = 0; k < PROCS; k++)); do
			[ -s "$WORK/$tag.gen$k.json" ] && done_n=$((done_n + 1))
			if ! kill -0 "${GEN_PIDS[k]}" 2>/dev/null && [ ! -s "$WORK/$tag.gen$k.json" ]; then
				log "generator $k ended early: $(head -3 "$WORK/$tag.gen$k.err")"
				return 1
			fi
		done
		[ $done_n = "$PROCS" ] && return 0
		sleep 0.1
	done
	log "generators did not finish"
	return 1
}
stop_generators() {
	local p
	for p in "${GEN_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${GEN_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	GEN_PIDS=()
}
# gen_summary TAG: "established failed wall_us retransmits cookies"
gen_summary() {
	cat "$WORK/$1".gen*.json | jq -s -r '
		[(map(.established) | add), (map(.failed + .lost) | add),
		 ((map(.last_up_us) | max) - (map(.start_us) | min)),
		 (map(.retransmits) | add), (map(.cookies) | add)] | @tsv'
}

# --- qvpn ---------------------------------------------------------------------------------

QROOT=
q() { ip netns exec $NS_R env QVPN_ROOT="$QROOT" "$@"; }

qvpn_pids() {
	local vman kids
	vman=$(cat "$QROOT/run/QTOVMAN.pid" 2>/dev/null | tr -d ' \n')
	[ -n "$vman" ] || return 1
	kids=$(cat /proc/"$vman"/task/*/children 2>/dev/null)
	echo "$vman" $kids
}

qvpn_up() { # GROUP RUN
	QROOT=$WORK/qvpn-$1-$2
	local grp="*GRP$1" out=$WORK/qvpn-config.out
	mkdir -p "$QROOT"
	# The group's policy filter: one IPSEC rule covering every TSi (a peer's
	# CHILD_SA is installed only inside the loaded policy filter of its group).
	cat >"$QROOT/hb.i3p" <<-EOF
	ADDRESS hbdata IP = 10.100.0.0 MASK = 255.255.0.0 TYPE = TRUSTED
	ADDRESS hbpeers IP = 10.200.0.0 MASK = 255.255.0.0 TYPE = UNTRUSTED
	FILTER SET hb ACTION = IPSEC DIRECTION = OUTBOUND SRCADDR = hbdata DSTADDR = hbpeers PROTOCOL = * SRCPORT = * DSTPORT = * CONNECTION_DEFINITION = HB
	FILTER_INTERFACE LINE = HBLINE SET = hb
	EOF
	{
		q CHGSYSVAL 'SYSVAL(QVPNDTAPTH)' "VALUE('*USERSPACE')" &&
		q CHGVPNA 'DPDITV(0)' 'HALFOPEN(100000)' &&
		q CRTLINETH 'LIND(HBLINE)' 'RSRCNAME(qvd-hb-vr)' &&
		q CRTVPNKEYP 'KEYPCY(HBKEY)' 'RMTKEYSVR(*ANYIP)' 'AUTH(*PSK)' "PSK('$PSK')" \
			"KEYTFM((*AESCBC128 *SHA256 $grp))" &&
		q CRTVPNDTAP 'DTAPCY(HBDATA)' 'DTATFM((*ESP *AESGCM128 *NONE))' 'PFS(*NONE)' &&
		q CRTVPNDKG 'DKG(HB)' 'DTAPCY(HBDATA)' 'KEYPCY(HBKEY)' 'SYSROLE(*GW2GW)' \
			'INITIATOR(*REMOTE)' 'POLICYFTR(*RULES)' 'LIND(HBLINE)' &&
		q STRTCPSVR 'SERVER(*VPN)' &&
		q LODIPFTR 'OPTION(*LOAD)' 'LIND(*ALL)' "STMF('$QROOT/hb.i3p')"
	} >"$out" 2>&1 || { cat "$out" >&2; log "qvpn configuration failed"; return 1; }
	for _ in $(seq 100); do
		grep -q '"msgid":"IKE0B00"' "$QROOT/joblog/QTOKVPNIK2.log" 2>/dev/null && return 0
		sleep 0.1
	done
	log "QTOKVPNIK2 did not start"
	return 1
}
qvpn_enabled() {
	q WRKVPNCNN --json 2>/dev/null |
		jq '[.[] | select(.group == "HB" and .status.state == "*ENABLED")] | length' 2>/dev/null
}
qvpn_down() {
	q ENDTCPSVR 'SERVER(*VPN)' >/dev/null 2>&1
}

# --- strongSwan ---------------------------------------------------------------------------

SDIR=
swan() {
	timeout 60 ip netns exec $NS_R env STRONGSWAN_CONF="$SDIR/strongswan.conf" \
		swanctl "$@" --uri "unix://$SDIR/charon.vici"
}
CHARON_PID=
charon_up() { # GROUP RUN
	SDIR=$WORK/swan-$1-$2
	local prop=aes128-sha256-ecp256
	[ "$1" = 14 ] && prop=aes128-sha256-modp2048
	mkdir -p "$SDIR/run" "$SDIR/swanctl"
	(cd "$SDIR/swanctl" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private \
		rsa ecdsa bliss pkcs8 pkcs12)
	cat >"$SDIR/strongswan.conf" <<-EOF
	charon {
	  # kernel-libipsec before kernel-netlink; every algorithm from openssl.
	  load = nonce openssl kdf socket-default kernel-libipsec kernel-netlink vici
	  cookie_threshold = 100000
	  plugins { vici { socket = unix://$SDIR/charon.vici } }
	  filelog { hb { path = $SDIR/charon.log
	    time_format = %T
	    default = 1 } }
	}
	swanctl { load = nonce openssl }
	EOF
	cat >"$SDIR/swanctl/swanctl.conf" <<-EOF
	connections {
	  hb {
	    version = 2
	    local_addrs = $RESP
	    remote_addrs = %any
	    proposals = $prop
	    local { auth = psk
	      id = $RESP }
	    remote { auth = psk }
	    children { hb { mode = tunnel
	      local_ts = $DATA_NET
	      remote_ts = 10.200.0.0/16
	      esp_proposals = aes128gcm16 } }
	  }
	}
	secrets { ike-hb { secret = "$PSK" } }
	EOF
	ip netns exec $NS_R sh -c "mount --bind '$SDIR/run' /run && \
		exec env STRONGSWAN_CONF='$SDIR/strongswan.conf' '$CHARON'" >"$SDIR/charon.out" 2>&1 &
	CHARON_PID=$!
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -S "$SDIR/charon.vici" ] && swan --stats >/dev/null 2>&1 && break
		sleep 0.1
	done
	swan --load-all --file "$SDIR/swanctl/swanctl.conf" >"$SDIR/load.out" 2>&1 ||
		{ cat "$SDIR/load.out" "$SDIR/charon.out" >&2; log "charon did not load its configuration"; return 1; }
}
# charon_ike_sas: "total half-open" from swanctl --stats (a cheap query)
charon_ike_sas() {
	swan --stats 2>/dev/null | awk '/^IKE_SAs:/ { print $2, $4 }'
}
charon_children() {
	swan --list-sas 2>/dev/null | grep -c 'INSTALLED, TUNNEL'
}
charon_down() {
	kill "$CHARON_PID" 2>/dev/null
	wait "$CHARON_PID" 2>/dev/null
}

# --- one run --------------------------------------------------------------------------------

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=$WORK/results.tsv
: >"$RESULTS"
FAILURES=0

# settle PID...: wait until the responder's CPU counters stop moving (at most 3 s)
settle() {
	local a b
	a=$(cpu_ticks "$@")
	for _ in $(seq 30); do
		sleep 0.1
		b=$(cpu_ticks "$@")
		[ "$a" = "$b" ] && return 0
		a=$b
	done
}

one_run() { # IMPL GROUP RUN
	local impl=$1 group=$2 run=$3 tag="$1-$2-$3" pids cpu0 pss0 pd0 rss0 n
	topology
	if [ "$impl" = qvpn ]; then
		qvpn_up "$group" "$run" || { cleanup; return 1; }
		pids=$(qvpn_pids) || { log "no QTOVMAN pid"; cleanup; return 1; }
	else
		charon_up "$group" "$run" || { cleanup; return 1; }
		pids=$CHARON_PID
	fi
	# shellcheck disable=SC2086
	settle $pids
	# qvpn's key manager alone (QTOVMAN's children), for the split.
	local km_pids= km0=0 kmp0=0 km1=0 kmp1=0 i0 i1 ti0 ti1 t0 t1
	[ "$impl" = qvpn ] && km_pids=${pids#* }
	# The idle baseline: what the responder burns doing nothing, per second.
	ti0=$(date +%s%N) i0=$(cpu_ticks $pids)
	sleep 1
	ti1=$(date +%s%N) i1=$(cpu_ticks $pids)
	t0=$(date +%s%N)
	cpu0=$(cpu_ticks $pids) pss0=$(mem_kb Pss $pids) pd0=$(mem_kb Private_Dirty $pids)
	rss0=$(mem_kb Rss $pids)
	if [ -n "$km_pids" ]; then km0=$(cpu_ticks $km_pids) kmp0=$(mem_kb Pss $km_pids); fi
	log "$tag: responder pids $pids; $SAS IKE SAs from $PROCS processes, window $WINDOW each"
	local perf_pid=
	if [ -n "${HB_PERF:-}" ]; then
		mkdir -p "$HB_PERF"
		perf record -q -F 999 --call-graph dwarf,16384 -p "$(echo $pids | tr ' ' ,)" -o "$HB_PERF/$tag.data" \
			>/dev/null 2>&1 &
		perf_pid=$!
		sleep 0.5
	fi
	generators "$group" "$tag"
	local gen_rc=$?
	if [ -n "$perf_pid" ]; then
		kill -INT "$perf_pid" 2>/dev/null
		wait "$perf_pid" 2>/dev/null
	fi
	if [ $gen_rc != 0 ]; then
		stop_generators
		[ "$impl" = qvpn ] && qvpn_down || charon_down
		cleanup
		return 1
	fi
	# Every SA established, seen from the responder's side first.
	local ok=0
	for _ in $(seq 100); do
		if [ "$impl" = qvpn ]; then
			n=$(qvpn_enabled)
		else
			n=$(charon_ike_sas | awk '$2 == 0 { print $1 }')
		fi
		[ "${n:-0}" = "$SAS" ] && { ok=1; break; }
		sleep 0.2
	done
	settle $pids
	local cpu1 pss1 pd1 rss1 live=1 p
	for p in $pids; do [ -e "/proc/$p" ] || live=0; done
	[ $live = 1 ] || { log "$tag: a responder process ended"; ok=0; }
	cpu1=$(cpu_ticks $pids) pss1=$(mem_kb Pss $pids) pd1=$(mem_kb Private_Dirty $pids)
	rss1=$(mem_kb Rss $pids)
	t1=$(date +%s%N)
	if [ -n "$km_pids" ]; then km1=$(cpu_ticks $km_pids) kmp1=$(mem_kb Pss $km_pids); fi
	local idle
	idle=$(awk -v d=$((i1 - i0)) -v a=$((ti1 - ti0)) -v b=$((t1 - t0)) \
		'BEGIN { printf "%.0f", (a > 0) ? d * b / a : 0 }')
	# The detailed check after the readings, so the listing is not charged.
	if [ "$impl" = charon ] && [ $ok = 1 ]; then
		n=$(charon_children)
		[ "$n" = "$SAS" ] || { log "$tag: charon lists $n installed CHILD_SAs"; ok=0; }
	fi
	local sum est bad wall rtx ck
	sum=$(gen_summary "$tag")
	read -r est bad wall rtx ck <<<"$sum"
	[ "$est" = "$SAS" ] || { log "$tag: initiators established $est of $SAS ($bad failed)"; ok=0; }
	# The responder first, while the initiators still answer its deletes.
	if [ "$impl" = qvpn ]; then qvpn_down; else charon_down; fi
	stop_generators
	cleanup
	if [ $ok != 1 ]; then
		log "$tag: responder shows ${n:-?} of $SAS established"
		return 1
	fi
	# impl group run wall_us cpu_ticks pss_kb private_dirty_kb rss_kb retransmits cookies
	#   km_cpu_ticks km_pss_kb idle_ticks (cpu_ticks has the idle baseline taken off)
	local km_cpu=- km_pss=-
	[ -n "$km_pids" ] && km_cpu=$((km1 - km0)) km_pss=$((kmp1 - kmp0))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$impl" "$group" "$run" \
		"$wall" $((cpu1 - cpu0 - idle)) $((pss1 - pss0)) $((pd1 - pd0)) $((rss1 - rss0)) "$rtx" "$ck" \
		"$km_cpu" "$km_pss" "$idle" >>"$RESULTS"
	log "$tag: $(tail -1 "$RESULTS" | cut -f4-)"
}

for group in $GROUPS_LIST; do
	for ((r = 1; r <= RUNS; r++)); do
		# Alternate which responder goes first, so drift in the machine's
		# load does not always favour the same one.
		order="qvpn charon"
		[ $((r % 2)) = 0 ] && order="charon qvpn"
		for impl in $order; do
			[ -n "$ONLY" ] && [ "$impl" != "$ONLY" ] && continue
			one_run "$impl" "$group" "$r" || FAILURES=$((FAILURES + 1))
		done
	done
done

# --- the table ---------------------------------------------------------------------------------
echo
echo "IKEv2 handshakes: $SAS IKE SAs (one CHILD_SA each), PSK, AES-CBC-128/SHA-256, ESP AES-GCM-128;"
echo "$PROCS initiator processes x window $WINDOW; responder in its own network namespace; $(nproc) CPUs"
echo "load average at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -F'\t' -v n="$SAS" -v tck="$TCK" -v groups="$GROUPS_LIST" '
	{
		k = $1 SUBSEP $2
		cpu = $5 / tck
		runs[k]++
		if (!(k in best) || cpu < bestcpu[k]) {
			best[k] = $0; bestcpu[k] = cpu
		}
		if (!(k in lo) || cpu < lo[k]) lo[k] = cpu
		if (!(k in hi) || cpu > hi[k]) hi[k] = cpu
		w = n / ($4 / 1e6)
		if (!(k in wlo) || w < wlo[k]) wlo[k] = w
		if (!(k in whi) || w > whi[k]) whi[k] = w
	}
	function row(impl, g,   f, cpu) {
		k = impl SUBSEP g
		if (!(k in best)) { printf "%-7s %5s  %s\n", impl, g, "(no complete run)"; return }
		split(best[k], f, "\t")
		cpu = f[5] / tck
		rate[k] = n / (f[4] / 1e6)
		hps[k] = cpu > 0 ? n / cpu : 0
		mem[k] = f[6] / n
		kmc = f[11] == "-" ? "-" : sprintf("%.3f", f[11] / tck * 1000 / n)
		kmm = f[12] == "-" ? "-" : sprintf("%.2f", f[12] / n)
		printf "%-7s %5s %9.0f %10.3f %9.0f %10.2f %10.2f %10.2f %9s %9s %4d %3d   %d run(s): CPU %.2f-%.2f s, %.0f-%.0f SA/s\n",
			impl, "grp" g, rate[k], cpu * 1000 / n, hps[k], mem[k], f[7] / n, f[8] / n,
			kmc, kmm, f[9], f[10], runs[k], lo[k], hi[k], wlo[k], whi[k]
	}
	END {
		printf "\n%-7s %5s %9s %10s %9s %10s %10s %10s %9s %9s %4s %3s   %s\n", "resp", "DH", "IKE_SA/s",
			"CPU ms/SA", "HS/CPU-s", "PSS KB/SA", "PrvD KB/SA", "RSS KB/SA", "KM ms/SA", "KM KB/SA",
			"rtx", "ck", "spread"
		ng = split(groups, G, " ")
		for (i = 1; i <= ng; i++) {
			row("qvpn", G[i]); row("charon", G[i])
		}
		printf "\ntargets: qvpn handshakes per CPU-second >= 2x charon; qvpn memory per SA <= 0.5x charon\n"
		for (i = 1; i <= ng; i++) {
			q = "qvpn" SUBSEP G[i]; c = "charon" SUBSEP G[i]
			if (!(q in best) || !(c in best)) continue
			r1 = hps[c] > 0 ? hps[q] / hps[c] : 0
			r2 = mem[c] > 0 ? mem[q] / mem[c] : 0
			m1 = (r1 >= 2) ? "met" : "MISSED"
			m2 = (r2 <= 0.5) ? "met" : "MISSED"
			r3 = (rate[c] > 0) ? rate[q] / rate[c] : 0
			printf "grp%-3s HS/CPU-s qvpn/charon = %.2fx (%s)   PSS/SA qvpn/charon = %.2fx (%s)   IKE_SA/s qvpn/charon = %.2fx\n",
				G[i], r1, m1, r2, m2, r3
		}
	}' "$RESULTS"
echo
echo "KM: qvpn's key manager QTOKVPNIK2 alone (the rest of qvpn's row is QTOVMAN: SA installation, policy"
echo "checks, state table); charon is one process. CPU time has the idle baseline taken off."
echo
echo "raw runs (impl group run wall_us cpu_ticks pss_kb privdirty_kb rss_kb rtx cookies km_ticks km_pss_kb idle_ticks):"
sed 's/^/  /' "$RESULTS"
if [ $FAILURES -ne 0 ]; then
	echo "$FAILURES run(s) did not complete; logs in $WORK" >&2
	KEEP=1
	exit 1
fi
exit 0
