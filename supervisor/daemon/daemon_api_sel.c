/*
 * daemon_api_sel.c - label and field selectors as kube-apiserver reads them
 * (labels.Parse, fields.ParseSelector): terms separated by commas, all of
 * which must hold.  Labels: "k=v", "k==v", "k!=v", "k in (a,b)",
 * "k notin (a,b)", "k", "!k".  Fields: "path=v", "path==v", "path!=v", the
 * path a dotted one into the object ("metadata.name",
 * "involvedObject.uid"), a missing field reading as "".
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/daemon_api_internal.h"
#include "supervisor/daemon/k8s_json.h"

static char *dup_trim(const char *s, size_t n) {
  while (n > 0 && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    n--;
  return strndup(s, n);
}

static int add_val(sel_term *t, char *v) {
  char **nv = realloc(t->vals, (t->nvals + 1) * sizeof *nv);
  if (nv == NULL) {
    free(v);
    return -1;
  }
  t->vals = nv;
  t->vals[t->nvals++] = v;
  return 0;
}

static void term_free(sel_term *t) {
  free(t->key);
  for (size_t i = 0; i < t->nvals; i++)
    free(t->vals[i]);
  free(t->vals);
}

/* One term s[0..n). */
static int parse_term(const char *s, size_t n, bool field, sel_term *t, pv_err *err) {
  char *term = dup_trim(s, n);
  if (term == NULL)
    return pv_err_set(err, ENOMEM, "selector: out of memory");
  int rc = -1;
  char *p;
  *t = (sel_term){0};
  if (*term == '\0') {
    pv_err_set(err, EINVAL, "invalid selector: an empty term");
    goto out;
  }
  if ((p = strstr(term, "!=")) != NULL) {
    t->op = SEL_NE;
    t->key = dup_trim(term, (size_t)(p - term));
    rc = add_val(t, dup_trim(p + 2, strlen(p + 2)));
  } else if ((p = strchr(term, '=')) != NULL) {
    t->op = SEL_EQ;
    t->key = dup_trim(term, (size_t)(p - term));
    const char *v = p[1] == '=' ? p + 2 : p + 1;
    rc = add_val(t, dup_trim(v, strlen(v)));
  } else if (!field && term[0] == '!') {
    t->op = SEL_NOT_EXISTS;
    t->key = dup_trim(term + 1, strlen(term + 1));
    rc = 0;
  } else if (!field && ((p = strstr(term, " in ")) != NULL || (p = strstr(term, " notin ")) != NULL)) {
    bool in = strncmp(p, " in ", 4) == 0;
    t->op = in ? SEL_IN : SEL_NOTIN;
    t->key = dup_trim(term, (size_t)(p - term));
    char *l = strchr(p, '('), *r = strrchr(p, ')');
    if (l == NULL || r == NULL || r < l) {
      pv_err_set(err, EINVAL, "invalid selector %s: a set needs (values)", term);
      goto out;
    }
    rc = 0;
    for (char *v = l + 1; rc == 0 && v <= r;) {
      char *e = memchr(v, ',', (size_t)(r - v));
      if (e == NULL)
        e = r;
      rc = add_val(t, dup_trim(v, (size_t)(e - v)));
      v = e + 1;
    }
  } else if (!field) {
    t->op = SEL_EXISTS;
    t->key = strdup(term);
    rc = 0;
  } else {
    pv_err_set(err, EINVAL, "invalid field selector %s: expected field=value or field!=value", term);
    goto out;
  }
  if (rc < 0 || t->key == NULL) {
    rc = pv_err_set(err, ENOMEM, "selector: out of memory");
  } else if (t->key[0] == '\0') {
    rc = pv_err_set(err, EINVAL, "invalid selector %s: no key", term);
  }
out:
  if (rc < 0)
    term_free(t);
  free(term);
  return rc;
}

int api_sel_parse(const char *s, bool field, api_sel *out, pv_err *err) {
  *out = (api_sel){0};
  if (s == NULL)
    return 0;
  const char *p = s;
  while (*p != '\0') {
    /* A comma inside "( )" belongs to a set. */
    const char *e = p;
    int depth = 0;
    for (; *e != '\0' && (*e != ',' || depth > 0); e++)
      depth += *e == '(' ? 1 : *e == ')' ? -1 : 0;
    sel_term *nt = realloc(out->t, (out->n + 1) * sizeof *nt);
    if (nt == NULL) {
      api_sel_free(out);
      return pv_err_set(err, ENOMEM, "selector: out of memory");
    }
    out->t = nt;
    if (parse_term(p, (size_t)(e - p), field, &out->t[out->n], err) < 0) {
      api_sel_free(out);
      return -1;
    }
    out->n++;
    p = *e == ',' ? e + 1 : e;
  }
  return 0;
}

static bool in_vals(const sel_term *t, const char *v) {
  for (size_t i = 0; i < t->nvals; i++)
    if (strcmp(t->vals[i], v) == 0)
      return true;
  return false;
}

bool api_sel_match_labels(const api_sel *s, const json_t *labels) {
  for (size_t i = 0; i < s->n; i++) {
    const sel_term *t = &s->t[i];
    const json_t *v = json_is_object(labels) ? json_object_get(labels, t->key) : NULL;
    const char *str = json_is_string(v) ? json_string_value(v) : NULL;
    bool ok;
    switch (t->op) {
    case SEL_EQ:
    case SEL_IN: ok = str != NULL && in_vals(t, str); break;
    case SEL_NE:
    case SEL_NOTIN: ok = str == NULL || !in_vals(t, str); break;
    case SEL_EXISTS: ok = str != NULL; break;
    default: ok = str == NULL;
    }
    if (!ok)
      return false;
  }
  return true;
}

static void field_text(const json_t *obj, const char *path, char *buf, size_t len) {
  const json_t *v = k8s_json_at(obj, path);
  if (json_is_string(v))
    snprintf(buf, len, "%s", json_string_value(v));
  else if (json_is_integer(v))
    snprintf(buf, len, "%lld", (long long)json_integer_value(v));
  else if (json_is_boolean(v))
    snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
  else
    buf[0] = '\0';
}

bool api_sel_match_fields(const api_sel *s, const json_t *obj) {
  char buf[1024];
  for (size_t i = 0; i < s->n; i++) {
    const sel_term *t = &s->t[i];
    field_text(obj, t->key, buf, sizeof buf);
    bool eq = in_vals(t, buf);
    if (t->op == SEL_EQ ? !eq : eq)
      return false;
  }
  return true;
}

const char *api_sel_required(const api_sel *s, const char *key) {
  for (size_t i = 0; i < s->n; i++)
    if (s->t[i].op == SEL_EQ && strcmp(s->t[i].key, key) == 0 && s->t[i].nvals == 1)
      return s->t[i].vals[0];
  return NULL;
}

void api_sel_free(api_sel *s) {
  for (size_t i = 0; i < s->n; i++)
    term_free(&s->t[i]);
  free(s->t);
  *s = (api_sel){0};
}
