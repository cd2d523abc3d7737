/*
 * daemon_logs.c - GET /api/v1/namespaces/NS/pods/NAME/log: a container's
 * CRI log files (the shim's crilog.h records, <log dir>/<container>/<run>.log
 * and its rotated <run>.log.1 (newest) ... .log.K (oldest)) as `kubectl
 * logs` prints them: the text of each record, a P record joined to the
 * next, with ?timestamps=true each line led by its time (RFC 3339 with
 * nanoseconds, trailing zeros dropped as Go's RFC3339Nano does).
 *
 * The run shown is the newest (?previous=true: the one before it).
 * ?tailLines=N keeps the last N lines, ?sinceSeconds=S the records of the
 * last S seconds.  Without follow the answer is one reply.  With
 * ?follow=true the reply is a chunked stream: what the file holds, then
 * every record as it is written (an inotify watch on the container's
 * directory, plus a 2 s timer that catches rotations and ends the stream
 * when the shim's status was missed), until the run ends (the container's
 * status shows it terminated or restarted, the pod is recreated or gone) or
 * the client leaves.  A rotated file is read to its end through the
 * descriptor held open before the new file is followed.
 *
 * Reads are plain read(2) of a regular file on the loop, in pieces of
 * LOG_READ bytes: the kernel's page cache answers them in microseconds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/daemon/daemon_api_internal.h"
#include "supervisor/daemon/k8s_json.h"

#define LOG_READ 65536
#define LOG_TICK_MS 2000
#define LOG_MAX_ROTATED 64
#define LOG_SEND_MAX (1u << 20)  /* one chunk of a follower's backlog */
#define LOG_QUEUE_MAX (4u << 20) /* unsent bytes before a follower waits (httpd drops at 8 MiB) */
#define LOG_PACE_MS 10

typedef struct obuf {
  char *p;
  size_t len, cap;
} obuf;

static int obuf_add(obuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *np = realloc(b->p, cap);
    if (np == NULL)
      return -1;
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

/* How the records are turned into text. */
typedef struct logfmt {
  bool timestamps;
  int64_t since_ns; /* 0: every record */
  bool line_start;  /* the next record begins a line */
  obuf pend;        /* bytes of a record not complete yet */
} logfmt;

struct api_logf {
  api_logf *next, *prev;
  pvd_api *a;
  httpd_req *req;
  char *ns, *name, *container, *dir;
  char uid[PODPATHS_UID_MAX + 1];
  unsigned run;
  int fd;
  dev_t dev;
  ino_t ino;
  logfmt fmt;
  obuf out; /* text not sent yet: the history, or a burst, paced by the client's reading */
  size_t out_off;
  uv_fs_event_t ev;
  uv_timer_t tick;
  int handles; /* open libuv handles */
  bool ended;
};

/* The time of a CRI record, 2024-05-01T12:34:56.000000001Z, in ns; -1 when
 * it is not one. */
static int64_t parse_ts(const char *s, size_t n) {
  struct tm tm = {0};
  int frac_digits = 0;
  long frac = 0;
  if (n < 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                       &tm.tm_min, &tm.tm_sec) != 6)
    return -1;
  size_t i = 19;
  if (i < n && s[i] == '.')
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
      if (frac_digits < 9) {
        frac = frac * 10 + (s[i] - '0');
        frac_digits++;
      }
  while (frac_digits++ < 9)
    frac *= 10;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm) * 1000000000 + frac;
}

/* Go's RFC3339Nano of a record's time: the fraction without trailing zeros. */
static size_t trim_ts(const char *ts, size_t n, char *out, size_t cap) {
  if (n >= cap || n == 0)
    return 0;
  memcpy(out, ts, n);
  out[n] = '\0';
  char *dot = strchr(out, '.'), *z = strchr(out, 'Z');
  if (dot != NULL && z != NULL && z > dot) {
    char *e = z;
    while (e > dot + 1 && e[-1] == '0')
      e--;
    if (e == dot + 1)
      e = dot;
    memmove(e, z, strlen(z) + 1);
  }
  return strlen(out);
}

