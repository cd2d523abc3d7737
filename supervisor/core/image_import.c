/* image_import.c - `podvisor image import`: a directory or a tarball into
 * the store, written to a staging directory and swapped in atomically.  Kept
 * apart from image.c (lookup, list, remove) so that a program that only
 * looks images up (the shim) does not link the unpacker and libarchive's
 * loader. */
#include "supervisor/core/image.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/image_internal.h"
#include "supervisor/core/image_unpack.h"
#include "supervisor/core/util.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ------------------------------------------------------------------ config.json */

static json_t *string_array(char *const *v) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && v != NULL && v[i] != NULL; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

/* The default PATH, then each "K=V" of extra, replacing an entry with the same key. */
static json_t *merged_env(char *const *extra, pv_err *err) {
  json_t *env = json_array();
  json_array_append_new(env, json_string(DEFAULT_PATH));
  for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
    const char *eq = strchr(extra[i], '=');
    if (eq == NULL || eq == extra[i]) {
      json_decref(env);
      pv_err_set(err, EINVAL, "invalid environment entry '%s': expected KEY=VALUE", extra[i]);
      return NULL;
    }
    size_t klen = (size_t)(eq - extra[i]) + 1, j;
    json_t *old;
    json_array_foreach(env, j, old) {
      if (strncmp(json_string_value(old), extra[i], klen) == 0)
        break;
    }
    if (j < json_array_size(env))
      json_array_set_new(env, j, json_string(extra[i]));
    else
      json_array_append_new(env, json_string(extra[i]));
  }
  return env;
}

static int write_config(const char *dir, const image_import_options *o, uint64_t size, pv_err *err) {
  static char *const default_cmd[] = {"/bin/sh", NULL};
  char *const *cmd = o != NULL && o->cmd != NULL && o->cmd[0] != NULL ? o->cmd : default_cmd;
  const char *wd = o != NULL && o->working_dir != NULL ? o->working_dir : "/";
  if (wd[0] != '/')
    return pv_err_set(err, EINVAL, "invalid working directory '%s': must be absolute", wd);
  json_t *env = merged_env(o != NULL ? o->env : NULL, err);
  if (env == NULL)
    return -1;
  char created[64];
  time_t now = time(NULL);
  struct tm tm;
  strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
  json_t *cfg = json_object();
  json_object_set_new(cfg, "cmd", string_array(cmd));
  json_object_set_new(cfg, "env", env);
  json_object_set_new(cfg, "workingDir", json_string(wd));
  json_object_set_new(cfg, "created", json_string(created));
  json_object_set_new(cfg, "size", json_integer((json_int_t)size));
  char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(cfg);
  if (text == NULL)
    return pv_err_set(err, ENOMEM, "%s/config.json: cannot encode", dir);
  char path[PATH_MAX];
  int r = pv_path(path, sizeof path, "%s/config.json", dir);
  if (r < 0)
    pv_err_sys(err, "%s/config.json", dir);
  size_t len = strlen(text);
  text[len] = '\n'; /* json_dumps leaves room only for the NUL: write it as the newline */
  if (r == 0)
    r = pv_write_file_atomic(path, text, len + 1, 0644, err);
  free(text);
  return r;
}

/* ------------------------------------------------------------------ import */

/* One try of install(): 0 done, 1 lost a race with a concurrent import
 * (try again), -1 error. */
static int swap_in(const char *tmp, const char *final, const char *nd, const char *tag, pv_err *err) {
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) == 0)
    return pv_rm_rf(tmp, err) < 0 ? pv_err_wrap(err, "remove the replaced image") : 0;
  if (errno == ENOENT) {
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
      return 0;
    if (errno == EEXIST)
      return 1; /* a concurrent import got there first: swap with it */
  }
  if (errno != EINVAL && errno != ENOSYS)
    return pv_err_sys(err, "install %s", final);
  /* No RENAME_EXCHANGE on this file system: move the old one aside first. */
  char aside[PATH_MAX];
  if (pv_path(aside, sizeof aside, "%s/.old-%s-%d-%lu", nd, tag, (int)getpid(), image_unique_counter()) < 0)
    return pv_err_sys(err, "install %s", final);
  if (rename(final, aside) < 0 && errno != ENOENT)
    return pv_err_sys(err, "move %s aside", final);
  if (rename(tmp, final) < 0)
    return pv_err_sys(err, "rename %s to %s", tmp, final);
  return pv_rm_rf(aside, err) < 0 ? pv_err_wrap(err, "remove the replaced image") : 0;
}

/* Puts the finished directory tmp at final.  With an image already there the
 * two are swapped atomically, so a reader sees the old image or the new one,
 * never none; the old one then sits at tmp and is removed.  An image that a
 * container runs from is never replaced (its tree would be deleted under
 * it): EBUSY. */
static int install(const char *tmp, const char *final, const char *nd, const image_ref *ref, pv_err *err) {
  for (int attempt = 0; attempt < 8; attempt++) {
    int lock;
    if (image_lock_unused(final, ref, &lock, err) < 0)
      return -1;
    int r = swap_in(tmp, final, nd, ref->tag, err);
    if (lock >= 0)
      close(lock);
    if (r <= 0)
      return r;
  }
  return pv_err_set(err, EBUSY, "install %s: too many concurrent imports", final);
}

/* Creates <root>/images private to its owner (see image.h): an image's
 * set-user-ID programs must not be reachable by host users through it. */
