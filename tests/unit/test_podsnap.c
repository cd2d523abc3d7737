/* Unit tests for supervisor/proto/podsnap.c: the run directory's lock, the
 * choice of the instance uid, and the snapshot written and read back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/proto/podsnap.h"
#include "tests/testutil.h"

static char *dir;
static char root[512], run_root[512];

static void setup(void) {
  dir = testutil_tmpdir("pv-podsnap");
  snprintf(root, sizeof root, "%s/root", dir);
  snprintf(run_root, sizeof run_root, "%s/run", dir);
}

static void teardown(void) {
  testutil_rmtree(dir);
  free(dir);
}

static spec_pod *parse(const char *yaml) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  ck_assert_int_eq(spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &l, &d), 0);
  ck_assert_int_eq(l.n, 1);
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  diag_list_free(&d);
  return p;
}

#define POD(meta, cmd)                                                                                       \
  "apiVersion: v1\nkind: Pod\nmetadata: " meta "\nspec:\n  containers:\n  - name: c\n    image: busybox\n"   \
  "    command: [\"" cmd "\"]\n"

START_TEST(lock_is_exclusive_and_names_the_keeper) {
  spec_pod *p = parse(POD("{name: web}", "true"));
  podpaths pp;
  pv_err err;
  ck_assert_int_eq(podpaths_for_pod(&pp, root, run_root, p, &err), 0);
  int a, b;
  ck_assert_msg(podsnap_lock(&pp, "default/web", &a, &err) == 0, "%s", err.msg);
  struct stat st;
  ck_assert_int_eq(stat(pp.run_dir, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0700);
  ck_assert_int_eq(podsnap_lock(&pp, "default/web", &b, &err), -1);
  ck_assert_int_eq(err.code, EWOULDBLOCK);
  ck_assert_int_eq(b, -1);
  ck_assert_str_eq(err.msg, "pod default/web is already kept by another shim");
  ck_assert_int_eq(pv_write_file_atomic(pp.pid_file, "4242\n", 5, 0644, &err), 0);
  ck_assert_int_eq(podsnap_lock_wait(&pp, "default/web", 120, &b, &err), -1);
  ck_assert_str_eq(err.msg, "pod default/web is already kept by shim 4242");
  ck_assert_int_eq(podsnap_read_pid(&pp), 4242);
  /* A keeper that stopped unlinked its lock file: the next one locks the
   * new file, not the old inode. */
  ck_assert_int_eq(unlink(pp.lock), 0);
  ck_assert_int_eq(podsnap_lock(&pp, "default/web", &b, &err), 0);
  struct stat held, named;
  ck_assert_int_eq(fstat(b, &held), 0);
  ck_assert_int_eq(stat(pp.lock, &named), 0);
  ck_assert(held.st_ino == named.st_ino);
  close(a);
  close(b);
  ck_assert_int_eq(podsnap_lock(&pp, "default/web", &a, &err), 0);
  close(a);
  podpaths_free(&pp);
  spec_pod_free(p);
}
END_TEST

START_TEST(instance_uid_choice) {
  spec_pod *given = parse(POD("{name: web, uid: fixed-uid-1}", "true"));
  spec_pod *plain = parse(POD("{name: web}", "true"));
  podpaths pp;
  pv_err err;
  char uid[PODPATHS_UID_MAX + 1], again[PODPATHS_UID_MAX + 1];
  ck_assert_int_eq(podpaths_for_pod(&pp, root, run_root, plain, &err), 0);
  /* The manifest's uid wins, kept or not. */
  ck_assert_int_eq(podsnap_choose_uid(&pp, given, false, uid, &err), 0);
  ck_assert_str_eq(uid, "fixed-uid-1");
  /* No snapshot yet: a new uid even when asked to keep. */
  ck_assert_int_eq(podsnap_read_uid(&pp, uid), -1);
  ck_assert_int_eq(podsnap_choose_uid(&pp, plain, true, uid, &err), 0);
  ck_assert_int_eq(strlen(uid), PODPATHS_UUID_LEN);
  ck_assert_int_eq(pv_mkdir_p(pp.run_dir, 0700, &err), 0);
  ck_assert_msg(podsnap_write(&pp, plain, uid, &err) == 0, "%s", err.msg);
  /* keep: the snapshot's uid; a new instance: another one. */
  ck_assert_int_eq(podsnap_choose_uid(&pp, plain, true, again, &err), 0);
  ck_assert_str_eq(again, uid);
  ck_assert_int_eq(podsnap_choose_uid(&pp, plain, false, again, &err), 0);
  ck_assert_str_ne(again, uid);
  podpaths_free(&pp);
  spec_pod_free(given);
  spec_pod_free(plain);
}
END_TEST

