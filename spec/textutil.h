/*
 * textutil.h - small text helpers shared by the spec value parsers
 * (duration.c, quantity.c, names.c, ytree.c).
 *
 * The parsers report why a value is refused into a caller-owned buffer
 * (why, whylen) that may be absent; textutil_why() fills it when present.
 * Digits are tested by hand rather than with isdigit(), whose answer
 * depends on the locale and which takes an int, not a possibly negative
 * char.  Pure functions: no allocation, nothing blocks.
 */
#ifndef PODVISOR_SPEC_TEXTUTIL_H
#define PODVISOR_SPEC_TEXTUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* vsnprintf into why[0..whylen) when why is not NULL and whylen > 0;
 * otherwise nothing. */
void textutil_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* '0'..'9' only. */
static inline bool textutil_is_digit(char c) {
  return c >= '0' && c <= '9';
}

#endif
