/*
 * httpd.h - the HTTP/1.1 server the daemon's API runs on: listeners on the
 * caller's libuv loop, requests parsed with http_parser, one handler call
 * per request, full or streamed (chunked) responses, Kubernetes Status
 * errors, limits against slow and oversized clients, bearer-token auth and a
 * clean shutdown.
 *
 * Usage:
 *   httpd *h = httpd_new(loop, &limits, handler, ctx, &err);
 *   httpd_listen_unix(h, "/run/podvisor/podvisor.sock", &(httpd_listen_opts){.trusted = true}, &err);
 *   httpd_listen_tcp(h, "127.0.0.1:8080", &(httpd_listen_opts){0}, &port, &err);
 *   httpd_set_token(h, token);
 *   ... uv_run(loop) ...
 *   httpd_close(h, on_closed, ctx);   // h is freed after on_closed returns
 *
 * Requests.  The server calls handler(ctx, req) once per complete request
 * (request line, headers and the whole body, Content-Length or chunked;
 * the trailers of a chunked body are dropped; "Expect: 100-continue" is
 * answered "100 Continue" once the headers pass the limits).  Requests of
 * one connection are handed over one at a time, in order: pipelined
 * requests wait until the previous response is written.  An Upgrade or
 * CONNECT request is handed over like any other and its connection closed
 * after the response (no protocol switch).  HEAD is
 * handed over as GET (httpd_req_method() says HTTPD_GET, httpd_req_is_head()
 * says true); the server sends the headers of the response the handler
 * gives (Content-Length included) and drops its body.  Every string a
 * request accessor returns is NUL-terminated and lives as long as the
 * request.
 *
 * Ownership of a request.  The handler owns req from the handler call until
 * it finishes it, exactly once, with httpd_reply(), httpd_reply_json(),
 * httpd_reply_status() or httpd_stream_end().  Until then req stays valid
 * whatever happens to the connection: a handler that answers late (after a
 * timer, a reply from a shim) never touches freed memory.  After the
 * finishing call req is gone and must not be used.  When the client leaves
 * (or httpd_close() ends a stream, or the shutdown drain time runs out)
 * before the request is finished, the server calls the request's on_gone
 * callback (httpd_req_on_gone()) once, from the loop; the handler then stops
 * its work (drops its watch, cancels its timer) and finishes req, now or
 * later: the response is discarded.  on_gone is never called from inside an
 * httpd_* call; a call that finds the client gone returns -EPIPE instead
 * (and on_gone is then not called for it either).
 *
 * Responses.  The server writes the status line, Date, Content-Type,
 * Content-Length (or Transfer-Encoding: chunked for a stream) and Connection;
 * the handler adds others with httpd_resp_header() before replying.  A
 * connection is kept alive by HTTP/1.1 rules (and HTTP/1.0 keep-alive).  A
 * stream to an HTTP/1.0 client is sent without chunking and ended by
 * closing the connection.
 *
 * Errors the server answers itself, each as a Kubernetes Status object
 * (application/json), after which it closes the connection:
 *   400 BadRequest            malformed HTTP, a bad percent-escape (or an
 *                             escaped NUL), an unsupported Transfer-Encoding,
 *                             an HTTP/1.1 request without Host, a request cut
 *                             short by the client's half-close, ...
 *   408 RequestTimeout        a request not received in full within
 *                             request_timeout_ms of its first byte
 *   413 RequestEntityTooLarge a body larger than max_body_bytes
 *   431 RequestHeaderFieldsTooLarge  a request line + headers larger than
 *                             max_header_bytes
 *   503 ServiceUnavailable    max_connections already open (answered at
 *                             accept), or a request still being received
 *                             when httpd_close() is called
 *   505 HTTPVersionNotSupported  not HTTP/1.x
 *   500 InternalError         out of memory
 * A connection idle for idle_timeout_ms between requests is closed
 * silently.  Replies that close a connection shut its write side down and
 * read (and drop) what the client still sends for a short while, so that
 * the client reads the reply instead of a reset.  TCP connections send
 * small writes at once (TCP_NODELAY) and keepalive probes after 60 s of
 * silence, so a client gone without a FIN ends its stream.  No input
 * crashes the server or stalls the loop: every read, write and timer is
 * non-blocking and bounded per connection.
 *
 * Auth.  Each listener is trusted (every request on it is authenticated:
 * the unix socket, root-only by its mode 0600) or not (the TCP listener): a
 * request there is authenticated when it carries "Authorization: Bearer T"
 * and T equals the token set with httpd_set_token() (compared in constant
 * time).  The server does not refuse anything by itself; handlers answer
 * 403 to mutations of an unauthenticated request (httpd_method_is_safe()).
 *
 * Shutdown.  httpd_close() stops listening (the unix socket file is
 * unlinked), closes idle connections, answers 503 to requests still being
 * received, ends streams (a complete chunked body for the client, on_gone
 * for the handler), lets requests being handled be answered (for up to
 * drain_timeout_ms, then their connections are closed and their handlers
 * told), writes pending replies and then closes every connection.
 * on_closed(ctx) runs once, from the loop, after every libuv handle is
 * closed and every request handed to the handler has been finished by it;
 * then the server frees itself.
 *
 * Everything runs on the caller's loop thread; nothing is thread-safe.
 * httpd_new() sets SIGPIPE to SIG_IGN when it has its default action
 * (which would end the process when a client leaves during a write: libuv
 * writes with write(2)); a caller's own SIGPIPE handler is left alone.
 * Errors: 0 or -1 with errno set and a message in pv_err naming the
 * listener; calls on a request return 0 or a negative errno.
 */
