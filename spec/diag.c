/* diag.c - the diagnostics list (see diag.h). */
#include "spec/diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_list_init(diag_list *l) {
  if (l != NULL)
    memset(l, 0, sizeof *l);
}

void diag_list_free(diag_list *l) {
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n; i++) {
    free(l->items[i].file);
    free(l->items[i].path);
    free(l->items[i].message);
  }
  free(l->items);
  memset(l, 0, sizeof *l);
}

int diag_add(diag_list *l, diag_severity sev, const char *file, int line, int col, const char *path,
             const char *fmt, ...) {
  if (l == NULL)
    return 0;
  if (sev == DIAG_ERROR)
    l->errors++;
  else
    l->warnings++;
  if (l->n >= DIAG_LIST_MAX) {
    l->truncated = 1;
    return 0;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    diag *items = realloc(l->items, cap * sizeof *items);
    if (items == NULL)
      return -1;
    l->items = items;
    l->cap = cap;
  }
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  int r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  diag *d = &l->items[l->n];
  d->severity = sev;
  d->line = line;
  d->col = col;
  d->file = strdup(file != NULL ? file : "<input>");
  d->path = strdup(path != NULL ? path : "");
  d->message = r < 0 ? NULL : msg;
  if (d->file == NULL || d->path == NULL || d->message == NULL) {
    free(d->file);
    free(d->path);
    free(d->message);
    errno = ENOMEM;
    return -1;
  }
  l->n++;
  return 0;
}

const char *diag_severity_name(diag_severity sev) { return sev == DIAG_ERROR ? "error" : "warning"; }

int diag_format(const diag *d, char *buf, size_t len) {
  char pos[48] = "";
  if (d->line > 0 && d->col > 0)
    snprintf(pos, sizeof pos, ":%d:%d", d->line, d->col);
  else if (d->line > 0)
    snprintf(pos, sizeof pos, ":%d", d->line);
  return snprintf(buf, len, "%s%s: %s: %s%s%s", d->file, pos, diag_severity_name(d->severity),
                  d->path, d->path[0] ? ": " : "", d->message);
}

void diag_fprint(FILE *f, const diag *d) {
  char small[512];
  int n = diag_format(d, small, sizeof small);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    fprintf(f, "%s\n", small);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (big == NULL) {
    fprintf(f, "%s...\n", small);
    return;
  }
  diag_format(d, big, (size_t)n + 1);
  fprintf(f, "%s\n", big);
  free(big);
}

/* A merge sort keeps equal positions in insertion order, which qsort does
 * not promise; the lists are short, so the scratch array is cheap. */
static int before(const diag *a, const diag *b) {
  int c = strcmp(a->file, b->file);
  if (c != 0)
    return c < 0;
  if (a->line != b->line)
    return a->line < b->line;
  return a->col < b->col;
}

void diag_list_sort(diag_list *l) {
  if (l == NULL || l->n < 2)
    return;
  diag *tmp = malloc(l->n * sizeof *tmp);
  if (tmp == NULL)
    return;
  for (size_t width = 1; width < l->n; width *= 2) {
    for (size_t lo = 0; lo < l->n; lo += 2 * width) {
      size_t mid = lo + width < l->n ? lo + width : l->n;
      size_t hi = lo + 2 * width < l->n ? lo + 2 * width : l->n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] = before(&l->items[j], &l->items[i]) ? l->items[j++] : l->items[i++];
      while (i < mid)
        tmp[k++] = l->items[i++];
      while (j < hi)
        tmp[k++] = l->items[j++];
    }
    memcpy(l->items, tmp, l->n * sizeof *tmp);
  }
  free(tmp);
}
