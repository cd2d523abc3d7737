/* cmd_validate.c - placeholder until the command lands. */
#include <stdio.h>

#include "supervisor/cli/cli.h"

int cmd_validate(const cli_globals *g, int argc, char **argv) {
  (void)g;
  (void)argc;
  fprintf(stderr, "podvisor %s: not implemented yet\n", argv[0]);
  return 1;
}
