/* shim_ops.c - the control protocol's ops (supervisor/proto/ctlproto.h) on
 * the shim: each request line from shimsock is decoded and answered through
 * the keeper's calls (keeper.h: status, stop, restart, update; exec in
 * shim_exec.c).
 *
 * An update writes the new pod.json before the container restarts: the
 * text is rendered on the loop, written and fsynced in libuv's thread pool,
 * and the restart happens in the after-work callback, so a keeper restarted
 * after an update keeps it.  One update runs at a time (another one meets
 * Conflict): each builds on the snapshot the previous one left. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/proto/podsnap.h"
#include "supervisor/proto/podupdate.h"
#include "supervisor/shim/shim_proc.h"

typedef struct update_work {
  uv_work_t req;
  shim *sh;
  shimsock_conn *conn;
  char ctr_name[CTRSTATE_NAME_MAX];
  spec_pod *pod; /* the new pod, handed to the shim after the write */
  char *text;
  size_t len;
  char *path;
  int rc;
  pv_err err;
} update_work;

static void reply_error(shimsock_conn *c, ctlproto_reason r, const char *msg) {
  size_t len;
  char *line = ctlproto_reply_error(r, msg, &len);
  shimsock_reply(c, line, len, -1);
}

/* The reason a client sees for one of the shim's errors. */
static ctlproto_reason reason_of(int code) {
  switch (code) {
  case ENOENT: return CTLPROTO_NOT_FOUND;
  case ESHUTDOWN: return CTLPROTO_SHUTTING_DOWN;
  case EINVAL:
  case EPERM: return CTLPROTO_INVALID;
  case EBUSY: return CTLPROTO_CONFLICT;
  case ENOMEM:
  default: return CTLPROTO_INTERNAL;
  }
}

static void reply_err(shimsock_conn *c, const pv_err *err) {
  reply_error(c, reason_of(err->code), pv_err_str(err));
}

static void reply_ok(shimsock_conn *c, json_t *fields) {
  size_t len;
  char *line = ctlproto_reply_ok(fields, &len);
  shimsock_reply(c, line, len, -1);
}

static void reply_status(shim *sh, shimsock_conn *c) {
  char *text = keeper_status_json(sh->k);
  size_t len = 0;
  char *line = text != NULL ? ctlproto_reply_status(text, &len) : NULL;
  free(text);
  if (line == NULL) {
    reply_error(c, CTLPROTO_INTERNAL, "status: out of memory");
    return;
  }
  shimsock_reply(c, line, len, -1);
}

static void op_restart(shim *sh, shimsock_conn *c, const ctlproto_request *req) {
  pv_err err;
  pv_err_clear(&err);
  if (keeper_restart(sh->k, req->container, &err) < 0) {
    /* EINVAL: the table refuses a restart in this state. */
    reply_error(c, err.code == EINVAL ? CTLPROTO_CONFLICT : reason_of(err.code), pv_err_str(&err));
    return;
  }
  reply_ok(c, NULL);
}

/* Seconds of grace as milliseconds, saturated (a century at most). */
static int64_t grace_ms(int64_t seconds) {
  const int64_t max_s = INT64_C(100) * 365 * 24 * 3600;
  return (seconds > max_s ? max_s : seconds) * 1000;
}

static void op_stop(shim *sh, shimsock_conn *c, const ctlproto_request *req) {
  /* Replied first: with nothing left to stop the shim closes its socket at
   * once, and the reply must still go out. */
  reply_ok(c, NULL);
  keeper_stop(sh->k, req->grace_seconds >= 0 ? grace_ms(req->grace_seconds) : -1);
}

/* --- update ------------------------------------------------------------------------------ */

static void update_write(uv_work_t *req) {
  update_work *w = req->data;
  pv_err_clear(&w->err);
  w->rc = pv_write_file_atomic(w->path, w->text, w->len, 0600, &w->err);
}

static void update_done(uv_work_t *req, int status) {
  update_work *w = req->data;
  shim *sh = w->sh;
  sh->update_busy = false;
  pv_err err;
  pv_err_clear(&err);
  if (status < 0 || w->rc < 0) {
    if (status < 0)
      pv_err_set(&w->err, -status, "pod %s: snapshot write cancelled", keeper_pod(sh->k)->name);
    reply_error(w->conn, CTLPROTO_INTERNAL, pv_err_str(&w->err));
    spec_pod_free(w->pod);
  } else if (keeper_update(sh->k, w->ctr_name, w->pod, &err) < 0) {
    /* The pod was consumed either way; EINVAL: the table refuses a
     * restart now (the new spec applies at the next start). */
    reply_error(w->conn, err.code == EINVAL ? CTLPROTO_CONFLICT : reason_of(err.code), pv_err_str(&err));
  } else {
    reply_ok(w->conn, json_pack("{s:b}", "restarted", 1));
  }
  free(w->text);
  free(w->path);
  free(w);
}

