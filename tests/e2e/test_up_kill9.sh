#!/bin/bash
# The shim killed with -9 leaves no container process behind (pdeathsig);
# the next shim for the same pod cleans the leftovers and stops cleanly.
. "$(dirname "$0")/up_lib.sh"
mark=$((900000 + $$ % 99999))
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: doomed
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: a
    image: busybox
    command: ["sleep", "$mark"]
  - name: b
    image: busybox
    command: ["sh", "-c", "sleep $mark & sleep $mark"]
Y
count() {
  local n=0 f
  for f in /proc/[0-9]*/cmdline; do
    [ "$( { tr '\0' ' ' < "$f"; } 2>/dev/null)" = "sleep $mark " ] && n=$((n + 1))
  done
  echo $n
}
start_shim "$T/pod.yaml" doomed
wait_for doomed '[.containerStatuses[].state.running != null] | all' true 10 || fail "not running"
# "running" means each container's first process started; b's shell may not
# have forked its two sleeps yet (slow under load): wait for all three.
for _ in $(seq 100); do [ "$(count)" -ge 3 ] && break; sleep 0.1; done
[ "$(count)" -ge 3 ] || fail "expected 3 marker processes, saw $(count)"
kill -9 "$LAST_SHIM"
for _ in $(seq 50); do [ "$(count)" = 0 ] && break; sleep 0.1; done
[ "$(count)" = 0 ] || fail "$(count) container processes survived the shim"
ok "no container survives kill -9 of its shim"
uid=$(uid_of doomed)
start_shim "$T/pod.yaml" doomed
wait_for doomed .podvisor.shimPid "$LAST_SHIM" 10 || fail "no status from the new shim"
wait_for doomed '[.containerStatuses[].state.running != null] | all' true 10 || fail "restarted shim: not running"
[ "$(jq_status doomed '.containerStatuses[0].restartCount')" -ge 1 ] || fail "restart count not carried forward"
stop_shim "$LAST_SHIM" || fail stop
[ "$(count)" = 0 ] || fail "processes left after stop"
for cg in /sys/fs/cgroup/*/podvisor/$uid; do [ -e "$cg" ] && fail "cgroup $cg left behind"; done
[ ! -e "$R/pods/$uid" ] || fail "pod dir left"
[ ! -e "$(rundir_of doomed)" ] || fail "run dir left"
ok "leftovers cleaned by the next shim"