#ifndef PODVISOR_DAEMON_HTTPD_H
#define PODVISOR_DAEMON_HTTPD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "supervisor/core/error.h"

typedef struct httpd httpd;
typedef struct httpd_req httpd_req;

/* Every field 0 means its default. */
typedef struct httpd_limits {
  size_t max_header_bytes;     /* request line + headers; default 32 KiB (http_parser caps at 80 KiB) */
  size_t max_body_bytes;       /* decoded body; default 3 MiB (the Kubernetes API server's limit) */
  unsigned max_connections;    /* open connections; default 256 */
  unsigned idle_timeout_ms;    /* a connection between requests, or a reply not read; default 60 s */
  unsigned request_timeout_ms; /* first byte to complete request; default 30 s */
  unsigned drain_timeout_ms;   /* httpd_close() waits this long for unanswered requests; default 5 s */
  size_t max_write_queue;      /* unsent bytes a stream may queue before the client is dropped;
                                * default 8 MiB */
} httpd_limits;

/* One call per complete request; see "Ownership of a request". */
typedef void (*httpd_handler)(void *ctx, httpd_req *req);

/* Creates a server on loop.  limits may be NULL (all defaults); it is
 * copied.  Returns NULL with err filled on failure. */
httpd *httpd_new(uv_loop_t *loop, const httpd_limits *limits, httpd_handler handler, void *ctx, pv_err *err);

typedef struct httpd_listen_opts {
  bool trusted; /* every request authenticated (a root-only unix socket) */
  void *data;   /* handed back by httpd_req_listener_data() */
} httpd_listen_opts;

/* Listens on a unix socket at path, created with mode 0600.  A stale socket
 * file at path is unlinked first (any other kind of file is an error:
 * EEXIST).  A path longer than sun_path allows is bound through an O_PATH
 * fd of its directory.  opts may be NULL (untrusted). */
int httpd_listen_unix(httpd *h, const char *path, const httpd_listen_opts *opts, pv_err *err);

/* Listens on TCP at addr: "HOST:PORT", "[V6HOST]:PORT", ":PORT" or "PORT"
 * (HOST defaults to 127.0.0.1; "localhost" means 127.0.0.1; numeric
 * addresses only otherwise).  PORT 0 picks a free port; *port (may be NULL)
 * receives the bound one.  Binding a non-loopback address is the caller's
 * decision.  opts may be NULL (untrusted). */
int httpd_listen_tcp(httpd *h, const char *addr, const httpd_listen_opts *opts, int *port, pv_err *err);

/* Sets (copies) the bearer token of untrusted listeners; NULL or "" means
 * no request there is authenticated.  Applies to requests received after. */
int httpd_set_token(httpd *h, const char *token);

/* Open connections (answering or idle), for metrics. */
unsigned httpd_connections(const httpd *h);

/* See "Shutdown".  Safe to call from a handler; a second call is ignored. */
void httpd_close(httpd *h, void (*on_closed)(void *ctx), void *ctx);

/* ---- the request ---- */

typedef enum httpd_method {
  HTTPD_GET, /* also HEAD: see httpd_req_is_head() */
  HTTPD_POST,
  HTTPD_PUT,
  HTTPD_PATCH,
  HTTPD_DELETE,
  HTTPD_OPTIONS,
  HTTPD_OTHER, /* httpd_req_method_str() names it */
} httpd_method;

typedef enum httpd_auth {
  HTTPD_AUTH_TRUSTED, /* a trusted listener */
  HTTPD_AUTH_TOKEN,   /* the right bearer token */
  HTTPD_AUTH_NONE,    /* no Authorization header */
  HTTPD_AUTH_INVALID, /* an Authorization header that is not the right bearer token */
} httpd_auth;

httpd_method httpd_req_method(const httpd_req *req);
const char *httpd_req_method_str(const httpd_req *req); /* "HEAD" for HEAD */
bool httpd_req_is_head(const httpd_req *req);
/* GET, HEAD and OPTIONS: what an unauthenticated client may do. */
bool httpd_method_is_safe(httpd_method m);
int httpd_req_http_minor(const httpd_req *req); /* 0 or 1 (HTTP/1.x) */

