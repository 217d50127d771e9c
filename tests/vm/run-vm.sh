#!/bin/bash
# tests/vm/run-vm.sh -- run one guest test script in a QEMU VM with Debian's
# stock kernel, and return its verdict.
#
#   run-vm.sh [--name N] [--timeout S] [--mem MiB] [--env K=V]... GUEST.sh [FILE]...
#
# The guest script runs as root in the VM (bash, with tests/vm/lib/*.sh in
# /qvpn-test/lib and the extra FILEs in /qvpn-test/files). It sources
# /qvpn-test/lib/qvtest.sh, reports checks with qv_check and ends with
# qv_finish (which prints "QV:RESULT rc=<n>"). The qvpn build tree's bin/ and
# libexec/qvpn/ are on its PATH and under $QVPN_BUILD_DIR (= /qvpn).
#
# Exit status: the guest's rc (0 pass, 1 fail); 77 when this machine cannot
# run the VM (no qemu or no kernel image) -- under CI=true that is 1.
# Artifacts: $QV_VM_WORK (default /tmp/qvpn-vm-<name>.XXXXXX): console.log
# (every console line with the host time since qemu started), out/ (what
# the guest wrote to $QV_OUT), qemu.cmd.
#
# The accelerator is TCG: the nested "KVM" on this CI machine type is PVM,
# which cannot run a stock kernel (see shared/harness/FINDINGS.md); set
# QV_VM_ACCEL=kvm where real KVM (kvm_intel/kvm_amd) is loaded.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
name=vm timeout=480 mem=1024
envs=()
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--) shift; break ;;
	-*) echo "run-vm.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: run-vm.sh [options] GUEST.sh [FILE]..." >&2; exit 2; }
guest=$1
shift
skip() {
	echo "SKIP: $*" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (9p share, image build)"
for c in qemu-system-x86_64 cpio xz modprobe depmod ldd strip flock; do
	command -v "$c" >/dev/null || skip "missing $c"
done
ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no kernel image in /boot (package linux-image-amd64)"

WORK=${QV_VM_WORK:-$(mktemp -d "/tmp/qvpn-vm-$name.XXXXXX")}
mkdir -p "$WORK/out" "$WORK/stage/qvpn-test/lib" "$WORK/stage/qvpn-test/files"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$WORK/stage" "$WORK/initrd.img" "$WORK/run.cpio" "$WORK/console.fifo"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$EPOCHREALTIME
images=$("$HERE/build-image.sh") || { echo "FAIL: image build" >&2; exit 1; }
eval "$images"
build_ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))

# The per-run layer: init, the test, its helpers and files, settings.
st="$WORK/stage"
cp "$HERE/init" "$st/init"
cp "$guest" "$st/qvpn-test/guest.sh"
cp "$HERE"/lib/*.sh "$st/qvpn-test/lib/"
for f in "$@"; do cp -r "$f" "$st/qvpn-test/files/"; done
{
	echo "export QVPN_BUILD_DIR=/qvpn"
	echo "export QVPN_SOURCE_DIR=/qvpn-test"
	for e in "${envs[@]}"; do printf 'export %q\n' "$e"; done
} >"$st/qvpn-test/env"
chmod 755 "$st/init" "$st/qvpn-test/guest.sh"
(cd "$st" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$WORK/run.cpio"
# Concatenated archives unpack in order; later files win.
cat "$BASE" ${QVPN_LAYER:+"$QVPN_LAYER"} "$WORK/run.cpio" >"$WORK/initrd.img"

accel=${QV_VM_ACCEL:-tcg}
case $accel in
kvm) accel_opts=(-accel kvm -cpu host) ;;
*) accel_opts=(-accel tcg,thread=multi -cpu max) ;;
esac
qemu=(qemu-system-x86_64 "${accel_opts[@]}" -machine pc -smp 2 -m "$mem"
	-nographic -nodefaults -no-user-config -serial mon:stdio -no-reboot
	-kernel "$KERNEL" -initrd "$WORK/initrd.img"
	-append "console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off"
	-virtfs "local,path=$WORK/out,mount_tag=qvout,security_model=none,id=qvout")
printf '%q ' "${qemu[@]}" >"$WORK/qemu.cmd"
echo >>"$WORK/qemu.cmd"

mkfifo "$WORK/console.fifo"
tq=$EPOCHREALTIME
(
	while IFS= read -r line; do
		line=${line%$'\r'}
		ms=$(( (${EPOCHREALTIME/./} - ${tq/./}) / 1000 ))
		printf '%d.%03d %s\n' $((ms / 1000)) $((ms % 1000)) "$line"
		case $line in QV:*) printf '[vm %3d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$line" >&2 ;; esac
	done <"$WORK/console.fifo" >"$WORK/console.log"
) &
pids+=($!)
timeout -k 5 "$timeout" "${qemu[@]}" </dev/null >"$WORK/console.fifo" 2>&1 &
qpid=$!
pids+=($qpid)
wait "$qpid"
qrc=$?
wait "${pids[0]}" 2>/dev/null
ms=$(( (${EPOCHREALTIME/./} - ${tq/./}) / 1000 ))
[ $qrc = 124 ] && echo "FAIL: the VM was killed after ${timeout}s" >&2

rc=$(awk '$2 == "QV:RESULT" { for (i = 3; i <= NF; i++) if ($i ~ /^rc=/) { print substr($i, 4); exit } }' "$WORK/console.log")
checks=$(grep -c '^[0-9.]* QV:CHECK [^ ]* ok' "$WORK/console.log")
failed=$(grep '^[0-9.]* QV:CHECK [^ ]* FAIL' "$WORK/console.log" | awk '{print $3}' | tr '\n' ' ')
echo "VM $name: image ${build_ms} ms, qemu ${ms} ms (rc $qrc), checks ok=$checks failed=[${failed% }]"
echo "VM $name: artifacts in $WORK"
if [ -z "$rc" ]; then
	echo "FAIL: no QV:RESULT from the guest; last console lines:" >&2
	tail -20 "$WORK/console.log" >&2
	exit 1
fi
[ "$rc" = 0 ] && exit 0
grep -E 'QV:CHECK [^ ]* FAIL' "$WORK/console.log" >&2
exit 1
