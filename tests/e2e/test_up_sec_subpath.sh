#!/bin/bash
# subPath through a symbolic link planted by a container (CVE-2017-1002101):
# an init container makes /data/link -> /etc in an emptyDir; the app
# container mounts subPath "link" and must not see the host's /etc.  It is
# refused with a clear error.  A plain subPath (made on demand) still works.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/evil.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: subevil}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: data, emptyDir: {}}
  initContainers:
  - name: plant
    image: busybox
    command: ["sh", "-c", "ln -s /etc /data/link && mkdir -p /data/d && ln -s /etc /data/d/inner"]
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "cat /x/hostname; cat /y/hostname; sleep 3600"]
    volumeMounts:
    - {name: data, mountPath: /x, subPath: link}
    - {name: data, mountPath: /y, subPath: d/inner}
Y
start_shim "$T/evil.yaml" subevil
for _ in $(seq 100); do
  grep -q "symbolic link" "$T/shim-subevil.log" "$(status_of subevil)" 2>/dev/null && break
  [ "$(jq_status subevil '.containerStatuses[0].state.running != null')" = true ] && break
  sleep 0.1
done
[ "$(jq_status subevil '.containerStatuses[0].state.running != null')" != true ] || fail "the app container runs with the planted link"
grep -rq "$(cat /etc/hostname)" "$(logdir_of subevil)/app" 2>/dev/null && fail "the host's /etc/hostname leaked into the container"
grep -q "subPath link goes through a symbolic link" "$T/shim-subevil.log" "$(status_of subevil)" 2>/dev/null ||
  fail "no clear error: $(cat "$T/shim-subevil.log"; jq -c . "$(status_of subevil)")"
jq_status subevil '.containerStatuses[0].state' | grep -q "symbolic link" || fail "the error is not in the container's state: $(jq_status subevil '.containerStatuses[0]')"
ok "a subPath through a planted link is refused: $(jq_status subevil '.containerStatuses[0].state | tostring')"
stop_shim $LAST_SHIM || fail "shim did not stop"

cat > "$T/good.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: subgood}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: data, emptyDir: {}}
  initContainers:
  - name: fill
    image: busybox
    command: ["sh", "-c", "echo inside > /data/a/b/f"]
    volumeMounts: [{name: data, mountPath: /data/a/b, subPath: deep/er}]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "cat /m/er/f; cat /f2; exec sleep 3600"]
    volumeMounts:
    - {name: data, mountPath: /m, subPath: deep}
    - {name: data, mountPath: /f2, subPath: deep/er/f}
Y
start_shim "$T/good.yaml" subgood
wait_for subgood '.containerStatuses[0].state.running != null' true 15 || fail "plain subPath pod not running"
sleep 0.5
n=$(cat "$(logdir_of subgood)"/app/0.log | grep -c " inside$")
[ "$n" = 2 ] || fail "subPath content not seen twice: $(cat "$(logdir_of subgood)"/app/0.log)"
ok "plain subPaths (directory and file, made on demand) work"
pd=$(poddir_of subgood)
stop_shim $LAST_SHIM || fail "shim did not stop"
[ ! -e "$pd" ] || fail "pod dir left behind: $(find "$pd" | head)"
ok "subPath mounts are released"
