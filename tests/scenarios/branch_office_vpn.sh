#!/bin/bash
# The seed's branch office scenario end to end, between two qvpn systems in
# network namespaces, configured and run only with qvpn's CL commands:
#
#  [qv-in-hr] 10.6.1.5/16                                    [qv-in-fin] 10.196.8.9/24
#      | qv-in-h0                                                  qv-in-f0 |
#      | qv-in-a1 10.6.11.1/16                          10.196.8.5/24 qv-in-c1 |
#  [qv-in-A] System A  192.0.2.227 qv-in-a0 ===== qv-in-c0 198.51.100.250  System C [qv-in-C]
#                        TRLINE          (the Internet)          TRLINE
#
#  1. CRTLINETH + CRTVPNCNN ... ACTFTR(*YES) on both (the generated policy
#     filters loaded with LODIPFTR), STRTCPSVR SERVER(*VPN) on both;
#  2. STRVPNCNN CNN(HRgw2FINgw) on System A, WRKVPNCNN / DSPVPNCNN on both
#     (System C shows the connection A started as HRgw2FINgw:R1);
#  3. ping and a TCP transfer from subnet to subnet while the Internet link
#     is captured: ESP only, no cleartext between the subnets, the SPIs on
#     the wire are the ones DSPVPNCNN shows;
#  4. the QVPN journal (DSPJRN JRN(QVPN)) and the job logs of both systems;
#  5. ENDVPNCNN on A (C's side ends too), ENDTCPSVR on both, nothing left.
#
# The data path is QVPNDTAPTH's (*AUTO): the userspace ESP data path on a
# kernel without ESP (this CI host), the kernel's XFRM where it has ESP (the
# VM of tests/vm, see branch_office_vpn_vm.sh). Without tshark
# (the VM) the capture is left in $QV_WIRE_OUT for the host to check.
#
# Exit 0 pass, 1 fail, 77 skipped (not root, tools missing; a failure
# under CI=true). The last line says PASS or FAIL.
. "$(dirname "$0")/lib.sh"
need_root
need busybox dumpcap
need_qvpn CRTLINETH CRTVPNCNN STRTCPSVR ENDTCPSVR STRVPNCNN ENDVPNCNN WRKVPNCNN DSPVPNCNN \
	DSPJRN DSPJOBLOG LODIPFTR DSPIPFTR
HAVE_TSHARK=0
command -v tshark >/dev/null && HAVE_TSHARK=1
workdir branch
# (QV_NS_PREFIX: another prefix for the namespaces, so that runs beside
# each other on one host do not collide)
P=${QV_NS_PREFIX:-qv-in-}
A=${P}A C=${P}C HR=${P}hr FIN=${P}fin
PSK=topsecretstuff
echo "qvpn branch office scenario: System A (HR) <-> System C (Finance); work dir $WORK"

step "Network: System A, System C, a host on each subnet"
for ns in $A $C $HR $FIN; do in_ns $ns; done
in_veth $A qv-in-a0 192.0.2.227/24 $C qv-in-c0 198.51.100.250/24
in_veth $A qv-in-a1 10.6.11.1/16 $HR qv-in-h0 10.6.1.5/16
in_veth $C qv-in-c1 10.196.8.5/24 $FIN qv-in-f0 10.196.8.9/24
# The gateways reach each other across the Internet link; each subnet
# routes through its gateway.
ip -n $A route add 198.51.100.250/32 dev qv-in-a0
ip -n $C route add 192.0.2.227/32 dev qv-in-c0
ip -n $HR route add default via 10.6.11.1
ip -n $FIN route add default via 10.196.8.5
ip netns exec $A sysctl -qw net.ipv4.ip_forward=1
ip netns exec $C sysctl -qw net.ipv4.ip_forward=1
ip netns exec $A busybox ping -c1 -W2 198.51.100.250 >/dev/null || die "the Internet link does not work"
note "namespaces $A $C $HR $FIN"
in_system A $A "$WORK/systemA"
in_system C $C "$WORK/systemC"

step "Configure System A and System C (the New Connection wizard as CRTVPNCNN)"
configure() { # S LOCAL REMOTE LNET LMASK RNET RMASK IF
	show "$1" CRTLINETH 'LIND(TRLINE)' "RSRCNAME($8)" "TEXT('Internet')" || die "CRTLINETH on $1"
	show "$1" CRTVPNCNN 'NAME(HRgw2FINgw)' 'SCENARIO(*GW2GW)' 'KEYPCY(*BALANCED)' "PSK('$PSK')" \
		"LCLKEYSVR(*IPV4 $2)" "RMTKEYSVR(*IPV4 $3)" \
		"LCLDTAEP(*IPV4SUBNET $4 $5)" "RMTDTAEP(*IPV4SUBNET $6 $7)" \
		'DTAPCY(*BALANCED)' 'LIND(TRLINE)' 'OTHERTRAFFIC(*PERMIT)' 'JRN(*ALL)' 'ACTFTR(*YES)' \
		"TEXT('Branch office HR to Finance')" || die "CRTVPNCNN on $1"
}
configure A 192.0.2.227 198.51.100.250 10.6.0.0 255.255.0.0 10.196.8.0 255.255.255.0 qv-in-a0
configure C 198.51.100.250 192.0.2.227 10.196.8.0 255.255.255.0 10.6.0.0 255.255.0.0 qv-in-c0
show A DSPIPFTR | head -20
sys A DSPIPFTR --json | grep -q 'HRgw2FINgw' || bad "System A: no policy filter for HRgw2FINgw loaded"
if ip netns exec $HR busybox ping -c1 -W1 10.196.8.9 >/dev/null 2>&1; then
	bad "cleartext crossed the Internet link before the connection started"
