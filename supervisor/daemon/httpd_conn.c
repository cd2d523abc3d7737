/* httpd_conn.c - one connection of the HTTP server: reading, parsing,
 * timers, writes and the state machine of httpd_internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "supervisor/daemon/httpd_internal.h"

typedef struct wreq {
  uv_write_t w;
  httpd_conn *c;
  char data[];
} wreq;

static void on_timer(uv_timer_t *t);
static void conn_parse(httpd_conn *c);

static void on_handle_closed(uv_handle_t *h) {
  httpd_conn *c = h->data;
  if (--c->pending_close == 0)
    srv_conn_gone(c->srv, c);
}

void conn_close(httpd_conn *c, bool notify) {
  if (c->state == CONN_CLOSED)
    return;
  c->state = CONN_CLOSED;
  c->reading = false;
  httpd_req *req = c->req;
  c->req = NULL;
  if (req != NULL && !req->dispatched) {
    req_free(req);
    req = NULL;
  } else if (req != NULL) {
    req->conn = NULL;
    c->srv->n_orphans++;
  }
  c->pending_close = 2;
  uv_close(&c->h.handle, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  /* Last: the handler may finish req from here, which may end the server's
   * wait for its orphans. */
  if (req != NULL && notify && req->on_gone != NULL)
    req->on_gone(req, req->gone_data);
}

static void timer_set(httpd_conn *c, unsigned ms) {
  uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  httpd_conn *c = h->data;
  if (c->state == CONN_LINGER || c->close_after) {
    /* What arrives now is dropped: no request is parsed any more. */
    *buf = uv_buf_init(c->inbuf, sizeof c->inbuf);
    return;
  }
  if (c->in_off == c->in_len) {
    c->in_off = c->in_len = 0;
  } else if (c->in_off > 0 && c->in_len == sizeof c->inbuf) {
    memmove(c->inbuf, c->inbuf + c->in_off, c->in_len - c->in_off);
    c->in_len -= c->in_off;
    c->in_off = 0;
  }
  *buf = uv_buf_init(c->inbuf + c->in_len, (unsigned)(sizeof c->inbuf - c->in_len));
}

static void read_off(httpd_conn *c) {
  if (c->reading && c->state != CONN_CLOSED)
    uv_read_stop(&c->h.stream);
  c->reading = false;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void read_on(httpd_conn *c) {
  if (!c->reading && !c->eof && c->state != CONN_CLOSED)
    c->reading = uv_read_start(&c->h.stream, on_alloc, on_read) == 0;
}

/* The client shut its write side, or the connection broke. */
static void on_read_end(httpd_conn *c, ssize_t n) {
  read_off(c);
  if (n != UV_EOF) {
    conn_close(c, true);
    return;
  }
  c->eof = true;
  switch (c->state) {
  case CONN_READ:
    if (c->req != NULL)
      conn_error(c, 400, "the request ended before it was complete");
    else
      conn_close(c, true);
    break;
  case CONN_HANDLE:
  case CONN_REPLY:
    /* A half-closed client may still read the reply it waits for. */
    c->close_after = true;
    break;
  default: conn_close(c, true); break;
  }
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  httpd_conn *c = st->data;
  if (n == 0 || c->state == CONN_CLOSED)
    return;
  if (n == UV_ENOBUFS) {
    read_off(c); /* the input buffer is full of pipelined requests */
    return;
  }
  if (n < 0) {
    on_read_end(c, n);
    return;
  }
  if (c->state == CONN_LINGER || c->close_after)
    return;
  c->in_len += (size_t)n;
  if (c->state == CONN_READ)
    conn_parse(c);
}

static void on_write(uv_write_t *w, int status) {
  wreq *wr = (wreq *)w;
  httpd_conn *c = wr->c;
  free(wr);
  c->writes--;
  if (status < 0) {
    conn_close(c, true);
    return;
  }
  if (c->state == CONN_REPLY && c->resp_done && c->writes == 0)
    timer_set(c, 0);
}

int conn_writev(httpd_conn *c, const uv_buf_t *parts, size_t n) {
  if (c->state == CONN_CLOSED || c->state == CONN_LINGER)
    return -EPIPE;
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += parts[i].len;
  wreq *wr = malloc(sizeof *wr + total);
  if (wr == NULL) {
    conn_close(c, false); /* a truncated response would be worse */
    return -EPIPE;
  }
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    if (parts[i].len > 0)
      memcpy(wr->data + off, parts[i].base, parts[i].len);
    off += parts[i].len;
  }
  wr->c = c;
  uv_buf_t ub = uv_buf_init(wr->data, (unsigned)total);
  if (uv_write(&wr->w, &c->h.stream, &ub, 1, on_write) < 0) {
    free(wr);
    conn_close(c, false);
    return -EPIPE;
  }
  c->writes++;
  return 0;
}

