/* Unit tests for the CLI's HTTP transport (supervisor/cli/apiclient.h):
 * a daemon that is not running (no socket, a socket nobody listens on)
 * told apart from other failures; a request with its headers and body; a
 * watch stream cut into events whatever the chunks; a refused stream kept
 * whole for its Status.  The server is a forked child that serves one
 * scripted reply on a unix socket and checks the request it got. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/cli/apiclient.h"
#include "tests/testutil.h"

typedef struct served {
  char *dir;
  pid_t pid;
} served;

/* The child: one connection; the request must hold every string of want;
 * then the reply, piece by piece (the pieces arrive as separate reads). */
static int serve(int ls, const char *const *want, const char *const *pieces) {
  int c = accept(ls, NULL, NULL);
  if (c < 0)
    return 90;
  char req[65536];
  size_t n = 0;
  char *end = NULL;
  while (end == NULL && n < sizeof req - 1) {
    ssize_t r = read(c, req + n, sizeof req - 1 - n);
    if (r <= 0)
      return 91;
    n += (size_t)r;
    req[n] = '\0';
    end = strstr(req, "\r\n\r\n");
  }
  const char *cl = strcasestr(req, "Content-Length: ");
  size_t body = cl != NULL ? strtoul(cl + 16, NULL, 10) : 0;
  while (end != NULL && n < (size_t)(end + 4 - req) + body) {
    ssize_t r = read(c, req + n, sizeof req - 1 - n);
    if (r <= 0)
      return 92;
    n += (size_t)r;
    req[n] = '\0';
  }
  for (int i = 0; want[i] != NULL; i++)
    if (strstr(req, want[i]) == NULL) {
      fprintf(stderr, "request lacks '%s':\n%s\n", want[i], req);
      return 10 + i;
    }
  signal(SIGPIPE, SIG_IGN); /* a client that stops reading early */
  for (int i = 0; pieces[i] != NULL; i++) {
    if (write(c, pieces[i], strlen(pieces[i])) < 0)
      return errno == EPIPE || errno == ECONNRESET ? 0 : 93;
    usleep(20000);
  }
  close(c);
  return 0;
}

static served start(const char *const *want, const char *const *pieces) {
  served s = {.dir = testutil_tmpdir("pv-apiclient")};
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", s.dir, API_SOCKET_NAME);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(ls, 0);
  ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(listen(ls, 4), 0);
  s.pid = fork();
  ck_assert_int_ge(s.pid, 0);
  if (s.pid == 0)
    _exit(serve(ls, want, pieces));
  close(ls);
  return s;
}

static void finish(served *s) {
  int status;
  ck_assert_int_eq(waitpid(s->pid, &status, 0), s->pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server's check %d failed",
                WEXITSTATUS(status));
  testutil_rmtree(s->dir);
  free(s->dir);
}

