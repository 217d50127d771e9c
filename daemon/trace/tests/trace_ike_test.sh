#!/bin/bash
# Tracing a line while IKE negotiates: two strongSwan charons bring up an
# IKEv2 tunnel (UDP-encapsulated ESP with kernel-libipsec) and ping through
# it, while STRCMNTRC traces the left gateway's line and its TUN device.
# PRTCMNTRC must show the IKE_SA_INIT exchange on port 500 with the SPIs
# charon reports, IKE_AUTH behind the non-ESP marker on 4500, and the ESP
# packets with their SPIs; its selections must pick exactly the frames the
# same filters pick in tshark on the exported pcap.
#
#   [qv-tr-<pid>-l]                                  [qv-tr-<pid>-r]
#   lo 10.1.0.1/32                                   lo 10.2.0.1/32
#   qv-tr-<pid>l 192.0.2.1/24 ------------------ qv-tr-<pid>r 192.0.2.2/24
#   charon (libipsec, ipsec0)                        charon (libipsec)
#   traced: qv-tr-<pid>l (*LIN), ipsec0 (*NWI)
set -u
. "$(dirname "$0")/trace_lib.sh"
tr_require ip tshark jq busybox swanctl "${TR_CHARON:-/usr/lib/ipsec/charon}"
tr_setup

NL=$TR_TAG-l NR=$TR_TAG-r L=${TR_TAG}l R=${TR_TAG}r
tr_netns "$NL"
tr_netns "$NR"
tr_veth "$NL" "$L" 192.0.2.1/24 "$NR" "$R" 192.0.2.2/24
ip -n "$NL" addr add 10.1.0.1/32 dev lo
ip -n "$NR" addr add 10.2.0.1/32 dev lo

expect_msg "trace the left line" 0 TRC0001 "$NL" "$BIN/STRCMNTRC" "CFGOBJ($L)" 'CFGTYPE(*LIN)' \
	'MAXSTG(2048)' 'USRDTA(*MAX)' "TEXT('VPN Problems')"

tr_charon left "$NL" 192.0.2.1 192.0.2.2 left.test right.test 10.1.0.0/24 10.2.0.0/24
tr_charon right "$NR" 192.0.2.2 192.0.2.1 right.test left.test 10.2.0.0/24 10.1.0.0/24
expect_msg "trace the TUN device too" 0 TRC0001 "$NL" "$BIN/STRCMNTRC" 'CFGOBJ(ipsec0)' 'CFGTYPE(*NWI)'

tr_swanctl left --initiate --child net --timeout 15 >"$WORK/initiate.out" 2>&1 ||
	tr_die "IKE negotiation failed: $(tail -5 "$WORK/initiate.out")"
ip netns exec "$NL" busybox ping -c 3 -i 0.2 -w 5 -I 10.1.0.1 10.2.0.1 >/dev/null ||
	tr_fail "ping through the tunnel"
tr_swanctl left --list-sas --pretty >"$WORK/sas.txt" 2>&1
sleep 0.3
expect_msg "end the line trace" 0 TRC0002 "$NL" "$BIN/ENDCMNTRC" "CFGOBJ($L)" 'CFGTYPE(*LIN)'
expect_msg "end the TUN trace" 0 TRC0002 "$NL" "$BIN/ENDCMNTRC" 'CFGOBJ(ipsec0)' 'CFGTYPE(*NWI)'

ispi=$(sa_value "$WORK/sas.txt" initiator-spi)
rspi=$(sa_value "$WORK/sas.txt" responder-spi)
spi_in=$(sa_value "$WORK/sas.txt" spi-in)
spi_out=$(sa_value "$WORK/sas.txt" spi-out)
tr_log "charon: IKE SA $ispi/$rspi, CHILD SA in $spi_in out $spi_out"
[ -n "$ispi" ] && [ -n "$spi_in" ] || tr_die "no SAs listed: $(head -20 "$WORK/sas.txt")"

prt() { ip netns exec "$NL" "$BIN/PRTCMNTRC" "CFGOBJ($L)" 'CFGTYPE(*LIN)' "$@"; }
all=$(prt)
printf '%s\n' "$all" >"$WORK/print.txt"

# --- the IKE_SA_INIT exchange on port 500, with charon's SPIs -----------------
check "IKE_SA_INIT request sent with the initiator SPI" grep -q \
	"   S .*192.0.2.1 > 192.0.2.2 IKEv2 IKE_SA_INIT request msgid 0 $ispi/0000000000000000" <<<"$all"
check "IKE_SA_INIT response received with both SPIs" grep -q \
	"   R .*192.0.2.2 > 192.0.2.1 IKEv2 IKE_SA_INIT response msgid 0 $ispi/$rspi" <<<"$all"
check "IKE_SA_INIT on port 500" grep -q 'UDP  . . . . : 500 -> 500' <<<"$all"
check "its payload chain is decoded" grep -q \
	'payloads SA KE(group 14) Nonce N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)' <<<"$all"
check "IKE_AUTH behind the non-ESP marker on 4500" grep -q \
	"IKEv2 IKE_AUTH request msgid 1 $ispi/$rspi" <<<"$all"
