/* Unit tests for supervisor/proto/podjson: strings through the round trip.
 * JSON and YAML escape differently, and libyaml reads only part of what
 * JSON allows; every string a manifest can hold must come back byte for
 * byte, and an empty string must stay apart from an absent field where the
 * model keeps them apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/proto/podjson.h"
#include "tests/roundtrip.h"
#include "tests/testutil.h"

#define HEAD "apiVersion: v1\nkind: Pod\n"

/* Values as YAML double-quoted text: quotes, backslashes, line breaks of both
 * languages, control characters, characters libyaml takes only escaped,
 * non-BMP characters, and strings a YAML reader would take for another type
 * if they lost their quotes. */
static const char *const odd[] = {
    "say \\\"hi\\\"",
    "back\\\\slash \\\\n \\\\u00e9",
    "two\\nlines\\n",
    "\\ttab\\tin\\t",
    "cr\\r\\nlf",
    "caf\\u00e9 \\u00fc\\u00df \\u4e2d\\u6587",
    "emoji \\U0001F600 clef \\U0001D11E",
    "/a/b/ <\\/script>",
    "del \\x7f c1 \\x80 \\x9f nel \\N nbsp \\_",
    "ls \\L ps \\P bom \\uFEFF",
    "nonchars \\uFFFE \\uFFFF",
    "ctl \\x01 \\x1f \\e \\a \\b \\v \\f",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "1",
    "-1",
    "0x1F",
    "0o17",
    "1e3",
    ".inf",
    ".nan",
    "null",
    "~",
    "true",
    "False",
    "",
    " ",
    " lead",
    "trail ",
    "#not a comment",
    "key: value",
    "- item",
    "&anchor",
    "*alias",
    "!!str",
    "%TAG",
    "@at",
    "`tick",
    "{a: 1}",
    "[1, 2]",
    "'single'",
    "\\\"",
    ",",
    "?",
    "|",
    ">",
    "---",
    "...",
    "<<",
    "=",
    "$(MODE)",
    "$$(MODE)",
};
#define N_ODD (sizeof odd / sizeof odd[0])

static char *odd_manifest(const char *long_value) {
  size_t cap = 1 << 20, n = 0;
  char *y = malloc(cap);
  ck_assert_ptr_nonnull(y);
  n += (size_t)snprintf(y + n, cap - n, HEAD "metadata:\n  name: odd\n  annotations:\n");
  for (size_t i = 0; i < N_ODD; i++)
    n += (size_t)snprintf(y + n, cap - n, "    a%zu: \"%s\"\n", i, odd[i]);
  n += (size_t)snprintf(y + n, cap - n, "    long: \"%s\"\n", long_value);
  n += (size_t)snprintf(y + n, cap - n,
                        "spec:\n  containers:\n  - name: c\n    image: busybox\n    command:\n");
  for (size_t i = 0; i < N_ODD; i++)
    n += (size_t)snprintf(y + n, cap - n, "    - \"%s\"\n", odd[i]);
  n += (size_t)snprintf(y + n, cap - n, "    - \"%s\"\n    env:\n", long_value);
  for (size_t i = 0; i < N_ODD; i++)
    n += (size_t)snprintf(y + n, cap - n, "    - name: V%zu\n      value: \"%s\"\n", i, odd[i]);
  n += (size_t)snprintf(
      y + n, cap - n,
      "    - {name: LONG, value: \"%s\"}\n"
      "    livenessProbe:\n      httpGet:\n        port: 80\n        path: \"/p?q=\\\"x\\\"&r=\\u00e9\"\n"
      "        httpHeaders: [{name: X-Odd, value: \"%s\"}]\n",
      long_value, odd[0]);
  ck_assert_uint_lt(n, cap - 1);
  return y;
}

