#!/bin/bash
# The API commands of the CLI against a fake daemon (tests/e2e/fake_api.py,
# canned Kubernetes JSON on a unix socket, the exec protocol beside it): what
# each command prints, its exit status, and the request it made (path,
# query, Accept, Content-Type, body; for exec the request line and its
# descriptors).  Then the same commands with no daemon running, the bash
# completion, and libcurl loaded only by the commands that talk to the
# daemon.  Needs no root: nothing here starts a container.
set -u
PV=${PODVISOR_BINARY:?PODVISOR_BINARY not set}
SRC=${PODVISOR_SOURCE_DIR:?PODVISOR_SOURCE_DIR not set}
for tool in python3 jq script; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is missing (contrib/deps.sh installs it)"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-cli-XXXXXX")
RR=$T/run
LOG=$T/requests.log
mkdir -p "$RR"
FAKE=""
cleanup() {
  [ -n "$FAKE" ] && kill "$FAKE" 2>/dev/null && wait "$FAKE" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fail() { printf 'FAIL: %b\n' "$*" >&2; exit 1; }
ok() { echo "ok: $*"; }
export TZ=UTC

python3 "$SRC/tests/e2e/fake_api.py" "$RR" "$LOG" 2>"$T/fake.err" &
FAKE=$!
for _ in $(seq 600); do [ -e "$RR/fake.ready" ] && break; sleep 0.05; done
[ -e "$RR/fake.ready" ] || fail "the fake daemon did not start: $(cat "$T/fake.err")"

# pv ARGS...: runs podvisor against the fake daemon with a fresh request log;
# stdout in $T/out, stderr in $T/err, the exit status in $rc.
pv() {
  : >"$LOG"
  "$PV" --run-root "$RR" "$@" >"$T/out" 2>"$T/err"
  rc=$?
}
# expect_out TEXT / expect_err TEXT: the whole of stdout / stderr.
expect_out() { [ "$(cat "$T/out")" = "$1" ] || fail "stdout of the last command:\n$(cat "$T/out")\n--- want:\n$1"; }
expect_err() { [ "$(cat "$T/err")" = "$1" ] || fail "stderr of the last command:\n$(cat "$T/err")\n--- want:\n$1"; }
expect_rc() { [ "$rc" = "$1" ] || fail "exit status $rc, want $1 (stderr: $(cat "$T/err"))"; }
# req N FILTER: jq FILTER holds of request N (1-based) of the last command.
req() {
  local line
  line=$(sed -n "${1}p" "$LOG")
  [ -n "$line" ] || fail "no request $1 (log: $(cat "$LOG"))"
  echo "$line" | jq -e "$2" >/dev/null || fail "request $1 is not $2: $line"
}
nreq() { [ "$(wc -l <"$LOG")" = "$1" ] || fail "$(wc -l <"$LOG") requests, want $1: $(cat "$LOG")"; }
TABLE='as=Table;v=v1;g=meta.k8s.io'

# --- get ---------------------------------------------------------------------
pv get pods
expect_rc 0
expect_out "NAME   READY   STATUS             RESTARTS      AGE
web    2/2     Running            2 (5s ago)    3m
db     0/1     CrashLoopBackOff   5 (20s ago)   10m"
nreq 1
req 1 ".method == \"GET\" and .path == \"/api/v1/namespaces/default/pods\" and .query == \"\" and
       (.accept | startswith(\"application/json;$TABLE,\"))"
pv get pods -o wide
expect_out "NAME   READY   STATUS             RESTARTS      AGE   IP          NODE    NOMINATED NODE   READINESS GATES
web    2/2     Running            2 (5s ago)    3m    10.88.0.5   host1   <none>           <none>
db     0/1     CrashLoopBackOff   5 (20s ago)   10m   <none>      host1   <none>           <none>"
pv get pods -A
expect_out "NAMESPACE   NAME    READY   STATUS             RESTARTS      AGE
default     web     2/2     Running            2 (5s ago)    3m
default     db      0/1     CrashLoopBackOff   5 (20s ago)   10m
other       cache   1/1     Running            0             2d"
req 1 '.path == "/api/v1/pods"'
pv get pods -l app=web --no-headers
expect_out "web   2/2   Running   2 (5s ago)   3m"
req 1 '.query == "labelSelector=app%3Dweb"'
pv get pods -n empty
expect_rc 0
expect_out ""
expect_err "No resources found in empty namespace."
req 1 '.path == "/api/v1/namespaces/empty/pods"'
pv get pods nosuch
expect_rc 1
expect_err 'Error from server (NotFound): pods "nosuch" not found'
req 1 '.path == "/api/v1/namespaces/default/pods/nosuch"'
pv get pods -n broken
expect_rc 1
expect_err 'Error from server (InternalError): an error on the server ("database on fire") has prevented the request from succeeding (get pods)'
ok "get: the daemon's Table as kubectl prints it (-o wide, -A, -l, --no-headers), nothing found, errors"

pv get pods -w
expect_rc 0
expect_out "NAME   READY   STATUS             RESTARTS      AGE
web    2/2     Running            2 (5s ago)    3m
db     0/1     CrashLoopBackOff   5 (20s ago)   10m
web    2/2     Running            3 (1s ago)    3m
fresh   0/1     Pending            0             0s
db      0/1     CrashLoopBackOff   5 (20s ago)   10m"
nreq 2
req 2 ".path == \"/api/v1/namespaces/default/pods\" and .query == \"watch=true&resourceVersion=41\" and
       (.accept | contains(\"$TABLE\"))"
pv get pods web -w -o name
expect_out "pod/web
pod/web
pod/db"
req 2 '.query == "watch=true&fieldSelector=metadata.name%3Dweb&resourceVersion=7" and .accept == "application/json"'
ok "get -w: the list, then a row per watch event from its resourceVersion"

pv get pods web -o json
expect_rc 0
[ "$(jq -r '.kind + "/" + .metadata.name' "$T/out")" = Pod/web ] || fail "get -o json: $(cat "$T/out")"
head -2 "$T/out" | grep -qx '    "apiVersion": "v1",' || fail "get -o json is not indented by four: $(head -3 "$T/out")"
req 1 '.path == "/api/v1/namespaces/default/pods/web" and .accept == "application/json"'
pv get pods -o json
[ "$(jq -r '.kind + " " + ([.items[] | .kind + "/" + .metadata.name] | join(","))' "$T/out")" = "List Pod/web,Pod/db" ] ||
  fail "get -o json of a list: $(cat "$T/out")"
pv get pods -o yaml
head -3 "$T/out" | tr '\n' '|' | grep -qx 'apiVersion: v1|items:|- apiVersion: v1|' || fail "get -o yaml: $(head -5 "$T/out")"
grep -qx 'kind: List' "$T/out" || fail "get -o yaml: no List"
pv get pods -o name
expect_out "pod/web
pod/db"
pv get pod/web pod/db -o name
expect_out "pod/web
pod/db"
nreq 2
ok "get -o json, yaml and name, of a pod and of a list"

# --- describe --------------------------------------------------------------------
pv describe pod web
expect_rc 0
grep -Eqx 'Name: +web' "$T/out" || fail "describe: $(head -3 "$T/out")"
grep -Eqx 'Namespace: +default' "$T/out" || fail "describe: no namespace"
grep -Eqx '  Warning  BackOff  30m \(x3 over 45m\) +podvisor  Back-off restarting failed container app' "$T/out" ||
  fail "describe: no events: $(tail -5 "$T/out")"
req 2 '.path == "/api/v1/namespaces/default/events" and .query ==
       "fieldSelector=involvedObject.name%3Dweb%2CinvolvedObject.namespace%3Ddefault%2CinvolvedObject.uid%3Duid-web"'
pv describe pod nosuch
expect_rc 1
expect_err 'Error from server (NotFound): pods "nosuch" not found'
ok "describe: the pod and its events (field selector on the pod)"

# --- logs ---------------------------------------------------------------------------
pv logs web
expect_rc 0
expect_out "line 1 from app
line 2 from app
line 3 from app"
expect_err 'Defaulted container "app" out of: app, log'
req 2 '.path == "/api/v1/namespaces/default/pods/web/log" and .query == "container=app"'
pv logs pod/web -c log --tail 1 --timestamps -p
expect_out "2024-05-01T10:00:00Z line 3 from log"
expect_err ""
nreq 1
req 1 '.query == "container=log&previous=true&tailLines=1&timestamps=true"'
# -f prints each line as it comes: the fake daemon sends "tick 1", and the
# rest only once it is printed here ($RR/follow.more).
: >"$LOG"
rm -f "$RR/follow.more"
"$PV" --run-root "$RR" logs db -f >"$T/follow" 2>&1 &
lp=$!
for _ in $(seq 200); do grep -q 'tick 1' "$T/follow" && break; sleep 0.05; done
grep -q 'tick 1' "$T/follow" || fail "logs -f: tick 1 was sent and not printed: $(cat "$T/follow")"
grep -q 'tick 2' "$T/follow" && fail "logs -f: tick 2 printed before it was sent"
touch "$RR/follow.more"
wait "$lp" || fail "logs -f: exit status $?"
[ "$(cat "$T/follow")" = "$(printf 'tick 1\ntick 2\ntick 3')" ] || fail "logs -f: $(cat "$T/follow")"
req 2 '.query == "container=app&follow=true"'
pv logs nosuch
expect_rc 1
expect_err 'Error from server (NotFound): pods "nosuch" not found'
ok "logs: the default container, -c, --tail, --timestamps, -p, -f streamed"

# --- apply --------------------------------------------------------------------------
mkdir -p "$T/m"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: app, image: busybox}]\n' >"$T/m/a-web.yaml"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: new}\nspec:\n  containers: [{name: app, image: busybox}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: same}\nspec: {containers: [{name: a, image: b}]}\n' >"$T/m/b-two.yml"
echo 'not a manifest' >"$T/m/notes.txt"
echo 'metadata: {name: hidden}' >"$T/m/.hidden.yaml"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n  - name: app\n    image: BAD\n' >"$T/bad.yaml"
pv apply -f "$T/m"
expect_rc 0
expect_out "pod/web configured: restart container app
pod/new created
pod/same unchanged"
body=$(printf '%s\n---\n%s' "$(cat "$T/m/a-web.yaml")" "$(cat "$T/m/b-two.yml")")
req 1 '.method == "POST" and .path == "/apis/podvisor.io/v1/apply" and .query == "" and
       .contentType == "application/yaml"'
[ "$(sed -n 1p "$LOG" | jq -r .body)" = "$body" ] || fail "apply body: $(sed -n 1p "$LOG" | jq -r .body)"
pv apply -f "$T/m/a-web.yaml" --dry-run --prune
expect_out "pod/web configured: restart container app (dry run)
pod/old pruned (dry run)"
req 1 '.query == "dryRun=All&prune=true"'
pv apply -f "$T/m/a-web.yaml" -f "$T/bad.yaml" -f "$T/bad.yaml"
expect_rc 1
expect_out ""
# The lines are the files', not the body's; the two causes, the same once so
# told, are one, on the line of the message, as kubectl prints a single cause.
expect_err "The request is invalid: $T/bad.yaml:7:12: error: spec.containers[0].image: image \"BAD\" is not imported (podvisor image import)"
sed -i 's/image: BAD/image:  BAD/' "$T/bad.yaml"
pv apply -f "$T/bad.yaml" -f - <"$T/bad.yaml"
expect_err "The request is invalid: 
* $T/bad.yaml:7:13: error: spec.containers[0].image: image \"BAD\" is not imported (podvisor image import)
* <stdin>:7:13: error: spec.containers[0].image: image \"BAD\" is not imported (podvisor image import)"
echo '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"notext"},"spec":{"containers":[{"name":"a","image":"b"}]}}' >"$T/p.json"
pv apply -n team -f - <"$T/p.json"
expect_rc 0
expect_out "pod/notext configured: recreate (hostNetwork changed)"
req 1 '.path == "/apis/podvisor.io/v1/namespaces/team/apply" and .contentType == "application/json"'
pv apply -f "$T/nonexistent.yaml"
expect_rc 1
nreq 0
grep -q "nonexistent.yaml: No such file or directory" "$T/err" || fail "apply of a missing file: $(cat "$T/err")"
printf '# nothing\n---\n' >"$T/empty.yaml"
pv apply -f "$T/empty.yaml"
expect_rc 1
expect_err "error: no objects passed to apply"
nreq 0
ok "apply: files and directories in one body, the result lines, --dry-run, --prune, -n, diagnostics in the files' lines"

# --- create ----------------------------------------------------------------------------
pv create -f "$T/m"
expect_rc 1
expect_out "pod/new created
pod/same created"
expect_err "Error from server (AlreadyExists): error when creating \"$T/m/a-web.yaml\": pods \"web\" already exists"
nreq 3
req 2 '.method == "POST" and .path == "/api/v1/namespaces/default/pods" and .contentType == "application/json" and
       (.body | fromjson | .kind == "Pod" and .metadata.name == "new" and .metadata.namespace == "default")'
pv create -n team -f "$T/m/b-two.yml"
expect_rc 0
req 1 '.path == "/api/v1/namespaces/team/pods" and (.body | fromjson | .metadata.namespace == "team")'
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: prod}\nspec:\n  containers: [{name: a, image: b}]\n' >"$T/prod.yaml"
pv create -n team -f "$T/prod.yaml"
expect_rc 1
nreq 0
grep -q 'the namespace from the provided object "prod" does not match the namespace "team"' "$T/err" || fail "create -n: $(cat "$T/err")"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: a}]\n' >"$T/noimage.yaml"
pv create -f "$T/noimage.yaml"
expect_rc 1
nreq 0
grep -q "^$T/noimage.yaml:5:16: error: spec.containers\[0\].image: required field is missing" "$T/err" || fail "create of an invalid file: $(cat "$T/err")"
ok "create: pod by pod, AlreadyExists with its file, -n, invalid files refused before any request"

