/* debounce.c - one scan per burst of directory events (see debounce.h). */
#include "supervisor/daemon/debounce.h"

void debounce_init(debounce *d, uint64_t quiet_ms, uint64_t max_ms) {
  *d = (debounce){.quiet_ms = quiet_ms, .max_ms = max_ms < quiet_ms ? quiet_ms : max_ms};
}

void debounce_event(debounce *d, uint64_t now) {
  if (!d->pending) {
    d->pending = true;
    d->first_ms = now;
    d->last_ms = now;
    d->events = 0;
  } else if (now > d->last_ms) {
    d->last_ms = now;
  }
  d->events++;
}

/* When the burst's scan is due: quiet after the last event, capped by the
 * longest wait after the first. */
static uint64_t due_at(const debounce *d) {
  uint64_t quiet = d->last_ms + d->quiet_ms;
  uint64_t cap = d->first_ms + d->max_ms;
  return quiet < cap ? quiet : cap;
}

int64_t debounce_wait_ms(const debounce *d, uint64_t now) {
  if (!d->pending)
    return -1;
  uint64_t due = due_at(d);
  return now >= due ? 0 : (int64_t)(due - now);
}

bool debounce_fire(debounce *d, uint64_t now) {
  if (!d->pending || now < due_at(d))
    return false;
  d->pending = false;
  return true;
}
