/* desired.c - the desired set: its pods, problems and reports (see desired.h). */
#include "supervisor/daemon/desired_internal.h"

#include <errno.h>
#include <sha256.h> /* libmd */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "spec/hash.h"

/* --- shared parsed pods ----------------------------------------------------------- */

dspec *dspec_new(spec_pod *pod) {
  dspec *d = calloc(1, sizeof *d);
  if (d == NULL || (pod->uid != NULL && (d->manifest_uid = strdup(pod->uid)) == NULL)) {
    free(d);
    spec_pod_free(pod);
    return NULL;
  }
  d->pod = pod;
  d->refs = 1;
  return d;
}

dspec *dspec_ref(dspec *d) {
  d->refs++;
  return d;
}

void dspec_unref(dspec *d) {
  if (d == NULL || --d->refs > 0)
    return;
  spec_pod_free(d->pod);
  free(d->manifest_uid);
  free(d);
}

/* --- pods ------------------------------------------------------------------------- */

int pod_cmp_key(const char *ns1, const char *n1, const char *ns2, const char *n2) {
  int c = strcmp(ns1, ns2);
  return c != 0 ? c : strcmp(n1, n2);
}

ssize_t pods_search(const desired_set *s, const char *ns, const char *name) {
  size_t lo = 0, hi = s->n_pods;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const spec_pod *p = s->pods[mid]->pub.spec;
    int c = pod_cmp_key(ns, name, p->ns, p->name);
    if (c == 0)
      return (ssize_t)mid;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -(ssize_t)lo - 1;
}

int pods_insert(desired_set *s, size_t at, dpod *p) {
  if (s->n_pods == s->cap_pods) {
    size_t cap = s->cap_pods ? s->cap_pods * 2 : 16;
    dpod **nv = realloc(s->pods, cap * sizeof *nv);
    if (nv == NULL)
      return -1;
    s->pods = nv;
    s->cap_pods = cap;
  }
  memmove(s->pods + at + 1, s->pods + at, (s->n_pods - at) * sizeof *s->pods);
  s->pods[at] = p;
  s->n_pods++;
  return 0;
}

void pods_remove(desired_set *s, size_t at) {
  memmove(s->pods + at, s->pods + at + 1, (s->n_pods - at - 1) * sizeof *s->pods);
  s->n_pods--;
}

void dpod_free(dpod *p) {
  if (p == NULL)
    return;
  dspec_unref(p->spec);
  free(p->pub.file);
  free(p);
}

int dpod_set_spec(dpod *p, dspec *d, const char *uid) {
  char *u = strdup(uid);
  if (u == NULL)
    return -1;
  free(d->pod->uid);
  d->pod->uid = u;
  dspec_ref(d);
  dspec_unref(p->spec);
  p->spec = d;
  p->pub.spec = d->pod;
  snprintf(p->pub.uid, sizeof p->pub.uid, "%s", uid);
  return 0;
}

static bool kvs_equal(const spec_kvs *a, const spec_kvs *b) {
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->items[i].key, b->items[i].key) != 0 || strcmp(a->items[i].value, b->items[i].value) != 0)
      return false;
  return true;
}

bool pod_same_content(const spec_pod *a, const spec_pod *b) {
  return strcmp(a->hash, b->hash) == 0 && kvs_equal(&a->labels, &b->labels) &&
         kvs_equal(&a->annotations, &b->annotations);
}

size_t desired_count(const desired_set *s) {
  return s->n_pods;
}

const desired_pod *desired_at(const desired_set *s, size_t i) {
  return i < s->n_pods ? &s->pods[i]->pub : NULL;
}

const desired_pod *desired_find(const desired_set *s, const char *ns, const char *name) {
  ssize_t i = pods_search(s, ns, name);
  return i >= 0 ? &s->pods[i]->pub : NULL;
}

const char *desired_pod_source(const desired_pod *p) {
  return p->origin == DESIRED_FROM_FILE ? p->file : DESIRED_SOURCE_API;
}

void desired_stats_get(const desired_set *s, desired_stats *st) {
  *st = s->stats;
  st->files = s->n_files;
}

/* --- string vectors --------------------------------------------------------------- */

int strv_push(char ***v, size_t *n, const char *s) {
  char *c = strdup(s);
  char **nv = c ? realloc(*v, (*n + 1) * sizeof *nv) : NULL;
  if (nv == NULL) {
    free(c);
    return -1;
  }
  nv[(*n)++] = c;
  *v = nv;
  return 0;
}

