/* k8s_tabw.c - Go's text/tabwriter column blocks (k8s_tabw.h).
 *
 * format() is the recursion of Go's Writer.format: for the column at the
 * current depth it finds each block of consecutive lines that have a
 * tab-terminated cell there, sizes the block, and formats the columns to
 * its right inside the block before moving on; lines outside any block are
 * written with the widths known so far. */
#include "supervisor/daemon/k8s_tabw.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell {
  size_t off, size; /* bytes in the input */
  int width;        /* code points */
} cell;

typedef struct line {
  size_t first, n; /* cells[first .. first+n) */
  bool newline;    /* ended by '\n' (only the very last line may not be) */
} line;

typedef struct fmt {
  k8s_tabw *w;
  const char *text;
  cell *cells;
  line *lines;
  size_t n_lines;
  int *widths; /* one per column to the left of the current depth */
  size_t depth;
  k8s_buf *out;
  bool failed;
} fmt;

void k8s_tabw_init(k8s_tabw *w, int minwidth, int padding, bool remember_widths) {
  *w = (k8s_tabw){.minwidth = minwidth, .padding = padding, .remember = remember_widths};
}

void k8s_tabw_write(k8s_tabw *w, const char *s, size_t n) {
  k8s_buf_add(&w->in, s, n);
}

void k8s_tabw_puts(k8s_tabw *w, const char *s) {
  k8s_buf_add(&w->in, s, strlen(s));
}

void k8s_tabw_printf(k8s_tabw *w, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = NULL;
  int n = vasprintf(&s, f, ap);
  va_end(ap);
  if (n < 0) {
    w->failed = true;
    return;
  }
  k8s_buf_add(&w->in, s, (size_t)n);
  free(s);
}

static int utf8_width(const char *s, size_t n) {
  int w = 0;
  for (size_t i = 0; i < n; i++)
    w += ((unsigned char)s[i] & 0xc0) != 0x80;
  return w;
}

/* Splits text into lines of cells: counts first (cells, lines), then fills. */
static bool split(fmt *f, const char *text, size_t len) {
  size_t nc = 1, nl = 1;
  for (size_t i = 0; i < len; i++)
    nc += text[i] == '\t' || text[i] == '\n', nl += text[i] == '\n';
  f->cells = calloc(nc, sizeof *f->cells);
  f->lines = calloc(nl, sizeof *f->lines);
  f->widths = calloc(nc, sizeof *f->widths);
  if (f->cells == NULL || f->lines == NULL || f->widths == NULL)
    return false;
  size_t c = 0, l = 0, start = 0;
  f->lines[0].first = 0;
  for (size_t i = 0; i <= len; i++) {
    bool end = i == len;
    if (!end && text[i] != '\t' && text[i] != '\n')
      continue;
    if (end && start == len && f->lines[l].n == 0)
      break; /* the text ended with a newline: no partial last line */
    f->cells[c++] = (cell){start, i - start, utf8_width(text + start, i - start)};
    f->lines[l].n++;
    start = i + 1;
    if (!end && text[i] == '\n') {
      f->lines[l].newline = true;
      f->lines[++l] = (line){.first = c};
    }
  }
  f->n_lines = f->lines[l].n > 0 ? l + 1 : l;
  return true;
}

static void write_lines(fmt *f, size_t line0, size_t line1) {
  for (size_t i = line0; i < line1; i++) {
    const line *ln = &f->lines[i];
    for (size_t j = 0; j < ln->n; j++) {
      const cell *c = &f->cells[ln->first + j];
      k8s_buf_add(f->out, f->text + c->off, c->size);
      if (j < f->depth && f->widths[j] > c->width)
        k8s_buf_repeat(f->out, ' ', (size_t)(f->widths[j] - c->width));
    }
    if (ln->newline)
      k8s_buf_putc(f->out, '\n');
  }
}

/* liggitt/tabwriter's RememberWidths: the column never shrinks. */
static int remember(fmt *f, int width) {
  k8s_tabw *w = f->w;
  if (w->n_max < f->depth) {
    int *m = realloc(w->maxwidths, f->depth * sizeof *m);
    if (m == NULL) {
      f->failed = true;
      return width;
    }
    memcpy(m + w->n_max, f->widths + w->n_max, (f->depth - w->n_max) * sizeof *m);
    w->maxwidths = m;
    w->n_max = f->depth;
  }
  if (w->n_max == f->depth) {
    int *m = realloc(w->maxwidths, (w->n_max + 1) * sizeof *m);
    if (m == NULL) {
      f->failed = true;
      return width;
    }
    w->maxwidths = m;
    w->maxwidths[w->n_max++] = width;
  } else if (w->maxwidths[f->depth] > width) {
    width = w->maxwidths[f->depth];
  } else {
    w->maxwidths[f->depth] = width;
  }
  return width;
}

static void format(fmt *f, size_t line0, size_t line1) {
  size_t column = f->depth;
  for (size_t cur = line0; cur < line1; cur++) {
    if (column + 1 >= f->lines[cur].n)
      continue; /* no tab-terminated cell in this column */
    write_lines(f, line0, cur);
    line0 = cur;
    int width = f->w->minwidth;
    for (; cur < line1 && column + 1 < f->lines[cur].n; cur++) {
      int cw = f->cells[f->lines[cur].first + column].width + f->w->padding;
      if (cw > width)
        width = cw;
    }
    if (f->w->remember)
      width = remember(f, width);
    f->widths[f->depth++] = width;
    format(f, line0, cur);
    f->depth--;
    line0 = cur;
  }
  write_lines(f, line0, line1);
}

int k8s_tabw_flush(k8s_tabw *w, k8s_buf *out) {
  fmt f = {.w = w, .out = out};
  bool ok = !w->failed && !w->in.failed;
  if (ok && w->in.len > 0) {
    f.text = w->in.data;
    ok = split(&f, w->in.data, w->in.len);
    if (ok)
      format(&f, 0, f.n_lines);
  }
  ok = ok && !f.failed && !out->failed;
  free(f.cells);
  free(f.lines);
  free(f.widths);
  k8s_buf_free(&w->in);
  w->failed = false;
  if (!ok) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

void k8s_tabw_free(k8s_tabw *w) {
  k8s_buf_free(&w->in);
  free(w->maxwidths);
  *w = (k8s_tabw){0};
}
