/*
 * test_container_security.c - what a container may see and do (root):
 * default capabilities, no_new_privs, masked and read-only /proc paths,
 * a shared network namespace, volumes that cannot escape the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/caps.h"
#include "supervisor/core/container.h"
#include "supervisor/core/util.h"
#include "tests/integration/ctrtest.h"

static pv_err err;

static uint64_t own_bounding(void) {
  char *buf;
  ck_assert_int_eq(pv_read_file("/proc/self/status", &buf, NULL, NULL), 0);
  char *p = strstr(buf, "CapBnd:");
  ck_assert_ptr_nonnull(p);
  uint64_t v = strtoull(p + 7, NULL, 16);
  free(buf);
  return v;
}

START_TEST(default_capabilities_and_no_new_privs) {
  container_config cfg;
  ctrtest_config_sh(&cfg, "caps",
                    "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/1/status");
  char out[1024], expect[1024];
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  uint64_t set = caps_default_set() & own_bounding();
  snprintf(expect, sizeof expect,
           "CapInh:\t%016llx\nCapPrm:\t%016llx\nCapEff:\t%016llx\nCapBnd:\t%016llx\nCapAmb:\t%016llx\n"
           "NoNewPrivs:\t1\n",
           (unsigned long long)set, (unsigned long long)set, (unsigned long long)set, (unsigned long long)set,
           0ULL);
  ck_assert_str_eq(out, expect);

  /* cap_add / cap_drop, and a cap the host lacks (SYS_RESOURCE here) is
   * silently left out instead of failing the start. */
  uint64_t add, drop, res;
  ck_assert_int_eq(caps_parse("NET_ADMIN", &add, NULL), 0);
  ck_assert_int_eq(caps_parse("cap_kill", &drop, NULL), 0);
  ck_assert_int_eq(caps_parse("sys_resource", &res, NULL), 0);
  ck_assert_int_eq(caps_parse("NOT_A_CAP", &res, &err), -1);
  ck_assert_int_eq(caps_parse("sys_resource", &res, NULL), 0);
  ctrtest_config_sh(&cfg, "caps2", "grep -E '^(CapEff|CapBnd)' /proc/1/status");
  cfg.cap_add = add | res;
  cfg.cap_drop = drop;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  set = ((caps_default_set() | add | res) & ~drop) & own_bounding();
  snprintf(expect, sizeof expect, "CapEff:\t%016llx\nCapBnd:\t%016llx\n", (unsigned long long)set,
           (unsigned long long)set);
  ck_assert_str_eq(out, expect);

  /* A non-root user keeps nothing effective (ambient stays empty). */
  ctrtest_config_sh(&cfg, "caps3", "id -u; id -g; grep -E '^(CapEff|CapAmb)' /proc/1/status");
  cfg.uid = 65534;
  cfg.gid = 65534;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "65534\n65534\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000\n");
}
END_TEST