int conn_write2(httpd_conn *c, const char *a, size_t alen, const char *b, size_t blen) {
  uv_buf_t parts[2] = {uv_buf_init((char *)a, (unsigned)alen), uv_buf_init((char *)b, (unsigned)blen)};
  return conn_writev(c, parts, 2);
}

int conn_write(httpd_conn *c, const char *data, size_t len) {
  return conn_write2(c, data, len, NULL, 0);
}

void conn_response_queued(httpd_conn *c) {
  if (c->state == CONN_CLOSED || c->state == CONN_LINGER)
    return;
  c->state = CONN_REPLY;
  c->resp_done = true;
  /* The timer goes on once the reply is written (at once when nothing is
   * left to write); until then it bounds a client that does not read. */
  timer_set(c, c->writes == 0 ? 0 : c->srv->lim.idle_timeout_ms);
}

static void on_shutdown(uv_shutdown_t *sr, int status) {
  httpd_conn *c = sr->data;
  if (c->state != CONN_CLOSED && (status < 0 || c->eof))
    conn_close(c, false);
}

/* Shuts the write side down and drops input until the client closes (or
 * HTTPD_LINGER_MS), so that its unread reply is not destroyed by a reset
 * for data it was still sending. */
static void conn_linger(httpd_conn *c) {
  c->state = CONN_LINGER;
  c->in_off = c->in_len = 0;
  c->shut.data = c;
  if (uv_shutdown(&c->shut, &c->h.stream, on_shutdown) < 0) {
    conn_close(c, false);
    return;
  }
  timer_set(c, HTTPD_LINGER_MS);
  read_on(c);
}

/* The response is written: the next request, or the end. */
static void response_written(httpd_conn *c) {
  c->resp_done = false;
  if (c->close_after || !c->keep_alive || c->eof || c->srv->closing) {
    conn_linger(c);
    return;
  }
  c->state = CONN_READ;
  timer_set(c, c->srv->lim.idle_timeout_ms);
  read_on(c);
  conn_parse(c);
}

static void on_timer(uv_timer_t *t) {
  httpd_conn *c = t->data;
  switch (c->state) {
  case CONN_READ:
    if (c->receiving)
      conn_error(c, 408, "the request was not received in time");
    else
      conn_close(c, true);
    break;
  case CONN_REPLY:
    if (c->resp_done && c->writes == 0)
      response_written(c);
    else
      conn_close(c, true); /* the client does not read its reply */
    break;
  case CONN_LINGER: conn_close(c, false); break;
  default: break;
  }
}

void conn_error(httpd_conn *c, int code, const char *message) {
  if (c->state != CONN_READ)
    return;
  req_free(c->req);
  c->req = NULL;
  c->close_after = true;
  c->keep_alive = c->head = c->chunked = false;
  c->minor = 1;
  uv_timer_stop(&c->timer);
  size_t blen, hlen;
  char *body = resp_status_body(code, NULL, message, &blen);
  char *head =
      body != NULL ? resp_head(c, NULL, code, "application/json", (long long)blen, false, &hlen) : NULL;
  int rc = head != NULL ? conn_write2(c, head, hlen, body, blen) : -ENOMEM;
  free(head);
  free(body);
  if (rc == 0)
    conn_response_queued(c);
  else
    conn_close(c, false);
}

