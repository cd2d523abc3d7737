/* kprobe.c - a container's probes as a leaf of the keeper (kprobe.h). */
#include "supervisor/shim/kprobe.h"

#include <stdio.h>
#include <stdlib.h>

/* probe.h callbacks get the kprobes; the probe's tag says which it is. */

static int exec_cb(void *ctx, probe *p, char *const *argv, int *fd) {
  (void)p;
  kprobes *k = ctx;
  if (k->target == NULL)
    return -1;
  runtime_exec x = {.argv = argv, .stdin_fd = k->devnull, .stdout_fd = k->devnull, .stderr_fd = k->devnull};
  return k->rt->ops->exec(k->rt->ctx, k->target, &x, fd, NULL);
}

static void result_cb(void *ctx, probe *p, probe_state st) {
  kprobes *k = ctx;
  kevq_post(k->q, &(kevent){.kind = KEV_PROBE_RESULT,
                            .ctr = k->ctr,
                            .which = p->tag,
                            .serial = k->serial[p->tag],
                            .result = (int)st});
}

static int reap_cb(void *ctx, int fd, siginfo_t *si) {
  kprobes *k = ctx;
  return k->rt->ops->exec_reap(k->rt->ctx, fd, si);
}

static int signal_cb(void *ctx, int fd, int sig) {
  kprobes *k = ctx;
  return k->rt->ops->exec_signal(k->rt->ctx, fd, sig);
}

static const probe_callbacks callbacks = {exec_cb, result_cb, reap_cb, signal_cb};

static void closed_cb(void *ctx, probe *p) {
  kprobes *k = ctx;
  k->closing--;
  kevq_post(k->q, &(kevent){.kind = KEV_PROBE_CLOSED, .ctr = k->ctr, .which = p->tag});
}

void kprobes_init(kprobes *k, uv_loop_t *loop, kevq *q, const runtime *rt, size_t ctr, int devnull) {
  *k = (kprobes){.loop = loop, .q = q, .rt = rt, .ctr = ctr, .devnull = devnull};
}

const spec_probe *kprobes_spec(const spec_container *c, int which) {
  return which == KPROBE_STARTUP ? &c->startup : which == KPROBE_LIVENESS ? &c->liveness : &c->readiness;
}

void kprobes_start(kprobes *k, int which, const spec_container *c, runtime_ctr *target, unsigned serial) {
  const spec_probe *sp = kprobes_spec(c, which);
  if (sp->kind == SPEC_PROBE_NONE || k->on[which])
    return;
  /* The previous run's probe may still be closing its handles (a restart
   * within the same loop turn): the keeper starts it on PROBE_CLOSED. */
  if (k->p[which] != NULL && probe_closing(k->p[which]))
    return;
  if (k->p[which] == NULL && (k->p[which] = calloc(1, sizeof(probe))) == NULL) {
    fprintf(stderr, "podvisor shim: container %s: no memory for a probe\n", c->name);
    return;
  }
  probe_spec ps = {
      .kind = sp->kind == SPEC_PROBE_EXEC       ? PROBE_KIND_EXEC
              : sp->kind == SPEC_PROBE_HTTP_GET ? PROBE_KIND_HTTP
                                                : PROBE_KIND_TCP,
      .argv = sp->exec_command.argv,
      .host = sp->host,
      .port = spec_probe_port(c, sp),
      .path = sp->path,
      .headers = &sp->http_headers,
      .initial_delay_ms = (uint32_t)sp->initial_delay_seconds * 1000,
      .period_ms = (uint32_t)sp->period_seconds * 1000,
      .timeout_ms = (uint32_t)sp->timeout_seconds * 1000,
      .success_threshold = (uint32_t)sp->success_threshold,
      .failure_threshold = (uint32_t)sp->failure_threshold,
  };
  k->target = target;
  k->serial[which] = serial;
  if (probe_start(k->p[which], k->loop, &ps, &callbacks, k, which) == 0)
    k->on[which] = true;
}

void kprobes_stop(kprobes *k, int which) {
  if (!k->on[which])
    return;
  k->on[which] = false;
  k->closing++;
  probe_stop(k->p[which], closed_cb);
}

void kprobes_stop_all(kprobes *k) {
  for (int i = 0; i < KPROBE_COUNT; i++)
    kprobes_stop(k, i);
  k->target = NULL;
}

bool kprobes_is_on(const kprobes *k, int which) {
  return k->on[which];
}

void kprobes_free(kprobes *k) {
  for (int i = 0; i < KPROBE_COUNT; i++) {
    free(k->p[i]);
    k->p[i] = NULL;
  }
}
