/*
 * test_shim_parts.c - the shim's building blocks on a real libuv loop:
 * HTTP status parsing, hostnames, log pipes
 * (order and no loss under a fast writer), probes against a local listener,
 * and container placement (command/args/env semantics, limits, caps).
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "supervisor/core/caps.h"
#include "supervisor/core/image.h"
#include "supervisor/core/util.h"
#include "supervisor/shim/logpump.h"
#include "supervisor/shim/placement.h"
#include "supervisor/shim/probe.h"
#include "supervisor/shim/sandbox.h"
#include "supervisor/shim/statefile.h"
#include "tests/testutil.h"

START_TEST(http_status_line) {
  ck_assert_int_eq(probe_http_status("HTTP/1.1 200 OK\r\n", 17), 200);
  ck_assert_int_eq(probe_http_status("HTTP/1.0 404 Not Found", 22), 404);
  ck_assert_int_eq(probe_http_status("HTTP/1.1 30", 11), 0);
  ck_assert_int_eq(probe_http_status("HTTP/1.1 2x0 OK", 15), -1);
  ck_assert_int_eq(probe_http_status("SSH-2.0-OpenSSH", 15), -1);
  ck_assert_int_eq(probe_http_status("HTT", 3), 0);
}
END_TEST

START_TEST(http_request_headers) {
  char buf[PROBE_REQUEST_MAX];
  spec_kv kv[] = {{"X-Probe", "ready"}, {"host", "web.example"}, {"Connection", "keep-alive"}};
  spec_kvs hs = {kv, 3};
  probe_spec s = {.kind = PROBE_KIND_HTTP, .port = 8080, .path = "/healthz", .headers = &hs};
  int n = probe_http_request(&s, buf, sizeof buf);
  ck_assert_int_gt(n, 0);
  ck_assert_str_eq(buf, "GET /healthz HTTP/1.1\r\nHost: web.example\r\nUser-Agent: podvisor-probe/1.0\r\n"
                        "Accept: */*\r\nX-Probe: ready\r\nConnection: close\r\n\r\n");
  s.headers = NULL;
  s.path = NULL;
  ck_assert_int_gt(probe_http_request(&s, buf, sizeof buf), 0);
  ck_assert_ptr_nonnull(strstr(buf, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
  /* A value with a line break would inject a header: refused. */
  spec_kv evil = {"X-A", "1\r\nX-B: 2"};
  spec_kvs he = {&evil, 1};
  s.headers = &he;
  ck_assert_int_eq(probe_http_request(&s, buf, sizeof buf), -1);
  ck_assert_int_eq(probe_http_request(&s, buf, 10), -1);
}
END_TEST

START_TEST(hostname_truncation) {
  char buf[64];
  sandbox_hostname_from("web", buf);
  ck_assert_str_eq(buf, "web");
  char longname[100];
  memset(longname, 'a', sizeof longname);
  longname[62] = '-';
  longname[99] = '\0';
  sandbox_hostname_from(longname, buf);
  ck_assert_uint_eq(strlen(buf), 62); /* cut at 63, then the trailing '-' dropped */
}
END_TEST

/* --- log pipes: a fast writer, nothing lost or reordered --------------------------- */

typedef struct sink {
  char *buf[2];
  size_t len[2];
  int eof, closed;
} sink;

static void sink_data(void *ctx, logpump_stream s, const char *b, size_t n) {
  sink *k = ctx;
  k->buf[s] = realloc(k->buf[s], k->len[s] + n);
  memcpy(k->buf[s] + k->len[s], b, n);
  k->len[s] += n;
}
static void sink_eof(void *ctx) {
  ((sink *)ctx)->eof++;
}
static void sink_closed(void *ctx) {
  ((sink *)ctx)->closed++;
}
static const logpump_callbacks sink_cb = {sink_data, sink_eof, sink_closed};
static logpump *g_lp;
static void close_on_eof(void *ctx) {
  sink_eof(ctx);
  logpump_close(g_lp);
}
static const logpump_callbacks sink_cb_close = {sink_data, close_on_eof, sink_closed};

START_TEST(logpump_order) {
  (void)sink_cb;
  uv_loop_t loop;
  uv_loop_init(&loop);
  logpump lp;
  g_lp = &lp;
  sink k = {0};
  ck_assert_int_eq(logpump_open(&lp, &loop, &sink_cb_close, &k, NULL), 0);
  const int lines = 200000;
  pid_t pid = fork();
  if (pid == 0) {
    /* A writer far faster than one loop turn: 200k lines on stdout, a
     * few on stderr. */
    FILE *o = fdopen(lp.out_w, "w");
    for (int i = 0; i < lines; i++)
      fprintf(o, "%d\n", i);
    fclose(o);
    dprintf(lp.err_w, "err\n");
    _exit(0);
  }
  logpump_after_start(&lp);
  uv_run(&loop, UV_RUN_DEFAULT);
  waitpid(pid, NULL, 0);
  ck_assert_int_eq(k.eof, 1);
  ck_assert_int_eq(k.closed, 1);
  ck_assert_uint_eq(k.len[1], 4);
  char *p = k.buf[0], *end = k.buf[0] + k.len[0];
  for (int i = 0; i < lines; i++) {
    char exp[16];
    int n = snprintf(exp, sizeof exp, "%d\n", i);
    ck_assert_msg(p + n <= end && memcmp(p, exp, (size_t)n) == 0, "line %d lost or out of order", i);
    p += n;
  }
  ck_assert_ptr_eq(p, end);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  free(k.buf[0]);
  free(k.buf[1]);
}
END_TEST

/* --- probes against a local listener ------------------------------------------------ */

static probe_state last_state[3];
static int results;
static probe g_probes[3];
static int probes_closed;
static void probe_closed_cb(void *ctx, probe *p) {
  (void)ctx;
  (void)p;
  probes_closed++;
}
static void on_result(void *ctx, probe *p, probe_state st) {
  (void)ctx;
  last_state[p->tag] = st;
  if (++results == 3)
    for (int i = 0; i < 3; i++)
      probe_stop(&g_probes[i], probe_closed_cb);
}
static const probe_callbacks pcb = {.exec = NULL, .result = on_result};

static void http_server(int lfd) {
  for (;;) {
    int c = accept(lfd, NULL, NULL);
    if (c < 0)
      _exit(0);
    char buf[1024];
    ssize_t n = read(c, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    const char *resp = strstr(buf, "GET /ok ") && strstr(buf, "\r\nX-Probe: ready\r\n")
                           ? "HTTP/1.1 204 No Content\r\n\r\n"
                           : "HTTP/1.1 500 Oops\r\n\r\n";
    (void)!write(c, resp, strlen(resp));
    close(c);
  }
}

START_TEST(probes_tcp_http) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  socklen_t sl = sizeof sa;
  getsockname(lfd, (struct sockaddr *)&sa, &sl);
  listen(lfd, 16);
  int port = ntohs(sa.sin_port);
  pid_t srv = fork();
  if (srv == 0)
    http_server(lfd);
  close(lfd);
  uv_loop_t loop;
  uv_loop_init(&loop);
  spec_kv kv = {"X-Probe", "ready"}; /* the server wants it */
  spec_kvs hs = {&kv, 1};
  probe_spec good = {.kind = PROBE_KIND_HTTP,
                     .port = port,
                     .path = "/ok",
                     .headers = &hs,
                     .period_ms = 50,
                     .timeout_ms = 1000,
                     .failure_threshold = 1};
  probe_spec bad = good;
  bad.path = "/fail";
  probe_spec tcp = {.kind = PROBE_KIND_TCP, .port = port, .period_ms = 50, .timeout_ms = 1000};
  probe_start(&g_probes[0], &loop, &good, &pcb, NULL, 0);
  probe_start(&g_probes[1], &loop, &bad, &pcb, NULL, 1);
  probe_start(&g_probes[2], &loop, &tcp, &pcb, NULL, 2);
  uv_run(&loop, UV_RUN_DEFAULT);
  kill(srv, SIGKILL);
  waitpid(srv, NULL, 0);
  ck_assert_int_eq(last_state[0], PROBE_SUCCESS);
  ck_assert_int_eq(last_state[1], PROBE_FAILURE);
  ck_assert_int_eq(last_state[2], PROBE_SUCCESS);
  ck_assert_int_eq(probes_closed, 3);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* --- placement ----------------------------------------------------------------------- */

static spec_pod *parse_pod(const char *yaml) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  int rc = spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &l, &d);
  for (size_t i = 0; i < d.n; i++)
    diag_fprint(stderr, &d.items[i]);
  diag_list_free(&d);
  if (rc < 0 || l.n != 1) {
    spec_pod_list_free(&l);
    return NULL;
  }
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  return p;
}

