#!/bin/bash
# A full log disk seen through the daemon: the pod's status in the API has
# the podvisor.io/LogsWritable condition and the container's dropped bytes,
# `podvisor describe` shows them, and both say when the writes resume.  The
# logs directory is a 2 MiB tmpfs that a filler file fills up.
. "$(dirname "$0")/daemon_lib.sh"
LOGS=$R/logs
mkdir -p "$LOGS"
mount -t tmpfs -o size=2m,mode=0755 pv-e2e-dlogs "$LOGS" || fail "mount a tmpfs on $LOGS"
trap '_daemon_cleanup_all' EXIT
_daemon_cleanup_all() {
  [ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  DAEMON_PID=""
  umount "$LOGS" 2>/dev/null || umount -l "$LOGS"
  _daemon_cleanup
}
start_daemon
# Lines longer than a page (see test_up_logs_disk_full.sh), 20 KiB every 50 ms.
cat >"$T/chatty.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command:
    - sh
    - -c
    - |
      pad=$(head -c 5000 /dev/zero | tr '\0' x); i=0
      while :; do i=$((i+1)); for k in 1 2 3 4; do echo "line $i.$k $pad"; done; sleep 0.05; done
Y
out=$(pvc apply -f "$T/chatty.yaml" 2>&1) || fail "apply: $out"
wait_pod chatty .status.phase Running || fail "chatty not Running"
COND='.status.conditions[] | select(.type == "podvisor.io/LogsWritable")'
for _ in $(seq $((50 * SLOW))); do [ -s "$(ls "$LOGS"/*/app/0.log 2>/dev/null | head -1)" ] && break; sleep 0.1; done

dd if=/dev/zero of="$LOGS/filler" bs=64k 2>/dev/null && fail "dd filled nothing"
wait_pod chatty "$COND | .status" False 10 || fail "no LogsWritable=False in the API's pod status"
msg=$(pvc get pod chatty -o json | jq -r "$COND | .message")
echo "$msg" | grep -qE '^log writes failing: No space left on device since 20[0-9-]+T[0-9:.]+Z \(container app, [0-9]+ bytes dropped\)$' ||
  fail "condition message: $msg"
out=$(pvc describe pod chatty)
for want in '^ +Log Dropped Bytes: +[1-9][0-9]*$' '^ +Log Writes: +failing: No space left on device since ' \
  '^ +podvisor.io/LogsWritable +False *$'; do
  echo "$out" | grep -qE "$want" || fail "describe has no '$want': $out"
done
ok "full disk: the API's condition and message, describe's lines"

rm -f "$LOGS/filler"
wait_pod chatty "$COND | .status" True 10 || fail "no LogsWritable=True once space returned"
[ "$(pvc get pod chatty -o json | jq -r "$COND | .reason")" = LogWritesResumed ] || fail "reason after resuming"
out=$(pvc describe pod chatty)
echo "$out" | grep -qE '^ +Log Writes: +resumed ' || fail "describe does not say the writes resumed: $out"
ok "space back: condition True, describe says resumed"
stop_daemon
