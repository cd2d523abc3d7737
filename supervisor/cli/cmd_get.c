/*
 * cmd_get.c - `podvisor get pods [NAME...] [-A] [-n NS] [-o wide|json|yaml|name]
 * [-w] [-l SELECTOR] [--no-headers]`, as kubectl get.
 *
 * The table is the daemon's: the request asks for a Table with kubectl's
 * Accept header and k8s_print.h prints it as kubectl would.  (A daemon
 * that answers with a PodList, or a watch event that carries a Pod, is
 * turned into the same Table here with k8s_table_pods.)  -o json and -o
 * yaml print the objects (a list as kubectl's "List"), -o name their
 * names.  -w lists, then follows the watch from the list's
 * resourceVersion, printing one row (or object) per event until the
 * daemon ends the stream or the user interrupts.  Nothing found: "No
 * resources found in NS namespace." on stderr, exit 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/clicmd.h"
#include "supervisor/daemon/k8s_print.h"
#include "supervisor/daemon/k8s_table.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor get pods [NAME...] [-A] [-n NS] [-o wide|json|yaml|name] [-w] [-l SELECTOR]\n"
             "  Lists pods as kubectl get does: NAME, READY, STATUS, RESTARTS, AGE (-o wide adds IP,\n"
             "  NODE, NOMINATED NODE, READINESS GATES).  NAME may also be written pod/NAME.\n"
             "\n"
             "  -n, --namespace NS     the namespace (default \"default\")\n"
             "  -A, --all-namespaces   every namespace, with a NAMESPACE column\n"
             "  -o, --output FORMAT    wide, json, yaml or name\n"
             "  -w, --watch            after the list, print each change as it happens\n"
             "  -l, --selector SEL     only pods whose labels match (k=v, k!=v, comma-separated)\n"
             "      --no-headers       no header line\n"
             "  -h, --help             this text\n"
             "Exit status: 0 success (also when nothing is found), 1 error, 2 usage error.\n");
}

enum { OPT_NO_HEADERS = 256 };

int get_parse(int argc, char **argv, get_opts *o, char *msg) {
  static const struct option longs[] = {{"namespace", required_argument, NULL, 'n'},
                                        {"all-namespaces", optional_argument, NULL, 'A'},
                                        {"output", required_argument, NULL, 'o'},
                                        {"watch", optional_argument, NULL, 'w'},
                                        {"selector", required_argument, NULL, 'l'},
                                        {"no-headers", optional_argument, NULL, OPT_NO_HEADERS},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (get_opts){0};
  char **pos = calloc((size_t)argc + 1, sizeof *pos);
  o->base.names = calloc((size_t)argc + 1, sizeof *o->base.names);
  if (pos == NULL || o->base.names == NULL) {
    free(pos);
    return cliopt_fail(msg, "out of memory");
  }
  size_t npos = 0;
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "n:Ao:wl:h", longs, NULL)) != -1) {
    const char *a = cliopt_arg(optarg);
    switch (c) {
    case 1: pos[npos++] = argv[optind - 1]; break;
    case 'n': o->base.ns = a; break;
    case 'A': r = cliopt_bool("--all-namespaces", optarg, &o->base.all_ns, msg); break;
    case 'w': r = cliopt_bool("--watch", optarg, &o->watch, msg); break;
    case 'l': o->selector = a; break;
    case OPT_NO_HEADERS: r = cliopt_bool("--no-headers", optarg, &o->no_headers, msg); break;
    case 'h': r = CLI_PARSE_HELP; break;
    case 'o':
      if (strcmp(a, "wide") == 0)
        o->output = GET_WIDE;
      else if (strcmp(a, "json") == 0)
        o->output = GET_JSON;
      else if (strcmp(a, "yaml") == 0)
        o->output = GET_YAML;
      else if (strcmp(a, "name") == 0)
        o->output = GET_NAME;
      else
        r = cliopt_fail(
            msg,
            "unable to match a printer suitable for the output format \"%s\", allowed formats are: "
            "json,name,wide,yaml",
            a);
      break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  while (r == CLI_PARSE_OK && optind < argc)
    pos[npos++] = argv[optind++];
  if (r == CLI_PARSE_OK)
    r = cliopt_pod_args(pos, npos, o->base.names, &o->base.n_names, msg);
  if (r == CLI_PARSE_OK && o->base.all_ns && o->base.n_names > 0)
    r = cliopt_fail(msg, "a resource cannot be retrieved by name across all namespaces");
  if (r == CLI_PARSE_OK && o->watch && o->base.n_names > 1)
    r = cliopt_fail(msg,
                    "watch is only supported on individual resources and resource collections, but %zu "
                    "resources were found",
                    o->base.n_names);
  free(pos);
  return r;
}

typedef struct get_run {
  api_client *c;
  const get_opts *o;
  k8s_printer pr;
  size_t printed; /* objects or rows printed */
  int status;     /* the exit status so far */
  bool yaml_docs; /* -o yaml: a document was printed ("---" before the next) */
} get_run;

