#!/bin/bash
# `podvisor up` and a keeper killed with -9: the status says at once that the
# containers are no longer running (reason ShimDied, exit 137), the
# instance's cgroups, socket and upper dirs are removed at once, and the pod
# starts again on the same instance (restartPolicy Always: a new keeper, the
# container running again, its restart count carried on); with
# restartPolicy Never the pod has Failed and nothing of it is left.
. "$(dirname "$0")/up_lib.sh"
mark=$((600000 + $$ % 99999))
pod() { # pod NAME POLICY
  cat <<Y
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: $2
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "$mark"]
Y
}
count() {
  local n=0 f
  for f in /proc/[0-9]*/cmdline; do
    [ "$( { tr '\0' ' ' < "$f"; } 2>/dev/null)" = "sleep $mark " ] && n=$((n + 1))
  done
  echo $n
}
UPS=""
run_up() { # run_up OUT FILES... : up in the background, pid in $up
  local out=$1; shift
  "$PV" --root "$R" --run-root "$RR" up "$@" > "$out" 2>&1 &
  up=$!
  UPS="$UPS $up"
}
trap 'for p in $UPS; do kill -TERM $p 2>/dev/null; done; sleep 2; cleanup' EXIT
wait_exit() { # wait_exit PID SECONDS: 0 when it exited in time
  for _ in $(seq $(($2 * 10 * SLOW))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
# until COMMAND... : 0 once it succeeds within 5 s (times SLOW)
within() {
  local t=$1; shift
  for _ in $(seq $((t * 20 * SLOW))); do "$@" && return 0; sleep 0.05; done
  return 1
}
running='[.containerStatuses[].state.running != null] | all'

pod always Always > "$T/always.yaml"
run_up "$T/always.out" "$T/always.yaml"
wait_for always "$running" true 10 || fail "not running: $(cat "$T/always.out")"
shim=$(jq_status always .podvisor.shimPid)
uid=$(uid_of always) cg=$(cgroup_of always) pd=$(poddir_of always)
[ -n "$(cgroup_dirs "$cg/c")" ] || fail "no cgroup for the container at $cg/c"
sock=$(sock_of always)
[ -S "$sock" ] || fail "no socket"
kill -9 "$shim"
# Before the new keeper (1 s later) makes them again: nothing of the dead one.
# One read: the new keeper rewrites the status 1 s later.
wait_for always '.containerStatuses[0] | "\(.state.terminated.reason) \(.state.terminated.exitCode) \(.ready)"' \
  "ShimDied 137 false" 2 || fail "the status did not say ShimDied, exit 137: $(cat "$T/always.out")"
# The leftovers go before the status is marked: once it says ShimDied,
# nothing of the dead keeper may be there (unless the new keeper, 1 s
# later, came first: on a slow machine).
if [ "$(jq_status always .podvisor.shimPid)" = "$shim" ] && [ ! -e "$(rundir_of always)/shim.pid" ]; then
  [ -z "$(cgroup_dirs "$cg")" ] || fail "cgroups left after the keeper died: $(cgroup_dirs "$cg")"
  [ ! -e "$sock" ] || fail "the stale socket is left"
  [ ! -e "$pd/containers" ] || fail "the upper dirs are left"
  [ "$(count)" = 0 ] || fail "$(count) container processes outlived their keeper"
  ok "a keeper killed with -9: the status says ShimDied at once, its cgroups, socket and upper dirs are gone"
else
  skip "the leftover checks" "the new keeper came before them"
fi
wait_for always "(.podvisor.shimPid != $shim) and ($running)" true 10 ||
  fail "not running again under a new keeper: $(cat "$T/always.out")"
[ "$(uid_of always)" = "$uid" ] || fail "the new keeper runs another instance"
[ "$(jq_status always .containerStatuses[0].restartCount)" -ge 1 ] || fail "restart count not carried on"
[ "$(jq_status always .containerStatuses[0].lastState.terminated.reason)" = ShimDied ] ||
  fail "lastState is not the keeper's death: $(jq_status always .containerStatuses[0].lastState)"
within 5 [ "$(count)" = 1 ] || fail "$(count) container processes after the restart (1 expected)"
grep -q 'shim exited with status 137; its containers died with it; starting it again' "$T/always.out" ||
  fail "up did not say what happened: $(cat "$T/always.out")"
ok "up starts the pod again (restartPolicy Always): a new keeper, the container running, the restart counted"
kill -TERM "$up"
wait_exit "$up" 20 || fail "up did not stop"
wait "$up"; rc=$?
[ "$rc" = 0 ] || fail "up exited $rc: $(cat "$T/always.out")"
[ -z "$(cgroup_dirs "$cg")" ] || fail "cgroups left after up stopped"
[ ! -e "$pd" ] || fail "pod dir left after up stopped"
[ ! -e "$(rundir_of always)" ] || fail "run dir left after up stopped"
ok "stopped after the restart: nothing left"

pod never Never > "$T/never.yaml"
run_up "$T/never.out" "$T/never.yaml"
wait_for never "$running" true 10 || fail "never: not running"
shim=$(jq_status never .podvisor.shimPid) cg=$(cgroup_of never) pd=$(poddir_of never)
kill -9 "$shim"
wait_exit "$up" 10 || fail "up did not end with its only pod failed: $(cat "$T/never.out")"
wait "$up"; rc=$?
[ "$rc" = 1 ] || fail "up exited $rc (1 expected): $(cat "$T/never.out")"
grep -q 'shim exited with status 137' "$T/never.out" || fail "no report: $(cat "$T/never.out")"
[ -z "$(cgroup_dirs "$cg")" ] || fail "never: cgroups left: $(cgroup_dirs "$cg")"
[ ! -e "$pd" ] || fail "never: pod dir left"
[ ! -e "$(rundir_of never)" ] || fail "never: run dir left"
[ "$(count)" = 0 ] || fail "never: container processes left"
ok "restartPolicy Never: the pod has Failed, up ends, nothing of it is left"