# --- delete -------------------------------------------------------------------------------
pv delete pod web --grace-period 5
expect_rc 0
expect_out 'pod "web" deleted'
req 1 '.method == "DELETE" and .path == "/api/v1/namespaces/default/pods/web" and .query == "gracePeriodSeconds=5"'
nreq 4 # then GET until it is gone: found, found, not found
req 4 '.method == "GET" and .path == "/api/v1/namespaces/default/pods/web"'
pv delete pod/web --wait=false
expect_out 'pod "web" deleted'
nreq 1
req 1 '.query == ""'
pv delete pods nosuch db
expect_rc 1
expect_out ""
expect_err 'Error from server (NotFound): pods "nosuch" not found
Error from server (Conflict): pod default/db is declared by the manifest file /etc/podvisor/pods/db.yaml: it cannot be deleted through the API (remove it from the file)'
printf 'kind: Pod\nmetadata: {name: ghost}\n' >"$T/ghost.yaml"
pv delete -f "$T/ghost.yaml" -f "$T/m/a-web.yaml" --now
expect_rc 1
expect_out 'pod "web" deleted'
expect_err "Error from server (NotFound): error when deleting \"$T/ghost.yaml\": pods \"ghost\" not found"
req 2 '.query == "gracePeriodSeconds=1"'
ok "delete: by name and by manifest, --grace-period, --now, the wait until gone, --wait=false, refusals"

