/*
 * daemon_exec.c - the exec broker on <run-root>/exec.sock (API.md, "Exec").
 *
 * HTTP cannot carry descriptors, so exec has a socket of its own speaking
 * the shim's control protocol (ctlproto.h).  A client sends one exec
 * request line, with "namespace" and "pod" beside the exec op's fields, and
 * the descriptors the op takes (SCM_RIGHTS).  The daemon checks that the
 * pod exists and runs, opens a podctl_conn to the pod's shim, forwards the
 * request with the same descriptors (podctl dups them; the daemon's copies
 * are closed at once) and relays every reply and event back, the pty
 * master of a tty exec included; when the shim ends the connection, so
 * does the daemon.  The daemon never joins a namespace: the shim runs the
 * process.  A client that leaves ends the relay (the shim's connection is
 * closed; what the process does then is the shim's exec semantics).
 *
 * Every socket is non-blocking and polled on the loop; the replies are a
 * few small lines, queued when the client's socket is full.  Errors go to
 * the client as ctlproto error replies (NotFound, Conflict, Invalid,
 * Unsupported, Internal), then the connection is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "supervisor/daemon/daemon_api_internal.h"
#include "supervisor/proto/ctlproto.h"

#define EXEC_BACKLOG 64
#define EXEC_MAX_CONNS 128

typedef struct xout {
  struct xout *next;
  char *data;
  size_t len, off;
  int fd; /* to pass with the first byte; -1 none */
} xout;

struct api_exec {
  api_exec *next, *prev;
  pvd_api *a;
  int fd;
  uv_poll_t poll;
  ctlproto_lines in;
  int fds[CTLPROTO_MAX_FDS];
  size_t nfds;
  bool got_request, replied;
  podctl_conn *conn;
  xout *out, *out_tail;
  bool ending;  /* close once the queued lines are sent */
  bool closing; /* the poll handle is closing */
};

static void exec_close(api_exec *x);
static void on_client(uv_poll_t *h, int status, int events);

static void xout_free(xout *o) {
  if (o->fd >= 0)
    close(o->fd);
  free(o->data);
  free(o);
}

static void update_poll(api_exec *x) {
  if (x->closing)
    return;
  int ev = UV_READABLE | (x->out != NULL ? UV_WRITABLE : 0);
  uv_poll_start(&x->poll, ev, on_client);
}

static void flush(api_exec *x) {
  while (x->out != NULL) {
    xout *o = x->out;
    int fds[1] = {o->fd};
    bool with_fd = o->off == 0 && o->fd >= 0;
    ssize_t n =
        ctlproto_send(x->fd, o->data + o->off, o->len - o->off, with_fd ? fds : NULL, with_fd ? 1 : 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n <= 0) {
      exec_close(x); /* the client is gone */
      return;
    }
    if (with_fd) {
      close(o->fd);
      o->fd = -1;
    }
    o->off += (size_t)n;
    if (o->off < o->len)
      break;
    x->out = o->next;
    if (x->out == NULL)
      x->out_tail = NULL;
    xout_free(o);
  }
  if (x->out == NULL && x->ending) {
    exec_close(x);
    return;
  }
  update_poll(x);
}

/* Queues a line (taken) and a descriptor (taken; -1 none), then sends. */
static void send_line(api_exec *x, char *line, size_t len, int fd) {
  xout *o = line != NULL ? calloc(1, sizeof *o) : NULL;
  if (o == NULL) {
    free(line);
    if (fd >= 0)
      close(fd);
    x->ending = true;
    flush(x);
    return;
  }
  o->data = line;
  o->len = len;
  o->fd = fd;
  if (x->out_tail != NULL)
    x->out_tail->next = o;
  else
    x->out = o;
  x->out_tail = o;
  flush(x);
}

/* An error reply, then the end of the connection. */
static void refuse(api_exec *x, ctlproto_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(api_exec *x, ctlproto_reason r, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  size_t len;
  char *line = ctlproto_reply_error(r, msg, &len);
  x->replied = true;
  x->ending = true;
  send_line(x, line, len, -1);
}

static void close_fds(api_exec *x) {
  for (size_t i = 0; i < x->nfds; i++)
    close(x->fds[i]);
  x->nfds = 0;
}

static void on_shim_msg(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)c;
  api_exec *x = ctx;
  if (x->conn == NULL || x->closing) { /* being closed by us */
    if (fd >= 0)
      close(fd);
    return;
  }
  if (m == NULL) {
    if (!x->replied) {
      refuse(x, CTLPROTO_INTERNAL, "the pod's shim ended the exec: %s",
             err != NULL && err->code != 0 ? err->msg : "no reply");
      return;
    }
    x->ending = true;
    flush(x);
    return;
  }
  size_t len = 0;
  char *line;
  if (m->event != NULL && strcmp(m->event, "exit") == 0) {
    line = ctlproto_event_exit((int)m->exit_code, &len);
  } else if (m->event != NULL) {
    if (fd >= 0)
      close(fd);
    return; /* nothing else belongs to an exec */
  } else if (m->ok) {
    x->replied = true;
    line = ctlproto_reply_ok(json_pack("{s:I}", "pid", (json_int_t)m->pid), &len);
  } else {
    x->replied = true;
    line = ctlproto_reply_error(m->reason, m->message != NULL ? m->message : "refused", &len);
  }
  send_line(x, line, len, fd);
}

