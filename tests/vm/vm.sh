#!/bin/bash
# vm.sh - runs a command inside a QEMU guest booted on Debian's own kernel,
# with a cgroup layout this host does not have.
#
#   tests/vm/vm.sh [--layout v2|v1] [--build DIR] [--timeout SECONDS]
#                  [--mem MIB] [--cpus N] -- COMMAND [ARG...]
#   tests/vm/vm.sh [--build DIR] --print-accel    (prints kvm or tcg)
#
# COMMAND runs as root in DIR (default: ./build), the build tree of the
# host, with the host's own binaries: the guest's root is the host's file
# system shared read-only over virtiofs, under a tmpfs overlay for writes
# (tests/vm/init, tests/vm/guest.sh).  The exit status is COMMAND's; the
# guest's console is copied to stdout.  Status 77 means the guest could not
# run here (the reason is printed), which ctest counts as skipped.
#
# What it prepares, once, under DIR/vm/ (nothing is installed on the host
# but the Debian packages of contrib/deps.sh vm):
#   kernel/    linux-image-*-cloud-amd64 unpacked with dpkg -x, and its
#              module index made by depmod;
#   initramfs  busybox-static, tests/vm/init and the modules the guest
#              needs for its root (virtio-pci, virtiofs, overlay) and
#              for a scratch disk (virtio-blk: a sparse 64 MiB file of the
#              run, serial "pvscratch", for tests that count block I/O);
#   LAYOUT/    per run: the console log, and share/, mounted read-write in
#              the guest at the same path, where the command's output
#              (share/log) and exit code (share/rc) land.
# The guest has no network device at all: its only traffic is its own
# loopback and the namespaces its tests make.
#
# Layouts: v2 boots with cgroup_no_v1=all (the unified hierarchy only, as on
# Debian 12+, Fedora, RHEL 9); v1 boots a legacy layout with no cgroup2
# mounted.  KVM is used when /dev/kvm works, TCG otherwise (much slower).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
layout=v2 build=build timeout=900 mem=6144 cpus=$(nproc) print_accel=0
while [ $# -gt 0 ]; do
  case $1 in
    --layout) layout=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --print-accel) print_accel=1; shift ;;
    --) shift; break ;;
    *) echo "vm.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || [ $print_accel = 1 ] || { echo "vm.sh: no command given" >&2; exit 2; }
case $layout in v1|v2) ;; *) echo "vm.sh: --layout is v1 or v2, not '$layout'" >&2; exit 2 ;; esac

