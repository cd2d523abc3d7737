/* Unit tests for supervisor/daemon/memtrim.c: the heap freed by a burst of
 * the loop's work goes back to the system, once per burst, never while the
 * loop sleeps. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "supervisor/daemon/memtrim.h"
#include "tests/testutil.h"

#define BLOCKS 20000 /* of 1 kB: 20 MB of small allocations, below mmap's threshold */

static long rss_kb(void) {
  long pages = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f != NULL) {
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
      rss = 0;
    fclose(f);
  }
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

typedef struct burst {
  char **blocks;
  long rss_freed;       /* right after the burst freed its blocks */
  uint64_t trims_after; /* trims seen by the stop timer */
  memtrim *m;
} burst;

static void on_burst(uv_timer_t *t) {
  burst *b = t->data;
  /* Every 64th block stays: the free runs between them are no top of the
   * heap that free() could give back itself. */
  for (int i = 0; i < BLOCKS; i++)
    if (i % 64 != 0)
      free(b->blocks[i]);
  b->rss_freed = rss_kb();
}

static void on_stop(uv_timer_t *t) {
  burst *b = t->data;
  b->trims_after = b->m->trims;
}

START_TEST(an_idle_loop_is_not_kept_alive) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  memtrim m;
  memtrim_init(&m, &loop, 10);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0); /* returns: nothing holds the loop */
  memtrim_close(&m);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(a_burst_gives_its_heap_back_once) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  memtrim m;
  memtrim_init(&m, &loop, 20);
  burst b = {.m = &m};
  b.blocks = malloc(BLOCKS * sizeof *b.blocks);
  ck_assert_ptr_nonnull(b.blocks);
  for (int i = 0; i < BLOCKS; i++) {
    b.blocks[i] = malloc(1024);
    ck_assert_ptr_nonnull(b.blocks[i]);
    for (int j = 0; j < 1024; j += 64)
      b.blocks[i][j] = (char)j; /* resident */
  }
  uv_timer_t work, stop;
  uv_timer_init(&loop, &work);
  uv_timer_init(&loop, &stop);
  work.data = stop.data = &b;
  uv_timer_start(&work, on_burst, 5, 0);
  uv_timer_start(&stop, on_stop, 300, 0); /* well after the trim, long after the burst */
  uv_run(&loop, UV_RUN_DEFAULT);
  long rss_after = rss_kb();
  /* One trim for the burst; the trim's own iteration and the quiet time
   * after it made none. */
  ck_assert_uint_eq(b.trims_after, 1);
#ifndef __SANITIZE_ADDRESS__ /* AddressSanitizer's allocator keeps what is freed (its quarantine) */
  ck_assert_msg(b.rss_freed - rss_after > BLOCKS / 2, "rss %ld kB after the free, %ld kB after the trim",
                b.rss_freed, rss_after);
#else
  (void)rss_after;
#endif
  for (int i = 0; i < BLOCKS; i += 64)
    free(b.blocks[i]);
  free(b.blocks);
  uv_close((uv_handle_t *)&work, NULL);
  uv_close((uv_handle_t *)&stop, NULL);
  memtrim_close(&m);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

typedef struct busy {
  int ticks;
  uv_timer_t t;
} busy;

static void on_tick(uv_timer_t *t) {
  busy *b = t->data;
  if (++b->ticks == 40)
    uv_timer_stop(t);
}

START_TEST(steady_work_trims_at_most_once_per_delay) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  memtrim m;
  memtrim_init(&m, &loop, 50);
  busy b = {0};
  uv_timer_init(&loop, &b.t);
  b.t.data = &b;
  uint64_t t0 = uv_hrtime();
  uv_timer_start(&b.t, on_tick, 5, 5); /* 40 ticks, 5 ms apart: about 200 ms of work */
  uv_run(&loop, UV_RUN_DEFAULT);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  /* Trimmed while the work went on (not pushed back by every tick), but
   * no more often than every 50 ms. */
  ck_assert_uint_ge(m.trims, 1);
  ck_assert_uint_le(m.trims, ms / 50 + 1);
  uv_close((uv_handle_t *)&b.t, NULL);
  memtrim_close(&m);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("memtrim");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, an_idle_loop_is_not_kept_alive);
  tcase_add_test(tc, a_burst_gives_its_heap_back_once);
  tcase_add_test(tc, steady_work_trims_at_most_once_per_delay);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
