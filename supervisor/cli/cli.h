/*
 * cli.h - the podvisor command line: one file per subcommand (cmd_*.c).
 *
 * Each command gets the global options and its own argv (argv[0] is the
 * command name) and returns the process exit status: 0 success, 1 failure,
 * 2 usage error.  Commands print; library code below them never does.
 */
#ifndef PODVISOR_CLI_H
#define PODVISOR_CLI_H

typedef struct cli_globals {
  const char *root;     /* --root, default /var/lib/podvisor */
  const char *run_root; /* --run-root, default /run/podvisor */
  int verbose;
} cli_globals;

int cmd_run(const cli_globals *g, int argc, char **argv);
int cmd_image(const cli_globals *g, int argc, char **argv);
int cmd_images(const cli_globals *g, int argc, char **argv);
int cmd_validate(const cli_globals *g, int argc, char **argv);
int cmd_up(const cli_globals *g, int argc, char **argv);
int cmd_shim(const cli_globals *g, int argc, char **argv);
/* `shim ctl SOCKET exec ...` (cmd_shim_exec.c); argv starts after "exec". */
int cmd_shim_exec(const char *sock, int argc, char **argv);

#endif
