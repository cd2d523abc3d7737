/*
 * fake_runtime.h - a runtime (supervisor/shim/runtime.h) for unit tests of
 * the keeper's orchestration: no root, no namespace, no process.
 *
 * A "process" (a container's init, or a hook or exec probe run inside one)
 * is a timerfd: it turns readable when the process has exited, as a pidfd
 * does, either after the time its script gives or at once when a signal
 * ends it.  Scripts say, per container name and run, what each run does
 * (fail to create or start, run for a while or forever, exit with a code,
 * ignore SIGTERM), and per command (argv[0] of a hook or exec probe) what
 * the process does.  Every call the keeper makes is recorded, in order, as
 * a line ("create web#0", "start web#0", "kill web#0 15", "exec web#0
 * prestop", "destroy web#0"), so tests assert on what was asked and in
 * which order, never on elapsed time.
 */
#ifndef PODVISOR_TESTS_FAKE_RUNTIME_H
#define PODVISOR_TESTS_FAKE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/shim/runtime.h"

#define FAKE_AT_ONCE -1 /* run_ms: exits as soon as it starts */

typedef struct fake_script {
  const char *name; /* container, or a command's argv[0]; NULL ends a list */
  int from_run;     /* applies to runs >= from_run (the latest match wins) */
  bool create_fails, start_fails;
  int run_ms; /* until it exits by itself; 0: never (until a signal ends it) */
  int exit_code;
  bool ignore_term;
  bool term_exits_0; /* SIGTERM makes it exit 0 (a graceful shutdown) */
  bool oom;
} fake_script;

typedef struct fake_runtime {
  const fake_script *scripts;
  bool sandbox_fails; /* sandbox_ready() fails (once it has, it keeps failing) */
  size_t pending;     /* cgroups left pending, drained by collect() one at a time */
  char log[256][64];  /* every call, in order */
  size_t n_log;
  int live; /* processes that have not been reaped */
  int ctrs; /* containers created and not destroyed */
} fake_runtime;

extern const runtime_ops fake_runtime_ops;

/* The index of the first line of the call log equal to line at or after
 * from, or -1. */
int fake_find(const fake_runtime *f, const char *line, int from);
/* How many lines of the call log start with prefix. */
int fake_count(const fake_runtime *f, const char *prefix);

#endif