/* Every diagnostic of an invalid update, one per line of the message. */
static void reply_diags(shimsock_conn *c, const pv_err *err, const diag_list *diags) {
  size_t cap = strlen(pv_err_str(err)) + 1 + diags->n * 512, n;
  char *msg = malloc(cap);
  if (msg == NULL) {
    reply_err(c, err);
    return;
  }
  n = (size_t)snprintf(msg, cap, "%s", pv_err_str(err));
  for (size_t i = 0; i < diags->n && n < cap; i++) {
    char d[512];
    diag_format(&diags->items[i], d, sizeof d);
    n += (size_t)snprintf(msg + n, cap - n, "\n%s", d);
  }
  reply_error(c, CTLPROTO_INVALID, msg);
  free(msg);
}

static void op_update(shim *sh, shimsock_conn *c, const ctlproto_request *req) {
  const spec_pod *cur = keeper_pod(sh->k);
  if (spec_pod_container(cur, req->container) == NULL) {
    char msg[256];
    snprintf(msg, sizeof msg, "pod %s has no container %s", cur->name, req->container);
    reply_error(c, CTLPROTO_NOT_FOUND, msg);
    return;
  }
  if (keeper_stopping(sh->k)) {
    reply_error(c, CTLPROTO_SHUTTING_DOWN, "the pod is stopping");
    return;
  }
  if (sh->update_busy) {
    reply_error(c, CTLPROTO_CONFLICT, "another update of this pod is in progress");
    return;
  }
  pv_err err;
  pv_err_clear(&err);
  diag_list diags;
  diag_list_init(&diags);
  spec_pod *np = NULL;
  bool changed = false;
  if (podupdate_replace_container(cur, req->container, req->spec, &np, &changed, &diags, &err) < 0) {
    if (err.code == EINVAL && diags.n > 0)
      reply_diags(c, &err, &diags);
    else
      reply_err(c, &err);
    diag_list_free(&diags);
    return;
  }
  diag_list_free(&diags);
  if (!changed) {
    spec_pod_free(np);
    reply_ok(c, json_pack("{s:b}", "restarted", 0));
    return;
  }
  update_work *w = calloc(1, sizeof *w);
  if (w != NULL) {
    w->text = podsnap_render(np, sh->paths.uid, &w->len, &err);
    w->path = strdup(sh->paths.snapshot);
  }
  if (w == NULL || w->text == NULL || w->path == NULL) {
    if (w == NULL || (w->text != NULL && w->path == NULL))
      pv_err_set(&err, ENOMEM, "pod %s: update: out of memory", cur->name);
    reply_error(c, CTLPROTO_INTERNAL, pv_err_str(&err));
    spec_pod_free(np);
    if (w != NULL) {
      free(w->text);
      free(w->path);
    }
    free(w);
    return;
  }
  w->sh = sh;
  w->conn = c;
  w->pod = np;
  snprintf(w->ctr_name, sizeof w->ctr_name, "%s", req->container);
  w->req.data = w;
  int rc = uv_queue_work(&sh->loop, &w->req, update_write, update_done);
  if (rc < 0) {
    pv_err_set(&err, -rc, "pod %s: update: %s", cur->name, uv_strerror(rc));
    reply_error(c, CTLPROTO_INTERNAL, pv_err_str(&err));
    spec_pod_free(np);
    free(w->text);
    free(w->path);
    free(w);
    return;
  }
  sh->update_busy = true;
}

/* --- dispatch ------------------------------------------------------------------------------ */

static void close_fds(int *fds, size_t n) {
  for (size_t i = 0; i < n; i++)
    close(fds[i]);
}

static void on_request(void *ctx, shimsock_conn *c, char *line, size_t len, int *fds, size_t nfds) {
  shim *sh = ctx;
  ctlproto_request req;
  ctlproto_error e;
  if (ctlproto_decode_request(line, len, &req, &e) < 0) {
    close_fds(fds, nfds);
    reply_error(c, e.reason, e.message);
    if (e.fatal)
      shimsock_end(c);
    return;
  }
  if (req.op != CTLPROTO_OP_EXEC)
    close_fds(fds, nfds);
  switch (req.op) {
  case CTLPROTO_OP_STATUS: reply_status(sh, c); break;
  case CTLPROTO_OP_WATCH:
    reply_status(sh, c);
    shimsock_watch(c);
    break;
  case CTLPROTO_OP_STOP: op_stop(sh, c, &req); break;
  case CTLPROTO_OP_RESTART: op_restart(sh, c, &req); break;
  case CTLPROTO_OP_UPDATE: op_update(sh, c, &req); break;
  case CTLPROTO_OP_EXEC: shim_exec_start(sh, c, &req, fds, nfds); break;
  default: reply_error(c, CTLPROTO_UNSUPPORTED, "unsupported op"); break;
  }
  ctlproto_request_free(&req);
}

static void on_released(void *ctx, shimsock_conn *c, void *data) {
  (void)c;
  shim_exec_released(ctx, data);
}

const shimsock_handler shim_ops_handler = {.request = on_request, .released = on_released};
