/* Unit tests for spec/quantity.c, names.c, duration.c and suggest.c: every
 * vector of ../shared/corpus/RULES.md plus edge cases. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/duration.h"
#include "spec/names.h"
#include "spec/quantity.h"
#include "spec/suggest.h"
#include "tests/testutil.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const regex_msg =
    "must match the regular expression ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

struct qcase {
  const char *in;
  const char *canonical;
  int64_t milli;
  int64_t value;
  quantity_kind kind;
};

#define DSI QUANTITY_DECIMAL_SI
#define BSI QUANTITY_BINARY_SI
#define DEX QUANTITY_DECIMAL_EXPONENT

/* Accepted vectors of RULES.md 1.3 (TestQuantityParse), with the canonical
 * form, milli value and integer value Kubernetes gives them. */
static const struct qcase accepted[] = {
    {"0", "0", 0, 0, DSI},
    {"0n", "0", 0, 0, DSI},
    {"0u", "0", 0, 0, DSI},
    {"0m", "0", 0, 0, DSI},
    {"0Ki", "0", 0, 0, BSI},
    {"0k", "0", 0, 0, DSI},
    {"0Mi", "0", 0, 0, BSI},
    {"0M", "0", 0, 0, DSI},
    {"0Gi", "0", 0, 0, BSI},
    {"0G", "0", 0, 0, DSI},
    {"0Ti", "0", 0, 0, BSI},
    {"0T", "0", 0, 0, DSI},
    {"1", "1", 1000, 1, DSI},
    {"1Ki", "1Ki", 1024000, 1024, BSI},
    {"8Ki", "8Ki", 8192000, 8192, BSI},
    {"7Mi", "7Mi", 7340032000, 7340032, BSI},
    {"6Gi", "6Gi", 6442450944000, 6442450944, BSI},
    {"5Ti", "5Ti", 5497558138880000, 5497558138880, BSI},
    {"4Pi", "4Pi", 4503599627370496000, 4503599627370496, BSI},
    {"3Ei", "3Ei", INT64_MAX, 3458764513820540928, BSI},
    {"100Ti", "100Ti", 109951162777600000, 109951162777600, BSI},
    {"4u", "4u", 1, 1, DSI},
    {"9", "9", 9000, 9, DSI},
    {"50k", "50k", 50000000, 50000, DSI},
    {"6G", "6G", 6000000000000, 6000000000, DSI},
    {"40T", "40T", 40000000000000000, 40000000000000, DSI},
    {"2P", "2P", 2000000000000000000, 2000000000000000, DSI},
    {"1E-3", "1e-3", 1, 1, DEX},
    {"1E6", "1e6", 1000000000, 1000000, DEX},
    {"1E12", "1e12", 1000000000000000, 1000000000000, DEX},
    {"1E18", "1e18", INT64_MAX, 1000000000000000000, DEX},
    {"1e13", "10e12", 10000000000000000, 10000000000000, DEX},
    {"100.035k", "100035", 100035000, 100035, DSI},
    {"0.0005k", "500m", 500, 1, DSI},
    {"0.05", "50m", 50, 1, DSI},
    {"0.5e0", "500e-3", 500, 1, DEX},
    {"0.5e-2", "5e-3", 5, 1, DEX},
    {"10.035M", "10035k", 10035000000, 10035000, DSI},
    {"1.3E+6", "1300e3", 1300000000, 1300000, DEX},
    {"1.53E12", "1530e9", 1530000000000000, 1530000000000, DEX},
    {"1.7E18", "1700e15", INT64_MAX, 1700000000000000000, DEX},
    {"8.1k", "8100", 8100000, 8100, DSI},
    {"6.987654321G", "6987654321", 6987654321000, 6987654321, DSI},
    {"40.1T", "40100G", 40100000000000000, 40100000000000, DSI},
    {"2.5P", "2500T", 2500000000000000000, 2500000000000000, DSI},
    {"3.001n", "4n", 1, 1, DSI},
    {"0.9n", "1n", 1, 1, DSI},
    {"9223372036854775807Ki", "9223372036854775807", INT64_MAX, INT64_MAX, BSI},
    {"100.035Ki", "102435840m", 102435840, 102436, BSI},
    {"0.05Gi", "53687091200m", 53687091200, 53687092, BSI},
    {".0001k", "100m", 100, 1, DSI},
    {"1.G", "1G", 1000000000000, 1000000000, DSI},
    /* Everyday corpus values. */
    {"500m", "500m", 500, 1, DSI},
    {"250m", "250m", 250, 1, DSI},
    {"125m", "125m", 125, 1, DSI},
    {"0.5", "500m", 500, 1, DSI},
    {"64Mi", "64Mi", 67108864000, 67108864, BSI},
    {"128Mi", "128Mi", 134217728000, 134217728, BSI},
    {"1Gi", "1Gi", 1073741824000, 1073741824, BSI},
    {"10Gi", "10Gi", 10737418240000, 10737418240, BSI},
    {"256000", "256k", 256000000, 256000, DSI},
    /* Canonical forms quoted in RULES.md and Kubernetes' emit tests. */
    {"1.5", "1500m", 1500, 2, DSI},
    {"1.5Gi", "1536Mi", 1610612736000, 1610612736, BSI},
    {"0.1m", "100u", 1, 1, DSI},
    {"1024Mi", "1Gi", 1073741824000, 1073741824, BSI},
    {"1000M", "1G", 1000000000000, 1000000000, DSI},
    {".001Ki", "1024m", 1024, 2, BSI},
    {".000001Ki", "1024u", 2, 1, DSI}, /* below 1: decimal */
    {".000000001Ki", "1024n", 1, 1, DSI},
    {".000000000001Ki", "2n", 1, 1, DSI}, /* rounds up, changes format */
    {"0.5Mi", "512Ki", 524288000, 524288, BSI},
    {"1025", "1025", 1025000, 1025, DSI},
    {"1.1E-9", "2e-9", 1, 1, DEX},
    {"0.00000012345", "124n", 1, 1, DSI},
    {"0.0000000005", "1n", 1, 1, DSI},
    {"9Ei", "9223372036854775807", INT64_MAX, INT64_MAX, BSI}, /* capped */
    {"9E", "9E", INT64_MAX, 9000000000000000000, DSI},
    {"1E", "1E", INT64_MAX, 1000000000000000000, DSI},
    {"1.01E", "1010P", INT64_MAX, 1010000000000000000, DSI},
    {"9223372036854775807", "9223372036854775807", INT64_MAX, INT64_MAX, DSI},
    /* Signs, leading zeros, spellings of a number. */
    {"+1", "1", 1000, 1, DSI},
    {"-1.5", "-1500m", -1500, -2, DSI},
    {"-0.9n", "-1n", -1, -1, DSI},
    {"-0", "0", 0, 0, DSI},
    {"007", "7", 7000, 7, DSI},
    {"00.5", "500m", 500, 1, DSI},
    {"1.", "1", 1000, 1, DSI},
    {".5", "500m", 500, 1, DSI},
    {"1e-0", "1", 1000, 1, DEX},
    {"1.0000000000000000000000000000000000001", "1000000001n", 1001, 2, DSI},
    {"0.000000000000000000000000000000000000000000000000000000000000000000000000001Ki", "1n",
     1, 1, DSI},
    {"1e-2147483648", "1e-9", 1, 1, DEX},
    {"-9Ei", "-9223372036854775807", INT64_MIN, -INT64_MAX, BSI},
};

