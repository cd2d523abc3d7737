/*
 * apiclient_msg.c - kubectl's words for what went wrong (see apiclient.h):
 * the Status of a refused request, client-go's messages for a reply
 * without one, and the daemon that is not running.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/apiclient.h"
#include "supervisor/cli/cli.h"
#include "supervisor/daemon/k8s_buf.h"

bool api_daemon_down(const pv_err *err) {
  return err->code == ENOENT || err->code == ECONNREFUSED;
}

void api_down_text(const char *sock_path, const char *run_root, const pv_err *err, char *buf, size_t len) {
  const char *why = err->code == ECONNREFUSED ? "nothing listens on" : "no socket";
  if (strcmp(run_root, CLI_DEFAULT_RUN_ROOT) == 0)
    snprintf(buf, len,
             "podvisor: the daemon is not running (%s %s).\n"
             "Start it with `podvisor daemon`, or `systemctl start podvisor`.",
             why, sock_path);
  else
    snprintf(buf, len,
             "podvisor: the daemon is not running (%s %s).\n"
             "Start it with `podvisor --run-root %s daemon`.",
             why, sock_path, run_root);
}

/* client-go's NewGenericServerResponse: the reason and message a reply
 * without a Status gets from its HTTP code alone (reason "" is Unknown). */
static void generic_reason(long code, const char *method, const char *body, const char **reason, char *msg,
                           size_t len) {
  *reason = "";
  snprintf(msg, len, "the server responded with the status code %ld but did not return more information",
           code);
  switch (code) {
  case 409:
    *reason = method != NULL && strcmp(method, "POST") == 0 ? "AlreadyExists" : "Conflict";
    snprintf(msg, len, "the server reported a conflict");
    break;
  case 404:
    *reason = "NotFound";
    snprintf(msg, len, "the server could not find the requested resource");
    break;
  case 400:
    *reason = "BadRequest";
    snprintf(msg, len, "the server rejected our request for an unknown reason");
    break;
  case 401:
    *reason = "Unauthorized";
    snprintf(msg, len, "the server has asked for the client to provide credentials");
    break;
  case 403:
    *reason = "Forbidden";
    snprintf(msg, len, "%s", body);
    break;
  case 405:
    *reason = "MethodNotAllowed";
    snprintf(msg, len, "the server does not allow this method on the requested resource");
    break;
  case 422:
    *reason = "Invalid";
    snprintf(msg, len, "the server rejected our request due to an error in our request");
    break;
  case 429:
    *reason = "TooManyRequests";
    snprintf(msg, len, "the server has received too many requests and has asked us to try again later");
    break;
  case 504:
    *reason = "Timeout";
    snprintf(msg, len,
             "the server was unable to return a response in the time allotted, but may still be "
             "processing the request");
    break;
  default:
    if (code >= 500) {
      *reason = "InternalError";
      snprintf(msg, len, "an error on the server (\"%s\") has prevented the request from succeeding", body);
    }
  }
}

/* kubectl's StandardErrorMessage for a Status. */
static void standard(k8s_buf *b, const char *reason, const char *message) {
  if (strcmp(reason, "Unauthorized") == 0)
    k8s_buf_printf(b, "error: You must be logged in to the server (%s)", message);
  else if (reason[0] != '\0')
    k8s_buf_printf(b, "Error from server (%s): %s", reason, message);
  else
    k8s_buf_printf(b, "Error from server: %s", message);
}

/* One cause as kubectl's statusCausesToAggrError writes it, "field:
 * message"; podvisor's diagnostics already hold their field path
 * ("file:line:col: error: spec.x: ..."), so such a message stands alone,
 * as does one without a field. */
static char *cause_text(const json_t *cause) {
  const char *field = json_string_value(json_object_get(cause, "field"));
  const char *msg = json_string_value(json_object_get(cause, "message"));
  char *out = NULL;
  if (msg == NULL)
    msg = "";
  if (field == NULL || field[0] == '\0' || strstr(msg, field) != NULL)
    out = strdup(msg);
  else if (asprintf(&out, "%s: %s", field, msg) < 0)
    out = NULL;
  return out;
}

/* kubectl's checkErr for reason Invalid: "The Pod "web" is invalid" and
 * every distinct cause, one per line when there are several. */
