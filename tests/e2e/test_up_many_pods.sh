#!/bin/bash
# `podvisor up` with many pods: all start, and at the stop every pod's final
# state is printed (each keeper's watch stream delivers its last status
# before it closes), then `up` exits 0.
. "$(dirname "$0")/up_lib.sh"
N=50
mkdir "$T/pods"
for i in $(seq $N); do
  cat > "$T/pods/p$i.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: many$i}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
Y
done
"$PV" --root "$R" --run-root "$RR" up "$T/pods" > "$T/up.out" 2>&1 &
up=$!
SHIM_PIDS="$up"
for _ in $(seq 600); do [ "$(grep -c ' Running ' "$T/up.out")" -ge $N ] && break; sleep 0.1; done
[ "$(grep -c ' Running ' "$T/up.out")" = $N ] || fail "not all $N pods running: $(cat "$T/up.out")"
ok "$N pods running"
kill -TERM "$up"
wait "$up"; rc=$?
[ "$rc" = 0 ] || fail "up exited $rc: $(tail -20 "$T/up.out")"
for i in $(seq $N); do
  last=$(grep "^many$i " "$T/up.out" | tail -1)
  [[ "$last" =~ ^many$i\ +c\ +Terminated:Completed\(0\)\ +0$ ]] || fail "pod many$i: last line '$last'"
done
tail -1 "$T/up.out" | grep -qx 'podvisor up: all pods stopped' || fail "no final line: $(tail -3 "$T/up.out")"
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "run dirs left: $(ls "$RR/pods")"
ok "every pod's final state is printed at the stop"
