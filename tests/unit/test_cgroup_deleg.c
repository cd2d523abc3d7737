/*
 * Unit tests for cgroup_deleg.c and the cgroup parent of resource.c: a
 * podvisor process in a delegated cgroup v2 subtree, on a fake tree.
 *
 * The process's own cgroup comes from a /proc/self/cgroup text given to
 * resource_manager_init_self(); the delegation mark is the extended
 * attribute user.delegate (any user may set it on a directory of its own
 * on ext4 and tmpfs) or trusted.delegate (needs CAP_SYS_ADMIN: that case
 * is skipped, and said, without it).  As in test_cgroup_v2.c the test is
 * the "fake kernel": it makes the directories with the interface files
 * the kernel would show, and asserts on what the code wrote into them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "supervisor/core/cgroup_internal.h"
#include "supervisor/core/resource.h"
#include "tests/testutil.h"

static char *root;

static void put(const char *rel, const char *file, const char *content) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s%s%s/%s", root, rel[0] ? "/" : "", rel, file);
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "create %s: %s", path, strerror(errno));
  fputs(content, f);
  fclose(f);
}

/* The content of root/rel/file, or "<missing>". */
static const char *get(const char *rel, const char *file) {
  static char buf[512];
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s%s%s/%s", root, rel[0] ? "/" : "", rel, file);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return "<missing>";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static bool exists(const char *rel) {
  char path[PATH_MAX];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", root, rel);
  return stat(path, &st) == 0;
}

/* mkdir -p of rel, each new level with the core files (controllers
 * offered: ctrls), the last one with a leaf's limit files too. */
static void fake_cgroup(const char *rel, const char *ctrls, bool leaf) {
  char path[PATH_MAX];
  int base = snprintf(path, sizeof path, "%s/", root);
  snprintf(path + base, sizeof path - (size_t)base, "%s", rel);
  for (char *p = path + base;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char c = *p;
    *p = '\0';
    if (mkdir(path, 0755) == 0) {
      const char *r = path + base;
      put(r, "cgroup.procs", "");
      put(r, "cgroup.subtree_control", "");
      put(r, "cgroup.controllers", ctrls);
    }
    *p = c;
    if (c == '\0')
      break;
  }
  if (!leaf)
    return;
  static const char *files[][2] = {
      {"cpu.weight", "100\n"}, {"cpu.max", "max 100000\n"}, {"memory.max", "max\n"},
      {"pids.max", "max\n"},   {"cpuset.cpus", "\n"},       {"cpuset.mems", "\n"},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    put(rel, files[i][0], files[i][1]);
}

/* The kernel's side of rmdir: the interface files go with the directory. */
static void fake_release(const char *rel) {
  static const char *files[] = {"cgroup.procs",
                                "cgroup.subtree_control",
                                "cgroup.controllers",
                                "cpu.weight",
                                "cpu.max",
                                "memory.max",
                                "pids.max",
                                "cpuset.cpus",
                                "cpuset.mems"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/%s", root, rel, files[i]);
    unlink(path);
  }
}

static void mark(const char *rel, const char *attr, const char *value) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  ck_assert_msg(setxattr(path, attr, value, strlen(value), 0) == 0, "setxattr %s %s: %s", path, attr,
                strerror(errno));
}

static void setup(void) {
  root = testutil_tmpdir("pv-cgdeleg");
  ck_assert_ptr_nonnull(root);
  put("", "cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
  put("", "cgroup.subtree_control", "cpu memory pids\n");
  put("", "cgroup.procs", "1\n");
}

static void teardown(void) {
  testutil_rmtree(root);
  free(root);
  root = NULL;
}

static resource_manager *manager(const char *self_text) {
  resource_manager *rm = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_init_self(&rm, root, self_text, &err) == 0, "init: %s", err.msg);
  return rm;
}

