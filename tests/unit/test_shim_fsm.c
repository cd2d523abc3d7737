/* Unit tests for the shim's orchestration (supervisor/shim/keeper.c) with a
 * fake runtime (fake_runtime.h): start order, restarts on the backoff curve,
 * probes, the stop sequence, a failure at each step, restart, update and
 * restore.  No root, no container: the keeper runs on a real libuv loop and
 * the tests assert on the runtime calls it made, in order, and on the
 * status documents it rendered. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/shim/keeper.h"
#include "supervisor/shim/status.h"
#include "tests/testutil.h"
#include "tests/unit/fake_runtime.h"

typedef struct harness {
  uv_loop_t loop;
  fake_runtime f;
  keeper *k;
  char *dir;
  json_t *last;      /* the latest status document */
  json_t *docs[512]; /* every one, in order */
  size_t n_docs;
  bool done;
  int devnull;
} harness;

static void on_status(void *ctx, char *text) {
  harness *h = ctx;
  json_t *doc = json_loads(text, 0, NULL);
  free(text);
  ck_assert_ptr_nonnull(doc);
  json_decref(h->last);
  h->last = json_incref(doc);
  if (h->n_docs < sizeof h->docs / sizeof h->docs[0])
    h->docs[h->n_docs++] = doc;
  else
    json_decref(doc);
}

static void on_done(void *ctx) {
  ((harness *)ctx)->done = true;
}

static spec_pod *parse(const char *yaml) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  int rc = spec_parse_buffer("test.yaml", yaml, strlen(yaml), 0, &l, &d);
  if (rc < 0 && d.n > 0) {
    char msg[512];
    diag_format(&d.items[0], msg, sizeof msg);
    ck_abort_msg("%s", msg);
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_uint_eq(l.n, 1);
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  diag_list_free(&d);
  return p;
}

static void setup(harness *h, const char *yaml, const fake_script *scripts) {
  memset(h, 0, sizeof *h);
  ck_assert_int_eq(uv_loop_init(&h->loop), 0);
  h->f.scripts = scripts;
  h->dir = testutil_tmpdir("pv-fsm");
  h->devnull = -1;
  keeper_config cfg = {.loop = &h->loop,
                       .uid = "0123456789abcdef",
                       .log_dir = h->dir,
                       .rt = {&fake_runtime_ops, &h->f},
                       .devnull = -1,
                       .on_status = on_status,
                       .on_done = on_done,
                       .ctx = h};
  crilog_opts_default(&cfg.log_opts);
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(keeper_new(&h->k, &cfg, parse(yaml), &err) == 0, "%s", pv_err_str(&err));
}

/* Stops the run loop when the test's time is up, so a condition that never
 * comes fails the test instead of hanging it. */
static void on_deadline(uv_timer_t *t) {
  *(bool *)t->data = true;
}

/* Runs the loop until cond(h) holds (true) or timeout_ms pass (false). */
static bool run_until(harness *h, bool (*cond)(harness *h, const void *arg), const void *arg,
                      int timeout_ms) {
  bool late = false;
  uv_timer_t t;
  uv_timer_init(&h->loop, &t);
  t.data = &late;
  uv_timer_start(&t, on_deadline, (uint64_t)timeout_ms, 0);
  while (!cond(h, arg) && !late)
    uv_run(&h->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&h->loop, UV_RUN_NOWAIT);
  if (!cond(h, arg)) {
    /* What the keeper did, to see why it did not get there. */
    for (size_t i = 0; i < h->f.n_log; i++)
      fprintf(stderr, "  call %zu: %s\n", i, h->f.log[i]);
    char *doc = h->last != NULL ? json_dumps(h->last, JSON_COMPACT) : NULL;
    fprintf(stderr, "  status: %s\n", doc ? doc : "(none)");
    free(doc);
    return false;
  }
  return true;
}

static bool is_done(harness *h, const void *arg) {
  (void)arg;
  return h->done;
}

/* The value at a jq-like path of the latest status: "containerStatuses",
 * index, key, key... given as separate strings. */
static json_t *ctr_status(const harness *h, const char *list, const char *name) {
  json_t *arr = json_object_get(h->last, list), *e;
  size_t i;
  json_array_foreach(arr, i,
                     e) if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) return e;
  return NULL;
}

