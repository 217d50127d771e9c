#!/bin/bash
# The lifecycle of a tunnel through the whole stack (STRTCPSVR, STRVPNCNN,
# QTOVMAN, QTOKVPNIK2, the userspace SA backend) against strongSwan, with
# traffic running all the while:
#
#   1. CHILD_SA rekeys under a continuous ping and a TCP stream, started by
#      strongSwan (swanctl --rekey) and by qvpn (its kilobyte lifetime, on a
#      CHILD_SA whose reqid the key manager chose: strongSwan started it);
#   2. IKE SA rekeys (IKESAREKEY(*YES)) both ways: qvpn's after its one-minute
#      key lifetime, strongSwan's by swanctl; then strongSwan reauthenticates
#      (make before break) and qvpn's responder connection carries on;
#   3. a rekey collision (RFC 7296 2.8.1): both sides rekey the same CHILD_SA
#      at once (strongSwan's IKE requests held back for a moment so the two
#      requests cross), and one CHILD_SA pair is left;
#   4. NAT traversal: the seed's firewall friendly scenario, qvpn (the
#      Chicago gateway) behind a masquerading firewall initiates; IKE moves
#      to UDP 4500 and ESP travels in UDP through the NAT;
#   5. dead peer detection: strongSwan killed, the connection goes to error
#      with TCP8606 reason 8509 and TCP8601 reason 3, its SAs removed.
#
#   [qvb-q] qvpn                     [qvb-r] firewall C           [qvb-s] strongSwan
#   lo 10.6.0.1/32, 10.8.11.1/32     (masquerades 192.0.2.3)     lo 10.196.8.1/32
#   qvb-qr 192.0.2.1/24, .3/24 ----- qvb-rq 192.0.2.254/24
#                                    qvb-rs 198.51.100.254/24 --- qvb-sr 198.51.100.2/24
#
# Connection HRgw2FINgw (192.0.2.1, routed) carries parts 1 to 3, strongSwan
# starting it; CHIgw2MPLS (192.0.2.3, masqueraded) parts 4 and 5, qvpn
# starting it. Every check prints a named CHECK line; the ping losses and
# rekey counts are printed at the end (RESULT).
# Exit 0 pass, 77 skip (not root or tools missing; a failure under CI=true).
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
need "$CHARON" swanctl dumpcap tshark busybox jq nft
for b in QTOVMAN QTOKVPNIK2; do [ -x "$QVPN_LIBEXEC/$b" ] || skip "$b is not built"; done
for b in STRTCPSVR STRVPNCNN ENDVPNCNN CRTVPNCNN CRTLINETH ENDTCPSVR LODIPFTR RMVTCPTBL \
	DSPVPNCNN CHGVPNA CHGVPNKEYP CHGVPNDTAP; do
	command -v $b >/dev/null || skip "$b is not built"
done

NS_Q=qvb-q NS_R=qvb-r NS_S=qvb-s
WORK=$(mktemp -d /tmp/qvb-lifecycle.XXXXXX)
on_exit "[ -n \"\${KEEP:-}\" ] || rm -rf $WORK"
QROOT=$WORK/qvpn
SDIR=$WORK/swan
PSK=topsecretstuff
log "work dir $WORK"

CHECKS=0
# check NAME CONDITION...: one named check, counted; failures say which.
check() {
	local name=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		log "CHECK ok   $name"
	else
		fail "CHECK $name"
	fi
}

make_ns $NS_Q
make_ns $NS_R
make_ns $NS_S
veth $NS_Q qvb-qr 192.0.2.1/24 $NS_R qvb-rq 192.0.2.254/24
veth $NS_R qvb-rs 198.51.100.254/24 $NS_S qvb-sr 198.51.100.2/24
ip -n $NS_Q addr add 192.0.2.3/24 dev qvb-qr
ip -n $NS_Q addr add 10.6.0.1/32 dev lo
ip -n $NS_Q addr add 10.8.11.1/32 dev lo
ip -n $NS_S addr add 10.196.8.1/32 dev lo
ip -n $NS_Q route add default via 192.0.2.254
ip -n $NS_S route add default via 198.51.100.254
ip netns exec $NS_R sysctl -qw net.ipv4.ip_forward=1
# Firewall C: the Chicago gateway's second address leaves masqueraded.
ip netns exec $NS_R nft -f - <<EOF || die "nft masquerade"
table ip qvbnat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "qvb-rs" ip saddr 192.0.2.3 masquerade
	}
}
EOF
ip netns exec $NS_Q busybox ping -c1 -w2 198.51.100.2 >/dev/null || die "routing does not work"

