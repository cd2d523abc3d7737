#!/bin/bash
# test_up_cgroup_parent.sh - --cgroup-parent: `podvisor up --cgroup-parent
# P` puts its pods' cgroups under P in every hierarchy podvisor uses (cpu,
# cpuacct, memory and pids on v1; the unified tree on v2), with the limits
# there and nothing under podvisor/; a stop removes the pod's cgroups and
# keeps P.  A keeper killed with -9 and started again without the flag
# keeps the instance's recorded parent (cgroup.json): its containers run
# under P again and its leftovers there are cleaned.  A bad parent is a
# usage error.  Needs root.
. "$(dirname "$0")/up_lib.sh"
CG=/sys/fs/cgroup
P=pvparent.$$/pods
if [ "$(stat -fc %T "$CG")" = cgroup2fs ]; then hiers=$CG; mem=$CG
else hiers="$CG/cpu $CG/cpuacct $CG/memory $CG/pids"; mem=$CG/memory; fi
up=""
parent_cleanup() {
  [ -n "$up" ] && kill -9 "$up" 2>/dev/null
  for h in $hiers; do [ -d "$h/pvparent.$$" ] && find "$h/pvparent.$$" -depth -type d -exec rmdir {} + 2>/dev/null; done
  cleanup
}
trap parent_cleanup EXIT

out=$("$PV" --root "$R" --run-root "$RR" up --cgroup-parent /abs "$T/none.yaml" 2>&1); rc=$?
[ "$rc" = 2 ] || fail "an absolute parent: exit $rc ($out)"
case $out in *"cgroup parent '/abs': not a relative path"*) ;; *) fail "message: $out" ;; esac
out=$("$PV" --root "$R" run --cgroup-parent a/../b busybox true 2>&1); rc=$?
[ "$rc" = 125 ] || fail "run with a parent holding '..': exit $rc ($out)"
case $out in *"--cgroup-parent: cgroup parent 'a/../b'"*) ;; *) fail "run message: $out" ;; esac
ok "a bad parent is refused, named"

cat >"$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: parented}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait \$!; done"]
    resources:
      limits: {memory: 48Mi}
Y
"$PV" --root "$R" --run-root "$RR" up --cgroup-parent "$P" "$T/pod.yaml" >"$T/up.out" 2>&1 &
up=$!
wait_for parented '.containerStatuses[0].state.running != null' true 30 || fail "not running: $(cat "$T/up.out")"
uid=$(uid_of parented)
[ "$(cgroup_of parented)" = "$P/$uid" ] || fail "POD_CGROUP is $(cgroup_of parented)"
pid=$(jq_status parented '.containerStatuses[0].podvisor.pid')
for h in $hiers; do
  [ -d "$h/$P/$uid/c" ] || fail "no $h/$P/$uid/c"
  grep -qx "$pid" "$h/$P/$uid/c/cgroup.procs" || fail "container $pid not in $h/$P/$uid/c"
  [ ! -e "$h/podvisor/$uid" ] || fail "$h/podvisor/$uid was made"
done
if [ "$mem" = "$CG" ]; then lim=$(cat "$mem/$P/$uid/c/memory.max"); else lim=$(cat "$mem/$P/$uid/c/memory.limit_in_bytes"); fi
[ "$lim" = 50331648 ] || fail "memory limit $lim"
ok "the pod runs under $P in $(echo $hiers | wc -w) hierarchies, with its memory limit"
kill -TERM "$up"
for _ in $(seq 200); do kill -0 "$up" 2>/dev/null || break; sleep 0.1; done
kill -0 "$up" 2>/dev/null && fail "up did not stop"
up=""
for h in $hiers; do
  [ ! -e "$h/$P/$uid" ] || fail "$h/$P/$uid left behind"
  [ -d "$h/$P" ] || fail "the parent $h/$P was removed"
done
ok "a stop removes the pod's cgroups, not the parent"

# The keeper's record: a keeper started again for the same instance, with
# no --cgroup-parent, keeps the recorded one.
start_shim "$T/pod.yaml" parented --cgroup-parent "$P"
wait_for parented '.containerStatuses[0].state.running != null' true 30 || fail "shim: not running"
uid=$(uid_of parented)
[ "$(cgroup_of parented)" = "$P/$uid" ] || fail "shim: POD_CGROUP is $(cgroup_of parented)"
kill -9 "$LAST_SHIM"
for _ in $(seq 100); do kill -0 "$LAST_SHIM" 2>/dev/null || break; sleep 0.05; done
start_shim "$T/pod.yaml" parented
wait_for parented .podvisor.shimPid "$LAST_SHIM" 20 || fail "no status from the second shim"
wait_for parented '.containerStatuses[0].state.running != null' true 30 || fail "second shim: not running"
[ "$(uid_of parented)" = "$uid" ] || fail "the second shim runs another instance"
pid=$(jq_status parented '.containerStatuses[0].podvisor.pid')
for h in $hiers; do
  grep -qx "$pid" "$h/$P/$uid/c/cgroup.procs" || fail "restarted container $pid not in $h/$P/$uid/c"
  [ ! -e "$h/podvisor/$uid" ] || fail "the second shim made $h/podvisor/$uid"
done
eval "$("$PV" --root "$R" --run-root "$RR" shim paths --pod parented)"
[ "$POD_CGROUP_PARENT" = "$P" ] || fail "shim paths: POD_CGROUP_PARENT=$POD_CGROUP_PARENT"
stop_shim "$LAST_SHIM" || fail "stop"
for h in $hiers; do [ ! -e "$h/$P/$uid" ] || fail "$h/$P/$uid left after the second shim"; done
ok "a keeper started again keeps the instance's recorded parent"