static const char *list_of(const char *name) {
  return strncmp(name, "init", 4) == 0 || strncmp(name, "side", 4) == 0 ? "initContainerStatuses"
                                                                        : "containerStatuses";
}

static const char *fsm_of(const harness *h, const char *name) {
  json_t *c = ctr_status(h, list_of(name), name);
  return json_string_value(json_object_get(json_object_get(c, "podvisor"), "fsm"));
}

static json_int_t restarts_of(const harness *h, const char *name) {
  return json_integer_value(json_object_get(ctr_status(h, list_of(name), name), "restartCount"));
}

typedef struct want_fsm {
  const char *name, *fsm;
} want_fsm;

static bool fsm_is(harness *h, const void *arg) {
  const want_fsm *w = arg;
  const char *s = h->last != NULL ? fsm_of(h, w->name) : NULL;
  return s != NULL && strcmp(s, w->fsm) == 0;
}

static bool wait_fsm(harness *h, const char *name, const char *fsm, int timeout_ms) {
  want_fsm w = {name, fsm};
  return run_until(h, fsm_is, &w, timeout_ms);
}

typedef struct want_restarts {
  const char *name;
  json_int_t n;
} want_restarts;

static bool restarts_reach(harness *h, const void *arg) {
  const want_restarts *w = arg;
  return h->last != NULL && restarts_of(h, w->name) >= w->n;
}

static bool log_has(harness *h, const void *arg) {
  return fake_find(&h->f, arg, 0) >= 0;
}

/* Stops the pod, runs it down, checks nothing was left and frees it all. */
static void teardown(harness *h) {
  if (!h->done) {
    keeper_stop(h->k, 50);
    ck_assert_msg(run_until(h, is_done, NULL, 5000), "the pod never went down");
  }
  uv_run(&h->loop, UV_RUN_DEFAULT); /* the keeper's handles are closed: the loop runs out */
  ck_assert_int_eq(uv_loop_close(&h->loop), 0);
  ck_assert_int_eq(h->f.live, 0);
  ck_assert_int_eq(h->f.ctrs, 0); /* every container created was destroyed */
  keeper_free(h->k);
  json_decref(h->last);
  for (size_t i = 0; i < h->n_docs; i++)
    json_decref(h->docs[i]);
  testutil_rmtree(h->dir);
  free(h->dir);
}

#define POD(annotations, spec)                                                                               \
  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n" annotations "spec:\n" spec
#define FAST "    podvisor.io/backoff-initial: \"20ms\"\n    podvisor.io/backoff-max: \"80ms\"\n"

START_TEST(init_sidecar_then_app_order) {
  static const fake_script s[] = {{.name = "init", .run_ms = 5}, {0}};
  harness h;
  setup(&h,
        POD(FAST, "  initContainers:\n"
                  "  - {name: init, image: busybox}\n"
                  "  - {name: side, image: busybox, restartPolicy: Always}\n"
                  "  containers:\n  - {name: web, image: busybox}\n  - {name: api, image: busybox}\n"),
        s);
  keeper_start(h.k, NULL, NULL);
  ck_assert(wait_fsm(&h, "api", "Running", 2000));
  int a = fake_find(&h.f, "start init#0", 0), b = fake_find(&h.f, "exit init#0 0", a);
  int c = fake_find(&h.f, "start side#0", b), d = fake_find(&h.f, "start web#0", c);
  int e = fake_find(&h.f, "start api#0", d);
  ck_assert_msg(a >= 0 && b > a && c > b && d > c && e > d, "order %d %d %d %d %d", a, b, c, d, e);
  ck_assert_int_eq(fake_count(&h.f, "create"), 4);
  ck_assert_str_eq(fsm_of(&h, "init"), "Terminated");
  ck_assert_str_eq(json_string_value(json_object_get(h.last, "phase")), "Running");
  /* Stop: the app containers first, then the sidecar. */
  keeper_stop(h.k, 1000);
  ck_assert(run_until(&h, is_done, NULL, 3000));
  int t1 = fake_find(&h.f, "kill web#0 15", 0), t2 = fake_find(&h.f, "kill api#0 15", 0);
  int ts = fake_find(&h.f, "kill side#0 15", 0);
  ck_assert_msg(t1 >= 0 && t2 >= 0 && ts > t1 && ts > t2, "stop order %d %d %d", t1, t2, ts);
  ck_assert_int_gt(fake_find(&h.f, "exit web#0 143", 0), -1);
  ck_assert_int_lt(fake_find(&h.f, "exit web#0 143", 0), ts);
  ck_assert_int_lt(fake_find(&h.f, "exit api#0 143", 0), ts);
  ck_assert(json_is_true(json_object_get(json_object_get(h.last, "podvisor"), "stopping")));
  teardown(&h);
}
END_TEST