static const pvd_pod *find_running(api_exec *x, const char *ns, const char *pod) {
  const pvd_pod *p = pvd_pod_find(x->a->d, ns, pod);
  if (p == NULL || api_pod_spec(x->a->d, ns, pod, p) == NULL) {
    refuse(x, CTLPROTO_NOT_FOUND, "pod %s/%s not found", ns, pod);
    return NULL;
  }
  if (p->state != PVD_POD_RUNNING || pvd_pod_paths(p) == NULL) {
    refuse(x, CTLPROTO_CONFLICT, "pod %s/%s is not running", ns, pod);
    return NULL;
  }
  return p;
}

static void on_request(api_exec *x, const char *line, size_t len) {
  x->got_request = true;
  ctlproto_request req;
  ctlproto_error e;
  if (ctlproto_decode_request(line, len, &req, &e) < 0) {
    close_fds(x);
    refuse(x, e.reason, "%s", e.message);
    return;
  }
  if (req.op != CTLPROTO_OP_EXEC) {
    close_fds(x);
    ctlproto_request_free(&req);
    refuse(x, CTLPROTO_UNSUPPORTED, "exec.sock serves only the exec op");
    return;
  }
  const char *ns = json_string_value(json_object_get(req.doc, "namespace"));
  const char *pod = json_string_value(json_object_get(req.doc, "pod"));
  if (ns == NULL || *ns == '\0')
    ns = "default";
  size_t want = req.tty ? 0 : req.has_stdin ? 3 : 2;
  if (pod == NULL || *pod == '\0') {
    refuse(x, CTLPROTO_INVALID, "an exec request names its pod (\"pod\")");
  } else if (x->nfds != want) {
    refuse(x, CTLPROTO_INVALID, "an exec %s passes %zu descriptors (got %zu)",
           req.tty ? "with tty" : "without tty", want, x->nfds);
  } else {
    const pvd_pod *p = find_running(x, ns, pod);
    pv_err err = {0};
    if (p != NULL) {
      const podpaths *pp = pvd_pod_paths(p);
      if (podctl_conn_open(pvd_loop(x->a->d), pp->socket, &x->conn, &err) < 0) {
        x->conn = NULL;
        refuse(x, CTLPROTO_CONFLICT, "pod %s/%s: %s", ns, pod, err.msg);
      } else if (podctl_conn_request(x->conn, &req, x->fds, x->nfds, on_shim_msg, x, &err) < 0) {
        refuse(x, CTLPROTO_INTERNAL, "pod %s/%s: %s", ns, pod, err.msg);
      } else {
        pvd_log(x->a->d, PVD_LOG_DEBUG, ns, pod, "exec container=%s tty=%d", req.container, req.tty);
      }
    }
  }
  close_fds(x);
  ctlproto_request_free(&req);
}

static void on_client(uv_poll_t *h, int status, int events) {
  api_exec *x = h->data;
  if (status < 0) {
    exec_close(x);
    return;
  }
  if (events & UV_WRITABLE) {
    flush(x);
    if (x->closing)
      return;
  }
  if (!(events & UV_READABLE))
    return;
  char drop[4096];
  for (;;) {
    size_t avail = sizeof drop;
    char *space = drop;
    if (!x->got_request && (space = ctlproto_lines_space(&x->in, 4096, &avail)) == NULL) {
      close_fds(x);
      x->got_request = true;
      refuse(x, CTLPROTO_INVALID, "request line too long");
      return;
    }
    bool dropped = false;
    ssize_t n = ctlproto_recv(x->fd, space, avail, x->fds, &x->nfds, CTLPROTO_MAX_FDS, &dropped);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n <= 0) {
      exec_close(x); /* the client left (or failed) */
      return;
    }
    if (x->got_request) {
      close_fds(x); /* nothing may follow the request */
      continue;
    }
    ctlproto_lines_commit(&x->in, (size_t)n);
    char *line;
    size_t len;
    int rc = ctlproto_lines_next(&x->in, &line, &len);
    if (rc < 0 || dropped) {
      close_fds(x);
      x->got_request = true;
      refuse(x, CTLPROTO_INVALID, dropped ? "too many descriptors" : "request line too long");
      return;
    }
    if (rc == 1) {
      on_request(x, line, len);
      return;
    }
  }
}

