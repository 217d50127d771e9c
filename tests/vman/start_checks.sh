#!/bin/bash
# STRVPNCNN through a running QTOVMAN against real policy databases: the
# detail message and TCP8601 with its reason code, in the reply, in the
# QTOVMAN job log, in the state table, and in the QVPN journal.
#
#   [qv-vm-chk]  veth qvvm0 192.0.2.227/24 (System A's connection endpoint)
#     one QTOVMAN at a time, each with its own state root and configuration
set -u
. "$(dirname "$0")/lib.sh"
need_root
command -v sqlite3 >/dev/null || skip "sqlite3 (Debian package sqlite3) is needed to change a policy database"
NS=qv-vm-chk
TMP=$(mktemp -d /tmp/qv-vm-chk.XXXXXX)
trap 'for r in "$TMP"/*; do QVPN_ROOT=$r ip netns exec $NS ENDTCPSVR "SERVER(*VPN)" >/dev/null 2>&1; done; cleanup_ns $NS; rm -rf "$TMP"' EXIT
make_ns $NS
ip -n $NS link add qvvm0 type veth peer name qvvm1
ip -n $NS addr add 192.0.2.227/24 dev qvvm0
ip -n $NS link set qvvm0 up
ip -n $NS link set qvvm1 up
SEED=$QVPN_BUILD_DIR/tests/vman_policy_seed

# start_fails VARIANT DETAIL REASON [CNN [TYPE]]: configure, start the server,
# start the connection (a dynamic one by its group name; names in lower
# case), check both messages everywhere they belong, end the server.
# $SEED_IF: the interface the seed's line TRLINE names; $TAMPER: SQL run on
# the policy database after the seed (a configuration changed outside the
# configuration commands, which refuse it); $CONFIG: a command run as the
# system after that; $HOOK: a command run as the system once its server is up.
start_fails() {
	local variant=$1 detail=$2 reason=$3 cnn=${4:-HRgw2FINgw:L1} type=${5:-DYNAMIC}
	local root=$TMP/$1 out rc start
	start=${cnn%%:*}
	start=${start,,}
	mkdir -p "$root"
	QVPN_ROOT=$root $SEED "${variant%%:*}" ${SEED_IF:-} || fail "seed $variant"
	if [ -n "${TAMPER:-}" ]; then
		sqlite3 "$root/policy.db" "$TAMPER" || fail "$variant: $TAMPER"
	fi
	if [ -n "${CONFIG:-}" ]; then
		out=$(eval "QVPN_ROOT=$root $CONFIG" 2>&1) || fail "$variant: $CONFIG: $out"
	fi
	QVPN_ROOT=$root ip netns exec $NS STRTCPSVR 'SERVER(*VPN)' >/dev/null || fail "server $variant"
	if [ -n "${HOOK:-}" ]; then
		out=$(eval "QVPN_ROOT=$root ip netns exec $NS $HOOK" 2>&1) || fail "$variant: $HOOK: $out"
	fi
	out=$(QVPN_ROOT=$root ip netns exec $NS STRVPNCNN "CNN($start)" 'WAIT(10)' 2>&1); rc=$?
	[ $rc = 1 ] || fail "$variant: rc $rc: $out"
	echo "$out" | head -1 | grep -q "^$detail" || fail "$variant: first message: $out"
	echo "$out" | tail -1 | grep -q "^TCP8601: Could not start VPN connection $cnn, reason code $reason\." \
	  || fail "$variant: last message: $out"
	# The job log: the same two messages, in that order, with conn=.
	local log
	log=$(QVPN_ROOT=$root DSPJOBLOG QTOVMAN | grep "conn=$cnn\b" | awk '{print $2}' | tr '\n' ' ')
	[ "$log" = "$detail TCP8601 " ] || fail "$variant: job log has '$log'"
	# The journal: an *ERROR entry naming the detail message.
	local row
	row=$(QVPN_ROOT=$root DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | tr -d '\r' | tail -1)
	echo "$row" | grep -q ",$cnn,\*$type,\*ERROR," || fail "$variant: journal: $row"
	echo "$row" | grep -q ",$detail\$" || fail "$variant: TSERRC: $row"
	# DSPVPNCNN: the state table and QTOVMAN's live section agree.
	local js
	js=$(QVPN_ROOT=$root ip netns exec $NS DSPVPNCNN "CNN($cnn)" --json)
	echo "$js" | grep -A2 '"live"' | grep -q '"state": "\*ERROR"' || fail "$variant: live state: $js"
	echo "$js" | grep -q "\"error\": \"$detail" || fail "$variant: live error: $js"
	# Starting again is refused until reset; reset makes it idle.
	expect_rc 1 VMN0019 env QVPN_ROOT=$root ip netns exec $NS STRVPNCNN "CNN($cnn)"
	expect_rc 0 VMN0016 env QVPN_ROOT=$root ip netns exec $NS RSTVPNCNN "CNN($start)"
	expect_rc 1 VMN0018 env QVPN_ROOT=$root ip netns exec $NS RSTVPNCNN "CNN($start)"
	QVPN_ROOT=$root ip netns exec $NS ENDTCPSVR 'SERVER(*VPN)' >/dev/null || fail "end $variant"
}

