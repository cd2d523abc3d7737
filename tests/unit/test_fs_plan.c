/* Unit tests for supervisor/core/fs.c: the /sys/fs/cgroup a container sees
 * on a v1 host, read from the plan (nothing is mounted). */
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>

#include "supervisor/core/fs.h"
#include "supervisor/core/fs_internal.h"
#include "tests/testutil.h"

static pv_err err;

static void plan_of(fs_plan *p, const fs_cgroup_mount *m, size_t n) {
  fs_config c;
  fs_config_init(&c);
  c.rootfs = "/nonexistent/rootfs";
  c.dir = "/nonexistent/ctr";
  c.cgroup_ns = true;
  c.cgroups = m;
  c.n_cgroups = n;
  ck_assert_msg(fs_populate_container_root(&c, p, &err) == 0, "%s", pv_err_str(&err));
}

/* Index of the op of kind on dst, or -1. */
static int find_op(const fs_plan *p, int kind, const char *dst) {
  for (size_t i = 0; i < p->n_ops; i++)
    if (p->ops[i].kind == kind && strcmp(p->ops[i].dst, dst) == 0)
      return (int)i;
  return -1;
}

static void assert_link(const fs_plan *p, const char *dst, const char *target) {
  int i = find_op(p, OP_SYMLINK, dst);
  ck_assert_msg(i >= 0, "no link %s", dst);
  ck_assert_str_eq(p->ops[i].src, target);
  ck_assert_int_eq(p->ops[i].phase, 1);
  /* On the tmpfs, before it is made read-only. */
  int tmpfs = find_op(p, OP_MOUNT, "sys/fs/cgroup"), ro = find_op(p, OP_REMOUNT, "sys/fs/cgroup");
  ck_assert(tmpfs >= 0 && ro >= 0);
  ck_assert_int_lt(tmpfs, i);
  ck_assert_int_lt(i, ro);
}

/* Co-mounted controllers get a link each, as systemd makes them on the
 * host; single ones and named hierarchies get none. */
START_TEST(comounted_hierarchies_get_links) {
  fs_cgroup_mount m[] = {
      {"cpu,cpuacct", "cpu,cpuacct"},
      {"memory", "memory"},
      {"net_cls,net_prio", "net_cls,net_prio"},
      {"systemd", "name=systemd"},
  };
  fs_plan p;
  plan_of(&p, m, 4);
  ck_assert_int_ge(find_op(&p, OP_MOUNT, "sys/fs/cgroup/cpu,cpuacct"), 0);
  assert_link(&p, "sys/fs/cgroup/cpu", "cpu,cpuacct");
  assert_link(&p, "sys/fs/cgroup/cpuacct", "cpu,cpuacct");
  assert_link(&p, "sys/fs/cgroup/net_cls", "net_cls,net_prio");
  assert_link(&p, "sys/fs/cgroup/net_prio", "net_cls,net_prio");
  size_t links = 0;
  for (size_t i = 0; i < p.n_ops; i++)
    links += p.ops[i].kind == OP_SYMLINK && strncmp(p.ops[i].dst, "sys/fs/cgroup/", 14) == 0;
  ck_assert_uint_eq(links, 4);
  fs_plan_free(&p);
}
END_TEST

/* Separate cpu and cpuacct hierarchies: no link, each is its own mount. */
START_TEST(separate_hierarchies_get_no_links) {
  fs_cgroup_mount m[] = {{"cpu", "cpu"}, {"cpuacct", "cpuacct"}, {"pids", "pids"}};
  fs_plan p;
  plan_of(&p, m, 3);
  for (size_t i = 0; i < p.n_ops; i++)
    ck_assert(!(p.ops[i].kind == OP_SYMLINK && strncmp(p.ops[i].dst, "sys/fs/cgroup/", 14) == 0));
  ck_assert_int_ge(find_op(&p, OP_MOUNT, "sys/fs/cgroup/cpu"), 0);
  ck_assert_int_ge(find_op(&p, OP_MOUNT, "sys/fs/cgroup/cpuacct"), 0);
  fs_plan_free(&p);
}
END_TEST

/* A name already mounted on its own is not shadowed by a link. */
START_TEST(link_never_replaces_a_mount) {
  fs_cgroup_mount m[] = {{"cpu,cpuacct", "cpu,cpuacct"}, {"cpu", "cpu,cpuacct"}};
  fs_plan p;
  plan_of(&p, m, 2);
  ck_assert_int_lt(find_op(&p, OP_SYMLINK, "sys/fs/cgroup/cpu"), 0);
  assert_link(&p, "sys/fs/cgroup/cpuacct", "cpu,cpuacct");
  fs_plan_free(&p);
}
END_TEST

/* The masked and read-only /proc and /sys paths: all of them by default,
 * none with procMount: Unmasked or privileged; /sys is read-only unless
 * privileged. */
static void plan_flags(fs_plan *p, bool privileged, bool unmasked) {
  fs_config c;
  fs_config_init(&c);
  c.rootfs = "/nonexistent/rootfs";
  c.dir = "/nonexistent/ctr";
  c.privileged = privileged;
  c.unmasked_proc = unmasked;
  ck_assert_msg(fs_populate_container_root(&c, p, &err) == 0, "%s", pv_err_str(&err));
}

static size_t count_kind(const fs_plan *p, int kind) {
  size_t n = 0;
  for (size_t i = 0; i < p->n_ops; i++)
    n += p->ops[i].kind == kind;
  return n;
}

START_TEST(masks_default_unmasked_privileged) {
  fs_plan p;
  plan_flags(&p, false, false);
  ck_assert_int_ge(find_op(&p, OP_MASK, "proc/kcore"), 0);
  ck_assert_int_ge(find_op(&p, OP_MASK, "sys/firmware"), 0);
  ck_assert_int_ge(find_op(&p, OP_RO_PATH, "proc/sys"), 0);
  int sys = find_op(&p, OP_SYSFS, "sys");
  ck_assert(sys >= 0 && (p.ops[sys].flags & MS_RDONLY));
  fs_plan_free(&p);
  plan_flags(&p, false, true);
  ck_assert_uint_eq(count_kind(&p, OP_MASK), 0);
  ck_assert_uint_eq(count_kind(&p, OP_RO_PATH), 0);
  sys = find_op(&p, OP_SYSFS, "sys");
  ck_assert(sys >= 0 && (p.ops[sys].flags & MS_RDONLY)); /* Unmasked is about /proc, not a writable /sys */
  fs_plan_free(&p);
  plan_flags(&p, true, false);
  ck_assert_uint_eq(count_kind(&p, OP_MASK), 0);
  ck_assert_uint_eq(count_kind(&p, OP_RO_PATH), 0);
  sys = find_op(&p, OP_SYSFS, "sys");
  ck_assert(sys >= 0 && !(p.ops[sys].flags & MS_RDONLY));
  fs_plan_free(&p);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("fs_plan");
  TCase *tc = tcase_create("cgroup_links");
  tcase_add_test(tc, comounted_hierarchies_get_links);
  tcase_add_test(tc, separate_hierarchies_get_no_links);
  tcase_add_test(tc, link_never_replaces_a_mount);
  tcase_add_test(tc, masks_default_unmasked_privileged);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
