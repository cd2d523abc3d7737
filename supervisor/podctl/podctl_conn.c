/* podctl_conn.c - the control protocol's client on the caller's loop: one
 * connection to a shim's socket, requests queued and answered in order,
 * descriptors passed both ways (podctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/podctl/podctl.h"

typedef struct pending_req {
  struct pending_req *next;
  podctl_msg_cb cb;
  void *ctx;
  bool stream; /* watch, exec: the connection's events go to it after its reply */
  bool replied;
} pending_req;

typedef struct outq {
  struct outq *next;
  char *data;
  size_t len, off;
  int fds[CTLPROTO_MAX_FDS];
  size_t nfds;
} outq;

struct podctl_conn {
  uv_poll_t poll;
  int fd;
  int events;
  ctlproto_lines in;
  int rfds[CTLPROTO_MAX_FDS]; /* received, not yet given to a message */
  size_t nrfds;
  outq *out, *out_tail;
  pending_req *reqs, *reqs_tail;
  bool closing, ended;
};

static void on_event(uv_poll_t *h, int status, int events);

static void close_rfds(podctl_conn *c) {
  for (size_t i = 0; i < c->nrfds; i++)
    close(c->rfds[i]);
  c->nrfds = 0;
}

static void outq_free(outq *o) {
  for (size_t i = 0; i < o->nfds; i++)
    close(o->fds[i]);
  free(o->data);
  free(o);
}

static void update_poll(podctl_conn *c) {
  if (c->closing)
    return;
  int ev = c->ended ? 0 : UV_READABLE;
  if (c->out != NULL && !c->ended)
    ev |= UV_WRITABLE;
  if (ev == c->events)
    return;
  c->events = ev;
  if (ev == 0)
    uv_poll_stop(&c->poll);
  else
    uv_poll_start(&c->poll, ev, on_event);
}

static pending_req *pop_req(podctl_conn *c) {
  pending_req *r = c->reqs;
  if (r != NULL) {
    c->reqs = r->next;
    if (c->reqs == NULL)
      c->reqs_tail = NULL;
  }
  return r;
}

/* The connection is over: a stream ends normally (code 0), every other
 * request still waiting gets err. */
static void end_all(podctl_conn *c, const pv_err *err) {
  if (c->ended)
    return;
  c->ended = true;
  close_rfds(c);
  while (c->out != NULL) {
    outq *o = c->out;
    c->out = o->next;
    outq_free(o);
  }
  c->out_tail = NULL;
  update_poll(c);
  pending_req *r;
  while ((r = pop_req(c)) != NULL) {
    pv_err ok;
    pv_err_clear(&ok);
    const pv_err *e = r->stream && r->replied && err->code == EPIPE ? &ok : err;
    if (r->cb != NULL)
      r->cb(c, NULL, -1, e, r->ctx);
    free(r);
  }
}

static void fail(podctl_conn *c, int code, const char *what) {
  pv_err err;
  pv_err_set(&err, code, "shim socket: %s", what);
  end_all(c, &err);
}

static int flush(podctl_conn *c) {
  while (c->out != NULL) {
    outq *o = c->out;
    ssize_t n = ctlproto_send(c->fd, o->data + o->off, o->len - o->off, o->off == 0 ? o->fds : NULL,
                              o->off == 0 ? o->nfds : 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n < 0) {
      fail(c, errno, strerror(errno));
      return -1;
    }
    for (size_t i = 0; i < o->nfds; i++)
      close(o->fds[i]);
    o->nfds = 0;
    o->off += (size_t)n;
    if (o->off < o->len)
      continue;
    c->out = o->next;
    if (c->out == NULL)
      c->out_tail = NULL;
    outq_free(o);
  }
  update_poll(c);
  return 0;
}

/* One line from the shim, to the request it answers. */
static void dispatch(podctl_conn *c, const char *line, size_t len) {
  ctlproto_msg m;
  pv_err err;
  if (ctlproto_decode_msg(line, len, &m, &err) < 0) {
    end_all(c, &err);
    return;
  }
  pending_req *r = c->reqs;
  if (r == NULL || (m.event != NULL && !(r->stream && r->replied))) {
    ctlproto_msg_free(&m);
    fail(c, EPROTO, "a message nobody asked for");
    return;
  }
  int fd = -1;
  if (c->nrfds > 0) {
    fd = c->rfds[0];
    memmove(c->rfds, c->rfds + 1, (--c->nrfds) * sizeof(int));
  }
  bool done = m.event == NULL && (!r->stream || !m.ok);
  r->replied = true;
  if (done)
    pop_req(c);
  if (r->cb != NULL)
    r->cb(c, &m, fd, NULL, r->ctx);
  else if (fd >= 0)
    close(fd);
  ctlproto_msg_free(&m);
  if (done)
    free(r);
}

