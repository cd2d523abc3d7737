/* shimsock.c - the shim's control socket: JSON lines with fd passing, on
 * uv_poll over non-blocking unix sockets (shimsock.h). */
#include "supervisor/shim/shimsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define READ_CHUNK 65536 /* bytes read per readable event */

/* A status event shared by every watcher it is queued to. */
typedef struct shared_line {
  int refs;
  size_t len;
  char data[];
} shared_line;

typedef struct outbuf {
  struct outbuf *next;
  char *owned;         /* a reply or an op's event */
  shared_line *shared; /* a published status */
  size_t len, off;
  int fd; /* sent with the first byte, then closed; -1 none */
} outbuf;

typedef enum { CONN_REQUESTS, CONN_WATCH, CONN_HELD } conn_mode;

struct shimsock_conn {
  uv_poll_t poll;
  uv_timer_t timer; /* idle timeout, or the flush bound while the shimsock closes */
  int fd;
  shimsock *owner;
  struct shimsock_conn *next;
  ctlproto_lines in;
  int fds[CTLPROTO_MAX_FDS]; /* received, not yet claimed by a line */
  size_t nfds;
  outbuf *out, *out_tail;
  conn_mode mode;
  void *data;       /* CONN_HELD: the op's */
  int events;       /* the poll's current mask */
  int handles_open; /* poll and timer, until their close callbacks */
  bool answering;   /* a line was handed over; its reply is still due */
  bool processing;  /* process_lines() is on the stack */
  bool peer_gone;   /* EOF or an error from the peer */
  bool ending;      /* close once the output is written */
  bool closing;     /* the handles are being closed */
};

static void conn_close(shimsock_conn *c);
static void process_lines(shimsock_conn *c);
static void on_conn_event(uv_poll_t *h, int status, int events);

static void shared_unref(shared_line *s) {
  if (s != NULL && --s->refs == 0)
    free(s);
}

static void outbuf_free(outbuf *o) {
  if (o->fd >= 0)
    close(o->fd);
  free(o->owned);
  shared_unref(o->shared);
  free(o);
}

static void drop_fds(shimsock_conn *c) {
  for (size_t i = 0; i < c->nfds; i++)
    close(c->fds[i]);
  c->nfds = 0;
}

static void maybe_all_closed(shimsock *ss) {
  if (ss->closing && !ss->listening && ss->n_conns == 0 && ss->on_closed != NULL) {
    void (*cb)(void *) = ss->on_closed;
    ss->on_closed = NULL;
    cb(ss->ctx);
  }
}

