/* up_view.c - the status table of `podvisor up` (up_view.h): rows built
 * from each pod's last status, redrawn in place on a terminal, printed as
 * changes otherwise. */
#include "supervisor/cli/up_view.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

static void fmt_age(int64_t start_ns, char *buf, size_t len) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t s = start_ns > 0 ? ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - start_ns) / 1000000000 : 0;
  if (s < 0)
    s = 0;
  if (s < 120)
    snprintf(buf, len, "%llds", (long long)s);
  else if (s < 7200)
    snprintf(buf, len, "%lldm", (long long)(s / 60));
  else
    snprintf(buf, len, "%lldh", (long long)(s / 3600));
}

/* "Running", "Waiting:CrashLoopBackOff", "Terminated:Completed(0)"; *since
 * is the current run's start (ns), 0 when not running. */
static void fmt_state(const ctrstate *c, char *buf, size_t len, int64_t *since) {
  const char *reason = ctrstate_waiting_reason(c);
  *since = 0;
  if (reason != NULL) {
    snprintf(buf, len, "Waiting:%s", reason);
  } else if (c->state == CTRSTATE_RUNNING || c->state == CTRSTATE_STOPPING) {
    *since = c->started_at;
    snprintf(buf, len, "%s", c->state == CTRSTATE_STOPPING ? "Stopping" : "Running");
  } else {
    snprintf(buf, len, "Terminated:%s(%d)", ctrstate_term_reason_name(c->term.reason), c->term.exit_code);
  }
}

/* The table rows of one pod; rows end with the age column on a terminal. */
#define ROW_FMT "%-16.16s %-16.16s %-30.30s %8s"
static size_t pod_rows(const upod *u, char rows[][256], size_t max, bool with_age) {
  size_t n = 0;
  if (!u->have_status) {
    if (with_age)
      snprintf(rows[n++], 256, ROW_FMT " %6s", u->spec->name, "-",
               u->exit_status >= 0 ? "Exited" : "Starting", "-", "-");
    return n;
  }
  const ctrstate *lists[2] = {u->st.init, u->st.app};
  size_t counts[2] = {u->st.n_init, u->st.n_app};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < counts[k] && n < max; i++) {
      const ctrstate *c = &lists[k][i];
      char st[96], age[16], restarts[24];
      int64_t since;
      fmt_state(c, st, sizeof st, &since);
      fmt_age(since, age, sizeof age);
      snprintf(restarts, sizeof restarts, "%u", c->restart_count);
      int len = snprintf(rows[n], 256, ROW_FMT, u->spec->name, c->name, st, restarts);
      if (with_age && len > 0 && len < 256 - 8)
        snprintf(rows[n] + len, 256 - (size_t)len, " %6s", since > 0 ? age : "-");
      n++;
    }
  return n;
}

/* Not a terminal (a pipe, a file, CI logs): one line whenever a container's
 * state or restart count changes, and one when the pod finishes. */
void up_view_print_changes(upod *u) {
  static char rows[UP_MAX_ROWS][256];
  size_t nr = pod_rows(u, rows, UP_MAX_ROWS, false);
  for (size_t r = 0; r < nr; r++)
    if (strcmp(u->last_line[r], rows[r]) != 0) {
      snprintf(u->last_line[r], sizeof u->last_line[r], "%s", rows[r]);
      printf("%s\n", rows[r]);
    }
  if (up_phase_final(u->phase) && !u->phase_shown) {
    u->phase_shown = true;
    printf("podvisor up: pod %s %s\n", u->spec->name, u->phase);
  }
  fflush(stdout);
}

/* On a terminal: the whole table, redrawn in place. */
void up_view_redraw(up *x) {
  static char rows[UP_MAX_ROWS][256];
  if (x->lines > 0)
    printf("\033[%dA", x->lines);
  printf("\033[J" ROW_FMT " %6s\n", "POD", "CONTAINER", "STATE", "RESTARTS", "AGE");
  x->lines = 1;
  for (size_t p = 0; p < x->n; p++) {
    size_t nr = pod_rows(&x->pods[p], rows, UP_MAX_ROWS, true);
    for (size_t r = 0; r < nr; r++, x->lines++)
      printf("%s\n", rows[r]);
  }
  fflush(stdout);
}

static void on_redraw(uv_timer_t *t) {
  up_view_redraw(t->data);
}

/* A change on a terminal: one redraw for a burst of them. */
void up_view_schedule_redraw(up *x) {
  if (x->tty && !uv_is_active((uv_handle_t *)&x->redraw_timer))
    uv_timer_start(&x->redraw_timer, on_redraw, 30, 0);
}

/* Once a second: the AGE column. */
static void on_age(uv_timer_t *t) {
  up_view_redraw(t->data);
}

void up_view_start(up *x) {
  if (x->tty) {
    up_view_redraw(x);
    uv_timer_start(&x->age_timer, on_age, 1000, 1000); /* the AGE column */
  } else if (!x->logs) {
    printf(ROW_FMT "\n", "POD", "CONTAINER", "STATE", "RESTARTS");
    fflush(stdout);
  }
}

void up_view_final(up *x) {
  if (x->tty) {
    uv_timer_stop(&x->redraw_timer);
    up_view_redraw(x);
  }
}
