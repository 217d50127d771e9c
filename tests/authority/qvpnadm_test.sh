#!/bin/bash
# *IOSYSCFG authority: root and members of the group qvpnadm may change the
# configuration; anyone else gets TCP8050 (exit 3) and the database is
# unchanged. A member's preshared key is sealed like root's: stored, never
# shown, and readable by the VPN jobs.
# Needs root to create the test user; exit 77 otherwise (a failure under CI=true).
set -u
skip() { echo "SKIP: $*"; [ "${CI:-}" = true ] && exit 1; exit 77; }
fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
FAILURES=0
[ "$(id -u)" = 0 ] || skip "needs root to create a test user"
for t in setpriv useradd groupadd; do command -v $t >/dev/null || skip "no $t"; done
command -v CRTVPNKEYP >/dev/null || skip "CRTVPNKEYP is not built"

USER_OP=qvpnop$$
getent group qvpnadm >/dev/null || { groupadd qvpnadm && made_group=1; }
useradd -M -N -g nogroup -G qvpnadm -s /usr/sbin/nologin $USER_OP || skip "useradd failed"
R=$(mktemp -d /tmp/qv-auth.XXXXXX)
chmod 755 "$R"
cleanup() {
	userdel $USER_OP 2>/dev/null
	[ -n "${made_group:-}" ] && groupdel qvpnadm 2>/dev/null
	rm -rf "$R"
}
trap cleanup EXIT

as_op() { setpriv --reuid=$USER_OP --regid=nogroup --init-groups env QVPN_ROOT=$R "$@"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env QVPN_ROOT=$R "$@"; }
count() { sqlite3 "$R/policy.db" "SELECT count(*) FROM key_policy" 2>/dev/null; }

# Root creates the system (database and key pair), as at installation.
out=$(QVPN_ROOT=$R CRTVPNKEYP 'KEYPCY(ROOTP)' 'RMTKEYSVR(*IPV4 192.0.2.9)' "PSK('rootsecret')" 2>&1) \
	|| fail "root CRTVPNKEYP: $out"
[ "$(stat -c %G "$R/policy.db")" = qvpnadm ] || fail "policy.db group is $(stat -c %G "$R/policy.db")"

# A member of qvpnadm creates, changes and displays.
out=$(as_op CRTVPNKEYP 'KEYPCY(OPP)' 'RMTKEYSVR(*IPV4 192.0.2.8)' "PSK('opsecret')" 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q '^CFG0020' || fail "member CRTVPNKEYP: rc $rc $out"
out=$(as_op CHGVPNKEYP 'KEYPCY(OPP)' "PSK('opsecret2')" 2>&1) || fail "member CHGVPNKEYP: $out"
out=$(as_op DSPVPNKEYP 'KEYPCY(OPP)' 2>&1) || fail "member DSPVPNKEYP: $out"
echo "$out" | grep -q 'Preshared key .*\*SET' || fail "member sees no *SET preshared key: $out"
echo "$out" | grep -q opsecret && fail "DSPVPNKEYP shows the key in clear"
grep -q opsecret "$R/policy.db" && fail "the member's key is stored in clear"

# Anyone else: TCP8050, exit 3, nothing changed.
before=$(count)
out=$(as_nobody CRTVPNKEYP 'KEYPCY(NOBODY)' 'RMTKEYSVR(*IPV4 192.0.2.7)' "PSK('x')" 2>&1); rc=$?
[ $rc = 3 ] && echo "$out" | grep -q '^TCP8050' || fail "non-member CRTVPNKEYP: rc $rc $out"
out=$(as_nobody DLTVPNKEYP 'KEYPCY(OPP)' 2>&1); rc=$?
[ $rc = 3 ] && echo "$out" | grep -q '^TCP8050' || fail "non-member DLTVPNKEYP: rc $rc $out"
[ "$(count)" = "$before" ] || fail "key policies changed from $before to $(count)"
[ "$before" = 2 ] || fail "expected 2 key policies, found $before"

# The member deletes what it made.
out=$(as_op DLTVPNKEYP 'KEYPCY(OPP)' 2>&1) || fail "member DLTVPNKEYP: $out"
[ "$(count)" = 1 ] || fail "DLTVPNKEYP by the member left $(count) key policies"

[ $FAILURES = 0 ] && echo "PASS: qvpnadm authority" && exit 0
exit 1
