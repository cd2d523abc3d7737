/* ctlproto.c - the shim's control protocol: JSON lines (ctlproto.h). */
#include "supervisor/proto/ctlproto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const op_names[CTLPROTO_OP_COUNT] = {"status", "stop",  "restart",
                                                        "update", "watch", "exec"};
static const char *const reason_names[CTLPROTO_REASON_COUNT] = {"NotFound",    "Invalid",  "Conflict",
                                                                "Unsupported", "Internal", "ShuttingDown"};

const char *ctlproto_op_name(ctlproto_op op) {
  return (unsigned)op < CTLPROTO_OP_COUNT ? op_names[op] : "?";
}

const char *ctlproto_reason_name(ctlproto_reason r) {
  return (unsigned)r < CTLPROTO_REASON_COUNT ? reason_names[r] : "Internal";
}

int ctlproto_reason_parse(const char *s, ctlproto_reason *out) {
  for (int i = 0; s != NULL && i < CTLPROTO_REASON_COUNT; i++)
    if (strcmp(s, reason_names[i]) == 0) {
      *out = (ctlproto_reason)i;
      return 0;
    }
  errno = EINVAL;
  return -1;
}

/* --- requests ----------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int fail(ctlproto_error *e, ctlproto_reason r, bool fatal,
                                                      const char *fmt, ...) {
  e->reason = r;
  e->fatal = fatal;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  errno = EINVAL;
  return -1;
}

static bool has_nul(const json_t *s) {
  return memchr(json_string_value(s), '\0', json_string_length(s)) != NULL;
}

/* A required string field: no NUL inside, 1..max bytes. */
static int want_string(const json_t *doc, const char *key, size_t max, const char **out, ctlproto_error *e) {
  const json_t *v = json_object_get(doc, key);
  if (v == NULL)
    return fail(e, CTLPROTO_INVALID, false, "%s: missing", key);
  if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max || has_nul(v))
    return fail(e, CTLPROTO_INVALID, false, "%s: must be a string of 1 to %zu bytes", key, max);
  *out = json_string_value(v);
  return 0;
}

static int want_bool(const json_t *doc, const char *key, bool *out, ctlproto_error *e) {
  const json_t *v = json_object_get(doc, key);
  *out = false;
  if (v == NULL)
    return 0;
  if (!json_is_boolean(v))
    return fail(e, CTLPROTO_INVALID, false, "%s: must be true or false", key);
  *out = json_is_true(v);
  return 0;
}

/* An optional terminal dimension, 1..65535. */
static int want_dim(const json_t *doc, const char *key, unsigned *out, ctlproto_error *e) {
  const json_t *v = json_object_get(doc, key);
  *out = 0;
  if (v == NULL)
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
    return fail(e, CTLPROTO_INVALID, false, "%s: must be an integer from 1 to 65535", key);
  *out = (unsigned)json_integer_value(v);
  return 0;
}

static int decode_argv(ctlproto_request *r, ctlproto_error *e) {
  const json_t *a = json_object_get(r->doc, "argv"), *v;
  if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > CTLPROTO_ARGV_MAX)
    return fail(e, CTLPROTO_INVALID, false, "argv: must be an array of 1 to %d strings", CTLPROTO_ARGV_MAX);
  r->argv = calloc(json_array_size(a) + 1, sizeof *r->argv);
  if (r->argv == NULL)
    return fail(e, CTLPROTO_INTERNAL, false, "out of memory");
  r->argv_owned = true;
  size_t i;
  json_array_foreach(a, i, v) {
    if (!json_is_string(v) || has_nul(v) || (i == 0 && json_string_length(v) == 0))
      return fail(e, CTLPROTO_INVALID, false, "argv[%zu]: must be a string%s", i,
                  i == 0 ? " (not empty)" : "");
    r->argv[i] = (char *)json_string_value(v);
  }
  r->argc = json_array_size(a);
  return 0;
}

