/*
 * main.c - podvisor's entry point: global options, then one subcommand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/cli.h"
#include "supervisor/daemon/daemon.h"

/* How a command is listed in the usage text. */
enum group { GROUP_API, GROUP_LOCAL, GROUP_HIDDEN };

struct command {
  const char *name;
  int (*fn)(const cli_globals *g, int argc, char **argv);
  const char *summary;
  enum group group;
};

/* `podvisor [--root R] [--run-root RR] daemon FLAGS`: the global options
 * the user gave (or their environment variables) come first, as flags of
 * the daemon's own, so that the daemon's flags after them win; the defaults
 * are left out, so that the daemon's config file can set them. */
static int cmd_daemon(const cli_globals *g, int argc, char **argv) {
  char **av = calloc((size_t)argc + 5, sizeof *av);
  if (av == NULL)
    return 1;
  int n = 0;
  av[n++] = argv[0];
  if (strcmp(g->root, CLI_DEFAULT_ROOT) != 0) {
    av[n++] = "--root";
    av[n++] = (char *)g->root;
  }
  if (strcmp(g->run_root, CLI_DEFAULT_RUN_ROOT) != 0) {
    av[n++] = "--run-root";
    av[n++] = (char *)g->run_root;
  }
  for (int i = 1; i < argc; i++)
    av[n++] = argv[i];
  av[n] = NULL;
  int rc = daemon_main(n, av);
  free(av);
  return rc;
}

static const struct command commands[] = {
    {"apply", cmd_apply, "apply manifests to the daemon (-f FILE|DIR|-): create, update or leave each pod",
     GROUP_API},
    {"create", cmd_create, "create pods from manifests (-f FILE); pods that exist are an error", GROUP_API},
    {"delete", cmd_delete, "delete pods by name (delete pod NAME...) or by manifest (-f FILE)", GROUP_API},
    {"get", cmd_get, "list pods (get pods [NAME] [-A] [-o wide|json|yaml|name] [-w])", GROUP_API},
    {"describe", cmd_describe, "show a pod in detail, with its events", GROUP_API},
    {"logs", cmd_logs, "print the logs of a container of a pod", GROUP_API},
    {"exec", cmd_exec, "run a command in a container of a pod (exec POD [-i] [-t] -- CMD...)", GROUP_API},
    {"restart", cmd_restart, "restart a pod's containers now (restart pod NAME [-c C])", GROUP_API},
    {"events", cmd_events, "list events (-w follows them)", GROUP_API},
    {"version", cmd_version, "print the client's and the daemon's version", GROUP_API},
    {"daemon", cmd_daemon,
     "keep the pods of a manifest directory and of the API running (podvisor daemon --help)", GROUP_LOCAL},
    {"run", cmd_run, "run one container in the foreground and remove it (like podman run --rm)", GROUP_LOCAL},
    {"up", cmd_up, "run pod manifests in the foreground until Ctrl-C", GROUP_LOCAL},
    {"validate", cmd_validate, "check pod manifests and print every problem", GROUP_LOCAL},
    {"image", cmd_image, "manage images: image import NAME[:TAG] DIR|TARBALL, image rm NAME", GROUP_LOCAL},
    {"images", cmd_images, "list imported images", GROUP_LOCAL},
    {"shim", cmd_shim, "(internal) the per-pod keeper process", GROUP_HIDDEN},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
  fprintf(f,
          "usage: podvisor [--root DIR] [--run-root DIR] COMMAND [ARGS...]\n\n"
          "commands of the daemon's API (the daemon runs: podvisor daemon, or systemctl start podvisor):\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (commands[i].group == GROUP_API)
      fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\ncommands without a daemon:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (commands[i].group == GROUP_LOCAL)
      fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nglobal options:\n"
             "  --root DIR      images, pod data and logs (default " CLI_DEFAULT_ROOT ")\n"
             "  --run-root DIR  sockets and status files (default " CLI_DEFAULT_RUN_ROOT ")\n"
             "  --version       print the version\n"
             "\nEvery command has --help.  Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv) {
  cli_globals g = {.root = CLI_DEFAULT_ROOT, .run_root = CLI_DEFAULT_RUN_ROOT};
  const char *env = getenv("PODVISOR_ROOT");
  if (env != NULL && *env != '\0')
    g.root = env;
  env = getenv("PODVISOR_RUN_ROOT");
  if (env != NULL && *env != '\0')
    g.run_root = env;

  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if ((strcmp(a, "--root") == 0 || strcmp(a, "--run-root") == 0) && i + 1 < argc) {
      if (strcmp(a, "--root") == 0)
        g.root = argv[++i];
      else
        g.run_root = argv[++i];
    } else if (strncmp(a, "--root=", 7) == 0) {
      g.root = a + 7;
    } else if (strncmp(a, "--run-root=", 11) == 0) {
      g.run_root = a + 11;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      g.verbose++;
    } else if (strcmp(a, "--version") == 0) {
      printf("podvisor %s\n", PODVISOR_VERSION);
      return 0;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "podvisor: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  for (size_t c = 0; c < N_COMMANDS; c++)
    if (strcmp(argv[i], commands[c].name) == 0)
      return commands[c].fn(&g, argc - i, argv + i);
  fprintf(stderr, "podvisor: unknown command '%s' (see podvisor --help)\n", argv[i]);
  return 2;
}
