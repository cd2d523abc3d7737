/* image.c - the local image store: references, lookup, list and remove.
 * Import (the unpacker) is image_import.c; the layout is image_internal.h. */
#include "supervisor/core/image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/image_internal.h"
#include "supervisor/core/util.h"

/* ------------------------------------------------------------------ references */

static bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Checks a repository name; on failure returns a static reason. */
static const char *name_problem(const char *name) {
  size_t len = strlen(name);
  if (len == 0)
    return "the name is empty";
  if (len >= sizeof(((image_ref *)0)->name))
    return "the name is longer than 255 characters";
  const char *part = name;
  for (const char *p = name;; p++) {
    if (*p == '/' || *p == '\0') {
      if (p == part)
        return "the name has an empty part ('//', or a leading or trailing '/')";
      if (!is_lower_alnum(part[0]) || !is_lower_alnum(p[-1]))
        return "each part of a name must start and end with a lowercase letter or a digit";
      if (*p == '\0')
        return NULL;
      part = p + 1;
      continue;
    }
    if (*p >= 'A' && *p <= 'Z')
      return "repository names must be lowercase";
    if (!is_lower_alnum(*p) && *p != '.' && *p != '-')
      return "a name may only hold lowercase letters, digits, '.', '-' and '/'";
  }
}

static const char *tag_problem(const char *tag) {
  size_t len = strlen(tag);
  if (len == 0)
    return "the tag after ':' is empty";
  if (len >= sizeof(((image_ref *)0)->tag)) /* the record holds 127 characters and the NUL */
    return "the tag is longer than 127 characters";
  for (const char *p = tag; *p != '\0'; p++) {
    bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              (p != tag && (*p == '.' || *p == '-'));
    if (!ok)
      return p == tag ? "a tag must start with a letter, a digit or '_'"
                      : "a tag may only hold letters, digits, '_', '.' and '-'";
  }
  return NULL;
}

static const char *strip_prefix(const char *s, const char *prefix) {
  size_t n = strlen(prefix);
  return strncmp(s, prefix, n) == 0 ? s + n : s;
}

int image_ref_parse(const char *s, image_ref *out, pv_err *err) {
  if (s == NULL || *s == '\0')
    return pv_err_set(err, EINVAL, "invalid image reference '': empty");
  if (strlen(s) > 512)
    return pv_err_set(err, EINVAL, "invalid image reference '%.40s...': too long", s);
  if (strchr(s, '@') != NULL)
    return pv_err_set(err, EINVAL, "invalid image reference '%s': digests are not supported, use NAME[:TAG]",
                      s);
  char buf[520];
  snprintf(buf, sizeof buf, "%s", s);
  const char *tag = "latest";
  char *slash = strrchr(buf, '/');
  char *colon = strrchr(slash != NULL ? slash : buf, ':');
  if (colon != NULL) {
    *colon = '\0';
    tag = colon + 1;
  }
  /* The local store has no registries: the spellings podman users write for
   * a local or Docker Hub image all mean the same name. */
  const char *name = buf;
  const char *rest = strip_prefix(name, "localhost/");
  if (rest == name) {
    rest = strip_prefix(name, "docker.io/");
    if (rest == name)
      rest = strip_prefix(name, "index.docker.io/");
    if (rest != name || strncmp(name, "library/", 8) == 0) {
      const char *lib = strip_prefix(rest, "library/");
      if (strchr(lib, '/') == NULL)
        rest = lib;
    }
  }
  name = rest;
  const char *why = name_problem(name);
  if (why == NULL)
    why = tag_problem(tag);
  if (why != NULL)
    return pv_err_set(err, EINVAL, "invalid image reference '%s': %s", s, why);
  snprintf(out->name, sizeof out->name, "%s", name);
  snprintf(out->tag, sizeof out->tag, "%s", tag);
  return 0;
}

/* ------------------------------------------------------------------ store paths */

static void encode_name(const char *name, char *out) {
  for (; *name != '\0'; name++, out++)
    *out = *name == '/' ? '+' : *name;
  *out = '\0';
}

int image_name_dir(const char *root, const image_ref *ref, char *buf, size_t len, pv_err *err) {
  char enc[sizeof ref->name];
  encode_name(ref->name, enc);
  if (pv_path(buf, len, "%s/images/%s", root, enc) < 0)
    return pv_err_sys(err, "image store %s", root);
  return 0;
}

int image_tag_dir(const char *root, const image_ref *ref, char *buf, size_t len, pv_err *err) {
  char nd[PATH_MAX];
  if (image_name_dir(root, ref, nd, sizeof nd, err) < 0)
    return -1;
  if (pv_path(buf, len, "%s/%s", nd, ref->tag) < 0)
    return pv_err_sys(err, "image store %s", root);
  return 0;
}

