/* httpd_client.c - the blocking client of the HTTP suites (see
 * httpd_fixture.h): responses are parsed with http_parser too, in its
 * response mode, which knows chunks, Content-Length and HEAD. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/httpd_fixture.h"

extern char **environ;

struct hc {
  int fd;
  http_parser p;
  hc_resp *r;
  bool head, done, last_was_value;
  size_t off, len;
  char buf[65536];
};

hc *hc_adopt(int fd) {
  if (fd < 0)
    return NULL;
  hc *c = calloc(1, sizeof *c);
  c->fd = fd;
  http_parser_init(&c->p, HTTP_RESPONSE);
  c->p.data = c;
  return c;
}

hc *hc_unix(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    fd = -1;
  }
  return hc_adopt(fd);
}

hc *hc_tcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    fd = -1;
  }
  return hc_adopt(fd);
}

int hc_fd(const hc *c) {
  return c->fd;
}

void hc_close(hc *c) {
  if (c == NULL)
    return;
  close(c->fd);
  free(c);
}

int hc_sendn(hc *c, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int hc_send(hc *c, const char *s) {
  return hc_sendn(c, s, strlen(s));
}

static char *append(char *old, const char *at, size_t len) {
  size_t n = old != NULL ? strlen(old) : 0;
  char *p = realloc(old, n + len + 1);
  memcpy(p + n, at, len);
  p[n + len] = '\0';
  return p;
}

static int on_field(http_parser *p, const char *at, size_t len) {
  hc *c = p->data;
  hc_resp *r = c->r;
  if (c->last_was_value || r->nhdr == 0) {
    if (r->nhdr == 64)
      return -1;
    r->nhdr++;
  }
  c->last_was_value = false;
  r->name[r->nhdr - 1] = append(r->name[r->nhdr - 1], at, len);
  return 0;
}

static int on_value(http_parser *p, const char *at, size_t len) {
  hc *c = p->data;
  c->last_was_value = true;
  c->r->value[c->r->nhdr - 1] = append(c->r->value[c->r->nhdr - 1], at, len);
  return 0;
}

static int on_headers(http_parser *p) {
  hc *c = p->data;
  c->r->status = p->status_code;
  return c->head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  hc *c = p->data;
  hc_resp *r = c->r;
  r->body = realloc(r->body, r->body_len + len + 1);
  memcpy(r->body + r->body_len, at, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return 0;
}

static int on_chunk(http_parser *p) {
  hc *c = p->data;
  if (p->content_length > 0)
    c->r->chunks++;
  return 0;
}

static int on_complete(http_parser *p) {
  hc *c = p->data;
  c->done = true;
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings rsettings = {.on_header_field = on_field,
                                               .on_header_value = on_value,
                                               .on_headers_complete = on_headers,
                                               .on_body = on_body,
                                               .on_chunk_header = on_chunk,
                                               .on_message_complete = on_complete};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads more into the buffer: >0 bytes, 0 EOF, -1 error or timeout. */
static ssize_t fill(hc *c, long long deadline) {
  if (c->off == c->len)
    c->off = c->len = 0;
  if (c->len == sizeof c->buf)
    return -1;
  for (;;) {
    long long left = deadline - now_ms();
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    int r = poll(&pf, 1, left > 0 ? (int)left : 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == ECONNRESET)
      return 0;
    if (n > 0)
      c->len += (size_t)n;
    return n;
  }
}

int hc_recv(hc *c, hc_resp *r, bool head, int timeout_ms) {
  memset(r, 0, sizeof *r);
  c->r = r;
  c->head = head;
  c->done = c->last_was_value = false;
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    if (c->off < c->len) {
      size_t n = http_parser_execute(&c->p, &rsettings, c->buf + c->off, c->len - c->off);
      c->off += n;
      if (c->done) {
        http_parser_pause(&c->p, 0);
        return 0;
      }
      if (HTTP_PARSER_ERRNO(&c->p) != HPE_OK)
        return -1;
    }
    ssize_t n = fill(c, deadline);
    if (n == 0) {
      http_parser_execute(&c->p, &rsettings, NULL, 0); /* a body that ends with the connection */
      return c->done ? 0 : -1;
    }
    if (n < 0)
      return -1;
  }
}

bool hc_eof(hc *c, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    c->off = c->len = 0;
    ssize_t n = fill(c, deadline);
    if (n == 0)
      return true;
    if (n < 0)
      return false;
  }
}

int hc_raw_until(hc *c, const char *needle, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    if (memmem(c->buf + c->off, c->len - c->off, needle, strlen(needle)) != NULL) {
      c->off = c->len; /* consumed */
      return 0;
    }
    if (fill(c, deadline) <= 0)
      return -1;
  }
}

const char *hc_header(const hc_resp *r, const char *name) {
  for (int i = 0; i < r->nhdr; i++)
    if (r->name[i] != NULL && strcasecmp(r->name[i], name) == 0)
      return r->value[i] != NULL ? r->value[i] : "";
  return NULL;
}

void hc_resp_free(hc_resp *r) {
  for (int i = 0; i < r->nhdr; i++) {
    free(r->name[i]);
    free(r->value[i]);
  }
  free(r->body);
  memset(r, 0, sizeof *r);
}

const char *hc_status_reason(const hc_resp *r, int *code) {
  static __thread char reason[64];
  *code = 0;
  json_t *j = r->body != NULL ? json_loads(r->body, 0, NULL) : NULL;
  const char *kind = json_string_value(json_object_get(j, "kind"));
  if (kind == NULL || strcmp(kind, "Status") != 0) {
    json_decref(j);
    return NULL;
  }
  *code = (int)json_integer_value(json_object_get(j, "code"));
  const char *s = json_string_value(json_object_get(j, "reason"));
  snprintf(reason, sizeof reason, "%s", s != NULL ? s : "");
  json_decref(j);
  return reason;
}

int hc_run(char *const argv[], char **out, int timeout_ms) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if (rc != 0) {
    close(p[0]);
    return -1;
  }
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - now_ms();
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    if (len + 1024 > cap)
      buf = realloc(buf, cap *= 2);
    ssize_t n = read(p[0], buf + len, cap - len - 1);
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(p[0]);
  buf[len] = '\0';
  *out = buf;
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
