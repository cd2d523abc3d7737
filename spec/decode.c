/* decode.c - typed getters over ytree nodes (see decode.h). */
#include "spec/decode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t decode_push_key(decode_ctx *c, const char *key) {
  size_t saved = c->plen;
  int w = snprintf(c->path + c->plen, sizeof c->path - c->plen, "%s%.80s", c->plen ? "." : "", key);
  if (w > 0)
    c->plen = c->plen + (size_t)w < sizeof c->path ? c->plen + (size_t)w : sizeof c->path - 1;
  return saved;
}

size_t decode_push_index(decode_ctx *c, size_t i) {
  size_t saved = c->plen;
  int w = snprintf(c->path + c->plen, sizeof c->path - c->plen, "[%zu]", i);
  if (w > 0)
    c->plen = c->plen + (size_t)w < sizeof c->path ? c->plen + (size_t)w : sizeof c->path - 1;
  return saved;
}

void decode_pop(decode_ctx *c, size_t saved) {
  c->plen = saved;
  c->path[saved] = '\0';
}

static void vreport(decode_ctx *c, diag_severity sev, const ytree_node *at, const char *fmt, va_list ap) {
  char msg[768];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (diag_add(c->diags, sev, c->file, at ? at->line : 0, at ? at->col : 0, c->path, "%s", msg) < 0)
    c->oom = 1;
  if (sev == DIAG_ERROR)
    c->errors++;
  else
    c->warnings++;
}

void decode_error(decode_ctx *c, const ytree_node *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(c, DIAG_ERROR, at, fmt, ap);
  va_end(ap);
}

void decode_warn(decode_ctx *c, const ytree_node *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(c, DIAG_WARNING, at, fmt, ap);
  va_end(ap);
}

/* vreport at map's key, with the key on the path. */
static void vreport_key(decode_ctx *c, diag_severity sev, const ytree_node *map, const char *key,
                        const char *fmt, va_list ap) {
  size_t saved = decode_push_key(c, key);
  vreport(c, sev, ytree_map_get(map, key), fmt, ap);
  decode_pop(c, saved);
}

void decode_error_key(decode_ctx *c, const ytree_node *map, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport_key(c, DIAG_ERROR, map, key, fmt, ap);
  va_end(ap);
}

void decode_warn_key(decode_ctx *c, const ytree_node *map, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport_key(c, DIAG_WARNING, map, key, fmt, ap);
  va_end(ap);
}

char *decode_strdup(decode_ctx *c, const char *s) {
  char *d = strdup(s);
  if (d == NULL) {
    c->oom = 1;
    c->errors++;
  }
  return d;
}

bool decode_is_map(decode_ctx *c, const ytree_node *n) {
  if (ytree_is_null(n))
    return false;
  if (n->kind != YTREE_MAP) {
    decode_error(c, n, "expected a mapping (key: value pairs), got %s", ytree_describe(n));
    return false;
  }
  return true;
}

static bool is_empty(const ytree_node *v) {
  return ytree_is_null(v) || (v->kind != YTREE_SCALAR && v->n == 0);
}

