/*
 * daemon_api_apply.c - podvisor.io/v1: apply (the ApplyResult of API.md,
 * all-or-nothing, with ?dryRun=All and ?prune=true) and restart (the shim's
 * restart op, which bypasses the backoff, for one container or each of the
 * pod's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/daemon/daemon_api_internal.h"

/* The diagnostics of a refused request as Status causes; NULL when none is
 * an error. */
static json_t *causes_of(const diag_list *diags, size_t *errors) {
  json_t *causes = json_array();
  *errors = 0;
  for (size_t i = 0; causes != NULL && i < diags->n; i++) {
    const diag *g = &diags->items[i];
    if (g->severity != DIAG_ERROR)
      continue;
    char text[2048];
    diag_format(g, text, sizeof text);
    json_t *c = json_pack("{s:s,s:s,s:s}", "reason", "FieldValueInvalid", "message", text, "field",
                          g->path != NULL ? g->path : "");
    json_array_append_new(causes, c);
    (*errors)++;
  }
  return causes;
}

void api_reply_apply_error(httpd_req *req, const pv_err *err, const diag_list *diags, const char *name) {
  (void)name;
  if (err->code == EINVAL && diags->errors > 0) {
    size_t n = 0;
    json_t *causes = causes_of(diags, &n);
    json_t *details = json_pack("{s:o}", "causes", causes != NULL ? causes : json_array());
    if (n == 1) {
      char text[2048];
      for (size_t i = 0; i < diags->n; i++)
        if (diags->items[i].severity == DIAG_ERROR) {
          diag_format(&diags->items[i], text, sizeof text);
          break;
        }
      api_reply_status(req, 422, "Invalid", details, "the request is invalid: %s", text);
    } else {
      api_reply_status(req, 422, "Invalid", details, "the request is invalid: %zu errors", n);
    }
    return;
  }
  api_reply_err(req, err);
}

static const char *action_of(const plan_apply_entry *e) {
  switch (e->verdict) {
  case PLAN_CREATED: return "create";
  case PLAN_KEPT: return "unchanged";
  case PLAN_PRUNED: return "delete";
  default: return e->change.action == PLAN_RECREATE ? "recreate" : "configure";
  }
}

static json_t *apply_result(const plan_apply *plan, bool dry) {
  json_t *items = json_array();
  for (size_t i = 0; items != NULL && i < plan->n; i++) {
    const plan_apply_entry *e = &plan->items[i];
    char text[1024];
    plan_apply_text(e, text, sizeof text);
    const char *detail = "";
    if (e->verdict == PLAN_CONFIGURED && e->change.action != PLAN_UNCHANGED && e->change.summary != NULL)
      detail = e->change.summary;
    json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s,s:s}", "namespace", e->ns, "name", e->name,
                                           "action", action_of(e), "detail", detail, "text", text));
  }
  if (items == NULL)
    return NULL;
  return json_pack("{s:s,s:s,s:b,s:o}", "kind", "ApplyResult", "apiVersion", API_GROUP_VERSION, "dryRun", dry,
                   "items", items);
}

void api_apply(pvd_api *a, httpd_req *req, const char *ns) {
  const char *dry_s = httpd_req_query(req, "dryRun");
  if (dry_s != NULL && strcmp(dry_s, "All") != 0 && *dry_s != '\0') {
    api_reply_status(req, 400, "BadRequest", NULL, "dryRun must be \"All\" (got \"%s\")", dry_s);
    return;
  }
  bool dry = dry_s != NULL && strcmp(dry_s, "All") == 0;
  size_t len;
  const char *body = httpd_req_body(req, &len);
  desired_apply_opts o = {
      .mode = DESIRED_APPLY, .prune = api_query_true(req, "prune"), .label = "<request>", .ns = ns};
  plan_apply plan = {0};
  diag_list diags;
  diag_list_init(&diags);
  pv_err err = {0};
  if (pvd_apply(a->d, body, len, &o, dry, &plan, &diags, &err) < 0) {
    api_reply_apply_error(req, &err, &diags, NULL);
  } else {
    json_t *res = apply_result(&plan, dry);
    if (res == NULL) {
      httpd_reply_status(req, 500, NULL, "out of memory");
    } else {
      httpd_reply_json(req, 200, res);
      json_decref(res);
    }
  }
  plan_apply_free(&plan);
  diag_list_free(&diags);
}

/* ---- restart ---- */

struct api_call {
  api_call *next, *prev;
  pvd_api *a;
  httpd_req *req;
  podctl_conn *conn;
  char *ns, *name;
  char **containers;
  size_t n, answered;
  bool failed;
  int code;
  char reason[32];
  char message[PV_ERR_MSG_MAX + 512];
};

static void call_free(api_call *c) {
  pvd_api *a = c->a;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    a->calls = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  for (size_t i = 0; i < c->n; i++)
    free(c->containers[i]);
  free(c->containers);
  free(c->ns);
  free(c->name);
  free(c);
}

static void call_finish(api_call *c) {
  if (c->req != NULL) {
    if (c->failed)
      api_reply_status(c->req, c->code, c->reason, NULL, "%s", c->message);
    else
      api_reply_status(c->req, 200, NULL, json_pack("{s:s,s:s}", "name", c->name, "kind", "pods"),
                       "pod/%s restarted", c->name);
    c->req = NULL;
  }
  if (c->conn != NULL) {
    podctl_conn *conn = c->conn;
    c->conn = NULL;
    podctl_conn_close(conn); /* pending callbacks (none) get ECANCELED */
  }
  call_free(c);
}

