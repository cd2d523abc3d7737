/*
 * up_logs.h - `podvisor up --logs`: one pod's CRI log files followed
 * through inotify and printed as "pod/container | text".
 *
 * The pod instance's log directory (<root>/logs/<ns>_<name>_<uid>,
 * podpaths.h) holds one directory per container and in it one file per
 * run, <restart>.log (rotated files aside).  A uv_fs_event on the log
 * directory notices new containers, one on each container's directory
 * notices new runs and new lines; each event reads what was added, so
 * nothing polls.  Runs are followed in order: a run's remaining lines are
 * printed before the next run's.  Partial CRI records ("P") are joined up to
 * 64 KiB, and a line still being written is read again once complete.  The
 * directory is this instance's alone, so every line in it is this run's.
 *
 * Ownership: the up_logs is the caller's, its handles are embedded in
 * heap structs it owns; up_logs_stop() closes them (after a last read) and
 * up_logs_free() frees them once the loop has run their close callbacks.
 * Output goes to stdout.
 */
#ifndef PODVISOR_CLI_UP_LOGS_H
#define PODVISOR_CLI_UP_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define UP_LOGS_MAX_CONTAINERS 64

struct up_follow;

typedef struct up_logs {
  uv_loop_t *loop;
  const char *pod; /* borrowed: the pod's name */
  char *dir;
  uv_fs_event_t dir_event;
  bool dir_open;
  struct up_follow *f[UP_LOGS_MAX_CONTAINERS];
  size_t nf;
} up_logs;

void up_logs_init(up_logs *l);
/* Starts following dir (the keeper has created it) and reads what is there. */
void up_logs_start(up_logs *l, uv_loop_t *loop, const char *pod, const char *dir);
/* Reads and prints what is new. */
void up_logs_scan(up_logs *l);
/* A last read, then the handles close. */
void up_logs_stop(up_logs *l);
/* After the loop ran out. */
void up_logs_free(up_logs *l);

#endif
