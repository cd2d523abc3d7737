#!/bin/sh
# deps.sh [GROUP...] - install the Debian 12 packages podvisor builds, tests
# and benchmarks with (groups: bench, fuzz, vm).  Idempotent and quiet when everything is there.
set -eu
# python3 and xz-utils: the end-to-end tests need them (hostile tarballs,
# .tar.xz images, a shim started with SIGTERM pending).  libhttp-parser-dev:
# the daemon's API server; libcurl4-openssl-dev: the CLI's client of it
# (headers only at build time: the CLI dlopen()s libcurl); curl: its tests.
# libseccomp-dev: the containers' system call filters (its libseccomp.a is
# linked into the shim).
pkgs="build-essential cmake pkg-config libyaml-dev libuv1-dev libcap-dev libseccomp-dev check
libarchive-dev libjansson-dev libmd-dev libhttp-parser-dev libcurl4-openssl-dev busybox-static iproute2 procps jq python3
xz-utils curl"
# bench: tests/bench/run.sh (crun, hyperfine) and bench_pod.sh (podman with
# runc, which crun satisfies in podman's dependencies, and catatonit, the
# init of `podman kube play`'s infra container: only a recommendation of
# podman, so --no-install-recommends leaves it out); containers-common
# (golang-github-containers-common) for podman's default seccomp profile,
# which run.sh gives crun.
# vm: tests/vm/ (QEMU with its virtiofsd, the initramfs tools, attr for
# the delegated-cgroup test's trusted.delegate).
# clang alone does not bring the libFuzzer runtime with --no-install-recommends.
for group in "$@"; do
  case $group in
    bench) pkgs="$pkgs crun hyperfine podman runc catatonit golang-github-containers-common" ;;
    fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
    vm) pkgs="$pkgs qemu-system-x86 cpio kmod attr" ;;
    *) echo "deps.sh: unknown group '$group' (bench, fuzz, vm)" >&2; exit 2 ;;
  esac
done
missing=""
for p in $pkgs; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