START_TEST(no_socket_is_a_daemon_not_running) {
  char *dir = testutil_tmpdir("pv-apiclient");
  api_client c;
  ck_assert_int_eq(api_client_init(&c, dir, NULL), 0);
  api_request rq = {.path = "/version"};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(api_call(&c, &rq, &rep, &err), -1);
  ck_assert_int_eq(err.code, ENOENT);
  ck_assert(api_daemon_down(&err));
  ck_assert(c.down);
  ck_assert_ptr_null(c.curl); /* no library loaded for that */
  /* A socket left by a daemon that died: nobody listens. */
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", c.sock_path);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
  close(s);
  pv_err_clear(&err);
  ck_assert_int_eq(api_call(&c, &rq, &rep, &err), -1);
  ck_assert_int_eq(err.code, ECONNREFUSED);
  ck_assert(api_daemon_down(&err));
  ck_assert(c.down);
  /* Something else in its place is no daemon that is down. */
  unlink(c.sock_path);
  close(open(c.sock_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  pv_err_clear(&err);
  ck_assert_int_eq(api_call(&c, &rq, &rep, &err), -1);
  ck_assert_int_eq(err.code, ENOTSOCK);
  ck_assert(!api_daemon_down(&err));
  ck_assert(!c.down);
  api_client_free(&c);
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

START_TEST(a_request_with_its_headers_and_body) {
  const char *want[] = {"POST /apis/podvisor.io/v1/apply?dryRun=All HTTP/1.1\r\n",
                        "Accept: application/json\r\n",
                        "Content-Type: application/yaml\r\n",
                        "Content-Length: 10\r\n",
                        "\r\n\r\nkind: Pod\n",
                        NULL};
  const char *pieces[] = {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n",
                          "{\"kind\":\"ApplyResult\",", "\"x\":1}", NULL};
  served s = start(want, pieces);
  api_client c;
  ck_assert_int_eq(api_client_init(&c, s.dir, NULL), 0);
  api_request rq = {.method = "POST",
                    .path = "/apis/podvisor.io/v1/apply?dryRun=All",
                    .content_type = "application/yaml",
                    .body = "kind: Pod\n",
                    .body_len = 10};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(api_call(&c, &rq, &rep, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(rep.code, 200);
  ck_assert(api_reply_ok(&rep));
  ck_assert_str_eq(rep.body, "{\"kind\":\"ApplyResult\",\"x\":1}");
  ck_assert_str_eq(rep.content_type, "application/json");
  api_reply_free(&rep);
  api_client_free(&c);
  finish(&s);
}
END_TEST

typedef struct seen {
  char text[512];
  int stop_after;
} seen;

static int on_event(const char *type, json_t *obj, void *ctx) {
  seen *x = ctx;
  size_t n = strlen(x->text);
  snprintf(x->text + n, sizeof x->text - n, "%s=%lld ", type,
           (long long)json_integer_value(json_object_get(obj, "a")));
  return --x->stop_after == 0 ? -1 : 0;
}

/* The chunks cut a line in two and hold two lines in one; the last line
 * lacks its newline. */
static const char *const watch_pieces[] = {
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    "19\r\n{\"type\":\"ADDED\",\"object\":\r\n",
    "44\r\n{\"a\":1}}\n{\"type\":\"DELETED\",\"object\":{\"a\":2}}\n{\"type\":\"MODIFIED\",\"obj\r\n",
    "e\r\nect\":{\"a\":3}}\n\r\n",
    "21\r\n{\"type\":\"ERROR\",\"object\":{\"a\":4}}\r\n",
    "0\r\n\r\n",
    NULL};

START_TEST(a_watch_is_cut_into_events) {
  const char *want[] = {"GET /api/v1/pods?watch=true HTTP/1.1\r\n", "Accept: " API_ACCEPT_TABLE "\r\n", NULL};
  served s = start(want, watch_pieces);
  api_client c;
  ck_assert_int_eq(api_client_init(&c, s.dir, NULL), 0);
  api_request rq = {.path = "/api/v1/pods?watch=true", .accept = API_ACCEPT_TABLE};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  seen x = {.stop_after = -1};
  ck_assert_msg(api_watch(&c, &rq, on_event, &x, &rep, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_str_eq(x.text, "ADDED=1 DELETED=2 MODIFIED=3 ERROR=4 ");
  ck_assert_int_eq(rep.code, 200);
  ck_assert_uint_eq(rep.len, 0); /* streamed, not kept */
  api_reply_free(&rep);
  api_client_free(&c);
  finish(&s);
}
END_TEST

START_TEST(a_watch_ends_when_told) {
  const char *want[] = {"GET /api/v1/pods?watch=true", NULL};
  served s = start(want, watch_pieces);
  api_client c;
  ck_assert_int_eq(api_client_init(&c, s.dir, NULL), 0);
  api_request rq = {.path = "/api/v1/pods?watch=true"};
  api_reply rep;
  seen x = {.stop_after = 2};
  ck_assert_int_eq(api_watch(&c, &rq, on_event, &x, &rep, NULL), 0);
  ck_assert_str_eq(x.text, "ADDED=1 DELETED=2 ");
  api_reply_free(&rep);
  api_client_free(&c);
  finish(&s);
}
END_TEST

START_TEST(a_refused_stream_keeps_its_status) {
  const char *want[] = {"GET /api/v1/namespaces/default/pods/web/log?follow=true", NULL};
  const char *pieces[] = {
      "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 57\r\n\r\n"
      "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"no web\"}\n",
      NULL};
  served s = start(want, pieces);
  api_client c;
  ck_assert_int_eq(api_client_init(&c, s.dir, NULL), 0);
  api_request rq = {.path = "/api/v1/namespaces/default/pods/web/log?follow=true"};
  api_reply rep;
  seen x = {.stop_after = -1};
  ck_assert_int_eq(api_watch(&c, &rq, on_event, &x, &rep, NULL), 0);
  ck_assert_str_eq(x.text, ""); /* nothing handed on */
  ck_assert_int_eq(rep.code, 404);
  char *t = api_status_text(rep.code, rep.body, rep.len, "GET", NULL, NULL);
  ck_assert_str_eq(t, "Error from server (NotFound): no web");
  free(t);
  api_reply_free(&rep);
  api_client_free(&c);
  finish(&s);
}
END_TEST

START_TEST(a_line_that_is_no_event_fails_the_watch) {
  const char *want[] = {"GET /api/v1/events?watch=true", NULL};
  const char *pieces[] = {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", "not json\n", NULL};
  served s = start(want, pieces);
  api_client c;
  ck_assert_int_eq(api_client_init(&c, s.dir, NULL), 0);
  api_request rq = {.path = "/api/v1/events?watch=true"};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  seen x = {.stop_after = -1};
  ck_assert_int_eq(api_watch(&c, &rq, on_event, &x, &rep, &err), -1);
  ck_assert_int_eq(err.code, EPROTO);
  api_reply_free(&rep);
  api_client_free(&c);
  finish(&s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cli_apiclient");
  TCase *tc = tcase_create("cli_apiclient");
  tcase_add_test(tc, no_socket_is_a_daemon_not_running);
  tcase_add_test(tc, a_request_with_its_headers_and_body);
  tcase_add_test(tc, a_watch_is_cut_into_events);
  tcase_add_test(tc, a_watch_ends_when_told);
  tcase_add_test(tc, a_refused_stream_keeps_its_status);
  tcase_add_test(tc, a_line_that_is_no_event_fails_the_watch);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
