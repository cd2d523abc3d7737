/*
 * test_container_devices.c - the device allow-list of a container (root,
 * real kernel: the v1 devices cgroup or the v2 BPF device program,
 * whichever the host has).
 *
 * The block device is a loop device the test attaches to a small file
 * (LOOP_CTL_GET_FREE + LOOP_SET_FD), so a read that gets through shows the
 * file's text; a host without loop devices (the VM guests) lends its first
 * block device instead, which is only ever read.  A container may make a
 * node of it (CAP_MKNOD, "b *:* m") but not open it, wherever the node
 * lies:
 *   - on a submount of a bind volume that is not nodev, the probe's case
 *     (hostPath: / and its /dev/shm): refused;
 *   - on a tmpfs the container mounts itself without nodev (CAP_SYS_ADMIN
 *     added), where no mount flag can stand in for the cgroup: EPERM;
 * while /dev/null and the other standard nodes work, and a privileged
 * container opens the device.  The rules stay over a restart and are put
 * in place again on a cgroup directory another container left.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tests/integration/ctrtest.h"

#define CONTENT "podvisor-devices"

static char *dir;        /* the test's scratch directory */
static int loop_fd = -1; /* the attached loop device, or -1 */
static unsigned dev_major, dev_minor;
static bool known_content; /* the device starts with CONTENT */

/* Attaches <dir>/disk to a free loop device; false when there is none. */
static bool attach_loop(void) {
  char file[512], dev[64];
  snprintf(file, sizeof file, "%s/disk", dir);
  int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  char block[4096] = CONTENT;
  ck_assert_int_eq(write(fd, block, sizeof block), (ssize_t)sizeof block);
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  int n = ctl >= 0 ? ioctl(ctl, LOOP_CTL_GET_FREE) : -1;
  if (ctl >= 0)
    close(ctl);
  snprintf(dev, sizeof dev, "/dev/loop%d", n);
  loop_fd = n >= 0 ? open(dev, O_RDWR | O_CLOEXEC) : -1;
  if (loop_fd >= 0 && ioctl(loop_fd, LOOP_SET_FD, fd) < 0) {
    close(loop_fd);
    loop_fd = -1;
  }
  close(fd);
  struct stat st;
  if (loop_fd < 0 || fstat(loop_fd, &st) < 0)
    return false;
  dev_major = major(st.st_rdev);
  dev_minor = minor(st.st_rdev);
  known_content = true;
  return true;
}

/* The first block device of /sys/block with a size, for a host without
 * loop devices. */
static void borrow_block_device(void) {
  static const char *const names[] = {"vda", "vdb", "sda", "nvme0n1", "xvda"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[128], buf[64];
    snprintf(path, sizeof path, "/sys/block/%s/dev", names[i]);
    FILE *f = fopen(path, "re");
    if (f == NULL)
      continue;
    bool ok = fgets(buf, sizeof buf, f) != NULL && sscanf(buf, "%u:%u", &dev_major, &dev_minor) == 2;
    fclose(f);
    if (ok)
      return;
  }
  ck_abort_msg("no loop device and no block device in /sys/block to make a node of");
}

static void setup(void) {
  dir = testutil_tmpdir("pv-devices");
  ck_assert_ptr_nonnull(dir);
  if (!attach_loop())
    borrow_block_device();
}

static void teardown(void) {
  char sub[512];
  snprintf(sub, sizeof sub, "%s/host/sub", dir);
  umount2(sub, MNT_DETACH);
  if (loop_fd >= 0) {
    ioctl(loop_fd, LOOP_CLR_FD, 0);
    close(loop_fd);
    loop_fd = -1;
  }
  testutil_rmtree(dir);
  free(dir);
}

/* The script's common part: make the node at PATH, try to read it, and
 * say how it went ("mknod=0", "read=0" and the device's first bytes, or
 * "read=1" and the error). */
static void probe_script(char *buf, size_t size, const char *prefix, const char *path) {
  snprintf(buf, size,
           "%s mknod %s b %u %u; echo mknod=$?; "
           "head -c 16 %s 2>/tmp/e; r=$?; echo; echo read=$r; cat /tmp/e",
           prefix, path, dev_major, dev_minor, path);
}

/* The probe's case: a bind volume whose source has a submount that is not
 * nodev, as hostPath: / has /dev/shm. */
START_TEST(device_refused_through_a_volume_submount) {
  char host[512], sub[512];
  snprintf(host, sizeof host, "%s/host", dir);
  snprintf(sub, sizeof sub, "%s/host/sub", dir);
  ck_assert_int_eq(mkdir(host, 0755), 0);
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  ck_assert_msg(mount("pv-dev", sub, "tmpfs", 0, "mode=755,size=1m") == 0, "mount %s: %s", sub,
                strerror(errno));
  container_config cfg;
  char script[512], out[1024];
  probe_script(script, sizeof script, "", "/hr/sub/x");
  ctrtest_config_sh(&cfg, "devvol", script);
  container_mount vol = {.source = host, .destination = "/hr"};
  cfg.mounts = &vol;
  cfg.n_mounts = 1;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_msg(strstr(out, "mknod=0\n") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "read=1\n") != NULL && strstr(out, CONTENT) == NULL, "read through: %s", out);
  /* EPERM from the device rules, or EACCES from a nodev on the submount. */
  ck_assert_msg(strstr(out, "Operation not permitted") != NULL || strstr(out, "Permission denied") != NULL,
                "%s", out);
}
END_TEST

/* A tmpfs the container mounts itself has no nodev: only the device rules
 * stand between the node and the disk. */
