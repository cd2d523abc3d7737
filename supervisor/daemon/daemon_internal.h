/*
 * daemon_internal.h - the seam between the daemon's core (the loop, the pod
 * table, reconcile, events: daemon.c, daemon_config.c, daemon_log.c,
 * daemon_podtab.c, daemon_pods.c, daemon_reconcile.c, daemon_events.c) and
 * its API (daemon_api*.c, daemon_logs.c, daemon_exec.c).
 *
 * Who owns what:
 *  - The core owns the loop, the desired set (desired.h), the pod table
 *    (one pvd_pod per pod that has or had a shim, including pods being
 *    deleted), the event store and every podctl_shim handle.  Only the core
 *    changes them.
 *  - The API owns the listeners, the requests, the watch streams and the
 *    exec relays.  It reads the core's state through the functions below,
 *    changes desired state only through pvd_apply() and pvd_delete(), and
 *    talks to a shim itself only to restart a container or to exec (through
 *    podctl_conn on pvd_pod_paths()->socket).
 *  - The core tells the API of every change a watcher must see by calling
 *    pvd_api_pod_changed() and pvd_api_event(), synchronously, from the
 *    loop; the API must not call back into a function that changes the
 *    table from inside them.
 *
 * Everything runs on the loop thread.  Pointers returned by the lookups are
 * valid until control returns to the loop (the next callback may free
 * them).  Library rules: never exit(), errors as -1 with pv_err.
 */
#ifndef PODVISOR_DAEMON_DAEMON_INTERNAL_H
#define PODVISOR_DAEMON_DAEMON_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"
#include "supervisor/daemon/desired.h"
#include "supervisor/daemon/httpd.h"
#include "supervisor/daemon/plan.h"
#include "supervisor/podctl/podctl.h"
#include "supervisor/proto/podpaths.h"

#define PVD_DEFAULT_CONFIG "/etc/podvisor/daemon.yaml"
#define PVD_DEFAULT_MANIFESTS "/etc/podvisor/pods"
#define PVD_SOCKET_NAME "podvisor.sock" /* under <run-root> */
#define PVD_EXEC_SOCKET_NAME "exec.sock"
#define PVD_LOCK_NAME "daemon.lock"
#define PVD_TOKEN_NAME "token"
#define PVD_RESCAN_MS 20000 /* the kubelet's fileCheckFrequency */
#define PVD_EVENTS_MAX 1000 /* the event store keeps the newest this many */

/* ---- options (flags, then the config file for what flags did not set) ---- */

typedef enum pvd_log_level { PVD_LOG_DEBUG, PVD_LOG_INFO, PVD_LOG_WARN, PVD_LOG_ERROR } pvd_log_level;

typedef struct pvd_opts {
  char *root, *run_root, *manifests, *listen, *config;
  pvd_log_level log_level;
  bool listen_insecure; /* --listen on a non-loopback address */
  bool keep_pods;       /* at SIGTERM/SIGINT leave the shims running */
  unsigned rescan_ms;   /* the periodic full rescan */
  char *shim_path;      /* NULL: podctl_find_shim() */
  /* The pods' cgroup parent; NULL until start() resolves it
   * (resource_manager_pick_parent: nested when delegated). */
  char *cgroup_parent;
  /* The user namespace id pool "FIRST:COUNT" (idpool.h), checked; NULL:
   * the environment's PODVISOR_USERNS_POOL or the default.  Read at start. */
  char *userns_pool;
} pvd_opts;

/* ---- the pod table ----------------------------------------------------------------
 * One entry per pod that is desired (from a file or the API), or has a
 * keeper (a pod being deleted or recreated, a pod found running at start-up
 * that is no longer desired).  The API lists exactly these: a desired pod
 * takes its spec and metadata from desired_find(), one that is not (being
 * deleted) from `running`. */

typedef enum pvd_pod_state {
  PVD_POD_PENDING,   /* desired, no keeper yet: waiting to launch, or the launch failed */
  PVD_POD_LAUNCHING, /* podctl_launch() runs */
  PVD_POD_RUNNING,   /* a live keeper, watched */
  PVD_POD_STOPPING,  /* asked to stop (deleted, recreated, shutdown); its exit is awaited */
} pvd_pod_state;

typedef struct pvd_pod {
  char *ns, *name;
  char key[PODPATHS_KEY_LEN + 1];
  pvd_pod_state state;
  char uid[PODPATHS_UID_MAX + 1]; /* the instance uid it runs; "" unknown */
  spec_pod *running;              /* the snapshot its keeper runs (pod.json); NULL: unknown */
  char *status_json;              /* the keeper's latest status document, compact JSON (a parsed tree
                                     costs four times as much, for every pod); NULL: none yet */
  int64_t created_ns;             /* when its instance became desired (CLOCK_REALTIME) */
  int64_t deletion_ns;            /* != 0: being deleted (no longer desired); when it was asked */
  int64_t deletion_grace_s;       /* the grace period of that deletion */
  char *last_error;               /* the last launch's or keeper's failure, NULL none */
  uint64_t rv;                    /* the API's resourceVersion of the pod's last change */
} pvd_pod;

