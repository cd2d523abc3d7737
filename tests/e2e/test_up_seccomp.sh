#!/bin/bash
# securityContext.seccompProfile in pods run by the shim: unset means
# RuntimeDefault (Seccomp filter mode, no new user namespace), Unconfined
# and privileged containers have no filter, a Localhost profile is read
# from <root>/seccomp/ and its errno is what the container sees, and a
# Localhost profile that is missing fails that container with a message
# naming the file.
. "$(dirname "$0")/up_lib.sh"
mkdir -p "$T/out" "$R/seccomp/team"
cat > "$R/seccomp/team/nomkdir.json" <<'J'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
J
ctr() { # ctr NAME SECURITYCONTEXT
  cat <<Y
  - name: $1
    image: busybox
    command: ["sh", "-c", "grep '^Seccomp:' /proc/self/status > /out/$1; unshare -U true 2>> /out/$1; mkdir /tmp/d 2>> /out/$1; true"]
    volumeMounts: [{name: out, mountPath: /out}]
    securityContext: $2
Y
}
{
  cat <<Y
apiVersion: v1
kind: Pod
metadata: {name: sc}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes: [{name: out, hostPath: {path: $T/out}}]
  containers:
Y
  ctr dflt "{}"
  ctr unconfined "{seccompProfile: {type: Unconfined}}"
  ctr local "{seccompProfile: {type: Localhost, localhostProfile: team/nomkdir.json}}"
  ctr priv "{privileged: true, seccompProfile: {type: RuntimeDefault}}"
} > "$T/sc.yaml"
"$PV" validate "$T/sc.yaml" > "$T/val.out" 2>&1 || fail "validate: $(cat "$T/val.out")"
grep -q seccomp "$T/val.out" && fail "validate still warns about seccomp: $(cat "$T/val.out")"
timeout 60 "$PV" --root "$R" --run-root "$RR" up "$T/sc.yaml" > "$T/up.out" 2>&1 || fail "up: $(cat "$T/up.out")"
grep -q "^Seccomp:	2$" "$T/out/dflt" || fail "dflt is not filtered: $(cat "$T/out/dflt")"
grep -q "unshare: unshare(0x10000000): Operation not permitted" "$T/out/dflt" ||
  fail "dflt could make a user namespace: $(cat "$T/out/dflt")"
grep -q "Permission denied" "$T/out/dflt" && fail "dflt cannot mkdir: $(cat "$T/out/dflt")"
ok "no seccompProfile: RuntimeDefault, no user namespace"
grep -q "^Seccomp:	0$" "$T/out/unconfined" || fail "unconfined is filtered: $(cat "$T/out/unconfined")"
grep -q "^Seccomp:	0$" "$T/out/priv" || fail "privileged is filtered: $(cat "$T/out/priv")"
ok "Unconfined and privileged containers have no filter"
grep -q "^Seccomp:	2$" "$T/out/local" || fail "local is not filtered: $(cat "$T/out/local")"
grep -q "mkdir: can't create directory '/tmp/d': Permission denied" "$T/out/local" ||
  fail "the Localhost profile's errno is not what mkdir saw: $(cat "$T/out/local")"
grep -q "Operation not permitted" "$T/out/local" && fail "the Localhost profile is not the one applied: $(cat "$T/out/local")"
ok "a Localhost profile below <root>/seccomp/ is applied with its errno"

cat > "$T/missing.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: missing}
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["true"]
    securityContext: {seccompProfile: {type: Localhost, localhostProfile: nope.json}}
Y
"$PV" --root "$R" --run-root "$RR" up "$T/missing.yaml" > "$T/missing.out" 2>&1 &
up=$!
SHIM_PIDS="$up"
want="container c: seccomp profile $R/seccomp/nope.json: No such file or directory"
wait_for missing '.containerStatuses[0].lastState.terminated.message' "$want" 10 ||
  fail "the start error does not name the profile: $(cat "$T/missing.out")"
[ "$(jq_status missing '.containerStatuses[0].lastState.terminated.reason')" = StartError ] ||
  fail "not a StartError: $(jq_status missing '.containerStatuses[0]')"
kill -INT "$up"
wait "$up"
ok "a missing Localhost profile fails the container's start and names the file"
