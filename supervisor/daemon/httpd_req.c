/* httpd_req.c - a request: what the parser collects, its URL, query and
 * headers, the accessors of httpd.h, and auth. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "supervisor/daemon/httpd_internal.h"

int hbuf_add(hbuf *b, const void *data, size_t len) {
  if (len + 1 > b->cap - b->len || b->p == NULL) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + len + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
      return -ENOMEM;
    b->p = p;
    b->cap = cap;
  }
  if (len > 0)
    memcpy(b->p + b->len, data, len);
  b->len += len;
  b->p[b->len] = '\0';
  return 0;
}

int hbuf_addf(hbuf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -EINVAL;
  if ((size_t)n < sizeof small)
    return hbuf_add(b, small, (size_t)n);
  char *big = malloc((size_t)n + 1);
  if (big == NULL)
    return -ENOMEM;
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  int rc = hbuf_add(b, big, (size_t)n);
  free(big);
  return rc;
}

void hbuf_free(hbuf *b) {
  free(b->p);
  *b = (hbuf){0};
}

httpd_req *req_new(httpd_conn *c) {
  httpd_req *req = calloc(1, sizeof *req);
  if (req == NULL)
    return NULL;
  req->srv = c->srv;
  req->conn = c;
  req->listener_data = c->lst->data;
  memcpy(req->peer, c->peer, sizeof req->peer);
  return req;
}

void req_free(httpd_req *req) {
  if (req == NULL)
    return;
  hbuf_free(&req->raw);
  hbuf_free(&req->body);
  hbuf_free(&req->resp_hdrs);
  free(req->hdr_off);
  free(req->derived);
  free(req->seg);
  free(req->query);
  free(req->hdr);
  free(req);
}

void req_finish(httpd_req *req) {
  httpd *s = req->srv;
  bool orphan = req->conn == NULL && req->dispatched;
  if (req->conn != NULL)
    req->conn->req = NULL;
  else if (orphan)
    s->n_orphans--;
  req_free(req);
  if (orphan)
    srv_maybe_closed(s);
}

int req_add_url(httpd_req *req, const char *at, size_t len) {
  return hbuf_add(&req->raw, at, len);
}

static int add_nul(hbuf *b) {
  return hbuf_add(b, "", 1);
}

static int new_header(httpd_req *req) {
  if (req->nhdr == req->hdr_cap) {
    size_t cap = req->hdr_cap ? req->hdr_cap * 2 : 16;
    size_t *p = realloc(req->hdr_off, cap * 2 * sizeof *p);
    if (p == NULL)
      return -ENOMEM;
    req->hdr_off = p;
    req->hdr_cap = cap;
  }
  req->hdr_off[2 * req->nhdr] = req->raw.len;
  req->hdr_off[2 * req->nhdr + 1] = req->raw.len; /* set again when the value starts */
  req->nhdr++;
  return 0;
}

/* Ends the piece being collected (the URL, a name, a value).  http_parser
 * calls no value callback for an empty value, so a name may end another
 * name or the headers: its value is then "". */
static int end_piece(httpd_req *req) {
  if (add_nul(&req->raw) < 0)
    return -ENOMEM;
  if (req->last_cb == 1) {
    req->hdr_off[2 * req->nhdr - 1] = req->raw.len;
    return add_nul(&req->raw);
  }
  return 0;
}

/* which: 1 a part of a header name, 2 a part of its value; the parser may
 * hand over a piece in several parts (a read ending inside it). */
int req_add_header_part(httpd_req *req, int which, const char *at, size_t len) {
  if (req->last_cb == 3)
    return 0; /* trailers of a chunked body: dropped */
  if (which != req->last_cb) {
    if (which == 1 && end_piece(req) < 0)
      return -ENOMEM;
    if (which == 1 && new_header(req) < 0)
      return -ENOMEM;
    if (which == 2) {
      if (add_nul(&req->raw) < 0)
        return -ENOMEM;
      req->hdr_off[2 * req->nhdr - 1] = req->raw.len;
    }
    req->last_cb = which;
  }
  return hbuf_add(&req->raw, at, len);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes n bytes of s into out (NUL-terminated, at most n + 1
 * bytes).  A bad escape and an escaped NUL are errors (-1). */
static ssize_t pct_decode(const char *s, size_t n, bool plus_is_space, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch == '%') {
      int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
      int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        return -1;
      ch = (char)(hi * 16 + lo);
      i += 2;
    } else if (ch == '+' && plus_is_space) {
      ch = ' ';
    }
    out[o++] = ch;
  }
  out[o] = '\0';
  return (ssize_t)o;
}