static void read_some(podctl_conn *c) {
  for (int rounds = 0; rounds < 16 && !c->ended && !c->closing; rounds++) {
    size_t avail;
    char *dst = ctlproto_lines_space(&c->in, 16384, &avail);
    if (dst == NULL) {
      fail(c, errno, errno == EMSGSIZE ? "reply longer than the protocol allows" : "out of memory");
      return;
    }
    bool dropped = false;
    ssize_t n = ctlproto_recv(c->fd, dst, avail, c->rfds, &c->nrfds, CTLPROTO_MAX_FDS, &dropped);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      /* Drained: an idle connection (a watch between two documents) keeps
       * no buffer; the next read allocates one again. */
      if (ctlproto_lines_pending(&c->in) == 0)
        ctlproto_lines_free(&c->in);
      return;
    }
    if (n < 0) {
      fail(c, errno, strerror(errno));
      return;
    }
    if (n == 0) {
      fail(c, EPIPE, "the shim closed the connection");
      return;
    }
    ctlproto_lines_commit(&c->in, (size_t)n);
    char *line;
    size_t len;
    int rc;
    while (!c->ended && !c->closing && (rc = ctlproto_lines_next(&c->in, &line, &len)) != 0) {
      if (rc < 0) {
        fail(c, EMSGSIZE, "reply longer than the protocol allows");
        break;
      }
      dispatch(c, line, len);
    }
  }
}

static void on_event(uv_poll_t *h, int status, int events) {
  podctl_conn *c = h->data;
  if (status < 0) {
    fail(c, -status, uv_strerror(status));
    return;
  }
  if ((events & UV_WRITABLE) && flush(c) < 0)
    return;
  if (events & UV_READABLE)
    read_some(c);
}

int podctl_conn_open(uv_loop_t *loop, const char *socket_path, podctl_conn **out, pv_err *err) {
  *out = NULL;
  int fd = ctlproto_connect(socket_path, err);
  if (fd < 0)
    return -1;
  podctl_conn *c = calloc(1, sizeof *c);
  if (c == NULL) {
    close(fd);
    return pv_err_set(err, ENOMEM, "shim socket %s: out of memory", socket_path);
  }
  c->fd = fd;
  int rc = uv_poll_init(loop, &c->poll, fd);
  if (rc < 0) {
    close(fd);
    free(c);
    return pv_err_set(err, -rc, "shim socket %s: %s", socket_path, uv_strerror(rc));
  }
  c->poll.data = c;
  update_poll(c);
  *out = c;
  return 0;
}

int podctl_conn_request(podctl_conn *c, const ctlproto_request *req, const int *fds, size_t nfds,
                        podctl_msg_cb cb, void *ctx, pv_err *err) {
  if (c->ended || c->closing)
    return pv_err_set(err, EPIPE, "shim socket: the connection is closed");
  if (c->reqs_tail != NULL && c->reqs_tail->stream)
    return pv_err_set(err, EBUSY, "shim socket: the connection carries a %s stream",
                      ctlproto_op_name(CTLPROTO_OP_WATCH));
  if (nfds > CTLPROTO_MAX_FDS)
    return pv_err_set(err, EINVAL, "shim socket: at most %d descriptors", CTLPROTO_MAX_FDS);
  size_t len;
  char *line = ctlproto_encode_request(req, &len, err);
  if (line == NULL)
    return -1;
  outq *o = calloc(1, sizeof *o);
  pending_req *r = calloc(1, sizeof *r);
  if (o == NULL || r == NULL) {
    free(line);
    free(o);
    free(r);
    return pv_err_set(err, ENOMEM, "shim socket: out of memory");
  }
  for (size_t i = 0; i < nfds; i++) {
    o->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    if (o->fds[i] < 0) {
      int e = errno;
      o->nfds = i;
      free(r);
      outq_free(o);
      free(line);
      errno = e;
      return pv_err_sys(err, "shim socket: pass descriptor %d", fds[i]);
    }
  }
  o->nfds = nfds;
  o->data = line;
  o->len = len;
  r->cb = cb;
  r->ctx = ctx;
  r->stream = req->op == CTLPROTO_OP_WATCH || req->op == CTLPROTO_OP_EXEC;
  if (c->reqs_tail != NULL)
    c->reqs_tail->next = r;
  else
    c->reqs = r;
  c->reqs_tail = r;
  if (c->out_tail != NULL)
    c->out_tail->next = o;
  else
    c->out = o;
  c->out_tail = o;
  (void)flush(c);
  return 0;
}

static void on_closed(uv_handle_t *h) {
  podctl_conn *c = h->data;
  close(c->fd);
  close_rfds(c);
  ctlproto_lines_free(&c->in);
  free(c);
}

void podctl_conn_close(podctl_conn *c) {
  if (c == NULL || c->closing)
    return;
  pv_err err;
  pv_err_set(&err, ECANCELED, "shim socket: closed by its user");
  /* Closing before the callbacks run: one of them may close the
   * connection again (podctl_shim_close does, for its watch). */
  c->closing = true;
  end_all(c, &err);
  uv_close((uv_handle_t *)&c->poll, on_closed);
}
