# shellcheck shell=bash
# Helpers for the communications trace integration tests (sourced).
#
# Every namespace and veth name starts with qv-tr- plus this run's PID, so
# parallel runs never meet; everything made here is removed on exit, and
# processes are stopped by their own PID only.

TR_TAG=qv-tr-$$
TR_FAILS=0
TR_CLEANUP=()

tr_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
tr_fail() { tr_log "FAIL: $*"; TR_FAILS=$((TR_FAILS + 1)); }
tr_pass() { tr_log "ok: $*"; }
tr_die() { tr_log "FAIL: $*"; exit 1; }

tr_on_exit() { TR_CLEANUP+=("$*"); }
tr_cleanup() {
	local i
	for ((i = ${#TR_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${TR_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	TR_CLEANUP=()
}

# Root and the tools; without them: skip (77), or fail under CI=true.
tr_require() {
	local why=""
	[ "$(id -u)" = 0 ] || why="needs root"
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || why="${why:+$why, }needs $c"
	done
	if [ -n "$why" ]; then
		echo "SKIP: $why"
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
}

tr_setup() {
	: "${QVPN_BUILD_DIR:?set by ctest}"
	BIN=$QVPN_BUILD_DIR/bin
	FLOOD=$QVPN_BUILD_DIR/daemon/trace/tests/udp_flood
	WORK=$(mktemp -d "/tmp/$TR_TAG.XXXXXX")
	export QVPN_ROOT=$WORK/root
	mkdir -p "$QVPN_ROOT"
	trap tr_cleanup EXIT
	trap 'exit 130' INT TERM
	# TR_KEEP=1 keeps the work directory (printouts, pcaps, charon logs).
	[ "${TR_KEEP:-0}" = 1 ] || tr_on_exit "rm -rf '$WORK'"
	# Trace jobs this run started, stopped by PID at the end.
	tr_on_exit "tr_stop_jobs"
}

tr_stop_jobs() {
	local f pid
	for f in "$QVPN_ROOT"/trace/*/trace.json; do
		[ -f "$f" ] || continue
		pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$f")
		if [ -n "$pid" ] && [ "$pid" != 0 ] && grep -q QSCCMNTRC "/proc/$pid/cmdline" 2>/dev/null; then
			kill "$pid" 2>/dev/null
		fi
	done
}

# tr_netns NAME: a namespace of our own, lo up, no IPv6 chatter.
tr_netns() {
	ip netns add "$1" || tr_die "ip netns add $1"
	tr_on_exit "ip netns del '$1'"
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
}

# tr_veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B
tr_veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || tr_die "veth $2/$5"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# nsx NS CMD...: run a command inside a namespace.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# expect_msg WHAT RC MSGID NS CMD...: the command exits RC and prints MSGID.
expect_msg() {
	local what=$1 want_rc=$2 id=$3 ns=$4 out rc
	shift 4
	out=$(ip netns exec "$ns" "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want_rc" ] && grep -q "^$id:" <<<"$out"; then
		tr_pass "$what -> $id (exit $rc)"
	else
		tr_fail "$what: expected $id exit $want_rc, got exit $rc: $out"
	fi
}

# check NAME TEST...: one assertion with a readable name.
check() {
	local what=$1
	shift
	if "$@"; then
		tr_pass "$what"
	else
		tr_fail "$what"
	fi
}

eq() { [ "$1" = "$2" ] || { tr_log "  got '$1', expected '$2'"; return 1; }; }
ge() { [ "$1" -ge "$2" ] 2>/dev/null || { tr_log "  got '$1', expected >= '$2'"; return 1; }; }
le() { [ "$1" -le "$2" ] 2>/dev/null || { tr_log "  got '$1', expected <= '$2'"; return 1; }; }

# gone PID: the process has exited (and been reaped) within 3 seconds.
gone() {
	local i
	for ((i = 0; i < 60; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# The number of records PRTCMNTRC selected: from its completion message.
printed_count() { sed -n 's/^TRC0004: \([0-9]*\) of .*/\1/p' <<<"$1"; }

# chk_field NS OBJ TYPE FIELD: one field of CHKCMNTRC --json for one trace.
chk_field() {
	ip netns exec "$1" "$BIN/CHKCMNTRC" "CFGOBJ($2)" "CFGTYPE($3)" --json 2>/dev/null |
		jq -r ".traces[0].$4"
}

tr_finish() {
	if [ "$TR_FAILS" = 0 ]; then
		tr_log "PASS: $1"
		exit 0
	fi
	tr_log "FAILED: $1 ($TR_FAILS checks)"
	exit 1
}

# --- strongSwan peers for genuine IKE traffic -----------------------------------
# One charon per namespace. charon's pid file path is built in (/run), so each
# runs with its own /run: `ip netns exec` gives it a private mount namespace,
# where a bind mount over /run stays invisible to everyone else. With
# kernel-libipsec (userspace ESP over the TUN device ipsec0; this kernel has
# no ESP) the plugin must come before kernel-netlink, and charon keeps its
# default thread count (libipsec parks several threads in blocking reads).
TR_CHARON=${TR_CHARON:-/usr/lib/ipsec/charon}
TR_PLUGINS="random nonce aes sha1 sha2 hmac kdf gmp gcm openssl socket-default kernel-libipsec kernel-netlink vici"
TR_PSK=qv-tr-trace-test-psk-0123456789

# tr_charon NAME NS LOCAL REMOTE LOCAL_ID REMOTE_ID LOCAL_TS REMOTE_TS
tr_charon() {
	local name=$1 ns=$2 dir=$WORK/$1
	mkdir -p "$dir/run" "$dir/swanctl"
	(cd "$dir/swanctl" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private \
		rsa ecdsa bliss pkcs8 pkcs12)
	cat >"$dir/strongswan.conf" <<-CONF
	charon {
	  load = $TR_PLUGINS
	  retransmit_timeout = 1.0
	  retransmit_tries = 3
	  plugins { vici { socket = unix://$dir/charon.vici } }
	  filelog { t { path = $dir/charon.log
	                default = 1
	                ike = 2 } }
	}
	swanctl { load = random nonce }
	CONF
	cat >"$dir/swanctl/swanctl.conf" <<-CONF
	connections {
	  net {
	    version = 2
	    local_addrs = $3
	    remote_addrs = $4
	    proposals = aes128-sha256-modp2048
	    local { auth = psk
	            id = $5 }
	    remote { auth = psk
	             id = $6 }
	    children { net { mode = tunnel
	                     local_ts = $7
	                     remote_ts = $8
	                     esp_proposals = aes128-sha256 } }
	  }
	}
	secrets { ike-t { id-a = $5
	                  id-b = $6
	                  secret = "$TR_PSK" } }
	CONF
	ip netns exec "$ns" sh -c 'mount -o bind "$1/run" /run || exit 97
		STRONGSWAN_CONF="$1/strongswan.conf" exec "$2"' sh "$dir" "$TR_CHARON" \
		>"$dir/charon.out" 2>&1 </dev/null &
	local pid=$!
	tr_on_exit "tr_kill $pid"
	local i
	for ((i = 0; i < 100; i++)); do
		if [ -S "$dir/charon.vici" ] && tr_swanctl "$name" --stats >/dev/null 2>&1; then
			tr_swanctl "$name" --load-all --noprompt --file "$dir/swanctl/swanctl.conf" \
				>"$dir/load.out" 2>&1 || tr_die "swanctl --load-all ($name): $(cat "$dir/load.out")"
			return 0
		fi
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	tr_die "charon $name did not start: $(cat "$dir/charon.out" "$dir/charon.log" 2>/dev/null | tail -5)"
}

# tr_swanctl NAME ARGS...: swanctl against that charon, with a hard timeout.
tr_swanctl() {
	local name=$1 dir=$WORK/$1
	shift
	STRONGSWAN_CONF="$dir/strongswan.conf" timeout 20 swanctl "$@" --uri "unix://$dir/charon.vici"
}

tr_kill() {
	local i
	kill "$1" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
}

# Value of KEY in `swanctl --list-sas --pretty` output saved in FILE.
sa_value() { awk -v k="$2" '$1 == k && $2 == "=" { print $3; exit }' "$1"; }
