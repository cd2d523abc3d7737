/* ytree.c - libyaml events to a positioned document tree (see ytree.h). */
#include "spec/ytree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec/textutil.h"

#define ANCHOR_BUCKETS 256

struct anchor {
  char *name;
  ytree_node *node;
  struct anchor *next;
};

struct frame {
  ytree_node *node;
  ytree_node *pending_key; /* mappings: key read, value not yet */
  char *anchor;            /* registered when the collection ends */
};

struct builder {
  const char *file;
  diag_list *diags;
  ytree_doc doc;
  struct frame stack[YTREE_MAX_DEPTH + 1];
  int depth;
  size_t nodes;        /* in the whole file */
  size_t alias_weight; /* in the whole file */
  struct anchor *anchors[ANCHOR_BUCKETS];
  int failed;          /* a fatal problem: stop reading */
  int errors;
};

static unsigned hash_name(const char *s) {
  unsigned h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h % ANCHOR_BUCKETS;
}

static void anchors_clear(struct builder *b) {
  for (int i = 0; i < ANCHOR_BUCKETS; i++) {
    while (b->anchors[i] != NULL) {
      struct anchor *a = b->anchors[i];
      b->anchors[i] = a->next;
      free(a->name);
      free(a);
    }
  }
}

static void arena_free(ytree_node *n) {
  while (n != NULL) {
    ytree_node *next = n->arena_next;
    free(n->str);
    free(n->items);
    free(n);
    n = next;
  }
}

/* Field path of the node being built, for diagnostics. */
static void build_path(const struct builder *b, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = '\0';
  for (int i = 0; i < b->depth && off < len; i++) {
    const struct frame *f = &b->stack[i];
    int w = 0;
    if (f->node->kind == YTREE_SEQ)
      w = snprintf(buf + off, len - off, "[%zu]", f->node->n);
    else if (f->pending_key != NULL && f->pending_key->kind == YTREE_SCALAR)
      w = snprintf(buf + off, len - off, "%s%.*s", off ? "." : "", 64, f->pending_key->str);
    if (w > 0)
      off += (size_t)w;
  }
  if (off >= len)
    buf[len - 1] = '\0';
}

static void error_at(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_at(struct builder *b, int line, int col, const char *fmt, ...) {
  char path[256];
  build_path(b, path, sizeof path);
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_add(b->diags, DIAG_ERROR, b->file, line, col, path, "%s", msg);
  b->errors++;
  b->doc.errors++;
}

static ytree_node *new_node(struct builder *b, ytree_kind kind, const yaml_mark_t *m) {
  if (++b->nodes > YTREE_MAX_NODES) {
    if (!b->failed)
      error_at(b, (int)m->line + 1, (int)m->column + 1,
               "too many YAML nodes in one file (more than %d)", YTREE_MAX_NODES);
    b->failed = 1;
    return NULL;
  }
  ytree_node *n = calloc(1, sizeof *n);
  if (n == NULL) {
    b->failed = 1;
    return NULL;
  }
  n->kind = kind;
  n->line = (int)m->line + 1;
  n->col = (int)m->column + 1;
  n->weight = 1;
  n->arena_next = b->doc.arena;
  b->doc.arena = n;
  return n;
}

static bool all_digits(const char *s, const char *set) {
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s != '_' && strchr(set, *s) == NULL)
      return false;
  return true;
}

static bool is_float(const char *s) {
  if (*s == '+' || *s == '-')
    s++;
  if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 || strcmp(s, ".INF") == 0)
    return true;
  int digits = 0;
  while (textutil_is_digit(*s)) {
    s++;
    digits++;
  }
  if (*s == '.') {
    s++;
    while (textutil_is_digit(*s)) {
      s++;
      digits++;
    }
  }
  if (digits == 0)
    return false;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-')
      s++;
    if (!all_digits(s, "0123456789"))
      return false;
    return true;
  }
  return *s == '\0';
}

/* Resolution of plain scalars.  Kubernetes reads YAML through a YAML 1.1
 * reader, so yes/no/on/off are booleans there and a string field written
 * as a bare `yes` fails to decode; podvisor reports the same. */
