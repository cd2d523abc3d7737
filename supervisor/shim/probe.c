/* probe.c - liveness/readiness/startup probes on the shim's libuv loop. */
#include "supervisor/core/util.h"
#include "supervisor/shim/probe.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void schedule(probe *p, uint64_t ms);

int probe_http_status(const char *buf, size_t len) {
  static const char prefix[] = "HTTP/1.";
  size_t pl = sizeof prefix - 1;
  for (size_t i = 0; i < len && i < pl; i++)
    if (buf[i] != prefix[i])
      return -1;
  /* "HTTP/1.x NNN" is 12 bytes; the reason phrase is irrelevant. */
  if (len < 12)
    return 0;
  if (buf[pl] < '0' || buf[pl] > '9' || buf[pl + 1] != ' ')
    return -1;
  int code = 0;
  for (size_t i = pl + 2; i < pl + 5; i++) {
    if (buf[i] < '0' || buf[i] > '9')
      return -1;
    code = code * 10 + (buf[i] - '0');
  }
  return code;
}

static const char *header_of(const spec_kvs *h, const char *name) {
  for (size_t i = 0; h != NULL && i < h->n; i++)
    if (strcasecmp(h->items[i].key, name) == 0)
      return h->items[i].value;
  return NULL;
}

/* Appends to buf at *off; false when it does not fit. */
static bool append(char *buf, size_t len, size_t *off, const char *a, const char *b) {
  int n = snprintf(buf + *off, len - *off, "%s%s", a, b);
  if (n < 0 || (size_t)n >= len - *off)
    return false;
  *off += (size_t)n;
  return true;
}

int probe_http_request(const probe_spec *s, char *buf, size_t len) {
  const spec_kvs *h = s->headers;
  for (size_t i = 0; h != NULL && i < h->n; i++)
    if (strpbrk(h->items[i].key, "\r\n:") != NULL || strpbrk(h->items[i].value, "\r\n") != NULL)
      return -1; /* would split the request */
  char hostport[300];
  snprintf(hostport, sizeof hostport, "%s:%d", s->host != NULL ? s->host : "127.0.0.1", s->port);
  const char *host = header_of(h, "Host"), *ua = header_of(h, "User-Agent"), *acc = header_of(h, "Accept");
  size_t off = 0;
  if (!append(buf, len, &off, "GET ", s->path != NULL ? s->path : "/") ||
      !append(buf, len, &off, " HTTP/1.1\r\nHost: ", host != NULL ? host : hostport) ||
      !append(buf, len, &off, "\r\nUser-Agent: ", ua != NULL ? ua : "podvisor-probe/1.0") ||
      !append(buf, len, &off, "\r\nAccept: ", acc != NULL ? acc : "*/*") ||
      !append(buf, len, &off, "\r\n", ""))
    return -1;
  for (size_t i = 0; h != NULL && i < h->n; i++) {
    const char *k = h->items[i].key;
    if (strcasecmp(k, "Host") == 0 || strcasecmp(k, "User-Agent") == 0 || strcasecmp(k, "Accept") == 0 ||
        strcasecmp(k, "Connection") == 0)
      continue;
    if (!append(buf, len, &off, k, ": ") || !append(buf, len, &off, h->items[i].value, "\r\n"))
      return -1;
  }
  if (!append(buf, len, &off, "Connection: close\r\n\r\n", ""))
    return -1;
  return (int)off;
}

static void record(probe *p, bool ok) {
  p->attempts++;
  if (ok) {
    p->failures = 0;
    p->successes++;
  } else {
    p->successes = 0;
    p->failures++;
  }
  probe_state next = p->state;
  if (ok && p->successes >= p->spec.success_threshold)
    next = PROBE_SUCCESS;
  else if (!ok && p->failures >= p->spec.failure_threshold)
    next = PROBE_FAILURE;
  if (next != p->state) {
    p->state = next;
    p->cb->result(p->ctx, p, next);
  }
}

static void on_attempt_closed(uv_handle_t *h) {
  probe *p = h->data;
  if (--p->pending_close > 0)
    return;
  if (p->stopping) {
    if (p->on_closed != NULL)
      p->on_closed(p->ctx, p);
    return;
  }
}

