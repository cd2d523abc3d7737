#!/bin/bash
# A container that ignores SIGTERM is killed after terminationGracePeriodSeconds.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: stubborn
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap '' TERM; echo up; while true; do sleep 0.1; done"]
Y
start_shim "$T/pod.yaml" stubborn
wait_for stubborn '.containerStatuses[0].state.running != null' true 10 || fail "not running"
cg=$(cgroup_of stubborn)
[ -n "$cg" ] || fail "no cgroup known for the pod"
pd=$(poddir_of stubborn)
sleep 0.3
t0=$(date +%s%N)
stop_shim "$LAST_SHIM" || fail "shim did not stop"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "stop took $ms ms"
[ "$ms" -ge 1000 ] && [ "$ms" -lt 5000 ] || fail "stop took $ms ms, expected 1000..5000"
[ ! -e "$(rundir_of stubborn)" ] || fail "run dir left behind"
[ ! -e "$pd" ] || fail "pod dir left behind"
for h in /sys/fs/cgroup/*/$cg; do [ -e "$h" ] && fail "cgroup $h left behind"; done
ok "SIGKILL after the grace period"
