/* shimsock.c - the shim's unix control socket (one command per connection). */
#include "supervisor/shim/shimsock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define IDLE_MS 5000

typedef struct shimsock_conn {
  uv_pipe_t pipe;
  uv_timer_t timer;
  uv_write_t wreq;
  shimsock *owner;
  struct shimsock_conn *next;
  int pending_close;
  bool replied, closing;
  bool answering; /* the handler runs or its reply is being written */
  size_t len;
  char *reply;
  char line[LINE_MAX_BYTES];
} shimsock_conn;

static void unlink_conn(shimsock *ss, shimsock_conn *c) {
  for (shimsock_conn **p = &ss->conns; *p != NULL; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      return;
    }
}

static void maybe_all_closed(shimsock *ss) {
  if (ss->closing && !ss->listening && ss->n_conns == 0 && ss->on_closed != NULL) {
    void (*cb)(void *) = ss->on_closed;
    ss->on_closed = NULL;
    cb(ss->ctx);
  }
}

static void on_conn_closed(uv_handle_t *h) {
  shimsock_conn *c = h->data;
  if (--c->pending_close > 0)
    return;
  shimsock *ss = c->owner;
  unlink_conn(ss, c);
  free(c->reply);
  free(c);
  ss->n_conns--;
  maybe_all_closed(ss);
}

static void conn_close(shimsock_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  c->pending_close = 2;
  uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_written(uv_write_t *req, int status) {
  (void)status;
  conn_close(req->data);
}

static void reply(shimsock_conn *c, char *text) {
  c->replied = true;
  uv_read_stop((uv_stream_t *)&c->pipe);
  if (text == NULL)
    text = strdup("error: out of memory");
  size_t n = text != NULL ? strlen(text) : 0;
  char *msg = text != NULL ? realloc(text, n + 2) : NULL;
  if (msg == NULL) {
    free(text);
    conn_close(c);
    return;
  }
  msg[n] = '\n';
  msg[n + 1] = '\0';
  c->reply = msg;
  uv_buf_t b = uv_buf_init(msg, (unsigned)(n + 1));
  c->wreq.data = c;
  if (uv_write(&c->wreq, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0)
    conn_close(c);
}

/* Runs the handler on the line read; the connection stays open until the
 * reply is written, also when the handler itself closes the shimsock
 * ("stop" with nothing left to stop finishes the shim at once). */
static void answer(shimsock_conn *c, const char *line) {
  c->answering = true;
  reply(c, c->owner->handler(c->owner->ctx, line));
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  shimsock_conn *c = h->data;
  buf->base = c->line + c->len;
  buf->len = sizeof c->line - 1 - c->len;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  shimsock_conn *c = st->data;
  if (c->replied)
    return;
  if (n < 0) {
    /* EOF without a newline: treat what we have as the line. */
    if (n == UV_EOF && c->len > 0) {
      c->line[c->len] = '\0';
      answer(c, c->line);
    } else {
      conn_close(c);
    }
    return;
  }
  c->len += (size_t)n;
  c->line[c->len] = '\0';
  char *nl = memchr(c->line, '\n', c->len);
  if (nl != NULL) {
    *nl = '\0';
    if (nl > c->line && nl[-1] == '\r')
      nl[-1] = '\0';
    answer(c, c->line);
  } else if (c->len >= sizeof c->line - 1) {
    reply(c, strdup("error: line too long"));
  }
}

static void on_idle(uv_timer_t *t) {
  conn_close(t->data);
}

static void on_connection(uv_stream_t *server, int status) {
  shimsock *ss = server->data;
  if (status < 0 || ss->closing)
    return;
  shimsock_conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->owner = ss;
  uv_loop_t *loop = server->loop;
  uv_pipe_init(loop, &c->pipe, 0);
  uv_timer_init(loop, &c->timer);
  c->pipe.data = c->timer.data = c;
  c->next = ss->conns;
  ss->conns = c;
  ss->n_conns++;
  if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
      uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0) {
    conn_close(c);
    return;
  }
  uv_timer_start(&c->timer, on_idle, IDLE_MS, 0);
}

/* Fills sa for path.  A path too long for sun_path (108 bytes: a long
 * --run-root) is reached through its directory instead: *dirfd is an
 * O_PATH fd of the directory and sa names "/proc/self/fd/N/<base>", which
 * bind and connect resolve like any path.  No chdir: libuv's thread pool
 * may run beside the loop.  The caller closes *dirfd (-1 when unused)
 * after bind or connect. */
static int socket_addr(const char *path, struct sockaddr_un *sa, int *dirfd, pv_err *err) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  *dirfd = -1;
  size_t len = strlen(path);
  if (len < sizeof sa->sun_path) {
    memcpy(sa->sun_path, path, len + 1);
    return 0;
  }
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path)
    return pv_err_set(err, ENAMETOOLONG, "shim socket %s: path too long", path);
  char dir[PATH_MAX];
  if ((size_t)(slash - path) >= sizeof dir)
    return pv_err_set(err, ENAMETOOLONG, "shim socket %s: path too long", path);
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0)
    return pv_err_sys(err, "shim socket %s: open its directory", path);
  int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dirfd, slash + 1);
  if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
    close(*dirfd);
    *dirfd = -1;
    return pv_err_set(err, ENAMETOOLONG, "shim socket %s: file name too long", path);
  }
  return 0;
}

