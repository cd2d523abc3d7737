/*
 * ctlproto.h - the shim's control protocol, version 1: JSON lines over the
 * shim's unix socket, with file descriptors passed as SCM_RIGHTS.
 *
 * What it is for: the one definition of what a launcher (podctl, `podvisor
 * shim ctl`, the daemon) and a shim say to each other.  Pure encoding and
 * decoding (Jansson) plus three socket helpers; no event loop.  The shim's
 * transport (supervisor/shim/shimsock.h) and the client (supervisor/podctl/)
 * use it; tests/unit/test_ctlproto.c covers every case below.
 *
 * Wire format.  One JSON object per line ("\n"-terminated, at most
 * CTLPROTO_LINE_MAX bytes including the newline) each way.  A connection
 * carries requests one after the other; every request gets exactly one
 * reply line:
 *   request  {"v":1,"op":OP, ...}
 *   reply    {"v":1,"ok":true, ...}
 *            {"v":1,"ok":false,"error":{"reason":R,"message":"..."}}
 *   event    {"v":1,"event":"status","status":{...}}      (after "watch")
 *            {"v":1,"event":"exit","exitCode":N}          (after "exec")
 * with R one of NotFound, Invalid, Conflict, Unsupported, Internal,
 * ShuttingDown.  Ops and their fields:
 *   status                                  -> "status": the status document
 *   stop     [gracePeriodSeconds >= 0]      -> ok; the pod stops gracefully
 *   restart  container                      -> ok (bypasses the backoff)
 *   update   container, spec (the container object, as podjson writes it)
 *                                           -> ok, "restarted": bool
 *   watch                                   -> "status", then status events
 *   exec     container, argv (non-empty array of strings), [tty], [stdin],
 *            [rows, cols: the terminal's first size, with tty]
 *                                           -> "pid" (+ the pty master fd
 *                                              with tty), then one exit event
 * exec's descriptors travel with the request line: without tty, the
 * process's [stdin if "stdin":true], stdout and stderr, in that order
 * (stdin defaults to /dev/null); with tty none (the shim makes a pty).
 *
 * Decoding a request never crashes and never trusts the input: a missing
 * or other version, an unknown op, a missing or mistyped field get an
 * error (reason Invalid, or Unsupported for an op or version this side
 * does not speak) naming the field; malformed JSON and oversized lines
 * are fatal (the server replies, then closes the connection).
 *
 * Ownership: decoded structs own their JSON document and point into it;
 * ctlproto_request_free()/ctlproto_msg_free() release them (NULL-safe).
 * Encoders return a malloc'd, NUL-terminated line ending in "\n" (its
 * length without the NUL in *len), or NULL on out of memory.
 */
#ifndef PODVISOR_PROTO_CTLPROTO_H
#define PODVISOR_PROTO_CTLPROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervisor/core/error.h"

#define CTLPROTO_VERSION 1
#define CTLPROTO_LINE_MAX (1024 * 1024) /* a status of 64 containers, an update's spec */
#define CTLPROTO_MAX_FDS 3              /* exec: stdin, stdout, stderr */
#define CTLPROTO_ARGV_MAX 4096          /* exec: arguments */

typedef enum ctlproto_op {
  CTLPROTO_OP_STATUS,
  CTLPROTO_OP_STOP,
  CTLPROTO_OP_RESTART,
  CTLPROTO_OP_UPDATE,
  CTLPROTO_OP_WATCH,
  CTLPROTO_OP_EXEC,
  CTLPROTO_OP_COUNT
} ctlproto_op;

typedef enum ctlproto_reason {
  CTLPROTO_NOT_FOUND,
  CTLPROTO_INVALID,
  CTLPROTO_CONFLICT,
  CTLPROTO_UNSUPPORTED,
  CTLPROTO_INTERNAL,
  CTLPROTO_SHUTTING_DOWN,
  CTLPROTO_REASON_COUNT
} ctlproto_reason;

const char *ctlproto_op_name(ctlproto_op op);        /* "status", ... */
const char *ctlproto_reason_name(ctlproto_reason r); /* "NotFound", ... */
int ctlproto_reason_parse(const char *s, ctlproto_reason *out);

/* A request.  To encode, fill the fields the op uses (the rest zeroed,
 * grace_seconds -1 for "the pod's own"); decoded, strings and spec point
 * into doc and argv is a NULL-terminated array owned by the struct. */
typedef struct ctlproto_request {
  ctlproto_op op;
  const char *container; /* restart, update, exec */
  int64_t grace_seconds; /* stop: -1 = the pod's terminationGracePeriodSeconds */
  const json_t *spec;    /* update: the container object */
  char **argv;           /* exec */
  size_t argc;
  bool tty;            /* exec: run on a pty the shim allocates */
  bool has_stdin;      /* exec: the first passed fd is stdin */
  unsigned rows, cols; /* exec with tty: the size to start with (0: unset) */
  json_t *doc;         /* decoded: the whole line */
  bool argv_owned;     /* decoded: argv (not its strings) is malloc'd */
} ctlproto_request;

