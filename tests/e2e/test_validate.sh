#!/usr/bin/env bash
# End-to-end test of `podvisor validate`: exit codes, the file:line:col
# diagnostics with did-you-mean, usage errors and the JSON output.
set -u
bin=${PODVISOR_BINARY:?PODVISOR_BINARY is not set}
src=${PODVISOR_SOURCE_DIR:?PODVISOR_SOURCE_DIR is not set}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pv-validate.$$.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# expect_exit WANT NAME CMD...: runs CMD with output in $tmp/out.
expect_exit() {
  local want=$1 name=$2
  shift 2
  "$@" >"$tmp/out" 2>&1
  local got=$?
  if [ "$got" -eq "$want" ]; then ok "$name (exit $got)"; else bad "$name: exit $got, want $want"; cat "$tmp/out"; fi
}

expect_text() {
  if grep -qF -- "$2" "$tmp/out"; then ok "$1"; else bad "$1: missing '$2'"; cat "$tmp/out"; fi
}

# One pod per example file.
nex=$(ls "$src"/examples/*.yaml | wc -l)
expect_exit 0 "examples are valid" "$bin" validate "$src/examples"
expect_text "one summary line per pod" "ok   hello (default) from $src/examples/hello.yaml: 1 container, restartPolicy Always"
expect_text "final verdict" "valid: $nex pods, 0 errors, 0 warnings"

broken="$src/tests/spec/broken.yaml"
expect_exit 1 "broken manifest is invalid" "$bin" validate "$broken"
expect_text "misplaced key with its position" "$broken:8:3: error: metadata.restartPolicy: unknown field 'restartPolicy'; 'restartPolicy' belongs in spec"
expect_text "typo with did-you-mean" "$broken:13:5: error: spec.containers[0].comand: unknown field 'comand'; did you mean 'command'?"
expect_text "quoted integer" "$broken:15:22: error: spec.containers[0].ports[0].containerPort: expected an integer, got a string"
expect_text "request above limit" "$broken:18:17: error: spec.containers[0].resources.requests.memory: request 128Mi must be less than or equal to the limit 64Mi"
expect_text "undeclared volume" "did you mean 'data'?"
expect_text "failed pod summary" "FAIL broken (default)"

# all-or-nothing: one bad file among good ones makes the run invalid
expect_exit 1 "mixed good and bad" "$bin" validate "$src/examples/hello.yaml" "$broken"

printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n' >"$tmp/deploy.yaml"
expect_exit 1 "other kinds are refused" "$bin" validate "$tmp/deploy.yaml"
expect_text "kind message" "kind Deployment is not supported yet (podvisor runs kind: Pod)"

printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec:\n  nodeSelector: {a: b}\n  containers: [{name: a, image: busybox}]\n' >"$tmp/warn.yaml"
expect_exit 0 "warnings alone keep it valid" "$bin" validate "$tmp/warn.yaml"
expect_text "named warning" "warning: spec.nodeSelector: ignored"

expect_exit 0 "stdin" sh -c "\"$bin\" validate - < \"$src/examples/hello.yaml\""
expect_exit 1 "missing file" "$bin" validate "$tmp/nope.yaml"
expect_text "missing file message" "cannot read the file"

expect_exit 2 "no arguments" "$bin" validate
expect_exit 2 "unknown flag" "$bin" validate --frobnicate "$broken"
expect_exit 2 "unknown output format" "$bin" validate -o yaml "$broken"
expect_exit 2 "-o without a format" "$bin" validate "$broken" -o
expect_exit 0 "options after the paths" "$bin" validate "$src/examples/hello.yaml" -o json

if command -v jq >/dev/null; then
  "$bin" validate -o json "$broken" >"$tmp/json" 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 1 ] && jq -e '.valid == false and (.errors >= 5) and (.diagnostics | length >= 5)' "$tmp/json" >/dev/null; then
    ok "json verdict for the broken file"
  else
    bad "json verdict (exit $rc)"; cat "$tmp/json" "$tmp/err"
  fi
  if jq -e '.diagnostics[] | select(.path == "metadata.restartPolicy" and .line == 8 and .column == 3 and .severity == "error")' "$tmp/json" >/dev/null; then
    ok "json diagnostic fields"
  else
    bad "json diagnostic fields"; cat "$tmp/json"
  fi
  "$bin" validate -o json "$src/examples" >"$tmp/json" 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 0 ] && jq -e --argjson n "$nex" '.valid and (.pods | length == $n) and all(.pods[]; (.hash | length) == 64)' "$tmp/json" >/dev/null; then
    ok "json for the examples"
  else
    bad "json for the examples (exit $rc)"; cat "$tmp/json" "$tmp/err"
  fi
else
  bad "jq is not installed"
fi

# Nothing to check is an error, as for kubectl apply: most likely a wrong path.
mkdir -p "$tmp/nomanifests"
echo "not yaml" > "$tmp/nomanifests/README"
expect_exit 1 "a directory without manifests is invalid" "$bin" validate "$tmp/nomanifests"
expect_text "the directory is named" "$tmp/nomanifests: error: no Pod found"
: > "$tmp/empty.yaml"
expect_exit 1 "an empty file is invalid" "$bin" validate "$tmp/empty.yaml"
expect_text "the empty file is named" "$tmp/empty.yaml: error: no Pod found"
expect_exit 1 "empty stdin is invalid" sh -c "'$bin' validate - </dev/null"
expect_text "stdin is named" "<stdin>: error: no Pod found"
printf '\xef\xbb\xbfapiVersion: v1\nkind: Pod\nmetadata:\n  name: bom\nspec:\n  containers:\n  - name: a\n    image: busybox\n' >"$tmp/bom.yaml"
expect_exit 0 "a file with a byte order mark is valid" "$bin" validate "$tmp/bom.yaml"

echo "validate e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
