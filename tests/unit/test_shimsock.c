/* Unit tests for supervisor/shim/shimsock.c, the control socket's
 * transport, on a real loop with raw client sockets: several requests per
 * connection in order, replies given later, watch streams (and the
 * coalescing of a status nobody read), descriptors both ways, oversized
 * lines, the connection cap, held connections, the final flush on close;
 * and supervisor/podctl/podctl_conn.c, the client, against it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "supervisor/podctl/podctl.h"
#include "supervisor/shim/shimsock.h"
#include "tests/testutil.h"

static uv_loop_t loop;
static shimsock ss;
static char *dir;
static char path[100];
static int requests, released, closed_calls;
static shimsock_conn *later; /* a request answered afterwards */
static shimsock_conn *held;  /* an exec-like held connection */
static int passed_fd = -1;   /* the fd a request brought */

static void reply_ok_fields(shimsock_conn *c, json_t *f, int fd) {
  size_t len;
  char *line = ctlproto_reply_ok(f, &len);
  shimsock_reply(c, line, len, fd);
}

static void on_request(void *ctx, shimsock_conn *c, char *line, size_t len, int *fds, size_t nfds) {
  (void)ctx;
  requests++;
  ctlproto_request req;
  ctlproto_error e;
  if (ctlproto_decode_request(line, len, &req, &e) < 0) {
    for (size_t i = 0; i < nfds; i++)
      close(fds[i]);
    size_t n;
    char *r = ctlproto_reply_error(e.reason, e.message, &n);
    shimsock_reply(c, r, n, -1);
    if (e.fatal)
      shimsock_end(c);
    return;
  }
  if (nfds > 0) {
    passed_fd = fds[0];
    for (size_t i = 1; i < nfds; i++)
      close(fds[i]);
  }
  switch (req.op) {
  case CTLPROTO_OP_STATUS: {
    char doc[64], *r;
    size_t n;
    snprintf(doc, sizeof doc, "{\"n\":%d}", requests);
    r = ctlproto_reply_status(doc, &n);
    shimsock_reply(c, r, n, -1);
    break;
  }
  case CTLPROTO_OP_WATCH: {
    size_t n;
    char *r = ctlproto_reply_status("{\"n\":0}", &n);
    shimsock_reply(c, r, n, -1);
    shimsock_watch(c);
    break;
  }
  case CTLPROTO_OP_RESTART:
    if (strcmp(req.container, "later") == 0)
      later = c; /* answered by the test */
    else
      reply_ok_fields(c, json_pack("{s:s}", "container", req.container), -1);
    break;
  case CTLPROTO_OP_EXEC: {
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    ck_assert_int_eq(write(p[1], "from the server", 15), 15);
    close(p[1]);
    reply_ok_fields(c, json_pack("{s:i}", "pid", 42), p[0]);
    ck_assert(shimsock_hold(c, &held));
    held = c;
    break;
  }
  default: reply_ok_fields(c, NULL, -1); break;
  }
  ctlproto_request_free(&req);
}

static void on_released(void *ctx, shimsock_conn *c, void *data) {
  (void)ctx;
  ck_assert_ptr_eq(c, held);
  ck_assert_ptr_eq(data, &held);
  held = NULL;
  released++;
}

static const shimsock_handler handler = {.request = on_request, .released = on_released};

static void on_closed(void *ctx) {
  (void)ctx;
  closed_calls++;
}

static void setup(void) {
  dir = testutil_tmpdir("pv-shimsock");
  snprintf(path, sizeof path, "%s/s.sock", dir);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  pv_err err;
  ck_assert_msg(shimsock_listen(&ss, &loop, path, &handler, NULL, &err) == 0, "%s", err.msg);
  requests = released = closed_calls = 0;
  later = held = NULL;
  passed_fd = -1;
}

static void teardown(void) {
  shimsock_close(&ss, on_closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed_calls, 1);
  ck_assert_int_ne(access(path, F_OK), 0); /* unlinked */
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  testutil_rmtree(dir);
  free(dir);
}

static int client(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

static void send_str(int fd, const char *s) {
  ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Runs the loop until fd has `lines` complete lines (or EOF); returns them. */
static char *read_lines(int fd, int lines, int *fd_got, bool *eof) {
  static char buf[1 << 16];
  size_t len = 0;
  int seen = 0;
  *eof = false;
  for (int i = 0; i < 500 && seen < lines && !*eof; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 10) != 1)
      continue;
    int fds[3];
    size_t nfds = 0;
    bool dropped = false;
    ssize_t n = ctlproto_recv(fd, buf + len, sizeof buf - 1 - len, fds, &nfds, 3, &dropped);
    if (n <= 0) {
      *eof = true;
      break;
    }
    if (nfds > 0 && fd_got != NULL)
      *fd_got = fds[0];
    len += (size_t)n;
    seen = 0;
    for (size_t k = 0; k < len; k++)
      seen += buf[k] == '\n';
  }
  buf[len] = '\0';
  return buf;
}

