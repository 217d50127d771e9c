#!/bin/bash
# ctest wrapper: boot the VM and run guest/sa_kernel_backend.sh (see run-vm.sh).
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/run-vm.sh" --name sa_kernel_backend --timeout 840 "$here/guest/sa_kernel_backend.sh"