bool decode_check_keys(decode_ctx *c, const ytree_node *map, schema_object o) {
  if (!decode_is_map(c, map))
    return false;
  for (size_t i = 0; i < map->n; i++) {
    const ytree_node *k = ytree_key(map, i), *v = ytree_value(map, i);
    const schema_field *f = schema_lookup(o, k->str);
    size_t saved = decode_push_key(c, k->str);
    if (f == NULL && k == c->skip_key) {
      /* already reported */
    } else if (f == NULL) {
      char hint[320];
      schema_hint(o, k->str, hint, sizeof hint);
      decode_error(c, k, "unknown field '%.80s'%s%s", k->str, hint[0] ? "; " : "", hint);
    } else if (f->cls == SCHEMA_WARN) {
      if (!is_empty(v))
        decode_warn(c, k, "ignored: %s", f->reason);
    } else if (f->cls == SCHEMA_REFUSE) {
      if (!ytree_is_null(v) && !(v->kind == YTREE_SEQ && v->n == 0))
        decode_error(c, k, "not supported by podvisor: %s", f->reason);
    } else if (f->cls == SCHEMA_REFUSE_UNLESS_FALSE || f->cls == SCHEMA_REFUSE_UNLESS_TRUE) {
      bool want = f->cls == SCHEMA_REFUSE_UNLESS_TRUE;
      if (ytree_is_null(v)) {
        /* absent */
      } else if (v->kind != YTREE_SCALAR || v->stype != YTREE_BOOL) {
        decode_error(c, v, "expected a boolean (true or false), got %s", ytree_describe(v));
      } else if (v->bool_value != want) {
        decode_error(c, k, "%s: %s is not supported by podvisor: %s", k->str, v->bool_value ? "true" : "false",
                     f->reason);
      }
    }
    decode_pop(c, saved);
  }
  return true;
}

const char *decode_scalar_string(decode_ctx *c, const ytree_node *n) {
  if (n->kind != YTREE_SCALAR) {
    decode_error(c, n, "expected a string, got %s", ytree_describe(n));
    return NULL;
  }
  if (n->stype == YTREE_NULL) {
    decode_error(c, n, "expected a string, got null");
    return NULL;
  }
  if (n->stype != YTREE_STR) {
    decode_error(c, n, "expected a string, got %s; write it in quotes: \"%.64s\"", ytree_describe(n), n->str);
    return NULL;
  }
  if (strlen(n->str) != n->len) {
    decode_error(c, n, "the string contains a NUL character");
    return NULL;
  }
  return n->str;
}

const char *decode_scalar_quantity(decode_ctx *c, const ytree_node *n) {
  if (n->kind == YTREE_SCALAR && (n->stype == YTREE_INT || n->stype == YTREE_FLOAT))
    return n->str;
  if (n->kind == YTREE_SCALAR && n->stype == YTREE_STR)
    return decode_scalar_string(c, n);
  decode_error(c, n, "expected a quantity such as \"500m\" or \"64Mi\", got %s", ytree_describe(n));
  return NULL;
}

/* Looks key up; pushes it on the path.  Returns the node or NULL when absent
 * or null (reporting "required" when asked). */
static const ytree_node *field(decode_ctx *c, const ytree_node *map, const char *key, bool required,
                               size_t *saved) {
  *saved = decode_push_key(c, key);
  const ytree_node *v = ytree_map_get(map, key);
  if (ytree_is_null(v)) {
    if (required)
      decode_error(c, v != NULL ? v : map, "required field is missing%s", v != NULL ? " (the value is empty)" : "");
    return NULL;
  }
  return v;
}

int decode_string(decode_ctx *c, const ytree_node *map, const char *key, bool required, char **out) {
  size_t saved;
  const ytree_node *v = field(c, map, key, required, &saved);
  int r = 0;
  if (v != NULL) {
    const char *s = decode_scalar_string(c, v);
    if (s == NULL) {
      r = -1;
    } else if (required && *s == '\0') {
      decode_error(c, v, "required field is empty");
      r = -1;
    } else {
      free(*out);
      *out = decode_strdup(c, s);
      r = *out != NULL ? 1 : -1;
    }
  } else if (required) {
    r = -1;
  }
  decode_pop(c, saved);
  return r;
}

