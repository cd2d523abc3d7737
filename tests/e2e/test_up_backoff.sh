#!/bin/bash
# The restart backoff against the clock: 100 ms initial, 800 ms max.
# Each run logs one line; its CRI timestamp is the start time of that run.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: crash
  annotations:
    podvisor.io/backoff-initial: "100ms"
    podvisor.io/backoff-max: "800ms"
spec:
  restartPolicy: Always
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo start; exit 1"]
Y
start_shim "$T/pod.yaml" crash
wait_for crash '.containerStatuses[0].restartCount >= 6' true 15 || fail "never reached 6 restarts"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
d=$(logdir_of crash)/c
prev=""
expect=(100 200 400 800 800 800)
for i in 0 1 2 3 4 5 6; do
  line=$(head -1 "$d/$i.log") || fail "no $d/$i.log"
  [[ "$line" =~ ^[0-9T:.-]+Z\ stdout\ F\ start$ ]] || fail "bad CRI line '$line'"
  t=$(ts_ns "${line%% *}")
  if [ -n "$prev" ]; then
    gap=$(( (t - prev) / 1000000 ))
    want=${expect[$((i - 1))]}
    echo "restart $i: gap ${gap} ms (backoff ${want} ms)"
    # The gap is the backoff plus one short run of the container (exit 1).
    [ "$gap" -ge "$want" ] && [ "$gap" -le $((want + 150)) ] || fail "gap $gap ms, expected ~$want ms"
  fi
  prev=$t
done
ok "backoff sequence 100,200,400,800,800 ms"
