/*
 * cmd_events.c - `podvisor events [-w] [-n NS | -A]`, as kubectl events:
 * columns LAST SEEN, TYPE, REASON, OBJECT, MESSAGE (NAMESPACE first with
 * -A), the list sorted by last time, LAST SEEN as "5m (x3 over 10m)" for
 * an event seen several times.  -w follows the watch stream instead (the
 * daemon sends the events it has as ADDED first, as Kubernetes does for a
 * watch without resourceVersion), one row per event, DELETED ones left
 * out, columns kept aligned from row to row.  No event: "No events found
 * in NS namespace." on stderr, exit 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/clicmd.h"
#include "supervisor/daemon/k8s_json.h"
#include "supervisor/daemon/k8s_tabw.h"
#include "supervisor/daemon/k8s_time.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor events [-w] [-n NS | -A]\n"
             "  Lists events (a pod started, backed off, was killed, a manifest that does not parse, ...)\n"
             "  as kubectl events does, oldest first.\n"
             "\n"
             "  -w, --watch            print events as they happen\n"
             "  -n, --namespace NS     the namespace (default \"default\")\n"
             "  -A, --all-namespaces   every namespace, with a NAMESPACE column\n"
             "  -h, --help             this text\n");
}

int events_parse(int argc, char **argv, events_opts *o, char *msg) {
  static const struct option longs[] = {{"watch", optional_argument, NULL, 'w'},
                                        {"namespace", required_argument, NULL, 'n'},
                                        {"all-namespaces", optional_argument, NULL, 'A'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (events_opts){0};
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "wn:Ah", longs, NULL)) != -1) {
    switch (c) {
    case 1:
      r = cliopt_fail(msg, "unexpected argument \"%s\": podvisor events takes no arguments", optarg);
      break;
    case 'w': r = cliopt_bool("--watch", optarg, &o->watch, msg); break;
    case 'n': o->base.ns = cliopt_arg(optarg); break;
    case 'A': r = cliopt_bool("--all-namespaces", optarg, &o->base.all_ns, msg); break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  if (r == CLI_PARSE_OK && optind < argc)
    r = cliopt_fail(msg, "unexpected argument \"%s\": podvisor events takes no arguments", argv[optind]);
  return r;
}

/* The time kubectl sorts by: lastTimestamp, else eventTime. */
static int64_t last_time(const json_t *e) {
  int64_t t = k8s_json_time(e, "series.lastObservedTime");
  if (t == 0)
    t = k8s_json_time(e, "lastTimestamp");
  return t != 0 ? t : k8s_json_time(e, "eventTime");
}

/* kubectl events' LAST SEEN. */
static void interval(const json_t *e, int64_t now, char *buf, size_t len) {
  char first[K8S_TIME_HUMAN_MAX], last[K8S_TIME_HUMAN_MAX];
  int64_t et = k8s_json_time(e, "eventTime");
  k8s_time_since(et != 0 ? et : k8s_json_time(e, "firstTimestamp"), now, first);
  int64_t count = k8s_json_int(e, "count");
  if (k8s_json_obj(e, "series") != NULL) {
    k8s_time_since(k8s_json_time(e, "series.lastObservedTime"), now, last);
    snprintf(buf, len, "%s (x%lld over %s)", last, (long long)k8s_json_int(e, "series.count"), first);
  } else if (count > 1) {
    k8s_time_since(k8s_json_time(e, "lastTimestamp"), now, last);
    snprintf(buf, len, "%s (x%lld over %s)", last, (long long)count, first);
  } else {
    snprintf(buf, len, "%s", first);
  }
}

/* A value as kubectl's printers.EscapeTerminal writes it (ESC as "^[", CR
 * as "\r"); trim: with surrounding white space cut, as the message is. */
static void cell(k8s_tabw *tw, const char *s, bool trim) {
  size_t n = strlen(s);
  if (trim) {
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
      s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r'))
      n--;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == 0x1b)
      k8s_tabw_puts(tw, "^[");
    else if (ch == '\r')
      k8s_tabw_puts(tw, "\\r");
    else
      k8s_tabw_write(tw, &s[i], 1);
  }
}

static void row(k8s_tabw *tw, const json_t *e, bool with_ns, int64_t now) {
  char when[128];
  interval(e, now, when, sizeof when);
  if (with_ns)
    k8s_tabw_printf(tw, "%s\t", k8s_json_str(e, "metadata.namespace"));
  k8s_tabw_printf(tw, "%s\t", when);
  cell(tw, k8s_json_str(e, "type"), false);
  k8s_tabw_puts(tw, "\t");
  cell(tw, k8s_json_str(e, "reason"), false);
  k8s_tabw_puts(tw, "\t");
  cell(tw, k8s_json_str(e, "involvedObject.kind"), false);
  k8s_tabw_puts(tw, "/");
  cell(tw, k8s_json_str(e, "involvedObject.name"), false);
  k8s_tabw_puts(tw, "\t");
  cell(tw, k8s_json_str(e, "message"), true);
  k8s_tabw_puts(tw, "\n");
}

