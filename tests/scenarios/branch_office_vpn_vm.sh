#!/bin/bash
# The branch office scenario in the VM of tests/vm (Debian's stock kernel,
# so the kernel XFRM data path; guest script vm_guest_branch_office.sh),
# then the captures it left at both ends of the Internet link, checked here
# with tshark: raw ESP only, nothing in clear between the subnets, the SPIs
# on the wire equal to DSPVPNCNN's.
here=$(cd "$(dirname "$0")" && pwd)
export QV_VM_WORK=${QV_VM_WORK:-$(mktemp -d /tmp/qv-in-vm-branch.XXXXXX)}
bash "$here/../vm/run-vm.sh" --name branch_office_vpn --timeout 480 \
	"$here/vm_guest_branch_office.sh" "$here"
rc=$?
[ $rc = 0 ] || exit $rc
wire=$QV_VM_WORK/out/wire
command -v tshark >/dev/null || { echo "SKIP: no tshark to read $wire"; [ "${CI:-}" = true ] && exit 1; exit 77; }
read -r a_in a_out <"$wire/spis" || { echo "FAIL: the guest left no SPIs"; exit 1; }
# Each end's capture, read in the direction that end sends: the kernel
# re-injects what it decapsulated on the device it came in on, so a capture
# also shows the inner packets it received.
a=$wire/wire.pcapng c=$wire/wire-c.pcapng
n() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
AC='ip.src == 10.6.0.0/16 && ip.dst == 10.196.8.0/24'
CA='ip.src == 10.196.8.0/24 && ip.dst == 10.6.0.0/16'
esp_a=$(n "$a" 'esp && !udp && ip.src == 192.0.2.227')
esp_c=$(n "$c" 'esp && !udp && ip.src == 198.51.100.250')
encap=$(($(n "$a" 'udp.port == 4500') + $(n "$c" 'udp.port == 4500')))
clear=$(($(n "$a" "$AC") + $(n "$c" "$CA")))
icmp=$(($(n "$a" "icmp && !esp && !($CA)") + $(n "$c" "icmp && !esp && !($AC)")))
spis() { tshark -r "$1" -Y "esp && ip.src == $2" -T fields -e esp.spi 2>/dev/null | sed 's/^0x//' | sort -u | tr '\n' ' '; }
out=$(spis "$a" 192.0.2.227) in=$(spis "$c" 198.51.100.250)
echo "VM wire: raw ESP $esp_a from A, $esp_c from C; $encap UDP 4500; $clear subnet packets and $icmp ICMP in clear;" \
	"SPIs from A [$out] from C [$in]; DSPVPNCNN in $a_in out $a_out"
fails=0
[ "$esp_a" -ge 6 ] && [ "$esp_c" -ge 6 ] || { echo "FAIL: too few raw ESP packets"; fails=1; }
[ "$encap" = 0 ] || { echo "FAIL: UDP-encapsulated packets without a NAT"; fails=1; }
[ "$clear" = 0 ] || { echo "FAIL: subnet traffic in clear"; fails=1; }
[ "$icmp" = 0 ] || { echo "FAIL: ICMP in clear"; fails=1; }
[ "$out" = "$a_out " ] && [ "$in" = "$a_in " ] || { echo "FAIL: SPIs on the wire differ from DSPVPNCNN's"; fails=1; }
[ $fails = 0 ] && echo "PASS: branch office on the kernel data path (VM)"
exit $fails