skip() {
  echo "vm.sh: SKIPPED: $*"
  exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (virtiofsd shares the host's file system)"
qemu=$(command -v qemu-system-x86_64 || true)
virtiofsd=/usr/lib/qemu/virtiofsd
[ -n "$qemu" ] && [ -x "$virtiofsd" ] || skip "qemu-system-x86 is not installed (contrib/deps.sh vm)"
for t in busybox cpio depmod modprobe apt-get dpkg; do
  command -v "$t" >/dev/null || skip "$t is missing (contrib/deps.sh vm)"
done
[ "$(uname -m)" = x86_64 ] || skip "the guest kernel is Debian's amd64 one, this host is $(uname -m)"
build=$(cd "$build" && pwd)
vmdir=$build/vm
mkdir -p "$vmdir"

# ---- the kernel, from Debian's package ----
# linux-image-cloud-amd64 is a metapackage; the kernel is in the package
# it depends on.  Unpacked, never installed.
prepare_kernel() {
  local kdir=$vmdir/kernel pkg
  if [ -f "$kdir/ok" ]; then
    return 0
  fi
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
  if [ -z "$pkg" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
  fi
  [ -n "$pkg" ] || skip "no linux-image-cloud-amd64 package in the apt sources"
  rm -rf "$kdir" && mkdir -p "$kdir/dl"
  if ! (cd "$kdir/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$kdir/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1) ||
      skip "could not download $pkg"
  fi
  dpkg -x "$kdir"/dl/*.deb "$kdir/root"
  rm -rf "$kdir/dl"
  local ver
  ver=$(basename "$(ls -d "$kdir"/root/lib/modules/*)")
  depmod -b "$kdir/root" "$ver"
  echo "$ver" >"$kdir/version"
  touch "$kdir/ok"
  echo "vm.sh: unpacked $pkg ($ver) into $kdir" >&2
}

# ---- the initramfs ----
prepare_initramfs() {
  local kdir=$vmdir/kernel ver stage
  ver=$(cat "$kdir/version")
  if [ -f "$vmdir/initramfs" ] && [ "$vmdir/initramfs" -nt "$here/init" ] && [ "$vmdir/initramfs" -nt "$0" ]; then
    return 0
  fi
  stage=$vmdir/initramfs.d
  rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/modules"
  cp "$(command -v busybox)" "$stage/bin/busybox"
  file -L "$stage/bin/busybox" 2>/dev/null | grep -q 'statically linked' ||
    ldd "$stage/bin/busybox" 2>&1 | grep -q 'not a dynamic' || skip "busybox is not static (busybox-static)"
  install -m 0755 "$here/init" "$stage/init"
  : >"$stage/modules.order"
  local m path
  # modprobe prints the modules in load order, dependencies first.
  for m in $(for want in virtio_pci virtiofs overlay virtio_blk; do
    modprobe -d "$kdir/root" -S "$ver" --show-depends "$want"
  done | awk '$1 == "insmod" {print $2}'); do
    path=$kdir/root/${m#"$kdir/root"}
    [ -f "$path" ] || path=$m
    case $path in
      *.ko.xz) xz -dc "$path" >"$stage/modules/$(basename "${path%.xz}")" ;;
      *.ko.zst) zstd -qdc "$path" >"$stage/modules/$(basename "${path%.zst}")" ;;
      *) cp "$path" "$stage/modules/" ;;
    esac
    m=$(basename "$path")
    m=${m%.xz}
    m=${m%.zst}
    grep -qx "$m" "$stage/modules.order" || echo "$m" >>"$stage/modules.order"
  done
  (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$vmdir/initramfs.tmp"
  mv "$vmdir/initramfs.tmp" "$vmdir/initramfs"
  rm -rf "$stage"
}

prepare_kernel
prepare_initramfs
kdir=$vmdir/kernel
ver=$(cat "$kdir/version")

# KVM when it works, TCG otherwise.  "Works" is measured, not assumed:
# /dev/kvm can be there and still be unusable (nested under a hypervisor
# that gives it no hardware paging, a boot takes minutes), so a bare boot
# of the guest kernel, which panics for want of a root and exits at once,
# must finish in a few seconds; the answer is kept for the next run.
# Under nested KVM the host CPU model offers IA32_ARCH_CAPABILITIES, which
# the outer hypervisor then refuses to set ("failed to set MSR 0x10a"):
# the guest does without it.
kvm_cpu=host,-arch-capabilities
probe_accel() {
  if [ -f "$vmdir/accel" ]; then
    cat "$vmdir/accel"
    return
  fi
  local a=tcg t0
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    t0=$(date +%s%N)
    if timeout 8 "$qemu" -machine q35,accel=kvm -cpu $kvm_cpu -m 256 -nodefaults -no-user-config \
      -display none -serial none -net none -no-reboot -kernel "$kdir/root/boot/vmlinuz-$ver" \
      -append "panic=-1 loglevel=0" </dev/null >/dev/null 2>&1; then
      a=kvm
    fi
    echo "vm.sh: KVM probe: $a after $((($(date +%s%N) - t0) / 1000000)) ms" >&2
  fi
  echo "$a" | tee "$vmdir/accel"
}
accel=$(probe_accel)
if [ "$accel" = kvm ]; then
  machine=q35,accel=kvm cpu=$kvm_cpu
else
  # Multi-threaded TCG: one host thread per guest CPU.
  machine=q35 cpu=max
  tcg_args=(-accel tcg,thread=multi,tb-size=512)
fi
[ $print_accel = 1 ] && { echo "$accel"; exit 0; }

# ---- one run ----
run=$vmdir/$layout
share=$run/share
rm -rf "$run" && mkdir -p "$share"
{
  echo "cd $(printf %q "$build") || exit 125"
  printf 'exec'
  printf ' %q' "$@"
  echo
} >"$share/cmd.sh"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run/ro" "$run/scratch.img"
}
trap cleanup EXIT

# The host's root file system, shared read-only: virtiofsd runs in a mount
# namespace of its own where a read-only bind mount of / is its source, so
# nothing in the guest can write to the host, whatever it mounts.  (A
# non-recursive bind: /proc, /sys and /dev of the host are not shared; the
# guest mounts its own.)  virtiofsd raises RLIMIT_NOFILE to a million by
# default, which this host's hard limit refuses: keep the current one.
mkdir -p "$run/ro"
unshare -m --propagation private sh -c '
  mount --bind / "$1" && mount -o remount,bind,ro "$1" && shift &&
  exec "$@"' sh "$run/ro" \
  "$virtiofsd" --socket-path="$run/root.sock" -o source="$run/ro" -o cache=auto \
  --rlimit-nofile=0 -o log_level=err >"$run/virtiofsd-root.log" 2>&1 &
pids+=($!)
"$virtiofsd" --socket-path="$run/out.sock" -o source="$share" -o cache=none \
  --rlimit-nofile=0 -o log_level=err >"$run/virtiofsd-out.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ -S "$run/root.sock" ] && [ -S "$run/out.sock" ] && break
  sleep 0.05
done
[ -S "$run/root.sock" ] && [ -S "$run/out.sock" ] || {
  cat "$run"/virtiofsd-*.log >&2
  skip "virtiofsd did not start"
}

rm -f "$run/scratch.img" && truncate -s 64M "$run/scratch.img"
append="console=ttyS0 loglevel=${PODVISOR_VM_LOGLEVEL:-3} panic=-1 pvguest=$here/guest.sh pvout=$share pvlayout=$layout pvaccel=$accel"
append="$append pvmodules=$kdir/root/lib/modules"
[ "$layout" = v2 ] && append="$append cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
echo "vm.sh: booting $ver ($accel, $cpus cpus, $mem MiB, cgroup layout $layout)"
start=$(date +%s)
set +e
timeout --foreground -k 10 "$timeout" "$qemu" -machine $machine ${tcg_args[@]+"${tcg_args[@]}"} -cpu $cpu -smp "$cpus" -m "$mem" \
  -object memory-backend-memfd,id=mem,size="${mem}M",share=on -numa node,memdev=mem \
  -nodefaults -no-user-config -display none -net none -no-reboot \
  -chardev stdio,id=con,signal=off -serial chardev:con \
  -chardev socket,id=fsroot,path="$run/root.sock" -device vhost-user-fs-pci,chardev=fsroot,tag=hostroot \
  -chardev socket,id=fsout,path="$run/out.sock" -device vhost-user-fs-pci,chardev=fsout,tag=vmout \
  -drive file="$run/scratch.img",if=none,id=scratch,format=raw,cache=unsafe \
  -device virtio-blk-pci,drive=scratch,serial=pvscratch \
  -kernel "$kdir/root/boot/vmlinuz-$ver" -initrd "$vmdir/initramfs" -append "$append" \
  </dev/null 2>"$run/qemu.err" | tee "$run/console.log" | sed -u 's/^/  guest| /'
qrc=${PIPESTATUS[0]}
set -e
echo "vm.sh: guest ran $(($(date +%s) - start)) s"
if [ -f "$share/rc" ]; then
  rc=$(cat "$share/rc")
elif grep -q 'podvisor-vm-exit=' "$run/console.log"; then
  rc=$(sed -n 's/.*podvisor-vm-exit=\([0-9]*\).*/\1/p' "$run/console.log" | tail -1)
else
  [ "$qrc" = 124 ] && echo "vm.sh: the guest did not finish in $timeout s" >&2
  cat "$run/qemu.err" >&2
  rc=1
fi
[ "$rc" = 125 ] && { echo "vm.sh: the guest failed to set itself up" >&2; rc=1; }
exit "$rc"
