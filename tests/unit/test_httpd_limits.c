/* Unit tests for supervisor/daemon/httpd's limits and hostile input: 431,
 * 413, 503 at the connection cap, slow clients (408) while others are
 * served, idle connections, slow readers of a stream, malformed requests
 * (a Status each, and the server goes on), and random bytes. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

static void sleep_ms(int ms) {
  nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
}

/* Sends raw (len bytes, or strlen when 0), expects a Status with code and
 * reason, then the end of the connection. */
static void expect_status(hc *c, const char *raw, size_t len, int code, const char *reason) {
  ck_assert_int_eq(hc_sendn(c, raw, len ? len : strlen(raw)), 0);
  hc_resp r;
  ck_assert_msg(hc_recv(c, &r, false, T_MS) == 0, "no response to %.40s", raw);
  int got;
  const char *why = hc_status_reason(&r, &got);
  ck_assert_msg(r.status == code && got == code, "%.40s: status %d, Status code %d", raw, r.status, got);
  ck_assert_msg(why != NULL && strcmp(why, reason) == 0, "%.40s: reason %s", raw, why);
  ck_assert_str_eq(hc_header(&r, "Connection"), "close");
  hc_resp_free(&r);
  ck_assert_msg(hc_eof(c, T_MS), "%.40s: the connection stays open", raw);
}

static void expect_served(hfix *f, bool tcp) {
  hc *c = tcp ? hc_tcp(f->port) : hc_unix(f->sock);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(hc_send(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  hc_resp r;
  ck_assert_int_eq(hc_recv(c, &r, false, T_MS), 0);
  ck_assert_int_eq(r.status, 200);
  hc_resp_free(&r);
  hc_close(c);
}

static char *big_header(const char *start, size_t n) {
  size_t sl = strlen(start);
  char *s = malloc(sl + n + 8);
  memcpy(s, start, sl);
  memset(s + sl, 'a', n);
  strcpy(s + sl + n, "\r\n\r\n");
  return s;
}

static void client_431(hfix *f) {
  char *s = big_header("GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: ", 8000);
  hc *c = hc_unix(f->sock);
  expect_status(c, s, 0, 431, "RequestHeaderFieldsTooLarge");
  hc_close(c);
  free(s);
  /* A long URL counts too. */
  s = big_header("GET /echo?q=", 8000);
  c = hc_tcp(f->port);
  expect_status(c, s, 0, 431, "RequestHeaderFieldsTooLarge");
  hc_close(c);
  free(s);
  /* And many small headers. */
  char *many = malloc(20 * 1000 + 64);
  strcpy(many, "GET /echo HTTP/1.1\r\nHost: t\r\n");
  for (int i = 0; i < 1000; i++)
    strcat(many, "X-N: v\r\n");
  strcat(many, "\r\n");
  c = hc_unix(f->sock);
  expect_status(c, many, 0, 431, "RequestHeaderFieldsTooLarge");
  hc_close(c);
  free(many);
  /* Just under the limit is served. */
  s = big_header("GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: ", 3800);
  c = hc_unix(f->sock);
  ck_assert_int_eq(hc_send(c, s), 0);
  hc_resp r;
  ck_assert_int_eq(hc_recv(c, &r, false, T_MS), 0);
  ck_assert_int_eq(r.status, 200);
  hc_resp_free(&r);
  hc_close(c);
  free(s);
}

START_TEST(header_larger_than_the_limit_is_431) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.max_header_bytes = 4096}, client_431);
  hfix_run(&f);
}
END_TEST

/* Past http_parser's own 80 KiB cap, with a larger configured limit. */
static void client_431_parser(hfix *f) {
  char *s = big_header("GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: ", 100 * 1024);
  hc *c = hc_unix(f->sock);
  expect_status(c, s, 0, 431, "RequestHeaderFieldsTooLarge");
  hc_close(c);
  free(s);
  expect_served(f, false);
}

START_TEST(header_past_the_parser_cap_is_431) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.max_header_bytes = 1024 * 1024}, client_431_parser);
  hfix_run(&f);
}
END_TEST

