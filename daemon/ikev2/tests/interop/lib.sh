# Helpers of the IKEv2 interop tests: network namespaces (prefix qv-ik2-),
# one strongSwan charon per namespace, one qvpn system per namespace.
#
# strongSwan notes (Debian 12, 5.9.8):
#  - charon writes a compiled-in pid file under /run, so each instance runs
#    in the mount namespace `ip netns exec` gives it, with a private
#    directory bound over /run;
#  - the kernel of this CI machine has no ESP, so charon uses its userspace
#    data path (kernel-libipsec, listed before kernel-netlink, which still
#    provides addresses and routes). libipsec fakes its NAT detection
#    payloads, so every tunnel with it uses ESP in UDP on port 4500;
#  - vici, nonce, kdf and socket-default are always needed; swanctl calls
#    are wrapped in timeout in case charon does not answer.
QVPN_BUILD_DIR=${QVPN_BUILD_DIR:?set by ctest}
export PATH=$QVPN_BUILD_DIR/bin:$PATH
export QVPN_LIBEXEC=${QVPN_LIBEXEC:-$QVPN_BUILD_DIR/libexec/qvpn}
CHARON=${CHARON:-/usr/lib/ipsec/charon}
PLUGINS=${PLUGINS:-"random nonce aes sha1 sha2 hmac kdf gmp gcm openssl socket-default kernel-libipsec kernel-netlink vici"}

T0=${EPOCHREALTIME/./}
log() {
	local ms=$(((${EPOCHREALTIME/./} - T0) / 1000))
	printf '[%4d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}
FAILURES=0
fail() {
	log "FAIL: $*"
	FAILURES=$((FAILURES + 1))
	KEEP=1
}
die() {
	log "FAIL: $*"
	KEEP=1
	[ -n "${WORK:-}" ] && log "logs kept in $WORK"
	exit 1
}
skip() {
	log "SKIP: $*"
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || skip "$c is not installed"
	done
}

CLEANUP=()
on_exit() { CLEANUP+=("$*"); }
run_cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP[i]}" >/dev/null 2>&1 || true
	done
}
trap run_cleanup EXIT
trap 'exit 130' INT TERM

# make_ns NAME: a fresh namespace (refuses to reuse one) with lo up.
make_ns() {
	ip netns list | grep -qw "$1" && die "namespace $1 exists (stale run?)"
	ip netns add "$1" || die "ip netns add $1"
	on_exit "kill_ns $1"
	ip -n "$1" link set lo up
}
kill_ns() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$1" 2>/dev/null
}

# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2
veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || die "veth $2/$5"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# --- strongSwan --------------------------------------------------------------------

# charon_conf DIR [extra charon lines...]
charon_conf() {
	local dir=$1 l
	shift
	mkdir -p "$dir/run" "$dir/swanctl"
	(cd "$dir/swanctl" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private \
		rsa ecdsa bliss pkcs8 pkcs12)
	{
		echo "charon {"
		echo "  load = $PLUGINS"
		echo "  retransmit_timeout = 1.0"
		echo "  retransmit_tries = 3"
		for l in "$@"; do echo "  $l"; done
		echo "  plugins { vici { socket = unix://$dir/charon.vici } }"
		echo "  filelog { ik2 { path = $dir/charon.log"
		echo "    time_format = %T"
		echo "    flush_line = yes"
		echo "    default = 1"
		echo "    ike = 2"
		echo "    cfg = 2 } }"
		echo "}"
		echo "swanctl { load = random nonce }"
	} >"$dir/strongswan.conf"
}

# charon_start NS DIR
charon_start() {
	local ns=$1 dir=$2 i
	ip netns exec "$ns" sh -c "mount --bind '$dir/run' /run && \
		exec env STRONGSWAN_CONF='$dir/strongswan.conf' '$CHARON'" >"$dir/charon.out" 2>&1 &
	echo $! >"$dir/charon.pid"
	disown  # no job-control notice when a test kills it
	on_exit "kill $(cat "$dir/charon.pid")"
	for i in $(seq 100); do
		[ -S "$dir/charon.vici" ] && swanctl_in "$ns" "$dir" --stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$dir/charon.out" >&2
	die "charon in $ns did not come up"
}

swanctl_in() {
	local ns=$1 dir=$2
	shift 2
	# The operation comes first, its options after it.
	timeout 20 ip netns exec "$ns" env STRONGSWAN_CONF="$dir/strongswan.conf" \
		swanctl "$@" --uri "unix://$dir/charon.vici"
}

# swanctl_conf DIR LOCAL REMOTE LOCAL_TS REMOTE_TS PSK IKE_PROPOSAL ESP_PROPOSAL [extra conn lines]
swanctl_conf() {
	local dir=$1
	cat >"$dir/swanctl/swanctl.conf" <<EOF
connections {
  net {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = $7
    ${9:-}
    local {
      auth = psk
      id = $2
    }
    remote {
      auth = psk
      id = $3
    }
    children {
      net {
        mode = tunnel
        local_ts = $4
        remote_ts = $5
        esp_proposals = $8
        ${10:-}
      }
    }
  }
}
secrets {
  ike-net {
    id-a = $2
    id-b = $3
    secret = "$6"
  }
}
EOF
	swanctl_in "$NS_S" "$dir" --load-all --file "$dir/swanctl/swanctl.conf" >"$dir/load.out" 2>&1 \
		|| { cat "$dir/load.out" >&2; die "swanctl --load-all"; }
}

# --- qvpn ----------------------------------------------------------------------------

# q CMD ARGS...: a CL command on the qvpn system (inside its namespace).
q() { ip netns exec "$NS_Q" env QVPN_ROOT="$QROOT" "$@"; }

# capture NS IFACE FILE: dumpcap until capture_stop.
capture() {
	ip netns exec "$1" dumpcap -q -i "$2" -w "$3" >"$3.log" 2>&1 &
	CAP_PID=$!
	on_exit "kill -INT $CAP_PID"
	local i
	for i in $(seq 50); do
		grep -q "Capturing on" "$3.log" 2>/dev/null && return 0
		sleep 0.1
	done
	die "dumpcap did not start"
}
capture_stop() {
	sleep 1  # the last frames reach the file a little later
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
}
