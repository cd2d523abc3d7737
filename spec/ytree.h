/*
 * ytree.h - a YAML document tree with the position of every node.
 *
 * libyaml's own document API throws positions of keys away and does not
 * check duplicate keys, so podvisor builds its own tree from libyaml's event
 * stream.  The builder:
 *  - keeps the 1-based line:col of every key and value;
 *  - reports duplicate mapping keys and non-scalar keys as errors;
 *  - resolves aliases by sharing the anchored node (the tree is a DAG), and
 *    charges each alias the size of what it points at against a budget, so
 *    an "alias bomb" is refused instead of expanding;
 *  - applies merge keys ("<<: *base"), as Kubernetes' YAML reader does;
 *  - bounds nesting depth and the number of nodes;
 *  - reports YAML syntax errors with libyaml's position.
 *
 * Ownership: ytree_parse returns documents the caller frees with
 * ytree_docs_free.  Every node belongs to its document's arena; the shared
 * nodes an alias points at are therefore freed exactly once.
 */
#ifndef PODVISOR_SPEC_YTREE_H
#define PODVISOR_SPEC_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/diag.h"

#define YTREE_MAX_DEPTH 64         /* nesting of collections */
#define YTREE_MAX_NODES 400000     /* nodes in one file */
#define YTREE_MAX_ALIAS_WEIGHT 1000000 /* total size reachable through aliases */

typedef enum ytree_kind { YTREE_SCALAR = 0, YTREE_MAP, YTREE_SEQ } ytree_kind;

/* How a plain scalar resolves (YAML 1.1 booleans included, as Kubernetes'
 * reader accepts yes/no/on/off); quoted and block scalars are strings. */
typedef enum ytree_stype {
  YTREE_STR = 0,
  YTREE_NULL,
  YTREE_BOOL,
  YTREE_INT,
  YTREE_FLOAT,
} ytree_stype;

typedef struct ytree_node {
  ytree_kind kind;
  int line, col;   /* 1-based start of the node */
  /* scalars */
  char *str;       /* NUL-terminated copy; may hold NUL bytes before len */
  size_t len;
  ytree_stype stype;
  bool quoted;     /* written quoted or as a block scalar */
  bool bool_value; /* for YTREE_BOOL */
  /* collections: a sequence has n items; a mapping has n pairs, with the key
   * of pair i at items[2*i] and its value at items[2*i+1] */
  size_t n, cap;
  struct ytree_node **items;
  size_t weight;   /* nodes + bytes/16 below and including this one */
  struct ytree_node *arena_next;
} ytree_node;

typedef struct ytree_doc {
  ytree_node *root; /* NULL for an empty document */
  int index;        /* 0-based number in the stream */
  int line;         /* line where the document starts */
  size_t errors;    /* problems found while building it (duplicate keys...) */
  ytree_node *arena;
} ytree_doc;

typedef struct ytree_docs {
  ytree_doc *items;
  size_t n;
} ytree_docs;

/* Parses all documents of buf.  Problems go to diags labelled with file.
 * Returns 0 when the whole stream was read without error, -1 otherwise;
 * documents complete before a syntax error are still returned. */
int ytree_parse(const char *file, const char *buf, size_t len, ytree_docs *out, diag_list *diags);

void ytree_docs_free(ytree_docs *docs);

/* Mapping lookup by key text; NULL when absent. */
ytree_node *ytree_map_get(const ytree_node *map, const char *key);

/* Mapping accessors by pair index. */
static inline ytree_node *ytree_key(const ytree_node *m, size_t i) { return m->items[2 * i]; }
static inline ytree_node *ytree_value(const ytree_node *m, size_t i) { return m->items[2 * i + 1]; }

/* True for a null scalar (~, null, empty). */
bool ytree_is_null(const ytree_node *n);

/* "a string", "an integer", "a mapping", ... for type error messages. */
const char *ytree_describe(const ytree_node *n);

#endif
