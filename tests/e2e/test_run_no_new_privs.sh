#!/bin/bash
# `podvisor run` and no_new_privs, as docker and podman have it: off by
# default, so a setuid-root program of the image (busybox with the suid bit,
# allowed to keep it for `id` by /etc/busybox.conf) run by uid 1000 gets
# euid 0; `--security-opt no-new-privileges` sets it and the same program
# keeps euid 1000 (busybox then refuses to run `id` and prints nothing).
. "$(dirname "$0")/up_lib.sh"
img=$T/suidimg
cp -a "$(rootfs)" "$img"
mkdir -p "$img/suid"
cp "$img/bin/busybox" "$img/suid/busybox"
chmod 4755 "$img/suid/busybox"
printf '[SUID]\nid = sxx root.0\n' > "$img/etc/busybox.conf"
chmod 644 "$img/etc/busybox.conf"
"$PV" --root "$R" image import suidbox "$img" >/dev/null || fail "image import suidbox"
run() { "$PV" --root "$R" run --rm --user 1000:1000 "$@" suidbox sh -c \
  'echo nnp=$(sed -n "s/^NoNewPrivs:\t//p" /proc/self/status) euid=$(/suid/busybox id -u 2>/dev/null || echo none)'; }
out=$(run) || fail "run: $out"
[ "$out" = "nnp=0 euid=0" ] || fail "default: want nnp=0 euid=0, got: $out"
ok "run: no no_new_privs by default, a setuid program gains its owner"
for opt in no-new-privileges no-new-privileges=true no-new-privileges:true; do
  out=$(run --security-opt "$opt") || fail "run --security-opt $opt: $out"
  [ "$out" = "nnp=1 euid=none" ] || fail "--security-opt $opt: want nnp=1 euid=none, got: $out"
done
out=$(run --security-opt no-new-privileges=false) || fail "run: $out"
[ "$out" = "nnp=0 euid=0" ] || fail "no-new-privileges=false: $out"
ok "run: --security-opt no-new-privileges sets no_new_privs, and the setuid program gains nothing"
out=$("$PV" --root "$R" run --rm --security-opt no-new-privileges=maybe busybox true 2>&1); rc=$?
[ "$rc" = 125 ] || fail "a bad no-new-privileges value exited $rc"
case $out in *"--security-opt no-new-privileges=maybe"*) ;; *) fail "bad value message: $out" ;; esac
ok "run: a bad no-new-privileges value is refused (125) and named"