/* ---- parser callbacks ---- */

static int fail(httpd_conn *c, int code, const char *msg) {
  c->error = code;
  c->error_msg = msg;
  return -1;
}

static int count_head(httpd_conn *c, size_t n) {
  c->head_bytes += n;
  if (c->head_bytes > c->srv->lim.max_header_bytes)
    return fail(c, 431, "the request line and headers are larger than the limit");
  return 0;
}

static int on_message_begin(http_parser *p) {
  httpd_conn *c = p->data;
  c->head_bytes = 0;
  c->error = 0;
  c->req = req_new(c);
  return c->req != NULL ? 0 : fail(c, 500, "out of memory");
}

static int on_url(http_parser *p, const char *at, size_t len) {
  httpd_conn *c = p->data;
  if (count_head(c, len) < 0)
    return -1;
  return req_add_url(c->req, at, len) == 0 ? 0 : fail(c, 500, "out of memory");
}

static int on_header_part(http_parser *p, int which, const char *at, size_t len) {
  httpd_conn *c = p->data;
  if (count_head(c, len + 2) < 0)
    return -1;
  return req_add_header_part(c->req, which, at, len) == 0 ? 0 : fail(c, 500, "out of memory");
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  return on_header_part(p, 1, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  return on_header_part(p, 2, at, len);
}

static int on_headers_complete(http_parser *p) {
  httpd_conn *c = p->data;
  httpd_req *req = c->req;
  req->method = p->method;
  req->minor = p->http_minor;
  if (p->http_major != 1)
    return fail(c, 505, "only HTTP/1.0 and HTTP/1.1 are served");
  const char *msg = NULL;
  int rc = req_headers_done(req, &msg);
  if (rc != 0)
    return fail(c, rc, msg);
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->srv->lim.max_body_bytes)
    return fail(c, 413, "the request body is larger than the limit");
  const char *expect = httpd_req_header(req, "Expect");
  bool has_body = (p->flags & F_CHUNKED) || p->content_length > 0;
  if (expect != NULL && strcasecmp(expect, "100-continue") == 0 && req->minor >= 1 && has_body) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (conn_write(c, cont, sizeof cont - 1) < 0)
      return fail(c, 500, "write failed");
  }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  httpd_conn *c = p->data;
  if (c->req->body.len + len > c->srv->lim.max_body_bytes)
    return fail(c, 413, "the request body is larger than the limit");
  return hbuf_add(&c->req->body, at, len) == 0 ? 0 : fail(c, 500, "out of memory");
}