/* Rejected vectors of RULES.md 1.3 and why. */
static const struct {
  const char *in;
  const char *why;
} rejected[] = {
    {"1.1.M", "must match the regular expression"},
    {"1+1.0M", "must match the regular expression"},
    {"0.1mi", "unknown suffix 'mi' (did you mean 'Mi'?)"},
    {"0.1am", "must match the regular expression"},
    {"aoeu", "must match the regular expression"},
    {".5i", "unknown suffix 'i'"},
    {"1i", "unknown suffix 'i'"},
    {"-3.01i", "unknown suffix 'i'"},
    {"-3.01e-", "unknown suffix 'e-'"},
    {" 1", "spaces are not allowed"},
    {"1 ", "spaces are not allowed"},
    {"", "must not be empty"},
    {"1.5Gi2", "unknown suffix 'Gi2'"},
    {"1K", "unknown suffix 'K' (did you mean 'k' or 'Ki'?)"},
    {"1ki", "unknown suffix 'ki' (did you mean 'Ki'?)"},
    {"5e", "unknown suffix 'e' (an exponent needs digits"},
    {"1KB", "sizes take no 'B'"},
    {"1 Gi", "spaces are not allowed"},
    {"1,5", "the decimal separator is '.'"},
    {"1g", "did you mean 'G' or 'Gi'?"},
    {"12E", "must be no more than 2^63-1"},
    {"9223372036854775808", "must be no more than 2^63-1"},
    {"9223372036854775807.1", "must be no more than 2^63-1"},
    {"1e99999999999", "out of range"},
    {"100000000000000000000000000000000000000000000000000", "must be no more than 2^63-1"},
    {"1Ee5", "unknown suffix"},
    {"1e5k", "must match the regular expression"},
};

