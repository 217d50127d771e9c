#!/bin/bash
# Guest test: qvpn against strongSwan with both on the kernel's XFRM data
# path (qvpn's QVPNDTAPTH(*AUTO) choosing the kernel, charon with
# kernel-netlink), in the VM's stock Debian kernel.
#
#   [qv-q] qvpn (commands, QTOVMAN, QTOKVPNIK2)   [qv-s] strongSwan charon
#   lo 10.6.0.1/32                                 lo 10.196.8.1/32
#   qv-qv 192.0.2.1 .11 .21 .31 /24 ============== qv-sv 192.0.2.2 .12 .22 .32 /24
#
# One pair of key server addresses per case, so the four configurations
# live side by side:
#   gw     the seed's branch office gateway to gateway (PSK, tunnel mode,
#          *BALANCED): qvpn initiates, then strongSwan; ping and 1 MB of TCP
#          between the subnets each time
#   rsa    host to host in transport mode, RSA certificates
#   ecdsa  host to host in transport mode, ECDSA P-384 certificates
#   ah     host to host in transport mode, AH alone (PSK)
#          (each started by qvpn, then by strongSwan with qvpn answering)
#   ahesp  AH with ESP, which IKEv2 cannot negotiate: IKE0908
# Each case checks that both sides show the same SAs in `ip xfrm state`,
# that only raw ESP (or AH) crosses the wire (nftables counters in each
# side's egress hook: what actually leaves the device), and that ENDVPNCNN
# removes every state and policy qvpn installed. At the end ENDTCPSVR
# leaves qvpn's namespace without any XFRM state or policy.
#
# Files: certs/ (made on the host by strongswan_kernel_test.sh): ca-rsa.pem,
# ca-ec.pem, {q,s}-{rsa,ec}.{pem,key} with the key server address in
# subjectAltName.
set -u
. /qvpn-test/lib/qvtest.sh
trap qv_finish EXIT
# last of all: what still runs (a process left holding the console keeps
# the VM from powering off)
qv_on_exit 'sleep 0.5; ps -o pid,ppid,args | awk "NR > 1 && \$3 !~ /^\\[/ { print \"QV:PS \" \$0 }" >&9'
export QVPN_LIBEXEC=$QVPN_BUILD_DIR/libexec/qvpn
CERTS=/qvpn-test/files/certs
CHARON=/usr/lib/ipsec/charon
Q=qv-q S=qv-s
QROOT=$QV_WORK/qvpn SDIR=$QV_WORK/swan
PSK=topsecretstuff
CHARON_PID=
# busybox's timeout would run its own ip applet, which has no netns
IP=$(command -v ip)

