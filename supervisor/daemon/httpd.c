/* httpd.c - the HTTP server: limits, listeners, accept and shutdown. */
#include "supervisor/daemon/httpd.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/daemon/httpd_internal.h"

static void set_defaults(httpd_limits *l) {
  if (l->max_header_bytes == 0)
    l->max_header_bytes = 32 * 1024;
  if (l->max_body_bytes == 0)
    l->max_body_bytes = 3 * 1024 * 1024;
  if (l->max_connections == 0)
    l->max_connections = 256;
  if (l->idle_timeout_ms == 0)
    l->idle_timeout_ms = 60000;
  if (l->request_timeout_ms == 0)
    l->request_timeout_ms = 30000;
  if (l->drain_timeout_ms == 0)
    l->drain_timeout_ms = 5000;
  if (l->max_write_queue == 0)
    l->max_write_queue = 8 * 1024 * 1024;
}

httpd *httpd_new(uv_loop_t *loop, const httpd_limits *limits, httpd_handler handler, void *ctx, pv_err *err) {
  httpd *s = calloc(1, sizeof *s);
  if (s == NULL) {
    pv_err_set(err, ENOMEM, "http server: out of memory");
    return NULL;
  }
  /* libuv writes with write(2): a client gone in the middle of a write
   * raises SIGPIPE, whose default action would end the whole process. */
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
    signal(SIGPIPE, SIG_IGN);
  s->loop = loop;
  if (limits != NULL)
    s->lim = *limits;
  set_defaults(&s->lim);
  s->handler = handler;
  s->ctx = ctx;
  uv_timer_init(loop, &s->timer);
  s->timer.data = s;
  return s;
}

int httpd_set_token(httpd *s, const char *token) {
  char *t = NULL;
  if (token != NULL && token[0] != '\0' && (t = strdup(token)) == NULL)
    return -ENOMEM;
  if (s->token != NULL)
    explicit_bzero(s->token, s->token_len);
  free(s->token);
  s->token = t;
  s->token_len = t != NULL ? strlen(t) : 0;
  return 0;
}

unsigned httpd_connections(const httpd *s) {
  return s->n_active;
}

static void on_retry(uv_timer_t *t) {
  httpd_listener *l = t->data;
  if (!l->srv->closing && conn_accept(l->srv, l) < 0)
    uv_timer_start(&l->retry, on_retry, 100, 0);
}

static void on_connection(uv_stream_t *server, int status) {
  httpd_listener *l = server->data;
  if (status < 0 || l->srv->closing)
    return;
  /* Out of memory, libuv holds the accepted socket and stops accepting on
   * this listener until uv_accept is called: try again a little later. */
  if (conn_accept(l->srv, l) < 0)
    uv_timer_start(&l->retry, on_retry, 100, 0);
}

static void on_listener_closed(uv_handle_t *h) {
  httpd_listener *l = h->data;
  if (--l->pending_close > 0)
    return;
  httpd *s = l->srv;
  for (httpd_listener **p = &s->listeners; *p != NULL; p = &(*p)->next)
    if (*p == l) {
      *p = l->next;
      break;
    }
  free(l->path);
  free(l);
  s->n_listeners--;
  srv_maybe_closed(s);
}

static void listener_close(httpd_listener *l) {
  if (l->pending_close > 0)
    return;
  l->pending_close = 2;
  uv_close(&l->h.handle, on_listener_closed);
  uv_close((uv_handle_t *)&l->retry, on_listener_closed);
}

static httpd_listener *listener_new(httpd *s, const httpd_listen_opts *opts, bool is_tcp) {
  httpd_listener *l = calloc(1, sizeof *l);
  if (l == NULL)
    return NULL;
  l->srv = s;
  l->is_tcp = is_tcp;
  if (opts != NULL) {
    l->trusted = opts->trusted;
    l->data = opts->data;
  }
  if (is_tcp)
    uv_tcp_init(s->loop, &l->h.tcp);
  else
    uv_pipe_init(s->loop, &l->h.pipe, 0);
  uv_timer_init(s->loop, &l->retry);
  l->h.handle.data = l->retry.data = l;
  l->next = s->listeners;
  s->listeners = l;
  s->n_listeners++;
  return l;
}

/* A listener that failed to come up is closed (and freed) at once. */
static int listener_fail(httpd_listener *l, int rc, pv_err *err, const char *what) {
  pv_err_set(err, -rc, "http listener %s: %s", what, uv_strerror(rc));
  listener_close(l);
  return -1;
}

/* Removes a stale socket file; anything else at path is left alone. */
static int unlink_stale(const char *path, pv_err *err) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : pv_err_sys(err, "http socket %s", path);
  if (!S_ISSOCK(st.st_mode))
    return pv_err_set(err, EEXIST, "http socket %s: exists and is not a socket", path);
  if (unlink(path) < 0 && errno != ENOENT)
    return pv_err_sys(err, "http socket %s: unlink the stale socket", path);
  return 0;
}

