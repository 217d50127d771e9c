#!/bin/bash
# Frames captured without loss at increasing packet rates: the trace job
# (STRCMNTRC) and tcpdump capture the same veth interface at the same time
# while udp_flood sends numbered 60-byte frames at a fixed rate.
#
#   [qv-tr-<pid>-s] qv-tr-<pid>s 192.0.2.1 ----- qv-tr-<pid>r 192.0.2.2 [qv-tr-<pid>-r]
#   sender, STRCMNTRC and tcpdump on qv-tr-<pid>s
#
# Fair terms: both keep the same bytes of each frame (whole 60-byte frames:
# USRDTA(*MAX) and tcpdump -s 0; 1442-byte frames: USRDTA(*CALC), which keeps
# the 42 bytes of headers plus 100, and tcpdump -s 142), both get a 4 MB
# kernel ring (the trace job's fixed ring; tcpdump -B 4096), neither filters
# in the kernel, and both write to the same file system. A frame counts as
# captured when it is one of the flood's (UDP to port 9).
#
# env: BENCH_RATES (frames/s, 0 = as fast as the sender can), BENCH_SECONDS,
#      BENCH_CPU (run sender, trace job and tcpdump all on this one CPU, so
#      the capturers must keep up while competing with the sender)
set -u
. "$(dirname "$0")/../../daemon/trace/tests/trace_lib.sh"
tr_require ip tcpdump
tr_setup

RATES=${BENCH_RATES:-"10000 50000 100000 200000 400000 0"}
SECONDS_PER_RATE=${BENCH_SECONDS:-1}
NS=$TR_TAG-s NR=$TR_TAG-r S=${TR_TAG}s R=${TR_TAG}r
PIN=()
[ -n "${BENCH_CPU:-}" ] && PIN=(taskset -c "$BENCH_CPU")
tr_netns "$NS"
tr_netns "$NR"
tr_veth "$NS" "$S" 192.0.2.1/24 "$NR" "$R" 192.0.2.2/24
ip netns exec "$NS" ping -c1 -W1 192.0.2.2 >/dev/null 2>&1 ||
	ip netns exec "$NS" busybox ping -c1 -W1 192.0.2.2 >/dev/null 2>&1

# run_profile TITLE PAYLOAD USRDTA SNAPLEN MAXCOUNT
run_profile() {
	local title=$1 payload=$2 usrdta=$3 snap=$4 maxcount=$5 rate count out sent secs q qd t tdrop td label
	printf '\n%s\n' "$title"
	printf '%-8s %9s %9s %9s %9s %7s %9s %7s %8s %8s\n' "offered" "achieved" "sent" "qvpn" \
		"qvpn drop" "" "tcpdump" "td drop" "qvpn %" "tcpdump%"
	for rate in $RATES; do
		count=$((rate * SECONDS_PER_RATE))
		[ "$rate" = 0 ] || [ "$count" -gt "$maxcount" ] && count=$maxcount
		ip netns exec "$NS" "${PIN[@]}" "$BIN/STRCMNTRC" "CFGOBJ($S)" 'CFGTYPE(*LIN)' 'MAXSTG(64M)' \
			"USRDTA($usrdta)" >/dev/null || tr_die "STRCMNTRC"
		ip netns exec "$NS" "${PIN[@]}" tcpdump -i "$S" -s "$snap" -B 4096 -n -w "$WORK/td.pcap" >/dev/null \
			2>"$WORK/td.err" &
		td=$!
		for _ in $(seq 100); do grep -q listening "$WORK/td.err" && break; sleep 0.05; done
		out=$(ip netns exec "$NS" "${PIN[@]}" "$FLOOD" 192.0.2.2 9 "$rate" "$count" "$payload")
		sent=$(awk '{ print $2 }' <<<"$out")
		secs=$(awk '{ print $4 }' <<<"$out")
		# tcpdump hands over a partly filled block only after its 1 s timeout.
		sleep 1.5
		ip netns exec "$NS" "$BIN/ENDCMNTRC" "CFGOBJ($S)" 'CFGTYPE(*LIN)' >/dev/null
		kill -INT $td
		wait $td
		q=$(ip netns exec "$NS" "$BIN/PRTCMNTRC" "CFGOBJ($S)" 'CFGTYPE(*LIN)' 'SLTPORT(9)' \
			'FMTTCP(*NO)' | sed -n 's/^TRC0004: \([0-9]*\) of .*/\1/p')
		qd=$(ip netns exec "$NS" "$BIN/CHKCMNTRC" "CFGOBJ($S)" 'CFGTYPE(*LIN)' --json |
			jq .traces[0].kernel_drops)
		t=$(tcpdump -r "$WORK/td.pcap" -n 'udp dst port 9' 2>/dev/null | wc -l)
		tdrop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WORK/td.err")
		ip netns exec "$NS" "$BIN/DLTCMNTRC" "CFGOBJ($S)" 'CFGTYPE(*LIN)' >/dev/null
		rm -f "$WORK/td.pcap"
		label=$rate
		[ "$rate" = 0 ] && label=max
		printf '%-8s %9.0f %9s %9s %9s %7s %9s %7s %7.2f%% %7.2f%%\n' "$label" \
			"$(awk -v n="$sent" -v s="$secs" 'BEGIN { print (s > 0 ? n / s : 0) }')" "$sent" "$q" "$qd" "" \
			"$t" "${tdrop:-?}" "$(awk -v a="$q" -v s="$sent" 'BEGIN { print s ? 100 * a / s : 0 }')" \
			"$(awk -v a="$t" -v s="$sent" 'BEGIN { print s ? 100 * a / s : 0 }')"
	done
}

[ -n "${BENCH_CPU:-}" ] && echo "everything on CPU $BENCH_CPU"
run_profile "60-byte frames, whole frames kept (USRDTA(*MAX), tcpdump -s 0)" 18 '*MAX' 0 600000
run_profile "1442-byte frames, headers + 100 bytes kept (USRDTA(*CALC), tcpdump -s 142)" 1400 '*CALC' 142 300000
echo
echo "offered/achieved: frames per second asked of and reached by the sender (0 = max)."
echo "qvpn %, tcpdump %: flood frames captured out of frames sent (100% = no loss)."
