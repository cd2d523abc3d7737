/* Unit tests for the client of the daemon's exec socket (supervisor/cli/
 * execclient.h) against a fake daemon on the other end of a socketpair (a
 * forked child): the request line and the descriptors that go with it
 * (stdout and stderr; stdin first with -i; none with a terminal), the
 * replies (the exit code, a refusal, a pty master whose output reaches the
 * local side), and the ways the exchange can go wrong. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/cli/execclient.h"
#include "supervisor/proto/ctlproto.h"
#include "tests/testutil.h"

/* --- the fake daemon (in the child: no Check asserts, an exit code) ------- */

typedef struct request {
  json_t *j;
  int fds[8];
  size_t nfds;
} request;

static int read_request(int sock, request *r) {
  char buf[65536];
  size_t len = 0;
  r->nfds = 0;
  while (len == 0 || buf[len - 1] != '\n') {
    bool dropped = false;
    ssize_t n = ctlproto_recv(sock, buf + len, sizeof buf - len - 1, r->fds, &r->nfds, 8, &dropped);
    if (n <= 0)
      return -1;
    len += (size_t)n;
  }
  r->j = json_loadb(buf, len, 0, NULL);
  return r->j != NULL ? 0 : -1;
}

static void say(int sock, const char *line, int fd) {
  (void)ctlproto_send(sock, line, strlen(line), fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
}

static const char *jstr(const json_t *j, const char *k) {
  const char *s = json_string_value(json_object_get(j, k));
  return s != NULL ? s : "";
}

enum script { PLAIN, WITH_STDIN, REFUSED, TTY, TTY_INPUT, TTY_WITHOUT_MASTER, HANGUP };

/* Returns 0 when the request was the one expected, else the number of the
 * check that failed. */
static int serve(int sock, enum script sc) {
  request r;
  if (read_request(sock, &r) < 0)
    return 90;
  const json_t *j = r.j;
  if (strcmp(jstr(j, "op"), "exec") != 0 || json_integer_value(json_object_get(j, "v")) != 1)
    return 91;
  if (strcmp(jstr(j, "namespace"), "team") != 0 || strcmp(jstr(j, "pod"), "web") != 0 ||
      strcmp(jstr(j, "container"), "app") != 0)
    return 92;
  const json_t *argv = json_object_get(j, "argv");
  if (json_array_size(argv) != 3 || strcmp(json_string_value(json_array_get(argv, 2)), "echo $X") != 0)
    return 93;
  bool tty = json_is_true(json_object_get(j, "tty")), in = json_is_true(json_object_get(j, "stdin"));
  switch (sc) {
  case PLAIN:
  case HANGUP:
    if (tty || in || r.nfds != 2)
      return 10;
    if (write(r.fds[0], "hello\n", 6) != 6 || write(r.fds[1], "oops\n", 5) != 5)
      return 11;
    say(sock, "{\"v\":1,\"ok\":true,\"pid\":99}\n", -1);
    if (sc == PLAIN)
      say(sock, "{\"v\":1,\"event\":\"exit\",\"exitCode\":3}\n", -1);
    return 0;
  case WITH_STDIN: {
    if (tty || !in || r.nfds != 3)
      return 20;
    char got[64] = "";
    ssize_t n = read(r.fds[0], got, sizeof got - 1);
    if (n != 6 || strcmp(got, "input\n") != 0)
      return 21;
    if (write(r.fds[1], got, (size_t)n) != n)
      return 22;
    say(sock, "{\"v\":1,\"ok\":true,\"pid\":7}\n{\"v\":1,\"event\":\"exit\",\"exitCode\":0}\n", -1);
    return 0;
  }
  case REFUSED:
    say(sock,
        "{\"v\":1,\"ok\":false,\"error\":{\"reason\":\"NotFound\",\"message\":\"pod team/web not found\"}}\n",
        -1);
    return 0;
  case TTY:
  case TTY_INPUT:
  case TTY_WITHOUT_MASTER: {
    if (!tty || in || r.nfds != 0) /* stdin comes through the terminal, never as a descriptor */
      return 30;
    if (json_integer_value(json_object_get(j, "rows")) != 24 ||
        json_integer_value(json_object_get(j, "cols")) != 80)
      return 31;
    if (sc == TTY_WITHOUT_MASTER) {
      say(sock, "{\"v\":1,\"ok\":true,\"pid\":5}\n", -1);
      return 0;
    }
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
      return 32;
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    if (slave < 0)
      return 33;
    say(sock, "{\"v\":1,\"ok\":true,\"pid\":5}\n", master);
    close(master);
    if (sc == TTY_INPUT) {
      char got[64] = "";
      ssize_t n = read(slave, got, sizeof got - 1); /* a line, the terminal being canonical */
      if (n <= 0 || strncmp(got, "typed", 5) != 0)
        return 35;
    }
    if (write(slave, "on the terminal\n", 16) != 16)
      return 34;
    say(sock, "{\"v\":1,\"event\":\"exit\",\"exitCode\":0}\n", -1);
    usleep(100000);
    close(slave);
    return 0;
  }
  }
  return 99;
}

/* --- the client, in the test process --------------------------------------- */

typedef struct run {
  execclient_result res;
  int rc;
  pv_err err;
  char out[256], errtext[256];
} run;

static void drain(int fd, char *buf, size_t len) {
  size_t n = 0;
  ssize_t r;
  while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
    n += (size_t)r;
  buf[n] = '\0';
  close(fd);
}

static run exec_against(enum script sc, bool tty, bool in, int in_fd) {
  int sv[2], out[2], err[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
  ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(sv[0]);
    close(out[0]);
    close(err[0]);
    _exit(serve(sv[1], sc));
  }
  close(sv[1]);
  char *argv[] = {"sh", "-c", "echo $X", NULL};
  execclient_req rq = {.ns = "team", .pod = "web", .container = "app", .argv = argv, .tty = tty, .in = in};
  if (tty)
    rq.rows = 24, rq.cols = 80;
  execclient_io io = {in_fd, out[1], err[1]};
  run x;
  pv_err_clear(&x.err);
  x.rc = execclient_run(sv[0], &rq, &io, &x.res, &x.err);
  close(out[1]);
  close(err[1]);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the fake daemon's check %d failed",
                WEXITSTATUS(status));
  drain(out[0], x.out, sizeof x.out);
  drain(err[0], x.errtext, sizeof x.errtext);
  return x;
}

