# shellcheck shell=bash
# Helpers of the end-to-end scenarios (tests/scenarios) and the connection
# manager's namespace tests (tests/vman): qvpn systems in network
# namespaces, each with its own state root, driven only by CL commands.
#
# Every namespace, veth and process these helpers make carries the prefix
# qv-in; cleanup runs on exit and kills by PID (or by namespace we made).
#
#   . tests/scenarios/lib.sh
#   in_ns NAME                   a fresh namespace (refuses to reuse one)
#   in_veth NS1 IF1 CIDR1 NS2 IF2 CIDR2
#   in_system S NS ROOT          system S lives in NS with state root ROOT
#   sys S CMD ARGS...            a CL command (or any program) as system S
#   show S CMD ARGS...           the same, echoed as "[System S] CMD ..."
#   in_capture NS IF FILE / in_capture_stop
#   check NAME CMD... / expect_msg RC MSGID S CMD...   count failures
#   finish NAME                  the PASS/FAIL line and the exit status
set -u
SRC=${QVPN_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${QVPN_BUILD_DIR:-$SRC/build}
BIN=$BUILD/bin
export PATH=$BIN:$PATH
export QVPN_LIBEXEC=${QVPN_LIBEXEC:-$BUILD/libexec/qvpn}

T0=$(date +%s%N)
FAILURES=0
FAILED_CHECKS=()
WORK=${WORK:-}
elapsed() {
	local ms=$((($(date +%s%N) - T0) / 1000000))
	printf '%3d.%02ds' $((ms / 1000)) $((ms % 1000 / 10))
}
note() { printf '[%s] %s\n' "$(elapsed)" "$*"; }
step() { printf '\n=== %s\n' "$*"; }
bad() {
	echo "FAIL: $*"
	FAILURES=$((FAILURES + 1))
	FAILED_CHECKS+=("$*")
}
ok() { echo "ok: $*"; }
die() {
	echo "FAIL: $*"
	FAILURES=$((FAILURES + 1))
	FAILED_CHECKS+=("$*")
	exit 1
}
skip() {
	echo "SKIP: $*"
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
need_root() { [ "$(id -u)" = 0 ] || skip "needs root for network namespaces"; }
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || skip "$c is not installed"
	done
}
need_qvpn() {
	local b
	for b in QTOVMAN QTOKVPNIK2; do
		[ -x "$QVPN_LIBEXEC/$b" ] || skip "$b is not built ($QVPN_LIBEXEC)"
	done
	for b in "$@"; do
		[ -x "$BIN/$b" ] || skip "$b is not built ($BIN)"
	done
}

# --- cleanup ---------------------------------------------------------------------
CLEANUP=()
on_exit() { CLEANUP+=("$*"); }
run_cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	CLEANUP=()
}
trap run_cleanup EXIT
trap 'exit 130' INT TERM

workdir() {
	WORK=$(mktemp -d "/tmp/qv-in-$1.XXXXXX")
	on_exit "[ \$FAILURES != 0 ] && [ -n \"\${KEEP_ON_FAIL:-}\" ] || rm -rf '$WORK'"
}

# --- namespaces ------------------------------------------------------------------
in_ns() {
	ip netns list | grep -qw "$1" && die "namespace $1 exists (a stale run?)"
	ip netns add "$1" || die "ip netns add $1"
	on_exit "kill_ns $1"
	ip -n "$1" link set lo up
}
kill_ns() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$1" 2>/dev/null
	true
}
in_veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || die "veth $2/$5"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# --- qvpn systems -----------------------------------------------------------------
declare -A SYS_NS SYS_ROOT
in_system() {
	SYS_NS[$1]=$2
	SYS_ROOT[$1]=$3
	mkdir -p "$3"
	# The server, the filters and their journal job QTOIPFJRN go with the
	# test, whatever happens.
	on_exit "QVPN_ROOT='$3' ip netns exec '$2' '$BIN/RMVTCPTBL'"
	on_exit "QVPN_ROOT='$3' ip netns exec '$2' '$BIN/ENDTCPSVR' 'SERVER(*VPN)'"
}
sys() {
	local s=$1
	shift
	ip netns exec "${SYS_NS[$s]}" env QVPN_ROOT="${SYS_ROOT[$s]}" PATH="$PATH" \
		QVPN_LIBEXEC="$QVPN_LIBEXEC" "$@"
}
show() {
	local s=$1
	shift
	echo "[System $s] $*"
	sys "$s" "$@"
}
# expect_msg RC MSGID S CMD...: the command exits RC and names MSGID. Its
# output is kept in $OUT.
OUT=
expect_msg() {
	local want=$1 id=$2 s=$3 rc
	shift 3
	OUT=$(sys "$s" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ] || ! grep -q "$id" <<<"$OUT"; then
		bad "System $s: '$*' exited $rc (want $want) without $id: $(tr '\n' ' ' <<<"$OUT")"
		return 1
	fi
	ok "System $s: $* -> $id"
}
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		bad "$name"
	fi
}