int image_lock_unused(const char *tag_dir, const image_ref *ref, int *fd, pv_err *err) {
  char rootfs[PATH_MAX];
  *fd = -1;
  if (pv_path(rootfs, sizeof rootfs, "%s/rootfs", tag_dir) < 0)
    return pv_err_sys(err, "image %s:%s", ref->name, ref->tag);
  int d = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0)
    return errno == ENOENT ? 0 : pv_err_sys(err, "image %s:%s: open %s", ref->name, ref->tag, rootfs);
  int r;
  while ((r = flock(d, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR) {
  }
  if (r < 0) {
    int saved = errno;
    close(d);
    if (saved == EWOULDBLOCK)
      return pv_err_set(err, EBUSY, "image %s:%s is in use by a container; stop it first", ref->name,
                        ref->tag);
    errno = saved;
    return pv_err_sys(err, "image %s:%s: lock %s", ref->name, ref->tag, rootfs);
  }
  *fd = d;
  return 0;
}

unsigned long image_unique_counter(void) {
  static unsigned long n;
  return __atomic_add_fetch(&n, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ config.json (read) */

static char **strv_from_json(json_t *a) {
  if (!json_is_array(a))
    return NULL;
  size_t n = json_array_size(a), i;
  char **v = calloc(n + 1, sizeof *v);
  json_t *x;
  json_array_foreach(a, i, x) {
    if (v == NULL || !json_is_string(x) || (v[i] = strdup(json_string_value(x))) == NULL) {
      for (size_t k = 0; v != NULL && k < i; k++)
        free(v[k]);
      free(v);
      return NULL;
    }
  }
  return v;
}

static void strv_free(char **v) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

static int64_t parse_created(const char *s) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return (int64_t)timegm(&tm);
}

/* Fills info from <dir>/config.json; dir and ref are already set. */
static int load_info(image_info *info, pv_err *err) {
  char path[PATH_MAX + 16];
  struct stat st;
  snprintf(path, sizeof path, "%s", info->rootfs);
  if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
    return pv_err_set(err, ENOENT, "image %s:%s is incomplete: %s is missing", info->ref.name, info->ref.tag,
                      path);
  snprintf(path, sizeof path, "%s/config.json", info->dir);
  json_error_t je;
  json_t *cfg = json_load_file(path, 0, &je);
  if (cfg == NULL)
    return pv_err_set(err, access(path, F_OK) < 0 ? ENOENT : EINVAL, "image %s:%s: %s: %s", info->ref.name,
                      info->ref.tag, path, je.text);
  info->cmd = strv_from_json(json_object_get(cfg, "cmd"));
  info->env = strv_from_json(json_object_get(cfg, "env"));
  const char *wd = json_string_value(json_object_get(cfg, "workingDir"));
  info->working_dir = wd != NULL ? strdup(wd) : NULL;
  json_t *size = json_object_get(cfg, "size");
  info->size_bytes =
      json_is_integer(size) && json_integer_value(size) > 0 ? (uint64_t)json_integer_value(size) : 0;
  info->created = parse_created(json_string_value(json_object_get(cfg, "created")));
  json_decref(cfg);
  return 0;
}

static int fill_info(const char *root, const image_ref *ref, image_info *out, pv_err *err) {
  memset(out, 0, sizeof *out);
  out->ref = *ref;
  if (image_tag_dir(root, ref, out->dir, sizeof out->dir, err) < 0)
    return -1;
  if (pv_path(out->rootfs, sizeof out->rootfs, "%s/rootfs", out->dir) < 0)
    return pv_err_sys(err, "image %s:%s", ref->name, ref->tag);
  if (load_info(out, err) < 0) {
    image_info_free(out);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ lookup, list, remove */

int image_lookup(const char *root, const char *refstr, image_info *out, pv_err *err) {
  image_ref ref;
  if (image_ref_parse(refstr, &ref, err) < 0)
    return -1;
  char dir[PATH_MAX];
  struct stat st;
  if (image_tag_dir(root, &ref, dir, sizeof dir, err) < 0)
    return -1;
  if (stat(dir, &st) < 0) {
    if (errno != ENOENT)
      return pv_err_sys(err, "image %s:%s: %s", ref.name, ref.tag, dir);
    return pv_err_set(
        err, ENOENT,
        "image %s:%s not found in %s/images (import one with 'podvisor image import %s:%s DIR|TARBALL'%s)",
        ref.name, ref.tag, root, ref.name, ref.tag,
        strcmp(ref.name, "busybox") == 0 ? " or build the default with contrib/mkimage-busybox.sh" : "");
  }
  return fill_info(root, &ref, out, err);
}

void image_info_free(image_info *info) {
  if (info == NULL)
    return;
  strv_free(info->cmd);
  strv_free(info->env);
  free(info->working_dir);
  info->cmd = info->env = NULL;
  info->working_dir = NULL;
}

static int cmp_info(const void *a, const void *b) {
  const image_info *x = a, *y = b;
  int c = strcmp(x->ref.name, y->ref.name);
  return c != 0 ? c : strcmp(x->ref.tag, y->ref.tag);
}

/* Adds every complete image of one name directory to the list. */
static int list_tags(const char *root, const char *enc, image_info **list, size_t *n, size_t *cap,
                     pv_err *err) {
  image_ref ref;
  snprintf(ref.name, sizeof ref.name, "%s", enc);
  for (char *p = ref.name; *p != '\0'; p++)
    if (*p == '+')
      *p = '/';
  if (name_problem(ref.name) != NULL)
    return 0;
  char nd[PATH_MAX];
  if (image_name_dir(root, &ref, nd, sizeof nd, err) < 0)
    return -1;
  DIR *d = opendir(nd);
  if (d == NULL)
    return errno == ENOENT || errno == ENOTDIR ? 0 : pv_err_sys(err, "list %s", nd);
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || tag_problem(de->d_name) != NULL)
      continue;
    memcpy(ref.tag, de->d_name, strlen(de->d_name) + 1); /* tag_problem() checked the length */
    if (*n == *cap) {
      size_t nc = *cap ? *cap * 2 : 8;
      image_info *nl = realloc(*list, nc * sizeof *nl);
      if (nl == NULL) {
        r = pv_err_sys(err, "list %s", nd);
        break;
      }
      *list = nl;
      *cap = nc;
    }
    if (fill_info(root, &ref, &(*list)[*n], NULL) == 0)
      (*n)++; /* an incomplete image (no config) is not listed */
  }
  closedir(d);
  return r;
}

int image_list(const char *root, image_info **out, size_t *n, pv_err *err) {
  *out = NULL;
  *n = 0;
  char dir[PATH_MAX];
  if (pv_path(dir, sizeof dir, "%s/images", root) < 0)
    return pv_err_sys(err, "image store %s", root);
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : pv_err_sys(err, "list %s", dir);
  image_info *list = NULL;
  size_t cap = 0;
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(d)) != NULL)
    if (de->d_name[0] != '.')
      r = list_tags(root, de->d_name, &list, n, &cap, err);
  closedir(d);
  if (r < 0) {
    image_list_free(list, *n);
    *n = 0;
    return -1;
  }
  if (*n > 1)
    qsort(list, *n, sizeof *list, cmp_info);
  *out = list;
  return 0;
}