# --- restart, events, version -----------------------------------------------------------------
pv restart pod web -c app
expect_rc 0
expect_out "pod/web restarted"
req 1 '.method == "POST" and .path == "/apis/podvisor.io/v1/namespaces/default/pods/web/restart" and
       .query == "container=app"'
pv restart pod nosuch web
expect_rc 1
expect_out "pod/web restarted"
expect_err 'Error from server (NotFound): pods "nosuch" not found'
pv events
expect_rc 0
expect_out "LAST SEEN           TYPE      REASON    OBJECT    MESSAGE
60m                 Normal    Started   Pod/web   Started container app
30m (x3 over 45m)   Warning   BackOff   Pod/web   Back-off restarting failed container app
20m                 Normal    Created   Pod/db    Created container db"
req 1 '.path == "/api/v1/namespaces/default/events"'
pv events -A
head -1 "$T/out" | grep -qx 'NAMESPACE   LAST SEEN           TYPE      REASON    OBJECT    MESSAGE' || fail "events -A: $(cat "$T/out")"
req 1 '.path == "/api/v1/events"'
pv events -w
expect_out "LAST SEEN           TYPE      REASON    OBJECT    MESSAGE
30m (x3 over 45m)   Warning   BackOff   Pod/web   Back-off restarting failed container app
20m                 Normal    Created   Pod/db    Created container db"
req 1 '.query == "watch=true"'
pv events -n empty
expect_err "No events found in empty namespace."
pv version
expect_rc 0
expect_out "Client Version: v0.1.0
Server Version: v1.32.0-podvisor.0.1.0"
req 1 '.path == "/version"'
pv version --client -o json
[ "$(jq -r '.clientVersion.gitVersion + " " + (has("serverVersion") | tostring)' "$T/out")" = "v0.1.0 false" ] ||
  fail "version --client -o json: $(cat "$T/out")"
