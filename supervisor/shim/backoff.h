/*
 * backoff.h - restart policy, restart backoff and start limit, as pure functions.
 *
 * Contract: nothing here reads a clock, allocates or blocks.  Every time is a
 * parameter in milliseconds on one clock chosen by the caller (the shim uses
 * the wall clock so that deadlines survive a shim restart); only differences
 * between times are used.  The state is a plain struct the caller embeds and
 * may persist.
 *
 * Backoff: the delay before restarting a container after its k-th
 * consecutive exit is min(initial * 2^(k-1), max).  It is exact from the
 * first exit on: kubelet restarts twice before it starts backing off
 * (kubernetes/kubernetes#133472); podvisor does not.  A run that lasted at
 * least reset_ms starts the sequence again at initial.  initial 0 means an
 * immediate restart every time.
 *
 * Start limit: when the last `limit_starts` starts all fall within
 * `limit_window_ms` of the start about to happen, the container is not
 * started again and stays down with the Waiting reason
 * BACKOFF_START_LIMIT_REASON ("StartLimitReached") until a manual restart.
 * Like systemd's StartLimitBurst, N starts inside the window are allowed and
 * the N+1-th is refused.
 *
 * The config is not validated here: its values come from a pod spec that
 * spec/ already checked (durations not negative, backoff-max not below
 * backoff-initial, a start limit of 1 to SPEC_START_LIMIT_MAX starts in a
 * window longer than 0; the shim asserts SPEC_START_LIMIT_MAX <=
 * BACKOFF_LIMIT_MAX at compile time).
 *
 * Usage: backoff_config_default(); backoff_state_init(); on every start
 * backoff_record_start(); on every exit backoff_record_exit(), then
 * backoff_restart_decide() and, when restarting, backoff_start_limit_reached()
 * and backoff_next_delay().
 */
#ifndef PODVISOR_SHIM_BACKOFF_H
#define PODVISOR_SHIM_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define BACKOFF_DEFAULT_INITIAL_MS 10000 /* kubelet: 10 s */
#define BACKOFF_DEFAULT_MAX_MS 300000    /* kubelet: 5 min */
#define BACKOFF_DEFAULT_RESET_MS 600000  /* kubelet: 10 min of running */
#define BACKOFF_LIMIT_MAX 64             /* largest N of a start limit (spec/ refuses more) */
#define BACKOFF_START_LIMIT_REASON "StartLimitReached"

typedef struct backoff_config {
  int64_t initial_ms;      /* first delay; 0 = restart at once */
  int64_t max_ms;          /* the doubling stops here */
  int64_t reset_ms;        /* a run at least this long resets the sequence */
  uint32_t limit_starts;   /* start limit N; 0 = no limit */
  int64_t limit_window_ms; /* ... within this window */
} backoff_config;

typedef struct backoff_state {
  uint32_t exits;                    /* consecutive exits since the last reset */
  uint32_t nstarts;                  /* valid entries in starts[] (<= BACKOFF_LIMIT_MAX) */
  uint32_t head;                     /* next slot to write in starts[] */
  int64_t starts[BACKOFF_LIMIT_MAX]; /* ring of the most recent start times */
} backoff_state;

/* Pod restartPolicy. */
typedef enum backoff_policy {
  BACKOFF_POLICY_ALWAYS,
  BACKOFF_POLICY_ON_FAILURE,
  BACKOFF_POLICY_NEVER,
} backoff_policy;

/* Which list of the pod a container comes from. */
typedef enum backoff_kind {
  BACKOFF_KIND_APP,     /* spec.containers */
  BACKOFF_KIND_INIT,    /* spec.initContainers without restartPolicy */
  BACKOFF_KIND_SIDECAR, /* spec.initContainers with restartPolicy: Always */
} backoff_kind;

/* How a container process ended.  A signal death has exit_code 128+signal
 * (as Kubernetes reports it) and signal set; oom is set when the kernel's
 * OOM killer ended it (then signal is normally SIGKILL). */
typedef struct backoff_exit {
  int exit_code;
  int signal;
  bool oom;
} backoff_exit;

typedef enum backoff_decision {
  BACKOFF_STAY_DOWN, /* the container stays terminated; the pod goes on */
  BACKOFF_RESTART,   /* restart it (after backoff_next_delay) */
  BACKOFF_FAIL_POD,  /* an init container failed under restartPolicy Never */
} backoff_decision;

/* kubelet's numbers, no start limit. */
void backoff_config_default(backoff_config *c);

void backoff_state_init(backoff_state *s);

/* A start at time now_ms (remembered for the start limit). */
void backoff_record_start(backoff_state *s, int64_t now_ms);

/* An exit after a run of run_ms milliseconds: one more consecutive exit, or
 * the first of a new sequence when the run lasted at least reset_ms. */
void backoff_record_exit(const backoff_config *c, backoff_state *s, int64_t run_ms);

/* The delay before the next restart after the recorded exits: 0 when none was
 * recorded, else min(initial * 2^(exits-1), max), without overflow. */
int64_t backoff_next_delay(const backoff_config *c, const backoff_state *s);

/* True when a start at start_ms would be the N+1-th within the window. */
bool backoff_start_limit_reached(const backoff_config *c, const backoff_state *s, int64_t start_ms);

/* True when the exit counts as a failure: non-zero code, a signal or OOM. */
bool backoff_exit_failed(const backoff_exit *e);

/* What to do after a container exit, as Kubernetes defines restartPolicy:
 * app containers: Always restarts, OnFailure restarts failures, Never never;
 * init containers: success is final; a failure restarts them under Always and
 * OnFailure and fails the pod under Never; sidecars always restart. */
backoff_decision backoff_restart_decide(backoff_policy policy, backoff_kind kind, const backoff_exit *e);

const char *backoff_policy_name(backoff_policy p);
/* "Always"/"OnFailure"/"Never" -> policy; -1 when unknown. */
int backoff_policy_parse(const char *s, backoff_policy *out);

#endif
