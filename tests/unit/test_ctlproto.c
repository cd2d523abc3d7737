/* Unit tests for supervisor/proto/ctlproto.c: the control protocol's
 * requests, replies, events, error cases, line framing and fd passing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/proto/ctlproto.h"
#include "tests/testutil.h"

static ctlproto_request req;
static ctlproto_error perr;

static int decode(const char *line) {
  ctlproto_request_free(&req);
  return ctlproto_decode_request(line, strlen(line), &req, &perr);
}

/* The line is refused with reason r, fatal or not, and a message naming what. */
static void refused(const char *line, ctlproto_reason r, bool fatal, const char *what) {
  ck_assert_msg(decode(line) == -1, "accepted: %s", line);
  ck_assert_msg(perr.reason == r, "%s: reason %s", line, ctlproto_reason_name(perr.reason));
  ck_assert_msg(perr.fatal == fatal, "%s: fatal %d", line, perr.fatal);
  ck_assert_msg(strstr(perr.message, what) != NULL, "%s: message '%s' lacks '%s'", line, perr.message, what);
  ck_assert_ptr_null(req.doc);
}

START_TEST(requests_decode) {
  ck_assert_int_eq(decode("{\"v\":1,\"op\":\"status\"}\n"), 0);
  ck_assert_int_eq(req.op, CTLPROTO_OP_STATUS);
  ck_assert_int_eq(decode("{\"v\":1,\"op\":\"watch\"}"), 0);
  ck_assert_int_eq(req.op, CTLPROTO_OP_WATCH);
  ck_assert_int_eq(decode("{\"v\":1,\"op\":\"stop\"}"), 0);
  ck_assert_int_eq(req.op, CTLPROTO_OP_STOP);
  ck_assert_int_eq(req.grace_seconds, -1);
  ck_assert_int_eq(decode("{\"v\":1,\"op\":\"stop\",\"gracePeriodSeconds\":0}"), 0);
  ck_assert_int_eq(req.grace_seconds, 0);
  ck_assert_int_eq(decode("{\"v\":1,\"op\":\"restart\",\"container\":\"web\"}"), 0);
  ck_assert_int_eq(req.op, CTLPROTO_OP_RESTART);
  ck_assert_str_eq(req.container, "web");
  ck_assert_int_eq(decode("{\"v\":1,\"op\":\"update\",\"container\":\"web\",\"spec\":{\"name\":\"web\"}}"),
                   0);
  ck_assert_int_eq(req.op, CTLPROTO_OP_UPDATE);
  ck_assert_str_eq(json_string_value(json_object_get(req.spec, "name")), "web");
  ck_assert_int_eq(
      decode("{\"v\":1,\"op\":\"exec\",\"container\":\"web\",\"argv\":[\"sh\",\"-c\",\"\"],\"tty\":true}"),
      0);
  ck_assert_int_eq(req.op, CTLPROTO_OP_EXEC);
  ck_assert_int_eq(req.argc, 3);
  ck_assert_str_eq(req.argv[0], "sh");
  ck_assert_str_eq(req.argv[2], "");
  ck_assert_ptr_null(req.argv[3]);
  ck_assert(req.tty);
  ck_assert(!req.has_stdin);
  ck_assert_int_eq(req.rows, 0);
  ck_assert_int_eq(decode("{\"v\":1,\"op\":\"exec\",\"container\":\"web\",\"argv\":[\"sh\"],\"tty\":true,"
                          "\"rows\":31,\"cols\":97}"),
                   0);
  ck_assert_int_eq(req.rows, 31);
  ck_assert_int_eq(req.cols, 97);
  ctlproto_request_free(&req);
}
END_TEST