START_TEST(own_cgroup_from_proc_text) {
  static const struct {
    const char *text, *want;
  } ok[] = {
      {"0::/system.slice/podvisor.service\n", "system.slice/podvisor.service"},
      {"0::/\n", ""},
      /* A hybrid host: v1 lines first, the unified one last. */
      {"12:pids:/user.slice\n1:name=systemd:/user.slice/s.scope\n0::/user.slice/s.scope\n",
       "user.slice/s.scope"},
      {"0::/pv.test/supervisor", "pv.test/supervisor"}, /* no newline at the end */
  };
  char out[256];
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    ck_assert_msg(cgroup_self_path(ok[i].text, out, sizeof out) == 0, "case %zu", i);
    ck_assert_str_eq(out, ok[i].want);
  }
  ck_assert_int_eq(cgroup_self_path("4:memory:/a\n3:cpu:/a\n", out, sizeof out), -1);
  ck_assert_int_eq(errno, ENOENT); /* v1 only: no unified line */
  ck_assert_int_eq(cgroup_self_path("", out, sizeof out), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_int_eq(cgroup_self_path("0::relative\n", out, sizeof out), -1);
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_int_eq(cgroup_self_path("0::/a/long/path\n", out, 4), -1);
  ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

/* Not delegated (no mark, a mark other than "1", the root cgroup, no text
 * at all): today's layout, root-relative "podvisor", controllers enabled
 * from the root, nothing moved. */
START_TEST(not_delegated_keeps_the_root_layout) {
  fake_cgroup("pv.svc", "cpu memory pids\n", false);
  fake_cgroup("pv.zero", "cpu memory pids\n", false);
  mark("pv.zero", "user.delegate", "0");
  const char *texts[] = {"0::/pv.svc\n", "0::/pv.zero\n", "0::/\n", NULL};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    resource_manager *rm = manager(texts[i]);
    ck_assert_ptr_null(resource_manager_delegated(rm));
    char parent[64];
    pv_err err;
    ck_assert_int_eq(resource_manager_nest(rm, parent, sizeof parent, &err), 0);
    ck_assert_str_eq(parent, "podvisor");
    ck_assert_str_eq(resource_manager_parent(rm), "podvisor");
    resource_manager_cleanup(rm);
  }
  ck_assert(!exists("pv.svc/supervisor"));
  ck_assert(!exists("pv.zero/supervisor"));
  /* Enabling starts at the root. */
  put("", "cgroup.subtree_control", "");
  resource_manager *rm = manager("0::/pv.svc\n");
  fake_cgroup("podvisor/p/c", "", true);
  cgroup_handle *cg;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, "podvisor/p/c", NULL, &cg, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get("", "cgroup.subtree_control"), "+cpu +memory +pids +io");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* Delegated (Delegate=yes): the launcher moves to <own>/supervisor, pods
 * go under <own>/podvisor, controllers are what <own> was given and are
 * enabled from <own> down; nothing above <own> is written. */
START_TEST(delegated_nests_and_writes_nothing_above) {
  put("", "cgroup.subtree_control", "cpuset cpu memory pids\n");
  fake_cgroup("pv.svc", "cpu memory pids\n", false); /* no cpuset delegated */
  mark("pv.svc", "user.delegate", "1");
  /* The kernel makes supervisor's files at the mkdir; here, before. */
  fake_cgroup("pv.svc/supervisor", "", false);
  resource_manager *rm = manager("0::/pv.svc\n");
  ck_assert_str_eq(resource_manager_delegated(rm), "pv.svc");
  char parent[64];
  pv_err err;
  ck_assert_msg(resource_manager_nest(rm, parent, sizeof parent, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(parent, "pv.svc/podvisor");
  ck_assert_str_eq(resource_manager_parent(rm), "pv.svc/podvisor");
  ck_assert_str_eq(get("pv.svc/supervisor", "cgroup.procs"), "0"); /* "0": the writer itself */
  ck_assert_str_eq(get("", "cgroup.procs"), "1\n");

  resource_limits l;
  resource_limits_init(&l);
  l.memory_limit = 64 << 20;
  l.pids_limit = 100;
  l.cpu_shares = 512;
  const char *rel = "pv.svc/podvisor/pod1/c";
  fake_cgroup(rel, "", true);
  cgroup_handle *cg;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get(rel, "memory.max"), "67108864");
  ck_assert_str_eq(get(rel, "pids.max"), "100");
  ck_assert_str_eq(get("pv.svc", "cgroup.subtree_control"), "+cpu +memory +pids");
  ck_assert_str_eq(get("pv.svc/podvisor", "cgroup.subtree_control"), "+cpu +memory +pids");
  ck_assert_str_eq(get("pv.svc/podvisor/pod1", "cgroup.subtree_control"), "+cpu +memory +pids");
  ck_assert_str_eq(get("", "cgroup.subtree_control"), "cpuset cpu memory pids\n"); /* untouched */
  ck_assert_str_eq(get("pv.svc/supervisor", "cgroup.subtree_control"), "");

  /* A process taken out goes to the supervisor cgroup, not the root. */
  ck_assert_int_eq(resource_manager_remove_process(cg, 4242, &err), 0);
  ck_assert_str_eq(get("pv.svc/supervisor", "cgroup.procs"), "4242");
  ck_assert_str_eq(get("", "cgroup.procs"), "1\n");

  /* A cpuset was not delegated: asking for one fails, naming it. */
  resource_limits u;
  resource_limits_init(&u);
  snprintf(u.cpuset_cpus, sizeof u.cpuset_cpus, "0");
  ck_assert_int_eq(resource_manager_update(cg, &u, &err), -1);
  ck_assert_int_eq(err.code, ENOTSUP);
  ck_assert_msg(strstr(err.msg, "cpuset controller, which was not delegated") != NULL, "%s", err.msg);
  ck_assert_str_eq(get("", "cgroup.subtree_control"), "cpuset cpu memory pids\n");
  ck_assert_str_eq(get("pv.svc", "cgroup.subtree_control"), "+cpu +memory +pids");

  /* Destroy takes the pod directory with its last container, never the
   * parent or the delegated cgroup. */
  fake_release(rel);
  fake_release("pv.svc/podvisor/pod1");
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "%s", err.msg);
  ck_assert(!exists("pv.svc/podvisor/pod1"));
  ck_assert(exists("pv.svc/podvisor"));
  ck_assert(exists("pv.svc/supervisor"));
  resource_manager_cleanup(rm);
}
END_TEST