static int code_of(ctlproto_reason r, const char **reason) {
  switch (r) {
  case CTLPROTO_NOT_FOUND: *reason = "NotFound"; return 404;
  case CTLPROTO_INVALID: *reason = "BadRequest"; return 400;
  case CTLPROTO_CONFLICT: *reason = "Conflict"; return 409;
  case CTLPROTO_SHUTTING_DOWN: *reason = "Conflict"; return 409;
  default: *reason = "InternalError"; return 500;
  }
}

static void on_restart_reply(podctl_conn *conn, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)conn;
  api_call *c = ctx;
  if (fd >= 0)
    close(fd);
  if (c->conn == NULL)
    return; /* finished already: the ECANCELED of the close */
  if (m == NULL) {
    if (!c->failed && c->answered < c->n) {
      c->failed = true;
      c->code = 503;
      snprintf(c->reason, sizeof c->reason, "ServiceUnavailable");
      snprintf(c->message, sizeof c->message, "pod %s/%s: its shim did not answer: %s", c->ns, c->name,
               err != NULL ? err->msg : "connection closed");
    }
    call_finish(c);
    return;
  }
  c->answered++;
  if (!m->ok && !c->failed) {
    const char *reason;
    c->failed = true;
    c->code = code_of(m->reason, &reason);
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    snprintf(c->message, sizeof c->message, "%s", m->message != NULL ? m->message : "the shim refused");
  }
  if (c->answered == c->n)
    call_finish(c);
}

static void on_call_gone(httpd_req *req, void *data) {
  (void)req;
  api_call *c = data;
  /* The reply is discarded, but the restart goes on: finish when it is answered. */
  (void)c;
}

static bool has_container(const spec_pod *s, const char *name) {
  for (size_t i = 0; i < s->n_containers; i++)
    if (strcmp(s->containers[i].name, name) == 0)
      return true;
  for (size_t i = 0; i < s->n_init_containers; i++)
    if (strcmp(s->init_containers[i].name, name) == 0)
      return true;
  return false;
}

void api_restart(pvd_api *a, httpd_req *req, const char *ns, const char *name) {
  const pvd_pod *p = pvd_pod_find(a->d, ns, name);
  const spec_pod *spec = api_pod_spec(a->d, ns, name, p);
  if (p == NULL || spec == NULL) {
    api_reply_pod_not_found(req, name);
    return;
  }
  const char *ctr = httpd_req_query(req, "container");
  if (ctr != NULL && *ctr != '\0' && !has_container(spec, ctr)) {
    api_reply_status(req, 404, "NotFound", NULL, "container %s is not valid for pod %s", ctr, name);
    return;
  }
  const podpaths *pp = pvd_pod_paths(p);
  if (p->state != PVD_POD_RUNNING || pp == NULL || p->deletion_ns != 0) {
    api_reply_status(req, 409, "Conflict", NULL, "pod %s/%s is not running (%s)", ns, name,
                     p->deletion_ns != 0 ? "being deleted" : "no shim keeps it yet");
    return;
  }
  api_call *c = calloc(1, sizeof *c);
  if (c == NULL || (c->ns = strdup(ns)) == NULL || (c->name = strdup(name)) == NULL)
    goto oom;
  c->a = a;
  size_t want = ctr != NULL && *ctr != '\0' ? 1 : spec->n_containers;
  c->containers = calloc(want > 0 ? want : 1, sizeof *c->containers);
  if (c->containers == NULL)
    goto oom;
  if (ctr != NULL && *ctr != '\0') {
    if ((c->containers[c->n++] = strdup(ctr)) == NULL)
      goto oom;
  } else {
    for (size_t i = 0; i < spec->n_containers; i++)
      if ((c->containers[c->n++] = strdup(spec->containers[i].name)) == NULL)
        goto oom;
  }
  c->next = a->calls;
  if (a->calls != NULL)
    a->calls->prev = c;
  a->calls = c;
  c->req = req;
  pv_err err = {0};
  if (podctl_conn_open(pvd_loop(a->d), pp->socket, &c->conn, &err) < 0) {
    c->conn = NULL;
    c->failed = true;
    c->code = 503;
    snprintf(c->reason, sizeof c->reason, "ServiceUnavailable");
    snprintf(c->message, sizeof c->message, "pod %s/%s: %s", ns, name, err.msg);
    call_finish(c);
    return;
  }
  httpd_req_on_gone(req, on_call_gone, c);
  for (size_t i = 0; i < c->n; i++) {
    ctlproto_request r = {.op = CTLPROTO_OP_RESTART, .container = c->containers[i], .grace_seconds = -1};
    if (podctl_conn_request(c->conn, &r, NULL, 0, on_restart_reply, c, &err) < 0) {
      c->failed = true;
      c->code = 500;
      snprintf(c->reason, sizeof c->reason, "InternalError");
      snprintf(c->message, sizeof c->message, "pod %s/%s: %s", ns, name, err.msg);
      call_finish(c);
      return;
    }
  }
  pvd_log(a->d, PVD_LOG_INFO, ns, name, "restart asked through the API containers=%zu", c->n);
  return;
oom:
  if (c != NULL) {
    for (size_t i = 0; i < c->n; i++)
      free(c->containers[i]);
    free(c->containers);
    free(c->ns);
    free(c->name);
    free(c);
  }
  httpd_reply_status(req, 500, NULL, "out of memory");
}

void api_calls_end(pvd_api *a) {
  while (a->calls != NULL) {
    api_call *c = a->calls;
    if (!c->failed) {
      c->failed = true;
      c->code = 503;
      snprintf(c->reason, sizeof c->reason, "ServiceUnavailable");
      snprintf(c->message, sizeof c->message, "the daemon is shutting down");
    }
    call_finish(c);
  }
}
