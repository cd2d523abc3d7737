#!/bin/bash
# `podvisor up`: invalid files start nothing; a valid pod shows Running;
# SIGTERM stops it, exit 0, nothing left behind.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/bad.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - name: c
    image: busybox
    comand: ["true"]
Y
cat > "$T/hello.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: hello
    image: busybox
    command: ["sh", "-c", "echo hello from podvisor; exec sleep 3600"]
Y
if "$PV" --root "$R" --run-root "$RR" up "$T/hello.yaml" "$T/bad.yaml" > "$T/bad.out" 2>&1; then fail "up accepted an invalid file"; fi
grep -q "comand" "$T/bad.out" || fail "no diagnostic: $(cat "$T/bad.out")"
[ ! -e "$RR/pods/$(uid_of hello)" ] || fail "a pod started although a file was invalid"
# The README's example pod, with a 2 s grace period: its shell is pid 1 and
# ignores SIGTERM, so a stop would otherwise take the default 30 s.
f=$T/hello.yaml
if [ -f "$SRC/examples/hello.yaml" ]; then
  f=$T/example-hello.yaml
  sed 's/^spec:$/spec:\n  terminationGracePeriodSeconds: 2/' "$SRC/examples/hello.yaml" > "$f"
fi
name=$(awk '/^  name:/{print $2; exit}' "$f"); [ -n "$name" ] || name=hello
"$PV" --root "$R" --run-root "$RR" up "$f" > "$T/up.out" 2>&1 &
up=$!
for _ in $(seq 100); do grep -q Running "$T/up.out" && break; sleep 0.1; done
grep -q Running "$T/up.out" || fail "no Running in up's output: $(cat "$T/up.out")"
kill -TERM "$up"
wait "$up"; rc=$?
[ "$rc" = 0 ] || fail "up exited $rc: $(cat "$T/up.out")"
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "run-root pod dirs left: $(ls "$RR/pods")"
[ -z "$(ls -A "$R/pods" 2>/dev/null)" ] || true
for cg in /sys/fs/cgroup/*/podvisor/$(uid_of "$name"); do [ -e "$cg" ] && fail "cgroup $cg left behind"; done
ok "up validates first, shows Running, stops on SIGTERM"
"$PV" --root "$R" --run-root "$RR" up --logs "$T/hello.yaml" > "$T/logs.out" 2>&1 &
up=$!
for _ in $(seq 100); do grep -q '^hello/hello | hello from podvisor$' "$T/logs.out" && break; sleep 0.1; done
grep -q '^hello/hello | hello from podvisor$' "$T/logs.out" || fail "no prefixed log line: $(cat "$T/logs.out")"
kill -INT "$up"
wait "$up" || fail "up --logs exited $?"
ok "up --logs prefixes container output"
