#!/bin/bash
# A metadata.uid names directories and a cgroup: one that climbs out of the
# state roots ("../../victim") is refused by `validate` and by `up`, and
# nothing outside the roots is created or removed.
. "$(dirname "$0")/up_lib.sh"
mkdir -p "$T/victim"
echo keep > "$T/victim/precious"
cat > "$T/evil.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: evil
  uid: "../../victim"
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
Y
if "$PV" validate "$T/evil.yaml" > "$T/val.out" 2>&1; then fail "validate accepted uid ../../victim"; fi
grep -q "metadata.uid: invalid uid" "$T/val.out" || fail "no uid diagnostic: $(cat "$T/val.out")"
ok "validate refuses a traversal uid"
if timeout 20 "$PV" --root "$R" --run-root "$RR" up "$T/evil.yaml" > "$T/up.out" 2>&1; then
  fail "up accepted uid ../../victim"
fi
grep -q "invalid uid" "$T/up.out" || fail "no uid diagnostic from up: $(cat "$T/up.out")"
[ -f "$T/victim/precious" ] || fail "the victim directory was touched"
[ "$(ls "$T/victim")" = precious ] || fail "something was written into the victim directory: $(ls "$T/victim")"
[ ! -e "$RR/pods" ] || [ -z "$(ls "$RR/pods")" ] || fail "a pod started: $(ls "$RR/pods")"
ok "up refuses a traversal uid and touches nothing"
