#include "tests/integration/ctrtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

container_manager *ctrtest_mgr;
char *ctrtest_state_dir;
const char *ctrtest_rootfs;

/* The state directory's name carries the suite's, to tell leftovers apart. */
static char state_prefix[64];

static void setup(void) {
  pv_err err;
  ctrtest_rootfs = testutil_busybox_rootfs();
  ck_assert_msg(ctrtest_rootfs != NULL, "cannot build the busybox rootfs");
  ctrtest_state_dir = testutil_tmpdir(state_prefix);
  ck_assert_ptr_nonnull(ctrtest_state_dir);
  container_manager_options o = {.state_dir = ctrtest_state_dir};
  ck_assert_msg(container_manager_init(&ctrtest_mgr, &o, &err) == 0, "%s", pv_err_str(&err));
}

static void teardown(void) {
  container_manager_cleanup(ctrtest_mgr);
  ctrtest_mgr = NULL;
  testutil_rmtree(ctrtest_state_dir);
  free(ctrtest_state_dir);
  ctrtest_state_dir = NULL;
}

Suite *ctrtest_suite(const char *name, const char *tcase, TCase **tc) {
  char what[128];
  snprintf(what, sizeof what, "integration/test_%s", name);
  testutil_require_root(what);
  snprintf(state_prefix, sizeof state_prefix, "pv-%s-state", name);
  Suite *s = suite_create(name);
  *tc = tcase_create(tcase);
  tcase_add_checked_fixture(*tc, setup, teardown);
  tcase_set_timeout(*tc, 60);
  suite_add_tcase(s, *tc);
  return s;
}

void ctrtest_config(container_config *cfg, const char *name, char *const *argv) {
  static char idbuf[64];
  container_config_init(cfg);
  snprintf(idbuf, sizeof idbuf, "t%d-%s", (int)getpid(), name);
  cfg->id = idbuf;
  cfg->rootfs = ctrtest_rootfs;
  cfg->argv = argv;
}

void ctrtest_config_sh(container_config *cfg, const char *name, const char *script) {
  static char *argv[4];
  argv[0] = "sh";
  argv[1] = "-c";
  argv[2] = (char *)script;
  argv[3] = NULL;
  ctrtest_config(cfg, name, argv);
}

void ctrtest_read_all(int fd, char *out, size_t len) {
  size_t used = 0;
  while (used < len - 1) {
    ssize_t n = read(fd, out + used, len - 1 - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    used += (size_t)n;
  }
  out[used] = '\0';
}

container *ctrtest_start(container_config *cfg, int *rd) {
  pv_err err;
  int p[2] = {-1, -1};
  if (rd != NULL) {
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    cfg->stdout_fd = p[1];
  }
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  if (rd != NULL) {
    close(p[1]);
    *rd = p[0];
  }
  return c;
}

container *ctrtest_start_read(container_config *cfg, char *out, size_t len) {
  int rd;
  container *c = ctrtest_start(cfg, &rd);
  ctrtest_read_all(rd, out, len);
  close(rd);
  return c;
}

int ctrtest_run_capture(container_config *cfg, char *out, size_t len, container_exit *ex) {
  pv_err err;
  container_exit local;
  if (ex == NULL)
    ex = &local;
  container *c = ctrtest_start_read(cfg, out, len);
  ck_assert_msg(container_manager_wait(ctrtest_mgr, c, ex, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  return ex->exit_code;
}
