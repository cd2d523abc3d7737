/* Unit tests for supervisor/daemon/k8s_yaml: JSON as `kubectl get -o yaml`
 * writes it (block style, go-yaml's key order and quoting), and the round
 * trip: every output loads back, through a YAML 1.1 reader written here
 * with the type regexes of the YAML 1.1 type repository (independent of
 * the emitter's own rules), as the same JSON; a pod's YAML goes back
 * through spec_parse_buffer() as the same pod. */
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "supervisor/daemon/k8s_yaml.h"
#include "supervisor/proto/podjson.h"
#include "tests/roundtrip.h"
#include "tests/testutil.h"
#include "tests/unit/k8s_fixture.h"

/* ---- a YAML 1.1 reader ----------------------------------------------------- */

static bool matches(const char *re, const char *s) {
  regex_t r;
  ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
  bool m = regexec(&r, s, 0, NULL, 0) == 0;
  regfree(&r);
  return m;
}

/* A plain scalar as YAML 1.1 types it (yaml.org/type: null, bool, int,
 * float, timestamp, merge, value), and YAML 1.2's 0o octal. A type JSON
 * cannot hold comes back as {"typed": text}, which no document equals. */
static json_t *plain(const char *s) {
  if (matches("^(~|null|Null|NULL|)$", s))
    return json_null();
  if (matches("^(y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$", s))
    return json_true();
  if (matches("^(n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$", s))
    return json_false();
  if (matches("^[-+]?(0|[1-9][0-9]*)$", s))
    return json_integer(strtoll(s, NULL, 10));
  if (matches("^[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?$", s))
    return json_real(strtod(s, NULL));
  if (matches("^[-+]?(0b[0-1_]+|0[0-7_]+|[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$",
              s) ||
      matches("^[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?$", s) ||
      matches("^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*$", s) || matches("^[-+]?\\.(inf|Inf|INF)$", s) ||
      matches("^\\.(nan|NaN|NAN)$", s) || matches("^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?$", s) ||
      matches("^(<<|=)$", s))
    return json_pack("{s:s}", "typed", s);
  return json_string(s);
}

static json_t *load_node(yaml_parser_t *p, yaml_event_t *e);

static json_t *load_next(yaml_parser_t *p) {
  yaml_event_t e;
  ck_assert_msg(yaml_parser_parse(p, &e), "YAML: %s", p->problem);
  json_t *j = load_node(p, &e);
  yaml_event_delete(&e);
  return j;
}

/* NULL at the end of a collection. */
static json_t *load_node(yaml_parser_t *p, yaml_event_t *e) {
  if (e->type == YAML_SCALAR_EVENT) {
    const char *v = (const char *)e->data.scalar.value;
    if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
      return json_stringn(v, e->data.scalar.length);
    return plain(v);
  }
  if (e->type == YAML_SEQUENCE_START_EVENT) {
    json_t *a = json_array(), *v;
    while ((v = load_next(p)) != NULL)
      json_array_append_new(a, v);
    return a;
  }
  if (e->type == YAML_MAPPING_START_EVENT) {
    json_t *o = json_object(), *k, *v;
    while ((k = load_next(p)) != NULL) {
      ck_assert_msg(json_is_string(k), "a key that is not a string");
      v = load_next(p);
      json_object_set_new(o, json_string_value(k), v);
      json_decref(k);
    }
    return o;
  }
  return NULL; /* SEQUENCE_END, MAPPING_END */
}

static json_t *load(const char *text) {
  yaml_parser_t p;
  yaml_event_t e;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
  json_t *doc = NULL;
  for (;;) {
    ck_assert_msg(yaml_parser_parse(&p, &e), "YAML: %s at line %zu", p.problem, p.problem_mark.line + 1);
    yaml_event_type_t t = e.type;
    if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
      ck_assert_msg(doc == NULL, "more than one document");
      doc = load_node(&p, &e);
    }
    yaml_event_delete(&e);
    if (t == YAML_STREAM_END_EVENT)
      break;
  }
  yaml_parser_delete(&p);
  return doc;
}

