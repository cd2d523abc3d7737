#!/bin/bash
# bench_daemon.sh - `podvisor daemon` with 100 and 500 one-container pods,
# against `podman kube play` of the same pods, side by side in one run.
# Not a test (ctest never runs it; `cmake --build BUILD --target bench_daemon`
# runs it on the build's binaries).  Needs root, podman with runc and
# catatonit, curl, jq: `contrib/deps.sh bench` installs them all.
#
#   tests/bench/bench_daemon.sh [PODVISOR_BINARY]      (default build/podvisor)
#   QUICK=1 tests/bench/bench_daemon.sh                (10 and 50 pods, 10 s idle: a try-out)
#
# Every pod is one busybox container, `sh -c "trap 'exit 0' TERM; sleep 3600 & wait"`,
# image localhost/busybox:latest, the same YAML for both.  What each figure times:
#
#  1. apply N pods → all Running.
#       podvisor: a fresh daemon (own --root, --run-root, empty --manifests);
#                 from just before `podvisor apply -f pods.yaml` (one request,
#                 N documents) until GET /api/v1/pods (curl --unix-socket,
#                 every POLL s) shows N pods in phase Running.  SOURCE=dir
#                 instead moves N files into the manifest directory (one
#                 rename each) and times the same way.  The last container
#                 start in the shims' status.json (ns) is printed too: it is
#                 free of the poll's granularity.  ROUNDS rounds, median.
#                 Meanwhile a client asks GET /healthz every 50 ms: its
#                 slowest answer is how long the daemon's loop was busy.
#       podman:   `podman kube play --network none` of the same pods, CHUNK
#                 pods per file, one file after the other, until all are
#                 played or PODMAN_CAP s have passed; the time is the wall
#                 time of the plays (podman returns once the pods run).
#                 When the cap stops it, the output says so and the ratio
#                 uses podman's time per pod × N (extrapolated, linear).
#  2. memory at the largest N, once the pods have been quiet for SETTLE s:
#       the daemon's VmRSS (/proc/PID/status) and PSS; the shims' PSS summed
#       (/proc/PID/smaps_rollup, pids from <run-root>/pods/*/shim.pid);
#       podman's conmons' PSS summed (the infra's and the container's, per pod).
#  3. CPU while idle for IDLE s at the largest N: utime+stime deltas of the
#       daemon and of every shim (/proc/PID/stat), as % of one core.  Nothing
#       talks to the daemon in that time (its own periodic rescan runs).
#  4. a no-op reconcile at the largest N: SIGHUP (a rescan), then the
#       duration_us of the next `msg="reconciled"` line of the daemon's log
#       (--log-level debug); HUPS times, median; each must report actions=0.
#  5. GET /api/v1/pods at the largest N: GETS requests with curl, time_total,
#       median and 90th percentile; `podvisor get pods` (the CLI, a Table)
#       against `podman pod ps`, CLI_RUNS runs each, median.
#  6. delete all N → all gone.
#       podvisor: `podvisor delete -f pods.yaml` (it waits until the API has
#                 none of them) until every shim of the pods has exited (a
#                 shim exits only once its containers, cgroups and mounts are
#                 gone); SOURCE=dir removes the files and waits the same way.
#       podman:   `podman kube down` of the same chunk files, under the same
#                 cap (the rest is removed untimed with `podman pod rm -f`).
#
# Targets, printed beside the figures: 500 Running in ≤ 1/30 of podman's
# time, daemon RSS ≤ 20 MB, idle CPU < 0.5 % of a core for the daemon and 0
# for the shims, a no-op reconcile ≤ 10 ms, delete ≤ 1/10 of podman's.
#
# Environment (QUICK=1 changes the defaults in brackets):
#   SIZES="100 500" [10 50]  pod counts, in order; the last one gets 2-5
#   ROUNDS=3 [1]             daemon apply/delete rounds per size (podman: one)
#   IDLE=60 [10]  SETTLE=5 [2]  GETS=50 [10]  HUPS=10 [3]  CLI_RUNS=5 [3]
#   PODMAN_CAP=300 [30]      seconds podman may play (and, apart, down) per size
#   CHUNK=10                 pods per `podman kube play` file
#   POLL=0.1                 seconds between API polls
#   SOURCE=apply|dir         how the daemon is given the pods (default apply)
#   PODMAN=1  DAEMON=1       0 leaves that half out
#   OUT=FILE                 also write the result table there
#
# Everything runs under a private directory (/tmp/pv-dbench-XXXXXX: the
# daemon's root, run-root and manifests, podman's storage); the daemon, every
# shim and every podman pod are removed at the end and on failure or Ctrl-C.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PV=$(readlink -f "${1:-${PODVISOR_BINARY:-$SRC/build/podvisor}}")
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then q=1; else q=0; fi
pick() { if [ "$q" = 1 ]; then echo "$2"; else echo "$1"; fi; }
SIZES=${SIZES:-$(pick "100 500" "10 50")}
ROUNDS=${ROUNDS:-$(pick 3 1)}
IDLE=${IDLE:-$(pick 60 10)}
SETTLE=${SETTLE:-$(pick 5 2)}
GETS=${GETS:-$(pick 50 10)}
HUPS=${HUPS:-$(pick 10 3)}
CLI_RUNS=${CLI_RUNS:-$(pick 5 3)}
PODMAN_CAP=${PODMAN_CAP:-$(pick 300 30)}
CHUNK=${CHUNK:-10}
POLL=${POLL:-0.1}
SOURCE=${SOURCE:-apply}
PODMAN=${PODMAN:-1}
DAEMON=${DAEMON:-1}
OUT=${OUT:-}
MAXN=${SIZES##* }

say() { echo "== $*" >&2; }
die() { echo "bench_daemon.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
case $SOURCE in apply | dir) ;; *) die "SOURCE is apply or dir, not '$SOURCE'" ;; esac
for t in curl jq; do command -v "$t" >/dev/null || die "needs $t (contrib/deps.sh installs it)"; done
if [ "$PODMAN" = 1 ]; then
  for t in podman runc catatonit conmon; do
    command -v "$t" >/dev/null || die "needs $t (contrib/deps.sh bench installs it), or PODMAN=0"
  done