static bool table_mode(const get_opts *o) {
  return o->output == GET_TABLE || o->output == GET_WIDE;
}

/* A Table from whatever the daemon sent: a Table, a Pod or a PodList (a
 * table of those), or a bare row. */
static json_t *as_table(json_t *obj, bool no_headers, pv_err *err) {
  const char *kind = json_string_value(json_object_get(obj, "kind"));
  if (kind != NULL && strcmp(kind, "Table") == 0)
    return json_incref(obj);
  if (json_object_get(obj, "cells") != NULL)
    return k8s_table_new(NULL, json_pack("[O]", obj), NULL, err);
  return k8s_table_pods(obj, cli_now_ns(), no_headers, err);
}

static void emit_table(get_run *x, json_t *obj, bool no_headers) {
  pv_err err;
  pv_err_clear(&err);
  json_t *t = as_table(obj, no_headers, &err);
  char *text = NULL;
  if (t == NULL || k8s_printer_table(&x->pr, t, &err) < 0 ||
      (text = k8s_printer_flush(&x->pr, &err)) == NULL) {
    fprintf(stderr, "error: %s\n", pv_err_str(&err));
    x->status = 1;
  } else {
    x->printed += json_array_size(json_object_get(t, "rows"));
    fputs(text, stdout);
    fflush(stdout);
  }
  free(text);
  json_decref(t);
}

/* kubectl prints a list (or several objects) as a "List". */
static json_t *as_list(json_t *items) {
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    if (json_object_get(it, "kind") == NULL)
      json_object_set_new(it, "kind", json_string("Pod"));
    if (json_object_get(it, "apiVersion") == NULL)
      json_object_set_new(it, "apiVersion", json_string("v1"));
  }
  return json_pack("{s:s, s:O, s:s, s:{s:s}}", "apiVersion", "v1", "items", items, "kind", "List", "metadata",
                   "resourceVersion", "");
}

static void emit_object(get_run *x, json_t *obj) {
  if (x->o->output == GET_JSON) {
    x->status |= cli_print_json(obj);
  } else if (x->o->output == GET_YAML) {
    if (x->yaml_docs)
      fputs("---\n", stdout);
    x->status |= cli_print_yaml(obj);
    x->yaml_docs = true;
  } else {
    pv_err err;
    pv_err_clear(&err);
    char *names = k8s_print_names(obj, &err);
    if (names == NULL) {
      fprintf(stderr, "error: %s\n", pv_err_str(&err));
      x->status = 1;
    }
    fputs(names != NULL ? names : "", stdout);
    free(names);
  }
  fflush(stdout);
  x->printed++;
}

static int on_event(const char *type, json_t *obj, void *ctx) {
  get_run *x = ctx;
  if (strcmp(type, "ERROR") == 0) {
    char *t = api_status_text_json(0, obj, "GET", NULL, NULL);
    fprintf(stderr, "%s\n", t != NULL ? t : "error: the watch failed");
    free(t);
    x->status = 1;
    return -1;
  }
  if (table_mode(x->o))
    emit_table(x, obj, true);
  else
    emit_object(x, obj);
  return 0;
}

