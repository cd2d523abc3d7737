#!/bin/bash
# suite.sh LAYOUT BUILD - the ctest test vm/LAYOUT: runs the integration and
# end-to-end suites of the already-built tree BUILD in a guest with the
# cgroup layout LAYOUT (v2: unified only; v1: legacy only), through vm.sh.
# The result is the guest's ctest result; 77 (skipped, with the reason)
# when no guest can run here.
#
# Which tests: with KVM, every integration and e2e test.  Under TCG (no
# usable KVM) a guest runs several times slower than the host and every
# exec costs a tenth of a second, so the whole suite takes about 25 min:
# the guest then runs the tests that exercise cgroups and the container
# life cycle (every integration suite, and the e2e tests in tcg_e2e
# below), about 2 min with the boot on either layout.  guest.sh exports
# PODVISOR_TEST_SLOW=5 under TCG, by which the e2e tests stretch their
# timeouts and wall-clock budgets (tests/e2e/up_lib.sh).
#
# What a layout skips (exit 77, with the reason): on v2, test_cgroup_v1
# (no v1 hierarchy), test_container_pending, test_up_sharepid_pause_frozen
# and two parts of test_up_sharepid_survivor (they hold a process alive
# through SIGKILL with the v1 freezer, which v2's cgroup.freeze does not
# do); on v1, nothing.  PODVISOR_VM_TESTS=all forces the whole suite,
# PODVISOR_VM_TESTS=REGEX picks tests by name.  PODVISOR_VM_TIMEOUT=S
# bounds the guest's run (default 1500 s for the subset, 3600 s when
# PODVISOR_VM_TESTS picks the tests: the whole suite takes ~25 min under
# TCG).
set -u
layout=${1:?usage: suite.sh v2|v1 BUILD}
build=${2:?usage: suite.sh v2|v1 BUILD}
here=$(cd "$(dirname "$0")" && pwd)
tcg_e2e='e2e/test_(run|run_devices|up_oom|up_sandbox|up_userns|up_volume_targets|daemon_shutdown|cgroup_delegated)$'

accel=$(bash "$here/vm.sh" --build "$build" --print-accel | tail -n 1) || exit $?
sel=(-L 'integration|e2e' -E fuzz_smoke)
case ${PODVISOR_VM_TESTS:-} in
  all) ;;
  "")
    if [ "$accel" = tcg ]; then
      echo "suite.sh: no usable KVM: the guest runs the integration suites and $tcg_e2e"
      sel=(-R "^integration/|^$tcg_e2e")
    fi
    ;;
  *) sel=(-R "$PODVISOR_VM_TESTS") ;;
esac
timeout=1500
[ -n "${PODVISOR_VM_TESTS:-}" ] && timeout=3600
exec bash "$here/vm.sh" --layout "$layout" --build "$build" --timeout "${PODVISOR_VM_TIMEOUT:-$timeout}" -- \
  ctest --output-on-failure -j "$(nproc)" "${sel[@]}"