START_TEST(restarts_follow_the_backoff_curve) {
  static const fake_script s[] = {{.name = "crash", .run_ms = FAKE_AT_ONCE, .exit_code = 3}, {0}};
  harness h;
  setup(&h, POD(FAST, "  containers:\n  - {name: crash, image: busybox}\n"), s);
  keeper_start(h.k, NULL, NULL);
  want_restarts w = {"crash", 5};
  ck_assert(run_until(&h, restarts_reach, &w, 3000));
  /* Each CrashLoopBackOff told its wait, computed from the same clock
   * reading as its deadline: 20, 40, 80, then capped at 80 ms. */
  static const char *want[] = {
      "back-off 20ms restarting failed container=crash", "back-off 40ms restarting failed container=crash",
      "back-off 80ms restarting failed container=crash", "back-off 80ms restarting failed container=crash"};
  size_t seen = 0;
  for (size_t i = 0; i < h.n_docs && seen < 4; i++) {
    json_t *c = json_array_get(json_object_get(h.docs[i], "containerStatuses"), 0);
    const char *m = json_string_value(
        json_object_get(json_object_get(json_object_get(c, "state"), "waiting"), "message"));
    /* The seen-th wait comes after the seen-th restart. */
    if (m == NULL || strncmp(m, "back-off", 8) != 0 ||
        json_integer_value(json_object_get(c, "restartCount")) != (json_int_t)seen)
      continue;
    ck_assert_str_eq(m, want[seen]);
    /* nextRestartAt - lastState's finishedAt is the wait (to the ms). */
    int64_t next, fin;
    json_t *pv = json_object_get(c, "podvisor");
    json_t *last = json_object_get(json_object_get(c, "lastState"), "terminated");
    ck_assert_int_eq(status_parse_time(json_string_value(json_object_get(pv, "nextRestartAt")), &next), 0);
    ck_assert_int_eq(status_parse_time(json_string_value(json_object_get(last, "finishedAt")), &fin), 0);
    int64_t wait_ms = (next - fin) / 1000000;
    int64_t want_ms = seen == 0 ? 20 : seen == 1 ? 40 : 80;
    ck_assert_msg(wait_ms >= want_ms - 1 && wait_ms <= want_ms + 5, "wait %lld, want %lld",
                  (long long)wait_ms, (long long)want_ms);
    seen++;
  }
  ck_assert_uint_eq(seen, 4);
  ck_assert_int_ge(fake_count(&h.f, "start crash#"), 5);
  ck_assert_int_eq(fake_count(&h.f, "start crash#0"), 1);
  teardown(&h);
}
END_TEST

START_TEST(start_limit_stops_restarts) {
  static const fake_script s[] = {{.name = "crash", .run_ms = FAKE_AT_ONCE, .exit_code = 1}, {0}};
  harness h;
  setup(&h,
        POD("    podvisor.io/backoff-initial: \"0\"\n    podvisor.io/backoff-max: \"1ms\"\n"
            "    podvisor.io/start-limit: \"3/60s\"\n",
            "  containers:\n  - {name: crash, image: busybox}\n"),
        s);
  keeper_start(h.k, NULL, NULL);
  ck_assert(wait_fsm(&h, "crash", "StartLimit", 2000));
  ck_assert_int_eq(fake_count(&h.f, "start crash#"), 3);
  ck_assert_int_eq(restarts_of(&h, "crash"), 2);
  json_t *w =
      json_object_get(json_object_get(ctr_status(&h, "containerStatuses", "crash"), "state"), "waiting");
  ck_assert_str_eq(json_string_value(json_object_get(w, "reason")), "StartLimitReached");
  /* A manual restart lifts it. */
  pv_err err;
  ck_assert_int_eq(keeper_restart(h.k, "crash", &err), 0);
  ck_assert(run_until(&h, log_has, "start crash#3", 1000));
  teardown(&h);
}
END_TEST