static int watch(get_run *x, const char *rv) {
  const get_opts *o = x->o;
  char *path = api_path_pods(o->base.all_ns ? NULL : cli_ns(&o->base), NULL, NULL);
  char *field = NULL;
  if (o->base.n_names == 1 && asprintf(&field, "metadata.name=%s", o->base.names[0]) < 0)
    field = NULL;
  if (api_path_query(&path, "watch", "true") < 0 || api_path_query(&path, "labelSelector", o->selector) < 0 ||
      api_path_query(&path, "fieldSelector", field) < 0 ||
      api_path_query(&path, "resourceVersion", rv != NULL && rv[0] != '\0' ? rv : NULL) < 0) {
    free(field);
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  free(field);
  api_request rq = {.path = path, .accept = table_mode(o) ? API_ACCEPT_TABLE : API_ACCEPT_JSON};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  int r = api_watch(x->c, &rq, on_event, x, &rep, &err);
  if (r < 0 && rep.code == 0)
    x->status = cli_report(x->c, &err, NULL, "GET", "watch pods", NULL);
  else if (!api_reply_ok(&rep))
    x->status = cli_report(x->c, &err, &rep, "GET", "watch pods", NULL);
  else if (r < 0)
    x->status = cli_report(x->c, &err, NULL, "GET", "watch pods", NULL);
  api_reply_free(&rep);
  free(path);
  return x->status;
}

/* One GET: the JSON of a 2xx reply, or NULL after printing why not. */
static json_t *fetch(get_run *x, const char *name) {
  const get_opts *o = x->o;
  char *path = api_path_pods(o->base.all_ns && name == NULL ? NULL : cli_ns(&o->base), name, NULL);
  if (name == NULL && api_path_query(&path, "labelSelector", o->selector) < 0) {
    fprintf(stderr, "error: out of memory\n");
    return NULL;
  }
  char what[512];
  snprintf(what, sizeof what, "get pods%s%s", name ? " " : "", name ? name : "");
  api_request rq = {.path = path, .accept = table_mode(o) ? API_ACCEPT_TABLE : API_ACCEPT_JSON};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  json_t *j = NULL;
  if (api_call(x->c, &rq, &rep, &err) < 0)
    cli_report(x->c, &err, NULL, "GET", what, NULL);
  else if (!api_reply_ok(&rep))
    cli_report(x->c, &err, &rep, "GET", what, NULL);
  else if ((j = api_reply_json(&rep, &err)) == NULL)
    fprintf(stderr, "error: %s\n", pv_err_str(&err));
  api_reply_free(&rep);
  free(path);
  return j;
}

static int run(api_client *c, const void *arg) {
  const get_opts *o = arg;
  get_run x = {.c = c, .o = o};
  k8s_printer_init(&x.pr, &(k8s_print_opts){.wide = o->output == GET_WIDE,
                                            .with_namespace = o->base.all_ns && o->base.n_names == 0,
                                            .no_headers = o->no_headers});
  json_t *items = json_array();
  char *rv = NULL;
  size_t n = o->base.n_names ? o->base.n_names : 1;
  bool reached = false;
  for (size_t i = 0; i < n && !c->down; i++) {
    json_t *j = fetch(&x, o->base.n_names ? o->base.names[i] : NULL);
    if (j == NULL) {
      x.status = 1;
      continue;
    }
    reached = true;
    free(rv);
    const char *v = json_string_value(json_object_get(json_object_get(j, "metadata"), "resourceVersion"));
    rv = v != NULL ? strdup(v) : NULL;
    if (table_mode(o))
      emit_table(&x, j, false);
    else if (o->base.n_names == 0)
      json_array_extend(items, json_object_get(j, "items"));
    else
      json_array_append(items, j);
    json_decref(j);
  }
  if (!table_mode(o) && reached) {
    if (o->base.n_names == 1 && o->output != GET_NAME)
      emit_object(&x, json_array_get(items, 0));
    else if (o->output != GET_NAME || json_array_size(items) > 0) {
      json_t *list = as_list(items);
      emit_object(&x, list);
      json_decref(list);
    }
  }
  json_decref(items);
  if (reached && x.status == 0 && o->base.n_names == 0 && !o->watch &&
      (table_mode(o) || o->output == GET_NAME) && x.printed == 0) {
    char text[256];
    k8s_print_no_resources(o->base.all_ns ? NULL : cli_ns(&o->base), text, sizeof text);
    fprintf(stderr, "%s\n", text);
  }
  if (reached && x.status == 0 && o->watch)
    watch(&x, rv);
  free(rv);
  k8s_printer_free(&x.pr);
  return x.status;
}

int cmd_get(const cli_globals *g, int argc, char **argv) {
  get_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(get_parse(argc, argv, &o, msg), "get", msg, help);
  if (r < 0)
    r = cli_api_run(g, run, &o);
  cli_opts_free(&o.base);
  return r;
}