/* One record line (without its newline) into out. */
static int format_record(logfmt *f, const char *l, size_t n, obuf *out) {
  const char *sp1 = memchr(l, ' ', n);
  if (sp1 == NULL)
    return 0;
  const char *sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l));
  if (sp2 == NULL)
    return 0;
  const char *tag = sp2 + 1;
  if (tag >= l + n)
    return 0;
  bool partial = *tag == 'P';
  const char *text = tag + 1 < l + n && tag[1] == ' ' ? tag + 2 : l + n;
  size_t tlen = (size_t)(l + n - text);
  if (f->since_ns != 0) {
    int64_t t = parse_ts(l, (size_t)(sp1 - l));
    if (t >= 0 && t < f->since_ns)
      return 0;
  }
  if (f->timestamps && f->line_start) {
    char ts[64];
    size_t tl = trim_ts(l, (size_t)(sp1 - l), ts, sizeof ts);
    if (obuf_add(out, ts, tl) < 0 || obuf_add(out, " ", 1) < 0)
      return -1;
  }
  if (obuf_add(out, text, tlen) < 0)
    return -1;
  f->line_start = !partial;
  return partial ? 0 : obuf_add(out, "\n", 1);
}

/* Feeds bytes read from a file; complete records go to out. */
static int feed(logfmt *f, const char *data, size_t n, obuf *out) {
  if (obuf_add(&f->pend, data, n) < 0)
    return -1;
  size_t start = 0;
  for (size_t i = 0; i < f->pend.len; i++) {
    if (f->pend.p[i] != '\n')
      continue;
    if (format_record(f, f->pend.p + start, i - start, out) < 0)
      return -1;
    start = i + 1;
  }
  memmove(f->pend.p, f->pend.p + start, f->pend.len - start);
  f->pend.len -= start;
  return 0;
}

/* Reads fd from its offset to its end. */
static int read_to_end(int fd, logfmt *f, obuf *out) {
  char *buf = malloc(LOG_READ);
  if (buf == NULL)
    return -1;
  int rc = 0;
  for (;;) {
    ssize_t r = read(fd, buf, LOG_READ);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    if (feed(f, buf, (size_t)r, out) < 0) {
      rc = -1;
      break;
    }
  }
  free(buf);
  return rc;
}

/* The runs in dir: the newest in *cur and the one before it in *prev (-1 none). */
static void find_runs(const char *dir, long *cur, long *prev) {
  *cur = *prev = -1;
  DIR *d = opendir(dir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    errno = 0;
    long n = strtol(e->d_name, &end, 10);
    if (end == e->d_name || errno != 0 || n < 0 || strcmp(end, ".log") != 0)
      continue;
    if (n > *cur) {
      *prev = *cur;
      *cur = n;
    } else if (n > *prev && n != *cur) {
      *prev = n;
    }
  }
  closedir(d);
}

/* Keeps the last n lines of b. */
static void tail_lines(obuf *b, int64_t n) {
  if (n < 0 || b->len == 0)
    return;
  size_t i = b->len, seen = 0;
  if (b->p[i - 1] == '\n')
    i--;
  while (i > 0) {
    if (b->p[i - 1] == '\n' && ++seen == (size_t)n)
      break;
    i--;
  }
  if (n == 0)
    i = b->len;
  memmove(b->p, b->p + i, b->len - i);
  b->len -= i;
  if (b->p != NULL)
    b->p[b->len] = '\0';
}

/* Reads run's rotated files, oldest first, then opens its live file
 * (*fd, read to its end too; -1 when it cannot be opened). */
static int read_run(const char *dir, long run, logfmt *f, obuf *out, int *fd) {
  char path[4096];
  for (int k = LOG_MAX_ROTATED; k >= 1; k--) {
    if (snprintf(path, sizeof path, "%s/%ld.log.%d", dir, run, k) >= (int)sizeof path)
      return -1;
    int rfd = open(path, O_RDONLY | O_CLOEXEC);
    if (rfd < 0)
      continue;
    int rc = read_to_end(rfd, f, out);
    close(rfd);
    if (rc < 0)
      return -1;
  }
  if (snprintf(path, sizeof path, "%s/%ld.log", dir, run) >= (int)sizeof path)
    return -1;
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return 0;
  return read_to_end(*fd, f, out);
}

