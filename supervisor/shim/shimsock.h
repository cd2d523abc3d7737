/*
 * shimsock.h - the shim's control socket: a unix stream socket, one command
 * per connection, line protocol.
 *
 * The client writes one line ("status", "stop", "restart NAME",
 * "update NAME FILE"); the server calls the handler, writes its reply
 * followed by "\n" and closes the connection.  Replies are "ok",
 * "error: MESSAGE" or, for status, the status JSON document.  The socket
 * file is created with mode 0600 (root only); a stale file left by a killed
 * shim is unlinked before bind.  A path longer than sun_path allows (a long
 * --run-root) is bound and connected through "/proc/self/fd/N/<name>",
 * N an O_PATH fd of its directory.
 *
 * Everything runs on the caller's libuv loop and never blocks: a slow client
 * only costs its own connection (which is dropped after 5 s of silence or
 * after a 4 KiB line without a newline).  Handles are embedded in the
 * shimsock and in per-connection structs that are freed only in their close
 * callbacks.  shimsock_close() closes the listener and every connection;
 * a connection whose command is being answered (also one whose handler
 * called shimsock_close) is closed only after its reply is written.  The
 * shimsock may be freed after on_closed fires.
 */
#ifndef PODVISOR_SHIM_SHIMSOCK_H
#define PODVISOR_SHIM_SHIMSOCK_H

#include <stdbool.h>
#include <uv.h>

#include "supervisor/core/error.h"

/* Handles one command line (without the newline).  Returns a malloc'd reply
 * without the trailing newline (NULL = "error: out of memory"). */
typedef char *(*shimsock_handler)(void *ctx, const char *line);

typedef struct shimsock {
  uv_pipe_t server;
  bool listening, closing;
  int n_conns; /* live connections, each freed in its close callback */
  struct shimsock_conn *conns;
  shimsock_handler handler;
  void *ctx;
  void (*on_closed)(void *ctx);
  const char *path; /* borrowed from shimsock_listen's caller, kept until closed; any length:
                     * a long one is bound through its directory's fd */
} shimsock;

/* Listens on path (mode 0600), which must stay valid until on_closed. */
int shimsock_listen(shimsock *ss, uv_loop_t *loop, const char *path, shimsock_handler h, void *ctx,
                    pv_err *err);
/* Stops listening, closes open connections, unlinks the socket file.
 * on_closed(ctx) runs once every handle is closed. */
void shimsock_close(shimsock *ss, void (*on_closed)(void *ctx));

/* Blocking client for the CLI and tests: sends line, returns the malloc'd
 * reply (trailing newline stripped).  timeout_ms bounds the whole exchange. */
char *shimsock_request(const char *path, const char *line, int timeout_ms, pv_err *err);

#endif
