#!/bin/bash
# 50 applies and deletes in parallel (10 pods, each with its own sequence
# of 5 requests, the sequences running at once) end in a state that matches
# the last request for each pod: in the API, in what the shims run, and no
# keeper left for a deleted pod.
. "$(dirname "$0")/daemon_lib.sh"
start_daemon
A=/apis/podvisor.io/v1/apply
# op POD STEP: apply version STEP (its command "sleep 100STEP"), or delete when STEP is "d".
op() {
  local c
  if [ "$2" = d ]; then
    c=$(curl -s --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' -X DELETE \
      "http://localhost/api/v1/namespaces/default/pods/$1?gracePeriodSeconds=1")
    [ "$c" = 200 ] || echo "delete $1: HTTP $c" >>"$T/errors"
  else
    c=$(pod_yaml "$1" "sleep 100$2" | curl -s --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' -X POST \
      -H 'Content-Type: application/yaml' --data-binary @- "http://localhost$A")
    [ "$c" = 200 ] || echo "apply $1 v$2: HTTP $c" >>"$T/errors"
  fi
}
# The sequences: even pods end applied at version 4, odd ones deleted.
seq_of() { if [ $(($1 % 2)) = 0 ]; then echo "1 2 d 3 4"; else echo "1 d 2 3 d"; fi; }
PIDS=""
for i in $(seq 0 9); do
  ( for s in $(seq_of "$i"); do op "p$i" "$s"; done ) &
  PIDS="$PIDS $!"
done
wait $PIDS
[ ! -s "$T/errors" ] || fail "requests failed: $(cat "$T/errors")"
ok "50 requests answered"
# Converged: every kept pod Running its last version, every deleted one gone with its keeper.
deadline=$(( $(date +%s) + 90 ))
for i in $(seq 0 9); do
  if [ $((i % 2)) = 0 ]; then
    wait_pod "p$i" '.status.phase + " " + .spec.containers[0].command[2]' "Running sleep 1004" 90 \
      || fail "p$i did not end Running at version 4"
    for _ in $(seq 300); do
      [ "$(jq -r '.spec.containers[0].command[2]' "$(rundir_of "p$i")/pod.json" 2>/dev/null)" = "sleep 1004" ] && break
      sleep 0.1
    done
    [ "$(jq -r '.spec.containers[0].command[2]' "$(rundir_of "p$i")/pod.json")" = "sleep 1004" ] \
      || fail "the shim of p$i does not run version 4"
    pid=$(cat "$(rundir_of "p$i")/shim.pid")
    kill -0 "$pid" || fail "the shim of p$i is not alive"
  else
    while :; do
      api GET "/api/v1/namespaces/default/pods/p$i" >/dev/null
      [ "$(code)" = 404 ] && break
      [ "$(date +%s)" -lt "$deadline" ] || fail "p$i was not deleted: $(cat "$T/body" | head -c 300)"
      sleep 0.2
    done
    d=$(rundir_of "p$i")
    for _ in $(seq 100); do [ -e "$d/shim.pid" ] && kill -0 "$(cat "$d/shim.pid")" 2>/dev/null || break; sleep 0.1; done
    [ -e "$d/shim.pid" ] && kill -0 "$(cat "$d/shim.pid")" 2>/dev/null && fail "p$i still has a keeper"
  fi
done
n=$(api GET /api/v1/pods | jq '.items | length')
[ "$n" = 5 ] || fail "want 5 pods listed, got $n"
ok "the state matches the last request of each pod"
serving
stop_daemon