/* YAML integers: decimal, 0x hex, 0o octal, 0b binary, '_' separators. */
static int parse_int(const char *s, int64_t *out) {
  char digits[72];
  size_t n = 0;
  for (; *s && n < sizeof digits - 1; s++)
    if (*s != '_')
      digits[n++] = *s;
  if (*s != '\0')
    return -1;
  digits[n] = '\0';
  char *p = digits;
  bool neg = *p == '-';
  if (*p == '-' || *p == '+')
    p++;
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
    base = 16, p += 2;
  else if (p[0] == '0' && p[1] == 'o')
    base = 8, p += 2;
  else if (p[0] == '0' && p[1] == 'b')
    base = 2, p += 2;
  if (*p == '\0')
    return -1;
  errno = 0;
  char *end;
  unsigned long long u = strtoull(p, &end, base);
  if (errno != 0 || *end != '\0' || u > (unsigned long long)INT64_MAX + (neg ? 1 : 0))
    return -1;
  *out = neg ? (int64_t)(0 - u) : (int64_t)u;
  return 0;
}

int decode_int(decode_ctx *c, const ytree_node *map, const char *key, int64_t min, int64_t max, int64_t *out) {
  size_t saved;
  const ytree_node *v = field(c, map, key, false, &saved);
  int r = 0;
  if (v != NULL) {
    int64_t x;
    r = -1;
    if (v->kind != YTREE_SCALAR || v->stype != YTREE_INT) {
      if (v->kind == YTREE_SCALAR && v->stype == YTREE_STR && parse_int(v->str, &x) == 0)
        decode_error(c, v, "expected an integer, got a string; write it without quotes: %.32s", v->str);
      else
        decode_error(c, v, "expected an integer, got %s", ytree_describe(v));
    } else if (parse_int(v->str, &x) < 0) {
      decode_error(c, v, "integer %.64s is out of range", v->str);
    } else if (x < min || x > max) {
      decode_error(c, v, "must be between %lld and %lld, got %lld", (long long)min, (long long)max, (long long)x);
    } else {
      *out = x;
      r = 1;
    }
  }
  decode_pop(c, saved);
  return r;
}

int decode_bool(decode_ctx *c, const ytree_node *map, const char *key, bool *out) {
  size_t saved;
  const ytree_node *v = field(c, map, key, false, &saved);
  int r = 0;
  if (v != NULL) {
    if (v->kind != YTREE_SCALAR || v->stype != YTREE_BOOL) {
      decode_error(c, v, "expected a boolean (true or false), got %s", ytree_describe(v));
      r = -1;
    } else {
      *out = v->bool_value;
      r = 1;
    }
  }
  decode_pop(c, saved);
  return r;
}

void decode_strv_free(spec_strv *v) {
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->n; i++)
    free(v->argv[i]);
  free(v->argv);
  v->argv = NULL;
  v->n = 0;
}

void decode_kvs_free(spec_kvs *v) {
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->n; i++) {
    free(v->items[i].key);
    free(v->items[i].value);
  }
  free(v->items);
  v->items = NULL;
  v->n = 0;
}

int decode_strv(decode_ctx *c, const ytree_node *map, const char *key, spec_strv *out) {
  size_t saved;
  const ytree_node *v = field(c, map, key, false, &saved);
  int r = 0;
  decode_strv_free(out);
  if (v != NULL && v->kind != YTREE_SEQ) {
    decode_error(c, v, "expected a list of strings, got %s", ytree_describe(v));
    r = -1;
  } else if (v != NULL && v->n > 0) {
    out->argv = calloc(v->n + 1, sizeof *out->argv);
    if (out->argv == NULL) {
      c->oom = 1;
      r = -1;
    }
    /* Every element is checked, so all bad ones are reported at once. */
    for (size_t i = 0; out->argv != NULL && i < v->n; i++) {
      size_t s2 = decode_push_index(c, i);
      const char *s = decode_scalar_string(c, v->items[i]);
      if (s == NULL || r < 0)
        r = -1;
      else if ((out->argv[out->n] = decode_strdup(c, s)) == NULL)
        r = -1;
      else
        out->n++;
      decode_pop(c, s2);
    }
    if (r == 0)
      r = 1;
  }
  decode_pop(c, saved);
  return r;
}

