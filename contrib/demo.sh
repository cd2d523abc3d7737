#!/bin/sh
# demo.sh - podvisor's main job, from a fresh Debian 12 machine (as root):
# install the dependencies, build, import the default busybox image, run one
# container the way `podman run --rm` would, check the manifests, run an
# example pod in the foreground until it completes; then start the daemon on
# the example pods of contrib/pods (a manifest directory), show them with the
# kubectl-like CLI (get, logs, an apply and the dry run of an edit), and stop
# the daemon again, which stops every pod: nothing is left running.
set -eu
cd "$(dirname "$0")/.."
sh contrib/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
pv=build/podvisor
PODVISOR=$pv sh contrib/mkimage-busybox.sh

step() { printf '\n$ %s\n' "$*"; }

step podvisor images
$pv images

step podvisor run --rm --hostname demo --memory 64m --cpus 0.5 --pids-limit 100 busybox sh -c '...'
# shellcheck disable=SC2016 # the container's shell expands them
$pv run --rm --hostname demo --memory 64m --cpus 0.5 --pids-limit 100 busybox sh -c \
  'echo "hello from $(hostname), I am pid $$"; echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"; echo "root:" $(ls /)'

step podvisor validate examples contrib/pods
$pv validate examples contrib/pods

step podvisor up examples/tour.yaml
$pv up examples/tour.yaml

# ---- the daemon ---------------------------------------------------------------
# Its manifest directory is a copy of contrib/pods (what /etc/podvisor/pods
# would hold) and its --root a temporary one, removed at the end with the
# pods' data and logs (the daemon keeps the pods of its directory, their
# identity and logs, across its restarts); the run-root is the default the
# CLI uses.
demo=$(mktemp -d /tmp/podvisor-demo-XXXXXX)
mkdir "$demo/pods"
cp contrib/pods/*.yaml "$demo/pods/"
PODVISOR=$pv sh contrib/mkimage-busybox.sh "$demo/root" >/dev/null
dpid=""
stop_daemon() {
  [ -n "$dpid" ] || return 0
  kill -TERM "$dpid" 2>/dev/null || true
  wait "$dpid" || true
  dpid=""
}
trap 'stop_daemon; rm -rf --one-file-system "$demo"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds
wait_for() {
  n=$(($1 * 5))
  shift
  until "$@"; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || { echo "demo.sh: timed out: $*" >&2; return 1; }
    kill -0 "$dpid" 2>/dev/null || { echo "demo.sh: the daemon exited; its log:" >&2; cat "$demo/daemon.log" >&2; return 1; }
    sleep 0.2
  done
}
# ready NAME...: every named pod Running with all its containers ready
ready() {
  for p in "$@"; do
    $pv get pods "$p" -o json 2>/dev/null |
      jq -e '.status.phase == "Running" and ([.status.containerStatuses[] | .ready] | all)' >/dev/null || return 1
  done
}
answers() { $pv get pods >/dev/null 2>&1; }

step podvisor daemon --root "$demo/root" --manifests "$demo/pods" '&'
$pv daemon --root "$demo/root" --manifests "$demo/pods" </dev/null 2>"$demo/daemon.log" &
dpid=$!
wait_for 10 answers
wait_for 30 ready web ticker
sleep 5 # a few lines of logs: the app writes one every 5 s, the probe asks every 5 s

step podvisor get pods
$pv get pods

step "curl -s --unix-socket /run/podvisor/podvisor.sock http://localhost/api/v1/namespaces/default/pods/web | jq -c '...'"
curl -s --unix-socket /run/podvisor/podvisor.sock http://localhost/api/v1/namespaces/default/pods/web |
  jq -c '{phase: .status.phase, containers: [.status.containerStatuses[] | {name, ready, restartCount}]}'

step podvisor logs web
$pv logs web

step podvisor logs ticker -c shipper
$pv logs ticker -c shipper

step podvisor apply -f examples/hello.yaml
$pv apply -f examples/hello.yaml
wait_for 30 ready hello

step podvisor logs hello
$pv logs hello

sed 's/hello from podvisor/hello again/' examples/hello.yaml >"$demo/hello.yaml"
step "sed 's/hello from podvisor/hello again/' examples/hello.yaml > hello.yaml; podvisor apply --dry-run -f hello.yaml"
$pv apply --dry-run -f "$demo/hello.yaml"

step podvisor get pods -o wide
$pv get pods -o wide

step podvisor delete pod hello
$pv delete pod hello

step kill -TERM "<the daemon's pid>"
stop_daemon
echo "the daemon stopped every pod and exited; its log:"
cat "$demo/daemon.log"
left=0
for f in /run/podvisor/pods/*/shim.pid; do
  [ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && left=$((left + 1))
done
echo "shims still running: $left"
[ "$left" = 0 ]
