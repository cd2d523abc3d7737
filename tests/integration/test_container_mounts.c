/*
 * test_container_mounts.c - mount targets and mount flags (root): targets
 * resolved inside the container's root (a volume under another volume
 * through a link, missing /proc /dev /sys), and the flags of bind volumes
 * on their submounts (nodev everywhere, read-only only on the top mount
 * unless recursiveReadOnly).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/util.h"
#include "tests/integration/ctrtest.h"

static pv_err err;

/* A copy of the busybox rootfs the test may change; free and remove it
 * with drop_image(). */
static char *copy_image(void) {
  char *img = testutil_tmpdir("pv-mnt-img");
  ck_assert_ptr_nonnull(img);
  char cmd[3 * PATH_MAX];
  snprintf(cmd, sizeof cmd, "cp -a %s/. %s", ctrtest_rootfs, img);
  ck_assert_int_eq(system(cmd), 0);
  return img;
}

static void drop(char *dir) {
  testutil_rmtree(dir);
  free(dir);
}

/* crun and runc make the mount points an image lacks; so does podvisor,
 * inside the root (the upper layer), never on the image. */
START_TEST(image_without_proc_dev_sys) {
  char *img = copy_image();
  char cmd[3 * PATH_MAX];
  snprintf(cmd, sizeof cmd, "rm -rf %s/proc %s/dev %s/sys", img, img, img);
  ck_assert_int_eq(system(cmd), 0);
  container_config cfg;
  ctrtest_config_sh(&cfg, "noproc",
                    "test -r /proc/self/status && test -c /dev/null && test -d /sys/kernel && "
                    "awk '$5 == \"/proc\" || $5 == \"/dev\" || $5 == \"/sys\"' /proc/self/mountinfo | wc -l");
  cfg.rootfs = img;
  char out[256];
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "3\n");
  /* The image itself is left as it was. */
  snprintf(cmd, sizeof cmd, "%s/proc", img);
  ck_assert_int_eq(access(cmd, F_OK), -1);
  drop(img);
}
END_TEST

/* A link planted in a volume (as an init container would) under the
 * mount point of a later volume: the later volume lands where the link
 * points inside the container's root, never on the host. */
START_TEST(nested_volume_through_planted_link) {
  char *data = testutil_tmpdir("pv-mnt-data"), *sub = testutil_tmpdir("pv-mnt-sub");
  char *host = testutil_tmpdir("pv-mnt-host"); /* the link's target, as a path of the host */
  ck_assert(data != NULL && sub != NULL && host != NULL);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/f", sub);
  ck_assert_int_eq(pv_write_file_atomic(path, "sub\n", 4, 0644, NULL), 0);
  snprintf(path, sizeof path, "%s/abs", data);
  ck_assert_int_eq(symlink(host, path), 0);
  snprintf(path, sizeof path, "%s/rel", data);
  ck_assert_int_eq(symlink("../../../../../../../../../inroot", path), 0);
  container_mount mounts[] = {
      {.source = data, .destination = "/data", .name = "data"},
      {.source = sub, .destination = "/data/abs", .name = "sub"},
      {.source = sub, .destination = "/data/rel/deeper", .name = "sub2"},
  };
  char script[2 * PATH_MAX];
  snprintf(script, sizeof script,
           "cat %s/f; cat /data/abs/f; cat /inroot/deeper/f; cat /data/rel/deeper/f; "
           "grep -c ' %s \\| /inroot/deeper ' /proc/self/mountinfo",
           host, host);
  container_config cfg;
  ctrtest_config_sh(&cfg, "planted", script);
  cfg.mounts = mounts;
  cfg.n_mounts = 3;
  char out[512];
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "sub\nsub\nsub\nsub\n2\n");
  /* Nothing was made or mounted on the host's side of the links. */
  snprintf(path, sizeof path, "%s/f", host);
  ck_assert_int_eq(access(path, F_OK), -1);
  ck_assert_int_eq(access("/inroot", F_OK), -1);
  drop(data);
  drop(sub);
  drop(host);
}
END_TEST

/* Starts cfg, which must fail; returns the message. */
static const char *start_fails(container_config *cfg) {
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(container_manager_start(ctrtest_mgr, c, &err), -1);
  static char msg[sizeof err.msg];
  snprintf(msg, sizeof msg, "%s", err.msg);
  pv_err e2;
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &e2), 0);
  return msg;
}

/* Where a target cannot go: the root itself, the container's /proc, or a
 * place that cannot be made (a read-only volume).  The error names the
 * volume and its destination. */