START_TEST(roundtrip_odd_strings) {
  /* over 100,000 characters mixing the cases above */
  static const char unit[] = "ab\\\"\\\\\\n\\t\\u00e9\\U0001F600\\x7f/ ";
  char *long_value = malloc(240000);
  ck_assert_ptr_nonnull(long_value);
  size_t n = 0;
  while (n + sizeof unit < 230000) {
    memcpy(long_value + n, unit, sizeof unit - 1);
    n += sizeof unit - 1;
  }
  long_value[n] = '\0';
  char *yaml = odd_manifest(long_value);
  spec_pod *p = roundtrip_one_pod(yaml);
  ck_assert_uint_eq(p->containers[0].env.n, N_ODD + 1);
  ck_assert_str_eq(p->containers[0].env.items[12].value, "yes"); /* a string, as written */
  ck_assert_str_eq(p->containers[0].env.items[8].value,
                   "del \x7f c1 \xc2\x80 \xc2\x9f nel \xc2\x85 nbsp \xc2\xa0");
  ck_assert_uint_gt(strlen(p->containers[0].env.items[N_ODD].value), 100000);
  roundtrip_assert(p, "odd strings");
  /* The characters YAML takes only escaped are written as \u escapes. */
  char *text = podjson_pod_text(p, NULL);
  static const char *const escaped[] = {"\\u007f", "\\u0080", "\\u009f", "\\u0085",
                                        "\\u2028", "\\u2029", "\\ufffe", "\\uffff"};
  for (size_t i = 0; i < sizeof escaped / sizeof escaped[0]; i++)
    ck_assert_msg(strstr(text, escaped[i]) != NULL, "%s is not escaped", escaped[i]);
  ck_assert_ptr_null(strstr(text, "\x7f"));
  ck_assert_ptr_nonnull(strstr(text, "\xf0\x9f\x98\x80")); /* non-BMP stays UTF-8 */
  free(text);
  spec_pod_free(p);
  free(yaml);
  free(long_value);
}
END_TEST

/* An empty string and an absent field are different where the model keeps
 * them apart (a probe's host), and the same where Kubernetes defaults one to
 * the other (env value, subPath, command). */
START_TEST(roundtrip_empty_vs_absent) {
  static const char *const pairs[][2] = {
      {"    livenessProbe: {tcpSocket: {port: 80, host: \"\"}}\n",
       "    livenessProbe: {tcpSocket: {port: 80}}\n"},
      {"    env: [{name: A, value: \"\"}]\n", "    env: [{name: A}]\n"},
      {"    command: []\n    args: []\n", ""},
      {"    volumeMounts: [{name: v, mountPath: /v, subPath: \"\"}]\n",
       "    volumeMounts: [{name: v, mountPath: /v}]\n"},
  };
  static const bool same[] = {false, true, true, true};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    spec_pod *p[2];
    char *t[2];
    for (int k = 0; k < 2; k++) {
      char yaml[1024];
      snprintf(
          yaml, sizeof yaml,
          HEAD
          "metadata: {name: e, annotations: {a: \"\", b: null}, labels: {l: \"\"}}\n"
          "spec:\n  volumes: [{name: v, emptyDir: {}}]\n  containers:\n  - name: c\n    image: busybox\n%s",
          pairs[i][k]);
      p[k] = roundtrip_one_pod(yaml);
      roundtrip_assert(p[k], pairs[i][k]);
      t[k] = podjson_pod_text(p[k], NULL);
    }
    ck_assert_msg((strcmp(p[0]->hash, p[1]->hash) == 0) == same[i], "pair %zu: hashes", i);
    ck_assert_msg((strcmp(t[0], t[1]) == 0) == same[i], "pair %zu: documents", i);
    for (int k = 0; k < 2; k++) {
      spec_pod_free(p[k]);
      free(t[k]);
    }
  }
}
END_TEST

/* JSON is YAML, up to what libyaml reads.  Jansson's optional escapes \/ and
 * \u00e9 read back as the characters; the surrogate pairs it writes for
 * non-BMP characters under JSON_ENSURE_ASCII do not (libyaml refuses them),
 * which is why podjson_pod_text() writes raw UTF-8.  And the characters
 * Jansson leaves raw but libyaml refuses raw or reads as a line break are
 * why podjson_pod_text() escapes them. */
