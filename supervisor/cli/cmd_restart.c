/*
 * cmd_restart.c - `podvisor restart pod NAME... [-c C] [-n NS]`: the pod's
 * containers (or one of them) restart now, whatever their back-off
 * (POST /apis/podvisor.io/v1/namespaces/NS/pods/NAME/restart).  Prints
 * "pod/web restarted" per pod, as kubectl rollout restart words it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/clicmd.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor restart pod NAME... [-c CONTAINER] [-n NS]\n"
             "  Restarts the containers of pods now, clearing their back-off; with -c only that\n"
             "  container.  NAME may also be written pod/NAME.\n"
             "\n"
             "  -c, --container C   only this container\n"
             "  -n, --namespace NS  the namespace (default \"default\")\n"
             "  -h, --help          this text\n");
}

int restart_parse(int argc, char **argv, restart_opts *o, char *msg) {
  static const struct option longs[] = {{"container", required_argument, NULL, 'c'},
                                        {"namespace", required_argument, NULL, 'n'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (restart_opts){0};
  char **pos = calloc((size_t)argc + 1, sizeof *pos);
  o->base.names = calloc((size_t)argc + 1, sizeof *o->base.names);
  if (pos == NULL || o->base.names == NULL) {
    free(pos);
    return cliopt_fail(msg, "out of memory");
  }
  size_t npos = 0;
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "c:n:h", longs, NULL)) != -1) {
    switch (c) {
    case 1: pos[npos++] = argv[optind - 1]; break;
    case 'c': o->container = cliopt_arg(optarg); break;
    case 'n': o->base.ns = cliopt_arg(optarg); break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  while (r == CLI_PARSE_OK && optind < argc)
    pos[npos++] = argv[optind++];
  if (r == CLI_PARSE_OK)
    r = cliopt_pod_args(pos, npos, o->base.names, &o->base.n_names, msg);
  if (r == CLI_PARSE_OK && o->base.n_names == 0)
    r = cliopt_fail(msg, "a pod must be specified: podvisor restart pod NAME");
  free(pos);
  return r;
}

static int restart_one(api_client *c, const char *ns, const char *name, const char *container) {
  char *ens = api_escape(ns), *ename = api_escape(name), *path = NULL;
  if (ens == NULL || ename == NULL ||
      asprintf(&path, "/apis/podvisor.io/v1/namespaces/%s/pods/%s/restart", ens, ename) < 0)
    path = NULL;
  free(ens);
  free(ename);
  if (api_path_query(&path, "container", container) < 0) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  char what[512];
  snprintf(what, sizeof what, "restart pods %s", name);
  api_request rq = {.method = "POST", .path = path};
  api_reply rep;
  pv_err err;
  pv_err_clear(&err);
  int status = 0;
  if (api_call(c, &rq, &rep, &err) < 0)
    status = cli_report(c, &err, NULL, "POST", what, NULL);
  else if (!api_reply_ok(&rep))
    status = cli_report(c, &err, &rep, "POST", what, NULL);
  else
    printf("pod/%s restarted\n", name);
  api_reply_free(&rep);
  free(path);
  return status;
}

int cmd_restart(const cli_globals *g, int argc, char **argv) {
  restart_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(restart_parse(argc, argv, &o, msg), "restart", msg, help);
  if (r < 0) {
    api_client c;
    int opened = cli_api_open(g, &c);
    r = opened;
    for (size_t i = 0; opened == 0 && !c.down && i < o.base.n_names; i++)
      r |= restart_one(&c, cli_ns(&o.base), o.base.names[i], o.container);
    api_client_free(&c);
  }
  cli_opts_free(&o.base);
  return r;
}
