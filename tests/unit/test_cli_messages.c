/* Unit tests for the CLI's words for what went wrong (supervisor/cli/
 * apiclient.h): a Status turned into kubectl's message (StandardErrorMessage,
 * the Invalid case with its causes, AddSourceToErr's prefix), client-go's
 * messages for a reply without a Status, and the daemon-not-running
 * message with the way to start the daemon; and the paths the requests go
 * to. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/apiclient.h"
#include "tests/testutil.h"

static const struct {
  long code;
  const char *body, *method, *what, *source;
  const char *want;
} status_cases[] = {
    {404,
     "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"message\":\"pods \\\"web\\\" not "
     "found\","
     "\"code\":404}",
     "GET", "get pods web", NULL, "Error from server (NotFound): pods \"web\" not found"},
    {409,
     "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"message\":\"pods \\\"web\\\" already exists\"}",
     "POST", NULL, "error when creating \"web.yaml\"",
     "Error from server (AlreadyExists): error when creating \"web.yaml\": pods \"web\" already exists"},
    {409,
     "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"declared by /etc/podvisor/pods/db.yaml\"}",
     "DELETE", NULL, NULL, "Error from server (Conflict): declared by /etc/podvisor/pods/db.yaml"},
    {500, "{\"kind\":\"Status\",\"message\":\"boom\"}", "GET", NULL, NULL,
     "Error from server (InternalError): boom"}, /* no reason: the code's */
    {418, "{\"kind\":\"Status\",\"reason\":\"\",\"message\":\"teapot\"}", "GET", NULL, NULL,
     "Error from server: teapot"}, /* reason Unknown ("") */
    {401, "{\"kind\":\"Status\",\"reason\":\"Unauthorized\",\"message\":\"Unauthorized\"}", "GET", NULL, NULL,
     "error: You must be logged in to the server (Unauthorized)"},
    /* Invalid: the object and its causes, one alone on the line, several
     * each on its own; a duplicate once; a podvisor diagnostic (which
     * holds its field path) without its field again. */
    {422,
     "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"Pod web is "
     "invalid\",\"details\":{\"kind\":\"Pod\","
     "\"name\":\"web\",\"causes\":[{\"field\":\"spec.containers[0].image\",\"message\":\"Required "
     "value\"}]}}",
     "POST", NULL, NULL, "The Pod \"web\" is invalid: spec.containers[0].image: Required value"},
    {422,
     "{\"reason\":\"Invalid\",\"details\":{\"kind\":\"Pod\",\"name\":\"web\",\"causes\":[{\"field\":\"a\","
     "\"message\":\"x\"},{\"field\":\"b\",\"message\":\"y\"},{\"field\":\"a\",\"message\":\"x\"}]}}",
     "POST", NULL, NULL, "The Pod \"web\" is invalid: \n* a: x\n* b: y"},
    {422,
     "{\"reason\":\"Invalid\",\"message\":\"2 errors\",\"details\":{\"causes\":[{\"field\":\"spec.x\","
     "\"message\":\"web.yaml:3:5: error: spec.x: bad\"},{\"message\":\"db.yaml:1:1: error: no kind\"}]}}",
     "POST", "apply", NULL,
     "The request is invalid: \n* web.yaml:3:5: error: spec.x: bad\n* db.yaml:1:1: error: no kind"},
    {422, "{\"reason\":\"Invalid\",\"message\":\"the body is not YAML\"}", "POST", NULL, NULL,
     "The request is invalid: the body is not YAML"},
    {422, "{\"reason\":\"Invalid\",\"message\":\"nothing to apply\",\"details\":{}}", "POST", NULL, NULL,
     "The request is invalid: nothing to apply"},
    /* No Status: client-go's message for the code, the request named. */
    {404, "404 page not found\n", "GET", "get pods web", NULL,
     "Error from server (NotFound): the server could not find the requested resource (get pods web)"},
    {500, "database on fire\nmore", "GET", "get pods", NULL,
     "Error from server (InternalError): an error on the server (\"database on fire\") has prevented the "
     "request "
     "from succeeding (get pods)"},
    {409, "", "POST", NULL, NULL, "Error from server (AlreadyExists): the server reported a conflict"},
    {409, "", "PUT", NULL, NULL, "Error from server (Conflict): the server reported a conflict"},
    {403, "root only", "GET", NULL, NULL, "Error from server (Forbidden): root only"},
    {400, "[1,2]", "POST", NULL, NULL,
     "Error from server (BadRequest): the server rejected our request for an unknown reason"},
    {405, "", "PATCH", NULL, NULL,
     "Error from server (MethodNotAllowed): the server does not allow this method on the requested resource"},
    {418, "", "GET", NULL, NULL,
     "Error from server: the server responded with the status code 418 but did not return more information"},
    {404, "", "GET", NULL, "error when deleting \"web.yaml\"",
     "Error from server (NotFound): error when deleting \"web.yaml\": the server could not find the "
     "requested "
     "resource"},
};

