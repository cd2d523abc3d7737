/* httpd_fixture.c - the server side of the HTTP suites' fixture: the test
 * handler and the loop (see httpd_fixture.h). */
#include "tests/unit/httpd_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/testutil.h"

static void bump(int *counter) {
  __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

int hfix_get(const int *counter) {
  return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

int hfix_wait(const int *counter, int want, int timeout_ms) {
  for (int waited = 0; hfix_get(counter) < want && waited < timeout_ms; waited += 5)
    nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
  return hfix_get(counter);
}

static const char *auth_name(httpd_auth a) {
  switch (a) {
  case HTTPD_AUTH_TRUSTED: return "trusted";
  case HTTPD_AUTH_TOKEN: return "token";
  case HTTPD_AUTH_NONE: return "none";
  default: return "invalid";
  }
}

static void echo(httpd_req *req) {
  json_t *segs = json_array(), *query = json_array();
  for (size_t i = 0; i < httpd_req_nseg(req); i++)
    json_array_append_new(segs, json_string(httpd_req_seg(req, i)));
  for (size_t i = 0; i < httpd_req_nquery(req); i++) {
    const char *k, *v;
    httpd_req_query_at(req, i, &k, &v);
    json_array_append_new(query, json_pack("[s,s]", k, v));
  }
  size_t blen;
  const char *body = httpd_req_body(req, &blen);
  const char *xt = httpd_req_header(req, "x-test");
  json_t *j = json_pack("{s:s, s:b, s:s, s:o, s:o, s:s#, s:s, s:i, s:s?}", "method",
                        httpd_req_method_str(req), "head", httpd_req_is_head(req), "path",
                        httpd_req_path(req), "segs", segs, "query", query, "body", body, (int)blen, "auth",
                        auth_name(httpd_req_auth(req)), "minor", httpd_req_http_minor(req), "x_test", xt);
  httpd_resp_header(req, "X-Served-By", "podvisor-test");
  httpd_reply_json(req, 200, j);
  json_decref(j);
}

typedef struct later {
  uv_timer_t t;
  httpd_req *req;
  hfix *f;
  int left, i, every;
  size_t size; /* bytes of each chunk; 0: a "tick I\n" line */
  bool ended;
} later;

static void free_later(uv_handle_t *h) {
  free(h->data);
}

static void on_async_due(uv_timer_t *t) {
  later *l = t->data;
  static const char text[] = "late\n";
  if (httpd_reply(l->req, 200, "text/plain", text, sizeof text - 1) == -EPIPE)
    bump(&l->f->late_epipe);
  uv_close((uv_handle_t *)t, free_later);
}

static void on_gone_count(httpd_req *req, void *data) {
  (void)req;
  later *l = data;
  bump(&l->f->gone);
}

static int query_int(httpd_req *req, const char *key, int dflt) {
  const char *v = httpd_req_query(req, key);
  return v != NULL ? atoi(v) : dflt;
}

static later *later_new(hfix *f, httpd_req *req) {
  later *l = calloc(1, sizeof *l);
  ck_assert_ptr_nonnull(l);
  l->req = req;
  l->f = f;
  uv_timer_init(&f->loop, &l->t);
  l->t.data = l;
  return l;
}

/* Answers after a timer, also after the client left (the reply is then
 * discarded): the late-answer ownership rule. */
static void async_reply(hfix *f, httpd_req *req) {
  later *l = later_new(f, req);
  ck_assert_int_eq(httpd_req_on_gone(req, on_gone_count, l), 0);
  uv_timer_start(&l->t, on_async_due, (uint64_t)query_int(req, "ms", 100), 0);
}

static void stream_finish(later *l) {
  if (l->ended)
    return;
  l->ended = true;
  httpd_stream_end(l->req);
  bump(&l->f->streams_ended);
  uv_close((uv_handle_t *)&l->t, free_later);
}

static void on_tick(uv_timer_t *t) {
  later *l = t->data;
  char line[32];
  int n = snprintf(line, sizeof line, "tick %d\n", l->i++);
  char *big = l->size > 0 ? calloc(1, l->size) : NULL;
  int rc =
      big != NULL ? httpd_stream_write(l->req, big, l->size) : httpd_stream_write(l->req, line, (size_t)n);
  free(big);
  if (rc == -EPIPE) {
    bump(&l->f->late_epipe);
    stream_finish(l);
    return;
  }
  if (l->left > 0 && --l->left == 0)
    stream_finish(l);
}

static void on_stream_gone(httpd_req *req, void *data) {
  (void)req;
  later *l = data;
  bump(&l->f->gone);
  stream_finish(l);
}

static void stream(hfix *f, httpd_req *req) {
  later *l = later_new(f, req);
  l->left = query_int(req, "n", 3);
  l->every = query_int(req, "ms", 50);
  l->size = (size_t)query_int(req, "size", 0);
  httpd_resp_header(req, "Cache-Control", "no-cache");
  if (httpd_stream_begin(req, 200, "text/plain") < 0 || httpd_req_on_gone(req, on_stream_gone, l) < 0) {
    stream_finish(l);
    return;
  }
  uv_timer_start(&l->t, on_tick, 0, (uint64_t)l->every);
}

static void on_server_closed(void *ctx) {
  hfix *f = ctx;
  bump(&f->closed_calls);
}

static void close_server(hfix *f) {
  if (f->closing)
    return;
  f->closing = 1;
  httpd_close(f->srv, on_server_closed, f);
}

static void handler(void *ctx, httpd_req *req) {
  hfix *f = ctx;
  bump(&f->requests);
  const char *p = httpd_req_path(req);
  if (strncmp(p, "/echo", 5) == 0) {
    echo(req);
  } else if (strcmp(p, "/async") == 0) {
    async_reply(f, req);
  } else if (strcmp(p, "/stream") == 0) {
    stream(f, req);
  } else if (strcmp(p, "/mutate") == 0) {
    if (!httpd_req_authenticated(req) && !httpd_method_is_safe(httpd_req_method(req)))
      httpd_reply_status(req, 403, NULL, "mutations need the bearer token");
    else
      httpd_reply(req, 200, "text/plain", "done\n", 5);
  } else if (strcmp(p, "/close") == 0) {
    close_server(f); /* from inside a handler, before its reply */
    httpd_reply(req, 200, "text/plain", "closing\n", 8);
  } else if (strcmp(p, "/status") == 0) {
    httpd_reply_statusf(req, query_int(req, "code", 500), NULL, "status %d", query_int(req, "code", 500));
  } else {
    httpd_reply_statusf(req, 404, NULL, "no route for %s", p);
  }
}

static void on_wake(uv_async_t *a) {
  hfix *f = a->data;
  if (hfix_get(&f->close_wanted))
    close_server(f);
  if (hfix_get(&f->client_done)) {
    close_server(f);
    uv_close((uv_handle_t *)a, NULL);
  }
}

static void on_guard(uv_timer_t *t) {
  (void)t;
  ck_abort_msg("the loop did not end in time");
}

static void *client_main(void *arg) {
  hfix *f = arg;
  f->client(f);
  __atomic_store_n(&f->client_done, 1, __ATOMIC_SEQ_CST);
  uv_async_send(&f->wake);
  return NULL;
}

void hfix_close_server(hfix *f) {
  __atomic_store_n(&f->close_wanted, 1, __ATOMIC_SEQ_CST);
  uv_async_send(&f->wake);
}

void hfix_start(hfix *f, const httpd_limits *lim, hfix_client client) {
  pv_err err = {0};
  ck_assert_int_eq(uv_loop_init(&f->loop), 0);
  f->dir = testutil_tmpdir("pv-httpd");
  ck_assert_ptr_nonnull(f->dir);
  snprintf(f->sock, sizeof f->sock, "%s/api.sock", f->dir);
  f->srv = httpd_new(&f->loop, lim, handler, f, &err);
  ck_assert_msg(f->srv != NULL, "%s", err.msg);
  ck_assert_msg(httpd_listen_unix(f->srv, f->sock, &(httpd_listen_opts){.trusted = true}, &err) == 0, "%s",
                err.msg);
  ck_assert_msg(httpd_listen_tcp(f->srv, "127.0.0.1:0", NULL, &f->port, &err) == 0, "%s", err.msg);
  ck_assert_int_gt(f->port, 0);
  ck_assert_int_eq(httpd_set_token(f->srv, "s3cret"), 0);
  uv_async_init(&f->loop, &f->wake, on_wake);
  f->wake.data = f;
  uv_timer_init(&f->loop, &f->guard);
  uv_timer_start(&f->guard, on_guard, 60000, 0);
  uv_unref((uv_handle_t *)&f->guard);
  f->client = client;
  ck_assert_int_eq(pthread_create(&f->thr, NULL, client_main, f), 0);
}

void hfix_run(hfix *f) {
  uv_run(&f->loop, UV_RUN_DEFAULT);
  pthread_join(f->thr, NULL);
  ck_assert_int_eq(hfix_get(&f->closed_calls), 1);
  uv_close((uv_handle_t *)&f->guard, NULL);
  ck_assert_int_eq(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&f->loop), 0);
  testutil_rmtree(f->dir);
  free(f->dir);
}