static void parse_ok(const char *s, quantity *q) {
  char why[256] = "";
  ck_assert_msg(quantity_parse(s, q, why, sizeof why) == 0, "'%s' rejected: %s", s, why);
}

START_TEST(quantity_accepted) {
  for (size_t i = 0; i < N_ELEMS(accepted); i++) {
    const struct qcase *c = &accepted[i];
    quantity q;
    char buf[QUANTITY_FORMAT_MAX];
    parse_ok(c->in, &q);
    ck_assert_int_lt(quantity_format(&q, buf, sizeof buf), (int)sizeof buf);
    ck_assert_msg(strcmp(buf, c->canonical) == 0, "%s: canonical '%s', want '%s'", c->in, buf,
                  c->canonical);
    ck_assert_msg(quantity_milli_ceil(&q) == c->milli, "%s: milli %" PRId64 ", want %" PRId64,
                  c->in, quantity_milli_ceil(&q), c->milli);
    ck_assert_msg(quantity_value_ceil(&q) == c->value, "%s: value %" PRId64 ", want %" PRId64,
                  c->in, quantity_value_ceil(&q), c->value);
    ck_assert_msg(q.kind == c->kind, "%s: kind %d, want %d", c->in, q.kind, c->kind);
    ck_assert(!q.no_digits);
    /* The canonical form parses back to the same value. */
    quantity back;
    parse_ok(buf, &back);
    ck_assert_msg(quantity_cmp(&q, &back) == 0, "%s: '%s' does not round-trip", c->in, buf);
  }
}
END_TEST

START_TEST(quantity_rejected) {
  for (size_t i = 0; i < N_ELEMS(rejected); i++) {
    quantity q = {.units = 42};
    char why[256] = "";
    ck_assert_msg(quantity_parse(rejected[i].in, &q, why, sizeof why) == -1, "'%s' accepted",
                  rejected[i].in);
    ck_assert_msg(strstr(why, rejected[i].why), "'%s': reason '%s' lacks '%s'", rejected[i].in,
                  why, rejected[i].why);
    ck_assert_msg(q.units == 42, "output written on failure");
  }
  /* The scanner's message is the regular expression itself. */
  char why[256];
  quantity q;
  ck_assert_int_eq(quantity_parse("aoeu", &q, why, sizeof why), -1);
  ck_assert_str_eq(why, regex_msg);
  /* A NULL or tiny reason buffer is fine. */
  ck_assert_int_eq(quantity_parse("1K", &q, NULL, 0), -1);
  ck_assert_int_eq(quantity_parse("1K", &q, why, 4), -1);
  ck_assert_int_eq(strlen(why), 3);
}
END_TEST

/* Kubernetes' scanner reads a number without digits as zero. */
START_TEST(quantity_no_digits) {
  static const char *const in[] = {"M", ".", "-", "+", "Ki", "e5", "-.", ".m"};
  for (size_t i = 0; i < N_ELEMS(in); i++) {
    quantity q;
    parse_ok(in[i], &q);
    ck_assert_msg(q.no_digits, "%s", in[i]);
    ck_assert(quantity_is_zero(&q));
    ck_assert(!quantity_is_negative(&q));
  }
  quantity q;
  parse_ok("0", &q);
  ck_assert(!q.no_digits);
  parse_ok("0.", &q);
  ck_assert(!q.no_digits);
}
END_TEST

