/*
 * apiclient.c - HTTP over the daemon's unix socket through a dlopen()ed
 * libcurl (see apiclient.h).
 */
#include "supervisor/cli/apiclient.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "supervisor/proto/ctlproto.h"

#ifndef PODVISOR_CURL_SONAME
#define PODVISOR_CURL_SONAME "libcurl.so.4"
#endif

/* The libcurl functions used, resolved on first use.  The members are not
 * named like the functions: curl.h makes curl_easy_setopt and friends
 * macros (its type checks) that would expand after "cu.". */
static struct {
  bool tried, ok;
  char why[256];
  __typeof__(&curl_global_init) global_init;
  __typeof__(&curl_global_cleanup) global_cleanup;
  __typeof__(&curl_easy_init) easy_init;
  __typeof__(&curl_easy_reset) easy_reset;
  __typeof__(&curl_easy_setopt) easy_setopt;
  __typeof__(&curl_easy_perform) easy_perform;
  __typeof__(&curl_easy_getinfo) easy_getinfo;
  __typeof__(&curl_easy_cleanup) easy_cleanup;
  __typeof__(&curl_easy_strerror) easy_strerror;
  __typeof__(&curl_slist_append) slist_append;
  __typeof__(&curl_slist_free_all) slist_free_all;
} cu;

