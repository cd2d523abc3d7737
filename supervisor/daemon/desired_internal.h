/*
 * desired_internal.h - the desired set's representation, shared by the
 * files of the module (desired.c: the set and its reports; desired_dir.c:
 * the manifest directory; desired_resolve.c: who owns each pod;
 * desired_store.c: what is on disk; desired_apply.c: API requests).
 * Nothing outside supervisor/daemon/desired*.c includes it.
 *
 * A parsed pod (dspec) is shared, counted, between the last good parse of a
 * manifest file and the desired pod whose state it is: a file re-parsed
 * during a conflict replaces its list, while the pod held at its last good
 * state keeps the old one.  A dspec's pod is the state of at most one
 * desired pod (the one of its namespace/name), which sets spec->uid; the
 * uid the manifest wrote is kept beside it for the next resolution.
 */
#ifndef PODVISOR_DAEMON_DESIRED_INTERNAL_H
#define PODVISOR_DAEMON_DESIRED_INTERNAL_H

#include <sys/types.h>

#include "supervisor/daemon/desired.h"

typedef struct dspec {
  spec_pod *pod;
  char *manifest_uid; /* metadata.uid as written, or NULL */
  unsigned refs;
} dspec;

/* A manifest file of the directory, as last seen. */
typedef struct dfile {
  char *name; /* the entry's name in the directory */
  char *path; /* <dir>/<name>, as diagnostics name it */
  dev_t dev;
  ino_t ino;
  off_t size;
  int64_t mtime_ns, ctime_ns;
  bool racy;       /* modified just before it was read: read it again next time */
  bool seen;       /* found by the scan in progress */
  bool invalid;    /* the last parse had an error */
  size_t n_errors; /* ... how many */
  dspec **good;    /* the last good parse's pods (the file's claims), sorted by pod */
  size_t n_good;
  char **diags; /* the last parse's diagnostics, diag_format lines */
  size_t n_diags;
} dfile;

typedef struct dpod {
  desired_pod pub; /* pub.spec == spec->pod */
  dspec *spec;
} dpod;

/* A file pod's instance as desired.json remembered it from the daemon's
 * previous run, until the first scan has taken it back. */
typedef struct dremembered {
  char *ns, *name;
  char uid[DESIRED_UID_MAX + 1];
  int64_t created_ns;
} dremembered;

struct desired_set {
  char *root, *manifest_dir, *applied_dir, *state_path;
  dpod **pods; /* sorted by namespace then name */
  size_t n_pods, cap_pods;
  dfile **files; /* sorted by name */
  size_t n_files, cap_files;
  desired_problem *problems; /* current, sorted (see problem_cmp) */
  size_t n_problems;
  desired_problem *corrupt; /* CORRUPT problems of the load, kept until close */
  size_t n_corrupt;
  dremembered *mem;
  size_t n_mem;
  bool scanned; /* a scan succeeded: mem is no longer needed */
  uint64_t revision;
  desired_stats stats;
};

/* --- desired.c -------------------------------------------------------------------- */

dspec *dspec_new(spec_pod *pod); /* takes pod; NULL on ENOMEM (pod freed) */
dspec *dspec_ref(dspec *d);
void dspec_unref(dspec *d);

int pod_cmp_key(const char *ns1, const char *n1, const char *ns2, const char *n2);
/* Index of ns/name in s->pods, or -(insertion point) - 1. */
ssize_t pods_search(const desired_set *s, const char *ns, const char *name);
/* Inserts p at index at of s->pods (pods_search's insertion point). */
int pods_insert(desired_set *s, size_t at, dpod *p);
void pods_remove(desired_set *s, size_t at); /* the pod is not freed */
void dpod_free(dpod *p);
void dfile_free(dfile *f);
/* Sets p->spec (a reference is taken) and the instance uid into its pod. */
int dpod_set_spec(dpod *p, dspec *d, const char *uid);

/* True when two pods would be stored alike: hash, labels, annotations. */
bool pod_same_content(const spec_pod *a, const spec_pod *b);

int report_change(desired_report *rep, desired_change_kind kind, const dpod *p, bool spec_changed);
int problem_copy(desired_problem *dst, const desired_problem *src);
void problem_clear(desired_problem *p);
int problem_cmp(const void *a, const void *b);
bool problem_same_identity(const desired_problem *a, const desired_problem *b);
bool problem_same_text(const desired_problem *a, const desired_problem *b);
/* Adds to rep what differs between the old and the new problem lists. */
int report_problems(desired_report *rep, const desired_problem *old, size_t n_old, const desired_problem *cur,
                    size_t n_cur);
/* *dst = a copy of src (NULL stays NULL); -1 on ENOMEM. */
int dup_str(char **dst, const char *src);
int strv_push(char ***v, size_t *n, const char *s);
void strv_free(char **v, size_t n);

/* --- desired_resolve.c ------------------------------------------------------------ */

/* Recomputes which pods are desired from the files' claims and the applied
 * pods, and the problems; reports the differences.  -1 on ENOMEM only
 * (then the set is as before). */
int desired_resolve(desired_set *s, int64_t now_ns, desired_report *rep, pv_err *err);

/* The files claiming ns/name, in name order: fills up to max, returns how many. */
size_t claims_of(const desired_set *s, const char *ns, const char *name, const dfile **out, size_t max);

/* --- desired_store.c -------------------------------------------------------------- */

int store_path(const desired_set *s, const char *ns, const char *name, char *buf, size_t len);
/* Writes an applied pod's file. */
int store_write(const desired_set *s, const desired_pod *p, pv_err *err);
/* Removes an applied pod's file (absent is fine) and syncs the directory. */
int store_remove(const desired_set *s, const char *ns, const char *name, pv_err *err);
/* Writes many applied pods' files at the cost of two syncs instead of two
 * each: every temp file is written, the file system synced once (syncfs),
 * then each is renamed into place, in order, and the directory synced.
 * Each file is replaced atomically, as by store_write.  *renamed: how many
 * (the first ones) are in place; on a failure before any rename nothing is
 * left behind. */
int store_write_many(const desired_set *s, const desired_pod *const *pods, size_t n, size_t *renamed,
                     pv_err *err);
/* Removes many pods' files, then syncs the directory once.  *removed: how
 * many (the first ones) are gone. */
int store_remove_many(const desired_set *s, const desired_pod *const *pods, size_t n, size_t *removed,
                      pv_err *err);
/* Writes desired.json: the revision and every file pod's instance. */
int state_save(const desired_set *s, pv_err *err);

#endif