START_TEST(liveness_and_startup_failures_restart) {
  static const fake_script s[] = {
      {.name = "ok", .run_ms = FAKE_AT_ONCE}, {.name = "fail", .run_ms = FAKE_AT_ONCE, .exit_code = 1}, {0}};
  harness h;
  setup(&h,
        POD(FAST, "  containers:\n"
                  "  - name: live\n    image: busybox\n"
                  "    livenessProbe: {exec: {command: [fail]}, failureThreshold: 1, periodSeconds: 60}\n"
                  "  - name: boot\n    image: busybox\n"
                  "    startupProbe: {exec: {command: [fail]}, failureThreshold: 1, periodSeconds: 60}\n"
                  "  - name: ready\n    image: busybox\n"
                  "    readinessProbe: {exec: {command: [fail]}, failureThreshold: 1, periodSeconds: 60}\n"
                  "  - name: good\n    image: busybox\n"
                  "    startupProbe: {exec: {command: [ok]}, periodSeconds: 60}\n"
                  "    readinessProbe: {exec: {command: [ok]}, periodSeconds: 60}\n"),
        s);
  keeper_start(h.k, NULL, NULL);
  want_restarts w1 = {"live", 1}, w2 = {"boot", 1};
  ck_assert(run_until(&h, restarts_reach, &w1, 2000));
  ck_assert(run_until(&h, restarts_reach, &w2, 2000));
  /* The probe's kill: SIGTERM, and the exit told why. */
  ck_assert_int_ge(fake_find(&h.f, "kill live#0 15", 0), 0);
  json_t *t = json_object_get(json_object_get(ctr_status(&h, "containerStatuses", "live"), "lastState"),
                              "terminated");
  ck_assert_str_eq(json_string_value(json_object_get(t, "message")), "Liveness probe failed");
  ck_assert_int_eq(json_integer_value(json_object_get(t, "exitCode")), 143);
  t = json_object_get(json_object_get(ctr_status(&h, "containerStatuses", "boot"), "lastState"),
                      "terminated");
  ck_assert_str_eq(json_string_value(json_object_get(t, "message")), "Startup probe failed");
  /* Readiness only says not ready: no kill. */
  ck_assert_int_eq(fake_count(&h.f, "kill ready#"), 0);
  json_t *r = ctr_status(&h, "containerStatuses", "ready");
  ck_assert(json_is_false(json_object_get(r, "ready")));
  ck_assert_str_eq(fsm_of(&h, "ready"), "Running");
  json_t *g = ctr_status(&h, "containerStatuses", "good");
  ck_assert(json_is_true(json_object_get(g, "started")));
  ck_assert_int_eq(restarts_of(&h, "good"), 0);
  teardown(&h);
}
END_TEST

/* Kubernetes restarts a container its probe killed unless the policy is
 * Never, even when it then exits 0. */
START_TEST(a_probe_kill_restarts_unless_never) {
  static const fake_script s[] = {
      {.name = "live", .term_exits_0 = true}, {.name = "fail", .run_ms = FAKE_AT_ONCE, .exit_code = 1}, {0}};
  static const char *policies[] = {"OnFailure", "Never"};
  for (int i = 0; i < 2; i++) {
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             POD(FAST,
                 "  restartPolicy: %s\n  containers:\n  - name: live\n    image: busybox\n"
                 "    livenessProbe: {exec: {command: [fail]}, failureThreshold: 1, periodSeconds: 60}\n"),
             policies[i]);
    harness h;
    setup(&h, yaml, s);
    keeper_start(h.k, NULL, NULL);
    if (i == 0) {
      ck_assert(run_until(&h, log_has, "start live#1", 2000));
    } else {
      ck_assert(wait_fsm(&h, "live", "Terminated", 2000));
      ck_assert_int_eq(fake_count(&h.f, "start live#"), 1);
      ck_assert_str_eq(json_string_value(json_object_get(h.last, "phase")), "Succeeded");
    }
    ck_assert_int_ge(fake_find(&h.f, "exit live#0 0", 0), 0);
    teardown(&h);
  }
}
END_TEST

