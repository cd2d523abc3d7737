/*
 * cmd_create.c - `podvisor create -f FILE|DIR|- [-n NS]`, as kubectl
 * create: the manifests are read and checked here (every diagnostic with
 * its file:line:col, as validate prints them; one invalid document creates
 * nothing), then each pod is POSTed to /api/v1/namespaces/NS/pods on its
 * own, as kubectl creates object by object: "pod/web created", or the
 * daemon's refusal ("Error from server (AlreadyExists): error when
 * creating "web.yaml": pods "web" already exists") and on to the next.
 *
 * The body is the pod as podjson writes it (what the daemon stores of an
 * applied pod), its namespace the one the manifest names, or -n's for a
 * manifest that names none ("default" counts as none: spec/ cannot tell
 * them apart); a manifest of another namespace than -n's is refused as
 * kubectl refuses it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "supervisor/cli/clicmd.h"
#include "supervisor/proto/podjson.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor create -f FILE|DIR|- [-f ...] [-n NS]\n"
             "  Creates the pods of the manifests; a pod that exists already is an error (apply\n"
             "  updates it instead).  The manifests are checked first: one invalid document creates\n"
             "  nothing.\n"
             "\n"
             "  -f, --filename PATH  a file, a directory or - (repeatable)\n"
             "  -n, --namespace NS   the namespace of pods that name none\n"
             "  -h, --help           this text\n");
}

int create_parse(int argc, char **argv, create_opts *o, char *msg) {
  static const struct option longs[] = {{"filename", required_argument, NULL, 'f'},
                                        {"namespace", required_argument, NULL, 'n'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (create_opts){0};
  if ((o->base.files = calloc((size_t)argc + 1, sizeof *o->base.files)) == NULL)
    return cliopt_fail(msg, "out of memory");
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "f:n:h", longs, NULL)) != -1) {
    switch (c) {
    case 1: r = cliopt_fail(msg, "unexpected argument \"%s\": the manifests come with -f", optarg); break;
    case 'f': o->base.files[o->base.n_files++] = cliopt_arg(optarg); break;
    case 'n': o->base.ns = cliopt_arg(optarg); break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  if (r == CLI_PARSE_OK && optind < argc)
    r = cliopt_fail(msg, "unexpected argument \"%s\": the manifests come with -f", argv[optind]);
  if (r == CLI_PARSE_OK && o->base.n_files == 0)
    r = cliopt_fail(msg, "must specify -f FILE|DIR|- (the manifests to create)");
  return r;
}

/* The namespace a manifest's pod goes to, or NULL after saying why none. */
static const char *target_ns(const spec_pod *p, const char *flag_ns) {
  if (flag_ns == NULL || strcmp(p->ns, flag_ns) == 0 || strcmp(p->ns, CLI_DEFAULT_NS) == 0)
    return flag_ns != NULL ? flag_ns : p->ns;
  fprintf(
      stderr,
      "error: the namespace from the provided object \"%s\" does not match the namespace \"%s\". You must "
      "pass '--namespace=%s' to perform this operation.\n",
      p->ns, flag_ns, p->ns);
  return NULL;
}

/* 0 created, 1 refused, -1 no daemon to ask (said once: stop). */
static int create_one(api_client *c, const spec_pod *p, const char *ns) {
  pv_err err;
  pv_err_clear(&err);
  json_t *doc = podjson_pod(p, &err);
  char *body = NULL, *path = api_path_pods(ns, NULL, NULL);
  if (doc != NULL) {
    json_object_set_new(json_object_get(doc, "metadata"), "namespace", json_string(ns));
    body = json_dumps(doc, JSON_COMPACT);
  }
  json_decref(doc);
  if (body == NULL || path == NULL) {
    free(body);
    free(path);
    fprintf(stderr, "error: %s\n", err.code != 0 ? pv_err_str(&err) : "out of memory");
    return 1;
  }
  char source[1024], what[512];
  snprintf(source, sizeof source, "error when creating \"%s\"", p->source_file ? p->source_file : "<stdin>");
  snprintf(what, sizeof what, "post pods %s", p->name);
  api_request rq = {.method = "POST",
                    .path = path,
                    .content_type = "application/json",
                    .body = body,
                    .body_len = strlen(body)};
  api_reply rep;
  int status = 0;
  if (api_call(c, &rq, &rep, &err) < 0) {
    cli_report(c, &err, NULL, "POST", what, source);
    status = api_daemon_down(&err) ? -1 : 1;
  } else if (!api_reply_ok(&rep))
    status = cli_report(c, &err, &rep, "POST", what, source);
  else
    printf("pod/%s created\n", p->name);
  api_reply_free(&rep);
  free(body);
  free(path);
  return status;
}

static int run(api_client *c, const void *arg) {
  const create_opts *o = arg;
  spec_pod_list pods = {0};
  diag_list diags;
  diag_list_init(&diags);
  spec_load_paths(o->base.files, o->base.n_files, 0, &pods, &diags);
  diag_list_sort(&diags);
  for (size_t i = 0; i < diags.n; i++)
    diag_fprint(stderr, &diags.items[i]);
  int status = 0;
  if (diags.errors > 0) {
    fprintf(stderr, "error: the manifests are invalid (%zu error%s): nothing was created\n", diags.errors,
            diags.errors == 1 ? "" : "s");
    status = 1;
  } else if (pods.n == 0) {
    fprintf(stderr, "error: no objects passed to create\n");
    status = 1;
  }
  for (size_t i = 0; status == 0 && i < pods.n; i++) {
    const char *ns = target_ns(pods.items[i], o->base.ns);
    if (ns == NULL)
      status = 1;
  }
  bool go = status == 0;
  for (size_t i = 0; go && i < pods.n; i++) {
    int r = create_one(c, pods.items[i], target_ns(pods.items[i], o->base.ns));
    go = r >= 0;
    status |= r != 0;
  }
  spec_pod_list_free(&pods);
  diag_list_free(&diags);
  return status;
}

int cmd_create(const cli_globals *g, int argc, char **argv) {
  create_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(create_parse(argc, argv, &o, msg), "create", msg, help);
  if (r < 0)
    r = cli_api_run(g, run, &o);
  cli_opts_free(&o.base);
  return r;
}
