/*
 * test_podctl.c - the pod-control library against real keepers (root):
 * launch (the sync pipe reports the pid, or the set-up error), watch (status
 * events, a container restart seen), update (only the updated container
 * restarts, pod.json on disk, a keeper restarted afterwards keeps it), exec
 * (exit code, stdout through a passed fd, a terminal), adopt (a live keeper
 * from its files, a stale directory told apart), and stop (nothing left:
 * run dir, cgroups, pod data).
 *
 * Each test gets its own root and run root; the keeper is the podvisor-shim
 * built beside $PODVISOR_BINARY.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/image.h"
#include "supervisor/core/util.h"
#include "supervisor/podctl/podctl.h"
#include "supervisor/proto/podjson.h"
#include "supervisor/proto/podsnap.h"
#include "tests/testutil.h"

static uv_loop_t loop;
static char *dir;
static char root[PATH_MAX], run_root[PATH_MAX], shim_path[PATH_MAX];
static podctl_launch_opts opts;

/* What the callbacks saw, per keeper. */
typedef struct seen {
  int launched, exited, statuses, watch_ended, closed;
  pv_err launch_err;
  int exit_status;
  json_t *last; /* the last status */
} seen;

/* Every test's directory is named after the process that runs the suite:
 * a failed assertion ends a test without its stop, and the suite then
 * stops the keepers left in its directories (stop_leftovers). */
static char prefix[64];

static void on_launched(podctl_shim *s, const pv_err *err, void *ctx) {
  (void)s;
  seen *w = ctx;
  w->launched++;
  if (err != NULL)
    w->launch_err = *err;
}
static void on_status(podctl_shim *s, const json_t *st, void *ctx) {
  (void)s;
  seen *w = ctx;
  w->statuses++;
  json_decref(w->last);
  w->last = json_deep_copy(st);
}
static void on_watch_ended(podctl_shim *s, const pv_err *err, void *ctx) {
  (void)s;
  (void)err;
  ((seen *)ctx)->watch_ended++;
}
static void on_exited(podctl_shim *s, int status, void *ctx) {
  (void)s;
  seen *w = ctx;
  w->exited++;
  w->exit_status = status;
}
static void on_closed(podctl_shim *s, void *ctx) {
  (void)s;
  ((seen *)ctx)->closed++;
}
static const podctl_callbacks cbs = {on_launched, on_status, on_watch_ended, on_exited, on_closed};

static void on_deadline(uv_timer_t *t) {
  *(int *)t->data = 1;
}

/* Runs the loop until *flag is set (or ms pass): the flag's value. */
static int run_until(const int *flag, int ms) {
  uv_timer_t t;
  int expired = 0;
  uv_timer_init(&loop, &t);
  t.data = &expired;
  uv_timer_start(&t, on_deadline, (uint64_t)ms, 0);
  while (*flag == 0 && !expired)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return *flag;
}

/* Runs the loop for ms. */
static void run_for(int ms) {
  int never = 0;
  run_until(&never, ms);
}

static void setup(void) {
  testutil_require_root("integration/test_podctl");
  dir = testutil_tmpdir(prefix);
  snprintf(root, sizeof root, "%s/root", dir);
  snprintf(run_root, sizeof run_root, "%s/run", dir);
  const char *bin = getenv("PODVISOR_BINARY");
  ck_assert_ptr_nonnull(bin);
  snprintf(shim_path, sizeof shim_path, "%s", bin);
  char *slash = strrchr(shim_path, '/');
  ck_assert_ptr_nonnull(slash);
  snprintf(slash, sizeof shim_path - (size_t)(slash - shim_path), "/podvisor-shim");
  pv_err err;
  ck_assert_msg(image_import(root, "busybox", testutil_busybox_rootfs(), &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  opts = (podctl_launch_opts){.root = root, .run_root = run_root, .shim_path = shim_path};
}

static void teardown(void) {
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  testutil_rmtree(dir);
  free(dir);
}

static spec_pod *parse(const char *yaml) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  int rc = spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &l, &d);
  for (size_t i = 0; i < d.n; i++)
    diag_fprint(stderr, &d.items[i]);
  diag_list_free(&d);
  ck_assert_int_eq(rc, 0);
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  return p;
}