/* A controller missing from the delegated cgroup fails the limit that
 * needs it, not the ones that do not. */
START_TEST(undelegated_controller_fails_its_limit) {
  fake_cgroup("pv.svc", "cpu pids\n", false);
  mark("pv.svc", "user.delegate", "1");
  fake_cgroup("pv.svc/supervisor", "", false);
  resource_manager *rm = manager("0::/pv.svc/supervisor\n");
  const char *rel = "pv.svc/podvisor/p/c";
  fake_cgroup(rel, "", true);
  resource_limits l;
  resource_limits_init(&l);
  l.pids_limit = 10;
  cgroup_handle *cg;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get("pv.svc", "cgroup.subtree_control"), "+cpu +pids");
  l.memory_limit = 1 << 20;
  ck_assert_int_eq(resource_manager_update(cg, &l, &err), -1);
  ck_assert_int_eq(err.code, ENOTSUP);
  ck_assert_msg(strstr(err.msg, "memory controller") != NULL && strstr(err.msg, "pv.svc/cgroup.controllers"),
                "%s", err.msg);
  ck_assert_str_eq(get(rel, "memory.max"), "max\n");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* DelegateSubgroup=supervisor: the process starts in <unit>/supervisor
 * and the unit carries the mark; it is not moved again. */
START_TEST(already_in_supervisor) {
  fake_cgroup("sys.slice/pv.service/supervisor", "cpu memory pids\n", false);
  put("sys.slice/pv.service", "cgroup.controllers", "cpu memory pids\n");
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/sys.slice/pv.service", root);
  if (setxattr(path, "trusted.delegate", "1", 1, 0) < 0) {
    ck_assert_msg(errno == EPERM || errno == ENOTSUP, "setxattr trusted: %s", strerror(errno));
    printf("already_in_supervisor: trusted.delegate cannot be set here (%s): user.delegate instead\n",
           strerror(errno));
    mark("sys.slice/pv.service", "user.delegate", "1");
  }
  resource_manager *rm = manager("0::/sys.slice/pv.service/supervisor\n");
  ck_assert_str_eq(resource_manager_delegated(rm), "sys.slice/pv.service");
  char parent[64];
  pv_err err;
  ck_assert_int_eq(resource_manager_nest(rm, parent, sizeof parent, &err), 0);
  ck_assert_str_eq(parent, "sys.slice/pv.service/podvisor");
  ck_assert_str_eq(get("sys.slice/pv.service/supervisor", "cgroup.procs"), ""); /* not moved again */
  /* A cgroup in the subtree enables from the unit down, not in the slice. */
  const char *rel = "sys.slice/pv.service/podvisor/p/c";
  fake_cgroup(rel, "", true);
  cgroup_handle *cg;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, NULL, &cg, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get("sys.slice", "cgroup.subtree_control"), "");
  ck_assert_str_eq(get("sys.slice/pv.service", "cgroup.subtree_control"), "+cpu +memory +pids");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* A mark on the process's own cgroup wins over none on its parent even
 * when the own one is called "supervisor". */
