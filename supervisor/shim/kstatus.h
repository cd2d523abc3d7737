/*
 * kstatus.h - the pod keeper's status document: status.h's Kubernetes
 * status of a ctrstate_pod, plus what only the keeper knows (the pod's
 * identity, each container's backoff state and last restart gap, whether
 * the pod stops, a failed sandbox).  Pure: renders and reads JSON, keeps
 * nothing.
 *
 * Backoff state: each container's podvisor.backoff ({"exits": N,
 * "startsMs": [...]}) is what a successor needs to go on with the same
 * backoff curve and start limit (kstatus_backoff_restore).
 *
 * Log health: a container whose log writes failed (a full disk) shows, in
 * its podvisor object, logDroppedBytes (the output lost over all its runs,
 * carried to a successor by kstatus_log_restore), and logError plus
 * logFailingSince while the writes still fail, or logResumedAt once they
 * succeed again.  The pod then has a condition "podvisor.io/LogsWritable":
 * "False" with reason LogWritesFailing and the message "log writes failing:
 * <error> since <time> (container <name>, <n> bytes dropped)" while any
 * container's writes fail, "True" with reason LogWritesResumed afterwards.
 * A pod whose logs never failed has neither.
 */
#ifndef PODVISOR_SHIM_KSTATUS_H
#define PODVISOR_SHIM_KSTATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/shim/backoff.h"
#include "supervisor/shim/ctrstate.h"

typedef struct kstatus_ctr {
  const char *name;
  const backoff_state *bo;
  int64_t restart_gap_ns; /* the last reaped exit → next start, 0 when none */
  uint64_t log_dropped;      /* output bytes lost to failing log writes, every run */
  int log_error;             /* errno of the failing log writes, 0 when they succeed */
  int64_t log_failing_since; /* while log_error: the episode's first failure (ns) */
  int64_t log_resumed_at;    /* when the writes last succeeded again after failing; 0: never */
} kstatus_ctr;

typedef struct kstatus_view {
  const ctrstate_pod *st;
  const char *name, *ns, *uid;
  const kstatus_ctr *ctrs;
  size_t n_ctrs;
  bool stopping;
  const char *sandbox_error; /* "" unless the pod failed with its sandbox */
} kstatus_view;

/* A new document (the caller owns it), or NULL when out of memory. */
json_t *kstatus_json(const kstatus_view *v);

/* Fills *bo from container name's podvisor.backoff in a previous status
 * document; leaves it untouched when absent or malformed. */
void kstatus_backoff_restore(const json_t *doc, const char *name, backoff_state *bo);

/* Reads container name's logDroppedBytes and logResumedAt from a previous
 * status document (0 when absent). */
void kstatus_log_restore(const json_t *doc, const char *name, uint64_t *dropped, int64_t *resumed_at);

#endif