# --- strongSwan: the finance gateway (HRgw2FINgw) and System E (CHIgw2MPLS) ------------
# make_before_break: strongSwan's reauthentication (part 2) builds the new
# IKE SA and CHILD_SA before it deletes the old ones.
charon_conf "$SDIR" "make_before_break = yes"
charon_start $NS_S "$SDIR"
cat >"$SDIR/swanctl/swanctl.conf" <<EOF
connections {
  net {
    version = 2
    local_addrs = 198.51.100.2
    remote_addrs = 192.0.2.1
    proposals = aes128-sha256-ecp256
    local { auth = psk
      id = 198.51.100.2 }
    remote { auth = psk
      id = 192.0.2.1 }
    children { net { local_ts = 10.196.8.0/24
      remote_ts = 10.6.0.0/16
      esp_proposals = aes128gcm16-ecp256 } }
  }
  chicago {
    version = 2
    local_addrs = 198.51.100.2
    remote_addrs = %any
    proposals = aes128-sha256-ecp256
    local { auth = psk
      id = 198.51.100.2 }
    remote { auth = psk
      id = 192.0.2.3 }
    children { chicago { local_ts = 10.196.8.0/24
      remote_ts = 10.8.11.0/24
      esp_proposals = aes128gcm16-ecp256 } }
  }
}
secrets {
  ike-net { id-a = 198.51.100.2
    id-b = 192.0.2.1
    secret = "$PSK" }
  ike-chicago { id-a = 198.51.100.2
    id-b = 192.0.2.3
    secret = "$PSK" }
}
EOF
swanctl_in $NS_S "$SDIR" --load-all --file "$SDIR/swanctl/swanctl.conf" >"$SDIR/load.out" 2>&1 \
	|| { cat "$SDIR/load.out" >&2; die "swanctl --load-all"; }

# --- qvpn: both gateways' connections, short lifetimes ----------------------------------
q CRTLINETH 'LIND(TRLINE)' 'RSRCNAME(qvb-qr)' >/dev/null || die "CRTLINETH"
q CRTVPNCNN 'NAME(HRgw2FINgw)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' "PSK('$PSK')" \
	'LCLKEYSVR(*IPV4 192.0.2.1)' 'RMTKEYSVR(*IPV4 198.51.100.2)' \
	'LCLDTAEP(*IPV4SUBNET 10.6.0.0 255.255.0.0)' 'RMTDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)' \
	'DTAPCY(*BALANCED)' 'LIND(TRLINE)' >"$WORK/crt1.out" 2>&1 || { cat "$WORK/crt1.out" >&2; die "CRTVPNCNN 1"; }
q CRTVPNCNN 'NAME(CHIgw2MPLS)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' "PSK('$PSK')" \
	'LCLKEYSVR(*IPV4 192.0.2.3)' 'RMTKEYSVR(*IPV4 198.51.100.2)' \
	'LCLDTAEP(*IPV4SUBNET 10.8.11.0 255.255.255.0)' 'RMTDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)' \
	'DTAPCY(*BALANCED)' 'LIND(TRLINE)' >"$WORK/crt2.out" 2>&1 || { cat "$WORK/crt2.out" >&2; die "CRTVPNCNN 2"; }
# One-minute IKE SAs (qvpn rekeys them after 51 to 54 s); CHILD_SAs of one
# minute or 1024 kilobytes (qvpn rekeys after 921.6 KB: the traffic decides).
q CHGVPNKEYP 'KEYPCY(HRgw2FINgw)' 'LIFETIME(1)' >/dev/null || die "CHGVPNKEYP"
q CHGVPNDTAP 'DTAPCY(HRgw2FINgw)' 'LIFETIME(1)' 'LIFETIMEKB(1024)' >/dev/null || die "CHGVPNDTAP"
q CHGVPNA 'IKESAREKEY(*YES)' 'DPDITV(5)' >/dev/null || die "CHGVPNA"
capture $NS_R qvb-rs "$WORK/outside.pcapng"
q STRTCPSVR 'SERVER(*VPN)' >"$WORK/strtcpsvr.out" 2>&1 || { cat "$WORK/strtcpsvr.out" >&2; die "STRTCPSVR"; }
on_exit "ip netns exec $NS_Q env QVPN_ROOT=$QROOT ENDTCPSVR 'SERVER(*VPN)'"
on_exit "ip netns exec $NS_Q env QVPN_ROOT=$QROOT RMVTCPTBL"
q LODIPFTR 'OPTION(*LOAD)' 'LIND(*ALL)' 'INCVPN(*YES)' >"$WORK/lodipftr.out" 2>&1 \
	|| { cat "$WORK/lodipftr.out" >&2; die "LODIPFTR"; }

