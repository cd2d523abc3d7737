/*
 * quantity.h - Kubernetes resource quantities ("500m", "1.5Gi", "1e3").
 *
 * What it is for: parse the values of resources.requests/limits and
 * emptyDir.sizeLimit exactly as Kubernetes' resource.ParseQuantity does, and
 * give them back as integers (millicores, bytes) or in Kubernetes' canonical
 * text form.  Pure functions: no allocation, no I/O, nothing blocks.
 *
 * Grammar (spec/REFERENCE.md and ../shared/corpus/RULES.md section 1):
 *   [+-] digits [. digits] suffix
 *   suffix: "" n u m k M G T P E | Ki Mi Gi Ti Pi Ei | e<int> E<int>
 * A bare "E" is exa; "E" or "e" followed by an optionally signed integer is
 * a decimal exponent.  No whitespace anywhere (the manifest parser has already
 * removed YAML quoting; a YAML number such as 0.5 arrives as the text "0.5").
 *
 * Arithmetic is exact (no floating point).  The value is kept at nano
 * precision; anything finer is rounded up, away from zero, as Kubernetes
 * does ("3.001n" is 4n, "0.9n" is 1n).  The magnitude is at most 2^63-1:
 * binary-suffixed values above it are capped (Kubernetes caps "9Ei"), and a
 * larger decimal value is refused.  Kubernetes itself keeps such decimal
 * values as big decimals; no host has 2^63 bytes or cores, so podvisor
 * reports them instead of carrying a number nothing can use.
 *
 * Quirk kept on purpose: Kubernetes' scanner accepts a number with no digits
 * at all ("M", ".", "-", "Ki") and reads it as zero.  So does podvisor, for
 * compatibility, and it marks the result with no_digits so a validator can
 * warn about it.
 */
#ifndef PODVISOR_SPEC_QUANTITY_H
#define PODVISOR_SPEC_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a quantity is written back, remembered from its suffix. */
typedef enum quantity_kind {
  QUANTITY_DECIMAL_SI = 0,   /* 12M, 500m, 3 */
  QUANTITY_BINARY_SI,        /* 12Mi */
  QUANTITY_DECIMAL_EXPONENT, /* 12e6 */
} quantity_kind;

/* The value is (negative ? -1 : 1) * (units + nanos / 1e9).  Zero is never
 * negative.  units <= INT64_MAX, and units == INT64_MAX implies nanos == 0. */
typedef struct quantity {
  bool negative;
  bool no_digits;     /* written without any digit ("M", "."): read as zero */
  uint64_t units;     /* whole part of the magnitude */
  uint32_t nanos;     /* fractional part in 1e-9 steps, 0..999999999 */
  quantity_kind kind; /* output format */
} quantity;

/* Longest text quantity_format produces, NUL included. */
#define QUANTITY_FORMAT_MAX 48

/* Parses s.  Returns 0, or -1 with a plain reason in why (when why is not
 * NULL): "unknown suffix 'K' (did you mean 'k' or 'Ki'?)", or "must match
 * the regular expression ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$".
 * *out is written only on success. */
int quantity_parse(const char *s, quantity *out, char *why, size_t whylen);

/* ceil(value * 1000) rounded away from zero like Kubernetes' MilliValue,
 * saturating at INT64_MAX / INT64_MIN. */
int64_t quantity_milli_ceil(const quantity *q);

/* The value rounded away from zero to an integer (Kubernetes' Value()). */
int64_t quantity_value_ceil(const quantity *q);

/* -1, 0 or 1 as a is less than, equal to or greater than b. */
int quantity_cmp(const quantity *a, const quantity *b);

bool quantity_is_negative(const quantity *q);
bool quantity_is_zero(const quantity *q);

/* True when the value has no fractional part (extended resources must be
 * whole numbers). */
bool quantity_is_integer(const quantity *q);

/* Rounds the magnitude up to milli precision, as Kubernetes' pod defaulting
 * does for every container request and limit (SetDefaults_ResourceList:
 * "0.1m" is stored as "1m").  Returns true when nothing was lost. */
bool quantity_round_up_milli(quantity *q);

/* Writes Kubernetes' canonical form: no fractional digits, the largest
 * suffix that loses nothing, the suffix family of the input ("1.5" is
 * "1500m", "1.5Gi" is "1536Mi", "1e3" stays "1e3", "0.1m" is "100u" and,
 * after quantity_round_up_milli, "1m").  Returns the length written, like
 * snprintf; buf is always NUL-terminated when len > 0. */
int quantity_format(const quantity *q, char *buf, size_t len);

#endif