START_TEST(status_as_kubectl_words_it) {
  const char *b = status_cases[_i].body;
  char *t = api_status_text(status_cases[_i].code, b, strlen(b), status_cases[_i].method,
                            status_cases[_i].what, status_cases[_i].source);
  ck_assert_ptr_nonnull(t);
  ck_assert_msg(strcmp(t, status_cases[_i].want) == 0, "case %d:\n got  %s\n want %s", _i, t,
                status_cases[_i].want);
  free(t);
}
END_TEST

/* A watch's ERROR event carries a decoded Status. */
START_TEST(status_object_of_a_watch) {
  json_t *st = json_pack("{s:s, s:s}", "reason", "Expired", "message", "too old resource version: 3 (41)");
  char *t = api_status_text_json(0, st, "GET", NULL, NULL);
  ck_assert_str_eq(t, "Error from server (Expired): too old resource version: 3 (41)");
  free(t);
  json_decref(st);
}
END_TEST

START_TEST(daemon_down_says_how_to_start_it) {
  pv_err e = {.code = ENOENT};
  char buf[1024];
  api_down_text("/run/podvisor/podvisor.sock", "/run/podvisor", &e, buf, sizeof buf);
  ck_assert_str_eq(buf, "podvisor: the daemon is not running (no socket /run/podvisor/podvisor.sock).\n"
                        "Start it with `podvisor daemon`, or `systemctl start podvisor`.");
  e.code = ECONNREFUSED;
  api_down_text("/tmp/rr/podvisor.sock", "/tmp/rr", &e, buf, sizeof buf);
  ck_assert_str_eq(buf, "podvisor: the daemon is not running (nothing listens on /tmp/rr/podvisor.sock).\n"
                        "Start it with `podvisor --run-root /tmp/rr daemon`.");
  ck_assert(api_daemon_down(&(pv_err){.code = ENOENT}));
  ck_assert(api_daemon_down(&(pv_err){.code = ECONNREFUSED}));
  ck_assert(!api_daemon_down(&(pv_err){.code = EACCES})); /* running, but not for this user */
  ck_assert(!api_daemon_down(&(pv_err){.code = EPROTO}));
  ck_assert(!api_daemon_down(&(pv_err){.code = 0}));
}
END_TEST

START_TEST(paths_are_escaped) {
  char *p = api_path_pods("default", "web", NULL);
  ck_assert_str_eq(p, "/api/v1/namespaces/default/pods/web");
  free(p);
  p = api_path_pods(NULL, NULL, NULL);
  ck_assert_str_eq(p, "/api/v1/pods");
  free(p);
  p = api_path_pods("a b", "w/x", "log");
  ck_assert_str_eq(p, "/api/v1/namespaces/a%20b/pods/w%2Fx/log");
  ck_assert_int_eq(api_path_query(&p, "container", "app"), 0);
  ck_assert_int_eq(api_path_query(&p, "tailLines", NULL), 0); /* left out */
  ck_assert_int_eq(api_path_query(&p, "labelSelector", "app=web,tier!=db"), 0);
  ck_assert_str_eq(
      p, "/api/v1/namespaces/a%20b/pods/w%2Fx/log?container=app&labelSelector=app%3Dweb%2Ctier%21%3Ddb");
  free(p);
  char *e = api_escape("a-Z_0.9~ é");
  ck_assert_str_eq(e, "a-Z_0.9~%20%C3%A9");
  free(e);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cli_messages");
  TCase *tc = tcase_create("cli_messages");
  tcase_add_loop_test(tc, status_as_kubectl_words_it, 0, sizeof status_cases / sizeof status_cases[0]);
  tcase_add_test(tc, status_object_of_a_watch);
  tcase_add_test(tc, daemon_down_says_how_to_start_it);
  tcase_add_test(tc, paths_are_escaped);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
