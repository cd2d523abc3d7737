#!/bin/bash
# A shareProcessNamespace pod whose pause is killed while a process of its
# namespace cannot die (frozen by the v1 freezer): the old pause stays in its
# exit for as long as that process lives.  The pod is renewed and restarts,
# and a stop still ends within its bounds (pending cgroups 5 s, pause 2 s):
# the watch on the old, still exiting pause must not keep the shim alive.
. "$(dirname "$0")/up_lib.sh"
[ -d /sys/fs/cgroup/freezer ] || { echo "skipped: no v1 freezer hierarchy"; exit 77; }
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: frozenpause
spec:
  shareProcessNamespace: true
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
  - name: f
    image: busybox
    command: ["sh", "-c", "sleep 1001 </dev/null >/dev/null 2>&1 & exec sleep 3601"]
Y
cg=
FZ=/sys/fs/cgroup/freezer/pv-e2e-frozenpause-$$
thaw() {
  [ -d "$FZ" ] || return 0
  echo THAWED > "$FZ/freezer.state"
  for p in $(cat "$FZ/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for _ in $(seq 50); do rmdir "$FZ" 2>/dev/null && break; sleep 0.1; done
  # What the stopped shim had to leave behind, now empty.
  [ -n "$cg" ] || return 0
  for h in /sys/fs/cgroup/*/"$cg"; do
    [ -d "$h" ] || continue
    for _ in $(seq 20); do
      find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$h" ] || break
      sleep 0.1
    done
  done
}
trap 'thaw; cleanup' EXIT
start_shim "$T/pod.yaml" frozenpause
wait_for frozenpause '.containerStatuses[0].state.running != null' true 10 || fail "not running"
cg=$(cgroup_of frozenpause)
pid=$(pid_in_cgroup frozenpause f "sleep 1001 ")
[ -n "$pid" ] || fail "the background sleep never showed up"
mkdir "$FZ" && echo "$pid" > "$FZ/cgroup.procs" && echo FROZEN > "$FZ/freezer.state" || fail "freeze"
pause=$(jq_status frozenpause .podvisor.pausePid)
[ -n "$pause" ] && [ "$pause" -gt 0 ] || fail "no pausePid in the status"
kill -9 "$pause"
wait_for frozenpause '.containerStatuses[0].restartCount' 1 10 || fail "no restart after the pause died"
wait_for frozenpause '.containerStatuses[0].state.running != null' true 10 || fail "not running again"
new=$(jq_status frozenpause .podvisor.pausePid)
[ "$new" != "$pause" ] || fail "the pause was not replaced"
t0=$(date +%s%N)
stop_shim "$LAST_SHIM" || fail "the shim did not stop within 20 s (an old pause still exiting keeps it)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "stopped in $ms ms"
grep -q "left behind" "$T/shim-frozenpause.log" || fail "the leftover cgroup is not named: $(cat "$T/shim-frozenpause.log")"
ok "a pause killed next to a process that cannot die: renewed, and the stop ends in $ms ms"