static void header(k8s_tabw *tw, bool with_ns) {
  k8s_tabw_printf(tw, "%sLAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\n", with_ns ? "NAMESPACE\t" : "");
}

static int flush(k8s_tabw *tw) {
  k8s_buf out = {0};
  int r = k8s_tabw_flush(tw, &out);
  char *text = k8s_buf_steal(&out);
  if (r < 0 || text == NULL) {
    free(text);
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  fputs(text, stdout);
  fflush(stdout);
  free(text);
  return 0;
}

typedef struct sorted {
  const json_t *e;
  int64_t t;
  size_t i;
} sorted;

static int by_time(const void *a, const void *b) {
  const sorted *x = a, *y = b;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i; /* stable */
}

static int print_list(const json_t *list, const events_opts *o) {
  const json_t *items = json_object_get(list, "items");
  size_t n = json_array_size(items);
  if (n == 0) {
    if (o->base.all_ns)
      fprintf(stderr, "No events found.\n");
    else
      fprintf(stderr, "No events found in %s namespace.\n", cli_ns(&o->base));
    return 0;
  }
  sorted *s = calloc(n, sizeof *s);
  if (s == NULL) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < n; i++)
    s[i] = (sorted){json_array_get(items, i), last_time(json_array_get(items, i)), i};
  qsort(s, n, sizeof *s, by_time);
  k8s_tabw tw;
  k8s_tabw_init(&tw, K8S_TABW_GET);
  header(&tw, o->base.all_ns);
  int64_t now = cli_now_ns();
  for (size_t i = 0; i < n; i++)
    row(&tw, s[i].e, o->base.all_ns, now);
  free(s);
  int r = flush(&tw);
  k8s_tabw_free(&tw);
  return r;
}

typedef struct watch_run {
  const events_opts *o;
  k8s_tabw tw;
  bool headed;
  int status;
} watch_run;

static int on_event(const char *type, json_t *obj, void *ctx) {
  watch_run *w = ctx;
  if (strcmp(type, "ERROR") == 0) {
    char *t = api_status_text_json(0, obj, "GET", NULL, NULL);
    fprintf(stderr, "%s\n", t != NULL ? t : "error: the watch failed");
    free(t);
    w->status = 1;
    return -1;
  }
  if (strcmp(type, "DELETED") == 0)
    return 0; /* kubectl: events expire, that is no news */
  if (!w->headed)
    header(&w->tw, w->o->base.all_ns);
  w->headed = true;
  row(&w->tw, obj, w->o->base.all_ns, cli_now_ns());
  w->status |= flush(&w->tw);
  return 0;
}

static char *events_path(const events_opts *o) {
  char *path = NULL, *ens = api_escape(cli_ns(&o->base));
  if (ens != NULL &&
      asprintf(&path, o->base.all_ns ? "/api/v1/events" : "/api/v1/namespaces/%s/events", ens) < 0)
    path = NULL;
  free(ens);
  return path;
}

static int run(api_client *c, const void *arg) {
  const events_opts *o = arg;
  char *path = events_path(o);
  if (path == NULL || (o->watch && api_path_query(&path, "watch", "true") < 0)) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  int status;
  if (!o->watch) {
    json_t *list = NULL;
    status = cli_get_json(c, path, "list events", &list);
    if (status == 0)
      status = print_list(list, o);
    json_decref(list);
  } else {
    watch_run w = {.o = o};
    k8s_tabw_init(&w.tw, K8S_TABW_GET);
    api_request rq = {.path = path};
    api_reply rep;
    pv_err err;
    pv_err_clear(&err);
    int r = api_watch(c, &rq, on_event, &w, &rep, &err);
    if (rep.code != 0 && !api_reply_ok(&rep))
      w.status = cli_report(c, &err, &rep, "GET", "watch events", NULL);
    else if (r < 0)
      w.status = cli_report(c, &err, NULL, "GET", "watch events", NULL);
    api_reply_free(&rep);
    k8s_tabw_free(&w.tw);
    status = w.status;
  }
  free(path);
  return status;
}

int cmd_events(const cli_globals *g, int argc, char **argv) {
  events_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(events_parse(argc, argv, &o, msg), "events", msg, help);
  if (r < 0)
    r = cli_api_run(g, run, &o);
  cli_opts_free(&o.base);
  return r;
}