static void assert_round_trip(const json_t *doc, const char *label) {
  pv_err err;
  char *text = k8s_yaml_dump(doc, &err);
  ck_assert_msg(text != NULL, "%s: %s", label, err.msg);
  json_t *back = load(text);
  if (!json_equal(back, doc)) {
    char *a = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY),
         *b = json_dumps(back, JSON_COMPACT | JSON_ENCODE_ANY);
    ck_abort_msg("%s: YAML does not read back as the JSON:\n%s\njson %s\nback %s", label, text, a, b);
  }
  json_decref(back);
  free(text);
}

/* ---- tests ----------------------------------------------------------------- */

static char *dump(const char *squoted) {
  json_t *j = k8s_fixture_json(squoted);
  char *s = k8s_yaml_dump(j, NULL);
  ck_assert_ptr_nonnull(s);
  json_decref(j);
  return s;
}

START_TEST(kubectl_layout) {
  char *s = dump(
      "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'web','labels':{'app':'web'},"
      "'creationTimestamp':'2023-11-14T22:13:20Z'},'spec':{'containers':[{'name':'app','image':'busybox',"
      "'command':['sh','-c','echo hi\\nexit 1\\n'],'args':['--port','9000'],'resources':{},"
      "'ports':[{'containerPort':80,'protocol':'TCP'}]}],'volumes':[],'hostNetwork':false},"
      "'status':{'phase':'Running','podIP':null,'ratio':0.25}}");
  ck_assert_str_eq(s, "apiVersion: v1\n"
                      "kind: Pod\n"
                      "metadata:\n"
                      "  creationTimestamp: \"2023-11-14T22:13:20Z\"\n"
                      "  labels:\n"
                      "    app: web\n"
                      "  name: web\n"
                      "spec:\n"
                      "  containers:\n"
                      "  - args:\n"
                      "    - --port\n"
                      "    - \"9000\"\n"
                      "    command:\n"
                      "    - sh\n"
                      "    - -c\n"
                      "    - |\n"
                      "      echo hi\n"
                      "      exit 1\n"
                      "    image: busybox\n"
                      "    name: app\n"
                      "    ports:\n"
                      "    - containerPort: 80\n"
                      "      protocol: TCP\n"
                      "    resources: {}\n"
                      "  hostNetwork: false\n"
                      "  volumes: []\n"
                      "status:\n"
                      "  phase: Running\n"
                      "  podIP: null\n"
                      "  ratio: 0.25\n");
  free(s);
}
END_TEST

/* One string each, and the line kubectl prints for it. */
static const struct {
  const char *value, *line;
} styles[] = {
    {"500m", "v: 500m\n"},
    {"envoy:1.29", "v: envoy:1.29\n"},
    {"-c", "v: -c\n"},
    {"http://x/y?z=1", "v: http://x/y?z=1\n"},
    {"h\xc3\xa9llo", "v: h\xc3\xa9llo\n"},
    {"10", "v: \"10\"\n"},
    {"1.5", "v: \"1.5\"\n"},
    {"1e3", "v: \"1e3\"\n"},
    {"0x1F", "v: \"0x1F\"\n"},
    {"0o17", "v: \"0o17\"\n"},
    {"0b101", "v: \"0b101\"\n"},
    {"1_000", "v: \"1_000\"\n"},
    {"+1", "v: \"+1\"\n"},
    {"1:20", "v: \"1:20\"\n"},
    {".inf", "v: \".inf\"\n"},
    {".NaN", "v: \".NaN\"\n"},
    {"true", "v: \"true\"\n"},
    {"yes", "v: \"yes\"\n"},
    {"On", "v: \"On\"\n"},
    {"n", "v: \"n\"\n"},
    {"null", "v: \"null\"\n"},
    {"~", "v: \"~\"\n"},
    {"", "v: \"\"\n"},
    {"<<", "v: \"<<\"\n"},
    {"2023-11-14T22:13:20Z", "v: \"2023-11-14T22:13:20Z\"\n"},
    {"2023-11-14", "v: \"2023-11-14\"\n"},
    {"- x", "v: '- x'\n"},
    {"a: b", "v: 'a: b'\n"},
    {"#x", "v: '#x'\n"},
    {" lead", "v: ' lead'\n"},
    {"*", "v: '*'\n"},
    {"it's", "v: it's\n"},
    {"one\ntwo\n", "v: |\n  one\n  two\n"},
    {"one\ntwo", "v: |-\n  one\n  two\n"},
    {"trailing \nspace", "v: \"trailing \\nspace\"\n"},
    {"tab\there", "v: \"tab\\there\"\n"},
    {"x\x01y", "v: \"x\\x01y\"\n"},
    {"a plain string goes on and on past the eighty columns of a line, and is folded after that",
     "v: a plain string goes on and on past the eighty columns of a line, and is folded\n  after that\n"},
};

