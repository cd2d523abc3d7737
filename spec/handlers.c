/* handlers.c - probes and lifecycle hooks (see handlers.h). */
#include "spec/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "spec/names.h"

#define INT32_MAXV 2147483647

static void exec_command(decode_ctx *c, const ytree_node *handler, spec_strv *out) {
  size_t saved = decode_push_key(c, "exec");
  const ytree_node *ex = ytree_map_get(handler, "exec");
  if (decode_check_keys(c, ex, SCHEMA_EXEC)) {
    if (decode_strv(c, ex, "command", out) == 0) {
      size_t s2 = decode_push_key(c, "command");
      decode_error(c, ex, "exec needs a non-empty command");
      decode_pop(c, s2);
    }
  }
  decode_pop(c, saved);
}

static void check_port_ref(decode_ctx *c, const ytree_node *action, spec_probe *p) {
  if (decode_port_ref(c, action, "port", &p->port, &p->port_name) == 1 && p->port_name != NULL) {
    char why[256];
    size_t saved = decode_push_key(c, "port");
    if (!names_port_name(p->port_name, why, sizeof why))
      decode_error(c, ytree_map_get(action, "port"), "invalid port name '%.64s': %s", p->port_name, why);
    decode_pop(c, saved);
  }
  decode_string(c, action, "host", false, &p->host);
}

static void http_get(decode_ctx *c, const ytree_node *probe, spec_probe *p) {
  size_t saved = decode_push_key(c, "httpGet");
  const ytree_node *h = ytree_map_get(probe, "httpGet");
  if (decode_check_keys(c, h, SCHEMA_HTTP_GET)) {
    check_port_ref(c, h, p);
    if (decode_string(c, h, "path", false, &p->path) == 0)
      p->path = decode_strdup(c, "/");
    static const char *const schemes[] = {"HTTP", "HTTPS"};
    int scheme = 0;
    decode_enum(c, h, "scheme", schemes, 2, &scheme);
    p->https = scheme == 1;
    if (p->https) {
      /* Refused rather than probed in clear text: the shim's probes speak
       * plain HTTP only. */
      decode_error_key(c, h, "scheme",
                       "scheme HTTPS is not supported: podvisor's httpGet probes speak plain HTTP; "
                       "use scheme HTTP or a tcpSocket probe");
    }
    size_t s2 = decode_push_key(c, "httpHeaders");
    const ytree_node *hs = ytree_map_get(h, "httpHeaders");
    if (!ytree_is_null(hs) && hs->kind != YTREE_SEQ) {
      decode_error(c, hs, "expected a list of {name, value}, got %s", ytree_describe(hs));
    } else if (hs != NULL && hs->kind == YTREE_SEQ && hs->n > 0) {
      p->http_headers.items = calloc(hs->n, sizeof *p->http_headers.items);
      if (p->http_headers.items == NULL)
        c->oom = 1;
      for (size_t i = 0; p->http_headers.items != NULL && i < hs->n; i++) {
        size_t s3 = decode_push_index(c, i);
        const ytree_node *e = hs->items[i];
        if (decode_check_keys(c, e, SCHEMA_HTTP_HEADER)) {
          spec_kv *kv = &p->http_headers.items[p->http_headers.n++];
          char why[256];
          if (decode_string(c, e, "name", true, &kv->key) == 1 && !names_http_header(kv->key, why, sizeof why))
            decode_error_key(c, e, "name", "invalid header name '%.64s': %s", kv->key, why);
          if (decode_string(c, e, "value", false, &kv->value) == 0)
            kv->value = decode_strdup(c, "");
        }
        decode_pop(c, s3);
      }
    }
    decode_pop(c, s2);
  }
  decode_pop(c, saved);
}

static const char *const probe_names[] = {"livenessProbe", "readinessProbe", "startupProbe"};

/* Reads a timing field: 0 or absent gives the default, as Kubernetes'
 * defaulting does. */
static int timing(decode_ctx *c, const ytree_node *m, const char *key, int def) {
  int64_t v = 0;
  decode_int(c, m, key, 0, INT32_MAXV, &v);
  return v == 0 ? def : (int)v;
}