static int on_message_complete(http_parser *p) {
  httpd_conn *c = p->data;
  c->complete = true;
  /* Upgrade and CONNECT: what follows is not HTTP any more. */
  c->keep_alive = http_should_keep_alive(p) && !p->upgrade;
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Hands the complete request to the handler (loop context). */
static void dispatch(httpd_conn *c) {
  httpd_req *req = c->req;
  c->complete = c->receiving = false;
  uv_timer_stop(&c->timer);
  c->state = CONN_HANDLE;
  c->head = req->method == HTTP_HEAD;
  c->minor = req->minor;
  if (c->srv->closing)
    c->close_after = true;
  req->dispatched = true;
  req_set_auth(req, c->srv, c->lst->trusted);
  c->srv->handler(c->srv->ctx, req);
}

static void parse_error(httpd_conn *c, enum http_errno e) {
  int code = c->error;
  const char *msg = c->error_msg;
  if (code == 0 && e == HPE_HEADER_OVERFLOW) {
    code = 431;
    msg = "the request line and headers are larger than the limit";
  } else if (code == 0) {
    code = 400;
    msg = http_errno_description(e);
  }
  conn_error(c, code, msg);
}

/* Feeds buffered input to the parser while the connection waits for a
 * request; a complete request is handed over and the rest stays buffered. */
static void conn_parse(httpd_conn *c) {
  while (c->state == CONN_READ && c->in_off < c->in_len) {
    if (!c->receiving) {
      c->receiving = true;
      timer_set(c, c->srv->lim.request_timeout_ms);
    }
    size_t n = http_parser_execute(&c->parser, &settings, c->inbuf + c->in_off, c->in_len - c->in_off);
    c->in_off += n;
    if (c->complete) {
      http_parser_pause(&c->parser, 0);
      dispatch(c);
      return;
    }
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e != HPE_OK) {
      parse_error(c, e);
      return;
    }
  }
  if (c->state == CONN_READ && c->receiving && c->req == NULL)
    c->receiving = false; /* only blank lines: the timer runs on, closing silently */
}

/* Ends an open stream for httpd_close(): the client gets a complete body,
 * the handler is told. */
static void end_stream(httpd_conn *c) {
  httpd_req *req = c->req;
  if (c->chunked)
    (void)conn_write(c, "0\r\n\r\n", 5);
  if (c->state == CONN_CLOSED) { /* the write failed: req is an orphan already */
    if (req->on_gone != NULL)
      req->on_gone(req, req->gone_data);
    return;
  }
  c->req = NULL;
  req->conn = NULL;
  c->srv->n_orphans++;
  c->close_after = true;
  conn_response_queued(c);
  if (req->on_gone != NULL)
    req->on_gone(req, req->gone_data);
}

void conn_shutdown(httpd_conn *c) {
  switch (c->state) {
  case CONN_READ:
    if (c->req != NULL)
      conn_error(c, 503, "the server is shutting down");
    else
      conn_close(c, true);
    break;
  case CONN_HANDLE:
  case CONN_REPLY: c->close_after = true; break;
  case CONN_STREAM: end_stream(c); break;
  default: break;
  }
}

static void set_peer(httpd_conn *c) {
  if (!c->lst->is_tcp) {
    strcpy(c->peer, "unix");
    return;
  }
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0)
    addr_peer(&ss, c->peer, sizeof c->peer);
  else
    strcpy(c->peer, "?");
  uv_tcp_nodelay(&c->h.tcp, 1); /* stream chunks go out at once */
  /* A client that vanished without a FIN (a pulled cable, a NAT that
   * forgot it) is found even while its watch stream is silent. */
  uv_tcp_keepalive(&c->h.tcp, 1, 60);
}

int conn_accept(httpd *s, httpd_listener *l) {
  httpd_conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return -ENOMEM;
  c->srv = s;
  c->lst = l;
  if (l->is_tcp)
    uv_tcp_init(s->loop, &c->h.tcp);
  else
    uv_pipe_init(s->loop, &c->h.pipe, 0);
  uv_timer_init(s->loop, &c->timer);
  c->h.handle.data = c->timer.data = c;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  c->next = s->conns;
  if (s->conns != NULL)
    s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  if (uv_accept(&l->h.stream, &c->h.stream) < 0) {
    conn_close(c, false);
    return 0;
  }
  set_peer(c);
  read_on(c);
  if (s->n_active >= s->lim.max_connections) {
    if (s->n_rejecting >= HTTPD_MAX_REJECTING) {
      conn_close(c, false);
      return 0;
    }
    c->rejected = true;
    s->n_rejecting++;
    char msg[96];
    snprintf(msg, sizeof msg, "too many connections: %u are open", s->n_active);
    conn_error(c, 503, msg);
    return 0;
  }
  c->counted = true;
  s->n_active++;
  timer_set(c, s->lim.idle_timeout_ms);
  return 0;
}
