/*
 * plan.h - the reconcile planner: what to do with each pod so that what
 * runs becomes what is desired, at the finest grain that is safe; and the
 * plan of an apply request (`podvisor apply --dry-run`, the API's
 * ?dryRun=All), printed kubectl-style.
 *
 * Two versions of a pod compare as follows (plan_diff):
 *  - the same instance uid and the same pod hash: unchanged;
 *  - another uid (a new metadata.uid): recreate ("metadata.uid changed");
 *  - containers added, removed, renamed, reordered, moved between
 *    initContainers and containers, or an init container that became a
 *    sidecar or stopped being one: recreate, the change named
 *    ("container log added", "containers reordered",
 *    "init container setup restartPolicy changed");
 *  - another sandbox hash: recreate, naming each pod-level field that
 *    differs, in this order: restartPolicy, terminationGracePeriodSeconds,
 *    hostname (the effective one), subdomain, hostNetwork,
 *    shareProcessNamespace, volumes, podvisor.io/backoff-initial,
 *    podvisor.io/backoff-max, podvisor.io/backoff-reset,
 *    podvisor.io/start-limit ("hostNetwork, hostname changed").  Without
 *    the running spec only the hashes are known: "pod-level fields changed";
 *  - securityContext: spec/ merges the pod-level runAsUser, runAsGroup and
 *    runAsNonRoot into every container, so an edit of spec.securityContext
 *    shows as every container's effective run-as identity changing alike
 *    (all old ones equal, all new ones equal).  That footprint recreates the
 *    pod ("securityContext changed"), even when it came from editing every
 *    container (or the only one) the same way: the conservative reading;
 *  - else the containers whose hash changed, init containers and sidecars
 *    included, are restarted, in pod order, and nothing else: their
 *    siblings and the sandbox keep running.
 *
 * The reconcile (plan_compute), per namespace/name of the desired set and
 * of the observed pods:
 *   desired, not running              create
 *   running, not desired              delete (its shim alive or not)
 *   desired, running, shim dead       relaunch (the diff says what else changed;
 *                                     the new shim runs the desired spec)
 *   desired, running, shim alive      the diff's verdict: unchanged, restart, recreate
 * A pod with an operation in flight (being launched or stopped) is the
 * daemon's to leave out of the observed set, or to skip in the plan.
 *
 * Ownership: a plan borrows the desired pods and the observed entries (valid
 * while they are: until the desired set changes) and owns the strings of
 * its changes.  Pure: no I/O, no clock; never prints.  The functions fail
 * only on ENOMEM (-1 with err).  Every *_free accepts NULL and zeroes.
 */
#ifndef PODVISOR_DAEMON_PLAN_H
#define PODVISOR_DAEMON_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"
#include "supervisor/daemon/desired.h"

typedef enum plan_action {
  PLAN_UNCHANGED = 0,
  PLAN_CREATE,   /* launch a shim for the pod */
  PLAN_RESTART,  /* restart the containers named (the shim's update), nothing else */
  PLAN_RECREATE, /* stop the pod, then launch it again with the desired spec */
  PLAN_DELETE,   /* stop the pod and remove it */
  PLAN_RELAUNCH, /* its shim died (with its containers): launch a new one */
} plan_action;

/* One container as a shim runs it. */
typedef struct plan_container {
  const char *name;
  const char *hash;
  bool is_init; /* from initContainers (sidecars included) */
  bool sidecar;
} plan_container;

/* One pod as it is on the host (the shim's status and snapshot). */
typedef struct plan_observed {
  const char *ns, *name;
  bool running;    /* a shim was launched for it and its run directory is there; false: absent */
  bool shim_alive; /* its keeper's process lives */
  const char *uid; /* the instance uid it runs, NULL: unknown */
  const char *hash, *sandbox_hash;  /* NULL: unknown */
  const plan_container *containers; /* init containers first, each list in order */
  size_t n_containers;              /* 0: unknown */
  /* The snapshot it runs (pod.json), or NULL.  When given, it is what is
   * compared (uid, hashes, containers and fields) and the fields above
   * other than ns, name, running and shim_alive are not used. */
  const spec_pod *spec;
} plan_observed;

/* What differs between two versions of a pod. */
typedef struct plan_change {
  plan_action action; /* PLAN_UNCHANGED, PLAN_RESTART or PLAN_RECREATE */
  char **containers;  /* RESTART: the containers to restart, in pod order */
  size_t n_containers;
  char **reasons; /* RECREATE: "hostNetwork, volumes changed", "container log added", ... */
  size_t n_reasons;
  char *summary; /* RESTART: "restart container app" / "restart containers app, log";
                    RECREATE: "recreate (hostNetwork changed)"; UNCHANGED: "unchanged" */
} plan_change;

typedef struct plan_entry {
  plan_action action;
  const char *ns, *name;         /* borrowed from the desired pod or the observed entry */
  const desired_pod *desired;    /* NULL for DELETE */
  const plan_observed *observed; /* NULL for CREATE */
  plan_change change;            /* RESTART, RECREATE; RELAUNCH: what changed besides */
} plan_entry;

typedef struct plan {
  plan_entry *items; /* sorted by namespace then name */
  size_t n;
} plan;

/* Compares the version that runs (old) with the one desired (new). */
int plan_diff(const plan_observed *old, const spec_pod *new_spec, const char *new_uid, plan_change *out,
              pv_err *err);

/* plan_diff of two specs (old's uid against new_uid; NULL: not compared). */
int plan_diff_specs(const spec_pod *old, const char *old_uid, const spec_pod *new_spec, const char *new_uid,
                    plan_change *out, pv_err *err);

/* The reconcile plan: one entry per pod desired or running (observed
 * entries with running false count as absent; a second entry for one pod
 * is ignored).  UNCHANGED pods are listed too. */
int plan_compute(const desired_set *d, const plan_observed *obs, size_t n_obs, plan *out, pv_err *err);

void plan_change_free(plan_change *c);
void plan_free(plan *p);

/* "create", "unchanged", "restart", "recreate", "delete", "relaunch". */
const char *plan_action_name(plan_action a);

/* One line for the daemon's log: "create", "unchanged", "restart container
 * app", "recreate (hostNetwork changed)", "delete", "relaunch (shim died)".
 * Returns what snprintf returns. */
int plan_entry_text(const plan_entry *e, char *buf, size_t len);

/* --- the plan of an apply request ---------------------------------------------- */

typedef enum plan_verdict {
  PLAN_CREATED = 0,
  PLAN_KEPT,       /* unchanged */
  PLAN_CONFIGURED, /* change: RESTART, RECREATE, or UNCHANGED when only labels or annotations differ */
  PLAN_PRUNED,
} plan_verdict;

typedef struct plan_apply_entry {
  plan_verdict verdict;
  char *ns, *name;
  plan_change change;
} plan_apply_entry;

typedef struct plan_apply {
  plan_apply_entry *items; /* the request's pods in its order, then the pruned ones sorted */
  size_t n;
} plan_apply;

/* The plan of a request desired_request_parse accepted (its pods, with
 * their namespaces settled), against the desired set as it is. */
int plan_apply_compute(const desired_set *d, const spec_pod_list *request, bool prune, plan_apply *out,
                       pv_err *err);

/* kubectl's words: "pod/web created", "pod/web unchanged", "pod/web
 * configured: restart container app", "pod/web configured: recreate
 * (hostNetwork changed)", "pod/web configured", "pod/old pruned". */
int plan_apply_text(const plan_apply_entry *e, char *buf, size_t len);

void plan_apply_free(plan_apply *p);

#endif
