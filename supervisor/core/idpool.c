/* idpool.c - host id ranges for pod user namespaces (idpool.h). */
#include "supervisor/core/idpool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/util.h"

/* The kernel reserves (uid_t)-1; a range must end before it. */
#define ID_LIMIT 0xffffffffull

int idpool_config_check(const idpool_config *cfg, pv_err *err) {
  if (cfg->first < IDPOOL_RANGE || cfg->first % IDPOOL_RANGE != 0 || cfg->count == 0 ||
      (uint64_t)cfg->first + (uint64_t)cfg->count * IDPOOL_RANGE > ID_LIMIT)
    return pv_err_set(err, EINVAL,
                      "user namespace id pool %u:%u: the first id must be a multiple of %u (at least %u), "
                      "the count at least 1, and the pool must end below 4294967295",
                      cfg->first, cfg->count, IDPOOL_RANGE, IDPOOL_RANGE);
  return 0;
}

int idpool_config_parse(const char *what, const char *s, idpool_config *cfg, pv_err *err) {
  char *end;
  errno = 0;
  unsigned long long first = strtoull(s, &end, 10), count = 0;
  bool ok = errno == 0 && end != s && *end == ':' && s[0] >= '0' && s[0] <= '9';
  if (ok) {
    const char *c = end + 1;
    count = strtoull(c, &end, 10);
    ok = errno == 0 && end != c && *end == '\0' && c[0] >= '0' && c[0] <= '9' && first <= ID_LIMIT &&
         count <= ID_LIMIT;
  }
  if (!ok)
    return pv_err_set(err, EINVAL, "%s: '%s' is not FIRST:COUNT (a decimal host id and a number of ranges)",
                      what, s);
  idpool_config c = {.first = (uint32_t)first, .count = (uint32_t)count};
  if (idpool_config_check(&c, err) < 0)
    return pv_err_wrap(err, "%s", what);
  *cfg = c;
  return 0;
}

int idpool_config_from_env(idpool_config *cfg, pv_err *err) {
  cfg->first = IDPOOL_DEFAULT_FIRST;
  cfg->count = IDPOOL_DEFAULT_COUNT;
  const char *v = getenv(IDPOOL_ENV);
  if (v == NULL || *v == '\0')
    return 0;
  return idpool_config_parse(IDPOOL_ENV, v, cfg, err);
}

int idpool_config_setup(const char *what, const char *given, pv_err *err) {
  idpool_config cfg;
  if (given == NULL)
    return idpool_config_from_env(&cfg, err);
  if (idpool_config_parse(what, given, &cfg, err) < 0)
    return -1;
  char v[32];
  snprintf(v, sizeof v, "%u:%u", cfg.first, cfg.count);
  if (setenv(IDPOOL_ENV, v, 1) < 0)
    return pv_err_sys(err, "%s", what);
  return 0;
}

int idpool_owner_valid(const char *owner) {
  size_t n = owner != NULL ? strlen(owner) : 0;
  if (n == 0 || n > IDPOOL_OWNER_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = owner[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
          ch == '_' || ch == '-'))
      return 0;
  }
  return 1;
}

void idpool_table_free(idpool_table *t) {
  if (t == NULL)
    return;
  free(t->v);
  memset(t, 0, sizeof *t);
}

long idpool_find(const idpool_table *t, const char *owner) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->v[i].owner, owner) == 0)
      return (long)i;
  return -1;
}

static long find_base(const idpool_table *t, uint32_t base) {
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].base == base)
      return (long)i;
  return -1;
}

int idpool_add(idpool_table *t, const char *owner, uint32_t base) {
  if (!idpool_owner_valid(owner)) {
    errno = EINVAL;
    return -1;
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    idpool_entry *v = realloc(t->v, cap * sizeof *v);
    if (v == NULL)
      return -1;
    t->v = v;
    t->cap = cap;
  }
  size_t at = 0;
  while (at < t->n && t->v[at].base < base)
    at++;
  memmove(&t->v[at + 1], &t->v[at], (t->n - at) * sizeof *t->v);
  t->v[at].base = base;
  snprintf(t->v[at].owner, sizeof t->v[at].owner, "%s", owner);
  t->n++;
  return 0;
}

