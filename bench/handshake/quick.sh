#!/bin/bash
# The handshake benchmark's quick mode as a ctest (label bench): 100 IKE SAs
# with DH group 19 against qvpn and against charon. It checks the machinery:
# every SA established on both responders and every number read and
# printed. It asserts no speed (the machine is shared). Exit 0 pass, 77 skip
# (not root, or a tool missing; under CI=true a skip fails).
set -u
here=$(dirname "$0")
out=$(mktemp /tmp/qvd-hb-quick.XXXXXX)
trap 'rm -f "$out"' EXIT
bash "$here/run.sh" --quick >"$out"
rc=$?
cat "$out"
if [ $rc = 2 ]; then
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
[ $rc = 0 ] || exit 1
# Both responders have a complete row with numbers, and the ratio line.
for impl in qvpn charon; do
	line=$(grep -E "^$impl +grp19 " "$out") || { echo "no $impl row" >&2; exit 1; }
	set -- $line
	for v in "$3" "$4" "$5" "$6"; do
		[[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || { echo "$impl: not a number: $v" >&2; exit 1; }
	done
	awk -v r="$3" -v c="$4" 'BEGIN { exit !(r > 0 && c > 0) }' ||
		{ echo "$impl: zero rate or CPU time: $line" >&2; exit 1; }
done
grep -q '^grp19  HS/CPU-s qvpn/charon = ' "$out" || { echo "no ratio line" >&2; exit 1; }
exit 0
