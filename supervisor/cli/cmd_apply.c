/*
 * cmd_apply.c - `podvisor apply -f FILE|DIR|- [--dry-run] [--prune] [-n NS]`:
 * every document of the files in one request to POST
 * /apis/podvisor.io/v1/apply (applybody.h), which the daemon applies all
 * or nothing; then one line per pod as kubectl apply prints them ("pod/web
 * created", "pod/web unchanged", "pod/web configured: restart container
 * app", "pod/old pruned"), with " (dry run)" when --dry-run asked for the
 * plan alone (?dryRun=All).  A refused request prints the daemon's Status
 * with every diagnostic, their lines told in the files' terms.
 *
 * With -n the request goes to /apis/podvisor.io/v1/namespaces/NS/apply:
 * pods without a namespace land in NS, as kubectl apply -n puts them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/cli/applybody.h"
#include "supervisor/cli/clicmd.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor apply -f FILE|DIR|- [-f ...] [--dry-run] [--prune] [-n NS]\n"
             "  Applies pod manifests to the daemon: pods that are new are created, changed pods are\n"
             "  updated at the finest safe grain (one container restarted, or the pod recreated),\n"
             "  identical ones left alone.  All or nothing: one invalid document refuses them all.\n"
             "  A directory contributes its *.yaml, *.yml and *.json files; \"-\" reads stdin.\n"
             "\n"
             "  -f, --filename PATH  a file, a directory or - (repeatable)\n"
             "      --dry-run        print what would be done, do nothing\n"
             "      --prune          also delete the applied pods these files do not name\n"
             "  -n, --namespace NS   the namespace of pods that name none\n"
             "  -h, --help           this text\n");
}

enum { OPT_DRY_RUN = 256, OPT_PRUNE };

int apply_parse(int argc, char **argv, apply_opts *o, char *msg) {
  static const struct option longs[] = {{"filename", required_argument, NULL, 'f'},
                                        {"dry-run", optional_argument, NULL, OPT_DRY_RUN},
                                        {"prune", optional_argument, NULL, OPT_PRUNE},
                                        {"namespace", required_argument, NULL, 'n'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (apply_opts){0};
  if ((o->base.files = calloc((size_t)argc + 1, sizeof *o->base.files)) == NULL)
    return cliopt_fail(msg, "out of memory");
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "f:n:h", longs, NULL)) != -1) {
    const char *a = cliopt_arg(optarg);
    switch (c) {
    case 1: r = cliopt_fail(msg, "unexpected argument \"%s\": the manifests come with -f", optarg); break;
    case 'f': o->base.files[o->base.n_files++] = a; break;
    case OPT_DRY_RUN:
      /* kubectl's --dry-run=server|client|none; both dry runs are the
       * daemon's here (it alone knows what runs). */
      if (a != NULL && (strcmp(a, "server") == 0 || strcmp(a, "client") == 0))
        o->dry_run = true;
      else if (a != NULL && strcmp(a, "none") == 0)
        o->dry_run = false;
      else
        r = cliopt_bool("--dry-run", optarg, &o->dry_run, msg);
      break;
    case OPT_PRUNE: r = cliopt_bool("--prune", optarg, &o->prune, msg); break;
    case 'n': o->base.ns = a; break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  if (r == CLI_PARSE_OK && optind < argc)
    r = cliopt_fail(msg, "unexpected argument \"%s\": the manifests come with -f", argv[optind]);
  if (r == CLI_PARSE_OK && o->base.n_files == 0)
    r = cliopt_fail(msg, "must specify -f FILE|DIR|- (the manifests to apply)");
  return r;
}

