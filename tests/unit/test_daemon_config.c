/* Unit tests for supervisor/daemon/daemon_config.c: the daemon's flags, its
 * config file (flags win over it), the defaults, and the errors of each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/daemon_core.h"
#include "tests/testutil.h"

static int parse(pvd_opts *o, pvd_opts_set *set, const char *const *args) {
  char *argv[32];
  int argc = 0;
  argv[argc++] = "daemon";
  for (; args[argc - 1] != NULL && argc < 31; argc++)
    argv[argc] = (char *)args[argc - 1];
  argv[argc] = NULL;
  return pvd_opts_parse(argc, argv, o, set);
}

static char *write_config(const char *text) {
  char *dir = testutil_tmpdir("pvd-config");
  char *path = NULL;
  ck_assert_int_gt(asprintf(&path, "%s/daemon.yaml", dir), 0);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  free(dir);
  return path;
}

/* Removes the file write_config made, and its directory. */
static void drop_config(char *path) {
  char *slash = strrchr(path, '/');
  *slash = '\0';
  testutil_rmtree(path);
  free(path);
}

START_TEST(flags_both_forms) {
  pvd_opts o;
  pvd_opts_set set;
  const char *args[] = {"--root",
                        "/r",
                        "--run-root=/rr",
                        "--manifests",
                        "/m",
                        "--log-level=debug",
                        "--keep-pods",
                        "--rescan-seconds",
                        "2.5",
                        "--listen",
                        "127.0.0.1:9",
                        "--cgroup-parent=pv.slice/pods",
                        NULL};
  ck_assert_int_eq(parse(&o, &set, args), 0);
  ck_assert_str_eq(o.cgroup_parent, "pv.slice/pods");
  ck_assert(set.cgroup_parent);
  ck_assert_str_eq(o.root, "/r");
  ck_assert_str_eq(o.run_root, "/rr");
  ck_assert_str_eq(o.manifests, "/m");
  ck_assert_str_eq(o.listen, "127.0.0.1:9");
  ck_assert_int_eq(o.log_level, PVD_LOG_DEBUG);
  ck_assert(o.keep_pods && set.keep_pods && !o.listen_insecure);
  ck_assert_uint_eq(o.rescan_ms, 2500);
  pvd_opts_defaults(&o);
  ck_assert_str_eq(o.config, PVD_DEFAULT_CONFIG);
  pvd_opts_free(&o);
}
END_TEST

START_TEST(usage_errors) {
  pvd_opts o;
  pvd_opts_set set;
  const char *unknown[] = {"--nope", NULL}, *missing[] = {"--root", NULL},
             *level[] = {"--log-level", "loud", NULL}, *rescan[] = {"--rescan-seconds", "x", NULL},
             *help[] = {"--help", NULL}, *abs_parent[] = {"--cgroup-parent", "/podvisor", NULL},
             *up_parent[] = {"--cgroup-parent=a/../b", NULL},
             *empty_part[] = {"--cgroup-parent", "a//b", NULL};
  ck_assert_int_eq(parse(&o, &set, unknown), 2);
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, missing), 2);
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, level), 2);
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, rescan), 2);
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, help), 1);
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, abs_parent), 2);
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, up_parent), 2);
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, empty_part), 2);
  pvd_opts_free(&o);
}
END_TEST

START_TEST(config_fills_what_flags_leave) {
  char *path = write_config("root: /from-file\nrunRoot: /rr-file\nmanifests: /m-file\nlog-level: warn\n"
                            "keep_pods: true\nrescanSeconds: 7\nlistenInsecure: yes\n"
                            "cgroup-parent: system.slice/pods\n");
  pvd_opts o;
  pvd_opts_set set;
  const char *args[] = {"--root", "/flag", "--log-level", "error", NULL};
  ck_assert_int_eq(parse(&o, &set, args), 0);
  pv_err err;
  ck_assert_int_eq(pvd_config_load(path, true, &o, &set, &err), 0);
  ck_assert_str_eq(o.root, "/flag"); /* the flag wins */
  ck_assert_str_eq(o.run_root, "/rr-file");
  ck_assert_str_eq(o.manifests, "/m-file");
  ck_assert_int_eq(o.log_level, PVD_LOG_ERROR);
  ck_assert(o.keep_pods && o.listen_insecure);
  ck_assert_uint_eq(o.rescan_ms, 7000);
  ck_assert_str_eq(o.cgroup_parent, "system.slice/pods");
  pvd_opts_free(&o);
  /* The flag wins over the file here too. */
  const char *flag_parent[] = {"--cgroup-parent", "mine", NULL};
  ck_assert_int_eq(parse(&o, &set, flag_parent), 0);
  ck_assert_int_eq(pvd_config_load(path, true, &o, &set, &err), 0);
  ck_assert_str_eq(o.cgroup_parent, "mine");
  pvd_opts_free(&o);
  drop_config(path);
}
END_TEST

