#!/bin/bash
# hostUsers: false: the pod runs in a user namespace of its own.  Root in
# the container is uid 0 inside and an unprivileged host id outside, from a
# 65536-id range of the pool that no other pod shares; the image's files
# keep their owners (idmapped rootfs), the rootfs and an emptyDir are
# writable, a root-owned hostPath file is readable but not writable; exec
# joins the same namespace; the range survives a restart of the shim and is
# given back when the pod goes.  The pool is `up --userns-pool` (overriding
# PODVISOR_USERNS_POOL), and PODVISOR_USERNS_POOL for the shims started
# directly; a bad pool is refused at start, naming the option.
. "$(dirname "$0")/up_lib.sh"
# A pool of its own for this test's root: two ranges from host id 16777216.
POOL=16777216:2
unset PODVISOR_USERNS_POOL
# The image rootfs is mounted idmapped: a file system that cannot be (tmpfs
# before Linux 6.3, as /tmp of the test guest) gets the test's state on an
# ext4 image of its own instead.
idmap_capable() {
  local v
  case $(stat -f -c %T "$1") in
  ext2/ext3 | xfs | btrfs) return 0 ;;
  tmpfs) v=$(uname -r); v=${v%%-*}; [ "${v%%.*}" -gt 6 ] || { [ "${v%%.*}" = 6 ] && [ "$(echo "$v" | cut -d. -f2)" -ge 3 ]; } ;;
  *) return 1 ;;
  esac
}
if ! idmap_capable "$T"; then
  command -v mkfs.ext4 >/dev/null || { echo "skipped: $T cannot be idmapped and there is no mkfs.ext4"; exit 77; }
  truncate -s 256M "$T/ext4.img" && mkfs.ext4 -q "$T/ext4.img" && mkdir "$T/ext" &&
    mount -o loop "$T/ext4.img" "$T/ext" || fail "make an ext4 file system for the test's root"
  trap 'umount -l "$T/ext" 2>/dev/null; cleanup' EXIT
  R=$T/ext/root
  "$PV" --root "$R" image import busybox "$(rootfs)" >/dev/null || fail "image import"
  echo "(state on an ext4 image: $(stat -f -c %T "$T") cannot be idmapped on $(uname -r))"
fi
mkdir -p "$T/hp"
echo secret > "$T/hp/f"
chmod 644 "$T/hp/f"
pod() { # pod NAME [shareProcessNamespace]
  cat > "$T/$1.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  hostUsers: false
  shareProcessNamespace: ${2:-false}
  terminationGracePeriodSeconds: 1
  securityContext:
    fsGroup: 2000
    sysctls: [{name: kernel.shm_rmid_forced, value: "1"}]
  volumes:
  - name: e
    emptyDir: {}
  - name: h
    hostPath: {path: $T/hp}
  containers:
  - name: a
    image: busybox
    volumeMounts: [{name: e, mountPath: /e}, {name: h, mountPath: /h}]
    command:
    - sh
    - -c
    - |
      echo "uid=\$(id -u)"
      echo "map=\$(cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
      echo "busybox=\$(ls -ln /bin/busybox | awk '{print \$3":"\$4}')"
      echo "hostpath=\$(cat /h/f)"
      if echo x >> /h/f; then echo hostpath-write=yes; else echo hostpath-write=no; fi
      if echo y > /e/y && echo z > /z && echo p >> /etc/passwd; then echo writes=ok; else echo writes=failed; fi
      echo "mine=\$(ls -ln /z /e/y | awk '{print \$3":"\$4}' | tr '\n' ' ')"
      echo "sysctl=\$(cat /proc/sys/kernel/shm_rmid_forced)"
      echo "groups=\$(id -G)"
      echo "pause=\$(ps -o user,comm | grep -c '^root *podvisor-pause')"
      echo done
      exec sleep 3600
Y
}
log_of() { echo "$(logdir_of "$1")/a/0.log"; }
# wait_done POD: until container a has made its checks (its "done" line);
# a start error ends the wait at once.
wait_done() {
  local f end=$((SECONDS + 20 * SLOW))
  f=$(log_of "$1")
  while [ "$SECONDS" -le "$end" ]; do
    grep -q 'stdout F done$' "$f" 2>/dev/null && return 0
    [ "$(jq_status "$1" '.containerStatuses[0].lastState.terminated.reason')" = StartError ] && break
    sleep 0.1
  done
  cat "$f" "$T/shim-$1.log" >&2
  fail "pod $1 did not finish its checks: $(jq_status "$1" '.containerStatuses[0].lastState.terminated.message')"
}
has() { grep -q "stdout F $2\$" "$(log_of "$1")" || { cat "$(log_of "$1")" >&2; fail "pod $1: no '$2' line"; }; }
host_uid() { # host_uid POD: the host uid of container a's process
  local p
  p=$(pid_in_cgroup "$1" a "sleep 3600 ") || fail "no process of $1/a"
  awk '/^Uid:/ {print $2}' "/proc/$p/status"
}

