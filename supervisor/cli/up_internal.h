/*
 * up_internal.h - what cmd_up.c (`podvisor up`: launching, following and
 * stopping the pods' keepers) and up_view.c (the status table it prints)
 * share.  Not part of any public API: only those two files include it.
 *
 * Ownership: the `up` and its array of `upod` live in cmd_up()'s frame and
 * are cmd_up.c's alone; so is every handle embedded in them (the loop, the
 * signals, the timers, the keepers' shims and log watches), which cmd_up.c
 * initialises and closes.  up_view.c only reads the pods' state and writes
 * the view's own fields (up.lines, upod.last_line, upod.phase_shown), and
 * starts the two view timers (age_timer, redraw_timer); it never calls back
 * into cmd_up.c.
 */
#ifndef PODVISOR_CLI_UP_INTERNAL_H
#define PODVISOR_CLI_UP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/cli/up_logs.h"
#include "supervisor/core/error.h"
#include "supervisor/podctl/podctl.h"
#include "supervisor/shim/ctrstate.h"

/* The table rows one pod shows at most (its init and app containers). */
#define UP_MAX_ROWS 64

typedef struct up up;

typedef struct upod {
  up *up;
  const spec_pod *spec;
  podctl_shim *shim;
  ctrstate_pod st; /* the last status the keeper sent */
  bool have_status;
  char phase[16];
  bool phase_shown;
  int exit_status; /* -1 while the keeper runs */
  pv_err launch_err;
  int log_rfd; /* shim.log, from where this keeper started */
  uv_fs_event_t log_event;
  bool log_event_open;
  char err_partial[1024];
  size_t err_plen;
  up_logs logs; /* --logs */
  char last_line[UP_MAX_ROWS][256];
  /* A keeper that died on its own is started again (restartPolicy Always
   * or OnFailure) from this timer, on the same instance. */
  uv_timer_t relaunch_timer;
  bool relaunch_pending;
  unsigned deaths;      /* in a row, for the delay; a keeper that ran a minute resets it */
  uint64_t launched_ms; /* when the current keeper started */
  char key[PODPATHS_UID_MAX + 1];
} upod;

struct up {
  uv_loop_t loop;
  const char *root, *run_root, *log_max, *cgroup_parent; /* for a keeper started again */
  upod *pods;
  size_t n, alive;
  bool tty, logs, stopping, finishing;
  int signals_seen, failed, lines;
  uv_signal_t sigint, sigterm;
  uv_timer_t age_timer, redraw_timer;
};

/* A pod phase after which nothing of the pod runs again. */
static inline bool up_phase_final(const char *phase) {
  return strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
}

#endif
