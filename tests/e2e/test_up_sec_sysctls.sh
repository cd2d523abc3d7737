#!/bin/bash
# Pod sysctls: written into the pod's own IPC and network namespaces before
# its containers start (visible inside, the host's values untouched); a
# sysctl that is not namespaced (vm.swappiness) is refused by validate and
# by up, with the line and column of its name, as the kubelet refuses it.
. "$(dirname "$0")/up_lib.sh"
. "$(dirname "$0")/sec_lib.sh"
host_shm=$(cat /proc/sys/kernel/shm_rmid_forced)
host_port=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
host_msg=$(cat /proc/sys/kernel/msgmax)
want_shm=$((1 - host_shm))
want_port=$([ "$host_port" = 0 ] && echo 80 || echo 0)
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: tuned
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    sysctls:
    - {name: kernel.shm_rmid_forced, value: "$want_shm"}
    - {name: net.ipv4.ip_unprivileged_port_start, value: "$want_port"}
    - {name: kernel/msgmax, value: "12345"}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", 'echo shm=\$(cat /proc/sys/kernel/shm_rmid_forced); echo port=\$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start); echo msg=\$(cat /proc/sys/kernel/msgmax); echo done; exec sleep 3600']
Y
"$PV" validate "$T/pod.yaml" >/dev/null || fail "validate refused namespaced sysctls"
start_shim "$T/pod.yaml" tuned
log_wait tuned c || fail "tuned"
expect tuned c shm "$want_shm"
expect tuned c port "$want_port"
expect tuned c msg 12345
[ "$(cat /proc/sys/kernel/shm_rmid_forced)" = "$host_shm" ] || fail "the host's kernel.shm_rmid_forced changed"
[ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" = "$host_port" ] || fail "the host's port start changed"
[ "$(cat /proc/sys/kernel/msgmax)" = "$host_msg" ] || fail "the host's kernel.msgmax changed"
ok "kernel.shm_rmid_forced, net.ipv4.ip_unprivileged_port_start and kernel/msgmax set inside the pod only"
stop_shim "$LAST_SHIM" || fail stop
cat > "$T/bad.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: bad
spec:
  securityContext:
    sysctls:
    - name: vm.swappiness
      value: "10"
  containers:
  - name: c
    image: busybox
Y
if "$PV" validate "$T/bad.yaml" > "$T/val.out" 2>&1; then fail "validate accepted vm.swappiness"; fi
grep -q "bad.yaml:8:13: error: spec.securityContext.sysctls\[0\].name: sysctl 'vm.swappiness' is not namespaced" \
  "$T/val.out" || fail "no diagnostic: $(cat "$T/val.out")"
if timeout 20 "$PV" --root "$R" --run-root "$RR" up "$T/bad.yaml" > "$T/up.out" 2>&1; then fail "up accepted vm.swappiness"; fi
grep -q "vm.swappiness' is not namespaced" "$T/up.out" || fail "no diagnostic from up: $(cat "$T/up.out")"
ok "vm.swappiness is refused by validate and up"
# A value the kernel refuses fails the pod, naming the sysctl.
cat > "$T/inval.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: inval
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    sysctls: [{name: net.ipv4.tcp_syncookies, value: "not-a-number"}]
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
Y
start_shim "$T/inval.yaml" inval
for _ in $(seq $((100 * SLOW))); do kill -0 "$LAST_SHIM" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LAST_SHIM" 2>/dev/null && fail "a pod with an invalid sysctl value runs"
grep -q "sysctl net.ipv4.tcp_syncookies=not-a-number: Invalid argument" "$T/shim-inval.log" ||
  fail "no sysctl error: $(cat "$T/shim-inval.log")"
ok "a value the kernel refuses fails the pod, naming the sysctl"
