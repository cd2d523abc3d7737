#!/bin/bash
# Bad requests to the daemon's API: malformed HTTP, a 10 MiB body, a bad
# YAML body, an unknown path, a wrong method, a bad selector, a mutation
# without the token on the TCP listener, a stuck client.  Each gets a
# Kubernetes Status with its code, and the daemon keeps serving.
. "$(dirname "$0")/daemon_lib.sh"
command -v python3 >/dev/null || { echo "skipped: needs python3"; exit 77; }
start_daemon --listen 127.0.0.1:0
# raw BYTES: sends them on the unix socket, prints the reply's status line and body.
raw() {
  python3 - "$SOCK" "$1" <<'P'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
print(body.decode(errors="replace"))
P
}
out=$(raw 'GARBAGE / NONSENSE\r\n\r\n')
echo "$out" | head -1 | grep -q '^HTTP/1.1 400' || fail "malformed request line: $out"
echo "$out" | tail -n +2 | jq -e '.kind == "Status" and .code == 400 and .reason == "BadRequest"' >/dev/null \
  || fail "malformed request: not a Status: $out"
serving
out=$(raw 'GET /api/v1/pods HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n')
echo "$out" | head -1 | grep -q '^HTTP/1.1 400' || fail "bad Content-Length: $out"
serving
out=$(raw 'GET /api/v1/pods HTTP/1.1\r\n\r\n')
echo "$out" | head -1 | grep -q '^HTTP/1.1 400' || fail "HTTP/1.1 without Host: $out"
serving
ok "malformed HTTP: 400 Status, still serving"

head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$T/big"
api POST /apis/podvisor.io/v1/apply -H 'Content-Type: application/yaml' --data-binary @"$T/big" >/dev/null
expect_status 413 RequestEntityTooLarge
serving
ok "a 10 MiB body: 413 Status"

cat >"$T/bad.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: bad
spec:
  containers:
  - name: app
    image: busybox
    imagePullPolicy: Sometimes
  - name: Bad_Name
    image: busybox
Y
api POST /apis/podvisor.io/v1/apply -H 'Content-Type: application/yaml' --data-binary @"$T/bad.yaml" >/dev/null
expect_status 422 Invalid
n=$(jq '.details.causes | length' "$T/body")
[ "$n" -ge 2 ] || fail "want every diagnostic as a cause, got $n: $(cat "$T/body")"
jq -r '.details.causes[].message' "$T/body" | grep -qE '^<request>:9:[0-9]+: error: ' || fail "no line:col cause for line 9: $(cat "$T/body")"
jq -r '.details.causes[].message' "$T/body" | grep -qE '^<request>:10:[0-9]+: error: ' || fail "no cause for line 10"
[ "$(jq -r '.details.causes[0].reason' "$T/body")" = FieldValueInvalid ] || fail "cause reason"
out=$(pvc apply -f "$T/bad.yaml" 2>&1) && fail "the CLI applied a bad file"
echo "$out" | grep -qF "$T/bad.yaml:9:" || fail "the CLI does not name the file's line: $out"
printf 'kind: Pod\nmetadata: [unclosed\n' >"$T/syntax.yaml"
api POST /apis/podvisor.io/v1/apply -H 'Content-Type: application/yaml' --data-binary @"$T/syntax.yaml" >/dev/null
expect_status 422 Invalid
jq -r '.details.causes[0].message' "$T/body" | grep -qE '^<request>:[0-9]+:[0-9]+: error: YAML syntax error' \
  || fail "syntax error cause: $(cat "$T/body")"
[ "$(api GET /api/v1/pods | jq '.items | length')" = 0 ] || fail "a refused apply created pods"
serving
ok "a bad YAML body: 422 Invalid, every diagnostic with line:col"

