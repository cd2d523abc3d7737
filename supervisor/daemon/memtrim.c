/* memtrim.c - malloc_trim once a burst of the loop's work is over (see memtrim.h). */
#include <malloc.h>

#include "supervisor/daemon/memtrim.h"

static void on_trim(uv_timer_t *t) {
  memtrim *m = t->data;
  (void)malloc_trim(0);
  m->trims++;
  m->just_trimmed = true;
}

static void on_check(uv_check_t *h) {
  memtrim *m = h->data;
  if (m->just_trimmed) {
    m->just_trimmed = false;
    return;
  }
  if (!uv_is_active((uv_handle_t *)&m->timer))
    uv_timer_start(&m->timer, on_trim, m->delay_ms, 0);
}

void memtrim_init(memtrim *m, uv_loop_t *loop, uint64_t delay_ms) {
  *m = (memtrim){.delay_ms = delay_ms};
  uv_check_init(loop, &m->check);
  uv_timer_init(loop, &m->timer);
  m->check.data = m->timer.data = m;
  uv_unref((uv_handle_t *)&m->check);
  uv_unref((uv_handle_t *)&m->timer);
  uv_check_start(&m->check, on_check);
}

void memtrim_close(memtrim *m) {
  if (!uv_is_closing((uv_handle_t *)&m->check))
    uv_close((uv_handle_t *)&m->check, NULL);
  if (!uv_is_closing((uv_handle_t *)&m->timer))
    uv_close((uv_handle_t *)&m->timer, NULL);
}