int httpd_listen_unix(httpd *s, const char *path, const httpd_listen_opts *opts, pv_err *err) {
  if (s->closing)
    return pv_err_set(err, ESHUTDOWN, "http socket %s: the server is closing", path);
  struct sockaddr_un sa;
  int dirfd;
  if (addr_unix(path, &sa, &dirfd, err) < 0 || unlink_stale(path, err) < 0) {
    if (dirfd >= 0)
      close(dirfd);
    return -1;
  }
  httpd_listener *l = listener_new(s, opts, false);
  if (l == NULL || (l->path = strdup(path)) == NULL) {
    if (dirfd >= 0)
      close(dirfd);
    if (l != NULL)
      listener_close(l);
    return pv_err_set(err, ENOMEM, "http socket %s: out of memory", path);
  }
  /* Bound under a restrictive umask, the socket is never reachable by
   * others, not even between bind and chmod. */
  mode_t old = umask(0177);
  int rc = uv_pipe_bind(&l->h.pipe, sa.sun_path);
  umask(old);
  if (dirfd >= 0)
    close(dirfd);
  if (rc == 0 && chmod(path, 0600) < 0)
    rc = -errno;
  if (rc == 0)
    rc = uv_listen(&l->h.stream, 128, on_connection);
  if (rc < 0) {
    if (rc != UV_EADDRINUSE)
      (void)unlink(path);
    free(l->path);
    l->path = NULL;
    return listener_fail(l, rc, err, path);
  }
  return 0;
}

int httpd_listen_tcp(httpd *s, const char *addr, const httpd_listen_opts *opts, int *port, pv_err *err) {
  if (s->closing)
    return pv_err_set(err, ESHUTDOWN, "http listener %s: the server is closing", addr);
  struct sockaddr_storage ss;
  if (addr_tcp(addr, &ss, err) < 0)
    return -1;
  httpd_listener *l = listener_new(s, opts, true);
  if (l == NULL)
    return pv_err_set(err, ENOMEM, "http listener %s: out of memory", addr);
  int rc = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)&ss, 0);
  if (rc == 0)
    rc = uv_listen(&l->h.stream, 128, on_connection);
  if (rc < 0)
    return listener_fail(l, rc, err, addr);
  if (port != NULL) {
    struct sockaddr_storage bound;
    int len = sizeof bound;
    *port = 0;
    if (uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&bound, &len) == 0)
      *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
  }
  return 0;
}

static void on_server_closed(uv_handle_t *h) {
  httpd *s = h->data;
  void (*cb)(void *) = s->on_closed;
  void *ctx = s->closed_ctx;
  httpd_set_token(s, NULL);
  free(s);
  if (cb != NULL)
    cb(ctx);
}

void srv_maybe_closed(httpd *s) {
  if (!s->closing || !s->stepped || s->freeing || s->n_listeners > 0 || s->n_conns > 0 || s->n_orphans > 0)
    return;
  s->freeing = true;
  uv_close((uv_handle_t *)&s->timer, on_server_closed);
}

void srv_conn_gone(httpd *s, httpd_conn *c) {
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  if (c->counted)
    s->n_active--;
  if (c->rejected)
    s->n_rejecting--;
  s->n_conns--;
  free(c);
  srv_maybe_closed(s);
}

/* The drain time is over: what is left is closed, its handlers told. */
static void on_drain_timeout(uv_timer_t *t) {
  httpd *s = t->data;
  for (httpd_conn *c = s->conns; c != NULL; c = c->next)
    conn_close(c, true);
}

/* The first step of the shutdown, from the loop (httpd_close may be called
 * from inside a handler, which must not be re-entered).  Connections whose
 * request is being handled get drain_timeout_ms to answer; the server is
 * freed as soon as every connection is closed, whichever comes first. */
static void on_close_step(uv_timer_t *t) {
  httpd *s = t->data;
  for (httpd_conn *c = s->conns; c != NULL; c = c->next)
    conn_shutdown(c);
  s->stepped = true;
  if (s->freeing)
    return;
  uv_timer_start(&s->timer, on_drain_timeout, s->lim.drain_timeout_ms, 0);
  srv_maybe_closed(s);
}

void httpd_close(httpd *s, void (*on_closed)(void *ctx), void *ctx) {
  if (s == NULL || s->closing)
    return;
  s->closing = true;
  s->on_closed = on_closed;
  s->closed_ctx = ctx;
  for (httpd_listener *l = s->listeners; l != NULL; l = l->next) {
    if (l->path != NULL)
      (void)unlink(l->path);
    listener_close(l);
  }
  uv_timer_start(&s->timer, on_close_step, 0, 0);
}
