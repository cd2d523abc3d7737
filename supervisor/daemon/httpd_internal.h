/*
 * httpd_internal.h - the structures the files of the HTTP server share.
 * Not for other modules: they use httpd.h.
 *
 *   httpd.c       the server: listeners, accept, the connection limit, shutdown
 *   httpd_conn.c  a connection: reading, parsing (http_parser), timers, the
 *                 state machine below, writes, lingering close
 *   httpd_req.c   a request: what parsing collects, the URL, query and
 *                 headers it is split into, the accessors, auth
 *   httpd_resp.c  responses: full replies, streams, Status objects
 *   httpd_addr.c  socket addresses (long unix paths, "HOST:PORT")
 *
 * A connection moves through
 *   READ ──complete request──► HANDLE ──finishing call──► REPLY ──written──► READ
 *                                 └──httpd_stream_begin──► STREAM ──end──► REPLY
 *   REPLY ──written, no keep-alive──► LINGER ──EOF or timer──► CLOSED
 * and from any state to CLOSED when the client leaves or a timer fires.
 * Only one request of a connection is in flight; pipelined bytes wait in the
 * input buffer.  A response is complete when its last write has called
 * back (or, with nothing to write, after a 0 ms timer): the next request is
 * parsed only then, from the loop, so a handler is never re-entered from
 * its own finishing call.
 *
 * Memory: the server, each listener and each connection are freed in their
 * (last) close callback; a request is freed by its finishing call (its
 * connection only points at it while it is in flight) or, before it was
 * handed over, with its connection.  A request whose connection is gone
 * before it is finished is an orphan, counted by the server, which stays
 * alive until the last one is finished.
 */
#ifndef PODVISOR_DAEMON_HTTPD_INTERNAL_H
#define PODVISOR_DAEMON_HTTPD_INTERNAL_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <uv.h>

#include "supervisor/daemon/httpd.h"

#define HTTPD_INBUF_BYTES 16384
#define HTTPD_LINGER_MS 1000
/* Connections over the limit that are being answered 503 at once; beyond
 * this many, further ones are closed without a reply. */
#define HTTPD_MAX_REJECTING 32

/* A growable byte string, always NUL-terminated when p != NULL. */
typedef struct hbuf {
  char *p;
  size_t len, cap;
} hbuf;

