/*
 * desired_store.c - what the desired set keeps on disk: the applied pods
 * (<root>/applied/<namespace>_<name>.json) and the state file
 * (<root>/desired.json: the revision and the instances of the file pods),
 * and desired_open, which loads both (see desired.h).
 *
 * An applied pod's file:
 *   {"apiVersion": "podvisor.io/v1", "kind": "AppliedPod", "namespace": ..., "name": ...,
 *    "uid": ..., "createdNs": ..., "resourceVersion": ..., "manifest": "<podjson_pod_text>"}
 * The manifest is kept as a string, exactly as podjson wrote it, so that it
 * reads back through spec_parse_buffer with the same hashes (podjson.h).
 */
#include "supervisor/daemon/desired_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/proto/podjson.h"

#define STORE_FORMAT "podvisor.io/v1"
#define STORE_KIND "AppliedPod"

int store_path(const desired_set *s, const char *ns, const char *name, char *buf, size_t len) {
  return pv_path(buf, len, "%s/%s_%s.json", s->applied_dir, ns, name);
}

/* The text of an applied pod's file (malloc'd, ending in a newline). */
static char *store_render(const desired_pod *p, size_t *len, pv_err *err) {
  char *manifest = podjson_pod_text(p->spec, err);
  if (manifest == NULL)
    return NULL;
  json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "apiVersion", STORE_FORMAT, "kind",
                          STORE_KIND, "namespace", p->spec->ns, "name", p->spec->name, "uid", p->uid,
                          "createdNs", (json_int_t)p->created_ns, "resourceVersion",
                          (json_int_t)p->resource_version, "manifest", manifest);
  free(manifest);
  char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  json_decref(doc);
  if (text == NULL) {
    pv_err_set(err, ENOMEM, "applied pod %s/%s: out of memory", p->spec->ns, p->spec->name);
    return NULL;
  }
  *len = strlen(text);
  text[(*len)++] = '\n'; /* json_dumps' NUL becomes the final newline */
  return text;
}

int store_write(const desired_set *s, const desired_pod *p, pv_err *err) {
  char path[PATH_MAX];
  if (store_path(s, p->spec->ns, p->spec->name, path, sizeof path) < 0)
    return pv_err_set(err, ENAMETOOLONG, "applied pod %s/%s: path too long", p->spec->ns, p->spec->name);
  size_t len;
  char *text = store_render(p, &len, err);
  if (text == NULL)
    return -1;
  int r = pv_write_file_atomic(path, text, len, 0600, err);
  free(text);
  return r;
}

/* The temp file of path, named as is_temp_leftover() recognises it. */
static int temp_path(const char *path, char *buf, size_t len) {
  return pv_path(buf, len, "%s.tmp.%d", path, (int)getpid());
}

static int write_temp(const char *tmp, const char *text, size_t len, pv_err *err) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return pv_err_sys(err, "create %s", tmp);
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, text + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      pv_err_sys(err, "write %s", tmp);
      close(fd);
      return -1;
    }
    off += (size_t)w;
  }
  if (close(fd) < 0)
    return pv_err_sys(err, "close %s", tmp);
  return 0;
}

