#!/bin/bash
# test_run.sh - `podvisor run` end to end: imports busybox into a private
# root, then checks output, limits seen inside, exit code passthrough,
# 125 on podvisor's own errors, 127 for a missing command, 137 on OOM, and
# that nothing is left behind.  Needs root (skipped with 77 otherwise).
set -u
PV=${PODVISOR_BINARY:?}
SRC=${PODVISOR_SOURCE_DIR:?}
[ "$(id -u)" = 0 ] || { echo "run e2e: skipped (needs root)"; exit 77; }

R=$(mktemp -d /tmp/pv-run-e2e.XXXXXX)
trap 'rm -rf "$R"' EXIT
# The image comes from podvisor's own import script, the README's way: when
# it fails, podvisor failed, and the test fails (it never skips for that).
if ! out=$(PODVISOR=$PV sh "$SRC/contrib/mkimage-busybox.sh" "$R" 2>&1); then
  printf 'FAIL contrib/mkimage-busybox.sh could not import busybox:\n%s\n' "$out"
  exit 1
fi
[ -f "$R/images/busybox/latest/config.json" ] || {
  printf 'FAIL busybox import left no image config:\n%s\n' "$out"
  exit 1
}

pass=0 fail=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); printf 'FAIL %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3"; fi
}
run() { "$PV" --root "$R" run --rm "$@"; }

out=$(run --name "e2e-$$-a" --hostname h1 --memory 64m --pids-limit 50 -e A=B busybox \
  sh -c 'echo $A; hostname; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max;
         cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo pid=$$')
check "output, hostname, limits inside" "B
h1
50
67108864
pid=1" "$out"

run busybox sh -c 'exit 3'; check "exit code passthrough" 3 $?
run busybox true; check "exit 0" 0 $?
out=$(run --cpus 0.5 busybox sh -c 'cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us')
case "$out" in 50000*) check "--cpus 0.5 quota" ok ok ;; *) check "--cpus 0.5 quota" 50000 "$out" ;; esac
out=$(run -w /tmp -u 65534:65534 busybox sh -c 'pwd; id -u; id -g')
check "workdir and user" "/tmp
65534
65534" "$out"
out=$(run --read-only busybox sh -c 'touch /x 2>/dev/null && echo rw || echo ro')
check "read-only root" ro "$out"
mkdir -p "$R/vol" && echo data >"$R/vol/f"
out=$(run -v "$R/vol:/v:ro" busybox sh -c 'cat /v/f; touch /v/g 2>/dev/null && echo rw || echo ro')
check "volume ro" "data
ro" "$out"
# A host path with a submount: ro reaches it (recursive read-only, as in
# docker since 25), ro-non-recursive does not, and it is nodev in every
# mode.  The tmpfs lives in a mount namespace of its own, gone with it.
mkdir -p "$R/vol/sub"
out=$(unshare -m --propagation private sh -c '
  mount -t tmpfs -o size=1m pv-run-sub "$1/vol/sub" || exit 1
  for m in rw ro rro ro-non-recursive; do
    "$2" --root "$1" run --rm -v "$1/vol:/v:$m" busybox sh -c "o=\$(awk '"'"'\$5 == \"/v/sub\" {print \$6}'"'"' /proc/self/mountinfo)
      touch /v/sub/w 2>/dev/null && echo $m \$o writable || echo $m \$o readonly"
  done' sh "$R" "$PV")
check "volume modes on a submount" "rw rw,nodev,relatime writable
ro ro,nodev,relatime readonly
rro ro,nodev,relatime readonly
ro-non-recursive rw,nodev,relatime writable" "$out"
# An image without /proc, /dev and /sys: the mount points are made inside
# the container's root, as crun and runc make them.
bare=$(mktemp -d /tmp/pv-run-bare.XXXXXX)
cp -a "$R/images/busybox/latest/rootfs/." "$bare/"
rm -rf "$bare/proc" "$bare/dev" "$bare/sys"
"$PV" --root "$R" image import bare "$bare" >/dev/null 2>&1 || check "import the bare image" ok failed
rm -rf "$bare"
out=$(run bare sh -c 'test -r /proc/self/status && test -c /dev/null && test -d /sys/kernel && echo ran' 2>&1)
check "image without /proc /dev /sys" ran "$out"
out=$(run busybox sh -c 'echo $PATH' | cut -c1-5)
check "image env PATH" "/usr/" "$out"

