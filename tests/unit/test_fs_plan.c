/* Unit tests for supervisor/core/fs.c: the /sys/fs/cgroup a container sees
 * on a v1 host, read from the plan (nothing is mounted). */
#include <stdbool.h>
#include <string.h>

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

/* A container in a user namespace: the image rootfs is idmapped, and
 * /dev, /dev/shm and devpts belong to the container's root. */
START_TEST(user_namespace_plan) {
  fs_config c;
  fs_config_init(&c);
  ck_assert_int_eq(c.idmap_userns, -1);
  c.rootfs = "/nonexistent/rootfs";
  c.dir = "/nonexistent/ctr";
  fs_plan p;
  ck_assert_msg(fs_populate_container_root(&c, &p, &err) == 0, "%s", pv_err_str(&err));
  ck_assert(!p.idmap);
  int dev = find_op(&p, OP_MOUNT, "dev"), pts = find_op(&p, OP_MOUNT, "dev/pts");
  ck_assert_str_eq(p.ops[dev].data, "mode=755,size=65536k");
  ck_assert_str_eq(p.ops[pts].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  fs_plan_free(&p);
  c.idmap_userns = 7;
  c.idmap_uid = 65536;
  c.idmap_gid = 131072;
  ck_assert_msg(fs_populate_container_root(&c, &p, &err) == 0, "%s", pv_err_str(&err));
  ck_assert(p.idmap);
  ck_assert_int_eq(p.idmap_userns, 7);
  ck_assert_str_eq(p.idmap_paths[0], "/nonexistent/rootfs");
  dev = find_op(&p, OP_MOUNT, "dev");
  pts = find_op(&p, OP_MOUNT, "dev/pts");
  int shm = find_op(&p, OP_MOUNT, "dev/shm");
  ck_assert_str_eq(p.ops[dev].data, "mode=755,size=65536k,uid=65536,gid=131072");
  ck_assert_str_eq(p.ops[pts].data, "newinstance,ptmxmode=0666,mode=0620,gid=131077");
  ck_assert_str_eq(p.ops[shm].data, "mode=1777,size=65536k,uid=65536,gid=131072");
  char what[256];
  ck_assert(fs_step_describe(&p, FS_STEP_IDMAP, 0, what, sizeof what));
  ck_assert_ptr_nonnull(strstr(what, "/nonexistent/rootfs idmapped"));
  uid_t u = 3;
  gid_t g = 4;
  ck_assert(fs_idmap_upper_owner(&c, &u, &g));
  ck_assert_uint_eq(u, 65539);
  ck_assert_uint_eq(g, 131076);
  fs_plan_free(&p);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("fs_plan");
  TCase *tc = tcase_create("cgroup_links");
  tcase_add_test(tc, comounted_hierarchies_get_links);
  tcase_add_test(tc, separate_hierarchies_get_no_links);
  tcase_add_test(tc, link_never_replaces_a_mount);
  tcase_add_test(tc, user_namespace_plan);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
