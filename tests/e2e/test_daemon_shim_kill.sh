#!/bin/bash
# A pod's keeper killed with -9 takes its containers with it; the daemon
# notices (the keeper's pidfd, no polling), launches a new keeper on the
# same instance, which carries the restart counts forward; no container of
# the old keeper lingers, and once the pod is deleted no cgroup does.
. "$(dirname "$0")/daemon_core_lib.sh"
mark=$((700000 + $$ % 99999))
cat > "$M/victim.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: victim
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {name: a, image: busybox, command: ["sleep", "$mark"]}
  - {name: b, image: busybox, command: ["sh", "-c", "sleep $mark & sleep $mark"]}
Y
count() {
  local n=0 f
  for f in /proc/[0-9]*/cmdline; do
    [ "$( { tr '\0' ' ' < "$f"; } 2>/dev/null)" = "sleep $mark " ] && n=$((n + 1))
  done
  echo $n
}
start_daemon
wait_running victim || fail "victim not running"
for _ in $(seq 100); do [ "$(count)" -ge 3 ] && break; sleep 0.1; done
[ "$(count)" = 3 ] || fail "expected 3 marker processes, saw $(count)"
shim=$(jq_status victim .podvisor.shimPid) uid=$(uid_of victim) a0=$(pid_of victim a)
kill -9 "$shim"
wait_log 'pod=default/victim reason=Relaunched' 10 || fail "no Relaunched event"
wait_for victim "(.podvisor.shimPid != $shim) and ($all_running)" true 20 || fail "not running under a new keeper"
[ "$(uid_of victim)" = "$uid" ] || fail "the relaunch made a new instance"
[ "$(pid_of victim a)" != "$a0" ] || fail "a kept its pid: the old container survived"
# (A zombie waiting for init's reaping is gone: it runs nothing.)
alive() { [ -e "/proc/$1" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" != Z ]; }
for _ in $(seq 50); do alive "$a0" || break; sleep 0.1; done
alive "$a0" && fail "the old container process $a0 lingers"
for _ in $(seq 100); do [ "$(count)" = 3 ] && break; sleep 0.1; done
[ "$(count)" = 3 ] || fail "$(count) marker processes after the relaunch (3 expected)"
[ "$(jq_status victim '.containerStatuses[0].restartCount')" -ge 1 ] || fail "restart count not carried forward"
# The daemon marked the dead keeper's containers before the relaunch: the
# new keeper carries that termination on as their last state.
[ "$(jq_status victim '.containerStatuses[0].lastState.terminated.reason')" = ShimDied ] ||
  fail "last state is not the keeper's death: $(jq_status victim '.containerStatuses[0].lastState')"
[ "$(shim_pids | wc -l)" = 1 ] || fail "$(shim_pids | wc -l) keepers"
ok "a keeper killed with -9: relaunched on the same instance, restart counts carried, no old container left"

cg=$(cgroup_of victim)
rm "$M/victim.yaml"
wait_gone victim 30 || fail "the run directory is still there"
for _ in $(seq 50); do [ "$(count)" = 0 ] && break; sleep 0.1; done
[ "$(count)" = 0 ] || fail "containers left after the delete"
no_cgroup "$cg" || fail "cgroup $cg left"
ok "after the delete no container and no cgroup lingers"

# A keeper killed while its pod is no longer desired is cleaned up too.
pod_yaml gone > "$M/gone.yaml"
wait_running gone || fail "gone not running"
shim=$(jq_status gone .podvisor.shimPid) cg=$(cgroup_of gone)
stop_daemon KILL
kill -9 "$shim"
rm "$M/gone.yaml"
start_daemon
wait_gone gone 30 || fail "the dead keeper's run directory stays"
for _ in $(seq 50); do no_cgroup "$cg" && break; sleep 0.1; done
no_cgroup "$cg" || fail "the dead keeper's cgroup $cg stays"
[ -z "$(shim_pids)" ] || fail "keepers left: $(shim_pids)"
ok "a dead keeper of a pod no longer desired: its run directory and cgroups are removed"
stop_daemon
