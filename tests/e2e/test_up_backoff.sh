#!/bin/bash
# The restart backoff against the clock: 200 ms initial, 1600 ms max.
# Each run logs "start" (its CRI timestamp is the start time of the run) and
# "bye" right before it exits: the gap from one run's "bye" to the next one's
# "start" is the backoff plus the shim's restart work, without the run itself.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: crash
  annotations:
    podvisor.io/backoff-initial: "200ms"
    podvisor.io/backoff-max: "1600ms"
spec:
  restartPolicy: Always
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo start; echo bye; exit 1"]
Y
start_shim "$T/pod.yaml" crash
# The shim keeps only the current and the previous run's log: keep a copy
# of every run's log as it appears.
d=$T/logs
mkdir -p "$d"
( while kill -0 "$LAST_SHIM" 2>/dev/null; do cp -p "$(logdir_of crash)"/c/*.log "$d"/ 2>/dev/null; sleep 0.05; done ) &
COPIER=$!
wait_for crash '.containerStatuses[0].restartCount >= 6' true 25 || fail "never reached 6 restarts"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
wait "$COPIER"
cp -p "$(logdir_of crash)"/c/*.log "$d"/
prev=""
expect=(200 400 800 1600 1600 1600)
over=()
for i in 0 1 2 3 4 5 6; do
  line=$(head -1 "$d/$i.log") || fail "no $d/$i.log"
  [[ "$line" =~ ^[0-9T:.-]+Z\ stdout\ F\ start$ ]] || fail "bad CRI line '$line'"
  t=$(ts_ns "${line%% *}")
  bye=$(grep -m1 ' stdout F bye$' "$d/$i.log") || fail "no bye in $d/$i.log"
  if [ -n "$prev" ]; then
    gap=$(( (t - prev) / 1000000 ))
    want=${expect[$((i - 1))]}
    echo "restart $i: gap ${gap} ms (backoff ${want} ms)"
    # The gap is the backoff plus the exit → reap → restart → exec path,
    # which a loaded machine stretches now and then.  Each gap must still
    # tell its step from the next one (below twice the backoff), and the
    # typical overhead must stay small.
    [ "$gap" -ge "$want" ] && [ "$gap" -lt $((2 * want)) ] || fail "gap $gap ms, expected ~$want ms"
    over+=($((gap - want)))
  fi
  prev=$(ts_ns "${bye%% *}")
done
med=$(printf '%s\n' "${over[@]}" | sort -n | sed -n 3p)
echo "median restart overhead ${med} ms"
[ "$med" -le 150 ] || fail "median restart overhead $med ms"
ok "backoff sequence 200,400,800,1600,1600,1600 ms"
