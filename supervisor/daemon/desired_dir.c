/*
 * desired_dir.c - the manifest directory: which names count, and the
 * incremental scan (see desired.h).  A scan reads the directory, parses only
 * the files whose stat changed (or that were racy), drops the files that
 * are gone, then lets desired_resolve() decide who owns each pod.
 */
#include "supervisor/daemon/desired_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n > k && strcmp(s + n - k, suffix) == 0;
}

bool desired_manifest_name(const char *name) {
  /* Dot files: editors' swap and lock files (.web.yaml.swp, .#web.yaml),
   * the temp file an editor renames over the manifest. */
  if (name[0] == '.')
    return false;
  /* The extension decides the rest: backups and leftovers (web.yaml~,
   * web.yaml.bak, .orig, .rej, .tmp, #web.yaml#) never end in one of these.
   * The kubelet reads every file, so there a .bak copy silently wins. */
  size_t n = strlen(name);
  static const char *const exts[] = {".yaml", ".yml", ".json"};
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
    if (ends_with(name, n, exts[i]))
      return true;
  return false;
}

/* Index of name in s->files, or -(insertion point) - 1. */
static ssize_t files_search(const desired_set *s, const char *name) {
  size_t lo = 0, hi = s->n_files;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(name, s->files[mid]->name);
    if (c == 0)
      return (ssize_t)mid;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -(ssize_t)lo - 1;
}

static dfile *file_add(desired_set *s, size_t at, const char *name) {
  if (s->n_files == s->cap_files) {
    size_t cap = s->cap_files ? s->cap_files * 2 : 16;
    dfile **nv = realloc(s->files, cap * sizeof *nv);
    if (nv == NULL)
      return NULL;
    s->files = nv;
    s->cap_files = cap;
  }
  dfile *f = calloc(1, sizeof *f);
  if (f == NULL || (f->name = strdup(name)) == NULL ||
      asprintf(&f->path, "%s/%s", s->manifest_dir, name) < 0) {
    if (f != NULL)
      free(f->name);
    free(f);
    return NULL;
  }
  memmove(s->files + at + 1, s->files + at, (s->n_files - at) * sizeof *s->files);
  s->files[at] = f;
  s->n_files++;
  return f;
}

