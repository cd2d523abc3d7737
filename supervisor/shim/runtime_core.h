/*
 * runtime_core.h - the shim's real runtime (runtime.h): containers of the
 * core lifecycle API (container.h), planned by placement.h, in the pod's
 * sandbox (sandbox.h).
 *
 * create renews a dead shared pid namespace first (shim_pause.h), then
 * builds the run's config (image, argv, env, limits, security, volumes) and
 * creates it with the sandbox's namespaces and its seccomp program (from
 * the cache, seccache.h); destroy is
 * container_manager_destroy_deferred, the container's directory tree
 * removed in libuv's thread pool so that the restart that follows is not
 * delayed; exec'd processes are the shim's children, reaped through their
 * pidfds.
 *
 * The struct is the caller's (the shim); its strings and pointers must
 * outlive every container.
 */
#ifndef PODVISOR_SHIM_RUNTIME_CORE_H
#define PODVISOR_SHIM_RUNTIME_CORE_H

#include <uv.h>

#include "supervisor/core/container.h"
#include "supervisor/shim/runtime.h"
#include "supervisor/shim/sandbox.h"
#include "supervisor/shim/seccache.h"
#include "supervisor/shim/shim_pause.h"

typedef struct runtime_core {
  uv_loop_t *loop;
  container_manager *mgr;
  const char *root;    /* images */
  const char *pod_dir; /* <root>/pods/<uid>: volumes */
  const char *uid;
  const char *pod_cgroup; /* <cgroup parent>/<uid> */
  const sandbox *sb;
  shim_pause *pause; /* NULL without a shared pid namespace */
  int devnull;
  /* The containers' seccomp programs, compiled once per (profile, caps)
   * for the shim's life; the shim frees it after the manager's close. */
  seccache seccomp;
} runtime_core;

extern const runtime_ops runtime_core_ops;

#endif
