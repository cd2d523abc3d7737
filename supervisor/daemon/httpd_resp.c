/* httpd_resp.c - responses: complete replies, streams and Kubernetes
 * Status objects. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "supervisor/daemon/httpd_internal.h"

/* The IMF-fixdate of RFC 9110, independent of the locale. */
static void http_date(char *buf, size_t len) {
  static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
           months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *status_text(int status) {
  const char *s = http_status_str((enum http_status)status);
  return s != NULL && s[0] != '<' ? s : "Unknown";
}

char *resp_head(httpd_conn *c, const hbuf *extra, int status, const char *ctype, long long length,
                bool chunked, size_t *len) {
  if (c->eof || c->srv->closing || !c->keep_alive)
    c->close_after = true;
  char date[40];
  http_date(date, sizeof date);
  hbuf b = {0};
  int rc = hbuf_addf(&b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, status_text(status), date);
  if (rc == 0 && ctype != NULL)
    rc = hbuf_addf(&b, "Content-Type: %s\r\n", ctype);
  if (rc == 0 && length >= 0)
    rc = hbuf_addf(&b, "Content-Length: %lld\r\n", length);
  if (rc == 0 && chunked)
    rc = hbuf_addf(&b, "Transfer-Encoding: chunked\r\n");
  if (rc == 0 && c->close_after)
    rc = hbuf_addf(&b, "Connection: close\r\n");
  else if (rc == 0 && c->minor == 0)
    rc = hbuf_addf(&b, "Connection: keep-alive\r\n");
  if (rc == 0 && extra != NULL && extra->len > 0)
    rc = hbuf_add(&b, extra->p, extra->len);
  if (rc == 0)
    rc = hbuf_add(&b, "\r\n", 2);
  if (rc < 0) {
    hbuf_free(&b);
    return NULL;
  }
  *len = b.len;
  return b.p;
}

const char *httpd_status_reason(int code) {
  switch (code) {
  case 400: return "BadRequest";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "NotFound";
  case 405: return "MethodNotAllowed";
  case 406: return "NotAcceptable";
  case 408: return "RequestTimeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 413: return "RequestEntityTooLarge";
  case 415: return "UnsupportedMediaType";
  case 422: return "Invalid";
  case 429: return "TooManyRequests";
  case 431: return "RequestHeaderFieldsTooLarge";
  case 500: return "InternalError";
  case 503: return "ServiceUnavailable";
  case 504: return "Timeout";
  case 505: return "HTTPVersionNotSupported";
  default: return "";
  }
}

json_t *httpd_status_new(int code, const char *reason, const char *message) {
  if (reason == NULL)
    reason = httpd_status_reason(code);
  json_t *st =
      json_pack("{s:s, s:s, s:{}, s:s, s:s}", "kind", "Status", "apiVersion", "v1", "metadata", "status",
                code < 400 ? "Success" : "Failure", "message", message != NULL ? message : "");
  if (st == NULL)
    return NULL;
  /* Kubernetes leaves out an empty reason (omitempty). */
  if ((reason[0] != '\0' && json_object_set_new(st, "reason", json_string(reason)) < 0) ||
      json_object_set_new(st, "code", json_integer(code)) < 0) {
    json_decref(st);
    return NULL;
  }
  return st;
}

/* Compact JSON and a newline, as the Kubernetes API server writes it. */
static char *dump_json(const json_t *j, size_t *len) {
  char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (s == NULL)
    return NULL;
  size_t n = strlen(s);
  char *t = realloc(s, n + 2);
  if (t == NULL) {
    free(s);
    return NULL;
  }
  t[n] = '\n';
  t[n + 1] = '\0';
  *len = n + 1;
  return t;
}

char *resp_status_body(int code, const char *reason, const char *message, size_t *len) {
  json_t *st = httpd_status_new(code, reason, message);
  char *s = st != NULL ? dump_json(st, len) : NULL;
  json_decref(st);
  return s;
}

int httpd_resp_header(httpd_req *req, const char *name, const char *value) {
  static const char *const reserved[] = {"Content-Length", "Transfer-Encoding", "Connection", "Date"};
  if (name[0] == '\0' || strpbrk(name, ":\r\n \t") != NULL || strpbrk(value, "\r\n") != NULL)
    return -EINVAL;
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
    if (strcasecmp(name, reserved[i]) == 0)
      return -EINVAL;
  return hbuf_addf(&req->resp_hdrs, "%s: %s\r\n", name, value);
}

int httpd_reply(httpd_req *req, int status, const char *content_type, const void *body, size_t len) {
  if (req->streaming) {
    httpd_stream_end(req);
    return -EINVAL;
  }
  httpd_conn *c = req->conn;
  if (c == NULL) {
    req_finish(req);
    return -EPIPE;
  }
  int rc = 0;
  if (status < 200 || status > 599) {
    status = 500;
    rc = -EINVAL;
  }
  /* HEAD gets GET's headers, Content-Length included; 204 and 304 have no body. */
  bool no_length = status == 204 || status == 304;
  bool no_body = c->head || no_length;
  size_t hlen;
  char *head =
      resp_head(c, &req->resp_hdrs, status, content_type, no_length ? -1 : (long long)len, false, &hlen);
  req_finish(req);
  if (head == NULL) {
    conn_close(c, false);
    return -ENOMEM;
  }
  int wrc = conn_write2(c, head, hlen, no_body ? NULL : body, no_body ? 0 : len);
  free(head);
  if (wrc < 0)
    return wrc;
  conn_response_queued(c);
  return rc;
}

int httpd_reply_json(httpd_req *req, int status, const json_t *json) {
  size_t len;
  char *s = dump_json(json, &len);
  if (s == NULL)
    return httpd_reply_status(req, 500, NULL, "the response could not be encoded");
  int rc = httpd_reply(req, status, "application/json", s, len);
  free(s);
  return rc;
}

int httpd_reply_status(httpd_req *req, int code, const char *reason, const char *message) {
  size_t len;
  char *s = resp_status_body(code, reason, message, &len);
  if (s == NULL) {
    static const char oom[] = "out of memory\n";
    return httpd_reply(req, 500, "text/plain", oom, sizeof oom - 1);
  }
  int rc = httpd_reply(req, code, "application/json", s, len);
  free(s);
  return rc;
}

int httpd_reply_statusf(httpd_req *req, int code, const char *reason, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  int n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  int rc = httpd_reply_status(req, code, reason, n >= 0 ? msg : "out of memory");
  if (n >= 0)
    free(msg);
  return rc;
}

int httpd_stream_begin(httpd_req *req, int status, const char *content_type) {
  if (req->streaming)
    return -EINVAL;
  req->streaming = true;
  httpd_conn *c = req->conn;
  if (c == NULL)
    return -EPIPE;
  if (status < 200 || status > 599)
    status = 500;
  /* HTTP/1.0 knows no chunks: the body ends with the connection. */
  if (c->minor == 0 && !c->head)
    c->close_after = true;
  size_t hlen;
  char *head = resp_head(c, &req->resp_hdrs, status, content_type, -1, c->minor >= 1, &hlen);
  int rc = head != NULL ? conn_write(c, head, hlen) : -EPIPE;
  free(head);
  if (head == NULL)
    conn_close(c, false);
  if (rc < 0)
    return -EPIPE;
  c->state = CONN_STREAM;
  c->chunked = c->minor >= 1 && !c->head;
  if (c->head) {
    req->stream_head_only = true;
    return -EPIPE;
  }
  return 0;
}

size_t httpd_stream_queued(const httpd_req *req) {
  const httpd_conn *c = req->conn;
  return c != NULL ? uv_stream_get_write_queue_size(&c->h.stream) : 0;
}

int httpd_stream_write(httpd_req *req, const void *data, size_t len) {
  httpd_conn *c = req->conn;
  if (!req->streaming)
    return -EINVAL;
  if (c == NULL || req->stream_head_only)
    return -EPIPE;
  if (len == 0)
    return 0;
  if (uv_stream_get_write_queue_size(&c->h.stream) + len > c->srv->lim.max_write_queue) {
    conn_close(c, false); /* a client that does not read would hold memory without bound */
    return -EPIPE;
  }
  if (!c->chunked)
    return conn_write(c, data, len);
  char pre[24];
  int n = snprintf(pre, sizeof pre, "%zx\r\n", len);
  uv_buf_t parts[3] = {uv_buf_init(pre, (unsigned)n), uv_buf_init((char *)data, (unsigned)len),
                       uv_buf_init("\r\n", 2)};
  return conn_writev(c, parts, 3);
}

int httpd_stream_end(httpd_req *req) {
  httpd_conn *c = req->conn;
  if (!req->streaming && c != NULL) {
    httpd_reply_status(req, 500, NULL, "the stream ended before it began");
    return -EINVAL;
  }
  if (c == NULL) {
    req_finish(req);
    return 0;
  }
  if (c->chunked)
    (void)conn_write(c, "0\r\n\r\n", 5);
  req_finish(req);
  if (c->state == CONN_CLOSED)
    return -EPIPE;
  conn_response_queued(c);
  return 0;
}
