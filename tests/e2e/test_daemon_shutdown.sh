#!/bin/bash
# SIGTERM to the daemon is the host's shutdown: every pod gets its graceful
# stop (its containers their SIGTERM and grace period) at the same time, the
# daemon waits for all of them and exits 0, and nothing is left behind: no
# keeper, no container, no cgroup of the pods, no mount, no run directory.
. "$(dirname "$0")/daemon_core_lib.sh"
mark=$((600000 + $$ % 99999))
N=4
for i in $(seq $N); do
  cat > "$M/slow$i.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: slow$i
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'sleep 2; exit 0' TERM; sleep $mark & wait; sleep $mark"]
Y
done
count() {
  local n=0 f
  for f in /proc/[0-9]*/cmdline; do
    [[ "$( { tr '\0' ' ' < "$f"; } 2>/dev/null)" == *"sleep $mark"* ]] && n=$((n + 1))
  done
  echo $n
}
start_daemon
for i in $(seq $N); do wait_running "slow$i" 30 || fail "slow$i not running"; done
cgs=""
for i in $(seq $N); do cgs="$cgs $(cgroup_of "slow$i")"; done
sleep 0.5
t0=$(date +%s%N)
stop_daemon TERM
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited with $DAEMON_RC"
echo "$N pods, each 2 s to stop: the daemon exited after $ms ms"
[ "$ms" -ge 1900 ] || fail "the pods were not given their graceful stop ($ms ms)"
[ "$ms" -lt $((N * 2000)) ] || fail "the pods were stopped one after the other ($ms ms)"
ok "SIGTERM: every pod stopped gracefully and in parallel, exit 0"
[ -z "$(shim_pids)" ] || fail "keepers left: $(shim_pids)"
[ "$(count)" = 0 ] || fail "$(count) container processes left"
for cg in $cgs; do no_cgroup "$cg" || fail "cgroup $cg left"; done
grep -F "$T" /proc/self/mountinfo && fail "mounts left behind (above)"
left=$(ls "$RR/pods" 2>/dev/null)
[ -z "$left" ] || fail "run directories left: $left"
grep -q 'msg="every pod stopped"' "$DLOG" || fail "no 'every pod stopped' in the log"
ok "nothing left behind: no keeper, container, cgroup, mount or run directory"
