/*
 * container_pending.c - cgroups that outlive their container (container.h:
 * container_manager_collect).
 *
 * A container without a pid namespace of its own (every container of a
 * shareProcessNamespace pod) may leave processes behind its init: the pod's
 * pid 1 adopts them and they stay in the container's cgroup.  destroy
 * SIGKILLs them through the cgroup, but a SIGKILLed process is not gone at
 * once: it must first be scheduled to run its exit, which takes from a few
 * microseconds to forever (a task frozen by a v1 freezer dies only once
 * thawed; one in uninterruptible sleep only when the sleep ends).  An
 * event loop cannot wait for that, so destroy_deferred hands such a cgroup
 * to the manager's pending list and returns; collect() SIGKILLs each
 * pending cgroup again and removes the ones that became empty, without
 * ever sleeping.
 *
 * Name reuse: the next container may want the same cgroup path while the
 * old survivors are still dying.  create() then first tries to remove the
 * pending cgroup, and otherwise moves it aside to the sibling
 * "<leaf>.pending-<pid>-<n>" (resource_manager_move_cgroup: a rename on v1,
 * a migration of its processes on cgroup2), so the new container never
 * shares a cgroup with them.  If even that fails (cgroup2 cannot migrate a
 * process that is already exiting), create() fails with EBUSY rather than
 * adopt the old cgroup.
 *
 * A manager that died with cgroups pending (a killed process) leaves them
 * behind; container_manager_adopt_leftovers() lets its successor take them
 * over, along with any other cgroup left below the parent it names.
 *
 * A cgroup that never empties stays pending for as long as the manager
 * lives: every collect() kills and tries it again (a handful of syscalls)
 * and reports it in its error record; the owner decides how often to ask.
 * Closing the manager waits a bounded time for the pending list and then
 * fails with an error naming every cgroup it leaves behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/container_internal.h"
#include "supervisor/core/util.h"

/* Tries of a fresh aside name when one is taken (EEXIST). */
#define ASIDE_TRIES 8
/* The blocking drain polls from 1 ms, doubling up to this. */
#define DRAIN_MAX_STEP_MS 50

struct container_pending {
  container_pending *next;
  cgroup_handle *cg;
  uint64_t since_ns; /* pv_now_ns() when it became pending */
  int last_errno;    /* 0: still has processes; else why the rmdir failed */
};

int container_pending_add(container_manager *m, cgroup_handle *cg, pv_err *err) {
  container_pending *p = calloc(1, sizeof *p);
  if (p == NULL)
    return pv_err_sys(err, "cgroup %s: remember it for removal", cgroup_handle_path(cg));
  p->cg = cg;
  p->since_ns = pv_now_ns();
  /* At the tail: collect() and its report go oldest first. */
  container_pending **tail = &m->pending;
  while (*tail != NULL)
    tail = &(*tail)->next;
  *tail = p;
  m->n_pending++;
  return 0;
}

/* SIGKILL again, then remove when empty.  0 when the cgroup is gone (the
 * handle is freed then), -1 while it stays pending. */
static int sweep(container_pending *p) {
  resource_manager_kill(p->cg, SIGKILL, NULL);
  if (!resource_manager_is_empty(p->cg)) {
    p->last_errno = 0;
    return -1;
  }
  if (resource_manager_destroy_cgroup(p->cg, NULL) == 0)
    return 0;
  /* EBUSY: a process appeared since the check (a fork that was already
   * under way), the next sweep kills it. */
  p->last_errno = errno == EBUSY ? 0 : errno;
  return -1;
}

static void unlink_free(container_manager *m, container_pending **pp) {
  container_pending *p = *pp;
  *pp = p->next;
  m->n_pending--;
  free(p);
}

/* Why p is still pending, for an error record. */
static void describe(const container_pending *p, char *buf, size_t size) {
  uint64_t ms = (pv_now_ns() - p->since_ns) / 1000000;
  if (p->last_errno == 0)
    snprintf(buf, size, "cgroup %s: still holds processes or child cgroups %" PRIu64 " ms after SIGKILL",
             cgroup_handle_path(p->cg), ms);
  else
    snprintf(buf, size, "cgroup %s: cannot remove it (%s), pending for %" PRIu64 " ms",
             cgroup_handle_path(p->cg), strerror(p->last_errno), ms);
}

size_t container_manager_collect(container_manager *m, pv_err *err) {
  pv_err_clear(err);
  for (container_pending **pp = &m->pending; *pp != NULL;) {
    if (sweep(*pp) == 0)
      unlink_free(m, pp);
    else
      pp = &(*pp)->next;
  }
  if (m->n_pending > 0 && err != NULL) {
    char what[PV_ERR_MSG_MAX - 64];
    describe(m->pending, what, sizeof what);
    if (m->n_pending == 1)
      pv_err_set(err, EBUSY, "%s", what);
    else
      pv_err_set(err, EBUSY, "%s (and %zu more pending cgroups)", what, m->n_pending - 1);
  }
  return m->n_pending;
}