START_TEST(string_styles) {
  for (size_t i = 0; i < sizeof styles / sizeof *styles; i++) {
    json_t *doc = json_pack("{s:s}", "v", styles[i].value);
    char *s = k8s_yaml_dump(doc, NULL);
    ck_assert_msg(s != NULL && strcmp(s, styles[i].line) == 0, "[%s]: got [%s], want [%s]", styles[i].value,
                  s, styles[i].line);
    assert_round_trip(doc, styles[i].value);
    free(s);
    json_decref(doc);
  }
}
END_TEST

START_TEST(go_yaml_key_order) {
  /* digits compare as numbers (a non-digit as 0); a non-letter sorts before a letter */
  char *s = dump("{'b':1,'a10':1,'a2':1,'A':1,'a_b':1,'aB':1,'Z':1,'a':1,'1':1,'-x':1,'a02':1,'a001':1}");
  ck_assert_str_eq(s, "-x: 1\n"
                      "\"1\": 1\n"
                      "A: 1\n"
                      "Z: 1\n"
                      "a: 1\n"
                      "a_b: 1\n"
                      "a001: 1\n" /* 1 < 2, though its digit run is longer */
                      "a2: 1\n"
                      "a02: 1\n"
                      "a10: 1\n"
                      "aB: 1\n"
                      "b: 1\n");
  free(s);
  ck_assert_int_gt(k8s_yaml_key_cmp("containers", "containerStatuses"), 0); /* 's' > 'S' */
  ck_assert_int_lt(k8s_yaml_key_cmp("item9", "item10"), 0);
  ck_assert_int_eq(k8s_yaml_key_cmp("same", "same"), 0);
  ck_assert_int_gt(k8s_yaml_key_cmp("b", "a"), 0);
}
END_TEST

START_TEST(values_and_collections) {
  char *s = dump("{'i':-5,'r':1e300,'t':0.1,'p':3.141592653589793,'f':false,'n':null,'e':{},'a':[],"
                 "'nested':[[1,[]],{'k':[{}]}]}");
  ck_assert_str_eq(s, "a: []\n"
                      "e: {}\n"
                      "f: false\n"
                      "i: -5\n"
                      "\"n\": null\n"
                      "nested:\n"
                      "- - 1\n"
                      "  - []\n"
                      "- k:\n"
                      "  - {}\n"
                      "p: 3.141592653589793\n"
                      "r: 1e+300\n"
                      "t: 0.1\n");
  free(s);
  json_t *top = json_pack("[s,i]", "x", 1);
  s = k8s_yaml_dump(top, NULL);
  ck_assert_str_eq(s, "- x\n- 1\n");
  free(s);
  json_decref(top);
  top = json_string("only");
  s = k8s_yaml_dump(top, NULL);
  ck_assert_str_eq(s, "only\n");
  free(s);
  json_decref(top);
  ck_assert_ptr_null(k8s_yaml_dump(NULL, NULL));
}
END_TEST