START_TEST(placement_semantics) {
  const char *rootfs = testutil_busybox_rootfs();
  ck_assert_ptr_nonnull(rootfs);
  char *root = testutil_tmpdir("pv-place");
  pv_err err;
  ck_assert_msg(image_import(root, "busybox", rootfs, &err) == 0, "%s", pv_err_str(&err));
  spec_pod *p = parse_pod("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                          "  - name: a\n    image: busybox\n    command: [echo]\n    args: [x]\n"
                          "    env: [{name: A, value: one}, {name: B, value: \"$(A)-two\"}]\n"
                          "    resources: {requests: {cpu: 250m}, limits: {cpu: 500m, memory: 64Mi}}\n"
                          "    securityContext: {capabilities: {add: [NET_ADMIN], drop: [ALL]}}\n"
                          "  - name: b\n    image: busybox\n    args: [sh, -c, 'true']\n"
                          "    securityContext: {allowPrivilegeEscalation: false}\n"
                          "  - name: c\n    image: busybox\n");
  ck_assert_ptr_nonnull(p);
  placement pl;
  ck_assert_msg(placement_build(&pl, root, "/x", "podvisor/uid1", p, &p->containers[0], 2, &err) == 0, "%s",
                pv_err_str(&err));
  ck_assert_str_eq(pl.argv[0], "echo");
  ck_assert_str_eq(pl.argv[1], "x");
  ck_assert_ptr_null(pl.argv[2]);
  bool saw_b = false;
  for (char **e = pl.envp; *e; e++)
    saw_b |= strcmp(*e, "B=one-two") == 0;
  ck_assert(saw_b);
  ck_assert_str_eq(pl.cfg.id, "a-2");
  ck_assert_str_eq(pl.cfg.cgroup_path, "podvisor/uid1/a");
  placement_free(&pl);
  /* Under another cgroup parent (--cgroup-parent, a delegated subtree). */
  ck_assert_int_eq(placement_build(&pl, root, "/x", "pv.test/podvisor/uid1", p, &p->containers[0], 2, &err),
                   0);
  ck_assert_str_eq(pl.cfg.cgroup_path, "pv.test/podvisor/uid1/a");
  ck_assert_uint_eq(pl.cfg.limits.cpu_shares, 256);
  ck_assert_int_eq(pl.cfg.limits.cpu_quota_us, 50000);
  ck_assert_uint_eq(pl.cfg.limits.cpu_period_us, 100000);
  ck_assert_int_eq(pl.cfg.limits.memory_limit, 64 << 20);
  ck_assert_int_eq(pl.cfg.pdeathsig, SIGKILL);
  ck_assert(!pl.cfg.no_new_privs); /* allowPrivilegeEscalation unset means true, as in Kubernetes */
  ck_assert_uint_eq(pl.cfg.n_groups, 1); /* the primary gid; the image lists root in no group */
  ck_assert_uint_eq(pl.cfg.groups[0], 0);
  ck_assert_uint_eq(pl.cfg.cap_drop, ~0ULL);
  ck_assert_uint_ne(pl.cfg.cap_add, 0);
  placement_free(&pl);
  /* args only: they replace the image cmd (podvisor images have no entrypoint). */
  ck_assert_int_eq(placement_build(&pl, root, "/x", "podvisor/uid1", p, &p->containers[1], 0, &err), 0);
  ck_assert_str_eq(pl.argv[0], "sh");
  ck_assert(pl.cfg.no_new_privs); /* allowPrivilegeEscalation: false */
  placement_free(&pl);
  /* neither: the image cmd. */
  ck_assert_int_eq(placement_build(&pl, root, "/x", "podvisor/uid1", p, &p->containers[2], 0, &err), 0);
  ck_assert_ptr_nonnull(pl.argv[0]);
  placement_free(&pl);
  spec_pod_free(p);
  testutil_rmtree(root);
  free(root);
}
END_TEST