else
	ok "before the connection, the policy filters keep the subnets apart"
fi

step "Start the VPN servers"
for s in A C; do
	expect_msg 0 VMN0001 $s STRTCPSVR 'SERVER(*VPN)'
	echo "$OUT"
done
grep -q '"msgid":"ESP0003"' "$WORK/systemA/joblog/QTOVMAN.log" 2>/dev/null &&
	note "System A: the kernel has no ESP here, so the userspace data path carries the traffic (ESP0003)"

step "Start HRgw2FINgw on System A"
show A STRVPNCNN 'CNN(HRgw2FINgw)' 'WAIT(60)' || bad "STRVPNCNN on A"
check "System A: HRgw2FINgw:L1 is *ENABLED" is_state A HRgw2FINgw:L1 '*ENABLED'
check "System C: the connection A started is HRgw2FINgw:R1, *ENABLED" \
	wait_for 10 is_state C HRgw2FINgw:R1 '*ENABLED'
show A WRKVPNCNN
show C WRKVPNCNN
show A DSPVPNCNN 'CNN(HRgw2FINgw:L1)'
show C DSPVPNCNN 'CNN(HRgw2FINgw:R1)' | sed -n '/Connection manager/,$p'
read -r a_in a_out <<<"$(live_spis A HRgw2FINgw:L1)"
read -r c_in c_out <<<"$(live_spis C HRgw2FINgw:R1)"
note "SPIs: System A in $a_in out $a_out; System C in $c_in out $c_out"
[ -n "$a_in" ] && [ "$a_in" = "$c_out" ] && [ "$a_out" = "$c_in" ] ||
	bad "the SPIs of A and C do not mirror each other"
data_path=$(sys A DSPVPNCNN 'CNN(HRgw2FINgw:L1)' --json | grep -m1 '"data_path"' | sed 's/.*: "\(.*\)".*/\1/')
note "data path: $data_path"

step "Traffic from subnet to subnet, the Internet link captured"
# At both ends: on the kernel data path a capture also shows each packet
# it received again after decapsulation (re-injected on the same device),
# so what an end sent in clear is read from its own capture, in the
# direction it sends.
in_capture $A qv-in-a0 "$WORK/wire.pcapng"
in_capture $C qv-in-c0 "$WORK/wire-c.pcapng"
ip netns exec $HR busybox ping -c 4 -W 2 10.196.8.9 || bad "ping HR host -> Finance host"
ip netns exec $FIN busybox ping -c 2 -W 2 10.6.1.5 || bad "ping Finance host -> HR host"
# 1 MB over TCP from the HR host to the Finance host, compared byte for byte.
head -c 1000000 /dev/urandom >"$WORK/tcp.send"
# (nc's stdin, a FIFO held open here, stays open: at its end busybox nc
# would close the connection)
mkfifo "$WORK/nc.in"
exec {nc_hold}<>"$WORK/nc.in"
ip netns exec $FIN busybox nc -l -p 5001 <"$WORK/nc.in" >"$WORK/tcp.recv" &
nc_pid=$!
on_exit "kill $nc_pid"
sleep 0.5
# (ip by its path: busybox's timeout, in the VM, would run its own ip applet)
timeout 30 "$(command -v ip)" netns exec $HR busybox nc -w 3 10.196.8.9 5001 <"$WORK/tcp.send" ||
	bad "TCP transfer"
wait_for 10 cmp -s "$WORK/tcp.send" "$WORK/tcp.recv"
if cmp -s "$WORK/tcp.send" "$WORK/tcp.recv"; then
	ok "1 MB crossed the tunnel over TCP intact"
else
	bad "TCP data differs ($(stat -c %s "$WORK/tcp.recv") of 1000000 bytes)"