START_TEST(objects_round_trip) {
  json_t *pod = k8s_fixture_pod_object(), *ev = k8s_fixture_events();
  assert_round_trip(pod, "the fixture Pod");
  assert_round_trip(ev, "the fixture EventList");
  json_decref(pod);
  json_decref(ev);
  /* every word YAML 1.1 types, as strings, and strings YAML writers trip on */
  static const char *const odd[] = {"Y",
                                    "NO",
                                    "off",
                                    "FALSE",
                                    "Null",
                                    "-.INF",
                                    "+.inf",
                                    ".nan",
                                    "0",
                                    "-0",
                                    "007",
                                    "0777",
                                    "1e-3",
                                    "6.8523015e+5",
                                    "190:20:30",
                                    "1_000.5",
                                    "2001-12-14 21:59:43",
                                    "=",
                                    "? x",
                                    "x #y",
                                    "[a]",
                                    "{a}",
                                    "&a",
                                    "!t",
                                    "%x",
                                    "@x",
                                    "`x",
                                    "|",
                                    ">",
                                    "a\xe2\x80\xa8"
                                    "b",
                                    "\xef\xbb\xbfx",
                                    "x\x7f",
                                    "\xc2\x85",
                                    "  ",
                                    "\n",
                                    "a\n\n",
                                    "\"quoted\"",
                                    "'single'",
                                    "back\\slash"};
  json_t *a = json_array();
  for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
    json_array_append_new(a, json_string(odd[i]));
  assert_round_trip(a, "odd strings");
  json_decref(a);
}
END_TEST

/* The YAML of a pod document is a manifest: spec/ reads it back as the same
 * pod (hashes, metadata, and the same document again). */
static size_t spec_round_trip_dir(const char *dir) {
  DIR *d = opendir(dir);
  size_t pods = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
      continue;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    spec_pod_list l = {0};
    diag_list diags;
    diag_list_init(&diags);
    spec_parse_file(path, 0, &l, &diags);
    for (size_t i = 0; i < l.n; i++) {
      json_t *doc = podjson_pod(l.items[i], NULL);
      char *yaml = k8s_yaml_dump(doc, NULL), why[1200];
      ck_assert_msg(roundtrip_compare(l.items[i], yaml, why, sizeof why) == 0, "%s, pod %s: %s\n%s",
                    e->d_name, l.items[i]->name, why, yaml);
      free(yaml);
      json_decref(doc);
      pods++;
    }
    spec_pod_list_free(&l);
    diag_list_free(&diags);
  }
  if (d != NULL)
    closedir(d);
  return pods;
}

START_TEST(pod_yaml_is_a_manifest) {
  spec_pod *p = k8s_fixture_pod();
  json_t *doc = podjson_pod(p, NULL);
  char *yaml = k8s_yaml_dump(doc, NULL), why[1200];
  ck_assert_msg(roundtrip_compare(p, yaml, why, sizeof why) == 0, "%s\n%s", why, yaml);
  free(yaml);
  json_decref(doc);
  spec_pod_free(p);
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/examples", testutil_source_dir());
  ck_assert_uint_ge(spec_round_trip_dir(dir), 6);
  struct stat st;
  snprintf(dir, sizeof dir, "%s/../shared/corpus/k8s", testutil_source_dir());
  if (stat(dir, &st) == 0)
    ck_assert_uint_ge(spec_round_trip_dir(dir), 30);
  else
    fprintf(stderr, "NOTE pod_yaml_is_a_manifest: %s is missing; only examples/ were checked\n", dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("k8s_yaml");
  TCase *tc = tcase_create("k8s_yaml");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, kubectl_layout);
  tcase_add_test(tc, string_styles);
  tcase_add_test(tc, go_yaml_key_order);
  tcase_add_test(tc, values_and_collections);
  tcase_add_test(tc, objects_round_trip);
  tcase_add_test(tc, pod_yaml_is_a_manifest);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