/* seccompProfile → the filter placement asks for: RuntimeDefault when
 * unset, the pod's value under a container's own, Localhost below
 * <root>/seccomp/, nothing for Unconfined or a privileged container; the
 * capability set the profile is compiled for. */
START_TEST(placement_seccomp_profiles) {
  const char *rootfs = testutil_busybox_rootfs();
  ck_assert_ptr_nonnull(rootfs);
  char *root = testutil_tmpdir("pv-place-sc");
  pv_err err;
  ck_assert_msg(image_import(root, "busybox", rootfs, &err) == 0, "%s", pv_err_str(&err));
  spec_pod *p = parse_pod("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                          "  securityContext: {seccompProfile: {type: Localhost, localhostProfile: t/p.json}}\n"
                          "  containers:\n"
                          "  - name: a\n    image: busybox\n"
                          "  - name: b\n    image: busybox\n    securityContext: {seccompProfile: {type: Unconfined}}\n"
                          "  - name: c\n    image: busybox\n    securityContext:\n"
                          "      seccompProfile: {type: RuntimeDefault}\n"
                          "      capabilities: {add: [SYS_ADMIN], drop: [KILL]}\n"
                          "  - name: d\n    image: busybox\n    securityContext: {privileged: true}\n");
  ck_assert_ptr_nonnull(p);
  placement pl;
  ck_assert_msg(placement_build(&pl, root, "/x", "podvisor/u", p, &p->containers[0], 0, &err) == 0, "%s",
                pv_err_str(&err));
  ck_assert_int_eq(pl.seccomp, PLACEMENT_SECCOMP_FILE);
  char want[4096];
  snprintf(want, sizeof want, "%s/seccomp/t/p.json", root);
  ck_assert_str_eq(pl.seccomp_path, want);
  ck_assert_uint_eq(pl.seccomp_caps, caps_default_set());
  ck_assert_ptr_null(pl.cfg.seccomp); /* the caller's cache fills it */
  placement_free(&pl);
  ck_assert_int_eq(placement_build(&pl, root, "/x", "podvisor/u", p, &p->containers[1], 0, &err), 0);
  ck_assert_int_eq(pl.seccomp, PLACEMENT_SECCOMP_NONE);
  placement_free(&pl);
  ck_assert_int_eq(placement_build(&pl, root, "/x", "podvisor/u", p, &p->containers[2], 0, &err), 0);
  ck_assert_int_eq(pl.seccomp, PLACEMENT_SECCOMP_DEFAULT);
  ck_assert_uint_eq(pl.seccomp_caps, (caps_default_set() | (1ULL << CAP_SYS_ADMIN)) & ~(1ULL << CAP_KILL));
  placement_free(&pl);
  ck_assert_int_eq(placement_build(&pl, root, "/x", "podvisor/u", p, &p->containers[3], 0, &err), 0);
  ck_assert_int_eq(pl.seccomp, PLACEMENT_SECCOMP_NONE); /* privileged: unconfined, as in Kubernetes */
  placement_free(&pl);
  spec_pod_free(p);
  testutil_rmtree(root);
  free(root);
}
END_TEST

