/*
 * ctrstate.h - the container state machine and the pod phase, as pure code.
 *
 * Contract: one ctrstate per container, driven only by ctrstate_apply() with
 * events the shim observed (created, started, exited, ...).  The machine is an
 * explicit state x event table (see ctrstate.c): an event that is not valid in
 * the current state is rejected with -1/EINVAL and a message, and the state is
 * left unchanged.  Nothing here reads a clock, allocates (except the pod's
 * container arrays), blocks or decides policy: the shim calls
 * backoff_restart_decide() after an exit and feeds the outcome back as a
 * RESTART, BACKOFF or START_LIMIT event.  All times are wall-clock
 * nanoseconds since the epoch; 0 means unset.
 *
 * Internal states and what Kubernetes sees:
 *   WAITING_INIT  Waiting/PodInitializing    (init containers still running)
 *   CREATING      Waiting/ContainerCreating  (being created)
 *   CREATED       Waiting/ContainerCreating  (created; its postStart hook may run)
 *   RUNNING       Running{startedAt}
 *   PRE_STOP      Running{startedAt}         (being stopped: its preStop hook runs, no signal yet)
 *   STOPPING      Running{startedAt}         (SIGTERM sent; SIGKILL due at stop_deadline)
 *   KILLING       Running{startedAt}         (SIGKILL sent)
 *   TERMINATED    Terminated{exitCode, signal, reason, startedAt, finishedAt}
 *   BACKOFF       Waiting/CrashLoopBackOff   (next try at next_try_at)
 *   START_LIMIT   Waiting/StartLimitReached  (stays down until a manual restart)
 * In BACKOFF and START_LIMIT the last termination is shown as lastState.
 *
 * Stopping one run (the stop sequence).  KILL begins it, with its cause (the
 * pod stops, a probe or postStart failed, a restart was asked for), the
 * deadline of its SIGKILL and whether a preStop hook runs first:
 *   RUNNING|CREATED --KILL{hook}--> PRE_STOP --HOOK_DONE--> STOPPING
 *                                   PRE_STOP --HOOK_EXPIRED--> STOPPING (deadline + the hook's extra grace)
 *   RUNNING|CREATED --KILL--> STOPPING --KILL_DEADLINE--> KILLING
 *   any live state --KILL_DEADLINE (the pod's deadline)--> KILLING
 *   PRE_STOP|STOPPING|KILLING --EXITED--> TERMINATED
 * The shim performs what each state asks for (run the hook, SIGTERM, SIGKILL)
 * when the container enters it.  EXITED records in exit_by why the run ended:
 * a run that ended while its preStop hook still ran, or with its hook
 * (HOOK_DONE{gone}), ended by itself, whatever asked for its stop.
 *
 * A successor's view.  RESTORE, valid only before the first start, carries
 * a predecessor's state of the same container (a shim restarted for the same
 * pod instance): a container that was running died with its shim (exit 137,
 * SIGKILL) and is judged by the restart policy; one that waited in
 * CrashLoopBackOff waits until the same deadline; one stopped by its start
 * limit stays down; one that terminated for good stays terminated; restart
 * counts and last states are carried forward.  One terminated with reason
 * ShimDied (written by whoever saw the shim die) counts as running when its
 * shim died.
 *
 * Terminated reasons: Completed (exit 0), Error (non-zero exit or a signal;
 * exitCode 128+signal with signal recorded), OOMKilled (the OOM killer ended
 * it, whatever the code), StartError (the process could not be started,
 * exitCode 128, as containerd reports it) and ShimDied (it died with its
 * shim: exit 137, SIGKILL through PR_SET_PDEATHSIG).
 */
#ifndef PODVISOR_SHIM_CTRSTATE_H
#define PODVISOR_SHIM_CTRSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/core/error.h"
#include "supervisor/shim/backoff.h"

#define CTRSTATE_NAME_MAX 64 /* DNS label, 63 + NUL */
#define CTRSTATE_IMAGE_MAX 512
#define CTRSTATE_ID_MAX 128
#define CTRSTATE_HASH_MAX 80 /* "sha256:" + 64 hex + NUL */
#define CTRSTATE_MSG_MAX 256

typedef enum ctrstate_state {
  CTRSTATE_WAITING_INIT,
  CTRSTATE_CREATING,
  CTRSTATE_CREATED,
  CTRSTATE_RUNNING,
  CTRSTATE_PRE_STOP,
  CTRSTATE_STOPPING,
  CTRSTATE_KILLING,
  CTRSTATE_TERMINATED,
  CTRSTATE_BACKOFF,
  CTRSTATE_START_LIMIT,
  CTRSTATE_STATE_COUNT
} ctrstate_state;