start_fails remote-init TCP8604 1
QVPN_ROOT=$TMP/remote-init DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 5' \
  || fail "remote-init: not reason code 5"
start_fails fqdn TCP8604 4
start_fails keyid TCP8604 4
start_fails local-fqdn TCP8604 1
QVPN_ROOT=$TMP/local-fqdn DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 2' \
  || fail "local-fqdn: not reason code 2"
# System C's configuration on System A's namespace: its endpoint is not here.
start_fails branch-c TCP8620 2
# System A's configuration with no packet rules loaded at all.
start_fails branch-a TCP8604 1
QVPN_ROOT=$TMP/branch-a DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 3' \
  || fail "branch-a: not reason code 3"
# A dynamic policy filter must be started by this system.
start_fails npf-both TCP8604 1
QVPN_ROOT=$TMP/npf-both DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 5' \
  || fail "npf-both: not reason code 5"
# A host's data endpoint must be its connection endpoint, and on this system.
start_fails host-diff TCP8626 1
start_fails host-c TCP8621 2
# Populate from packet on a gateway-to-gateway group (reason 6), IPv4 and
# IPv6 data endpoints in one connection (reason 8).
TAMPER="UPDATE dyn_group SET populate_from_packet = 1" start_fails branch-a:populate TCP8604 1
QVPN_ROOT=$TMP/branch-a:populate DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 6' \
  || fail "branch-a:populate: not reason code 6"
TAMPER="UPDATE dyn_connection SET remote_ep_type = '*IPV6SUBNET', remote_ep_address = '2001:db8:c::', remote_ep_extra = '64'" \
  start_fails branch-a:families TCP8604 1
QVPN_ROOT=$TMP/branch-a:families DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 8' \
  || fail "branch-a:families: not reason code 8"
# Transport mode between gateways.
TAMPER="UPDATE data_policy SET mode = '*TRANSPORT'" start_fails branch-a:transport TCP8622 1
# Packet rules loaded, but none for the group (TCP8628), or one that does
# not cover the connection's data endpoints (TCP8624).
cat >"$TMP/nofilter.i3p" <<'EOF'
FILTER SET other ACTION = PERMIT DIRECTION = * SRCADDR = * DSTADDR = * PROTOCOL = *
FILTER_INTERFACE LINE = TRLINE SET = other
EOF
cat >"$TMP/narrow.i3p" <<'EOF'
ADDRESS hr IP = 10.6.0.0 MASK = 255.255.0.0 TYPE = TRUSTED
ADDRESS elsewhere IP = 10.197.0.0 MASK = 255.255.255.0 TYPE = UNTRUSTED
FILTER SET policy ACTION = IPSEC DIRECTION = OUTBOUND SRCADDR = hr DSTADDR = elsewhere PROTOCOL = * SRCPORT = * DSTPORT = * CONNECTION_DEFINITION = HRgw2FINgw
FILTER SET policy ACTION = PERMIT DIRECTION = * SRCADDR = * DSTADDR = * PROTOCOL = *
FILTER_INTERFACE LINE = TRLINE SET = policy
EOF
mv "$TMP/branch-a" "$TMP/branch-a-norules"
SEED_IF=qvvm0 HOOK="LODIPFTR 'OPTION(*LOAD)' 'LIND(*ALL)' 'STMF($TMP/nofilter.i3p)'" \
  start_fails branch-a TCP8628 1
QVPN_ROOT=$TMP/branch-a ip netns exec $NS RMVTCPTBL >/dev/null 2>&1
mv "$TMP/branch-a" "$TMP/branch-a-nofilter"
SEED_IF=qvvm0 HOOK="LODIPFTR 'OPTION(*LOAD)' 'LIND(*ALL)' 'STMF($TMP/narrow.i3p)'" \
  start_fails branch-a TCP8624 1
QVPN_ROOT=$TMP/branch-a ip netns exec $NS RMVTCPTBL >/dev/null 2>&1
mv "$TMP/branch-a" "$TMP/branch-a-narrow"
# A manual key of the wrong length for its algorithm (16 bytes for AES-256).
TAMPER="UPDATE manual_connection SET encryption = '*AESCBC256'" \
  start_fails manual-a:badkey TCP8625 1 MANUAL1 MANUAL
# An AH key of the wrong length, a reserved SPI (RFC 4303 2.1): TCP8604 reason 4.
TAMPER="UPDATE manual_connection SET authentication = '*HMACSHA512'" \
  start_fails manual-ah-a:ahkey TCP8604 1 MANUALAH MANUAL
QVPN_ROOT=$TMP/manual-ah-a:ahkey DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 4' \
  || fail "manual-ah-a:ahkey: not reason code 4"
TAMPER="UPDATE manual_connection SET esp_spi_out = 100" start_fails manual-a:spi TCP8604 1 MANUAL1 MANUAL
QVPN_ROOT=$TMP/manual-a:spi DSPJOBLOG QTOVMAN 'MSGID(TCP8604)' | grep -q 'reason code 4' \
  || fail "manual-a:spi: not reason code 4"