nreq 0
ok "restart, events (-A, -w), version"

# --- exec ---------------------------------------------------------------------------------------
pv exec web -- echo hi there
expect_rc 0
expect_out "out: echo hi there"
expect_err 'Defaulted container "app" out of: app, log
err: on stderr'
req 2 '.exec == {"v": 1, "op": "exec", "container": "app", "argv": ["echo", "hi", "there"], "namespace": "default",
                 "pod": "web"} and .nfds == 2'
pv exec web -c log -n default -- fail now
expect_rc 7
expect_err "err: on stderr
command terminated with exit code 7"
nreq 1
: >"$LOG"
out=$(echo piped-in | "$PV" --run-root "$RR" exec -i web -c app -- cat 2>/dev/null)
[ "$out" = "$(printf 'out: cat\nin: piped-in')" ] || fail "exec -i: $out"
req 1 '.exec.stdin == true and .nfds == 3'
pv exec nosuch -c app -- true
expect_rc 1
expect_err "Error from server (NotFound): container app of pod default/nosuch not found"
pv exec web -c app -t -- true
expect_err "Unable to use a TTY - input is not a terminal or the right kind of file
err: on stderr"
: >"$LOG"
script -qfc "stty cols 97 rows 31; $PV --run-root $RR exec -it web -c app -- sh -l" "$T/tty.out" </dev/null >/dev/null 2>&1
grep -q 'COMMAND_EXIT_CODE="5"' "$T/tty.out" || fail "exec -t exit code: $(cat "$T/tty.out")"
# (script's own terminal may echo what it sends at the end of its /dev/null
# input, "^@", before podvisor has made it raw: hence no whole-line match)
tr -d '\r' <"$T/tty.out" | grep -q 'tty-size 31 97$' || fail "exec -t: no terminal of the client's size: $(cat "$T/tty.out")"
tr -d '\r' <"$T/tty.out" | grep -qx 'ran sh -l' || fail "exec -t: $(cat "$T/tty.out")"
req 1 '.exec.tty == true and .exec.rows == 31 and .exec.cols == 97 and (.exec | has("stdin") | not) and .nfds == 0'
ok "exec: stdout, stderr, exit codes, -i, refusals, -t through the pty master the daemon hands back"

