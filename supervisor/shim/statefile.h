/*
 * statefile.h - a state file kept durable without blocking the loop.
 *
 * podvisor writes every state file atomically: a temp file, fsync, rename,
 * fsync of the directory (pv_write_file_atomic).  The fsyncs cost from
 * microseconds (tmpfs) to a few hundred milliseconds (a journal commit on a
 * disk-backed run-root), so a statefile does them in libuv's thread pool
 * (uv_queue_work), never on the loop.
 *
 * Contract:
 *  - statefile_set() hands over the file's next content (a malloc'd
 *    snapshot, rendered on the loop; the statefile owns it from then on).
 *  - At most one write per file is in flight.  While one is, later snapshots
 *    only replace the pending one (coalescing: intermediate states may never
 *    reach the disk, the latest always does); when the write completes (its
 *    after-work callback, on the loop), the pending snapshot is written next.
 *  - A reader sees the previous complete document or the new one, never a
 *    mix and never an empty file: the rename replaces the file in one step.
 *  - The in-flight request keeps the loop alive, so uv_run() returns only
 *    after the last snapshot handed over is on disk: the final state is
 *    never lost.  statefile_finish(), after the loop, writes synchronously
 *    what could not be queued (uv_queue_work failed) and frees the buffers.
 *  - A write that fails (a full disk) leaves the previous file in place
 *    (the temp file is removed) and keeps its snapshot: it is written again
 *    by a retry timer (1 s, doubling up to 16 s) unless a newer snapshot
 *    replaces it first.  The timer does not keep the loop alive;
 *    statefile_finish() makes the last attempt.  Errors of the worker are
 *    reported on the loop through on_error (may be NULL), once per episode
 *    of failures, not once per attempt.
 *
 * Ownership: the caller owns the statefile struct (it must stay put while a
 * write is in flight, i.e. until the loop ran out); the worker reads only
 * the request's own snapshot and the fixed path.  Nothing here blocks the
 * loop except statefile_finish().
 */
#ifndef PODVISOR_SHIM_STATEFILE_H
#define PODVISOR_SHIM_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "supervisor/core/error.h"

typedef void (*statefile_error_cb)(void *ctx, const pv_err *err);

typedef struct statefile {
  uv_loop_t *loop;
  char *path; /* malloc'd; fixed while a write is in flight */
  mode_t mode;
  statefile_error_cb on_error;
  void *ctx;
  uv_work_t req;
  bool in_flight;
  char *pending; /* latest snapshot not yet handed to a worker (NULL: none) */
  size_t pending_len;
  char *writing; /* the worker's snapshot while in_flight */
  size_t writing_len;
  int rc;               /* the worker's result */
  pv_err err;           /* the worker's error */
  unsigned long writes; /* completed writes (tests count coalescing) */
  uv_timer_t retry;     /* a failed snapshot's next attempt (unreferenced) */
  bool retry_open, failing;
  uint64_t retry_ms;
} statefile;

/* Sets f up for path (mode for the file it creates).  Returns 0, or -1 with
 * ENOMEM. */
int statefile_init(statefile *f, uv_loop_t *loop, const char *path, mode_t mode, statefile_error_cb on_error,
                   void *ctx, pv_err *err);

/* Takes data (malloc'd, len bytes) as the file's next content and starts a
 * write when none is in flight.  data == NULL is ignored. */
void statefile_set(statefile *f, char *data, size_t len);

/* True while a write is in flight or a snapshot waits. */
bool statefile_busy(const statefile *f);

/* After the loop ran out: writes a snapshot still waiting (synchronously),
 * frees the buffers and the path, closes the retry timer (running the loop
 * for its close).  Returns 0 or -1 with err. */
int statefile_finish(statefile *f, pv_err *err);

#endif
