/*
 * duration.c - Go-style durations ("1m30s") and "N/window" start limits.
 * See duration.h for the contract.  Arithmetic is in integer nanoseconds
 * (128-bit while summing, so overflow is detected rather than wrapped).
 */
#include "spec/duration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "spec/textutil.h"

typedef unsigned __int128 u128;

/* Digits of a fraction that are kept; finer digits are below a nanosecond
 * for every unit and are dropped, as Go does. */
#define FRAC_MAX_DIGITS 18

struct unit {
  const char *name;
  uint64_t ns;
};

static const struct unit units[] = {
    {"ns", 1ull},
    {"us", 1000ull},
    {"\xc2\xb5s", 1000ull}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ull}, /* U+03BC Greek small letter mu */
    {"ms", 1000000ull},
    {"s", 1000000000ull},
    {"m", 60ull * 1000000000ull},
    {"h", 3600ull * 1000000000ull},
};

static const struct unit *find_unit(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strlen(units[i].name) == n && memcmp(units[i].name, s, n) == 0)
      return &units[i];
  return NULL;
}

/* Parses one "<number><unit>" element at *p, adding its nanoseconds to
 * *total.  Returns -1 with why filled on error. */
static int parse_element(const char **p, u128 *total, const char *orig, char *why,
                         size_t whylen) {
  const char *s = *p;
  u128 whole = 0, frac = 0, scale = 1;
  bool pre = false, post = false, overflow = false;
  for (; textutil_is_digit(*s); s++) {
    pre = true;
    whole = whole * 10 + (unsigned)(*s - '0');
    if (whole > INT64_MAX)
      overflow = true, whole = (u128)INT64_MAX + 1;
  }
  if (*s == '.') {
    for (s++; textutil_is_digit(*s); s++) {
      post = true;
      if (scale < 1000000000000000000ull) {
        frac = frac * 10 + (unsigned)(*s - '0');
        scale *= 10;
      }
    }
  }
  if (!pre && !post) {
    textutil_why(why, whylen, "invalid duration '%s': expected a number", orig);
    return -1;
  }
  const char *u = s;
  while (*s && !textutil_is_digit(*s) && *s != '.')
    s++;
  if (s == u) {
    textutil_why(why, whylen, "invalid duration '%s': missing unit (ns, us, ms, s, m or h), as in '10s'",
            orig);
    return -1;
  }
  const struct unit *unit = find_unit(u, (size_t)(s - u));
  if (!unit) {
    textutil_why(why, whylen, "invalid duration '%s': unknown unit '%.*s' (use ns, us, ms, s, m or h)",
            orig, (int)(s - u > 16 ? 16 : s - u), u);
    return -1;
  }
  if (overflow || whole * unit->ns > INT64_MAX) {
    textutil_why(why, whylen, "invalid duration '%s': too large", orig);
    return -1;
  }
  *total += whole * unit->ns + frac * unit->ns / scale;
  *p = s;
  return 0;
}

int duration_parse_ms(const char *s, uint64_t *ms, char *why, size_t whylen) {
  if (!s || !*s) {
    textutil_why(why, whylen, "invalid duration '': must not be empty");
    return -1;
  }
  const char *p = s;
  if (*p == '-') {
    textutil_why(why, whylen, "invalid duration '%s': must not be negative", s);
    return -1;
  }
  if (*p == '+')
    p++;
  if (strcmp(p, "0") == 0) {
    *ms = 0;
    return 0;
  }
  if (!*p) {
    textutil_why(why, whylen, "invalid duration '%s': expected a number", s);
    return -1;
  }
  u128 total = 0;
  while (*p) {
    if (parse_element(&p, &total, s, why, whylen) < 0)
      return -1;
    if (total > INT64_MAX) {
      textutil_why(why, whylen, "invalid duration '%s': too large", s);
      return -1;
    }
  }
  *ms = (uint64_t)(total / 1000000u + (total % 1000000u != 0));
  return 0;
}

int start_limit_parse(const char *s, unsigned *count, uint64_t *window_ms, char *why,
                      size_t whylen) {
  const char *slash = s ? strchr(s, '/') : NULL;
  if (!slash || slash == s) {
    textutil_why(why, whylen,
            "invalid start limit '%s': expected \"N/window\", e.g. \"5/60s\" for at most 5 starts "
            "in 60 seconds",
            s ? s : "");
    return -1;
  }
  uint64_t n = 0;
  for (const char *p = s; p < slash; p++) {
    if (!textutil_is_digit(*p)) {
      textutil_why(why, whylen, "invalid start limit '%s': the count before '/' must be a whole number",
              s);
      return -1;
    }
    n = n * 10 + (unsigned)(*p - '0');
    if (n > SPEC_START_LIMIT_MAX) {
      textutil_why(why, whylen, "invalid start limit '%s': the count must be at most %d", s, SPEC_START_LIMIT_MAX);
      return -1;
    }
  }
  if (n == 0) {
    textutil_why(why, whylen, "invalid start limit '%s': the count must be at least 1", s);
    return -1;
  }
  uint64_t w;
  char inner[192];
  if (duration_parse_ms(slash + 1, &w, inner, sizeof inner) < 0) {
    textutil_why(why, whylen, "invalid start limit '%s': window: %s", s, inner);
    return -1;
  }
  if (w == 0) {
    textutil_why(why, whylen, "invalid start limit '%s': the window must be longer than 0", s);
    return -1;
  }
  *count = (unsigned)n;
  *window_ms = w;
  return 0;
}