api GET /api/v1/namespaces/default/widgets >/dev/null
expect_status 404 NotFound
api GET /no/such/path >/dev/null
expect_status 404 NotFound
api GET /api/v1/namespaces/default/pods/ghost >/dev/null
expect_status 404 NotFound
api PATCH /api/v1/namespaces/default/pods/ghost -d '{}' >/dev/null
expect_status 405 MethodNotAllowed
api GET '/api/v1/pods?labelSelector=a%20in%20(b' >/dev/null
expect_status 400 BadRequest
api POST /api/v1/namespaces/default/pods -H 'Content-Type: application/json' -d '{"kind":"Pod"' >/dev/null
expect_status 422 Invalid
serving
ok "unknown paths 404, wrong method 405, bad selector 400"

port=$(sed -n 's/.*API listening on TCP.* port=\([0-9]*\).*/\1/p' "$T/daemon.log" | head -1)
[ -n "$port" ] || fail "no TCP port in the daemon's log"
[ "$(stat -c %a "$RR/token")" = 600 ] || fail "token mode $(stat -c %a "$RR/token")"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode"
[ "$(stat -c %a "$RR/exec.sock")" = 600 ] || fail "exec socket mode"
c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/pods")
[ "$c" = 200 ] || fail "GET on TCP without the token: $c"
curl -s -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' --data-binary @"$T/bad.yaml" \
  "http://127.0.0.1:$port/apis/podvisor.io/v1/apply" >"$T/code"
expect_status 403 Forbidden
curl -s -o "$T/body" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $(cat "$RR/token")" \
  "http://127.0.0.1:$port/api/v1/namespaces/default/pods/ghost" >"$T/code"
expect_status 404 NotFound
ok "the TCP listener: GET without the token, 403 for a mutation, the token lets it through"

# A stuck client (half a request) and a reader that never reads do not stall
# others.  The stuck client stays until told ($T/unstick, at most 300 s):
# requests that complete while it is still there did not wait for it.  Their
# time is held against the same 20 requests with no one else connected.
start=$(date +%s%N)
for i in $(seq 20); do api GET /api/v1/pods >/dev/null; [ "$(code)" = 200 ] || fail "request $i: $(code)"; done
alone=$(( ($(date +%s%N) - start) / 1000000 ))
python3 - "$SOCK" "$T/unstick" <<'P' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"GET /api/v1/pods HTTP/1.1\r\nHo")
w = socket.socket(socket.AF_UNIX); w.connect(sys.argv[1])
w.sendall(b"GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n")
for _ in range(3000):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
P
STUCK=$!
WATCHERS=""
for i in $(seq 20); do
  curl -s --unix-socket "$SOCK" "http://localhost/api/v1/pods?watch=true" -m $((10 * SLOW)) -o /dev/null &
  WATCHERS="$WATCHERS $!"
done
# Every one of them connected: the listener and 22 accepted sockets at
# the socket's path (/proc/net/unix).
for _ in $(seq $((200 * SLOW))); do [ "$(grep -c " $SOCK\$" /proc/net/unix)" -ge 23 ] && break; sleep 0.05; done
[ "$(grep -c " $SOCK\$" /proc/net/unix)" -ge 23 ] || fail "the stuck clients did not connect: $(grep -c " $SOCK\$" /proc/net/unix) sockets"
start=$(date +%s%N)
for i in $(seq 20); do api GET /api/v1/pods >/dev/null; [ "$(code)" = 200 ] || fail "request $i: $(code)"; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill -0 "$STUCK" 2>/dev/null || fail "the stuck client left before the 20 requests were done"
echo "20 requests: $alone ms alone, $ms ms beside stuck clients"
[ "$ms" -lt $((3 * alone + 3000)) ] || fail "20 requests took $ms ms beside stuck clients ($alone ms alone)"
: >"$T/unstick"
wait "$STUCK"
kill $WATCHERS 2>/dev/null
wait $WATCHERS
serving
ok "20 requests in $ms ms beside a stuck client and 21 watchers"
stop_daemon
