#!/bin/bash
# The flags of a hostPath volume whose source has a submount (as a
# hostPath of "/" has /dev and /dev/shm): the submount is nodev inside,
# readOnly makes only the top mount read-only (Kubernetes' documented
# behaviour), recursiveReadOnly: Enabled the submount too; the source's
# own nosuid and noexec are kept.
. "$(dirname "$0")/up_lib.sh"
SRCDIR=$T/host
mkdir -p "$SRCDIR"
mount -t tmpfs -o size=1m,nosuid,noexec pv-e2e-top "$SRCDIR" || fail "mount the source tmpfs"
mkdir "$SRCDIR/sub"
mount -t tmpfs -o size=1m pv-e2e-sub "$SRCDIR/sub" || { umount "$SRCDIR"; fail "mount the submount"; }
trap 'umount -l "$SRCDIR/sub" "$SRCDIR" 2>/dev/null; cleanup' EXIT
cat > "$T/flags.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: flags}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: host, hostPath: {path: $SRCDIR, type: Directory}}
  containers:
  - name: app
    image: busybox
    command:
    - sh
    - -c
    - |
      for m in /rw /rw/sub /ro /ro/sub /rro /rro/sub; do
        o=\$(awk -v m=\$m '\$5 == m {o = \$6} END {print o}' /proc/self/mountinfo)
        if touch \$m/w 2>/dev/null; then w=writable; else w=readonly; fi
        echo \$m \$o \$w
      done
    volumeMounts:
    - {name: host, mountPath: /rw}
    - {name: host, mountPath: /ro, readOnly: true}
    - {name: host, mountPath: /rro, readOnly: true, recursiveReadOnly: Enabled}
Y
start_shim "$T/flags.yaml" flags
wait_for flags .phase Succeeded 15 || fail "the pod did not succeed: $(jq -c . "$(status_of flags)")"
log=$(sed 's/^[^ ]* stdout F //' "$(logdir_of flags)/app/0.log")
want="/rw rw,nosuid,nodev,noexec,relatime writable
/rw/sub rw,nodev,relatime writable
/ro ro,nosuid,nodev,noexec,relatime readonly
/ro/sub rw,nodev,relatime writable
/rro ro,nosuid,nodev,noexec,relatime readonly
/rro/sub ro,nodev,relatime readonly"
[ "$log" = "$want" ] || fail "inside the container: got
$log
want
$want"
ok "a hostPath's submount is nodev; readOnly leaves it writable, recursiveReadOnly: Enabled does not"
stop_shim $LAST_SHIM || fail "shim did not stop"
