/*
 * cmd_describe.c - `podvisor describe pod [NAME...] [-n NS]`, as kubectl
 * describe: the Pod, then its events, asked for as kubectl asks (a field
 * selector on involvedObject name, namespace and uid), printed through
 * k8s_describe.h in the local time zone.  Without a name, every pod of the
 * namespace, separated by a blank line.  Events that cannot be read leave
 * the Events section out, as kubectl does.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/clicmd.h"
#include "supervisor/daemon/k8s_describe.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor describe pod [NAME...] [-n NS]\n"
             "  Shows pods in detail as kubectl describe does: containers with their image, state, last\n"
             "  state, exit codes, restart counts, the back-off, probes, limits and mounts; conditions,\n"
             "  volumes, and the pod's recent events.  Without NAME, every pod of the namespace.\n"
             "\n"
             "  -n, --namespace NS   the namespace (default \"default\")\n"
             "  -h, --help           this text\n");
}

int describe_parse(int argc, char **argv, describe_opts *o, char *msg) {
  static const struct option longs[] = {
      {"namespace", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  *o = (describe_opts){0};
  char **pos = calloc((size_t)argc + 1, sizeof *pos);
  o->base.names = calloc((size_t)argc + 1, sizeof *o->base.names);
  if (pos == NULL || o->base.names == NULL) {
    free(pos);
    return cliopt_fail(msg, "out of memory");
  }
  size_t npos = 0;
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "n:h", longs, NULL)) != -1) {
    switch (c) {
    case 1: pos[npos++] = argv[optind - 1]; break;
    case 'n': o->base.ns = cliopt_arg(optarg); break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  while (r == CLI_PARSE_OK && optind < argc)
    pos[npos++] = argv[optind++];
  if (r == CLI_PARSE_OK)
    r = cliopt_pod_args(pos, npos, o->base.names, &o->base.n_names, msg);
  free(pos);
  return r;
}

/* The pod's events, or NULL (the section is then left out). */
static json_t *pod_events(api_client *c, const json_t *pod) {
  const json_t *md = json_object_get(pod, "metadata");
  const char *name = json_string_value(json_object_get(md, "name"));
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  const char *uid = json_string_value(json_object_get(md, "uid"));
  char *sel = NULL, *ens = ns != NULL ? api_escape(ns) : NULL, *path = NULL;
  if (name == NULL || ens == NULL ||
      asprintf(&sel, "involvedObject.name=%s,involvedObject.namespace=%s%s%s", name, ns,
               uid != NULL ? ",involvedObject.uid=" : "", uid != NULL ? uid : "") < 0 ||
      asprintf(&path, "/api/v1/namespaces/%s/events", ens) < 0) {
    free(ens);
    return NULL;
  }
  free(ens);
  json_t *events = NULL;
  if (api_path_query(&path, "fieldSelector", sel) == 0) {
    api_request rq = {.path = path};
    api_reply rep;
    pv_err err;
    pv_err_clear(&err);
    if (api_call(c, &rq, &rep, &err) == 0 && api_reply_ok(&rep))
      events = api_reply_json(&rep, &err);
    api_reply_free(&rep);
  }
  free(sel);
  free(path);
  return events;
}

static int describe_one(api_client *c, const json_t *pod) {
  json_t *events = pod_events(c, pod);
  pv_err err;
  pv_err_clear(&err);
  char *text = k8s_describe_pod(pod, events, cli_now_ns(), &(k8s_describe_opts){.local_time = true}, &err);
  json_decref(events);
  if (text == NULL) {
    fprintf(stderr, "error: %s\n", pv_err_str(&err));
    return 1;
  }
  fputs(text, stdout);
  free(text);
  return 0;
}

static int run(api_client *c, const void *arg) {
  const describe_opts *o = arg;
  const char *ns = cli_ns(&o->base);
  int status = 0;
  size_t printed = 0;
  if (o->base.n_names == 0) {
    char *path = api_path_pods(ns, NULL, NULL);
    json_t *list = NULL;
    if (path == NULL || cli_get_json(c, path, "get pods", &list) != 0) {
      free(path);
      return 1;
    }
    free(path);
    size_t i;
    json_t *pod;
    json_array_foreach(json_object_get(list, "items"), i, pod) {
      if (printed++ > 0)
        fputs("\n\n", stdout);
      status |= describe_one(c, pod);
    }
    json_decref(list);
    if (printed == 0)
      fprintf(stderr, "No resources found in %s namespace.\n", ns);
    return status;
  }
  for (size_t i = 0; i < o->base.n_names && !c->down; i++) {
    char *path = api_path_pods(ns, o->base.names[i], NULL);
    char what[512];
    snprintf(what, sizeof what, "get pods %s", o->base.names[i]);
    json_t *pod = NULL;
    if (path == NULL || cli_get_json(c, path, what, &pod) != 0) {
      status = 1;
    } else {
      if (printed++ > 0)
        fputs("\n\n", stdout);
      status |= describe_one(c, pod);
    }
    json_decref(pod);
    free(path);
  }
  return status;
}

int cmd_describe(const cli_globals *g, int argc, char **argv) {
  describe_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(describe_parse(argc, argv, &o, msg), "describe", msg, help);
  if (r < 0)
    r = cli_api_run(g, run, &o);
  cli_opts_free(&o.base);
  return r;
}
