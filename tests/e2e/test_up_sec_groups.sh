#!/bin/bash
# fsGroup and supplementalGroups: every process of the pod has fsGroup and
# the supplementalGroups as supplementary groups, plus (Merge, the default)
# the user's groups of the image's /etc/group, which Strict leaves out; the
# pod's emptyDir is given to group fsGroup (setgid, g+rwx, so new files get
# the group too), a hostPath is left as it is, as the kubelet leaves it.
. "$(dirname "$0")/up_lib.sh"
. "$(dirname "$0")/sec_lib.sh"
img=$T/grpimg
cp -a "$(rootfs)" "$img"
echo 'app:x:1000:1000::/home/app:/bin/sh' >> "$img/etc/passwd"
printf 'wheel:x:10:root,app\naudio:x:29:app\nothers:x:50:root\n' >> "$img/etc/group"
"$PV" --root "$R" image import grpimg "$img" >/dev/null || fail "image import grpimg"
mkdir -p "$T/hostdir"
echo keep > "$T/hostdir/f"
chmod 0755 "$T/hostdir"
SH='echo groups=$(id -G | tr " " "\n" | sort -n | tr "\n" " "); echo dir=$(stat -c "%g %a" /data); touch /data/new; echo new=$(stat -c %g /data/new); echo host=$(stat -c "%g %a" /host); echo done; exec sleep 3600'
pod() { # pod NAME POLICY
  cat > "$T/$1.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsUser: 1000
    runAsGroup: 1000
    fsGroup: 2000
    supplementalGroups: [3000, 2000]
    supplementalGroupsPolicy: $2
  containers:
  - name: c
    image: grpimg
    command: ["sh", "-c", '$SH']
    volumeMounts: [{name: data, mountPath: /data}, {name: host, mountPath: /host}]
  volumes:
  - {name: data, emptyDir: {}}
  - {name: host, hostPath: {path: "$T/hostdir"}}
Y
}
pod merged Merge
pod strict Strict
start_shim "$T/merged.yaml" merged
A=$LAST_SHIM
start_shim "$T/strict.yaml" strict
B=$LAST_SHIM
log_wait merged c || fail merged
log_wait strict c || fail strict
expect merged c groups "10 29 1000 2000 3000"
ok "Merge: runAsGroup, fsGroup, supplementalGroups and the image's groups of the user"
expect strict c groups "1000 2000 3000"
ok "Strict: only runAsGroup, fsGroup and supplementalGroups"
expect merged c dir "2000 2777"
expect merged c new 2000
ok "fsGroup: the emptyDir belongs to group 2000 (setgid, g+rwx), new files inherit it"
expect merged c host "0 755"
[ "$(stat -c %g "$T/hostdir/f")" = 0 ] || fail "a hostPath file was given to the fsGroup"
ok "fsGroup leaves a hostPath alone"
stop_shim "$A" || fail stop
stop_shim "$B" || fail stop