int decode_enum(decode_ctx *c, const ytree_node *map, const char *key, const char *const *names, size_t n,
                int *out) {
  size_t saved;
  const ytree_node *v = field(c, map, key, false, &saved);
  int r = 0;
  if (v != NULL) {
    const char *s = decode_scalar_string(c, v);
    r = -1;
    for (size_t i = 0; s != NULL && i < n && r < 0; i++) {
      if (strcmp(s, names[i]) == 0) {
        *out = (int)i;
        r = 1;
      }
    }
    if (s != NULL && r < 0) {
      char list[256] = "";
      size_t off = 0;
      const char *near = NULL;
      for (size_t i = 0; i < n; i++) {
        int w = snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", names[i][0] ? names[i] : "\"\"");
        if (w > 0 && off + (size_t)w < sizeof list)
          off += (size_t)w;
        if (strcasecmp(s, names[i]) == 0)
          near = names[i];
      }
      if (near != NULL)
        decode_error(c, v, "unsupported value '%.64s'; did you mean '%s'? (values are case-sensitive)", s, near);
      else
        decode_error(c, v, "unsupported value '%.64s': must be one of %s", s, list);
    }
  }
  decode_pop(c, saved);
  return r;
}

static int cmp_kv(const void *a, const void *b) {
  return strcmp(((const spec_kv *)a)->key, ((const spec_kv *)b)->key);
}

int decode_string_map(decode_ctx *c, const ytree_node *map, const char *key, spec_kvs *out) {
  size_t saved;
  const ytree_node *v = field(c, map, key, false, &saved);
  int r = 0;
  decode_kvs_free(out);
  if (v != NULL && !decode_is_map(c, v)) {
    r = -1;
  } else if (v != NULL && v->n > 0) {
    out->items = calloc(v->n, sizeof *out->items);
    if (out->items == NULL)
      c->oom = 1;
    r = out->items != NULL ? 1 : -1;
    for (size_t i = 0; r == 1 && i < v->n; i++) {
      const ytree_node *k = ytree_key(v, i), *val = ytree_value(v, i);
      size_t s2 = decode_push_key(c, k->str);
      /* A null value decodes to "" in Kubernetes too. */
      const char *s = ytree_is_null(val) ? "" : decode_scalar_string(c, val);
      if (strlen(k->str) != k->len) {
        decode_error(c, k, "the key contains a NUL character");
      } else if (s != NULL) {
        spec_kv *kv = &out->items[out->n];
        kv->key = decode_strdup(c, k->str);
        kv->value = decode_strdup(c, s);
        out->n++;
        if (kv->key == NULL || kv->value == NULL)
          r = -1;
      }
      decode_pop(c, s2);
    }
    if (out->n > 1)
      qsort(out->items, out->n, sizeof *out->items, cmp_kv);
  }
  decode_pop(c, saved);
  return r;
}

int decode_port_ref(decode_ctx *c, const ytree_node *map, const char *key, int *num, char **name) {
  size_t saved;
  const ytree_node *v = field(c, map, key, true, &saved);
  int r = v == NULL ? -1 : 1;
  if (v != NULL && v->kind == YTREE_SCALAR && v->stype == YTREE_INT) {
    int64_t x = 0;
    if (parse_int(v->str, &x) < 0 || x < 1 || x > 65535) {
      decode_error(c, v, "port must be between 1 and 65535, got %.32s", v->str);
      r = -1;
    } else {
      *num = (int)x;
    }
  } else if (v != NULL) {
    const char *s = decode_scalar_string(c, v);
    if (s == NULL)
      r = -1;
    else if ((*name = decode_strdup(c, s)) == NULL)
      r = -1;
  }
  decode_pop(c, saved);
  return r;
}

bool decode_has_backsteps(const char *path) {
  for (const char *s = path; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 2 && s[0] == '.' && s[1] == '.')
      return true;
    s += n;
    while (*s == '/')
      s++;
  }
  return false;
}