START_TEST(stdout_stderr_and_the_exit_code) {
  run x = exec_against(PLAIN, false, false, -1);
  ck_assert_int_eq(x.rc, 0);
  ck_assert_int_eq(x.res.exit_code, 3);
  ck_assert_int_eq(x.res.pid, 99);
  ck_assert(!x.res.refused);
  ck_assert_str_eq(x.out, "hello\n"); /* CMD wrote on our stdout and stderr themselves */
  ck_assert_str_eq(x.errtext, "oops\n");
}
END_TEST

START_TEST(stdin_goes_first_with_in) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  ck_assert_int_eq(write(p[1], "input\n", 6), 6);
  close(p[1]);
  run x = exec_against(WITH_STDIN, false, true, p[0]);
  close(p[0]);
  ck_assert_int_eq(x.rc, 0);
  ck_assert_int_eq(x.res.exit_code, 0);
  ck_assert_str_eq(x.out, "input\n");
}
END_TEST

START_TEST(a_refusal_is_a_result) {
  run x = exec_against(REFUSED, false, false, -1);
  ck_assert_int_eq(x.rc, 0);
  ck_assert(x.res.refused);
  ck_assert_str_eq(x.res.reason, "NotFound");
  ck_assert_str_eq(x.res.message, "pod team/web not found");
  ck_assert_int_eq(x.res.exit_code, -1);
}
END_TEST

