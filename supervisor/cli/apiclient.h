/*
 * apiclient.h - the CLI's client of the daemon's API (supervisor/daemon/API.md):
 * HTTP/1.1 over <run-root>/podvisor.sock, through libcurl.
 *
 * What it is for: every command that talks to the daemon (clicmd.h) makes
 * its requests here and turns what went wrong into kubectl's words here.
 *
 * Transport.  libcurl (CURLOPT_UNIX_SOCKET_PATH; the URL's host is
 * "localhost") is dlopen()ed on the first request, so that the commands
 * that never talk to the daemon (run, up, validate) do not map it and the
 * libraries it needs.  A socket path longer than sun_path allows is reached
 * through /proc/self/fd/N of its directory (ctlproto_socket_addr).
 *  - api_call() returns the whole reply, whatever its HTTP status.
 *  - api_stream() hands a 2xx reply's body to a sink as it arrives (logs
 *    -f); a reply of another status is collected whole instead, for its
 *    Status.  api_watch() cuts such a stream into the lines of a Kubernetes
 *    watch ({"type": ..., "object": ...}) and hands each decoded event on.
 *  - Before connecting, the socket's presence is checked (no library load
 *    when no daemon runs).  A missing socket fails with ENOENT, a refused
 *    connection with ECONNREFUSED: api_daemon_down() tells those apart from
 *    every other failure (EACCES: not root; EPROTO: not an HTTP reply;
 *    ECONNRESET: the daemon went away mid-reply; ELIBACC: no libcurl).
 *
 * Messages (pure functions, apiclient_msg.c).  api_status_text() writes the
 * error of a non-2xx reply as kubectl's CheckErr does: the reply's Status
 * (reason and message; Invalid with its causes, one per line), or, for a
 * body that is no Status, the message client-go makes from the HTTP code
 * alone.  api_down_text() writes the daemon-not-running message with the
 * way to start it.
 *
 * Ownership: an api_client owns its paths and its curl handle;
 * api_client_free() accepts a zeroed client.  A reply owns its body
 * (NUL-terminated), freed by api_reply_free() (zeroed reply fine).
 * 0 / -1 with err (code as above).  Never prints.
 */
#ifndef PODVISOR_CLI_APICLIENT_H
#define PODVISOR_CLI_APICLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "supervisor/core/error.h"

#define API_SOCKET_NAME "podvisor.sock"
#define API_EXEC_SOCKET_NAME "exec.sock"
#define API_ACCEPT_JSON "application/json"
/* What kubectl get asks for: a server-side Table (k8s_table.h). */
#define API_ACCEPT_TABLE                                                                                     \
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"          \
  "application/json"
#define API_BODY_MAX (64u << 20) /* a reply that is not streamed: 64 MiB at most */

typedef struct api_client {
  char *run_root;
  char *sock_path;    /* <run-root>/podvisor.sock */
  char *connect_path; /* what is connected to: sock_path or /proc/self/fd/N/podvisor.sock */
  int dirfd;          /* the O_PATH directory of a long path, else -1 */
  void *curl;         /* CURL *, made on first use and reused (one connection) */
  long connect_timeout_ms;
  long timeout_ms; /* the whole request, 0: none (streams) */
  bool down;       /* a request found no daemon (api_daemon_down): loops stop asking */
} api_client;

typedef struct api_request {
  const char *method;       /* NULL: GET */
  const char *path;         /* path and query, escaped (api_path_*) */
  const char *accept;       /* NULL: application/json */
  const char *content_type; /* of body */
  const char *body;
  size_t body_len;
} api_request;

typedef struct api_reply {
  long code; /* the HTTP status */
  char *body;
  size_t len;
  char content_type[128];
} api_reply;

int api_client_init(api_client *c, const char *run_root, pv_err *err);
void api_client_free(api_client *c);

/* One request and its whole reply (any status): 0 with *rep, or -1 with err
 * when no reply came. */
int api_call(api_client *c, const api_request *rq, api_reply *rep, pv_err *err);

/* A 2xx reply's body goes to sink as it arrives (rep->body stays empty);
 * the sink returns 0, or -1 to end the transfer (api_stream then returns
 * 0).  Another status: its body in rep, sink never called. */
typedef int (*api_sink)(const char *data, size_t len, void *ctx);
int api_stream(api_client *c, const api_request *rq, api_sink sink, void *ctx, api_reply *rep, pv_err *err);

/* A watch: each line of a 2xx reply decoded as {"type": T, "object": O}
 * and handed to cb (O borrowed for the call); cb returns 0, or -1 to stop.
 * A line that is not such an event ends the watch with EPROTO. */
typedef int (*api_event_cb)(const char *type, json_t *object, void *ctx);
int api_watch(api_client *c, const api_request *rq, api_event_cb cb, void *ctx, api_reply *rep, pv_err *err);

void api_reply_free(api_reply *r);
bool api_reply_ok(const api_reply *r); /* 2xx */
/* The body as JSON (a new reference), or NULL with err (EPROTO). */
json_t *api_reply_json(const api_reply *r, pv_err *err);

/* --- paths ------------------------------------------------------------------ */

/* Appends s to a query or path, percent-encoded (RFC 3986 unreserved kept). */
char *api_escape(const char *s);
/* "/api/v1/namespaces/NS/pods[/NAME[/SUB]]", or "/api/v1/pods" when ns is
 * NULL (all namespaces); NAME and SUB NULL-able.  malloc'd, NULL on ENOMEM. */
char *api_path_pods(const char *ns, const char *name, const char *sub);
/* Appends "?k=v" or "&k=v" (v escaped) to *path (realloc'd); v NULL: nothing.
 * 0 or -1 (ENOMEM; *path is freed and NULL). */
int api_path_query(char **path, const char *key, const char *value);

/* --- messages ---------------------------------------------------------------- */

/* True for a daemon that is not running: no socket, or nobody listening. */
bool api_daemon_down(const pv_err *err);

/* The daemon-not-running message (several lines, no final newline):
 * what is missing and how to start the daemon (with --run-root when
 * run_root is not the default). */
void api_down_text(const char *sock_path, const char *run_root, const pv_err *err, char *buf, size_t len);

/* The error text of a reply that is not 2xx, as kubectl prints it (no final
 * newline): "Error from server (NotFound): pods \"web\" not found", "The
 * Pod \"web\" is invalid: ...".  method and what ("get pods web", NULL
 * for none) serve a reply without a Status (client-go's generic messages);
 * source, when not NULL, prefixes the Status message as kubectl's
 * AddSourceToErr does ("error when creating \"web.yaml\": ...").  malloc'd;
 * NULL on ENOMEM. */
char *api_status_text(long code, const char *body, size_t len, const char *method, const char *what,
                      const char *source);

/* The same for a Status object already decoded (a watch's ERROR event). */
char *api_status_text_json(long code, const json_t *status, const char *method, const char *what,
                           const char *source);

#endif
