#!/bin/bash
# The daemon keeps the pods of its manifest directory as the files say:
# a file added starts its pod; an edit of one container restarts only that
# container (its sibling keeps its pid); an edit of a pod-level field
# recreates the pod; an invalid edit keeps the last good state and tells
# the diagnostic (file:line:col) in an event; two files that declare one pod
# are both refused, with an event naming both, while the pod runs on; an
# editor's write-to-temp-then-rename is seen; .bak, ~ and dot files are
# ignored; a file removed stops its pod and removes its run directory and
# cgroup.
. "$(dirname "$0")/daemon_core_lib.sh"
start_daemon

pod_yaml web > "$M/web.yaml"
wait_running web || fail "web did not start from its file"
a0=$(pid_of web a) b0=$(pid_of web b) shim0=$(jq_status web .podvisor.shimPid)
[ -n "$a0" ] && [ -n "$b0" ] || fail "no container pids"
ok "a file added: its pod runs"

# One container's command changes: only b restarts.  The file is rewritten
# in place by one write of a builtin: between the truncation and the
# write of an external command (a fork and an exec: more than the daemon's
# 100 ms of quiet on a slow machine) the daemon would see an empty file,
# a pod removed.
y=$(pod_yaml web 1001 1003)
echo "$y" > "$M/web.yaml"
wait_for web "[.containerStatuses[] | select(.name == \"b\") | .podvisor.pid != $b0 and .state.running != null] | all" true 20 ||
  fail "b was not restarted"
[ "$(pid_of web a)" = "$a0" ] || fail "a was restarted too ($a0 -> $(pid_of web a))"
[ "$(jq_status web .podvisor.shimPid)" = "$shim0" ] || fail "the pod was recreated"
grep -q '"sleep","1003"\|"1003"' "$(rundir_of web)/pod.json" || fail "the snapshot does not hold the new command"
ok "an edit of one container restarts only that one (a keeps pid $a0)"

# Invalid: the last good state stays, the diagnostic is an event.
a1=$(pid_of web a) b1=$(pid_of web b)
sed -i 's/image: busybox/image: [busybox/' "$M/web.yaml"
wait_log 'reason=FailedValidation .*web\.yaml:[0-9]+:[0-9]+' 10 || fail "no FailedValidation event with file:line:col"
sleep 0.5
[ "$(pid_of web a)" = "$a1" ] && [ "$(pid_of web b)" = "$b1" ] || fail "an invalid edit changed the pod"
echo "$y" > "$M/web.yaml"
ok "an invalid edit keeps the last good state, its diagnostic is an event"

# A second file declaring the same pod: both refused, the pod runs on.
pod_yaml web 1 1 > "$M/web-copy.yaml"
wait_log 'reason=Conflict .*web-copy\.yaml' 10 || fail "no Conflict event"
grep -E 'reason=Conflict' "$DLOG" | grep -q 'web\.yaml' || fail "the Conflict event does not name both files"
sleep 0.5
[ "$(pid_of web a)" = "$a1" ] && [ "$(pid_of web b)" = "$b1" ] || fail "the conflict changed the running pod"
rm "$M/web-copy.yaml"
ok "two files, one pod: both refused, the pod keeps running"

# Ignored names: a backup with another command changes nothing.
for f in web.yaml.bak web.yaml~ .web.yaml.swp .hidden.yaml; do pod_yaml web 5 5 > "$M/$f"; done
pod_yaml ghost > "$M/ghost.yaml.bak"
sleep "$((15 * SLOW / 10)).$((15 * SLOW % 10))"
[ "$(pid_of web a)" = "$a1" ] && [ "$(pid_of web b)" = "$b1" ] || fail "an ignored file changed the pod"
[ -z "$(jq_status ghost .phase)" ] || fail "a .bak file started a pod"
rm -f "$M"/web.yaml.bak "$M"/web.yaml~ "$M"/.web.yaml.swp "$M"/.hidden.yaml "$M"/ghost.yaml.bak
ok ".bak, ~ and dot files are ignored"

# An editor's save: write a temp file, rename it over the manifest.
pod_yaml web 1001 1004 > "$M/.web.yaml.tmp"
mv "$M/.web.yaml.tmp" "$M/web.yaml"
wait_for web "[.containerStatuses[] | select(.name == \"b\") | .podvisor.pid != $b1 and .state.running != null] | all" true 20 ||
  fail "the renamed file was not seen"
[ "$(pid_of web a)" = "$a1" ] || fail "a restarted on b's edit"
ok "an editor-style rename is seen"

# A pod-level field: recreated (a new keeper, new pids).
a2=$(pid_of web a)
sed -i 's/^spec:/spec:\n  hostname: other/' "$M/web.yaml"
wait_for web "(.podvisor.shimPid != $shim0) and ($all_running)" true 30 || fail "not recreated"
[ "$(pid_of web a)" != "$a2" ] || fail "a kept its pid across a recreation"
wait_log 'reason=Killing .*recreate' 5 || fail "no Killing event for the recreation"
ok "an edit of a pod-level field recreates the pod"

# The file removed: the pod goes, its run directory and cgroup too.
cg=$(cgroup_of web)
uid=$(uid_of web)
logs=$(logdir_of web)
rm "$M/web.yaml"
wait_gone web 30 || fail "the run directory is still there"
for _ in $(seq $((50 * SLOW))); do [ ! -e "$logs" ] && break; sleep 0.1; done
no_cgroup "$cg" || fail "cgroup $cg left behind"
[ ! -e "$R/pods/$uid" ] || fail "the pod's data is left"
[ ! -e "$logs" ] || fail "the pod's logs are left"
wait_log 'reason=Deleted' 5 || fail "no Deleted event"
[ -z "$(shim_pids)" ] || fail "a keeper is left: $(shim_pids)"
ok "a file removed: its pod, run directory, data, logs and cgroup are gone"

stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited with $DAEMON_RC"
