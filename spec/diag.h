/*
 * diag.h - diagnostics produced while reading pod manifests.
 *
 * Every problem podvisor finds in a manifest becomes one diagnostic: a
 * severity, the file, the 1-based line and column of the offending key or
 * value, the field path ("spec.containers[1].resources.limits.memory") and a
 * plain message written for the person who will fix the file.  The parser
 * collects all of them in one run instead of stopping at the first.
 *
 * Ownership: a diag_list owns copies of every string it holds.  Initialise
 * with diag_list_init (or zero it), release with diag_list_free (NULL is
 * fine).  Nothing here prints on its own: diag_format fills a caller buffer
 * and diag_fprint writes to the stream the caller chooses.
 */
#ifndef PODVISOR_SPEC_DIAG_H
#define PODVISOR_SPEC_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef enum diag_severity {
  DIAG_ERROR = 0,   /* the document is not applied */
  DIAG_WARNING = 1, /* applied; something the user wrote is ignored */
} diag_severity;

typedef struct diag {
  diag_severity severity;
  char *file;    /* as given to the parser; "<input>" when none */
  int line;      /* 1-based; 0 when the problem concerns the whole file */
  int col;       /* 1-based; 0 when unknown */
  char *path;    /* field path, "" for document-level problems */
  char *message; /* plain sentence without a trailing period */
} diag;

typedef struct diag_list {
  diag *items;
  size_t n, cap;
  size_t errors, warnings;
  int truncated; /* set once DIAG_LIST_MAX was reached; later ones dropped */
} diag_list;

/* A hostile file must not make podvisor allocate without bound: past this
 * many diagnostics in one list, further ones are counted but not stored. */
#define DIAG_LIST_MAX 1000

void diag_list_init(diag_list *l);
void diag_list_free(diag_list *l);

/* Appends one diagnostic (strings are copied).  Returns 0, or -1 with errno
 * ENOMEM (the counters are still updated so the verdict stays right). */
int diag_add(diag_list *l, diag_severity sev, const char *file, int line, int col, const char *path,
             const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* "file:line:col: error: path: message" (line/col and path left out when
 * unknown).  Returns the length snprintf would have written. */
int diag_format(const diag *d, char *buf, size_t len);

/* Writes diag_format's text and a newline to f. */
void diag_fprint(FILE *f, const diag *d);

/* "error" or "warning". */
const char *diag_severity_name(diag_severity sev);

/* Sorts by file, line, column (stable for equal positions) so output reads
 * top to bottom even though checks run in several passes. */
void diag_list_sort(diag_list *l);

#endif
