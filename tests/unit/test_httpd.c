/* Unit tests for supervisor/daemon/httpd: a real server on a temp unix
 * socket and on 127.0.0.1 in the test's loop, driven from a client thread
 * by raw sockets and by curl.  Requests and their parts, keep-alive and
 * pipelining, async replies, streams, bearer auth, HEAD, Status errors and
 * the shutdown.  Limits and hostile input: test_httpd_limits.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/testutil.h"
#include "tests/unit/httpd_fixture.h"

#define T_MS 5000

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* One request, one response; the JSON body parsed when it is JSON. */
static json_t *roundtrip(hc *c, const char *request, hc_resp *r) {
  ck_assert_int_eq(hc_send(c, request), 0);
  ck_assert_int_eq(hc_recv(c, r, strncmp(request, "HEAD ", 5) == 0, T_MS), 0);
  return r->body != NULL ? json_loads(r->body, 0, NULL) : NULL;
}

static const char *jstr(json_t *j, const char *key) {
  return json_string_value(json_object_get(j, key));
}

static void assert_pair(json_t *query, size_t i, const char *k, const char *v) {
  json_t *p = json_array_get(query, i);
  ck_assert_str_eq(json_string_value(json_array_get(p, 0)), k);
  ck_assert_str_eq(json_string_value(json_array_get(p, 1)), v);
}

static void get_and_post(hc *c) {
  hc_resp r;
  json_t *j = roundtrip(c,
                        "GET /echo/a%20b//c%2Fd/?x=1&y=hello%20world&z=a+b&flag&x=2 HTTP/1.1\r\n"
                        "Host: t\r\nx-TeSt:  spaced value  \r\n\r\n",
                        &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(hc_header(&r, "content-type"), "application/json");
  ck_assert_str_eq(hc_header(&r, "X-Served-By"), "podvisor-test");
  ck_assert_ptr_nonnull(hc_header(&r, "Date"));
  ck_assert_str_eq(jstr(j, "method"), "GET");
  ck_assert_str_eq(jstr(j, "path"), "/echo/a b//c/d/");
  json_t *segs = json_object_get(j, "segs");
  ck_assert_int_eq(json_array_size(segs), 3);
  ck_assert_str_eq(json_string_value(json_array_get(segs, 1)), "a b");
  ck_assert_str_eq(json_string_value(json_array_get(segs, 2)), "c/d");
  json_t *q = json_object_get(j, "query");
  ck_assert_int_eq(json_array_size(q), 5);
  assert_pair(q, 0, "x", "1");
  assert_pair(q, 1, "y", "hello world");
  assert_pair(q, 2, "z", "a b");
  assert_pair(q, 3, "flag", "");
  assert_pair(q, 4, "x", "2");
  ck_assert_str_eq(jstr(j, "x_test"), "spaced value");
  json_decref(j);
  hc_resp_free(&r);
  j = roundtrip(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(jstr(j, "method"), "POST");
  ck_assert_str_eq(jstr(j, "body"), "hello world");
  json_decref(j);
  hc_resp_free(&r);
}

static void client_get_post(hfix *f) {
  hc *u = hc_unix(f->sock), *t = hc_tcp(f->port);
  ck_assert_ptr_nonnull(u);
  ck_assert_ptr_nonnull(t);
  get_and_post(u);
  get_and_post(t);
  hc_close(u);
  hc_close(t);
}

START_TEST(requests_parts_over_unix_and_tcp) {
  static hfix f;
  hfix_start(&f, NULL, client_get_post);
  hfix_run(&f);
}
END_TEST

static void client_chunked(hfix *f) {
  hc *c = hc_unix(f->sock);
  hc_resp r;
  json_t *j = roundtrip(c,
                        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
                        &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(jstr(j, "body"), "hello world");
  json_decref(j);
  hc_resp_free(&r);
  /* The connection goes on after a chunked body with trailers. */
  j = roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(jstr(j, "body"), "");
  json_decref(j);
  hc_resp_free(&r);
  hc_close(c);
}

START_TEST(chunked_request_body) {
  static hfix f;
  hfix_start(&f, NULL, client_chunked);
  hfix_run(&f);
}
END_TEST

static void client_pipelining(hfix *f) {
  hc *c = hc_unix(f->sock);
  /* Two requests in one write: two answers, in order. */
  ck_assert_int_eq(hc_send(c, "GET /echo?n=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                              "POST /echo?n=2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"),
                   0);
  for (int i = 1; i <= 2; i++) {
    hc_resp r;
    ck_assert_int_eq(hc_recv(c, &r, false, T_MS), 0);
    json_t *j = json_loads(r.body, 0, NULL);
    json_t *q = json_object_get(j, "query");
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(q, 0), 1)), i == 1 ? "1" : "2");
    ck_assert_str_eq(jstr(j, "body"), i == 1 ? "" : "abc");
    ck_assert_ptr_null(hc_header(&r, "Connection"));
    json_decref(j);
    hc_resp_free(&r);
  }
  /* Keep-alive: a third on the same connection. */
  hc_resp r;
  json_decref(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r));
  ck_assert_int_eq(r.status, 200);
  hc_resp_free(&r);
  /* Connection: close is honoured. */
  json_decref(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r));
  ck_assert_str_eq(hc_header(&r, "Connection"), "close");
  hc_resp_free(&r);
  ck_assert(hc_eof(c, T_MS));
  hc_close(c);
}