START_TEST(prestop_runs_then_term_then_kill_at_the_deadline) {
  static const fake_script s[] = {
      {.name = "web", .ignore_term = true}, {.name = "hang"}, {.name = "quick", .run_ms = FAKE_AT_ONCE}, {0}};
  harness h;
  setup(&h,
        POD(FAST,
            "  terminationGracePeriodSeconds: 1\n  containers:\n"
            "  - name: web\n    image: busybox\n    lifecycle: {preStop: {exec: {command: [quick]}}}\n"
            "  - name: slow\n    image: busybox\n    lifecycle: {preStop: {exec: {command: [hang]}}}\n"),
        s);
  keeper_start(h.k, NULL, NULL);
  ck_assert(wait_fsm(&h, "slow", "Running", 2000));
  keeper_stop(h.k, 100);
  ck_assert(run_until(&h, is_done, NULL, 5000));
  /* web: its hook ends, then TERM (ignored), then KILL at the deadline. */
  int hook = fake_find(&h.f, "exec web#0 quick", 0), term = fake_find(&h.f, "kill web#0 15", 0);
  int kill = fake_find(&h.f, "kill web#0 9", 0);
  ck_assert_msg(hook >= 0 && term > hook && kill > term, "web %d %d %d", hook, term, kill);
  ck_assert_int_ge(fake_find(&h.f, "exit web#0 137", kill), 0);
  /* slow: its hook outlives the grace period: killed, then TERM (which
   * ends it, as the script does not ignore it). */
  int shook = fake_find(&h.f, "exec slow#0 hang", 0), sterm = fake_find(&h.f, "kill slow#0 15", 0);
  ck_assert_msg(shook >= 0 && sterm > shook, "slow %d %d", shook, sterm);
  ck_assert_int_ge(fake_find(&h.f, "signal exec 9", shook), 0);
  ck_assert_int_lt(fake_find(&h.f, "signal exec 9", shook), sterm);
  ck_assert_int_ge(fake_find(&h.f, "exit slow#0 143", sterm), 0);
  ck_assert_int_eq(fake_count(&h.f, "create"), 2); /* nothing restarted while stopping */
  teardown(&h);
}
END_TEST

START_TEST(a_failure_at_each_step) {
  static const fake_script s[] = {{.name = "nocreate", .create_fails = true},
                                  {.name = "nocreate", .from_run = 2},
                                  {.name = "nostart", .start_fails = true},
                                  {.name = "badhook"},
                                  {.name = "missing", .create_fails = true},
                                  {.name = "posthook"},
                                  {.name = "fail", .run_ms = FAKE_AT_ONCE, .exit_code = 2},
                                  {0}};
  harness h;
  setup(
      &h,
      POD(FAST,
          "  containers:\n"
          "  - {name: nocreate, image: nosuch}\n"
          "  - {name: nostart, image: busybox}\n"
          "  - name: badhook\n    image: busybox\n    lifecycle: {postStart: {exec: {command: [missing]}}}\n"
          "  - name: posthook\n    image: busybox\n    lifecycle: {postStart: {exec: {command: [fail]}}}\n"),
      s);
  keeper_start(h.k, NULL, NULL);
  /* A create that fails twice, then works: StartError, exit 128, backoff. */
  ck_assert(wait_fsm(&h, "nocreate", "Running", 3000));
  ck_assert_int_eq(restarts_of(&h, "nocreate"), 2);
  json_t *t = json_object_get(json_object_get(ctr_status(&h, "containerStatuses", "nocreate"), "lastState"),
                              "terminated");
  ck_assert_str_eq(json_string_value(json_object_get(t, "reason")), "StartError");
  ck_assert_int_eq(json_integer_value(json_object_get(t, "exitCode")), 128);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(t, "message")), "image nosuch not found"));
  /* A start that always fails keeps backing off, and its run is destroyed
   * each time. */
  want_restarts w = {"nostart", 2};
  ck_assert(run_until(&h, restarts_reach, &w, 2000));
  ck_assert_int_ge(fake_count(&h.f, "destroy nostart#"), 2);
  /* postStart that cannot start, or that fails: the container is killed
   * (FailedPostStartHook) without ever counting as started, and restarted. */
  want_restarts w2 = {"badhook", 1}, w3 = {"posthook", 1};
  ck_assert(run_until(&h, restarts_reach, &w2, 2000));
  ck_assert(run_until(&h, restarts_reach, &w3, 2000));
  t = json_object_get(json_object_get(ctr_status(&h, "containerStatuses", "posthook"), "lastState"),
                      "terminated");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(t, "message")),
                               "FailedPostStartHook: postStart exited with status 2"));
  t = json_object_get(json_object_get(ctr_status(&h, "containerStatuses", "badhook"), "lastState"),
                      "terminated");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(t, "message")), "FailedPostStartHook"));
  ck_assert_int_eq(fake_count(&h.f, "kill posthook#0 15"), 1);
  teardown(&h);
}
END_TEST