START_TEST(config_errors_name_line_and_column) {
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"root: /a\ncolour: blue\n", ":2:1: unknown key 'colour'"},
      {"logLevel: loud\n", ":1:1: logLevel: 'loud' is not"},
      {"keepPods: maybe\n", ":1:1: keepPods: 'maybe' is not true or false"},
      {"root: [a, b]\n", ":1:7: the config is one mapping of scalars"},
      {"root: /a\n  bad: : x\n", "daemon.yaml:"},
      {"root: /a\ncgroupParent: ../up\n", ":2:1: cgroupParent: cgroup parent '../up': not a relative path"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *path = write_config(cases[i].text);
    pvd_opts o;
    pvd_opts_set set;
    const char *args[] = {NULL};
    ck_assert_int_eq(parse(&o, &set, args), 0);
    pv_err err;
    pv_err_clear(&err);
    ck_assert_int_eq(pvd_config_load(path, true, &o, &set, &err), -1);
    ck_assert_msg(strstr(err.msg, cases[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg,
                  cases[i].want);
    pvd_opts_free(&o);
    drop_config(path);
  }
}
END_TEST

/* --userns-pool and the key userns-pool: checked when read (a bad value
 * names the option, or the file's line), the flag winning over the file. */
START_TEST(userns_pool_flag_and_key) {
  pvd_opts o;
  pvd_opts_set set;
  pv_err err;
  const char *flag[] = {"--userns-pool", "16777216:2", NULL}, *eq[] = {"--userns-pool=131072:1", NULL},
             *none[] = {NULL};
  ck_assert_int_eq(parse(&o, &set, flag), 0);
  ck_assert_str_eq(o.userns_pool, "16777216:2");
  ck_assert(set.userns_pool);
  char *path = write_config("userns-pool: 196608:3\n");
  ck_assert_int_eq(pvd_config_load(path, true, &o, &set, &err), 0);
  ck_assert_str_eq(o.userns_pool, "16777216:2"); /* the flag wins */
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, eq), 0);
  ck_assert_str_eq(o.userns_pool, "131072:1");
  pvd_opts_free(&o);
  ck_assert_int_eq(parse(&o, &set, none), 0);
  ck_assert_ptr_null(o.userns_pool);
  ck_assert_int_eq(pvd_config_load(path, true, &o, &set, &err), 0);
  ck_assert_str_eq(o.userns_pool, "196608:3");
  pvd_opts_defaults(&o);
  ck_assert_str_eq(o.userns_pool, "196608:3");
  pvd_opts_free(&o);
  drop_config(path);

  static const char *const bad[] = {"5:1", "65536:0", "65536", "x:1", "65536:-1", " 65536:1", "65536:1x",
                                    "65536:65536", "4294967296:1", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *args[] = {"--userns-pool", bad[i], NULL};
    ck_assert_msg(parse(&o, &set, args) == 2, "flag accepted '%s'", bad[i]);
    pvd_opts_free(&o);
    char text[64];
    snprintf(text, sizeof text, "root: /a\nusernsPool: '%s'\n", bad[i]);
    path = write_config(text);
    ck_assert_int_eq(parse(&o, &set, none), 0);
    pv_err_clear(&err);
    ck_assert_msg(pvd_config_load(path, true, &o, &set, &err) == -1, "key accepted '%s'", bad[i]);
    ck_assert_msg(strstr(err.msg, "daemon.yaml:2:1: usernsPool") != NULL, "'%s': %s", bad[i], err.msg);
    ck_assert_ptr_null(o.userns_pool);
    pvd_opts_free(&o);
    drop_config(path);
  }
  const char *missing[] = {"--userns-pool", NULL};
  ck_assert_int_eq(parse(&o, &set, missing), 2);
  pvd_opts_free(&o);
}
END_TEST

START_TEST(config_missing_or_empty) {
  pvd_opts o;
  pvd_opts_set set;
  const char *args[] = {NULL};
  ck_assert_int_eq(parse(&o, &set, args), 0);
  pv_err err;
  ck_assert_int_eq(pvd_config_load("/nonexistent/daemon.yaml", false, &o, &set, &err), 0);
  ck_assert_int_eq(pvd_config_load("/nonexistent/daemon.yaml", true, &o, &set, &err), -1);
  char *path = write_config("");
  ck_assert_int_eq(pvd_config_load(path, true, &o, &set, &err), 0);
  drop_config(path);
  pvd_opts_defaults(&o);
  ck_assert_str_eq(o.root, "/var/lib/podvisor");
  ck_assert_str_eq(o.run_root, "/run/podvisor");
  ck_assert_str_eq(o.manifests, PVD_DEFAULT_MANIFESTS);
  ck_assert_uint_eq(o.rescan_ms, PVD_RESCAN_MS);
  ck_assert_int_eq(o.log_level, PVD_LOG_INFO);
  pvd_opts_free(&o);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("daemon_config");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, flags_both_forms);
  tcase_add_test(tc, usage_errors);
  tcase_add_test(tc, config_fills_what_flags_leave);
  tcase_add_test(tc, config_errors_name_line_and_column);
  tcase_add_test(tc, userns_pool_flag_and_key);
  tcase_add_test(tc, config_missing_or_empty);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