void strv_free(char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static bool strv_equal(char *const *a, size_t na, char *const *b, size_t nb) {
  if (na != nb)
    return false;
  for (size_t i = 0; i < na; i++)
    if (strcmp(a[i], b[i]) != 0)
      return false;
  return true;
}

/* --- problems --------------------------------------------------------------------- */

void problem_clear(desired_problem *p) {
  free(p->file);
  free(p->ns);
  free(p->name);
  strv_free(p->files, p->n_files);
  strv_free(p->diags, p->n_diags);
  free(p->message);
  *p = (desired_problem){0};
}

int dup_str(char **dst, const char *src) {
  *dst = src ? strdup(src) : NULL;
  return src && *dst == NULL ? -1 : 0;
}

int problem_copy(desired_problem *dst, const desired_problem *src) {
  *dst = (desired_problem){.kind = src->kind};
  int r = dup_str(&dst->file, src->file) | dup_str(&dst->ns, src->ns) | dup_str(&dst->name, src->name) |
          dup_str(&dst->message, src->message);
  for (size_t i = 0; r == 0 && i < src->n_files; i++)
    r = strv_push(&dst->files, &dst->n_files, src->files[i]);
  for (size_t i = 0; r == 0 && i < src->n_diags; i++)
    r = strv_push(&dst->diags, &dst->n_diags, src->diags[i]);
  if (r != 0) {
    problem_clear(dst);
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

static int cmp_opt(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return (a != NULL) - (b != NULL);
  return strcmp(a, b);
}

int problem_cmp(const void *va, const void *vb) {
  const desired_problem *a = va, *b = vb;
  if (a->kind != b->kind)
    return a->kind < b->kind ? -1 : 1;
  int c = cmp_opt(a->file, b->file);
  if (c == 0)
    c = cmp_opt(a->ns, b->ns);
  return c != 0 ? c : cmp_opt(a->name, b->name);
}

bool problem_same_identity(const desired_problem *a, const desired_problem *b) {
  return problem_cmp(a, b) == 0;
}

bool problem_same_text(const desired_problem *a, const desired_problem *b) {
  return cmp_opt(a->message, b->message) == 0 && strv_equal(a->files, a->n_files, b->files, b->n_files) &&
         strv_equal(a->diags, a->n_diags, b->diags, b->n_diags);
}

static int push_problem(desired_problem **v, size_t *n, const desired_problem *p) {
  desired_problem *nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (nv == NULL)
    return -1;
  *v = nv;
  if (problem_copy(&nv[*n], p) < 0)
    return -1;
  (*n)++;
  return 0;
}

int report_problems(desired_report *rep, const desired_problem *old, size_t n_old, const desired_problem *cur,
                    size_t n_cur) {
  if (rep == NULL)
    return 0;
  size_t i = 0, j = 0;
  int r = 0;
  while (r == 0 && (i < n_old || j < n_cur)) {
    int c = i == n_old ? 1 : j == n_cur ? -1 : problem_cmp(&old[i], &cur[j]);
    if (c < 0) {
      r = push_problem(&rep->resolved_problems, &rep->n_resolved_problems, &old[i++]);
    } else if (c > 0) {
      r = push_problem(&rep->added_problems, &rep->n_added_problems, &cur[j++]);
    } else {
      if (!problem_same_text(&old[i], &cur[j]))
        r = push_problem(&rep->added_problems, &rep->n_added_problems, &cur[j]);
      i++;
      j++;
    }
  }
  return r;
}

size_t desired_problem_count(const desired_set *s) {
  return s->n_problems;
}

const desired_problem *desired_problem_at(const desired_set *s, size_t i) {
  return i < s->n_problems ? &s->problems[i] : NULL;
}

static bool problem_concerns(const desired_problem *p, const desired_pod *d, const char *ns,
                             const char *name) {
  switch (p->kind) {
  case DESIRED_PROBLEM_INVALID:
    return d != NULL && d->origin == DESIRED_FROM_FILE && strcmp(p->file, d->file) == 0;
  case DESIRED_PROBLEM_CONFLICT:
  case DESIRED_PROBLEM_APPLIED: return strcmp(p->ns, ns) == 0 && strcmp(p->name, name) == 0;
  case DESIRED_PROBLEM_CORRUPT: break;
  }
  return false;
}

size_t desired_pod_problems(const desired_set *s, const char *ns, const char *name,
                            const desired_problem **out, size_t max) {
  const desired_pod *d = desired_find(s, ns, name);
  size_t n = 0;
  for (size_t i = 0; i < s->n_problems; i++) {
    if (!problem_concerns(&s->problems[i], d, ns, name))
      continue;
    if (n < max)
      out[n] = &s->problems[i];
    n++;
  }
  return n;
}

const char *desired_claiming_file(const desired_set *s, const char *ns, const char *name) {
  const dfile *f = NULL;
  return claims_of(s, ns, name, &f, 1) > 0 ? f->path : NULL;
}

/* --- reports ---------------------------------------------------------------------- */

int report_change(desired_report *rep, desired_change_kind kind, const dpod *p, bool spec_changed) {
  if (rep == NULL)
    return 0;
  desired_change *nv = realloc(rep->changes, (rep->n_changes + 1) * sizeof *nv);
  if (nv == NULL)
    return -1;
  rep->changes = nv;
  desired_change *c = &nv[rep->n_changes];
  *c = (desired_change){
      .kind = kind, .resource_version = p->pub.resource_version, .spec_changed = spec_changed};
  snprintf(c->uid, sizeof c->uid, "%s", p->pub.uid);
  c->ns = strdup(p->pub.spec->ns);
  c->name = strdup(p->pub.spec->name);
  c->source = strdup(desired_pod_source(&p->pub));
  if (c->ns == NULL || c->name == NULL || c->source == NULL) {
    free(c->ns);
    free(c->name);
    free(c->source);
    return -1;
  }
  rep->n_changes++;
  return 0;
}

void desired_report_free(desired_report *rep) {
  if (rep == NULL)
    return;
  for (size_t i = 0; i < rep->n_changes; i++) {
    free(rep->changes[i].ns);
    free(rep->changes[i].name);
    free(rep->changes[i].source);
  }
  free(rep->changes);
  for (size_t i = 0; i < rep->n_added_problems; i++)
    problem_clear(&rep->added_problems[i]);
  for (size_t i = 0; i < rep->n_resolved_problems; i++)
    problem_clear(&rep->resolved_problems[i]);
  free(rep->added_problems);
  free(rep->resolved_problems);
  *rep = (desired_report){0};
}

/* --- uids ------------------------------------------------------------------------- */

/* Without entropy yet (early boot, GRND_NONBLOCK refused), the time, the pid
 * and a counter still make a uid unique on this host. */
static void fallback_bytes(unsigned char out[16]) {
  static unsigned long counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char seed[96];
  int n = snprintf(seed, sizeof seed, "%lld.%ld.%d.%lu", (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(),
                   ++counter);
  SHA256_CTX md;
  uint8_t d[SHA256_DIGEST_LENGTH];
  SHA256Init(&md);
  SHA256Update(&md, (const uint8_t *)seed, (size_t)n);
  SHA256Final(d, &md);
  memcpy(out, d, 16);
}

void desired_new_uid(char out[DESIRED_UID_MAX + 1]) {
  unsigned char b[16];
  ssize_t r;
  do
    r = getrandom(b, sizeof b, GRND_NONBLOCK);
  while (r < 0 && errno == EINTR);
  if (r != (ssize_t)sizeof b)
    fallback_bytes(b);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  char hex[33];
  hash_hex(b, 16, hex);
  snprintf(out, DESIRED_UID_MAX + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* --- close ------------------------------------------------------------------------ */

void dfile_free(dfile *f) {
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->n_good; i++)
    dspec_unref(f->good[i]);
  free(f->good);
  strv_free(f->diags, f->n_diags);
  free(f->name);
  free(f->path);
  free(f);
}

void desired_close(desired_set *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_pods; i++)
    dpod_free(s->pods[i]);
  free(s->pods);
  for (size_t i = 0; i < s->n_files; i++)
    dfile_free(s->files[i]);
  free(s->files);
  for (size_t i = 0; i < s->n_problems; i++)
    problem_clear(&s->problems[i]);
  free(s->problems);
  for (size_t i = 0; i < s->n_corrupt; i++)
    problem_clear(&s->corrupt[i]);
  free(s->corrupt);
  for (size_t i = 0; i < s->n_mem; i++) {
    free(s->mem[i].ns);
    free(s->mem[i].name);
  }
  free(s->mem);
  free(s->root);
  free(s->manifest_dir);
  free(s->applied_dir);
  free(s->state_path);
  free(s);
}