START_TEST(requests_in_order_on_one_connection) {
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  int fd = client();
  /* Three requests at once, the second answered only later: the third
   * waits for it, and the replies come in order. */
  send_str(fd, "{\"v\":1,\"op\":\"status\"}\n{\"v\":1,\"op\":\"restart\",\"container\":\"later\"}\n"
               "{\"v\":1,\"op\":\"restart\",\"container\":\"web\"}\n");
  bool eof;
  char *out = read_lines(fd, 1, NULL, &eof);
  for (int i = 0; i < 20; i++) /* the third must not overtake the second */
    uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_str_eq(out, "{\"v\":1,\"ok\":true,\"status\":{\"n\":1}}\n");
  ck_assert_int_eq(requests, 2);
  ck_assert_ptr_nonnull(later);
  reply_ok_fields(later, json_pack("{s:s}", "container", "later"), -1);
  out = read_lines(fd, 2, NULL, &eof);
  ck_assert_str_eq(
      out, "{\"v\":1,\"ok\":true,\"container\":\"later\"}\n{\"v\":1,\"ok\":true,\"container\":\"web\"}\n");
  ck_assert_int_eq(requests, 3);
  /* Errors are replies; the connection goes on after a non-fatal one and
   * ends after a malformed line. */
  send_str(fd, "{\"v\":1,\"op\":\"frobnicate\"}\n");
  out = read_lines(fd, 1, NULL, &eof);
  ck_assert_msg(strstr(out, "\"reason\":\"Unsupported\"") != NULL, "%s", out);
  send_str(fd, "not json\n{\"v\":1,\"op\":\"status\"}\n");
  out = read_lines(fd, 2, NULL, &eof);
  ck_assert_msg(strstr(out, "\"reason\":\"Invalid\"") != NULL, "%s", out);
  ck_assert_ptr_null(strstr(out, "status\":{"));
  ck_assert(eof);
  close(fd);
}
END_TEST

