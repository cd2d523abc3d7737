#!/bin/bash
# Survivors in a shareProcessNamespace pod: a container's init has no pid
# namespace of its own there, so what it started in the background outlives
# it (the pod's pause process adopts it) in the container's cgroup.
#   1. c restarts every ~150 ms and leaves a `sleep 1000` each time: none
#      accumulate, and its cgroup exists once.
#   2. With a v1 freezer hierarchy (skipped on v2): f's background `sleep 1001` is frozen,
#      so the SIGKILL of f's teardown cannot end it.  A restart of f must not
#      wait for it (nor block c's restarts or the socket), and the new run
#      must not share its cgroup; after the thaw the old cgroup goes.
#   3. After a stop nothing is left: no podvisor/<uid> cgroup, no process.
#   4. A stop while a survivor is frozen waits a few seconds, then logs the
#      cgroup it leaves behind and exits; the pod's next shim takes that
#      cgroup over (never joins it) and removes it after the thaw.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: survivor
  annotations:
    podvisor.io/backoff-initial: "100ms"
    podvisor.io/backoff-max: "200ms"
spec:
  shareProcessNamespace: true
  restartPolicy: Always
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "sleep 1000 & exit 1"]
  - name: f
    image: busybox
    command: ["sh", "-c", "sleep 1001 </dev/null >/dev/null 2>&1 & exec sleep 3601"]
Y
cg= # the pod cgroup, known once the first instance runs
sock=$(sock_of survivor)
# The hierarchies the pod's cgroups are in: on v2 the unified one (".":
# /sys/fs/cgroup/./$cg is the pod's directory there).
HIER="cpu cpuacct memory pids"
[ "$CGROUP2" = 1 ] && HIER=.
# Only the v1 freezer keeps a survivor alive through a SIGKILL: cgroup v2's
# cgroup.freeze lets fatal signals through.
NOFREEZE="no cgroup v1 freezer hierarchy at /sys/fs/cgroup/freezer (the v2 freezer lets SIGKILL through)"
FZ=/sys/fs/cgroup/freezer/pv-e2e-survivor-$$
thaw_all() {
  [ -d "$FZ" ] || return 0
  echo THAWED > "$FZ/freezer.state" 2>/dev/null
  for _ in $(seq 100); do rmdir "$FZ" 2>/dev/null && break; sleep 0.05; done
}
# After a failure: the pod's cgroup directories, once their processes died.
rm_cgroups() {
  [ -n "$cg" ] || return 0 # the pod never ran
  for h in $HIER cpuset; do
    [ -d "/sys/fs/cgroup/$h/$cg" ] &&
      find "/sys/fs/cgroup/$h/$cg" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}
trap 'thaw_all; cleanup; sleep 0.2; rm_cgroups' EXIT
ctl() { "$PV" shim ctl "$sock" "$@"; }
now_ms() { date +%s%3N; }
# The samples below look at every process, many times: builtins only (an
# exec per process would take minutes on a slow machine).
# cmdline_is PID WORDS: the process's arguments, joined by spaces, are WORDS.
cmdline_is() {
  local a=()
  mapfile -d '' -t a <"/proc/$1/cmdline" 2>/dev/null || return 1
  [ "${a[*]}" = "$2" ]
}
# Processes running "sleep ARG" in the pod's cgroups.
count_in_cgroups() {
  local n=0 p l
  for p in /proc/[0-9]*; do
    cmdline_is "${p#/proc/}" "sleep $1" || continue
    while read -r l; do
      [[ $l == *"$cg/"* ]] && { n=$((n + 1)); break; }
    done <"$p/cgroup" 2>/dev/null
  done
  echo $n
}
# Processes running "sleep ARG" in the pod's pid namespace (the pause
# process's, the shim's first child), wherever their cgroup is.
count_in_pidns() {
  local pause= n=0 p
  read -r pause _ <"/proc/$1/task/$1/children" 2>/dev/null
  [ -n "$pause" ] && [ -e "/proc/$pause/ns/pid" ] || { echo 0; return; }
  for p in /proc/[0-9]*; do
    cmdline_is "${p#/proc/}" "sleep $2" || continue
    [ "$p/ns/pid" -ef "/proc/$pause/ns/pid" ] && n=$((n + 1))
  done
  echo $n
}
# Directories NAME (exact, or a glob) under the pod's cgroup in hierarchy H.
count_dirs() { local n=0 d; for d in /sys/fs/cgroup/$1/$cg/$2; do [ -d "$d" ] && n=$((n + 1)); done; echo $n; }
restarts() { jq_status survivor ".containerStatuses[$1].restartCount"; }