static const json_t *container_status(const json_t *status, const char *name) {
  const char *lists[] = {"containerStatuses", "initContainerStatuses"};
  for (size_t l = 0; l < 2; l++) {
    const json_t *arr = k8s_json_arr(status, lists[l]);
    size_t i;
    const json_t *c;
    json_array_foreach(arr, i, c) {
      if (strcmp(k8s_json_str(c, "name"), name) == 0)
        return c;
    }
  }
  return NULL;
}

/* The followed run is over: the container restarted or stopped, the pod
 * is another instance or gone. */
static bool run_ended(const api_logf *f) {
  const pvd_pod *p = pvd_pod_find(f->a->d, f->ns, f->name);
  if (p == NULL)
    return true;
  if (p->uid[0] != '\0' && f->uid[0] != '\0' && strcmp(p->uid, f->uid) != 0)
    return true;
  json_t *status = pvd_pod_status(p);
  const json_t *c = container_status(status, f->container);
  bool ended = false;
  if (c != NULL) {
    int64_t restarts = k8s_json_int(c, "restartCount");
    ended = restarts > (int64_t)f->run || k8s_json_obj(c, "state.terminated") != NULL ||
            (k8s_json_obj(c, "state.running") == NULL && k8s_json_obj(c, "lastState.terminated") != NULL &&
             restarts == (int64_t)f->run);
  }
  json_decref(status);
  return ended;
}

static void logf_free_if_closed(api_logf *f) {
  if (f->handles > 0)
    return;
  free(f->fmt.pend.p);
  free(f->out.p);
  free(f->ns);
  free(f->name);
  free(f->container);
  free(f->dir);
  free(f);
}

static void on_handle_closed(uv_handle_t *h) {
  api_logf *f = h->data;
  f->handles--;
  logf_free_if_closed(f);
}

/* Finishes the stream (once) and closes the handles. */
static void logf_end(api_logf *f) {
  if (f->ended)
    return;
  f->ended = true;
  pvd_api *a = f->a;
  if (f->prev != NULL)
    f->prev->next = f->next;
  else
    a->logs = f->next;
  if (f->next != NULL)
    f->next->prev = f->prev;
  if (!f->fmt.line_start)
    httpd_stream_write(f->req, "\n", 1);
  httpd_stream_end(f->req);
  f->req = NULL;
  if (f->fd >= 0)
    close(f->fd);
  f->fd = -1;
  f->handles = 2; /* both were initialized by start_follow */
  uv_close((uv_handle_t *)&f->ev, on_handle_closed);
  uv_close((uv_handle_t *)&f->tick, on_handle_closed);
}

/* Sends what is new; follows a rotation to the new live file. */
static void on_tick(uv_timer_t *t);

/* Sends the backlog while the client keeps up (at most LOG_QUEUE_MAX
 * unsent), else comes back in LOG_PACE_MS.  -1 when the client is gone. */
static int logf_send(api_logf *f) {
  while (f->out_off < f->out.len) {
    if (httpd_stream_queued(f->req) >= LOG_QUEUE_MAX) {
      uv_timer_start(&f->tick, on_tick, LOG_PACE_MS, LOG_TICK_MS);
      return 0;
    }
    size_t n = f->out.len - f->out_off;
    if (n > LOG_SEND_MAX)
      n = LOG_SEND_MAX;
    if (httpd_stream_write(f->req, f->out.p + f->out_off, n) < 0)
      return -1;
    f->out_off += n;
  }
  f->out.len = f->out_off = 0;
  return 0;
}