typedef enum ctrstate_event_kind {
  CTRSTATE_EV_CREATED,           /* the runtime created it (rootfs, cgroup): id */
  CTRSTATE_EV_STARTED,           /* its process runs: time, pid */
  CTRSTATE_EV_START_FAILED,      /* create or start failed: time, message */
  CTRSTATE_EV_EXITED,            /* the process ended: time, exit */
  CTRSTATE_EV_RESTART,           /* restart now (zero backoff, or a manual restart) */
  CTRSTATE_EV_BACKOFF,           /* restart later: next_try_at */
  CTRSTATE_EV_BACKOFF_EXPIRED,   /* the backoff timer fired: create again */
  CTRSTATE_EV_START_LIMIT,       /* the start limit refused a restart: message */
  CTRSTATE_EV_STOP_REQUESTED,    /* the pod stops: no more restarts (a live run stops on KILL) */
  CTRSTATE_EV_KILL,              /* stop this run: cause, message, deadline, hook */
  CTRSTATE_EV_RESTART_REQUESTED, /* a restart asked for while the run is already being stopped */
  CTRSTATE_EV_HOOK_DONE,         /* the preStop hook ended (gone: the container ended with it) */
  CTRSTATE_EV_HOOK_EXPIRED,      /* the preStop hook outlived the deadline: deadline = the new one */
  CTRSTATE_EV_KILL_DEADLINE,     /* SIGKILL now (its own deadline, or the pod's) */
  CTRSTATE_EV_READINESS,         /* readiness probe result: ok */
  CTRSTATE_EV_STARTUP_SUCCEEDED, /* the startup probe passed (or none exists) */
  CTRSTATE_EV_RESTORE,           /* a predecessor's state of this container: prev, policy */
  CTRSTATE_EVENT_COUNT
} ctrstate_event_kind;

/* Why a run is stopped (KILL), and how a run ended (exit_by). */
typedef enum ctrstate_cause {
  CTRSTATE_BY_ITSELF = 0, /* exit_by: nothing asked it to stop, or it ended before its signal */
  CTRSTATE_BY_POD_STOP,   /* the pod stops (or a sidecar stops after the app containers) */
  CTRSTATE_BY_PROBE,      /* liveness, startup or postStart failed: restart unless Never */
  CTRSTATE_BY_RESTART,    /* a restart (or an update) was asked for: restart at once */
} ctrstate_cause;

struct ctrstate;

typedef struct ctrstate_event {
  ctrstate_event_kind kind;
  int64_t time;                /* when it happened */
  int pid;                     /* STARTED */
  backoff_exit exit;           /* EXITED: exit_code for a normal exit, signal for a kill */
  int64_t next_try_at;         /* BACKOFF */
  int64_t deadline;            /* KILL, HOOK_EXPIRED: when SIGKILL is due */
  ctrstate_cause cause;        /* KILL */
  bool hook;                   /* KILL: a preStop hook runs first */
  bool gone;                   /* HOOK_DONE: the container ended with its hook */
  bool ok;                     /* READINESS */
  const char *message;         /* START_FAILED, START_LIMIT, KILL (may be NULL) */
  const char *id;              /* CREATED: the runtime's id of the run (may be NULL) */
  const struct ctrstate *prev; /* RESTORE */
  backoff_policy policy;       /* RESTORE */
} ctrstate_event;

typedef enum ctrstate_term_reason {
  CTRSTATE_TERM_COMPLETED,
  CTRSTATE_TERM_ERROR,
  CTRSTATE_TERM_OOMKILLED,
  CTRSTATE_TERM_START_ERROR,
  /* "ShimDied": it died with its keeper (exit 137), as recorded by whoever
   * saw the keeper die (podctl_clean_dead); a successor restores it as a
   * container that was live when its keeper died. */
  CTRSTATE_TERM_SHIM_DIED,
} ctrstate_term_reason;

typedef struct ctrstate_term {
  ctrstate_term_reason reason;
  int exit_code;
  int signal;
  int64_t started_at;
  int64_t finished_at;
  char message[CTRSTATE_MSG_MAX];
} ctrstate_term;

typedef struct ctrstate {
  /* identity, set by the caller */
  char name[CTRSTATE_NAME_MAX];
  char image[CTRSTATE_IMAGE_MAX];
  char id[CTRSTATE_ID_MAX]; /* runtime id; shown as podvisor://<id> */
  char spec_hash[CTRSTATE_HASH_MAX];
  backoff_kind kind;
  bool has_startup_probe;   /* `started` waits for STARTUP_SUCCEEDED */
  bool has_readiness_probe; /* `ready` waits for READINESS ok */

  /* the machine */
  ctrstate_state state;
  int pid;                        /* RUNNING, STOPPING */
  int64_t started_at;             /* RUNNING, STOPPING */
  int64_t next_try_at;            /* BACKOFF */
  char message[CTRSTATE_MSG_MAX]; /* Waiting message */
  ctrstate_term term;             /* TERMINATED, and the last exit in BACKOFF/START_LIMIT */
  bool has_last;
  ctrstate_term last; /* the termination before the current run */
  uint32_t restart_count;
  bool ready;
  bool started;
  bool ever_started;      /* started at least once in this shim (a sidecar's init step is done) */
  bool ever_completed;    /* exited 0 at least once in this shim (an init container's step is done) */
  bool stop_requested;    /* the pod is stopping: never restart */
  bool liveness_kill;     /* being stopped because a probe or postStart failed (message says which) */
  bool restart_requested; /* being stopped for a restart: restart at once */
  int64_t stop_deadline;  /* PRE_STOP, STOPPING: when SIGKILL is due */
  ctrstate_cause exit_by; /* TERMINATED: why the last run ended (not saved in status files) */
} ctrstate;