check "non-ESP marker shown" grep -q 'IKE  . . . . : non-ESP marker  version 2.0  IKE_AUTH (35)' <<<"$all"
check "IKE_AUTH payloads are encrypted (SK)" grep -q 'payloads SK(first IDi)' <<<"$all"

# --- ESP in UDP with the child SA's SPIs ----------------------------------------
n_out=$(grep -c "   S .*UDP-encapsulated ESP spi 0x$spi_out" <<<"$all")
n_in=$(grep -c "   R .*UDP-encapsulated ESP spi 0x$spi_in" <<<"$all")
check "ESP sent with spi-out ($n_out)" ge "$n_out" 3
check "ESP received with spi-in ($n_in)" ge "$n_in" 3
check "no cleartext ICMP on the line" eq "$(grep -c 'ICMP echo' <<<"$all")" 0

# --- pcap for Wireshark: same frames, same SPIs ----------------------------------
prt --pcap "$WORK/line.pcap" >/dev/null
total=$(printed_count "$all")
check "pcap opens in tshark with the same $total frames" eq "$(tshark -r "$WORK/line.pcap" 2>/dev/null | wc -l)" "$total"
check "tshark reads the same IKE initiator SPI" grep -qx "$ispi" \
	<(tshark -r "$WORK/line.pcap" -Y 'isakmp.exchangetype == 34' -T fields -e isakmp.ispi 2>/dev/null)
check "tshark sees the ESP SPIs charon reports, and only those" eq \
	"$(tshark -r "$WORK/line.pcap" -Y esp -T fields -e esp.spi 2>/dev/null | sort -u | tr '\n' ' ')" \
	"$(printf '0x%s\n' "$spi_in" "$spi_out" | sort -u | tr '\n' ' ')"
check "tshark counts the same ESP packets" eq \
	"$(tshark -r "$WORK/line.pcap" -Y esp 2>/dev/null | wc -l)" "$(grep -c 'UDP-encapsulated ESP spi' <<<"$all")"

# --- selections against tshark display filters -------------------------------------
compare() {
	local what=$1 filter=$2 ours theirs
	shift 2
	ours=$(printed_count "$(prt "$@")")
	theirs=$(tshark -r "$WORK/line.pcap" -Y "$filter" 2>/dev/null | wc -l)
	check "$what: $ours frames, tshark $theirs" eq "$ours" "$theirs"
}
compare "seed example TCPIPADR + SLTPORT(500)" 'ip.addr == 192.0.2.2 && (udp.port == 500 || tcp.port == 500)' \
	"TCPIPADR('192.0.2.2')" 'SLTPORT(500)' 'FMTBCD(*NO)'
compare "SLTPORT(4500)" 'udp.port == 4500 || tcp.port == 4500' 'SLTPORT(4500)'
compare "one address, ARP included" \
	'ip.addr == 192.0.2.2 || arp.src.proto_ipv4 == 192.0.2.2 || arp.dst.proto_ipv4 == 192.0.2.2' \
	"TCPIPADR('192.0.2.2')"
compare "two addresses" \
	'(ip.src == 192.0.2.1 && ip.dst == 192.0.2.2) || (ip.src == 192.0.2.2 && ip.dst == 192.0.2.1) ||
	 (arp.src.proto_ipv4 == 192.0.2.1 && arp.dst.proto_ipv4 == 192.0.2.2) ||
	 (arp.src.proto_ipv4 == 192.0.2.2 && arp.dst.proto_ipv4 == 192.0.2.1)' \
	"TCPIPADR('192.0.2.1' '192.0.2.2')"
compare "an address nobody used" 'ip.addr == 10.50.21.1' "TCPIPADR('10.50.21.1')"
compare "FMTBCD(*NO)" '!arp && eth.dst != ff:ff:ff:ff:ff:ff' 'FMTBCD(*NO)'
n500=$(printed_count "$(prt "TCPIPADR('192.0.2.2')" 'SLTPORT(500)')")
check "exactly the two IKE_SA_INIT messages use port 500" eq "$n500" 2

# --- the JSON form ---------------------------------------------------------------------
js=$(prt 'SLTPORT(500)' --json)
check "JSON: IKE_SA_INIT, SPIs and a NAT-D notify" eq \
	"$(jq -r '[.frames[0].layers[3] | .exchange_name, .ispi, (.payloads[] | select(.notify == 16388) | .notify_name)] | join(" ")' <<<"$js")" \
	"IKE_SA_INIT $ispi NAT_DETECTION_SOURCE_IP"

# --- the TUN device: raw IP frames, the cleartext side of the tunnel -----------------
tun=$(ip netns exec "$NL" "$BIN/PRTCMNTRC" 'CFGOBJ(ipsec0)' 'CFGTYPE(*NWI)' --pcap "$WORK/tun.pcap")
check "TUN trace is raw IP" grep -q 'Object protocol  . . . . . . . :   IP' <<<"$tun"
check "TUN trace has the cleartext pings" eq "$(grep -c '10.1.0.1 > 10.2.0.1 ICMP echo-request' <<<"$tun")" 3
check "tshark reads the raw-IP pcap" eq "$(tshark -r "$WORK/tun.pcap" -Y 'icmp.type == 8' 2>/dev/null | wc -l)" 3

tr_finish trace_ike_test
