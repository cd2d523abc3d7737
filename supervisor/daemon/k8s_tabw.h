/*
 * k8s_tabw.h - column alignment as Go's text/tabwriter does it, the way
 * kubectl prints tables.
 *
 * What it is for: kubectl aligns every table through a tabwriter, and its
 * exact output (column widths, where a column block ends, the trailing
 * spaces some lines keep) comes from that algorithm, not from a fixed
 * layout.  Writing the same tab-separated text through this module gives
 * the same bytes kubectl prints:
 *  - `kubectl get` (cli-runtime's printers.GetNewTabWriter): minwidth 6,
 *    padding 3, RememberWidths (the liggitt/tabwriter fork): K8S_TABW_GET.
 *  - `kubectl describe` (describe.go's tabbedString): minwidth 0, padding 2,
 *    no remembered widths: K8S_TABW_DESCRIBE.
 *
 * The algorithm: text is cells terminated by '\t'; the text between the
 * last tab of a line and its newline is the line's last cell and belongs to
 * no column.  A column block is a run of consecutive lines that all have a
 * tab-terminated cell in that column; its width is the widest cell (in
 * code points) plus padding, at least minwidth.  Every tab-terminated cell
 * is padded with spaces to its block's width, so a line that ends with a
 * tab keeps trailing spaces; the last cell is never padded.  A line
 * without a tab ends every block.  With remembered widths, a column is
 * never narrower than it was in an earlier block or flush (kubectl get -w
 * keeps its columns aligned across watch events that way).
 *
 * Usage:
 *   k8s_tabw tw;  k8s_tabw_init(&tw, K8S_TABW_GET);
 *   k8s_tabw_printf(&tw, "%s\t%s\n", "NAME", "READY");  ...
 *   k8s_buf out = {0};
 *   if (k8s_tabw_flush(&tw, &out) < 0) ...out of memory...
 *   k8s_tabw_free(&tw);
 *
 * Contract: pure (no I/O); writes never fail visibly, an allocation
 * failure is reported by the next flush (-1, errno ENOMEM).  A flush
 * formats and drops everything written so far and keeps the remembered
 * widths.  k8s_tabw_free() accepts a zeroed writer.
 */
#ifndef PODVISOR_DAEMON_K8S_TABW_H
#define PODVISOR_DAEMON_K8S_TABW_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/daemon/k8s_buf.h"

#define K8S_TABW_GET 6, 3, true
#define K8S_TABW_DESCRIBE 0, 2, false

typedef struct k8s_tabw {
  int minwidth, padding;
  bool remember;
  k8s_buf in;     /* text written since the last flush */
  int *maxwidths; /* remembered column widths */
  size_t n_max;
  bool failed;
} k8s_tabw;

void k8s_tabw_init(k8s_tabw *w, int minwidth, int padding, bool remember_widths);
void k8s_tabw_write(k8s_tabw *w, const char *s, size_t n);
void k8s_tabw_puts(k8s_tabw *w, const char *s);
void k8s_tabw_printf(k8s_tabw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the aligned text of everything written since the last flush to
 * out; 0, or -1 with errno ENOMEM (out then holds a partial text). */
int k8s_tabw_flush(k8s_tabw *w, k8s_buf *out);

void k8s_tabw_free(k8s_tabw *w);

#endif
