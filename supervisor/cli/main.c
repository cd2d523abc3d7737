/*
 * main.c - podvisor's entry point: global options, then one subcommand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/cli.h"

struct command {
  const char *name;
  int (*fn)(const cli_globals *g, int argc, char **argv);
  const char *summary;
  int hidden;
};

static const struct command commands[] = {
    {"run", cmd_run, "run one container in the foreground and remove it (like podman run --rm)", 0},
    {"up", cmd_up, "run pod manifests in the foreground until Ctrl-C", 0},
    {"validate", cmd_validate, "check pod manifests and print every problem", 0},
    {"image", cmd_image, "manage images: image import NAME[:TAG] DIR|TARBALL, image rm NAME", 0},
    {"images", cmd_images, "list imported images", 0},
    {"shim", cmd_shim, "(internal) the per-pod keeper process", 1},
};

static void usage(FILE *f) {
  fprintf(f, "usage: podvisor [--root DIR] [--run-root DIR] COMMAND [ARGS...]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!commands[i].hidden)
      fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nglobal options:\n"
             "  --root DIR      images, pod data and logs (default /var/lib/podvisor)\n"
             "  --run-root DIR  sockets and status files (default /run/podvisor)\n"
             "  --version       print the version\n");
}

int main(int argc, char **argv) {
  cli_globals g = {.root = "/var/lib/podvisor", .run_root = "/run/podvisor"};
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
  for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
    if (strcmp(argv[i], commands[c].name) == 0)
      return commands[c].fn(&g, argc - i, argv + i);
  fprintf(stderr, "podvisor: unknown command '%s' (see podvisor --help)\n", argv[i]);
  return 2;
}