START_TEST(proc_masked_and_readonly) {
  container_config cfg;
  ctrtest_config_sh(
      &cfg, "procmask",
      /* Every masked path reads empty: keys and timer_list are on every
       * kernel; kcore and sched_debug only on some (say so only if they
       * show anything); acpi is a directory. */
      "for f in /proc/keys /proc/timer_list; do echo $f $(cat $f | wc -c); done; "
      "for f in /proc/kcore /proc/sched_debug; do "
      "  [ -e $f ] && [ $(cat $f | wc -c) != 0 ] && echo $f unmasked; done; "
      "find /proc/acpi /sys/firmware -mindepth 1 | wc -l; "
      "awk '$5 == \"/proc/sys\" || $5 == \"/proc/irq\" {print $5, substr($6, 1, 2)}' /proc/self/mountinfo; "
      "(echo x >/proc/sys/kernel/hostname) 2>/dev/null && echo sys-writable || echo sys-readonly; "
      "(echo x >/sys/kernel/uevent_helper) 2>/dev/null && echo sysfs-writable || echo sysfs-readonly; "
      "(mknod /dev/sdz b 8 0 && head -c1 /dev/sdz) >/dev/null 2>&1 && echo dev-open || echo dev-closed; "
      "echo hi >/dev/null && head -c 4 /dev/zero | wc -c; ls -l /dev/ptmx | grep -c 'pts/ptmx'; "
      "awk '$5 == \"/dev/pts\" || $5 == \"/dev/shm\" || $5 == \"/dev/mqueue\" {print $5}' "
      "/proc/self/mountinfo");
  char out[1024];
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out,
                   "/proc/keys 0\n/proc/timer_list 0\n0\n/proc/irq ro\n/proc/sys "
                   "ro\nsys-readonly\nsysfs-readonly\ndev-closed\n4\n1\n/dev/pts\n/dev/shm\n/dev/mqueue\n");

  /* Privileged: nothing masked, /sys writable (checked on a harmless mount flag). */
  ctrtest_config_sh(
      &cfg, "privileged",
      "[ $(cat /proc/timer_list | wc -l) -gt 0 ] && echo unmasked; awk '$5 == \"/sys\" {print $6}' "
      "/proc/self/mountinfo | cut -c1-2");
  cfg.privileged = true;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "unmasked\nrw\n");

  /* procMount: Unmasked: no masked or read-only /proc paths, but /sys stays
   * read-only and the capabilities are the default ones. */
  ctrtest_config_sh(
      &cfg, "unmasked",
      "[ $(cat /proc/timer_list | wc -l) -gt 0 ] && echo unmasked; "
      "awk '$5 ~ /^\\/proc\\// {n++} END {print n + 0}' /proc/self/mountinfo; "
      "awk '$5 == \"/sys\" {print $6}' /proc/self/mountinfo | cut -c1-2");
  cfg.unmasked_proc = true;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "unmasked\n0\nro\n");
}
END_TEST

START_TEST(shared_network_namespace) {
  container_config cfg;
  ctrtest_config_sh(&cfg, "netowner", "echo up; exec sleep 30");
  int rd;
  container *a = ctrtest_start(&cfg, &rd);
  char buf[16];
  ck_assert_int_gt(read(rd, buf, sizeof buf), 0);
  close(rd);
  char path[64], ns_a[64], ns_host[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)container_pid(a));
  ssize_t n = readlink(path, ns_a, sizeof ns_a - 1);
  ck_assert_int_gt(n, 0);
  ns_a[n] = '\0';
  n = readlink("/proc/self/ns/net", ns_host, sizeof ns_host - 1);
  ck_assert_int_gt(n, 0);
  ns_host[n] = '\0';
  ck_assert_str_ne(ns_a, ns_host);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ctrtest_config_sh(&cfg, "netjoiner", "readlink /proc/self/ns/net; ip -o link | cut -d: -f2 | tr -d ' '");
  cfg.join.net = fd;
  char out[512], expect[512];
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  close(fd);
  snprintf(expect, sizeof expect, "%s\nlo\n", ns_a);
  ck_assert_str_eq(out, expect);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, a, &err), 0);
}
END_TEST

/* A pod's generated /etc/hosts and /etc/hostname, bound read-only. */
START_TEST(etc_hosts_and_hostname) {
  char *dir = testutil_tmpdir("pv-etc");
  ck_assert_ptr_nonnull(dir);
  ck_assert_int_eq(container_etc_files_write(dir, "bad name", &err), -1);
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_msg(container_etc_files_write(dir, "web-0", &err) == 0, "%s", pv_err_str(&err));
  char hosts[PATH_MAX], hostname[PATH_MAX], out[4096];
  snprintf(hosts, sizeof hosts, "%s/hosts", dir);
  snprintf(hostname, sizeof hostname, "%s/hostname", dir);
  container_config cfg;
  ctrtest_config_sh(&cfg, "etc",
                    "grep -c localhost /etc/hosts; grep '^127.0.1.1' /etc/hosts; cat /etc/hostname; "
                    "(echo x >>/etc/hosts) 2>/dev/null || echo ro");
  cfg.etc_hosts_path = hosts;
  cfg.etc_hostname_path = hostname;
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "2\n127.0.1.1\tweb-0\nweb-0\nro\n");
  /* Without the fields the image's own file shows. */
  ctrtest_config_sh(&cfg, "etc2", "grep -c web-0 /etc/hosts; test -e /etc/hostname || echo none");
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "0\nnone\n");
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