# --- help and usage ------------------------------------------------------------------------------
for c in apply create delete get describe logs exec restart events version; do
  pv "$c" --help
  [ "$rc" = 0 ] && grep -q "^usage: podvisor $c" "$T/out" || fail "$c --help: $rc $(cat "$T/out")"
done
pv get pods --bogus
expect_rc 2
expect_err "error: unknown flag: --bogus
See 'podvisor get --help' for usage."
nreq 0
ok "every command has --help; a usage error exits 2 before any request"

# --- bash completion -------------------------------------------------------------------------------
# complete WORDS...: what the completion offers for the last word.
complete_words() {
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _podvisor; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$SRC/contrib/podvisor.bash-completion" "$@" | sort | tr '\n' ' '
}
PATH_PV=$(dirname "$PV")
[ "$(complete_words podvisor ap)" = "apply " ] || fail "completion of a command: $(complete_words podvisor ap)"
[ "$(complete_words podvisor get pods --w)" = "--watch " ] || fail "completion of a flag: $(complete_words podvisor get pods --w)"
[ "$(complete_words podvisor get pods -o)" = "-o " ] || fail "completion of -o itself"
[ "$(complete_words podvisor get pods -o y)" = "yaml " ] || fail "completion of -o's value"
[ "$(complete_words podvisor get p)" = "pods " ] || fail "completion of the type"
[ "$(complete_words "$PV" --run-root "$RR" logs w)" = "web " ] || fail "completion of a pod: $(complete_words "$PV" --run-root "$RR" logs w)"
[ "$(complete_words "$PV" --run-root "$RR" get pods '')" = "db web " ] || fail "completion of pods: $(complete_words "$PV" --run-root "$RR" get pods '')"
[ "$(complete_words "$PV" --run-root "$RR" exec web -- ec)" = " " ] || fail "completion after exec's --"
ok "bash completion: commands, flags, values, pod names from the daemon"