static void logf_pump(api_logf *f) {
  if (f->ended)
    return;
  if (f->out_off < f->out.len) {
    /* The backlog first; the file is read again once it is out. */
    if (logf_send(f) < 0)
      logf_end(f);
    return;
  }
  obuf out = {0};
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%u.log", f->dir, f->run) >= (int)sizeof path)
    path[0] = '\0';
  if (f->fd >= 0)
    read_to_end(f->fd, &f->fmt, &out);
  struct stat st;
  if (stat(path, &st) == 0 && (f->fd < 0 || st.st_ino != f->ino || st.st_dev != f->dev)) {
    /* Rotated (or created): the old file was read to its end above. */
    if (f->fd >= 0)
      close(f->fd);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd >= 0) {
      f->dev = st.st_dev;
      f->ino = st.st_ino;
      read_to_end(f->fd, &f->fmt, &out);
    }
  }
  free(f->out.p);
  f->out = out;
  f->out_off = 0;
  if (logf_send(f) < 0 || (f->out.len == 0 && run_ended(f)))
    logf_end(f);
}

static void on_dir_event(uv_fs_event_t *h, const char *fname, int events, int status) {
  (void)fname;
  (void)events;
  (void)status;
  logf_pump(h->data);
}

static void on_tick(uv_timer_t *t) {
  logf_pump(t->data);
}

static void on_logf_gone(httpd_req *req, void *data) {
  (void)req;
  logf_end(data);
}

/* "[a b]" of the pod's containers (init ones with init true). */
static void names_of(const spec_pod *s, bool init, char *buf, size_t len) {
  size_t n = init ? s->n_init_containers : s->n_containers;
  const spec_container *c = init ? s->init_containers : s->containers;
  size_t off = (size_t)snprintf(buf, len, "[");
  for (size_t i = 0; i < n && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", c[i].name);
  if (off < len)
    snprintf(buf + off, len - off, "]");
}

/* The container the request names (or the only one), or NULL after a 400. */
static const char *pick_container(httpd_req *req, const spec_pod *s, const char *name) {
  const char *c = httpd_req_query(req, "container");
  if (c != NULL && *c != '\0') {
    if (spec_pod_container(s, c) == NULL) {
      api_reply_status(req, 400, "BadRequest", NULL, "container %s is not valid for pod %s", c, name);
      return NULL;
    }
    return c;
  }
  if (s->n_containers == 1)
    return s->containers[0].name;
  char list[1024], init[1024];
  names_of(s, false, list, sizeof list);
  if (s->n_init_containers > 0) {
    names_of(s, true, init, sizeof init);
    api_reply_status(req, 400, "BadRequest", NULL,
                     "a container name must be specified for pod %s, choose one of: %s or one of the init "
                     "containers: %s",
                     name, list, init);
  } else {
    api_reply_status(req, 400, "BadRequest", NULL,
                     "a container name must be specified for pod %s, choose one of: %s", name, list);
  }
  return NULL;
}

static int start_follow(pvd_api *a, httpd_req *req, const char *ns, const char *name, const char *ctr,
                        const char *dir, const char *uid, long run, logfmt *fmt, int fd, obuf *initial) {
  api_logf *f = calloc(1, sizeof *f);
  if (f == NULL || (f->ns = strdup(ns)) == NULL || (f->name = strdup(name)) == NULL ||
      (f->container = strdup(ctr)) == NULL || (f->dir = strdup(dir)) == NULL) {
    if (f != NULL) {
      free(f->ns);
      free(f->name);
      free(f->container);
      free(f);
    }
    return -1;
  }
  f->a = a;
  f->req = req;
  f->fd = fd;
  f->run = (unsigned)run;
  f->fmt = *fmt;
  snprintf(f->uid, sizeof f->uid, "%s", uid != NULL ? uid : "");
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0) {
    f->dev = st.st_dev;
    f->ino = st.st_ino;
  }
  uv_timer_init(pvd_loop(a->d), &f->tick);
  f->tick.data = f;
  uv_fs_event_init(pvd_loop(a->d), &f->ev);
  f->ev.data = f;
  f->next = a->logs;
  if (a->logs != NULL)
    a->logs->prev = f;
  a->logs = f;
  if (httpd_stream_begin(req, 200, "text/plain; charset=utf-8") < 0 ||
      httpd_req_on_gone(req, on_logf_gone, f) < 0) {
    logf_end(f);
    return 0;
  }
  f->out = *initial; /* taken */
  *initial = (obuf){0};
  uv_fs_event_start(&f->ev, on_dir_event, dir, 0);
  uv_timer_start(&f->tick, on_tick, LOG_TICK_MS, LOG_TICK_MS);
  if (logf_send(f) < 0 || (f->out.len == 0 && run_ended(f)))
    logf_end(f);
  return 0;
}

