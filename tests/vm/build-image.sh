#!/bin/bash
# tests/vm/build-image.sh -- build (or find in the cache) what the test VM
# boots: Debian's stock kernel as an uncompressed ELF (booted through its PVH
# entry, seconds faster under TCG than the xz bzImage) and two initramfs
# layers the kernel unpacks one after the other:
#
#   base   busybox, bash, iproute2, nft, dumpcap, strongSwan (charon,
#          swanctl, plugins for PSK and certificates), iperf3, the kernel
#          modules of modules.list. Keyed by this script, modules.list and
#          the installed versions of every package copied in.
#   qvpn   the build tree's bin/ and libexec/qvpn/ (debug info stripped) with
#          the shared libraries they need, under /qvpn. Keyed by the content
#          of those files, so a rebuild that changes nothing reuses it.
#
# Prints shell assignments on stdout: KERNEL=... BASE=... QVPN_LAYER=...
# Nothing is downloaded: everything comes from the host's packages.
#
# env: QVPN_BUILD_DIR (required for the qvpn layer; empty: none)
#      QV_VM_CACHE    cache directory (/tmp/qvpn-vm-cache)
#      KVER           kernel version (newest with /boot/vmlinuz-* and modules)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${QV_VM_CACHE:-/tmp/qvpn-vm-cache}
mkdir -p "$CACHE"
log() { echo "build-image: $*" >&2; }
die() { log "$*"; exit 1; }

if [ -z "${KVER:-}" ]; then
	for d in $(ls -1d /lib/modules/* 2>/dev/null | sort -rV); do
		k=${d##*/}
		[ -f "/boot/vmlinuz-$k" ] && { KVER=$k; break; }
	done
fi
[ -n "${KVER:-}" ] || die "no kernel image with modules (package linux-image-amd64)"

# Several tests may build at once: one builder at a time per cache.
exec 9>"$CACHE/.lock"
flock 9

# ------------------------------------------------------------------ kernel
KERNEL="$CACHE/vmlinux-$KVER"
if [ ! -s "$KERNEL" ]; then
	# The bzImage carries an xz stream: its magic is FD 37 7A 58 5A 00.
	off=$(grep -abo $'\xfd7zXZ\x00' "/boot/vmlinuz-$KVER" | head -1 | cut -d: -f1)
	[ -n "$off" ] || die "/boot/vmlinuz-$KVER has no xz payload"
	tail -c +$((off + 1)) "/boot/vmlinuz-$KVER" | xz -dc --single-stream >"$KERNEL.tmp" 2>/dev/null || true
	[ -s "$KERNEL.tmp" ] || die "could not extract vmlinux from /boot/vmlinuz-$KVER"
	mv "$KERNEL.tmp" "$KERNEL"
	log "extracted $KERNEL"
fi

# ------------------------------------------------------------------ helpers
ROOT=
copy_file() { # the file (symlinks followed) at the same path under $ROOT
	local dst="$ROOT$1"
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp -L "$1" "$dst"
}
libs_of() { # shared libraries ldd resolves for an ELF file
	ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]+ \(/{print $1}'
}
copy_elf() {
	local lib
	copy_file "$1"
	for lib in $(libs_of "$1"); do copy_file "$lib"; done
}
pack() { # pack DIR OUT: newc cpio, root-owned, sorted (reproducible)
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2.tmp"
	mv "$2.tmp" "$2"
}

# ------------------------------------------------------------------ base
BINS=(/bin/bash /bin/ip /usr/sbin/nft /usr/bin/dumpcap /usr/bin/iperf3
	/usr/lib/ipsec/charon /usr/sbin/swanctl /usr/bin/busybox)
