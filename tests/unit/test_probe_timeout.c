/* Unit tests for supervisor/shim/probe.c timeouts and restarts: an exec
 * probe whose process does not die at once still fails at its timeout, and a
 * probe cannot be restarted while its handles are closing. */
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "supervisor/shim/probe.h"
#include "tests/testutil.h"

static int results, failures, closed;

/* The "probe process" is pid 1 of the host: SIGKILL does not end it (init
 * ignores it; without privileges the signal is refused), so a probe that
 * waited for it to die would never report the timeout. */
static int exec_init(void *ctx, probe *p, char *const *argv, int *pidfd) {
  (void)ctx;
  (void)p;
  (void)argv;
  *pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
  return *pidfd < 0 ? -1 : 0;
}

static void on_result(void *ctx, probe *p, probe_state st) {
  (void)p;
  results++;
  if (st == PROBE_FAILURE) {
    failures++;
    uv_stop(ctx);
  }
}

static void on_closed(void *ctx, probe *p) {
  (void)ctx;
  (void)p;
  closed++;
}

static void on_guard(uv_timer_t *t) {
  uv_stop(t->loop);
}

START_TEST(exec_timeout_fails_without_waiting_for_the_process) {
  uv_loop_t loop;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  static char *argv[] = {"true", NULL};
  probe_spec ps = {.kind = PROBE_KIND_EXEC,
                   .argv = argv,
                   .period_ms = 50,
                   .timeout_ms = 100,
                   .success_threshold = 1,
                   .failure_threshold = 1};
  probe_callbacks cb = {.exec = exec_init, .result = on_result};
  static probe p;
  ck_assert_int_eq(probe_start(&p, &loop, &ps, &cb, &loop, 0), 0);
  uv_timer_t guard;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 2000, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(failures, 1);
  /* Stopping closes everything; a restart is refused until it has. */
  probe_stop(&p, on_closed);
  ck_assert(probe_closing(&p));
  ck_assert_int_eq(probe_start(&p, &loop, &ps, &cb, &loop, 0), -1);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed, 1);
  ck_assert(!probe_closing(&p));
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("probe_timeout");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 10);
  tcase_add_test(tc, exec_timeout_fails_without_waiting_for_the_process);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