static bool load_curl(void) {
  if (cu.tried)
    return cu.ok;
  cu.tried = true;
  void *h = dlopen(PODVISOR_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(cu.why, sizeof cu.why, "%s", dlerror());
    return false;
  }
#define SYM(member, fn)                                                                                      \
  if ((cu.member = (__typeof__(cu.member))dlsym(h, #fn)) == NULL) {                                          \
    snprintf(cu.why, sizeof cu.why, "%s: no symbol %s", PODVISOR_CURL_SONAME, #fn);                          \
    return false;                                                                                            \
  }
  SYM(global_init, curl_global_init)
  SYM(global_cleanup, curl_global_cleanup)
  SYM(easy_init, curl_easy_init)
  SYM(easy_reset, curl_easy_reset)
  SYM(easy_setopt, curl_easy_setopt)
  SYM(easy_perform, curl_easy_perform)
  SYM(easy_getinfo, curl_easy_getinfo)
  SYM(easy_cleanup, curl_easy_cleanup)
  SYM(easy_strerror, curl_easy_strerror)
  SYM(slist_append, curl_slist_append)
  SYM(slist_free_all, curl_slist_free_all)
#undef SYM
  cu.ok = true;
  return true;
}

int api_client_init(api_client *c, const char *run_root, pv_err *err) {
  *c = (api_client){.dirfd = -1, .connect_timeout_ms = 5000};
  if ((c->run_root = strdup(run_root)) == NULL ||
      asprintf(&c->sock_path, "%s/%s", run_root, API_SOCKET_NAME) < 0) {
    c->sock_path = NULL;
    api_client_free(c);
    return pv_err_set(err, ENOMEM, "out of memory");
  }
  struct sockaddr_un sa;
  if (strlen(c->sock_path) < sizeof sa.sun_path) {
    c->connect_path = strdup(c->sock_path);
  } else {
    /* libcurl copies the path into sun_path: a longer one goes through an
     * O_PATH descriptor of its directory. */
    if (ctlproto_socket_addr(c->sock_path, &sa, &c->dirfd, err) < 0) {
      api_client_free(c);
      return -1;
    }
    c->connect_path = strdup(sa.sun_path);
  }
  if (c->connect_path == NULL) {
    api_client_free(c);
    return pv_err_set(err, ENOMEM, "out of memory");
  }
  return 0;
}

void api_client_free(api_client *c) {
  if (c->curl != NULL) {
    cu.easy_cleanup(c->curl);
    cu.global_cleanup();
  }
  if (c->dirfd >= 0)
    close(c->dirfd);
  free(c->run_root);
  free(c->sock_path);
  free(c->connect_path);
  *c = (api_client){.dirfd = -1};
}

void api_reply_free(api_reply *r) {
  free(r->body);
  *r = (api_reply){0};
}

bool api_reply_ok(const api_reply *r) {
  return r->code >= 200 && r->code < 300;
}

json_t *api_reply_json(const api_reply *r, pv_err *err) {
  json_error_t je;
  json_t *j = json_loadb(r->body != NULL ? r->body : "", r->len, 0, &je);
  if (j == NULL)
    pv_err_set(err, EPROTO, "the daemon's reply is not JSON: %s", je.text);
  return j;
}

/* --- one transfer -------------------------------------------------------------- */

typedef struct transfer {
  api_client *c;
  api_reply *rep;
  api_sink sink; /* NULL: collect */
  void *ctx;
  bool decided, streaming, stopped, too_big;
  size_t cap;
} transfer;

static int collect(transfer *t, const char *data, size_t n) {
  api_reply *r = t->rep;
  if (r->len + n > API_BODY_MAX) {
    t->too_big = true;
    return -1;
  }
  if (r->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < r->len + n + 1)
      cap *= 2;
    char *b = realloc(r->body, cap);
    if (b == NULL)
      return -1;
    r->body = b;
    t->cap = cap;
  }
  memcpy(r->body + r->len, data, n);
  r->len += n;
  r->body[r->len] = '\0';
  return 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata) {
  transfer *t = userdata;
  size_t n = size * nmemb;
  if (!t->decided) {
    /* The status line has come with the first bytes of the body: a 2xx
     * reply streams, any other is kept whole for its Status. */
    long code = 0;
    cu.easy_getinfo(t->c->curl, CURLINFO_RESPONSE_CODE, &code);
    t->streaming = t->sink != NULL && code >= 200 && code < 300;
    t->decided = true;
  }
  if (t->streaming) {
    if (t->sink(data, n, t->ctx) < 0) {
      t->stopped = true;
      return 0; /* CURLE_WRITE_ERROR: the transfer ends here */
    }
    return n;
  }
  return collect(t, data, n) < 0 ? 0 : n;
}

static int set_options(api_client *c, const api_request *rq, transfer *t, struct curl_slist **hdrs, char *url,
                       size_t url_len, char *errbuf) {
  const char *method = rq->method != NULL ? rq->method : "GET";
  snprintf(url, url_len, "http://localhost%s", rq->path);
  char h[256];
  snprintf(h, sizeof h, "Accept: %s", rq->accept != NULL ? rq->accept : API_ACCEPT_JSON);
  *hdrs = cu.slist_append(*hdrs, h);
  if (rq->body != NULL) {
    snprintf(h, sizeof h, "Content-Type: %s", rq->content_type != NULL ? rq->content_type : API_ACCEPT_JSON);
    *hdrs = cu.slist_append(*hdrs, h);
  }
  *hdrs = cu.slist_append(*hdrs, "Expect:"); /* no 100-continue round trip for bodies */
  if (*hdrs == NULL)
    return -1;
  CURL *e = c->curl;
  cu.easy_reset(e);
  int bad = 0;
  bad |= cu.easy_setopt(e, CURLOPT_URL, url);
  bad |= cu.easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, c->connect_path);
  bad |= cu.easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  bad |= cu.easy_setopt(e, CURLOPT_USERAGENT, "podvisor/" PODVISOR_VERSION);
  bad |= cu.easy_setopt(e, CURLOPT_HTTPHEADER, *hdrs);
  bad |= cu.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  bad |= cu.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  bad |= cu.easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  bad |= cu.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
  bad |= cu.easy_setopt(e, CURLOPT_WRITEDATA, t);
  bad |= cu.easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
    bad |= cu.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  if (rq->body != NULL || strcmp(method, "POST") == 0) {
    bad |= cu.easy_setopt(e, CURLOPT_POSTFIELDS, rq->body != NULL ? rq->body : "");
    bad |= cu.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
  }
  return bad ? -1 : 0;
}

/* What went wrong, in errno terms (apiclient.h): a connection that was
 * refused or whose socket vanished is the daemon not running. */
static int transfer_error(api_client *c, CURLcode rc, const char *errbuf, pv_err *err) {
  long os = 0;
  cu.easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os);
  const char *why = errbuf[0] != '\0' ? errbuf : cu.easy_strerror(rc);
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
    if (os == ECONNREFUSED || os == ENOENT)
      return pv_err_set(err, (int)os, "%s: %s", c->sock_path, strerror((int)os));
    if (os == EACCES || os == EPERM)
      return pv_err_set(err, EACCES, "%s: permission denied (the daemon's API is for root only)",
                        c->sock_path);
    return pv_err_set(err, os != 0 ? (int)os : ECONNREFUSED, "%s: cannot connect: %s", c->sock_path, why);
  case CURLE_OPERATION_TIMEDOUT:
    return pv_err_set(err, ETIMEDOUT, "%s: the daemon did not answer in time", c->sock_path);
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
    return pv_err_set(err, ECONNRESET, "%s: the daemon closed the connection: %s", c->sock_path, why);
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return pv_err_set(err, EPROTO, "%s: not an HTTP reply: %s", c->sock_path, why);
  case CURLE_OUT_OF_MEMORY: return pv_err_set(err, ENOMEM, "out of memory");
  default: return pv_err_set(err, EIO, "%s: %s", c->sock_path, why);
  }
}

