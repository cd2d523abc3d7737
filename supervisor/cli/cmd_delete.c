/*
 * cmd_delete.c - `podvisor delete pod NAME... | -f FILE|DIR|- [--grace-period N]
 * [--now] [--wait=false] [--timeout D] [-n NS]`, as kubectl delete.
 *
 * Each pod is deleted on its own (DELETE /api/v1/namespaces/NS/pods/NAME,
 * ?gracePeriodSeconds=N when given) and said so at once, `pod "web"
 * deleted`; then, unless --wait=false, the command waits until every pod
 * it deleted is gone (a GET that finds none, or finds a pod of another
 * uid: a new pod of the same name), as kubectl waits.  With -f the names
 * come from the manifests (read here; a manifest need not be valid to name
 * its pod) and a refusal names the file ("error when deleting
 * "web.yaml": ...").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spec/spec.h"
#include "supervisor/cli/clicmd.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor delete pod NAME... [options]\n"
             "       podvisor delete -f FILE|DIR|- [options]\n"
             "  Deletes pods gracefully (preStop, SIGTERM, SIGKILL at the grace period) and waits\n"
             "  until they are gone.  NAME may also be written pod/NAME.  A pod the daemon's manifest\n"
             "  directory declares cannot be deleted this way: remove its file.\n"
             "\n"
             "  -f, --filename PATH    the pods of these manifests (repeatable)\n"
             "      --grace-period N   seconds of grace instead of each pod's own (0: at once)\n"
             "      --now              the same as --grace-period=1\n"
             "      --wait=false       do not wait until the pods are gone\n"
             "      --timeout D        give up waiting after D (like 30s, 2m; default: no limit)\n"
             "  -n, --namespace NS     the namespace (default \"default\")\n"
             "  -h, --help             this text\n");
}

enum { OPT_GRACE = 256, OPT_NOW, OPT_WAIT, OPT_TIMEOUT };

int delete_parse(int argc, char **argv, delete_opts *o, char *msg) {
  static const struct option longs[] = {{"filename", required_argument, NULL, 'f'},
                                        {"grace-period", required_argument, NULL, OPT_GRACE},
                                        {"now", optional_argument, NULL, OPT_NOW},
                                        {"wait", optional_argument, NULL, OPT_WAIT},
                                        {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                        {"namespace", required_argument, NULL, 'n'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (delete_opts){.grace = -1, .wait = true};
  char **pos = calloc((size_t)argc + 1, sizeof *pos);
  o->base.names = calloc((size_t)argc + 1, sizeof *o->base.names);
  o->base.files = calloc((size_t)argc + 1, sizeof *o->base.files);
  if (pos == NULL || o->base.names == NULL || o->base.files == NULL) {
    free(pos);
    return cliopt_fail(msg, "out of memory");
  }
  size_t npos = 0;
  bool now = false, grace_given = false;
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "f:n:h", longs, NULL)) != -1) {
    switch (c) {
    case 1: pos[npos++] = argv[optind - 1]; break;
    case 'f': o->base.files[o->base.n_files++] = cliopt_arg(optarg); break;
    case OPT_GRACE:
      r = cliopt_long("--grace-period", optarg, -1, 1L << 31, &o->grace, msg);
      grace_given = true;
      break;
    case OPT_NOW: r = cliopt_bool("--now", optarg, &now, msg); break;
    case OPT_WAIT: r = cliopt_bool("--wait", optarg, &o->wait, msg); break;
    case OPT_TIMEOUT: r = cliopt_duration_ms("--timeout", optarg, &o->timeout_ms, msg); break;
    case 'n': o->base.ns = cliopt_arg(optarg); break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  while (r == CLI_PARSE_OK && optind < argc)
    pos[npos++] = argv[optind++];
  if (r == CLI_PARSE_OK && now && grace_given)
    r = cliopt_fail(msg, "--now and --grace-period cannot be specified together");
  if (r == CLI_PARSE_OK && now)
    o->grace = 1;
  if (r == CLI_PARSE_OK && o->base.n_files > 0 && npos > 0)
    r = cliopt_fail(msg,
                    "when paths or stdin are given with -f, you may not specify resource arguments as well");
  if (r == CLI_PARSE_OK && o->base.n_files == 0) {
    if (npos == 0)
      r = cliopt_fail(msg, "you must provide one or more resources by argument or filename (-f)");
    else
      r = cliopt_pod_args(pos, npos, o->base.names, &o->base.n_names, msg);
    if (r == CLI_PARSE_OK && o->base.n_names == 0)
      r = cliopt_fail(msg, "resource(s) were provided, but no name was specified");
  }
  free(pos);
  return r;
}

typedef struct target {
  const char *ns, *name, *file; /* file: the manifest, or NULL */
  char *uid;                    /* of the pod the DELETE answered with */
  bool deleted;
} target;