static void invalid(k8s_buf *b, const json_t *status, const char *message) {
  const json_t *details = json_object_get(status, "details");
  if (!json_is_object(details)) {
    k8s_buf_puts(b, "The request is invalid");
    if (message[0] != '\0')
      k8s_buf_printf(b, ": %s", message);
    return;
  }
  const char *kind = json_string_value(json_object_get(details, "kind"));
  const char *name = json_string_value(json_object_get(details, "name"));
  const json_t *causes = json_object_get(details, "causes");
  size_t n = json_array_size(causes);
  if ((kind != NULL && kind[0] != '\0') || (name != NULL && name[0] != '\0'))
    k8s_buf_printf(b, "The %s \"%s\" is invalid", kind != NULL ? kind : "", name != NULL ? name : "");
  else if (message[0] != '\0' && n == 0)
    k8s_buf_printf(b, "The request is invalid: %s", message);
  else
    k8s_buf_puts(b, "The request is invalid");
  char **seen = calloc(n ? n : 1, sizeof *seen);
  size_t kept = 0;
  for (size_t i = 0; seen != NULL && i < n; i++) {
    char *t = cause_text(json_array_get(causes, i));
    bool dup = t == NULL;
    for (size_t j = 0; !dup && j < kept; j++)
      dup = strcmp(seen[j], t) == 0;
    if (dup)
      free(t);
    else
      seen[kept++] = t;
  }
  if (kept == 1)
    k8s_buf_printf(b, ": %s", seen[0]);
  else if (kept > 1)
    k8s_buf_puts(b, ": ");
  for (size_t j = 0; kept > 1 && j < kept; j++)
    k8s_buf_printf(b, "\n* %s", seen[j]);
  for (size_t j = 0; j < kept; j++)
    free(seen[j]);
  free(seen);
}

char *api_status_text_json(long code, const json_t *status, const char *method, const char *what,
                           const char *source) {
  (void)what; /* a Status names its object itself */
  k8s_buf b = {0};
  const char *reason = json_string_value(json_object_get(status, "reason"));
  const char *message = json_string_value(json_object_get(status, "message"));
  char generic[512];
  if (reason == NULL || message == NULL) {
    const char *greason;
    generic_reason(code, method, "", &greason, generic, sizeof generic);
    if (reason == NULL)
      reason = greason;
    if (message == NULL)
      message = generic;
  }
  if (strcmp(reason, "Invalid") == 0) {
    invalid(&b, status, message);
    return k8s_buf_steal(&b);
  }
  char *full = NULL;
  if (source != NULL && asprintf(&full, "%s: %s", source, message) < 0)
    full = NULL;
  standard(&b, reason, full != NULL ? full : message);
  free(full);
  return k8s_buf_steal(&b);
}

char *api_status_text(long code, const char *body, size_t len, const char *method, const char *what,
                      const char *source) {
  json_t *j = body != NULL && len > 0 ? json_loadb(body, len, 0, NULL) : NULL;
  if (json_is_object(j) && (json_object_get(j, "reason") != NULL || json_object_get(j, "message") != NULL)) {
    char *t = api_status_text_json(code, j, method, what, source);
    json_decref(j);
    return t;
  }
  json_decref(j);
  /* No Status: the body's text (its first line, trimmed) stands for the
   * server's message where client-go keeps one. */
  char text[256];
  size_t n = 0;
  for (; body != NULL && n < len && n < sizeof text - 1 && body[n] != '\n' && body[n] != '\r'; n++)
    text[n] = body[n];
  while (n > 0 && text[n - 1] == ' ')
    n--;
  text[n] = '\0';
  const char *reason;
  char msg[512];
  generic_reason(code, method, text, &reason, msg, sizeof msg);
  k8s_buf m = {0};
  if (source != NULL)
    k8s_buf_printf(&m, "%s: ", source);
  k8s_buf_puts(&m, msg);
  if (what != NULL && what[0] != '\0')
    k8s_buf_printf(&m, " (%s)", what);
  char *mt = k8s_buf_steal(&m);
  if (mt == NULL)
    return NULL;
  k8s_buf b = {0};
  standard(&b, reason, mt);
  free(mt);
  return k8s_buf_steal(&b);
}