static int check_socket(const api_client *c, pv_err *err) {
  struct stat st;
  if (stat(c->sock_path, &st) < 0) {
    if (errno == ENOENT)
      return pv_err_set(err, ENOENT, "%s: no such socket", c->sock_path);
    if (errno == EACCES)
      return pv_err_set(err, EACCES, "%s: permission denied (the daemon's API is for root only)",
                        c->sock_path);
    return pv_err_sys(err, "%s", c->sock_path);
  }
  if (!S_ISSOCK(st.st_mode))
    return pv_err_set(err, ENOTSOCK, "%s: not a socket", c->sock_path);
  return 0;
}

static int perform(api_client *c, const api_request *rq, api_sink sink, void *ctx, api_reply *rep,
                   pv_err *err) {
  *rep = (api_reply){0};
  if (check_socket(c, err) < 0) {
    c->down = errno == ENOENT;
    return -1;
  }
  if (!load_curl())
    return pv_err_set(err, ELIBACC, "talking to the daemon needs libcurl (%s)", cu.why);
  if (c->curl == NULL) {
    if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return pv_err_set(err, ENOMEM, "libcurl: global initialisation failed");
    if ((c->curl = cu.easy_init()) == NULL) {
      cu.global_cleanup();
      return pv_err_set(err, ENOMEM, "libcurl: no handle");
    }
  }
  transfer t = {.c = c, .rep = rep, .sink = sink, .ctx = ctx};
  struct curl_slist *hdrs = NULL;
  char *url = malloc(strlen(rq->path) + 32);
  char errbuf[CURL_ERROR_SIZE] = "";
  int r = 0;
  if (url == NULL || set_options(c, rq, &t, &hdrs, url, strlen(rq->path) + 32, errbuf) < 0) {
    r = pv_err_set(err, ENOMEM, "libcurl: cannot set up the request");
  } else {
    CURLcode rc = cu.easy_perform(c->curl);
    cu.easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &rep->code);
    char *ct = NULL;
    if (cu.easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
      snprintf(rep->content_type, sizeof rep->content_type, "%s", ct);
    if (rc == CURLE_WRITE_ERROR && t.stopped)
      r = 0;
    else if (rc == CURLE_WRITE_ERROR && t.too_big)
      r = pv_err_set(err, EMSGSIZE, "%s: the daemon's reply is larger than %u MiB", c->sock_path,
                     API_BODY_MAX >> 20);
    else if (rc != CURLE_OK)
      r = transfer_error(c, rc, errbuf, err);
  }
  cu.slist_free_all(hdrs);
  free(url);
  if (r < 0)
    api_reply_free(rep);
  c->down = r < 0 && api_daemon_down(err != NULL ? err : &(pv_err){.code = errno});
  return r;
}

int api_call(api_client *c, const api_request *rq, api_reply *rep, pv_err *err) {
  return perform(c, rq, NULL, NULL, rep, err);
}

int api_stream(api_client *c, const api_request *rq, api_sink sink, void *ctx, api_reply *rep, pv_err *err) {
  return perform(c, rq, sink, ctx, rep, err);
}

/* --- watch streams ---------------------------------------------------------------- */

typedef struct watch_ctx {
  api_event_cb cb;
  void *ctx;
  char *line;
  size_t len, cap;
  pv_err bad; /* a line that is no event */
} watch_ctx;