# --- helpers ------------------------------------------------------------------
q() { ip netns exec $Q env QVPN_ROOT="$QROOT" QVPN_LIBEXEC="$QVPN_LIBEXEC" "$@"; }
sw() { # swanctl OPERATION [options]: the operation first, its options after
	timeout 30 "$IP" netns exec $S env STRONGSWAN_CONF="$SDIR/strongswan.conf" \
		swanctl "$@" --uri "unix://$SDIR/charon.vici"
}
# what each side sends on its veth: counted in the egress hook, after XFRM
wire_counters() { # NS DEV
	ip netns exec "$1" nft -f - <<EOF
table netdev qvwire {
  counter n_esp {}
  counter n_ah {}
  counter n_udp4500 {}
  counter n_clear_icmp {}
  counter n_clear_tcp {}
  chain egress {
    type filter hook egress device "$2" priority 0; policy accept;
    ip protocol esp counter name n_esp
    ip protocol ah counter name n_ah
    udp dport 4500 counter name n_udp4500
    ip protocol icmp counter name n_clear_icmp
    ip protocol tcp counter name n_clear_tcp
  }
}
EOF
}
count() { # NS NAME
	ip netns exec "$1" nft list counter netdev qvwire "n_$2" 2>/dev/null |
		awk '/packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") { print $(i + 1); exit } }'
}
reset_counters() {
	ip netns exec $Q nft reset counters table netdev qvwire >/dev/null 2>&1
	ip netns exec $S nft reset counters table netdev qvwire >/dev/null 2>&1
}
# wire PROTO MIN: each side sent at least MIN packets of PROTO (esp|ah),
# none of the other, no ESP in UDP and nothing in clear.
wire() {
	local ns p other=ah rc=0 n
	[ "$1" = ah ] && other=esp
	for ns in $Q $S; do
		echo "$ns sent: esp=$(count $ns esp) ah=$(count $ns ah) udp4500=$(count $ns udp4500)" \
			"clear_icmp=$(count $ns clear_icmp) clear_tcp=$(count $ns clear_tcp)"
		n=$(count $ns "$1")
		[ "${n:-0}" -ge "$2" ] || { echo "$ns: too few $1 packets"; rc=1; }
		for p in $other udp4500 clear_icmp clear_tcp; do
			[ "$(count $ns $p)" = 0 ] || { echo "$ns: $p packets on the wire"; rc=1; }
		done
	done
	return $rc
}
# xfrm_states NS PROTO MODE A B: the SPIs of NS's PROTO states between
# A and B (both directions), each in MODE; sorted, one line.
xfrm_spis() {
	ip -n "$1" xfrm state | awk -v p="$2" -v m="$3" -v a="$4" -v b="$5" '
		/^src / { ok = ($2 == a && $4 == b) || ($2 == b && $4 == a); next }
		ok && $1 == "proto" && $2 == p && $3 == "spi" {
			for (i = 5; i < NF; i++) if ($i == "mode" && $(i + 1) == m) print $4
		}' | sort | tr '\n' ' '
}
# both sides have the same two PROTO states in MODE between A and B
same_sas() { # PROTO MODE A B
	local qs ss
	qs=$(xfrm_spis $Q "$@")
	ss=$(xfrm_spis $S "$@")
	echo "qvpn's $1 states ($2): [$qs]; strongSwan's: [$ss]"
	ip -n $Q xfrm state | sed 's/0x[0-9a-f]\{16,\}/<key>/g'
	[ -n "$qs" ] && [ "$qs" = "$ss" ] && [ "$(wc -w <<<"$qs")" = 2 ]
}
# nothing of qvpn's left in its namespace: no state and no policy, apart
# from the per-socket bypass policies of QTOVMAN's IKE sockets while the
# server runs (ALL: those too, after ENDTCPSVR)
qvpn_clean() {
	local i st pol
	for ((i = 0; i < 50; i++)); do
		st=$(ip -n $Q xfrm state)
		pol=$(ip -n $Q xfrm policy)
		[ "${1:-}" = ALL ] || pol=$(awk '/^src / { h = $0; next } /^\tsocket (in|out) / { h = ""; next }
			{ if (h != "") print h; h = ""; print }' <<<"$pol")
		[ -z "$st" ] && [ -z "$pol" ] && return 0
		sleep 0.1
	done
	echo "states:"; echo "$st"; echo "policies:"; echo "$pol"
	return 1
}
# what both kernels think, when traffic does not cross (keys included: they
# are this run's and help compare both ends)
diag() { # TAG
	local ns
	for ns in $Q $S; do
		echo "== $ns"
		ip -n $ns -s xfrm state
		ip -n $ns xfrm policy
		ip netns exec $ns cat /proc/net/xfrm_stat
	done >"$QV_WORK/diag-$1.txt" 2>&1
	for ns in $Q $S; do
		echo "$1: $ns xfrm_stat: $(ip netns exec $ns cat /proc/net/xfrm_stat | awk '$2 != 0' | tr '\n' ' ')"
	done
}
swan_child_gone() { # CHILD: strongSwan has no CHILD_SA of that name any more
	local i
	for ((i = 0; i < 100; i++)); do
		sw --list-sas >"$QV_WORK/sas-now.txt" 2>&1
		grep -q "^  $1: " "$QV_WORK/sas-now.txt" || return 0
		sleep 0.1
	done
	cat "$QV_WORK/sas-now.txt"
	return 1
}
swan_installed() { # CHILD [grep pattern]
	sw --list-sas >"$QV_WORK/sas-$1.txt" 2>&1
	cat "$QV_WORK/sas-$1.txt"
	grep -q "^  $1: .*INSTALLED" "$QV_WORK/sas-$1.txt" || return 1
	[ -z "${2:-}" ] || grep -qE "$2" "$QV_WORK/sas-$1.txt"
}
live_state() { # CONN: QTOVMAN's state of a connection (DSPVPNCNN's live part)
	q DSPVPNCNN "CNN($1)" --json 2>/dev/null |
		sed -n '/"live"/,$p' | grep -m1 '"state"' | sed 's/.*"state": "\([^"]*\)".*/\1/'
}
wait_state() { # CONN STATE
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(live_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	q DSPVPNCNN "CNN($1)"
	return 1
}
# the SPIs DSPVPNCNN shows are the ones in the kernel
dsp_spis_match() { # CONN PROTO MODE A B
	local js in out x
	js=$(q DSPVPNCNN "CNN($1)" --json 2>/dev/null | sed -n '/"sas"/,$p')
	in=$(grep -m1 '"spi_in"' <<<"$js" | sed 's/.*: "\([0-9a-f]*\)".*/\1/')
	out=$(grep -m1 '"spi_out"' <<<"$js" | sed 's/.*: "\([0-9a-f]*\)".*/\1/')
	x=$(xfrm_spis $Q "$2" "$3" "$4" "$5")
	echo "DSPVPNCNN in $in out $out; kernel [$x]"
	[ -n "$in" ] && [ -n "$out" ] || return 1
	in=$(printf '0x%08x' "0x$in") out=$(printf '0x%08x' "0x$out")
	[ "$in" != "$out" ] && grep -qw "$in" <<<"$x" && grep -qw "$out" <<<"$x"
}
pings() { # FROM_NS SRC DST: three pings and a large one
	ip netns exec "$1" ping -c 3 -i 0.3 -W 3 -I "$2" "$3" &&
		ip netns exec "$1" ping -c 1 -s 1400 -W 3 -I "$2" "$3"
}
NC_PIDS=()
tcp_transfer() { # FROM_NS TO_NS TO_ADDR TAG: 1 MB, compared byte for byte
	local from=$1 to=$2 addr=$3 tag=$4 i rc=0 hold
	head -c 1000000 /dev/urandom >"$QV_WORK/$tag.send"
	: >"$QV_WORK/$tag.recv"
	# the listener's stdin is a FIFO held open here: busybox nc ends the
	# connection at EOF on either side
	rm -f "$QV_WORK/$tag.fifo"
	mkfifo "$QV_WORK/$tag.fifo"
	exec {hold}<>"$QV_WORK/$tag.fifo"
	ip netns exec "$to" nc -l -p 5001 <"$QV_WORK/$tag.fifo" >"$QV_WORK/$tag.recv" &
	NC_PIDS+=($!)
	sleep 0.5
	timeout 60 "$IP" netns exec "$from" nc "$addr" 5001 <"$QV_WORK/$tag.send" &
	NC_PIDS+=($!)
	for ((i = 0; i < 450; i++)); do
		[ "$(stat -c %s "$QV_WORK/$tag.recv")" -ge 1000000 ] && break
		sleep 0.1
	done
	cmp "$QV_WORK/$tag.send" "$QV_WORK/$tag.recv" || rc=1
	echo "$(stat -c %s "$QV_WORK/$tag.recv") of 1000000 bytes arrived"
	kill "${NC_PIDS[@]}" 2>/dev/null
	wait "${NC_PIDS[@]}" 2>/dev/null
	exec {hold}>&-
	rm -f "$QV_WORK/$tag.fifo" "$QV_WORK/$tag.send" "$QV_WORK/$tag.recv"
	NC_PIDS=()
	return $rc
}
qv_on_exit 'kill "${NC_PIDS[@]}" 2>/dev/null'

# --- network -------------------------------------------------------------------
qv_ns_add $Q || qv_done
qv_ns_add $S || qv_done
qv_veth $Q qv-qv 192.0.2.1/24 $S qv-sv 192.0.2.2/24
for n in 11 21 31; do
	ip -n $Q addr add 192.0.2.$n/24 dev qv-qv
	ip -n $S addr add 192.0.2.$((n + 1))/24 dev qv-sv
done
ip -n $Q addr add 10.6.0.1/32 dev lo
ip -n $S addr add 10.196.8.1/32 dev lo
wire_counters $Q qv-qv
wire_counters $S qv-sv
qv_check link ip netns exec $Q ping -c 1 -W 3 192.0.2.2 || qv_done

# --- strongSwan: charon with kernel-netlink (the kernel's XFRM) ----------------
swan_setup() {
	local d=$SDIR/swanctl
	mkdir -p "$SDIR/run" "$d"
	(cd "$d" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa \
		bliss pkcs8 pkcs12)
	cp "$CERTS/ca-rsa.pem" "$CERTS/ca-ec.pem" "$d/x509ca/"
	cp "$CERTS/s-rsa.pem" "$CERTS/s-ec.pem" "$d/x509/"
	cp "$CERTS/s-rsa.key" "$CERTS/s-ec.key" "$d/private/"
	cat >"$SDIR/strongswan.conf" <<EOF
charon {
  load = random nonce aes sha1 sha2 hmac kdf gmp gcm openssl x509 pem pkcs1 pkcs8 pubkey constraints socket-default kernel-netlink vici
  retransmit_timeout = 2.0
  retransmit_tries = 4
  plugins { vici { socket = unix://$SDIR/charon.vici } }
  filelog { qv { path = $SDIR/charon.log
    time_format = %T
    flush_line = yes
    default = 1
    ike = 2
    cfg = 2 } }
}
swanctl { load = random nonce openssl x509 pem pkcs1 pkcs8 pubkey }
EOF
	cat >"$d/swanctl.conf" <<EOF
connections {
  gw {
    version = 2
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    proposals = aes128-sha256-ecp256
    local { auth = psk
      id = 192.0.2.2 }
    remote { auth = psk
      id = 192.0.2.1 }
    children { gw { mode = tunnel
      local_ts = 10.196.8.0/24
      remote_ts = 10.6.0.0/16
      esp_proposals = aes128gcm16-ecp256 } }
  }
  rsa {
    version = 2
    local_addrs = 192.0.2.12
    remote_addrs = 192.0.2.11
    proposals = aes128-sha256-ecp256
    send_cert = always
    local { auth = pubkey
      certs = s-rsa.pem
      id = 192.0.2.12 }
    remote { auth = pubkey
      id = 192.0.2.11 }
    children { rsa { mode = transport
      esp_proposals = aes128gcm16-ecp256 } }
  }
  ecdsa {
    version = 2
    local_addrs = 192.0.2.22
    remote_addrs = 192.0.2.21
    proposals = aes128-sha256-ecp256
    send_cert = always
    local { auth = pubkey
      certs = s-ec.pem
      id = 192.0.2.22 }
    remote { auth = pubkey
      id = 192.0.2.21 }
    children { ecdsa { mode = transport
      esp_proposals = aes128gcm16-ecp256 } }
  }
  ah {
    version = 2
    local_addrs = 192.0.2.32
    remote_addrs = 192.0.2.31
    proposals = aes128-sha256-ecp256
    local { auth = psk
      id = 192.0.2.32 }
    remote { auth = psk
      id = 192.0.2.31 }
    children { ah { mode = transport
      ah_proposals = sha256-ecp256 } }
  }
}
secrets {
  ike-gw { id-a = 192.0.2.2
    id-b = 192.0.2.1
    secret = "$PSK" }
  ike-ah { id-a = 192.0.2.32
    id-b = 192.0.2.31
    secret = "$PSK" }
}
EOF
}
swan_start() {
	local i
	ip netns exec $S sh -c "mount --bind '$SDIR/run' /run && \
		exec env STRONGSWAN_CONF='$SDIR/strongswan.conf' '$CHARON'" >"$SDIR/charon.out" 2>&1 &
	CHARON_PID=$!
	for ((i = 0; i < 200; i++)); do
		[ -S "$SDIR/charon.vici" ] && sw --stats >/dev/null 2>&1 && break
		sleep 0.1
	done
	sw --load-all --file "$SDIR/swanctl/swanctl.conf" || { cat "$SDIR/charon.out"; return 1; }
	# kernel-netlink, not libipsec: charon made no TUN device
	! ip -n $S link show ipsec0 >/dev/null 2>&1
}
qv_on_exit '[ -n "$CHARON_PID" ] && qv_kill $CHARON_PID'
qv_check swan-config swan_setup || qv_done
qv_check swan-start swan_start || qv_done

# --- qvpn: the certificate store and the four connections -----------------------
qvpn_setup() {
	q ADDDCMCRT 'LABEL(TESTCARSA)' 'TYPE(*CA)' "FROMSTMF('$CERTS/ca-rsa.pem')" &&
		q ADDDCMCRT 'LABEL(TESTCAEC)' 'TYPE(*CA)' "FROMSTMF('$CERTS/ca-ec.pem')" &&
		q ADDDCMCRT 'LABEL(QVRSA)' "FROMSTMF('$CERTS/q-rsa.pem')" "KEYSTMF('$CERTS/q-rsa.key')" &&
		q ADDDCMCRT 'LABEL(QVEC)' "FROMSTMF('$CERTS/q-ec.pem')" "KEYSTMF('$CERTS/q-ec.key')" &&
		q CRTLINETH 'LIND(TRLINE)' 'RSRCNAME(qv-qv)' &&
		q CRTVPNCNN 'NAME(HRgw2FINgw)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' "PSK('$PSK')" \
			'LCLKEYSVR(*IPV4 192.0.2.1)' 'RMTKEYSVR(*IPV4 192.0.2.2)' \
			'LCLDTAEP(*IPV4SUBNET 10.6.0.0 255.255.0.0)' \
			'RMTDTAEP(*IPV4SUBNET 10.196.8.0 255.255.255.0)' \
			'DTAPCY(*BALANCED)' 'LIND(TRLINE)' 'OTHERTRAFFIC(*PERMIT)' 'JRN(*ALL)' &&
		q CRTVPNCNN 'NAME(HostRsa)' 'SCENARIO(*HOST2HOST)' 'AUTH(*RSA)' 'CERT(QVRSA)' \
			'LCLKEYSVR(*IPV4 192.0.2.11)' 'RMTKEYSVR(*IPV4 192.0.2.12)' 'LIND(TRLINE)' &&
		q CRTVPNCNN 'NAME(HostEcdsa)' 'SCENARIO(*HOST2HOST)' 'AUTH(*ECDSA)' 'CERT(QVEC)' \
			'LCLKEYSVR(*IPV4 192.0.2.21)' 'RMTKEYSVR(*IPV4 192.0.2.22)' 'LIND(TRLINE)' &&
		q CRTVPNCNN 'NAME(HostAh)' 'SCENARIO(*HOST2HOST)' "PSK('$PSK')" \
			'LCLKEYSVR(*IPV4 192.0.2.31)' 'RMTKEYSVR(*IPV4 192.0.2.32)' \
			'DTATFM((*AH *NONE *HMACSHA256))' 'LIND(TRLINE)' 'ACTFTR(*YES)'
}
qv_check qvpn-config qvpn_setup || qv_done
qv_check qvpn-start q STRTCPSVR 'SERVER(*VPN)' || qv_done
qv_on_exit 'q RMVTCPTBL'
qv_on_exit 'q ENDTCPSVR "SERVER(*VPN)"'
# *AUTO chose the kernel: no ESP0003 (the userspace fallback) in the job log
qv_check qvpn-kernel-data-path eval "! grep -h '\"msgid\":\"ESP0003\"' '$QROOT'/joblog/QTOVMAN.log"

# --- 2. gateway to gateway (PSK), qvpn initiating then responding ----------------
gw_round() { # TAG CONN FROM_NS TO_NS FROM_ADDR TO_ADDR
	local t=$1 c=$2
	qv_check "$t-swan-sa" swan_installed gw 'AES_GCM_16-128' &&
		qv_check "$t-xfrm-both-sides" same_sas esp tunnel 192.0.2.1 192.0.2.2 &&
		qv_check "$t-dspvpncnn-spis" dsp_spis_match "$c" esp tunnel 192.0.2.1 192.0.2.2
	reset_counters
	qv_check "$t-ping" eval "pings $Q 10.6.0.1 10.196.8.1 && pings $S 10.196.8.1 10.6.0.1" ||
		diag "$t" >&2
	qv_check "$t-tcp" tcp_transfer "$3" "$4" "$6" "$t"
	qv_check "$t-wire-raw-esp" wire esp 8
}
if qv_check gw-qinit-start q STRVPNCNN 'CNN(HRgw2FINgw:L1)' 'WAIT(60)'; then
	gw_round gw-qinit HRgw2FINgw:L1 $Q $S 10.6.0.1 10.196.8.1
	qv_check gw-qinit-end q ENDVPNCNN 'CNN(HRgw2FINgw:L1)'
	qv_check gw-qinit-swan-deleted swan_child_gone gw
	qv_check gw-qinit-nothing-left qvpn_clean
fi
sleep 1
if qv_check gw-sinit-start sw --initiate --child gw &&
	qv_check gw-sinit-qvpn-enabled wait_state HRgw2FINgw:R1 '*ENABLED'; then
	gw_round gw-sinit HRgw2FINgw:R1 $S $Q 10.196.8.1 10.6.0.1
	qv_check gw-sinit-end q ENDVPNCNN 'CNN(HRgw2FINgw:R1)'
	qv_check gw-sinit-swan-deleted swan_child_gone gw
	qv_check gw-sinit-nothing-left qvpn_clean
fi

# --- 3. host to host, transport mode ---------------------------------------------
# host_case TAG GROUP CHILD PROTO QADDR SADDR SWAN_AUTH_PATTERN: qvpn starts
# GROUP:L1, then strongSwan starts CHILD and qvpn answers as GROUP:R1
host_case() {
	local t c child=$3 proto=$4 qa=$5 sa=$6 who n0
	for who in qinit sinit; do
		t=$1-$who
		n0=$(grep -cE "authentication of '$qa' with $7 successful" "$SDIR/charon.log")
		if [ $who = qinit ]; then
			c=$2:L1
			qv_check "$t-start" q STRVPNCNN "CNN($c)" 'WAIT(60)' || continue
		else
			c=$2:R1
			qv_check "$t-start" sw --initiate --child "$child" &&
				qv_check "$t-qvpn-enabled" wait_state "$c" '*ENABLED' || continue
		fi
		# strongSwan checked qvpn's certificate (or key) once more
		qv_check "$t-swan-sa" swan_installed "$child" "TRANSPORT" &&
			qv_check "$t-swan-auth" test "$(grep -cE "authentication of '$qa' with $7 successful" \
				"$SDIR/charon.log")" -gt "$n0" &&
			qv_check "$t-xfrm-both-sides" same_sas "$proto" transport "$qa" "$sa"
		reset_counters
		qv_check "$t-ping" eval "pings $Q $qa $sa && pings $S $sa $qa" ||
			diag "$t" >&2
		qv_check "$t-wire-$proto" wire "$proto" 4
		qv_check "$t-end" q ENDVPNCNN "CNN($c)"
		qv_check "$t-swan-deleted" swan_child_gone "$child"
		qv_check "$t-nothing-left" qvpn_clean
	done
}
host_case rsa HostRsa rsa esp 192.0.2.11 192.0.2.12 '(RSA_EMSA_[A-Z0-9_]+|RSA signature)'
host_case ecdsa HostEcdsa ecdsa esp 192.0.2.21 192.0.2.22 '(ECDSA_WITH_SHA[0-9]+_DER|ECDSA-[0-9]+ signature)'
host_case ah HostAh ah ah 192.0.2.31 192.0.2.32 'pre-shared key'

# AH and ESP together cannot be negotiated with IKEv2 (no combined
# proposals, RFC 7296 3.3): a data policy with only *AHESP fails the start
# with IKE0908 and nothing is installed.
ahesp() {
	q CRTVPNCNN 'NAME(HostAhEsp)' 'SCENARIO(*HOST2HOST)' "PSK('$PSK')" \
		'LCLKEYSVR(*IPV4 192.0.2.31)' 'RMTKEYSVR(*IPV4 192.0.2.32)' \
		'DTATFM((*AHESP *AESCBC128 *HMACSHA256))' 'ACTFTR(*YES)' || return 1
	local out rc
	out=$(q STRVPNCNN 'CNN(HostAhEsp:L1)' 'WAIT(30)' 2>&1)
	rc=$?
	echo "STRVPNCNN exit $rc: $out"
	grep -h IKE0908 "$QROOT"/joblog/*.log
	[ $rc != 0 ] && grep -qh '"msgid":"IKE0908"' "$QROOT"/joblog/*.log
}
qv_check ahesp-refused-ike0908 ahesp
q ENDVPNCNN 'CNN(HostAhEsp:L1)' >/dev/null 2>&1
qv_check ahesp-nothing-left qvpn_clean

# --- the end: ENDTCPSVR leaves nothing -------------------------------------------
qv_check qvpn-end q ENDTCPSVR 'SERVER(*VPN)'
qv_check qvpn-end-nothing-left qvpn_clean ALL
cp "$SDIR/charon.log" "$QV_WORK/charon.log" 2>/dev/null
qv_done