static const char *two_sleepers = "apiVersion: v1\nkind: Pod\nmetadata: {name: pc}\nspec:\n"
                                  "  terminationGracePeriodSeconds: 1\n  containers:\n"
                                  "  - {name: a, image: busybox, command: [sleep, '3600']}\n"
                                  "  - {name: b, image: busybox, command: [sleep, '3602']}\n";

/* The status's container `name` (app containers). */
static const json_t *ctr_status(const json_t *st, const char *name) {
  const json_t *c;
  size_t i;
  json_array_foreach(json_object_get(st, "containerStatuses"), i,
                     c) if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0) return c;
  return NULL;
}

static long ctr_pid(const seen *w, const char *name) {
  const json_t *c = w->last != NULL ? ctr_status(w->last, name) : NULL;
  return c != NULL ? (long)json_integer_value(json_object_get(json_object_get(c, "podvisor"), "pid")) : 0;
}

static long ctr_restarts(const seen *w, const char *name) {
  const json_t *c = w->last != NULL ? ctr_status(w->last, name) : NULL;
  return c != NULL ? (long)json_integer_value(json_object_get(c, "restartCount")) : -1;
}

/* Runs the loop until pred holds on the last status. */
static bool wait_status(seen *w, bool (*pred)(const seen *, const void *), const void *arg, int ms) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (w->last != NULL && pred(w, arg))
      return true;
    run_for(20);
  }
  return w->last != NULL && pred(w, arg);
}

static bool all_running(const seen *w, const void *arg) {
  (void)arg;
  const json_t *c;
  size_t i;
  json_array_foreach(json_object_get(w->last, "containerStatuses"), i,
                     c) if (json_object_get(json_object_get(c, "state"), "running") == NULL) return false;
  return json_array_size(json_object_get(w->last, "containerStatuses")) > 0;
}