int shimsock_listen(shimsock *ss, uv_loop_t *loop, const char *path, shimsock_handler h, void *ctx,
                    pv_err *err) {
  memset(ss, 0, sizeof *ss);
  ss->path = path;
  ss->handler = h;
  ss->ctx = ctx;
  struct sockaddr_un sa;
  int dirfd;
  if (socket_addr(path, &sa, &dirfd, err) < 0)
    return -1;
  (void)unlink(path);
  int rc = uv_pipe_init(loop, &ss->server, 0);
  if (rc < 0) {
    if (dirfd >= 0)
      close(dirfd);
    return pv_err_set(err, -rc, "shim socket %s: %s", path, uv_strerror(rc));
  }
  ss->server.data = ss;
  ss->listening = true;
  /* Bind under a restrictive umask so the socket is never world-reachable. */
  mode_t old = umask(0177);
  rc = uv_pipe_bind(&ss->server, sa.sun_path);
  umask(old);
  if (dirfd >= 0)
    close(dirfd);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&ss->server, 16, on_connection);
  if (rc < 0) {
    pv_err_set(err, -rc, "shim socket %s: %s", path, uv_strerror(rc));
    ss->closing = true;
    ss->listening = false;
    uv_close((uv_handle_t *)&ss->server, NULL);
    return -1;
  }
  (void)chmod(path, 0600);
  return 0;
}

static void on_server_closed(uv_handle_t *h) {
  shimsock *ss = h->data;
  ss->listening = false;
  maybe_all_closed(ss);
}

void shimsock_close(shimsock *ss, void (*on_closed)(void *ctx)) {
  if (ss->closing)
    return;
  ss->closing = true;
  ss->on_closed = on_closed;
  if (ss->path != NULL) /* NULL: never listened (set-up failed before) */
    (void)unlink(ss->path);
  /* A connection being answered closes itself once its reply is written
   * (or after its idle timeout); closing it now would drop the reply. */
  for (shimsock_conn *c = ss->conns; c != NULL; c = c->next)
    if (!c->answering && !c->replied)
      conn_close(c);
  if (ss->listening)
    uv_close((uv_handle_t *)&ss->server, on_server_closed);
  else
    maybe_all_closed(ss);
}

static int remaining_ms(const struct timespec *deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
  return ms < 0 ? 0 : (int)ms;
}

char *shimsock_request(const char *path, const char *line, int timeout_ms, pv_err *err) {
  struct sockaddr_un sa;
  int dirfd;
  if (socket_addr(path, &sa, &dirfd, err) < 0)
    return NULL;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    pv_err_sys(err, "shim socket %s", path);
    if (dirfd >= 0)
      close(dirfd);
    return NULL;
  }
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000;
  }
  char *out = NULL;
  size_t len = 0, cap = 0;
  int crc;
  do
    crc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
  while (crc < 0 && errno == EINTR);
  int cerr = errno;
  if (dirfd >= 0)
    close(dirfd);
  if (crc < 0) {
    errno = cerr;
    pv_err_sys(err, "connect %s", path);
    goto fail;
  }
  size_t ll = strlen(line);
  char msg[LINE_MAX_BYTES];
  if (ll + 2 > sizeof msg) {
    pv_err_set(err, E2BIG, "shim socket %s: command too long", path);
    goto fail;
  }
  memcpy(msg, line, ll);
  msg[ll] = '\n';
  if (send(fd, msg, ll + 1, MSG_NOSIGNAL) != (ssize_t)(ll + 1)) {
    pv_err_sys(err, "send to %s", path);
    goto fail;
  }
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, remaining_ms(&deadline));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      pv_err_set(err, ETIMEDOUT, "shim socket %s: no reply", path);
      goto fail;
    }
    if (len + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      char *n = realloc(out, cap);
      if (n == NULL) {
        pv_err_set(err, ENOMEM, "shim socket %s: out of memory", path);
        goto fail;
      }
      out = n;
    }
    ssize_t n = read(fd, out + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      pv_err_sys(err, "read from %s", path);
      goto fail;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  if (out == NULL)
    out = calloc(1, 1);
  if (out == NULL)
    return NULL;
  out[len] = '\0';
  while (len > 0 && out[len - 1] == '\n')
    out[--len] = '\0';
  return out;
fail:
  close(fd);
  free(out);
  return NULL;
}
