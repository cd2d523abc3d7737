/* Unit tests for supervisor/core/image.c and image_unpack.c: references,
 * import of directories and tarballs (built here with libarchive's writer),
 * hostile tarballs, listing, removal and tag replacement.  Runs as any user:
 * owners are only changed when root. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/image.h"
#include "supervisor/core/image_unpack.h"
#include "supervisor/core/util.h"
#include "tests/testutil.h"

/* ------------------------------------------------------------------ helpers */

typedef struct tentry {
  const char *name;
  char type; /* f file, d dir, l symlink, h hard link, c char device */
  unsigned mode;
  const char *data; /* file content, or link target */
} tentry;

static void write_tar(const char *path, int gz, const tentry *e, size_t n) {
  struct archive *a = archive_write_new();
  ck_assert_ptr_nonnull(a);
  ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  if (gz)
    ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) {
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, e[i].name);
    archive_entry_set_perm(ae, e[i].mode);
    archive_entry_set_mtime(ae, 1700000000, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    size_t len = 0;
    switch (e[i].type) {
    case 'f':
      len = strlen(e[i].data);
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_size(ae, (la_int64_t)len);
      break;
    case 'd': archive_entry_set_filetype(ae, AE_IFDIR); break;
    case 'l':
      archive_entry_set_filetype(ae, AE_IFLNK);
      archive_entry_set_symlink(ae, e[i].data);
      break;
    case 'h':
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, e[i].data);
      break;
    case 'c':
      archive_entry_set_filetype(ae, AE_IFCHR);
      archive_entry_set_rdev(ae, makedev(1, 3));
      break;
    }
    ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
    if (len > 0)
      ck_assert_int_eq(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
    archive_entry_free(ae);
  }
  ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

static void put_file(const char *dir, const char *name, const char *data, mode_t mode) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
  close(fd);
  chmod(p, mode);
}

static char *slurp(const char *dir, const char *name) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  char *s = NULL;
  if (pv_read_file(p, &s, NULL, NULL) < 0)
    return NULL;
  return s;
}

/* Number of entries in dir, "." and ".." aside; -1 when it does not exist. */
static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

/* A store and a canary directory beside it, holding one file ("secret"). */
typedef struct fixture {
  char *base;
  char root[512], canary[512], src[512];
} fixture;

static void fx_init(fixture *f) {
  f->base = testutil_tmpdir("pv-image");
  ck_assert_ptr_nonnull(f->base);
  snprintf(f->root, sizeof f->root, "%s/store", f->base);
  snprintf(f->canary, sizeof f->canary, "%s/canary", f->base);
  snprintf(f->src, sizeof f->src, "%s/src", f->base);
  ck_assert_int_eq(mkdir(f->canary, 0755), 0);
  put_file(f->canary, "secret", "original", 0644);
}

static void fx_assert_canary(const fixture *f) {
  ck_assert_int_eq(count_entries(f->canary), 1);
  char *s = slurp(f->canary, "secret");
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, "original");
  free(s);
  char p[4200];
  struct stat st;
  snprintf(p, sizeof p, "%s/secret", f->canary);
  ck_assert_int_eq(stat(p, &st), 0);
  ck_assert_int_eq(st.st_nlink, 1);
}

static void fx_free(fixture *f) {
  testutil_rmtree(f->base);
  free(f->base);
}

/* ------------------------------------------------------------------ references */

