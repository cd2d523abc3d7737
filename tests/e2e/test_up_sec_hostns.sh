#!/bin/bash
# hostPID and hostIPC: the pod's containers are in the host's pid namespace
# (pid 1 is the host's init, and host processes are visible) and the host's
# IPC namespace; without them, in namespaces of their own.  hostPID with
# shareProcessNamespace is refused, as Kubernetes refuses it.
. "$(dirname "$0")/up_lib.sh"
. "$(dirname "$0")/sec_lib.sh"
SH='echo pidns=$(readlink /proc/self/ns/pid); echo ipcns=$(readlink /proc/self/ns/ipc); echo init=$(cat /proc/1/comm); echo seen=$(cat /proc/$HOSTPID/comm 2>/dev/null || echo none); echo done; exec sleep 3600'
sleep 3600 &
MARK=$!
trap 'kill $MARK 2>/dev/null; cleanup' EXIT
pod() { # pod NAME EXTRA-SPEC-LINES
  cat > "$T/$1.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
$2
  containers:
  - name: c
    image: busybox
    env: [{name: HOSTPID, value: "$MARK"}]
    command: ["sh", "-c", '$SH']
Y
}
pod hostns "  hostPID: true
  hostIPC: true"
pod own ""
start_shim "$T/hostns.yaml" hostns
A=$LAST_SHIM
start_shim "$T/own.yaml" own
B=$LAST_SHIM
log_wait hostns c || fail "hostns"
log_wait own c || fail "own"
expect hostns c pidns "$(readlink /proc/self/ns/pid)"
expect hostns c init "$(cat /proc/1/comm)"
expect hostns c seen sleep
ok "hostPID: the host's pid namespace, its init as pid 1, host processes visible"
expect hostns c ipcns "$(readlink /proc/self/ns/ipc)"
ok "hostIPC: the host's IPC namespace"
[ "$(log_line own c pidns)" != "$(readlink /proc/self/ns/pid)" ] || fail "a default pod is in the host's pid namespace"
[ "$(log_line own c ipcns)" != "$(readlink /proc/self/ns/ipc)" ] || fail "a default pod is in the host's IPC namespace"
expect own c init sh
expect own c seen none
ok "without them: a pid and an IPC namespace of the pod's own"
stop_shim "$A" || fail stop
stop_shim "$B" || fail stop
pod both "  hostPID: true
  shareProcessNamespace: true"
if "$PV" validate "$T/both.yaml" > "$T/val.out" 2>&1; then fail "validate accepted hostPID with shareProcessNamespace"; fi
grep -q "both.yaml:8:26: error: spec.shareProcessNamespace: shareProcessNamespace and hostPID cannot both be enabled" "$T/val.out" ||
  fail "no diagnostic: $(cat "$T/val.out")"
ok "hostPID with shareProcessNamespace is refused"