/* Frees c once its handles are closed and no reply is due any more. */
static void conn_maybe_free(shimsock_conn *c) {
  if (!c->closing || c->handles_open > 0 || c->answering)
    return;
  shimsock *ss = c->owner;
  for (shimsock_conn **p = &ss->conns; *p != NULL; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  ctlproto_lines_free(&c->in);
  free(c);
  ss->n_conns--;
  maybe_all_closed(ss);
}

static void on_conn_handle_closed(uv_handle_t *h) {
  shimsock_conn *c = h->data;
  if (--c->handles_open == 0 && c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
  conn_maybe_free(c);
}

static void conn_close(shimsock_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  shimsock *ss = c->owner;
  if (c->mode == CONN_HELD && c->data != NULL) {
    void *data = c->data;
    c->data = NULL;
    ss->h->released(ss->ctx, c, data);
  }
  drop_fds(c);
  while (c->out != NULL) {
    outbuf *o = c->out;
    c->out = o->next;
    outbuf_free(o);
  }
  c->out_tail = NULL;
  c->handles_open = 2;
  uv_close((uv_handle_t *)&c->poll, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_idle(uv_timer_t *t) {
  conn_close(t->data);
}

/* The poll mask and the idle timer follow the connection's state. */
static void conn_update(shimsock_conn *c) {
  if (c->closing)
    return;
  bool idle_wait = c->mode == CONN_REQUESTS && !c->answering && c->out == NULL && !c->ending;
  int ev = 0;
  if (!c->peer_gone && !c->ending && (c->mode != CONN_REQUESTS || (!c->answering && c->out == NULL)))
    ev |= UV_READABLE;
  if (c->out != NULL)
    ev |= UV_WRITABLE;
  if (ev != c->events) {
    c->events = ev;
    if (ev == 0)
      uv_poll_stop(&c->poll);
    else if (uv_poll_start(&c->poll, ev, on_conn_event) < 0)
      conn_close(c);
  }
  if (!c->owner->closing) {
    if (idle_wait && !uv_is_active((uv_handle_t *)&c->timer))
      uv_timer_start(&c->timer, on_idle, SHIMSOCK_IDLE_MS, 0);
    else if (!idle_wait)
      uv_timer_stop(&c->timer);
  }
}

/* Writes what is queued until the socket is full.  -1 when c was closed. */
static int flush(shimsock_conn *c) {
  while (c->out != NULL) {
    outbuf *o = c->out;
    const char *data = o->owned != NULL ? o->owned : o->shared->data;
    int fd = o->fd;
    ssize_t n = ctlproto_send(c->fd, data + o->off, o->len - o->off, o->off == 0 && fd >= 0 ? &fd : NULL,
                              o->off == 0 && fd >= 0 ? 1 : 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n < 0) {
      c->peer_gone = true;
      conn_close(c);
      return -1;
    }
    if (o->fd >= 0) {
      close(o->fd); /* the peer has its own copy now */
      o->fd = -1;
    }
    o->off += (size_t)n;
    if (o->off < o->len)
      continue;
    c->out = o->next;
    if (c->out == NULL)
      c->out_tail = NULL;
    outbuf_free(o);
  }
  if (c->out == NULL && (c->ending || (c->peer_gone && !c->answering && c->mode != CONN_HELD))) {
    conn_close(c);
    return -1;
  }
  return 0;
}

static void enqueue(shimsock_conn *c, outbuf *o) {
  if (c->out_tail != NULL)
    c->out_tail->next = o;
  else
    c->out = o;
  c->out_tail = o;
}

/* Reads what the peer sent; requests are processed, anything sent to a
 * watching or held connection is ignored (reading notices the peer's end). */
static void conn_read(shimsock_conn *c) {
  char scratch[4096];
  size_t total = 0;
  while (total < READ_CHUNK && !c->closing) {
    size_t avail = sizeof scratch;
    char *dst = scratch;
    if (c->mode == CONN_REQUESTS) {
      dst = ctlproto_lines_space(&c->in, 4096, &avail);
      if (dst == NULL) {
        if (errno == ENOMEM) {
          conn_close(c);
          return;
        }
        break; /* EMSGSIZE: process_lines refuses the line */
      }
    }
    bool dropped = false;
    size_t before = c->nfds;
    ssize_t n = ctlproto_recv(c->fd, dst, avail, c->fds, &c->nfds, CTLPROTO_MAX_FDS, &dropped);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n <= 0 || dropped) {
      c->peer_gone = true;
      if (n < 0 || dropped)
        drop_fds(c);
      break;
    }
    if (c->mode != CONN_REQUESTS && c->nfds > before)
      drop_fds(c);
    if (c->mode == CONN_REQUESTS)
      ctlproto_lines_commit(&c->in, (size_t)n);
    total += (size_t)n;
  }
}

static void reply_now(shimsock_conn *c, ctlproto_reason r, const char *msg, bool end) {
  size_t len;
  char *line = ctlproto_reply_error(r, msg, &len);
  c->answering = true;
  shimsock_reply(c, line, len, -1);
  if (end && !c->closing)
    shimsock_end(c);
}

/* Hands the next complete line to the handler, one at a time. */
static void process_lines(shimsock_conn *c) {
  if (c->processing)
    return;
  c->processing = true;
  while (!c->closing && c->mode == CONN_REQUESTS && !c->answering && !c->ending && c->out == NULL) {
    char *line;
    size_t len;
    int rc = ctlproto_lines_next(&c->in, &line, &len);
    if (rc == 0)
      break;
    if (rc < 0) {
      drop_fds(c);
      char msg[96];
      snprintf(msg, sizeof msg, "request longer than %d bytes", CTLPROTO_LINE_MAX - 1);
      reply_now(c, CTLPROTO_INVALID, msg, true);
      break;
    }
    if (len == 0)
      continue; /* an empty line is no request */
    int fds[CTLPROTO_MAX_FDS];
    size_t nfds = c->nfds;
    memcpy(fds, c->fds, nfds * sizeof(int));
    c->nfds = 0;
    c->answering = true;
    shimsock *ss = c->owner;
    ss->h->request(ss->ctx, c, line, len, fds, nfds);
  }
  c->processing = false;
  if (!c->closing && c->peer_gone && !c->answering && c->out == NULL && c->mode != CONN_HELD) {
    conn_close(c);
    return;
  }
  conn_update(c);
}

static void on_conn_event(uv_poll_t *h, int status, int events) {
  shimsock_conn *c = h->data;
  if (status < 0) {
    c->peer_gone = true;
    conn_close(c);
    return;
  }
  if ((events & UV_WRITABLE) && flush(c) < 0)
    return;
  if (events & UV_READABLE) {
    conn_read(c);
    if (c->closing)
      return;
    if (c->peer_gone && c->mode == CONN_HELD) {
      conn_close(c); /* the op is told through released */
      return;
    }
    if (c->peer_gone && c->mode == CONN_WATCH) {
      conn_close(c);
      return;
    }
  }
  process_lines(c);
}

void shimsock_reply(shimsock_conn *c, char *line, size_t len, int fd) {
  c->answering = false;
  if (c->closing || line == NULL) {
    free(line);
    if (fd >= 0)
      close(fd);
    if (c->closing)
      conn_maybe_free(c);
    else
      conn_close(c);
    return;
  }
  outbuf *o = calloc(1, sizeof *o);
  if (o == NULL) {
    free(line);
    if (fd >= 0)
      close(fd);
    conn_close(c);
    return;
  }
  o->owned = line;
  o->len = len;
  o->fd = fd;
  enqueue(c, o);
  if (flush(c) < 0)
    return;
  if (!c->processing)
    process_lines(c);
}

void shimsock_watch(shimsock_conn *c) {
  if (!c->closing)
    c->mode = CONN_WATCH;
  ctlproto_lines_free(&c->in);
  conn_update(c);
}

bool shimsock_hold(shimsock_conn *c, void *data) {
  if (c->closing || c->ending)
    return false;
  c->mode = CONN_HELD;
  c->data = data;
  ctlproto_lines_free(&c->in);
  drop_fds(c);
  conn_update(c);
  return true;
}

void shimsock_send(shimsock_conn *c, char *line, size_t len) {
  outbuf *o = line != NULL && !c->closing ? calloc(1, sizeof *o) : NULL;
  if (o == NULL) {
    free(line);
    return;
  }
  o->owned = line;
  o->len = len;
  o->fd = -1;
  enqueue(c, o);
  if (flush(c) == 0)
    conn_update(c);
}

void shimsock_end(shimsock_conn *c) {
  if (c->closing)
    return;
  c->ending = true;
  c->data = NULL; /* ended by its op: no released callback */
  if (c->out == NULL && !c->answering)
    conn_close(c);
  else
    conn_update(c);
}

bool shimsock_has_watchers(const shimsock *ss) {
  for (const shimsock_conn *c = ss->conns; c != NULL; c = c->next)
    if (c->mode == CONN_WATCH && !c->closing)
      return true;
  return false;
}

void shimsock_publish(shimsock *ss, const char *status_text) {
  if (!shimsock_has_watchers(ss) || status_text == NULL)
    return;
  size_t len;
  char *line = ctlproto_event_status(status_text, &len);
  shared_line *s = line != NULL ? malloc(sizeof *s + len + 1) : NULL;
  if (s == NULL) {
    free(line);
    return;
  }
  memcpy(s->data, line, len + 1);
  free(line);
  s->len = len;
  s->refs = 1;
  for (shimsock_conn *c = ss->conns; c != NULL; c = c->next) {
    if (c->mode != CONN_WATCH || c->closing || c->ending)
      continue;
    /* A status still waiting unwritten is outdated: replace it. */
    outbuf *o = NULL;
    for (outbuf *q = c->out; q != NULL; q = q->next)
      if (q->shared != NULL && q->off == 0)
        o = q;
    if (o != NULL) {
      shared_unref(o->shared);
    } else if ((o = calloc(1, sizeof *o)) != NULL) {
      o->fd = -1;
      enqueue(c, o);
    } else {
      continue;
    }
    o->shared = s;
    o->len = s->len;
    s->refs++;
    if (flush(c) == 0)
      conn_update(c);
  }
  shared_unref(s);
}

/* --- accepting ------------------------------------------------------------------------------ */

static void refuse(int fd) {
  size_t len;
  char *line = ctlproto_reply_error(CTLPROTO_INTERNAL, "too many connections", &len);
  if (line != NULL)
    (void)ctlproto_send(fd, line, len, NULL, 0);
  free(line);
  close(fd);
}

static void add_conn(shimsock *ss, int fd) {
  shimsock_conn *c = calloc(1, sizeof *c);
  if (c == NULL) {
    close(fd);
    return;
  }
  c->owner = ss;
  c->fd = fd;
  if (uv_poll_init(ss->loop, &c->poll, fd) < 0) {
    close(fd);
    free(c);
    return;
  }
  uv_timer_init(ss->loop, &c->timer);
  c->poll.data = c->timer.data = c;
  c->next = ss->conns;
  ss->conns = c;
  ss->n_conns++;
  conn_update(c);
}

static void on_accept(uv_poll_t *h, int status, int events) {
  (void)events;
  shimsock *ss = h->data;
  if (status < 0 || ss->closing)
    return;
  for (int i = 0; i < 16; i++) {
    int fd = accept4(ss->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return; /* EAGAIN, or an error of that one connection */
    if (ss->n_conns >= SHIMSOCK_MAX_CONNS)
      refuse(fd);
    else
      add_conn(ss, fd);
  }
}

int shimsock_listen(shimsock *ss, uv_loop_t *loop, const char *path, const shimsock_handler *h, void *ctx,
                    pv_err *err) {
  memset(ss, 0, sizeof *ss);
  ss->loop = loop;
  ss->fd = -1;
  ss->h = h;
  ss->ctx = ctx;
  struct sockaddr_un sa;
  int dirfd;
  if (ctlproto_socket_addr(path, &sa, &dirfd, err) < 0)
    return -1;
  (void)unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (dirfd >= 0)
      close(dirfd);
    return pv_err_sys(err, "shim socket %s", path);
  }
  /* Bind under a restrictive umask so the socket is never world-reachable. */
  mode_t old = umask(0177);
  int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  umask(old);
  int e = errno;
  if (dirfd >= 0)
    close(dirfd);
  if (rc < 0 || listen(fd, 64) < 0) {
    if (rc == 0)
      e = errno;
    close(fd);
    errno = e;
    return pv_err_sys(err, "shim socket %s", path);
  }
  (void)chmod(path, 0600);
  if ((rc = uv_poll_init(loop, &ss->server, fd)) < 0) {
    close(fd);
    (void)unlink(path);
    return pv_err_set(err, -rc, "shim socket %s: %s", path, uv_strerror(rc));
  }
  ss->fd = fd;
  ss->path = path;
  ss->server.data = ss;
  ss->listening = true;
  uv_poll_start(&ss->server, UV_READABLE, on_accept);
  return 0;
}

static void on_server_closed(uv_handle_t *h) {
  shimsock *ss = h->data;
  close(ss->fd);
  ss->fd = -1;
  ss->listening = false;
  maybe_all_closed(ss);
}

static void on_flush_timeout(uv_timer_t *t) {
  conn_close(t->data);
}

void shimsock_close(shimsock *ss, void (*on_closed)(void *ctx)) {
  if (ss->closing)
    return;
  ss->closing = true;
  ss->on_closed = on_closed;
  if (ss->path != NULL) /* NULL: never listened (set-up failed before) */
    (void)unlink(ss->path);
  for (shimsock_conn *c = ss->conns, *next; c != NULL; c = next) {
    next = c->next;
    if (c->closing)
      continue;
    if (c->mode == CONN_HELD) {
      conn_close(c); /* the op is released, and ends what it runs */
      continue;
    }
    /* What is queued (a reply, a watcher's final status) goes out first. */
    c->ending = true;
    if (c->out == NULL && !c->answering) {
      conn_close(c);
      continue;
    }
    uv_timer_stop(&c->timer);
    uv_timer_start(&c->timer, on_flush_timeout, SHIMSOCK_FLUSH_MS, 0);
    conn_update(c);
  }
  if (ss->listening)
    uv_close((uv_handle_t *)&ss->server, on_server_closed);
  else
    maybe_all_closed(ss);
}
