# Helpers of the packet-rules namespace tests. Source it; it sets up the
# cleanup (namespaces and processes this test made, by name and PID only).
set -u
QV_SRC=${QVPN_SOURCE_DIR:?}
QV_BUILD=${QVPN_BUILD_DIR:?}
QV_BIN=$QV_BUILD/bin
QV_NET=$QV_SRC/tests/rules/netcheck.py
QV_FIXTURE=$QV_BUILD/rules/tests/rules_policy_fixture
QV_NS=()
QV_PIDS=()
QV_TMP=$(mktemp -d /tmp/qv-ru-test.XXXXXX)
export QVPN_ROOT=$QV_TMP/root

qv_skip() {
	echo "SKIP: $*"
	[ "${CI:-}" = true ] && exit 1
	exit 77
}

[ "$(id -u)" = 0 ] || qv_skip "needs root for network namespaces and nftables"
for exe in LODIPFTR RMVTCPTBL DSPIPFTR; do
	[ -x "$QV_BIN/$exe" ] || qv_skip "$exe not built"
done
[ -x /usr/bin/python3 ] || qv_skip "python3 is needed for the traffic helpers"

qv_cleanup() {
	local rc=$?
	for p in "${QV_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	# The journal job runs inside the server namespace.
	if [ -f "$QVPN_ROOT/run/QTOIPFJRN.pid" ]; then
		local jp
		jp=$(cat "$QVPN_ROOT/run/QTOIPFJRN.pid")
		[ "$(cat /proc/"$jp"/comm 2>/dev/null)" = QTOIPFJRN ] && kill "$jp"
	fi
	for n in "${QV_NS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	[ "${QV_KEEP:-0}" = 1 ] || rm -rf "$QV_TMP"
	exit $rc
}
trap qv_cleanup EXIT INT TERM

qv_fail() {
	echo "FAIL: $*"
	exit 1
}

qv_ok() { echo "ok: $*"; }

qv_ns() {
	ip netns list | grep -q "^$1\b" && qv_fail "namespace $1 exists already"
	ip netns add "$1" || qv_fail "cannot create namespace $1"
	QV_NS+=("$1")
	ip -n "$1" link set lo up
}

# qv_veth NS1 IF1 ADDR1 NS2 IF2 ADDR2
qv_veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || qv_fail "veth $2"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# Run in a namespace with the test's state root and the built commands.
qv_in() {
	local ns=$1
	shift
	ip netns exec "$ns" env QVPN_ROOT="$QVPN_ROOT" PATH="$QV_BIN:$PATH" "$@"
}

qv_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	QV_PIDS+=($!)
}

# qv_expect RC DESCRIPTION CMD...: the command exits with RC.
qv_expect() {
	local want=$1 what=$2
	shift 2
	"$@" >"$QV_TMP/out" 2>&1
	local got=$?
	if [ "$got" != "$want" ]; then
		cat "$QV_TMP/out"
		qv_fail "$what (exit $got, expected $want)"
	fi
	qv_ok "$what"
}

# The table without its counters, and the state (database and WAL), as one
# digest.
qv_snapshot() {
	{
		ip netns exec "$1" nft list ruleset | sed 's/packets [0-9]* bytes [0-9]*//'
		cat "$QVPN_ROOT/ipfilter.db" "$QVPN_ROOT/ipfilter.db-wal" 2>/dev/null | sha256sum
	} | sha256sum
}

# Journal entries (QIPFILTER, TF) matching an SQL condition.
qv_tf_count() {
	sqlite3 "$QVPN_ROOT/journal/QIPFILTER.db" "SELECT count(*) FROM entries WHERE type = 'TF' AND $1"
}
