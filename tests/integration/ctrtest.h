/*
 * ctrtest.h - the fixture shared by the container integration suites
 * (test_container, test_container_limits, test_container_security).
 *
 * ctrtest_suite() skips without root and returns a suite whose one test
 * case runs ctrtest_setup/ctrtest_teardown around every test: a container
 * manager over a fresh state directory, and the busybox test rootfs.  The
 * fixture owns ctrtest_mgr, ctrtest_state_dir and ctrtest_rootfs; tests
 * only borrow them.  Every helper asserts (Check) instead of returning
 * errors, and every call that runs a container blocks until it is done.
 */
#ifndef PODVISOR_TESTS_CTRTEST_H
#define PODVISOR_TESTS_CTRTEST_H

#include <stddef.h>

#include "supervisor/core/container.h"
#include "tests/testutil.h"

extern container_manager *ctrtest_mgr;
extern char *ctrtest_state_dir;
extern const char *ctrtest_rootfs;

/* Exits 77 unless root; then a suite `name` with one test case `tcase`
 * (fixture above, 60 s timeout) returned in *tc for the tests to join.
 * The skip message names integration/test_<name>. */
Suite *ctrtest_suite(const char *name, const char *tcase, TCase **tc);

/* container_config_init + an id unique to this process ("t<pid>-<name>")
 * + the busybox rootfs + argv.  The id lives in one static buffer: the
 * next call reuses it. */
void ctrtest_config(container_config *cfg, const char *name, char *const *argv);

/* The same with argv = sh -c script (one static argv, reused likewise). */
void ctrtest_config_sh(container_config *cfg, const char *name, const char *script);

/* Reads fd to EOF (or until out is full), NUL-terminated. */
void ctrtest_read_all(int fd, char *out, size_t len);

/* Creates and starts cfg.  With rd non-NULL its stdout goes to a pipe whose
 * read end is returned in *rd (the caller closes it). */
container *ctrtest_start(container_config *cfg, int *rd);

/* ctrtest_start with a pipe, then reads stdout to EOF into out.  The
 * container is neither waited for nor destroyed. */
container *ctrtest_start_read(container_config *cfg, char *out, size_t len);

/* Start + read stdout to EOF + wait + destroy.  Returns the exit code; the
 * full exit status goes to *ex when ex is not NULL. */
int ctrtest_run_capture(container_config *cfg, char *out, size_t len, container_exit *ex);

#endif
