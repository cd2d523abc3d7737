/*
 * logpump.h - moves a container's stdout/stderr from pipes into a log sink
 * without ever blocking the shim's loop.
 *
 * Usage:
 *   logpump_open(&lp, loop, cb, ctx, err)   makes two pipes; the write ends
 *                                           (lp.out_w, lp.err_w) go into
 *                                           container_config.stdout_fd/stderr_fd
 *   container_manager_start(...)
 *   logpump_after_start(&lp)                closes the shim's copies of the
 *                                           write ends, so EOF comes when the
 *                                           container (and every process it
 *                                           left holding the pipe) is gone
 *   ... cb->data(ctx, stream, buf, len) for every chunk read, in order ...
 *   ... cb->eof(ctx) once both streams hit EOF (or after logpump_close) ...
 *   logpump_close(&lp)                      stops reading; the struct may be
 *                                           freed only after cb->closed(ctx)
 *
 * The read ends are non-blocking and close-on-exec, read by libuv (uv_pipe_t
 * embedded here).  Chunks of one stream reach the sink in order; a line may
 * be split over chunks, so the sink (crilog) joins partial lines.  Nothing
 * is dropped here: a fast writer only fills the pipe and waits in the
 * kernel, while the loop keeps serving other work between reads.  The pipes
 * are read whatever the sink does with a chunk: a sink that cannot write
 * its file (a full disk) drops and counts it (crilog.h), so the container
 * never blocks on a full pipe.
 *
 * Memory: reads go into one 16 KiB buffer shared by every pump of the
 * process, so cb->data must consume (copy or write) the chunk before it
 * returns, and all pumps of a process must run on one thread's loop.
 */
#ifndef PODVISOR_SHIM_LOGPUMP_H
#define PODVISOR_SHIM_LOGPUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "supervisor/core/error.h"

typedef enum { LOGPUMP_STDOUT = 0, LOGPUMP_STDERR = 1 } logpump_stream;

typedef struct logpump_callbacks {
  void (*data)(void *ctx, logpump_stream s, const char *buf, size_t len);
  void (*eof)(void *ctx);    /* both streams ended (called once) */
  void (*closed)(void *ctx); /* both handles closed; the logpump may be freed */
} logpump_callbacks;

typedef struct logpump {
  uv_pipe_t pipe[2];
  bool open[2];     /* handle initialised and not yet closed */
  bool ended[2];    /* EOF or error seen on the stream */
  int out_w, err_w; /* write ends for the container, -1 once closed */
  bool eof_sent, closing;
  int pending_close;
  const logpump_callbacks *cb;
  void *ctx;
} logpump;

int logpump_open(logpump *lp, uv_loop_t *loop, const logpump_callbacks *cb, void *ctx, pv_err *err);
void logpump_after_start(logpump *lp);
/* Closes the handles (and the write ends if still open); cb->closed follows. */
void logpump_close(logpump *lp);

/* Returns the pages of the loop's shared read buffer to the kernel; only
 * between reads (on the loop's thread, outside a pump callback). */
void logpump_release_scratch(void);

#endif
