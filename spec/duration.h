/*
 * duration.h - durations and start limits for podvisor's annotations.
 *
 * What it is for: the values of podvisor.io/backoff-initial, backoff-max,
 * backoff-reset ("200ms", "10s", "1m30s") and podvisor.io/start-limit
 * ("5/60s").  The syntax is Go's time.ParseDuration, which Kubernetes users
 * already know from kubelet flags: a sequence of decimal numbers, each with
 * an optional fraction and a unit (ns, us, µs, ms, s, m, h); "0" alone needs
 * no unit.  Negative durations are refused (a negative backoff means
 * nothing), as are values beyond Go's limit of 2^63-1 nanoseconds.
 *
 * Results are in milliseconds, rounded up so that a non-zero duration never
 * becomes zero.  Pure functions: no allocation, nothing blocks.
 */
#ifndef PODVISOR_SPEC_DURATION_H
#define PODVISOR_SPEC_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into *ms.  Returns 0, or -1 with a plain reason in why. */
int duration_parse_ms(const char *s, uint64_t *ms, char *why, size_t whylen);

/* The largest N of a start limit: the shim remembers that many start times
 * per container (supervisor/shim/backoff.h, BACKOFF_LIMIT_MAX). */
#define SPEC_START_LIMIT_MAX 64

/* Parses "N/window": 1 <= N <= SPEC_START_LIMIT_MAX starts allowed within a
 * window > 0 ("5/60s").  Returns 0, or -1 with a plain reason in why. */
int start_limit_parse(const char *s, unsigned *count, uint64_t *window_ms, char *why,
                      size_t whylen);

#endif
