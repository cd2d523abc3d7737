/*
 * shim_proc.h - the shim process's own state, shared by its three files:
 * shim.c (set-up, tear-down, status, signals), shim_ops.c (the control
 * protocol's ops) and shim_exec.c (the exec op).  Not an API: nothing
 * outside supervisor/shim/shim*.c includes it.  The pod itself is the
 * keeper's (keeper.h); these files reach it only through keeper.h.
 *
 * Ownership: the shim owns its paths (podpaths), the keeper, the runtime's
 * context, the socket and its state files; the struct lives for the whole
 * process and is freed after the loop has run out.
 */
#ifndef PODVISOR_SHIM_SHIM_PROC_H
#define PODVISOR_SHIM_SHIM_PROC_H

#include <stdbool.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/proto/ctlproto.h"
#include "supervisor/proto/podpaths.h"
#include "supervisor/shim/keeper.h"
#include "supervisor/shim/runtime_core.h"
#include "supervisor/shim/sandbox.h"
#include "supervisor/shim/shim.h"
#include "supervisor/shim/shim_pause.h"
#include "supervisor/shim/shimsock.h"
#include "supervisor/shim/statefile.h"

typedef struct shim {
  uv_loop_t loop;
  shim_options opt;
  spec_pod *pod;  /* the snapshot's pod until the keeper takes it */
  podpaths paths; /* every path of the pod (heap strings) */
  /* The instance's cgroup parent, and the instance that ran here before
   * with its own (cgroup.json, podsnap.h; "" when none was recorded). */
  char cgroup_parent[RESOURCE_PARENT_MAX + 1];
  char prev_uid[PODPATHS_UID_MAX + 1];
  uint32_t userns_base; /* hostUsers: false: the pod's id range (idpool.h), else 0 */
  char prev_parent[RESOURCE_PARENT_MAX + 1];
  container_manager *mgr;
  sandbox sb;
  shim_pause *pause;
  runtime_core rt;
  keeper *k;
  shimsock sock;
  bool update_busy; /* shim_ops.c: one update at a time */
  uv_signal_t sig_term, sig_int;
  uv_timer_t trim_timer;
  statefile status_file; /* status.json, written durably off the loop */
  statefile pid_file;    /* shim.pid */
  bool loop_ready, handles_ready, listening, closing;
  int devnull;
  int lock_fd; /* <run_dir>/shim.lock, flock()ed for the shim's life */
} shim;

/* shim_ops.c: the control protocol's ops (ctlproto.h) behind the socket. */
extern const shimsock_handler shim_ops_handler;

/* shim_exec.c: the exec op; the connection is held until the process ends.
 * fds are the request's (owned). */
void shim_exec_start(shim *sh, shimsock_conn *c, const ctlproto_request *req, int *fds, size_t nfds);
void shim_exec_released(shim *sh, void *data);

#endif
