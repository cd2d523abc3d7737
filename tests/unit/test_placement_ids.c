/* Unit tests of supervisor/shim/placement_ids.c: the supplementary groups
 * of a container (both supplementalGroupsPolicy values, the image's
 * /etc/group read inside the image only) and fsGroup volume ownership (the
 * walk, symbolic links untouched, OnRootMismatch). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/spec.h"
#include "supervisor/shim/placement_ids.h"
#include "tests/testutil.h"

static void put(const char *dir, const char *rel, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static spec_pod *pod(const char *sc) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: %s\n"
           "  containers: [{name: a, image: busybox}]\n",
           sc);
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  ck_assert_int_eq(spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &l, &d), 0);
  diag_list_free(&d);
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  return p;
}

static void groups_are(const char *rootfs, const char *sc, uid_t uid, gid_t gid, const char *want) {
  spec_pod *p = pod(sc);
  gid_t *g = NULL;
  size_t n = 0;
  pv_err err;
  ck_assert_msg(placement_groups(rootfs, p, uid, gid, &g, &n, &err) == 0, "%s", pv_err_str(&err));
  char got[256] = "";
  for (size_t i = 0; i < n; i++)
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%u", i ? " " : "", (unsigned)g[i]);
  ck_assert_msg(strcmp(got, want) == 0, "%s as %u:%u: groups '%s', want '%s'", sc, (unsigned)uid, (unsigned)gid,
                got, want);
  free(g);
  spec_pod_free(p);
}

START_TEST(groups_by_policy) {
  char *root = testutil_tmpdir("pv-ids");
  char etc[4096];
  snprintf(etc, sizeof etc, "%s/etc", root);
  ck_assert_int_eq(mkdir(etc, 0755), 0);
  put(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
                          "broken line\nodd:x:notanumber:1\n");
  put(root, "etc/group", "root:x:0:\nwheel:x:10:root,app\naudio:x:29:app\nother:x:50:someone\napp:x:1000:\n"
                         "bad:x:-1:app\n");
  /* Merge (default): the primary gid, fsGroup, supplementalGroups, then
   * the user's groups of the image, without duplicates. */
  groups_are(root, "{}", 0, 0, "0 10");
  groups_are(root, "{}", 1000, 1000, "1000 10 29");
  groups_are(root, "{fsGroup: 2000, supplementalGroups: [3000, 29, 2000]}", 1000, 1000, "1000 2000 3000 29 10");
  /* Strict: only runAsGroup, fsGroup and supplementalGroups. */
  groups_are(root, "{fsGroup: 2000, supplementalGroups: [3000], supplementalGroupsPolicy: Strict}", 1000, 1000,
             "1000 2000 3000");
  groups_are(root, "{supplementalGroupsPolicy: Strict}", 0, 0, "0");
  /* A uid the image does not name has no image groups. */
  groups_are(root, "{supplementalGroups: [7]}", 4242, 4242, "4242 7");
  /* /etc/group a symbolic link out of the image: resolved inside it. */
  char path[4096];
  snprintf(path, sizeof path, "%s/etc/group", root);
  unlink(path);
  ck_assert_int_eq(symlink("/../../../../etc/group.image", path), 0);
  put(root, "etc/group.image", "inside:x:77:app\n");
  groups_are(root, "{}", 1000, 1000, "1000 77");
  /* No /etc/group, no /etc/passwd: just the ids given. */
  unlink(path);
  snprintf(path, sizeof path, "%s/etc/passwd", root);
  unlink(path);
  groups_are(root, "{fsGroup: 5}", 1000, 1000, "1000 5");
  testutil_rmtree(root);
  free(root);
}
END_TEST

static struct stat st_of(const char *dir, const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  struct stat st;
  ck_assert_msg(lstat(path, &st) == 0, "lstat %s", path);
  return st;
}

START_TEST(volume_ownership) {
  if (geteuid() != 0)
    return; /* giving files to another group takes CAP_CHOWN */
  char *root = testutil_tmpdir("pv-own");
  char vol[2048], outside[2048], p[4096];
  snprintf(vol, sizeof vol, "%s/vol", root);
  snprintf(outside, sizeof outside, "%s/outside", root);
  ck_assert_int_eq(mkdir(vol, 0777), 0);
  ck_assert_int_eq(chmod(vol, 0777), 0);
  put(root, "outside", "host file\n");
  ck_assert_int_eq(chmod(outside, 0600), 0);
  snprintf(p, sizeof p, "%s/a", vol);
  ck_assert_int_eq(mkdir(p, 0700), 0);
  snprintf(p, sizeof p, "%s/a/b", vol);
  ck_assert_int_eq(mkdir(p, 0700), 0);
  put(vol, "a/b/f", "x");
  snprintf(p, sizeof p, "%s/a/b/f", vol);
  ck_assert_int_eq(chmod(p, 0600), 0);
  snprintf(p, sizeof p, "%s/link", vol);
  ck_assert_int_eq(symlink(outside, p), 0);
  pv_err err;
  ck_assert_msg(placement_volume_ownership(vol, "data", 4321, SPEC_FS_GROUP_ALWAYS, &err) == 0, "%s",
                pv_err_str(&err));
  struct stat st = st_of(root, "vol");
  ck_assert_uint_eq(st.st_gid, 4321);
  ck_assert_uint_eq(st.st_mode & 07777, 02777);
  st = st_of(vol, "a");
  ck_assert_uint_eq(st.st_gid, 4321);
  ck_assert_uint_eq(st.st_mode & 07777, 02770);
  st = st_of(vol, "a/b");
  ck_assert_uint_eq(st.st_mode & 07777, 02770);
  st = st_of(vol, "a/b/f");
  ck_assert_uint_eq(st.st_gid, 4321);
  ck_assert_uint_eq(st.st_mode & 07777, 0660);
  st = st_of(vol, "link");
  ck_assert_uint_eq(st.st_gid, 4321); /* the link itself */
  st = st_of(root, "outside");
  ck_assert_uint_eq(st.st_gid, 0); /* never what it points to */
  ck_assert_uint_eq(st.st_mode & 07777, 0600);
  /* OnRootMismatch: the root is right, so nothing below is looked at. */
  snprintf(p, sizeof p, "%s/a/b/f", vol);
  ck_assert_int_eq(chown(p, 0, 0), 0);
  ck_assert_int_eq(placement_volume_ownership(vol, "data", 4321, SPEC_FS_GROUP_ON_ROOT_MISMATCH, &err), 0);
  ck_assert_uint_eq(st_of(vol, "a/b/f").st_gid, 0);
  /* ... and a root with another group is walked again. */
  ck_assert_int_eq(placement_volume_ownership(vol, "data", 999, SPEC_FS_GROUP_ON_ROOT_MISMATCH, &err), 0);
  ck_assert_uint_eq(st_of(vol, "a/b/f").st_gid, 999);
  /* Always walks whatever the root says. */
  ck_assert_int_eq(chown(p, 0, 0), 0);
  ck_assert_int_eq(placement_volume_ownership(vol, "data", 999, SPEC_FS_GROUP_ALWAYS, &err), 0);
  ck_assert_uint_eq(st_of(vol, "a/b/f").st_gid, 999);
  testutil_rmtree(root);
  free(root);
}
END_TEST

static Suite *placement_ids_suite(void) {
  Suite *s = suite_create("placement_ids");
  TCase *t = tcase_create("ids");
  tcase_add_test(t, groups_by_policy);
  tcase_add_test(t, volume_ownership);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return testutil_run(placement_ids_suite()); }
