/*
 * runtime.h - the seam between the pod keeper (keeper.h) and the core
 * lifecycle API: what the keeper asks of whatever runs its containers.
 *
 * The keeper decides (which container starts when, what a signal or an exit
 * means); a runtime does.  runtime_core.h is the real one, over
 * container_manager_* and placement.h; tests/unit/test_shim_fsm.c drives the
 * keeper with a fake one that needs no root and runs no process.  The table
 * is the whole contract, as cgroup_internal.h is for the cgroup backends.
 *
 * Processes are watched through file descriptors the keeper polls on its
 * loop: a container's pidfd (runtime_ops.pidfd), which turns readable when
 * the process has exited, and for a process run inside a container (hooks,
 * exec probes) the fd exec returns.  Nothing here may block the loop for
 * long: create may touch the file system (image lookup, directories), exec
 * waits for the child's exec; everything else returns at once.
 *
 * Errors: 0 (or a count) on success, -1 with errno and err naming the
 * container on failure.  Every function gets the runtime's own context
 * first.  A runtime_ctr is the runtime's; it stays valid until destroy.
 */
#ifndef PODVISOR_SHIM_RUNTIME_H
#define PODVISOR_SHIM_RUNTIME_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "supervisor/core/container.h"
#include "supervisor/core/error.h"

typedef struct runtime_ctr runtime_ctr;

/* One run of a container: what to create. */
typedef struct runtime_start {
  const spec_pod *pod;
  const spec_container *ctr;
  unsigned restart;                   /* its restart count: names the run */
  int stdin_fd, stdout_fd, stderr_fd; /* dup'ed into the process by start */
  char *id;                           /* out: the runtime id shown as podvisor://<id> */
  size_t id_len;
} runtime_start;

/* A process to run inside a running container. */
typedef struct runtime_exec {
  char *const *argv;
  int stdin_fd, stdout_fd, stderr_fd; /* -1: /dev/null */
  bool tty;                           /* stdin is a terminal: it becomes the controlling one */
  pid_t pid;                          /* out: the process's pid */
} runtime_exec;

typedef struct runtime_ops {
  /* Before any container is created: 0 when the pod's sandbox can take a
   * container now (the real runtime renews a dead shared pid namespace
   * here); -1 when it cannot, and never will: the pod has failed. */
  int (*sandbox_ready)(void *rt, pv_err *err);
  /* Plans and creates one run (root file system, cgroup); fills rs->id. */
  int (*create)(void *rt, runtime_start *rs, runtime_ctr **out, pv_err *err);
  /* Starts its process; returns once it has exec'd or failed. */
  int (*start)(void *rt, runtime_ctr *c, pv_err *err);
  pid_t (*pid)(void *rt, const runtime_ctr *c);
  /* The fd that turns readable when the process has exited (owned by the
   * runtime: the keeper polls a dup of it). */
  int (*pidfd)(void *rt, const runtime_ctr *c);
  int (*kill)(void *rt, runtime_ctr *c, int sig);
  /* 0 and *ex once the process has exited; -1 with EAGAIN while it runs. */
  int (*reap)(void *rt, runtime_ctr *c, container_exit *ex, pv_err *err);
  /* Tears the run down without blocking (its cgroup may stay pending, see
   * collect); c is gone afterwards, also on failure. */
  void (*destroy)(void *rt, runtime_ctr *c);
  /* Pending cgroups: how many are left after one non-blocking pass (err
   * names the oldest), and how many there are. */
  size_t (*collect)(void *rt, pv_err *err);
  size_t (*pending)(void *rt);
  /* Runs x inside c; *fd is the caller's to poll and to close after
   * exec_reap said the process is gone. */
  int (*exec)(void *rt, runtime_ctr *c, runtime_exec *x, int *fd, pv_err *err);
  /* 1 and *si once the exec'd process behind fd has exited (it is reaped),
   * 0 while it runs, -1 on error. */
  int (*exec_reap)(void *rt, int fd, siginfo_t *si);
  int (*exec_signal)(void *rt, int fd, int sig);
} runtime_ops;

/* A runtime: its table and its context. */
typedef struct runtime {
  const runtime_ops *ops;
  void *ctx;
} runtime;

#endif