START_TEST(requests_refused) {
  refused("{\"op\":\"status\"}", CTLPROTO_INVALID, false, "v: missing");
  refused("{\"v\":2,\"op\":\"status\"}", CTLPROTO_UNSUPPORTED, false, "version");
  refused("{\"v\":\"1\",\"op\":\"status\"}", CTLPROTO_UNSUPPORTED, false, "version");
  refused("{\"v\":1}", CTLPROTO_INVALID, false, "op: missing");
  refused("{\"v\":1,\"op\":\"frobnicate\"}", CTLPROTO_UNSUPPORTED, false, "frobnicate");
  refused("{\"v\":1,\"op\":7}", CTLPROTO_INVALID, false, "op");
  refused("status", CTLPROTO_INVALID, true, "malformed");
  refused("{\"v\":1,\"op\":\"status\"", CTLPROTO_INVALID, true, "malformed");
  refused("[1,2]", CTLPROTO_INVALID, true, "not a JSON object");
  refused("{\"v\":1,\"op\":\"status\",\"op\":\"stop\"}", CTLPROTO_INVALID, true, "malformed");
  refused("{\"v\":1,\"op\":\"restart\"}", CTLPROTO_INVALID, false, "container: missing");
  refused("{\"v\":1,\"op\":\"restart\",\"container\":\"\"}", CTLPROTO_INVALID, false, "container");
  refused("{\"v\":1,\"op\":\"restart\",\"container\":3}", CTLPROTO_INVALID, false, "container");
  /* Jansson refuses an escaped NUL: malformed, not a string with a hole. */
  refused("{\"v\":1,\"op\":\"restart\",\"container\":\"a\\u0000b\"}", CTLPROTO_INVALID, true, "malformed");
  refused("{\"v\":1,\"op\":\"stop\",\"gracePeriodSeconds\":-1}", CTLPROTO_INVALID, false,
          "gracePeriodSeconds");
  refused("{\"v\":1,\"op\":\"stop\",\"gracePeriodSeconds\":\"5\"}", CTLPROTO_INVALID, false,
          "gracePeriodSeconds");
  refused("{\"v\":1,\"op\":\"update\",\"container\":\"web\"}", CTLPROTO_INVALID, false, "spec: missing");
  refused("{\"v\":1,\"op\":\"update\",\"container\":\"web\",\"spec\":[]}", CTLPROTO_INVALID, false, "spec");
  refused("{\"v\":1,\"op\":\"exec\",\"container\":\"web\"}", CTLPROTO_INVALID, false, "argv");
  refused("{\"v\":1,\"op\":\"exec\",\"container\":\"web\",\"argv\":[]}", CTLPROTO_INVALID, false, "argv");
  refused("{\"v\":1,\"op\":\"exec\",\"container\":\"web\",\"argv\":[\"\"]}", CTLPROTO_INVALID, false,
          "argv[0]");
  refused("{\"v\":1,\"op\":\"exec\",\"container\":\"web\",\"argv\":[\"sh\",1]}", CTLPROTO_INVALID, false,
          "argv[1]");
  refused("{\"v\":1,\"op\":\"exec\",\"container\":\"web\",\"argv\":[\"sh\"],\"tty\":1}", CTLPROTO_INVALID,
          false, "tty");
  refused("{\"v\":1,\"op\":\"exec\",\"container\":\"web\",\"argv\":[\"sh\"],\"rows\":0}", CTLPROTO_INVALID,
          false, "rows");
  refused("{\"v\":1,\"op\":\"exec\",\"container\":\"web\",\"argv\":[\"sh\"],\"cols\":70000}",
          CTLPROTO_INVALID, false, "cols");
  /* Oversized: refused before it is parsed. */
  size_t big = CTLPROTO_LINE_MAX + 10;
  char *line = malloc(big + 1);
  memset(line, ' ', big);
  memcpy(line, "{\"v\":1,\"op\":\"status\"}", 21);
  line[big] = '\0';
  ck_assert_int_eq(ctlproto_decode_request(line, big, &req, &perr), -1);
  ck_assert(perr.fatal);
  ck_assert_msg(strstr(perr.message, "longer than") != NULL, "%s", perr.message);
  free(line);
}
END_TEST