start_shim "$T/pod.yaml" survivor
SHIM=$LAST_SHIM
wait_for survivor '.containerStatuses[0].restartCount >= 4' true 15 || fail "c does not restart"
cg=$(cgroup_of survivor)
for i in $(seq 20); do
  a=$(count_in_cgroups 1000)
  b=$(count_in_pidns "$SHIM" 1000)
  [ "$a" -le 1 ] && [ "$b" -le 1 ] || fail "sample $i: $a sleep 1000 in the pod's cgroups, $b in its pid namespace"
  # Between two runs c has no cgroup; f always has one; at most one
  # pending cgroup of c, for the few ms its survivor takes to die.
  for h in $HIER; do
    [ "$(count_dirs "$h" f)" = 1 ] && [ "$(count_dirs "$h" c)" -le 1 ] &&
      [ "$(count_dirs "$h" 'c.pending-*')" -le 1 ] || fail "$h: $(ls /sys/fs/cgroup/$h/$cg)"
  done
  sleep 0.05
done
ok "c restarted $(restarts 0) times, no survivor piles up"

frozen=0
if [ -f /sys/fs/cgroup/freezer/cgroup.procs ]; then
  frozen=1
  wait_for survivor '.containerStatuses[1].state.running != null' true 10 || fail "f not running"
  pid=$(pid_in_cgroup survivor f "sleep 1001 ")
  [ -n "$pid" ] || fail "no sleep 1001 in f's cgroup"
  mkdir "$FZ" && echo "$pid" > "$FZ/cgroup.procs" && echo FROZEN > "$FZ/freezer.state" || fail "freeze $pid"
  for _ in $(seq 100); do grep -q FROZEN "$FZ/freezer.state" && break; sleep 0.02; done
  grep -q FROZEN "$FZ/freezer.state" || fail "freezer: $(cat "$FZ/freezer.state")"
  c0=$(restarts 0)
  t0=$(now_ms)
  ctl restart f | grep -qx ok || fail "restart f"
  wait_for survivor '.containerStatuses[1].restartCount' 1 5 || fail "f did not restart"
  wait_for survivor '.containerStatuses[1].state.running != null' true 5 || fail "f not running again"
  took=$(($(now_ms) - t0))
  echo "restart of f with a frozen survivor: $took ms"
  [ "$took" -lt $((1000 * SLOW)) ] || fail "the restart waited for the frozen survivor ($took ms)"
  kill -0 "$pid" || fail "the frozen survivor died"
  for h in $HIER; do
    grep -qx "$pid" "/sys/fs/cgroup/$h/$cg/f/cgroup.procs" && fail "$h: the new f shares its cgroup with the survivor"
    [ "$(count_dirs "$h" 'f.pending-*')" = 1 ] || fail "$h: the survivor's cgroup was not moved aside: $(ls /sys/fs/cgroup/$h/$cg)"
  done
  grep -q "pids:/$cg/f.pending-" "/proc/$pid/cgroup" || fail "survivor in $(grep pids "/proc/$pid/cgroup")"
  # The loop is not held up: c keeps restarting, the socket answers.
  t1=$(now_ms)
  ctl status >/dev/null || fail "status"
  [ $(($(now_ms) - t1)) -lt $((500 * SLOW)) ] || fail "status took $(($(now_ms) - t1)) ms"
  sleep "$SLOW"
  [ "$(restarts 0)" -ge $((c0 + 3)) ] || fail "c restarted $(($(restarts 0) - c0)) times in $SLOW s with a survivor pending"
  echo THAWED > "$FZ/freezer.state"
  for _ in $(seq 40); do [ "$(count_dirs pids 'f.pending-*')" = 0 ] && break; sleep 0.05; done
  for h in $HIER; do [ "$(count_dirs "$h" 'f.pending-*')" = 0 ] || fail "$h: the thawed survivor's cgroup stays"; done
  kill -0 "$pid" 2>/dev/null && fail "the thawed survivor lives on"
  ok "a frozen survivor held up nothing, was moved aside, and went after the thaw"