fi
kill $nc_pid 2>/dev/null
exec {nc_hold}>&-
in_capture_stop
show A DSPVPNCNN 'CNN(HRgw2FINgw:L1)' | sed -n '/Security associations/,$p'
if [ $HAVE_TSHARK = 1 ]; then
	esp=$(wire_count "$WORK/wire.pcapng" 'esp || udp.port == 4500')
	AC='ip.src == 10.6.0.0/16 && ip.dst == 10.196.8.0/24'
	CA='ip.src == 10.196.8.0/24 && ip.dst == 10.6.0.0/16'
	clear=$(($(wire_count "$WORK/wire.pcapng" "$AC") + $(wire_count "$WORK/wire-c.pcapng" "$CA")))
	icmp=$(($(wire_count "$WORK/wire.pcapng" "icmp && !esp && !($CA)") +
		$(wire_count "$WORK/wire-c.pcapng" "icmp && !esp && !($AC)")))
	w_out=$(wire_spis "$WORK/wire.pcapng" 192.0.2.227)
	w_in=$(wire_spis "$WORK/wire.pcapng" 198.51.100.250)
	note "on the Internet link: $esp ESP packets, $clear subnet packets in clear, $icmp ICMP in clear"
	note "SPIs on the wire: from A $w_out, from C $w_in"
	[ "$esp" -ge 12 ] || bad "only $esp ESP packets on the wire"
	[ "$clear" = 0 ] || bad "$clear packets between the subnets crossed in clear"
	[ "$icmp" = 0 ] || bad "$icmp ICMP packets in clear on the wire"
	[ "$w_out" = "$a_out " ] || bad "SPIs sent by A on the wire ($w_out) are not DSPVPNCNN's ($a_out)"
	[ "$w_in" = "$a_in " ] || bad "SPIs sent by C on the wire ($w_in) are not DSPVPNCNN's ($a_in)"
else
	# The VM: the host reads the capture (branch_office_vpn_vm.sh).
	mkdir -p "${QV_WIRE_OUT:-$WORK}"
	cp "$WORK/wire.pcapng" "$WORK/wire-c.pcapng" "${QV_WIRE_OUT:-$WORK}/"
	echo "$a_in $a_out" >"${QV_WIRE_OUT:-$WORK}/spis"
	note "capture left for the host in ${QV_WIRE_OUT:-$WORK} (no tshark here)"
fi

step "The QVPN journal of System A and System C"
show A DSPJRN 'JRN(QVPN)' 'JRNCDE((M))' 'ENTTYP((TS))' || bad "DSPJRN on A"
show C DSPJRN 'JRN(QVPN)' 'JRNCDE((M))' 'ENTTYP((TS))' || bad "DSPJRN on C"
journal_csv A | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*ENABLED,' || bad "System A journaled no *ENABLED"
journal_csv C | grep -q ',HRgw2FINgw:R1,\*DYNAMIC,\*ENABLED,' || bad "System C journaled no *ENABLED"

step "The job logs"
show A DSPJOBLOG 'JOB(QTOVMAN)'
show A DSPJOBLOG 'JOB(QTOKVPNIK2)'
show C DSPJOBLOG 'JOB(QTOVMAN)'
show C DSPJOBLOG 'JOB(QTOKVPNIK2)'
if grep -rq "$PSK" "$WORK/systemA" "$WORK/systemC"; then
	bad "the preshared key is readable in a state root (job log or journal)"
fi

step "End the connection and the servers"
show A ENDVPNCNN 'CNN(HRgw2FINgw)' || bad "ENDVPNCNN on A"
check "System A: HRgw2FINgw:L1 is *IDLE" is_state A HRgw2FINgw:L1 '*IDLE'
check "System C: HRgw2FINgw:R1 ended with it" wait_for 10 is_state C HRgw2FINgw:R1 '*IDLE'
grep -q '"msgid":"VMN0027"' "$WORK/systemC/joblog/QTOVMAN.log" || bad "System C did not say who ended it (VMN0027)"
if ip netns exec $HR busybox ping -c1 -W1 10.196.8.9 >/dev/null 2>&1; then
	bad "cleartext crossed after the connection ended"
else
	ok "after ENDVPNCNN the subnets are apart again"
fi
journal_csv A | grep -q ',HRgw2FINgw:L1,\*DYNAMIC,\*STOPPED,' || bad "System A journaled no *STOPPED"
journal_csv C | grep -q ',HRgw2FINgw:R1,\*DYNAMIC,\*STOPPED,' || bad "System C journaled no *STOPPED"
for s in A C; do
	expect_msg 0 VMN0002 $s ENDTCPSVR 'SERVER(*VPN)'
	echo "$OUT"
done
for ns in $A $C; do
	left=$(ip -n $ns xfrm state | grep -c '^src')
	[ "$left" = 0 ] || bad "$ns: $left XFRM states left"
	ip -n $ns link show qvpn0 >/dev/null 2>&1 && bad "$ns: the data path's TUN device is left"
	ip -n $ns rule | grep -q 'lookup 20822' && bad "$ns: the data path's routing rule is left"
done
ok "no SA, policy, device or rule left behind"
finish "branch office ($data_path data path)"