/* kubectl's words for an action when the daemon's item has no text. */
static void item_line(const json_t *it, bool dry) {
  const char *text = json_string_value(json_object_get(it, "text"));
  if (text == NULL) {
    const char *name = json_string_value(json_object_get(it, "name"));
    const char *action = json_string_value(json_object_get(it, "action"));
    const char *detail = json_string_value(json_object_get(it, "detail"));
    const char *word = action == NULL                     ? "?"
                       : strcmp(action, "create") == 0    ? "created"
                       : strcmp(action, "unchanged") == 0 ? "unchanged"
                       : strcmp(action, "delete") == 0    ? "pruned"
                       : strcmp(action, "configure") == 0 ? "configured"
                       : strcmp(action, "recreate") == 0  ? "configured"
                                                          : action;
    printf("pod/%s %s%s%s%s\n", name != NULL ? name : "?", word, detail != NULL && detail[0] ? ": " : "",
           detail != NULL ? detail : "", dry ? " (dry run)" : "");
    return;
  }
  printf("%s%s\n", text, dry ? " (dry run)" : "");
}

/* A refused apply: the Status with its causes' lines in the files' terms. */
static void report_refusal(const applybody *b, const api_reply *rep) {
  json_t *st = api_reply_json(rep, NULL);
  json_t *causes = json_object_get(json_object_get(st, "details"), "causes");
  size_t i;
  json_t *cause;
  json_array_foreach(causes, i, cause) {
    const char *m = json_string_value(json_object_get(cause, "message"));
    char *mapped = m != NULL ? applybody_map_message(b, m) : NULL;
    if (mapped != NULL)
      json_object_set_new(cause, "message", json_string(mapped));
    free(mapped);
  }
  char *t = st != NULL ? api_status_text_json(rep->code, st, "POST", "apply", NULL)
                       : api_status_text(rep->code, rep->body, rep->len, "POST", "apply", NULL);
  fprintf(stderr, "%s\n", t != NULL ? t : "error: out of memory");
  free(t);
  json_decref(st);
}

static char *apply_path(const apply_opts *o) {
  char *path = NULL, *ens = o->base.ns != NULL ? api_escape(o->base.ns) : NULL;
  int r = ens != NULL ? asprintf(&path, "/apis/podvisor.io/v1/namespaces/%s/apply", ens)
                      : asprintf(&path, "/apis/podvisor.io/v1/apply");
  free(ens);
  if (r < 0)
    return NULL;
  if (api_path_query(&path, "dryRun", o->dry_run ? "All" : NULL) < 0 ||
      api_path_query(&path, "prune", o->prune ? "true" : NULL) < 0)
    return NULL;
  return path;
}

static int run(api_client *c, const void *arg) {
  const apply_opts *o = arg;
  applybody b = {0};
  pv_err err;
  pv_err_clear(&err);
  if (applybody_build(&b, o->base.files, o->base.n_files, STDIN_FILENO, &err) < 0) {
    fprintf(stderr, "error: %s\n", pv_err_str(&err));
    applybody_free(&b);
    return 1;
  }
  if (applybody_empty(&b)) {
    fprintf(stderr, "error: no objects passed to apply\n");
    applybody_free(&b);
    return 1;
  }
  char *path = apply_path(o);
  api_request rq = {.method = "POST",
                    .path = path,
                    .content_type = applybody_content_type(&b),
                    .body = b.data,
                    .body_len = b.len};
  api_reply rep = {0};
  int status = 0;
  json_t *res = NULL;
  if (path == NULL) {
    fprintf(stderr, "error: out of memory\n");
    status = 1;
  } else if (api_call(c, &rq, &rep, &err) < 0) {
    status = cli_report(c, &err, NULL, "POST", "apply", NULL);
  } else if (!api_reply_ok(&rep)) {
    report_refusal(&b, &rep);
    status = 1;
  } else if ((res = api_reply_json(&rep, &err)) == NULL) {
    fprintf(stderr, "error: %s\n", pv_err_str(&err));
    status = 1;
  } else {
    bool dry = json_is_true(json_object_get(res, "dryRun")) || o->dry_run;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(res, "items"), i, it) item_line(it, dry);
  }
  api_reply_free(&rep);
  json_decref(res);
  free(path);
  applybody_free(&b);
  return status;
}

int cmd_apply(const cli_globals *g, int argc, char **argv) {
  apply_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(apply_parse(argc, argv, &o, msg), "apply", msg, help);
  if (r < 0)
    r = cli_api_run(g, run, &o);
  cli_opts_free(&o.base);
  return r;
}