/* Splits the raw path into decoded segments, skipping empty ones. */
static int split_path(httpd_req *req, const char *p, size_t n, char **out) {
  req->seg = calloc(n / 2 + 2, sizeof *req->seg);
  if (req->seg == NULL)
    return -ENOMEM;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && p[j] != '/')
      j++;
    if (j > i) {
      ssize_t len = pct_decode(p + i, j - i, false, *out);
      if (len < 0)
        return -EINVAL;
      req->seg[req->nseg++] = *out;
      *out += len + 1;
    }
    i = j + 1;
  }
  return 0;
}

static int split_query(httpd_req *req, const char *q, size_t n, char **out) {
  req->query = calloc(n / 2 + 2, sizeof *req->query);
  if (req->query == NULL)
    return -ENOMEM;
  size_t i = 0;
  while (i < n) {
    size_t j = i, eq = SIZE_MAX;
    for (; j < n && q[j] != '&'; j++)
      if (q[j] == '=' && eq == SIZE_MAX)
        eq = j;
    if (j > i) {
      size_t kend = eq != SIZE_MAX ? eq : j;
      ssize_t kl = pct_decode(q + i, kend - i, true, *out);
      if (kl < 0)
        return -EINVAL;
      httpd_kv *kv = &req->query[req->nquery++];
      kv->k = *out;
      *out += kl + 1;
      size_t vs = eq != SIZE_MAX ? eq + 1 : j;
      ssize_t vl = pct_decode(q + vs, j - vs, true, *out);
      if (vl < 0)
        return -EINVAL;
      kv->v = *out;
      *out += vl + 1;
    }
    i = j + 1;
  }
  return 0;
}

static int split_target(httpd_req *req, const char **msg) {
  const char *url = req->raw.p;
  size_t ulen = strlen(url);
  struct http_parser_url u;
  http_parser_url_init(&u);
  if (ulen > 65535 || http_parser_parse_url(url, ulen, req->method == HTTP_CONNECT, &u) != 0) {
    *msg = "invalid request target";
    return 400;
  }
  const char *p = "/", *q = "";
  size_t plen = 1, qlen = 0;
  if (u.field_set & (1 << UF_PATH)) {
    p = url + u.field_data[UF_PATH].off;
    plen = u.field_data[UF_PATH].len;
  }
  if (u.field_set & (1 << UF_QUERY)) {
    q = url + u.field_data[UF_QUERY].off;
    qlen = u.field_data[UF_QUERY].len;
  }
  req->derived = malloc(2 * plen + 2 * qlen + 8);
  if (req->derived == NULL) {
    *msg = "out of memory";
    return 500;
  }
  char *out = req->derived;
  ssize_t n = pct_decode(p, plen, false, out);
  if (n >= 0) {
    req->path = out;
    out += n + 1;
  }
  int rc = n < 0 ? -EINVAL : split_path(req, p, plen, &out);
  if (rc == 0)
    rc = split_query(req, q, qlen, &out);
  if (rc < 0) {
    *msg = rc == -ENOMEM ? "out of memory" : "invalid percent-encoding in the request target";
    return rc == -ENOMEM ? 500 : 400;
  }
  req->target = url;
  return 0;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
  return s;
}

int req_headers_done(httpd_req *req, const char **msg) {
  if (end_piece(req) < 0) {
    *msg = "out of memory";
    return 500;
  }
  req->last_cb = 3;
  req->hdr = calloc(req->nhdr + 1, sizeof *req->hdr);
  if (req->hdr == NULL) {
    *msg = "out of memory";
    return 500;
  }
  for (size_t i = 0; i < req->nhdr; i++) {
    req->hdr[i].k = req->raw.p + req->hdr_off[2 * i];
    req->hdr[i].v = trim(req->raw.p + req->hdr_off[2 * i + 1]);
  }
  int rc = split_target(req, msg);
  if (rc == 0 && req->minor >= 1 && httpd_req_header(req, "Host") == NULL) {
    *msg = "missing required Host header";
    rc = 400;
  }
  return rc;
}

