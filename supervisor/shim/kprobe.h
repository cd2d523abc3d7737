/*
 * kprobe.h - a container's three probes (startup, liveness, readiness) as a
 * leaf of the pod keeper (keeper.h).
 *
 * It turns a container's spec probes into running probes (probe.h) against
 * the run they are started for, and posts what they report to the keeper's
 * queue (kevent.h): PROBE_RESULT when a probe's thresholded state flips,
 * tagged with the run's serial so that a late result never reaches the next
 * run, and PROBE_CLOSED once a stopped probe's handles are closed.  Which
 * probe runs when (startup gates the others; none while the container is
 * being stopped) is the keeper's decision.  Exec probes run through the
 * keeper's runtime (runtime.h), inside the run's container.
 *
 * Memory: a probe holds a 4 KiB request buffer and its handles, so it is
 * allocated when first started (most containers have none) and reused by
 * later runs; kprobes_free() after the loop is closed.
 */
#ifndef PODVISOR_SHIM_KPROBE_H
#define PODVISOR_SHIM_KPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/shim/kevent.h"
#include "supervisor/shim/probe.h"
#include "supervisor/shim/runtime.h"

enum { KPROBE_STARTUP = 0, KPROBE_LIVENESS = 1, KPROBE_READINESS = 2, KPROBE_COUNT = 3 };

typedef struct kprobes {
  uv_loop_t *loop;
  kevq *q;
  const runtime *rt;
  size_t ctr;
  int devnull;
  runtime_ctr *target; /* the container exec probes run in, NULL when none */
  probe *p[KPROBE_COUNT];
  bool on[KPROBE_COUNT];
  unsigned serial[KPROBE_COUNT];
  int closing; /* stopped probes whose handles are still closing */
} kprobes;

void kprobes_init(kprobes *k, uv_loop_t *loop, kevq *q, const runtime *rt, size_t ctr, int devnull);
/* The spec of probe which of c (kind NONE when it has none). */
const spec_probe *kprobes_spec(const spec_container *c, int which);
/* Starts probe which of c against target for the run serial.  Does nothing
 * when it is on already, when c has no such probe, or while that probe's
 * previous run still closes (its PROBE_CLOSED follows). */
void kprobes_start(kprobes *k, int which, const spec_container *c, runtime_ctr *target, unsigned serial);
void kprobes_stop(kprobes *k, int which);
void kprobes_stop_all(kprobes *k); /* also forgets the target */
bool kprobes_is_on(const kprobes *k, int which);
void kprobes_free(kprobes *k);

#endif