START_TEST(a_dead_sandbox_fails_the_pod) {
  harness h;
  setup(&h, POD(FAST, "  containers:\n  - {name: web, image: busybox}\n"), NULL);
  h.f.sandbox_fails = true;
  keeper_start(h.k, NULL, NULL);
  ck_assert(run_until(&h, is_done, NULL, 2000));
  ck_assert_int_eq(fake_count(&h.f, "create"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(h.last, "phase")), "Failed");
  ck_assert_str_eq(json_string_value(json_object_get(h.last, "reason")), "SandboxFailed");
  ck_assert_str_eq(keeper_sandbox_error(h.k), "the pod's pid namespace is gone");
  teardown(&h);
}
END_TEST

START_TEST(restart_and_update_through_the_api) {
  static const fake_script s[] = {
      {.name = "crash", .run_ms = FAKE_AT_ONCE, .exit_code = 1}, {.name = "ok", .run_ms = FAKE_AT_ONCE}, {0}};
  harness h;
  setup(&h,
        POD("    podvisor.io/backoff-initial: \"10s\"\n",
            "  containers:\n  - name: web\n    image: busybox\n    lifecycle: {preStop: {exec: {command: "
            "[ok]}}}\n"
            "  - {name: crash, image: busybox}\n"),
        s);
  keeper_start(h.k, NULL, NULL);
  ck_assert(wait_fsm(&h, "crash", "Backoff", 2000));
  ck_assert(wait_fsm(&h, "web", "Running", 2000));
  pv_err err;
  pv_err_clear(&err);
  /* Waiting 10 s in CrashLoopBackOff: a restart is at once. */
  ck_assert_int_eq(keeper_restart(h.k, "crash", &err), 0);
  ck_assert(run_until(&h, log_has, "start crash#1", 1000));
  /* A running one: preStop, TERM, then at once again (no backoff). */
  ck_assert_int_eq(keeper_restart(h.k, "web", &err), 0);
  ck_assert(run_until(&h, log_has, "start web#1", 2000));
  int hook = fake_find(&h.f, "exec web#0 ok", 0), term = fake_find(&h.f, "kill web#0 15", 0);
  ck_assert_msg(hook >= 0 && term > hook, "%d %d", hook, term);
  ck_assert_int_eq(keeper_restart(h.k, "nosuch", &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "has no container nosuch"));
  /* An update: the next run is the new spec, its hash in the status. */
  ck_assert(wait_fsm(&h, "web", "Running", 2000));
  /* The pod's spec with web's container changed (what an update splices). */
  spec_pod *np =
      parse(POD("    podvisor.io/backoff-initial: \"10s\"\n",
                "  containers:\n  - {name: web, image: \"busybox:2\"}\n  - {name: crash, image: busybox}\n"));
  char hash[80];
  snprintf(hash, sizeof hash, "sha256:%s", np->containers[0].hash);
  ck_assert_int_eq(keeper_update(h.k, "web", np, &err), 0);
  ck_assert(run_until(&h, log_has, "create web#2 busybox:2", 2000));
  ck_assert(wait_fsm(&h, "web", "Running", 2000));
  json_t *web = ctr_status(&h, "containerStatuses", "web");
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(web, "podvisor"), "specHash")), hash);
  ck_assert_str_eq(json_string_value(json_object_get(web, "image")), "busybox:2");
  /* The old run stopped with the hook of the spec it started from. */
  ck_assert_int_ge(fake_find(&h.f, "exec web#1 ok", 0), 0);
  /* Refused once the pod stops. */
  keeper_stop(h.k, 100);
  ck_assert_int_eq(keeper_restart(h.k, "web", &err), 0); /* the stop is not handled yet */
  ck_assert(run_until(&h, is_done, NULL, 3000));
  ck_assert_int_eq(keeper_restart(h.k, "web", &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "is stopping"));
  ck_assert_int_eq(fake_count(&h.f, "start web#3"), 0);
  teardown(&h);
}
END_TEST

