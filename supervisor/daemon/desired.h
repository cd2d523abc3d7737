/*
 * desired.h - the daemon's desired pods, from two sources owned separately:
 * the manifest directory and the pods applied through the API.
 *
 * What it is for: the reconciler (plan.h) compares this set against what the
 * shims run; the API lists it, and the daemon turns each report (what a scan,
 * an apply or a delete changed) into Kubernetes events.
 *
 * The manifest directory (desired_scan):
 *  - Only regular files (symlinks are followed) named *.yaml, *.yml or *.json
 *    count, dot files excepted: editor and patch leftovers (`~`, .swp, .swo,
 *    .bak, .tmp, .orig, .rej, #name#) never end in those, an editor's temp
 *    and swap files start with a dot (desired_manifest_name()).
 *  - Each file is parsed with spec_parse_file, all-or-nothing: a file with
 *    one error contributes nothing new.  A file that becomes invalid keeps
 *    the last good desired state of the pods it declared; its diagnostics
 *    (diag_format's text, as `podvisor validate` prints them) are kept as a
 *    DESIRED_PROBLEM_INVALID.  A file that was never valid declares nothing.
 *  - Two or more files that declare one namespace/name are all refused for
 *    that pod (DESIRED_PROBLEM_CONFLICT naming every file).  A pod that was
 *    desired before keeps its state, held, until only one file declares it.
 *  - A file that declares an applied pod is refused for that pod
 *    (DESIRED_PROBLEM_APPLIED); the applied pod is never touched.
 *  - A removed file removes its pods (unless another file alone declares them).
 *  - An empty file modified less than DESIRED_RACY_NS before the scan is
 *    taken as half-written (a shell's `>` truncates first) and keeps the
 *    pods it declared; once it has stayed empty that long, it declares
 *    nothing, as an emptied file should.
 *  - Re-scans are incremental: a file whose dev, inode, size, mtime and ctime
 *    are unchanged is not read again.  A file modified less than
 *    DESIRED_RACY_NS before the scan is parsed again on the next scan as
 *    well, since a second write within one tick of the file system's clock
 *    would not change its stat.  desired_stats() counts the parses.
 *  - An absent directory is an empty one.  A directory that cannot be read
 *    fails the scan and changes nothing.
 *
 * Applied pods (desired_apply, desired_delete):
 *  - Stored under <root>/applied/, one file per pod, <namespace>_<name>.json
 *    (neither may hold '_'), written with pv_write_file_atomic (temp file,
 *    fsync, rename, fsync of the directory).  The file is a JSON object with
 *    the instance's uid, creation time and resourceVersion and, as a string,
 *    the pod as podjson_pod_text writes it (a valid Kubernetes Pod).
 *  - desired_open loads them all.  A file that cannot be read back as one
 *    valid pod matching its name is renamed aside to <file>.corrupt (or
 *    .corrupt.N) and reported (DESIRED_PROBLEM_CORRUPT), never dropped in
 *    silence.  Leftover temp files of an interrupted write are removed.
 *  - A request is all-or-nothing: every document is parsed and checked
 *    first; one invalid document, one ownership conflict, one pod that
 *    exists on create or is missing on replace refuses the whole request
 *    and changes nothing, in memory or on disk.
 *  - Ownership: a pod declared by a manifest file (desired or held in a
 *    conflict) cannot be created, replaced or deleted through the API: -1
 *    with EPERM and a message naming the file (the API's 409 Conflict).
 *
 * Each desired pod has its spec (with hashes; spec->uid is set to the
 * instance uid), its source, its creation time, a resourceVersion, and a
 * stable instance uid: metadata.uid when the manifest gives one, else a
 * random UUID made when the pod first became desired, kept across edits of
 * the pod (an edit is an update, never a new pod) and across restarts of the
 * daemon (applied pods in their file; file pods in <root>/desired.json).  A
 * pod that stops being desired and comes back later is a new instance.
 * resourceVersion is a counter of the whole set, persisted, bumped on every
 * change of a pod (its spec, labels, annotations, uid or source) and on
 * its removal.
 *
 * Ownership and lifetime: the set owns its pods; the pointers desired_at and
 * desired_find return stay valid until the next call that changes the set
 * (scan, apply, delete, close).  A report owns copies of what it names.
 * Time is passed in (now_ns: CLOCK_REALTIME nanoseconds, compared with file
 * mtimes and used as creation time).  Blocking file I/O only (the daemon
 * runs these off its loop or accepts a few ms).  Never prints, never exits.
 * 0 or -1 with errno and err; every *_free accepts NULL.
 */
