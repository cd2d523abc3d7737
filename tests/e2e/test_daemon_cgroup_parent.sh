#!/bin/bash
# The daemon's cgroup parent (key cgroup-parent of its config file; the
# flag --cgroup-parent is the same option): its pods' cgroups go under it
# in every hierarchy; the keepers record it, so a keeper relaunched on the
# same instance by a daemon restarted without it finds and uses the same
# cgroups; a deleted pod's cgroups go, the parent stays.  Needs root.
. "$(dirname "$0")/daemon_core_lib.sh"
CG=/sys/fs/cgroup
P=pvd.$$/pods
if [ "$(stat -fc %T "$CG")" = cgroup2fs ]; then hiers=$CG; else hiers="$CG/cpu $CG/cpuacct $CG/memory $CG/pids"; fi
parent_cleanup() {
  daemon_cleanup
  local h
  for h in $hiers; do [ -d "$h/pvd.$$" ] && find "$h/pvd.$$" -depth -type d -exec rmdir {} + 2>/dev/null; done
}
trap parent_cleanup EXIT
# in_parent NAME PARENT: every container of the pod runs in PARENT/<uid>/<name> everywhere.
in_parent() {
  local uid h c pid
  uid=$(uid_of "$1")
  for c in a b; do
    pid=$(pid_of "$1" "$c")
    for h in $hiers; do
      grep -qx "$pid" "$h/$2/$uid/$c/cgroup.procs" 2>/dev/null || { echo "$c ($pid) not in $h/$2/$uid/$c" >&2; return 1; }
      [ ! -e "$h/podvisor/$uid" ] || { echo "$h/podvisor/$uid exists" >&2; return 1; }
    done
  done
}

echo "cgroup-parent: ../x" >"$T/daemon.yaml"
"$PV" --root "$R" --run-root "$RR" daemon --manifests "$M" --config "$T/daemon.yaml" >"$T/bad.out" 2>&1
rc=$?
[ "$rc" = 2 ] || fail "a bad cgroup-parent in the config: exit $rc"
grep -q "daemon.yaml:1:1: cgroup-parent: cgroup parent '../x': not a relative path" "$T/bad.out" ||
  fail "message: $(cat "$T/bad.out")"
ok "a bad cgroup-parent in the config file is refused with its line"

echo "cgroup-parent: $P" >"$T/daemon.yaml"
pod_yaml web >"$M/web.yaml"
start_daemon
grep -q "msg=\"starting\".*cgroup_parent=\"$P\"" "$DLOG" || fail "no cgroup_parent in the starting line: $(grep starting "$DLOG")"
wait_running web || fail "web not running"
uid=$(uid_of web)
[ "$(cgroup_of web)" = "$P/$uid" ] || fail "POD_CGROUP is $(cgroup_of web)"
in_parent web "$P" || fail "web's containers are not under $P"
ok "the daemon's pods run under $P"

# Daemon and keeper both killed; the daemon comes back without a parent.
shim=$(jq_status web .podvisor.shimPid)
stop_daemon KILL
kill -9 "$shim"
: >"$T/daemon.yaml"
start_daemon
grep -q 'cgroup_parent="podvisor"' "$DLOG" || fail "the restarted daemon's parent: $(grep starting "$DLOG")"
wait_for web "(.podvisor.shimPid != $shim) and ($all_running)" true 30 || fail "web not relaunched"
[ "$(uid_of web)" = "$uid" ] || fail "the relaunch made a new instance"
in_parent web "$P" || fail "the relaunched keeper left $P"
ok "a keeper relaunched on the same instance keeps its recorded parent"

rm "$M/web.yaml"
wait_gone web 30 || fail "web's run directory stays"
for h in $hiers; do
  [ ! -e "$h/$P/$uid" ] || fail "$h/$P/$uid left"
  [ -d "$h/$P" ] || fail "the parent $h/$P was removed"
done
ok "a deleted pod's cgroups go, the parent stays"
stop_daemon