/* Pod conditions, in the order Kubernetes lists them. */
typedef enum ctrstate_cond_type {
  CTRSTATE_COND_POD_SCHEDULED,
  CTRSTATE_COND_INITIALIZED,
  CTRSTATE_COND_CONTAINERS_READY,
  CTRSTATE_COND_READY,
  CTRSTATE_COND_COUNT
} ctrstate_cond_type;

typedef struct ctrstate_cond {
  bool status;
  int64_t last_transition;
} ctrstate_cond;

typedef enum ctrstate_phase {
  CTRSTATE_PHASE_PENDING,
  CTRSTATE_PHASE_RUNNING,
  CTRSTATE_PHASE_SUCCEEDED,
  CTRSTATE_PHASE_FAILED,
} ctrstate_phase;

/* A pod's status: owns its two container arrays (init containers, sidecars
 * included, in spec order; then app containers). */
typedef struct ctrstate_pod {
  backoff_policy policy;
  ctrstate *init;
  size_t n_init;
  ctrstate *app;
  size_t n_app;
  ctrstate_phase phase;
  ctrstate_cond cond[CTRSTATE_COND_COUNT];
  int64_t start_time;
  int shim_pid;
  char spec_hash[CTRSTATE_HASH_MAX];
} ctrstate_pod;

/* Initializes a container in WAITING_INIT (when its pod has init containers
 * that must run first) or CREATING.  name is copied (truncated to fit). */
void ctrstate_init(ctrstate *c, const char *name, backoff_kind kind, bool wait_for_init);

/* Sets what the container runs (its spec changed): image and spec hash,
 * shown in its status, and which probes gate `started` and `ready` for the
 * next run.  Strings are copied (truncated to fit). */
void ctrstate_set_spec(ctrstate *c, const char *image, const char *spec_hash, bool has_startup_probe,
                       bool has_readiness_probe);

/* True while the container's process runs: CREATED through KILLING. */
bool ctrstate_is_live(ctrstate_state s);

/* Applies one event; -1 with EINVAL (state unchanged) when the table has no
 * transition for it. */
int ctrstate_apply(ctrstate *c, const ctrstate_event *ev, pv_err *err);

/* True when the table accepts kind in state s. */
bool ctrstate_accepts(ctrstate_state s, ctrstate_event_kind kind);

/* The lastState to show (NULL when none). */
const ctrstate_term *ctrstate_last_state(const ctrstate *c);

/* True when the container is down and nothing will start it again. */
bool ctrstate_is_final(const ctrstate *c, backoff_policy policy);

const char *ctrstate_state_name(ctrstate_state s); /* "Running", "Backoff", ... */
int ctrstate_state_parse(const char *s, ctrstate_state *out);
const char *ctrstate_event_name(ctrstate_event_kind k);
const char *ctrstate_cause_name(ctrstate_cause c);             /* "ItSelf", "PodStop", "Probe", "Restart" */
const char *ctrstate_waiting_reason(const ctrstate *c);        /* NULL unless Waiting */
const char *ctrstate_term_reason_name(ctrstate_term_reason r); /* "Completed", ... */
int ctrstate_term_reason_parse(const char *s, ctrstate_term_reason *out);
const char *ctrstate_phase_name(ctrstate_phase p);
int ctrstate_phase_parse(const char *s, ctrstate_phase *out);
const char *ctrstate_cond_name(ctrstate_cond_type t);
int ctrstate_cond_parse(const char *s, ctrstate_cond_type *out);

/* Allocates n_init + n_app containers (zeroed, state CREATING).  -1/ENOMEM. */
int ctrstate_pod_init(ctrstate_pod *p, backoff_policy policy, size_t n_init, size_t n_app, pv_err *err);
void ctrstate_pod_free(ctrstate_pod *p); /* accepts a zeroed or freed pod */

/* Who keeps the pod (its shim's pid, 0 for none) and the hash of the spec
 * it keeps (copied, truncated to fit). */
void ctrstate_pod_set_identity(ctrstate_pod *p, int shim_pid, const char *spec_hash);

/* Kubernetes' pod phase rules (kubelet getPhase), knowing which containers
 * will restart: a pod whose app containers are all down for good is terminal
 * (Succeeded when every one exited 0, else Failed). */
ctrstate_phase ctrstate_pod_phase(const ctrstate_pod *p);

/* Recomputes phase and conditions; a condition that changes gets
 * last_transition = now.  Returns true when anything changed. */
bool ctrstate_pod_update(ctrstate_pod *p, int64_t now);

#endif
