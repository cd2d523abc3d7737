/* statefile.c - atomic, durable state files written in libuv's thread pool.
 * See statefile.h. */
#include "supervisor/shim/statefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/core/util.h"

int statefile_init(statefile *f, uv_loop_t *loop, const char *path, mode_t mode, statefile_error_cb on_error,
                   void *ctx, pv_err *err) {
  memset(f, 0, sizeof *f);
  f->path = strdup(path);
  if (f->path == NULL)
    return pv_err_set(err, ENOMEM, "state file %s: out of memory", path);
  f->loop = loop;
  f->mode = mode;
  f->on_error = on_error;
  f->ctx = ctx;
  f->req.data = f;
  f->retry_ms = 1000;
  if (uv_timer_init(loop, &f->retry) == 0) {
    f->retry_open = true;
    f->retry.data = f;
    uv_unref((uv_handle_t *)&f->retry);
  }
  return 0;
}

/* In a pool thread.  pv_write_file_atomic is thread-safe except for its
 * temp name (<path>.tmp.<pid>, the same for every thread of the process):
 * with at most one write in flight per file, no two writers share it. */
static void write_work(uv_work_t *req) {
  statefile *f = req->data;
  pv_err_clear(&f->err);
  f->rc = pv_write_file_atomic(f->path, f->writing, f->writing_len, f->mode, &f->err);
}

static void start_write(statefile *f);

static void on_retry(uv_timer_t *t) {
  statefile *f = t->data;
  if (!f->in_flight && f->pending != NULL)
    start_write(f);
}

/* The write failed: its snapshot waits for the retry timer unless a newer
 * one came meanwhile (that one is tried at once). */
static void keep_failed(statefile *f) {
  if (f->on_error != NULL && !f->failing)
    f->on_error(f->ctx, &f->err);
  f->failing = true;
  if (f->pending != NULL) {
    free(f->writing);
  } else {
    f->pending = f->writing;
    f->pending_len = f->writing_len;
    if (f->retry_open)
      uv_timer_start(&f->retry, on_retry, f->retry_ms, 0);
    if (f->retry_ms < 16000)
      f->retry_ms *= 2;
  }
  f->writing = NULL;
}

/* On the loop: the write is done; the next snapshot, if one came meanwhile. */
static void write_done(uv_work_t *req, int status) {
  statefile *f = req->data;
  f->in_flight = false;
  if (status < 0) { /* cancelled: cannot happen, nothing cancels it */
    f->rc = -1;
    pv_err_set(&f->err, ECANCELED, "state file %s: write cancelled", f->path);
  }
  if (f->rc < 0) {
    keep_failed(f);
    if (f->pending != NULL && !uv_is_active((uv_handle_t *)&f->retry))
      start_write(f);
    return;
  }
  free(f->writing);
  f->writing = NULL;
  f->writes++;
  f->failing = false;
  f->retry_ms = 1000;
  if (f->pending != NULL)
    start_write(f);
}

static void start_write(statefile *f) {
  if (f->retry_open)
    uv_timer_stop(&f->retry);
  f->writing = f->pending;
  f->writing_len = f->pending_len;
  f->pending = NULL;
  f->in_flight = true;
  if (uv_queue_work(f->loop, &f->req, write_work, write_done) < 0) {
    /* Keep the snapshot waiting: statefile_finish() writes it. */
    f->pending = f->writing;
    f->pending_len = f->writing_len;
    f->writing = NULL;
    f->in_flight = false;
  }
}

void statefile_set(statefile *f, char *data, size_t len) {
  if (data == NULL)
    return;
  free(f->pending); /* superseded before it reached the disk */
  f->pending = data;
  f->pending_len = len;
  if (!f->in_flight)
    start_write(f);
}

bool statefile_busy(const statefile *f) {
  return f->in_flight || f->pending != NULL;
}

int statefile_finish(statefile *f, pv_err *err) {
  /* Normally the loop has run out and nothing is in flight; if not, let the
   * write complete (and the pending one after it) before returning. */
  while (f->in_flight)
    uv_run(f->loop, UV_RUN_ONCE);
  int rc = 0;
  if (f->pending != NULL) {
    rc = pv_write_file_atomic(f->path, f->pending, f->pending_len, f->mode, err);
    if (rc == 0)
      f->writes++;
    free(f->pending);
    f->pending = NULL;
  }
  free(f->path);
  f->path = NULL;
  if (f->retry_open) {
    f->retry_open = false;
    uv_close((uv_handle_t *)&f->retry, NULL);
    uv_run(f->loop, UV_RUN_NOWAIT);
  }
  return rc;
}