typedef struct pvd pvd; /* the daemon; see daemon.c */

/* The pod's status document parsed: a new reference (json_decref it), NULL
 * when it has none. */
static inline json_t *pvd_pod_status(const pvd_pod *p) {
  return p->status_json != NULL ? json_loads(p->status_json, 0, NULL) : NULL;
}

/* The pods of the table, sorted by namespace then name. */
size_t pvd_pods_count(const pvd *d);
const pvd_pod *pvd_pods_at(const pvd *d, size_t i);
const pvd_pod *pvd_pod_find(const pvd *d, const char *ns, const char *name);
/* The pod's paths (instance paths included once known), or NULL without a keeper. */
const podpaths *pvd_pod_paths(const pvd_pod *p);

/* The daemon's state the API reads. */
desired_set *pvd_desired(const pvd *d);
uv_loop_t *pvd_loop(const pvd *d);
const pvd_opts *pvd_options(const pvd *d);
const char *pvd_hostname(const pvd *d);
uint64_t pvd_resource_version(const pvd *d); /* the newest rv of any pod or event */
int64_t pvd_started_ns(const pvd *d);        /* when this daemon started (CLOCK_REALTIME) */
/* The API's own state, kept for it by the core (NULL until set). */
void *pvd_api_data(const pvd *d);
void pvd_set_api_data(pvd *d, void *data);

/* ---- what the API changes ------------------------------------------------------------ */

/* Runs a request (POST/PUT .../pods, POST .../apply) against the desired
 * set: desired_request_parse, plan_apply_compute into *plan (the caller
 * frees it with plan_apply_free) and, unless dry_run, desired_request_commit,
 * its events and a reconcile.  -1 with errno and err as desired_request_parse
 * and desired_request_commit give them (EINVAL: diagnostics in diags). */
int pvd_apply(pvd *d, const char *body, size_t len, const desired_apply_opts *o, bool dry_run,
              plan_apply *plan, diag_list *diags, pv_err *err);

/* Deletes an applied pod (desired_delete) and stops it gracefully:
 * grace_s -1 is the pod's terminationGracePeriodSeconds.  The pod stays in
 * the table, with deletion_ns set, until its keeper is gone.  -1 with
 * ENOENT or EPERM (a manifest file owns it; err names the file). */
int pvd_delete(pvd *d, const char *ns, const char *name, int64_t grace_s, pv_err *err);

/* ---- events ---------------------------------------------------------------------------- */

typedef struct pvd_event {
  char name[96]; /* "<pod>.<hex ns of first>" */
  uint64_t rv;   /* of its last change */
  char *ns, *pod, *pod_uid;
  char *container; /* NULL: about the pod */
  bool init_container;
  char *reason, *message;
  bool warning;
  int64_t first, last; /* CLOCK_REALTIME ns */
  int count;           /* an event repeated (same pod, container, reason, message) counts up */
} pvd_event;

/* Records an event (and logs it); pod_uid, container and message may be NULL. */
void pvd_eventf(pvd *d, const char *ns, const char *pod, const char *pod_uid, const char *container,
                bool init_container, bool warning, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));
/* The stored events, oldest first. */
size_t pvd_events_count(const pvd *d);
const pvd_event *pvd_events_at(const pvd *d, size_t i);

/* ---- the log ---------------------------------------------------------------------------- */

/* One logfmt line on stderr: time=RFC3339 level=L msg="..." [pod=NS/NAME]
 * then the extra "key=value" pairs the format gives; below the configured
 * level nothing.  ns and name may be NULL. */
void pvd_log(const pvd *d, pvd_log_level level, const char *ns, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- the API's side (daemon_api*.c), called by the core --------------------------- */

typedef enum pvd_watch_type { PVD_WATCH_ADDED, PVD_WATCH_MODIFIED, PVD_WATCH_DELETED } pvd_watch_type;

/* Opens the unix socket (and --listen's TCP listener) and exec.sock. */
int pvd_api_start(pvd *d, pv_err *err);
/* Closes them (streams ended, pending requests answered); done(d) once closed. */
void pvd_api_close(pvd *d, void (*done)(pvd *d));
/* A pod was added to what the API lists, changed (status, spec, deletion),
 * or left it (DELETED: called while the pod can still be looked up). */
void pvd_api_pod_changed(pvd *d, const char *ns, const char *name, pvd_watch_type t);
/* An event was recorded (modified: an existing one counted up). */
void pvd_api_event(pvd *d, const pvd_event *e, bool modified);

#endif
