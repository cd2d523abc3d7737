/* k8s_yaml.c - JSON as kubectl's YAML through libyaml's emitter (k8s_yaml.h). */
#include "supervisor/daemon/k8s_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "supervisor/daemon/k8s_buf.h"

/* ---- which plain scalars are not strings ---------------------------------- */

static bool in_list(const char *s, const char *const *words) {
  for (; *words != NULL; words++)
    if (strcmp(s, *words) == 0)
      return true;
  return false;
}

/* ^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$, YAML 1.1's base 60. */
static bool base60(const char *s) {
  if (*s == '-' || *s == '+')
    s++;
  if (!isdigit((unsigned char)*s))
    return false;
  while (isdigit((unsigned char)*s) || *s == '_')
    s++;
  int groups = 0;
  while (*s == ':') {
    s++;
    if (s[0] >= '0' && s[0] <= '5' && isdigit((unsigned char)s[1]))
      s += 2;
    else if (isdigit((unsigned char)s[0]))
      s++;
    else
      return false;
    groups++;
  }
  if (groups == 0)
    return false;
  if (*s == '.')
    for (s++; isdigit((unsigned char)*s) || *s == '_'; s++)
      ;
  return *s == '\0';
}

/* A number for go-yaml (ParseInt/ParseFloat of the text without '_'),
 * YAML 1.1 (0b..., base 60) or YAML 1.2 (0o...). */
static bool number(const char *s) {
  if (strchr("-+0123456789.", *s) == NULL)
    return false;
  char buf[128], *end;
  size_t n = 0;
  for (const char *p = s; *p && n + 1 < sizeof buf; p++)
    if (*p != '_')
      buf[n++] = *p;
  buf[n] = '\0';
  if (n == 0 || strlen(s) >= sizeof buf)
    return n > 0;
  const char *d = buf + (buf[0] == '-' || buf[0] == '+');
  if (d[0] == '0' && (d[1] == 'b' || d[1] == 'o') && d[2] != '\0' &&
      strspn(d + 2, "01234567") == strlen(d + 2))
    return true;
  errno = 0;
  (void)strtoll(buf, &end, 0);
  if (*end == '\0' && end != buf)
    return true;
  (void)strtod(buf, &end);
  return (*end == '\0' && end != buf) || base60(s);
}

/* 2006-1-2, optionally followed by a time: YAML's timestamp. */
static bool timestamp(const char *s) {
  int i = 0;
  for (; i < 4; i++)
    if (!isdigit((unsigned char)s[i]))
      return false;
  for (int part = 0; part < 2; part++) {
    if (s[i++] != '-' || !isdigit((unsigned char)s[i]))
      return false;
    i += isdigit((unsigned char)s[i + 1]) ? 2 : 1;
  }
  return s[i] == '\0' || ((s[i] == 'T' || s[i] == 't' || s[i] == ' ') && isdigit((unsigned char)s[i + 1]));
}

bool k8s_yaml_plain_is_typed(const char *s) {
  static const char *const words[] = {
      "",      "~",     "null",  "Null", "NULL", "y",    "Y",    "yes",   "Yes",   "YES",   "n",
      "N",     "no",    "No",    "NO",   "true", "True", "TRUE", "false", "False", "FALSE", "on",
      "On",    "ON",    "off",   "Off",  "OFF",  ".inf", ".Inf", ".INF",  "+.inf", "+.Inf", "+.INF",
      "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", "<<",   "=",     NULL};
  return in_list(s, words) || number(s) || timestamp(s);
}

/* ---- go-yaml's key order ------------------------------------------------------ */

static size_t runes(const char *s, uint32_t *out, size_t cap) {
  size_t n = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p && n < cap) {
    size_t len = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
    uint32_t cp = len == 1 ? *p : (uint32_t)(*p & (0x3f >> (len - 1)));
    for (size_t i = 1; i < len && p[i]; i++)
      cp = (cp << 6) | (p[i] & 0x3f);
    out[n++] = cp;
    p += len;
  }
  return n;
}

static bool letter(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; /* non-ASCII: mostly letters */
}

static bool digit(uint32_t c) {
  return c >= '0' && c <= '9';
}

/* keyList.Less of go-yaml v2 (encode.go sorter.go), on code points. */
static bool key_less(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
  for (size_t i = 0; i < na && i < nb; i++) {
    if (a[i] == b[i])
      continue;
    bool al = letter(a[i]), bl = letter(b[i]);
    if (al && bl)
      return a[i] < b[i];
    if (al || bl)
      return bl;
    uint64_t an = 0, bn = 0;
    if (a[i] == '0' || b[i] == '0')
      for (size_t j = i; j-- > 0 && digit(a[j]);)
        if (a[j] != '0') {
          an = bn = 1;
          break;
        }
    size_t ai = i, bi = i;
    for (; ai < na && digit(a[ai]); ai++)
      an = an * 10 + (a[ai] - '0');
    for (; bi < nb && digit(b[bi]); bi++)
      bn = bn * 10 + (b[bi] - '0');
    if (an != bn)
      return (int64_t)an < (int64_t)bn;
    if (ai != bi)
      return ai < bi;
    return a[i] < b[i];
  }
  return na < nb;
}

int k8s_yaml_key_cmp(const char *a, const char *b) {
  uint32_t ra[256], rb[256];
  size_t na = runes(a, ra, 256), nb = runes(b, rb, 256);
  return key_less(ra, na, rb, nb) ? -1 : key_less(rb, nb, ra, na) ? 1 : 0;
}