static int decode_fields(ctlproto_request *r, ctlproto_error *e) {
  const json_t *doc = r->doc;
  switch (r->op) {
  case CTLPROTO_OP_STATUS:
  case CTLPROTO_OP_WATCH: return 0;
  case CTLPROTO_OP_STOP: {
    const json_t *g = json_object_get(doc, "gracePeriodSeconds");
    if (g == NULL)
      return 0;
    if (!json_is_integer(g) || json_integer_value(g) < 0)
      return fail(e, CTLPROTO_INVALID, false, "gracePeriodSeconds: must be an integer >= 0");
    r->grace_seconds = json_integer_value(g);
    return 0;
  }
  case CTLPROTO_OP_RESTART: return want_string(doc, "container", 253, &r->container, e);
  case CTLPROTO_OP_UPDATE:
    if (want_string(doc, "container", 253, &r->container, e) < 0)
      return -1;
    r->spec = json_object_get(doc, "spec");
    if (r->spec == NULL)
      return fail(e, CTLPROTO_INVALID, false, "spec: missing");
    if (!json_is_object(r->spec))
      return fail(e, CTLPROTO_INVALID, false, "spec: must be a container object");
    return 0;
  case CTLPROTO_OP_EXEC:
    if (want_string(doc, "container", 253, &r->container, e) < 0 || decode_argv(r, e) < 0 ||
        want_bool(doc, "tty", &r->tty, e) < 0 || want_bool(doc, "stdin", &r->has_stdin, e) < 0 ||
        want_dim(doc, "rows", &r->rows, e) < 0 || want_dim(doc, "cols", &r->cols, e) < 0)
      return -1;
    return 0;
  default: return fail(e, CTLPROTO_INTERNAL, false, "op %d", (int)r->op);
  }
}

int ctlproto_decode_request(const char *line, size_t len, ctlproto_request *r, ctlproto_error *e) {
  memset(r, 0, sizeof *r);
  r->grace_seconds = -1;
  memset(e, 0, sizeof *e);
  if (len > 0 && line[len - 1] == '\n')
    len--;
  if (len >= CTLPROTO_LINE_MAX)
    return fail(e, CTLPROTO_INVALID, true, "request longer than %d bytes", CTLPROTO_LINE_MAX - 1);
  json_error_t je;
  r->doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
  if (r->doc == NULL)
    return fail(e, CTLPROTO_INVALID, true, "malformed request: %s (column %d)", je.text, je.column);
  if (!json_is_object(r->doc)) {
    fail(e, CTLPROTO_INVALID, true, "malformed request: not a JSON object");
    goto bad;
  }
  const json_t *v = json_object_get(r->doc, "v");
  if (v == NULL) {
    fail(e, CTLPROTO_INVALID, false, "v: missing (this shim speaks version %d)", CTLPROTO_VERSION);
    goto bad;
  }
  if (!json_is_integer(v) || json_integer_value(v) != CTLPROTO_VERSION) {
    fail(e, CTLPROTO_UNSUPPORTED, false, "v: unsupported version (this shim speaks version %d)",
         CTLPROTO_VERSION);
    goto bad;
  }
  const char *op = json_string_value(json_object_get(r->doc, "op"));
  if (op == NULL) {
    fail(e, CTLPROTO_INVALID, false, "op: missing");
    goto bad;
  }
  int k = -1;
  for (int i = 0; i < CTLPROTO_OP_COUNT; i++)
    if (strcmp(op, op_names[i]) == 0)
      k = i;
  if (k < 0) {
    fail(e, CTLPROTO_UNSUPPORTED, false,
         "op: unknown operation '%.64s' (status, stop, restart, update, watch, exec)", op);
    goto bad;
  }
  r->op = (ctlproto_op)k;
  if (decode_fields(r, e) < 0)
    goto bad;
  return 0;
bad:
  ctlproto_request_free(r);
  return -1;
}

void ctlproto_request_free(ctlproto_request *r) {
  if (r == NULL)
    return;
  if (r->argv_owned)
    free(r->argv);
  json_decref(r->doc);
  memset(r, 0, sizeof *r);
  r->grace_seconds = -1;
}