#ifndef PODVISOR_DAEMON_DESIRED_H
#define PODVISOR_DAEMON_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"

#define DESIRED_UID_MAX 63                      /* a DNS-1123 label, like metadata.uid */
#define DESIRED_RACY_NS (1000ull * 1000 * 1000) /* see "Re-scans are incremental" */
#define DESIRED_STATE_FILE "desired.json"       /* under <root> */
#define DESIRED_APPLIED_DIR "applied"           /* under <root> */
#define DESIRED_SOURCE_API "api"                /* desired_pod_source() of an applied pod */

typedef struct desired_set desired_set;

typedef enum desired_origin {
  DESIRED_FROM_FILE = 0, /* a manifest file of the directory */
  DESIRED_FROM_API,      /* applied, stored under <root>/applied/ */
} desired_origin;

typedef struct desired_pod {
  spec_pod *spec; /* validated, hashed; spec->uid == uid; its labels and annotations */
  char uid[DESIRED_UID_MAX + 1];
  desired_origin origin;
  char *file;                /* FILE: the manifest's path; API: NULL */
  int64_t created_ns;        /* when the pod first became desired (CLOCK_REALTIME) */
  uint64_t resource_version; /* the set's counter at the pod's last change */
  bool held;                 /* FILE: kept at its last good state (file invalid, or a conflict) */
} desired_pod;

typedef enum desired_problem_kind {
  DESIRED_PROBLEM_INVALID = 0, /* file: its diagnostics; its pods keep their last good state */
  DESIRED_PROBLEM_CONFLICT,    /* pod: declared by several files (files[]), refused for all */
  DESIRED_PROBLEM_APPLIED,     /* file + pod: the file declares a pod applied through the API */
  DESIRED_PROBLEM_CORRUPT,     /* file: an applied pod's file that could not be loaded, set aside */
} desired_problem_kind;

typedef struct desired_problem {
  desired_problem_kind kind;
  char *file;      /* INVALID, APPLIED, CORRUPT: the file concerned; CONFLICT: NULL */
  char *ns, *name; /* CONFLICT, APPLIED: the pod; else NULL */
  char **files;    /* CONFLICT: every file declaring the pod, sorted; n_files >= 2 */
  size_t n_files;
  char **diags; /* INVALID: diag_format lines, errors and warnings, sorted; CORRUPT: one */
  size_t n_diags;
  char *message; /* one line for an event's message */
} desired_problem;

typedef enum desired_change_kind {
  DESIRED_ADDED = 0,
  DESIRED_CHANGED, /* spec, labels, annotations, uid or source changed */
  DESIRED_REMOVED,
} desired_change_kind;

typedef struct desired_change {
  desired_change_kind kind;
  char *ns, *name;
  char *source; /* the new source (REMOVED: the last one): a path or "api" */
  char uid[DESIRED_UID_MAX + 1];
  uint64_t resource_version; /* the one of this change (a removal is a change too) */
  bool spec_changed;         /* CHANGED: the pod's hash or uid changed (else only metadata) */
} desired_change;

/* What one scan, load, apply or delete changed.  A problem whose identity
 * (kind, file, pod) is new, or whose text changed, is in added_problems; one
 * whose identity is gone is in resolved_problems. */
typedef struct desired_report {
  desired_change *changes; /* sorted by namespace/name */
  size_t n_changes;
  desired_problem *added_problems, *resolved_problems;
  size_t n_added_problems, n_resolved_problems;
  /* The change is made, in memory and for applied pods on disk, but
   * <root>/desired.json could not be written: a restart would give the
   * file pods new uids.  code 0 when it was written. */
  pv_err persist;
} desired_report;

typedef struct desired_stats {
  uint64_t scans;        /* desired_scan calls that read the directory */
  uint64_t files_parsed; /* manifest files read and parsed (unchanged ones are not) */
  size_t files;          /* manifest files currently known */
} desired_stats;

typedef struct desired_opts {
  const char *root;         /* <root>; applied/ and desired.json live there */
  const char *manifest_dir; /* the watched directory; NULL: none (desired_scan fails) */
} desired_opts;

/* Opens the set: creates <root>/applied/ (0700) when missing, loads the
 * state file and every applied pod.  The directory is not read yet (call
 * desired_scan).  rep (may be NULL) gets the applied pods as ADDED and the
 * corrupt files as problems. */
int desired_open(const desired_opts *o, desired_set **out, desired_report *rep, pv_err *err);
void desired_close(desired_set *s);