void api_logs(pvd_api *a, httpd_req *req, const char *ns, const char *name) {
  const pvd_pod *p = pvd_pod_find(a->d, ns, name);
  const spec_pod *s = api_pod_spec(a->d, ns, name, p);
  if (p == NULL || s == NULL) {
    api_reply_pod_not_found(req, name);
    return;
  }
  const char *ctr = pick_container(req, s, name);
  if (ctr == NULL)
    return;
  int64_t tail = -1, since = 0;
  if (api_query_int(req, "tailLines", &tail) < 0 || api_query_int(req, "sinceSeconds", &since) < 0 ||
      since < 0) {
    api_reply_status(req, 400, "BadRequest", NULL, "tailLines and sinceSeconds must be whole numbers");
    return;
  }
  const podpaths *pp = pvd_pod_paths(p);
  char dir[4096];
  long cur = -1, prev = -1;
  if (pp != NULL && pp->log_dir != NULL) {
    if (snprintf(dir, sizeof dir, "%s/%s", pp->log_dir, ctr) >= (int)sizeof dir)
      dir[0] = '\0';
    find_runs(dir, &cur, &prev);
  }
  bool previous = api_query_true(req, "previous");
  long run = previous ? prev : cur;
  if (run < 0) {
    if (previous)
      api_reply_status(req, 400, "BadRequest", NULL,
                       "previous terminated container \"%s\" in pod \"%s\" not found", ctr, name);
    else
      api_reply_status(req, 400, "BadRequest", NULL, "container \"%s\" in pod \"%s\" is waiting to start: %s",
                       ctr, name, p->last_error != NULL ? "LaunchFailed" : "ContainerCreating");
    return;
  }
  logfmt fmt = {.timestamps = api_query_true(req, "timestamps"), .line_start = true};
  if (since > 0)
    fmt.since_ns = api_now() - since * 1000000000;
  obuf out = {0};
  int fd = -1;
  if (read_run(dir, run, &fmt, &out, &fd) < 0) {
    if (fd >= 0)
      close(fd);
    free(out.p);
    free(fmt.pend.p);
    httpd_reply_status(req, 500, NULL, "out of memory");
    return;
  }
  tail_lines(&out, tail);
  if (!api_query_true(req, "follow") || previous) {
    if (fd >= 0)
      close(fd);
    if (!fmt.line_start)
      obuf_add(&out, "\n", 1);
    free(fmt.pend.p);
    httpd_reply(req, 200, "text/plain; charset=utf-8", out.p, out.len);
    free(out.p);
    return;
  }
  if (start_follow(a, req, ns, name, ctr, dir, pp->uid, run, &fmt, fd, &out) < 0) {
    if (fd >= 0)
      close(fd);
    free(fmt.pend.p);
    httpd_reply_status(req, 500, NULL, "out of memory");
  }
  free(out.p);
}

void api_logs_pod_changed(pvd_api *a, const char *ns, const char *name, bool gone) {
  for (api_logf *f = a->logs, *next; f != NULL; f = next) {
    next = f->next;
    if (strcmp(f->ns, ns) != 0 || strcmp(f->name, name) != 0)
      continue;
    logf_pump(f);
    if (gone)
      logf_end(f);
  }
}

void api_logs_end(pvd_api *a) {
  while (a->logs != NULL)
    logf_end(a->logs);
}
