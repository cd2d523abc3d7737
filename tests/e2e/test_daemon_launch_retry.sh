#!/bin/bash
# A pod whose keeper cannot start is kept as a failure, not dropped: a
# Failed event with the reason, and a retry after a doubling delay (1 s,
# 2 s, ...); the daemon serves on and still stops cleanly.
. "$(dirname "$0")/daemon_core_lib.sh"
pod_yaml web > "$M/web.yaml"
# A keeper binary that exits at once, before it reports on its sync pipe.
start_daemon --shim /bin/false
wait_log 'pod=default/web reason=Failed .*retry in 1s' 10 || fail "no Failed event for the first launch"
wait_log 'pod=default/web reason=Failed .*retry in 2s' 10 || fail "the launch was not retried after 1 s"
n=$(grep -c 'reason=Created' "$DLOG")
[ "$n" -ge 2 ] && [ "$n" -le 4 ] || fail "$n launches in about 3 s (1 s then 2 s apart expected)"
curl -sS --max-time 5 --unix-socket "$RR/podvisor.sock" http://localhost/healthz | grep -q ok || fail "the API stopped serving"
ok "a keeper that cannot start: Failed events and retries 1 s, then 2 s apart"
stop_daemon
[ "$DAEMON_RC" = 0 ] || fail "the daemon exited with $DAEMON_RC"
[ -z "$(shim_pids)" ] || fail "keepers left"