/* Reads the manifest directory and merges it into the set (see above). */
int desired_scan(desired_set *s, int64_t now_ns, desired_report *rep, pv_err *err);

/* The desired pods, sorted by namespace then name. */
size_t desired_count(const desired_set *s);
const desired_pod *desired_at(const desired_set *s, size_t i);
const desired_pod *desired_find(const desired_set *s, const char *ns, const char *name);
/* The path of the pod's manifest file, or DESIRED_SOURCE_API. */
const char *desired_pod_source(const desired_pod *p);

/* Every current problem, sorted by kind, then file, then pod. */
size_t desired_problem_count(const desired_set *s);
const desired_problem *desired_problem_at(const desired_set *s, size_t i);
/* The problems that concern one pod (for describe and its conditions):
 * its own file's INVALID, its CONFLICT, the APPLIED of files declaring it.
 * Fills up to max pointers, returns how many there are. */
size_t desired_pod_problems(const desired_set *s, const char *ns, const char *name,
                            const desired_problem **out, size_t max);

/* The file that declares ns/name, when one does (the first in name order
 * when several do): the pod's owner in the API's 409 messages.  NULL when
 * no manifest file declares it. */
const char *desired_claiming_file(const desired_set *s, const char *ns, const char *name);

void desired_stats_get(const desired_set *s, desired_stats *st);

/* True when the directory scan considers a file of this name (see above). */
bool desired_manifest_name(const char *name);

/* --- applied pods ---------------------------------------------------------------- */

typedef enum desired_apply_mode {
  DESIRED_APPLY = 0, /* create or update each pod (`podvisor apply`) */
  DESIRED_CREATE,    /* every pod must be new: else EEXIST (POST .../pods) */
  DESIRED_REPLACE,   /* every pod must exist: else ENOENT (PUT .../pods/{name}) */
} desired_apply_mode;

typedef struct desired_apply_opts {
  desired_apply_mode mode;
  bool prune;        /* APPLY: also delete every applied pod the request does not name */
  const char *label; /* names the request in diagnostics; NULL: "<request>" */
  /* The request's namespace (the URL's), or NULL.  A pod of another
   * namespace is refused (EINVAL), except one in "default", which is moved
   * into ns: spec/ gives "default" to a pod without metadata.namespace and
   * does not tell the two apart, so an explicit "default" is moved too. */
  const char *ns;
  const char *name; /* REPLACE: the URL's name: the request must be that one pod */
} desired_apply_opts;

/* Parses and checks a request body (YAML or JSON, one or many documents,
 * need not be NUL-terminated) against the set; nothing is changed.  0 with
 * the pods in *pods (empty on entry; the caller frees them), or -1 with
 * errno: EINVAL (diagnostics in diags, every one of every document; or a
 * request without pods, or against ns/name), EPERM (a pod a manifest file
 * owns: err names the file), EEXIST (CREATE), ENOENT (REPLACE), ENOMEM. */
int desired_request_parse(const desired_set *s, const char *body, size_t len, const desired_apply_opts *o,
                          spec_pod_list *pods, diag_list *diags, pv_err *err);

/* Commits a request desired_request_parse accepted just now (the set has
 * not changed since): takes the pods out of *pods, writes every new or
 * changed pod's file, removes the pruned ones, then updates the set.  A pod
 * identical to its stored state (hash, labels, annotations, uid) is left
 * alone.  On a write error everything already written is restored and the
 * set is unchanged: -1 with err. */
int desired_request_commit(desired_set *s, spec_pod_list *pods, const desired_apply_opts *o, int64_t now_ns,
                           desired_report *rep, pv_err *err);

/* desired_request_parse then desired_request_commit. */
int desired_apply(desired_set *s, const char *body, size_t len, const desired_apply_opts *o, int64_t now_ns,
                  desired_report *rep, diag_list *diags, pv_err *err);

/* Deletes an applied pod: its file, then the pod.  -1 with ENOENT (no such
 * pod) or EPERM (a manifest file declares it; err names the file).  A file
 * that declared the same pod (DESIRED_PROBLEM_APPLIED) takes it over. */
int desired_delete(desired_set *s, const char *ns, const char *name, int64_t now_ns, desired_report *rep,
                   pv_err *err);

/* Releases what a report holds and zeroes it. */
void desired_report_free(desired_report *rep);

/* A new random instance uid: a version 4 UUID in lower case. */
void desired_new_uid(char out[DESIRED_UID_MAX + 1]);

#endif
