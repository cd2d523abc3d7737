/*
 * shimsock.h - the shim's control socket: the transport of the control
 * protocol (supervisor/proto/ctlproto.h), on the shim's libuv loop.
 *
 * What it does: listens on a unix stream socket (mode 0600; a stale file
 * left by a killed shim is unlinked first; a path too long for sun_path is
 * bound through its directory's fd), accepts connections, cuts what they
 * send into lines, hands each complete line with the descriptors that came
 * with it (SCM_RIGHTS) to the request handler, and writes replies, events
 * and descriptors back.  It knows nothing of the ops: shim_ops.c does.
 *
 * Per connection:
 *  - Requests are answered one after the other: after a line is handed
 *    over, the next one waits until the handler has replied
 *    (shimsock_reply, now or later, exactly once); reading pauses while a
 *    reply is pending or unsent, so a client that does not read its
 *    replies only fills its own socket.
 *  - A line longer than CTLPROTO_LINE_MAX gets an Invalid error reply and
 *    the connection is closed after it; the handler may do the same for a
 *    malformed line (shimsock_end).
 *  - A connection that is neither answering, nor watching, nor held by an
 *    op is closed after SHIMSOCK_IDLE_MS of silence.
 *  - Watching (shimsock_watch): the connection receives every status
 *    published (shimsock_publish) as an event line; when a watcher has not
 *    read the previous event yet, a newer status replaces the one still
 *    queued (a status is a whole document: the latest is what counts).
 *  - Held by an op (shimsock_hold: exec): the op owns the connection's
 *    life; it is told when the peer goes away (the closed callback with
 *    the op's data) and ends it with shimsock_end.
 *  - At most SHIMSOCK_MAX_CONNS connections; one more gets an Internal error
 *    reply and is closed.
 *  - Descriptors that arrive with a line belong to that line's handler
 *    (at most CTLPROTO_MAX_FDS; more, or ones cut by the kernel, close the
 *    connection).  Descriptors no line claimed are closed with it.
 *
 * Ownership: the shimsock and its per-connection structs own their handles
 * and are freed only in close callbacks.  A connection whose reply is
 * pending stays allocated (and the handler's conn pointer valid) until
 * shimsock_reply is called, also after its peer went away or shimsock_close
 * (the reply is then dropped).  shimsock_close stops listening, unlinks the
 * socket file, flushes what is queued to each connection (watchers get their
 * final status), closes them all, and calls on_closed once every handle is
 * closed (bounded: a peer that does not read is closed after
 * SHIMSOCK_FLUSH_MS).  Nothing blocks the loop.
 */
#ifndef PODVISOR_SHIM_SHIMSOCK_H
#define PODVISOR_SHIM_SHIMSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "supervisor/core/error.h"
#include "supervisor/proto/ctlproto.h"

#define SHIMSOCK_IDLE_MS 5000
#define SHIMSOCK_FLUSH_MS 2000
#define SHIMSOCK_MAX_CONNS 64

typedef struct shimsock shimsock;
typedef struct shimsock_conn shimsock_conn;

typedef struct shimsock_handler {
  /* One request line (NUL-terminated, without its newline) and the fds
   * that came with it (the handler owns them: it closes what it does not
   * keep).  Must lead to exactly one shimsock_reply for c. */
  void (*request)(void *ctx, shimsock_conn *c, char *line, size_t len, int *fds, size_t nfds);
  /* A connection held by an op (shimsock_hold) is gone: its peer closed,
   * or the shimsock closes.  data is the op's; c is not valid afterwards. */
  void (*released)(void *ctx, shimsock_conn *c, void *data);
} shimsock_handler;

struct shimsock {
  uv_loop_t *loop;
  uv_poll_t server;
  int fd; /* listening socket, -1 when none */
  bool listening, closing;
  int n_conns; /* live connections, each freed in its close callback */
  struct shimsock_conn *conns;
  const shimsock_handler *h;
  void *ctx;
  void (*on_closed)(void *ctx);
  const char *path; /* borrowed from shimsock_listen's caller until closed */
};

/* Listens on path (mode 0600), which must stay valid until on_closed. */
int shimsock_listen(shimsock *ss, uv_loop_t *loop, const char *path, const shimsock_handler *h, void *ctx,
                    pv_err *err);

/* The one reply to the request being answered on c: line (malloc'd, the
 * shimsock owns it; NULL = out of memory, the connection is closed) of
 * len bytes ending in "\n", and fd (-1 for none) sent with its first byte
 * and then closed here. */
void shimsock_reply(shimsock_conn *c, char *line, size_t len, int fd);

/* After its reply: c receives every status published from now on. */
void shimsock_watch(shimsock_conn *c);

/* After its reply: c is the op's (see above); data comes back in released.
 * false when c is already gone (its peer left before the reply): the op
 * then ends what it started. */
bool shimsock_hold(shimsock_conn *c, void *data);

/* Queues an event line (malloc'd, owned from now on) on a held connection. */
void shimsock_send(shimsock_conn *c, char *line, size_t len);

/* Closes c once what is queued is written; a held connection is released
 * without the released callback. */
void shimsock_end(shimsock_conn *c);

/* Hands a rendered status (compact JSON, no newline) to every watcher. */
void shimsock_publish(shimsock *ss, const char *status_text);

/* True when some connection watches (rendering can be skipped otherwise). */
bool shimsock_has_watchers(const shimsock *ss);

/* See above.  on_closed(ctx) runs once every handle is closed. */
void shimsock_close(shimsock *ss, void (*on_closed)(void *ctx));

#endif
