#!/bin/bash
# The backoff measures each run's own length: after a long run (past the
# reset window) the image disappears and every later start fails; those
# failed starts ran for 0 ms, so the backoff doubles (200, 400, 800 ms...)
# instead of resetting on every failure from the stale start time.
. "$(dirname "$0")/up_lib.sh"
"$PV" --root "$R" image import gone "$(rootfs)" >/dev/null || fail "import gone"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: rt
  annotations:
    podvisor.io/backoff-initial: "200ms"
    podvisor.io/backoff-max: "10s"
    podvisor.io/backoff-reset: "1s"
spec:
  containers:
  - name: c
    image: gone
    command: ["sh", "-c", "sleep 1.5; exit 1"]
Y
start_shim "$T/pod.yaml" rt
wait_for rt '.containerStatuses[0].state.running != null' true 10 || fail "never ran"
# A running container keeps its image (it is locked while the container
# exists): it goes between two runs, during the first backoff.
for _ in $(seq 250); do "$PV" --root "$R" image rm gone >/dev/null 2>&1 && break; sleep 0.02; done
imgs=$("$PV" --root "$R" images) || fail "images failed: $imgs"
grep -q '^busybox ' <<<"$imgs" || fail "images does not list busybox: $imgs"
grep -q '^gone ' <<<"$imgs" && fail "image rm: gone is still listed: $imgs"
wait_for rt '.containerStatuses[0].restartCount >= 1' true 10 || fail "no restart"
sleep 3
n=$(jq_status rt '.containerStatuses[0].restartCount')
echo "restarts after 3 s of failed starts: $n"
# Doubling from 200 ms: at most 200+400+800+1600 in 3 s, 5 tries; a backoff
# reset by each failure retries every 200 ms (about 15).
[ "$n" -le 7 ] || fail "backoff reset by failed starts: $n restarts"
stop_shim "$LAST_SHIM" || fail stop
ok "failed starts count as 0 ms runs"
