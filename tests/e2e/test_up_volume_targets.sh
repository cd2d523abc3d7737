#!/bin/bash
# Volume mount points resolved inside the container's root: an init
# container plants links in an emptyDir (/data/sub -> /elsewhere, a path
# the host lacks; /data/sub2 -> a directory the host has), and the app
# mounts two more volumes at /data/sub and /data/sub2.  Each lands where
# its link points inside the container's root, so the app sees it through
# the link as well; nothing is made, written or mounted on the host's side
# of the links.  A link to the container's own root is refused with an
# error naming the volume and its path.
. "$(dirname "$0")/up_lib.sh"
HOSTDIR=$T/hostdir
mkdir "$HOSTDIR"
HOST_HAS_ELSEWHERE=0
[ ! -e /elsewhere ] || HOST_HAS_ELSEWHERE=1
cat > "$T/nested.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: nested}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: data, emptyDir: {}}
  - {name: other, emptyDir: {}}
  - {name: other2, emptyDir: {}}
  initContainers:
  - name: plant
    image: busybox
    command: ["sh", "-c", "ln -s /elsewhere /data/sub && ln -s $HOSTDIR /data/sub2 && echo one > /o/f && echo two > /o2/f"]
    volumeMounts: [{name: data, mountPath: /data}, {name: other, mountPath: /o}, {name: other2, mountPath: /o2}]
  containers:
  - name: app
    image: busybox
    command:
    - sh
    - -c
    - |
      echo "sub: \$(cat /data/sub/f) \$(cat /elsewhere/f) link \$(readlink /data/sub)"
      echo "sub2: \$(cat /data/sub2/f) \$(cat $HOSTDIR/f)"
      echo written > /data/sub2/w && echo "wrote: \$(cat /data/sub2/w)"
      awk '\$5 == "/elsewhere" || \$5 == "$HOSTDIR" {print "mount point:", \$5}' /proc/self/mountinfo
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: other, mountPath: /data/sub}
    - {name: other2, mountPath: /data/sub2}
Y
start_shim "$T/nested.yaml" nested
wait_for nested .phase Succeeded 15 || fail "the pod did not succeed: $(jq -c . "$(status_of nested)")"
log=$(sed 's/^[^ ]* stdout F //' "$(logdir_of nested)/app/0.log")
want="sub: one one link /elsewhere
sub2: two two
wrote: written
mount point: /elsewhere
mount point: $HOSTDIR"
[ "$log" = "$want" ] || fail "inside the container: got
$log
want
$want"
ok "volumes under planted links land inside the container's root"
if [ "$HOST_HAS_ELSEWHERE" = 0 ]; then
  [ ! -e /elsewhere ] || fail "/elsewhere appeared on the host"
else
  skip "/elsewhere stays absent on the host" "this host has one"
fi
[ -z "$(ls -A "$HOSTDIR")" ] || fail "the host's $HOSTDIR was written: $(ls -A "$HOSTDIR")"
grep -q "$HOSTDIR" /proc/self/mountinfo && fail "a mount on the host's $HOSTDIR"
[ "$(cat "$(poddir_of nested)/volumes/other2/w")" = written ] || fail "the write did not reach the volume other2"
ok "the host's side of the links is untouched; the writes reached the volume"
stop_shim $LAST_SHIM || fail "shim did not stop"

# A link to the container's root: the volume would cover the whole root.
cat > "$T/root.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: rootlink}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: data, emptyDir: {}}
  - {name: other, emptyDir: {}}
  initContainers:
  - name: plant
    image: busybox
    command: ["sh", "-c", "ln -s / /data/sub"]
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: app
    image: busybox
    command: ["true"]
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: other, mountPath: /data/sub}
Y
start_shim "$T/root.yaml" rootlink
msg="volume other (/data/sub): the mount point /data/sub resolves, through a symbolic link, to the container's root"
for _ in $(seq $((100 * SLOW))); do
  grep -qF "$msg" "$(status_of rootlink)" 2>/dev/null && break
  sleep 0.1
done
grep -qF "$msg" "$(status_of rootlink)" ||
  fail "no clear error: $(cat "$T/shim-rootlink.log"; jq -c . "$(status_of rootlink)")"
ok "a link to the container's root is refused: $(jq_status rootlink '.containerStatuses[0].state | tostring')"
stop_shim $LAST_SHIM || fail "shim did not stop"