# Two manual connections between the same data endpoints: the second
# overlaps the first, which is enabled.
HOOK="STRVPNCNN 'CNN(MANUAL1)'" start_fails manual-overlap TCP8623 1 MANUAL2 MANUAL
QVPN_ROOT=$TMP/manual-overlap DSPJOBLOG QTOVMAN 'MSGID(TCP8623)' --json | grep -q '"MANUAL1"' \
  || fail "manual-overlap: TCP8623 does not name MANUAL1"

# JRN(*NONE) (CHGVPNDKG): the same failure is logged but not journaled;
# JRN(*CNNACT) journals it like *ALL.
for jrn in '*NONE' '*CNNACT'; do
	root=$TMP/jrn-${jrn#\*}
	mkdir -p "$root"
	QVPN_ROOT=$root $SEED remote-init || fail "seed remote-init ($jrn)"
	QVPN_ROOT=$root CHGVPNDKG 'DKG(HRgw2FINgw)' "JRN($jrn)" >/dev/null || fail "CHGVPNDKG JRN($jrn)"
	expect_rc 0 VMN0001 env QVPN_ROOT=$root ip netns exec $NS STRTCPSVR 'SERVER(*VPN)'
	expect_rc 1 TCP8604 env QVPN_ROOT=$root ip netns exec $NS STRVPNCNN 'CNN(HRgw2FINgw)'
	grep -q '"msgid":"TCP8601"' "$root/joblog/QTOVMAN.log" || fail "JRN($jrn): TCP8601 not logged"
	if [ "$jrn" = '*NONE' ]; then
		expect_rc 1 JRN0001 env QVPN_ROOT=$root DSPJRN 'JRN(QVPN)'
	else
		QVPN_ROOT=$root DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*ERROR,' \
		  || fail "JRN(*CNNACT): no *ERROR entry"
	fi
	QVPN_ROOT=$root ip netns exec $NS ENDTCPSVR 'SERVER(*VPN)' >/dev/null
done

# Every check passes; no key manager is installed here (QVPN_LIBEXEC points
# to a directory with QTOVMAN only), so the key manager cannot be reached.
mkdir -p "$TMP/libexec"
ln -s "$QVPN_BUILD_DIR/libexec/qvpn/QTOVMAN" "$TMP/libexec/QTOVMAN"
QVPN_LIBEXEC=$TMP/libexec start_fails npf TCP8605 5
grep -q '"msgid":"VMN0025"' "$TMP/npf/joblog/QTOVMAN.log" || fail "npf: no VMN0025 for QTOKVPNIK2"

# QRETSVRSEC '0' erased the preshared keys: QTOVMAN finds none when it
# reads the policy (PDB0017, whose recovery says how to enter it again),
# before a key manager would report TCP8606 reason 8306.
CONFIG="CHGSYSVAL 'SYSVAL(QRETSVRSEC)' \"VALUE('0')\"" start_fails npf:nopsk PDB0017 1

# On demand: armed at server start (traps through the SA backend), the first
# packet between the data endpoints starts it, which here ends at TCP8605.
root=$TMP/npf-ondemand
mkdir -p "$root"
QVPN_ROOT=$root $SEED npf-ondemand || fail "seed npf-ondemand"
ip -n $NS route add 198.51.100.250/32 dev qvvm0
export QVPN_LIBEXEC=$TMP/libexec
expect_rc 0 VMN0001 env QVPN_ROOT=$root ip netns exec $NS STRTCPSVR 'SERVER(*VPN)'
grep -q '"msgid":"VMN0024"' "$root/joblog/QTOVMAN.log" || fail "on-demand connection not armed"
expect_rc 0 'already \*ONDEMAND' env QVPN_ROOT=$root ip netns exec $NS STRVPNCNN 'CNN(HRgw2FINgw)'
# The first packet hits the trap (there is no peer to answer it either way).
ip netns exec $NS busybox ping -c 1 -W 1 -I 192.0.2.227 198.51.100.250 >/dev/null 2>&1
for _ in $(seq 30); do grep -q '"msgid":"TCP8601"' "$root/joblog/QTOVMAN.log" && break; sleep 0.1; done
log=$(QVPN_ROOT=$root DSPJOBLOG QTOVMAN | grep 'conn=HRgw2FINgw:L1' | awk '{print $2}' | tr '\n' ' ')
[ "$log" = "VMN0024 TCP8605 TCP8601 " ] || fail "on-demand job log: $log"
states=$(QVPN_ROOT=$root DSPJRN 'JRN(QVPN)' 'OUTPUT(*CSV)' | tr -d '\r' | tail -n +2 | cut -d, -f19 | tr '\n' ' ')
[ "$states" = "*ONDEMAND *ERROR " ] || fail "on-demand journal: $states"
QVPN_ROOT=$root ip netns exec $NS ENDTCPSVR 'SERVER(*VPN)' >/dev/null
pass
