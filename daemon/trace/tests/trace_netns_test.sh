#!/bin/bash
# Communications trace on veth lines: start, survive, several at once, ping
# traffic seen from both ends, DTADIR, the IBM i error messages, wrap and
# stop-at-full under a flood with the buffer bounds held, the pcap export
# against tshark, stream-file output, authority, and a line that goes away.
#
#   [qv-tr-<pid>-a]                                [qv-tr-<pid>-b]
#   qv-tr-<pid>a 192.0.2.1/24 ---------------- qv-tr-<pid>b 192.0.2.2/24
#   qv-tr-<pid>c 198.51.100.1/24 ------------- qv-tr-<pid>d 198.51.100.2/24
#   qv-tr-<pid>e 203.0.113.1/24 (down) ------- qv-tr-<pid>f
set -u
. "$(dirname "$0")/trace_lib.sh"
tr_require ip tshark jq busybox setpriv
tr_setup

NA=$TR_TAG-a NB=$TR_TAG-b
A=${TR_TAG}a B=${TR_TAG}b C=${TR_TAG}c D=${TR_TAG}d E=${TR_TAG}e F=${TR_TAG}f
tr_netns "$NA"
tr_netns "$NB"
tr_veth "$NA" "$A" 192.0.2.1/24 "$NB" "$B" 192.0.2.2/24
tr_veth "$NA" "$C" 198.51.100.1/24 "$NB" "$D" 198.51.100.2/24
tr_veth "$NA" "$E" 203.0.113.1/24 "$NB" "$F" 203.0.113.2/24
ip -n "$NA" link set "$E" down

# --- authority: *SERVICE is root or the group qvpnsvc ------------------------
out=$(ip netns exec "$NA" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 2>&1)
rc=$?
check "STRCMNTRC as nobody -> CPF39A8 exit 3" eq "$rc/$(cut -d: -f1 <<<"$out")" "3/CPF39A8"

# --- what cannot be traced -----------------------------------------------------
expect_msg "no such line" 1 CPF2601 "$NA" "$BIN/STRCMNTRC" 'CFGOBJ(NOSUCHLINE)' 'CFGTYPE(*LIN)'
expect_msg "no such network interface" 1 CPF39BD "$NA" "$BIN/STRCMNTRC" 'CFGOBJ(nosuch0)' 'CFGTYPE(*NWI)'
expect_msg "network server" 1 CPF26AE "$NA" "$BIN/STRCMNTRC" 'CFGOBJ(NWS1)' 'CFGTYPE(*NWS)'
expect_msg "line down" 1 TRC0012 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($E)" 'CFGTYPE(*LIN)'
expect_msg "MAXSTG below 128K" 1 TRC0014 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'MAXSTG(100)'
expect_msg "MAXSTG above 64M" 1 TRC0014 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'MAXSTG(128M)'
expect_msg "USRDTA out of range" 2 CPD0076 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'USRDTA(70000)'
expect_msg "end without trace" 1 CPF39B0 "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
expect_msg "end on no such line" 1 CPF2601 "$NA" "$BIN/ENDCMNTRC" 'CFGOBJ(NOSUCHLINE)' 'CFGTYPE(*LIN)'
expect_msg "delete without trace" 1 CPF39B0 "$NA" "$BIN/DLTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
expect_msg "print without trace" 1 CPF39B0 "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
expect_msg "check without trace" 1 CPF39B0 "$NA" "$BIN/CHKCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
check "no trace left behind by refused starts" eq "$(ls "$QVPN_ROOT/trace" 2>/dev/null | grep -c '^LIN\.')" 0

# --- three traces at once, surviving the command that started them ------------
ip netns exec "$NA" "$BIN/CHGSYSVAL" 'SYSVAL(QCMNTRCMAX)' "VALUE('5M')" >/dev/null ||
	tr_fail "CHGSYSVAL QCMNTRCMAX"
