/* k8s_print.c - kubectl's table printer (k8s_print.h). */
#include "supervisor/daemon/k8s_print.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/k8s_json.h"

void k8s_printer_init(k8s_printer *pr, const k8s_print_opts *o) {
  *pr = (k8s_printer){.opts = *o};
  k8s_tabw_init(&pr->tw, K8S_TABW_GET);
}

void k8s_printer_free(k8s_printer *pr) {
  k8s_tabw_free(&pr->tw);
  json_decref(pr->last_columns);
  *pr = (k8s_printer){0};
}

static bool visible(const k8s_printer *pr, const json_t *col) {
  return pr->opts.wide || k8s_json_int(col, "priority") == 0;
}

/* Go's %v of a cell; strings cut at a line break and escaped for the
 * terminal as cli-runtime's printTable does. */
static void cell_text(k8s_tabw *tw, const json_t *v) {
  char num[64];
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    size_t n = strcspn(s, "\f\n\r");
    for (size_t i = 0; i < n; i++) {
      if (s[i] == '\x1b')
        k8s_tabw_puts(tw, "^[");
      else
        k8s_tabw_write(tw, s + i, 1);
    }
    if (s[n] != '\0')
      k8s_tabw_puts(tw, "...");
  } else if (json_is_integer(v)) {
    k8s_tabw_printf(tw, "%lld", (long long)json_integer_value(v));
  } else if (json_is_real(v)) {
    /* strconv.FormatFloat(f, 'g', -1, 64): the shortest text that reads back */
    double d = json_real_value(v);
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(num, sizeof num, "%.*g", prec, d);
      if (strtod(num, NULL) == d)
        break;
    }
    k8s_tabw_puts(tw, num);
  } else if (json_is_boolean(v)) {
    k8s_tabw_puts(tw, json_is_true(v) ? "true" : "false");
  } else if (v != NULL && !json_is_null(v)) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s != NULL)
      k8s_tabw_puts(tw, s);
    free(s);
  }
}

static void header(k8s_printer *pr, const json_t *cols) {
  bool first = true;
  if (pr->opts.with_namespace) {
    k8s_tabw_puts(&pr->tw, "NAMESPACE");
    first = false;
  }
  const json_t *c;
  size_t i;
  json_array_foreach(cols, i, c) {
    if (!visible(pr, c))
      continue;
    if (!first)
      k8s_tabw_puts(&pr->tw, "\t");
    first = false;
    for (const char *s = k8s_json_str(c, "name"); *s; s++)
      k8s_tabw_printf(&pr->tw, "%c", toupper((unsigned char)*s));
  }
  k8s_tabw_puts(&pr->tw, "\n");
}

static void row(k8s_printer *pr, const json_t *cols, const json_t *r) {
  bool first = true;
  if (pr->opts.with_namespace) {
    k8s_tabw_puts(&pr->tw, k8s_json_str(r, "object.metadata.namespace"));
    first = false;
  }
  const json_t *cells = k8s_json_arr(r, "cells"), *v;
  size_t i;
  json_array_foreach(cells, i, v) {
    if (i >= json_array_size(cols))
      break; /* more cells than columns: ignored, as kubectl does */
    if (!visible(pr, json_array_get(cols, i)))
      continue;
    if (!first)
      k8s_tabw_puts(&pr->tw, "\t");
    first = false;
    cell_text(&pr->tw, v);
  }
  k8s_tabw_puts(&pr->tw, "\n");
}

int k8s_printer_table(k8s_printer *pr, const json_t *table, pv_err *err) {
  if (strcmp(k8s_json_str(table, "kind"), "Table") != 0)
    return pv_err_set(err, EINVAL, "not a Table: kind '%s'", k8s_json_str(table, "kind"));
  const json_t *cols = k8s_json_arr(table, "columnDefinitions"), *rows = k8s_json_arr(table, "rows"), *r;
  bool no_headers = pr->opts.no_headers;
  if (pr->printed_headers && (json_array_size(cols) == 0 || json_equal(cols, pr->last_columns)))
    no_headers = true; /* the same columns as the table printed last */
  if (json_array_size(cols) == 0) {
    cols = pr->last_columns; /* a watch event's table: the columns of the last one */
  } else if (!json_equal(cols, pr->last_columns)) {
    json_decref(pr->last_columns);
    pr->last_columns = json_deep_copy(cols);
    pr->printed_headers = false;
    if (pr->last_columns == NULL)
      return pv_err_set(err, ENOMEM, "Table: out of memory");
  }
  if (json_array_size(rows) > 0)
    pr->printed_headers = true;
  if (!no_headers && json_array_size(rows) == 0)
    return 0; /* no header without rows */
  if (!no_headers)
    header(pr, cols);
  size_t i;
  json_array_foreach(rows, i, r) row(pr, cols, r);
  return 0;
}

char *k8s_printer_flush(k8s_printer *pr, pv_err *err) {
  k8s_buf out = {0};
  if (k8s_tabw_flush(&pr->tw, &out) < 0) {
    k8s_buf_free(&out);
    pv_err_set(err, ENOMEM, "Table: out of memory");
    return NULL;
  }
  char *s = k8s_buf_steal(&out);
  if (s == NULL)
    pv_err_set(err, ENOMEM, "Table: out of memory");
  return s;
}

char *k8s_print_table(const json_t *table, const k8s_print_opts *o, pv_err *err) {
  k8s_printer pr;
  k8s_printer_init(&pr, o);
  char *s = k8s_printer_table(&pr, table, err) == 0 ? k8s_printer_flush(&pr, err) : NULL;
  k8s_printer_free(&pr);
  return s;
}

static void name_line(k8s_buf *b, const char *kind, const json_t *obj) {
  for (const char *s = kind; *s; s++)
    k8s_buf_putc(b, (char)tolower((unsigned char)*s));
  k8s_buf_printf(b, "/%s\n", k8s_json_str(obj, "metadata.name"));
}

char *k8s_print_names(const json_t *doc, pv_err *err) {
  k8s_buf b = {0};
  const json_t *items = k8s_json_arr(doc, "items"), *it;
  if (!json_is_object(doc))
    return pv_err_set(err, EINVAL, "-o name: not an object"), NULL;
  if (items == NULL) {
    name_line(&b, k8s_json_str(doc, "kind"), doc);
  } else {
    char kind[128];
    const char *lk = k8s_json_str(doc, "kind");
    size_t n = strlen(lk);
    snprintf(kind, sizeof kind, "%.*s", (int)(n > 4 && strcmp(lk + n - 4, "List") == 0 ? n - 4 : n), lk);
    size_t i;
    json_array_foreach(items, i, it) {
      const char *k = k8s_json_str(it, "kind");
      name_line(&b, *k != '\0' ? k : kind, it);
    }
  }
  char *s = k8s_buf_steal(&b);
  if (s == NULL)
    pv_err_set(err, ENOMEM, "-o name: out of memory");
  return s;
}

void k8s_print_no_resources(const char *ns, char *buf, size_t len) {
  if (ns != NULL)
    snprintf(buf, len, "No resources found in %s namespace.", ns);
  else
    snprintf(buf, len, "No resources found");
}
