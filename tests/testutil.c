#include "tests/testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/util.h"

void testutil_require_root(const char *suite) {
  if (geteuid() != 0) {
    printf("%s: skipped: needs root (namespaces, mounts, cgroups)\n", suite);
    fflush(stdout);
    exit(77);
  }
}

const char *testutil_source_dir(void) {
  const char *s = getenv("PODVISOR_SOURCE_DIR");
  return s != NULL ? s : ".";
}

char *testutil_tmpdir(const char *prefix) {
  const char *base = getenv("TMPDIR");
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s/%s-XXXXXX", base != NULL ? base : "/tmp", prefix);
  if (mkdtemp(buf) == NULL)
    return NULL;
  return strdup(buf);
}

void testutil_rmtree(const char *path) {
  if (path != NULL)
    pv_rm_rf(path, NULL);
}

const char *testutil_busybox_rootfs(void) {
  static char path[PATH_MAX];
  if (path[0] != '\0')
    return path;
  const char *base = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/podvisor-test-rootfs", base != NULL ? base : "/tmp");
  char probe[PATH_MAX + 32];
  snprintf(probe, sizeof probe, "%s/bin/sh", path);
  if (access(probe, X_OK) == 0)
    return path;
  /* Build into a private directory and rename, so parallel suites never see
   * half a rootfs. */
  char tmp[PATH_MAX + 32], cmd[3 * PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
  snprintf(cmd, sizeof cmd, "sh '%s/contrib/mkrootfs-busybox.sh' '%s' >/dev/null", testutil_source_dir(), tmp);
  if (system(cmd) != 0) {
    path[0] = '\0';
    return NULL;
  }
  if (rename(tmp, path) < 0) {
    testutil_rmtree(tmp);
    if (access(probe, X_OK) != 0) {
      path[0] = '\0';
      return NULL;
    }
  }
  return path;
}

int testutil_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

unsigned testutil_slow(void) {
  const char *v = getenv("PODVISOR_TEST_SLOW");
  long n = v != NULL ? strtol(v, NULL, 10) : 1;
  return n >= 1 && n <= 100 ? (unsigned)n : 1;
}