# Wait up to $1 seconds (tenths) for a command to succeed.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# live_state S CONN: QTOVMAN's state of a connection (from DSPVPNCNN's live
# section), e.g. *ENABLED.
live_state() {
	sys "$1" DSPVPNCNN "CNN($2)" --json 2>/dev/null |
		sed -n '/"live"/,$p' | grep -m1 '"state"' | sed 's/.*"state": "\([^"]*\)".*/\1/'
}
is_state() { [ "$(live_state "$1" "$2")" = "$3" ]; }
# live_spis S CONN: "in out" SPIs of the connection's first SA.
live_spis() {
	local js
	js=$(sys "$1" DSPVPNCNN "CNN($2)" --json 2>/dev/null | sed -n '/"sas"/,$p')
	echo "$(grep -m1 '"spi_in"' <<<"$js" | sed 's/.*: "\([0-9a-f/]*\)".*/\1/')" \
		"$(grep -m1 '"spi_out"' <<<"$js" | sed 's/.*: "\([0-9a-f/]*\)".*/\1/')"
}
# joblog_ids S JOB [CONN]: the message IDs of a job log, in order.
joblog_ids() {
	if [ $# -ge 3 ]; then
		sys "$1" DSPJOBLOG "$2" | grep "conn=$3\b" | awk '{print $2}' | tr '\n' ' '
	else
		sys "$1" DSPJOBLOG "$2" | awk '{print $2}' | tr '\n' ' '
	fi
}
# journal_csv S: the QVPN journal as CSV (header first).
journal_csv() { sys "$1" DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' 2>/dev/null | tr -d '\r'; }

# --- the wire ------------------------------------------------------------------------
CAP_PIDS=()
in_capture() { # NS IF FILE: one more capture, until in_capture_stop
	ip netns exec "$1" dumpcap -q -i "$2" -w "$3" >"$3.log" 2>&1 &
	CAP_PIDS+=($!)
	on_exit "kill -INT $!"
	local i
	for i in $(seq 50); do
		grep -q "Capturing on" "$3.log" 2>/dev/null && return 0
		sleep 0.1
	done
	die "dumpcap did not start on $1/$2"
}
in_capture_stop() { # every capture
	sleep 1 # the last frames reach the file a little later
	kill -INT "${CAP_PIDS[@]}" 2>/dev/null
	wait "${CAP_PIDS[@]}" 2>/dev/null
	CAP_PIDS=()
}
# wire_count FILE FILTER: frames matching a tshark display filter.
wire_count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
# wire_spis FILE SRC: the ESP SPIs (8 hex digits) sent by SRC, raw or in UDP.
wire_spis() {
	tshark -r "$1" -d udp.port==4500,udpencap -Y "esp && ip.src == $2" -T fields -e esp.spi \
		2>/dev/null | sed 's/^0x//' | sort -u | tr '\n' ' '
}

finish() {
	echo
	if [ "$FAILURES" != 0 ]; then
		echo "Failed checks:"
		printf '  - %s\n' "${FAILED_CHECKS[@]}"
		echo "FAIL: $1 ($FAILURES failure(s), $(elapsed))"
		exit 1
	fi
	echo "PASS: $1 ($(elapsed))"
	exit 0
}
