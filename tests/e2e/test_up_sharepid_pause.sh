#!/bin/bash
# shareProcessNamespace: the pod's pause process (pid 1 of its pid namespace)
# is watched.  kill -9 of it kills every process of the pod; the shim gives
# the pod a new pid namespace with a new pause, and the containers exit
# (137, reason Error) and restart per restartPolicy, still sharing one pid
# namespace.  With restartPolicy Never they stay down and the pod fails.  A
# pause that cannot be replaced fails the pod and the shim exits.
. "$(dirname "$0")/up_lib.sh"
mark=$((800000 + $$ % 99999))
# pod NAME POLICY [BACKOFF_INITIAL BACKOFF_MAX]: two containers; b reports
# every 0.2 s what it sees of the pod's pid namespace in the shared emptyDir.
pod() {
  cat <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
  annotations:
    podvisor.io/backoff-initial: "${3:-100ms}"
    podvisor.io/backoff-max: "${4:-200ms}"
spec:
  shareProcessNamespace: true
  restartPolicy: $2
  terminationGracePeriodSeconds: 1
  volumes:
  - name: shared
    emptyDir: {}
  containers:
  - name: a
    image: busybox
    command: ["sh", "-c", "while true; do sleep 1; done", "a-$mark"]
    volumeMounts: [{name: shared, mountPath: /shared}]
    # An exec into the pod's pid namespace right before b starts: b must
    # still be born in the pod's namespace, not the shim's.
    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "echo started >> /shared/a-started"]
  - name: b
    image: busybox
    # The marker comes as \$1: b's own command line must not hold "a-<mark>".
    command:
    - sh
    - -c
    - |
      while true; do
        seen=no
        for f in /proc/[0-9]*/cmdline; do
          case "\$(tr '\\0' ' ' < \$f 2>/dev/null)" in *"a-\$1"*) seen=yes;; esac
        done
        echo "ns=\$(readlink /proc/self/ns/pid) pid1=\$(cat /proc/1/comm) self=\$\$ seen=\$seen" > /shared/ps.new
        mv /shared/ps.new /shared/ps
        sleep 0.2
      done
    - b
    - "$mark"
    volumeMounts: [{name: shared, mountPath: /shared}]
Y
}
# count: processes of this test's pods still alive on the host.
count() {
  local n=0 f
  for f in /proc/[0-9]*/cmdline; do
    case "$( { tr '\0' ' ' < "$f"; } 2>/dev/null)" in *a-$mark*|*"ps.new"*) n=$((n + 1));; esac
  done
  echo $n
}
comm_of() { cat "/proc/$1/comm" 2>/dev/null; }
ns_of() { readlink "/proc/$1/ns/pid" 2>/dev/null; }
ppid_of() { awk '{print $4}' "/proc/$1/stat" 2>/dev/null; }
# seen_ok NAME PAUSEPID: b's last report shows it in the pause's pid
# namespace (pid > 1 there), the pause as pid 1, and a's process.
seen_ok() {
  local line
  line=$(cat "$(poddir_of "$1")/volumes/shared/ps" 2>/dev/null)
  [[ $line =~ ^ns=(.*)\ pid1=(.*)\ self=([0-9]+)\ seen=(.*)$ ]] || return 1
  [ "${BASH_REMATCH[1]}" = "$(ns_of "$2")" ] && [ "${BASH_REMATCH[2]}" = podvisor-pause ] &&
    [ "${BASH_REMATCH[3]}" -gt 1 ] && [ "${BASH_REMATCH[4]}" = yes ]
}
wait_seen() {
  for _ in $(seq 100); do seen_ok "$1" "$2" && return 0; sleep 0.1; done
  echo "b reports: $(cat "$(poddir_of "$1")/volumes/shared/ps" 2>/dev/null); pause $2 ns $(ns_of "$2")" >&2
  return 1
}
leftovers() { # leftovers NAME: fails on any process, cgroup, dir or mount left
  local uid cg pd h
  uid=$(uid_of "$1")
  cg=$(cgroup_of "$1")
  pd=$(poddir_of "$1")
  [ -n "$uid" ] || fail "no uid known for $1"
  [ "$(count)" = 0 ] || fail "$(count) container processes left"
  left=$(cgroup_dirs "$cg"); [ -z "$left" ] || fail "cgroup left behind: $left"
  [ ! -e "$pd" ] || fail "pod dir left"
  [ ! -e "$(rundir_of "$1")" ] || fail "run dir left"
  ! grep -q "$uid" /proc/self/mountinfo || fail "mount left: $(grep "$uid" /proc/self/mountinfo)"
}

