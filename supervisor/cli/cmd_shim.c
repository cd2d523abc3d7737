/*
 * cmd_shim.c - `podvisor shim`: the per-pod keeper process (shim.h).
 *
 *   podvisor [--root DIR] [--run-root DIR] shim --pod-file FILE [--pod NAME]
 *            [--namespace NS] [--log-max-size SIZE] [--log-max-files N]
 *
 * Started by `podvisor up` (and later the daemon) in its own session; runs
 * until the pod is stopped (SIGTERM, SIGINT or "stop" on its socket).
 *
 *   podvisor shim ctl SOCKET COMMAND...
 *
 * is the client side: sends one command line ("status", "stop",
 * "restart NAME", "update NAME FILE") to a shim's socket and prints the reply;
 * exit 1 when the reply starts with "error:".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/cli.h"
#include "supervisor/core/util.h"
#include "supervisor/shim/shim.h"
#include "supervisor/shim/shimsock.h"

static void usage(FILE *f) {
  fprintf(f, "usage: podvisor shim --pod-file FILE [--pod NAME] [--namespace NS]\n"
             "                     [--log-max-size SIZE] [--log-max-files N]\n");
}

static int ctl(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: podvisor shim ctl SOCKET COMMAND...\n");
    return 2;
  }
  char line[4096] = "";
  size_t len = 0;
  for (int i = 3; i < argc; i++) {
    int n = snprintf(line + len, sizeof line - len, "%s%s", i > 3 ? " " : "", argv[i]);
    if (n < 0 || (size_t)n >= sizeof line - len) {
      fprintf(stderr, "podvisor shim ctl: command too long\n");
      return 2;
    }
    len += (size_t)n;
  }
  pv_err err;
  pv_err_clear(&err);
  char *reply = shimsock_request(argv[2], line, 10000, &err);
  if (reply == NULL) {
    fprintf(stderr, "podvisor shim ctl: %s\n", pv_err_str(&err));
    return 1;
  }
  printf("%s\n", reply);
  int rc = strncmp(reply, "error:", 6) == 0 ? 1 : 0;
  free(reply);
  return rc;
}

int cmd_shim(const cli_globals *g, int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "ctl") == 0)
    return ctl(argc, argv);
  shim_options o = {.root = g->root, .run_root = g->run_root};
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
  pv_err perr;
  pv_err_clear(&perr);
  if (shim_parse_args(argc, argv, &o, &perr) < 0) {
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&perr));
    usage(stderr);
    return 2;
  }
  pv_err err;
  pv_err_clear(&err);
  if (shim_main(&o, &err) < 0) {
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    return 1;
  }
  return 0;
}
