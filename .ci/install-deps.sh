#!/bin/bash
# Install whatever qvpn needs that this Debian 12 machine lacks (root only).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t want < <(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$')
missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#want[@]} packages present"
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install-deps: must run as root to install: ${missing[*]}" >&2; exit 1; }
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# INITRD=No: the stock kernel is only booted by the tests, with an initramfs
# they build themselves; skipping Debian's initrd saves half a minute.
INITRD=No apt-get install -y -q --no-install-recommends "${missing[@]}"
