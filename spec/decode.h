/*
 * decode.h - typed reading of ytree nodes with diagnostics (internal to spec/).
 *
 * A decode context carries the file name, the diagnostics list and the
 * field path of the node being read ("spec.containers[1].ports[0]").  The
 * getters check the YAML type the way Kubernetes' JSON decoding does (a
 * quoted "80" is not an integer, a bare yes is not a string), report
 * problems at the node's line:col and keep going, so one run finds every
 * problem.  Strings handed out are malloc'd copies owned by the caller.
 */
#ifndef PODVISOR_SPEC_DECODE_H
#define PODVISOR_SPEC_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/diag.h"
#include "spec/schema.h"
#include "spec/spec.h"
#include "spec/ytree.h"

#define DECODE_PATH_MAX 512

typedef struct decode_ctx {
  const char *file;
  diag_list *diags;
  char path[DECODE_PATH_MAX];
  size_t plen;
  size_t errors, warnings; /* of the current document */
  int oom;                 /* an allocation failed; the document is invalid */
  const ytree_node *skip_key; /* an unknown key already reported with more context */
} decode_ctx;

/* Path handling: push returns the length to restore with decode_pop. */
size_t decode_push_key(decode_ctx *c, const char *key);
size_t decode_push_index(decode_ctx *c, size_t i);
void decode_pop(decode_ctx *c, size_t saved);

/* Diagnostics at a node (or at line 0 when NULL) with the current path. */
void decode_error(decode_ctx *c, const ytree_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void decode_warn(decode_ctx *c, const ytree_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same at map's value for key, with key pushed on the path meanwhile. */
void decode_error_key(decode_ctx *c, const ytree_node *map, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void decode_warn_key(decode_ctx *c, const ytree_node *map, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* strdup that records an allocation failure in c. */
char *decode_strdup(decode_ctx *c, const char *s);

/* Checks every key of map against the schema of o: unknown keys are errors
 * with a hint, warned and refused fields are reported with their reason.
 * Returns false when map is not a mapping (already reported). */
bool decode_check_keys(decode_ctx *c, const ytree_node *map, schema_object o);

/* Requires a mapping (null counts as absent: returns false quietly). */
bool decode_is_map(decode_ctx *c, const ytree_node *n);

/* Field getters.  Each looks key up in map, pushes it on the path, and
 * returns 1 when a value was stored, 0 when the key is absent or null
 * (then "required" gives an error), -1 on a reported error. */
int decode_string(decode_ctx *c, const ytree_node *map, const char *key, bool required, char **out);
int decode_int(decode_ctx *c, const ytree_node *map, const char *key, int64_t min, int64_t max, int64_t *out);
int decode_bool(decode_ctx *c, const ytree_node *map, const char *key, bool *out);
int decode_strv(decode_ctx *c, const ytree_node *map, const char *key, spec_strv *out);
/* An enum: stores the index of the matching name in names[]. */
int decode_enum(decode_ctx *c, const ytree_node *map, const char *key, const char *const *names, size_t n,
                int *out);
/* A string-to-string mapping (labels, annotations), sorted by key. */
int decode_string_map(decode_ctx *c, const ytree_node *map, const char *key, spec_kvs *out);

/* The text of a scalar node as a string-typed value, or NULL after
 * reporting a type error ("expected a string, got an integer"). */
const char *decode_scalar_string(decode_ctx *c, const ytree_node *n);

/* The text of a quantity-valued node: a string or a plain number. */
const char *decode_scalar_quantity(decode_ctx *c, const ytree_node *n);

/* Kubernetes IntOrString (probe ports): stores a number 1..65535 in *num
 * or a port name in *name (malloc'd).  Returns 1, 0 (absent) or -1. */
int decode_port_ref(decode_ctx *c, const ytree_node *map, const char *key, int *num, char **name);

/* True when path has a ".." segment (subPath and hostPath checks). */
bool decode_has_backsteps(const char *path);

void decode_strv_free(spec_strv *v);
void decode_kvs_free(spec_kvs *v);

#endif