size_t container_manager_pending(const container_manager *m) {
  return m->n_pending;
}

/* Moves p's cgroup to a fresh "<leaf>.pending-<pid>-<n>" beside it. */
static int move_aside(container_manager *m, container_pending *p, const char *relpath, pv_err *err) {
  const char *slash = strrchr(relpath, '/');
  const char *leaf = slash != NULL ? slash + 1 : relpath;
  for (int i = 0; i < ASIDE_TRIES; i++) {
    char name[NAME_MAX + 1];
    snprintf(name, sizeof name, "%.200s.pending-%ld-%u", leaf, (long)getpid(), m->aside_seq++);
    pv_err_clear(err);
    if (resource_manager_move_cgroup(p->cg, name, err) == 0)
      return 0;
    if (errno != EEXIST)
      return -1;
  }
  return -1;
}

int container_pending_reclaim(container_manager *m, const char *relpath, pv_err *err) {
  for (container_pending **pp = &m->pending; *pp != NULL;) {
    container_pending *p = *pp;
    if (!resource_manager_cgroup_at(p->cg, relpath)) {
      pp = &p->next;
      continue;
    }
    if (sweep(p) == 0) {
      unlink_free(m, pp);
      continue;
    }
    pv_err why;
    if (move_aside(m, p, relpath, &why) < 0 || resource_manager_cgroup_at(p->cg, relpath))
      return pv_err_set(err, EBUSY,
                        "cgroup %s: processes of an earlier container are still there and cannot be moved "
                        "aside: %s",
                        relpath, pv_err_str(&why));
    pp = &p->next;
  }
  return 0;
}

int container_pending_drain(container_manager *m, unsigned wait_ms, pv_err *err) {
  uint64_t deadline = pv_now_ns() + (uint64_t)wait_ms * 1000000ull;
  long step_ms = 1;
  while (container_manager_collect(m, NULL) > 0) {
    uint64_t now = pv_now_ns();
    if (now >= deadline)
      break;
    uint64_t left_ms = (deadline - now + 999999) / 1000000;
    long ms = (uint64_t)step_ms < left_ms ? step_ms : (long)left_ms;
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
    step_ms = step_ms * 2 > DRAIN_MAX_STEP_MS ? DRAIN_MAX_STEP_MS : step_ms * 2;
  }
  if (m->n_pending == 0)
    return 0;
  /* Name every cgroup left behind; the record truncates a long list. */
  char list[PV_ERR_MSG_MAX];
  size_t used = 0;
  list[0] = '\0';
  for (const container_pending *p = m->pending; p != NULL && used < sizeof list - 1; p = p->next) {
    int n =
        snprintf(list + used, sizeof list - used, "%s%s", used > 0 ? ", " : "", cgroup_handle_path(p->cg));
    used += n > 0 ? (size_t)n : 0;
  }
  return pv_err_set(err, EBUSY, "%zu cgroup(s) still have processes %u ms after SIGKILL, left behind: %s",
                    m->n_pending, wait_ms, list);
}

typedef struct adopt_ctx {
  container_manager *m;
  const char *parent;
  size_t kept;
  pv_err *err;
} adopt_ctx;

/* true when c of this manager lives at relpath, or a pending cgroup does. */
static bool in_use(container_manager *m, const char *relpath) {
  for (const container *c = m->head; c != NULL; c = c->next)
    if (c->cg != NULL && strcmp(c->cgroup_path, relpath) == 0)
      return true;
  for (const container_pending *p = m->pending; p != NULL; p = p->next)
    if (resource_manager_cgroup_at(p->cg, relpath))
      return true;
  return false;
}

static int adopt_one(void *ctx, const char *name) {
  adopt_ctx *a = ctx;
  char rel[PATH_MAX];
  if (pv_path(rel, sizeof rel, "%s/%s", a->parent, name) < 0 || in_use(a->m, rel))
    return 0;
  cgroup_handle *cg;
  if (resource_manager_open_cgroup(a->m->rm, rel, &cg, NULL) < 0)
    return 0; /* gone meanwhile */
  resource_manager_kill(cg, SIGKILL, NULL);
  if (resource_manager_is_empty(cg) && resource_manager_destroy_cgroup(cg, NULL) == 0)
    return 0;
  if (container_pending_add(a->m, cg, a->err) < 0) {
    resource_manager_close_cgroup(cg);
    return -1;
  }
  a->kept++;
  return 0;
}

int container_manager_adopt_leftovers(container_manager *m, const char *parent, pv_err *err) {
  adopt_ctx a = {.m = m, .parent = parent, .err = err};
  if (resource_manager_each_child(m->rm, parent, adopt_one, &a, err) < 0)
    return pv_err_wrap(err, "cgroup %s: take over what is left below it", parent);
  return (int)a.kept;
}

void container_pending_forget_all(container_manager *m) {
  while (m->pending != NULL) {
    resource_manager_close_cgroup(m->pending->cg);
    unlink_free(m, &m->pending);
  }
}
