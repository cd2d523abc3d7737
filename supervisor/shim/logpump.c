/* logpump.c - container stdout/stderr pipes → log sink, via libuv reads. */
#include "supervisor/shim/logpump.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int stream_of(logpump *lp, uv_handle_t *h) {
  return h == (uv_handle_t *)&lp->pipe[0] ? 0 : 1;
}

/* libuv calls on_alloc, read(2) and on_read back to back for one read,
 * and the data callback consumes the chunk before it returns (logpump.h),
 * so one buffer serves every stream of every pump on the loop's thread:
 * 16 KiB per process instead of 32 KiB per container run, and only the
 * pages a read reached are resident. */
static char read_buf[16384] __attribute__((aligned(4096)));

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  (void)h;
  buf->base = read_buf;
  buf->len = sizeof read_buf;
}

void logpump_release_scratch(void) {
  madvise(read_buf, sizeof read_buf, MADV_DONTNEED);
}

static void maybe_eof(logpump *lp) {
  if (!lp->eof_sent && lp->ended[0] && lp->ended[1]) {
    lp->eof_sent = true;
    if (lp->cb->eof != NULL)
      lp->cb->eof(lp->ctx);
  }
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  logpump *lp = st->data;
  int s = stream_of(lp, (uv_handle_t *)st);
  if (n > 0) {
    lp->cb->data(lp->ctx, (logpump_stream)s, buf->base, (size_t)n);
    return;
  }
  if (n == 0) /* EAGAIN */
    return;
  /* UV_EOF, or an error (EIO...): the stream is over either way. */
  uv_read_stop(st);
  lp->ended[s] = true;
  maybe_eof(lp);
}

static int make_pipe(logpump *lp, uv_loop_t *loop, int s, int *wfd, pv_err *err) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return pv_err_sys(err, "logpump: pipe");
  /* A bigger pipe lets a bursty writer run longer between our reads. */
  (void)fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
  int rc = uv_pipe_init(loop, &lp->pipe[s], 0);
  if (rc == 0) {
    lp->open[s] = true;
    lp->pipe[s].data = lp;
    rc = uv_pipe_open(&lp->pipe[s], fds[0]);
  }
  if (rc == 0)
    rc = uv_read_start((uv_stream_t *)&lp->pipe[s], on_alloc, on_read);
  if (rc < 0) {
    if (!lp->open[s])
      close(fds[0]);
    close(fds[1]);
    return pv_err_set(err, -rc, "logpump: open pipe: %s", uv_strerror(rc));
  }
  *wfd = fds[1];
  return 0;
}

int logpump_open(logpump *lp, uv_loop_t *loop, const logpump_callbacks *cb, void *ctx, pv_err *err) {
  memset(lp, 0, sizeof *lp);
  lp->out_w = lp->err_w = -1;
  lp->cb = cb;
  lp->ctx = ctx;
  if (make_pipe(lp, loop, 0, &lp->out_w, err) < 0 || make_pipe(lp, loop, 1, &lp->err_w, err) < 0) {
    logpump_close(lp);
    return -1;
  }
  return 0;
}

void logpump_after_start(logpump *lp) {
  if (lp->out_w >= 0)
    close(lp->out_w);
  if (lp->err_w >= 0)
    close(lp->err_w);
  lp->out_w = lp->err_w = -1;
}

static void on_closed(uv_handle_t *h) {
  logpump *lp = h->data;
  if (--lp->pending_close == 0 && lp->cb->closed != NULL)
    lp->cb->closed(lp->ctx);
}

void logpump_close(logpump *lp) {
  if (lp->closing)
    return;
  lp->closing = true;
  logpump_after_start(lp);
  lp->ended[0] = lp->ended[1] = true;
  maybe_eof(lp);
  for (int s = 0; s < 2; s++) {
    if (lp->open[s]) {
      lp->open[s] = false;
      lp->pending_close++;
      lp->pipe[s].data = lp;
      uv_close((uv_handle_t *)&lp->pipe[s], on_closed);
    }
  }
  if (lp->pending_close == 0 && lp->cb->closed != NULL)
    lp->cb->closed(lp->ctx);
}