void handlers_probe(decode_ctx *c, const ytree_node *map, const char *key, handlers_probe_type type,
                    spec_probe *out) {
  memset(out, 0, sizeof *out);
  out->termination_grace_period_seconds = -1;
  size_t saved = decode_push_key(c, key);
  const ytree_node *m = ytree_map_get(map, key);
  if (!decode_check_keys(c, m, SCHEMA_PROBE)) {
    decode_pop(c, saved);
    return;
  }
  static const char *const kinds[] = {"exec", "httpGet", "tcpSocket", "grpc"};
  int found = 0;
  for (size_t i = 0; i < 4; i++)
    if (!ytree_is_null(ytree_map_get(m, kinds[i])))
      found++;
  if (found == 0)
    decode_error(c, m, "a probe must specify a handler: exec, httpGet or tcpSocket");
  else if (found > 1)
    decode_error(c, m, "a probe may not specify more than one handler (exec, httpGet, tcpSocket, grpc)");
  if (!ytree_is_null(ytree_map_get(m, "exec"))) {
    out->kind = SPEC_PROBE_EXEC;
    exec_command(c, m, &out->exec_command);
  } else if (!ytree_is_null(ytree_map_get(m, "httpGet"))) {
    out->kind = SPEC_PROBE_HTTP_GET;
    http_get(c, m, out);
  } else if (!ytree_is_null(ytree_map_get(m, "tcpSocket"))) {
    out->kind = SPEC_PROBE_TCP_SOCKET;
    size_t s2 = decode_push_key(c, "tcpSocket");
    const ytree_node *t = ytree_map_get(m, "tcpSocket");
    if (decode_check_keys(c, t, SCHEMA_TCP_SOCKET))
      check_port_ref(c, t, out);
    decode_pop(c, s2);
  }
  out->initial_delay_seconds = timing(c, m, "initialDelaySeconds", 0);
  out->timeout_seconds = timing(c, m, "timeoutSeconds", 1);
  out->period_seconds = timing(c, m, "periodSeconds", 10);
  out->success_threshold = timing(c, m, "successThreshold", 1);
  out->failure_threshold = timing(c, m, "failureThreshold", 3);
  if (type != HANDLERS_READINESS && out->success_threshold != 1)
    decode_error_key(c, m, "successThreshold", "must be 1 for a %s", probe_names[type]);
  int64_t grace = -1;
  if (decode_int(c, m, "terminationGracePeriodSeconds", 1, INT64_MAX, &grace) == 1) {
    if (type == HANDLERS_READINESS)
      decode_error_key(c, m, "terminationGracePeriodSeconds", "must not be set for a readinessProbe");
    out->termination_grace_period_seconds = grace;
  }
  decode_pop(c, saved);
}

static void hook(decode_ctx *c, const ytree_node *lc, const char *key, spec_strv *out) {
  size_t saved = decode_push_key(c, key);
  const ytree_node *h = ytree_map_get(lc, key);
  if (decode_check_keys(c, h, SCHEMA_LIFECYCLE_HANDLER)) {
    if (!ytree_is_null(ytree_map_get(h, "exec")))
      exec_command(c, h, out);
    else if (ytree_is_null(ytree_map_get(h, "httpGet")) && ytree_is_null(ytree_map_get(h, "tcpSocket")) &&
             ytree_is_null(ytree_map_get(h, "sleep")))
      decode_error(c, h, "a lifecycle hook must specify a handler: exec");
  }
  decode_pop(c, saved);
}

void handlers_lifecycle(decode_ctx *c, const ytree_node *map, spec_strv *post_start, spec_strv *pre_stop) {
  size_t saved = decode_push_key(c, "lifecycle");
  const ytree_node *lc = ytree_map_get(map, "lifecycle");
  if (decode_check_keys(c, lc, SCHEMA_LIFECYCLE)) {
    hook(c, lc, "postStart", post_start);
    hook(c, lc, "preStop", pre_stop);
  }
  decode_pop(c, saved);
}

void handlers_check_port_name(decode_ctx *c, const ytree_node *cmap, const char *key, const spec_probe *p,
                              const spec_container *ct) {
  if (p->port_name == NULL)
    return;
  for (size_t i = 0; i < ct->n_ports; i++)
    if (ct->ports[i].name != NULL && strcmp(ct->ports[i].name, p->port_name) == 0)
      return;
  size_t saved = decode_push_key(c, key);
  const ytree_node *m = ytree_map_get(cmap, key);
  const ytree_node *act = ytree_map_get(m, p->kind == SPEC_PROBE_HTTP_GET ? "httpGet" : "tcpSocket");
  size_t s2 = decode_push_key(c, p->kind == SPEC_PROBE_HTTP_GET ? "httpGet.port" : "tcpSocket.port");
  decode_error(c, ytree_map_get(act, "port"), "no port named '%.64s' in this container's ports", p->port_name);
  decode_pop(c, s2);
  decode_pop(c, saved);
}

void handlers_probe_free(spec_probe *p) {
  if (p == NULL)
    return;
  decode_strv_free(&p->exec_command);
  free(p->host);
  free(p->path);
  free(p->port_name);
  decode_kvs_free(&p->http_headers);
  memset(p, 0, sizeof *p);
}