START_TEST(volumes_and_readonly_root) {
  char *vol = testutil_tmpdir("pv-vol");
  ck_assert_ptr_nonnull(vol);
  char file[PATH_MAX];
  snprintf(file, sizeof file, "%s/hello", vol);
  ck_assert_int_eq(pv_write_file_atomic(file, "hi\n", 3, 0644, NULL), 0);
  /* An image whose /etc/evil points far out of the root. */
  char *img = testutil_tmpdir("pv-img");
  char cmd[3 * PATH_MAX], escape[64], link[PATH_MAX];
  snprintf(cmd, sizeof cmd, "cp -a %s/. %s", ctrtest_rootfs, img);
  ck_assert_int_eq(system(cmd), 0);
  snprintf(escape, sizeof escape, "/tmp/pv-escape-%d", (int)getpid());
  snprintf(link, sizeof link, "%s/etc/evil", img);
  char target[PATH_MAX];
  snprintf(target, sizeof target, "../../../../../..%s", escape);
  ck_assert_int_eq(symlink(target, link), 0);

  container_mount mounts[] = {
      {.source = vol, .destination = "/data/ro", .readonly = true},
      {.source = vol, .destination = "/data/rw"},
      {.destination = "/scratch", .tmpfs = true, .tmpfs_size = 1 << 20},
      {.source = file, .destination = "/etc/evil/hello"},
      {.source = file, .destination = "/dev/termination-log"},
  };
  container_config cfg;
  ctrtest_config_sh(&cfg, "volumes",
                    "cat /data/ro/hello; (echo x >/data/ro/new) 2>/dev/null && echo ro-broken || echo ro-ok; "
                    "echo w >/data/rw/written && echo rw-ok; echo t >/scratch/t && echo tmpfs-ok; "
                    "cat /etc/evil/hello; cat /dev/termination-log; "
                    "(touch /newfile) 2>/dev/null && echo root-writable || echo root-readonly; "
                    "(echo t >/tmp/x) 2>/dev/null || echo tmp-readonly");
  cfg.rootfs = img;
  cfg.mounts = mounts;
  cfg.n_mounts = sizeof mounts / sizeof mounts[0];
  cfg.readonly_rootfs = true;
  char out[1024];
  ck_assert_int_eq(ctrtest_run_capture(&cfg, out, sizeof out, NULL), 0);
  ck_assert_str_eq(out, "hi\nro-ok\nrw-ok\ntmpfs-ok\nhi\nhi\nroot-readonly\ntmp-readonly\n");
  snprintf(file, sizeof file, "%s/written", vol);
  ck_assert_int_eq(access(file, F_OK), 0);
  /* The symlink was resolved inside the image: nothing appeared on the host. */
  ck_assert_int_eq(access(escape, F_OK), -1);

  /* Destinations in /proc are refused at create, naming the volume. */
  container_mount bad = {.source = vol, .destination = "/proc/x"};
  ctrtest_config_sh(&cfg, "badvol", "true");
  cfg.mounts = &bad;
  cfg.n_mounts = 1;
  container *c;
  ck_assert_int_eq(container_manager_create(ctrtest_mgr, &cfg, &c, &err), -1);
  ck_assert_msg(strstr(err.msg, "/proc/x") != NULL, "%s", err.msg);
  testutil_rmtree(vol);
  testutil_rmtree(img);
  free(vol);
  free(img);
}
END_TEST

int main(void) {
  TCase *tc;
  Suite *s = ctrtest_suite("container_security", "security", &tc);
  tcase_add_test(tc, default_capabilities_and_no_new_privs);
  tcase_add_test(tc, proc_masked_and_readonly);
  tcase_add_test(tc, shared_network_namespace);
  tcase_add_test(tc, volumes_and_readonly_root);
  tcase_add_test(tc, etc_hosts_and_hostname);
  return testutil_run(s);
}
