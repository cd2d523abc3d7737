#!/bin/sh
# demo.sh - podvisor's main job, from a fresh Debian 12 machine (as root):
# install the dependencies, build, import the default busybox image, run one
# container the way `podman run --rm` would, check the examples, and run an
# example pod in the foreground until it completes.
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
$pv run --rm --hostname demo --memory 64m --cpus 0.5 --pids-limit 100 busybox sh -c \
  'echo "hello from $(hostname), I am pid $$"; echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"; echo "root:" $(ls /)'

step podvisor validate examples
$pv validate examples

step podvisor up examples/tour.yaml
$pv up examples/tour.yaml

step podvisor up --logs examples/tour.yaml
$pv up --logs examples/tour.yaml