static podctl_shim *launch_running(const char *yaml, seen *w, spec_pod **pod) {
  *pod = parse(yaml);
  podctl_shim *s;
  pv_err err;
  ck_assert_msg(podctl_launch(&loop, *pod, NULL, &opts, &cbs, w, &s, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(run_until(&w->launched, 10000), 1);
  ck_assert_msg(w->launch_err.code == 0, "%s", pv_err_str(&w->launch_err));
  ck_assert_int_eq(podctl_watch(s, &err), 0);
  ck_assert_msg(wait_status(w, all_running, NULL, 10000), "not running");
  return s;
}

/* Stops s and checks that nothing of the instance is left. */
static void stop_clean(podctl_shim *s, seen *w) {
  const podpaths *pp = podctl_shim_paths(s);
  char run_dir[PATH_MAX], pod_dir[PATH_MAX], cg[PATH_MAX];
  snprintf(run_dir, sizeof run_dir, "%s", pp->run_dir);
  snprintf(pod_dir, sizeof pod_dir, "%s", pp->pod_dir);
  snprintf(cg, sizeof cg, "/sys/fs/cgroup/pids/%s", pp->cgroup);
  if (access("/sys/fs/cgroup/pids", F_OK) != 0) /* cgroup v2 */
    snprintf(cg, sizeof cg, "/sys/fs/cgroup/%s", pp->cgroup);
  ck_assert_int_eq(access(cg, F_OK), 0);
  ck_assert_int_eq(access(pod_dir, F_OK), 0);
  pv_err err;
  ck_assert_int_eq(podctl_stop(s, -1, &err), 0);
  ck_assert_int_eq(run_until(&w->exited, 20000), 1);
  ck_assert_int_eq(w->exit_status, 0);
  ck_assert_int_ne(access(run_dir, F_OK), 0);
  ck_assert_int_ne(access(pod_dir, F_OK), 0);
  ck_assert_int_ne(access(cg, F_OK), 0);
  podctl_shim_close(s);
  ck_assert_int_eq(run_until(&w->closed, 2000), 1);
  json_decref(w->last);
  w->last = NULL;
}

START_TEST(launch_reports_pid_and_set_up_errors) {
  seen w = {0};
  spec_pod *pod;
  podctl_shim *s = launch_running(two_sleepers, &w, &pod);
  pid_t pid = podctl_shim_pid(s);
  ck_assert_int_gt(pid, 0);
  /* The pid the sync pipe reported is the keeper that writes shim.pid. */
  for (int i = 0; i < 100 && podsnap_read_pid(podctl_shim_paths(s)) == 0; i++)
    run_for(10);
  ck_assert_int_eq(podsnap_read_pid(podctl_shim_paths(s)), pid);
  char exe[PATH_MAX], link[64];
  snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
  ssize_t n = readlink(link, exe, sizeof exe - 1);
  ck_assert_int_gt(n, 0);
  exe[n] = '\0';
  ck_assert_msg(strstr(exe, "podvisor-shim") != NULL, "%s", exe);
  ck_assert_int_eq(w.statuses >= 1, 1);
  /* A second launch of the same pod is refused with the keeper's pid. */
  seen w2 = {0};
  podctl_shim *s2;
  pv_err err;
  ck_assert_int_eq(podctl_launch(&loop, pod, NULL, &opts, &cbs, &w2, &s2, &err), 0);
  ck_assert_int_eq(run_until(&w2.exited, 10000), 1);
  ck_assert_int_eq(w2.launched, 1);
  char want[128];
  snprintf(want, sizeof want, "already kept by shim %d", (int)pid);
  ck_assert_msg(strstr(w2.launch_err.msg, want) != NULL, "%s", w2.launch_err.msg);
  podctl_shim_close(s2);
  stop_clean(s, &w);
  spec_pod_free(pod);
  /* A pod that cannot be set up: its keeper's error comes through the pipe. */
  char bad[1024];
  snprintf(bad, sizeof bad,
           "apiVersion: v1\nkind: Pod\nmetadata: {name: broken}\nspec:\n"
           "  volumes: [{name: v, hostPath: {path: %s/does-not-exist, type: Directory}}]\n"
           "  containers:\n  - name: c\n    image: busybox\n    volumeMounts: [{name: v, mountPath: /v}]\n",
           dir);
  seen w3 = {0};
  pod = parse(bad);
  ck_assert_int_eq(podctl_launch(&loop, pod, NULL, &opts, &cbs, &w3, &s, &err), 0);
  ck_assert_int_eq(run_until(&w3.exited, 10000), 1);
  ck_assert_int_eq(w3.launched, 1);
  ck_assert_msg(strstr(w3.launch_err.msg, "does-not-exist") != NULL, "%s", w3.launch_err.msg);
  ck_assert_int_eq(w3.exit_status, 1);
  podctl_shim_close(s);
  ck_assert_int_eq(run_until(&w3.closed, 2000), 1);
  spec_pod_free(pod);
}
END_TEST

static bool restarted_once(const seen *w, const void *name) {
  return ctr_restarts(w, name) == 1 && ctr_pid(w, name) > 0 && all_running(w, NULL);
}

/* Blocking request through the library's wrapper. */
static void call_ok(podctl_shim *s, const ctlproto_request *req, ctlproto_msg *m) {
  pv_err err;
  ck_assert_msg(podctl_call(podctl_shim_paths(s)->socket, req, NULL, 0, 10000, m, NULL, &err) == 0, "%s",
                pv_err_str(&err));
}

START_TEST(watch_sees_statuses_and_a_restart) {
  seen w = {0};
  spec_pod *pod;
  podctl_shim *s = launch_running(two_sleepers, &w, &pod);
  int before = w.statuses;
  long pid_a = ctr_pid(&w, "a");
  ctlproto_request req = {.op = CTLPROTO_OP_RESTART, .container = "a", .grace_seconds = -1};
  /* The blocking wrapper runs its own loop: this one is not run meanwhile. */
  ctlproto_msg m;
  call_ok(s, &req, &m);
  ck_assert(m.ok);
  ctlproto_msg_free(&m);
  ck_assert_msg(wait_status(&w, restarted_once, "a", 10000), "no restart of a seen");
  ck_assert_int_ne(ctr_pid(&w, "a"), pid_a);
  ck_assert_int_ge(w.statuses - before, 2); /* stopping, restarted */
  stop_clean(s, &w);
  ck_assert_int_eq(w.watch_ended, 1);
  spec_pod_free(pod);
}
END_TEST

static json_t *container_of(const char *yaml, const char *name) {
  spec_pod *p = parse(yaml);
  pv_err err;
  json_t *c = podjson_container(spec_pod_container(p, name), &err);
  spec_pod_free(p);
  return c;
}

static bool a_runs_new_spec(const seen *w, const void *arg) {
  (void)arg;
  return restarted_once(w, "a");
}

static bool cmdline_is(long pid, const char *want) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return false;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[n] = '\0';
  return strcmp(buf, want) == 0;
}

START_TEST(update_restarts_one_container_and_survives_a_keeper_restart) {
  seen w = {0};
  spec_pod *pod;
  podctl_shim *s = launch_running(two_sleepers, &w, &pod);
  long pid_b = ctr_pid(&w, "b");
  const char *edited = "apiVersion: v1\nkind: Pod\nmetadata: {name: pc}\nspec:\n  containers:\n"
                       "  - {name: a, image: busybox, command: [sleep, '3601']}\n";
  json_t *spec = container_of(edited, "a");
  ctlproto_request req = {.op = CTLPROTO_OP_UPDATE, .container = "a", .spec = spec, .grace_seconds = -1};
  ctlproto_msg m;
  call_ok(s, &req, &m);
  ck_assert_msg(m.ok, "%s", m.message);
  ck_assert_int_eq(m.restarted, 1);
  ctlproto_msg_free(&m);
  ck_assert_msg(wait_status(&w, a_runs_new_spec, NULL, 10000), "a was not replaced");
  ck_assert_int_eq(ctr_pid(&w, "b"), pid_b); /* only a's pid changed */
  ck_assert_int_eq(ctr_restarts(&w, "b"), 0);
  ck_assert(cmdline_is(ctr_pid(&w, "a"), "sleep 3601 "));
  /* The same again changes nothing; a pod-level change is refused. */
  call_ok(s, &req, &m);
  ck_assert(m.ok);
  ck_assert_int_eq(m.restarted, 0);
  ctlproto_msg_free(&m);
  json_t *side = json_deep_copy(spec);
  json_object_set_new(side, "comand", json_string("x"));
  req.spec = side;
  call_ok(s, &req, &m);
  ck_assert(!m.ok && m.reason == CTLPROTO_INVALID);
  ck_assert_msg(strstr(m.message, "comand") != NULL, "%s", m.message);
  ctlproto_msg_free(&m);
  json_decref(side);
  json_decref(spec);
  /* The new pod.json is on disk, with the instance's uid. */
  char key[PODPATHS_KEY_LEN + 1], uid[PODPATHS_UID_MAX + 1];
  snprintf(key, sizeof key, "%s", podctl_shim_paths(s)->key);
  snprintf(uid, sizeof uid, "%s", podctl_shim_paths(s)->uid);
  spec_pod *snap;
  pv_err err;
  ck_assert_int_eq(podsnap_load(podctl_shim_paths(s)->snapshot, &snap, &err), 0);
  ck_assert_str_eq(spec_pod_container(snap, "a")->command.argv[1], "3601");
  ck_assert_str_eq(snap->uid, uid);
  spec_pod_free(snap);
  /* A keeper killed and started again from its run directory keeps the
   * update (and the instance).  The watch stream is told of a change before
   * status.json is (its write is durable, in the thread pool): the kill
   * waits for the file, which is what a successor reads. */
  bool on_disk = false;
  for (int i = 0; i < 500 && !on_disk; i++) {
    json_t *doc = json_load_file(podctl_shim_paths(s)->status, 0, NULL);
    const json_t *a = doc != NULL ? ctr_status(doc, "a") : NULL;
    on_disk = a != NULL && json_integer_value(json_object_get(a, "restartCount")) >= 1 &&
              json_object_get(json_object_get(a, "state"), "running") != NULL;
    json_decref(doc);
    if (!on_disk)
      run_for(20);
  }
  ck_assert_msg(on_disk, "status.json never showed a's restart");
  ck_assert_int_eq(kill(podctl_shim_pid(s), SIGKILL), 0);
  ck_assert_int_eq(run_until(&w.exited, 10000), 1);
  ck_assert_int_eq(w.exit_status, 128 + SIGKILL);
  podctl_shim_close(s);
  ck_assert_int_eq(run_until(&w.closed, 2000), 1);
  seen w2 = {0};
  podctl_launch_opts again = opts;
  again.keep_instance = true;
  ck_assert_int_eq(podctl_launch(&loop, NULL, key, &again, &cbs, &w2, &s, &err), 0);
  ck_assert_int_eq(run_until(&w2.launched, 10000), 1);
  ck_assert_msg(w2.launch_err.code == 0, "%s", pv_err_str(&w2.launch_err));
  ck_assert_str_eq(podctl_shim_paths(s)->uid, uid);
  ck_assert_int_eq(podctl_watch(s, &err), 0);
  ck_assert_msg(wait_status(&w2, all_running, NULL, 10000), "not running after the keeper restart");
  ck_assert(cmdline_is(ctr_pid(&w2, "a"), "sleep 3601 "));
  ck_assert_int_ge(ctr_restarts(&w2, "a"), 2); /* carried forward: same instance */
  stop_clean(s, &w2);
  json_decref(w.last);
  spec_pod_free(pod);
}
END_TEST

/* --- exec ---------------------------------------------------------------------------------- */

typedef struct exec_seen {
  int replied, done;
  long pid;
  int exit_code, fd;
  bool ok;
  char message[512];
} exec_seen;

static void on_exec(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)c;
  (void)err;
  exec_seen *x = ctx;
  if (m == NULL) {
    x->done = 1;
    return;
  }
  if (m->event != NULL) {
    x->exit_code = (int)m->exit_code;
    return;
  }
  x->replied = 1;
  x->ok = m->ok;
  x->pid = m->pid;
  x->fd = fd;
  if (!m->ok)
    snprintf(x->message, sizeof x->message, "%s", m->message);
}