START_TEST(keep_alive_and_pipelining) {
  static hfix f;
  hfix_start(&f, NULL, client_pipelining);
  hfix_run(&f);
  ck_assert_int_eq(f.requests, 4);
}
END_TEST

static void client_http10(hfix *f) {
  hc *c = hc_unix(f->sock);
  hc_resp r;
  json_t *j = roundtrip(c, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "minor")), 0);
  ck_assert_str_eq(hc_header(&r, "Connection"), "keep-alive");
  json_decref(j);
  hc_resp_free(&r);
  json_decref(roundtrip(c, "GET /echo HTTP/1.0\r\n\r\n", &r));
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(hc_header(&r, "Connection"), "close");
  hc_resp_free(&r);
  ck_assert(hc_eof(c, T_MS));
  hc_close(c);
  /* A stream to an HTTP/1.0 client: no chunks, it ends with the connection. */
  c = hc_unix(f->sock);
  json_decref(roundtrip(c, "GET /stream?n=2&ms=10 HTTP/1.0\r\n\r\n", &r));
  ck_assert_ptr_null(hc_header(&r, "Transfer-Encoding"));
  ck_assert_str_eq(r.body, "tick 0\ntick 1\n");
  hc_resp_free(&r);
  hc_close(c);
}

START_TEST(http10_keep_alive_and_close) {
  static hfix f;
  hfix_start(&f, NULL, client_http10);
  hfix_run(&f);
}
END_TEST