fi
[ -x "$PV" ] || die "no podvisor binary at $PV (build it, or name it as the first argument)"
DAEMON_NOTE=""
if [ "$DAEMON" = 1 ] && ! "$PV" daemon --help >/dev/null 2>&1; then
  DAEMON=0 DAEMON_NOTE="this podvisor has no working 'daemon' command"
  say "$DAEMON_NOTE: measuring podman only"
fi

T=$(mktemp -d /tmp/pv-dbench-XXXXXX)
R=$T/root RR=$T/run M=$T/manifests
SOCK=$RR/podvisor.sock
DPID=""
export CONTAINERS_CONF=$T/containers.conf
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------ helpers
now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { echo $((($(now_us) - $1) / 1000)); }
# median / p90 / min / max of numbers on stdin
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) {print "n/a"; exit}
  if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
p90() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) {print "n/a"; exit}
  i = int(NR * 0.9 + 0.999); if (i > NR) i = NR; print a[i]}'; }
minmax() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {if (NR) printf "%s–%s", lo, hi; else printf "n/a"}'; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }
is_num() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }
# "1/23" for a ratio below 1 (podvisor faster), "×1.5" above
ratio() {
  if ! is_num "$1" || ! is_num "$2" || [ "$(calc %d "$1 <= 0")" = 1 ]; then echo n/a; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN {if (a > b) printf "×%.2f", a / b; else if (b / a < 10) printf "1/%.1f", b / a
    else printf "1/%.0f", b / a}'
}
# verdict VALUE OP LIMIT: "met" or "MISSED" (n/a when VALUE is not a number)
verdict() {
  is_num "$1" || { echo n/a; return; }
  awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {ok = (op == "<=") ? v <= l : (op == "<") ? v < l : v == l
    print ok ? "met" : "MISSED"}'
}