# --- libcurl only for the commands that talk to the daemon ----------------------------------------
if readelf -d "$PV" | grep -q 'NEEDED.*libcurl'; then fail "podvisor needs libcurl at start"; fi
LD_DEBUG=files "$PV" validate "$T/m/a-web.yaml" >/dev/null 2>"$T/ld"
grep -q 'libcurl' "$T/ld" && fail "validate mapped libcurl"
LD_DEBUG=files "$PV" --run-root "$RR" get pods >/dev/null 2>"$T/ld"
grep -q 'file=libcurl' "$T/ld" || fail "get pods did not load libcurl"
ok "libcurl is loaded on the first request, never by validate"

# --- no daemon -------------------------------------------------------------------------------------
kill "$FAKE"
wait "$FAKE" 2>/dev/null
FAKE=""
for c in "get pods" "apply -f $T/m" "create -f $T/m" "delete pod web" "describe pod web" "logs web" \
  "exec web -c app -- true" "restart pod web" "events" "events -w" "get pods -w" "version"; do
  # shellcheck disable=SC2086
  pv $c
  [ "$rc" = 1 ] || fail "$c without a daemon: exit status $rc"
  grep -q "^podvisor: the daemon is not running (nothing listens on $RR/.*\.sock)\.\$" "$T/err" ||
    fail "$c without a daemon: $(cat "$T/err")"
  grep -qx "Start it with \`podvisor --run-root $RR daemon\`." "$T/err" || fail "$c: no way to start it: $(cat "$T/err")"
done
for c in "get pods web db" "describe pod web db" "restart pod web db" "create -f $T/m" "delete pod web db"; do
  # shellcheck disable=SC2086
  pv $c
  [ "$(grep -c 'daemon is not running' "$T/err")" = 1 ] || fail "$c without a daemon: said more than once: $(cat "$T/err")"
done
rm -f "$RR/podvisor.sock" "$RR/exec.sock"
pv get pods
expect_rc 1
expect_err "podvisor: the daemon is not running (no socket $RR/podvisor.sock).
Start it with \`podvisor --run-root $RR daemon\`."
[ "$(complete_words "$PV" --run-root "$RR" logs w)" = " " ] || fail "completion without a daemon"
ok "no daemon: every command says so and how to start it, exit 1; completion offers nothing"