/* Closes the exec poll handle (removing the fd from epoll) and then the
 * pidfd. */
static void close_exec(probe *p) {
  if (p->poll_open) {
    p->poll_open = false;
    p->pending_close++;
    uv_close((uv_handle_t *)&p->poll, on_attempt_closed);
  }
  if (p->exec_pidfd >= 0) {
    close(p->exec_pidfd);
    p->exec_pidfd = -1;
  }
}

/* Ends the current attempt: closes its tcp or poll handle, records the
 * result (unless stopping) and schedules the next one. */
static void finish(probe *p, bool ok) {
  if (!p->busy)
    return;
  p->busy = false;
  uv_timer_stop(&p->timeout);
  if (p->tcp_open) {
    p->tcp_open = false;
    p->pending_close++;
    uv_close((uv_handle_t *)&p->tcp, on_attempt_closed);
  }
  /* An exec process killed at its timeout is still being reaped through
   * its poll handle (on_exec_exit closes it then); the attempt itself has
   * ended: a timeout is a failure, whenever the process finally dies. */
  bool reaping = p->poll_open && p->exec_pid < 0 && !p->stopping;
  if (!reaping)
    close_exec(p);
  if (p->stopping)
    return;
  record(p, ok);
  if (!p->stopping) /* the result callback may have stopped us */
    schedule(p, p->spec.period_ms);
}

/* --- exec --------------------------------------------------------------- */

static int exec_reap(probe *p, int fd, siginfo_t *si) {
  return p->cb->reap != NULL ? p->cb->reap(p->ctx, fd, si) : pv_pidfd_try_reap(fd, si);
}

static int exec_signal(probe *p, int fd, int sig) {
  return p->cb->signal != NULL ? p->cb->signal(p->ctx, fd, sig) : pv_pidfd_signal(fd, sig);
}

/* SIGKILL, then reap: the process was just killed, so the wait is short
 * (bounded at 10 s for one that cannot die). */
static void exec_kill_reap(probe *p, int fd) {
  siginfo_t si;
  (void)exec_signal(p, fd, SIGKILL);
  for (int i = 0; i < 1000 && exec_reap(p, fd, &si) == 0; i++) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    (void)poll(&pfd, 1, 10);
  }
}

static void on_exec_exit(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  probe *p = h->data;
  siginfo_t si;
  int rc = exec_reap(p, p->exec_pidfd, &si);
  if (rc == 0)
    return; /* spurious wake-up: still running */
  /* Killed at its timeout and already counted: only reaped now. */
  if (!p->busy) {
    p->exec_pid = 0;
    close_exec(p);
    return;
  }
  bool ok = rc == 1 && si.si_code == CLD_EXITED && si.si_status == 0;
  p->exec_pid = 0;
  finish(p, ok);
}

static void start_exec(probe *p) {
  int pidfd = -1;
  if (p->cb->exec == NULL || p->cb->exec(p->ctx, p, p->spec.argv, &pidfd) < 0) {
    finish(p, false);
    return;
  }
  p->exec_pid = 1; /* running */
  p->exec_pidfd = pidfd;
  if (uv_poll_init(p->loop, &p->poll, pidfd) < 0) {
    exec_kill_reap(p, pidfd);
    p->exec_pidfd = -1;
    finish(p, false);
    return;
  }
  p->poll.data = p;
  p->poll_open = true;
  uv_poll_start(&p->poll, UV_READABLE, on_exec_exit);
}

/* --- tcp / http ------------------------------------------------------------ */

static void on_http_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  probe *p = h->data;
  buf->base = p->resp + p->resp_len;
  buf->len = sizeof p->resp - 1 - p->resp_len;
}

static void on_http_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  probe *p = st->data;
  if (!p->busy)
    return;
  if (n < 0) {
    finish(p, false);
    return;
  }
  p->resp_len += (size_t)n;
  int code = probe_http_status(p->resp, p->resp_len);
  if (code != 0)
    finish(p, code >= 200 && code < 400);
  else if (p->resp_len >= sizeof p->resp - 1)
    finish(p, false);
}

static void on_http_written(uv_write_t *req, int status) {
  probe *p = req->data;
  if (!p->busy)
    return;
  if (status < 0 || uv_read_start((uv_stream_t *)&p->tcp, on_http_alloc, on_http_read) < 0)
    finish(p, false);
}

