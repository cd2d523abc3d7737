/*
 * execclient.c - exec through the daemon's exec socket (see execclient.h).
 */
#include "supervisor/cli/execclient.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "supervisor/cli/exec_term.h"
#include "supervisor/proto/ctlproto.h"

#define PENDING_FDS 8

char *execclient_line(const execclient_req *rq, size_t *len, pv_err *err) {
  /* The shim's exec op as ctlproto encodes it, plus the pod's address. */
  ctlproto_request r = {.op = CTLPROTO_OP_EXEC,
                        .container = rq->container,
                        .argv = rq->argv,
                        .tty = rq->tty,
                        .has_stdin = rq->in && !rq->tty,
                        .rows = rq->rows,
                        .cols = rq->cols,
                        .grace_seconds = -1};
  size_t n;
  char *base = ctlproto_encode_request(&r, &n, err);
  if (base == NULL)
    return NULL;
  json_t *j = json_loadb(base, n, 0, NULL);
  free(base);
  char *s = NULL, *line = NULL;
  if (j != NULL && json_object_set_new(j, "namespace", json_string(rq->ns)) == 0 &&
      json_object_set_new(j, "pod", json_string(rq->pod)) == 0)
    s = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (s != NULL && asprintf(&line, "%s\n", s) < 0)
    line = NULL;
  free(s);
  if (line == NULL) {
    pv_err_set(err, ENOMEM, "exec request: out of memory");
    return NULL;
  }
  *len = strlen(line);
  return line;
}

int execclient_connect(const char *path, pv_err *err) {
  struct sockaddr_un sa;
  int dirfd;
  if (ctlproto_socket_addr(path, &sa, &dirfd, err) < 0)
    return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = -1, e = 0;
  if (fd >= 0) {
    do
      rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (rc < 0 && errno == EINTR);
    e = errno;
  } else {
    e = errno;
  }
  if (dirfd >= 0)
    close(dirfd);
  if (rc < 0) {
    if (fd >= 0)
      close(fd);
    errno = e;
    return pv_err_sys(err, "%s", path);
  }
  return fd;
}

typedef struct session {
  uv_loop_t loop;
  uv_poll_t poll;
  bool poll_open, replied, done;
  int sock;
  ctlproto_lines lines;
  int fds[PENDING_FDS]; /* received, not yet taken */
  size_t nfds;
  exec_term term;
  const execclient_req *rq;
  execclient_result *res;
  pv_err fail; /* the connection failed or ended too soon */
} session;

static void finish(session *s) {
  s->done = true;
  if (s->poll_open) {
    s->poll_open = false;
    uv_close((uv_handle_t *)&s->poll, NULL);
  }
  if (s->res->exit_code < 0)
    exec_term_stop(&s->term); /* nothing more will come to the terminal */
}

static void drop_fds(session *s) {
  for (size_t i = 0; i < s->nfds; i++)
    close(s->fds[i]);
  s->nfds = 0;
}

