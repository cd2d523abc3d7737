#!/bin/bash
# Container logs on a full disk: the pod's log directory is a 2 MiB tmpfs
# that a filler file fills up while a container writes without pause.  The
# container must never block (its pipes keep being drained), the lost output
# is counted (logDroppedBytes) and said (a podvisor.io/LogsWritable
# condition, one line in the shim's log); once the filler is removed the log
# grows again with new lines, whole records only, and the status says the
# writes resumed.  The status file stays valid JSON throughout.
. "$(dirname "$0")/up_lib.sh"
LOGS=$R/logs
mkdir -p "$LOGS"
mount -t tmpfs -o size=2m,mode=0755 pv-e2e-logs "$LOGS" || fail "mount a tmpfs on $LOGS"
trap 'cleanup_all' EXIT
cleanup_all() {
  for p in $SHIM_PIDS; do stop_shim "$p" || kill -9 "$p" 2>/dev/null; done
  umount "$LOGS" 2>/dev/null || umount -l "$LOGS"
  cleanup
}
# 20 KiB of output every 50 ms (~400 KiB/s): an undrained 1 MiB pipe would
# block the writer within a few seconds.  Each line is longer than a page,
# so none fits in the room left in the last page of a log file once the
# tmpfs is full (the writes would succeed now and then otherwise).  The counter goes to the
# container's own root file system, which is not on the full tmpfs.
cat > "$T/pod.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "i=0; pad=$(head -c 5000 /dev/zero | tr '\\0' x); while :; do i=$((i+1)); for k in 1 2 3 4; do echo \"line $i.$k $pad\"; done; echo $i > /tmp/n; sleep 0.05; done"]
Y
start_shim "$T/pod.yaml" chatty --log-max-size 256k --log-max-files 2
SHIM=$LAST_SHIM
wait_for chatty '.containerStatuses[0].podvisor.fsm' Running 20 || fail "pod not Running"
pid=$(jq_status chatty '.containerStatuses[0].podvisor.pid')
d=$(logdir_of chatty)/c
counter() { local n; n=$(cat "/proc/$pid/root/tmp/n" 2>/dev/null); echo "${n:-0}"; }
lastline() { grep -h ' stdout F line ' "$d"/0.log "$d"/0.log.1 2>/dev/null | sort | tail -1 | cut -d' ' -f5 | cut -d. -f1; }
cond() { jq_status chatty '.conditions[] | select(.type == "podvisor.io/LogsWritable") | '"$1"; }
valid() { jq -e .phase "$(status_of chatty)" >/dev/null || fail "status file not valid JSON: $(head -c 300 "$(status_of chatty)")"; }
for _ in $(seq $((100 * SLOW))); do [ "$(counter)" -ge 10 ] && break; sleep 0.1; done
[ -n "$(lastline)" ] || fail "no log lines before the disk fills"
[ -z "$(cond .status)" ] || fail "a LogsWritable condition before anything failed"
ok "container logging into a 2 MiB tmpfs"

# Fill the tmpfs: the next log write fails with ENOSPC.  Filled early in a
# rotation cycle of the live file (under half its 256 KiB), so that no
# rotation comes while the disk is full: it would delete the oldest file
# and free room for a while (writes would resume, then fail again).
for _ in $(seq $((500 * SLOW))); do [ "$(stat -c %s "$d/0.log" 2>/dev/null || echo 0)" -lt 131072 ] && break; sleep 0.01; done
dd if=/dev/zero of="$LOGS/filler" bs=64k 2>/dev/null && fail "dd filled nothing: the tmpfs is not full"
wait_for chatty '.conditions[] | select(.type == "podvisor.io/LogsWritable") | .status' False 10 ||
  fail "no LogsWritable=False condition once the disk is full"
valid
cond .message | grep -q '^log writes failing: No space left on device since 20' || fail "condition message: $(cond .message)"
[ "$(cond .reason)" = LogWritesFailing ] || fail "condition reason: $(cond .reason)"
[ "$(jq_status chatty '.containerStatuses[0].podvisor.logError')" = "No space left on device" ] || fail "no logError"
[ -n "$(jq_status chatty '.containerStatuses[0].podvisor.logFailingSince')" ] || fail "no logFailingSince"
d1=$(jq_status chatty '.containerStatuses[0].podvisor.logDroppedBytes')
c1=$(counter)
sleep $((3 * SLOW))
valid
d2=$(jq_status chatty '.containerStatuses[0].podvisor.logDroppedBytes')
c2=$(counter)
[ "$d1" -gt 0 ] && [ "$d2" -gt "$d1" ] || fail "logDroppedBytes does not grow: $d1 then $d2"
[ "$c2" -gt "$c1" ] || fail "the container is blocked: its counter stays at $c1 -> $c2"
[ "$(grep -c 'container c: log writes failing' "$T/shim-chatty.log")" = 1 ] ||
  fail "expected one 'log writes failing' line in the shim's log: $(cat "$T/shim-chatty.log")"
grep 'log writes failing' "$T/shim-chatty.log" | grep -q 'No space left on device' || fail "the shim's line names no error"
ok "full disk: dropped bytes counted ($d1 -> $d2), condition and one shim log line, container not blocked ($c1 -> $c2)"

# Space returns: the log grows again with lines written after that.
before=$(counter)
rm -f "$LOGS/filler"
wait_for chatty '.conditions[] | select(.type == "podvisor.io/LogsWritable") | .status' True 10 ||
  fail "condition not True once space returned"
valid
[ "$(cond .reason)" = LogWritesResumed ] || fail "condition reason after resuming: $(cond .reason)"
cond .message | grep -q '^log writes resumed at 20' || fail "condition message after resuming: $(cond .message)"
[ -n "$(jq_status chatty '.containerStatuses[0].podvisor.logResumedAt')" ] || fail "no logResumedAt"
[ -z "$(jq_status chatty '.containerStatuses[0].podvisor.logError // empty')" ] || fail "logError still set"
for _ in $(seq $((100 * SLOW))); do [ "$(lastline)" -gt "$before" ] 2>/dev/null && break; sleep 0.1; done
[ "$(lastline)" -gt "$before" ] || fail "the log does not grow again: last line $(lastline), counter was $before"
grep -q 'container c: log writes resumed' "$T/shim-chatty.log" || fail "no 'log writes resumed' line in the shim's log"
ok "space back: logging resumed (lines past $before), condition True, shim log line"

# Rotation goes on, and no record was torn by the full disk.
sleep $((2 * SLOW))
[ -e "$d/0.log.1" ] || fail "no rotation after resuming: $(ls -l "$d")"
bad=$(cat "$d"/0.log* | grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z (stdout|stderr) [PF] ')
[ "$bad" = 0 ] || fail "$bad malformed records"
dropped=$(jq_status chatty '.containerStatuses[0].podvisor.logDroppedBytes')
ok "rotation after resuming, whole records only"

# The count is the container's, over shims: a shim started again for the
# pod carries it on (as it does the restart count).
kill -9 "$SHIM"
start_shim "$T/pod.yaml" chatty --log-max-size 256k --log-max-files 2
wait_for chatty .podvisor.shimPid "$LAST_SHIM" 10 || fail "no status from the new shim"
valid
now=$(jq_status chatty '.containerStatuses[0].podvisor.logDroppedBytes')
[ "$now" -ge "$dropped" ] 2>/dev/null || fail "the new shim lost logDroppedBytes: $now (was $dropped)"
[ "$(cond .status)" = True ] || fail "the new shim's LogsWritable condition: $(cond .status)"
ok "a new shim keeps logDroppedBytes ($now) and the condition"