# --- restartPolicy Always: a new sandbox, both containers restarted ------------------
# always_case NAME BACKOFF_INITIAL BACKOFF_MAX.  The pause finishes exiting
# only once the shim has reaped the containers it took down: with a 100 ms
# backoff the shim sees it gone (its pidfd) before the restarts; with none, a
# restart comes first and must renew the namespace itself.
always_case() {
  local n=$1 shim p1 p2 ns1 ns2 t c rc
  pod "$n" Always "$2" "$3" > "$T/$n.yaml"
  start_shim "$T/$n.yaml" "$n"
  shim=$LAST_SHIM
  wait_for "$n" '[.containerStatuses[].state.running != null] | all' true 20 || fail "not running"
  p1=$(jq_status "$n" .podvisor.pausePid)
  [ -n "$p1" ] && [ "$p1" -gt 0 ] || fail "no podvisor.pausePid in the status: $(jq_status "$n" .podvisor)"
  [ "$(comm_of "$p1")" = podvisor-pause ] || fail "pausePid $p1 is not the pause process ($(comm_of "$p1"))"
  [ "$(ppid_of "$p1")" = "$shim" ] || fail "pause $p1 is not the shim's child"
  ns1=$(ns_of "$p1")
  wait_seen "$n" "$p1" || fail "b does not share the pause's pid namespace before the kill"
  ok "pause process $p1 is pid 1 of the pod ($ns1)"

  kill -9 "$p1"
  wait_for "$n" '[.containerStatuses[] | .restartCount == 1 and .state.running != null] | all' true 20 ||
    fail "containers not restarted after the pause died"
  for c in 0 1; do
    t=$(jq_status "$n" ".containerStatuses[$c].lastState.terminated")
    [ "$(jq -r .reason <<<"$t")" = Error ] || fail "container $c: lastState $t"
    [ "$(jq -r .exitCode <<<"$t")" = 137 ] || [ "$(jq -r .signal <<<"$t")" = 9 ] || fail "container $c: lastState $t"
  done
  p2=$(jq_status "$n" .podvisor.pausePid)
  [ -n "$p2" ] && [ "$p2" != "$p1" ] && [ "$p2" -gt 0 ] || fail "no new pause in the status ($p1 -> $p2)"
  [ "$(comm_of "$p2")" = podvisor-pause ] || fail "new pause $p2 not running"
  [ "$(ppid_of "$p2")" = "$shim" ] || fail "new pause $p2 is not the shim's child"
  [ "$(comm_of "$p1")" = podvisor-pause ] && fail "the dead pause $p1 was not reaped"
  ns2=$(ns_of "$p2")
  [ "$ns2" != "$ns1" ] || fail "the pod kept its dead pid namespace $ns1"
  wait_seen "$n" "$p2" || fail "after the restart b does not share the new pause's pid namespace"
  grep -q "pod $n: pause process $p1 died.*new pid namespace with pause process $p2" "$T/shim-$n.log" ||
    fail "no line about the pause on the shim's stderr: $(cat "$T/shim-$n.log")"
  [ "$(grep -c 'pause process' "$T/shim-$n.log")" = 1 ] || fail "more than one pause line"
  sleep 1
  [ "$(jq_status "$n" '[.containerStatuses[].restartCount] | max')" = 1 ] ||
    fail "restarted more than once: $(jq_status "$n" '[.containerStatuses[].restartCount]')"
  [ "$(jq_status "$n" .phase)" = Running ] || fail "phase $(jq_status "$n" .phase)"
  ok "pause $p1 killed (backoff $2): new pause $p2 in $ns2, both containers restarted once (137, Error)"

  stop_shim "$shim" || fail "stop"
  wait "$shim"; rc=$?
  [ "$rc" = 0 ] || fail "shim exited $rc after a stop"
  [ "$(comm_of "$p2")" = podvisor-pause ] && fail "pause $p2 survived the stop"
  ! grep -q "pause process $p2 died" "$T/shim-$n.log" || fail "the stop replaced the pause"
  leftovers "$n"
  ok "stop leaves nothing behind"
}
always_case pause-always 100ms 200ms
always_case pause-always0 0s 1ms

# --- restartPolicy Never: the containers stay down, the pod fails, up exits ----------
pod pause-never Never > "$T/never.yaml"
"$PV" --root "$R" --run-root "$RR" up "$T/never.yaml" > "$T/up.out" 2>&1 &
up=$!
wait_for pause-never '[.containerStatuses[].state.running != null] | all' true 20 ||
  { kill -TERM $up; fail "Never pod not running"; }