/* One reply or event. */
static void on_line(session *s, const char *line, size_t len) {
  ctlproto_msg m;
  pv_err err;
  pv_err_clear(&err);
  if (ctlproto_decode_msg(line, len, &m, &err) < 0) {
    pv_err_set(&s->fail, EPROTO, "exec: %s", pv_err_str(&err));
    finish(s);
    return;
  }
  if (m.event != NULL && strcmp(m.event, "exit") == 0) {
    /* The last line: what the terminal still holds is drained, and the
     * daemon's close is not waited for. */
    s->res->exit_code = (int)m.exit_code;
    exec_term_exited(&s->term);
    finish(s);
  } else if (m.event == NULL && !s->replied) {
    s->replied = true;
    if (!m.ok) {
      s->res->refused = true;
      snprintf(s->res->reason, sizeof s->res->reason, "%s", ctlproto_reason_name(m.reason));
      snprintf(s->res->message, sizeof s->res->message, "%s", m.message != NULL ? m.message : "");
      drop_fds(s);
      finish(s);
    } else {
      s->res->pid = (long)m.pid;
      if (s->rq->tty && s->nfds == 0) {
        pv_err_set(&s->fail, EPROTO, "exec: no terminal came with the daemon's reply");
        finish(s);
      } else if (s->rq->tty) {
        exec_term_start(&s->term, s->fds[0]);
        memmove(s->fds, s->fds + 1, --s->nfds * sizeof s->fds[0]);
      }
    }
  }
  /* Other events (none is defined after an exec) are ignored. */
  ctlproto_msg_free(&m);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  session *s = h->data;
  if (status < 0) {
    pv_err_set(&s->fail, ECONNRESET, "exec: the connection to the daemon failed: %s", uv_strerror(status));
    finish(s);
    return;
  }
  size_t avail;
  char *space = ctlproto_lines_space(&s->lines, 4096, &avail);
  if (space == NULL) {
    pv_err_sys(&s->fail, "exec: a reply line");
    finish(s);
    return;
  }
  bool dropped = false;
  ssize_t n = ctlproto_recv(s->sock, space, avail, s->fds, &s->nfds, PENDING_FDS, &dropped);
  if (n < 0 && errno == EAGAIN)
    return;
  if (n <= 0) {
    if (n < 0)
      pv_err_sys(&s->fail, "exec: reading the daemon's reply");
    else if (s->res->exit_code < 0 && !s->res->refused)
      pv_err_set(&s->fail, ECONNRESET, "exec: the daemon closed the connection before the exit status");
    finish(s);
    return;
  }
  ctlproto_lines_commit(&s->lines, (size_t)n);
  char *line;
  size_t len;
  int r;
  while (!s->done && (r = ctlproto_lines_next(&s->lines, &line, &len)) == 1)
    on_line(s, line, len);
  if (!s->done && r < 0) {
    pv_err_set(&s->fail, EMSGSIZE, "exec: a reply line longer than %d bytes", CTLPROTO_LINE_MAX);
    finish(s);
  }
}

static int send_request(int sock, const execclient_req *rq, const execclient_io *io, pv_err *err) {
  size_t len;
  char *line = execclient_line(rq, &len, err);
  if (line == NULL)
    return -1;
  int fds[3] = {io->in, io->out, io->err};
  size_t nfds = rq->tty ? 0 : rq->in ? 3 : 2;
  const int *first = rq->in ? fds : fds + 1;
  size_t off = 0;
  while (off < len) {
    ssize_t w = ctlproto_send(sock, line + off, len - off, off == 0 ? first : NULL, off == 0 ? nfds : 0);
    if (w < 0) {
      free(line);
      return pv_err_sys(err, "exec: sending the request");
    }
    off += (size_t)w;
  }
  free(line);
  return 0;
}

int execclient_run(int sock, const execclient_req *rq, const execclient_io *io, execclient_result *res,
                   pv_err *err) {
  *res = (execclient_result){.exit_code = -1, .pid = -1};
  session s = {.sock = sock, .rq = rq, .res = res};
  pv_err_clear(&s.fail);
  if (send_request(sock, rq, io, err) < 0) {
    close(sock);
    return -1;
  }
  (void)fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
  uv_loop_init(&s.loop);
  exec_term_init(&s.term, &s.loop, io->in, io->out, rq->in);
  if (uv_poll_init(&s.loop, &s.poll, sock) == 0) {
    s.poll.data = &s;
    s.poll_open = true;
    uv_poll_start(&s.poll, UV_READABLE | UV_DISCONNECT, on_readable);
  } else {
    pv_err_set(&s.fail, EIO, "exec: cannot watch the socket");
    s.done = true;
  }
  /* Until the daemon has closed the connection and the terminal is drained. */
  while (!s.done || exec_term_busy(&s.term))
    if (uv_run(&s.loop, UV_RUN_ONCE) == 0)
      break;
  exec_term_restore(&s.term);
  finish(&s);
  exec_term_stop(&s.term);
  uv_run(&s.loop, UV_RUN_DEFAULT);
  uv_loop_close(&s.loop);
  exec_term_free(&s.term);
  drop_fds(&s);
  ctlproto_lines_free(&s.lines);
  close(sock);
  if (s.fail.code != 0 && res->exit_code < 0 && !res->refused) {
    if (err != NULL)
      *err = s.fail;
    errno = s.fail.code;
    return -1;
  }
  return 0;
}