static int watch_line(watch_ctx *w, const char *s, size_t n) {
  while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
    n--;
  if (n == 0)
    return 0;
  json_error_t je;
  json_t *ev = json_loadb(s, n, 0, &je);
  const char *type = json_string_value(json_object_get(ev, "type"));
  json_t *obj = json_object_get(ev, "object");
  if (type == NULL || !json_is_object(obj)) {
    json_decref(ev);
    pv_err_set(&w->bad, EPROTO, "a watch line that is no event: %.*s", (int)(n > 200 ? 200 : n), s);
    return -1;
  }
  int r = w->cb(type, obj, w->ctx);
  json_decref(ev);
  return r;
}

static int watch_sink(const char *data, size_t n, void *ctx) {
  watch_ctx *w = ctx;
  while (n > 0) {
    const char *nl = memchr(data, '\n', n);
    size_t take = nl != NULL ? (size_t)(nl - data) : n;
    if (w->len + take + 1 > w->cap) {
      size_t cap = w->cap ? w->cap : 4096;
      while (cap < w->len + take + 1)
        cap *= 2;
      if (cap > API_BODY_MAX) {
        pv_err_set(&w->bad, EMSGSIZE, "a watch event larger than %u MiB", API_BODY_MAX >> 20);
        return -1;
      }
      char *b = realloc(w->line, cap);
      if (b == NULL) {
        pv_err_set(&w->bad, ENOMEM, "out of memory");
        return -1;
      }
      w->line = b;
      w->cap = cap;
    }
    memcpy(w->line + w->len, data, take);
    w->len += take;
    if (nl == NULL)
      return 0;
    size_t len = w->len;
    w->len = 0;
    if (watch_line(w, w->line, len) < 0)
      return -1;
    data += take + 1;
    n -= take + 1;
  }
  return 0;
}

int api_watch(api_client *c, const api_request *rq, api_event_cb cb, void *ctx, api_reply *rep, pv_err *err) {
  watch_ctx w = {.cb = cb, .ctx = ctx};
  pv_err_clear(&w.bad);
  int r = perform(c, rq, watch_sink, &w, rep, err);
  /* The last event may lack its newline when the daemon ends the stream. */
  if (r == 0 && w.bad.code == 0 && w.len > 0)
    (void)watch_line(&w, w.line, w.len);
  free(w.line);
  if (r == 0 && w.bad.code != 0) {
    if (err != NULL)
      *err = w.bad;
    errno = w.bad.code;
    return -1;
  }
  return r;
}

/* --- paths ---------------------------------------------------------------------- */

char *api_escape(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(3 * n + 1), *o = out;
  if (out == NULL)
    return NULL;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
        *p == '.' || *p == '_' || *p == '~') {
      *o++ = (char)*p;
    } else {
      o += sprintf(o, "%%%02X", *p);
    }
  }
  *o = '\0';
  return out;
}

char *api_path_pods(const char *ns, const char *name, const char *sub) {
  char *ens = ns != NULL ? api_escape(ns) : NULL, *ename = name != NULL ? api_escape(name) : NULL;
  char *out = NULL;
  if ((ns == NULL || ens != NULL) && (name == NULL || ename != NULL)) {
    int r;
    if (ns == NULL)
      r = asprintf(&out, "/api/v1/pods");
    else
      r = asprintf(&out, "/api/v1/namespaces/%s/pods%s%s%s%s", ens, name != NULL ? "/" : "",
                   name != NULL ? ename : "", name != NULL && sub != NULL ? "/" : "",
                   name != NULL && sub != NULL ? sub : "");
    if (r < 0)
      out = NULL;
  }
  free(ens);
  free(ename);
  return out;
}

int api_path_query(char **path, const char *key, const char *value) {
  if (*path == NULL)
    return -1;
  if (value == NULL)
    return 0;
  char *ev = api_escape(value), *out = NULL;
  if (ev == NULL || asprintf(&out, "%s%c%s=%s", *path, strchr(*path, '?') != NULL ? '&' : '?', key, ev) < 0)
    out = NULL;
  free(ev);
  free(*path);
  *path = out;
  if (out == NULL) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}