START_TEST(refused_targets_name_the_volume) {
  char *data = testutil_tmpdir("pv-mnt-data"), *sub = testutil_tmpdir("pv-mnt-sub");
  ck_assert(data != NULL && sub != NULL);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/root", data);
  ck_assert_int_eq(symlink("/", path), 0);
  snprintf(path, sizeof path, "%s/proc", data);
  ck_assert_int_eq(symlink("/proc/sys", path), 0);
  static const struct {
    const char *dest;
    bool ro;
    const char *text;
  } cases[] = {
      {"/data/root", false, "volume sub (/data/root): the mount point /data/root resolves"},
      {"/data/proc", false, "volume sub (/data/proc): the mount point /data/proc resolves"},
      {"/data/missing", true, "volume sub (/data/missing): find or create the mount point /data/missing"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    container_mount mounts[] = {
        {.source = data, .destination = "/data", .readonly = cases[i].ro, .name = "data"},
        {.source = sub, .destination = cases[i].dest, .name = "sub"},
    };
    container_config cfg;
    ctrtest_config_sh(&cfg, "refused", "true");
    cfg.mounts = mounts;
    cfg.n_mounts = 2;
    const char *msg = start_fails(&cfg);
    ck_assert_msg(strstr(msg, cases[i].text) != NULL, "%s", msg);
  }
  drop(data);
  drop(sub);
}
END_TEST

/* A source directory that is a nosuid,noexec tmpfs with a plain tmpfs
 * (neither nodev nor nosuid) mounted at sub/, as a hostPath of "/" has
 * /dev and /dev/shm.  The mounts are made in a mount namespace of the
 * test's own (each test is a process of its own), so that a failed test
 * leaves none on the host. */
static char *source_with_submount(void) {
  ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
  ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  char *src = testutil_tmpdir("pv-mnt-src"), path[PATH_MAX];
  ck_assert_ptr_nonnull(src);
  ck_assert_int_eq(mount("tmpfs", src, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=1m"), 0);
  snprintf(path, sizeof path, "%s/sub", src);
  ck_assert_int_eq(mkdir(path, 0755), 0);
  ck_assert_int_eq(mount("tmpfs", path, "tmpfs", 0, "size=1m"), 0);
  return src;
}

static void drop_source(char *src) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/sub", src);
  ck_assert_int_eq(umount2(path, MNT_DETACH), 0);
  ck_assert_int_eq(umount2(src, MNT_DETACH), 0);
  drop(src);
}

/* Prints "<mount point> <per-mount options>" for each given mount point
 * and whether a file can be made in it. */
#define SHOW_MOUNTS                                                                                          \
  "for m in $MOUNTS; do "                                                                                    \
  "o=$(awk -v m=$m '$5 == m {o = $6} END {print o}' /proc/self/mountinfo); "                                 \
  "if touch $m/w 2>/dev/null; then w=writable; else w=readonly; fi; echo $m $o $w; done"

START_TEST(bind_volume_submounts_get_nodev_and_rro) {
  char *src = source_with_submount();
  container_mount mounts[] = {
      {.source = src, .destination = "/rw"},
      {.source = src, .destination = "/ro", .readonly = true},
      {.source = src, .destination = "/rro", .readonly = true, .rro = CONTAINER_RRO_ENABLED},
      {.source = src, .destination = "/rrop", .readonly = true, .rro = CONTAINER_RRO_IF_POSSIBLE},
  };
  container_config cfg;
  ctrtest_config_sh(&cfg, "submounts",
                    "MOUNTS='/rw /rw/sub /ro /ro/sub /rro /rro/sub /rrop/sub'; " SHOW_MOUNTS);
  cfg.mounts = mounts;
  cfg.n_mounts = sizeof mounts / sizeof mounts[0];
  char out[1024];
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  /* The source's own nosuid and noexec stay (nothing clears them), nodev
   * reaches the submount, and only recursiveReadOnly makes it read-only. */
  ck_assert_str_eq(out, "/rw rw,nosuid,nodev,noexec,relatime writable\n"
                        "/rw/sub rw,nodev,relatime writable\n"
                        "/ro ro,nosuid,nodev,noexec,relatime readonly\n"
                        "/ro/sub rw,nodev,relatime writable\n"
                        "/rro ro,nosuid,nodev,noexec,relatime readonly\n"
                        "/rro/sub ro,nodev,relatime readonly\n"
                        "/rrop/sub ro,nodev,relatime readonly\n");

  /* A privileged container keeps the devices of its volumes, as in
   * Kubernetes. */
  ctrtest_config_sh(&cfg, "submounts-priv", "MOUNTS='/rw/sub'; " SHOW_MOUNTS);
  cfg.mounts = mounts;
  cfg.n_mounts = 1;
  cfg.privileged = true;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "/rw/sub rw,relatime writable\n");
  drop_source(src);
}
END_TEST

int main(void) {
  TCase *tc;
  Suite *s = ctrtest_suite("container_mounts", "mounts", &tc);
  tcase_add_test(tc, image_without_proc_dev_sys);
  tcase_add_test(tc, nested_volume_through_planted_link);
  tcase_add_test(tc, refused_targets_name_the_volume);
  tcase_add_test(tc, bind_volume_submounts_get_nodev_and_rro);
  return testutil_run(s);
}
