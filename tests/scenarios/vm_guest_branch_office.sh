#!/bin/bash
# VM guest (run by branch_office_vpn_vm.sh through tests/vm/run-vm.sh): the
# seed's branch office scenario (branch_office_vpn.sh, copied in as
# files/scenarios) on Debian's stock kernel, where QVPNDTAPTH(*AUTO) chooses
# the kernel's XFRM data path: raw ESP on the wire. The capture and
# the SPIs DSPVPNCNN showed go to $QV_OUT/wire for the host to check (the
# image has no tshark).
. /qvpn-test/lib/qvtest.sh
trap qv_finish EXIT
export QVPN_SOURCE_DIR=/qvpn-test/files QV_WIRE_OUT=${QV_OUT:-$QV_WORK}/wire
mkdir -p "$QV_WIRE_OUT"
qv_check scenario bash /qvpn-test/files/scenarios/branch_office_vpn.sh
cp "$QV_WORK/check-scenario.out" "${QV_OUT:-$QV_WORK}/scenario.log" 2>/dev/null
qv_check kernel-data-path grep -q 'PASS: branch office (\*KERNEL data path)' "$QV_WORK/check-scenario.out"
qv_done