/* json_dumps + "\n"; steals j. */
static char *line_of(json_t *j, size_t *len) {
  if (j == NULL)
    return NULL;
  char *s = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (s == NULL)
    return NULL;
  size_t n = strlen(s);
  char *out = realloc(s, n + 2);
  if (out == NULL) {
    free(s);
    return NULL;
  }
  out[n] = '\n';
  out[n + 1] = '\0';
  if (len != NULL)
    *len = n + 1;
  return out;
}

char *ctlproto_encode_request(const ctlproto_request *r, size_t *len, pv_err *err) {
  if ((unsigned)r->op >= CTLPROTO_OP_COUNT) {
    pv_err_set(err, EINVAL, "control request: unknown op %d", (int)r->op);
    return NULL;
  }
  bool needs_ctr = r->op == CTLPROTO_OP_RESTART || r->op == CTLPROTO_OP_UPDATE || r->op == CTLPROTO_OP_EXEC;
  if ((needs_ctr && (r->container == NULL || r->container[0] == '\0')) ||
      (r->op == CTLPROTO_OP_UPDATE && !json_is_object(r->spec)) ||
      (r->op == CTLPROTO_OP_EXEC && (r->argv == NULL || r->argv[0] == NULL))) {
    pv_err_set(err, EINVAL, "control request %s: missing a field", op_names[r->op]);
    return NULL;
  }
  json_t *j = json_pack("{s:i,s:s}", "v", CTLPROTO_VERSION, "op", op_names[r->op]);
  if (j == NULL)
    goto oom;
  if (needs_ctr)
    json_object_set_new(j, "container", json_string(r->container));
  if (r->op == CTLPROTO_OP_STOP && r->grace_seconds >= 0)
    json_object_set_new(j, "gracePeriodSeconds", json_integer(r->grace_seconds));
  if (r->op == CTLPROTO_OP_UPDATE)
    json_object_set_new(j, "spec", json_deep_copy(r->spec));
  if (r->op == CTLPROTO_OP_EXEC) {
    json_t *a = json_array();
    for (size_t i = 0; r->argv[i] != NULL; i++)
      json_array_append_new(a, json_string(r->argv[i]));
    json_object_set_new(j, "argv", a);
    if (r->tty)
      json_object_set_new(j, "tty", json_true());
    if (r->has_stdin)
      json_object_set_new(j, "stdin", json_true());
    if (r->tty && r->rows > 0 && r->cols > 0) {
      json_object_set_new(j, "rows", json_integer(r->rows));
      json_object_set_new(j, "cols", json_integer(r->cols));
    }
  }
  char *s = line_of(j, len);
  if (s == NULL)
    goto oom;
  return s;
oom:
  pv_err_set(err, ENOMEM, "control request: out of memory");
  return NULL;
}

/* --- replies and events ------------------------------------------------------------------- */

char *ctlproto_reply_ok(json_t *fields, size_t *len) {
  json_t *j = json_pack("{s:i,s:b}", "v", CTLPROTO_VERSION, "ok", 1);
  if (j == NULL) {
    json_decref(fields);
    return NULL;
  }
  if (fields != NULL) {
    json_object_update(j, fields);
    json_decref(fields);
  }
  return line_of(j, len);
}

char *ctlproto_reply_error(ctlproto_reason r, const char *message, size_t *len) {
  return line_of(json_pack("{s:i,s:b,s:{s:s,s:s}}", "v", CTLPROTO_VERSION, "ok", 0, "error", "reason",
                           ctlproto_reason_name(r), "message", message != NULL ? message : ""),
                 len);
}

/* head + text + "}\n": the rendered document is embedded without parsing it again. */
static char *embed(const char *head, const char *text, size_t *len) {
  if (text == NULL)
    return NULL;
  size_t h = strlen(head), t = strlen(text);
  char *s = malloc(h + t + 3);
  if (s == NULL)
    return NULL;
  memcpy(s, head, h);
  memcpy(s + h, text, t);
  memcpy(s + h + t, "}\n", 3);
  if (len != NULL)
    *len = h + t + 2;
  return s;
}

char *ctlproto_reply_status(const char *status_text, size_t *len) {
  return embed("{\"v\":1,\"ok\":true,\"status\":", status_text, len);
}

char *ctlproto_event_status(const char *status_text, size_t *len) {
  return embed("{\"v\":1,\"event\":\"status\",\"status\":", status_text, len);
}

