/*
 * testutil.h - helpers shared by the Check suites.
 *
 * Privileged suites call testutil_require_root() first: without root it
 * prints why and exits 77, which ctest counts as skipped.
 */
#ifndef PODVISOR_TESTUTIL_H
#define PODVISOR_TESTUTIL_H

#include <check.h>

/* Exits 77 (skipped) unless running as root with CAP_SYS_ADMIN. */
void testutil_require_root(const char *suite);

/* A busybox rootfs built once per run (contrib/mkrootfs-busybox.sh) under
 * $TMPDIR/podvisor-test-rootfs; returns its path or NULL. */
const char *testutil_busybox_rootfs(void);

/* mkdtemp under $TMPDIR (or /tmp); returns a malloc'd path. */
char *testutil_tmpdir(const char *prefix);

/* rm -rf of a directory made by testutil_tmpdir. */
void testutil_rmtree(const char *path);

/* Source tree root ($PODVISOR_SOURCE_DIR or the compile-time value). */
const char *testutil_source_dir(void);

/* Runs a suite with the CK_NORMAL reporter; returns the process exit code. */
int testutil_run(Suite *s);
/* How much slower than a host this machine runs the tests:
 * PODVISOR_TEST_SLOW (the emulated guests of tests/vm/ export 5), else 1.
 * A wall-clock bound a test asserts is multiplied by it. */
unsigned testutil_slow(void);

#endif
