#!/bin/bash
# The number of containers in a pod: over the limit (spec.h
# SPEC_MAX_CONTAINERS, 1024) a pod is refused by validate and by up, and
# nothing of it is made; a large pod (300 containers) runs, and once up
# stops nothing of it is left (cgroups, pod data, run directory, socket).
. "$(dirname "$0")/up_lib.sh"
UPS=""
trap 'for p in $UPS; do kill -TERM $p 2>/dev/null; done; sleep 3; cleanup' EXIT
pod() { # pod NAME COUNT
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n' "$1"
  for i in $(seq "$2"); do
    printf '  - {name: c%d, image: busybox, command: ["sleep", "3600"]}\n' "$i"
  done
}
pod huge 1025 > "$T/huge.yaml"
out=$("$PV" validate "$T/huge.yaml" 2>&1); rc=$?
[ "$rc" != 0 ] || fail "validate accepted 1025 containers"
echo "$out" | grep -q "huge.yaml:1031:5: error: spec.containers\[1024\]: too many containers: a pod may have at most 1024" ||
  fail "no file:line:col error: $out"
"$PV" --root "$R" --run-root "$RR" up "$T/huge.yaml" > "$T/huge.out" 2>&1; rc=$?
[ "$rc" = 1 ] || fail "up exited $rc: $(cat "$T/huge.out")"
grep -q 'too many containers' "$T/huge.out" && grep -q 'nothing started' "$T/huge.out" || fail "up: $(cat "$T/huge.out")"
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "run directories made: $(ls "$RR/pods")"
[ -z "$(ls -A "$R/pods" 2>/dev/null)" ] || fail "pod data made: $(ls "$R/pods")"
ok "a pod of 1025 containers is refused by validate and up, and nothing of it is made"

# Under an emulated guest (SLOW > 1) a tenth: every exec there costs 10 times more.
n=300
[ "$SLOW" -gt 1 ] && n=30
pod big $n > "$T/big.yaml"
"$PV" validate "$T/big.yaml" >/dev/null 2>&1 || fail "validate refused $n containers"
"$PV" --root "$R" --run-root "$RR" up "$T/big.yaml" > "$T/big.out" 2>&1 &
up=$!
UPS="$UPS $up"
start=$SECONDS
wait_for big "[.containerStatuses[] | select(.state.running != null)] | length" $n 30 ||
  fail "$n containers not running: $(tail -5 "$T/big.out")"
echo "  $n containers running in $((SECONDS - start)) s"
cg=$(cgroup_of big) pd=$(poddir_of big) sock=$(sock_of big) rd=$(rundir_of big)
[ "$(cgroup_dirs "$cg" | wc -l)" -ge 1 ] || fail "no pod cgroup"
[ -S "$sock" ] || fail "no socket"
kill -TERM "$up"
for _ in $(seq $((300 * SLOW))); do kill -0 "$up" 2>/dev/null || break; sleep 0.1; done
kill -0 "$up" 2>/dev/null && fail "up did not stop in 30 s"
wait "$up"; rc=$?
[ "$rc" = 0 ] || fail "up exited $rc: $(tail -5 "$T/big.out")"
[ -z "$(cgroup_dirs "$cg")" ] || fail "cgroups left: $(cgroup_dirs "$cg" | head -3)"
left=0
for h in /sys/fs/cgroup/*/"$cg"/*/ /sys/fs/cgroup/"$cg"/*/; do [ -d "$h" ] && left=$((left + 1)); done
[ "$left" = 0 ] || fail "$left container cgroups left"
[ ! -e "$pd" ] || fail "pod dir left: $(du -sh "$pd")"
[ ! -e "$sock" ] || fail "socket left"
[ ! -e "$rd" ] || fail "run dir left"
ok "a pod of $n containers runs, and leaves nothing once up stops"
