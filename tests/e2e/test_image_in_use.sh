#!/bin/bash
# An image a running container uses is neither removed nor replaced (its
# tree would be deleted under the container): `image rm` and `image import`
# of the same tag fail with a clear message and change nothing; once the pod
# is down both work.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: inuse
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do cat /bin/busybox >/dev/null; sleep 0.2; done"]
Y
start_shim "$T/pod.yaml" inuse
wait_for inuse '.containerStatuses[0].state.running != null' true 10 || fail "not running"
out=$("$PV" --root "$R" image rm busybox 2>&1) && fail "image rm of an image in use succeeded"
echo "$out" | grep -q "busybox:latest is in use by a container" || fail "unclear message: $out"
"$PV" --root "$R" images | grep -q '^busybox ' || fail "the image is gone: $("$PV" --root "$R" images)"
out=$("$PV" --root "$R" image import busybox "$(rootfs)" 2>&1) && fail "import over an image in use succeeded"
echo "$out" | grep -q "in use by a container" || fail "unclear import message: $out"
sleep 0.5
wait_for inuse '.containerStatuses[0].restartCount' 0 2 || fail "the container was disturbed"
[ "$(jq_status inuse '.containerStatuses[0].state.running != null')" = true ] || fail "container not running"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
"$PV" --root "$R" image import busybox "$(rootfs)" >/dev/null || fail "import after the pod stopped"
"$PV" --root "$R" image rm busybox >/dev/null || fail "image rm after the pod stopped"
"$PV" --root "$R" images | grep -q '^busybox ' && fail "the image is still listed"
ok "image in use: rm and import refused with a clear message, both work once the pod is down"
