/*
 * debounce.h - coalesces bursts of manifest-directory events into one scan.
 *
 * What it is for: an editor that saves by writing a temp file and renaming
 * it, or a `cp`/`mv` of many files, makes dozens of inotify events in a few
 * milliseconds.  The daemon feeds every event of its manifest directory to a
 * debouncer and scans once the burst is over: quiet_ms after the last event,
 * but never later than max_ms after the first one of the burst, so a
 * directory that never stops changing is still scanned regularly.
 *
 * Usage (the daemon's loop owns one debouncer and one uv_timer):
 *   debounce_init(&d, DEBOUNCE_QUIET_MS, DEBOUNCE_MAX_MS);
 *   on every event:  debounce_event(&d, now);  arm the timer for debounce_wait_ms(&d, now);
 *   on the timer:    if (debounce_fire(&d, now)) scan();
 *                    else if (debounce_wait_ms(&d, now) >= 0) arm the timer again;
 * An event that arrives while the scan runs opens a new burst, which makes
 * the next scan: nothing that happened after a scan started is lost.
 *
 * Contract: pure.  No clock is read; every time is a parameter in
 * milliseconds on one monotonic clock the caller chooses, and only
 * differences are used.  A time earlier than one seen before is taken as
 * equal to it (a clock never makes a burst wait longer).  No allocation.
 */
#ifndef PODVISOR_DAEMON_DEBOUNCE_H
#define PODVISOR_DAEMON_DEBOUNCE_H

#include <stdbool.h>
#include <stdint.h>

#define DEBOUNCE_QUIET_MS 100 /* a burst is over after this long without an event */
#define DEBOUNCE_MAX_MS 1000  /* ... and at most this long after its first event */

typedef struct debounce {
  uint64_t quiet_ms, max_ms;
  bool pending;      /* an event came since the last fire */
  uint64_t first_ms; /* the burst's first event */
  uint64_t last_ms;  /* the burst's latest event */
  uint64_t events;   /* events of the current burst (for the daemon's log) */
} debounce;

/* quiet_ms 0 fires at the first debounce_fire after an event; max_ms below
 * quiet_ms is raised to quiet_ms. */
void debounce_init(debounce *d, uint64_t quiet_ms, uint64_t max_ms);

/* Records one event at now. */
void debounce_event(debounce *d, uint64_t now);

/* Milliseconds from now until the scan is due: -1 when no event is
 * pending, 0 when it is due already. */
int64_t debounce_wait_ms(const debounce *d, uint64_t now);

/* True when a scan is due at now; the burst is then over (the next event
 * starts a new one).  False, changing nothing, when none is due. */
bool debounce_fire(debounce *d, uint64_t now);

#endif
