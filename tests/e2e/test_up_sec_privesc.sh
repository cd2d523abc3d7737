#!/bin/bash
# allowPrivilegeEscalation, as Kubernetes means it: unset is true, so
# no_new_privs is off and a setuid-root program of the image (here busybox
# with the suid bit, allowed to keep it for `id` by /etc/busybox.conf) run
# by uid 1000 gets euid 0; false sets no_new_privs, and the same program
# starts with euid 1000 (busybox then fails to take the uid its config
# names, and prints nothing: "none").  (busybox.conf gives `id` the owner's ids in every
# busybox of the image, so the test reads its own uid from /proc.)
. "$(dirname "$0")/up_lib.sh"
. "$(dirname "$0")/sec_lib.sh"
img=$T/suidimg
cp -a "$(rootfs)" "$img"
mkdir -p "$img/suid"
cp "$img/bin/busybox" "$img/suid/busybox"
chmod 4755 "$img/suid/busybox"
printf '[SUID]\nid = sxx root.0\n' > "$img/etc/busybox.conf"
chmod 644 "$img/etc/busybox.conf"
"$PV" --root "$R" image import suidbox "$img" >/dev/null || fail "image import suidbox"
SH='echo nnp=$(sed -n "s/^NoNewPrivs:\t//p" /proc/self/status); echo euid=$(/suid/busybox id -u 2>/dev/null || echo none); echo uid=$(sed -n "s/^Uid:	\([0-9]*\).*/\1/p" /proc/self/status); echo done; exec sleep 3600'
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: privesc
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsUser: 1000
    runAsGroup: 1000
  containers:
  - name: unset
    image: suidbox
    command: ["sh", "-c", '$SH']
  - name: allowed
    image: suidbox
    command: ["sh", "-c", '$SH']
    securityContext: {allowPrivilegeEscalation: true}
  - name: denied
    image: suidbox
    command: ["sh", "-c", '$SH']
    securityContext: {allowPrivilegeEscalation: false}
Y
start_shim "$T/pod.yaml" privesc
for c in unset allowed denied; do log_wait privesc $c || fail "container $c"; done
for c in unset allowed; do
  expect privesc $c uid 1000
  expect privesc $c nnp 0
  expect privesc $c euid 0
done
ok "allowPrivilegeEscalation unset or true: NoNewPrivs 0, a setuid-root program gets euid 0"
expect privesc denied uid 1000
expect privesc denied nnp 1
expect privesc denied euid none
ok "allowPrivilegeEscalation: false: NoNewPrivs 1, the setuid bit gives nothing"
stop_shim "$LAST_SHIM" || fail stop
