/*
 * cmd_logs.c - `podvisor logs POD [-c C] [-f] [-p] [--tail N] [--timestamps]
 * [-n NS]`, as kubectl logs: the text of the container's log, streamed
 * from the daemon's log endpoint as it arrives (with -f until the
 * container's run ends or the user interrupts).
 *
 * Without -c the container is chosen as kubectl chooses it (the pod's
 * kubectl.kubernetes.io/default-container annotation, else the first
 * container, with a note on stderr when the pod has several), which takes
 * one GET of the pod first.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/cli/clicmd.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor logs POD [-c CONTAINER] [-f] [-p] [--tail N] [--timestamps] [-n NS]\n"
             "  Prints the logs of a container of a pod (POD may also be written pod/POD).\n"
             "\n"
             "  -c, --container C   the container (default: the pod's default or first container)\n"
             "  -f, --follow        keep printing as the container writes, until its run ends\n"
             "  -p, --previous      the logs of the container's previous run\n"
             "      --tail N        only the last N lines (-1: all)\n"
             "      --timestamps    each line begins with its RFC 3339 time\n"
             "  -n, --namespace NS  the namespace (default \"default\")\n"
             "  -h, --help          this text\n");
}

enum { OPT_TAIL = 256, OPT_TIMESTAMPS };

int logs_parse(int argc, char **argv, logs_opts *o, char *msg) {
  static const struct option longs[] = {{"container", required_argument, NULL, 'c'},
                                        {"follow", optional_argument, NULL, 'f'},
                                        {"previous", optional_argument, NULL, 'p'},
                                        {"tail", required_argument, NULL, OPT_TAIL},
                                        {"timestamps", optional_argument, NULL, OPT_TIMESTAMPS},
                                        {"namespace", required_argument, NULL, 'n'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (logs_opts){.tail = -1};
  o->base.names = calloc(2, sizeof *o->base.names);
  if (o->base.names == NULL)
    return cliopt_fail(msg, "out of memory");
  const char *pod = NULL;
  size_t npos = 0;
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "c:fpn:h", longs, NULL)) != -1) {
    switch (c) {
    case 1:
      if (npos++ == 0)
        pod = argv[optind - 1];
      break;
    case 'c': o->container = cliopt_arg(optarg); break;
    case 'f': r = cliopt_bool("--follow", optarg, &o->follow, msg); break;
    case 'p': r = cliopt_bool("--previous", optarg, &o->previous, msg); break;
    case OPT_TAIL: r = cliopt_long("--tail", optarg, -1, 1L << 40, &o->tail, msg); break;
    case OPT_TIMESTAMPS: r = cliopt_bool("--timestamps", optarg, &o->timestamps, msg); break;
    case 'n': o->base.ns = cliopt_arg(optarg); break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  for (; r == CLI_PARSE_OK && optind < argc; optind++)
    if (npos++ == 0)
      pod = argv[optind];
  if (r != CLI_PARSE_OK)
    return r;
  if (pod == NULL)
    return cliopt_fail(msg, "a pod must be specified: podvisor logs POD [-c CONTAINER]");
  if (npos > 1)
    return cliopt_fail(msg, "only one pod at a time: podvisor logs POD [-c CONTAINER] (got %zu arguments)",
                       npos);
  if (cliopt_one_pod(pod, &pod, msg) != CLI_PARSE_OK)
    return CLI_PARSE_USAGE;
  o->base.names[0] = pod;
  o->base.n_names = 1;
  return CLI_PARSE_OK;
}

static int to_stdout(const char *data, size_t n, void *ctx) {
  (void)ctx;
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, data, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1; /* stdout is gone (a closed pipe): stop */
    data += w;
    n -= (size_t)w;
  }
  return 0;
}

static int run(api_client *c, const void *arg) {
  const logs_opts *o = arg;
  const char *ns = cli_ns(&o->base), *pod = o->base.names[0];
  char what[512];
  snprintf(what, sizeof what, "get pods %s", pod);
  json_t *obj = NULL;
  const char *container = o->container;
  if (container == NULL) {
    char *path = api_path_pods(ns, pod, NULL);
    if (path == NULL || cli_get_json(c, path, what, &obj) != 0) {
      free(path);
      return 1;
    }
    free(path);
    container = cli_default_container(obj);
  }
  char tail[32];
  snprintf(tail, sizeof tail, "%ld", o->tail);
  char *path = api_path_pods(ns, pod, "log");
  int r = api_path_query(&path, "container", container) < 0 ||
          api_path_query(&path, "follow", o->follow ? "true" : NULL) < 0 ||
          api_path_query(&path, "previous", o->previous ? "true" : NULL) < 0 ||
          api_path_query(&path, "tailLines", o->tail >= 0 ? tail : NULL) < 0 ||
          api_path_query(&path, "timestamps", o->timestamps ? "true" : NULL) < 0;
  if (r) {
    json_decref(obj);
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  api_request rq = {.path = path, .accept = "text/plain, */*"};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  snprintf(what, sizeof what, "get pods %s", pod);
  int status = 0;
  if (api_stream(c, &rq, to_stdout, NULL, &rep, &err) < 0)
    status = cli_report(c, &err, NULL, "GET", what, NULL);
  else if (!api_reply_ok(&rep))
    status = cli_report(c, &err, &rep, "GET", what, NULL);
  api_reply_free(&rep);
  free(path);
  json_decref(obj);
  return status;
}

int cmd_logs(const cli_globals *g, int argc, char **argv) {
  logs_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(logs_parse(argc, argv, &o, msg), "logs", msg, help);
  if (r < 0)
    r = cli_api_run(g, run, &o);
  cli_opts_free(&o.base);
  return r;
}