/* --- state files: durable writes off the loop, coalesced, never torn ------------------ */

/* Document n: "doc <n> <filler of a length depending on n> end <n>\n", so a
 * reader can tell a complete document from a torn or mixed one. */
static char *state_doc(int n, size_t *len) {
  size_t fill = (size_t)(n * 37) % 9000 + 1;
  char *s = malloc(fill + 64);
  int h = sprintf(s, "doc %d ", n);
  memset(s + h, 'x', fill);
  *len = (size_t)h + fill + (size_t)sprintf(s + h + fill, " end %d\n", n);
  return s;
}

static bool state_doc_ok(const char *buf, size_t len, int *n) {
  if (len == 0 || sscanf(buf, "doc %d ", n) != 1)
    return false;
  size_t want;
  char *doc = state_doc(*n, &want);
  bool ok = want == len && memcmp(doc, buf, len) == 0;
  free(doc);
  return ok;
}

static void state_set(statefile *f, int n) {
  size_t len;
  char *doc = state_doc(n, &len);
  statefile_set(f, doc, len);
}

typedef struct state_reader {
  char path[4096];
  _Atomic int stop;
  _Atomic int reads;
  int bad;
} state_reader;

static void state_reader_thread(void *arg) {
  state_reader *r = arg;
  while (!r->stop) {
    char *buf = NULL;
    size_t len = 0;
    int n;
    if (pv_read_file(r->path, &buf, &len, NULL) == 0) {
      r->reads++;
      if (!state_doc_ok(buf, len, &n))
        r->bad++;
      free(buf);
    }
  }
}

typedef struct state_burst {
  uv_idle_t idle;
  statefile *f;
  int next, last;
} state_burst;

static void state_burst_step(uv_idle_t *h) {
  state_burst *b = h->data;
  state_set(b->f, b->next++);
  if (b->next > b->last) {
    uv_idle_stop(h);
    uv_close((uv_handle_t *)h, NULL);
  }
}

static void assert_state_file(const char *dir, const char *path, int n) {
  char *buf = NULL;
  size_t len = 0;
  int got = -1;
  ck_assert_int_eq(pv_read_file(path, &buf, &len, NULL), 0);
  ck_assert_msg(state_doc_ok(buf, len, &got) && got == n, "file holds doc %d, want %d", got, n);
  free(buf);
  DIR *d = opendir(dir); /* no temp file left behind */
  struct dirent *e;
  int files = 0;
  while ((e = readdir(d)) != NULL)
    files += e->d_name[0] != '.';
  closedir(d);
  ck_assert_int_eq(files, 1);
}