void image_list_free(image_info *list, size_t n) {
  for (size_t i = 0; list != NULL && i < n; i++)
    image_info_free(&list[i]);
  free(list);
}

int image_remove(const char *root, const char *refstr, pv_err *err) {
  image_ref ref;
  if (image_ref_parse(refstr, &ref, err) < 0)
    return -1;
  char nd[PATH_MAX], dir[PATH_MAX], gone[PATH_MAX];
  if (image_name_dir(root, &ref, nd, sizeof nd, err) < 0 ||
      image_tag_dir(root, &ref, dir, sizeof dir, err) < 0)
    return -1;
  if (pv_path(gone, sizeof gone, "%s/.remove-%s-%d-%lu", nd, ref.tag, (int)getpid(), image_unique_counter()) <
      0)
    return pv_err_sys(err, "remove image %s:%s", ref.name, ref.tag);
  /* Never under a running container: held exclusively until the tree is
   * gone, so no container can start from it meanwhile either. */
  int lock;
  if (image_lock_unused(dir, &ref, &lock, err) < 0)
    return errno == EBUSY ? -1 : pv_err_wrap(err, "remove image %s:%s", ref.name, ref.tag);
  /* Rename first: the image disappears at once for readers, and a crash
   * half-way through the removal leaves only a hidden directory. */
  if (rename(dir, gone) < 0) {
    int saved = errno;
    if (lock >= 0)
      close(lock);
    errno = saved;
    if (errno == ENOENT)
      return pv_err_set(err, ENOENT, "remove image %s:%s: no such image in %s/images", ref.name, ref.tag,
                        root);
    return pv_err_sys(err, "remove image %s:%s: rename %s", ref.name, ref.tag, dir);
  }
  int r = pv_rm_rf(gone, err);
  if (lock >= 0)
    close(lock);
  if (r < 0)
    return pv_err_wrap(err, "remove image %s:%s", ref.name, ref.tag);
  rmdir(nd); /* the last tag of the name: drop the name directory too */
  return 0;
}