START_TEST(libyaml_reads_jansson) {
  const char *bmp =
      HEAD "metadata: {name: j, annotations: {a: \"caf\\u00e9 /x/ \\u4e2d\"}}\n"
           "spec:\n  containers:\n  - {name: c, image: busybox, command: [\"/bin/caf\\u00e9\"]}\n";
  spec_pod *p = roundtrip_one_pod(bmp);
  json_t *doc = podjson_pod(p, NULL);
  char *text = json_dumps(doc, JSON_COMPACT | JSON_ESCAPE_SLASH | JSON_ENSURE_ASCII);
  ck_assert_ptr_nonnull(strstr(text, "\\/bin\\/caf\\u00E9"));
  ck_assert_ptr_nonnull(strstr(text, "\\u4E2D"));
  char why[1200];
  ck_assert_msg(roundtrip_compare(p, text, why, sizeof why) == 0, "%s", why);
  free(text);
  json_decref(doc);
  spec_pod_free(p);

  p = roundtrip_one_pod(HEAD
                        "metadata: {name: j}\nspec:\n  containers:\n  - {name: c, image: busybox, command: "
                        "[\"\\U0001F600\"]}\n");
  doc = podjson_pod(p, NULL);
  text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
  ck_assert_ptr_nonnull(strstr(text, "\\uD83D\\uDE00"));
  ck_assert_int_ne(roundtrip_compare(p, text, why, sizeof why), 0);
  ck_assert_ptr_nonnull(strstr(why, "invalid Unicode character escape"));
  free(text);
  json_decref(doc);
  spec_pod_free(p);

  static const char *const hostile[] = {"\\x7f", "\\x80", "\\N", " \\L ", " \\P ", "\\uFFFE"};
  for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
    char yaml[512];
    snprintf(
        yaml, sizeof yaml,
        HEAD
        "metadata: {name: j}\nspec:\n  containers:\n  - {name: c, image: busybox, command: [\"x%sx\"]}\n",
        hostile[i]);
    p = roundtrip_one_pod(yaml);
    doc = podjson_pod(p, NULL);
    text = json_dumps(doc, JSON_COMPACT); /* Jansson alone */
    ck_assert_msg(roundtrip_compare(p, text, why, sizeof why) != 0, "%s read back from raw JSON", hostile[i]);
    free(text);
    json_decref(doc);
    roundtrip_assert(p, hostile[i]); /* podjson_pod_text() */
    spec_pod_free(p);
  }
}
END_TEST

/* A variable set twice is warned at every read, the round trip's too: both
 * entries are kept (a later $(VAR) may refer to the first value). */
START_TEST(roundtrip_duplicate_env) {
  struct roundtrip_parsed x, y;
  roundtrip_parse(
      &x, "t.yaml",
      HEAD "metadata: {name: d}\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
           "    env: [{name: A, value: \"1\"}, {name: B, value: \"$(A)\"}, {name: A, value: \"2\"}]\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.d.n, 1);
  char *text = podjson_pod_text(x.pods.items[0], NULL);
  roundtrip_parse(&y, "pod.json", text);
  ck_assert_int_eq(y.r, 0);
  ck_assert_uint_eq(y.d.n, 1);
  ck_assert_str_eq(y.d.items[0].message, x.d.items[0].message);
  ck_assert_str_eq(y.pods.items[0]->hash, x.pods.items[0]->hash);
  char *again = podjson_pod_text(y.pods.items[0], NULL);
  ck_assert_str_eq(again, text);
  free(again);
  free(text);
  roundtrip_parsed_free(&x);
  roundtrip_parsed_free(&y);
}
END_TEST

int main(void) {
  Suite *s = suite_create("podjson_strings");
  TCase *tc = tcase_create("strings");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, roundtrip_odd_strings);
  tcase_add_test(tc, roundtrip_empty_vs_absent);
  tcase_add_test(tc, libyaml_reads_jansson);
  tcase_add_test(tc, roundtrip_duplicate_env);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