START_TEST(own_cgroup_named_supervisor) {
  fake_cgroup("a/supervisor", "cpu memory pids\n", false);
  mark("a/supervisor", "user.delegate", "1");
  fake_cgroup("a/supervisor/supervisor", "", false);
  resource_manager *rm = manager("0::/a/supervisor\n");
  ck_assert_str_eq(resource_manager_delegated(rm), "a/supervisor");
  char parent[64];
  pv_err err;
  ck_assert_int_eq(resource_manager_nest(rm, parent, sizeof parent, &err), 0);
  ck_assert_str_eq(parent, "a/supervisor/podvisor");
  ck_assert_str_eq(get("a/supervisor/supervisor", "cgroup.procs"), "0");
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(parent_validation) {
  static const char *good[] = {"podvisor", "system.slice/pods", "a/b/c", "pv.test/podvisor", "x..y"};
  static const char *bad[] = {"", "/podvisor", "a//b", "a/../b", "..", "a/", "./a", "a/.", NULL};
  pv_err err;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    ck_assert_msg(resource_manager_check_parent(good[i], &err) == 0, "'%s': %s", good[i], err.msg);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pv_err_clear(&err);
    ck_assert_msg(resource_manager_check_parent(bad[i], &err) == -1, "'%s' accepted", bad[i]);
    ck_assert_int_eq(err.code, EINVAL);
    ck_assert_msg(strstr(err.msg, "not a relative path") != NULL, "%s", err.msg);
    if (bad[i] != NULL)
      ck_assert_msg(strstr(err.msg, bad[i]) != NULL, "'%s' not named in: %s", bad[i], err.msg);
  }
  char longp[RESOURCE_PARENT_MAX + 2];
  memset(longp, 'a', sizeof longp - 1);
  longp[sizeof longp - 1] = '\0';
  ck_assert_int_eq(resource_manager_check_parent(longp, &err), -1);
  longp[RESOURCE_PARENT_MAX] = '\0';
  ck_assert_int_eq(resource_manager_check_parent(longp, &err), 0);
  /* The launcher's choice: a given parent is checked and used as is. */
  char out[64];
  ck_assert_int_eq(resource_manager_pick_parent("pv.slice/pods", out, sizeof out, &err), 0);
  ck_assert_str_eq(out, "pv.slice/pods");
  ck_assert_int_eq(resource_manager_pick_parent("../x", out, sizeof out, &err), -1);
  resource_manager *rm = manager(NULL);
  ck_assert_int_eq(resource_manager_set_parent(rm, "a//b", &err), -1);
  ck_assert_str_eq(resource_manager_parent(rm), "podvisor");
  resource_manager_cleanup(rm);
}
END_TEST

/* Destroy removes what lies between a cgroup and the parent, never the
 * parent or above; of a cgroup outside the parent only its own directory. */
START_TEST(destroy_respects_the_parent) {
  resource_manager *rm = manager(NULL);
  pv_err err;
  ck_assert_int_eq(resource_manager_set_parent(rm, "slice/pods", &err), 0);
  const char *rel = "slice/pods/p/c";
  fake_cgroup(rel, "", true);
  cgroup_handle *cg;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, NULL, &cg, &err) == 0, "%s", err.msg);
  fake_release(rel);
  fake_release("slice/pods/p");
  fake_release("slice/pods");
  ck_assert_int_eq(resource_manager_destroy_cgroup(cg, &err), 0);
  ck_assert(!exists("slice/pods/p"));
  ck_assert(exists("slice/pods"));
  /* Another instance's, under an earlier parent. */
  rel = "other/pods/p/c";
  fake_cgroup(rel, "", true);
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, NULL, &cg, &err) == 0, "%s", err.msg);
  fake_release(rel);
  fake_release("other/pods/p");
  ck_assert_int_eq(resource_manager_destroy_cgroup(cg, &err), 0);
  ck_assert(!exists(rel));
  ck_assert(exists("other/pods/p"));
  resource_manager_cleanup(rm);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cgroup_deleg");
  TCase *tc = tcase_create("fake_tree");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, own_cgroup_from_proc_text);
  tcase_add_test(tc, not_delegated_keeps_the_root_layout);
  tcase_add_test(tc, delegated_nests_and_writes_nothing_above);
  tcase_add_test(tc, undelegated_controller_fails_its_limit);
  tcase_add_test(tc, already_in_supervisor);
  tcase_add_test(tc, own_cgroup_named_supervisor);
  tcase_add_test(tc, parent_validation);
  tcase_add_test(tc, destroy_respects_the_parent);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