START_TEST(requests_encode_round_trip) {
  static char *argv[] = {"ls", "-l", NULL};
  json_t *spec = json_pack("{s:s}", "name", "web");
  ctlproto_request in[] = {
      {.op = CTLPROTO_OP_STATUS, .grace_seconds = -1},
      {.op = CTLPROTO_OP_STOP, .grace_seconds = 7},
      {.op = CTLPROTO_OP_RESTART, .container = "web", .grace_seconds = -1},
      {.op = CTLPROTO_OP_UPDATE, .container = "web", .spec = spec, .grace_seconds = -1},
      {.op = CTLPROTO_OP_WATCH, .grace_seconds = -1},
      {.op = CTLPROTO_OP_EXEC, .container = "web", .argv = argv, .has_stdin = true, .grace_seconds = -1},
      {.op = CTLPROTO_OP_EXEC,
       .container = "web",
       .argv = argv,
       .tty = true,
       .rows = 24,
       .cols = 80,
       .grace_seconds = -1},
  };
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    size_t len;
    pv_err err;
    char *line = ctlproto_encode_request(&in[i], &len, &err);
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(line[len - 1], '\n');
    ck_assert_ptr_null(memchr(line, '\n', len - 1));
    ck_assert_msg(ctlproto_decode_request(line, len, &req, &perr) == 0, "%s: %s", line, perr.message);
    ck_assert_int_eq(req.op, in[i].op);
    ck_assert_int_eq(req.grace_seconds, in[i].grace_seconds);
    if (in[i].container != NULL)
      ck_assert_str_eq(req.container, in[i].container);
    if (in[i].op == CTLPROTO_OP_EXEC) {
      ck_assert_int_eq(req.argc, 2);
      ck_assert_str_eq(req.argv[1], "-l");
      ck_assert(req.has_stdin == in[i].has_stdin && req.tty == in[i].tty);
      ck_assert(req.rows == in[i].rows && req.cols == in[i].cols);
    }
    if (in[i].op == CTLPROTO_OP_UPDATE)
      ck_assert(json_equal((json_t *)req.spec, spec));
    ctlproto_request_free(&req);
    free(line);
  }
  /* A request missing what its op needs is not encoded. */
  pv_err err;
  ctlproto_request bad = {.op = CTLPROTO_OP_RESTART};
  ck_assert_ptr_null(ctlproto_encode_request(&bad, NULL, &err));
  ck_assert_int_eq(err.code, EINVAL);
  json_decref(spec);
}
END_TEST

START_TEST(replies_and_events) {
  size_t len;
  pv_err err;
  ctlproto_msg m;
  char *s = ctlproto_reply_ok(json_pack("{s:i}", "pid", 42), &len);
  ck_assert_int_eq(ctlproto_decode_msg(s, len, &m, &err), 0);
  ck_assert(m.ok && m.event == NULL && m.pid == 42 && m.restarted == -1);
  ctlproto_msg_free(&m);
  free(s);
  s = ctlproto_reply_ok(json_pack("{s:b}", "restarted", 0), &len);
  ck_assert_int_eq(ctlproto_decode_msg(s, len, &m, &err), 0);
  ck_assert_int_eq(m.restarted, 0);
  ctlproto_msg_free(&m);
  free(s);
  s = ctlproto_reply_error(CTLPROTO_SHUTTING_DOWN, "pod web is stopping", &len);
  ck_assert_str_eq(s, "{\"v\":1,\"ok\":false,\"error\":{\"reason\":\"ShuttingDown\",\"message\":\"pod web is "
                      "stopping\"}}\n");
  ck_assert_int_eq(ctlproto_decode_msg(s, len, &m, &err), 0);
  ck_assert(!m.ok && m.reason == CTLPROTO_SHUTTING_DOWN);
  ck_assert_str_eq(m.message, "pod web is stopping");
  ctlproto_msg_free(&m);
  free(s);
  s = ctlproto_reply_status("{\"phase\":\"Running\"}", &len);
  ck_assert_int_eq(ctlproto_decode_msg(s, len, &m, &err), 0);
  ck_assert(m.ok);
  ck_assert_str_eq(json_string_value(json_object_get(m.status, "phase")), "Running");
  ctlproto_msg_free(&m);
  free(s);
  s = ctlproto_event_status("{\"phase\":\"Succeeded\"}", &len);
  ck_assert_str_eq(s, "{\"v\":1,\"event\":\"status\",\"status\":{\"phase\":\"Succeeded\"}}\n");
  ck_assert_int_eq(ctlproto_decode_msg(s, len, &m, &err), 0);
  ck_assert_str_eq(m.event, "status");
  ck_assert_str_eq(json_string_value(json_object_get(m.status, "phase")), "Succeeded");
  ctlproto_msg_free(&m);
  free(s);
  s = ctlproto_event_exit(3, &len);
  ck_assert_int_eq(ctlproto_decode_msg(s, len, &m, &err), 0);
  ck_assert_str_eq(m.event, "exit");
  ck_assert_int_eq(m.exit_code, 3);
  ctlproto_msg_free(&m);
  free(s);
  /* What a client refuses: other versions, shapes that are neither. */
  const char *bad[] = {"{\"v\":2,\"ok\":true}",
                       "{\"ok\":true}",
                       "nonsense",
                       "{\"v\":1}",
                       "{\"v\":1,\"ok\":false}",
                       "{\"v\":1,\"ok\":false,\"error\":{\"reason\":\"Nope\",\"message\":\"x\"}}",
                       "{\"v\":1,\"event\":\"exit\"}",
                       "{\"v\":1,\"event\":\"status\"}",
                       "{\"v\":1,\"ok\":true,\"status\":3}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(ctlproto_decode_msg(bad[i], strlen(bad[i]), &m, &err) == -1, "accepted %s", bad[i]);
    ck_assert_int_eq(err.code, EPROTO);
    ck_assert_ptr_null(m.doc);
  }
}
END_TEST