/* Compares in time that depends only on the expected token's length. */
static bool token_eq(const char *given, size_t glen, const char *want, size_t wlen) {
  volatile unsigned char diff = glen != wlen;
  for (size_t i = 0; i < wlen; i++)
    diff |= (unsigned char)want[i] ^ (unsigned char)(i < glen ? given[i] : 0);
  return diff == 0;
}

void req_set_auth(httpd_req *req, const httpd *s, bool trusted) {
  if (trusted) {
    req->auth = HTTPD_AUTH_TRUSTED;
    return;
  }
  const char *h = httpd_req_header(req, "Authorization");
  if (h == NULL) {
    req->auth = HTTPD_AUTH_NONE;
    return;
  }
  req->auth = HTTPD_AUTH_INVALID;
  if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
    return;
  const char *tok = h + 7;
  while (*tok == ' ' || *tok == '\t')
    tok++;
  if (s->token != NULL && token_eq(tok, strlen(tok), s->token, s->token_len))
    req->auth = HTTPD_AUTH_TOKEN;
}

/* ---- accessors ---- */

httpd_method httpd_req_method(const httpd_req *req) {
  switch (req->method) {
  case HTTP_GET:
  case HTTP_HEAD: return HTTPD_GET;
  case HTTP_POST: return HTTPD_POST;
  case HTTP_PUT: return HTTPD_PUT;
  case HTTP_PATCH: return HTTPD_PATCH;
  case HTTP_DELETE: return HTTPD_DELETE;
  case HTTP_OPTIONS: return HTTPD_OPTIONS;
  default: return HTTPD_OTHER;
  }
}

const char *httpd_req_method_str(const httpd_req *req) {
  return http_method_str(req->method);
}

bool httpd_req_is_head(const httpd_req *req) {
  return req->method == HTTP_HEAD;
}

bool httpd_method_is_safe(httpd_method m) {
  return m == HTTPD_GET || m == HTTPD_OPTIONS;
}

int httpd_req_http_minor(const httpd_req *req) {
  return req->minor;
}

const char *httpd_req_target(const httpd_req *req) {
  return req->target;
}

const char *httpd_req_path(const httpd_req *req) {
  return req->path;
}

size_t httpd_req_nseg(const httpd_req *req) {
  return req->nseg;
}

const char *httpd_req_seg(const httpd_req *req, size_t i) {
  return i < req->nseg ? req->seg[i] : NULL;
}

const char *httpd_req_query(const httpd_req *req, const char *key) {
  for (size_t i = 0; i < req->nquery; i++)
    if (strcmp(req->query[i].k, key) == 0)
      return req->query[i].v;
  return NULL;
}

size_t httpd_req_nquery(const httpd_req *req) {
  return req->nquery;
}

int httpd_req_query_at(const httpd_req *req, size_t i, const char **key, const char **value) {
  if (i >= req->nquery)
    return -ERANGE;
  *key = req->query[i].k;
  *value = req->query[i].v;
  return 0;
}

const char *httpd_req_header(const httpd_req *req, const char *name) {
  for (size_t i = 0; i < req->nhdr && req->hdr != NULL; i++)
    if (strcasecmp(req->hdr[i].k, name) == 0)
      return req->hdr[i].v;
  return NULL;
}

size_t httpd_req_nheaders(const httpd_req *req) {
  return req->nhdr;
}

int httpd_req_header_at(const httpd_req *req, size_t i, const char **name, const char **value) {
  if (i >= req->nhdr || req->hdr == NULL)
    return -ERANGE;
  *name = req->hdr[i].k;
  *value = req->hdr[i].v;
  return 0;
}

const char *httpd_req_body(const httpd_req *req, size_t *len) {
  if (len != NULL)
    *len = req->body.len;
  return req->body.p != NULL ? req->body.p : "";
}

httpd_auth httpd_req_auth(const httpd_req *req) {
  return req->auth;
}

bool httpd_req_authenticated(const httpd_req *req) {
  return req->auth == HTTPD_AUTH_TRUSTED || req->auth == HTTPD_AUTH_TOKEN;
}

void *httpd_req_listener_data(const httpd_req *req) {
  return req->listener_data;
}

const char *httpd_req_peer(const httpd_req *req) {
  return req->peer;
}

int httpd_req_on_gone(httpd_req *req, void (*on_gone)(httpd_req *req, void *data), void *data) {
  if (req->conn == NULL)
    return -EPIPE;
  req->on_gone = on_gone;
  req->gone_data = data;
  return 0;
}

bool httpd_req_gone(const httpd_req *req) {
  return req->conn == NULL;
}