int store_write_many(const desired_set *s, const desired_pod *const *pods, size_t n, size_t *renamed,
                     pv_err *err) {
  *renamed = 0;
  if (n == 0)
    return 0;
  char path[PATH_MAX], tmp[PATH_MAX];
  size_t written = 0;
  int dfd = -1;
  for (; written < n; written++) {
    const spec_pod *sp = pods[written]->spec;
    if (store_path(s, sp->ns, sp->name, path, sizeof path) < 0 || temp_path(path, tmp, sizeof tmp) < 0) {
      pv_err_set(err, ENAMETOOLONG, "applied pod %s/%s: path too long", sp->ns, sp->name);
      goto fail;
    }
    size_t len;
    char *text = store_render(pods[written], &len, err);
    if (text == NULL)
      goto fail;
    int r = write_temp(tmp, text, len, err);
    free(text);
    if (r < 0) {
      unlink(tmp);
      goto fail;
    }
  }
  /* One sync makes every temp file's data durable before any rename points at it. */
  do
    dfd = open(s->applied_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (dfd < 0 && errno == EINTR);
  if (dfd < 0) {
    pv_err_sys(err, "open %s", s->applied_dir);
    goto fail;
  }
  if (syncfs(dfd) < 0) {
    pv_err_sys(err, "sync the file system of %s", s->applied_dir);
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    const spec_pod *sp = pods[i]->spec;
    (void)store_path(s, sp->ns, sp->name, path, sizeof path);
    (void)temp_path(path, tmp, sizeof tmp);
    if (rename(tmp, path) < 0) {
      pv_err_sys(err, "rename %s to %s", tmp, path);
      for (size_t j = i; j < n; j++) {
        (void)store_path(s, pods[j]->spec->ns, pods[j]->spec->name, path, sizeof path);
        (void)temp_path(path, tmp, sizeof tmp);
        unlink(tmp);
      }
      (void)fsync(dfd);
      close(dfd);
      return -1;
    }
    *renamed = i + 1;
  }
  int r = fsync(dfd);
  int e = errno;
  close(dfd);
  errno = e;
  return r < 0 ? pv_err_sys(err, "fsync %s", s->applied_dir) : 0;
fail:
  for (size_t j = 0; j < written; j++) {
    (void)store_path(s, pods[j]->spec->ns, pods[j]->spec->name, path, sizeof path);
    (void)temp_path(path, tmp, sizeof tmp);
    unlink(tmp);
  }
  if (dfd >= 0)
    close(dfd);
  return -1;
}

static int fsync_dir(const char *dir, pv_err *err) {
  int fd;
  do
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return pv_err_sys(err, "open %s", dir);
  int r = fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  return r < 0 ? pv_err_sys(err, "fsync %s", dir) : 0;
}

int store_remove(const desired_set *s, const char *ns, const char *name, pv_err *err) {
  char path[PATH_MAX];
  if (store_path(s, ns, name, path, sizeof path) < 0)
    return pv_err_set(err, ENAMETOOLONG, "applied pod %s/%s: path too long", ns, name);
  if (unlink(path) < 0 && errno != ENOENT)
    return pv_err_sys(err, "remove %s", path);
  return fsync_dir(s->applied_dir, err);
}

int store_remove_many(const desired_set *s, const desired_pod *const *pods, size_t n, size_t *removed,
                      pv_err *err) {
  *removed = 0;
  char path[PATH_MAX];
  for (size_t i = 0; i < n; i++) {
    const spec_pod *sp = pods[i]->spec;
    if (store_path(s, sp->ns, sp->name, path, sizeof path) < 0) {
      pv_err_set(err, ENAMETOOLONG, "applied pod %s/%s: path too long", sp->ns, sp->name);
      break;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
      pv_err_sys(err, "remove %s", path);
      break;
    }
    *removed = i + 1;
  }
  if (*removed == 0 && n > 0)
    return -1;
  if (fsync_dir(s->applied_dir, *removed == n ? err : NULL) < 0 && *removed == n)
    return -1;
  return *removed == n ? 0 : -1;
}

/* --- loading applied pods --------------------------------------------------------- */

/* Reads one applied pod's file; -1 with a reason in why. */
static dpod *load_one(const char *path, const char *fname, char *why, size_t wlen) {
  char *text = NULL;
  size_t len = 0;
  pv_err e;
  pv_err_clear(&e);
  if (pv_read_file(path, &text, &len, &e) < 0) {
    snprintf(why, wlen, "%s", pv_err_str(&e));
    return NULL;
  }
  json_error_t je;
  json_t *doc = json_loadb(text, len, 0, &je);
  free(text);
  const char *fmt = NULL, *kind = NULL, *ns = NULL, *name = NULL, *uid = NULL, *manifest = NULL;
  json_int_t created = 0, rv = 0;
  if (doc == NULL) {
    snprintf(why, wlen, "not JSON: line %d: %s", je.line, je.text);
    return NULL;
  }
  if (json_unpack(doc, "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "apiVersion", &fmt, "kind", &kind,
                  "namespace", &ns, "name", &name, "uid", &uid, "createdNs", &created, "resourceVersion", &rv,
                  "manifest", &manifest) < 0 ||
      strcmp(fmt, STORE_FORMAT) != 0 || strcmp(kind, STORE_KIND) != 0) {
    snprintf(why, wlen, "not an %s %s document", STORE_FORMAT, STORE_KIND);
    json_decref(doc);
    return NULL;
  }
  char want[PATH_MAX];
  snprintf(want, sizeof want, "%s_%s.json", ns, name);
  spec_pod_list l = {0};
  diag_list dl;
  diag_list_init(&dl);
  int r = spec_parse_buffer(path, manifest, strlen(manifest), 0, &l, &dl);
  dpod *p = NULL;
  if (strcmp(want, fname) != 0)
    snprintf(why, wlen, "it holds pod %.64s/%.253s, whose file would be %.330s", ns, name, want);
  else if (r < 0 || l.n != 1)
    snprintf(why, wlen, "its manifest is not one valid pod (%zu error%s%s%s)", dl.errors,
             dl.errors == 1 ? "" : "s", dl.n ? ", the first: " : "", dl.n ? dl.items[0].message : "");
  else if (strcmp(l.items[0]->ns, ns) != 0 || strcmp(l.items[0]->name, name) != 0 ||
           l.items[0]->uid == NULL || strcmp(l.items[0]->uid, uid) != 0 || strlen(uid) > DESIRED_UID_MAX ||
           !spec_uid_is_safe(uid))
    snprintf(why, wlen, "its manifest does not match its namespace, name and uid");
  else if ((p = calloc(1, sizeof *p)) == NULL || (p->spec = dspec_new(spec_pod_list_steal(&l, 0))) == NULL)
    snprintf(why, wlen, "out of memory");
  if (p != NULL && p->spec != NULL) {
    p->pub.spec = p->spec->pod;
    p->pub.origin = DESIRED_FROM_API;
    p->pub.created_ns = created;
    p->pub.resource_version = (uint64_t)rv;
    snprintf(p->pub.uid, sizeof p->pub.uid, "%s", uid);
  } else {
    free(p);
    p = NULL;
  }
  spec_pod_list_free(&l);
  diag_list_free(&dl);
  json_decref(doc);
  return p;
}

static int push_corrupt(desired_set *s, const char *path, const char *why) {
  desired_problem *nv = realloc(s->corrupt, (s->n_corrupt + 1) * sizeof *nv);
  if (nv == NULL)
    return -1;
  s->corrupt = nv;
  desired_problem *p = &nv[s->n_corrupt];
  *p = (desired_problem){.kind = DESIRED_PROBLEM_CORRUPT};
  if (dup_str(&p->file, path) < 0 || strv_push(&p->diags, &p->n_diags, why) < 0 ||
      asprintf(&p->message, "%s: %s", path, why) < 0) {
    p->message = NULL;
    problem_clear(p);
    return -1;
  }
  s->n_corrupt++;
  return 0;
}

/* Renames a file that cannot be loaded to <file>.corrupt[.N] and reports it. */
static int set_aside(desired_set *s, const char *path, const char *why) {
  char aside[PATH_MAX + 16], msg[PATH_MAX * 2 + 512];
  int moved = -1;
  for (int i = 0; i < 100 && moved < 0; i++) {
    if (i == 0)
      snprintf(aside, sizeof aside, "%s.corrupt", path);
    else
      snprintf(aside, sizeof aside, "%s.corrupt.%d", path, i);
    if (access(aside, F_OK) == 0)
      continue;
    moved = rename(path, aside);
    if (moved < 0)
      break;
  }
  if (moved == 0)
    snprintf(msg, sizeof msg, "an applied pod could not be loaded: %s; the file was moved to %s", why, aside);
  else
    snprintf(msg, sizeof msg, "an applied pod could not be loaded: %s; the file could not be moved aside: %s",
             why, strerror(errno));
  return push_corrupt(s, path, msg);
}

static bool is_temp_leftover(const char *name) {
  const char *t = strstr(name, ".json.tmp.");
  if (t == NULL || t[10] == '\0')
    return false;
  for (t += 10; *t; t++)
    if (*t < '0' || *t > '9')
      return false;
  return true;
}

static int load_entry(desired_set *s, const char *fname) {
  char path[PATH_MAX], why[1024];
  if (pv_path(path, sizeof path, "%s/%s", s->applied_dir, fname) < 0)
    return 0;
  if (is_temp_leftover(fname)) {
    unlink(path); /* a write that never reached its rename */
    return 0;
  }
  size_t n = strlen(fname);
  if (fname[0] == '.' || n <= 5 || strcmp(fname + n - 5, ".json") != 0)
    return 0;
  dpod *p = load_one(path, fname, why, sizeof why);
  if (p == NULL)
    return set_aside(s, path, why);
  ssize_t at = pods_search(s, p->pub.spec->ns, p->pub.spec->name);
  if (at >= 0) { /* cannot happen: the file's name is checked against the pod's */
    dpod_free(p);
    return 0;
  }
  if (pods_insert(s, (size_t)(-at - 1), p) < 0) {
    dpod_free(p);
    return -1;
  }
  if (p->pub.resource_version > s->revision)
    s->revision = p->pub.resource_version;
  return 0;
}

static int load_applied(desired_set *s, pv_err *err) {
  DIR *d = opendir(s->applied_dir);
  if (d == NULL)
    return pv_err_sys(err, "applied pods %s", s->applied_dir);
  int rc = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0)
        rc = pv_err_sys(err, "read %s", s->applied_dir);
      break;
    }
    if (load_entry(s, e->d_name) < 0) {
      rc = pv_err_set(err, ENOMEM, "applied pods %s: out of memory", s->applied_dir);
      break;
    }
  }
  closedir(d);
  return rc;
}