p1=$(jq_status pause-never .podvisor.pausePid)
[ "$(comm_of "$p1")" = podvisor-pause ] || { kill -TERM $up; fail "no pause for the Never pod"; }
kill -9 "$p1"
for _ in $(seq 200); do kill -0 $up 2>/dev/null || break; sleep 0.1; done
kill -0 $up 2>/dev/null && { kill -TERM $up; fail "up did not exit after its pod failed: $(cat "$T/up.out")"; }
wait $up; rc=$?
[ "$rc" = 1 ] || fail "up exited $rc: $(cat "$T/up.out")"
grep -q '^podvisor up: pod pause-never Failed$' "$T/up.out" || fail "pod not Failed: $(cat "$T/up.out")"
grep -q "pause process $p1 died" "$T/up.out" || fail "the pause's death not reported: $(cat "$T/up.out")"
leftovers pause-never
ok "restartPolicy Never: containers down, pod Failed, up exits 1"

# --- a pause that cannot be replaced fails the pod -----------------------------------
# The shim is moved into a pids cgroup that holds exactly its threads: its
# next fork (the new pause) fails.
cgp=
if [ -f /sys/fs/cgroup/pids/cgroup.procs ]; then cgp=/sys/fs/cgroup/pids
elif grep -qw pids /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then cgp=/sys/fs/cgroup
fi
if [ -n "$cgp" ]; then
  command -v python3 >/dev/null || fail "python3 is missing (contrib/deps.sh installs it)"
  cg=$cgp/pv-e2e-pause-$$
  mkdir "$cg" || fail "mkdir $cg"
  trap 'cleanup; rmdir "$cg" 2>/dev/null' EXIT
  pod pause-fail Always > "$T/fail.yaml"
  start_shim "$T/fail.yaml" pause-fail
  shim=$LAST_SHIM
  wait_for pause-fail '[.containerStatuses[].state.running != null] | all' true 20 || fail "not running"
  p1=$(jq_status pause-fail .podvisor.pausePid)
  echo "$shim" > "$cg/cgroup.procs" || fail "move the shim into $cg"
  if [ -f "$cg/tasks" ]; then tasks=$cg/tasks; else tasks=$cg/cgroup.threads; fi
  wc -l < "$tasks" > "$cg/pids.max" || fail "pids.max"
  # Every version of status.json until the shim removes it, one per line:
  # the last ones come and go within milliseconds.
  python3 -c '
import json, sys, time
path, last, out = sys.argv[1], None, open(sys.argv[2], "w")
while True:
    time.sleep(0.0002)  # a tight poll, without taking a whole core from the shim
    try:
        with open(path) as f:
            d = f.read()
    except OSError:
        break
    if d and d != last:
        last = d
        try:
            out.write(json.dumps(json.loads(d)) + "\n")
        except ValueError:
            pass
' "$(status_of pause-fail)" "$T/fail-versions" &
  reader=$!
  sleep 0.2
  kill -9 "$p1"
  for _ in $(seq 200); do kill -0 "$shim" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$shim" 2>/dev/null && fail "the shim did not exit after its pause could not be replaced"
  wait $reader
  # While it stops, the pod is Failed with its sandbox.
  bad=$(jq -c 'select(.podvisor.stopping) | select(.phase != "Failed" or .reason != "SandboxFailed" or
    (.message | test("cannot replace its dead pause process [0-9]+: sandbox: fork pause process") | not))' \
    "$T/fail-versions")
  [ -z "$bad" ] || fail "status while stopping: $bad"
  if jq -e 'select(.podvisor.stopping)' "$T/fail-versions" >/dev/null; then
    ok "status.json: phase Failed, reason SandboxFailed, message naming the step"
  else
    skip "the status of the stopping pod" "the shim was gone before the reader saw it"
  fi
  wait "$shim"; rc=$?
  [ "$rc" = 1 ] || fail "shim exited $rc"
  grep -q "pod pause-fail: cannot replace its dead pause process $p1: sandbox: fork pause process.*stopping the pod" \
    "$T/shim-pause-fail.log" || fail "no failure line: $(cat "$T/shim-pause-fail.log")"
  leftovers pause-fail
  rmdir "$cg" || fail "rmdir $cg"
  ok "a pause that cannot be replaced fails the pod; the shim exits 1 and leaves nothing"
else
  skip "a pause that cannot be replaced" "no pids controller: neither a v1 pids hierarchy nor pids in the cgroup2 root's subtree_control"
fi