static void client_413(hfix *f) {
  hc *c = hc_unix(f->sock);
  /* Refused on the header alone: the 10 MiB never need to be sent. */
  expect_status(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10485760\r\n\r\n", 0, 413,
                "RequestEntityTooLarge");
  hc_close(c);
  /* A chunked body that grows past the limit. */
  c = hc_tcp(f->port);
  ck_assert_int_eq(hc_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
  char chunk[512 + 16];
  int n = snprintf(chunk, sizeof chunk, "200\r\n");
  memset(chunk + n, 'b', 512);
  memcpy(chunk + n + 512, "\r\n", 2);
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(hc_sendn(c, chunk, (size_t)n + 514), 0);
  expect_status(c, chunk, (size_t)n + 514, 413, "RequestEntityTooLarge");
  hc_close(c);
  /* Expect: 100-continue within the limit gets the interim response. */
  c = hc_unix(f->sock);
  ck_assert_int_eq(
      hc_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"), 0);
  hc_resp r;
  ck_assert_int_eq(hc_recv(c, &r, false, T_MS), 0);
  ck_assert_int_eq(r.status, 100);
  hc_resp_free(&r);
  ck_assert_int_eq(hc_send(c, "body"), 0);
  ck_assert_int_eq(hc_recv(c, &r, false, T_MS), 0);
  ck_assert_int_eq(r.status, 200);
  hc_resp_free(&r);
  hc_close(c);
  /* curl sending a 10 MiB body reads the 413, not a reset. */
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/big", f->dir);
  FILE *fp = fopen(path, "w");
  ck_assert_ptr_nonnull(fp);
  static char block[64 * 1024];
  memset(block, 'c', sizeof block);
  for (int i = 0; i < 160; i++)
    ck_assert_int_eq(fwrite(block, 1, sizeof block, fp), sizeof block);
  fclose(fp);
  char data[PATH_MAX + 2];
  snprintf(data, sizeof data, "@%s", path);
  char *out = NULL;
  char *argv[] = {"curl",
                  "-sS",
                  "-o",
                  "/dev/null",
                  "-w",
                  "%{http_code}",
                  "--unix-socket",
                  f->sock,
                  "--data-binary",
                  data,
                  "http://localhost/echo",
                  NULL};
  ck_assert_int_eq(hc_run(argv, &out, T_MS), 0);
  ck_assert_str_eq(out, "413");
  free(out);
  expect_served(f, false);
}

START_TEST(body_larger_than_the_limit_is_413) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.max_body_bytes = 1024}, client_413);
  hfix_run(&f);
}
END_TEST