/* --- the state file --------------------------------------------------------------- */

int state_save(const desired_set *s, pv_err *err) {
  json_t *pods = json_array();
  for (size_t i = 0; pods && i < s->n_pods; i++) {
    const desired_pod *p = &s->pods[i]->pub;
    if (p->origin != DESIRED_FROM_FILE)
      continue;
    if (json_array_append_new(pods, json_pack("{s:s, s:s, s:s, s:I}", "namespace", p->spec->ns, "name",
                                              p->spec->name, "uid", p->uid, "createdNs",
                                              (json_int_t)p->created_ns)) < 0) {
      json_decref(pods);
      pods = NULL;
    }
  }
  json_t *doc = pods ? json_pack("{s:I, s:o}", "revision", (json_int_t)s->revision, "filePods", pods) : NULL;
  char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  json_decref(doc);
  if (text == NULL)
    return pv_err_set(err, ENOMEM, "%s: out of memory", s->state_path);
  int r = pv_write_file_atomic(s->state_path, text, strlen(text), 0600, err);
  free(text);
  return r;
}

static int remember(desired_set *s, json_t *e) {
  const char *ns, *name, *uid;
  json_int_t created;
  if (json_unpack(e, "{s:s, s:s, s:s, s:I}", "namespace", &ns, "name", &name, "uid", &uid, "createdNs",
                  &created) < 0 ||
      strlen(uid) > DESIRED_UID_MAX || !spec_uid_is_safe(uid))
    return 0; /* that pod gets a new uid; the others are kept */
  dremembered *nv = realloc(s->mem, (s->n_mem + 1) * sizeof *nv);
  if (nv == NULL)
    return -1;
  s->mem = nv;
  dremembered *m = &nv[s->n_mem];
  *m = (dremembered){.created_ns = created};
  snprintf(m->uid, sizeof m->uid, "%s", uid);
  if ((m->ns = strdup(ns)) == NULL || (m->name = strdup(name)) == NULL) {
    free(m->ns);
    return -1;
  }
  s->n_mem++;
  return 0;
}