char *ctlproto_event_exit(int exit_code, size_t *len) {
  return line_of(json_pack("{s:i,s:s,s:i}", "v", CTLPROTO_VERSION, "event", "exit", "exitCode", exit_code),
                 len);
}

/* --- messages (client side) ----------------------------------------------------------------- */

static int proto_error(ctlproto_msg *m, pv_err *err, const char *why) {
  ctlproto_msg_free(m);
  return pv_err_set(err, EPROTO, "control reply: %s", why);
}

int ctlproto_decode_msg(const char *line, size_t len, ctlproto_msg *m, pv_err *err) {
  memset(m, 0, sizeof *m);
  m->pid = m->exit_code = -1;
  m->restarted = -1;
  json_error_t je;
  m->doc = json_loadb(line, len, 0, &je);
  if (!json_is_object(m->doc))
    return proto_error(m, err, m->doc == NULL ? je.text : "not an object");
  const json_t *v = json_object_get(m->doc, "v");
  if (!json_is_integer(v) || json_integer_value(v) != CTLPROTO_VERSION)
    return proto_error(m, err, "not protocol version 1");
  const json_t *ev = json_object_get(m->doc, "event"), *ok = json_object_get(m->doc, "ok");
  m->status = json_object_get(m->doc, "status");
  if (m->status != NULL && !json_is_object(m->status))
    return proto_error(m, err, "status is not an object");
  if (ev != NULL) {
    m->event = json_string_value(ev);
    if (m->event == NULL)
      return proto_error(m, err, "event is not a string");
    const json_t *code = json_object_get(m->doc, "exitCode");
    if (strcmp(m->event, "exit") == 0 && !json_is_integer(code))
      return proto_error(m, err, "exit event without exitCode");
    if (strcmp(m->event, "status") == 0 && m->status == NULL)
      return proto_error(m, err, "status event without status");
    if (json_is_integer(code))
      m->exit_code = json_integer_value(code);
    return 0;
  }
  if (!json_is_boolean(ok))
    return proto_error(m, err, "neither a reply nor an event");
  m->ok = json_is_true(ok);
  if (!m->ok) {
    const json_t *e = json_object_get(m->doc, "error");
    m->message = json_string_value(json_object_get(e, "message"));
    if (m->message == NULL ||
        ctlproto_reason_parse(json_string_value(json_object_get(e, "reason")), &m->reason) < 0)
      return proto_error(m, err, "error reply without a known reason and a message");
    return 0;
  }
  const json_t *pid = json_object_get(m->doc, "pid"), *rs = json_object_get(m->doc, "restarted");
  if (json_is_integer(pid))
    m->pid = json_integer_value(pid);
  if (json_is_boolean(rs))
    m->restarted = json_is_true(rs);
  return 0;
}

void ctlproto_msg_free(ctlproto_msg *m) {
  if (m == NULL)
    return;
  json_decref(m->doc);
  memset(m, 0, sizeof *m);
  m->pid = m->exit_code = -1;
  m->restarted = -1;
}

/* --- framing ------------------------------------------------------------------------------ */

/* Drops what next() returned before and moves the partial line to the
 * front; a buffer grown large for one big line is given back once empty. */
static void lines_compact(ctlproto_lines *l) {
  if (l->start == 0)
    return;
  memmove(l->buf, l->buf + l->start, l->len - l->start);
  l->len -= l->start;
  l->scanned -= l->start;
  l->start = 0;
  if (l->len == 0 && l->cap > 65536) {
    free(l->buf);
    l->buf = NULL;
    l->cap = 0;
  }
}