int hbuf_add(hbuf *b, const void *data, size_t len);
int hbuf_addf(hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hbuf_free(hbuf *b);

typedef union httpd_stream {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} httpd_stream;

typedef struct httpd_listener {
  httpd_stream h;
  uv_timer_t retry; /* accept again after an allocation failure */
  int pending_close;
  httpd *srv;
  struct httpd_listener *next;
  bool trusted, is_tcp;
  void *data;
  char *path; /* a unix socket's path, unlinked at close */
} httpd_listener;

typedef enum conn_state {
  CONN_READ,   /* waiting for or receiving a request */
  CONN_HANDLE, /* the handler owns the request */
  CONN_STREAM, /* a streamed response is open */
  CONN_REPLY,  /* a complete response is being written */
  CONN_LINGER, /* written, write side shut down, input dropped until EOF */
  CONN_CLOSED, /* uv_close called on its handles */
} conn_state;

typedef struct httpd_conn {
  httpd_stream h;
  uv_timer_t timer;
  uv_shutdown_t shut;
  http_parser parser;
  httpd *srv;
  httpd_listener *lst;
  struct httpd_conn *prev, *next;
  conn_state state;
  int pending_close; /* handles whose close callback is still due */
  unsigned writes;   /* uv_write requests in flight */
  bool counted;      /* counted against max_connections */
  bool rejected;     /* over max_connections: answered 503 and closed */
  bool reading;      /* uv_read_start is in effect */
  bool receiving;    /* bytes of the next request have arrived */
  bool complete;     /* the parser finished a request, not yet handed over */
  bool eof;          /* the client shut its write side */
  bool close_after;  /* close once the current response is written */
  bool resp_done;    /* REPLY: the last write of the response is queued */
  bool keep_alive;   /* of the request in flight */
  bool head;         /* the request in flight is HEAD */
  bool chunked;      /* the open stream uses chunked encoding */
  int minor;         /* HTTP/1.minor of the request in flight */
  int error;         /* a status found in a parser callback (413, 431, 400) */
  const char *error_msg;
  size_t head_bytes;     /* request line and header bytes of the request being received */
  struct httpd_req *req; /* being received, or handed over and not finished */
  char peer[64];
  size_t in_off, in_len; /* unparsed input: inbuf[in_off..in_len) */
  char inbuf[HTTPD_INBUF_BYTES];
} httpd_conn;

struct httpd {
  uv_loop_t *loop;
  uv_timer_t timer; /* the shutdown steps; closed last */
  httpd_limits lim;
  httpd_handler handler;
  void *ctx;
  char *token;
  size_t token_len;
  httpd_listener *listeners;
  httpd_conn *conns;
  unsigned n_listeners; /* open or closing */
  unsigned n_conns;     /* every connection struct alive */
  unsigned n_active;    /* counted against max_connections */
  unsigned n_rejecting;
  unsigned n_orphans; /* requests handed over whose connection is gone, not yet finished */
  bool closing, stepped, freeing;
  void (*on_closed)(void *ctx);
  void *closed_ctx;
};

typedef struct httpd_kv {
  const char *k, *v;
} httpd_kv;

struct httpd_req {
  httpd *srv;
  httpd_conn *conn; /* NULL once the client is gone */
  void (*on_gone)(httpd_req *req, void *data);
  void *gone_data;
  bool dispatched, streaming, stream_head_only;
  enum http_method method;
  int minor;
  httpd_auth auth;
  void *listener_data;
  /* Collected while parsing: the URL, then "name\0value\0" pairs. */
  hbuf raw;
  int last_cb; /* 0 nothing yet, 1 a header name, 2 a header value, 3 headers done */
  size_t nhdr;
  size_t *hdr_off; /* 2 * nhdr offsets into raw (name, value) */
  size_t hdr_cap;
  hbuf body;
  /* Made at headers complete: decoded path, segments and query. */
  char *derived;
  const char *target, *path;
  const char **seg;
  size_t nseg;
  httpd_kv *query;
  size_t nquery;
  httpd_kv *hdr;
  /* Headers the handler added to its response. */
  hbuf resp_hdrs;
  char peer[64];
};

/* httpd_req.c */
httpd_req *req_new(httpd_conn *c);
void req_free(httpd_req *req);
int req_add_url(httpd_req *req, const char *at, size_t len);
int req_add_header_part(httpd_req *req, int which, const char *at, size_t len);
/* At headers complete: terminates the last header, builds the derived
 * strings.  Returns 0, or an HTTP status (400) with *msg. */
int req_headers_done(httpd_req *req, const char **msg);
void req_set_auth(httpd_req *req, const httpd *s, bool trusted);
/* The finishing step common to every finishing call: detaches req from
 * its connection (or from the server's orphan count) and frees it. */
void req_finish(httpd_req *req);

/* httpd_conn.c */
/* Accepts one connection; -ENOMEM when no memory was left for it (libuv
 * then holds the socket and waits for the next uv_accept). */
int conn_accept(httpd *s, httpd_listener *l);
/* Closes the connection; a request handed over and unfinished becomes an
 * orphan and, when notify is true, its handler is told (loop context only). */
void conn_close(httpd_conn *c, bool notify);
/* Queues len bytes (copied) for writing.  0, or -EPIPE (the connection is
 * then closed without notifying). */
int conn_write(httpd_conn *c, const char *data, size_t len);
int conn_writev(httpd_conn *c, const uv_buf_t *parts, size_t n);
int conn_write2(httpd_conn *c, const char *a, size_t alen, const char *b, size_t blen);
/* After the last write of a response: state REPLY; the connection goes on
 * (next request or lingering close) once it is written. */
void conn_response_queued(httpd_conn *c);
/* The server's own error reply on a connection with no request handed
 * over: a Status, Connection: close, then lingering close. */
void conn_error(httpd_conn *c, int code, const char *message);
/* httpd_close's step for one connection (loop context). */
void conn_shutdown(httpd_conn *c);

/* httpd.c */
void srv_maybe_closed(httpd *s);
void srv_conn_gone(httpd *s, httpd_conn *c);

/* httpd_resp.c */
/* A malloc'd status line and headers ending in the empty line. */
char *resp_head(httpd_conn *c, const hbuf *extra, int status, const char *ctype, long long length,
                bool chunked, size_t *len);
/* The Status JSON text (malloc'd), never NULL unless out of memory. */
char *resp_status_body(int code, const char *reason, const char *message, size_t *len);

/* httpd_addr.c */
/* Fills sa for path; a path too long for sun_path is reached as
 * "/proc/self/fd/N/<base>" with *dirfd an O_PATH fd of its directory, which
 * the caller closes after bind (-1 when unused). */
int addr_unix(const char *path, struct sockaddr_un *sa, int *dirfd, pv_err *err);
/* Parses "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT". */
int addr_tcp(const char *addr, struct sockaddr_storage *ss, pv_err *err);
/* "ADDR:PORT" of a peer. */
void addr_peer(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