else
  skip "a frozen survivor on restart" "$NOFREEZE"
fi

stop_shim "$SHIM" || fail "shim did not stop"
for h in $HIER cpuset; do
  [ -e "/sys/fs/cgroup/$h/$cg" ] && fail "$h: $cg left: $(ls "/sys/fs/cgroup/$h/$cg")"
done
[ "$(count_in_cgroups 1000)" = 0 ] && [ "$(count_in_cgroups 1001)" = 0 ] || fail "processes left"
ok "after the stop nothing is left"

if [ "$frozen" != 1 ]; then
  skip "a stop with a frozen survivor, and the next shim taking its cgroup over" "$NOFREEZE"
  exit 0
fi
start_shim "$T/pod.yaml" survivor
SHIM=$LAST_SHIM
wait_for survivor '.containerStatuses[1].state.running != null' true 10 || fail "f not running (second shim)"
cg=$(cgroup_of survivor) # a new instance: the first one stopped cleanly
pid=$(pid_in_cgroup survivor f "sleep 1001 ")
[ -n "$pid" ] || fail "no sleep 1001 in f's cgroup (second shim)"
mkdir -p "$FZ" && echo "$pid" > "$FZ/cgroup.procs" && echo FROZEN > "$FZ/freezer.state" || fail "freeze $pid"
t0=$(now_ms)
stop_shim "$SHIM" || fail "the shim did not stop with a frozen survivor"
took=$(($(now_ms) - t0))
echo "stop with a frozen survivor: $took ms"
[ "$took" -ge 4000 ] || fail "the stop did not wait for the pending cgroup ($took ms)"
grep "left behind" "$T/shim-survivor.log" | grep -q "$cg/f" || fail "no log of the cgroup left behind: $(tail -5 "$T/shim-survivor.log")"
kill -0 "$pid" || fail "the frozen survivor died"
ok "a stop waits a bounded time for a survivor, then says what it leaves behind"

# The next shim of the pod takes the leftover over: its f never joins it,
# and it removes it once the survivor is gone.
start_shim "$T/pod.yaml" survivor
SHIM=$LAST_SHIM
wait_for survivor '.containerStatuses[1].state.running != null' true 10 || fail "f not running (third shim)"
for h in $HIER; do
  grep -qx "$pid" "/sys/fs/cgroup/$h/$cg/f/cgroup.procs" && fail "$h: the new f shares its cgroup with the leftover"
done
grep -q "pids:/$cg/f.pending-" "/proc/$pid/cgroup" || fail "leftover in $(grep pids "/proc/$pid/cgroup")"
thaw_all
for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "the thawed survivor lives on"
for _ in $(seq 40); do [ "$(count_dirs pids 'f.pending-*')" = 0 ] && break; sleep 0.05; done
for h in $HIER; do [ "$(count_dirs "$h" 'f.pending-*')" = 0 ] || fail "$h: the leftover stays"; done
stop_shim "$SHIM" || fail "third shim did not stop"
for h in $HIER cpuset; do
  [ -e "/sys/fs/cgroup/$h/$cg" ] && fail "$h: $cg left: $(ls "/sys/fs/cgroup/$h/$cg")"
done
ok "the next shim took the leftover over and removed it"