static void exec_in(podctl_shim *s, char **argv, bool tty, const int *fds, size_t nfds, exec_seen *x,
                    podctl_conn **conn) {
  memset(x, 0, sizeof *x);
  x->exit_code = -1;
  x->fd = -1;
  pv_err err;
  ctlproto_request req = {
      .op = CTLPROTO_OP_EXEC, .container = "a", .argv = argv, .tty = tty, .grace_seconds = -1};
  ck_assert_int_eq(podctl_conn_open(&loop, podctl_shim_paths(s)->socket, conn, &err), 0);
  ck_assert_int_eq(podctl_conn_request(*conn, &req, fds, nfds, on_exec, x, &err), 0);
  ck_assert_int_eq(run_until(&x->replied, 10000), 1);
}

START_TEST(exec_exit_code_stdout_and_tty) {
  seen w = {0};
  spec_pod *pod;
  podctl_shim *s = launch_running(two_sleepers, &w, &pod);
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  int fds[2] = {p[1], p[1]};
  static char *argv1[] = {"sh", "-c", "echo out-$((6*7)); exit 7", NULL};
  exec_seen x;
  podctl_conn *c;
  exec_in(s, argv1, false, fds, 2, &x, &c);
  close(p[1]);
  ck_assert_msg(x.ok, "%s", x.message);
  ck_assert_int_gt(x.pid, 0);
  ck_assert_int_eq(run_until(&x.done, 10000), 1);
  ck_assert_int_eq(x.exit_code, 7);
  char buf[256] = "";
  ck_assert_int_eq(read(p[0], buf, sizeof buf - 1), 7);
  ck_assert_str_eq(buf, "out-42\n");
  close(p[0]);
  podctl_conn_close(c);
  /* With a terminal: the process has it as stdin; the master comes back. */
  static char *argv2[] = {"sh", "-c", "[ -t 0 ] && echo on-a-tty; exit 3", NULL};
  exec_in(s, argv2, true, NULL, 0, &x, &c);
  ck_assert_msg(x.ok, "%s", x.message);
  ck_assert_int_ge(x.fd, 0);
  ck_assert_int_eq(run_until(&x.done, 10000), 1);
  ck_assert_int_eq(x.exit_code, 3);
  memset(buf, 0, sizeof buf);
  ck_assert_int_gt(read(x.fd, buf, sizeof buf - 1), 0);
  ck_assert_msg(strstr(buf, "on-a-tty") != NULL, "%s", buf);
  close(x.fd);
  podctl_conn_close(c);
  /* A client that goes away takes its process with it. */
  static char *argv3[] = {"sleep", "1234", NULL};
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  int nul[2] = {devnull, devnull};
  exec_in(s, argv3, false, nul, 2, &x, &c);
  close(devnull);
  ck_assert(x.ok);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/%ld", x.pid);
  ck_assert_int_eq(access(proc, F_OK), 0);
  podctl_conn_close(c);
  for (int i = 0; i < 100 && access(proc, F_OK) == 0; i++)
    run_for(20);
  ck_assert_msg(access(proc, F_OK) != 0, "the exec'd process outlived its client");
  /* Not a running container, or the wrong descriptors: refused. */
  static char *argv4[] = {"true", NULL};
  ctlproto_request bad = {.op = CTLPROTO_OP_EXEC, .container = "nosuch", .argv = argv4, .grace_seconds = -1};
  ctlproto_msg m;
  call_ok(s, &bad, &m);
  ck_assert(!m.ok && m.reason == CTLPROTO_NOT_FOUND);
  ctlproto_msg_free(&m);
  bad.container = "a";
  call_ok(s, &bad, &m); /* no stdout and stderr passed */
  ck_assert(!m.ok && m.reason == CTLPROTO_INVALID);
  ctlproto_msg_free(&m);
  stop_clean(s, &w);
  spec_pod_free(pod);
}
END_TEST

