/* shim_pause.c - the pause process of a shareProcessNamespace pod, watched
 * and replaced when it dies (shim_pause.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/shim_pause.h"

struct shim_pause {
  uv_loop_t *loop;
  sandbox *sb;
  keeper *k;
  const char *pod;
  struct pause_watch *current; /* the watch on the current pause process, NULL when none */
  struct pause_watch *retired; /* watches on replaced pause processes still exiting */
  bool death_told;             /* a death not replaced (the pod stops) was logged */
};

typedef struct pause_watch {
  uv_poll_t poll;
  shim_pause *sh;
  sandbox_pause old;        /* a retired pause (owned); pid 0 while this watches the current one */
  struct pause_watch *next; /* in sh->retired while it watches a retired pause */
} pause_watch;

static void watch_closed(uv_handle_t *h) {
  free(h->data);
}

/* Closes the poll handle, then a retired pause's fd: uv_close() drops the fd
 * from epoll at once, so the fd must not be closed (and recycled) before. */
static void watch_close(pause_watch *w) {
  for (pause_watch **p = &w->sh->retired; *p != NULL; p = &(*p)->next)
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
  pause_watch *w = h->data;
  siginfo_t si;
  if (pv_pidfd_try_reap(w->old.pidfd, &si) == 0)
    return; /* still exiting */
  watch_close(w);
}

/* Moves the old pause to sh->pause's watch (or a new one) until it is gone.
 * A pause that cannot be watched stays a zombie until the shim exits. */
static void retire(shim_pause *sh, sandbox_pause old) {
  pause_watch *w = sh->current;
  sh->current = NULL;
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
    if (w == NULL || uv_poll_init(sh->loop, &w->poll, old.pidfd) < 0) {
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

static int watch_current(shim_pause *sh, pv_err *err) {
  pause_watch *w = calloc(1, sizeof *w);
  if (w == NULL)
    return pv_err_set(err, ENOMEM, "pod %s: out of memory", sh->pod);
  w->sh = sh;
  w->old.pidfd = -1;
  int rc = uv_poll_init(sh->loop, &w->poll, sh->sb->pause_pidfd);
  if (rc < 0) {
    free(w);
    return pv_err_set(err, -rc, "pod %s: watch pause process %d: %s", sh->pod, (int)sh->sb->pause_pid,
                      uv_strerror(rc));
  }
  w->poll.data = w;
  uv_poll_start(&w->poll, UV_READABLE, on_pause_readable);
  sh->current = w;
  return 0;
}

/* Replaces the pod's pid namespace, whose pause is gone or going.  On
 * failure the pod has failed: its stop begins here. */
static int renew(shim_pause *sh, pv_err *err) {
  pid_t dead = sh->sb->pause_pid;
  sandbox_pause old;
  int rc = sandbox_renew(sh->sb, &old, err);
  retire(sh, old);
  if (rc < 0) {
    pv_err_wrap(err, "pod %s: cannot replace its dead pause process %d", sh->pod, (int)dead);
    fprintf(stderr, "podvisor shim: %s; stopping the pod\n", pv_err_str(err));
    if (sh->k != NULL)
      keeper_sandbox_failed(sh->k, pv_err_str(err));
    return -1;
  }
  fprintf(stderr,
          "podvisor shim: pod %s: pause process %d died, and with it every process of the pod's pid "
          "namespace; new pid namespace with pause process %d\n",
          sh->pod, (int)dead, (int)sh->sb->pause_pid);
  pv_err werr;
  pv_err_clear(&werr);
  /* Unwatched, the new pause is still checked before every container start:
   * only its replacement would wait for the next start. */
  if (watch_current(sh, &werr) < 0)
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&werr));
  if (sh->k != NULL)
    keeper_touch(sh->k); /* podvisor.pausePid */
  return 0;
}

/* A pause that died on its own while the pod stops is not replaced, but
 * said (a stop that comes first, as `up` sends one once the pod has
 * failed, must not hide it). */
static void tell_death(shim_pause *sh) {
  if (sh->death_told || sh->sb->pause_pid <= 0 || sandbox_pause_alive(sh->sb))
    return;
  sh->death_told = true;
  fprintf(stderr,
          "podvisor shim: pod %s: pause process %d died, and with it every process of the pod's pid "
          "namespace; the pod is stopping, so it is not replaced\n",
          sh->pod, (int)sh->sb->pause_pid);
}

static void on_pause_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  pause_watch *w = h->data;
  shim_pause *sh = w->sh;
  if (sandbox_pause_alive(sh->sb))
    return;
  if (sh->k == NULL || keeper_stopping(sh->k)) {
    /* Nothing starts any more: sandbox_release() reaps it at the end. */
    tell_death(sh);
    uv_poll_stop(h);
    return;
  }
  pv_err err;
  pv_err_clear(&err);
  (void)renew(sh, &err); /* a failure is reported and stops the pod */
}

int shim_pause_new(shim_pause **out, uv_loop_t *loop, sandbox *sb, const char *pod, pv_err *err) {
  *out = NULL;
  if (!sb->share_pid)
    return 0;
  shim_pause *p = calloc(1, sizeof *p);
  if (p == NULL)
    return pv_err_set(err, ENOMEM, "pod %s: out of memory", pod);
  p->loop = loop;
  p->sb = sb;
  p->pod = pod;
  if (watch_current(p, err) < 0) {
    free(p);
    return -1;
  }
  *out = p;
  return 0;
}

void shim_pause_set_keeper(shim_pause *p, keeper *k) {
  if (p != NULL)
    p->k = k;
}

int shim_pause_ready(shim_pause *sh, pv_err *err) {
  const char *failed = sh->k != NULL ? keeper_sandbox_error(sh->k) : "";
  if (failed[0] != '\0')
    return pv_err_set(err, ESRCH, "%s", failed);
  /* The shim's children are born in the pod's namespace: sandbox_renew()
   * unshared it, and an exec into a container restores where children
   * are born (namespace_clone_process). */
  if (!sandbox_pause_alive(sh->sb) && renew(sh, err) < 0)
    return -1;
  return 0;
}

void shim_pause_close(shim_pause *sh) {
  if (sh == NULL)
    return;
  tell_death(sh); /* before the pod's release kills it */
  if (sh->current != NULL) {
    watch_close(sh->current);
    sh->current = NULL;
  }
  /* A retired pause still exiting (a process of its namespace that cannot
   * die holds it) must not keep the loop alive: its zombie is left to the
   * host's init when the shim exits. */
  while (sh->retired != NULL)
    watch_close(sh->retired);
  free(sh);
}