pm() {
  podman --root "$T/podman/root" --runroot "$T/podman/runroot" --tmpdir "$T/podman/tmp" \
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}
api() { curl -sS --max-time 20 --unix-socket "$SOCK" "http://localhost$1"; }
# how many pods the API lists, and how many of them are Running (-1: no answer)
pods_count() {
  local n
  n=$(api /api/v1/pods 2>/dev/null | jq "$1" 2>/dev/null) || n=""
  echo "${n:--1}"
}
pods_running() { pods_count '[.items[] | select(.status.phase == "Running")] | length'; }
pods_listed() { pods_count '.items | length'; }
# utime+stime of PIDs, in clock ticks (a process that is gone counts 0)
ticks() {
  local pid s f sum=0
  for pid in "$@"; do
    s=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    read -ra f <<<"${s##*) }"
    sum=$((sum + f[11] + f[12]))
  done
  echo "$sum"
}
# summed Pss (kB) of PIDs
pss() {
  local pid sum=0 v
  for pid in "$@"; do
    v=$(awk '$1 == "Pss:" {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}
shim_pids() {
  local f p
  for f in "$RR"/pods/*/shim.pid; do
    [ -e "$f" ] || continue
    p=$(cat "$f" 2>/dev/null) || continue
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
  done
  return 0
}
alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
conmon_pids() {
  local d
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = conmon ] || continue
    tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF "$T/podman" && echo "${d#/proc/}"
  done
  return 0
}

# ------------------------------------------------------------ clean-up
stop_daemon() {
  [ -n "$DPID" ] || return 0
  kill -TERM "$DPID" 2>/dev/null || true
  local i
  for ((i = 0; i < 1200; i++)); do alive "$DPID" || break; sleep 0.1; done
  if alive "$DPID"; then
    echo "bench_daemon.sh: the daemon did not stop in 120 s; SIGKILL" >&2
    kill -KILL "$DPID" 2>/dev/null || true
  fi
  wait "$DPID" 2>/dev/null || true
  DPID=""
}
cleanup() {
  local rc=$? pids ids i d id
  trap - EXIT INT TERM
  set +e # every step is tried, whatever the one before did
  [ -z "$PROBER" ] || kill "$PROBER" 2>/dev/null
  stop_daemon
  # Shims the daemon left (it stops them at SIGTERM; after a failure it may not have).
  mapfile -t pids < <(shim_pids)
  if [ "${#pids[@]}" -gt 0 ]; then
    echo "bench_daemon.sh: stopping ${#pids[@]} shims left behind" >&2
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do alive "${pids[@]}" || break; sleep 0.1; done
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  if [ "$PODMAN" = 1 ] && [ -d "$T/podman" ]; then
    mapfile -t ids < <(pm pod ps -q --no-trunc 2>/dev/null || true)
    pm pod rm -a -f -t0 >/dev/null 2>&1 || true
    pm rm -a -f -t0 >/dev/null 2>&1 || true
    # podman 4.3 leaves its pods' empty cgroups behind (name=systemd, the
    # cgroup2 part of a hybrid layout): remove ours, only when empty.
    for id in "${ids[@]}" "${PODMAN_IDS[@]}"; do
      [ -n "$id" ] || continue
      for d in /sys/fs/cgroup/*/libpod_parent/"$id" /sys/fs/cgroup/libpod_parent/"$id"; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
      done
    done
  fi
  if [ "$rc" != 0 ] && ls "$T"/daemon-*.log >/dev/null 2>&1; then
    mkdir -p "$T.logs" && cp "$T"/daemon-*.log "$T.logs/"
    echo "bench_daemon.sh: failed ($rc); the daemon's logs are kept in $T.logs" >&2
  fi
  # Nothing may stay mounted under $T before it goes.
  findmnt -rn -o TARGET | grep -F "$T/" | sort -r | while read -r d; do umount -l "$d" 2>/dev/null || true; done
  rm -rf --one-file-system "$T"
  exit "$rc"
}
PODMAN_IDS=()
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ set-up
say "setup: busybox rootfs in podvisor ($R) and podman"
rootfs=${TMPDIR:-/tmp}/podvisor-test-rootfs
[ -x "$rootfs/bin/sh" ] || sh "$SRC/contrib/mkrootfs-busybox.sh" "$rootfs" >/dev/null
mkdir -p "$M" "$T/stage"
"$PV" --root "$R" image import busybox "$rootfs" >/dev/null
if [ "$PODMAN" = 1 ]; then
  # The settings podman needs on this kind of host (see ../shared/anchors):
  # nofile/nproc within the hard limits, cgroupfs, file events.
  cat >"$CONTAINERS_CONF" <<'C'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1000:1000"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
C
  tar -C "$rootfs" -cf "$T/rootfs.tar" .
  pm import -q --change 'CMD ["/bin/sh"]' "$T/rootfs.tar" localhost/busybox:latest >/dev/null
  rm -f "$T/rootfs.tar"
fi

# pods N: $T/pods-N.yaml (all), $T/pods-N/NNNN.yaml (one per file), $T/chunks-N/*.yaml
make_pods() {
  local n=$1 i name
  mkdir -p "$T/pods-$n" "$T/chunks-$n"
  : >"$T/pods-$n.yaml"
  for ((i = 1; i <= n; i++)); do
    name=$(printf 'bench-%04d' "$i")
    cat >"$T/pods-$n/$name.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $name
  labels:
    app: bench
spec:
  restartPolicy: Always
  containers:
  - name: c
    image: localhost/busybox:latest
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
Y
    { [ "$i" -gt 1 ] && echo ---; cat "$T/pods-$n/$name.yaml"; } >>"$T/pods-$n.yaml"
    { [ $(((i - 1) % CHUNK)) -gt 0 ] && echo ---; cat "$T/pods-$n/$name.yaml"; } \
      >>"$T/chunks-$n/$(printf '%04d' $(((i - 1) / CHUNK)))".yaml
  done
}

declare -A RES # every figure, by name

# ------------------------------------------------------------ the daemon
start_daemon() {
  local log=$1 i
  rm -f "$SOCK"
  "$PV" daemon --root "$R" --run-root "$RR" --manifests "$M" --log-level debug </dev/null 2>"$log" &
  DPID=$!
  for ((i = 0; i < 200; i++)); do
    alive "$DPID" || { tail -5 "$log" >&2; die "the daemon exited at start (log above)"; }
    [ -S "$SOCK" ] && api /healthz >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "the daemon did not answer on $SOCK within 10 s"
}
# wait_for DESC DEADLINE_S CMD...: poll CMD until it succeeds
wait_for() {
  local desc=$1 end=$(($(now_us) + $2 * 1000000))
  shift 2
  until "$@"; do
    [ -z "$DPID" ] || alive "$DPID" || die "the daemon died while waiting for $desc"
    [ "$(now_us)" -lt "$end" ] || die "timed out waiting for $desc"
    sleep "$POLL"
  done
}
all_running() { [ "$(pods_running)" -ge "$1" ]; }
all_gone() { [ "$(pods_listed)" = 0 ] && ! alive "${SHIMS[@]}"; }
# the last container start of the shims' status.json, µs since the epoch
last_start_us() {
  local ts
  ts=$(jq -r '.containerStatuses[]?.state.running.startedAt // empty' "$RR"/pods/*/status.json 2>/dev/null |
    sort | tail -1)
  [ -n "$ts" ] && echo $(($(date -d "$ts" +%s%N) / 1000))
}
reconcile_lines() { grep -c 'msg="reconciled"' "$1" || true; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

SHIMS=() PROBER=""
daemon_size() {
  local n=$1 log r t0 a b i
  log=$T/daemon-$n.log
  say "podvisor daemon: $n pods, $ROUNDS round(s), SOURCE=$SOURCE"
  start_daemon "$log"
  RES[rss0_kb]=$(awk '/^VmRSS:/ {print $2}' "/proc/$DPID/status")
  : >"$T/up-$n" && : >"$T/upst-$n" && : >"$T/down-$n"
  for ((r = 1; r <= ROUNDS; r++)); do
    # A client that asks /healthz every 50 ms while the pods start: how
    # long the daemon's loop leaves a request waiting.
    while :; do
      curl -sS -o /dev/null -w '%{time_total}\n' --max-time 30 --unix-socket "$SOCK" http://localhost/healthz || echo 30
      sleep 0.05
    done >"$T/hz-$n-$r" 2>/dev/null &
    PROBER=$!
    t0=$(now_us)
    if [ "$SOURCE" = apply ]; then
      "$PV" --root "$R" --run-root "$RR" apply -f "$T/pods-$n.yaml" >"$T/apply.out"
    else
      mv "$T/pods-$n"/*.yaml "$M/"
    fi
    wait_for "$n pods Running" $((60 + n)) all_running "$n"
    a=$(ms_since "$t0")
    kill "$PROBER" 2>/dev/null || true
    wait "$PROBER" 2>/dev/null || true
    PROBER=""
    echo "$a" >>"$T/up-$n"
    sort -g "$T/hz-$n-$r" | tail -1 | awk '{printf "%.1f\n", $1 * 1000}' >>"$T/hz-$n"
    b=$(last_start_us) && echo $(((b - t0) / 1000)) >>"$T/upst-$n"
    say "  round $r: $n Running after $a ms (last container start at +$(tail -1 "$T/upst-$n") ms)"
    mapfile -t SHIMS < <(shim_pids)
    [ "${#SHIMS[@]}" = "$n" ] || die "$n pods Running but ${#SHIMS[@]} shims alive"
    if [ "$r" = "$ROUNDS" ] && [ "$n" = "$MAXN" ]; then daemon_steady "$n" "$log"; fi
    t0=$(now_us)
    if [ "$SOURCE" = apply ]; then
      "$PV" --root "$R" --run-root "$RR" delete -f "$T/pods-$n.yaml" >/dev/null
    else
      for i in "$M"/*.yaml; do mv "$i" "$T/pods-$n/"; done
    fi
    wait_for "$n pods gone" $((60 + n)) all_gone
    a=$(ms_since "$t0")
    echo "$a" >>"$T/down-$n"
    say "  round $r: all $n gone (API and shims) after $a ms"
  done
  # The largest reconcile of the run (the pass that planned the launches).
  RES[maxrec_$n]=$(grep 'msg="reconciled"' "$log" | sed -n 's/.*actions=\([0-9]*\) duration_us=\([0-9]*\).*/\2 \1/p' |
    sort -n | tail -1)
  stop_daemon
  RES[up_$n]=$(median <"$T/up-$n") RES[upst_$n]=$(median <"$T/upst-$n") RES[down_$n]=$(median <"$T/down-$n")
  RES[upmm_$n]=$(minmax <"$T/up-$n") RES[downmm_$n]=$(minmax <"$T/down-$n")
  RES[hz_$n]=$(median <"$T/hz-$n")
}

# 2-5 at the largest size, with every pod Running
daemon_steady() {
  local n=$1 log=$2 d0 d1 s0 s1 i before line dur t
  say "  settling $SETTLE s, then memory, $IDLE s idle, $HUPS no-op reconciles, $GETS GETs"
  sleep "$SETTLE"
  RES[rss_kb]=$(awk '/^VmRSS:/ {print $2}' "/proc/$DPID/status")
  RES[hwm_kb]=$(awk '/^VmHWM:/ {print $2}' "/proc/$DPID/status")
  RES[dpss_kb]=$(pss "$DPID")
  RES[spss_kb]=$(pss "${SHIMS[@]}")
  # where the daemon's memory is: Pss of its heap, of anonymous mappings, of the rest
  RES[dsplit]=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {k = ($6 == "[heap]") ? "heap" : ($6 == "") ? "anon" : "files"}
    $1 == "Pss:" {t[k] += $2} END {printf "heap %d kB, anon %d kB, files %d kB", t["heap"], t["anon"], t["files"]}' \
    "/proc/$DPID/smaps")
  RES[fds]=$(find "/proc/$DPID/fd" -mindepth 1 | wc -l)
  d0=$(ticks "$DPID") s0=$(ticks "${SHIMS[@]}")
  sleep "$IDLE"
  d1=$(ticks "$DPID") s1=$(ticks "${SHIMS[@]}")
  RES[dcpu]=$(calc %.3f "($d1 - $d0) * 100 / $CLK_TCK / $IDLE")
  RES[dticks]=$((d1 - d0)) RES[sticks]=$((s1 - s0))
  RES[scpu]=$(calc %.3f "($s1 - $s0) * 100 / $CLK_TCK / $IDLE")
  alive "${SHIMS[@]}" || die "shims died while idle"
  : >"$T/rec"
  for ((i = 0; i < HUPS; i++)); do
    before=$(reconcile_lines "$log")
    kill -HUP "$DPID"
    t=$(($(now_us) + 5000000))
    while [ "$(reconcile_lines "$log")" -le "$before" ] && [ "$(now_us)" -lt "$t" ]; do sleep 0.02; done
    line=$(grep 'msg="reconciled"' "$log" | tail -1)
    if [ "$(reconcile_lines "$log")" -le "$before" ]; then
      say "  SIGHUP $i: no reconcile line within 5 s"
      continue
    fi
    dur=$(field duration_us "$line")
    [ "$(field actions "$line")" = 0 ] || say "  SIGHUP $i: the reconcile was no no-op: $line"
    [ "$(field pods "$line")" = "$n" ] || say "  SIGHUP $i: the reconcile counted other pods: $line"
    echo "$dur" >>"$T/rec"
    sleep 0.2
  done
  RES[rec_us]=$(median <"$T/rec") RES[recmm]=$(minmax <"$T/rec") RES[recn]=$(wc -l <"$T/rec")
  for ((i = 0; i < GETS; i++)); do
    curl -sS -o /dev/null -w '%{time_total}\n' --unix-socket "$SOCK" http://localhost/api/v1/pods
  done | awk '{printf "%.2f\n", $1 * 1000}' >"$T/get"
  RES[get_ms]=$(median <"$T/get") RES[get90]=$(p90 <"$T/get")
  RES[getbytes]=$(api /api/v1/pods | wc -c)
  : >"$T/cli"
  for ((i = 0; i < CLI_RUNS; i++)); do
    t=$(now_us)
    "$PV" --root "$R" --run-root "$RR" get pods >/dev/null
    echo $((($(now_us) - t) / 100)) | awk '{printf "%.1f\n", $1 / 10}' >>"$T/cli"
  done
  RES[cli_ms]=$(median <"$T/cli")
}

# ------------------------------------------------------------ podman
podman_size() {
  local n=$1 f t0 k=0 played=() cp a i t
  say "podman: kube play of $n pods, $CHUNK per file, cap $PODMAN_CAP s"
  t0=$(now_us)
  for f in "$T/chunks-$n"/*.yaml; do
    if [ $(($(now_us) - t0)) -ge $((PODMAN_CAP * 1000000)) ]; then break; fi
    pm kube play --network none "$f" >/dev/null
    played+=("$f")
    k=$((k + $(grep -c '^kind: Pod' "$f")))
  done
  a=$(ms_since "$t0")
  RES[pk_$n]=$k RES[pup_$n]=$a
  RES[pupx_$n]=$(calc %.0f "$a * $n / $k")
  say "  $k of $n pods played in $a ms"
  mapfile -t -O "${#PODMAN_IDS[@]}" PODMAN_IDS < <(pm pod ps -q --no-trunc)
  if [ "$n" = "$MAXN" ]; then
    sleep "$SETTLE"
    mapfile -t cp < <(conmon_pids)
    RES[cmpss_kb]=$(pss "${cp[@]}") RES[cmn]=${#cp[@]}
    : >"$T/pcli"
    for ((i = 0; i < CLI_RUNS; i++)); do
      t=$(now_us)
      pm pod ps >/dev/null
      echo $((($(now_us) - t) / 100)) | awk '{printf "%.1f\n", $1 / 10}' >>"$T/pcli"
    done
    RES[pcli_ms]=$(median <"$T/pcli")
  fi
  say "podman: kube down of the $k pods, cap $PODMAN_CAP s"
  k=0
  t0=$(now_us)
  for f in "${played[@]}"; do
    if [ $(($(now_us) - t0)) -ge $((PODMAN_CAP * 1000000)) ]; then break; fi
    pm kube down "$f" >/dev/null
    k=$((k + $(grep -c '^kind: Pod' "$f")))
  done
  a=$(ms_since "$t0")
  RES[pdk_$n]=$k RES[pdown_$n]=$a
  RES[pdownx_$n]=$(calc %.0f "$a * $n / ($k > 0 ? $k : 1)")
  say "  $k pods down in $a ms"
  if [ "$k" -lt "${RES[pk_$n]}" ]; then
    say "  removing the other $((${RES[pk_$n]} - k)) podman pods (untimed)"
    pm pod rm -a -f -t0 >/dev/null
  fi
}

# ------------------------------------------------------------ run
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for n in $SIZES; do
  make_pods "$n"
  if [ "$DAEMON" = 1 ]; then daemon_size "$n"; fi
  if [ "$PODMAN" = 1 ]; then podman_size "$n"; fi
done

# ------------------------------------------------------------ report
v() { echo "${RES[$1]:-n/a}"; }
podman_up() { # the figure, and how it was got
  local n=$1
  [ -n "${RES[pk_$n]:-}" ] || { echo "n/a"; return; }
  if [ "${RES[pk_$n]}" = "$n" ]; then echo "${RES[pup_$n]} ms"
  else echo "${RES[pupx_$n]} ms (extrapolated: ${RES[pk_$n]} pods in ${RES[pup_$n]} ms, cap ${PODMAN_CAP} s)"; fi
}
podman_down() {
  local n=$1
  [ -n "${RES[pdk_$n]:-}" ] || { echo "n/a"; return; }
  if [ "${RES[pdk_$n]}" = "$n" ]; then echo "${RES[pdown_$n]} ms"
  else echo "${RES[pdownx_$n]} ms (extrapolated: ${RES[pdk_$n]} pods in ${RES[pdown_$n]} ms, cap ${PODMAN_CAP} s)"; fi
}
ratio_target() { # ratio DEN: "1/R" and a verdict against ≤ 1/DEN
  local a=$1 b=$2 den=$3 r
  r=$(ratio "$a" "$b")
  if is_num "$a" && is_num "$b"; then
    echo "$r | ≤ 1/$den | $(verdict "$(calc %.6f "$a / $b")" "<=" "$(calc %.6f "1 / $den")")"
  else echo "$r | ≤ 1/$den | n/a"; fi
}
if [ "$SOURCE" = apply ]; then verb_up=apply verb_down=delete
else verb_up="move into the manifest dir the files of" verb_down="remove the files of"; fi
{
  echo "## podvisor daemon against podman ($(date -u +%FT%TZ))"
  echo
  echo "Host: $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //');" \
    "$([ "$PODMAN" = 1 ] && echo "$(podman --version) (runc, cgroupfs, --network none)" || echo 'podman not measured (PODMAN=0)'); load average before the run $LOAD0." \
    "One busybox container per pod; SOURCE=$SOURCE; daemon: median of $ROUNDS round(s)$([ "$PODMAN" = 1 ] && echo '; podman: one round')$([ "$q" = 1 ] && echo '; QUICK=1')."
  [ -z "$DAEMON_NOTE" ] || echo "podvisor: $DAEMON_NOTE."
  echo
  echo "| what | podvisor daemon | podman | ratio | target | |"
  echo "|---|---:|---:|---:|---:|---|"
  for n in $SIZES; do
    up=$(v "up_$n") pu=${RES[pupx_$n]:-n/a}
    tgt=$( [ "$n" = "$MAXN" ] && ratio_target "$up" "$pu" 30 || echo "$(ratio "$up" "$pu") | – | ")
    echo "| $verb_up $n pods → all Running (API poll) | $up ms ($(v "upmm_$n")); last start +$(v "upst_$n") ms | $(podman_up "$n") | $tgt |"
  done
  for n in $SIZES; do
    dn=$(v "down_$n") pd=${RES[pdownx_$n]:-n/a}
    tgt=$( [ "$n" = "$MAXN" ] && ratio_target "$dn" "$pd" 10 || echo "$(ratio "$dn" "$pd") | – | ")
    echo "| $verb_down $n pods → all gone | $dn ms ($(v "downmm_$n")) | $(podman_down "$n") | $tgt |"
  done
  rss=$(v rss_kb)
  rss_mb=$(is_num "$rss" && calc %.1f "$rss / 1024" || echo n/a)
  echo "| daemon RSS, $MAXN pods (VmRSS; PSS $(v dpss_kb) kB: $(v dsplit); peak $(v hwm_kb) kB; $(v rss0_kb) kB at 0 pods; $(v fds) fds) | $rss_mb MB | – | | ≤ 20 MB | $(verdict "$rss_mb" "<=" 20) |"
  sp=$(v spss_kb) cm=$(v cmpss_kb)
  spp=$(is_num "$sp" && calc %.0f "$sp / $MAXN" || echo n/a)
  cmp_=$(is_num "$cm" && [ -n "${RES[pk_$MAXN]:-}" ] && [ "${RES[pk_$MAXN]}" -gt 0 ] && calc %.0f "$cm / ${RES[pk_$MAXN]}" || echo n/a)
  echo "| supervision PSS per pod, $MAXN pods (shims summed / conmons summed, $(v cmn) conmons) | $spp kB ($sp kB in all) | $cmp_ kB ($(v "pk_$MAXN") pods) | $(ratio "$spp" "$cmp_") | – | |"
  echo "| daemon CPU, idle $IDLE s, $MAXN pods | $(v dcpu) % of a core ($(v dticks) ticks) | – | | < 0.5 % | $(verdict "$(v dcpu)" "<" 0.5) |"
  echo "| shims' CPU, same $IDLE s | $(v scpu) % ($(v sticks) ticks) | – | | 0 | $(verdict "$(v sticks)" "==" 0) |"
  rec=$(v rec_us)
  rec_ms=$(is_num "$rec" && calc %.2f "$rec / 1000" || echo n/a)
  echo "| no-op reconcile, $MAXN pods (SIGHUP; median of $(v recn), $(v recmm) µs) | $rec_ms ms | – | | ≤ 10 ms | $(verdict "$rec_ms" "<=" 10) |"
  echo "| GET /api/v1/pods, $MAXN pods, $(v getbytes) bytes (curl, median of $GETS; p90 $(v get90) ms) | $(v get_ms) ms | – | | – | |"
  echo "| list pods with the CLI, $MAXN pods (\`podvisor get pods\` / \`podman pod ps\`) | $(v cli_ms) ms | $(v pcli_ms) ms ($(v "pk_$MAXN") pods) | $(ratio "$(v cli_ms)" "$(v pcli_ms)") | – | |"
  echo
  for n in $SIZES; do
    mr=${RES[maxrec_$n]:-}
    [ -z "$mr" ] || echo "Applying $n pods: the largest reconcile took ${mr% *} µs for ${mr#* } actions;" \
      "the slowest GET /healthz of a client asking every 50 ms meanwhile took $(v "hz_$n") ms (median over the rounds)."
  done
} | tee ${OUT:+"$OUT"}
