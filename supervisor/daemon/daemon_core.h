/*
 * daemon_core.h - what the daemon's core files (daemon.c, daemon_config.c,
 * daemon_log.c, daemon_podtab.c, daemon_pods.c, daemon_reconcile.c,
 * daemon_events.c) share among themselves; the API sees only daemon_internal.h.
 *
 * The loop's state is one struct pvd, owned by daemon_main() for the whole
 * run.  The pod table is an array of pvd_entry pointers sorted by
 * namespace/name; an entry embeds the pvd_pod the API reads (first member,
 * so that pvd_pods_at() hands out &e->pub) and owns its podctl_shim handle.
 * An entry is freed only by dpods_remove(), never from inside one of its
 * shim's callbacks' callers: the handle is closed first (podctl calls
 * nothing after podctl_shim_close() but `closed`, which the core leaves
 * unset).
 *
 * Who changes what: daemon_podtab.c makes, finds and frees entries and
 * removes what a pod leaves on disk; daemon_pods.c changes entries (launch,
 * adopt, stop, update, exits, status) and calls daemon_podtab.c, never the
 * reverse; daemon_reconcile.c decides what to ask of them
 * and when; daemon_events.c keeps the event store; daemon.c owns the
 * handles of the loop (signals, timers, the directory watch) and the
 * order of start-up and shutdown.
 */
#ifndef PODVISOR_DAEMON_DAEMON_CORE_H
#define PODVISOR_DAEMON_DAEMON_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "supervisor/daemon/daemon_internal.h"
#include "supervisor/daemon/debounce.h"
#include "supervisor/daemon/memtrim.h"

/* What the stop of a pod is for: it decides what follows its keeper's exit. */
typedef enum pvd_intent {
  PVD_INTENT_NONE = 0,
  PVD_INTENT_RECREATE, /* launch it again with the desired spec */
  PVD_INTENT_DELETE,   /* remove its run dir, data and logs, then the entry */
  PVD_INTENT_SHUTDOWN, /* the daemon stops */
} pvd_intent;

typedef struct pvd_entry {
  pvd_pod pub; /* first: pvd_pods_at() returns &e->pub */
  pvd *d;
  podctl_shim *shim;            /* NULL: no handle */
  bool shim_alive;              /* its keeper's process lives (launched or adopted) */
  bool had_keeper;              /* a keeper ran and its run dir may be there: relaunch, not create */
  bool listed;                  /* the API was told ADDED */
  pvd_intent intent;            /* while STOPPING, or LAUNCHING a keeper only to stop it */
  bool update_refused;          /* the keeper refused a container update: the pod is recreated instead */
  unsigned updating;            /* container updates in flight */
  unsigned failures;            /* consecutive launch failures */
  uint64_t asked_kill_until_ms; /* uv_now() until which a run that ends is one the daemon asked to end */
  uint64_t retry_at_ms;         /* uv_now() before which no launch is tried again; 0 none */
  spec_pod *launch_spec;        /* the copy a launch runs (podctl borrows it until `launched`) */
  podctl_conn *conn;            /* the connection of the container updates in flight */
  bool have_paths;
  podpaths paths; /* the run directory's, the instance's once the uid is known */
} pvd_entry;

/* A run directory found at start-up whose keeper was still starting. */
typedef struct pvd_starting {
  char key[PODPATHS_KEY_LEN + 1];
  unsigned tries;
} pvd_starting;

struct pvd {
  uv_loop_t loop;
  pvd_opts opts;
  char *manifests_real; /* the directory actually watched (created when missing) */
  desired_set *desired;
  pvd_entry **pods;
  size_t n_pods, cap_pods;
  pvd_event **events; /* oldest first, at most PVD_EVENTS_MAX */
  size_t n_events;
  uint64_t rv;
  int64_t started_ns;
  char hostname[256];
  void *api_data;
  int lock_fd;
  bool api_started;

  uv_signal_t sigterm, sigint, sighup;
  uv_timer_t rescan_timer, debounce_timer, retry_timer, reconcile_timer, starting_timer;
  uv_fs_event_t dir_event;
  memtrim trim; /* malloc_trim after bursts */
  bool dir_watching;
  debounce deb;
  bool reconcile_pending;
  pvd_starting *starting; /* keys to adopt once their keeper has started */
  size_t n_starting;

  bool shutting_down;
  bool finished;
  int exit_code;
};

/* --- daemon.c -------------------------------------------------------------------------- */
int64_t pvd_now_ns(void); /* CLOCK_REALTIME */
/* Reads the manifest directory and turns the report into events; asks for
 * a reconcile when anything changed. */
