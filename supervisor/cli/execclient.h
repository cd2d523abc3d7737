/*
 * execclient.h - the client of the daemon's exec socket,
 * <run-root>/exec.sock (supervisor/daemon/API.md, "Exec").
 *
 * What it is for: `podvisor exec`.  HTTP cannot carry descriptors, so the
 * daemon brokers exec on a socket of its own that speaks the shim's
 * control protocol (ctlproto.h): one request line, the shim's exec op
 * plus "namespace" and "pod", sent with the descriptors the exec op takes
 * (without a terminal the process's [stdin with -i,] stdout and stderr;
 * with one none); then the replies the daemon relays from the pod's shim:
 * {"ok":true,"pid":N} (with the pty master as SCM_RIGHTS when a terminal
 * was asked for) or an error reply, then {"event":"exit","exitCode":N},
 * then the end of the connection.
 *
 * execclient_run() does all of it on a connected socket (the unit tests
 * give it one end of a socketpair), on a private libuv loop: the terminal
 * through exec_term.h (raw mode, the master proxied to io->out and io->in
 * to the master with -i, SIGWINCH, the terminal restored on every way
 * out).  The result: CMD's exit code, or the daemon's refusal (a
 * ctlproto reason such as NotFound, and its message).
 *
 * Ownership: execclient_run takes the socket and closes it; the local
 * descriptors stay the caller's.  Never prints.  0 / -1 with err.
 */
#ifndef PODVISOR_CLI_EXECCLIENT_H
#define PODVISOR_CLI_EXECCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/core/error.h"

typedef struct execclient_req {
  const char *ns, *pod, *container;
  char **argv; /* NULL-terminated, not empty */
  bool tty, in;
  unsigned rows, cols; /* with tty: the terminal's first size (0: unknown) */
} execclient_req;

typedef struct execclient_io {
  int in, out, err; /* the local side: 0, 1, 2 for podvisor exec */
} execclient_io;

typedef struct execclient_result {
  int exit_code; /* CMD's, or -1 */
  bool refused;  /* an error reply came: reason and message */
  char reason[32];
  char message[512];
  long pid; /* the exec'ed process, from the ok reply (-1 none) */
} execclient_result;

/* The request line (ending in "\n"), malloc'd; NULL with err. */
char *execclient_line(const execclient_req *rq, size_t *len, pv_err *err);

/* A blocking, close-on-exec connection to path (long paths as
 * ctlproto_socket_addr reaches them): the fd, or -1 with err (ENOENT,
 * ECONNREFUSED: nobody serves it). */
int execclient_connect(const char *path, pv_err *err);

/* Sends rq with io's descriptors on sock and relays until the daemon
 * closes the connection: 0 with *res (exit_code >= 0, or refused), or -1
 * with err (the connection failed or ended before an exit status). */
int execclient_run(int sock, const execclient_req *rq, const execclient_io *io, execclient_result *res,
                   pv_err *err);

#endif