PLUGINS="random nonce aes sha1 sha2 hmac kdf gmp gcm openssl socket-default kernel-netlink
kernel-libipsec vici x509 pem pkcs1 pkcs8 pubkey constraints"
pkgs="busybox-static bash iproute2 nftables wireshark-common iperf3 libiperf0 strongswan-charon
strongswan-swanctl libstrongswan libstrongswan-standard-plugins libcharon-extra-plugins libgcc-s1
linux-image-$KVER"
for b in "${BINS[@]}"; do [ -x "$b" ] || die "missing $b (see .ci/packages.txt)"; done
key=$({
	cat "$0" "$HERE/modules.list"
	echo "$KVER $PLUGINS"
	dpkg-query -W -f '${Package} ${Version}\n' $pkgs 2>&1
} | sha256sum | cut -c1-16)
BASE="$CACHE/base-$key.cpio"
if [ ! -s "$BASE" ]; then
	ROOT=$(mktemp -d /tmp/qvpn-vm-base.XXXXXX)
	trap 'rm -rf "$ROOT"' EXIT
	mkdir -p "$ROOT"/{usr/bin,usr/sbin,usr/lib,usr/lib64,proc,sys,dev,run,tmp,out,etc,root,var,bb}
	# Debian's merged /usr, so ldd's paths copy as they are
	ln -s usr/bin "$ROOT/bin"
	ln -s usr/sbin "$ROOT/sbin"
	ln -s usr/lib "$ROOT/lib"
	ln -s usr/lib64 "$ROOT/lib64"
	ln -s ../run "$ROOT/var/run"
	for b in "${BINS[@]}"; do copy_elf "$b"; done
	for p in $PLUGINS; do copy_elf "/usr/lib/ipsec/plugins/libstrongswan-$p.so"; done
	# glibc loads libgcc_s for pthread_cancel at run time; ldd cannot see that.
	gcc_s=$(ldconfig -p | awk '$1 == "libgcc_s.so.1" && /x86-64/ {print $NF; exit}')
	[ -n "$gcc_s" ] || die "libgcc_s.so.1 not found"
	copy_file "$gcc_s"
	ln -sf ../bin/ip "$ROOT/usr/sbin/ip"
	# OpenSSL's legacy provider (single DES) for the userspace data path
	for m in /usr/lib/x86_64-linux-gnu/ossl-modules/*.so; do [ -f "$m" ] && copy_file "$m"; done
	# modules, dependencies first, once each
	mkdir -p "$ROOT/etc/qvpn-vm"
	: >"$ROOT/etc/qvpn-vm/modules"
	grep -v '^[[:space:]]*#' "$HERE/modules.list" | grep -v '^[[:space:]]*$' | while read -r m; do
		modprobe -S "$KVER" --show-depends "$m" 2>/dev/null || log "module $m not found"
	done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r ko; do
		copy_file "$ko"
		echo "$ko" >>"$ROOT/etc/qvpn-vm/modules"
	done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -f "/lib/modules/$KVER/$f" ] && cp "/lib/modules/$KVER/$f" "$ROOT/lib/modules/$KVER/"
	done
	depmod -b "$ROOT" "$KVER" 2>/dev/null || true
	echo "root:x:0:0:root:/root:/bin/bash" >"$ROOT/etc/passwd"
	echo "root:x:0:" >"$ROOT/etc/group"
	pack "$ROOT" "$BASE"
	log "built $BASE ($(( $(stat -c %s "$BASE") / 1024 )) KiB, $(wc -l <"$ROOT/etc/qvpn-vm/modules") modules)"
	rm -rf "$ROOT"
	trap - EXIT
fi

# ------------------------------------------------------------------ qvpn layer
QVPN_LAYER=
if [ -n "${QVPN_BUILD_DIR:-}" ]; then
	files=()
	for d in "$QVPN_BUILD_DIR/bin" "$QVPN_BUILD_DIR/libexec/qvpn"; do
		[ -d "$d" ] || continue
		while IFS= read -r f; do files+=("$f"); done < <(find "$d" -maxdepth 1 -type f -perm -u+x | LC_ALL=C sort)
	done
	[ -f "$QVPN_BUILD_DIR/share/qvpn/qvpn.msgf" ] && files+=("$QVPN_BUILD_DIR/share/qvpn/qvpn.msgf")
	key=$( { echo "$0"; sha256sum "$0"; [ ${#files[@]} -gt 0 ] && sha256sum "${files[@]}"; } |
		sed "s|$QVPN_BUILD_DIR||" | sha256sum | cut -c1-16)
	QVPN_LAYER="$CACHE/qvpn-$key.cpio"
	if [ ! -s "$QVPN_LAYER" ]; then
		ROOT=$(mktemp -d /tmp/qvpn-vm-layer.XXXXXX)
		trap 'rm -rf "$ROOT"' EXIT
		# The same merged-/usr symlinks as the base: the kernel's unpacker
		# replaces an entry of another type, so a real lib/ directory here
		# would delete the base's lib -> usr/lib link.
		mkdir -p "$ROOT"/{usr/bin,usr/sbin,usr/lib,usr/lib64}
		for l in bin sbin lib lib64; do ln -s "usr/$l" "$ROOT/$l"; done
		for f in "${files[@]}"; do
			rel=${f#"$QVPN_BUILD_DIR"/}
			mkdir -p "$ROOT/qvpn/$(dirname "$rel")"
			if [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
				strip --strip-debug -o "$ROOT/qvpn/$rel" "$f" 2>/dev/null || cp "$f" "$ROOT/qvpn/$rel"
				for lib in $(libs_of "$f"); do copy_file "$lib"; done
			else
				cp "$f" "$ROOT/qvpn/$rel"
			fi
		done
		pack "$ROOT" "$QVPN_LAYER"
		log "built $QVPN_LAYER (${#files[@]} files, $(( $(stat -c %s "$QVPN_LAYER") / 1024 )) KiB)"
		rm -rf "$ROOT"
		trap - EXIT
	fi
fi

# Old layers of earlier builds pile up: keep the newest few.
ls -1t "$CACHE"/qvpn-*.cpio 2>/dev/null | tail -n +6 | xargs -r rm -f

echo "KERNEL=$KERNEL"
echo "BASE=$BASE"
echo "QVPN_LAYER=$QVPN_LAYER"