err=$(run no-such-image true 2>&1); rc=$?
check "missing image exit" 125 $rc
case "$err" in *no-such-image*) check "missing image message" ok ok ;; *) check "missing image message" "mentions no-such-image" "$err" ;; esac
run --bogus-flag busybox true 2>/dev/null; check "bad flag exit" 125 $?
run busybox no-such-command 2>/dev/null; check "missing command exit" 127 $?

err=$(run --name "e2e-$$-oom" --memory 32m --memory-swap 32m busybox tail /dev/zero 2>&1); rc=$?
check "oom exit" 137 $rc
case "$err" in *"container e2e-$$-oom was OOM-killed"*) check "oom message" ok ok ;;
  *) check "oom message" "podvisor: container e2e-$$-oom was OOM-killed" "$err" ;; esac

# SIGTERM to podvisor reaches the container, which exits 0 from its trap.
# (the binary itself in the background: $! of a shell function is a subshell)
"$PV" --root "$R" run --rm busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.05; done' &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid; check "SIGTERM forwarded" 0 $?

# --cgroup-parent: the container's cgroup is <parent>/<name> in every
# hierarchy (or the unified tree); it goes at exit, the parent stays.
cgp="pvrun.$$/x"
hs=""
for h in memory pids cpu cpuacct; do [ -d "/sys/fs/cgroup/$h" ] && hs="$hs /sys/fs/cgroup/$h"; done
[ -n "$hs" ] || hs=/sys/fs/cgroup # the unified tree
in_all() { # in_all REL: how many of the hierarchies lack REL
  local h m=0
  for h in $hs; do [ -d "$h/$1" ] || m=$((m + 1)); done
  echo $m
}
"$PV" --root "$R" run --rm --name "e2e-$$-cg" --cgroup-parent "$cgp" busybox \
  sh -c 'trap "exit 0" TERM; while :; do sleep 0.05; done' &
pid=$!
for _ in $(seq 100); do [ "$(in_all "$cgp/e2e-$$-cg")" = 0 ] && break; sleep 0.05; done
check "--cgroup-parent: hierarchies without $cgp/e2e-$$-cg" 0 "$(in_all "$cgp/e2e-$$-cg")"
# The SIGTERM below must find the trap set (pid 1 of a pid namespace
# ignores a signal it has no handler for): wait for the loop's first sleep.
set -- $hs
for _ in $(seq 200); do [ "$(wc -l <"$1/$cgp/e2e-$$-cg/cgroup.procs" 2>/dev/null)" -ge 2 ] && break; sleep 0.05; done
check "--cgroup-parent: none under podvisor/" 0 "$(ls -d /sys/fs/cgroup/podvisor/e2e-$$-cg /sys/fs/cgroup/*/podvisor/e2e-$$-cg 2>/dev/null | wc -l)"
kill -TERM $pid
wait $pid; check "--cgroup-parent: run exits 0" 0 $?
check "--cgroup-parent: the container's cgroups gone" 0 "$(ls -d /sys/fs/cgroup/$cgp/e2e-$$-cg /sys/fs/cgroup/*/$cgp/e2e-$$-cg 2>/dev/null | wc -l)"
check "--cgroup-parent: hierarchies without the parent" 0 "$(in_all "$cgp")"
for h in $hs; do [ -d "$h/pvrun.$$" ] && rmdir "$h/$cgp" "$h/pvrun.$$"; done

# Nothing left: no container dirs, no mounts, no cgroups.
left=$(find "$R/containers" -mindepth 1 2>/dev/null | wc -l)
check "no container dirs left" 0 "$left"
check "no mounts left" 0 "$(grep -c "$R" /proc/self/mountinfo)"
check "no cgroups left" 0 "$(ls -d /sys/fs/cgroup/podvisor/e2e-$$-* /sys/fs/cgroup/*/podvisor/e2e-$$-* 2>/dev/null | wc -l)"

echo "run e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
