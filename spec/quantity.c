/*
 * quantity.c - exact parsing and canonical printing of Kubernetes
 * quantities.  See quantity.h for the contract.
 *
 * The scanner follows Kubernetes' parseQuantityString step by step (sign,
 * leading zeros, integer digits, optional '.', fraction digits, then a suffix
 * made of letters from "eEinumkKMGTP", an optional sign and digits), so the
 * same strings are accepted and refused.  The value is then computed in
 * nano units with 128-bit integers: the magnitude is capped at
 * (2^63-1) * 10^9 nanos, which needs 93 bits.
 */
#include "spec/quantity.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spec/textutil.h"

typedef unsigned __int128 u128;

#define NANO 1000000000u
#define MAX_NANOS ((u128)INT64_MAX * NANO)

/* Digits kept from a fraction when multiplying by 2^b; 64 >= 60 = the largest
 * b, which is enough to decide the ceiling exactly (see frac_ceil). */
#define FRAC_DIGITS 64

static const char format_msg[] =
    "must match the regular expression ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

struct suffix_def {
  const char *text;
  int exp10;       /* power of ten (decimal suffixes) */
  unsigned exp2;   /* power of two (binary suffixes), 0 for decimal */
};

static const struct suffix_def decimal_suffixes[] = {
    {"", 0, 0},   {"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0}, {"k", 3, 0},
    {"M", 6, 0},  {"G", 9, 0},  {"T", 12, 0}, {"P", 15, 0}, {"E", 18, 0},
};
static const struct suffix_def binary_suffixes[] = {
    {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};
#define NDEC (sizeof decimal_suffixes / sizeof decimal_suffixes[0])
#define NBIN (sizeof binary_suffixes / sizeof binary_suffixes[0])

/* The pieces of a scanned quantity.  Integer digits start after the leading
 * zeros, so int_d[0] is never '0'. */
struct scan {
  bool positive;
  bool any_digit;
  const char *int_d, *frac_d, *suf;
  size_t int_n, frac_n, suf_n;
};

static size_t count_digits(const char *s, size_t pos, size_t n) {
  size_t i = pos;
  while (i < n && textutil_is_digit(s[i]))
    i++;
  return i - pos;
}

/* Splits s like Kubernetes' parseQuantityString.  Returns -1 when characters
 * are left over after the suffix (Kubernetes' ErrFormatWrong). */
static int scan(const char *s, size_t n, struct scan *sc) {
  size_t pos = 0;
  memset(sc, 0, sizeof *sc);
  sc->positive = true;
  if (n > 0 && (s[0] == '-' || s[0] == '+')) {
    sc->positive = s[0] == '+';
    pos++;
  }
  while (pos < n && s[pos] == '0') {
    sc->any_digit = true;
    pos++;
  }
  sc->int_d = s + pos;
  sc->frac_d = s + pos;
  sc->suf = s + n;
  if (pos == n)
    return 0; /* only zeros (or nothing) after the sign: zero, no suffix */
  sc->int_n = count_digits(s, pos, n);
  pos += sc->int_n;
  if (pos < n && s[pos] == '.') {
    pos++;
    sc->frac_d = s + pos;
    sc->frac_n = count_digits(s, pos, n);
    pos += sc->frac_n;
  }
  if (sc->int_n + sc->frac_n > 0)
    sc->any_digit = true;
  size_t start = pos;
  while (pos < n && strchr("eEinumkKMGTP", s[pos]))
    pos++;
  if (pos < n && (s[pos] == '+' || s[pos] == '-'))
    pos++;
  pos += count_digits(s, pos, n);
  if (pos != n)
    return -1;
  sc->suf = s + start;
  sc->suf_n = n - start;
  return 0;
}

static bool suffix_is(const struct suffix_def *d, const char *s, size_t n) {
  return strlen(d->text) == n && memcmp(d->text, s, n) == 0;
}

/* Lists table suffixes the user may have meant: same letters in another
 * case ("K" -> "k", "ki" -> "Ki"), or a binary suffix missing its 'i'. */
static void suffix_hint(const char *s, size_t n, char *buf, size_t len) {
  const char *found[4];
  size_t nfound = 0;
  buf[0] = '\0';
  for (size_t i = 1; i < NDEC && nfound < 4; i++)
    if (strlen(decimal_suffixes[i].text) == n && strncasecmp(decimal_suffixes[i].text, s, n) == 0)
      found[nfound++] = decimal_suffixes[i].text;
  for (size_t i = 0; i < NBIN && nfound < 4; i++) {
    const char *t = binary_suffixes[i].text;
    bool same = n == 2 && strncasecmp(t, s, 2) == 0;
    bool no_i = n == 1 && (s[0] == t[0] || s[0] == t[0] - 'A' + 'a');
    if (same || no_i)
      found[nfound++] = t;
  }
  if (nfound == 0)
    return;
  size_t off = (size_t)snprintf(buf, len, " (did you mean ");
  for (size_t i = 0; i < nfound && off < len; i++) {
    const char *sep = i == 0 ? "" : (i + 1 == nfound ? " or " : ", ");
    off += (size_t)snprintf(buf + off, len - off, "%s'%s'", sep, found[i]);
  }
  if (off < len)
    snprintf(buf + off, len - off, "?)");
}

/* Parses the digits of a decimal exponent ("+6", "-3", "12").  Returns -1
 * when they are not an integer or fall outside int32, as Kubernetes' scale
 * is an int32. */
static int parse_exponent(const char *s, size_t n, int32_t *out) {
  size_t i = 0;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    i++;
  }
  if (i == n)
    return -1;
  int64_t v = 0;
  for (; i < n; i++) {
    if (!textutil_is_digit(s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
    if (v > (int64_t)INT32_MAX + 1)
      return -2;
  }
  if (neg)
    v = -v;
  if (v > INT32_MAX || v < INT32_MIN)
    return -2;
  *out = (int32_t)v;
  return 0;
}

/* Maps the suffix to a power of ten, a power of two and an output kind,
 * checking the tables first so that a bare "E" is exa. */
static int interpret(const char *s, size_t n, int32_t *exp10, unsigned *exp2,
                     quantity_kind *kind, char *why, size_t whylen) {
  *exp10 = 0;
  *exp2 = 0;
  for (size_t i = 0; i < NDEC; i++)
    if (suffix_is(&decimal_suffixes[i], s, n)) {
      *exp10 = decimal_suffixes[i].exp10;
      *kind = QUANTITY_DECIMAL_SI;
      return 0;
    }
  for (size_t i = 0; i < NBIN; i++)
    if (suffix_is(&binary_suffixes[i], s, n)) {
      *exp2 = binary_suffixes[i].exp2;
      *kind = QUANTITY_BINARY_SI;
      return 0;
    }
  if (n > 1 && (s[0] == 'e' || s[0] == 'E')) {
    int rc = parse_exponent(s + 1, n - 1, exp10);
    if (rc == 0) {
      *kind = QUANTITY_DECIMAL_EXPONENT;
      return 0;
    }
    if (rc == -2) {
      textutil_why(why, whylen, "exponent '%.*s' is out of range", (int)(n - 1), s + 1);
      return -1;
    }
  }
  char hint[96];
  if ((s[0] == 'e' || s[0] == 'E') && (n == 1 || !strchr("iI", s[1])))
    snprintf(hint, sizeof hint, " (an exponent needs digits, as in '1e3')");
  else
    suffix_hint(s, n, hint, sizeof hint);
  textutil_why(why, whylen, "unknown suffix '%.*s'%s", (int)(n > 32 ? 32 : n), s, hint);
  return -1;
}

/* Explains a string the scanner refused, with a hint for the usual slips:
 * spaces, a decimal comma, a byte unit ("1KB") or a lower-case suffix
 * letter outside the suffix alphabet ("1g"). */
static void format_error(const char *s, size_t n, char *why, size_t whylen) {
  char hint[96] = "";
  size_t i = n > 0 && (s[0] == '+' || s[0] == '-');
  i += count_digits(s, i, n);
  if (i < n && s[i] == '.')
    i += 1 + count_digits(s, i + 1, n);
  size_t letters = i;
  while (letters < n && ((s[letters] >= 'a' && s[letters] <= 'z') || (s[letters] >= 'A' && s[letters] <= 'Z')))
    letters++;
  if (memchr(s, ' ', n) || memchr(s, '\t', n))
    snprintf(hint, sizeof hint, " (spaces are not allowed)");
  else if (memchr(s, ',', n))
    snprintf(hint, sizeof hint, " (the decimal separator is '.')");
  else if (letters > i && strchr("bB", s[letters - 1]))
    snprintf(hint, sizeof hint, " (sizes take no 'B': write '512Mi' or '1G')");
  else if (letters == n && letters > i && letters - i <= 2)
    suffix_hint(s + i, letters - i, hint, sizeof hint);
  textutil_why(why, whylen, "%s%s", format_msg, hint);
}

/* Digit k of the number's digits (integer digits, then fraction digits);
 * 0 outside them. */
static unsigned digit_k(const struct scan *sc, int64_t k) {
  if (k < 0)
    return 0;
  if ((uint64_t)k < sc->int_n)
    return (unsigned)(sc->int_d[k] - '0');
  k -= (int64_t)sc->int_n;
  if ((uint64_t)k < sc->frac_n)
    return (unsigned)(sc->frac_d[k] - '0');
  return 0;
}

/* Digit whose place value is 10^p nanos; top is the place of digit 0. */
static unsigned digit_at(const struct scan *sc, int64_t top, int64_t p) {
  return digit_k(sc, top - p);
}

/* ceil(0.F * 2^b) where F are the digits at places -1, -2, ... (tail says
 * whether non-zero digits exist beyond FRAC_DIGITS places).  Truncating F
 * to t >= b digits gives a = R*2^b/10^t, whose distance to the next integer
 * is either 0 or at least 2^b/10^t, the most the dropped digits can add; so
 * the ceiling is ceil(a), or a + 1 when a is whole and the tail is not 0. */
static u128 frac_ceil(const struct scan *sc, int64_t top, unsigned b, bool tail) {
  unsigned char d[FRAC_DIGITS];
  for (int i = 0; i < FRAC_DIGITS; i++)
    d[i] = (unsigned char)digit_at(sc, top, -1 - i);
  u128 carry = 0;
  bool rest = tail;
  for (int i = FRAC_DIGITS - 1; i >= 0; i--) {
    u128 v = ((u128)d[i] << b) + carry;
    if (v % 10 != 0)
      rest = true;
    carry = v / 10;
  }
  return carry + (rest ? 1 : 0);
}

/* The magnitude in nanos, rounded up.  Returns -1 when it exceeds
 * MAX_NANOS (*nanos is then MAX_NANOS). */
static int magnitude(const struct scan *sc, int32_t exp10, unsigned exp2, u128 *nanos) {
  size_t total = sc->int_n + sc->frac_n;
  size_t first = 0, last = total;
  while (first < total && digit_k(sc, (int64_t)first) == 0)
    first++;
  *nanos = 0;
  if (first == total)
    return 0;
  while (last > first && digit_k(sc, (int64_t)last - 1) == 0)
    last--;
  /* Place of the first integer digit, then of the first and last non-zero
   * digits (index k has place top - k). */
  int64_t top = (int64_t)sc->int_n - 1 + exp10 + 9;
  int64_t p_hi = top - (int64_t)first, p_lo = top - (int64_t)(last - 1);
  if (p_hi >= 29) /* >= 10^28 nanos, beyond MAX_NANOS (9.2e27) */
    goto too_big;
  u128 whole = 0;
  for (int64_t p = p_hi; p >= 0; p--)
    whole = whole * 10 + digit_at(sc, top, p);
  if (whole > (MAX_NANOS >> exp2) + 1)
    goto too_big;
  u128 t = whole << exp2;
  if (p_lo < 0)
    t += frac_ceil(sc, top, exp2, p_lo < -FRAC_DIGITS);
  if (t > MAX_NANOS)
    goto too_big;
  *nanos = t;
  return 0;
too_big:
  *nanos = MAX_NANOS;
  return -1;
}

int quantity_parse(const char *s, quantity *out, char *why, size_t whylen) {
  if (!s || !*s) {
    textutil_why(why, whylen, "must not be empty");
    return -1;
  }
  size_t n = strlen(s);
  struct scan sc;
  if (scan(s, n, &sc) < 0) {
    format_error(s, n, why, whylen);
    return -1;
  }
  int32_t exp10;
  unsigned exp2;
  quantity_kind kind;
  if (interpret(sc.suf, sc.suf_n, &exp10, &exp2, &kind, why, whylen) < 0)
    return -1;
  u128 t;
  if (magnitude(&sc, exp10, exp2, &t) < 0 && kind != QUANTITY_BINARY_SI) {
    textutil_why(why, whylen, "must be no more than 2^63-1 (9223372036854775807) in magnitude");
    return -1;
  }
  /* Kubernetes prints a binary value between 0 and 1 in decimal form. */
  if (kind == QUANTITY_BINARY_SI && t > 0 && t < NANO)
    kind = QUANTITY_DECIMAL_SI;
  out->negative = !sc.positive && t != 0;
  out->no_digits = !sc.any_digit;
  out->units = (uint64_t)(t / NANO);
  out->nanos = (uint32_t)(t % NANO);
  out->kind = kind;
  return 0;
}

static u128 total_nanos(const quantity *q) { return (u128)q->units * NANO + q->nanos; }

static int64_t signed_saturate(u128 mag, bool negative) {
  if (!negative)
    return mag > INT64_MAX ? INT64_MAX : (int64_t)mag;
  if (mag >= (u128)INT64_MAX + 1)
    return INT64_MIN;
  return -(int64_t)mag;
}

int64_t quantity_milli_ceil(const quantity *q) {
  u128 t = total_nanos(q);
  u128 milli = t / 1000000u + (t % 1000000u != 0);
  return signed_saturate(milli, q->negative);
}

int64_t quantity_value_ceil(const quantity *q) {
  return signed_saturate((u128)q->units + (q->nanos != 0), q->negative);
}

int quantity_cmp(const quantity *a, const quantity *b) {
  int sa = quantity_is_zero(a) ? 0 : (a->negative ? -1 : 1);
  int sb = quantity_is_zero(b) ? 0 : (b->negative ? -1 : 1);
  if (sa != sb)
    return sa < sb ? -1 : 1;
  u128 ta = total_nanos(a), tb = total_nanos(b);
  int c = ta == tb ? 0 : (ta < tb ? -1 : 1);
  return sa < 0 ? -c : c;
}

bool quantity_is_negative(const quantity *q) { return q->negative && !quantity_is_zero(q); }

bool quantity_is_zero(const quantity *q) { return q->units == 0 && q->nanos == 0; }

bool quantity_is_integer(const quantity *q) { return q->nanos == 0; }

bool quantity_round_up_milli(quantity *q) {
  uint32_t r = q->nanos % 1000000u;
  if (r == 0)
    return true;
  q->nanos += 1000000u - r;
  if (q->nanos >= NANO) {
    q->nanos -= NANO;
    q->units++;
  }
  return false;
}

/* Decimal digits of v into buf (at least 40 bytes). */
static void u128_str(u128 v, char *buf) {
  char tmp[40];
  int i = 0;
  do {
    tmp[i++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v);
  for (int j = 0; j < i; j++)
    buf[j] = tmp[i - 1 - j];
  buf[i] = '\0';
}

int quantity_format(const quantity *q, char *buf, size_t len) {
  u128 t = total_nanos(q);
  char digits[40];
  const char *sign = q->negative && t != 0 ? "-" : "";
  if (t == 0)
    return snprintf(buf, len, "0");
  /* A binary value prints with Ki..Ei only when it is whole and at least
   * 1024; otherwise Kubernetes falls back to the decimal form. */
  if (q->kind == QUANTITY_BINARY_SI && q->nanos == 0 && q->units >= 1024) {
    uint64_t v = q->units;
    size_t k = 0;
    while (v % 1024 == 0 && k < NBIN) {
      v /= 1024;
      k++;
    }
    u128_str(v, digits);
    return snprintf(buf, len, "%s%s%s", sign, digits, k ? binary_suffixes[k - 1].text : "");
  }
  /* Move factors of ten into the exponent, then lower the exponent to a
   * multiple of three: the largest suffix that loses nothing. */
  int e = -9;
  while (t % 10 == 0) {
    t /= 10;
    e++;
  }
  while (e % 3 != 0) {
    t *= 10;
    e--;
  }
  u128_str(t, digits);
  char suffix[16] = "";
  if (q->kind == QUANTITY_DECIMAL_EXPONENT || e > 18) {
    if (e != 0)
      snprintf(suffix, sizeof suffix, "e%d", e);
  } else {
    for (size_t i = 0; i < NDEC; i++)
      if (decimal_suffixes[i].exp10 == e)
        snprintf(suffix, sizeof suffix, "%s", decimal_suffixes[i].text);
  }
  return snprintf(buf, len, "%s%s%s", sign, digits, suffix);
}