expect_msg "start on line A" 0 TRC0001 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' \
	'MAXSTG(2048)' "TEXT('VPN Problems')"
expect_msg "start on B (*NWI, other namespace, received only)" 0 TRC0001 "$NB" "$BIN/STRCMNTRC" "$B" '*NWI' \
	'MAXSTG(1024)' 'DTADIR(*RCV)'
expect_msg "start on C, sent frames only" 0 TRC0001 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($C)" 'CFGTYPE(*LIN)' \
	'MAXSTG(*MIN)' 'DTADIR(*SND)'
expect_msg "start A again" 1 TRC0010 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
expect_msg "QCMNTRCMAX exceeded" 1 TRC0013 "$NB" "$BIN/STRCMNTRC" "CFGOBJ($D)" 'CFGTYPE(*LIN)' 'MAXSTG(2M)'
pid_a=$(chk_field "$NA" "$A" '*LIN' pid)
check "trace job of A runs after STRCMNTRC returned" grep -q QSCCMNTRC "/proc/$pid_a/cmdline"
check "A is active" eq "$(chk_field "$NA" "$A" '*LIN' state)" ACTIVE
all=$(ip netns exec "$NA" "$BIN/CHKCMNTRC" --json)
check "CHKCMNTRC shows three active traces" eq \
	"$(jq '[.traces[] | select(.state == "ACTIVE")] | length' <<<"$all")" 3
check "CHKCMNTRC shows the storage sum and limit" eq \
	"$(jq -c '[.storage_in_use, .storage_limit]' <<<"$all")" "[3276800,5242880]"
text=$(ip netns exec "$NA" "$BIN/CHKCMNTRC")
check "CHKCMNTRC text ends with TRC0005" grep -q '^TRC0005: 3 communications traces exist, 3 active' <<<"$text"
expect_msg "delete while active" 1 TRC0011 "$NA" "$BIN/DLTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
expect_msg "print while active" 1 TRC0011 "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'

# --- traffic ----------------------------------------------------------------------
ip netns exec "$NA" busybox ping -c 3 -i 0.2 192.0.2.2 >/dev/null || tr_fail "ping A -> B"
ip netns exec "$NA" busybox ping -c 2 -i 0.2 198.51.100.2 >/dev/null || tr_fail "ping C -> D"
expect_msg "end A" 0 TRC0002 "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
expect_msg "end B" 0 TRC0002 "$NB" "$BIN/ENDCMNTRC" "CFGOBJ($B)" 'CFGTYPE(*NWI)'
expect_msg "end C" 0 TRC0002 "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($C)" 'CFGTYPE(*LIN)'
expect_msg "end A again" 1 CPF39AE "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
check "A stopped, job gone" eq "$(chk_field "$NA" "$A" '*LIN' state)" STOPPED
check "job of A exited" gone "$pid_a"

