/* Unit tests for supervisor/core/fs_target.c: mount targets resolved and
 * made inside a root (a temporary directory stands for the container's
 * new root), links followed only inside it, never out.  Runs as any user. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/fs_internal.h"
#include "tests/testutil.h"

static char *top;                              /* holds root/ and outside/ */
static char root[PATH_MAX], outside[PATH_MAX]; /* inside top, far shorter than PATH_MAX */
static int rootfd = -1;

static void setup(void) {
  top = testutil_tmpdir("pv-fs-target");
  ck_assert_ptr_nonnull(top);
  ck_assert_uint_lt(strlen(top), 1024);
  snprintf(root, sizeof root, "%.1024s/root", top);
  snprintf(outside, sizeof outside, "%.1024s/outside", top);
  ck_assert_int_eq(mkdir(root, 0755), 0);
  ck_assert_int_eq(mkdir(outside, 0755), 0);
  rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(rootfd, 0);
}

static void teardown(void) {
  close(rootfd);
  testutil_rmtree(top);
  free(top);
}

/* The kind of what is at root/rel (lstat), or 0 when nothing is. */
static mode_t kind_at(const char *base, const char *rel) {
  char path[2 * PATH_MAX];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", base, rel);
  return lstat(path, &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

static void link_at(const char *target, const char *rel) {
  char path[2 * PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  ck_assert_int_eq(symlink(target, path), 0);
}

/* Opens rel like fs_target_open and checks it is root/expect. */
static void assert_opens(const char *rel, int point, bool follow, const char *expect) {
  int fd = fs_target_open(rootfd, rel, point, follow);
  ck_assert_msg(fd >= 0, "%s: %s", rel, strerror(errno));
  struct stat a, b;
  char path[2 * PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", root, expect);
  ck_assert_int_eq(fstat(fd, &a), 0);
  ck_assert_msg(stat(path, &b) == 0, "%s: %s is missing", rel, path);
  ck_assert_msg(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "%s did not open %s", rel, path);
  close(fd);
}

static int open_errno(const char *rel, int point, bool follow) {
  int fd = fs_target_open(rootfd, rel, point, follow);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  return errno;
}

/* What is missing is made: directories, and a file as the last one. */
START_TEST(missing_points_are_made) {
  assert_opens("proc", POINT_DIR, false, "proc");
  ck_assert_uint_eq(kind_at(root, "proc"), S_IFDIR);
  assert_opens("a/b/c", POINT_DIR, true, "a/b/c");
  assert_opens("etc/hosts", POINT_FILE, true, "etc/hosts");
  ck_assert_uint_eq(kind_at(root, "etc"), S_IFDIR);
  ck_assert_uint_eq(kind_at(root, "etc/hosts"), S_IFREG);
  ck_assert_int_eq(open_errno("missing", POINT_NONE, true), ENOENT);
  ck_assert_uint_eq(kind_at(root, "missing"), 0);
  /* A file on the way is not a directory. */
  ck_assert_int_eq(open_errno("etc/hosts/x", POINT_DIR, true), ENOTDIR);
}
END_TEST

/* A volume's target follows links as if root were "/": an absolute link
 * (to the host path of a directory outside the root: inside, that path is
 * made anew), a relative one climbing past the top, a dangling one (its
 * target is made inside the root), a chain of them. */
START_TEST(links_are_followed_inside_the_root) {
  char path[PATH_MAX + 8];
  snprintf(path, sizeof path, "%s/data", root);
  ck_assert_int_eq(mkdir(path, 0755), 0);
  link_at(outside, "data/host");
  link_at("/elsewhere", "data/sub");
  link_at("../../../../../../../../up", "data/rel");
  link_at("sub", "data/chain");
  char in_root[PATH_MAX + 8];
  snprintf(in_root, sizeof in_root, "%s/x", outside + 1);
  assert_opens("data/host/x", POINT_DIR, true, in_root);
  assert_opens("data/sub", POINT_DIR, true, "elsewhere");
  assert_opens("data/rel/deeper", POINT_FILE, true, "up/deeper");
  ck_assert_uint_eq(kind_at(root, "up/deeper"), S_IFREG);
  assert_opens("data/chain/more", POINT_DIR, true, "elsewhere/more");
  /* Nothing was made outside. */
  ck_assert_uint_eq(kind_at(outside, "x"), 0);
  ck_assert_uint_eq(kind_at(top, "up"), 0);
  ck_assert_uint_eq(kind_at(top, "elsewhere"), 0);
}
END_TEST

/* The standard mounts' targets follow no link at all. */
START_TEST(standard_targets_follow_no_link) {
  link_at("/elsewhere", "proc");
  ck_assert_int_eq(open_errno("proc", POINT_DIR, false), ELOOP);
  ck_assert_uint_eq(kind_at(root, "elsewhere"), 0);
  link_at("/", "dev");
  ck_assert_int_eq(open_errno("dev/pts", POINT_DIR, false), ELOOP);
  const char *name;
  int fd = fs_target_parent(rootfd, "dev/pts", &name);
  ck_assert_int_eq(fd, -1);
  ck_assert_int_eq(errno, ELOOP);
  fd = fs_target_parent(rootfd, "sys", &name);
  ck_assert_int_ge(fd, 0);
  ck_assert_str_eq(name, "sys");
  close(fd);
}
END_TEST

/* Link loops end; a link to the root itself is refused for a volume. */
START_TEST(loops_and_the_root) {
  link_at("loop2", "loop1");
  link_at("loop1", "loop2");
  ck_assert_int_eq(open_errno("loop1/x", POINT_DIR, true), ELOOP);
  link_at("/", "toroot");
  link_at("..", "dotdot");
  int fd = fs_target_open(rootfd, "toroot", POINT_DIR, true);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fs_target_refused(rootfd, fd), 1);
  ck_assert_int_eq(errno, EBUSY);
  close(fd);
  fd = fs_target_open(rootfd, "dotdot", POINT_DIR, true);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fs_target_refused(rootfd, fd), 1);
  close(fd);
  fd = fs_target_open(rootfd, "fine", POINT_DIR, true);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fs_target_refused(rootfd, fd), 0);
  close(fd);
}
END_TEST

START_TEST(fd_paths_and_flags) {
  char buf[32];
  ck_assert_str_eq(fs_fd_path(buf, 0), "/proc/self/fd/0");
  ck_assert_str_eq(fs_fd_path(buf, 7), "/proc/self/fd/7");
  ck_assert_str_eq(fs_fd_path(buf, 1234567), "/proc/self/fd/1234567");
  ck_assert_uint_eq(fs_ms_to_attr(MS_RDONLY | MS_NODEV), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV);
  ck_assert_uint_eq(fs_ms_to_attr(MS_NOSUID | MS_NOEXEC | MS_BIND), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("fs_target");
  TCase *tc = tcase_create("targets");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, missing_points_are_made);
  tcase_add_test(tc, links_are_followed_inside_the_root);
  tcase_add_test(tc, standard_targets_follow_no_link);
  tcase_add_test(tc, loops_and_the_root);
  tcase_add_test(tc, fd_paths_and_flags);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
