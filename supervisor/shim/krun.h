/*
 * krun.h - one run of a container: the handles of its process on the loop.
 *
 * A run is what a container's start creates and its exit ends: the
 * runtime's container, a poll on its pidfd, the pipes of its stdout and
 * stderr pumped into its CRI log file (crilog.h), and the polls of the
 * processes its hooks run inside it.  It is a leaf of the keeper
 * (keeper.h): it reaps what exits and posts what happened to the keeper's
 * queue (kevent.h: EXITED, HOOK_DONE, POST_START_DONE, RUN_CLOSED); it
 * decides nothing.
 *
 * Lifecycle: krun_new (log file, pipes) → krun_create → krun_start (the exit
 * is watched from here) → ... → krun_release (the keeper is done with it:
 * hooks killed, the container destroyed at once, the log pipes kept open
 * until the container's last writer is gone, so that no line is lost) →
 * KEV_RUN_CLOSED once every handle is closed → krun_free.  krun_close_logs
 * closes the pipes early (the pod is going away, or nothing ever ran).
 *
 * Log writes that fail (a full disk): the pipes keep being drained, the
 * output is dropped and counted (crilog.h); the run says so on stderr (the
 * shim's log) once when the failures begin, and posts KEV_LOG: at once when
 * its writes begin or stop failing, on its first written record when the
 * container's writes were failing before it (cfg->log_failing), at most
 * once a second while bytes keep being dropped, and with the rest when its
 * pipes close.
 *
 * Ownership: the keeper owns the run and frees it only after RUN_CLOSED; the
 * run owns its runtime container until release.  spec and pod are the
 * keeper's, kept alive by it for the run's whole life.
 */
#ifndef PODVISOR_SHIM_KRUN_H
#define PODVISOR_SHIM_KRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"
#include "supervisor/shim/crilog.h"
#include "supervisor/shim/kevent.h"
#include "supervisor/shim/logpump.h"
#include "supervisor/shim/runtime.h"

typedef enum { KRUN_PRE_STOP = 0, KRUN_POST_START = 1 } krun_hook;

typedef struct krun_config {
  uv_loop_t *loop;
  kevq *q;
  const runtime *rt;
  size_t ctr;          /* the container's index, copied into every event */
  unsigned serial;     /* the run's number within this keeper */
  const char *log_dir; /* <log dir>/<container>/<restart>.log */
  const char *name;
  unsigned restart;
  const crilog_opts *log_opts;
  int devnull; /* stdin of the container and of its hooks */
  bool log_failing; /* the container's log writes failed last: tell the first that succeeds */
} krun_config;

typedef struct krun {
  uv_loop_t *loop;
  kevq *q;
  const runtime *rt;
  size_t ctr;
  unsigned serial;
  unsigned restart;
  const spec_container *spec; /* what it runs (set by krun_create) */
  void *pod;                  /* the keeper's reference on spec's pod */
  runtime_ctr *c;             /* NULL after release */
  uv_poll_t exit_poll;
  uv_poll_t hook_poll[2]; /* preStop, postStart */
  int hook_fd[2];
  bool exit_poll_open, hook_poll_open[2];
  bool released;
  int devnull;
  logpump lp;
  bool lp_open;
  crilog *log;
  /* What KEV_LOG events told the keeper of the log so far. */
  uint64_t log_told_dropped;
  int log_told_error;
  bool log_told_written; /* nothing to tell of a first write (it was not failing) */
  int64_t log_told_ns;
  int pending;       /* open handles + 1 until release */
  struct krun *next; /* the keeper's list */
} krun;

/* Opens the run's log and pipes.  NULL only when out of memory; otherwise
 * a run that must be released even when err is set (its log could not be
 * opened: the start fails). */
krun *krun_new(const krun_config *cfg, pv_err *err);
/* Creates the container (runtime create); fills id. */
int krun_create(krun *r, const spec_pod *pod, const spec_container *spec, char *id, size_t id_len,
                pv_err *err);
/* Starts its process and watches for its exit (KEV_EXITED). */
int krun_start(krun *r, pv_err *err);
pid_t krun_pid(const krun *r);
/* Runs hook h's command inside the container and watches it (KEV_HOOK_DONE
 * or KEV_POST_START_DONE).  -1 when it could not be started, or when that
 * hook already runs. */
int krun_exec_hook(krun *r, krun_hook h, char *const *argv, pv_err *err);
void krun_signal(krun *r, int sig);
void krun_signal_hook(krun *r, krun_hook h, int sig);
/* Detaches the run from its container's life: kills hooks still running,
 * destroys the container, keeps the log pipes open to their end. */
void krun_release(krun *r);
void krun_close_logs(krun *r);
void krun_free(krun *r); /* after KEV_RUN_CLOSED; accepts NULL */

#endif