void pvd_scan(pvd *d, const char *why);
/* Turns a desired report into events, log lines and watch notifications. */
void pvd_report(pvd *d, const desired_report *rep);
/* Every keeper is gone (or left running): the API is closed, then the loop. */
void pvd_maybe_finish(pvd *d);

/* --- daemon_config.c ----------------------------------------------------------------- */
/* Parses the command line into o (unset fields zero); 2 on a usage error
 * (printed), 1 for --help (printed), 0 to go on.  *set marks the fields the
 * flags gave, so that the config file does not override them. */
typedef struct pvd_opts_set {
  bool root, run_root, manifests, listen, log_level, listen_insecure, keep_pods, rescan, shim, cgroup_parent,
      userns_pool;
} pvd_opts_set;
int pvd_opts_parse(int argc, char **argv, pvd_opts *o, pvd_opts_set *set);
/* Reads the config file (libyaml) into the fields set does not mark.  A
 * missing file is fine unless must_exist. */
int pvd_config_load(const char *path, bool must_exist, pvd_opts *o, const pvd_opts_set *set, pv_err *err);
/* Fills what neither gave with the defaults. */
void pvd_opts_defaults(pvd_opts *o);
void pvd_opts_free(pvd_opts *o);
int pvd_log_level_parse(const char *s, pvd_log_level *out);

/* --- daemon_log.c -------------------------------------------------------------------- */
void pvd_log_set_level(pvd_log_level l);
/* s quoted for a logfmt value ("..." with \" \\ \n escaped), into buf. */
const char *pvd_logfmt_quote(const char *s, char *buf, size_t len);

/* --- daemon_podtab.c ----------------------------------------------------------------- */
pvd_entry *dpods_find(const pvd *d, const char *ns, const char *name);
/* The entry of ns/name, made (PENDING, told to the API) when missing. */
pvd_entry *dpods_get(pvd *d, const char *ns, const char *name, pv_err *err);
/* Tells the API and frees the entry (its handle closed). */
void dpods_remove(pvd *d, pvd_entry *e);
/* The pod changed: a new rv, and the API is told. */
void dpods_changed(pvd *d, pvd_entry *e);
/* Keepers alive or being launched. */
size_t dpods_live(const pvd *d);
void dpods_free_all(pvd *d);
/* last_error becomes a copy of msg (NULL: none). */
void dpods_set_error(pvd_entry *e, const char *msg);
/* The entry's paths for instance uid ("" : the run directory's only). */
void dpods_set_paths(pvd_entry *e, const char *uid);
/* The end of a deleted pod: its leftovers go (the run directory now, when
 * no keeper holds it; data, logs and id range in the thread pool), a
 * Deleted event, the entry is removed and a reconcile asked for. */
void dpods_finish_delete(pvd_entry *e);
/* Marks the dead keeper's pod (its containers terminated, ShimDied) and
 * removes its cgroups, socket and upper dirs in the thread pool, a
 * reconcile following: 0 when that is under way, -1 when there is nothing
 * to do (status 0, no paths) or it could not start. */
int dpods_clean_after_death(pvd_entry *e, int status);

/* --- daemon_pods.c ------------------------------------------------------------------- */
/* Launches a keeper: spec NULL relaunches the snapshot in its run dir. */
int dpods_launch(pvd_entry *e, const spec_pod *spec, bool keep_instance);
/* Asks its keeper to stop; grace -1 is the pod's. */
void dpods_stop(pvd_entry *e, pvd_intent intent, int64_t grace_s);
/* Restarts the named containers through the keeper's update op. */
void dpods_update(pvd_entry *e, const spec_pod *spec, char *const *containers, size_t n);
/* A pod no longer desired whose keeper is dead: its leftovers go (a keeper
 * is started on its snapshot only to stop and clean up), then the entry. */
void dpods_clean_dead(pvd_entry *e);
/* Finds the keepers under <run-root>/pods/ and adopts or records them. */
void dpods_adopt_all(pvd *d);
/* Retries the keys whose keepers were still starting. */
void dpods_adopt_starting(pvd *d);
/* Asks every keeper to stop (shutdown), or with keep, lets go of them. */
void dpods_shutdown(pvd *d, bool keep);

/* --- daemon_reconcile.c -------------------------------------------------------------- */
/* Asks for one reconcile pass soon (coalesced: a 0 ms timer). */
void pvd_reconcile_soon(pvd *d);
void pvd_reconcile_init(pvd *d);

/* --- daemon_events.c ----------------------------------------------------------------- */
/* The events a new status document shows against the one before (old NULL:
 * the first of a keeper). */
void pvd_events_from_status(pvd *d, const pvd_entry *e, const json_t *old, const json_t *cur);
void pvd_events_free(pvd *d);

#endif
