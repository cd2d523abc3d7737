/*
 * keeper.h - the pod keeper: keeps one pod's containers in the state its
 * spec declares, on one libuv loop.  The one dispatcher of the shim.
 *
 * What it does (the rules are ctrstate.h's table and backoff.h's functions):
 *   init containers run one at a time, each to exit 0; sidecars (init
 *   containers with restartPolicy Always) start in order and count as done
 *   once started (startup probe passed, when they have one); then every app
 *   container starts.  Exits are watched through the runtime's pidfds and
 *   judged by the restart policy; a restart is a fresh run after the backoff
 *   timer; probes and lifecycle hooks run; output goes to CRI log files.
 *   Stop: preStop hooks, SIGTERM, SIGKILL at terminationGracePeriodSeconds,
 *   then sidecars, last one first; nothing blocks the loop.
 *
 * How it works: every libuv callback of the keeper and of its leaves (runs
 * krun.h, probes kprobe.h, pending cgroups kpending.h, its own timers) and
 * every call below only posts an event to the keeper's queue (kevent.h).
 * One step drains the queue: each event is handled, then the pod is
 * advanced (what may start, starts), its status rendered once (handed to
 * on_status) and its end checked.  Nothing re-enters, and only this file
 * changes a container's state, through ctrstate_apply().
 *
 * The runtime (runtime.h) does what the keeper decides: runtime_core.h over
 * the core lifecycle API in the shim, a fake one in unit tests.
 *
 * Ownership: the keeper owns its pod specs (the one given to keeper_new and
 * every one keeper_update() takes), keeps a replaced spec alive while a run
 * started from it lives, and owns its handles, which it closes once the pod
 * is down; then on_done runs.  keeper_free() after the loop has run out.
 * The calls below run on the loop's thread; the callbacks run from a step,
 * never from inside one of these calls.
 */
#ifndef PODVISOR_SHIM_KEEPER_H
#define PODVISOR_SHIM_KEEPER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"
#include "supervisor/shim/crilog.h"
#include "supervisor/shim/ctrstate.h"
#include "supervisor/shim/runtime.h"

typedef struct keeper keeper;

typedef struct keeper_config {
  uv_loop_t *loop;
  const char *uid;     /* the pod instance's uid (status metadata) */
  const char *log_dir; /* <log_dir>/<container>/<restart>.log */
  crilog_opts log_opts;
  runtime rt;
  int devnull; /* stdin of containers, hooks and probes */
  /* A new status document (malloc'd JSON text, now the callee's): after
   * every step that changed anything, and the last one before on_done. */
  void (*on_status)(void *ctx, char *json);
  /* Adds what the caller knows to a status document (may be NULL). */
  void (*decorate)(void *ctx, json_t *status);
  /* The pod is down and every handle of the keeper is closed. */
  void (*on_done)(void *ctx);
  void *ctx;
} keeper_config;

/* Takes pod (also on failure).  Strings of cfg must outlive the keeper. */
int keeper_new(keeper **out, const keeper_config *cfg, spec_pod *pod, pv_err *err);

/* Begins keeping the pod.  prev (may be NULL): the status a predecessor of
 * the same pod instance left, as status_from_json() read it from doc (its
 * containers' backoff state is read from doc): restart counts, last states,
 * backoff deadlines and start limits are carried forward (ctrstate.h, "A
 * successor's view"). */
void keeper_start(keeper *k, const ctrstate_pod *prev, const json_t *doc);

/* Stops the pod gracefully; grace_ms < 0: its terminationGracePeriodSeconds. */
void keeper_stop(keeper *k, int64_t grace_ms);

/* Restarts container name now, bypassing its backoff (a running one is
 * stopped first, preStop included).  -1 with err (ENOENT, ESHUTDOWN: the
 * pod or the container is stopping for good, EINVAL: it cannot restart in
 * its state) without changing anything. */
int keeper_restart(keeper *k, const char *name, pv_err *err);

/* pod (taken, also on failure) is the pod's spec from now on: it differs
 * from the current one in container name only (the caller checked that),
 * which restarts with its new spec as keeper_restart() does, or, when it
 * cannot restart now (it waits for its turn, or stopped for good), runs it
 * at its next start; every other container keeps its run.  -1 with err
 * (ENOENT, ESHUTDOWN: the pod is stopping) without changing anything. */
int keeper_update(keeper *k, const char *name, spec_pod *pod, pv_err *err);

/* The pod's sandbox is gone for good (message says why): the pod fails
 * (phase Failed, reason SandboxFailed) and stops. */
void keeper_sandbox_failed(keeper *k, const char *message);
const char *keeper_sandbox_error(const keeper *k); /* "" when none */

/* True once the pod has stopped leaving cgroups behind (pending ones it
 * gave up waiting for). */
bool keeper_left_behind(const keeper *k);

/* Runs x inside container name's current run (runtime.h's exec): *fd, its
 * pidfd, is the caller's to watch, reap and close.  -1 with err: ENOENT (no
 * such container), ESHUTDOWN (the pod is stopping), EBUSY (it does not
 * run), or the runtime's error. */
int keeper_exec(keeper *k, const char *name, runtime_exec *x, int *fd, pv_err *err);
/* keeper_exec's checks alone: 0 when container name could run one now. */
int keeper_can_exec(keeper *k, const char *name, pv_err *err);

/* Something decorate adds has changed: render the status again. */
void keeper_touch(keeper *k);

/* The current status document, rendered now (malloc'd; NULL when out of
 * memory). */
char *keeper_status_json(keeper *k);

const spec_pod *keeper_pod(const keeper *k);
bool keeper_stopping(const keeper *k);

void keeper_free(keeper *k); /* accepts NULL */

#endif