/* A missing state file is a first start; an unreadable one is reported. */
static int load_state(desired_set *s) {
  char *text = NULL;
  size_t len = 0;
  if (pv_read_file(s->state_path, &text, &len, NULL) < 0)
    return errno == ENOENT ? 0 : push_corrupt(s, s->state_path, strerror(errno));
  json_error_t je;
  json_t *doc = json_loadb(text, len, 0, &je), *pods = NULL;
  free(text);
  json_int_t rev = 0;
  if (doc == NULL || json_unpack(doc, "{s:I, s:o}", "revision", &rev, "filePods", &pods) < 0 ||
      !json_is_array(pods)) {
    json_decref(doc);
    return push_corrupt(s, s->state_path, "not a desired-state document: the file pods get new uids");
  }
  s->revision = (uint64_t)rev;
  size_t i;
  json_t *e;
  int rc = 0;
  json_array_foreach(pods, i, e) {
    if (rc == 0)
      rc = remember(s, e);
  }
  json_decref(doc);
  return rc;
}

static int open_paths(desired_set *s, const desired_opts *o, pv_err *err) {
  if (o->root == NULL)
    return pv_err_set(err, EINVAL, "desired pods: no root directory");
  if ((s->root = strdup(o->root)) == NULL || dup_str(&s->manifest_dir, o->manifest_dir) < 0 ||
      asprintf(&s->applied_dir, "%s/%s", o->root, DESIRED_APPLIED_DIR) < 0 ||
      asprintf(&s->state_path, "%s/%s", o->root, DESIRED_STATE_FILE) < 0) {
    s->state_path = NULL;
    return pv_err_set(err, ENOMEM, "desired pods: out of memory");
  }
  return pv_mkdir_p(s->applied_dir, 0700, err);
}

int desired_open(const desired_opts *o, desired_set **out, desired_report *rep, pv_err *err) {
  desired_set *s = calloc(1, sizeof *s);
  if (s == NULL)
    return pv_err_set(err, ENOMEM, "desired pods: out of memory");
  if (open_paths(s, o, err) < 0 || load_applied(s, err) < 0)
    goto fail;
  if (load_state(s) < 0) {
    pv_err_set(err, ENOMEM, "%s: out of memory", s->state_path);
    goto fail;
  }
  for (size_t i = 0; i < s->n_pods; i++)
    if (s->pods[i]->pub.resource_version > s->revision)
      s->revision = s->pods[i]->pub.resource_version;
  for (size_t i = 0; rep != NULL && i < s->n_pods; i++)
    if (report_change(rep, DESIRED_ADDED, s->pods[i], false) < 0) {
      pv_err_set(err, ENOMEM, "desired pods: out of memory");
      goto fail;
    }
  if (desired_resolve(s, 0, rep, err) < 0)
    goto fail;
  *out = s;
  return 0;
fail:
  desired_close(s);
  if (rep != NULL)
    desired_report_free(rep);
  return -1;
}
