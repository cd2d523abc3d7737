#!/bin/bash
# A daemon killed with -9 leaves every keeper running; the next daemon
# adopts them: no container restarts (same pids, same keeper), restart
# counts kept, and a container that exited while no daemon ran is reported
# with its exit code; a pod edited meanwhile is updated at the finest grain.
# A daemon stopped with --keep-pods leaves the pods running too, and the
# next one restarts nothing.
. "$(dirname "$0")/daemon_core_lib.sh"
api() { curl -sS --max-time 5 --unix-socket "$RR/podvisor.sock" "http://localhost$1"; }
cat > "$M/keep.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: keep
  annotations:
    podvisor.io/backoff-initial: "0"
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {name: a, image: busybox, command: ["sleep", "1001"]}
  - {name: b, image: busybox, command: ["sleep", "1002"]}
Y
cat > "$M/exiter.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: exiter
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers:
  - {name: a, image: busybox, command: ["sleep", "1003"]}
  - {name: b, image: busybox, command: ["sleep", "1004"]}
Y
start_daemon
wait_running keep || fail "keep not running"
wait_running exiter || fail "exiter not running"
# One restart of keep/b, so that there is a count to keep.
kill -9 "$(pid_of keep b)"
wait_for keep '.containerStatuses[] | select(.name == "b") | .restartCount == 1 and .state.running != null' true 20 ||
  fail "keep/b did not restart"
ka=$(pid_of keep a) kb=$(pid_of keep b) ks=$(jq_status keep .podvisor.shimPid)
ea=$(pid_of exiter a) eb=$(pid_of exiter b) es=$(jq_status exiter .podvisor.shimPid)

stop_daemon KILL
[ -n "$(shim_pids)" ] || fail "the keepers died with the daemon"
# While no daemon runs: exiter/b ends (killed: exit code 137, never restarted).
kill -9 "$eb"
wait_for exiter '.containerStatuses[] | select(.name == "b") | .state.terminated.exitCode' 137 10 || fail "exiter/b did not end"

start_daemon
wait_log 'reason=Adopted.*pod=default/keep|pod=default/keep reason=Adopted' 10 || fail "keep was not adopted"
wait_log 'pod=default/exiter reason=Adopted' 10 || fail "exiter was not adopted"
sleep 1
[ "$(jq_status keep .podvisor.shimPid)" = "$ks" ] || fail "keep has another keeper"
[ "$(pid_of keep a)" = "$ka" ] && [ "$(pid_of keep b)" = "$kb" ] || fail "keep's containers restarted"
[ "$(jq_status keep '.containerStatuses[] | select(.name == "b") | .restartCount')" = 1 ] || fail "keep/b's restart count changed"
[ "$(jq_status exiter .podvisor.shimPid)" = "$es" ] && [ "$(pid_of exiter a)" = "$ea" ] || fail "exiter restarted"
grep -q 'reason=Created\|reason=Relaunched\|msg="updating"\|msg="recreating"' "$DLOG" && fail "the new daemon changed a pod: $(grep -E 'Created|Relaunched|updating|recreating' "$DLOG")"
ok "kill -9 of the daemon: the next one adopts every keeper, same pids, restart counts kept"
code=$(api /api/v1/namespaces/default/pods/exiter | jq -r '.status.containerStatuses[] | select(.name == "b") | .state.terminated.exitCode')
[ "$code" = 137 ] || fail "the API reports exiter/b with exit code '$code'"
n=$(api /api/v1/namespaces/default/pods/keep | jq -r '.status.containerStatuses[] | select(.name == "b") | .restartCount')
[ "$n" = 1 ] || fail "the API reports keep/b's restart count as '$n'"
ok "a container that exited while no daemon ran is reported with its exit code"

# --keep-pods: SIGTERM leaves the pods running; the next daemon restarts nothing.
stop_daemon KILL
start_daemon --keep-pods
wait_log 'pod=default/keep reason=Adopted' 10 || fail "keep was not adopted (third daemon)"
stop_daemon TERM
[ "$DAEMON_RC" = 0 ] || fail "--keep-pods: the daemon exited with $DAEMON_RC"
[ "$(jq_status keep .podvisor.shimPid)" = "$ks" ] && kill -0 "$ks" 2>/dev/null || fail "--keep-pods stopped keep"
start_daemon
wait_log 'pod=default/keep reason=Adopted' 10 || fail "keep was not adopted (fourth daemon)"
sleep 1
[ "$(pid_of keep a)" = "$ka" ] && [ "$(pid_of keep b)" = "$kb" ] || fail "a container restarted after --keep-pods"
grep -q 'reason=Created\|reason=Relaunched' "$DLOG" && fail "the daemon after --keep-pods launched a pod"
ok "--keep-pods then a new daemon: nothing restarted"

# A pod edited while no daemon ran is updated as the plan says: only the
# container that changed restarts, its sibling and keeper carry on.
stop_daemon KILL
sed -i 's/"1002"/"1005"/' "$M/keep.yaml"
start_daemon
wait_for keep "[.containerStatuses[] | select(.name == \"b\") | .podvisor.pid != $kb and .state.running != null] | all" true 20 ||
  fail "keep/b was not updated after the restart"
[ "$(pid_of keep a)" = "$ka" ] && [ "$(jq_status keep .podvisor.shimPid)" = "$ks" ] || fail "keep was restarted as a whole"
ok "a pod edited while no daemon ran: only the changed container restarts"

# One daemon per run-root.
out=$("$PV" --root "$R" --run-root "$RR" daemon --manifests "$M" --config "$T/daemon.yaml" 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "a second daemon exited with $rc"
echo "$out" | grep -q "another podvisor daemon (pid $DAEMON_PID) already runs" || fail "no clear message: $out"
ok "a second daemon for the run-root refuses to start: $(echo "$out" | tail -1)"
stop_daemon
[ -z "$(shim_pids)" ] || fail "keepers left after SIGTERM"