static void client_async(hfix *f) {
  hc *slow = hc_unix(f->sock), *fast = hc_unix(f->sock);
  long long t0 = now_ms();
  ck_assert_int_eq(hc_send(slow, "GET /async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  /* While it waits, the loop serves others at once. */
  hc_resp r;
  json_decref(roundtrip(fast, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r));
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_lt(now_ms() - t0, 250);
  hc_resp_free(&r);
  ck_assert_int_eq(hc_recv(slow, &r, false, T_MS), 0);
  ck_assert_int_ge(now_ms() - t0, 290);
  ck_assert_str_eq(r.body, "late\n");
  hc_resp_free(&r);
  hc_close(slow);
  hc_close(fast);
}

START_TEST(async_reply_after_a_timer) {
  static hfix f;
  hfix_start(&f, NULL, client_async);
  hfix_run(&f);
  ck_assert_int_eq(f.gone, 0);
  ck_assert_int_eq(f.late_epipe, 0);
}
END_TEST

static void reset_close(hc *c) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(hc_fd(c), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  hc_close(c);
}

static void client_async_reset(hfix *f) {
  hc *c = hc_tcp(f->port);
  ck_assert_int_eq(hc_send(c, "GET /async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  ck_assert_int_eq(hfix_wait(&f->requests, 1, T_MS), 1);
  reset_close(c);
  /* The handler is told, answers late all the same, and nothing breaks. */
  ck_assert_int_eq(hfix_wait(&f->gone, 1, T_MS), 1);
  ck_assert_int_eq(hfix_wait(&f->late_epipe, 1, T_MS), 1);
  c = hc_tcp(f->port);
  hc_resp r;
  json_decref(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r));
  ck_assert_int_eq(r.status, 200);
  hc_resp_free(&r);
  hc_close(c);
}

START_TEST(late_reply_after_the_client_left) {
  static hfix f;
  hfix_start(&f, NULL, client_async_reset);
  hfix_run(&f);
  ck_assert_int_eq(f.gone, 1);
}
END_TEST

static void client_curl_stream(hfix *f) {
  char url[] = "http://localhost/stream?n=4&ms=200";
  char *argv[] = {"curl", "-sS", "--no-buffer", "--unix-socket", f->sock, url, NULL};
  /* Read curl's output as it comes: the first line long before the end. */
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    dup2(p[1], 1);
    execvp("curl", argv);
    _exit(127);
  }
  close(p[1]);
  char out[256] = "";
  size_t len = 0;
  long long t0 = now_ms(), first = 0;
  ssize_t n;
  while ((n = read(p[0], out + len, sizeof out - 1 - len)) > 0) {
    len += (size_t)n;
    out[len] = '\0';
    if (first == 0 && strstr(out, "tick 0\n") != NULL)
      first = now_ms();
  }
  long long end = now_ms();
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  ck_assert_str_eq(out, "tick 0\ntick 1\ntick 2\ntick 3\n");
  ck_assert_int_gt(first, 0);
  ck_assert_int_lt(first - t0, 400);
  ck_assert_int_ge(end - first, 450);
}

START_TEST(stream_read_incrementally_by_curl) {
  static hfix f;
  hfix_start(&f, NULL, client_curl_stream);
  hfix_run(&f);
  ck_assert_int_eq(f.streams_ended, 1);
  ck_assert_int_eq(f.gone, 0);
}
END_TEST

static void client_leaves_stream(hfix *f) {
  hc *c = hc_tcp(f->port);
  ck_assert_int_eq(hc_send(c, "GET /stream?n=0&ms=20 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  ck_assert_int_eq(hc_raw_until(c, "tick 2\n", T_MS), 0);
  hc_close(c);
  ck_assert_int_eq(hfix_wait(&f->gone, 1, T_MS), 1);
  ck_assert_int_eq(hfix_wait(&f->streams_ended, 1, T_MS), 1);
}

START_TEST(client_leaving_mid_stream_is_told) {
  static hfix f;
  hfix_start(&f, NULL, client_leaves_stream);
  hfix_run(&f);
  ck_assert_int_eq(f.gone, 1);
  ck_assert_int_eq(f.late_epipe, 0);
}
END_TEST

static void expect_mutate(hc *c, const char *auth, int status, const char *reason) {
  char req[256];
  snprintf(req, sizeof req, "POST /mutate HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n%s\r\n", auth);
  hc_resp r;
  json_decref(roundtrip(c, req, &r));
  ck_assert_msg(r.status == status, "%s: status %d", auth, r.status);
  int code;
  const char *got = hc_status_reason(&r, &code);
  if (reason != NULL) {
    ck_assert_str_eq(got, reason);
    ck_assert_int_eq(code, status);
  }
  hc_resp_free(&r);
}

static void expect_auth(hc *c, const char *auth, const char *want) {
  char req[256];
  snprintf(req, sizeof req, "GET /echo HTTP/1.1\r\nHost: t\r\n%s\r\n", auth);
  hc_resp r;
  json_t *j = roundtrip(c, req, &r);
  ck_assert_msg(strcmp(jstr(j, "auth"), want) == 0, "%s: auth %s", auth, jstr(j, "auth"));
  json_decref(j);
  hc_resp_free(&r);
}

static void client_auth(hfix *f) {
  hc *t = hc_tcp(f->port), *u = hc_unix(f->sock);
  expect_mutate(t, "", 403, "Forbidden");
  expect_mutate(t, "Authorization: Bearer wrong\r\n", 403, "Forbidden");
  expect_mutate(t, "Authorization: Bearer s3cre\r\n", 403, "Forbidden");
  expect_mutate(t, "Authorization: Basic czNjcmV0\r\n", 403, "Forbidden");
  expect_mutate(t, "Authorization: Bearer s3cret\r\n", 200, NULL);
  expect_mutate(u, "", 200, NULL);
  expect_auth(t, "", "none");
  expect_auth(t, "Authorization: Bearer nope\r\n", "invalid");
  expect_auth(t, "authorization: bearer   s3cret \r\n", "token");
  expect_auth(u, "Authorization: Bearer nope\r\n", "trusted");
  hc_close(t);
  hc_close(u);
}

START_TEST(bearer_auth_on_the_untrusted_listener) {
  static hfix f;
  hfix_start(&f, NULL, client_auth);
  hfix_run(&f);
}
END_TEST

static void client_head(hfix *f) {
  hc *c = hc_unix(f->sock);
  hc_resp get, head;
  json_decref(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &get));
  /* HEAD answers GET's headers, and no body: the next response on the
   * connection parses right after them. */
  ck_assert_int_eq(hc_send(c, "HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n"
                              "GET /status?code=409 HTTP/1.1\r\nHost: t\r\n\r\n"),
                   0);
  ck_assert_int_eq(hc_recv(c, &head, true, T_MS), 0);
  ck_assert_int_eq(head.status, 200);
  ck_assert_int_gt(atoi(hc_header(&get, "Content-Length")), 100);
  /* The bodies differ in "method":"GET"/"HEAD" and "head":false/true only. */
  ck_assert_str_eq(hc_header(&head, "Content-Length"), hc_header(&get, "Content-Length"));
  ck_assert_ptr_null(head.body);
  hc_resp next;
  ck_assert_int_eq(hc_recv(c, &next, false, T_MS), 0);
  ck_assert_int_eq(next.status, 409);
  hc_resp_free(&get);
  hc_resp_free(&head);
  hc_resp_free(&next);
  /* A stream answers HEAD with its headers only. */
  ck_assert_int_eq(hc_send(c, "HEAD /stream?n=0 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  ck_assert_int_eq(hc_recv(c, &head, true, T_MS), 0);
  ck_assert_int_eq(head.status, 200);
  hc_resp_free(&head);
  json_decref(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &get));
  ck_assert_int_eq(get.status, 200);
  hc_resp_free(&get);
  hc_close(c);
  char *out = NULL;
  char *argv[] = {"curl", "-sS", "-I", "--unix-socket", f->sock, "http://localhost/echo", NULL};
  ck_assert_int_eq(hc_run(argv, &out, T_MS), 0);
  ck_assert_ptr_nonnull(strstr(out, "HTTP/1.1 200 OK\r\n"));
  free(out);
}

START_TEST(head_is_get_without_a_body) {
  static hfix f;
  hfix_start(&f, NULL, client_head);
  hfix_run(&f);
  ck_assert_int_eq(f.streams_ended, 1);
}
END_TEST

static void client_status(hfix *f) {
  hc *c = hc_unix(f->sock);
  hc_resp r;
  json_decref(roundtrip(c, "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n", &r));
  ck_assert_int_eq(r.status, 404);
  ck_assert_str_eq(r.body,
                   "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                   "\"message\":\"no route for /nothing\",\"reason\":\"NotFound\",\"code\":404}\n");
  hc_resp_free(&r);
  static const struct {
    int code;
    const char *reason;
  } want[] = {{400, "BadRequest"},
              {403, "Forbidden"},
              {405, "MethodNotAllowed"},
              {409, "Conflict"},
              {413, "RequestEntityTooLarge"},
              {422, "Invalid"},
              {429, "TooManyRequests"},
              {500, "InternalError"},
              {503, "ServiceUnavailable"}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    char req[96];
    snprintf(req, sizeof req, "GET /status?code=%d HTTP/1.1\r\nHost: t\r\n\r\n", want[i].code);
    json_decref(roundtrip(c, req, &r));
    int code;
    ck_assert_int_eq(r.status, want[i].code);
    ck_assert_str_eq(hc_status_reason(&r, &code), want[i].reason);
    ck_assert_int_eq(code, want[i].code);
    hc_resp_free(&r);
  }
  hc_close(c);
  /* curl through the unix socket sees the same. */
  char *out = NULL;
  char *argv[] = {"curl", "-sS", "--unix-socket", f->sock, "http://localhost/nothing", NULL};
  ck_assert_int_eq(hc_run(argv, &out, T_MS), 0);
  ck_assert_ptr_nonnull(strstr(out, "\"reason\":\"NotFound\""));
  free(out);
}

START_TEST(errors_are_kubernetes_status_objects) {
  static hfix f;
  hfix_start(&f, NULL, client_status);
  hfix_run(&f);
}
END_TEST

static void client_shutdown(hfix *f) {
  hc *idle = hc_unix(f->sock), *strm = hc_tcp(f->port), *pending = hc_unix(f->sock);
  hc_resp r;
  json_decref(roundtrip(idle, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r));
  hc_resp_free(&r);
  ck_assert_int_eq(hc_send(strm, "GET /stream?n=0&ms=20 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  ck_assert_int_eq(hc_send(pending, "GET /async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  ck_assert_int_eq(hfix_wait(&f->requests, 3, T_MS), 3);
  long long t0 = now_ms();
  hfix_close_server(f);
  /* The stream ends as a complete chunked body, then the connection. */
  ck_assert_int_eq(hc_recv(strm, &r, false, T_MS), 0);
  ck_assert_int_ge(r.chunks, 1);
  ck_assert_int_eq(strncmp(r.body, "tick 0\n", 7), 0);
  hc_resp_free(&r);
  ck_assert(hc_eof(strm, T_MS));
  /* An idle connection is closed without a word. */
  ck_assert(hc_eof(idle, T_MS));
  ck_assert_int_lt(now_ms() - t0, 250);
  /* A request being handled is answered first. */
  ck_assert_int_eq(hc_recv(pending, &r, false, T_MS), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "late\n");
  ck_assert_str_eq(hc_header(&r, "Connection"), "close");
  hc_resp_free(&r);
  ck_assert(hc_eof(pending, T_MS));
  /* Nobody listens any more. */
  ck_assert_int_ne(access(f->sock, F_OK), 0);
  ck_assert_ptr_null(hc_tcp(f->port));
  ck_assert_int_eq(hfix_wait(&f->closed_calls, 1, T_MS), 1);
  hc_close(idle);
  hc_close(strm);
  hc_close(pending);
}

START_TEST(close_with_open_connections_and_streams) {
  static hfix f;
  hfix_start(&f, NULL, client_shutdown);
  hfix_run(&f);
  ck_assert_int_eq(f.gone, 1);
  ck_assert_int_eq(f.streams_ended, 1);
}
END_TEST

static void client_drain(hfix *f) {
  hc *c = hc_unix(f->sock);
  ck_assert_int_eq(hc_send(c, "GET /async?ms=1500 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  ck_assert_int_eq(hfix_wait(&f->requests, 1, T_MS), 1);
  long long t0 = now_ms();
  hfix_close_server(f);
  /* The drain time runs out: closed without a reply, the handler told. */
  ck_assert(hc_eof(c, T_MS));
  ck_assert_int_lt(now_ms() - t0, 1000);
  ck_assert_int_eq(hfix_wait(&f->gone, 1, T_MS), 1);
  /* The server is not freed under the handler, which still holds req. */
  ck_assert_int_eq(hfix_get(&f->closed_calls), 0);
  ck_assert_int_eq(hfix_wait(&f->late_epipe, 1, T_MS), 1);
  ck_assert_int_eq(hfix_wait(&f->closed_calls, 1, T_MS), 1);
  hc_close(c);
}

START_TEST(close_waits_for_handlers_past_the_drain_time) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.drain_timeout_ms = 200}, client_drain);
  hfix_run(&f);
}
END_TEST

static void client_close_from_handler(hfix *f) {
  hc *c = hc_unix(f->sock);
  hc_resp r;
  json_decref(roundtrip(c, "GET /close HTTP/1.1\r\nHost: t\r\n\r\n", &r));
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(hc_header(&r, "Connection"), "close");
  hc_resp_free(&r);
  ck_assert(hc_eof(c, T_MS));
  ck_assert_int_eq(hfix_wait(&f->closed_calls, 1, T_MS), 1);
  hc_close(c);
}

START_TEST(close_called_from_a_handler) {
  static hfix f;
  hfix_start(&f, NULL, client_close_from_handler);
  hfix_run(&f);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("httpd");
  TCase *tc = tcase_create("requests");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, requests_parts_over_unix_and_tcp);
  tcase_add_test(tc, chunked_request_body);
  tcase_add_test(tc, keep_alive_and_pipelining);
  tcase_add_test(tc, http10_keep_alive_and_close);
  tcase_add_test(tc, async_reply_after_a_timer);
  tcase_add_test(tc, late_reply_after_the_client_left);
  tcase_add_test(tc, stream_read_incrementally_by_curl);
  tcase_add_test(tc, client_leaving_mid_stream_is_told);
  tcase_add_test(tc, bearer_auth_on_the_untrusted_listener);
  tcase_add_test(tc, head_is_get_without_a_body);
  tcase_add_test(tc, errors_are_kubernetes_status_objects);
  suite_add_tcase(s, tc);
  tc = tcase_create("shutdown");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, close_with_open_connections_and_streams);
  tcase_add_test(tc, close_waits_for_handlers_past_the_drain_time);
  tcase_add_test(tc, close_called_from_a_handler);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