char *ctlproto_lines_space(ctlproto_lines *l, size_t want, size_t *avail) {
  lines_compact(l);
  if (l->len >= CTLPROTO_LINE_MAX) {
    errno = EMSGSIZE;
    return NULL;
  }
  if (want == 0)
    want = 1;
  if (want > CTLPROTO_LINE_MAX - l->len)
    want = CTLPROTO_LINE_MAX - l->len;
  if (l->cap < l->len + want + 1) { /* +1: lines_next writes a NUL */
    size_t cap = l->cap ? l->cap : 4096;
    while (cap < l->len + want + 1)
      cap *= 2;
    if (cap > CTLPROTO_LINE_MAX + 1)
      cap = CTLPROTO_LINE_MAX + 1;
    char *b = realloc(l->buf, cap);
    if (b == NULL) {
      errno = ENOMEM;
      return NULL;
    }
    l->buf = b;
    l->cap = cap;
  }
  *avail = l->cap - l->len - 1;
  return l->buf + l->len;
}

void ctlproto_lines_commit(ctlproto_lines *l, size_t n) {
  l->len += n;
}

int ctlproto_lines_next(ctlproto_lines *l, char **line, size_t *len) {
  if (l->buf == NULL)
    return 0;
  char *nl = l->scanned < l->len ? memchr(l->buf + l->scanned, '\n', l->len - l->scanned) : NULL;
  if (nl == NULL) {
    l->scanned = l->len;
    if (l->len - l->start >= CTLPROTO_LINE_MAX) {
      errno = EMSGSIZE;
      return -1;
    }
    return 0;
  }
  char *first = l->buf + l->start;
  size_t n = (size_t)(nl - first);
  if (n >= CTLPROTO_LINE_MAX) {
    errno = EMSGSIZE;
    return -1;
  }
  *nl = '\0';
  if (n > 0 && first[n - 1] == '\r')
    first[--n] = '\0';
  *line = first;
  *len = n;
  l->start = l->scanned = (size_t)(nl - l->buf) + 1;
  return 1;
}

size_t ctlproto_lines_pending(const ctlproto_lines *l) {
  return l->len - l->start;
}

void ctlproto_lines_free(ctlproto_lines *l) {
  free(l->buf);
  memset(l, 0, sizeof *l);
}

/* --- sockets ---------------------------------------------------------------------------------- */

ssize_t ctlproto_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds) {
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int) * CTLPROTO_MAX_FDS)];
    struct cmsghdr align;
  } cm;
  if (nfds > CTLPROTO_MAX_FDS) {
    errno = EINVAL;
    return -1;
  }
  if (nfds > 0) {
    memset(&cm, 0, sizeof cm);
    mh.msg_control = cm.buf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do
    n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

ssize_t ctlproto_recv(int sock, void *buf, size_t cap, int *fds, size_t *nfds, size_t max, bool *dropped) {
  struct iovec iov = {.iov_base = buf, .iov_len = cap};
  union {
    char buf[CMSG_SPACE(sizeof(int) * CTLPROTO_MAX_FDS * 2)];
    struct cmsghdr align;
  } cm;
  struct msghdr mh = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
  ssize_t n;
  do
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return n;
  if (mh.msg_flags & MSG_CTRUNC)
    *dropped = true;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int got[CTLPROTO_MAX_FDS * 2];
    if (k > sizeof got / sizeof got[0])
      k = sizeof got / sizeof got[0];
    memcpy(got, CMSG_DATA(c), k * sizeof(int));
    for (size_t i = 0; i < k; i++) {
      if (*nfds < max) {
        fds[(*nfds)++] = got[i];
      } else {
        close(got[i]);
        *dropped = true;
      }
    }
  }
  return n;
}

int ctlproto_socket_addr(const char *path, struct sockaddr_un *sa, int *dirfd, pv_err *err) {
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

int ctlproto_connect(const char *path, pv_err *err) {
  struct sockaddr_un sa;
  int dirfd;
  if (ctlproto_socket_addr(path, &sa, &dirfd, err) < 0)
    return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    pv_err_sys(err, "shim socket %s", path);
    if (dirfd >= 0)
      close(dirfd);
    return -1;
  }
  int rc;
  do
    rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
  while (rc < 0 && errno == EINTR);
  int e = errno;
  if (dirfd >= 0)
    close(dirfd);
  /* A unix socket connects at once or not at all: EAGAIN means the shim's
   * backlog is full (it does not accept). */
  if (rc < 0 && e != EINPROGRESS) {
    close(fd);
    errno = e;
    return pv_err_sys(err, "connect %s", path);
  }
  return fd;
}