static void on_connect(uv_connect_t *req, int status) {
  probe *p = req->data;
  if (!p->busy || status == UV_ECANCELED)
    return;
  if (status < 0) {
    finish(p, false);
    return;
  }
  if (p->spec.kind == PROBE_KIND_TCP) {
    finish(p, true);
    return;
  }
  int n = probe_http_request(&p->spec, p->req, sizeof p->req);
  if (n < 0) {
    finish(p, false);
    return;
  }
  uv_buf_t b = uv_buf_init(p->req, (unsigned)n);
  p->write_req.data = p;
  p->resp_len = 0;
  if (uv_write(&p->write_req, (uv_stream_t *)&p->tcp, &b, 1, on_http_written) < 0)
    finish(p, false);
}

static void start_connect(probe *p) {
  struct sockaddr_in sa;
  const char *host = p->spec.host != NULL ? p->spec.host : "127.0.0.1";
  if (uv_ip4_addr(host, p->spec.port, &sa) < 0 || uv_tcp_init(p->loop, &p->tcp) < 0) {
    finish(p, false);
    return;
  }
  p->tcp.data = p;
  p->tcp_open = true;
  p->connect_req.data = p;
  if (uv_tcp_connect(&p->connect_req, &p->tcp, (const struct sockaddr *)&sa, on_connect) < 0)
    finish(p, false);
}

/* --- scheduling ------------------------------------------------------------- */

static void on_timeout(uv_timer_t *t) {
  probe *p = t->data;
  if (p->exec_pidfd >= 0 && p->exec_pid > 0) {
    /* Kill the probe process and count the failure now; its poll handle
     * stays open to reap it (exec_pid -1: "timed out, reaping"). */
    exec_signal(p, p->exec_pidfd, SIGKILL);
    p->exec_pid = -1;
  }
  finish(p, false);
}

static void on_period(uv_timer_t *t) {
  probe *p = t->data;
  if (p->busy || p->stopping || p->pending_close > 0 || p->poll_open) {
    schedule(p, p->spec.period_ms);
    return;
  }
  p->busy = true;
  uv_timer_start(&p->timeout, on_timeout, p->spec.timeout_ms, 0);
  if (p->spec.kind == PROBE_KIND_EXEC)
    start_exec(p);
  else
    start_connect(p);
}

static void schedule(probe *p, uint64_t ms) {
  uv_timer_start(&p->period, on_period, ms, 0);
}

bool probe_closing(const probe *p) {
  return p->stopping && p->pending_close > 0;
}

int probe_start(probe *p, uv_loop_t *loop, const probe_spec *spec, const probe_callbacks *cb, void *ctx,
                int tag) {
  if (probe_closing(p))
    return -1; /* its handles are still on libuv's closing list */
  memset(p, 0, sizeof *p);
  p->loop = loop;
  p->spec = *spec;
  if (p->spec.period_ms == 0)
    p->spec.period_ms = 10000;
  if (p->spec.timeout_ms == 0)
    p->spec.timeout_ms = 1000;
  if (p->spec.success_threshold == 0)
    p->spec.success_threshold = 1;
  if (p->spec.failure_threshold == 0)
    p->spec.failure_threshold = 3;
  p->cb = cb;
  p->ctx = ctx;
  p->tag = tag;
  p->exec_pidfd = -1;
  uv_timer_init(loop, &p->period);
  uv_timer_init(loop, &p->timeout);
  p->period.data = p->timeout.data = p;
  schedule(p, p->spec.initial_delay_ms);
  return 0;
}

void probe_stop(probe *p, void (*on_closed)(void *ctx, probe *p)) {
  if (p->stopping)
    return;
  if (p->exec_pidfd >= 0)
    exec_kill_reap(p, p->exec_pidfd);
  p->stopping = true;
  p->on_closed = on_closed;
  finish(p, false); /* closes attempt handles; no result is recorded */
  close_exec(p);    /* a timed-out process reaped above */
  p->pending_close += 2;
  uv_close((uv_handle_t *)&p->period, on_attempt_closed);
  uv_close((uv_handle_t *)&p->timeout, on_attempt_closed);
}