static void client_cap(hfix *f) {
  hc *a = hc_unix(f->sock), *b = hc_tcp(f->port);
  hc_resp r;
  for (hc *c = a; c != NULL; c = c == a ? b : NULL) {
    ck_assert_int_eq(hc_send(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    ck_assert_int_eq(hc_recv(c, &r, false, T_MS), 0);
    hc_resp_free(&r);
  }
  hc *c = hc_unix(f->sock);
  expect_status(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", 0, 503, "ServiceUnavailable");
  hc_close(c);
  c = hc_tcp(f->port);
  expect_status(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", 0, 503, "ServiceUnavailable");
  hc_close(c);
  /* Once one leaves, a new client is served. */
  hc_close(a);
  int status = 0;
  for (int tries = 0; tries < 100 && status != 200; tries++) {
    c = hc_unix(f->sock);
    ck_assert_int_eq(hc_send(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    ck_assert_int_eq(hc_recv(c, &r, false, T_MS), 0);
    status = r.status;
    hc_resp_free(&r);
    hc_close(c);
    if (status != 200)
      sleep_ms(20);
  }
  ck_assert_int_eq(status, 200);
  hc_close(b);
}

START_TEST(connections_over_the_cap_get_503) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.max_connections = 2}, client_cap);
  hfix_run(&f);
}
END_TEST

/* Trickles one byte every 50 ms until the server answers. */
static long long trickle_until_reply(hc *c, long long t0) {
  for (int i = 0; i < 200; i++) {
    if (hc_send(c, "a") < 0)
      break;
    sleep_ms(50);
    char peek;
    if (recv(hc_fd(c), &peek, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
      break;
  }
  return now_ms() - t0;
}

static void client_slowloris(hfix *f) {
  hc *slow_head = hc_tcp(f->port), *slow_body = hc_unix(f->sock);
  long long t0 = now_ms();
  ck_assert_int_eq(hc_send(slow_head, "GET /echo HTTP/1.1\r\nHost: t\r\nX-Slow: "), 0);
  ck_assert_int_eq(hc_send(slow_body, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"), 0);
  /* Others are served at once meanwhile. */
  long long t1 = now_ms();
  expect_served(f, true);
  expect_served(f, false);
  ck_assert_int_lt(now_ms() - t1, 200);
  long long waited = trickle_until_reply(slow_head, t0);
  ck_assert_int_ge(waited, 380);
  ck_assert_int_lt(waited, 2000);
  expect_status(slow_head, "", 0, 408, "RequestTimeout");
  expect_status(slow_body, "", 0, 408, "RequestTimeout");
  hc_close(slow_head);
  hc_close(slow_body);
  expect_served(f, true);
}

START_TEST(slow_client_gets_408_and_never_stalls_others) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.request_timeout_ms = 400}, client_slowloris);
  hfix_run(&f);
}
END_TEST

static void client_idle(hfix *f) {
  hc *c = hc_unix(f->sock);
  long long t0 = now_ms();
  char b;
  ck_assert(hc_eof(c, T_MS));
  ck_assert_int_ge(now_ms() - t0, 250);
  ck_assert_int_le(read(hc_fd(c), &b, 1), 0);
  hc_close(c);
  /* Also after a response on a kept-alive connection. */
  c = hc_tcp(f->port);
  ck_assert_int_eq(hc_send(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  hc_resp r;
  ck_assert_int_eq(hc_recv(c, &r, false, T_MS), 0);
  hc_resp_free(&r);
  t0 = now_ms();
  ck_assert(hc_eof(c, T_MS));
  ck_assert_int_ge(now_ms() - t0, 250);
  hc_close(c);
}

START_TEST(idle_connection_is_closed) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.idle_timeout_ms = 300}, client_idle);
  hfix_run(&f);
}
END_TEST

static void client_slow_reader(hfix *f) {
  hc *c = hc_unix(f->sock);
  ck_assert_int_eq(hc_send(c, "GET /stream?n=0&ms=1&size=65536 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
  /* It never reads: the server drops it and the handler learns it from its write. */
  ck_assert_int_eq(hfix_wait(&f->late_epipe, 1, T_MS), 1);
  ck_assert_int_eq(hfix_wait(&f->streams_ended, 1, T_MS), 1);
  hc_close(c);
  expect_served(f, false);
}

START_TEST(stream_reader_too_slow_is_dropped) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.max_write_queue = 256 * 1024}, client_slow_reader);
  hfix_run(&f);
  ck_assert_int_eq(f.gone, 0);
}
END_TEST

/* A reply that closes the connection while the client's input is still
 * unread: a plain close would make the kernel send a reset and drop what of
 * the reply is not sent yet.  A large reply to a client with a small
 * receive window, then junk after the request, make that state certain. */
static void client_unread_input(hfix *f) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int small = 4096;
  ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  hc *c = hc_adopt(fd);
  size_t n = 2 * 1024 * 1024;
  char *body = malloc(n);
  memset(body, 'a', n);
  char head[128];
  snprintf(head, sizeof head,
           "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n", n);
  ck_assert_int_eq(hc_send(c, head), 0);
  ck_assert_int_eq(hc_sendn(c, body, n), 0);
  memset(body, 'j', 256 * 1024);
  for (size_t sent = 0; sent < 256 * 1024;) {
    ssize_t k = send(fd, body + sent, 256 * 1024 - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k <= 0)
      break;
    sent += (size_t)k;
  }
  free(body);
  hc_resp r;
  ck_assert_msg(hc_recv(c, &r, false, T_MS) == 0, "the reply was cut");
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_gt(r.body_len, n);
  hc_resp_free(&r);
  hc_close(c);
}

START_TEST(closing_reply_is_not_cut_by_unread_input) {
  static hfix f;
  hfix_start(&f, NULL, client_unread_input);
  hfix_run(&f);
}
END_TEST

static const struct {
  const char *raw;
  size_t len;
  int code;
} malformed[] = {
#define BAD(s, code)                                                                                         \
  { s, sizeof s - 1, code }
    BAD("GARBAGE\r\n\r\n", 400),
    BAD("GET / HTTP/9.9\r\nHost: t\r\n\r\n", 505),
    BAD("GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    BAD("GET /a?x=%4 HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    BAD("GET /a%00b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    BAD("GET /\x01 HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    BAD("GET / HTTP/1.1\r\n\r\n", 400),
    BAD("GET / HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n", 400),
    BAD("GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n", 400),
    BAD("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", 400),
    BAD("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    BAD("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    BAD("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    BAD("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    BAD("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    BAD("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
#undef BAD
};

static void client_malformed(hfix *f) {
  for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
    hc *c = i % 2 ? hc_tcp(f->port) : hc_unix(f->sock);
    expect_status(c, malformed[i].raw, malformed[i].len, malformed[i].code,
                  malformed[i].code == 505 ? "HTTPVersionNotSupported" : "BadRequest");
    hc_close(c);
    expect_served(f, i % 2);
  }
  /* A request cut short by the client's half-close still gets its answer. */
  hc *c = hc_unix(f->sock);
  ck_assert_int_eq(hc_send(c, "GET /echo HTTP/1.1\r\nHost: t\r\n"), 0);
  shutdown(hc_fd(c), SHUT_WR);
  expect_status(c, "", 0, 400, "BadRequest");
  hc_close(c);
}

START_TEST(malformed_requests_get_400_and_the_server_goes_on) {
  static hfix f;
  hfix_start(&f, NULL, client_malformed);
  hfix_run(&f);
}
END_TEST

static const char *const tokens[] = {"GET ",
                                     "POST ",
                                     "HEAD ",
                                     "/echo",
                                     "?a=%41&b",
                                     " HTTP/1.1\r\n",
                                     " HTTP/1.0\r\n",
                                     "Host: t\r\n",
                                     "Content-Length: ",
                                     "7",
                                     "\r\n",
                                     "Transfer-Encoding: chunked\r\n",
                                     "0\r\n\r\n",
                                     "5\r\nhello\r\n",
                                     "Connection: keep-alive\r\n",
                                     "Expect: 100-continue\r\n",
                                     ":",
                                     " ",
                                     "%",
                                     "\n",
                                     "\xff"};

static size_t fuzz_input(unsigned *seed, char *buf, size_t cap) {
  static const char seed_req[] = "POST /echo?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
  size_t n = 0;
  switch (rand_r(seed) % 3) {
  case 0: /* random bytes */
    n = 1 + (size_t)rand_r(seed) % (cap - 1);
    for (size_t i = 0; i < n; i++)
      buf[i] = (char)rand_r(seed);
    break;
  case 1: /* a valid request, mutated */
    n = sizeof seed_req - 1;
    memcpy(buf, seed_req, n);
    for (int k = 1 + rand_r(seed) % 4; k > 0; k--)
      buf[(size_t)rand_r(seed) % n] = (char)rand_r(seed);
    break;
  default: /* HTTP-looking tokens in random order */
    for (int k = 1 + rand_r(seed) % 12; k > 0; k--) {
      const char *t = tokens[(size_t)rand_r(seed) % (sizeof tokens / sizeof *tokens)];
      size_t tl = strlen(t);
      if (n + tl > cap)
        break;
      memcpy(buf + n, t, tl);
      n += tl;
    }
  }
  return n;
}

static void client_fuzz(hfix *f) {
  unsigned seed = 20261123;
  char buf[512];
  for (int it = 0; it < 3000; it++) {
    size_t n = fuzz_input(&seed, buf, sizeof buf);
    hc *c = it % 2 ? hc_tcp(f->port) : hc_unix(f->sock);
    ck_assert_ptr_nonnull(c);
    (void)hc_sendn(c, buf, n);
    shutdown(hc_fd(c), SHUT_WR);
    /* Whatever it was, the server ends the exchange (answered or not). */
    ck_assert_msg(hc_eof(c, T_MS), "iteration %d: the server did not end the connection", it);
    hc_close(c);
  }
  expect_served(f, false);
  expect_served(f, true);
}

START_TEST(random_bytes_never_crash_the_server) {
  static hfix f;
  hfix_start(&f, &(httpd_limits){.max_body_bytes = 64}, client_fuzz);
  hfix_run(&f);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("httpd_limits");
  TCase *tc = tcase_create("limits");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, header_larger_than_the_limit_is_431);
  tcase_add_test(tc, header_past_the_parser_cap_is_431);
  tcase_add_test(tc, body_larger_than_the_limit_is_413);
  tcase_add_test(tc, closing_reply_is_not_cut_by_unread_input);
  tcase_add_test(tc, connections_over_the_cap_get_503);
  tcase_add_test(tc, slow_client_gets_408_and_never_stalls_others);
  tcase_add_test(tc, idle_connection_is_closed);
  tcase_add_test(tc, stream_reader_too_slow_is_dropped);
  tcase_add_test(tc, malformed_requests_get_400_and_the_server_goes_on);
  tcase_add_test(tc, random_bytes_never_crash_the_server);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