static int key_sort(const void *x, const void *y) {
  return k8s_yaml_key_cmp(*(const char *const *)x, *(const char *const *)y);
}

/* ---- the emitter ---------------------------------------------------------------- */

typedef struct emit {
  yaml_emitter_t em;
  bool failed;
} emit;

static int write_out(void *data, unsigned char *buf, size_t size) {
  k8s_buf_add(data, (const char *)buf, size);
  return !((k8s_buf *)data)->failed;
}

static void ev(emit *e, yaml_event_t *event, int init_ok) {
  if (e->failed)
    return;
  if (!init_ok || !yaml_emitter_emit(&e->em, event))
    e->failed = true;
}

/* go-yaml's stringv: literal with a line break, plain unless YAML would
 * read it as another type (libyaml falls back to quotes where plain or
 * literal is not possible). */
static void string_scalar(emit *e, const char *s, size_t n) {
  yaml_scalar_style_t style = memchr(s, '\n', n) != NULL   ? YAML_LITERAL_SCALAR_STYLE
                              : k8s_yaml_plain_is_typed(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                           : YAML_PLAIN_SCALAR_STYLE;
  yaml_event_t event;
  ev(e, &event, yaml_scalar_event_initialize(&event, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style));
}

static void plain_scalar(emit *e, const char *s) {
  yaml_event_t event;
  ev(e, &event,
     yaml_scalar_event_initialize(&event, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
                                  YAML_PLAIN_SCALAR_STYLE));
}

/* strconv.FormatFloat(f, 'g', -1, 64), and YAML's .inf and .nan. */
static void real_text(double d, char *buf, size_t len) {
  if (d != d) {
    snprintf(buf, len, ".nan");
    return;
  }
  if (d > 1.7976931348623157e308 || d < -1.7976931348623157e308) {
    snprintf(buf, len, "%s.inf", d < 0 ? "-" : "");
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, d);
    if (strtod(buf, NULL) == d)
      break;
  }
}

static void node(emit *e, const json_t *j);

static void mapping(emit *e, const json_t *o) {
  size_t n = json_object_size(o), i = 0;
  const char **keys = n > 0 ? calloc(n, sizeof *keys) : NULL, *k;
  const json_t *v;
  yaml_event_t event;
  if (n > 0 && keys == NULL) {
    e->failed = true;
    return;
  }
  json_object_foreach((json_t *)o, k, v) keys[i++] = k;
  if (n > 1)
    qsort(keys, n, sizeof *keys, key_sort);
  ev(e, &event, yaml_mapping_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
  for (i = 0; i < n && !e->failed; i++) {
    string_scalar(e, keys[i], strlen(keys[i]));
    node(e, json_object_get(o, keys[i]));
  }
  ev(e, &event, yaml_mapping_end_event_initialize(&event));
  free(keys);
}

static void node(emit *e, const json_t *j) {
  yaml_event_t event;
  char buf[64];
  size_t i;
  const json_t *v;
  switch (json_typeof(j)) {
  case JSON_OBJECT: mapping(e, j); break;
  case JSON_ARRAY:
    ev(e, &event, yaml_sequence_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
    json_array_foreach(j, i, v) node(e, v);
    ev(e, &event, yaml_sequence_end_event_initialize(&event));
    break;
  case JSON_STRING: string_scalar(e, json_string_value(j), json_string_length(j)); break;
  case JSON_INTEGER:
    snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    plain_scalar(e, buf);
    break;
  case JSON_REAL:
    real_text(json_real_value(j), buf, sizeof buf);
    plain_scalar(e, buf);
    break;
  case JSON_TRUE:
  case JSON_FALSE: plain_scalar(e, json_is_true(j) ? "true" : "false"); break;
  default: plain_scalar(e, "null");
  }
}

char *k8s_yaml_dump(const json_t *doc, pv_err *err) {
  emit e = {0};
  k8s_buf out = {0};
  yaml_event_t event;
  if (doc == NULL || !yaml_emitter_initialize(&e.em)) {
    pv_err_set(err, doc == NULL ? EINVAL : ENOMEM, "yaml: %s", doc == NULL ? "no document" : "out of memory");
    return NULL;
  }
  yaml_emitter_set_output(&e.em, write_out, &out);
  yaml_emitter_set_unicode(&e.em, 1);
  yaml_emitter_set_indent(&e.em, 2);
  yaml_emitter_set_width(&e.em, 80);
  ev(&e, &event, yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING));
  ev(&e, &event, yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 1));
  node(&e, doc);
  ev(&e, &event, yaml_document_end_event_initialize(&event, 1));
  ev(&e, &event, yaml_stream_end_event_initialize(&event));
  if (!e.failed && !yaml_emitter_flush(&e.em))
    e.failed = true;
  const char *problem = e.em.problem;
  bool oom = out.failed || e.em.error == YAML_MEMORY_ERROR;
  char *text = e.failed ? NULL : k8s_buf_steal(&out);
  if (text == NULL)
    pv_err_set(err, oom ? ENOMEM : EINVAL, "yaml: %s",
               oom       ? "out of memory"
               : problem ? problem
                         : "cannot emit");
  k8s_buf_free(&out);
  yaml_emitter_delete(&e.em);
  return text;
}
