#!/bin/bash
# Every command executable has a man page in man/, and the page documents
# every keyword the command accepts (the prompt and the page must agree).
set -u
src=${QVPN_SOURCE_DIR:?} bin=${QVPN_BUILD_DIR:?}/bin
rc=0 n=0
for exe in "$bin"/*; do
	[ -x "$exe" ] || continue
	name=$(basename "$exe")
	page="$src/man/$(echo "$name" | tr 'A-Z' 'a-z').1"
	n=$((n + 1))
	if [ ! -f "$page" ]; then
		echo "FAIL: $name has no man page ($page)"
		rc=1
		continue
	fi
	[ "$name" = system ] && continue
	for kwd in $("$exe" --keywords); do
		if ! grep -q "^\.B $kwd\b\|^\.BR $kwd\b\|^\.IP \"\?\\\\fB$kwd" "$page" && ! grep -q "\\\\fB$kwd\\\\fR" "$page"; then
			echo "FAIL: $page does not document keyword $kwd"
			rc=1
		fi
	done
done
[ $n -gt 0 ] || { echo "FAIL: no command executables in $bin"; rc=1; }
echo "checked $n commands"
exit $rc
