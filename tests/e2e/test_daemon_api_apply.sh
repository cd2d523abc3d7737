#!/bin/bash
# The daemon's apply, dry-run plans, prune, create/replace/delete and the
# 409s of ownership, with curl on podvisor.sock and with the CLI, against
# real pods.
. "$(dirname "$0")/daemon_lib.sh"
start_daemon
A=/apis/podvisor.io/v1/apply
Y='Content-Type: application/yaml'
{ pod_yaml web; echo ---; pod_yaml db; } >"$T/two.yaml"

# A dry run plans, and changes nothing.
api POST "$A?dryRun=All" -H "$Y" --data-binary @"$T/two.yaml" >/dev/null
[ "$(code)" = 200 ] || fail "dry run: HTTP $(code): $(cat "$T/body")"
[ "$(jq -r '.kind, .dryRun' "$T/body" | tr '\n' ' ')" = "ApplyResult true " ] || fail "dry run result: $(cat "$T/body")"
[ "$(jq -r '[.items[].text] | join(",")' "$T/body")" = "pod/web created,pod/db created" ] || fail "plan: $(cat "$T/body")"
[ "$(api GET /api/v1/pods | jq '.items | length')" = 0 ] || fail "the dry run created pods"
ok "dry run of a create"

# Apply, and the pods run.
api POST "$A" -H "$Y" --data-binary @"$T/two.yaml" >/dev/null
[ "$(jq -r '[.items[].action] | join(",")' "$T/body")" = "create,create" ] || fail "apply: $(cat "$T/body")"
wait_pod web .status.phase Running || fail "web not Running"
wait_pod db .status.phase Running || fail "db not Running"
[ "$(api GET /api/v1/namespaces/default/pods/web | jq -r '.metadata.annotations["podvisor.io/source"]')" = api ] \
  || fail "source annotation"
ok "applied pods run"

# The plans of a second apply: unchanged, one container restarted, a pod-level field recreating.
api POST "$A?dryRun=All" -H "$Y" --data-binary @"$T/two.yaml" >/dev/null
[ "$(jq -r '[.items[].text] | join(",")' "$T/body")" = "pod/web unchanged,pod/db unchanged" ] || fail "unchanged: $(cat "$T/body")"
{ pod_yaml web "sleep 2000"; echo ---; pod_yaml db | sed 's/^spec:/spec:\n  hostname: other/'; } >"$T/two2.yaml"
out=$(pvc apply -f "$T/two2.yaml" --dry-run) || fail "podvisor apply --dry-run: $out"
echo "$out" | grep -qx "pod/web configured: restart container app (dry run)" || fail "restart plan: $out"
echo "$out" | grep -qx "pod/db configured: recreate (hostname changed) (dry run)" || fail "recreate plan: $out"
api POST "$A?dryRun=All" -H "$Y" --data-binary @"$T/two2.yaml" >/dev/null
[ "$(jq -r '.items[0].action + "|" + .items[0].detail' "$T/body")" = "configure|restart container app" ] || fail "$(cat "$T/body")"
[ "$(jq -r '.items[1].action + "|" + .items[1].detail' "$T/body")" = "recreate|recreate (hostname changed)" ] || fail "$(cat "$T/body")"
ok "dry-run plans: unchanged, restart container, recreate"

# Prune: only web in the body, db goes.
pod_yaml web >"$T/web.yaml"
api POST "$A?prune=true&dryRun=All" -H "$Y" --data-binary @"$T/web.yaml" >/dev/null
[ "$(jq -r '[.items[].text] | join(",")' "$T/body")" = "pod/web unchanged,pod/db pruned" ] || fail "prune plan: $(cat "$T/body")"
out=$(pvc apply -f "$T/web.yaml" --prune) || fail "apply --prune: $out"
echo "$out" | grep -qx "pod/db pruned" || fail "prune: $out"
for _ in $(seq 100); do [ "$(api GET /api/v1/namespaces/default/pods/db >/dev/null; code)" = 404 ] && break; sleep 0.1; done
expect_status 404 NotFound
[ "$(jq -r .message "$T/body")" = 'pods "db" not found' ] || fail "NotFound message: $(cat "$T/body")"
ok "prune deletes the applied pods the body leaves out"

# apply -n NS.
out=$(pvc apply -n team -f "$T/web.yaml") || fail "apply -n: $out"
NS=team wait_pod web .metadata.namespace team || fail "web not in team"
ok "apply -n NS"

