#!/bin/bash
# Guest smoke test of the VM infrastructure itself: the modules, the qvpn
# build tree and the kernel's ESP are there.
. /qvpn-test/lib/qvtest.sh
trap qv_finish EXIT
qv_check modules-loaded grep -q esp4 /proc/modules
qv_check tun-device test -c /dev/net/tun
qv_check qvpn-tree test -x "$QVPN_BUILD_DIR/libexec/qvpn/qvpn-espctl"
qv_check kernel-esp "$QVPN_BUILD_DIR/libexec/qvpn/qvpn-espctl" probe
qv_done