static void feed(ctlproto_lines *l, const char *s) {
  size_t n = strlen(s), avail;
  char *p = ctlproto_lines_space(l, n, &avail);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_ge(avail, n);
  memcpy(p, s, n);
  ctlproto_lines_commit(l, n);
}

START_TEST(lines_framing) {
  ctlproto_lines l = {0};
  char *line;
  size_t len;
  ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), 0);
  feed(&l, "{\"a\":1}\n{\"b\"");
  ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), 1);
  ck_assert_str_eq(line, "{\"a\":1}");
  ck_assert_int_eq(len, 7);
  ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), 0);
  ck_assert_int_eq(ctlproto_lines_pending(&l), 4);
  feed(&l, ":2}\r\n\n");
  ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), 1);
  ck_assert_str_eq(line, "{\"b\":2}");
  ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), 1);
  ck_assert_str_eq(line, "");
  ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), 0);
  ck_assert_int_eq(ctlproto_lines_pending(&l), 0);
  /* A line that reaches the limit without a newline is an error, and no
   * more room is given. */
  size_t total = 0, avail;
  while (total < CTLPROTO_LINE_MAX) {
    char *p = ctlproto_lines_space(&l, 65536, &avail);
    ck_assert_ptr_nonnull(p);
    memset(p, 'x', avail);
    ctlproto_lines_commit(&l, avail);
    total += avail;
    if (total < CTLPROTO_LINE_MAX)
      ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), 0);
  }
  ck_assert_int_eq(total, CTLPROTO_LINE_MAX);
  ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), -1);
  ck_assert_int_eq(errno, EMSGSIZE);
  ck_assert_ptr_null(ctlproto_lines_space(&l, 1, &avail));
  ck_assert_int_eq(errno, EMSGSIZE);
  ctlproto_lines_free(&l);
  /* The longest line allowed: LINE_MAX - 1 bytes and its newline. */
  for (size_t n = 0; n < CTLPROTO_LINE_MAX - 1; n += avail) {
    char *p = ctlproto_lines_space(&l, CTLPROTO_LINE_MAX, &avail);
    if (avail > CTLPROTO_LINE_MAX - 1 - n)
      avail = CTLPROTO_LINE_MAX - 1 - n;
    memset(p, 'y', avail);
    ctlproto_lines_commit(&l, avail);
  }
  feed(&l, "\n");
  ck_assert_int_eq(ctlproto_lines_next(&l, &line, &len), 1);
  ck_assert_int_eq(len, CTLPROTO_LINE_MAX - 1);
  ctlproto_lines_free(&l);
}
END_TEST

START_TEST(fds_travel_with_the_line) {
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int fds[2] = {devnull, STDERR_FILENO};
  ck_assert_int_eq(ctlproto_send(sv[0], "hello\n", 6, fds, 2), 6);
  char buf[64];
  int got[CTLPROTO_MAX_FDS];
  size_t n = 0;
  bool dropped = false;
  ck_assert_int_eq(ctlproto_recv(sv[1], buf, sizeof buf, got, &n, CTLPROTO_MAX_FDS, &dropped), 6);
  ck_assert_int_eq(n, 2);
  ck_assert(!dropped);
  struct stat a, b;
  ck_assert_int_eq(fstat(got[0], &a), 0);
  ck_assert_int_eq(fstat(devnull, &b), 0);
  ck_assert(a.st_rdev == b.st_rdev && a.st_ino == b.st_ino);
  ck_assert_int_eq(fcntl(got[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  close(got[0]);
  close(got[1]);
  /* More than the receiver takes: the extra ones are closed, and said. */
  int three[3] = {devnull, devnull, devnull};
  ck_assert_int_eq(ctlproto_send(sv[0], "x", 1, three, 3), 1);
  n = 0;
  ck_assert_int_eq(ctlproto_recv(sv[1], buf, sizeof buf, got, &n, 1, &dropped), 1);
  ck_assert_int_eq(n, 1);
  ck_assert(dropped);
  close(got[0]);
  close(devnull);
  close(sv[0]);
  close(sv[1]);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("ctlproto");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, requests_decode);
  tcase_add_test(tc, requests_refused);
  tcase_add_test(tc, requests_encode_round_trip);
  tcase_add_test(tc, replies_and_events);
  tcase_add_test(tc, lines_framing);
  tcase_add_test(tc, fds_travel_with_the_line);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
