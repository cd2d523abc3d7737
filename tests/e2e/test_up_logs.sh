#!/bin/bash
# CRI log format, long-line splitting, fast bursts without loss or
# reordering, and size rotation (--log-max-size on the shim).
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "yes x | head -n 20000 | tr -d '\\\\n'; echo; seq 1 20000; echo err-line >&2"]
Y
cat > "$T/rot.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: rot
spec:
  restartPolicy: Never
  containers:
  - name: big
    image: busybox
    command: ["sh", "-c", "seq 1 5000"]
Y
start_shim "$T/pod.yaml" chatty
s1=$LAST_SHIM
start_shim "$T/rot.yaml" rot --log-max-size 16k --log-max-files 3
wait_for chatty .phase Succeeded 20 || fail "pod not Succeeded"
wait_for rot .phase Succeeded 20 || fail "rot pod not Succeeded"
stop_shim "$s1" && stop_shim "$LAST_SHIM" || fail stop
d=$(logdir_of chatty)
f=$d/c/0.log
# Every record is "<RFC3339Nano> <stdout|stderr> <P|F> <text>".
bad=$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z (stdout|stderr) [PF] ' "$f")
[ "$bad" = 0 ] || fail "$bad malformed records"
# The 20000-byte line: one P of 16384 then an F of 3616.
grep ' stdout ' "$f" | head -1 | grep -qE ' stdout P x{16384}$' || fail "first record is not P(16384)"
grep ' stdout ' "$f" | sed -n 2p | grep -qE ' stdout F x{3616}$' || fail "second record is not F(3616)"
# 20000 numbers in order, none lost.
cut -d' ' -f2- "$f" | grep '^stdout F [0-9]' | cut -d' ' -f3 > "$T/nums"
seq 1 20000 | cmp -s - "$T/nums" || fail "stdout lines lost or reordered ($(wc -l < "$T/nums") lines)"
grep -q ' stderr F err-line$' "$f" || fail "stderr line missing"
# Rotation: the 5000-line container wrote ~160 KiB with a 16 KiB limit and 3 files kept.
d=$(logdir_of rot)
n=$(ls "$d/big" | wc -l)
[ "$n" = 3 ] || fail "expected 3 rotated files, got $(ls "$d/big")"
for x in "$d"/big/*; do [ "$(stat -c %s "$x")" -le 16384 ] || fail "$x larger than 16 KiB"; done
tail -1 "$d/big/0.log" | grep -q ' stdout F 5000$' || fail "last line not in the live file"
ok "CRI format, split, order, rotation"