START_TEST(a_terminal_reaches_the_local_side) {
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC); /* no terminal here: no raw mode */
  run x = exec_against(TTY, true, false, devnull);
  close(devnull);
  ck_assert_int_eq(x.rc, 0);
  ck_assert_int_eq(x.res.exit_code, 0);
  ck_assert_msg(strstr(x.out, "on the terminal") != NULL, "out: '%s'", x.out);
}
END_TEST

START_TEST(stdin_goes_through_the_terminal) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  ck_assert_int_eq(write(p[1], "typed\n", 6), 6);
  close(p[1]);
  run x = exec_against(TTY_INPUT, true, true, p[0]);
  close(p[0]);
  ck_assert_int_eq(x.rc, 0);
  ck_assert_msg(strstr(x.out, "typed") != NULL, "the terminal's echo: '%s'", x.out);
  ck_assert_msg(strstr(x.out, "on the terminal") != NULL, "out: '%s'", x.out);
}
END_TEST

START_TEST(a_terminal_without_its_master_fails) {
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  run x = exec_against(TTY_WITHOUT_MASTER, true, false, devnull);
  close(devnull);
  ck_assert_int_eq(x.rc, -1);
  ck_assert_int_eq(x.err.code, EPROTO);
}
END_TEST

START_TEST(a_hangup_before_the_exit_fails) {
  run x = exec_against(HANGUP, false, false, -1);
  ck_assert_int_eq(x.rc, -1);
  ck_assert_int_eq(x.err.code, ECONNRESET);
  ck_assert_str_eq(x.out, "hello\n");
}
END_TEST

/* The line: the shim's exec op, the pod's address beside it; "stdin" only
 * when stdin is passed as a descriptor (not with a terminal). */
START_TEST(request_line_is_the_shim_exec_op_and_the_pod) {
  char *argv[] = {"ls", NULL};
  execclient_req rq = {.ns = "default",
                       .pod = "web",
                       .container = "app",
                       .argv = argv,
                       .tty = true,
                       .in = true,
                       .rows = 31,
                       .cols = 97};
  size_t len;
  char *line = execclient_line(&rq, &len, NULL);
  ck_assert_ptr_nonnull(line);
  ck_assert_uint_eq(len, strlen(line));
  ck_assert_int_eq(line[len - 1], '\n');
  json_t *j = json_loadb(line, len, 0, NULL);
  json_t *want =
      json_pack("{s:i, s:s, s:s, s:[s], s:b, s:i, s:i, s:s, s:s}", "v", 1, "op", "exec", "container", "app",
                "argv", "ls", "tty", 1, "rows", 31, "cols", 97, "namespace", "default", "pod", "web");
  ck_assert_msg(json_equal(j, want), "line %s", line);
  json_decref(j);
  json_decref(want);
  free(line);
  rq.tty = false;
  line = execclient_line(&rq, &len, NULL);
  j = json_loadb(line, len, 0, NULL);
  ck_assert(json_is_true(json_object_get(j, "stdin")));
  ck_assert_ptr_null(json_object_get(j, "rows"));
  json_decref(j);
  free(line);
}
END_TEST

START_TEST(connect_names_a_missing_socket) {
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(execclient_connect("/nonexistent/exec.sock", &err), -1);
  ck_assert_int_eq(err.code, ENOENT);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cli_exec");
  TCase *tc = tcase_create("cli_exec");
  tcase_add_test(tc, stdout_stderr_and_the_exit_code);
  tcase_add_test(tc, stdin_goes_first_with_in);
  tcase_add_test(tc, a_refusal_is_a_result);
  tcase_add_test(tc, a_terminal_reaches_the_local_side);
  tcase_add_test(tc, stdin_goes_through_the_terminal);
  tcase_add_test(tc, a_terminal_without_its_master_fails);
  tcase_add_test(tc, a_hangup_before_the_exit_fails);
  tcase_add_test(tc, request_line_is_the_shim_exec_op_and_the_pod);
  tcase_add_test(tc, connect_names_a_missing_socket);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
