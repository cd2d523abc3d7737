/*
 * fuzz_values.c - libFuzzer target for the pure value helpers of spec/:
 * quantities, names, durations, start limits and suggestions.
 *
 * Besides crashes it checks properties: a parsed quantity's canonical form
 * parses back to the same value, is itself canonical, and its integer views
 * agree with each other.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/duration.h"
#include "spec/names.h"
#include "spec/quantity.h"
#include "spec/suggest.h"

static void check_quantity(const char *s) {
  quantity q, back;
  char why[256], text[QUANTITY_FORMAT_MAX], again[QUANTITY_FORMAT_MAX];
  if (quantity_parse(s, &q, why, sizeof why) < 0) {
    if (why[0] == '\0')
      __builtin_trap(); /* every refusal says why */
    return;
  }
  if (q.nanos >= 1000000000u || q.units > INT64_MAX || (q.units == INT64_MAX && q.nanos))
    __builtin_trap();
  if (quantity_format(&q, text, sizeof text) >= (int)sizeof text)
    __builtin_trap();
  if (quantity_parse(text, &back, why, sizeof why) < 0 || quantity_cmp(&q, &back) != 0)
    __builtin_trap();
  quantity_format(&back, again, sizeof again);
  if (strcmp(text, again) != 0)
    __builtin_trap();
  int64_t milli = quantity_milli_ceil(&q), value = quantity_value_ceil(&q);
  if ((milli < 0) != quantity_is_negative(&q) && milli != 0)
    __builtin_trap();
  if (milli > 0 && milli < INT64_MAX && (value - 1) * 1000 >= milli)
    __builtin_trap(); /* value is the ceiling of milli / 1000 */
  quantity r = q;
  quantity_round_up_milli(&r);
  if (quantity_cmp(&r, &q) * (quantity_is_negative(&q) ? -1 : 1) < 0)
    __builtin_trap(); /* rounding the magnitude up never shrinks it */
}

static const char *const keys[] = {"containers", "initContainers", "restartPolicy", "volumes",
                                   "hostNetwork", "imagePullPolicy", "volumeMounts", "command"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0;
  char *s = malloc(size + 1);
  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  char why[512];
  uint64_t ms;
  unsigned count;
  check_quantity(s);
  names_dns1123_label(s, why, sizeof why);
  names_dns1123_subdomain(s, why, sizeof why);
  names_port_name(s, why, sizeof why);
  names_env_var(s, why, sizeof why);
  names_label_key(s, why, sizeof why);
  names_label_value(s, why, sizeof why);
  names_http_header(s, why, sizeof why);
  if (names_dns1123_label(s, NULL, 0) && !names_dns1123_subdomain(s, NULL, 0))
    __builtin_trap(); /* every label is a subdomain */
  if (duration_parse_ms(s, &ms, why, sizeof why) == 0 && ms > INT64_MAX / 1000000 + 1)
    __builtin_trap();
  start_limit_parse(s, &count, &ms, why, sizeof why);
  const char *best = suggest_closest(s, keys, sizeof keys / sizeof keys[0]);
  if (best && strlen(s) == 0)
    __builtin_trap();
  free(s);
  return 0;
}