# A bad pool is an error at start, naming where it came from; nothing runs.
pod one true
out=$("$PV" --root "$R" --run-root "$RR" up --userns-pool 5:1 "$T/one.yaml" 2>&1); rc=$?
[ "$rc" = 2 ] || fail "up --userns-pool 5:1: exit $rc: $out"
case $out in *"podvisor up: --userns-pool: user namespace id pool 5:1: the first id must be a multiple of 65536"*) ;;
*) fail "up --userns-pool 5:1: message: $out" ;; esac
out=$(PODVISOR_USERNS_POOL=65536:x "$PV" --root "$R" --run-root "$RR" up "$T/one.yaml" 2>&1); rc=$?
[ "$rc" = 2 ] || fail "up with PODVISOR_USERNS_POOL=65536:x: exit $rc: $out"
case $out in *"PODVISOR_USERNS_POOL: '65536:x' is not FIRST:COUNT"*) ;; *) fail "bad env message: $out" ;; esac
[ -e "$R/userns/ranges" ] && fail "a refused up allocated ids: $(cat "$R/userns/ranges")"
out=$("$PV" daemon --root "$T/droot" --run-root "$T/drun" --userns-pool 65536:0 2>&1); rc=$?
[ "$rc" = 2 ] || fail "daemon --userns-pool 65536:0: exit $rc: $out"
case $out in *"--userns-pool: user namespace id pool 65536:0"*) ;; *) fail "daemon message: $out" ;; esac
echo "userns-pool: 65536" >"$T/daemon.yaml"
out=$("$PV" daemon --config "$T/daemon.yaml" --root "$T/droot" --run-root "$T/drun" 2>&1); rc=$?
[ "$rc" = 2 ] || fail "daemon with userns-pool: 65536 in its config: exit $rc: $out"
case $out in *"daemon.yaml:1:1: userns-pool: '65536' is not FIRST:COUNT"*) ;; *) fail "daemon config message: $out" ;; esac
[ -e "$T/drun" ] && fail "a refused daemon made its run root"
ok "a bad pool (up --userns-pool, PODVISOR_USERNS_POOL, daemon flag and config key) is refused at start"

# Pod one under `up --userns-pool`, which wins over the environment's pool.
PODVISOR_USERNS_POOL=33554432:1 setsid "$PV" --root "$R" --run-root "$RR" up --userns-pool "$POOL" "$T/one.yaml" \
  </dev/null >>"$T/shim-one.log" 2>&1 &
ONE_SHIM=$!
SHIM_PIDS="$SHIM_PIDS $ONE_SHIM"
# The shims started directly below take the pool from the environment.
export PODVISOR_USERNS_POOL=$POOL
wait_done one
has one "uid=0"
has one "map=0 16777216 65536"
[ "$(host_uid one)" = 16777216 ] || fail "the container's root is host uid $(host_uid one), not 16777216"
ok "up --userns-pool: root inside is uid 0, host uid 16777216, uid_map 0 16777216 65536"
has one "busybox=0:0"
has one "writes=ok"
has one "mine=0:2000 0:0 " # /e/y (setgid emptyDir of fsGroup), then /z
# The pod's sysctls are written as its root, in the namespaces its user
# namespace owns; fsGroup is a group of that namespace (host 16777216+2000).
has one "sysctl=1"
has one "groups=0 2000"
[ "$(stat -c %g "$(poddir_of one)/volumes/e")" = $((16777216 + 2000)) ] ||
  fail "the emptyDir's host group is $(stat -c %g "$(poddir_of one)/volumes/e"), want $((16777216 + 2000))"
ok "the image keeps its owners; the rootfs (new and copied-up files) and an emptyDir are writable by root"
has one "hostpath=secret"
has one "hostpath-write=no"
[ "$(cat "$T/hp/f")" = secret ] || fail "the hostPath file was changed"
ok "a root-owned 0644 hostPath file is readable, not writable"
has one "pause=1"
ok "the pause process is the pod's root, not the host's"
out=$("$PV" shim ctl "$(sock_of one)" exec a -- sh -c 'id -u; cat /proc/self/uid_map' 2>&1) || fail "exec: $out"
echo "$out" | tr -s ' ' | grep -q '^ *0 16777216 65536$' || fail "exec not in the pod's user namespace: $out"
ok "exec joins the pod's user namespace"

pod two
start_shim "$T/two.yaml" two
TWO_SHIM=$LAST_SHIM
wait_done two
has two "map=0 16842752 65536"
[ "$(host_uid two)" = 16842752 ] || fail "second pod: host uid $(host_uid two)"
ok "a second pod (a shim given PODVISOR_USERNS_POOL) gets the next range"

pod three
start_shim "$T/three.yaml" three
for _ in $(seq $((100 * SLOW))); do kill -0 "$LAST_SHIM" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LAST_SHIM" 2>/dev/null && fail "a third pod started with a pool of two ranges"
grep -q "all 2 id ranges of the pool" "$T/shim-three.log" || fail "no pool exhaustion message: $(cat "$T/shim-three.log")"
ok "an exhausted pool refuses the pod, saying why"

# The shim killed and started again: the same instance keeps its range.
kill -9 "$TWO_SHIM"
wait "$TWO_SHIM" 2>/dev/null
start_shim "$T/two.yaml" two
TWO_SHIM=$LAST_SHIM
wait_for two '.containerStatuses[0].state.running != null' true 15 || fail "two did not run again"
p2=$(pid_in_cgroup two a "sleep 3600 ") || fail "no process of two/a after the restart"
[ "$(awk '/^Uid:/ {print $2}' "/proc/$p2/status")" = 16842752 ] || fail "the range changed across a shim restart"
ok "the range survives a restart of the shim"

stop_shim "$ONE_SHIM" || fail "stop one (up)"
grep -q "^16777216 " "$R/userns/ranges" && fail "the deleted pod's range is still taken: $(cat "$R/userns/ranges")"
rm -f "$T/shim-three.log"
start_shim "$T/three.yaml" three
wait_done three
has three "map=0 16777216 65536"
ok "a deleted pod's range is given back and reused"
stop_shim "$LAST_SHIM" || fail "stop three"
stop_shim "$TWO_SHIM" || fail "stop two"
[ -s "$R/userns/ranges" ] && fail "ranges left after every pod stopped: $(cat "$R/userns/ranges")"
ok "no range is left once the pods are gone"
