#!/bin/bash
# The pod sandbox: hostname, private network namespace with lo up, and a
# shared pid namespace with shareProcessNamespace.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: sandboxed
spec:
  hostname: podhost
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox
    command: ["sleep", "3601"]
  - name: b
    image: busybox
    command: ["sh", "-c", "for i in \$(seq 50); do ps -o args | grep -q '^sleep 3601' && break; sleep 0.1; done; echo host=\$(hostname); echo lo=\$(cat /sys/class/net/lo/flags); echo ifs=\$(ls /sys/class/net | tr '\\\\n' ' '); ps -o args | grep -c '^sleep 3601'; exec sleep 3600"]
Y
start_shim "$T/pod.yaml" sandboxed
f=$(logdir_of sandboxed)/b/0.log
for _ in $(seq 150); do n=$(grep -c stdout "$f" 2>/dev/null); [ "${n:-0}" -ge 4 ] && break; sleep 0.1; done
cat "$f"
grep -q 'stdout F host=podhost$' "$f" || fail "hostname"
grep -q 'stdout F lo=0x9$' "$f" || fail "lo not up"
grep -q 'stdout F ifs=lo$' "$f" || fail "network namespace not private"
grep -q 'stdout F 1$' "$f" || fail "b does not see a's process: no shared pid namespace"
stop_shim "$LAST_SHIM" || fail stop
ok "hostname, private netns with lo up, shared pid namespace"
