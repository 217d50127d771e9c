#!/bin/bash
# ctest wrapper: boot the VM and run guest/smoke.sh (see run-vm.sh).
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/run-vm.sh" --name smoke --timeout 840 "$here/guest/smoke.sh"
