#!/bin/bash
# ctest wrapper: boot the VM and run guest/sa_userspace_interop.sh (see run-vm.sh).
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/run-vm.sh" --name sa_userspace_interop --timeout 1440 "$here/guest/sa_userspace_interop.sh"
