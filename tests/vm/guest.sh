#!/bin/bash
# guest.sh - stage 2 of the test guest: PID 1 on the overlay root that
# tests/vm/init made (the host's file system, read-only, under a tmpfs).
#
# It sets the guest up as a host of the layout asked for would be, runs the
# command vm.sh left in $pvout/cmd.sh, and powers the guest off.  Its output
# goes to the console (vm.sh prints it) and to $pvout/log; the exit code
# goes to $pvout/rc and, as a last resort, to the console as
# "podvisor-vm-exit=N".
#
# Layouts (pvlayout=):
#   v2  the unified hierarchy only (the kernel was booted with
#       cgroup_no_v1=all): cgroup2 at /sys/fs/cgroup with nsdelegate, the
#       controllers enabled in the root as systemd enables them, PID 1 in
#       init.scope and the command in a scope of its own, as a login
#       session's shell would be;
#   v1  the legacy layout of older hosts: one v1 hierarchy per controller
#       (cpu,cpuacct and net_cls,net_prio co-mounted, with the links to
#       them that systemd makes) under a tmpfs at /sys/fs/cgroup, and no
#       cgroup2 mounted anywhere.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
# Under TCG the guest runs several times slower than the host (an exec
# about 20 times): the Check suites' timeouts stretch with it, and so do the
# e2e tests' timeouts and wall-clock budgets (PODVISOR_TEST_SLOW,
# tests/e2e/up_lib.sh), never what they assert about order or behaviour.
if [ "${pvaccel:-kvm}" = tcg ]; then
  export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-5}
  export PODVISOR_TEST_SLOW=${PODVISOR_TEST_SLOW:-5}
fi
out=${pvout:?}
layout=${pvlayout:-v2}

finish() {
  echo "$1" >"$out/rc"
  sync
  echo "podvisor-vm-exit=$1"
  echo o >/proc/sysrq-trigger
  sleep 30
}

step() {
  "$@" || {
    echo "podvisor-vm: stage 2: $* failed"
    finish 125
  }
}

step mount -t proc proc /proc
step mount -t sysfs sysfs /sys
step mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
step mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
# What udev makes on a host, and devtmpfs lacks (bash's process
# substitution opens /dev/fd/N).
ln -sf /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do ln -sf "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"; done
step mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# Scratch space on a real tmpfs: overlayfs refuses an overlay as the upper
# layer of another, and containers put their upper layers here.
# A source or build tree that lives there on the host (a checkout in /tmp)
# stays visible: its top directory is held aside (with the virtiofs mount of
# $out inside it) and bound back over the tmpfs.
for d in /tmp /var/tmp; do
  tops=""
  for p in "$out" "${pvguest:-}" "${pvmodules:-}"; do
    case $p in "$d"/?*) t=${p#"$d"/} && tops="$tops ${t%%/*}" ;; esac
  done
  held=/.pv-held$d
  [ -z "$tops" ] || { mkdir -p "$held" && step mount --rbind "$d" "$held"; }
  step mount -t tmpfs -o mode=1777 tmpfs "$d"
  for t in $(printf '%s\n' $tops | sort -u); do
    mkdir -p "$d/$t" && step mount --rbind "$held/$t" "$d/$t"
  done
done
for d in /run /var/lib/podvisor /var/lib/containers /etc/podvisor; do
  mkdir -p "$d" && step mount -t tmpfs -o mode=0755 tmpfs "$d"
done
# The guest kernel's modules (unpacked by vm.sh next to its kernel).
if [ -n "${pvmodules:-}" ]; then
  mkdir -p /lib/modules && step mount --bind "$pvmodules" /lib/modules
  for m in overlay veth loop; do modprobe -q "$m" 2>/dev/null; done
fi
ip link set lo up 2>/dev/null
hostname podvisor-guest 2>/dev/null

case $layout in
  v2)
    step mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
    ctrls=""
    for c in $(cat /sys/fs/cgroup/cgroup.controllers); do ctrls="$ctrls +$c"; done
    step sh -c "echo '$ctrls' >/sys/fs/cgroup/cgroup.subtree_control"
    mkdir -p /sys/fs/cgroup/init.scope /sys/fs/cgroup/user.slice/suite.scope
    echo $$ >/sys/fs/cgroup/init.scope/cgroup.procs
    suite_cgroup=/sys/fs/cgroup/user.slice/suite.scope
    ;;
  v1)
    step mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
    for c in cpu,cpuacct cpuset memory pids blkio devices freezer net_cls,net_prio perf_event hugetlb; do
      mkdir -p "/sys/fs/cgroup/$c"
      step mount -t cgroup -o "$c" "$c" "/sys/fs/cgroup/$c"
    done
    # The links systemd makes to the co-mounted hierarchies.
    for l in cpu:cpu,cpuacct cpuacct:cpu,cpuacct net_cls:net_cls,net_prio net_prio:net_cls,net_prio; do
      ln -s "${l#*:}" "/sys/fs/cgroup/${l%%:*}"
    done
    suite_cgroup=""
    ;;
  *)
    echo "podvisor-vm: unknown layout '$layout'"
    finish 125
    ;;
esac

echo "podvisor-vm: $(uname -r), cgroup layout $layout, $(nproc) cpus, $(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024)) MiB"
(
  [ -n "$suite_cgroup" ] && echo $BASHPID >"$suite_cgroup/cgroup.procs"
  exec bash "$out/cmd.sh"
) </dev/null 2>&1 | tee "$out/log"
finish "${PIPESTATUS[0]}"
