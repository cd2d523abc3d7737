# sec_lib.sh - helpers for the securityContext end-to-end tests (sourced
# after up_lib.sh).  Their containers print what they check, then "done",
# then sleep; the test reads the lines back from the container's log.

# log_of NAME CONTAINER: the container's first log file.
log_of() { echo "$(logdir_of "$1")/$2/0.log"; }
# log_wait NAME CONTAINER: waits (15 s, times SLOW) for the container's
# "done" line; prints the log and the shim's on a timeout.
log_wait() {
  local f end=$((SECONDS + 15 * SLOW))
  f=$(log_of "$1" "$2")
  while [ "$SECONDS" -le "$end" ]; do
    grep -q 'stdout F done$' "$f" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "timeout: no 'done' from $1/$2" >&2
  cat "$f" "$T/shim-$1.log" >&2 2>/dev/null
  return 1
}
# log_line NAME CONTAINER KEY: the value of the container's "KEY=value" line.
log_line() { sed -n "s/^.* stdout F $3=//p" "$(log_of "$1" "$2")" | head -n 1; }
# expect NAME CONTAINER KEY VALUE: the container printed KEY=VALUE.
expect() {
  local got
  got=$(log_line "$1" "$2" "$3")
  [ "$got" = "$4" ] || fail "$1/$2: $3 is '$got', want '$4' (log: $(cat "$(log_of "$1" "$2")"))"
}
