#!/bin/bash
# `podvisor run --security-opt seccomp=...`: RuntimeDefault by default
# (filter mode, no user namespace), seccomp=unconfined and --privileged
# without a filter, seccomp=FILE with the file's errno, a bad file refused
# with exit 125 and a message naming the file and the entry.
. "$(dirname "$0")/up_lib.sh"
run() { "$PV" --root "$R" run --rm "$@"; }
status='grep ^Seccomp: /proc/self/status'
[ "$(run busybox sh -c "$status")" = "Seccomp:	2" ] || fail "default: $(run busybox sh -c "$status" 2>&1)"
out=$(run busybox sh -c 'unshare -U true 2>&1; echo rc=$?')
case $out in *"Operation not permitted"*rc=1) ;; *) fail "default: unshare -U: $out" ;; esac
ok "run: RuntimeDefault by default"
[ "$(run --security-opt seccomp=unconfined busybox sh -c "$status")" = "Seccomp:	0" ] || fail "seccomp=unconfined"
[ "$(run --privileged busybox sh -c "$status")" = "Seccomp:	0" ] || fail "--privileged is filtered"
ok "run: seccomp=unconfined and --privileged have no filter"
cat > "$T/p.json" <<'J'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
J
out=$(run --security-opt "seccomp=$T/p.json" busybox sh -c 'mkdir /tmp/d 2>&1; echo rc=$?')
[ "$out" = "mkdir: can't create directory '/tmp/d': Operation not permitted
rc=1" ] || fail "seccomp=FILE: $out"
ok "run: seccomp=FILE applies the file"
echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdri"], "action": "SCMP_ACT_ERRNO"}]}' > "$T/bad.json"
out=$(run --security-opt "seccomp=$T/bad.json" busybox true 2>&1); rc=$?
[ "$rc" = 125 ] || fail "a bad profile exited $rc"
case $out in *"$T/bad.json: syscalls[0]: unknown system call 'mkdri'"*) ;; *) fail "bad profile message: $out" ;; esac
out=$(run --security-opt apparmor=x busybox true 2>&1); rc=$?
[ "$rc" = 125 ] || fail "an unknown --security-opt exited $rc"
ok "run: a bad profile or option is refused (125) and named"