START_TEST(oversized_line_refused_and_closed) {
  int fd = client();
  size_t n = CTLPROTO_LINE_MAX + 4096;
  char *big = malloc(n);
  memset(big, 'x', n);
  (void)fcntl(fd, F_SETFL, O_NONBLOCK);
  size_t off = 0;
  bool eof = false;
  char *out = NULL;
  static char got[4096];
  size_t glen = 0;
  for (int i = 0; i < 2000 && !eof; i++) {
    if (off < n) {
      ssize_t w = send(fd, big + off, n - off, MSG_NOSIGNAL);
      if (w > 0)
        off += (size_t)w;
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    ssize_t r = recv(fd, got + glen, sizeof got - 1 - glen, 0);
    if (r == 0)
      eof = true;
    else if (r > 0)
      glen += (size_t)r;
    else
      usleep(1000);
  }
  got[glen] = '\0';
  out = got;
  ck_assert_msg(strstr(out, "longer than") != NULL, "%s", out);
  ck_assert(eof);
  ck_assert_int_eq(requests, 0);
  free(big);
  close(fd);
}
END_TEST

START_TEST(watch_stream_coalesces_and_ends_on_close) {
  int fd = client();
  send_str(fd, "{\"v\":1,\"op\":\"watch\"}\n");
  bool eof;
  char *out = read_lines(fd, 1, NULL, &eof);
  ck_assert_str_eq(out, "{\"v\":1,\"ok\":true,\"status\":{\"n\":0}}\n");
  ck_assert(shimsock_has_watchers(&ss));
  shimsock_publish(&ss, "{\"n\":1}");
  out = read_lines(fd, 1, NULL, &eof);
  ck_assert_str_eq(out, "{\"v\":1,\"event\":\"status\",\"status\":{\"n\":1}}\n");
  /* Requests on a watching connection are not served. */
  send_str(fd, "{\"v\":1,\"op\":\"status\"}\n");
  /* A watcher that does not read: its socket fills, and the newest status
   * replaces the one still queued instead of piling up. */
  char huge[8192];
  memset(huge, 'a', sizeof huge - 3);
  huge[0] = '"';
  huge[sizeof huge - 3] = '"';
  huge[sizeof huge - 2] = '\0';
  for (int i = 0; i < 400; i++) {
    char doc[sizeof huge + 32];
    snprintf(doc, sizeof doc, "{\"i\":%d,\"pad\":%s}", i, huge);
    shimsock_publish(&ss, doc);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  shimsock_publish(&ss, "{\"final\":true}");
  /* The shimsock closes: what is queued is flushed, then the stream ends. */
  shimsock_close(&ss, on_closed);
  static char all[1 << 22];
  size_t len = 0;
  for (int i = 0; i < 3000; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    ssize_t r = recv(fd, all + len, sizeof all - 1 - len, MSG_DONTWAIT);
    if (r == 0)
      break;
    if (r > 0)
      len += (size_t)r;
    else
      usleep(1000);
  }
  all[len] = '\0';
  int events = 0;
  for (char *p = all; (p = strstr(p, "\"event\":\"status\"")) != NULL; p++)
    events++;
  ck_assert_msg(events < 400, "no coalescing: %d events", events);
  ck_assert_msg(strstr(all, "{\"final\":true}}\n") != NULL, "the final status was lost");
  ck_assert_int_eq(requests, 1); /* the status request above was not served */
  close(fd);
}
END_TEST

START_TEST(descriptors_both_ways_and_held_connections) {
  int fd = client();
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const char *req = "{\"v\":1,\"op\":\"exec\",\"container\":\"c\",\"argv\":[\"x\"]}\n";
  ck_assert_int_eq(ctlproto_send(fd, req, strlen(req), &devnull, 1), (ssize_t)strlen(req));
  int got = -1;
  bool eof;
  char *out = read_lines(fd, 1, &got, &eof);
  ck_assert_str_eq(out, "{\"v\":1,\"ok\":true,\"pid\":42}\n");
  ck_assert_int_ge(passed_fd, 0);
  struct stat a, b;
  ck_assert_int_eq(fstat(passed_fd, &a), 0);
  ck_assert_int_eq(fstat(devnull, &b), 0);
  ck_assert(a.st_ino == b.st_ino);
  close(passed_fd);
  ck_assert_int_ge(got, 0);
  char buf[32] = "";
  ck_assert_int_eq(read(got, buf, sizeof buf), 15);
  ck_assert_str_eq(buf, "from the server");
  close(got);
  /* Held: an event goes out, and the op hears of the peer leaving. */
  ck_assert_ptr_nonnull(held);
  size_t n;
  char *ev = ctlproto_event_exit(3, &n);
  shimsock_send(held, ev, n);
  out = read_lines(fd, 1, NULL, &eof);
  ck_assert_str_eq(out, "{\"v\":1,\"event\":\"exit\",\"exitCode\":3}\n");
  close(fd);
  for (int i = 0; i < 100 && released == 0; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  ck_assert_int_eq(released, 1);
  close(devnull);
}
END_TEST

START_TEST(connection_cap) {
  int fds[SHIMSOCK_MAX_CONNS + 1];
  for (int i = 0; i <= SHIMSOCK_MAX_CONNS; i++) {
    fds[i] = client();
    for (int k = 0; k < 3; k++)
      uv_run(&loop, UV_RUN_NOWAIT);
  }
  bool eof;
  char *out = read_lines(fds[SHIMSOCK_MAX_CONNS], 1, NULL, &eof);
  ck_assert_msg(strstr(out, "too many connections") != NULL, "%s", out);
  send_str(fds[0], "{\"v\":1,\"op\":\"status\"}\n");
  out = read_lines(fds[0], 1, NULL, &eof);
  ck_assert_msg(strstr(out, "\"ok\":true") != NULL, "%s", out);
  for (int i = 0; i <= SHIMSOCK_MAX_CONNS; i++)
    close(fds[i]);
}
END_TEST

/* --- the client against it --------------------------------------------------------------- */

static int msgs, ends;
static int client_fd = -1;
static void on_msg(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)c;
  (void)ctx;
  if (m == NULL) {
    ck_assert_int_eq(err->code, 0); /* a stream the server ended */
    ends++;
    return;
  }
  msgs++;
  if (fd >= 0)
    client_fd = fd;
}

START_TEST(client_requests_and_streams) {
  podctl_conn *c;
  pv_err err;
  ck_assert_int_eq(podctl_conn_open(&loop, path, &c, &err), 0);
  ctlproto_request st = {.op = CTLPROTO_OP_STATUS, .grace_seconds = -1};
  static char *argv[] = {"x", NULL};
  ctlproto_request ex = {.op = CTLPROTO_OP_EXEC, .container = "c", .argv = argv, .grace_seconds = -1};
  int two[2] = {STDOUT_FILENO, STDERR_FILENO};
  ck_assert_int_eq(podctl_conn_request(c, &st, NULL, 0, on_msg, NULL, &err), 0);
  ck_assert_int_eq(podctl_conn_request(c, &ex, two, 2, on_msg, NULL, &err), 0);
  /* Nothing may follow a stream on the same connection. */
  ck_assert_int_eq(podctl_conn_request(c, &st, NULL, 0, on_msg, NULL, &err), -1);
  for (int i = 0; i < 200 && (msgs < 2 || held == NULL); i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  ck_assert_int_eq(msgs, 2);
  ck_assert_int_ge(client_fd, 0);
  close(client_fd);
  ck_assert_int_ge(passed_fd, 0);
  close(passed_fd);
  size_t n;
  char *ev = ctlproto_event_exit(0, &n);
  shimsock_send(held, ev, n);
  shimsock_end(held);
  held = NULL;
  for (int i = 0; i < 200 && ends == 0; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  ck_assert_int_eq(msgs, 3);
  ck_assert_int_eq(ends, 1);
  podctl_conn_close(c);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("shimsock");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, requests_in_order_on_one_connection);
  tcase_add_test(tc, oversized_line_refused_and_closed);
  tcase_add_test(tc, watch_stream_coalesces_and_ends_on_close);
  tcase_add_test(tc, descriptors_both_ways_and_held_connections);
  tcase_add_test(tc, connection_cap);
  tcase_add_test(tc, client_requests_and_streams);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
