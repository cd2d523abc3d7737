#!/bin/bash
# The CLI against the real daemon: get pods (and -w), describe pod, logs
# (and -f until the run ends), exec -it through a pty, exec -i with stdin,
# restart, events -w.
. "$(dirname "$0")/daemon_lib.sh"
command -v python3 >/dev/null || { echo "skipped: needs python3"; exit 77; }
start_daemon
pod_yaml web 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done' >"$T/web.yaml"
out=$(pvc apply -f "$T/web.yaml" 2>&1) || fail "apply: $out"
[ "$out" = "pod/web created" ] || fail "apply printed: $out"
wait_pod web .status.phase Running || fail "web not Running"

out=$(pvc get pods)
echo "$out" | head -1 | grep -qE '^NAME +READY +STATUS +RESTARTS +AGE$' || fail "get header: $out"
echo "$out" | grep -qE '^web +1/1 +Running +0 +[0-9]+s$' || fail "get row: $out"
[ "$(pvc get pods -o name)" = "pod/web" ] || fail "get -o name"
[ "$(pvc get pod web -o json | jq -r .metadata.name)" = web ] || fail "get -o json"
ok "get pods"

out=$(pvc describe pod web)
for want in '^Name: +web$' '^Namespace: +default$' '^Status: +Running$' '^Containers:$' '^ +app:$' \
  '^ +Image: +busybox$' '^Events:$' 'Started +[0-9]+s.* podvisor +Started container app'; do
  echo "$out" | grep -qE "$want" || fail "describe has no '$want': $out"
done
ok "describe pod"

for _ in $(seq 50); do pvc logs web | grep -q 'tick 3' && break; sleep 0.1; done
out=$(pvc logs web --tail 2)
[ "$(echo "$out" | wc -l)" = 2 ] || fail "logs --tail 2: $out"
echo "$out" | grep -qE '^tick [0-9]+$' || fail "logs: $out"
pvc logs web --timestamps --tail 1 | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z tick [0-9]+$' \
  || fail "logs --timestamps"
ok "logs, --tail, --timestamps"

# logs -f streams and ends by itself when the container's run ends.
cat >"$T/short.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: short
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo line 1; sleep 2; echo line 2; sleep 1; echo line 3"]
Y
pvc apply -f "$T/short.yaml" >/dev/null || fail "apply short"
for _ in $(seq 100); do pvc logs short 2>/dev/null | grep -q 'line 1' && break; sleep 0.1; done
start=$(date +%s%N)
out=$(timeout 20 "$PV" --root "$R" --run-root "$RR" logs -f short); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 0 ] || fail "logs -f exited $rc (124: it did not end with the run): $out"
[ "$out" = "$(printf 'line 1\nline 2\nline 3')" ] || fail "logs -f printed: $out"
[ "$ms" -ge 1000 ] || fail "logs -f ended after $ms ms, before the container's run did"
ok "logs -f streams until the run ends ($ms ms)"

# exec -it through a pty: a real terminal of the size of ours, CMD's exit code.
cat >"$T/pty.py" <<'P'
import fcntl, os, struct, subprocess, sys, termios, time
m, s = os.openpty()
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
p = subprocess.Popen(sys.argv[1:], stdin=s, stdout=s, stderr=s, start_new_session=True,
                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
os.close(s)
out = b""
deadline = time.time() + 20
while time.time() < deadline:
    try:
        b = os.read(m, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
rc = p.wait(timeout=10)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(rc)
P
out=$(python3 "$T/pty.py" "$PV" --root "$R" --run-root "$RR" exec -it web -- sh -c '[ -t 0 ] && [ -t 1 ] && echo on-a-terminal; stty size; exit 3'); rc=$?
[ "$rc" = 3 ] || fail "exec -it exit code $rc, want 3: $out"
echo "$out" | grep -q "^on-a-terminal" || fail "exec -it has no tty: $out"
echo "$out" | grep -q '^33 101' || fail "exec -it terminal size: $out"
ok "exec -it through a pty (tty, size 33x101, exit code 3)"
out=$(echo hello-stdin | pvc exec -i web -- sh -c 'cat; echo on-stderr >&2' 2>"$T/err") || fail "exec -i: $out"
[ "$out" = hello-stdin ] || fail "exec -i stdout: $out"
[ "$(cat "$T/err")" = on-stderr ] || fail "exec -i stderr: $(cat "$T/err")"
pvc exec web -c nope -- true 2>"$T/err" && fail "exec in a missing container succeeded"
grep -q nope "$T/err" || fail "exec error: $(cat "$T/err")"
pvc exec ghost -- true 2>"$T/err" && fail "exec in a missing pod succeeded"
grep -q ghost "$T/err" || fail "exec error: $(cat "$T/err")"
ok "exec -i with stdin and stderr, refusals"

# restart: the container runs again at once, its restart counted.
out=$(pvc restart pod web -c app) || fail "restart: $out"
wait_pod web '.status.containerStatuses[0].restartCount' 1 || fail "restartCount after restart"
ok "restart pod -c app"

# events -w and get pods -w see a new pod.
"$PV" --root "$R" --run-root "$RR" events -w >"$T/events.out" 2>&1 &
EV=$!
"$PV" --root "$R" --run-root "$RR" get pods -w >"$T/getw.out" 2>&1 &
GW=$!
sleep 0.5
pod_yaml late >"$T/late.yaml"
pvc apply -f "$T/late.yaml" >/dev/null || fail "apply late"
for _ in $(seq 100); do grep -q 'Started container app' <(grep -i 'pod/late' "$T/events.out") && break; sleep 0.1; done
grep -i 'pod/late' "$T/events.out" | grep -q 'Started container app' || fail "events -w: $(cat "$T/events.out")"
for _ in $(seq 100); do grep -qE '^late +1/1 +Running' "$T/getw.out" && break; sleep 0.1; done
grep -qE '^late +1/1 +Running' "$T/getw.out" || fail "get pods -w: $(cat "$T/getw.out")"
kill "$EV" "$GW"
wait "$EV" "$GW" 2>/dev/null
ok "events -w and get pods -w"
serving

# The daemon's shutdown ends the streams of its clients: a watch, a followed log.
"$PV" --root "$R" --run-root "$RR" get pods -w >/dev/null 2>&1 &
GW=$!
"$PV" --root "$R" --run-root "$RR" logs -f web >"$T/follow.out" 2>&1 &
LF=$!
for _ in $(seq 50); do [ -s "$T/follow.out" ] && break; sleep 0.1; done
[ -s "$T/follow.out" ] || fail "logs -f printed nothing"
stop_daemon
for p in $GW $LF; do
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && fail "a client's stream outlived the daemon"
done
wait "$GW" "$LF" 2>/dev/null
ok "the daemon's shutdown ends the streams of get -w and logs -f, and it exits 0"