/* Why a request could not be decoded: the reply to send.  fatal: the line
 * was not JSON at all (or too long), and the connection should close. */
typedef struct ctlproto_error {
  ctlproto_reason reason;
  bool fatal;
  char message[512];
} ctlproto_error;

/* Decodes one line (without or with its "\n"; len bytes, need not be
 * NUL-terminated).  0 with *req filled, or -1 with *e. */
int ctlproto_decode_request(const char *line, size_t len, ctlproto_request *req, ctlproto_error *e);
void ctlproto_request_free(ctlproto_request *req);

/* Encodes a request line; NULL with err (EINVAL for a request that would
 * not decode, ENOMEM). */
char *ctlproto_encode_request(const ctlproto_request *req, size_t *len, pv_err *err);

/* Replies and events (server side).  fields: extra members of an ok reply,
 * stolen (NULL for none).  status_text: a status document already rendered
 * as compact JSON (no newline), embedded as it is. */
char *ctlproto_reply_ok(json_t *fields, size_t *len);
char *ctlproto_reply_error(ctlproto_reason r, const char *message, size_t *len);
char *ctlproto_reply_status(const char *status_text, size_t *len);
char *ctlproto_event_status(const char *status_text, size_t *len);
char *ctlproto_event_exit(int exit_code, size_t *len);

/* A line received by a client: a reply or an event.  Pointers borrow doc. */
typedef struct ctlproto_msg {
  json_t *doc;
  const char *event;      /* "status", "exit", or NULL for a reply */
  bool ok;                /* replies */
  ctlproto_reason reason; /* !ok */
  const char *message;    /* !ok: the error text */
  const json_t *status;   /* a status reply or event, else NULL */
  int64_t pid;            /* exec reply, else -1 */
  int64_t exit_code;      /* exit event, else -1 */
  int restarted;          /* update reply: 0/1, else -1 */
} ctlproto_msg;

/* 0 with *m, or -1 with err (EPROTO: not a version 1 reply or event). */
int ctlproto_decode_msg(const char *line, size_t len, ctlproto_msg *m, pv_err *err);
void ctlproto_msg_free(ctlproto_msg *m);

/* --- framing: a growing buffer of received bytes, cut into lines -------- */

typedef struct ctlproto_lines {
  char *buf;
  size_t len, cap;
  size_t start;   /* where the unconsumed bytes begin */
  size_t scanned; /* bytes before this hold no newline */
} ctlproto_lines;

/* Room for at least want more bytes (capped so that a line never exceeds
 * CTLPROTO_LINE_MAX): the free space, its size in *avail.  NULL with
 * ENOMEM, or with EMSGSIZE when a partial line fills the limit. */
char *ctlproto_lines_space(ctlproto_lines *l, size_t want, size_t *avail);
/* n bytes were written into the space. */
void ctlproto_lines_commit(ctlproto_lines *l, size_t n);
/* 1 and the next complete line (NUL-terminated in place, its newline and
 * a trailing "\r" removed) in *line and *len, valid until the next call of
 * lines_next or lines_space; 0 when no complete line is buffered; -1 with
 * EMSGSIZE when a line (complete or not) reaches CTLPROTO_LINE_MAX. */
int ctlproto_lines_next(ctlproto_lines *l, char **line, size_t *len);
/* Bytes buffered beyond the lines returned (a partial line). */
size_t ctlproto_lines_pending(const ctlproto_lines *l);
void ctlproto_lines_free(ctlproto_lines *l);

/* --- sockets ---------------------------------------------------------------------- */

/* sendmsg of buf with up to CTLPROTO_MAX_FDS descriptors as SCM_RIGHTS on
 * the first byte; MSG_NOSIGNAL, EINTR retried.  Returns the bytes sent
 * (possibly fewer than len on a non-blocking socket: the fds went with the
 * first byte), or -1 with errno. */
ssize_t ctlproto_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/* recvmsg into buf; received descriptors (close-on-exec) are appended to
 * fds[*nfds..max).  Descriptors beyond max, or cut by the kernel
 * (MSG_CTRUNC), are closed and *dropped is set.  Returns the bytes read
 * (0 at EOF) or -1 with errno (EAGAIN on a non-blocking socket). */
ssize_t ctlproto_recv(int sock, void *buf, size_t cap, int *fds, size_t *nfds, size_t max, bool *dropped);

/* A unix socket address for path.  A path longer than sun_path allows (a
 * long --run-root) is reached through its directory: *dirfd is an O_PATH
 * fd of it and sa names "/proc/self/fd/N/<base>" (no chdir, so threads are
 * not disturbed).  The caller closes *dirfd (-1 when unused) after bind or
 * connect. */
struct sockaddr_un;
int ctlproto_socket_addr(const char *path, struct sockaddr_un *sa, int *dirfd, pv_err *err);

/* A non-blocking, close-on-exec unix stream socket connecting to path:
 * the fd (connect may still be in progress: EINPROGRESS is not an error,
 * wait for writability) or -1 with err. */
int ctlproto_connect(const char *path, pv_err *err);

#endif
