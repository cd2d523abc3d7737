/* podctl_sync.c - blocking wrappers for the CLI: the asynchronous client
 * and launcher run on a private loop until the answer is there (podctl.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/podctl/podctl_internal.h"

typedef struct call_state {
  ctlproto_msg *reply;
  int *reply_fd;
  pv_err *err;
  bool done, ok;
  podctl_conn *conn;
} call_state;

static void on_reply(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)c;
  call_state *st = ctx;
  if (st->done) {
    if (fd >= 0)
      close(fd);
    return;
  }
  st->done = true;
  if (m == NULL) {
    *st->err = *err;
    return;
  }
  /* Keep the message: its document outlives this callback. */
  *st->reply = *m;
  json_incref(st->reply->doc);
  if (st->reply_fd != NULL)
    *st->reply_fd = fd;
  else if (fd >= 0)
    close(fd);
  st->ok = true;
}

static void on_timeout(uv_timer_t *t) {
  call_state *st = t->data;
  if (!st->done) {
    st->done = true;
    pv_err_set(st->err, ETIMEDOUT, "shim socket: no reply in time");
  }
}

int podctl_call(const char *socket_path, const ctlproto_request *req, const int *fds, size_t nfds,
                int timeout_ms, ctlproto_msg *reply, int *reply_fd, pv_err *err) {
  memset(reply, 0, sizeof *reply);
  if (reply_fd != NULL)
    *reply_fd = -1;
  uv_loop_t loop;
  if (uv_loop_init(&loop) < 0)
    return pv_err_set(err, EIO, "shim socket: uv_loop_init");
  call_state st = {.reply = reply, .reply_fd = reply_fd, .err = err};
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  timer.data = &st;
  int rc = podctl_conn_open(&loop, socket_path, &st.conn, err);
  if (rc == 0)
    rc = podctl_conn_request(st.conn, req, fds, nfds, on_reply, &st, err);
  if (rc == 0) {
    uv_timer_start(&timer, on_timeout, (uint64_t)(timeout_ms > 0 ? timeout_ms : 10000), 0);
    while (!st.done && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
  }
  if (st.conn != NULL)
    podctl_conn_close(st.conn); /* a late reply of a timeout is dropped */
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (rc < 0)
    return -1;
  if (!st.ok) {
    if (!st.done)
      pv_err_set(err, EPIPE, "shim socket %s: no reply", socket_path);
    return -1;
  }
  return 0;
}

typedef struct launch_state {
  bool done;
  pv_err err;
} launch_state;

static void on_launched(podctl_shim *s, const pv_err *err, void *ctx) {
  (void)s;
  launch_state *st = ctx;
  st->done = true;
  if (err != NULL)
    st->err = *err;
}

int podctl_launch_sync(const spec_pod *pod, const char *key, const podctl_launch_opts *o, pid_t *pid,
                       int *pidfd, pv_err *err) {
  *pid = 0;
  *pidfd = -1;
  uv_loop_t loop;
  if (uv_loop_init(&loop) < 0)
    return pv_err_set(err, EIO, "launch: uv_loop_init");
  launch_state st;
  memset(&st, 0, sizeof st);
  podctl_callbacks cb = {.launched = on_launched};
  podctl_shim *s;
  int rc = podctl_launch(&loop, pod, key, o, &cb, &st, &s, err);
  if (rc == 0) {
    while (!st.done && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
    if (st.err.code != 0) {
      *err = st.err;
      rc = -1;
    } else {
      *pid = s->pid;
      *pidfd = s->pidfd; /* the caller's now */
      s->pidfd = -1;
    }
    podctl_shim_close(s);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}