/* 0 deleted, 1 refused, -1 no daemon to ask (said once: stop). */
static int delete_one(api_client *c, target *t, long grace) {
  char *path = api_path_pods(t->ns, t->name, NULL);
  char grace_s[32], what[512], source[1024];
  snprintf(grace_s, sizeof grace_s, "%ld", grace);
  snprintf(what, sizeof what, "delete pods %s", t->name);
  snprintf(source, sizeof source, "error when deleting \"%s\"", t->file ? t->file : "");
  if (api_path_query(&path, "gracePeriodSeconds", grace >= 0 ? grace_s : NULL) < 0) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  api_request rq = {.method = "DELETE", .path = path};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  int status = 0;
  if (api_call(c, &rq, &rep, &err) < 0) {
    cli_report(c, &err, NULL, "DELETE", what, NULL);
    status = api_daemon_down(&err) ? -1 : 1;
  } else if (!api_reply_ok(&rep)) {
    status = cli_report(c, &err, &rep, "DELETE", what, t->file ? source : NULL);
  } else {
    json_t *pod = api_reply_json(&rep, NULL);
    const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
    t->uid = uid != NULL ? strdup(uid) : NULL;
    t->deleted = true;
    json_decref(pod);
    printf("pod \"%s\" deleted\n", t->name);
    fflush(stdout);
  }
  api_reply_free(&rep);
  free(path);
  return status;
}

/* 1 gone, 0 still there, -1 no answer (said). */
static int gone(api_client *c, const target *t) {
  char *path = api_path_pods(t->ns, t->name, NULL);
  api_request rq = {.path = path};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  int r;
  if (path == NULL) {
    r = -1;
  } else if (api_call(c, &rq, &rep, &err) < 0) {
    cli_report(c, &err, NULL, "GET", NULL, NULL);
    r = -1;
  } else if (rep.code == 404) {
    r = 1;
  } else if (!api_reply_ok(&rep)) {
    r = -cli_report(c, &err, &rep, "GET", NULL, NULL);
  } else {
    json_t *pod = api_reply_json(&rep, NULL);
    const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
    r = t->uid != NULL && uid != NULL && strcmp(uid, t->uid) != 0; /* a new pod of that name */
    json_decref(pod);
  }
  api_reply_free(&rep);
  free(path);
  return r;
}

static int wait_gone(api_client *c, target *ts, size_t n, int64_t timeout_ms) {
  int64_t start = cli_now_ns(), pause_ms = 50;
  for (size_t i = 0; i < n; i++) {
    while (ts[i].deleted) {
      int g = gone(c, &ts[i]);
      if (g < 0)
        return 1;
      if (g > 0)
        break;
      if (timeout_ms > 0 && (cli_now_ns() - start) / 1000000 >= timeout_ms) {
        fprintf(stderr, "error: timed out waiting for the condition on pods/%s\n", ts[i].name);
        return 1;
      }
      struct timespec d = {.tv_sec = pause_ms / 1000, .tv_nsec = (pause_ms % 1000) * 1000000};
      nanosleep(&d, NULL);
      if (pause_ms < 1000)
        pause_ms *= 2;
    }
  }
  return 0;
}

/* The targets of -f: every pod the manifests name, valid or not. */
static target *file_targets(const delete_opts *o, spec_pod_list *pods, size_t *n, int *status) {
  diag_list diags;
  diag_list_init(&diags);
  spec_load_paths(o->base.files, o->base.n_files, SPEC_KEEP_INVALID, pods, &diags);
  *n = 0;
  target *ts = calloc(pods->n + 1, sizeof *ts);
  for (size_t i = 0; ts != NULL && i < pods->n; i++) {
    const spec_pod *p = pods->items[i];
    if (p->name == NULL) {
      fprintf(stderr, "error: %s: a document names no pod (metadata.name)\n", p->source_file);
      *status = 1;
      continue;
    }
    const char *ns = o->base.ns != NULL && strcmp(p->ns, CLI_DEFAULT_NS) == 0 ? o->base.ns : p->ns;
    ts[(*n)++] = (target){.ns = ns, .name = p->name, .file = p->source_file};
  }
  if (*n == 0 && *status == 0) {
    /* Nothing to delete: the files' own problems say why. */
    for (size_t i = 0; i < diags.n; i++)
      diag_fprint(stderr, &diags.items[i]);
    fprintf(stderr, "error: no objects passed to delete\n");
    *status = 1;
  }
  diag_list_free(&diags);
  return ts;
}

static int run(api_client *c, const void *arg) {
  const delete_opts *o = arg;
  spec_pod_list pods = {0};
  size_t n = o->base.n_names;
  int status = 0;
  target *ts;
  if (o->base.n_files > 0) {
    ts = file_targets(o, &pods, &n, &status);
  } else {
    ts = calloc(n + 1, sizeof *ts);
    for (size_t i = 0; ts != NULL && i < n; i++)
      ts[i] = (target){.ns = cli_ns(&o->base), .name = o->base.names[i]};
  }
  if (ts == NULL) {
    fprintf(stderr, "error: out of memory\n");
    spec_pod_list_free(&pods);
    return 1;
  }
  bool reached = true;
  for (size_t i = 0; reached && i < n; i++) {
    int r = delete_one(c, &ts[i], o->grace);
    reached = r >= 0;
    status |= r != 0;
  }
  if (reached && o->wait)
    status |= wait_gone(c, ts, n, o->timeout_ms);
  for (size_t i = 0; i < n; i++)
    free(ts[i].uid);
  free(ts);
  spec_pod_list_free(&pods);
  return status;
}

int cmd_delete(const cli_globals *g, int argc, char **argv) {
  delete_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(delete_parse(argc, argv, &o, msg), "delete", msg, help);
  if (r < 0)
    r = cli_api_run(g, run, &o);
  cli_opts_free(&o.base);
  return r;
}
