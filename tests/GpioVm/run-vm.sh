#!/usr/bin/env bash
# Boots a throw-away Linux VM with a simulated GPIO chip and runs the GpioVm probe in it, so the GPIO character
# device code (GpioCharDevicePinSource) is exercised by a real kernel: line request with pull-up, reading, busy
# lines, missing lines and chips, and the button server over it.
#
#   tests/GpioVm/run-vm.sh [path/to/GpioVm.dll]     (default: builds tests/GpioVm and uses its Debug output)
#   tests/GpioVm/run-vm.sh --check                  only checks the prerequisites: exit 0, or 3 with "MISSING: ..."
#
# Needs the Debian packages linux-image-amd64, qemu-system-x86 and busybox-static (.ci/apt-packages.txt), plus
# linux-headers-amd64, linux-source and gcc/make when the kernel does not ship the gpio-sim module (Debian 12's
# does not: the script then builds gpio-sim, with the kernel's irq_sim helper linked in, from the kernel's own
# source against its headers; the result is cached per kernel in $GPIOVM_CACHE, default /tmp/deviceshell-gpiovm).
#
# The VM: the Debian kernel, an initramfs of busybox + the needed modules, and the host's root file system shared
# READ-ONLY over 9p (virtio); init loads the modules, creates the gpio-sim chip "deviceshell" with 8 lines through
# configfs, chroots into the host tree (fresh proc/sys/dev/tmp mounted over it) and runs the probe with the host's
# dotnet. KVM is used when it boots the VM, TCG otherwise (about 10 s either way here). Output: the VM's console,
# with the probe's "RESULT <check> <observed>" lines, on stdout (progress on stderr); the VM powers off when the
# probe ends; each boot is bounded by $GPIOVM_TIMEOUT_SEC (default 90) seconds, a KVM boot that does not reach
# init by $GPIOVM_KVM_BOOT_SEC (default 10). Exit codes: 0 the probe ran, 3 a prerequisite is missing (message on
# stderr starting "MISSING:"), other values a failure. Temporary files go to a mktemp directory removed on exit.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
timeout_sec=${GPIOVM_TIMEOUT_SEC:-90}
cache=${GPIOVM_CACHE:-/tmp/deviceshell-gpiovm}

missing() { echo "MISSING: $*" >&2; exit 3; }

command -v qemu-system-x86_64 >/dev/null || missing "qemu-system-x86_64 (apt-get install qemu-system-x86)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && [[ $(ldd "$busybox" 2>&1 || true) == *"not a dynamic"* ]] || missing "a static busybox (apt-get install busybox-static)"
command -v dotnet >/dev/null || missing "dotnet"
kernel_image=$(ls -1v /boot/vmlinuz-*-amd64 2>/dev/null | tail -n 1 || true)
[ -n "$kernel_image" ] || missing "a Debian kernel in /boot (apt-get install linux-image-amd64)"
[ -r "$kernel_image" ] || missing "read access to $kernel_image"
kernel=${kernel_image#/boot/vmlinuz-}
[ -d "/lib/modules/$kernel" ] || missing "the modules of kernel $kernel in /lib/modules"
if ! modinfo -k "$kernel" -F filename gpio-sim >/dev/null 2>&1 && [ ! -f "$cache/$kernel/gpio-sim.ko" ]; then
  [ -d "/lib/modules/$kernel/build" ] || missing "gpio-sim is not in kernel $kernel and its headers are absent to build it (apt-get install linux-headers-$kernel)"
  ls /usr/src/linux-source-*.tar.xz >/dev/null 2>&1 || missing "gpio-sim is not in kernel $kernel and no kernel source to build it (apt-get install linux-source)"
  command -v make >/dev/null && command -v gcc >/dev/null || missing "make and gcc to build gpio-sim"
fi
[ "${1:-}" = "--check" ] && exit 0

probe=${1:-}
if [ -z "$probe" ]; then
  dotnet build "$repo/tests/GpioVm" -nologo -v q >&2
  probe="$repo/tests/GpioVm/bin/Debug/net10.0/GpioVm.dll"
fi
probe=$(readlink -f "$probe")
[ -f "$probe" ] || missing "the probe $probe (dotnet build tests/GpioVm)"

work=$(mktemp -d "${TMPDIR:-/tmp}/deviceshell-gpiovm.XXXXXX")
trap 'rm -rf "$work"' EXIT

# gpio-sim: the kernel's own module, or one built once from the kernel's source.
gpio_sim=$(modinfo -k "$kernel" -F filename gpio-sim 2>/dev/null || true)
if [ -z "$gpio_sim" ]; then
  gpio_sim="$cache/$kernel/gpio-sim.ko"
  if [ ! -f "$gpio_sim" ]; then
    headers="/lib/modules/$kernel/build"
    source_tar=$(ls -1v /usr/src/linux-source-*.tar.xz | tail -n 1)
    top=$(basename "$source_tar" .tar.xz)
    build="$work/gpio-sim-build"
    mkdir -p "$build"
    tar -xJf "$source_tar" -C "$build" --strip-components=3 "$top/drivers/gpio/gpio-sim.c" "$top/drivers/gpio/gpiolib.h"
    tar -xJf "$source_tar" -C "$build" --strip-components=3 "$top/kernel/irq/irq_sim.c"
    # Debian does not build the irq_sim helper gpio-sim needs, so it is linked into the module; irq_to_desc is not
    # exported to modules, generic_handle_irq runs the same handle_simple_irq the domain installs.
    sed -i 's/handle_simple_irq(irq_to_desc(irqnum))/generic_handle_irq(irqnum)/' "$build/irq_sim.c"
    mv "$build/gpio-sim.c" "$build/gpio-sim-main.c"
    printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' > "$build/Kbuild"
    make -s -C "$headers" M="$build" modules >&2 2>"$work/gpio-sim-build.log" || { cat "$work/gpio-sim-build.log" >&2; exit 1; }
    mkdir -p "$cache/$kernel"
    cp "$build/gpio-sim.ko" "$gpio_sim.tmp" && mv "$gpio_sim.tmp" "$gpio_sim"
  fi
fi

# The initramfs: busybox, the modules in dependency order, and init.
root="$work/initramfs"
mkdir -p "$root"/{bin,dev,proc,sys,host,modules}
cp "$busybox" "$root/bin/busybox"
declare -A loaded=()
: > "$root/modules/order"
add_module() { # $1: module name or .ko path; its dependencies first
  local name file dep
  if [ -f "$1" ]; then file=$1; else file=$(modinfo -k "$kernel" -F filename "$1"); fi
  name=$(basename "$file"); name=${name%%.ko*}
  [ -z "${loaded[$name]:-}" ] || return 0
  loaded[$name]=1
  for dep in $(modinfo -F depends "$file" | tr ',' ' '); do add_module "$dep"; done
  case "$file" in
    *.ko.xz) xz -dc "$file" > "$root/modules/$name.ko" ;;
    *.ko.zst) zstd -qdc "$file" > "$root/modules/$name.ko" ;;
    *) cp "$file" "$root/modules/$name.ko" ;;
  esac
  echo "$name" >> "$root/modules/order"
}
for module in virtio_pci 9pnet_virtio 9p configfs "$gpio_sim"; do
  # Built-in ones (modinfo finds no file) need no loading.
  if [ -f "$module" ] || modinfo -k "$kernel" -F filename "$module" 2>/dev/null | grep -q '\.ko'; then add_module "$module"; fi
