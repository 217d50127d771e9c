# Helpers of the vman integration tests. Namespaces are prefixed qv-vm.
QVPN_BUILD_DIR=${QVPN_BUILD_DIR:?set by ctest}
export PATH=$QVPN_BUILD_DIR/bin:$PATH
export QVPN_LIBEXEC=${QVPN_LIBEXEC:-$QVPN_BUILD_DIR/libexec/qvpn}

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $(basename "$0")"; exit 0; }
skip() {
	echo "SKIP: $*" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
need_root() { [ "$(id -u)" = 0 ] || skip "needs root for network namespaces"; }

make_ns() { ip netns add "$1" && ip -n "$1" link set lo up; }
# End every process of the namespace we made, then the namespace.
cleanup_ns() {
	local ns=$1 p
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	true
}

# expect_rc RC MSGID command... : the command exits RC and its output names MSGID.
expect_rc() {
	local want=$1 id=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, want $want: $out"
	echo "$out" | grep -q "$id" || fail "'$*' did not say $id: $out"
}

# A live process (a zombie whose parent has not reaped it yet is gone).
alive() {
	local st
	st=$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null | awk '{print $1}') || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