static void resolve_plain(ytree_node *n) {
  static const char *const trues[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"};
  static const char *const falses[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"};
  const char *s = n->str;
  if (n->len != strlen(s))
    return;
  if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
      strcmp(s, "NULL") == 0) {
    n->stype = YTREE_NULL;
    return;
  }
  for (size_t i = 0; i < sizeof trues / sizeof trues[0]; i++) {
    if (strcmp(s, trues[i]) == 0 || strcmp(s, falses[i]) == 0) {
      n->stype = YTREE_BOOL;
      n->bool_value = strcmp(s, trues[i]) == 0;
      return;
    }
  }
  const char *d = (*s == '+' || *s == '-') ? s + 1 : s;
  if (all_digits(d, "0123456789") ||
      (d[0] == '0' && (d[1] == 'x' || d[1] == 'X') && all_digits(d + 2, "0123456789abcdefABCDEF")) ||
      (d[0] == '0' && (d[1] == 'o') && all_digits(d + 2, "01234567")) ||
      (d[0] == '0' && (d[1] == 'b') && all_digits(d + 2, "01"))) {
    n->stype = YTREE_INT;
    return;
  }
  if (is_float(s) || strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0)
    n->stype = YTREE_FLOAT;
}

static int push_item(ytree_node *parent) {
  if (parent->n * (parent->kind == YTREE_MAP ? 2 : 1) + 2 > parent->cap) {
    size_t cap = parent->cap ? parent->cap * 2 : 8;
    ytree_node **items = realloc(parent->items, cap * sizeof *items);
    if (items == NULL)
      return -1;
    parent->items = items;
    parent->cap = cap;
  }
  return 0;
}

static void register_anchor(struct builder *b, const char *name, ytree_node *node) {
  if (name == NULL || node == NULL)
    return;
  struct anchor *a = calloc(1, sizeof *a);
  if (a == NULL || (a->name = strdup(name)) == NULL) {
    free(a);
    b->failed = 1;
    return;
  }
  unsigned h = hash_name(name);
  a->node = node;
  a->next = b->anchors[h];
  b->anchors[h] = a;
}

/* Attaches a finished node to the collection on top of the stack (or makes
 * it the document root). */
static void attach(struct builder *b, ytree_node *child) {
  if (child == NULL)
    return;
  if (b->depth == 0) {
    b->doc.root = child;
    return;
  }
  struct frame *f = &b->stack[b->depth - 1];
  ytree_node *p = f->node;
  if (p->kind == YTREE_SEQ) {
    if (push_item(p) < 0) {
      b->failed = 1;
      return;
    }
    p->items[p->n++] = child;
  } else if (f->pending_key == NULL) {
    f->pending_key = child;
    return; /* weight is added with the pair */
  } else {
    if (push_item(p) < 0) {
      b->failed = 1;
      return;
    }
    p->items[2 * p->n] = f->pending_key;
    p->items[2 * p->n + 1] = child;
    p->n++;
    p->weight += f->pending_key->weight;
    f->pending_key = NULL;
  }
  p->weight += child->weight;
}

struct keyref {
  const ytree_node *key;
  size_t pair;
};

static int cmp_keys(const void *a, const void *b) {
  const struct keyref *x = a, *y = b;
  size_t l = x->key->len < y->key->len ? x->key->len : y->key->len;
  int c = memcmp(x->key->str, y->key->str, l);
  if (c != 0)
    return c;
  if (x->key->len != y->key->len)
    return x->key->len < y->key->len ? -1 : 1;
  return (x->pair > y->pair) - (x->pair < y->pair); /* the earlier one first */
}

/* Drops pair i of map m (keeps order). */
static void drop_pair(ytree_node *m, size_t i) {
  memmove(&m->items[2 * i], &m->items[2 * i + 2], (m->n - i - 1) * 2 * sizeof *m->items);
  m->n--;
}

static bool key_is(const ytree_node *k, const char *s) {
  return k->kind == YTREE_SCALAR && k->stype != YTREE_NULL && strcmp(k->str, s) == 0 && k->len == strlen(s);
}

static void add_merged(struct builder *b, ytree_node *m, const ytree_node *src, int line, int col);

/* Reports every repeated key and keeps only its first definition (the
 * file is invalid anyway; keeping one avoids follow-up noise). */
static int report_duplicates(struct builder *b, ytree_node *m) {
  struct keyref *keys = malloc(m->n * sizeof *keys);
  bool *drop = calloc(m->n, sizeof *drop);
  if (keys == NULL || drop == NULL) {
    free(keys);
    free(drop);
    b->failed = 1;
    return -1;
  }
  for (size_t i = 0; i < m->n; i++)
    keys[i] = (struct keyref){ytree_key(m, i), i};
  qsort(keys, m->n, sizeof *keys, cmp_keys);
  size_t first = 0;
  for (size_t i = 1; i < m->n; i++) {
    const ytree_node *k = keys[i].key, *f = keys[first].key;
    if (k->len != f->len || memcmp(k->str, f->str, k->len) != 0) {
      first = i;
      continue;
    }
    char path[256], full[340];
    build_path(b, path, sizeof path);
    snprintf(full, sizeof full, "%s%s%.64s", path, path[0] ? "." : "", k->str);
    diag_add(b->diags, DIAG_ERROR, b->file, k->line, k->col, full,
             "duplicate key '%.64s' (first defined at line %d)", k->str, f->line);
    b->errors++;
    b->doc.errors++;
    drop[keys[i].pair] = true;
  }
  size_t out = 0;
  for (size_t i = 0; i < m->n; i++) {
    if (drop[i])
      continue;
    m->items[2 * out] = m->items[2 * i];
    m->items[2 * out + 1] = m->items[2 * i + 1];
    out++;
  }
  m->n = out;
  free(keys);
  free(drop);
  return 0;
}

/* Duplicate and non-scalar keys, then merge keys. */
static void finish_map(struct builder *b, ytree_node *m) {
  for (size_t i = 0; i < m->n;) {
    ytree_node *k = ytree_key(m, i);
    if (k->kind != YTREE_SCALAR) {
      bool placeholder = k->kind == YTREE_MAP && k->n == 1 && ytree_is_null(ytree_value(k, 0));
      error_at(b, k->line, k->col, "a mapping key must be a plain value, not %s%s", ytree_describe(k),
               placeholder ? " (is this an unrendered template placeholder like {{name}}?)" : "");
      drop_pair(m, i);
      continue;
    }
    i++;
  }
  if (m->n > 1 && report_duplicates(b, m) < 0)
    return;
  for (size_t i = 0; i < m->n; i++) {
    ytree_node *k = ytree_key(m, i);
    if (!key_is(k, "<<") || k->quoted)
      continue;
    ytree_node *v = ytree_value(m, i);
    int line = k->line, col = k->col;
    drop_pair(m, i);
    if (v->kind == YTREE_MAP) {
      add_merged(b, m, v, line, col);
    } else if (v->kind == YTREE_SEQ) {
      for (size_t j = 0; j < v->n; j++)
        add_merged(b, m, v->items[j], line, col);
    } else {
      error_at(b, line, col, "a merge key '<<' needs a mapping or a list of mappings, not %s",
               ytree_describe(v));
    }
    break; /* a second '<<' is a duplicate key, already reported */
  }
}

static void add_merged(struct builder *b, ytree_node *m, const ytree_node *src, int line, int col) {
  if (src->kind == YTREE_MAP && m->n + src->n > 10000) {
    error_at(b, line, col, "a merge key '<<' would build a mapping of more than 10000 keys");
    return;
  }
  if (src->kind != YTREE_MAP) {
    error_at(b, line, col, "a merge key '<<' needs a mapping, not %s", ytree_describe(src));
    return;
  }
  for (size_t i = 0; i < src->n && !b->failed; i++) {
    ytree_node *k = ytree_key(src, i);
    if (ytree_map_get(m, k->str) != NULL)
      continue; /* explicit keys and earlier merges win */
    if (push_item(m) < 0) {
      b->failed = 1;
      return;
    }
    m->items[2 * m->n] = k;
    m->items[2 * m->n + 1] = ytree_value(src, i);
    m->n++;
  }
}

static void on_alias(struct builder *b, const yaml_event_t *ev) {
  const char *name = (const char *)ev->data.alias.anchor;
  struct anchor *a = b->anchors[hash_name(name)];
  while (a != NULL && strcmp(a->name, name) != 0)
    a = a->next;
  const yaml_mark_t *m = &ev->start_mark;
  if (a == NULL) {
    error_at(b, (int)m->line + 1, (int)m->column + 1,
             "alias '*%.64s' refers to no earlier complete anchor", name);
    ytree_node *n = new_node(b, YTREE_SCALAR, m); /* a null keeps the tree's shape */
    if (n != NULL && (n->str = strdup("")) == NULL)
      b->failed = 1;
    if (n != NULL)
      n->stype = YTREE_NULL;
    attach(b, n);
    return;
  }
  b->alias_weight += a->node->weight;
  if (b->alias_weight > YTREE_MAX_ALIAS_WEIGHT) {
    error_at(b, (int)m->line + 1, (int)m->column + 1,
             "aliases expand to too much data (more than %d units); refusing an alias bomb",
             YTREE_MAX_ALIAS_WEIGHT);
    b->failed = 1;
    return;
  }
  attach(b, a->node);
}

static void on_scalar(struct builder *b, const yaml_event_t *ev) {
  ytree_node *n = new_node(b, YTREE_SCALAR, &ev->start_mark);
  if (n == NULL)
    return;
  size_t len = ev->data.scalar.length;
  n->str = malloc(len + 1);
  if (n->str == NULL) {
    b->failed = 1;
    return;
  }
  memcpy(n->str, ev->data.scalar.value, len);
  n->str[len] = '\0';
  n->len = len;
  n->weight += len / 16;
  n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
  const char *tag = (const char *)ev->data.scalar.tag;
  if (ev->data.scalar.plain_implicit && tag == NULL)
    resolve_plain(n);
  else if (tag != NULL && strcmp(tag, YAML_NULL_TAG) == 0)
    n->stype = YTREE_NULL;
  else if (tag != NULL && strcmp(tag, YAML_INT_TAG) == 0)
    n->stype = YTREE_INT;
  register_anchor(b, (const char *)ev->data.scalar.anchor, n);
  attach(b, n);
}

static void on_start(struct builder *b, const yaml_event_t *ev, ytree_kind kind) {
  if (b->depth >= YTREE_MAX_DEPTH) {
    error_at(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
             "collections nested deeper than %d levels", YTREE_MAX_DEPTH);
    b->failed = 1;
    return;
  }
  ytree_node *n = new_node(b, kind, &ev->start_mark);
  if (n == NULL)
    return;
  const yaml_char_t *anchor = kind == YTREE_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
  struct frame *f = &b->stack[b->depth++];
  f->node = n;
  f->pending_key = NULL;
  f->anchor = anchor != NULL ? strdup((const char *)anchor) : NULL;
}

static void on_end(struct builder *b) {
  if (b->depth == 0)
    return;
  struct frame *f = &b->stack[--b->depth];
  ytree_node *n = f->node;
  if (n->kind == YTREE_MAP)
    finish_map(b, n);
  register_anchor(b, f->anchor, n);
  free(f->anchor);
  f->anchor = NULL;
  attach(b, n);
}

static void syntax_error(struct builder *b, const yaml_parser_t *p) {
  const yaml_mark_t *m = &p->problem_mark;
  char msg[384];
  if (p->error == YAML_MEMORY_ERROR)
    snprintf(msg, sizeof msg, "out of memory while reading YAML");
  else if (p->context != NULL && (p->context_mark.line != m->line || p->context_mark.column != m->column))
    snprintf(msg, sizeof msg, "YAML syntax error: %s (%s at line %zu, column %zu)",
             p->problem ? p->problem : "unknown problem", p->context, p->context_mark.line + 1,
             p->context_mark.column + 1);
  else if (p->context != NULL)
    snprintf(msg, sizeof msg, "YAML syntax error: %s (%s)", p->problem ? p->problem : "unknown problem", p->context);
  else
    snprintf(msg, sizeof msg, "YAML syntax error: %s", p->problem ? p->problem : "unknown problem");
  diag_add(b->diags, DIAG_ERROR, b->file, (int)m->line + 1, (int)m->column + 1, "", "%s", msg);
  b->errors++;
}

static int push_doc(ytree_docs *out, ytree_doc *doc) {
  ytree_doc *items = realloc(out->items, (out->n + 1) * sizeof *items);
  if (items == NULL)
    return -1;
  out->items = items;
  out->items[out->n++] = *doc;
  memset(doc, 0, sizeof *doc);
  return 0;
}

/* Drops a document in progress (on error), freeing its open frames. */
static void abandon(struct builder *b) {
  while (b->depth > 0)
    free(b->stack[--b->depth].anchor);
  arena_free(b->doc.arena);
  memset(&b->doc, 0, sizeof b->doc);
}

int ytree_parse(const char *file, const char *buf, size_t len, ytree_docs *out, diag_list *diags) {
  struct builder b = {.file = file, .diags = diags};
  yaml_parser_t p;
  memset(out, 0, sizeof *out);
  if (!yaml_parser_initialize(&p)) {
    diag_add(diags, DIAG_ERROR, file, 0, 0, "", "out of memory starting the YAML reader");
    errno = ENOMEM;
    return -1;
  }
  yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
  int index = 0, done = 0;
  while (!done && !b.failed) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      syntax_error(&b, &p);
      break;
    }
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = 1; break;
    case YAML_DOCUMENT_START_EVENT:
      abandon(&b);
      anchors_clear(&b);
      b.doc.index = index++;
      b.doc.line = (int)ev.start_mark.line + 1;
      break;
    case YAML_DOCUMENT_END_EVENT:
      if (push_doc(out, &b.doc) < 0)
        b.failed = 1;
      break;
    case YAML_ALIAS_EVENT: on_alias(&b, &ev); break;
    case YAML_SCALAR_EVENT: on_scalar(&b, &ev); break;
    case YAML_SEQUENCE_START_EVENT: on_start(&b, &ev, YTREE_SEQ); break;
    case YAML_MAPPING_START_EVENT: on_start(&b, &ev, YTREE_MAP); break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: on_end(&b); break;
    default: break;
    }
    yaml_event_delete(&ev);
  }
  if (b.failed && b.errors == 0) {
    diag_add(diags, DIAG_ERROR, file, 0, 0, "", "out of memory while reading YAML");
    b.errors++;
  }
  abandon(&b);
  anchors_clear(&b);
  yaml_parser_delete(&p);
  if (b.errors > 0) {
    errno = EINVAL;
    return -1;
  }
  return 0;
}

void ytree_docs_free(ytree_docs *docs) {
  if (docs == NULL)
    return;
  for (size_t i = 0; i < docs->n; i++)
    arena_free(docs->items[i].arena);
  free(docs->items);
  memset(docs, 0, sizeof *docs);
}

ytree_node *ytree_map_get(const ytree_node *map, const char *key) {
  if (map == NULL || map->kind != YTREE_MAP)
    return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (key_is(ytree_key(map, i), key))
      return ytree_value(map, i);
  return NULL;
}

bool ytree_is_null(const ytree_node *n) { return n == NULL || (n->kind == YTREE_SCALAR && n->stype == YTREE_NULL); }

const char *ytree_describe(const ytree_node *n) {
  if (n == NULL)
    return "nothing";
  if (n->kind == YTREE_MAP)
    return "a mapping";
  if (n->kind == YTREE_SEQ)
    return "a list";
  switch (n->stype) {
  case YTREE_NULL: return "null";
  case YTREE_BOOL: return "a boolean";
  case YTREE_INT: return "an integer";
  case YTREE_FLOAT: return "a number";
  default: return "a string";
  }
}