START_TEST(ref_good) {
  static const struct {
    const char *in, *name, *tag;
  } ok[] = {
      {"busybox", "busybox", "latest"},
      {"busybox:latest", "busybox", "latest"},
      {"busybox:1.36", "busybox", "1.36"},
      {"localhost/busybox:latest", "busybox", "latest"},
      {"docker.io/library/busybox:latest", "busybox", "latest"},
      {"docker.io/library/busybox", "busybox", "latest"},
      {"docker.io/busybox", "busybox", "latest"},
      {"library/busybox", "busybox", "latest"},
      {"docker.io/team/app:v2", "team/app", "v2"},
      {"example.com/team/app:V_2.0-rc1", "example.com/team/app", "V_2.0-rc1"},
      {"a-b.c/d9", "a-b.c/d9", "latest"},
      {"x:_", "x", "_"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    image_ref r;
    pv_err err = {0};
    ck_assert_msg(image_ref_parse(ok[i].in, &r, &err) == 0, "%s: %s", ok[i].in, err.msg);
    ck_assert_str_eq(r.name, ok[i].name);
    ck_assert_str_eq(r.tag, ok[i].tag);
  }
}
END_TEST

START_TEST(ref_evil) {
  static const char *bad[] = {
      "",
      "..",
      "../etc",
      "a/../b",
      "a/./b",
      "./a",
      "/abs",
      "abs/",
      "a//b",
      ".hidden",
      "a/.x",
      "x:",
      "x:.",
      "x:..",
      "x:../y",
      "x:-y",
      "x:a/b",
      "Busybox",
      "busy box",
      "busy\nbox",
      "a+b",
      "a_b",
      "x@sha256:abcd",
      "localhost:5000/busybox",
      "x:y:z",
      "-x",
      "x-",
      "x:"
      "0123456789abcdef"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
      "0123456789abcdef",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    image_ref r;
    pv_err err = {0};
    errno = 0;
    ck_assert_msg(image_ref_parse(bad[i], &r, &err) == -1, "accepted '%s'", bad[i]);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_msg(strstr(err.msg, "invalid image reference") != NULL, "%s", err.msg);
  }
  char longname[400];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  image_ref r;
  ck_assert_int_eq(image_ref_parse(longname, &r, NULL), -1);
}
END_TEST

START_TEST(clean_path) {
  static const struct {
    const char *in, *out;
  } ok[] = {
      {"a", "a"},       {"./a//b/", "a/b"}, {".", ""},          {"./", ""},
      {"a/./b", "a/b"}, {"...", "..."},     {"a/..b", "a/..b"},
  };
  char out[64];
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    ck_assert_int_eq(image_unpack_clean_path(ok[i].in, out, sizeof out), 0);
    ck_assert_str_eq(out, ok[i].out);
  }
  static const char *bad[] = {"", "/a", "..", "../a", "a/..", "a/../b", "./../a", "//a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(image_unpack_clean_path(bad[i], out, sizeof out) == -1, "accepted '%s'", bad[i]);
  ck_assert_int_eq(image_unpack_clean_path("abcdefgh/abcdefgh", out, 8), -1);
  ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

/* ------------------------------------------------------------------ imports */

START_TEST(import_directory) {
  fixture f;
  fx_init(&f);
  char p[4200];
  ck_assert_int_eq(mkdir(f.src, 0755), 0);
  snprintf(p, sizeof p, "%s/bin", f.src);
  ck_assert_int_eq(mkdir(p, 0750), 0);
  put_file(f.src, "bin/tool", "#!/bin/sh\necho hi\n", 04755);
  put_file(f.src, "etc-hosts", "127.0.0.1 localhost\n", 0600);
  /* Links pointing out of the source are copied as links, never followed. */
  snprintf(p, sizeof p, "%s/escape", f.src);
  ck_assert_int_eq(symlink(f.canary, p), 0);
  snprintf(p, sizeof p, "%s/bin/sh", f.src);
  ck_assert_int_eq(symlink("tool", p), 0);
  snprintf(p, sizeof p, "%s/fifo", f.src);
  ck_assert_int_eq(mkfifo(p, 0640), 0);

  pv_err err = {0};
  ck_assert_msg(image_import(f.root, "mini:1", f.src, &err) == 0, "%s", err.msg);
  image_info info;
  ck_assert_msg(image_lookup(f.root, "localhost/mini:1", &info, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(info.ref.name, "mini");
  snprintf(p, sizeof p, "%s/images/mini/1/rootfs", f.root);
  ck_assert_str_eq(info.rootfs, p);
  ck_assert_ptr_nonnull(info.cmd);
  ck_assert_str_eq(info.cmd[0], "/bin/sh");
  ck_assert_ptr_null(info.cmd[1]);
  ck_assert_ptr_nonnull(info.env);
  ck_assert_str_eq(info.env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  ck_assert_str_eq(info.working_dir, "/");
  ck_assert_uint_eq(info.size_bytes, strlen("#!/bin/sh\necho hi\n") + strlen("127.0.0.1 localhost\n") +
                                         strlen(f.canary) + strlen("tool"));
  ck_assert_int_le(llabs(info.created - (int64_t)time(NULL)), 5);

  char *s = slurp(info.rootfs, "bin/tool");
  ck_assert_str_eq(s, "#!/bin/sh\necho hi\n");
  free(s);
  struct stat st;
  snprintf(p, sizeof p, "%s/bin/tool", info.rootfs);
  ck_assert_int_eq(stat(p, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 04755);
  snprintf(p, sizeof p, "%s/bin", info.rootfs);
  ck_assert_int_eq(stat(p, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 0750);
  snprintf(p, sizeof p, "%s/etc-hosts", info.rootfs);
  ck_assert_int_eq(stat(p, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 0600);
  char target[512];
  snprintf(p, sizeof p, "%s/escape", info.rootfs);
  ssize_t n = readlink(p, target, sizeof target - 1);
  ck_assert_int_gt(n, 0);
  target[n] = '\0';
  ck_assert_str_eq(target, f.canary);
  snprintf(p, sizeof p, "%s/fifo", info.rootfs);
  ck_assert_int_eq(lstat(p, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  /* Only the tag: no temporary directory left beside it. */
  snprintf(p, sizeof p, "%s/images/mini", f.root);
  ck_assert_int_eq(count_entries(p), 1);
  image_info_free(&info);
  image_info_free(&info); /* idempotent */
  fx_assert_canary(&f);
  fx_free(&f);
}
END_TEST

static const tentry good_tar[] = {
    {"./", 'd', 0755, NULL},
    {"./bin/", 'd', 0755, NULL},
    {"./bin/sh", 'f', 0755, "#!fake shell\n"},
    {"./bin/ash", 'h', 0, "./bin/sh"},
    {"./bin/ls", 'l', 0777, "sh"},
    {"./etc/passwd", 'f', 0644, "root:x:0:0::/root:/bin/sh\n"}, /* parent created implicitly */
    {"./etc", 'd', 0711, NULL},                                 /* ...and its mode set later */
};

static void check_good_tar(const fixture *f, const char *ref) {
  image_info info;
  pv_err err = {0};
  ck_assert_msg(image_lookup(f->root, ref, &info, &err) == 0, "%s", err.msg);
  char *s = slurp(info.rootfs, "bin/sh");
  ck_assert_str_eq(s, "#!fake shell\n");
  free(s);
  char p[4200], q[4200];
  struct stat a, b;
  snprintf(p, sizeof p, "%s/bin/sh", info.rootfs);
  snprintf(q, sizeof q, "%s/bin/ash", info.rootfs);
  ck_assert_int_eq(stat(p, &a), 0);
  ck_assert_int_eq(stat(q, &b), 0);
  ck_assert_uint_eq(a.st_ino, b.st_ino);
  ck_assert_uint_eq(a.st_mode & 07777, 0755);
  ck_assert_int_eq(a.st_mtime, 1700000000);
  snprintf(p, sizeof p, "%s/bin/ls", info.rootfs);
  ck_assert_int_eq(lstat(p, &a), 0);
  ck_assert(S_ISLNK(a.st_mode));
  snprintf(p, sizeof p, "%s/etc", info.rootfs);
  ck_assert_int_eq(stat(p, &a), 0);
  ck_assert_uint_eq(a.st_mode & 07777, 0711);
  ck_assert_int_eq(a.st_mtime, 1700000000);
  s = slurp(info.rootfs, "etc/passwd");
  ck_assert_str_eq(s, "root:x:0:0::/root:/bin/sh\n");
  free(s);
  ck_assert_uint_eq(info.size_bytes, strlen("#!fake shell\n") + 2 + strlen("root:x:0:0::/root:/bin/sh\n"));
  image_info_free(&info);
}

START_TEST(import_tar_and_targz) {
  fixture f;
  fx_init(&f);
  char tar[600], tgz[600];
  snprintf(tar, sizeof tar, "%s/img.tar", f.base);
  snprintf(tgz, sizeof tgz, "%s/img.tar.gz", f.base);
  write_tar(tar, 0, good_tar, sizeof good_tar / sizeof good_tar[0]);
  write_tar(tgz, 1, good_tar, sizeof good_tar / sizeof good_tar[0]);
  pv_err err = {0};
  ck_assert_msg(image_import(f.root, "plain", tar, &err) == 0, "%s", err.msg);
  ck_assert_msg(image_import(f.root, "docker.io/library/zipped:gz", tgz, &err) == 0, "%s", err.msg);
  check_good_tar(&f, "plain");
  check_good_tar(&f, "zipped:gz");
  fx_assert_canary(&f);
  fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------ hostile tarballs */

/* Each case must be refused: the import fails, names the entry, leaves no
 * image and no directory in the store, and writes nothing to the canary. */
START_TEST(evil_tarballs_refused) {
  fixture f;
  fx_init(&f);
  char abs_pwn[600], dotdot[800], abs_secret[600], dd_secret[800];
  snprintf(abs_pwn, sizeof abs_pwn, "%s/pwned", f.canary);
  snprintf(dotdot, sizeof dotdot, "../../../../../../../../../../..%s/pwned", f.canary);
  snprintf(abs_secret, sizeof abs_secret, "%s/secret", f.canary);
  snprintf(dd_secret, sizeof dd_secret, "../../../../../../../../../../..%s/secret", f.canary);
  const struct {
    const char *what;
    tentry e[3];
    size_t n;
  } cases[] = {
      {"absolute path", {{abs_pwn, 'f', 0644, "pwned"}}, 1},
      {"dot-dot escape", {{dotdot, 'f', 0644, "pwned"}}, 1},
      {"dot-dot inside", {{"a/../../pwned", 'f', 0644, "pwned"}}, 1},
      {"symlink then write through it", {{"a", 'l', 0777, f.canary}, {"a/pwned", 'f', 0644, "pwned"}}, 2},
      {"relative symlink then write through it",
       {{"b", 'l', 0777, "../../../../../../../../.."}, {"b/pwned", 'f', 0644, "pwned"}},
       2},
      {"symlinked directory then mkdir through it",
       {{"c", 'l', 0777, f.canary}, {"c/sub/", 'd', 0755, NULL}},
       2},
      {"hard link to /etc/passwd", {{"passwd", 'h', 0, "/etc/passwd"}}, 1},
      {"hard link to an absolute canary file", {{"secret", 'h', 0, abs_secret}}, 1},
      {"hard link climbing out", {{"secret", 'h', 0, dd_secret}}, 1},
      {"hard link through a symlink",
       {{"d", 'l', 0777, f.canary}, {"x", 'h', 0, "d/secret"}, {"x", 'f', 0644, "pwned"}},
       3},
  };
  char tar[600];
  snprintf(tar, sizeof tar, "%s/evil.tar", f.base);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_tar(tar, i % 2, cases[i].e, cases[i].n);
    pv_err err = {0};
    ck_assert_msg(image_import(f.root, "evil", tar, &err) == -1, "case '%s' was accepted", cases[i].what);
    ck_assert_msg(strstr(err.msg, "evil:latest") != NULL && strstr(err.msg, "entry") != NULL,
                  "case '%s': message does not name the image and entry: %s", cases[i].what, err.msg);
    image_info info;
    ck_assert_int_eq(image_lookup(f.root, "evil", &info, NULL), -1);
    ck_assert_int_eq(errno, ENOENT);
    char nd[600];
    snprintf(nd, sizeof nd, "%s/images/evil", f.root);
    ck_assert_msg(count_entries(nd) == -1, "case '%s' left %s behind", cases[i].what, nd);
    fx_assert_canary(&f);
  }
  fx_free(&f);
}
END_TEST

/* These are neutralised, not refused: a symlink in the way of a later file is
 * replaced (never written through), and device nodes are skipped. */
START_TEST(evil_tarballs_neutralised) {
  fixture f;
  fx_init(&f);
  char abs_secret[600];
  snprintf(abs_secret, sizeof abs_secret, "%s/secret", f.canary);
  const tentry e[] = {
      {"f", 'l', 0777, abs_secret},  {"f", 'f', 0644, "pwned"},  {"dev/", 'd', 0755, NULL},
      {"dev/null", 'c', 0666, NULL}, {"g", 'l', 0777, f.canary}, {"g", 'd', 0755, NULL},
  };
  char tar[600];
  snprintf(tar, sizeof tar, "%s/n.tar.gz", f.base);
  write_tar(tar, 1, e, sizeof e / sizeof e[0]);
  pv_err err = {0};
  ck_assert_msg(image_import(f.root, "neutral", tar, &err) == 0, "%s", err.msg);
  image_info info;
  ck_assert_int_eq(image_lookup(f.root, "neutral", &info, NULL), 0);
  char *s = slurp(info.rootfs, "f");
  ck_assert_str_eq(s, "pwned");
  free(s);
  char p[4200];
  struct stat st;
  snprintf(p, sizeof p, "%s/f", info.rootfs);
  ck_assert_int_eq(lstat(p, &st), 0);
  ck_assert(S_ISREG(st.st_mode));
  snprintf(p, sizeof p, "%s/g", info.rootfs);
  ck_assert_int_eq(lstat(p, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  snprintf(p, sizeof p, "%s/dev", info.rootfs);
  ck_assert_int_eq(count_entries(p), 0);
  image_info_free(&info);
  fx_assert_canary(&f);
  fx_free(&f);
}
END_TEST

/* The limits' arithmetic: an entry that fits is counted, one that would
 * pass the size or the entry limit is refused (EFBIG) without being
 * counted, the message names the entry and the limit; 0 is no limit. */
START_TEST(unpack_limits) {
  image_unpack_stats st = {.max_bytes = 10 << 20, .max_entries = 3};
  pv_err err = {0};
  ck_assert_int_eq(image_unpack_charge(&st, 4 << 20, "a", &err), 0);
  st.entries++;
  ck_assert_int_eq(image_unpack_charge(&st, 6 << 20, "b", &err), 0); /* exactly at the limit */
  st.entries++;
  ck_assert_uint_eq(st.bytes, 10 << 20);
  ck_assert_int_eq(image_unpack_charge(&st, 1, "img.tar: entry 'c'", &err), -1);
  ck_assert_int_eq(err.code, EFBIG);
  ck_assert_ptr_nonnull(strstr(err.msg, "img.tar: entry 'c'"));
  ck_assert_ptr_nonnull(strstr(err.msg, "size limit of 10Mi"));
  ck_assert_uint_eq(st.bytes, 10 << 20);
  ck_assert_int_eq(image_unpack_charge(&st, 0, "d", &err), 0);
  st.entries++;
  ck_assert_int_eq(image_unpack_charge(&st, 0, "e", &err), -1); /* a fourth entry */
  ck_assert_ptr_nonnull(strstr(err.msg, "more than 3 entries"));
  /* No overflow near the top of the range. */
  image_unpack_stats big = {.max_bytes = UINT64_MAX - 1, .bytes = UINT64_MAX - 10};
  ck_assert_int_eq(image_unpack_charge(&big, 100, "f", &err), -1);
  image_unpack_stats none = {0};
  ck_assert_int_eq(image_unpack_charge(&none, UINT64_MAX / 2, "g", &err), 0);
  char b[48];
  ck_assert_str_eq(image_unpack_format_size(16ULL << 30, b, sizeof b), "16Gi");
  ck_assert_str_eq(image_unpack_format_size(1536 << 10, b, sizeof b), "1536Ki");
  ck_assert_str_eq(image_unpack_format_size(1000, b, sizeof b), "1000 bytes");
  ck_assert_str_eq(image_unpack_format_size(3ULL << 40, b, sizeof b), "3Ti");
}
END_TEST

/* Skipped entries are counted by kind, and the first few named. */
START_TEST(unpack_skipped_names) {
  image_unpack_stats st = {0};
  const char *names[] = {"dev/null", "dev/zero", "run/s.sock", "dev/sda", "dev/sdb", "dev/sdc"};
  for (size_t i = 0; i < 6; i++)
    image_unpack_note_skipped(&st, names[i], i == 2);
  ck_assert_uint_eq(st.skipped_devices, 5);
  ck_assert_uint_eq(st.skipped_sockets, 1);
  ck_assert_uint_eq(st.n_skipped_names, IMAGE_UNPACK_SKIPPED_NAMES);
  ck_assert_str_eq(st.skipped_names[0], "/dev/null");
  ck_assert_str_eq(st.skipped_names[2], "/run/s.sock");
  ck_assert_str_eq(st.skipped_names[4], "/dev/sdb");
}
END_TEST

/* An archive whose files add up past --max-size is refused before its big
 * entry is written, naming the image and the limit, and leaves no image and
 * no staging directory; with room it imports, and the report names the
 * device node it skipped. */
START_TEST(import_size_limit) {
  fixture f;
  fx_init(&f);
  static char big[64 * 1024];
  memset(big, 'z', sizeof big - 1);
  const tentry e[] = {{"dev/", 'd', 0755, NULL}, {"dev/null", 'c', 0666, NULL}, {"big", 'f', 0644, big}};
  char tar[600], p[700];
  snprintf(tar, sizeof tar, "%s/big.tar.gz", f.base);
  write_tar(tar, 1, e, sizeof e / sizeof e[0]);
  image_import_report rep;
  image_import_options o = {.max_bytes = 32 << 10, .report = &rep};
  pv_err err = {0};
  ck_assert_int_eq(image_import_with(f.root, "huge:1", tar, &o, &err), -1);
  ck_assert_int_eq(err.code, EFBIG);
  ck_assert_ptr_nonnull(strstr(err.msg, "huge:1"));
  ck_assert_ptr_nonnull(strstr(err.msg, "32Ki"));
  ck_assert_ptr_nonnull(strstr(err.msg, "'big'"));
  snprintf(p, sizeof p, "%s/images", f.root);
  ck_assert_int_le(count_entries(p), 0);
  o.max_bytes = 64 << 10;
  memset(&rep, 0, sizeof rep);
  ck_assert_msg(image_import_with(f.root, "huge:1", tar, &o, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(rep.skipped_devices, 1);
  ck_assert_uint_eq(rep.n_skipped_names, 1);
  ck_assert_str_eq(rep.skipped_names[0], "/dev/null");
  ck_assert_uint_eq(rep.entries, 2);
  o.max_bytes = 0;
  o.max_entries = 1; /* dev/ then big: the second entry is one too many */
  ck_assert_int_eq(image_import_with(f.root, "huge:2", tar, &o, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "more than 1 entries"));
  snprintf(p, sizeof p, "%s/images/huge", f.root);
  ck_assert_int_eq(count_entries(p), 1); /* huge:1 only, no staging left */
  fx_free(&f);
}
END_TEST

START_TEST(failed_imports_leave_nothing) {
  fixture f;
  fx_init(&f);
  pv_err err = {0};
  char p[600];
  snprintf(p, sizeof p, "%s/missing", f.base);
  ck_assert_int_eq(image_import(f.root, "x", p, &err), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_ptr_nonnull(strstr(err.msg, p));
  put_file(f.base, "garbage.tar", "this is not an archive at all, not even close\n", 0644);
  snprintf(p, sizeof p, "%s/garbage.tar", f.base);
  ck_assert_int_eq(image_import(f.root, "x", p, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "garbage.tar"));
  ck_assert_int_eq(image_import(f.root, "../x", f.canary, &err), -1);
  ck_assert_int_eq(errno, EINVAL);
  snprintf(p, sizeof p, "%s/images", f.root);
  ck_assert_int_le(count_entries(p), 0);
  image_info info;
  ck_assert_int_eq(image_lookup(f.root, "x", &info, &err), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_ptr_nonnull(strstr(err.msg, "not found"));
  fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------ list, remove, replace */

START_TEST(list_and_remove) {
  fixture f;
  fx_init(&f);
  image_info *l;
  size_t n = 99;
  ck_assert_int_eq(image_list(f.root, &l, &n, NULL), 0); /* no store yet: empty, not an error */
  ck_assert_uint_eq(n, 0);
  image_list_free(l, n);
  ck_assert_int_eq(mkdir(f.src, 0755), 0);
  put_file(f.src, "hello", "hello\n", 0644);
  const char *refs[] = {"zeta", "alpha:2", "alpha:1", "team/app:v1"};
  for (size_t i = 0; i < 4; i++)
    ck_assert_int_eq(image_import(f.root, refs[i], f.src, NULL), 0);
  /* Stray temporary entries are not images. */
  char p[800];
  snprintf(p, sizeof p, "%s/images/.import-junk", f.root);
  ck_assert_int_eq(mkdir(p, 0700), 0);
  snprintf(p, sizeof p, "%s/images/alpha/.import-3-abc", f.root);
  ck_assert_int_eq(mkdir(p, 0700), 0);
  ck_assert_int_eq(image_list(f.root, &l, &n, NULL), 0);
  ck_assert_uint_eq(n, 4);
  ck_assert_str_eq(l[0].ref.name, "alpha");
  ck_assert_str_eq(l[0].ref.tag, "1");
  ck_assert_str_eq(l[1].ref.tag, "2");
  ck_assert_str_eq(l[2].ref.name, "team/app");
  ck_assert_str_eq(l[3].ref.name, "zeta");
  ck_assert_uint_eq(l[3].size_bytes, 6);
  ck_assert_ptr_nonnull(l[3].cmd);
  image_list_free(l, n);

  pv_err err = {0};
  ck_assert_int_eq(image_remove(f.root, "docker.io/library/zeta:latest", &err), 0);
  ck_assert_int_eq(image_remove(f.root, "zeta", &err), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_ptr_nonnull(strstr(err.msg, "zeta:latest"));
  snprintf(p, sizeof p, "%s/images/zeta", f.root);
  ck_assert_int_eq(count_entries(p), -1); /* last tag gone: the name directory too */
  ck_assert_int_eq(image_remove(f.root, "team/app:v1", NULL), 0);
  ck_assert_int_eq(image_remove(f.root, "../../x", &err), -1);
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_int_eq(image_list(f.root, &l, &n, NULL), 0);
  ck_assert_uint_eq(n, 2);
  image_list_free(l, n);
  fx_free(&f);
}
END_TEST

START_TEST(replace_existing_tag) {
  fixture f;
  fx_init(&f);
  ck_assert_int_eq(mkdir(f.src, 0755), 0);
  put_file(f.src, "version", "1", 0644);
  put_file(f.src, "only-in-v1", "x", 0644);
  ck_assert_int_eq(image_import(f.root, "app", f.src, NULL), 0);
  image_info info;
  ck_assert_int_eq(image_lookup(f.root, "app", &info, NULL), 0);
  char *s = slurp(info.rootfs, "version");
  ck_assert_str_eq(s, "1");
  free(s);
  image_info_free(&info);

  char tar[600];
  snprintf(tar, sizeof tar, "%s/v2.tar", f.base);
  const tentry v2[] = {{"version", 'f', 0644, "2"}};
  write_tar(tar, 0, v2, 1);
  char *const cmd[] = {"sh", "-c", "echo hi", NULL};
  char *const env[] = {"FOO=bar", "PATH=/bin", NULL};
  image_import_options o = {.cmd = cmd, .env = env, .working_dir = "/srv"};
  pv_err err = {0};
  ck_assert_msg(image_import_with(f.root, "app:latest", tar, &o, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(image_lookup(f.root, "app", &info, NULL), 0);
  s = slurp(info.rootfs, "version");
  ck_assert_str_eq(s, "2");
  free(s);
  s = slurp(info.rootfs, "only-in-v1");
  ck_assert_ptr_null(s);
  ck_assert_str_eq(info.cmd[2], "echo hi");
  ck_assert_str_eq(info.env[0], "PATH=/bin"); /* the default PATH, replaced in place */
  ck_assert_str_eq(info.env[1], "FOO=bar");
  ck_assert_ptr_null(info.env[2]);
  ck_assert_str_eq(info.working_dir, "/srv");
  image_info_free(&info);
  char nd[600];
  snprintf(nd, sizeof nd, "%s/images/app", f.root);
  ck_assert_int_eq(count_entries(nd), 1); /* the old copy is gone */

  char *const bad_env[] = {"NOEQUALS", NULL};
  o.env = bad_env;
  ck_assert_int_eq(image_import_with(f.root, "app", tar, &o, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "NOEQUALS"));
  ck_assert_int_eq(image_lookup(f.root, "app", &info, NULL), 0); /* the old image survives */
  image_info_free(&info);
  ck_assert_int_eq(count_entries(nd), 1);
  fx_free(&f);
}
END_TEST

/* A container holds a shared flock on its rootfs while it exists
 * (container.h): the image is then neither removed nor replaced, and
 * nothing of it is lost; once the lock goes, both work. */
START_TEST(image_in_use_is_kept) {
  fixture f;
  fx_init(&f);
  ck_assert_int_eq(mkdir(f.src, 0755), 0);
  put_file(f.src, "version", "1", 0644);
  ck_assert_int_eq(image_import(f.root, "app", f.src, NULL), 0);
  image_info info;
  ck_assert_int_eq(image_lookup(f.root, "app", &info, NULL), 0);
  int ctr = open(info.rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* what a container takes */
  ck_assert_int_ge(ctr, 0);
  ck_assert_int_eq(flock(ctr, LOCK_SH | LOCK_NB), 0);

  pv_err err = {0};
  ck_assert_int_eq(image_remove(f.root, "app", &err), -1);
  ck_assert_int_eq(err.code, EBUSY);
  ck_assert_msg(strstr(err.msg, "app:latest is in use by a container") != NULL, "%s", err.msg);
  put_file(f.src, "version", "2", 0644);
  ck_assert_int_eq(image_import(f.root, "app", f.src, &err), -1);
  ck_assert_int_eq(err.code, EBUSY);
  ck_assert_msg(strstr(err.msg, "in use by a container") != NULL, "%s", err.msg);
  char *v = slurp(info.rootfs, "version"); /* untouched, at the same place */
  ck_assert_str_eq(v, "1");
  free(v);
  char nd[600];
  snprintf(nd, sizeof nd, "%s/images/app", f.root);
  ck_assert_int_eq(count_entries(nd), 1); /* no staging directory left */

  close(ctr);
  ck_assert_msg(image_import(f.root, "app", f.src, &err) == 0, "%s", err.msg);
  image_info now;
  ck_assert_int_eq(image_lookup(f.root, "app", &now, NULL), 0);
  v = slurp(now.rootfs, "version");
  ck_assert_str_eq(v, "2");
  free(v);
  image_info_free(&now);
  ck_assert_msg(image_remove(f.root, "app", &err) == 0, "%s", err.msg);
  ck_assert_int_eq(image_lookup(f.root, "app", &now, NULL), -1);
  image_info_free(&info);
  fx_free(&f);
}
END_TEST

/* Importing a directory that contains the store must not copy the import into itself. */
START_TEST(import_store_parent) {
  fixture f;
  fx_init(&f);
  pv_err err = {0};
  snprintf(f.root, sizeof f.root, "%s", f.base); /* the store lives inside the source */
  ck_assert_msg(image_import(f.root, "self", f.base, &err) == 0, "%s", err.msg);
  image_info info;
  ck_assert_int_eq(image_lookup(f.root, "self", &info, NULL), 0);
  char p[4200];
  snprintf(p, sizeof p, "%s/images/self", info.rootfs);
  ck_assert_int_eq(count_entries(p), 0); /* the name directory, without the staging copy */
  char *s = slurp(info.rootfs, "canary/secret");
  ck_assert_str_eq(s, "original");
  free(s);
  image_info_free(&info);
  fx_free(&f);
}
END_TEST

/* Files that are not archives of a format carrying its own data are refused:
 * text (which libarchive's mtree reader would take, opening the host files an
 * mtree names), an mtree naming a host file, and an empty file. */
START_TEST(not_archives_refused) {
  fixture f;
  fx_init(&f);
  char mtree[1200];
  snprintf(mtree, sizeof mtree, "#mtree\n./leak type=file mode=0644 size=8 contents=%s/secret\n", f.canary);
  const struct {
    const char *name, *data;
  } cases[] = {{"hello.txt", "hello\n"}, {"leak.mtree", mtree}, {"empty.tar", ""}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    put_file(f.base, cases[i].name, cases[i].data, 0644);
    char p[600];
    snprintf(p, sizeof p, "%s/%s", f.base, cases[i].name);
    pv_err err = {0};
    ck_assert_msg(image_import(f.root, "notarchive", p, &err) == -1, "%s was imported", cases[i].name);
    ck_assert_msg(strstr(err.msg, cases[i].name) != NULL, "message does not name the file: %s", err.msg);
    image_info info;
    ck_assert_int_eq(image_lookup(f.root, "notarchive", &info, NULL), -1);
  }
  fx_assert_canary(&f);
  fx_free(&f);
}
END_TEST

/* The store is private: images keep set-user-ID programs, which host users
 * must not reach through it.  An older searchable store is narrowed. */
START_TEST(store_is_private) {
  fixture f;
  fx_init(&f);
  ck_assert_int_eq(mkdir(f.src, 0755), 0);
  put_file(f.src, "su", "#!/bin/sh\n", 04755);
  pv_err err = {0};
  ck_assert_msg(image_import(f.root, "suid", f.src, &err) == 0, "%s", err.msg);
  char p[600];
  struct stat st;
  snprintf(p, sizeof p, "%s/images", f.root);
  ck_assert_int_eq(stat(p, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0700);
  ck_assert_int_eq(chmod(p, 0755), 0);
  ck_assert_msg(image_import(f.root, "suid:2", f.src, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(stat(p, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0700);
  fx_free(&f);
}
END_TEST

static Suite *image_suite(void) {
  Suite *s = suite_create("image");
  TCase *t = tcase_create("refs");
  tcase_add_test(t, ref_good);
  tcase_add_test(t, ref_evil);
  tcase_add_test(t, clean_path);
  suite_add_tcase(s, t);
  t = tcase_create("import");
  tcase_add_test(t, import_directory);
  tcase_add_test(t, import_tar_and_targz);
  tcase_add_test(t, evil_tarballs_refused);
  tcase_add_test(t, evil_tarballs_neutralised);
  tcase_add_test(t, failed_imports_leave_nothing);
  tcase_add_test(t, unpack_limits);
  tcase_add_test(t, unpack_skipped_names);
  tcase_add_test(t, import_size_limit);
  tcase_add_test(t, import_store_parent);
  tcase_add_test(t, not_archives_refused);
  tcase_add_test(t, store_is_private);
  suite_add_tcase(s, t);
  t = tcase_create("store");
  tcase_add_test(t, list_and_remove);
  tcase_add_test(t, replace_existing_tag);
  tcase_add_test(t, image_in_use_is_kept);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  return testutil_run(image_suite());
}