static int64_t ts_ns(const struct timespec *t) {
  return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static bool same_stat(const dfile *f, const struct stat *st) {
  return f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
         f->mtime_ns == ts_ns(&st->st_mtim) && f->ctime_ns == ts_ns(&st->st_ctim);
}

static int dspec_cmp(const void *a, const void *b) {
  const spec_pod *x = (*(dspec *const *)a)->pod, *y = (*(dspec *const *)b)->pod;
  return pod_cmp_key(x->ns, x->name, y->ns, y->name);
}

/* The diagnostics as diag_format lines, in file order. */
static int format_diags(diag_list *dl, char ***out, size_t *n) {
  diag_list_sort(dl);
  for (size_t i = 0; i < dl->n; i++) {
    char line[4096];
    diag_format(&dl->items[i], line, sizeof line);
    if (strv_push(out, n, line) < 0)
      return -1;
  }
  if (dl->truncated && strv_push(out, n, "(more diagnostics were left out)") < 0)
    return -1;
  return 0;
}

/* The pods of a valid parse as the file's new claims. */
static int take_good(spec_pod_list *l, dspec ***out, size_t *n) {
  dspec **v = calloc(l->n ? l->n : 1, sizeof *v);
  if (v == NULL)
    return -1;
  size_t k = 0;
  while (l->n > 0) {
    dspec *d = dspec_new(spec_pod_list_steal(l, 0));
    if (d == NULL) {
      for (size_t i = 0; i < k; i++)
        dspec_unref(v[i]);
      free(v);
      return -1;
    }
    v[k++] = d;
  }
  qsort(v, k, sizeof *v, dspec_cmp);
  *out = v;
  *n = k;
  return 0;
}

/* Parses f again.  1: parsed (valid or not), 0: the file is gone, -1: out
 * of memory (f is left as it was and read again next time). */
static int parse_file(desired_set *s, dfile *f, const struct stat *st, int64_t now_ns) {
  spec_pod_list l = {0};
  diag_list dl;
  diag_list_init(&dl);
  s->stats.files_parsed++;
  int r = spec_parse_file(f->path, 0, &l, &dl);
  int e = errno;
  char **diags = NULL;
  size_t n_diags = 0;
  dspec **good = NULL;
  size_t n_good = 0;
  int rc = 1;
  if (r < 0 && e == ENOENT)
    rc = 0;
  else if ((r < 0 && e == ENOMEM && dl.errors == 0) || format_diags(&dl, &diags, &n_diags) < 0 ||
           (r == 0 && take_good(&l, &good, &n_good) < 0))
    rc = -1;
  if (rc == 1) {
    strv_free(f->diags, f->n_diags);
    f->diags = diags;
    f->n_diags = n_diags;
    f->invalid = r < 0;
    f->n_errors = dl.errors;
    /* Empty, and written just now: `cat web.yaml > pods/web.yaml` truncates
     * before it writes, and a scan in between must not stop the pods.  The
     * file keeps its claims until it has stayed empty past the racy window
     * (the next scan after that reads it again, as for any racy file). */
    bool rewriting = r == 0 && st->st_size == 0 && f->n_good > 0 &&
                     now_ns - ts_ns(&st->st_mtim) < (int64_t)DESIRED_RACY_NS;
    if (rewriting) {
      free(good);
      good = NULL;
    } else if (r == 0) {
      for (size_t i = 0; i < f->n_good; i++)
        dspec_unref(f->good[i]);
      free(f->good);
      f->good = good;
      f->n_good = n_good;
    }
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = st->st_size;
    f->mtime_ns = ts_ns(&st->st_mtim);
    f->ctime_ns = ts_ns(&st->st_ctim);
    f->racy = now_ns - f->mtime_ns < (int64_t)DESIRED_RACY_NS;
  } else {
    strv_free(diags, n_diags);
    f->racy = true;
  }
  spec_pod_list_free(&l);
  diag_list_free(&dl);
  return rc;
}

/* One directory entry: 1 when the set of claims may have changed. */
static int scan_entry(desired_set *s, int dfd, const char *name, int64_t now_ns, bool *oom) {
  if (!desired_manifest_name(name))
    return 0;
  struct stat st;
  ssize_t at = files_search(s, name);
  dfile *f = at >= 0 ? s->files[at] : NULL;
  if (fstatat(dfd, name, &st, 0) < 0) {
    /* Gone since readdir: dropped below.  Another error (EACCES, EIO)
     * keeps what the file was, rather than removing its pods. */
    if (errno != ENOENT && f != NULL)
      f->seen = true;
    return 0;
  }
  if (!S_ISREG(st.st_mode))
    return 0;
  if (f != NULL && same_stat(f, &st) && !f->racy) {
    f->seen = true;
    return 0;
  }
  if (f == NULL && (f = file_add(s, (size_t)(-at - 1), name)) == NULL) {
    *oom = true;
    return 0;
  }
  int r = parse_file(s, f, &st, now_ns);
  if (r < 0)
    *oom = true;
  f->seen = r != 0;
  return r > 0;
}

/* Drops the files the scan did not see; true when there was one. */
static bool drop_unseen(desired_set *s) {
  size_t n = 0;
  bool dropped = false;
  for (size_t i = 0; i < s->n_files; i++) {
    if (s->files[i]->seen) {
      s->files[n++] = s->files[i];
    } else {
      dfile_free(s->files[i]);
      dropped = true;
    }
  }
  s->n_files = n;
  return dropped;
}

/* Reads the directory; -1 with err when it cannot be read (the files read
 * before an error keep their new state; none is dropped). */
static int read_dir(desired_set *s, int64_t now_ns, bool *changed, pv_err *err) {
  DIR *d = opendir(s->manifest_dir);
  if (d == NULL && errno != ENOENT)
    return pv_err_sys(err, "manifest directory %s", s->manifest_dir);
  for (size_t i = 0; i < s->n_files; i++)
    s->files[i]->seen = false;
  bool oom = false;
  int rc = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = d ? readdir(d) : NULL;
    if (e == NULL) {
      if (errno != 0)
        rc = pv_err_sys(err, "read manifest directory %s", s->manifest_dir);
      break;
    }
    *changed |= scan_entry(s, dirfd(d), e->d_name, now_ns, &oom) > 0;
  }
  if (d != NULL)
    closedir(d);
  if (rc == 0)
    *changed |= drop_unseen(s);
  if (rc == 0 && oom)
    rc = pv_err_set(err, ENOMEM, "manifest directory %s: out of memory (some files are read again next time)",
                    s->manifest_dir);
  return rc;
}

int desired_scan(desired_set *s, int64_t now_ns, desired_report *rep, pv_err *err) {
  if (s->manifest_dir == NULL)
    return pv_err_set(err, EINVAL, "desired pods: no manifest directory");
  bool changed = false;
  s->stats.scans++;
  int rc = read_dir(s, now_ns, &changed, err);
  if (!changed && s->scanned)
    return rc;
  uint64_t before = s->revision;
  pv_err rerr;
  if (desired_resolve(s, now_ns, rep, &rerr) < 0) {
    if (rc == 0 && err != NULL)
      *err = rerr;
    return -1;
  }
  if (rc == 0 && !s->scanned) {
    s->scanned = true; /* the remembered uids have been taken back */
    before = UINT64_MAX;
  }
  /* A failed write is told in the report; the next change writes it again. */
  if (s->revision != before)
    (void)state_save(s, rep ? &rep->persist : NULL);
  return rc;
}