START_TEST(snapshot_round_trip) {
  spec_pod *p = parse(POD("{name: web, namespace: shop}", "sleep"));
  podpaths pp;
  pv_err err;
  int fd;
  ck_assert_msg(podsnap_prepare(root, run_root, p, NULL, false, 0, &pp, &fd, &err) == 0, "%s", err.msg);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(strlen(pp.uid), PODPATHS_UUID_LEN);
  struct stat st;
  ck_assert_int_eq(stat(pp.snapshot, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  spec_pod *back;
  ck_assert_msg(podsnap_load(pp.snapshot, &back, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(back->uid, pp.uid);
  ck_assert_str_eq(back->name, "web");
  ck_assert_str_eq(back->ns, "shop");
  ck_assert_str_eq(back->hash, p->hash);
  ck_assert_str_eq(back->containers[0].hash, p->containers[0].hash);
  ck_assert_str_eq(back->containers[0].command.argv[0], "sleep");
  spec_pod_free(back);
  /* Held: a second launcher waits, then names the keeper. */
  podpaths pp2;
  int fd2;
  ck_assert_int_eq(podsnap_prepare(root, run_root, p, NULL, false, 0, &pp2, &fd2, &err), -1);
  ck_assert_int_eq(err.code, EWOULDBLOCK);
  ck_assert_int_eq(fd2, -1);
  close(fd);
  /* Again from the run directory alone: the same instance. */
  ck_assert_msg(podsnap_prepare(root, run_root, NULL, pp.key, false, 0, &pp2, &fd2, &err) == 0, "%s",
                err.msg);
  ck_assert_str_eq(pp2.uid, pp.uid);
  ck_assert_str_eq(pp2.log_dir, pp.log_dir);
  close(fd2);
  podpaths_free(&pp2);
  /* A launch given up leaves nothing: snapshot, lock and directory go. */
  podpaths gone;
  int gfd;
  spec_pod *q = parse(POD("{name: gone}", "true"));
  ck_assert_int_eq(podsnap_prepare(root, run_root, q, NULL, false, 0, &gone, &gfd, &err), 0);
  ck_assert_int_eq(access(gone.snapshot, F_OK), 0);
  podsnap_abandon(&gone, gfd);
  ck_assert_int_ne(access(gone.run_dir, F_OK), 0);
  podpaths_free(&gone);
  spec_pod_free(q);
  /* A snapshot of another pod in this run directory is refused. */
  spec_pod *other = parse(POD("{name: other}", "true"));
  ck_assert_int_eq(podsnap_write(&pp, other, "u2", &err), 0);
  ck_assert_int_eq(podsnap_prepare(root, run_root, NULL, pp.key, false, 0, &pp2, &fd2, &err), -1);
  ck_assert_msg(strstr(err.msg, "does not belong here") != NULL, "%s", err.msg);
  /* Not JSON of one valid pod with a uid: refused with the reason. */
  ck_assert_int_eq(pv_write_file_atomic(pp.snapshot, "{}", 2, 0600, &err), 0);
  ck_assert_int_eq(podsnap_load(pp.snapshot, &back, &err), -1);
  ck_assert_ptr_null(back);
  ck_assert_int_eq(podsnap_write(&pp, p, "", &err), -1);
  ck_assert_int_eq(podsnap_write(&pp, p, "x", &err), 0);
  const char *nouid = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"},\"spec\":{"
                      "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";
  ck_assert_int_eq(pv_write_file_atomic(pp.snapshot, nouid, strlen(nouid), 0600, &err), 0);
  ck_assert_int_eq(podsnap_load(pp.snapshot, &back, &err), -1);
  ck_assert_msg(strstr(err.msg, "uid") != NULL, "%s", err.msg);
  podpaths_free(&pp);
  spec_pod_free(other);
  spec_pod_free(p);
}
END_TEST

/* The cgroup record of the run directory: what it says, and what it
 * refuses to say (a missing, foreign or damaged record reads as none). */
START_TEST(cgroup_record) {
  spec_pod *p = parse(POD("{name: web}", "true"));
  podpaths pp;
  pv_err err;
  char uid[PODPATHS_UID_MAX + 1], parent[64];
  ck_assert_int_eq(podpaths_for_pod(&pp, root, run_root, p, &err), 0);
  ck_assert_int_eq(podsnap_read_cgroup(&pp, uid, parent, sizeof parent), -1);
  ck_assert_int_eq(pv_mkdir_p(pp.run_dir, 0700, &err), 0);
  ck_assert_msg(podsnap_write_cgroup(&pp, "u-1", "pv.test/podvisor", &err) == 0, "%s", err.msg);
  ck_assert_int_eq(podsnap_read_cgroup(&pp, uid, parent, sizeof parent), 0);
  ck_assert_str_eq(uid, "u-1");
  ck_assert_str_eq(parent, "pv.test/podvisor");
  ck_assert_int_eq(podsnap_read_cgroup(&pp, uid, parent, 8), -1); /* does not fit */
  static const char *bad[] = {"{\"uid\":\"u-1\",\"cgroupParent\":\"../x\"}",
                              "{\"uid\":\"U_1\",\"cgroupParent\":\"podvisor\"}", "{\"uid\":\"u-1\"}",
                              "not json"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(pv_write_file_atomic(pp.cgroup_file, bad[i], strlen(bad[i]), 0644, &err), 0);
    ck_assert_msg(podsnap_read_cgroup(&pp, uid, parent, sizeof parent) == -1, "%s", bad[i]);
  }
  podpaths_free(&pp);
  spec_pod_free(p);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("podsnap");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, lock_is_exclusive_and_names_the_keeper);
  tcase_add_test(tc, instance_uid_choice);
  tcase_add_test(tc, snapshot_round_trip);
  tcase_add_test(tc, cgroup_record);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
