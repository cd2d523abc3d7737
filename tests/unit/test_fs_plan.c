/* Unit tests for supervisor/core/fs.c and fs_volume.c, read from the plan
 * (nothing is mounted): the /sys/fs/cgroup a container sees on a v1 host,
 * the standard mount points an image may lack, the targets and flags of
 * volumes, and the messages that name a failed volume. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- volumes and standard mount points ---- */

static char *vtop;
static char vrootfs[PATH_MAX], vdir[PATH_MAX], vsrc[PATH_MAX], vfile[PATH_MAX];

static void volumes_setup(void) {
  vtop = testutil_tmpdir("pv-fs-plan");
  ck_assert_ptr_nonnull(vtop);
  ck_assert_uint_lt(strlen(vtop), 1024);
  snprintf(vrootfs, sizeof vrootfs, "%.1024s/rootfs", vtop);
  snprintf(vdir, sizeof vdir, "%.1024s/ctr", vtop);
  snprintf(vsrc, sizeof vsrc, "%.1024s/src", vtop);
  snprintf(vfile, sizeof vfile, "%.1024s/file", vtop);
  ck_assert_int_eq(mkdir(vrootfs, 0755), 0);
  ck_assert_int_eq(mkdir(vsrc, 0755), 0);
  FILE *f = fopen(vfile, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
}

static void volumes_teardown(void) {
  testutil_rmtree(vtop);
  free(vtop);
}

static void plan_volumes(fs_plan *p, const container_mount *m, size_t n, bool privileged) {
  fs_config c;
  fs_config_init(&c);
  c.rootfs = vrootfs;
  c.dir = vdir;
  c.mounts = m;
  c.n_mounts = n;
  c.privileged = privileged;
  ck_assert_msg(fs_create_minimal_root(&c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(fs_populate_container_root(&c, p, &err) == 0, "%s", pv_err_str(&err));
}

/* /proc and /dev are made when the image lacks them (sysfs's op makes
 * /sys), and the standard targets are not volumes: no link is followed. */
START_TEST(standard_points_are_made) {
  fs_plan p;
  plan_volumes(&p, NULL, 0, false);
  int proc = find_op(&p, OP_MOUNT, "proc"), dev = find_op(&p, OP_MOUNT, "dev");
  ck_assert(proc >= 0 && dev >= 0 && find_op(&p, OP_SYSFS, "sys") >= 0);
  ck_assert_int_eq(p.ops[proc].point, POINT_DIR);
  ck_assert_int_eq(p.ops[dev].point, POINT_DIR);
  for (size_t i = 0; i < p.n_ops; i++)
    ck_assert_ptr_null(p.ops[i].volume);
  fs_plan_free(&p);
}
END_TEST

START_TEST(volume_targets_and_flags) {
  container_mount m[] = {
      {.source = vsrc, .destination = "/data/", .name = "data"},
      {.source = vsrc, .destination = "//data//ro", .readonly = true},
      {.source = vsrc, .destination = "/data/rro", .readonly = true, .rro = CONTAINER_RRO_ENABLED},
      {.source = vsrc, .destination = "/data/rrop", .readonly = true, .rro = CONTAINER_RRO_IF_POSSIBLE},
      {.source = vsrc, .destination = "/data/rw-rro", .rro = CONTAINER_RRO_ENABLED},
      {.source = vfile, .destination = "/dev/termination-log", .name = "log"},
      {.destination = "/scratch", .tmpfs = true, .readonly = true},
  };
  fs_plan p;
  plan_volumes(&p, m, sizeof m / sizeof m[0], false);
  static const struct {
    const char *dst, *volume;
    int point;
    uint64_t all, top;
    bool fallback;
  } want[] = {
      {"data", "/data/", POINT_DIR, MOUNT_ATTR_NODEV, 0, false},
      {"data/ro", "//data//ro", POINT_DIR, MOUNT_ATTR_NODEV, MOUNT_ATTR_RDONLY, false},
      {"data/rro", "/data/rro", POINT_DIR, MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY, MOUNT_ATTR_RDONLY, false},
      {"data/rrop", "/data/rrop", POINT_DIR, MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY, MOUNT_ATTR_RDONLY, true},
      /* recursiveReadOnly means nothing on a writable volume */
      {"data/rw-rro", "/data/rw-rro", POINT_DIR, MOUNT_ATTR_NODEV, 0, false},
      {"dev/termination-log", "/dev/termination-log", POINT_FILE, MOUNT_ATTR_NODEV, 0, false},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    int k = find_op(&p, OP_MOUNT, want[i].dst);
    ck_assert_msg(k >= 0, "no mount on %s", want[i].dst);
    const fs_op *op = &p.ops[k];
    ck_assert_str_eq(op->volume, want[i].volume);
    ck_assert_uint_eq(op->flags, MS_BIND | MS_REC);
    ck_assert_int_eq(op->point, want[i].point);
    ck_assert_uint_eq(op->attr_all, want[i].all);
    ck_assert_uint_eq(op->attr_top, want[i].top);
    ck_assert_int_eq(op->rro_fallback, want[i].fallback);
  }
  /* The child makes the mount point in /dev: no op of its own for it. */
  ck_assert_int_lt(find_op(&p, OP_MKNOD, "dev/termination-log"), 0);
  int t = find_op(&p, OP_MOUNT, "scratch");
  ck_assert_int_ge(t, 0);
  ck_assert_uint_eq(p.ops[t].flags, MS_NOSUID | MS_NODEV | MS_RDONLY);
  ck_assert_str_eq(p.ops[t].volume, "/scratch");
  ck_assert_ptr_null(p.ops[t].volume_name);
  /* The image's side of the destinations is made in the upper layer. */
  char path[PATH_MAX + 32];
  struct stat st;
  snprintf(path, sizeof path, "%s/upper/data/rro", vdir);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  fs_plan_free(&p);
}
END_TEST

/* A privileged container keeps the devices of its volumes. */
START_TEST(privileged_volumes_keep_devices) {
  container_mount m = {
      .source = vsrc, .destination = "/data", .readonly = true, .rro = CONTAINER_RRO_ENABLED};
  fs_plan p;
  plan_volumes(&p, &m, 1, true);
  int k = find_op(&p, OP_MOUNT, "data");
  ck_assert_int_ge(k, 0);
  ck_assert_uint_eq(p.ops[k].attr_all, MOUNT_ATTR_RDONLY);
  fs_plan_free(&p);
}
END_TEST

/* Every way a volume fails to mount names it and its destination. */
START_TEST(failed_volumes_are_named) {
  container_mount m[] = {
      {.source = vsrc, .destination = "/data", .name = "data"},
      {.destination = "/t", .tmpfs = true},
  };
  fs_plan p;
  plan_volumes(&p, m, 2, false);
  int k = find_op(&p, OP_MOUNT, "data"), t = find_op(&p, OP_MOUNT, "t");
  char buf[2 * PATH_MAX], want[2 * PATH_MAX];
  ck_assert(fs_step_describe(&p, FS_STEP_OP, k, buf, sizeof buf));
  snprintf(want, sizeof want,
           "volume data (/data): bind mount %s on /data (resolved inside the container's root)", vsrc);
  ck_assert_str_eq(buf, want);
  ck_assert(fs_step_describe(&p, FS_STEP_TARGET, k, buf, sizeof buf));
  ck_assert_str_eq(buf,
                   "volume data (/data): find or create the mount point /data inside the container's root");
  ck_assert(fs_step_describe(&p, FS_STEP_TARGET_REFUSED, k, buf, sizeof buf));
  ck_assert_msg(
      strncmp(buf,
              "volume data (/data): the mount point /data resolves, through a symbolic link, to "
              "the container's root or into its /proc or /sys",
              strlen("volume data (/data): the mount point /data resolves, through a symbolic link, "
                     "to the container's root or into its /proc or /sys")) == 0,
      "%s", buf);
  ck_assert(fs_step_describe(&p, FS_STEP_OP, t, buf, sizeof buf));
  ck_assert_str_eq(buf, "volume /t: mount tmpfs on /t (resolved inside the container's root)");
  int proc = find_op(&p, OP_MOUNT, "proc");
  ck_assert(fs_step_describe(&p, FS_STEP_TARGET, proc, buf, sizeof buf));
  ck_assert_str_eq(buf,
                   "find or create /proc inside the container's root (no symbolic link is followed there)");
  ck_assert(fs_step_describe(&p, FS_STEP_OP, proc, buf, sizeof buf));
  ck_assert_str_eq(buf, "mount proc on /proc");
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
  tcase_add_test(tc, masks_default_unmasked_privileged);
  tcase_add_test(tc, user_namespace_plan);
  suite_add_tcase(s, tc);
  tc = tcase_create("volumes");
  tcase_add_checked_fixture(tc, volumes_setup, volumes_teardown);
  tcase_add_test(tc, standard_points_are_made);
  tcase_add_test(tc, volume_targets_and_flags);
  tcase_add_test(tc, privileged_volumes_keep_devices);
  tcase_add_test(tc, failed_volumes_are_named);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
