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
[ ! -e "$(rundir_of hello)" ] || fail "a pod started although a file was invalid"
# The README's example pod as it is: its shell (pid 1 of the container)
# traps SIGTERM, so the stop takes far less than the default 30 s grace.
f=$SRC/examples/hello.yaml
[ -f "$f" ] || fail "$f is missing"
name=$(awk '/^  name:/{print $2; exit}' "$f"); [ -n "$name" ] || fail "no pod name in $f"
"$PV" --root "$R" --run-root "$RR" up "$f" > "$T/up.out" 2>&1 &
up=$!
for _ in $(seq 100); do grep -q Running "$T/up.out" && break; sleep 0.1; done
grep -q Running "$T/up.out" || fail "no Running in up's output: $(cat "$T/up.out")"
# up runs the lean keeper, which the build puts beside podvisor.
[ -x "$(dirname "$PV")/podvisor-shim" ] || fail "no podvisor-shim beside $PV"
sp=$(cat "$(rundir_of "$name")/shim.pid")
[ "$(readlink "/proc/$sp/exe")" = "$(readlink -f "$(dirname "$PV")/podvisor-shim")" ] ||
  fail "the shim is $(readlink "/proc/$sp/exe"), not podvisor-shim"
cg=$(cgroup_of "$name")
[ -n "$cg" ] || fail "no cgroup known for the pod"
t0=$(date +%s%N)
kill -TERM "$up"
wait "$up"; rc=$?
stop_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 0 ] || fail "up exited $rc: $(cat "$T/up.out")"
[ "$stop_ms" -lt 10000 ] || fail "stop took $stop_ms ms: the container waited for SIGKILL"
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "run-root pod dirs left: $(ls "$RR/pods")"
[ -z "$(ls -A "$R/pods" 2>/dev/null)" ] || fail "root pod dirs left: $(ls -A "$R/pods")"
left=$(cgroup_dirs "$cg"); [ -z "$left" ] || fail "cgroup left behind: $left"
ok "up validates first, shows Running, stops on SIGTERM"
"$PV" --root "$R" --run-root "$RR" up --logs "$T/hello.yaml" > "$T/logs.out" 2>&1 &
up=$!
for _ in $(seq 100); do grep -q '^hello/hello | hello from podvisor$' "$T/logs.out" && break; sleep 0.1; done
grep -q '^hello/hello | hello from podvisor$' "$T/logs.out" || fail "no prefixed log line: $(cat "$T/logs.out")"
# The pod ran before under the same name and its log files are kept: the
# earlier run's line is not shown again.
[ "$(grep -c 'hello from podvisor$' "$T/logs.out")" = 1 ] || fail "old log lines repeated: $(cat "$T/logs.out")"
kill -INT "$up"
wait "$up"; rc=$?; [ "$rc" = 0 ] || fail "up --logs exited $rc: $(cat "$T/logs.out")"
ok "up --logs prefixes container output"
# A stop request while the shim is still setting the pod up (Ctrl-C right
# after `up`) stops the pod gracefully: the shim starts with SIGTERM already
# pending (blocked signals stay pending across exec) and must still exit 0
# and leave nothing behind.  (bash cannot block a signal across exec;
# python3 comes with contrib/deps.sh.)
command -v python3 >/dev/null || fail "python3 is missing (contrib/deps.sh installs it)"
python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
os.kill(os.getpid(), signal.SIGTERM)
os.execv(sys.argv[1], sys.argv[1:])' "$PV" --root "$R" --run-root "$RR" shim --pod-file "$T/hello.yaml" --pod hello \
  > "$T/early.out" 2>&1 &
sp=$!
for _ in $(seq 100); do kill -0 "$sp" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sp" 2>/dev/null && { kill -9 "$sp"; fail "the shim did not stop on an early SIGTERM"; }
wait "$sp"; rc=$?
[ "$rc" = 0 ] || fail "shim exited $rc on an early SIGTERM: $(cat "$T/early.out")"
[ ! -e "$(rundir_of hello)" ] || fail "run dir left after an early stop"
ok "SIGTERM during set-up stops the pod cleanly"