START_TEST(statefile_burst_and_shutdown) {
  char *dir = testutil_tmpdir("pv-state");
  char path[4096];
  snprintf(path, sizeof path, "%s/status.json", dir);
  uv_loop_t loop;
  uv_loop_init(&loop);
  statefile f;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(statefile_init(&f, &loop, path, 0644, NULL, NULL, &err), 0);

  /* 100 changes in one loop turn: the first is written, the 99 others
   * coalesce into one write of the last. */
  for (int i = 0; i < 100; i++)
    state_set(&f, i);
  ck_assert(statefile_busy(&f));
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert(!statefile_busy(&f));
  ck_assert_uint_eq(f.writes, 2);
  assert_state_file(dir, path, 99);

  /* A change per loop turn while a reader polls the file: every read is a
   * complete document, and the last change is what stays. */
  state_reader r = {.stop = 0};
  snprintf(r.path, sizeof r.path, "%s", path);
  uv_thread_t th;
  uv_thread_create(&th, state_reader_thread, &r);
  /* The burst starts once the reader reads: on a slow machine (an emulated
   * guest) the whole burst could otherwise end before the thread runs. */
  while (r.reads == 0)
    sched_yield();
  state_burst b = {.f = &f, .next = 100, .last = 599};
  uv_idle_init(&loop, &b.idle);
  b.idle.data = &b;
  uv_idle_start(&b.idle, state_burst_step);
  uv_run(&loop, UV_RUN_DEFAULT);
  r.stop = 1;
  uv_thread_join(&th);
  ck_assert_int_gt(r.reads, 0);
  ck_assert_int_eq(r.bad, 0);
  ck_assert_uint_le(f.writes, 2 + 500);
  assert_state_file(dir, path, 599);

  /* Shutdown with a write in flight and a newer snapshot waiting, the loop
   * not run again: statefile_finish() still leaves the latest on disk. */
  unsigned long before = f.writes;
  state_set(&f, 1000);
  state_set(&f, 1001);
  ck_assert_int_eq(statefile_finish(&f, &err), 0);
  ck_assert(!statefile_busy(&f));
  ck_assert_uint_eq(f.writes, before + 2);
  assert_state_file(dir, path, 1001);

  ck_assert_int_eq(uv_loop_close(&loop), 0);
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

static void count_error(void *ctx, const pv_err *err) {
  (void)err;
  (*(int *)ctx)++;
}

static void stop_loop(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
}

/* A write that fails (here the file size limit, as a full disk would) keeps
 * the previous file, leaves no temp file, is said once, and is retried by
 * the statefile's timer once writes work again; the timer does not keep the
 * loop alive and statefile_finish() closes it. */
START_TEST(statefile_failed_write_is_retried) {
  char *dir = testutil_tmpdir("pv-state");
  char path[4096];
  snprintf(path, sizeof path, "%s/status.json", dir);
  uv_loop_t loop;
  uv_loop_init(&loop);
  statefile f;
  pv_err err;
  pv_err_clear(&err);
  int errors = 0;
  ck_assert_int_eq(statefile_init(&f, &loop, path, 0644, count_error, &errors, &err), 0);
  state_set(&f, 1);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_state_file(dir, path, 1);

  struct rlimit old, lim;
  ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  lim = old;
  lim.rlim_cur = 16;
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
  state_set(&f, 2);
  uv_run(&loop, UV_RUN_DEFAULT); /* returns: the retry timer holds no reference */
  state_set(&f, 3);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, prev);
  ck_assert_int_eq(errors, 1);
  ck_assert(statefile_busy(&f));
  assert_state_file(dir, path, 1);

  /* The retry comes 2 s after the second failure (1 s, doubling). */
  uv_timer_t wait;
  uv_timer_init(&loop, &wait);
  uv_timer_start(&wait, stop_loop, 3000, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert(!statefile_busy(&f));
  assert_state_file(dir, path, 3);
  ck_assert_int_eq(statefile_finish(&f, &err), 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

int main(void) {
  testutil_require_root("shim parts");
  Suite *s = suite_create("shim parts");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, http_status_line);
  tcase_add_test(tc, http_request_headers);
  tcase_add_test(tc, hostname_truncation);
  tcase_add_test(tc, logpump_order);
  tcase_add_test(tc, probes_tcp_http);
  tcase_add_test(tc, placement_semantics);
  tcase_add_test(tc, placement_seccomp_profiles);
  tcase_add_test(tc, statefile_burst_and_shutdown);
  tcase_add_test(tc, statefile_failed_write_is_retried);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
