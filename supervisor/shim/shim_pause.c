/* shim_pause.c - the pause process of a pod with shareProcessNamespace:
 * watched with uv_poll on its pidfd, and replaced together with the pod's
 * pid namespace when it dies outside a pod stop (sandbox.h tells the kernel's
 * rules).
 *
 * When the pause dies (kill -9 from the host), the kernel SIGKILLs every
 * process of its pid namespace.  The containers among them are the shim's
 * children: their exits take the normal path (Terminated, reason Error, exit
 * code 137) and the restart policy decides what follows, as the kubelet does
 * when a pod sandbox dies.  The pause itself finishes exiting only after the
 * shim has reaped all of them, so those exits, and the restarts they
 * schedule, usually come before the pause's pidfd turns readable.  Hence two
 * ways to notice: the poll (the pause is gone), and shim_sandbox_ready()
 * before every container start (the pause is going).  Whichever comes first
 * renews the namespace; the old pause then stays watched ("retired") until
 * it is gone, and is reaped.  A pause that cannot be replaced fails the pod:
 * the shim stops it and exits once it is down.
 *
 * Ownership: each watch is heap memory freed in its handle's close callback.
 * The current pause's pidfd belongs to the sandbox; a retired one's to its
 * watch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/shim_internal.h"

struct shim_pause {
  uv_poll_t poll;
  shim *sh;
  sandbox_pause old;       /* a retired pause (owned); pid 0 while this watches the current one */
  struct shim_pause *next; /* in sh->retired while it watches a retired pause */
};

static void watch_closed(uv_handle_t *h) {
  free(h->data);
}

/* Closes the poll handle, then a retired pause's fd: uv_close() drops the fd
 * from epoll at once, so the fd must not be closed (and recycled) before. */
static void watch_close(struct shim_pause *w) {
  for (struct shim_pause **p = &w->sh->retired; *p != NULL; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      break;
    }
  uv_close((uv_handle_t *)&w->poll, watch_closed);
  if (w->old.pidfd >= 0) {
    close(w->old.pidfd);
    w->old.pidfd = -1;
  }
}

static void on_retired_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  struct shim_pause *w = h->data;
  siginfo_t si;
  if (pv_pidfd_try_reap(w->old.pidfd, &si) == 0)
    return; /* still exiting */
  watch_close(w);
}

/* Moves the old pause to sh->pause's watch (or a new one) until it is gone.
 * A pause that cannot be watched stays a zombie until the shim exits. */
static void retire(shim *sh, sandbox_pause old) {
  struct shim_pause *w = sh->pause;
  sh->pause = NULL;
  siginfo_t si;
  if (old.pidfd < 0 || pv_pidfd_try_reap(old.pidfd, &si) != 0) {
    /* Gone already (reaped now), or nothing to wait for. */
    if (w != NULL)
      watch_close(w);
    if (old.pidfd >= 0)
      close(old.pidfd);
    return;
  }
  if (w == NULL) {
    w = calloc(1, sizeof *w);
    if (w == NULL || uv_poll_init(&sh->loop, &w->poll, old.pidfd) < 0) {
      free(w);
      close(old.pidfd);
      return;
    }
    w->sh = sh;
    w->poll.data = w;
  }
  w->old = old;
  w->next = sh->retired;
  sh->retired = w;
  uv_poll_start(&w->poll, UV_READABLE, on_retired_readable);
}

static void on_pause_readable(uv_poll_t *h, int status, int events);

static int watch_current(shim *sh, pv_err *err) {
  struct shim_pause *w = calloc(1, sizeof *w);
  if (w == NULL)
    return pv_err_set(err, ENOMEM, "pod %s: out of memory", sh->pod->name);
  w->sh = sh;
  w->old.pidfd = -1;
  int rc = uv_poll_init(&sh->loop, &w->poll, sh->sb.pause_pidfd);
  if (rc < 0) {
    free(w);
    return pv_err_set(err, -rc, "pod %s: watch pause process %d: %s", sh->pod->name, (int)sh->sb.pause_pid,
                      uv_strerror(rc));
  }
  w->poll.data = w;
  uv_poll_start(&w->poll, UV_READABLE, on_pause_readable);
  sh->pause = w;
  return 0;
}

/* Replaces the pod's pid namespace, whose pause is gone or going.  On
 * failure the pod has failed: its stop begins here. */
static int renew(shim *sh, pv_err *err) {
  pid_t dead = sh->sb.pause_pid;
  sandbox_pause old;
  int rc = sandbox_renew(&sh->sb, &old, err);
  retire(sh, old);
  if (rc < 0) {
    pv_err_wrap(err, "pod %s: cannot replace its dead pause process %d", sh->pod->name, (int)dead);
    fprintf(stderr, "podvisor shim: %s; stopping the pod\n", pv_err_str(err));
    snprintf(sh->sandbox_error, sizeof sh->sandbox_error, "%s", pv_err_str(err));
    shim_mark_dirty(sh);
    shim_begin_stop(sh);
    return -1;
  }
  fprintf(stderr,
          "podvisor shim: pod %s: pause process %d died, and with it every process of the pod's pid "
          "namespace; new pid namespace with pause process %d\n",
          sh->pod->name, (int)dead, (int)sh->sb.pause_pid);
  pv_err werr;
  pv_err_clear(&werr);
  /* Unwatched, the new pause is still checked before every container start:
   * only its replacement would wait for the next start. */
  if (watch_current(sh, &werr) < 0)
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&werr));
  shim_mark_dirty(sh); /* podvisor.pausePid */
  return 0;
}

static void on_pause_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  struct shim_pause *w = h->data;
  shim *sh = w->sh;
  if (sandbox_pause_alive(&sh->sb))
    return;
  if (sh->stopping) {
    /* Nothing starts any more: sandbox_release() reaps it at the end. */
    uv_poll_stop(h);
    return;
  }
  pv_err err;
  pv_err_clear(&err);
  (void)renew(sh, &err); /* a failure is reported and stops the pod */
}

int shim_pause_watch(shim *sh, pv_err *err) {
  if (!sh->sb.share_pid)
    return 0;
  return watch_current(sh, err);
}

int shim_sandbox_ready(shim *sh, pv_err *err) {
  if (!sh->sb.share_pid)
    return 0;
  if (sh->sandbox_error[0] != '\0')
    return pv_err_set(err, ESRCH, "%s", sh->sandbox_error);
  /* The shim's children are born in the pod's namespace: sandbox_renew()
   * unshared it, and an exec into a container restores where children
   * are born (namespace_clone_process). */
  if (!sandbox_pause_alive(&sh->sb) && renew(sh, err) < 0)
    return -1;
  return 0;
}

void shim_pause_close(shim *sh) {
  if (sh->pause != NULL) {
    watch_close(sh->pause);
    sh->pause = NULL;
  }
  /* A retired pause still exiting (a process of its namespace that cannot
   * die holds it) must not keep the loop alive: its zombie is left to the
   * host's init when the shim exits. */
  while (sh->retired != NULL)
    watch_close(sh->retired);
}