START_TEST(allow_list_refuses_what_it_does_not_name) {
  container_config cfg;
  char script[1024], probe[512], out[2048];
  probe_script(probe, sizeof probe, "mkdir -p /t && mount -t tmpfs -o mode=755 t /t &&", "/t/x");
  snprintf(script, sizeof script,
           "%s; "
           /* a char device off the list: /dev/mem */
           "mknod /t/mem c 1 1 && head -c 1 /t/mem >/dev/null 2>/tmp/e; echo mem=$?; cat /tmp/e; "
           /* the standard nodes still work */
           "echo x >/dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && "
           "head -c 4 /dev/random | wc -c && head -c 4 /dev/full | wc -c && "
           /* and so does a node of them the container makes itself */
           "mknod /t/null c 1 3 && echo y >/t/null && echo own-null=ok",
           probe);
  ctrtest_config_sh(&cfg, "devlist", script);
  cfg.cap_add = 1ULL << CAP_SYS_ADMIN;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_msg(strstr(out, "mknod=0\n") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "read=1\n") != NULL && strstr(out, CONTENT) == NULL, "read through: %s", out);
  /* Not the nodev EACCES: the device rules' EPERM, for both nodes. */
  const char *x = strstr(out, "read=1\n"), *mem = strstr(out, "mem=1\n");
  ck_assert_msg(x != NULL && strncmp(x + 7, "head: ", 6) == 0 && strstr(x, "Operation not permitted") != NULL,
                "%s", out);
  ck_assert_msg(mem != NULL && strstr(mem, "Operation not permitted") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "4\n4\n4\n4\nown-null=ok") != NULL, "%s", out);
}
END_TEST

/* Privileged: every device, as in Kubernetes. */
START_TEST(privileged_opens_every_device) {
  container_config cfg;
  char script[512], out[1024];
  probe_script(script, sizeof script, "mkdir -p /t && mount -t tmpfs -o mode=755 t /t &&", "/t/x");
  ctrtest_config_sh(&cfg, "devpriv", script);
  cfg.privileged = true;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_msg(strstr(out, "mknod=0\n") != NULL && strstr(out, "read=0\n") != NULL, "%s", out);
  if (known_content)
    ck_assert_msg(strstr(out, CONTENT) != NULL, "%s", out);
}
END_TEST

/* Starts c with a new stdout pipe, reads it to EOF and waits. */
static void run_again(container *c, char *out, size_t len) {
  pv_err err;
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  ck_assert_msg(container_manager_set_stdio(ctrtest_mgr, c, -1, p[1], -1, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  ctrtest_read_all(p[0], out, len);
  close(p[0]);
  container_exit ex;
  ck_assert_msg(container_manager_wait(ctrtest_mgr, c, &ex, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(ex.exit_code, 0);
}

static bool refused(const char *out) {
  return strstr(out, "mknod=0\n") != NULL && strstr(out, "read=1\n") != NULL &&
         strstr(out, "Operation not permitted") != NULL;
}

/* The rules live with the cgroup: a restart (STOPPED → RUNNING, the same
 * cgroup) keeps them, and a container created on a cgroup directory left
 * by another gets its own policy, never the leftover's (the devices
 * directory of a privileged container on v1, no program on v2; and the
 * other way round). */
START_TEST(rules_kept_on_restart_and_renewed_on_adoption) {
  container_config cfg;
  char probe[512], out[1024], cgpath[256];
  pv_err err;
  probe_script(probe, sizeof probe, "mkdir -p /t && mount -t tmpfs -o mode=755 t /t &&", "/t/x");
  ctrtest_config_sh(&cfg, "devagain", probe);
  cfg.cap_add = 1ULL << CAP_SYS_ADMIN;
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  run_again(c, out, sizeof out);
  ck_assert_msg(refused(out), "first run: %s", out);
  run_again(c, out, sizeof out);
  ck_assert_msg(refused(out), "restart: %s", out);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));

  /* A privileged container's cgroup left behind, adopted by a normal one. */
  resource_manager *rm = container_manager_resources(ctrtest_mgr);
  snprintf(cgpath, sizeof cgpath, "%s/t%d-adopt", resource_manager_parent(rm), (int)getpid());
  resource_limits l;
  resource_limits_init(&l);
  l.devices = RESOURCE_DEVICES_ALL;
  cgroup_handle *cg;
  ck_assert_msg(resource_manager_create_cgroup(rm, cgpath, &l, &cg, &err) == 0, "%s", pv_err_str(&err));
  resource_manager_close_cgroup(cg);
  ctrtest_config_sh(&cfg, "devadopt", probe);
  cfg.cap_add = 1ULL << CAP_SYS_ADMIN;
  cfg.cgroup_path = cgpath;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  run_again(c, out, sizeof out);
  ck_assert_msg(refused(out), "adopted from a privileged one: %s", out);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));

  /* And a normal container's, adopted by a privileged one. */
  l.devices = RESOURCE_DEVICES_DEFAULT;
  ck_assert_msg(resource_manager_create_cgroup(rm, cgpath, &l, &cg, &err) == 0, "%s", pv_err_str(&err));
  resource_manager_close_cgroup(cg);
  ctrtest_config_sh(&cfg, "devadopt2", probe);
  cfg.privileged = true;
  cfg.cgroup_path = cgpath;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  run_again(c, out, sizeof out);
  ck_assert_msg(strstr(out, "read=0\n") != NULL, "adopted from a normal one: %s", out);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
}
END_TEST

int main(void) {
  TCase *tc;
  Suite *s = ctrtest_suite("container_devices", "devices", &tc);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, device_refused_through_a_volume_submount);
  tcase_add_test(tc, allow_list_refuses_what_it_does_not_name);
  tcase_add_test(tc, privileged_opens_every_device);
  tcase_add_test(tc, rules_kept_on_restart_and_renewed_on_adoption);
  return testutil_run(s);
}
