#!/bin/bash
# The daemon killed with -9 in the middle of an apply of 20 pods (some
# keepers launched, some starting, some not yet), then started again: every
# pod ends Running exactly once: one keeper each, every container started
# once (restart count 0, one process), none lost.
. "$(dirname "$0")/daemon_core_lib.sh"
mark=$((800000 + $$ % 99999))
N=20
body=$T/apply.yaml
for i in $(seq $N); do
  cat <<Y
---
apiVersion: v1
kind: Pod
metadata:
  name: p$i
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, command: ["sleep", "$mark"]}
Y
done > "$body"
count() {
  local n=0 f
  for f in /proc/[0-9]*/cmdline; do
    [ "$( { tr '\0' ' ' < "$f"; } 2>/dev/null)" = "sleep $mark " ] && n=$((n + 1))
  done
  echo $n
}
start_daemon
# The daemon's log is followed from before the apply, so that the kill comes
# the moment the first keeper runs, while the others are launching (the
# launches of 20 pods take only a few times a 50 ms poll).
coproc follow { exec timeout 30 tail -n +1 -F "$DLOG" 2>/dev/null; }
curl -sS --max-time 10 --unix-socket "$RR/podvisor.sock" -X POST -H 'Content-Type: application/yaml' \
  --data-binary @"$body" http://localhost/apis/podvisor.io/v1/apply > "$T/apply.out" &
apply=$!
grep -m1 -q 'msg="keeper running"' <&"${follow[0]}" || fail "no keeper started"
kill -9 "$DAEMON_PID"
kill "$follow_PID" 2>/dev/null
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
# The reply is written before the reconcile that launches the pods runs.
wait "$apply" || fail "apply failed: $(cat "$T/apply.out")"
running=$(grep -c 'msg="keeper running"' "$DLOG")
echo "killed with $running of $N keepers reported running"
[ "$running" -lt "$N" ] || fail "the kill came too late to be mid-apply"
cp "$DLOG" "$T/daemon-1.log"

start_daemon
for i in $(seq $N); do wait_running "p$i" 30 || fail "p$i is not running"; done
for _ in $(seq 100); do [ "$(count)" -ge $N ] && break; sleep 0.1; done
sleep 1
[ "$(count)" = $N ] || fail "$(count) container processes for $N pods"
for i in $(seq $N); do
  [ "$(jq_status "p$i" '.containerStatuses[0].restartCount')" = 0 ] || fail "p$i restarted"
done
[ "$(shim_pids | wc -l)" = $N ] || fail "$(shim_pids | wc -l) keepers for $N pods"
# The daemon knows each pod's keeper: its API shows all of them Running.
for _ in $(seq 100); do
  n=$(curl -sS --max-time 5 --unix-socket "$RR/podvisor.sock" http://localhost/api/v1/pods |
    jq '[.items[] | select(.status.phase == "Running")] | length')
  [ "$n" = $N ] && break
  sleep 0.1
done
[ "$n" = $N ] || fail "the daemon's API shows $n of $N pods Running"
adopted=$(grep -c 'reason=Adopted' "$DLOG")
created=$(grep -c 'reason=Created\|reason=Relaunched' "$DLOG")
echo "second daemon: $adopted adopted, $created launched"
[ $((adopted + created)) -ge $N ] || fail "pods neither adopted nor launched"
ok "kill -9 mid-apply of $N pods: every pod Running exactly once ($adopted adopted, $created launched)"
stop_daemon
[ "$(count)" = 0 ] || fail "containers left after SIGTERM"
[ -z "$(shim_pids)" ] || fail "keepers left after SIGTERM"
