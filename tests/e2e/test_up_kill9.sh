#!/bin/bash
# The shim killed with -9 leaves no container process behind (pdeathsig);
# the next shim for the same pod cleans the leftovers and stops cleanly.
. "$(dirname "$0")/up_lib.sh"
mark=$((900000 + $$ % 99999))
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: doomed
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: a
    image: busybox
    command: ["sleep", "$mark"]
  - name: b
    image: busybox
    command: ["sh", "-c", "sleep $mark & sleep $mark"]
Y
count() {
  local n=0 f
  for f in /proc/[0-9]*/cmdline; do
    [ "$( { tr '\0' ' ' < "$f"; } 2>/dev/null)" = "sleep $mark " ] && n=$((n + 1))
  done
  echo $n
}
start_shim "$T/pod.yaml" doomed
wait_for doomed '[.containerStatuses[].state.running != null] | all' true 10 || fail "not running"
# "running" means each container's first process started; b's shell may not
# have forked its two sleeps yet (slow under load): wait for all three.
for _ in $(seq 100); do [ "$(count)" -ge 3 ] && break; sleep 0.1; done
[ "$(count)" -ge 3 ] || fail "expected 3 marker processes, saw $(count)"
kill -9 "$LAST_SHIM"
for _ in $(seq 50); do [ "$(count)" = 0 ] && break; sleep 0.1; done
[ "$(count)" = 0 ] || fail "$(count) container processes survived the shim"
ok "no container survives kill -9 of its shim"
uid=$(uid_of doomed)
cg=$(cgroup_of doomed)
pd=$(poddir_of doomed)
start_shim "$T/pod.yaml" doomed
wait_for doomed .podvisor.shimPid "$LAST_SHIM" 10 || fail "no status from the new shim"
[ "$(uid_of doomed)" = "$uid" ] || fail "the restarted shim is another instance"
wait_for doomed '[.containerStatuses[].state.running != null] | all' true 10 || fail "restarted shim: not running"
[ "$(jq_status doomed '.containerStatuses[0].restartCount')" -ge 1 ] || fail "restart count not carried forward"
stop_shim "$LAST_SHIM" || fail stop
[ "$(count)" = 0 ] || fail "processes left after stop"
left=$(cgroup_dirs "$cg"); [ -z "$left" ] || fail "cgroup left behind: $left"
[ ! -e "$pd" ] || fail "pod dir left"
[ ! -e "$(rundir_of doomed)" ] || fail "run dir left"
ok "leftovers cleaned by the next shim"

# A new instance of the pod (what \`up\` starts) after a killed keeper: the
# old instance's status is not carried forward, and what it left (its
# cgroups, its pod data) is removed; its logs stay apart.
start_shim "$T/pod.yaml" doomed
wait_for doomed '[.containerStatuses[].state.running != null] | all' true 10 || fail "not running (third shim)"
old=$(uid_of doomed)
oldcg=$(cgroup_of doomed)
oldlogs=$(logdir_of doomed)
olddata=$(poddir_of doomed)
[ -d "$olddata" ] || fail "no pod dir for instance $old"
kill -9 "$LAST_SHIM"
for _ in $(seq 50); do [ "$(count)" = 0 ] && break; sleep 0.1; done
start_shim "$T/pod.yaml" doomed --new-instance
wait_for doomed .podvisor.shimPid "$LAST_SHIM" 10 || fail "no status from the new instance"
new=$(uid_of doomed)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new instance uid ($old -> $new)"
wait_for doomed '[.containerStatuses[].state.running != null] | all' true 10 || fail "new instance: not running"
[ "$(jq_status doomed '.containerStatuses[0].restartCount')" = 0 ] || fail "the old instance's restart count was carried forward"
[ "$(jq_status doomed .metadata.uid)" = "$new" ] || fail "status names $(jq_status doomed .metadata.uid)"
[ ! -e "$olddata" ] || fail "the old instance's pod dir was left"
left=$(cgroup_dirs "$oldcg"); [ -z "$left" ] || fail "the old instance's cgroup was left: $left"
[ -d "$oldlogs" ] && [ "$oldlogs" != "$(logdir_of doomed)" ] || fail "the old instance's logs were not kept apart"
stop_shim "$LAST_SHIM" || fail stop
ok "a new instance starts fresh and removes what the killed one left"