int idpool_remove(idpool_table *t, const char *owner) {
  long i = idpool_find(t, owner);
  if (i < 0)
    return 0;
  memmove(&t->v[i], &t->v[i + 1], (t->n - (size_t)i - 1) * sizeof *t->v);
  t->n--;
  return 1;
}

/* One line "<base> <owner>" (without its newline) into *t. */
static int parse_line(const char *name, int lineno, const char *s, size_t len, idpool_table *t, pv_err *err) {
  char line[128];
  if (len >= sizeof line)
    return pv_err_set(err, EINVAL, "%s: line %d: too long; the file is corrupt", name, lineno);
  memcpy(line, s, len);
  line[len] = '\0';
  char owner[IDPOOL_OWNER_MAX + 2];
  unsigned long long base;
  int used = 0;
  if (sscanf(line, "%llu %65s%n", &base, owner, &used) != 2 || line[0] < '0' || line[0] > '9' ||
      (size_t)used != len)
    return pv_err_set(err, EINVAL, "%s: line %d: expected \"<base> <owner>\"; the file is corrupt", name,
                      lineno);
  if (base < IDPOOL_RANGE || base % IDPOOL_RANGE != 0 || base + IDPOOL_RANGE > ID_LIMIT)
    return pv_err_set(err, EINVAL, "%s: line %d: %llu is no range of %u ids; the file is corrupt", name, lineno,
                      base, IDPOOL_RANGE);
  if (!idpool_owner_valid(owner))
    return pv_err_set(err, EINVAL, "%s: line %d: invalid owner '%.70s'; the file is corrupt", name, lineno,
                      owner);
  if (idpool_find(t, owner) >= 0 || find_base(t, (uint32_t)base) >= 0)
    return pv_err_set(err, EINVAL, "%s: line %d: owner %s or range %llu is listed twice; the file is corrupt",
                      name, lineno, owner, base);
  if (idpool_add(t, owner, (uint32_t)base) < 0)
    return pv_err_sys(err, "%s", name);
  return 0;
}

int idpool_parse(const char *name, const char *text, size_t len, idpool_table *t, pv_err *err) {
  memset(t, 0, sizeof *t);
  int lineno = 0;
  for (size_t off = 0; off < len;) {
    const char *nl = memchr(text + off, '\n', len - off);
    size_t n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
    lineno++;
    /* A line without its newline is a write cut short: never produced by
     * the atomic rename, so it is corruption too. */
    if (nl == NULL || (n > 0 && parse_line(name, lineno, text + off, n, t, err) < 0)) {
      if (nl == NULL)
        pv_err_set(err, EINVAL, "%s: line %d: no newline at its end; the file is corrupt", name, lineno);
      idpool_table_free(t);
      return -1;
    }
    off += n + 1;
  }
  return 0;
}

char *idpool_format(const idpool_table *t) {
  size_t cap = t->n * (IDPOOL_OWNER_MAX + 16) + 1, off = 0;
  char *s = malloc(cap);
  if (s == NULL)
    return NULL;
  s[0] = '\0';
  for (size_t i = 0; i < t->n; i++)
    off += (size_t)snprintf(s + off, cap - off, "%u %s\n", t->v[i].base, t->v[i].owner);
  return s;
}

