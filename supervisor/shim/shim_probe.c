/* shim_probe.c - the glue between a container's runs and its probes
 * (probe.h): which probes run when (startup gates liveness and readiness),
 * what their results do, and waiting for a previous run's probe to finish
 * closing before the next run starts it again. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "supervisor/shim/shim_internal.h"

static int probe_exec_cb(void *ctx, probe *p, char *const *argv, pid_t *pid, int *pidfd) {
  (void)p;
  shim_ctr *ctr = ctx;
  if (ctr->run == NULL || ctr->run->c == NULL)
    return -1;
  container_exec_config x = {.argv = argv,
                             .stdin_fd = ctr->sh->devnull,
                             .stdout_fd = ctr->sh->devnull,
                             .stderr_fd = ctr->sh->devnull};
  return container_manager_exec(ctr->sh->mgr, ctr->run->c, &x, pid, pidfd, NULL);
}

static void probe_closed(void *ctx, probe *p);

static void probe_result_cb(void *ctx, probe *p, probe_state st) {
  shim_ctr *ctr = ctx;
  switch (p->tag) {
  case PROBE_STARTUP:
    if (st == PROBE_SUCCESS) {
      shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_STARTUP_SUCCEEDED});
      ctr->probe_on[PROBE_STARTUP] = false;
      ctr->probes_closing++;
      probe_stop(p, probe_closed);
      shim_start_probe(ctr, PROBE_LIVENESS);
      shim_start_probe(ctr, PROBE_READINESS);
      shim_advance(ctr->sh);
    } else if (st == PROBE_FAILURE) {
      shim_kill_container(ctr, "Startup probe failed", &ctr->spec->startup);
    }
    break;
  case PROBE_LIVENESS:
    if (st == PROBE_FAILURE)
      shim_kill_container(ctr, "Liveness probe failed", &ctr->spec->liveness);
    break;
  case PROBE_READINESS:
    shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_READINESS, .ok = st == PROBE_SUCCESS});
    break;
  }
}

static const probe_callbacks probe_cb = {probe_exec_cb, probe_result_cb};

static const spec_probe *spec_probe_of(const spec_container *c, int which) {
  return which == PROBE_STARTUP ? &c->startup : which == PROBE_LIVENESS ? &c->liveness : &c->readiness;
}

/* True when the current run should have probe `which` on: it runs, is not
 * being stopped, and startup gates liveness and readiness. */
static bool probe_wanted(const shim_ctr *ctr, int which) {
  if (spec_probe_of(ctr->spec, which)->kind == SPEC_PROBE_NONE || ctr->sh->stopping || ctr->run == NULL ||
      ctr->run->exited || ctr->term_sent || ctr->st->state != CTRSTATE_RUNNING)
    return false;
  return which == PROBE_STARTUP ? !ctr->st->started : ctr->st->started;
}

void shim_start_probe(shim_ctr *ctr, int which) {
  const spec_probe *sp = spec_probe_of(ctr->spec, which);
  if (sp->kind == SPEC_PROBE_NONE || ctr->probe_on[which] || ctr->sh->stopping)
    return;
  /* The previous run's probe may still be closing its handles (a restart
   * within the same loop turn): probe_closed starts it once they are. */
  if (ctr->probes[which] != NULL && probe_closing(ctr->probes[which]))
    return;
  /* A probe holds a 4 KiB request buffer and its handles: only containers
   * that have one pay for it, and a restart reuses it. */
  if (ctr->probes[which] == NULL && (ctr->probes[which] = calloc(1, sizeof(probe))) == NULL) {
    fprintf(stderr, "podvisor shim: container %s: no memory for a probe\n", ctr->st->name);
    return;
  }
  probe_spec ps = {
      .kind = sp->kind == SPEC_PROBE_EXEC       ? PROBE_KIND_EXEC
              : sp->kind == SPEC_PROBE_HTTP_GET ? PROBE_KIND_HTTP
                                                : PROBE_KIND_TCP,
      .argv = sp->exec_command.argv,
      .host = sp->host,
      .port = spec_probe_port(ctr->spec, sp),
      .path = sp->path,
      .headers = &sp->http_headers,
      .initial_delay_ms = (uint32_t)sp->initial_delay_seconds * 1000,
      .period_ms = (uint32_t)sp->period_seconds * 1000,
      .timeout_ms = (uint32_t)sp->timeout_seconds * 1000,
      .success_threshold = (uint32_t)sp->success_threshold,
      .failure_threshold = (uint32_t)sp->failure_threshold,
  };
  probe_start(ctr->probes[which], &ctr->sh->loop, &ps, &probe_cb, ctr, which);
  ctr->probe_on[which] = true;
}

static void probe_closed(void *ctx, probe *p) {
  shim_ctr *ctr = ctx;
  ctr->probes_closing--;
  int which = p->tag;
  if (!ctr->probe_on[which] && probe_wanted(ctr, which))
    shim_start_probe(ctr, which);
  shim_maybe_finish(ctr->sh);
}

void shim_stop_probes(shim_ctr *ctr) {
  for (int i = 0; i < 3; i++)
    if (ctr->probe_on[i]) {
      ctr->probe_on[i] = false;
      ctr->probes_closing++;
      probe_stop(ctr->probes[i], probe_closed);
    }
}

void shim_free_probes(shim_ctr *ctr) {
  for (int i = 0; i < 3; i++) {
    free(ctr->probes[i]);
    ctr->probes[i] = NULL;
  }
}