static void on_exec_closed(uv_handle_t *h) {
  api_exec *x = h->data;
  pvd_api *a = x->a;
  close(x->fd);
  if (x->prev != NULL)
    x->prev->next = x->next;
  else
    a->execs = x->next;
  if (x->next != NULL)
    x->next->prev = x->prev;
  free(x);
  api_maybe_done(a);
}

static void exec_close(api_exec *x) {
  if (x->closing)
    return;
  x->closing = true;
  if (x->conn != NULL) {
    podctl_conn *c = x->conn;
    x->conn = NULL;
    podctl_conn_close(c);
  }
  close_fds(x);
  while (x->out != NULL) {
    xout *o = x->out;
    x->out = o->next;
    xout_free(o);
  }
  x->out_tail = NULL;
  ctlproto_lines_free(&x->in);
  uv_close((uv_handle_t *)&x->poll, on_exec_closed);
}

static size_t count_execs(const pvd_api *a) {
  size_t n = 0;
  for (const api_exec *x = a->execs; x != NULL; x = x->next)
    n++;
  return n;
}

static void on_accept(uv_poll_t *h, int status, int events) {
  (void)events;
  pvd_api *a = h->data;
  if (status < 0)
    return;
  for (;;) {
    int fd = accept4(a->exec_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return; /* EAGAIN, or a transient error (EMFILE...): the next readiness retries */
    if (a->closing || count_execs(a) >= EXEC_MAX_CONNS) {
      size_t len;
      char *line = ctlproto_reply_error(
          CTLPROTO_SHUTTING_DOWN, a->closing ? "the daemon is shutting down" : "too many exec connections",
          &len);
      if (line != NULL)
        (void)ctlproto_send(fd, line, len, NULL, 0);
      free(line);
      close(fd);
      continue;
    }
    api_exec *x = calloc(1, sizeof *x);
    if (x == NULL || uv_poll_init(pvd_loop(a->d), &x->poll, fd) < 0) {
      free(x);
      close(fd);
      continue;
    }
    x->a = a;
    x->fd = fd;
    x->poll.data = x;
    x->next = a->execs;
    if (a->execs != NULL)
      a->execs->prev = x;
    a->execs = x;
    uv_poll_start(&x->poll, UV_READABLE, on_client);
  }
}

int api_exec_listen(pvd_api *a, const char *path, pv_err *err) {
  struct sockaddr_un sa;
  int dirfd = -1;
  if (ctlproto_socket_addr(path, &sa, &dirfd, err) < 0)
    return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (dirfd >= 0)
      close(dirfd);
    return pv_err_sys(err, "exec socket %s", path);
  }
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      close(fd);
      if (dirfd >= 0)
        close(dirfd);
      return pv_err_set(err, EEXIST, "exec socket %s: a file that is not a socket is in the way", path);
    }
    (void)unlink(path);
  }
  /* Bound under a restrictive umask, the socket is never reachable by others. */
  mode_t old = umask(0177);
  int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  int e = errno;
  umask(old);
  if (dirfd >= 0)
    close(dirfd);
  if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, EXEC_BACKLOG) < 0) {
    if (rc < 0)
      errno = e;
    pv_err_sys(err, "exec socket %s", path);
    close(fd);
    return -1;
  }
  if ((rc = uv_poll_init(pvd_loop(a->d), &a->exec_poll, fd)) < 0) {
    close(fd);
    (void)unlink(path);
    return pv_err_set(err, -rc, "exec socket %s: %s", path, uv_strerror(rc));
  }
  a->exec_path = strdup(path);
  a->exec_fd = fd;
  a->exec_open = true;
  a->exec_poll.data = a;
  uv_poll_start(&a->exec_poll, UV_READABLE, on_accept);
  return 0;
}

static void on_listener_closed(uv_handle_t *h) {
  pvd_api *a = h->data;
  close(a->exec_fd);
  a->exec_fd = -1;
  a->exec_open = false;
  api_maybe_done(a);
}

void api_exec_close(pvd_api *a) {
  if (a->exec_open && !uv_is_closing((uv_handle_t *)&a->exec_poll)) {
    if (a->exec_path != NULL)
      (void)unlink(a->exec_path);
    uv_close((uv_handle_t *)&a->exec_poll, on_listener_closed);
  }
  for (api_exec *x = a->execs; x != NULL; x = x->next)
    exec_close(x);
}

bool api_exec_busy(const pvd_api *a) {
  return a->exec_open || a->execs != NULL;
}