done

cat > "$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
echo "GPIOVM init"
mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t devtmpfs devtmpfs /dev
for module in \$(cat /modules/order); do insmod /modules/\$module.ko || echo "GPIOVM insmod \$module failed"; done
grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs configfs /sys/kernel/config
chip=/sys/kernel/config/gpio-sim/deviceshell
mkdir \$chip \$chip/bank0 && echo 8 > \$chip/bank0/num_lines && echo 1 > \$chip/live || echo "GPIOVM gpio-sim chip not created"
chip_name=\$(cat \$chip/bank0/chip_name) && dev_name=\$(cat \$chip/dev_name)
echo "GPIOVM chip /dev/\$chip_name (\$dev_name)"
ip link set lo up
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose host /host || echo "GPIOVM 9p mount failed"
mount -t proc proc /host/proc && mount -t sysfs sysfs /host/sys && mount -t devtmpfs devtmpfs /host/dev && mount -t tmpfs tmpfs /host/tmp
# The probe's folder comes as a share of its own: the repository may live under /tmp, which the tmpfs above hides.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose probe /host/mnt || echo "GPIOVM probe share mount failed"
chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp \
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_EnableDiagnostics=0 DOTNET_GCHeapHardLimit=0x20000000 DOTNET_TieredPGO=0 DOTNET_TC_QuickJitForLoops=1 \
  dotnet "/mnt/$(basename "$probe")" /dev/\$chip_name /sys/devices/platform/\$dev_name/\$chip_name
echo "GPIOVM probe exit \$?"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$work/initramfs.cpio"

# KVM when it works; where /dev/kvm exists but the guest never gets going (seen under nested virtualisation: the
# kernel hangs right after the real-mode setup), init's first line does not come within $kvm_boot_sec and the
# VM is run again with TCG. GPIOVM_ACCEL=kvm|tcg forces one.
kvm_boot_sec=${GPIOVM_KVM_BOOT_SEC:-10}
accelerators="tcg"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then accelerators="kvm tcg"; fi
[ -z "${GPIOVM_ACCEL:-}" ] || accelerators=$GPIOVM_ACCEL
console="$work/console.log"
for accel in $accelerators; do
  cpu=max
  [ "$accel" != kvm ] || cpu=host,-arch-capabilities  # qemu 7.2 cannot set that MSR on some hosts and aborts
  echo "GPIOVM kernel $kernel, accel $accel" >&2
  : > "$console"
  # -no-reboot turns a guest panic into qemu's exit; timeout bounds everything else.
  timeout --kill-after=5 "$timeout_sec" qemu-system-x86_64 \
    -machine "q35,accel=$accel" -cpu "$cpu" -smp 2 -m 1024 -nodefaults -no-user-config -display none -no-reboot \
    -serial "file:$console" -kernel "$kernel_image" -initrd "$work/initramfs.cpio" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
    -virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$(dirname "$probe"),mount_tag=probe,security_model=none,readonly=on" \
    < /dev/null >&2 &
  qemu=$!
  if [ "$accel" = kvm ] && [ "$accelerators" != kvm ]; then
    for _ in $(seq $((kvm_boot_sec * 10))); do
      grep -q '^GPIOVM init' "$console" && break
      kill -0 "$qemu" 2>/dev/null || break
      sleep 0.1
    done
    if ! grep -q '^GPIOVM init' "$console"; then
      echo "GPIOVM KVM did not boot the VM within ${kvm_boot_sec}s; trying the next accelerator" >&2
      kill "$qemu" 2>/dev/null || true
      wait "$qemu" || true
      continue
    fi
  fi
  status=0
  wait "$qemu" || status=$?
  tr -d '\r' < "$console"
  exit "$status"
done
exit 1
