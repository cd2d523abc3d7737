/*
 * memtrim.h - gives the heap the loop freed back to the system, once a
 * burst of work is over.
 *
 * What it is for: the daemon's bursts (an apply of hundreds of pods, a GET
 * of every pod, which builds and drops a JSON tree of all of them) free far
 * more than the daemon keeps, but glibc returns only the free top of the
 * heap; what lies below the small allocations that outlive the burst (a
 * status document that came meanwhile) stays resident, freed but counted in
 * the daemon's RSS.  malloc_trim(0) gives back every whole free page, in
 * the main heap and in the threadpool's arenas.
 *
 * When: before the loop sleeps (a prepare handle: after the timers and
 * the I/O callbacks of the iteration before), a one-shot timer of delay_ms
 * is armed unless it runs already (it is not pushed back by the iterations
 * after it); when it fires the heap is trimmed.  So the heap is trimmed
 * once per delay_ms at most while work goes on, once after it stops, and
 * never while the loop sleeps: the iteration of the trim itself arms
 * nothing.
 *
 * Usage: memtrim_init() after uv_loop_init (its handles are unreferenced:
 * they never keep the loop alive); memtrim_close() with the loop's other
 * handles.  Loop thread only.
 */
#ifndef PODVISOR_DAEMON_MEMTRIM_H
#define PODVISOR_DAEMON_MEMTRIM_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define MEMTRIM_DELAY_MS 1000

typedef struct memtrim {
  uv_prepare_t prepare; /* before the loop sleeps: arms the timer */
  uv_timer_t timer;     /* the trim */
  uint64_t delay_ms;
  bool just_trimmed; /* the iteration that trimmed arms nothing */
  uint64_t trims;    /* how many ran (for tests and the log) */
} memtrim;

void memtrim_init(memtrim *m, uv_loop_t *loop, uint64_t delay_ms);
void memtrim_close(memtrim *m);

#endif
