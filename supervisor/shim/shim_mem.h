/*
 * shim_mem.h - keeps the resident memory of a long-lived shim small.
 *
 * shim_mem_setup() first thing in the process (malloc tuning, one pool
 * thread); shim_mem_idle_init() with the loop's other handles (the timer is
 * the caller's, closed with its others); shim_mem_burst_done() after a burst
 * of work (a status change): once the pod has been quiet for a second, free
 * heap pages, dead stack pages, the log scratch buffers and the pages of
 * code go back to the kernel (shim_mem.c tells which and why).
 */
#ifndef PODVISOR_SHIM_SHIM_MEM_H
#define PODVISOR_SHIM_SHIM_MEM_H

#include <uv.h>

void shim_mem_setup(void);
void shim_mem_idle_init(uv_timer_t *t, uv_loop_t *loop);
void shim_mem_burst_done(uv_timer_t *t);

#endif
