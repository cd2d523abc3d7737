/*
 * up_view.h - the status table of `podvisor up`: one row per container
 * (POD, CONTAINER, STATE, RESTARTS, and AGE on a terminal).
 *
 * On a terminal the whole table is redrawn in place: once at the start,
 * once a second for the AGE column (age_timer), once for a burst of changes
 * (redraw_timer, 30 ms), and a last time at the end.  Otherwise (a pipe, a
 * file, CI logs) a header line is printed at the start and then one line
 * whenever a container's state or restart count changes, and one when a pod
 * finishes.  With --logs (never a terminal view) nothing of the table is
 * printed: the log lines are the output.
 *
 * Ownership: the `up` and its pods are the caller's (up_internal.h);
 * these functions read them, write only the view's own fields, and start
 * or stop the two view timers, which the caller has initialised (with
 * .data = the up) and closes.  Output goes to stdout, flushed each time.
 * Nothing here calls back into cmd_up.c.
 */
#ifndef PODVISOR_CLI_UP_VIEW_H
#define PODVISOR_CLI_UP_VIEW_H

#include "supervisor/cli/up_internal.h"

/* Before any pod is launched: the first (empty) table and the AGE timer on
 * a terminal, the header line otherwise, nothing with --logs. */
void up_view_start(up *x);
/* On a terminal: the whole table, redrawn in place. */
void up_view_redraw(up *x);
/* A change on a terminal: one redraw for a burst of them (no-op otherwise). */
void up_view_schedule_redraw(up *x);
/* Not a terminal: the lines of what changed in pod u since last time. */
void up_view_print_changes(upod *u);
/* Every keeper is gone: on a terminal, a pending redraw is dropped and the
 * final table drawn. */
void up_view_final(up *x);

#endif
