/* runtime_core.c - the shim's real runtime over the core API (runtime_core.h). */
#include "supervisor/shim/runtime_core.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/placement.h"

/* The runtime's containers are the core's. */
static container *as_ctr(runtime_ctr *c) {
  return (container *)c;
}

static int rc_sandbox_ready(void *ctx, pv_err *err) {
  runtime_core *rt = ctx;
  return rt->pause != NULL ? shim_pause_ready(rt->pause, err) : 0;
}

static int rc_create(void *ctx, runtime_start *rs, runtime_ctr **out, pv_err *err) {
  runtime_core *rt = ctx;
  placement pl;
  if (placement_build(&pl, rt->root, rt->pod_dir, rt->pod_cgroup, rs->pod, rs->ctr, rs->restart, err) < 0)
    return -1;
  if (pl.seccomp != PLACEMENT_SECCOMP_NONE &&
      seccache_get(&rt->seccomp, pl.seccomp == PLACEMENT_SECCOMP_FILE ? pl.seccomp_path : NULL, pl.seccomp_caps,
                   &pl.cfg.seccomp, err) < 0) {
    placement_free(&pl);
    return pv_err_wrap(err, "container %s", rs->ctr->name);
  }
  pl.cfg.namespaces = sandbox_container_namespaces(rt->sb);
  if (rt->sb->userns >= 0) {
    pl.cfg.join.user = rt->sb->userns;
    pl.cfg.userns_uid = (uid_t)rt->sb->userns_base;
    pl.cfg.userns_gid = (gid_t)rt->sb->userns_base;
  }
  pl.cfg.stdin_fd = rs->stdin_fd;
  pl.cfg.stdout_fd = rs->stdout_fd;
  pl.cfg.stderr_fd = rs->stderr_fd;
  if (rs->id != NULL)
    snprintf(rs->id, rs->id_len, "%.40s-%.80s", rt->uid, pl.id); /* a Kubernetes uid and a name-restart fit */
  container *c = NULL;
  int rc = container_manager_create(rt->mgr, &pl.cfg, &c, err);
  placement_free(&pl);
  *out = (runtime_ctr *)c;
  return rc;
}

static int rc_start(void *ctx, runtime_ctr *c, pv_err *err) {
  runtime_core *rt = ctx;
  return container_manager_start(rt->mgr, as_ctr(c), err);
}

static pid_t rc_pid(void *ctx, const runtime_ctr *c) {
  (void)ctx;
  return container_pid((const container *)c);
}

static int rc_pidfd(void *ctx, const runtime_ctr *c) {
  (void)ctx;
  return container_pidfd((const container *)c);
}

static int rc_kill(void *ctx, runtime_ctr *c, int sig) {
  runtime_core *rt = ctx;
  return container_manager_kill(rt->mgr, as_ctr(c), sig, NULL);
}

static int rc_reap(void *ctx, runtime_ctr *c, container_exit *ex, pv_err *err) {
  runtime_core *rt = ctx;
  return container_manager_reap(rt->mgr, as_ctr(c), ex, err);
}

/* A finished container's directory tree (its overlay upper dir, with
 * whatever the container wrote) is removed in libuv's thread pool: on the
 * loop it would delay the restart that follows. */
typedef struct trash_work {
  uv_work_t req;
  char path[PATH_MAX];
} trash_work;

static void trash_remove(uv_work_t *req) {
  trash_work *t = req->data;
  pv_rm_rf(t->path, NULL); /* a leftover is removed with the pod anyway */
}

static void trash_done(uv_work_t *req, int status) {
  (void)status;
  free(req->data);
}

static void rc_destroy(void *ctx, runtime_ctr *rc) {
  runtime_core *rt = ctx;
  container *c = as_ctr(rc);
  pv_err err;
  pv_err_clear(&err);
  trash_work *t = malloc(sizeof *t);
  if (t == NULL) {
    if (container_manager_destroy(rt->mgr, c, &err) < 0)
      fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    return;
  }
  if (container_manager_destroy_deferred(rt->mgr, c, t->path, sizeof t->path, &err) < 0) {
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    free(t);
    return;
  }
  t->req.data = t;
  if (t->path[0] == '\0' || uv_queue_work(rt->loop, &t->req, trash_remove, trash_done) < 0) {
    if (t->path[0] != '\0')
      pv_rm_rf(t->path, NULL);
    free(t);
  }
}

static size_t rc_collect(void *ctx, pv_err *err) {
  runtime_core *rt = ctx;
  return container_manager_collect(rt->mgr, err);
}

static size_t rc_pending(void *ctx) {
  runtime_core *rt = ctx;
  return rt->mgr != NULL ? container_manager_pending(rt->mgr) : 0;
}

static int rc_exec(void *ctx, runtime_ctr *c, runtime_exec *x, int *fd, pv_err *err) {
  runtime_core *rt = ctx;
  container_exec_config xc = {.argv = x->argv,
                              .stdin_fd = x->stdin_fd >= 0 ? x->stdin_fd : rt->devnull,
                              .stdout_fd = x->stdout_fd >= 0 ? x->stdout_fd : rt->devnull,
                              .stderr_fd = x->stderr_fd >= 0 ? x->stderr_fd : rt->devnull,
                              .tty = x->tty};
  return container_manager_exec(rt->mgr, as_ctr(c), &xc, &x->pid, fd, err);
}

static int rc_exec_reap(void *ctx, int fd, siginfo_t *si) {
  (void)ctx;
  return pv_pidfd_try_reap(fd, si);
}

static int rc_exec_signal(void *ctx, int fd, int sig) {
  (void)ctx;
  return pv_pidfd_signal(fd, sig);
}

const runtime_ops runtime_core_ops = {
    .sandbox_ready = rc_sandbox_ready,
    .create = rc_create,
    .start = rc_start,
    .pid = rc_pid,
    .pidfd = rc_pidfd,
    .kill = rc_kill,
    .reap = rc_reap,
    .destroy = rc_destroy,
    .collect = rc_collect,
    .pending = rc_pending,
    .exec = rc_exec,
    .exec_reap = rc_exec_reap,
    .exec_signal = rc_exec_signal,
};
