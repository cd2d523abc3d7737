/* container_destroy.c - the end of a container's life: destroy (blocking,
 * or deferred for an event loop's hot path, which leaves survivors' cgroups
 * pending: container_pending.c), close of the whole manager within a bound,
 * and run (create + start + wait + destroy).  See container.h. */
#include "supervisor/core/container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/container_internal.h"
#include "supervisor/core/util.h"

/* ---- destroy / run ---- */

/* Everything of destroy but the state directory: kill and reap, then
 * remove the cgroup once.  defer: survivors that a SIGKILL has not ended
 * yet make the cgroup pending (container_pending.c) instead of a wait. */
static int release(container_manager *m, container *c, bool defer, pv_err *err) {
  if (c->state == CONTAINER_RUNNING) {
    container_kill_all(c);
    if (container_manager_wait(m, c, NULL, err) < 0)
      return -1;
  }
  if (c->cg == NULL)
    return 0;
  /* In its own pid namespace the init's exit means every process of the
   * container is gone (the kernel reaps the namespace before the init
   * becomes a zombie).  Otherwise the cgroup may hold survivors: kill them;
   * the blocking destroy gives them a moment (up to 1 s) to die, that is a
   * wait for an empty cgroup, the rmdir below still runs once. */
  bool busy = !c->new_pidns && !resource_manager_is_empty(c->cg);
  if (busy) {
    resource_manager_kill(c->cg, SIGKILL, NULL);
    for (int i = 0; !defer && i < 200 && !resource_manager_is_empty(c->cg); i++)
      nanosleep(&(struct timespec){0, 5000000}, NULL);
    busy = !resource_manager_is_empty(c->cg);
  }
  if (!(defer && busy) && resource_manager_destroy_cgroup(c->cg, err) == 0) {
    c->cg = NULL;
    return 0;
  }
  /* EBUSY on rmdir: a process showed up after the check (a fork under way). */
  if (!defer || (!busy && errno != EBUSY))
    return pv_err_wrap(err, "container %s: remove the cgroup", c->id);
  if (container_pending_add(m, c->cg, err) < 0)
    return pv_err_wrap(err, "container %s", c->id);
  c->cg = NULL;
  return 0;
}

/* Unlinks c from its manager and frees it. */
static void forget(container_manager *m, container *c) {
  for (container **p = &m->head; *p != NULL; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  c->state = CONTAINER_DESTROYED;
  container_free(c);
}

int container_manager_destroy(container_manager *m, container *c, pv_err *err) {
  if (release(m, c, false, err) < 0)
    return -1;
  if (fs_cleanup_container_root(c->dir, err) < 0)
    return pv_err_wrap(err, "container %s: remove %s", c->id, c->dir);
  forget(m, c);
  return 0;
}

/* Renames c->dir to an unused "<state_dir>/.trash-<id>-<pid>-<n>" (never
 * replacing anything: RENAME_NOREPLACE), the name into trash. */
static int move_to_trash(container_manager *m, container *c, char *trash, size_t len, pv_err *err) {
  for (;;) {
    unsigned n = m->trash_seq++;
    if (pv_path(trash, len, "%s/.trash-%s-%ld-%u", m->state_dir, c->id, (long)getpid(), n) < 0)
      return pv_err_sys(err, "container %s: name a trash directory", c->id);
    if (renameat2(AT_FDCWD, c->dir, AT_FDCWD, trash, RENAME_NOREPLACE) == 0)
      return 0;
    if (errno == ENOENT) {
      trash[0] = '\0'; /* nothing left to remove */
      return 0;
    }
    if (errno != EEXIST)
      return pv_err_sys(err, "container %s: rename %s to %s", c->id, c->dir, trash);
  }
}

int container_manager_destroy_deferred(container_manager *m, container *c, char *trash, size_t len,
                                       pv_err *err) {
  /* Checked before anything is torn down: ".trash-" + '-' + pid + '-' + n. */
  if (trash == NULL || len < strlen(m->state_dir) + strlen(c->id) + 48)
    return pv_err_set(err, ENAMETOOLONG, "container %s: the buffer for the trash path is too small", c->id);
  trash[0] = '\0';
  if (release(m, c, true, err) < 0 || move_to_trash(m, c, trash, len, err) < 0)
    return -1;
  forget(m, c);
  return 0;
}

/* Milliseconds from now to deadline (ns, monotonic), 0 once it passed. */
static unsigned ms_until(uint64_t deadline) {
  uint64_t now = pv_now_ns();
  return now >= deadline ? 0 : (unsigned)((deadline - now + 999999) / 1000000);
}

/* SIGKILL and reap a running container, waiting no later than deadline.
 * An init that does not die by then (frozen, or its pid namespace still
 * holding a process in uninterruptible sleep) is let go unreaped: its
 * cgroup stays busy and is reported with the others. */
static void kill_until(container_manager *m, container *c, uint64_t deadline) {
  /* A SIGKILLed init normally dies in well under a millisecond: even a
   * close that waits for nothing gives it that moment. */
  uint64_t soonest = pv_now_ns() + 100 * 1000000ull;
  if (deadline < soonest)
    deadline = soonest;
  container_kill_all(c);
  struct pollfd pfd = {.fd = c->pidfd, .events = POLLIN};
  int r;
  while ((r = poll(&pfd, 1, (int)ms_until(deadline))) < 0 && errno == EINTR) {
  }
  if (r > 0 && container_manager_reap(m, c, NULL, NULL) == 0)
    return;
  close(c->pidfd);
  c->pidfd = -1;
  c->state = CONTAINER_STOPPED;
}

int container_manager_close(container_manager *m, unsigned wait_ms, pv_err *err) {
  if (m == NULL)
    return 0;
  uint64_t deadline = pv_now_ns() + (uint64_t)wait_ms * 1000000ull;
  /* Every container goes the deferred way (nothing sleeps per container);
   * the one bounded wait below covers all their survivors at once. */
  while (m->head != NULL) {
    container *c = m->head;
    if (c->state == CONTAINER_RUNNING)
      kill_until(m, c, deadline);
    if (release(m, c, true, NULL) < 0 && c->cg != NULL && container_pending_add(m, c->cg, NULL) == 0)
      c->cg = NULL; /* could not be removed: the wait below still tries */
    fs_cleanup_container_root(c->dir, NULL);
    forget(m, c);
  }
  int r = container_pending_drain(m, ms_until(deadline), err);
  container_pending_forget_all(m);
  resource_manager_cleanup(m->rm);
  fs_cgroup_mounts_free(m->cgmounts, m->n_cgmounts);
  free(m->state_dir);
  free(m);
  return r;
}

void container_manager_cleanup(container_manager *m) {
  (void)container_manager_close(m, CONTAINER_CLOSE_WAIT_MS, NULL);
}

int container_manager_run(container_manager *m, const container_config *cfg, container_exit *ex,
                          pv_err *err) {
  container *c;
  if (container_manager_create(m, cfg, &c, err) < 0)
    return -1;
  int r = container_manager_start(m, c, err);
  if (r == 0)
    r = container_manager_wait(m, c, ex, err);
  else if (ex != NULL)
    *ex = c->exit;
  pv_err tmp;
  if (container_manager_destroy(m, c, r == 0 ? err : &tmp) < 0 && r == 0)
    r = -1;
  return r;
}
