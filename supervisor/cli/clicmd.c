/*
 * clicmd.c - what the API commands share (see clicmd.h).
 */
#include "supervisor/cli/clicmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "supervisor/daemon/k8s_buf.h"
#include "supervisor/daemon/k8s_yaml.h"

void cli_opts_free(cli_opts *o) {
  free(o->files);
  free(o->names);
  o->files = o->names = NULL;
  o->n_files = o->n_names = 0;
}

const char *cli_ns(const cli_opts *o) {
  return o->ns != NULL ? o->ns : CLI_DEFAULT_NS;
}

int cli_api_open(const cli_globals *g, api_client *c) {
  pv_err err;
  pv_err_clear(&err);
  if (api_client_init(c, g->run_root, &err) < 0) {
    fprintf(stderr, "error: %s\n", pv_err_str(&err));
    return 1;
  }
  return 0;
}

int cli_api_run(const cli_globals *g, int (*run)(api_client *c, const void *o), const void *o) {
  api_client c;
  int r = cli_api_open(g, &c);
  if (r == 0)
    r = run(&c, o);
  api_client_free(&c);
  return r;
}

int cli_report(const api_client *c, const pv_err *err, const api_reply *rep, const char *method,
               const char *what, const char *source) {
  if (rep == NULL || rep->code == 0) {
    if (err != NULL && api_daemon_down(err)) {
      char text[PV_ERR_MSG_MAX + 256];
      api_down_text(c->sock_path, c->run_root, err, text, sizeof text);
      fprintf(stderr, "%s\n", text);
    } else {
      fprintf(stderr, "error: %s\n", err != NULL ? pv_err_str(err) : "no reply from the daemon");
    }
    return 1;
  }
  char *t = api_status_text(rep->code, rep->body, rep->len, method, what, source);
  fprintf(stderr, "%s\n", t != NULL ? t : "error: out of memory");
  free(t);
  return 1;
}

int cli_get_json(api_client *c, const char *path, const char *what, json_t **out) {
  api_request rq = {.path = path};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  *out = NULL;
  if (api_call(c, &rq, &rep, &err) < 0)
    return cli_report(c, &err, NULL, "GET", what, NULL);
  if (!api_reply_ok(&rep)) {
    cli_report(c, &err, &rep, "GET", what, NULL);
    api_reply_free(&rep);
    return 1;
  }
  *out = api_reply_json(&rep, &err);
  api_reply_free(&rep);
  if (*out == NULL) {
    fprintf(stderr, "error: %s\n", pv_err_str(&err));
    return 1;
  }
  return 0;
}

int cli_print_json(const json_t *j) {
  char *s = json_dumps(j, JSON_INDENT(4) | JSON_SORT_KEYS);
  if (s == NULL) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  fputs(s, stdout);
  fputc('\n', stdout);
  free(s);
  return 0;
}

int cli_print_yaml(const json_t *j) {
  pv_err err;
  pv_err_clear(&err);
  char *s = k8s_yaml_dump(j, &err);
  if (s == NULL) {
    fprintf(stderr, "error: %s\n", pv_err_str(&err));
    return 1;
  }
  fputs(s, stdout);
  free(s);
  return 0;
}

static const char *container_name(const json_t *c) {
  return json_string_value(json_object_get(c, "name"));
}

const char *cli_default_container(const json_t *pod) {
  const json_t *spec = json_object_get(pod, "spec");
  const json_t *cs = json_object_get(spec, "containers");
  const json_t *inits = json_object_get(spec, "initContainers");
  const char *want =
      json_string_value(json_object_get(json_object_get(json_object_get(pod, "metadata"), "annotations"),
                                        "kubectl.kubernetes.io/default-container"));
  const char *pick = NULL;
  size_t i;
  json_t *c;
  json_array_foreach(cs, i, c) {
    const char *n = container_name(c);
    if (n != NULL && want != NULL && strcmp(n, want) == 0)
      pick = n;
  }
  if (pick != NULL)
    return pick; /* kubectl says nothing when the annotation chose */
  pick = container_name(json_array_get(cs, 0));
  if (pick == NULL || json_array_size(cs) + json_array_size(inits) < 2)
    return pick;
  k8s_buf b = {0};
  json_array_foreach(cs, i, c)
      k8s_buf_printf(&b, "%s%s", i ? ", " : "", container_name(c) ? container_name(c) : "");
  json_array_foreach(inits, i, c)
      k8s_buf_printf(&b, ", %s (init)", container_name(c) ? container_name(c) : "");
  char *all = k8s_buf_steal(&b);
  fprintf(stderr, "Defaulted container \"%s\" out of: %s\n", pick, all != NULL ? all : "");
  free(all);
  return pick;
}

int64_t cli_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