/* --- adopt ---------------------------------------------------------------------------------- */

START_TEST(adopt_a_live_keeper_and_tell_a_stale_dir) {
  seen w = {0};
  spec_pod *pod;
  podctl_shim *s = launch_running(two_sleepers, &w, &pod);
  const podpaths *pp = podctl_shim_paths(s);
  for (int i = 0; i < 100 && podsnap_read_pid(pp) == 0; i++)
    run_for(10);
  pid_t pid;
  ck_assert_int_eq(podctl_probe(pp, &pid), PODCTL_LIVE);
  ck_assert_int_eq(pid, podctl_shim_pid(s));
  /* Another handle on the same keeper, from its files alone. */
  seen wa = {0};
  podctl_shim *a;
  pv_err err;
  ck_assert_msg(podctl_adopt(&loop, root, run_root, pp->key, &cbs, &wa, &a, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(podctl_shim_pid(a), pid);
  ck_assert_str_eq(podctl_shim_paths(a)->uid, pp->uid);
  ck_assert_int_eq(podctl_watch(a, &err), 0);
  ck_assert_msg(wait_status(&wa, all_running, NULL, 5000), "adopted watch has no status");
  ck_assert_int_eq(podctl_probe(pp, &pid), PODCTL_LIVE); /* probing disturbed nothing */
  /* Stopped through the adopted handle, seen by both. */
  ck_assert_int_eq(podctl_stop(a, -1, &err), 0);
  ck_assert_int_eq(run_until(&wa.exited, 20000), 1);
  ck_assert_int_eq(wa.exit_status, -1); /* not our child */
  ck_assert_int_eq(run_until(&w.exited, 5000), 1);
  ck_assert_int_eq(w.exit_status, 0);
  podctl_shim_close(a);
  podctl_shim_close(s);
  run_for(50);
  /* A stale directory: a lock nobody holds, the pid of a dead process. */
  podpaths st;
  ck_assert_int_eq(podpaths_init(&st, run_root, "0123456789abcdef", &err), 0);
  ck_assert_int_eq(podctl_probe(&st, &pid), PODCTL_ABSENT);
  ck_assert_int_eq(podctl_adopt(&loop, root, run_root, st.key, &cbs, &wa, &a, &err), -1);
  ck_assert_int_eq(err.code, ENOENT);
  ck_assert_int_eq(pv_mkdir_p(st.run_dir, 0700, &err), 0);
  int fd = open(st.lock, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  close(fd);
  pid_t dead = fork();
  if (dead == 0)
    _exit(0);
  waitpid(dead, NULL, 0);
  char line[32];
  snprintf(line, sizeof line, "%d\n", (int)dead);
  ck_assert_int_eq(pv_write_file_atomic(st.pid_file, line, strlen(line), 0644, &err), 0);
  ck_assert_int_eq(podctl_probe(&st, &pid), PODCTL_STALE);
  ck_assert_int_eq(podctl_adopt(&loop, root, run_root, st.key, &cbs, &wa, &a, &err), -1);
  ck_assert_int_eq(err.code, ESTALE);
  podpaths_free(&st);
  json_decref(w.last);
  json_decref(wa.last);
  spec_pod_free(pod);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("podctl");
  TCase *tc = tcase_create("keepers");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, launch_reports_pid_and_set_up_errors);
  tcase_add_test(tc, watch_sees_statuses_and_a_restart);
  tcase_add_test(tc, update_restarts_one_container_and_survives_a_keeper_restart);
  tcase_add_test(tc, exec_exit_code_stdout_and_tty);
  tcase_add_test(tc, adopt_a_live_keeper_and_tell_a_stale_dir);
  suite_add_tcase(s, tc);
  return s;
}

/* SIGTERMs (a graceful stop) every keeper running for one of this suite's
 * directories, gives them 10 s, then SIGKILLs what is left. */
static void stop_leftovers(void) {
  for (int round = 0; round < 101; round++) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int found = 0;
    while (d != NULL && (e = readdir(d)) != NULL) {
      char path[300], cmd[4096];
      snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
      int fd = atoi(e->d_name) > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
      ssize_t n = fd >= 0 ? read(fd, cmd, sizeof cmd - 1) : -1;
      if (fd >= 0)
        close(fd);
      if (n <= 0)
        continue;
      for (ssize_t i = 0; i < n; i++)
        cmd[i] = cmd[i] == '\0' ? ' ' : cmd[i];
      cmd[n] = '\0';
      if (strstr(cmd, "podvisor-shim") == NULL || strstr(cmd, prefix) == NULL)
        continue;
      found++;
      kill(atoi(e->d_name), round == 0 ? SIGTERM : round == 100 ? SIGKILL : 0);
    }
    if (d != NULL)
      closedir(d);
    if (found == 0)
      return;
    usleep(100000);
  }
}

/* The directories of tests that failed before their teardown. */
static void remove_leftover_dirs(void) {
  const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
  DIR *d = opendir(tmp);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    char path[PATH_MAX];
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && e->d_name[strlen(prefix)] == '-' &&
        snprintf(path, sizeof path, "%s/%s", tmp, e->d_name) < (int)sizeof path)
      testutil_rmtree(path);
  }
  if (d != NULL)
    closedir(d);
}

int main(void) {
  testutil_require_root("integration/test_podctl");
  snprintf(prefix, sizeof prefix, "pv-podctl-%d", (int)getpid());
  int rc = testutil_run(suite());
  stop_leftovers();
  remove_leftover_dirs();
  return rc;
}