# create: 201, then 409 AlreadyExists.
cat >"$T/api1.json" <<J
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"api1"},"spec":{"terminationGracePeriodSeconds":2,
 "containers":[{"name":"app","image":"busybox","command":["sleep","1000"]}]}}
J
api POST /api/v1/namespaces/default/pods -H 'Content-Type: application/json' --data-binary @"$T/api1.json" >/dev/null
[ "$(code)" = 201 ] || fail "create: HTTP $(code): $(cat "$T/body")"
[ "$(jq -r .metadata.name "$T/body")" = api1 ] || fail "create returns the Pod"
api POST /api/v1/namespaces/default/pods -H 'Content-Type: application/json' --data-binary @"$T/api1.json" >/dev/null
expect_status 409 AlreadyExists
[ "$(jq -r .message "$T/body")" = 'pods "api1" already exists' ] || fail "$(cat "$T/body")"
wait_pod api1 .status.phase Running || fail "api1 not Running"
# replace: the new command runs.
sed 's/"1000"/"1001"/' "$T/api1.json" >"$T/api1b.json"
api PUT /api/v1/namespaces/default/pods/api1 -H 'Content-Type: application/json' --data-binary @"$T/api1b.json" >/dev/null
[ "$(code)" = 200 ] || fail "replace: HTTP $(code): $(cat "$T/body")"
wait_pod api1 '.spec.containers[0].command[1]' 1001 || fail "replace not served"
wait_pod api1 '.status.containerStatuses[0].restartCount' 1 || fail "the replaced container did not restart"
sed 's/"api1"/"nobody"/' "$T/api1.json" >"$T/nobody.json"
api PUT /api/v1/namespaces/default/pods/nobody -H 'Content-Type: application/json' --data-binary @"$T/nobody.json" >/dev/null
expect_status 404 NotFound
# delete: the Pod with its deletionTimestamp, then it is gone.
api DELETE "/api/v1/namespaces/default/pods/api1?gracePeriodSeconds=1" >/dev/null
[ "$(code)" = 200 ] || fail "delete: HTTP $(code)"
[ "$(jq -r .metadata.deletionTimestamp "$T/body")" != null ] || fail "no deletionTimestamp: $(cat "$T/body")"
for _ in $(seq 200); do api GET /api/v1/namespaces/default/pods/api1 >/dev/null; [ "$(code)" = 404 ] && break; sleep 0.1; done
expect_status 404 NotFound
api DELETE /api/v1/namespaces/default/pods/api1 >/dev/null
expect_status 404 NotFound
ok "create 201/409, replace 200/404, delete with deletionTimestamp then 404"

# Ownership: a pod of the manifest directory cannot be replaced, deleted or applied over.
pod_yaml owned >"$M/owned.yaml"
wait_pod owned .status.phase Running 30 || fail "the manifest pod did not start"
[ "$(api GET /api/v1/namespaces/default/pods/owned | jq -r '.metadata.annotations["podvisor.io/source"]')" = "file:$M/owned.yaml" ] \
  || fail "file source: $(cat "$T/body")"
api DELETE /api/v1/namespaces/default/pods/owned >/dev/null
expect_status 409 Conflict
jq -r .message "$T/body" | grep -qF "$M/owned.yaml" || fail "the 409 does not name the file: $(cat "$T/body")"
pod_yaml owned "sleep 5" >"$T/owned.yaml"
api PUT /api/v1/namespaces/default/pods/owned -H "$Y" --data-binary @"$T/owned.yaml" >/dev/null
expect_status 409 Conflict
jq -r .message "$T/body" | grep -qF "$M/owned.yaml" || fail "the 409 does not name the file"
out=$(pvc apply -f "$T/owned.yaml" 2>&1) && fail "apply over a file's pod succeeded: $out"
echo "$out" | grep -qF "$M/owned.yaml" || fail "the CLI's message does not name the file: $out"
out=$(pvc delete pod owned 2>&1) && fail "delete of a file's pod succeeded"
echo "$out" | grep -q "Error from server (Conflict)" || fail "delete: $out"
wait_pod owned '.spec.containers[0].command[2]' "sleep 1000" || fail "the file's pod was changed"
ok "the 409s of ownership name the manifest file"
serving
stop_daemon
ok "the daemon stops clean"
