/* shim_stop.c - stopping containers: preStop hooks bounded by the grace
 * period, SIGTERM, SIGKILL at the deadline; probe kills; the pod stop, with
 * sidecars stopped last, one at a time, in reverse order. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/shim_internal.h"

/* Seconds of grace as milliseconds, saturated: a manifest may ask for an
 * absurd terminationGracePeriodSeconds, and deadlines add it to "now". */
int64_t shim_grace_of(int64_t seconds) {
  const int64_t max_s = INT64_C(100) * 365 * 24 * 3600; /* a century */
  if (seconds < 0)
    return 0;
  return (seconds > max_s ? max_s : seconds) * 1000;
}

int64_t shim_grace_ms(const shim *sh) {
  return shim_grace_of(sh->pod->termination_grace_period_seconds);
}

/* The kubelet gives a preStop hook that used up the grace period 2 s more
 * between the container's SIGTERM and its SIGKILL. */
#define HOOK_EXTRA_GRACE_MS 2000

static void on_kill_timer(uv_timer_t *t) {
  shim_ctr *ctr = t->data;
  shim_run *r = ctr->run;
  if (r == NULL || r->c == NULL || r->exited)
    return;
  if (r->hook_poll_open && r->hook_pid > 0) {
    /* The preStop hook outlived the grace period: kill it, TERM the
     * container and KILL it after the extra grace.  hook_pid -1 tells
     * on_hook_exit that the deadline already passed. */
    pv_pidfd_signal(r->hook_pidfd, SIGKILL);
    r->hook_pid = -1;
    container_manager_kill(ctr->sh->mgr, r->c, SIGTERM, NULL);
    uv_timer_start(&ctr->kill_timer, on_kill_timer, HOOK_EXTRA_GRACE_MS, 0);
    return;
  }
  container_manager_kill(ctr->sh->mgr, r->c, SIGKILL, NULL);
}

void shim_send_term(shim_ctr *ctr, int64_t kill_after_ms) {
  shim_run *r = ctr->run;
  if (r == NULL || r->c == NULL || r->exited)
    return;
  ctr->term_sent = true;
  container_manager_kill(ctr->sh->mgr, r->c, SIGTERM, NULL);
  uv_timer_start(&ctr->kill_timer, on_kill_timer, kill_after_ms < 0 ? 0 : (uint64_t)kill_after_ms, 0);
}

/* Liveness/startup failure: preStop, TERM, KILL after the probe's own
 * terminationGracePeriodSeconds (else the pod's); the exit handler then
 * restarts per policy. */
void shim_kill_container(shim_ctr *ctr, const char *why, const spec_probe *sp) {
  if (ctr->run == NULL || ctr->term_sent)
    return;
  shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_LIVENESS_FAILED, .message = why});
  int64_t g = sp != NULL && sp->termination_grace_period_seconds >= 0
                  ? shim_grace_of(sp->termination_grace_period_seconds)
                  : shim_grace_ms(ctr->sh);
  shim_stop_container(ctr, g);
}

static void on_hook_exit(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  shim_run *r = h->data;
  siginfo_t si;
  int rc = pv_pidfd_try_reap(r->hook_pidfd, &si);
  if (rc == 0)
    return;
  bool expired = r->hook_pid < 0;
  r->hook_pid = 0;
  r->hook_poll_open = false;
  shim_close_poll_fd(r, &r->hook_poll, &r->hook_pidfd);
  shim_ctr *ctr = r->ctr;
  if (ctr == NULL || expired)
    return; /* gone, or on_kill_timer already sent TERM and armed KILL */
  /* A hook SIGKILLed by nobody here died with its container: the pid
   * namespace's init ended by itself (its exit waits for the shim to reap
   * the hook, so the container's exit handler comes next).  No TERM is
   * delivered then; the kill timer still SIGKILLs at the deadline should
   * the container live on.  hook_pid 1: "ended before TERM" for
   * on_exit_readable. */
  struct pollfd pfd = {.fd = r->c != NULL ? container_pidfd(r->c) : -1, .events = POLLIN};
  if ((rc == 1 && si.si_code == CLD_KILLED && si.si_status == SIGKILL) ||
      (pfd.fd >= 0 && poll(&pfd, 1, 0) == 1)) {
    r->hook_pid = 1;
    return;
  }
  /* TERM now; KILL when the grace period the hook started under ends. */
  uint64_t left = uv_timer_get_due_in(&ctr->kill_timer);
  ctr->term_sent = false;
  shim_send_term(ctr, (int64_t)left);
}