static int store_dir(const char *root, pv_err *err) {
  char dir[PATH_MAX];
  if (pv_path(dir, sizeof dir, "%s/images", root) < 0)
    return pv_err_sys(err, "image store %s", root);
  if (pv_mkdir_p(root, 0755, err) < 0)
    return -1;
  if (mkdir(dir, 0700) == 0)
    return 0;
  struct stat st;
  if (errno != EEXIST || lstat(dir, &st) < 0)
    return pv_err_sys(err, "image store %s", dir);
  /* A symbolic link or somebody else's directory is the admin's choice. */
  if (S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 077) != 0 && chmod(dir, 0700) < 0)
    return pv_err_sys(err, "image store %s: chmod 0700", dir);
  return 0;
}

static int make_staging(const char *root, const char *nd, const char *tag, char *tmp, size_t len,
                        pv_err *err) {
  for (int attempt = 0; attempt < 3; attempt++) {
    if (store_dir(root, err) < 0 || pv_mkdir_p(nd, 0755, err) < 0)
      return -1;
    if (pv_path(tmp, len, "%s/.import-%s-XXXXXX", nd, tag) < 0)
      return pv_err_sys(err, "image directory %s", nd);
    if (mkdtemp(tmp) != NULL)
      return 0;
    if (errno != ENOENT) /* ENOENT: a concurrent remove took the name directory away */
      break;
  }
  return pv_err_sys(err, "create a temporary directory in %s", nd);
}

static void report(image_import_report *out, const image_unpack_stats *st) {
  _Static_assert(IMAGE_IMPORT_SKIPPED_NAMES == IMAGE_UNPACK_SKIPPED_NAMES, "skipped names");
  _Static_assert(sizeof out->skipped_names == sizeof st->skipped_names, "skipped names");
  out->entries = st->entries;
  out->bytes = st->bytes;
  out->skipped_devices = st->skipped_devices;
  out->skipped_sockets = st->skipped_sockets;
  out->n_skipped_names = st->n_skipped_names;
  memcpy(out->skipped_names, st->skipped_names, sizeof out->skipped_names);
}

static int fill_staging(const char *tmp, const char *source, bool is_dir, const image_import_options *o,
                        pv_err *err) {
  char rootfs[PATH_MAX];
  if (pv_path(rootfs, sizeof rootfs, "%s/rootfs", tmp) < 0)
    return pv_err_sys(err, "%s", tmp);
  if (mkdir(rootfs, 0755) < 0)
    return pv_err_sys(err, "mkdir %s", rootfs);
  int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rootfd < 0)
    return pv_err_sys(err, "open %s", rootfs);
  image_unpack_stats st = {0};
  uint64_t mb = o != NULL ? o->max_bytes : 0, me = o != NULL ? o->max_entries : 0;
  st.max_bytes = mb == 0 ? IMAGE_IMPORT_DEFAULT_MAX_BYTES : mb == IMAGE_IMPORT_NO_LIMIT ? 0 : mb;
  st.max_entries = me == 0 ? IMAGE_IMPORT_DEFAULT_MAX_ENTRIES : me == IMAGE_IMPORT_NO_LIMIT ? 0 : me;
  int r;
  if (is_dir) {
    struct stat ts;
    r = stat(tmp, &ts);
    if (r < 0)
      pv_err_sys(err, "stat %s", tmp);
    else
      r = image_unpack_dir(rootfd, source, ts.st_dev, ts.st_ino, &st, err);
  } else {
    r = image_unpack_archive(rootfd, source, &st, err);
  }
  close(rootfd);
  if (o != NULL && o->report != NULL)
    report(o->report, &st);
  if (r == 0)
    r = write_config(tmp, o, st.bytes, err);
  if (r == 0 && chmod(tmp, 0755) < 0)
    r = pv_err_sys(err, "chmod %s", tmp);
  return r;
}

int image_import_with(const char *root, const char *refstr, const char *source, const image_import_options *o,
                      pv_err *err) {
  image_ref ref;
  if (image_ref_parse(refstr, &ref, err) < 0)
    return -1;
  struct stat st;
  if (source == NULL || stat(source, &st) < 0)
    return pv_err_sys(err, "import %s: source %s", refstr, source != NULL ? source : "(none)");
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    return pv_err_set(err, EINVAL, "import %s: %s is neither a directory nor a tarball", refstr, source);
  char nd[PATH_MAX], final[PATH_MAX], tmp[PATH_MAX];
  if (image_name_dir(root, &ref, nd, sizeof nd, err) < 0 ||
      image_tag_dir(root, &ref, final, sizeof final, err) < 0)
    return -1;
  if (make_staging(root, nd, ref.tag, tmp, sizeof tmp, err) < 0)
    return pv_err_wrap(err, "import %s:%s", ref.name, ref.tag);
  int r = fill_staging(tmp, source, S_ISDIR(st.st_mode), o, err);
  if (r == 0)
    r = install(tmp, final, nd, &ref, err);
  if (r < 0) {
    int saved = errno;
    pv_rm_rf(tmp, NULL);
    rmdir(nd); /* only succeeds when this import was the name's first */
    errno = saved;
    return pv_err_wrap(err, "import %s:%s", ref.name, ref.tag);
  }
  return 0;
}

int image_import(const char *root, const char *ref, const char *source, pv_err *err) {
  return image_import_with(root, ref, source, NULL, err);
}
