#!/bin/bash
# test_run_devices.sh - the probe's attack through `podvisor run`, end to
# end: with the host's root bound in (-v /:/hr:ro), whose /dev/shm submount
# is not nodev, a container makes a node of a loop device the test
# attached to a small file and tries to read the "host's disk" through it.
# The device allow-list refuses the read; a privileged container, the
# control, reads the same device.  Needs root and a loop device (skipped
# with 77 otherwise).
set -u
PV=${PODVISOR_BINARY:?}
SRC=${PODVISOR_SOURCE_DIR:?}
[ "$(id -u)" = 0 ] || { echo "run devices e2e: skipped (needs root)"; exit 77; }
command -v losetup >/dev/null || { echo "run devices e2e: skipped (no losetup)"; exit 77; }

R=$(mktemp -d /tmp/pv-run-devices.XXXXXX)
node=/dev/shm/pv-devices-$$
loop=""
cleanup() {
  rm -f "$node"
  [ -n "$loop" ] && losetup -d "$loop"
  rm -rf "$R"
}
trap cleanup EXIT
if ! out=$(PODVISOR=$PV sh "$SRC/contrib/mkimage-busybox.sh" "$R" 2>&1); then
  printf 'FAIL contrib/mkimage-busybox.sh could not import busybox:\n%s\n' "$out"
  exit 1
fi
printf 'podvisor-host-disk' >"$R/disk"
truncate -s 1M "$R/disk"
loop=$(losetup -f --show "$R/disk" 2>/dev/null) || { loop=""; echo "run devices e2e: skipped (no loop device)"; exit 77; }
maj=$((0x$(stat -c %t "$loop"))) min=$((0x$(stat -c %T "$loop")))

pass=0 fail=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); printf 'FAIL %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3"; fi
}

# The probe's commands.  mknod may succeed (CAP_MKNOD, "b *:* m"); what
# must never happen is the read.
out=$("$PV" --root "$R" run --rm -v /:/hr:ro busybox \
  sh -c "mknod /hr$node b $maj $min; dd if=/hr$node bs=18 count=1" 2>&1)
case "$out" in
  *podvisor-host-disk*) check "the host's disk is not readable through /hr/dev/shm" refused "read: $out" ;;
  *) check "the host's disk is not readable through /hr/dev/shm" refused refused ;;
esac
rm -f "$node"

# The control: a privileged container has every device, so the same node
# reads the file's text (on a tmpfs of its own: no mount flag in the way).
out=$("$PV" --root "$R" run --rm --privileged busybox \
  sh -c "mkdir -p /t && mount -t tmpfs t /t && mknod /t/x b $maj $min && dd if=/t/x bs=18 count=1 2>/dev/null" 2>&1)
check "a privileged container reads the device" podvisor-host-disk "$out"

echo "run devices e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
