/*
 * cli.h - the podvisor command line: one file per subcommand (cmd_*.c).
 *
 * Each command gets the global options and its own argv (argv[0] is the
 * command name) and returns the process exit status: 0 success, 1 failure,
 * 2 usage error.  Commands print; library code below them never does.
 *
 * Two kinds of commands: those that work without a daemon (run, up,
 * validate, image, images, shim), and the clients of the daemon's API
 * (apply, create, delete, get, describe, logs, exec, restart, events,
 * version; see clicmd.h), which reach it through <run-root>/podvisor.sock.
 */
#ifndef PODVISOR_CLI_H
#define PODVISOR_CLI_H

#ifndef PODVISOR_VERSION
#define PODVISOR_VERSION "0.1.0" /* CMake passes the project's version */
#endif

#define CLI_DEFAULT_ROOT "/var/lib/podvisor"
#define CLI_DEFAULT_RUN_ROOT "/run/podvisor"

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

/* Clients of the daemon's API. */
int cmd_apply(const cli_globals *g, int argc, char **argv);
int cmd_create(const cli_globals *g, int argc, char **argv);
int cmd_delete(const cli_globals *g, int argc, char **argv);
int cmd_get(const cli_globals *g, int argc, char **argv);
int cmd_describe(const cli_globals *g, int argc, char **argv);
int cmd_logs(const cli_globals *g, int argc, char **argv);
int cmd_exec(const cli_globals *g, int argc, char **argv);
int cmd_restart(const cli_globals *g, int argc, char **argv);
int cmd_events(const cli_globals *g, int argc, char **argv);
int cmd_version(const cli_globals *g, int argc, char **argv);

#endif