/* Stops one container: preStop hook (if any), then SIGTERM, SIGKILL once
 * grace ms have passed since the stop began (the pod's deadline when the pod
 * stops).  The kill timer bounds the hook too. */
void shim_stop_container(shim_ctr *ctr, int64_t grace) {
  shim_run *r = ctr->run;
  if (r == NULL || r->exited || ctr->term_sent)
    return;
  shim_stop_probes(ctr);
  int64_t left = ctr->sh->stopping ? ctr->sh->stop_deadline_ms - shim_now_ms() : grace;
  if (ctr->spec->pre_stop.n > 0 && r->c != NULL && !r->hook_poll_open && left > 0) {
    container_exec_config x = {.argv = ctr->spec->pre_stop.argv,
                               .stdin_fd = ctr->sh->devnull,
                               .stdout_fd = ctr->sh->devnull,
                               .stderr_fd = ctr->sh->devnull};
    if (container_manager_exec(ctr->sh->mgr, r->c, &x, &r->hook_pid, &r->hook_pidfd, NULL) == 0) {
      if (uv_poll_init(&ctr->sh->loop, &r->hook_poll, r->hook_pidfd) == 0) {
        r->hook_poll.data = r;
        r->hook_poll_open = true;
        r->pending++;
        uv_poll_start(&r->hook_poll, UV_READABLE, on_hook_exit);
        ctr->term_sent = true; /* TERM follows the hook */
        uv_timer_start(&ctr->kill_timer, on_kill_timer, (uint64_t)left, 0);
        return;
      }
      shim_kill_hook(&r->hook_pidfd);
    }
  }
  shim_send_term(ctr, left);
}

static void on_stop_deadline(uv_timer_t *t) {
  shim *sh = t->data;
  for (size_t i = 0; i < sh->n_ctrs; i++) {
    shim_run *r = sh->ctrs[i].run;
    if (r != NULL && r->c != NULL && !r->exited) {
      if (!sh->ctrs[i].term_sent)
        container_manager_kill(sh->mgr, r->c, SIGTERM, NULL);
      container_manager_kill(sh->mgr, r->c, SIGKILL, NULL);
    }
  }
}

static bool apps_down(shim *sh) {
  for (size_t i = 0; i < sh->n_ctrs; i++)
    if (sh->ctrs[i].st->kind != BACKOFF_KIND_SIDECAR && sh->ctrs[i].run != NULL)
      return false;
  return true;
}

/* Sidecars stop after every app container, last one first, one at a time. */
void shim_stop_sidecars(shim *sh) {
  if (!apps_down(sh))
    return;
  for (size_t i = sh->n_init; i-- > 0;) {
    shim_ctr *ctr = &sh->ctrs[i];
    if (ctr->st->kind != BACKOFF_KIND_SIDECAR || ctr->run == NULL)
      continue;
    if (!ctr->st->stop_requested)
      shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_STOP_REQUESTED});
    if (!ctr->term_sent)
      shim_stop_container(ctr, shim_grace_ms(sh));
    return;
  }
}

void shim_begin_stop(shim *sh) {
  shim_begin_stop_grace(sh, shim_grace_ms(sh));
}

void shim_begin_stop_grace(shim *sh, int64_t grace_ms) {
  if (sh->stopping)
    return;
  sh->stopping = true;
  sh->stop_deadline_ms = shim_now_ms() + grace_ms;
  uv_timer_start(&sh->stop_timer, on_stop_deadline, (uint64_t)grace_ms, 0);
  for (size_t i = 0; i < sh->n_ctrs; i++) {
    shim_ctr *ctr = &sh->ctrs[i];
    uv_timer_stop(&ctr->backoff_timer);
    shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_STOP_REQUESTED});
  }
  for (size_t i = 0; i < sh->n_ctrs; i++)
    if (sh->ctrs[i].st->kind != BACKOFF_KIND_SIDECAR)
      shim_stop_container(&sh->ctrs[i], shim_grace_ms(sh));
  shim_stop_sidecars(sh);
  shim_maybe_finish(sh);
}
