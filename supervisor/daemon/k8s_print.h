/*
 * k8s_print.h - kubectl's printing of server-side Tables, for `podvisor
 * get`: the same text kubectl 1.32 prints from the same Table.
 *
 * What it is for: the CLI asks the daemon for a Table (k8s_table.h), as
 * kubectl does, and prints it here; so `podvisor get pods` and `kubectl
 * get pods` against the daemon print the same bytes.  The rules are
 * cli-runtime's HumanReadablePrinter (printers/tableprinter.go):
 *  - a header line of the column names in upper case ("NOMINATED NODE"),
 *    then one line per row; cells separated by tabs and aligned by the
 *    tabwriter of kubectl get (K8S_TABW_GET: 3 spaces between columns at
 *    least, columns at least 6 wide, the last column not padded);
 *  - columns with priority != 0 only with wide (-o wide);
 *  - with_namespace (-A): a NAMESPACE column first, from each row's object
 *    metadata.namespace;
 *  - a table without rows prints nothing, not even its header (kubectl
 *    then says "No resources found": k8s_print_no_resources());
 *  - string cells are cut at the first \n, \r or \f and end in "..." when
 *    cut; ESC is shown as "^[" (cli-runtime's terminal escaping); numbers
 *    and booleans print as Go's %v; null prints nothing;
 *  - a printer fed several tables (kubectl get -w: the list, then one
 *    Table per watch event) prints the header once, takes the columns of
 *    the last table for a table without column definitions (the watch
 *    events after the first), prints a header again only when the columns
 *    change, and keeps column widths from flush to flush.
 *
 * Usage:
 *   k8s_printer pr;  k8s_printer_init(&pr, &(k8s_print_opts){.wide = true});
 *   k8s_printer_table(&pr, table, &err);       // buffers
 *   char *text = k8s_printer_flush(&pr, &err);  // what to write now
 *   ... more tables and flushes for -w ...
 *   k8s_printer_free(&pr);
 *
 * Contract: pure; never prints, the caller writes the text.  Returns 0 /
 * text, or -1 / NULL with err (ENOMEM; EINVAL for a document that is not a
 * Table).  k8s_printer_free() accepts a zeroed printer.
 */
#ifndef PODVISOR_DAEMON_K8S_PRINT_H
#define PODVISOR_DAEMON_K8S_PRINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "supervisor/core/error.h"
#include "supervisor/daemon/k8s_tabw.h"

typedef struct k8s_print_opts {
  bool wide;           /* -o wide */
  bool with_namespace; /* -A, --all-namespaces */
  bool no_headers;     /* --no-headers */
} k8s_print_opts;

typedef struct k8s_printer {
  k8s_print_opts opts;
  k8s_tabw tw;
  json_t *last_columns; /* the column definitions of the last table with some */
  bool printed_headers;
} k8s_printer;

void k8s_printer_init(k8s_printer *pr, const k8s_print_opts *o);
int k8s_printer_table(k8s_printer *pr, const json_t *table, pv_err *err);
char *k8s_printer_flush(k8s_printer *pr, pv_err *err);
void k8s_printer_free(k8s_printer *pr);

/* One table, printed and flushed. */
char *k8s_print_table(const json_t *table, const k8s_print_opts *o, pv_err *err);

/* -o name: "pod/web\n" for an object, one line per item for a list (the
 * kind in lower case; a list's items without a kind take the list's kind
 * without "List"). */
char *k8s_print_names(const json_t *obj_or_list, pv_err *err);

/* kubectl get's message (on stderr) when nothing was printed: "No
 * resources found in <ns> namespace.", or "No resources found" for -A
 * (ns NULL). */
void k8s_print_no_resources(const char *ns, char *buf, size_t len);

#endif