START_TEST(quantity_compare_and_round) {
  static const struct {
    const char *a, *b;
    int want;
  } cmp[] = {
      {"0", "0", 0},         {"100m", "50m", 1},     {"50m", "100m", -1},  {"10000T", "100Gi", 1},
      {"1Gi", "1073741824", 0}, {"1G", "1Gi", -1},   {"-1", "0", -1},      {"-1", "-2", 1},
      {"0", "-0", 0},        {"1.5", "1500m", 0},    {"9Ei", "9223372036854775807", 0},
      {"1n", "0", 1},        {"-1n", "0", -1},       {"0.0000000001", "1n", 0},
  };
  for (size_t i = 0; i < N_ELEMS(cmp); i++) {
    quantity a, b;
    parse_ok(cmp[i].a, &a);
    parse_ok(cmp[i].b, &b);
    ck_assert_msg(quantity_cmp(&a, &b) == cmp[i].want, "cmp(%s, %s)", cmp[i].a, cmp[i].b);
    ck_assert_msg(quantity_cmp(&b, &a) == -cmp[i].want, "cmp(%s, %s)", cmp[i].b, cmp[i].a);
  }
  quantity q;
  char buf[QUANTITY_FORMAT_MAX];
  /* Pod defaulting rounds requests and limits up to milli scale. */
  parse_ok("0.1m", &q);
  ck_assert(!quantity_round_up_milli(&q));
  quantity_format(&q, buf, sizeof buf);
  ck_assert_str_eq(buf, "1m");
  parse_ok("0.0001", &q);
  quantity_round_up_milli(&q);
  quantity_format(&q, buf, sizeof buf);
  ck_assert_str_eq(buf, "1m");
  parse_ok("1.9999999", &q);
  quantity_round_up_milli(&q);
  quantity_format(&q, buf, sizeof buf);
  ck_assert_str_eq(buf, "2");
  parse_ok("250m", &q);
  ck_assert(quantity_round_up_milli(&q));
  ck_assert_int_eq(quantity_milli_ceil(&q), 250);
  /* Negative values parse; validation decides. */
  parse_ok("-100m", &q);
  ck_assert(quantity_is_negative(&q));
  ck_assert_int_eq(quantity_milli_ceil(&q), -100);
  ck_assert_int_eq(quantity_value_ceil(&q), -1);
  /* Whole numbers, for extended resources. */
  parse_ok("2", &q);
  ck_assert(quantity_is_integer(&q));
  parse_ok("1500m", &q);
  ck_assert(!quantity_is_integer(&q));
  /* A short buffer is truncated but terminated, and the full length is returned. */
  parse_ok("123456789", &q);
  ck_assert_int_eq(quantity_format(&q, buf, 4), 9);
  ck_assert_str_eq(buf, "123");
}
END_TEST

/* Exhaustive cross-check of the exact arithmetic for small decimal values:
 * "<i>.<f>" against the value computed directly. */
START_TEST(quantity_arithmetic_sweep) {
  char in[64];
  for (int i = 0; i < 50; i++)
    for (int f = 0; f < 1000; f += 7) {
      snprintf(in, sizeof in, "%d.%03d", i, f);
      quantity q;
      parse_ok(in, &q);
      ck_assert_int_eq(quantity_milli_ceil(&q), i * 1000 + f);
      snprintf(in, sizeof in, "%d.%03dKi", i, f);
      parse_ok(in, &q);
      int64_t milli_bytes = ((int64_t)i * 1000 + f) * 1024; /* exact in milli */
      ck_assert_int_eq(quantity_milli_ceil(&q), milli_bytes);
      ck_assert_int_eq(quantity_value_ceil(&q), (milli_bytes + 999) / 1000);
    }
}
END_TEST

static void label_case(bool (*fn)(const char *, char *, size_t), const char *s, bool want,
                       const char *why_part) {
  char why[512] = "";
  bool got = fn(s, why, sizeof why);
  ck_assert_msg(got == want, "'%s': got %d (%s)", s, got, why);
  if (why_part)
    ck_assert_msg(strstr(why, why_part), "'%s': reason '%s' lacks '%s'", s, why, why_part);
}