int idpool_first_fit(const idpool_config *cfg, const idpool_table *t, uint32_t *base, pv_err *err) {
  /* The table is sorted: walk the slots and the entries together. */
  size_t i = 0;
  for (uint32_t k = 0; k < cfg->count; k++) {
    uint32_t b = cfg->first + k * IDPOOL_RANGE;
    while (i < t->n && t->v[i].base < b)
      i++;
    if (i == t->n || t->v[i].base != b) {
      *base = b;
      return 0;
    }
  }
  return pv_err_set(err, ENOSPC,
                    "user namespaces: all %u id ranges of the pool (host ids %u to %llu) are in use; "
                    "delete a pod with hostUsers: false or give a larger pool (--userns-pool FIRST:COUNT)",
                    cfg->count, cfg->first, (unsigned long long)cfg->first + (uint64_t)cfg->count * IDPOOL_RANGE - 1);
}

/* ---- the file, under the lock ---- */

struct locked {
  int lock_fd;
  char table[PATH_MAX];
  idpool_table t;
};

static void unlock(struct locked *l) {
  if (l->lock_fd >= 0)
    close(l->lock_fd); /* drops the flock */
  l->lock_fd = -1;
  idpool_table_free(&l->t);
}

/* Takes the lock (creating the directory when create is set) and loads the
 * table.  1 when there is no directory and create is not set. */
static int lock_load(const char *dir, bool create, struct locked *l, pv_err *err) {
  char path[PATH_MAX];
  memset(&l->t, 0, sizeof l->t);
  l->lock_fd = -1;
  if (pv_path(path, sizeof path, "%s/lock", dir) < 0 || pv_path(l->table, sizeof l->table, "%s/ranges", dir) < 0)
    return pv_err_sys(err, "user namespace ranges in %s", dir);
  if (create && pv_mkdir_p(dir, 0700, err) < 0)
    return -1;
  l->lock_fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (l->lock_fd < 0 && errno == ENOENT && !create)
    return 1;
  if (l->lock_fd < 0)
    return pv_err_sys(err, "open %s", path);
  int r;
  while ((r = flock(l->lock_fd, LOCK_EX)) < 0 && errno == EINTR) {
  }
  if (r < 0) {
    pv_err_sys(err, "lock %s", path);
    unlock(l);
    return -1;
  }
  char *text = NULL;
  size_t len = 0;
  if (pv_read_file(l->table, &text, &len, NULL) < 0) {
    if (errno == ENOENT)
      return 0;
    pv_err_sys(err, "read %s", l->table);
    unlock(l);
    return -1;
  }
  r = idpool_parse(l->table, text, len, &l->t, err);
  free(text);
  if (r < 0)
    unlock(l);
  return r;
}

static int store(struct locked *l, pv_err *err) {
  char *text = idpool_format(&l->t);
  if (text == NULL)
    return pv_err_sys(err, "write %s", l->table);
  int r = pv_write_file_atomic(l->table, text, strlen(text), 0600, err);
  free(text);
  return r;
}

int idpool_acquire(const char *state_dir, const idpool_config *cfg, const char *owner, uint32_t *base,
                   pv_err *err) {
  if (!idpool_owner_valid(owner))
    return pv_err_set(err, EINVAL, "user namespace range: invalid owner '%s'", owner != NULL ? owner : "");
  if (idpool_config_check(cfg, err) < 0)
    return -1;
  struct locked l;
  if (lock_load(state_dir, true, &l, err) != 0)
    return -1;
  int r = 0;
  long i = idpool_find(&l.t, owner);
  if (i >= 0) {
    *base = l.t.v[i].base;
  } else if ((r = idpool_first_fit(cfg, &l.t, base, err)) == 0) {
    if (idpool_add(&l.t, owner, *base) < 0)
      r = pv_err_sys(err, "user namespace range for %s", owner);
    else
      r = store(&l, err);
  }
  unlock(&l);
  return r;
}

int idpool_release(const char *state_dir, const char *owner, pv_err *err) {
  if (!idpool_owner_valid(owner))
    return 0;
  struct locked l;
  int r = lock_load(state_dir, false, &l, err);
  if (r != 0)
    return r > 0 ? 0 : -1;
  if (idpool_remove(&l.t, owner))
    r = store(&l, err);
  unlock(&l);
  return r;
}
