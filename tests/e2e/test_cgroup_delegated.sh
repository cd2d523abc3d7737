#!/bin/bash
# test_cgroup_delegated.sh - podvisor in a delegated cgroup v2 subtree, as
# systemd's Delegate=yes makes one: a cgroup pvdeleg.test marked
# trusted.delegate=1, `podvisor up` started in it.  up moves itself to
# pvdeleg.test/supervisor (a cgroup holding processes could enable no
# controller for its children), its pods land in
# pvdeleg.test/podvisor/<uid>/<container> with their limits, controllers
# are enabled from pvdeleg.test down, nothing is made under the root's
# podvisor/, and the pod's cgroups go with the pod while the parent stays.
# Pure cgroup v2 only (exit 77 elsewhere, with the reason); needs root.
set -u
CG=/sys/fs/cgroup
# (cgroupfs files have size 0: read them, never test -s.)
if [ "$(stat -fc %T "$CG" 2>/dev/null)" != cgroup2fs ] || [ -z "$(cat "$CG/cgroup.controllers" 2>/dev/null)" ]; then
  echo "skipped: $CG is not a cgroup2 root with controllers (this host: $(stat -fc %T "$CG" 2>/dev/null))"
  exit 77
fi
. "$(dirname "$0")/up_lib.sh"
D=$CG/pvdeleg.test
up=""
deleg_cleanup() {
  [ -n "$up" ] && kill -TERM "$up" 2>/dev/null && for _ in $(seq 300); do kill -0 "$up" 2>/dev/null || break; sleep 0.1; done
  [ -n "$up" ] && kill -9 "$up" 2>/dev/null
  # Whatever is still in the subtree goes back to the root, then the
  # directories go, deepest first.
  for f in $(find "$D" -name cgroup.procs 2>/dev/null); do
    for p in $(cat "$f" 2>/dev/null); do echo "$p" >"$CG/cgroup.procs" 2>/dev/null; done
  done
  [ -d "$D" ] && find "$D" -depth -type d -exec rmdir {} + 2>/dev/null
  cleanup
}
trap deleg_cleanup EXIT
setxattr_one() { # setxattr_one NAME DIR: NAME=1 on DIR
  if command -v setfattr >/dev/null; then setfattr -n "$1" -v 1 "$2"
  else python3 -c 'import os, sys; os.setxattr(sys.argv[2], sys.argv[1], b"1")' "$1" "$2"; fi
}
[ -d "$D" ] && find "$D" -depth -type d -exec rmdir {} + 2>/dev/null # a crashed earlier run
mkdir "$D" || fail "mkdir $D"
setxattr_one trusted.delegate "$D" || fail "cannot mark $D delegated"
# What systemd does for a delegating unit: the controllers are enabled
# above it, so that it has them to give.
for c in cpu memory pids; do
  grep -qw "$c" "$CG/cgroup.controllers" || { echo "skipped: the root offers no $c controller"; exit 77; }
  echo "+$c" >"$CG/cgroup.subtree_control" || fail "enable $c in the root"
done
grep -qw memory "$D/cgroup.controllers" || fail "$D did not get the memory controller"

cat >"$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: deleg}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait \$!; done"]
    resources:
      limits: {memory: 64Mi, cpu: 500m}
Y
# The process enters the delegated cgroup first, as systemd starts a unit.
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$D" \
  "$PV" --root "$R" --run-root "$RR" up "$T/pod.yaml" >"$T/up.out" 2>&1 &
up=$!
wait_for deleg '.containerStatuses[0].state.running != null' true 60 || fail "pod not running: $(cat "$T/up.out")"
uid=$(uid_of deleg)
[ -n "$uid" ] || fail "no uid"

grep -qx "0::/pvdeleg.test/supervisor" "/proc/$up/cgroup" || fail "up is in $(cat "/proc/$up/cgroup"), not pvdeleg.test/supervisor"
shim=$(jq_status deleg .podvisor.shimPid)
grep -qx "0::/pvdeleg.test/supervisor" "/proc/$shim/cgroup" || fail "the shim is in $(cat "/proc/$shim/cgroup")"
[ -z "$(cat "$D/cgroup.procs")" ] || fail "processes left in the delegated cgroup itself: $(cat "$D/cgroup.procs")"
ok "up moved itself to pvdeleg.test/supervisor, its shim followed"

pid=$(jq_status deleg '.containerStatuses[0].podvisor.pid')
want="0::/pvdeleg.test/podvisor/$uid/c"
got=$(cat "/proc/$pid/cgroup")
[ "$got" = "$want" ] || fail "container $pid is in '$got', not '$want'"
[ "$(cgroup_of deleg)" = "pvdeleg.test/podvisor/$uid" ] || fail "shim paths says POD_CGROUP=$(cgroup_of deleg)"
eval "$("$PV" --root "$R" --run-root "$RR" shim paths --pod deleg)"
[ "$POD_CGROUP_PARENT" = pvdeleg.test/podvisor ] || fail "shim paths says POD_CGROUP_PARENT=$POD_CGROUP_PARENT"
ok "the container runs in $want"

[ "$(cat "$D/podvisor/$uid/c/memory.max")" = 67108864 ] || fail "memory.max is $(cat "$D/podvisor/$uid/c/memory.max")"
case $(cat "$D/podvisor/$uid/c/cpu.max") in 50000\ 100000) ;; *) fail "cpu.max is $(cat "$D/podvisor/$uid/c/cpu.max")" ;; esac
for dir in "$D" "$D/podvisor" "$D/podvisor/$uid"; do
  grep -qw memory "$dir/cgroup.subtree_control" || fail "memory not enabled in $dir"
done
ok "limits set there, controllers enabled from pvdeleg.test down"
# Other tests of this run may use the root's podvisor/: this pod must not.
[ ! -e "$CG/podvisor/$uid" ] || fail "$CG/podvisor/$uid was created"
ok "nothing made under $CG/podvisor"

kill -TERM "$up"
for _ in $(seq 300); do kill -0 "$up" 2>/dev/null || break; sleep 0.1; done
kill -0 "$up" 2>/dev/null && fail "up did not stop"
wait "$up" || fail "up exited $?: $(cat "$T/up.out")"
up=""
[ ! -e "$D/podvisor/$uid" ] || fail "the pod's cgroup $D/podvisor/$uid is left"
[ -d "$D/podvisor" ] || fail "the parent $D/podvisor was removed"
ok "the pod's cgroups are gone, the parent stays"