# --- helpers -----------------------------------------------------------------------------
# Standard input for TCP listeners that never ends while the test runs
# (busybox nc ends the connection at EOF on either side).
mkfifo "$WORK/hold"
exec 8<>"$WORK/hold"
# live CNN: QTOVMAN's live view of a connection (DSPVPNCNN's "live" panel) as JSON.
live() { q DSPVPNCNN "CNN($1)" --json 2>/dev/null | jq -c '.live // {}'; }
live_sas() { live "$1" | jq -r '(.sas // []) | length'; }
spi_in() { live "$1" | jq -r '(.sas // [])[0].spi_in // ""'; }
# strongSwan's SAs (swan_sas lists them): CHILD_SAs of config NAME in any
# state (a replaced one stays listed for five seconds), installed ones, IKE SAs.
swan_sas() { swanctl_in $NS_S "$SDIR" --list-sas >"$WORK/sas.txt" 2>&1; }
swan_children() { grep -c "^  *$1: #" "$WORK/sas.txt"; }
swan_installed() { grep "^  *$1: #" "$WORK/sas.txt" | grep -c INSTALLED; }
swan_ikes() { grep -c "^$1: #" "$WORK/sas.txt"; }
# wait_spi_change CNN OLD [SECONDS]: the CHILD_SA's inbound SPI is no longer OLD.
wait_spi_change() {
	local i n=$((${3:-5} * 10)) s
	for ((i = 0; i < n; i++)); do
		s=$(spi_in "$1")
		[ -n "$s" ] && [ "$s" != "$2" ] && { echo "$s"; return 0; }
		sleep 0.1
	done
	return 1
}
# ping_start TAG FROM TO: a continuous ping, five a second, until ping_stop.
ping_start() {
	ip netns exec $NS_Q busybox ping -i 0.2 -I "$2" "$3" >"$WORK/$1.ping" 2>&1 &
	eval "PING_$1=$!"
	on_exit "kill $!"
}
# ping_stop TAG: stops it; prints "sent received missing-sequence-numbers".
ping_stop() {
	local pid
	eval "pid=\$PING_$1"
	sleep 1  # the last reply
	kill -INT "$pid" 2>/dev/null
	# (called in a command substitution: no wait for the parent's child)
	local i sent got missing
	for i in $(seq 50); do
		grep -q "packets received" "$WORK/$1.ping" && break
		sleep 0.1
	done
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$WORK/$1.ping")
	got=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$WORK/$1.ping")
	missing=$(awk -v n="${sent:-0}" '/seq=/{sub(/.*seq=/,""); seen[$1+0]=1}
		END{for(i=0;i<n;i++) if(!(i in seen)) printf "%d ", i}' "$WORK/$1.ping")
	echo "${sent:-0} ${got:-0} ${missing}"
}
# The TCP stream of part 1: one connection, fed in bursts through a FIFO.
stream_start() {
	mkfifo "$WORK/stream.fifo"
	ip netns exec $NS_S busybox nc -l -p 5001 <"$WORK/hold" >"$WORK/stream.recv" &
	on_exit "kill $!"
	STREAM_RECV=$!
	sleep 0.3
	ip netns exec $NS_Q busybox nc 10.196.8.1 5001 <"$WORK/stream.fifo" &
	STREAM_SEND=$!
	on_exit "kill $STREAM_SEND"
	exec 7>"$WORK/stream.fifo"
	: >"$WORK/stream.sent"
}
# burst BYTES: BYTES more into the stream (qvpn's outbound CHILD_SA counts them).
# (Also called in command substitutions: the total is kept in a file.)
burst() {
	head -c "$1" /dev/zero >&7
	echo "$1" >>"$WORK/stream.sent"
}
stream_bytes() { awk '{n += $1} END {print n + 0}' "$WORK/stream.sent"; }
# burst_until_rekey CNN SPI: 64 KB every 0.1 s until qvpn's kilobyte limit
# (soft: 90 % of 1024 KB) rekeys the CHILD_SA whose inbound SPI is SPI;
# far below the 10 % left to the hard limit in the time a rekey takes.
burst_until_rekey() {
	local i s
	for i in $(seq 40); do
		burst 65536
		sleep 0.1
		s=$(spi_in "$1")
		[ -n "$s" ] && [ "$s" != "$2" ] && { echo "$s"; return 0; }
	done
	return 1
}
qvpn_rekeys() { grep -c '"msgid":"IKE0A11"' "$QROOT/joblog/QTOKVPNIK2.log"; }

# === 1 to 3: rekeys of HRgw2FINgw, strongSwan started it ===================================
log "part 1: strongSwan starts HRgw2FINgw"
swanctl_in $NS_S "$SDIR" --initiate --child net >"$WORK/initiate.out" 2>&1 \
	|| { cat "$WORK/initiate.out" >&2; die "swanctl --initiate"; }
CNN1=
for _ in $(seq 50); do
	CNN1=$(q DSPVPNCNN 'CNN(HRgw2FINgw:R*)' --json 2>/dev/null |
		jq -r 'if type == "array" then .[] else . end | select(.live.state == "*ENABLED") | .name' |
		head -1)
	[ -n "$CNN1" ] && break
	sleep 0.1
done
[ -n "$CNN1" ] || die "no enabled responder connection of HRgw2FINgw"
log "qvpn calls it $CNN1"
T_IKE1=$(date +%s)
reqid=$(live "$CNN1" | jq -r '.sas[0].reqid')
# The key manager's half of the band: 0x51568001 and up.
check "responder CHILD_SA has a key manager reqid ($reqid)" \
	test $((0x$reqid)) -ge $((0x51568001))

ping_start rekey 10.6.0.1 10.196.8.1
stream_start
sleep 2
spi=$(spi_in "$CNN1")
base=$(qvpn_rekeys)
n_swan=0 n_qvpn=0
for round in 1 2 3; do
	# strongSwan rekeys.
	swanctl_in $NS_S "$SDIR" --rekey --child net >/dev/null 2>&1
	new=$(wait_spi_change "$CNN1" "$spi") && n_swan=$((n_swan + 1))
	check "CHILD_SA rekey $round started by strongSwan (${spi:-?} -> ${new:-none})" test -n "$new"
	spi=${new:-$(spi_in "$CNN1")}
	sleep 3
	# qvpn rekeys: the kilobyte lifetime of a key manager reqid.
	new=$(burst_until_rekey "$CNN1" "$spi") && n_qvpn=$((n_qvpn + 1))
	check "CHILD_SA rekey $round started by qvpn at its kilobyte limit (${spi:-?} -> ${new:-none})" \
		test -n "$new"
	spi=${new:-$(spi_in "$CNN1")}
	sleep 3
done

read -r sent1 got1 missing1 <<<"$(ping_stop rekey)"
log "ping during the CHILD_SA rekeys: $sent1 sent, $got1 received, missing seq: ${missing1:-none}"
check "ping loses at most one packet through six CHILD_SA rekeys ($((sent1 - got1)) of $sent1)" \
	test "$sent1" -ge 50 -a $((sent1 - got1)) -le 1

log "part 3: a rekey collision"
ping_start collision 10.6.0.1 10.196.8.1
sleep 1
coll0=$(grep -c '"msgid":"IKE091[CD]"' "$QROOT/joblog/QTOKVPNIK2.log")
# qvpn's outbound SA filled to 80 KB below its soft limit (943718 bytes as
# the data path counts them), so that 100 KB more start qvpn's rekey at once.
for _ in $(seq 60); do
	out=$(live "$CNN1" | jq -r '.sas[0].bytes_out // 0')
	[ "${out:-0}" -ge $((943718 - 81920)) ] && break
	burst 32768
	sleep 0.05
done
# strongSwan's IKE messages are held back for half a second: its rekey
# request waits for a retransmission, qvpn's own request meets it.
ip netns exec $NS_S nft -f - <<EOF || die "nft hold"
table inet qvbhold {
	chain out {
		type filter hook output priority 0;
		udp sport 4500 @th,64,32 0 drop
		udp sport 500 drop
	}
}
EOF
swanctl_in $NS_S "$SDIR" --rekey --child net >/dev/null 2>&1
sleep 0.2
burst 102400
sleep 0.3
ip netns exec $NS_S nft delete table inet qvbhold
# qvpn decides by the nonces when strongSwan's answer comes (IKE091C), or
# learns strongSwan's decision first from its DELETE of the old CHILD_SA and
# deletes its own new one unused (IKE091D).
coll() { grep -c '"msgid":"IKE091[CD]"' "$QROOT/joblog/QTOKVPNIK2.log"; }
for _ in $(seq 60); do
	[ "$(coll)" -gt "$coll0" ] && break
	sleep 0.1
done
check "rekey collision resolved by qvpn ($(grep -o '"msgid":"IKE091[CD]"' \
	"$QROOT/joblog/QTOKVPNIK2.log" | tail -1))" test "$(coll)" -gt "$coll0"
check "rekey collision seen by strongSwan" grep -q "collision" "$SDIR/charon.log"
sleep 3
swan_sas
check "after the collision: one CHILD_SA in QTOVMAN" test "$(live_sas "$CNN1")" = 1
check "after the collision: one installed CHILD_SA at strongSwan ($(swan_installed net))" \
	test "$(swan_installed net)" = 1
read -r sent2 got2 missing2 <<<"$(ping_stop collision)"
log "ping during the collision: $sent2 sent, $got2 received, missing seq: ${missing2:-none}"
check "ping loses at most one packet through the collision ($((sent2 - got2)) of $sent2)" \
	test "$sent2" -ge 10 -a $((sent2 - got2)) -le 1
# An SA qvpn returns to after a collision numbers on from where it was.
replays=$(grep -c "sequence number verification failed" "$SDIR/charon.log")
check "strongSwan took no packet of qvpn for a replay ($replays)" test "$replays" = 0

log "part 2: IKE SA rekeys"
ping_start ike 10.6.0.1 10.196.8.1
ike_before=$(grep -c '"msgid":"IKE0A02"\|rekeyed' "$QROOT/joblog/QTOKVPNIK2.log")
# qvpn's: 51 to 54 s after the IKE SA came up.
while [ $(($(date +%s) - T_IKE1)) -lt 56 ]; do sleep 1; done
ike_json=$(live "$CNN1" | jq -c '.ike // {}')
swan_sas
log "strongSwan after qvpn's IKE rekey: $(grep "^net: #" "$WORK/sas.txt")"
swanctl_in $NS_S "$SDIR" --rekey --ike net >/dev/null 2>&1
sleep 3
# strongSwan reauthenticates: a new IKE SA (IKE_SA_INIT, IKE_AUTH with the
# CHILD_SA), then the old IKE SA is deleted; qvpn's responder connection
# takes the new CHILD_SA as the successor under its reqid.
auth0=$(grep -c '"msgid":"IKE0A01".*HRgw2FINgw:R1' "$QROOT/joblog/QTOKVPNIK2.log")
swanctl_in $NS_S "$SDIR" --rekey --ike net --reauth >/dev/null 2>&1
sleep 3
auth1=$(grep -c '"msgid":"IKE0A01".*HRgw2FINgw:R1' "$QROOT/joblog/QTOKVPNIK2.log")
check "reauthentication by strongSwan: a second IKE SA for $CNN1 ($auth0 -> $auth1)" \
	test "$auth1" -gt "$auth0"
check "after the reauthentication $CNN1 is still enabled" \
	test "$(live "$CNN1" | jq -r '.state // empty')" = "*ENABLED"
read -r sent3 got3 missing3 <<<"$(ping_stop ike)"
exec 7>&-
STREAM_BYTES=$(stream_bytes)
for _ in $(seq 50); do
	[ "$(stat -c %s "$WORK/stream.recv")" -ge "$STREAM_BYTES" ] && break
	sleep 0.1
done
kill $STREAM_SEND $STREAM_RECV 2>/dev/null
log "ping during the IKE SA rekeys: $sent3 sent, $got3 received, missing seq: ${missing3:-none}"
check "ping loses at most one packet through two IKE SA rekeys and a reauthentication \
($((sent3 - got3)) of $sent3)" test "$sent3" -ge 50 -a $((sent3 - got3)) -le 1
sent=$((sent1 + sent2 + sent3))
lost=$((sent - got1 - got2 - got3))
check "TCP stream intact through the rekeys ($(stat -c %s "$WORK/stream.recv") of $STREAM_BYTES)" \
	test "$(stat -c %s "$WORK/stream.recv")" = "$STREAM_BYTES"
n_ike=$(grep -c '"msgid":"IKE0A02"' "$QROOT/joblog/QTOKVPNIK2.log")
# An IKE SA rekey request carries SA, Nonce and KE, and no selectors.
n_ike_q=$(grep -c 'parsed CREATE_CHILD_SA request [0-9]* \[ SA No KE \]' "$SDIR/charon.log")
n_ike_s=$(grep -c 'generating CREATE_CHILD_SA request [0-9]* \[ SA No KE \]' "$SDIR/charon.log")
check "IKE SA rekey started by qvpn (strongSwan answered $n_ike_q)" test "$n_ike_q" -ge 1
check "IKE SA rekey started by strongSwan ($n_ike_s)" test "$n_ike_s" -ge 1
check "qvpn logged both IKE SA rekeys (IKE0A02: $n_ike)" test "$n_ike" -ge 2

# No leftovers on either side: one CHILD_SA pair, one IKE SA, one route.
sleep 6  # rekey grace of the old inbound SAs
swan_sas
check "QTOVMAN holds one CHILD_SA ($(live_sas "$CNN1"))" test "$(live_sas "$CNN1")" = 1
check "strongSwan holds one CHILD_SA ($(swan_children net)) and one IKE SA ($(swan_ikes net))" \
	test "$(swan_children net)" = 1 -a "$(swan_ikes net)" = 1
routes=$(ip -n $NS_Q route show table 0x5156 | wc -l)
check "one route in qvpn's tunnel table ($routes)" test "$routes" = 1
bytes_in=$(live "$CNN1" | jq -r '.sas[0].bytes_in // empty')
check "the SA backend counts the CHILD_SA QTOVMAN holds (bytes_in ${bytes_in:-none})" \
	test -n "$bytes_in"

log "RESULT part 1-3: ping lost $((sent1 - got1))/$sent1 (CHILD_SA rekeys)," \
	"$((sent2 - got2))/$sent2 (collision), $((sent3 - got3))/$sent3 (IKE SA rekeys, reauth);" \
	"CHILD_SA rekeys strongSwan=$n_swan qvpn=$n_qvpn (IKE0A11 $(($(qvpn_rekeys) - base)))," \
	"IKE SA rekeys $n_ike"

# === 4: NAT traversal, qvpn behind firewall C =============================================
log "part 4: CHIgw2MPLS through the masquerading firewall"
swanctl_in $NS_S "$SDIR" --terminate --ike net >/dev/null 2>&1
# The key policy serves every connection to 198.51.100.2: ten minutes now,
# so that dead peer detection (part 5), not the lifetime, ends CHIgw2MPLS.
for _ in $(seq 50); do
	q CHGVPNKEYP 'KEYPCY(HRgw2FINgw)' 'LIFETIME(10)' >"$WORK/chgkeyp.out" 2>&1 && break
	sleep 0.2
done || { cat "$WORK/chgkeyp.out" >&2; die "CHGVPNKEYP LIFETIME(10)"; }
if ! q STRVPNCNN 'CNN(CHIgw2MPLS:L1)' 'WAIT(30)' >"$WORK/strvpncnn2.out" 2>&1; then
	cat "$WORK/strvpncnn2.out" >&2
	die "STRVPNCNN CHIgw2MPLS:L1 did not complete"
fi
check "qvpn knows it is behind the NAT (IKE0A05, this system behind it)" \
	sh -c "grep '\"msgid\":\"IKE0A05\"' '$QROOT/joblog/QTOKVPNIK2.log' | grep CHIgw2MPLS |
		grep -q 'this system'"
ip netns exec $NS_Q busybox ping -c3 -w6 -I 10.8.11.1 10.196.8.1 >"$WORK/natping.out" 2>&1
check "ping across the NAT" test $? = 0
tcp_through() {
	local from=$1 to=$2 addr=$3 tag=$4 lp sp
	ip netns exec "$to" busybox nc -l -p 5002 <"$WORK/hold" >"$WORK/$tag.recv" &
	lp=$!
	sleep 0.3
	head -c 1000000 /dev/urandom >"$WORK/$tag.send"
	timeout 30 ip netns exec "$from" busybox nc "$addr" 5002 <"$WORK/$tag.send" &
	sp=$!
	for _ in $(seq 200); do
		[ "$(stat -c %s "$WORK/$tag.recv")" -ge 1000000 ] && break
		sleep 0.1
	done
	kill $sp $lp 2>/dev/null
	cmp -s "$WORK/$tag.send" "$WORK/$tag.recv"
}
check "1 MB TCP qvpn -> strongSwan across the NAT" tcp_through $NS_Q $NS_S 10.196.8.1 nat-q2s
check "1 MB TCP strongSwan -> qvpn across the NAT" tcp_through $NS_S $NS_Q 10.8.11.1 nat-s2q
capture_stop
# The outside of firewall C: IKE_SA_INIT on 500, then everything on 4500,
# all from the firewall's address; 192.0.2.3 never appears.
out=$WORK/outside.pcapng
init500=$(tshark -r "$out" -Y 'ip.src == 198.51.100.254 && udp.dstport == 500 && isakmp' 2>/dev/null | wc -l)
ike4500=$(tshark -r "$out" -Y 'ip.src == 198.51.100.254 && udp.dstport == 4500 && isakmp' 2>/dev/null | wc -l)
esp4500=$(tshark -r "$out" -Y 'ip.src == 198.51.100.254 && udp.dstport == 4500 && esp' 2>/dev/null | wc -l)
leak=$(tshark -r "$out" -Y 'ip.addr == 192.0.2.3' 2>/dev/null | wc -l)
clear=$(tshark -r "$out" -Y 'icmp && ip.addr == 10.8.11.1' 2>/dev/null | wc -l)
check "IKE_SA_INIT on UDP 500 from the firewall ($init500)" test "$init500" -ge 1
check "IKE moved to UDP 4500 through the NAT ($ike4500)" test "$ike4500" -ge 1
check "ESP in UDP 4500 through the NAT ($esp4500)" test "$esp4500" -gt 100
check "the private address never leaves firewall C ($leak)" test "$leak" = 0
check "no clear ICMP outside ($clear)" test "$clear" = 0

# === 5: dead peer detection ================================================================
log "part 5: strongSwan killed"
kill -9 "$(cat "$SDIR/charon.pid")"
T_KILL=$(date +%s)
state=
for _ in $(seq 100); do
	state=$(live 'CHIgw2MPLS:L1' | jq -r '.state // empty')
	[ "$state" = "*ERROR" ] && break
	sleep 1
done
dpd_s=$(($(date +%s) - T_KILL))
log "connection state $state after $dpd_s s"
check "DPD: CHIgw2MPLS:L1 in error" test "$state" = "*ERROR"
err=$(live 'CHIgw2MPLS:L1' | jq -c '.error // {}')
check "DPD: the error is TCP8606 reason 8509 ($err)" \
	sh -c "echo '$err' | grep -q 'TCP8606' && echo '$err' | grep -q '8509'"
grep '"msgid":"TCP8601"' "$QROOT/joblog/QTOVMAN.log" |
	grep -q '"values":\["CHIgw2MPLS:L1","\?3"\?\]'
check "DPD: TCP8601 reason 3 in QTOVMAN's job log" test $? = 0
check "DPD: IKE0A13 (peer not responding) in the key manager's job log" \
	grep -q '"msgid":"IKE0A13"' "$QROOT/joblog/QTOKVPNIK2.log"
check "DPD: no SAs left ($(live_sas 'CHIgw2MPLS:L1'))" test "$(live_sas 'CHIgw2MPLS:L1')" = 0
routes=$(ip -n $NS_Q route show table 0x5156 | wc -l)
check "DPD: no routes left in qvpn's tunnel table ($routes)" test "$routes" = 0

log "RESULT checks=$CHECKS failures=$FAILURES ping_lost=$lost/$sent dpd_seconds=$dpd_s"
if [ $FAILURES -ne 0 ]; then
	KEEP=1
	log "logs kept in $WORK"
	exit 1
fi
exit 0