static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  ck_assert_ptr_nonnull(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

START_TEST(names_dns) {
  const char *label_msg = "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                          "characters or '-', and must start and end with an alphanumeric "
                          "character (e.g. 'my-name', or '123-abc')";
  label_case(names_dns1123_label, "my-name", true, NULL);
  label_case(names_dns1123_label, "123-abc", true, NULL);
  label_case(names_dns1123_label, "a", true, NULL);
  label_case(names_dns1123_label, "0", true, NULL);
  label_case(names_dns1123_label, "", false, label_msg);
  label_case(names_dns1123_label, "My-Name", false, label_msg);
  label_case(names_dns1123_label, "my_name", false, label_msg);
  label_case(names_dns1123_label, "-abc", false, label_msg);
  label_case(names_dns1123_label, "abc-", false, label_msg);
  label_case(names_dns1123_label, "a.b", false, "must not contain dots");
  label_case(names_dns1123_label, "a..b", false, label_msg);
  char *s63 = repeat('a', 63), *s64 = repeat('a', 64);
  label_case(names_dns1123_label, s63, true, NULL);
  label_case(names_dns1123_label, s64, false, "must be no more than 63 characters");
  free(s63);
  free(s64);

  label_case(names_dns1123_subdomain, "example.com", true, NULL);
  label_case(names_dns1123_subdomain, "nginx-1.web", true, NULL);
  label_case(names_dns1123_subdomain, "1.2.3.4", true, NULL);
  label_case(names_dns1123_subdomain, "Example.com", false, "RFC 1123 subdomain");
  label_case(names_dns1123_subdomain, ".a", false, "RFC 1123 subdomain");
  label_case(names_dns1123_subdomain, "a.", false, "RFC 1123 subdomain");
  label_case(names_dns1123_subdomain, "a..b", false, "RFC 1123 subdomain");
  label_case(names_dns1123_subdomain, "a_b", false, "RFC 1123 subdomain");
  label_case(names_dns1123_subdomain, "a.-b", false, "RFC 1123 subdomain");
  label_case(names_dns1123_subdomain, "", false, "RFC 1123 subdomain");
  /* A 66-character pod name (the corpus' pod-with-large-name) is valid. */
  char *s66 = repeat('x', 66);
  label_case(names_dns1123_subdomain, s66, true, NULL);
  free(s66);
  char s253[254], s254[255];
  for (int i = 0; i < 253; i++)
    s253[i] = (i % 2) ? '.' : 'a';
  s253[253] = '\0';
  memcpy(s254, s253, 253);
  s254[253] = 'b';
  s254[252] = 'a';
  s254[254] = '\0';
  label_case(names_dns1123_subdomain, s253, true, NULL);
  label_case(names_dns1123_subdomain, s254, false, "must be no more than 253 characters");
}
END_TEST

START_TEST(names_ports_env_headers) {
  label_case(names_port_name, "http", true, NULL);
  label_case(names_port_name, "http-alt", true, NULL);
  label_case(names_port_name, "h2c", true, NULL);
  label_case(names_port_name, "123a", true, NULL);
  label_case(names_port_name, "abcdefghijklmno", true, NULL);
  label_case(names_port_name, "abcdefghijklmnop", false, "must be no more than 15 characters");
  label_case(names_port_name, "8080", false, "must contain at least one letter (a-z)");
  label_case(names_port_name, "HTTP", false, "must contain only alpha-numeric characters");
  label_case(names_port_name, "my_port", false, "must contain only alpha-numeric characters");
  label_case(names_port_name, "a--b", false, "must not contain consecutive hyphens");
  label_case(names_port_name, "-http", false, "must not begin or end with a hyphen");
  label_case(names_port_name, "http-", false, "must not begin or end with a hyphen");
  label_case(names_port_name, "", false, "at least one letter");

  const char *env_msg = "a valid environment variable name must consist of alphabetic characters";
  label_case(names_env_var, "PATH", true, NULL);
  label_case(names_env_var, "_x", true, NULL);
  label_case(names_env_var, "my.env-name", true, NULL);
  label_case(names_env_var, "MY_ENV.NAME", true, NULL);
  label_case(names_env_var, "MyEnvName1", true, NULL);
  label_case(names_env_var, "-x", true, NULL);
  label_case(names_env_var, "1X", false, env_msg);
  label_case(names_env_var, "A=B", false, env_msg);
  label_case(names_env_var, "A B", false, env_msg);
  label_case(names_env_var, "", false, env_msg);
  label_case(names_env_var, "caf\xc3\xa9", false, env_msg);
  label_case(names_env_var, ".", false, "must not be '.'");
  label_case(names_env_var, "..", false, "must not be '..'");
  label_case(names_env_var, "..x", false, "must not start with '..'");
  label_case(names_env_var, ".x", true, NULL);

  label_case(names_http_header, "X-Header-Name", true, NULL);
  label_case(names_http_header, "Accept", true, NULL);
  label_case(names_http_header, "X_Header", false, "a valid HTTP header");
  label_case(names_http_header, "X Header", false, "a valid HTTP header");
  label_case(names_http_header, "", false, "a valid HTTP header");
}
END_TEST

START_TEST(names_labels) {
  label_case(names_label_key, "app", true, NULL);
  label_case(names_label_key, "app.kubernetes.io/name", true, NULL);
  label_case(names_label_key, "example.com/My_Name.v1", true, NULL);
  label_case(names_label_key, "MyName", true, NULL);
  label_case(names_label_key, "a/b/c", false, "a qualified name");
  label_case(names_label_key, "/name", false, "prefix part must be non-empty");
  label_case(names_label_key, "example.com/", false, "name part must be non-empty");
  label_case(names_label_key, "Example.com/name", false, "prefix part a lowercase RFC 1123");
  label_case(names_label_key, "-app", false, "name part must consist of alphanumeric");
  label_case(names_label_key, "app_", false, "name part must consist of alphanumeric");
  label_case(names_label_key, "a b", false, "name part must consist of alphanumeric");
  char *n63 = repeat('k', 63), *n64 = repeat('k', 64);
  label_case(names_label_key, n63, true, NULL);
  label_case(names_label_key, n64, false, "name part must be no more than 63 characters");

  label_case(names_label_value, "", true, NULL);
  label_case(names_label_value, "MyValue", true, NULL);
  label_case(names_label_value, "my_value", true, NULL);
  label_case(names_label_value, "12345", true, NULL);
  label_case(names_label_value, "v1.2-beta", true, NULL);
  label_case(names_label_value, n63, true, NULL);
  label_case(names_label_value, n64, false, "must be no more than 63 characters");
  label_case(names_label_value, "-x", false, "a valid label must be an empty string");
  label_case(names_label_value, "a/b", false, "a valid label must be an empty string");
  free(n63);
  free(n64);
  /* A NULL reason buffer is fine. */
  ck_assert(!names_label_value("-x", NULL, 0));
  ck_assert(!names_dns1123_label("A", NULL, 0));
}
END_TEST

START_TEST(durations) {
  static const struct {
    const char *in;
    uint64_t ms;
  } ok[] = {
      {"0", 0},          {"200ms", 200},     {"10s", 10000},         {"1.5s", 1500},
      {"1m30s", 90000},  {"5m", 300000},     {"1h", 3600000},        {"+5s", 5000},
      {"0s", 0},         {"1ns", 1},         {"1500us", 2},          {"1000\xc2\xb5s", 1},
      {"1000\xce\xbcs", 1}, {".5s", 500},    {"1.s", 1000},          {"1h1m1s1ms", 3661001},
      {"2562047h", 2562047ull * 3600000},   {"0.000000001s", 1},     {"1.0000000000000000000001s", 1000},
  };
  for (size_t i = 0; i < N_ELEMS(ok); i++) {
    uint64_t ms = 12345;
    char why[256] = "";
    ck_assert_msg(duration_parse_ms(ok[i].in, &ms, why, sizeof why) == 0, "'%s': %s", ok[i].in,
                  why);
    ck_assert_msg(ms == ok[i].ms, "'%s': %" PRIu64 " ms, want %" PRIu64, ok[i].in, ms, ok[i].ms);
  }
  static const struct {
    const char *in, *why;
  } bad[] = {
      {"", "must not be empty"},
      {"-1s", "must not be negative"},
      {"10", "missing unit"},
      {"1.5", "missing unit"},
      {"s", "expected a number"},
      {".s", "expected a number"},
      {"+", "expected a number"},
      {"10sec", "unknown unit 'sec'"},
      {"10 s", "unknown unit ' s'"},
      {"1d", "unknown unit 'd'"},
      {"1S", "unknown unit 'S'"},
      {"2562048h", "too large"},
      {"99999999999999999999s", "too large"},
      {"2562047h47m17s", "too large"},
      {"1s.5", "missing unit"},
      {"5m!", "unknown unit 'm!'"},
  };
  for (size_t i = 0; i < N_ELEMS(bad); i++) {
    uint64_t ms = 7;
    char why[256] = "";
    ck_assert_msg(duration_parse_ms(bad[i].in, &ms, why, sizeof why) == -1, "'%s' accepted",
                  bad[i].in);
    ck_assert_msg(strstr(why, bad[i].why), "'%s': reason '%s' lacks '%s'", bad[i].in, why,
                  bad[i].why);
    ck_assert_int_eq(ms, 7);
  }
}
END_TEST

START_TEST(start_limits) {
  unsigned n = 0;
  uint64_t w = 0;
  char why[256] = "";
  ck_assert_int_eq(start_limit_parse("5/60s", &n, &w, why, sizeof why), 0);
  ck_assert_uint_eq(n, 5);
  ck_assert_uint_eq(w, 60000);
  ck_assert_int_eq(start_limit_parse("64/1s", &n, &w, why, sizeof why), 0);
  ck_assert_uint_eq(n, 64);
  ck_assert_int_eq(start_limit_parse("1/1h30m", &n, &w, why, sizeof why), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_uint_eq(w, 5400000);
  static const struct {
    const char *in, *why;
  } bad[] = {
      {"0/60s", "at least 1"},     {"5", "expected \"N/window\""}, {"/60s", "expected \"N/window\""},
      {"5/", "window: invalid duration '': must not be empty"},
      {"5/0", "longer than 0"},    {"5/0s", "longer than 0"},   {"-5/60s", "whole number"},
      {"5x/60s", "whole number"},  {"5/60", "missing unit"},    {"99999999999/60s", "at most"},
      {"65/60s", "at most 64"},
      {"5/60s/2", "unknown unit"}, {"5/-60s", "negative"},
  };
  for (size_t i = 0; i < N_ELEMS(bad); i++) {
    n = 99;
    ck_assert_msg(start_limit_parse(bad[i].in, &n, &w, why, sizeof why) == -1, "'%s' accepted",
                  bad[i].in);
    ck_assert_msg(strstr(why, bad[i].why), "'%s': reason '%s' lacks '%s'", bad[i].in, why,
                  bad[i].why);
    ck_assert_uint_eq(n, 99);
  }
}
END_TEST

static const char *const pod_spec_keys[] = {
    "containers",       "initContainers",  "restartPolicy",    "terminationGracePeriodSeconds",
    "hostname",         "subdomain",       "hostNetwork",      "shareProcessNamespace",
    "volumes",          "dnsPolicy",       "nodeSelector",     "serviceAccountName",
    "securityContext",  "affinity",        "tolerations",      "hostPID",
    "hostIPC",          "imagePullSecrets", "priorityClassName", "activeDeadlineSeconds",
};
static const char *const container_keys[] = {
    "name",         "image",          "imagePullPolicy", "command",        "args",
    "workingDir",   "env",            "ports",           "resources",      "volumeMounts",
    "livenessProbe", "readinessProbe", "startupProbe",    "lifecycle",      "securityContext",
    "stdin",        "tty",            "restartPolicy",   "envFrom",        "volumeDevices",
};

START_TEST(suggestions) {
  static const struct {
    const char *word, *want;
    int list; /* 0 pod spec keys, 1 container keys */
  } cases[] = {
      {"restartPolicy", "restartPolicy", 0}, {"restartpolicy", "restartPolicy", 0},
      {"RESTARTPOLICY", "restartPolicy", 0}, {"restartPolcy", "restartPolicy", 0},
      {"restartPolicyy", "restartPolicy", 0}, {"contianers", "containers", 0},
      {"container", "containers", 0},        {"volume", "volumes", 0},
      {"hostnetwork", "hostNetwork", 0},     {"imagePullPolicy", "imagePullPolicy", 1},
      {"imagepullpolicy", "imagePullPolicy", 1}, {"comand", "command", 1},
      {"volumeMount", "volumeMounts", 1},    {"imag", "image", 1},
      {"readinesProbe", "readinessProbe", 1}, {"volumeMount", "volumeMounts", 1},
      {"foo", NULL, 0},                      {"foo", NULL, 1},
      {"xyz", NULL, 0},                      {"", NULL, 0},
      {"spec", NULL, 0},                     {"gRPC", NULL, 1},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    const char *const *list = cases[i].list ? container_keys : pod_spec_keys;
    size_t n = cases[i].list ? N_ELEMS(container_keys) : N_ELEMS(pod_spec_keys);
    const char *got = suggest_closest(cases[i].word, list, n);
    if (cases[i].want)
      ck_assert_msg(got && strcmp(got, cases[i].want) == 0, "'%s': got '%s', want '%s'",
                    cases[i].word, got ? got : "(none)", cases[i].want);
    else
      ck_assert_msg(got == NULL, "'%s': got '%s', want none", cases[i].word, got);
  }
  /* Enum values too. */
  static const char *const policies[] = {"Always", "OnFailure", "Never"};
  ck_assert_str_eq(suggest_closest("always", policies, 3), "Always");
  ck_assert_str_eq(suggest_closest("OnFaliure", policies, 3), "OnFailure");
  ck_assert_ptr_null(suggest_closest("Sometimes", policies, 3));
  ck_assert_ptr_null(suggest_closest("x", NULL, 0));
  char *longword = repeat('a', 500);
  ck_assert_ptr_null(suggest_closest(longword, policies, 3));
  free(longword);
}
END_TEST

/* The distance limit, max(1, strlen(word) / 3), at its edge for limits 1 to
 * 4, with the word longer and shorter than the key: a word at the limit
 * gets the suggestion, one edit more gets none ("stdout" is no typo of
 * "stdin"). */
START_TEST(suggestion_distance_limit) {
  static const char *const keys[] = {"stdin", "tty", "args", "image", "command", "resources", "volumeMounts"};
  static const struct {
    const char *word, *want; /* want NULL: no suggestion */
  } cases[] = {
      /* limit 1 (up to 5 letters) */
      {"stdni", "stdin"},
      {"sdtni", NULL},
      {"argsx", "args"},
      {"ttyyy", NULL},
      {"imag", "image"},
      {"coman", NULL},
      /* limit 2 (6 to 8 letters) */
      {"stdixx", "stdin"},
      {"stdout", NULL},
      {"imagexx", "image"},
      {"imagexxx", NULL},
      {"resourc", "resources"},
      {"resour", NULL},
      /* limit 3 (9 to 11 letters) */
      {"resouxxxs", "resources"},
      {"rxsouxxxs", NULL},
      {"commandxxx", "command"},
      {"commandxxxx", NULL},
      {"volumeMou", "volumeMounts"},
      {"volumeMxu", NULL},
      /* limit 4 (12 to 14 letters) */
      {"resourcesxxxx", "resources"},
      {"resourcesxxxxx", NULL},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    const char *got = suggest_closest(cases[i].word, keys, N_ELEMS(keys));
    if (cases[i].want)
      ck_assert_msg(got && strcmp(got, cases[i].want) == 0, "'%s': got '%s', want '%s'", cases[i].word,
                    got ? got : "(none)", cases[i].want);
    else
      ck_assert_msg(got == NULL, "'%s': got 'did you mean %s?', want none", cases[i].word, got);
  }
}
END_TEST

static Suite *spec_values_suite(void) {
  Suite *s = suite_create("spec_values");
  TCase *tq = tcase_create("quantity");
  tcase_add_test(tq, quantity_accepted);
  tcase_add_test(tq, quantity_rejected);
  tcase_add_test(tq, quantity_no_digits);
  tcase_add_test(tq, quantity_compare_and_round);
  tcase_add_test(tq, quantity_arithmetic_sweep);
  suite_add_tcase(s, tq);
  TCase *tn = tcase_create("names");
  tcase_add_test(tn, names_dns);
  tcase_add_test(tn, names_ports_env_headers);
  tcase_add_test(tn, names_labels);
  suite_add_tcase(s, tn);
  TCase *td = tcase_create("durations");
  tcase_add_test(td, durations);
  tcase_add_test(td, start_limits);
  suite_add_tcase(s, td);
  TCase *tsg = tcase_create("suggest");
  tcase_add_test(tsg, suggestions);
  tcase_add_test(tsg, suggestion_distance_limit);
  suite_add_tcase(s, tsg);
  return s;
}

int main(void) { return testutil_run(spec_values_suite()); }
