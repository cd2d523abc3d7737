/*
 * kevent.h - the pod keeper's event queue: how its leaves (runs, probes,
 * pending cgroups, timers) tell the one dispatcher (keeper.c) what happened.
 *
 * Contract: a leaf's libuv callback does its own small work (reap a
 * process, close a handle) and posts an event; it never calls into the
 * dispatcher.  Posting copies the event and arms an idle handle; on the next
 * loop iteration the idle callback drains the queue through the function the
 * owner gave to kevq_init (the keeper's step: every event handled, then the
 * pod advanced, its status rendered and its end checked, once).  So nothing
 * re-enters the dispatcher, and many callbacks of one iteration cost one
 * step.  kevq_post() after kevq_close() is ignored.
 *
 * Ownership: the queue is embedded in its owner; events are heap copies,
 * freed as they are popped (or by kevq_close).  Everything runs on one
 * thread's loop.
 */
#ifndef PODVISOR_SHIM_KEVENT_H
#define PODVISOR_SHIM_KEVENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "supervisor/core/container.h"

typedef enum kevent_kind {
  KEV_EXITED,          /* run's container exited and was reaped: run, exit */
  KEV_HOOK_DONE,       /* run's preStop hook ended: run, rc, si, gone */
  KEV_POST_START_DONE, /* run's postStart hook ended: run, rc, si */
  KEV_RUN_CLOSED,      /* every handle of run closed: it may be freed */
  KEV_PROBE_RESULT,    /* ctr's probe `which` (of run serial) flipped: result */
  KEV_PROBE_CLOSED,    /* ctr's probe `which` finished closing */
  KEV_PENDING,         /* pending cgroups: the collector gave up or none is left */
  KEV_BACKOFF_TIMER,   /* ctr's backoff (or deferred restart) timer fired */
  KEV_KILL_TIMER,      /* ctr's stop deadline came */
  KEV_STOP_DEADLINE,   /* the pod's stop deadline came */
  KEV_STOP,            /* stop the pod: grace_ms (-1 = the pod's own) */
  KEV_RESTART,         /* restart ctr now */
  KEV_UPDATE,          /* ctr runs the spec in pod from now on, then restarts */
  KEV_SANDBOX_FAILED,  /* the pod's sandbox is gone for good: stop it */
  KEV_TOUCH,           /* something the status shows changed outside the keeper */
  KEV_LOG,             /* run's log writes: log_dropped more bytes lost, log_error now */
} kevent_kind;

struct krun;

typedef struct kevent {
  kevent_kind kind;
  size_t ctr;          /* the container's index (init containers first) */
  struct krun *run;    /* the run the event is about */
  unsigned serial;     /* PROBE_RESULT: the run the probe was started for */
  int which;           /* PROBE_*: startup, liveness or readiness */
  int result;          /* PROBE_RESULT: probe_state */
  container_exit exit; /* EXITED */
  int rc;              /* HOOK_DONE, POST_START_DONE: runtime exec_reap's result */
  siginfo_t si;        /* ... and the process's end */
  bool gone;           /* HOOK_DONE: the container ended with its hook */
  int64_t grace_ms;    /* STOP */
  void *pod;           /* UPDATE: the keeper's own pod reference */
  uint64_t log_dropped; /* LOG: bytes dropped since the run's last LOG event */
  int log_error;        /* LOG: errno of the failing writes, 0 once they succeed */
  int64_t log_since;    /* LOG: the episode's first failure (ns), or when writes resumed */
  struct kevent *next;
} kevent;

typedef struct kevq {
  uv_idle_t idle;
  kevent *head, *tail;
  void (*drain)(void *ctx);
  void *ctx;
  bool closed;
} kevq;

void kevq_init(kevq *q, uv_loop_t *loop, void (*drain)(void *ctx), void *ctx);
/* Queues a copy of ev and makes sure a drain follows.  Out of memory loses
 * the event: said on stderr. */
void kevq_post(kevq *q, const kevent *ev);
/* Takes the oldest event into *out; false when the queue is empty. */
bool kevq_pop(kevq *q, kevent *out);
bool kevq_empty(const kevq *q);
/* Frees what is queued and closes the idle handle (cb may be NULL). */
void kevq_close(kevq *q, uv_close_cb cb);

#endif