/* The request target as received ("/api/v1/pods?watch=true"). */
const char *httpd_req_target(const httpd_req *req);
/* The path, percent-decoded ("/api/v1/pods"). */
const char *httpd_req_path(const httpd_req *req);
/* The path's segments, each percent-decoded on its own (so "%2F" stays
 * inside its segment); empty segments are skipped: "/api//v1/" is
 * {"api", "v1"}.  i out of range gives NULL. */
size_t httpd_req_nseg(const httpd_req *req);
const char *httpd_req_seg(const httpd_req *req, size_t i);

/* The query's parameters in order, keys and values percent-decoded ('+' is
 * a space); "a&b=" gives a="" and b="".  A key given twice appears twice;
 * httpd_req_query() returns the first value, or NULL when absent. */
const char *httpd_req_query(const httpd_req *req, const char *key);
size_t httpd_req_nquery(const httpd_req *req);
int httpd_req_query_at(const httpd_req *req, size_t i, const char **key, const char **value);

/* A header's first value by case-insensitive name, surrounding whitespace
 * trimmed, or NULL. */
const char *httpd_req_header(const httpd_req *req, const char *name);
size_t httpd_req_nheaders(const httpd_req *req);
int httpd_req_header_at(const httpd_req *req, size_t i, const char **name, const char **value);

/* The decoded body (NUL-terminated; "" when none); *len (may be NULL) gets
 * its length. */
const char *httpd_req_body(const httpd_req *req, size_t *len);

httpd_auth httpd_req_auth(const httpd_req *req);
/* TRUSTED or TOKEN. */
bool httpd_req_authenticated(const httpd_req *req);
void *httpd_req_listener_data(const httpd_req *req);
/* "unix" or "ADDR:PORT" of the client, for logs. */
const char *httpd_req_peer(const httpd_req *req);

/* Registers the callback of "the client left before req was finished".
 * Returns 0, or -EPIPE when the client has already left (the callback will
 * never run: finish req now). */
int httpd_req_on_gone(httpd_req *req, void (*on_gone)(httpd_req *req, void *data), void *data);
/* True once the client has left (a reply would be discarded). */
bool httpd_req_gone(const httpd_req *req);

/* ---- the response ---- */

/* Adds a response header (copied) for the coming reply or stream.  Names
 * the server writes itself (Content-Length, Transfer-Encoding, Connection,
 * Date) and any CR or LF are refused with -EINVAL. */
int httpd_resp_header(httpd_req *req, const char *name, const char *value);

/* Finishes req with a complete response; body (len bytes, copied) may be
 * NULL when len is 0.  content_type NULL means none.  204 and 304 are sent
 * without a body, HEAD with Content-Length but no body.  Returns 0, -EPIPE
 * when the client is gone (req is finished all the same), -EINVAL for a
 * status outside 200..599 (then 500 is sent) or after httpd_stream_begin()
 * (then the stream is ended). */
int httpd_reply(httpd_req *req, int status, const char *content_type, const void *body, size_t len);
/* httpd_reply of json (borrowed) dumped compact, application/json. */
int httpd_reply_json(httpd_req *req, int status, const json_t *json);
/* httpd_reply of a Kubernetes Status (httpd_status_new()). */
int httpd_reply_status(httpd_req *req, int code, const char *reason, const char *message);
int httpd_reply_statusf(httpd_req *req, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A new Kubernetes Status object:
 * {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *  "message":M,"reason":R,"code":N}; status "Success" for codes < 400.
 * reason NULL means httpd_status_reason(code).  The caller may add
 * "details" (causes) and reply with httpd_reply_json().  NULL on ENOMEM. */
json_t *httpd_status_new(int code, const char *reason, const char *message);
/* Kubernetes' StatusReason for an HTTP code ("NotFound" for 404,
 * "InternalError" for 500, ...); codes Kubernetes has no reason for get
 * names of the same style ("RequestHeaderFieldsTooLarge" for 431, ""
 * when none fits). */
const char *httpd_status_reason(int code);

/* Starts a streamed response (chunked transfer encoding).  Returns 0 when
 * the stream is open, -EPIPE when there is nothing to stream to (the
 * client is gone, or the request is HEAD and only the headers were sent):
 * then the handler calls httpd_stream_end() at once. */
int httpd_stream_begin(httpd_req *req, int status, const char *content_type);
/* Sends data (copied) as one chunk; len 0 sends nothing.  Returns 0, or
 * -EPIPE when the client is gone or reads too slowly (more than
 * max_write_queue bytes unsent: it is then disconnected).  The handler then
 * finishes req with httpd_stream_end(). */
int httpd_stream_write(httpd_req *req, const void *data, size_t len);
/* Bytes written to the stream that the client has not taken yet (0 once it
 * is gone): a producer with much to send (a log's history) paces itself by
 * it, below max_write_queue. */
size_t httpd_stream_queued(const httpd_req *req);
/* Ends the stream and finishes req; also after -EPIPE from
 * httpd_req_on_gone() or httpd_stream_begin().  Called on a live request
 * with no stream begun, it answers 500 and returns -EINVAL. */
int httpd_stream_end(httpd_req *req);

#endif