START_TEST(restore_goes_on_where_a_predecessor_stopped) {
  static const fake_script s[] = {{.name = "crash", .run_ms = FAKE_AT_ONCE, .exit_code = 1}, {0}};
  const char *yaml =
      POD("    podvisor.io/backoff-initial: \"200ms\"\n",
          "  containers:\n  - {name: web, image: busybox}\n  - {name: crash, image: busybox}\n");
  harness a;
  setup(&a, yaml, s);
  keeper_start(a.k, NULL, NULL);
  ck_assert(wait_fsm(&a, "crash", "Backoff", 2000));
  ck_assert(wait_fsm(&a, "web", "Running", 2000));
  char *text = json_dumps(a.last, 0);
  teardown(&a);
  /* A successor of the same pod instance, from the document its
   * predecessor left: web was running (killed with it), crash waited. */
  json_t *doc = json_loads(text, 0, NULL);
  free(text);
  ctrstate_pod prev;
  ck_assert_int_eq(status_from_json(doc, &prev, NULL), 0);
  harness b;
  setup(&b, yaml, s);
  keeper_start(b.k, &prev, doc);
  ck_assert(wait_fsm(&b, "web", "Running", 2000));
  ck_assert_int_eq(restarts_of(&b, "web"), 1);
  json_t *t =
      json_object_get(json_object_get(ctr_status(&b, "containerStatuses", "web"), "lastState"), "terminated");
  ck_assert_int_eq(json_integer_value(json_object_get(t, "exitCode")), 137);
  /* crash waits out its predecessor's deadline before its next start. */
  ck_assert_int_eq(fake_count(&b.f, "start crash#"), 0);
  ck_assert(run_until(&b, log_has, "start crash#1", 2000));
  ck_assert_int_eq(fake_count(&b.f, "start crash#0"), 0);
  json_decref(doc);
  ctrstate_pod_free(&prev);
  teardown(&b);
}
END_TEST

START_TEST(the_pod_waits_for_pending_cgroups) {
  harness h;
  setup(&h, POD(FAST, "  containers:\n  - {name: web, image: busybox}\n"), NULL);
  keeper_start(h.k, NULL, NULL);
  ck_assert(wait_fsm(&h, "web", "Running", 2000));
  h.f.pending = 3;
  keeper_stop(h.k, 100);
  ck_assert(run_until(&h, is_done, NULL, 3000));
  ck_assert_uint_eq(h.f.pending, 0); /* collected to the last before the end */
  teardown(&h);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("shim_fsm");
  TCase *tc = tcase_create("keeper");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, init_sidecar_then_app_order);
  tcase_add_test(tc, restarts_follow_the_backoff_curve);
  tcase_add_test(tc, start_limit_stops_restarts);
  tcase_add_test(tc, liveness_and_startup_failures_restart);
  tcase_add_test(tc, a_probe_kill_restarts_unless_never);
  tcase_add_test(tc, prestop_runs_then_term_then_kill_at_the_deadline);
  tcase_add_test(tc, a_failure_at_each_step);
  tcase_add_test(tc, a_dead_sandbox_fails_the_pod);
  tcase_add_test(tc, restart_and_update_through_the_api);
  tcase_add_test(tc, restore_goes_on_where_a_predecessor_stopped);
  tcase_add_test(tc, the_pod_waits_for_pending_cgroups);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
