#!/bin/bash
# Init containers run in order before the app; a failing one under Never fails the pod.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/good.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: good
spec:
  restartPolicy: Never
  volumes:
  - name: shared
    emptyDir: {}
  initContainers:
  - name: one
    image: busybox
    command: ["sh", "-c", "echo one > /data/order"]
    volumeMounts: [{name: shared, mountPath: /data}]
  - name: two
    image: busybox
    command: ["sh", "-c", "echo two >> /data/order"]
    volumeMounts: [{name: shared, mountPath: /data}]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "tr '\\\\n' , < /data/order; echo"]
    volumeMounts: [{name: shared, mountPath: /data}]
Y
cat > "$T/bad.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: bad
spec:
  restartPolicy: Never
  initContainers:
  - name: boom
    image: busybox
    command: ["sh", "-c", "exit 3"]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo app ran"]
Y
start_shim "$T/good.yaml" good
g=$LAST_SHIM
start_shim "$T/bad.yaml" bad
b=$LAST_SHIM
wait_for good .phase Succeeded || fail "good pod not Succeeded"
grep -q 'stdout F one,two,$' "$(logdir_of good)/app/0.log" || fail "app did not read one,two: $(cat "$(logdir_of good)/app/0.log")"
wait_for bad .phase Failed || fail "bad pod not Failed"
[ "$(jq_status bad '.initContainerStatuses[0].state.terminated.exitCode')" = 3 ] || fail "init exit code"
[ "$(jq_status bad '.containerStatuses[0].state.waiting.reason')" = PodInitializing ] || fail "app state: $(jq_status bad '.containerStatuses[0].state')"
[ ! -e "$(logdir_of bad)/app" ] || fail "app of the failed pod was started"
stop_shim "$g" && stop_shim "$b" || fail stop
ok "init ordering and failing init"
