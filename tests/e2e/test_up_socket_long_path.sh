#!/bin/bash
# A --run-root longer than a unix socket address allows (sun_path, 108
# bytes): the shim still binds its control socket and `shim ctl` reaches it.
. "$(dirname "$0")/up_lib.sh"
RR=$T/$(printf 'r%.0s' $(seq 150))
[ ${#RR} -gt 150 ] || fail "run-root not long enough"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: longroot}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
Y
start_shim "$T/pod.yaml" longroot
wait_for longroot '.containerStatuses[0].state.running != null' true 15 || fail "pod not running with a long run-root"
sock=$(sock_of longroot)
[ -S "$sock" ] || fail "no socket at $sock"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock")"
"$PV" shim ctl "$sock" status | jq -e '.phase == "Running"' >/dev/null || fail "status over a long socket path"
ok "status over a ${#sock}-byte socket path"
"$PV" shim ctl "$sock" stop >/dev/null || true
for _ in $(seq 100); do kill -0 $LAST_SHIM 2>/dev/null || break; sleep 0.1; done
kill -0 $LAST_SHIM 2>/dev/null && fail "stop over the socket did not stop the shim"
[ ! -e "$sock" ] || fail "socket left behind"
ok "stop over a long socket path"