pa=$(ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)')
check "A: 3 echo requests sent" eq "$(grep -c '^ *[0-9]*   S .*ICMP echo-request' <<<"$pa")" 3
check "A: 3 echo replies received" eq "$(grep -c '^ *[0-9]*   R .*ICMP echo-reply' <<<"$pa")" 3
check "A: the description is printed" grep -q 'Trace description  . . . . . . :   VPN Problems' <<<"$pa"
pb=$(ip netns exec "$NB" "$BIN/PRTCMNTRC" "CFGOBJ($B)" 'CFGTYPE(*NWI)')
check "B: 3 echo requests received" eq "$(grep -c '^ *[0-9]*   R .*ICMP echo-request' <<<"$pb")" 3
check "B: no traffic of the other line" eq "$(grep -c '198.51.100' <<<"$pb")" 0
check "B (*RCV): nothing sent" eq "$(grep -c '^ *[0-9]*   S ' <<<"$pb")" 0
pc=$(ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($C)" 'CFGTYPE(*LIN)')
check "C (*SND): 2 requests" eq "$(grep -c '   S .*ICMP echo-request' <<<"$pc")" 2
check "C (*SND): nothing received" eq "$(grep -c '^ *[0-9]*   R ' <<<"$pc")" 0

# --- pcap export and selections against tshark -------------------------------------
ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' --pcap "$WORK/a.pcap" >/dev/null
total=$(printed_count "$pa")
check "pcap opens in tshark with the same frame count" eq "$(tshark -r "$WORK/a.pcap" 2>/dev/null | wc -l)" "$total"
n=$(printed_count "$(ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'FMTBCD(*NO)')")
check "FMTBCD(*NO) = tshark without ARP and broadcasts" eq "$n" \
	"$(tshark -r "$WORK/a.pcap" -Y '!arp && eth.dst != ff:ff:ff:ff:ff:ff' 2>/dev/null | wc -l)"
check "FMTBCD(*NO) left something out" bash -c "[ $n -lt $total ]"

# --- output forms -----------------------------------------------------------------
expect_msg "print to a stream file" 0 TRC0004 "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' \
	'OUTPUT(*STMF)' "TOSTMF('$WORK/a.txt')"
check "stream file holds the printout" grep -q 'COMMUNICATIONS TRACE' "$WORK/a.txt"
expect_msg "stream file exists" 1 TRC001E "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' \
	'OUTPUT(*STMF)' "TOSTMF('$WORK/a.txt')"
expect_msg "replace it" 0 TRC0004 "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' \
	'OUTPUT(*STMF)' "TOSTMF('$WORK/a.txt')" 'STMFOPT(*REPLACE)'
expect_msg "*STMF without TOSTMF" 1 TRC001F "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'OUTPUT(*STMF)'
js=$(ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' --json)
check "JSON: records and echo requests" eq \
	"$(jq -c '[.records_selected, ([.frames[] | select(.layers[2].type == 8)] | length)]' <<<"$js")" "[$total,3]"
expect_msg "delete A" 0 TRC0003 "$NA" "$BIN/DLTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
check "A's directory is gone" bash -c "! ls -d '$QVPN_ROOT/trace/LIN.${A^^}' 2>/dev/null"
for x in "$B:*NWI:$NB" "$C:*LIN:$NA"; do
	IFS=: read -r obj typ ns <<<"$x"
	ip netns exec "$ns" "$BIN/DLTCMNTRC" "CFGOBJ($obj)" "CFGTYPE($typ)" >/dev/null
done

# --- wrap under a flood: newest frames kept, buffer bounds held --------------------
rss_of() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
expect_msg "start A, 128K, wrap" 0 TRC0001 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' \
	'MAXSTG(*MIN)' 'TRCFULL(*WRAP)' 'USRDTA(*MAX)'
pid=$(chk_field "$NA" "$A" '*LIN' pid)
ip netns exec "$NA" "$FLOOD" 192.0.2.2 9 0 100000 200 >"$WORK/flood.out" &
fpid=$!
max_rss=0
while kill -0 $fpid 2>/dev/null; do
	r=$(rss_of "$pid")
	[ "${r:-0}" -gt "$max_rss" ] && max_rss=$r
	sleep 0.05
done
wait $fpid
ip netns exec "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' >/dev/null
tr_log "flood: $(cat "$WORK/flood.out"); trace job RSS peak ${max_rss} kB"
st=$(ip netns exec "$NA" "$BIN/CHKCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' --json | jq '.traces[0]')
check "wrapped" eq "$(jq -r .wrapped <<<"$st")" true
check "bytes used within MAXSTG" le "$(jq -r .bytes_used <<<"$st")" 131072
check "trace file is exactly header + MAXSTG" eq "$(stat -c %s "$QVPN_ROOT/trace/LIN.${A^^}/frames.qct")" $((256 + 131072))
check "counters add up: traced = in buffer + overwritten" eq \
	"$(jq '.frames_traced - .frames_overwritten - .frames_refused' <<<"$st")" "$(jq .frames_in_buffer <<<"$st")"
check "more frames traced than the buffer holds" bash -c "[ $(jq .frames_traced <<<"$st") -gt $(jq .frames_in_buffer <<<"$st") ]"
check "trace job memory stays bounded under the flood (< 32 MB)" le "$max_rss" 32768
check "job log says it wrapped (TRC0019)" grep -q '"msgid":"TRC0019"' "$QVPN_ROOT/joblog/QSCCMNTRC.log"
ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'SLTPORT(9)' --pcap "$WORK/wrap.pcap" >/dev/null
tshark -r "$WORK/wrap.pcap" -T fields -e data 2>/dev/null | cut -c1-8 |
	while read -r h; do echo $((16#$h)); done >"$WORK/wrap.seq"
check "kept flood frames are consecutive" awk 'NR > 1 && $1 != p + 1 { bad = 1 } { p = $1 } END { exit bad }' "$WORK/wrap.seq"
drops=$(jq .kernel_drops <<<"$st")
if [ "$drops" = 0 ]; then
	check "the newest frame is the last one sent" eq "$(tail -1 "$WORK/wrap.seq")" 99999
else
	tr_log "kernel dropped $drops frames under the flood; newest-frame check skipped"
fi
ip netns exec "$NA" "$BIN/DLTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' >/dev/null

# --- stop at full ----------------------------------------------------------------------
expect_msg "start A, 128K, stop when full" 0 TRC0001 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' \
	'MAXSTG(128)' 'TRCFULL(*STOPTRC)' 'USRDTA(*MAX)'
pid=$(chk_field "$NA" "$A" '*LIN' pid)
ip netns exec "$NA" "$FLOOD" 192.0.2.2 9 20000 5000 200 >/dev/null
for _ in $(seq 50); do
	[ "$(chk_field "$NA" "$A" '*LIN' state)" = FULL ] && break
	sleep 0.1
done
st=$(ip netns exec "$NA" "$BIN/CHKCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' --json | jq '.traces[0]')
check "state is stopped because full" eq "$(jq -r .state <<<"$st")" FULL
check "CHKCMNTRC text says so" grep -q 'stopped (buffer full)' <<<"$(ip netns exec "$NA" "$BIN/CHKCMNTRC")"
check "job ended by itself" gone "$pid"
check "job log TRC0018" grep -q '"msgid":"TRC0018"' "$QVPN_ROOT/joblog/QSCCMNTRC.log"
check "not wrapped, frames refused" eq "$(jq -c '[.wrapped, .frames_refused > 0, .bytes_used <= 131072]' <<<"$st")" "[false,true,true]"
expect_msg "end a full trace" 1 CPF39AE "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'SLTPORT(9)' --pcap "$WORK/stop.pcap" >/dev/null
first=$(tshark -r "$WORK/stop.pcap" -T fields -e data 2>/dev/null | head -1 | cut -c1-8)
check "the oldest frames are kept: first flood frame is number 0" eq "$first" 00000000
ip netns exec "$NA" "$BIN/DLTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' >/dev/null

# --- USRDTA: headers plus n bytes, cut in the kernel and exactly by the job ---------
expect_msg "start A, USRDTA(10)" 0 TRC0001 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'USRDTA(10)'
ip netns exec "$NA" "$FLOOD" 192.0.2.2 9 0 1 200 >/dev/null
ip netns exec "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' >/dev/null
pu=$(ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 'SLTPORT(9)')
check "a 242-byte frame keeps 14+20+8 header bytes + 10" grep -Eq '^ +[0-9]+   S +242 +52  ' <<<"$pu"
check "and says it was sliced" grep -q '10 bytes of user data (frame sliced by USRDTA)' <<<"$pu"
ip netns exec "$NA" "$BIN/DLTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' >/dev/null

# --- a line description (CRTLINETH) names the interface ----------------------------
ip netns exec "$NA" "$BIN/CRTLINETH" 'LIND(TRNLINE)' "RSRCNAME($C)" >/dev/null || tr_fail "CRTLINETH"
ip netns exec "$NA" "$BIN/CRTLINETH" 'LIND(GONELINE)' 'RSRCNAME(qv-tr-none0)' >/dev/null ||
	tr_fail "CRTLINETH"
expect_msg "line description whose interface is missing" 1 TRC0020 "$NA" "$BIN/STRCMNTRC" \
	'CFGOBJ(GONELINE)' 'CFGTYPE(*LIN)'
expect_msg "the seed's STRCMNTRC on line TRNLINE" 0 TRC0001 "$NA" "$BIN/STRCMNTRC" \
	'CFGOBJ(TRNLINE)' 'CFGTYPE(*LIN)' 'MAXSTG(2048)' "TEXT('VPN Problems')"
check "TRNLINE traces the line's interface" eq "$(chk_field "$NA" TRNLINE '*LIN' interface)" "$C"
ip netns exec "$NA" busybox ping -c 1 198.51.100.2 >/dev/null
expect_msg "the seed's ENDCMNTRC" 0 TRC0002 "$NA" "$BIN/ENDCMNTRC" 'CFGOBJ(TRNLINE)' 'CFGTYPE(*LIN)'
pt=$(ip netns exec "$NA" "$BIN/PRTCMNTRC" 'CFGOBJ(TRNLINE)' 'CFGTYPE(*LIN)' 'FMTTCP(*YES)' \
	"TCPIPADR('198.51.100.2')" 'FMTBCD(*NO)')
check "the seed's PRTCMNTRC: the ping to 198.51.100.2, no ARP" eq \
	"$(grep -c 'ICMP echo' <<<"$pt")/$(grep -c ' ARP ' <<<"$pt")" "2/0"
ip netns exec "$NA" "$BIN/DLTCMNTRC" 'CFGOBJ(TRNLINE)' 'CFGTYPE(*LIN)' >/dev/null

# --- a trace job that is killed ---------------------------------------------------
expect_msg "start A" 0 TRC0001 "$NA" "$BIN/STRCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
ip netns exec "$NA" busybox ping -c 2 -i 0.2 192.0.2.2 >/dev/null
sleep 0.3
pid=$(chk_field "$NA" "$A" '*LIN' pid)
kill -9 "$pid"
gone "$pid"
check "a killed job shows as ended abnormally" eq "$(chk_field "$NA" "$A" '*LIN' state)" ABENDED
out=$(ip netns exec "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' 2>&1)
check "ENDCMNTRC reports TRC001B, then ends it" eq "$(cut -d: -f1 <<<"$out" | tr '\n' ' ')" "TRC001B TRC0002 "
pk=$(ip netns exec "$NA" "$BIN/PRTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)')
check "the frames traced before the kill are kept" eq "$(grep -c 'ICMP echo-request' <<<"$pk")" 2
expect_msg "end it again" 1 CPF39AE "$NA" "$BIN/ENDCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)'
ip netns exec "$NA" "$BIN/DLTCMNTRC" "CFGOBJ($A)" 'CFGTYPE(*LIN)' >/dev/null

# --- a line that goes away while traced ---------------------------------------------
expect_msg "start D" 0 TRC0001 "$NB" "$BIN/STRCMNTRC" "CFGOBJ($D)" 'CFGTYPE(*LIN)'
ip -n "$NB" link del "$D"
for _ in $(seq 30); do
	[ "$(chk_field "$NB" "$D" '*LIN' state)" = LINEFAILED ] && break
	sleep 0.1
done
check "trace of a deleted interface stops as line failed" eq "$(chk_field "$NB" "$D" '*LIN' state)" LINEFAILED
check "job log TRC001A" grep -q '"msgid":"TRC001A"' "$QVPN_ROOT/joblog/QSCCMNTRC.log"
expect_msg "delete it" 0 TRC0003 "$NB" "$BIN/DLTCMNTRC" "CFGOBJ($D)" 'CFGTYPE(*LIN)'

tr_finish trace_netns_test
