#!/bin/bash
# Every `podvisor up` runs a new instance of its pods (a new uid, as the
# kubelet's pod UID): its logs go to a directory of their own, so `up --logs`
# shows every line of this run, and an earlier run's logs stay apart.
. "$(dirname "$0")/up_lib.sh"
tour=$SRC/examples/tour.yaml
[ -f "$tour" ] || fail "no examples/tour.yaml"
expect() { # expect OUT: the tour's lines, each as often as one run prints it
  grep -qx 'tour/app | first try: failing on purpose' "$1" || fail "no first try line: $(cat "$1")"
  [ "$(grep -c '^tour/app | first try: failing on purpose$' "$1")" = 1 ] || fail "first try shown twice: $(cat "$1")"
  [ "$(grep -c '^tour/app | second try: done$' "$1")" = 1 ] || fail "second try: $(cat "$1")"
  [ "$(grep -c '^tour/app | hello from the init container$' "$1")" = 2 ] || fail "init message: $(cat "$1")"
}
for run in 1 2; do
  timeout 60 "$PV" --root "$R" --run-root "$RR" up --logs "$tour" > "$T/run$run.out" 2>&1; rc=$?
  [ "$rc" = 0 ] || fail "up --logs run $run exited $rc: $(cat "$T/run$run.out")"
  expect "$T/run$run.out"
done
ok "the second up --logs shows its first try too"
dirs=$(ls -d "$R"/logs/default_tour_* 2>/dev/null | wc -l)
[ "$dirs" = 2 ] || fail "expected one log directory per run, got: $(ls "$R/logs")"
for d in "$R"/logs/default_tour_*; do
  [ "$(grep -c 'first try' "$d/app/0.log")" = 1 ] || fail "$d/app/0.log holds another run's lines: $(cat "$d/app/0.log")"
done
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "run dirs left: $(ls "$RR/pods")"
ok "each run's logs are in a directory of their own"
