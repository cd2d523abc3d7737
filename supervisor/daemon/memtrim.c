/* memtrim.c - malloc_trim once a burst of the loop's work is over (see memtrim.h). */
#include <malloc.h>

#include "supervisor/daemon/memtrim.h"

static void on_trim(uv_timer_t *t) {
  memtrim *m = t->data;
  (void)malloc_trim(0);
  m->trims++;
  m->just_trimmed = true;
}

static void on_prepare(uv_prepare_t *h) {
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
  uv_prepare_init(loop, &m->prepare);
  uv_timer_init(loop, &m->timer);
  m->prepare.data = m->timer.data = m;
  uv_unref((uv_handle_t *)&m->prepare);
  uv_unref((uv_handle_t *)&m->timer);
  uv_prepare_start(&m->prepare, on_prepare);
}

void memtrim_close(memtrim *m) {
  if (!uv_is_closing((uv_handle_t *)&m->prepare))
    uv_close((uv_handle_t *)&m->prepare, NULL);
  if (!uv_is_closing((uv_handle_t *)&m->timer))
    uv_close((uv_handle_t *)&m->timer, NULL);
}
