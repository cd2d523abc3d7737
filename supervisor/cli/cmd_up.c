/*
 * cmd_up.c - `podvisor up [--logs] [--log-max-size SIZE] FILE|DIR...`: run pod
 * manifests in the foreground until Ctrl-C or SIGTERM.
 *
 * Every file is parsed and validated first; if any has an error, every
 * diagnostic is printed and nothing starts (exit 1).  Then every pod is
 * launched at once through podctl (supervisor/podctl/podctl.h: a new
 * instance each, a keeper process per pod in its own session, so a
 * terminal's Ctrl-C reaches only `up`), and followed through its keeper's
 * watch stream: `up` itself only renders and handles signals, on one libuv
 * loop, and polls nothing.  A compact status table is redrawn in place on a
 * terminal (with an AGE column, refreshed once a second), or printed one
 * line per change otherwise.  --logs follows the pods' CRI log files through
 * inotify and prints every line of this run, prefixed "pod/container | ", as
 * compose does.
 *
 * On SIGINT/SIGTERM every pod is stopped through podctl (its keeper's
 * graceful stop); `up` waits for all of them, prints every pod's final
 * state, and exits 0.  A second Ctrl-C is only acknowledged: the keepers are
 * already stopping and each kills its containers when their
 * terminationGracePeriodSeconds ends; killing them would leave their
 * cgroups and directories behind.
 *
 * One bad pod does not hurt the others: a pod whose keeper could not set it
 * up (or could not be started at all) is reported and counted as a Failed
 * pod, the other pods keep running, and `up` exits 1 at the end (after
 * Ctrl-C, or once every pod has finished).  When every pod has reached a
 * terminal phase (Succeeded or Failed: never with restartPolicy Always),
 * `up` stops the keepers by itself and exits 0 if all succeeded, else 1, as
 * `docker compose up` does once every container has exited.
 *
 * A keeper that dies on its own (kill -9, a crash) takes its containers
 * with it (PR_SET_PDEATHSIG).  `up` then at once marks the pod's status
 * (every live container terminated, reason ShimDied, exit 137) and removes
 * what the keeper left (its cgroups, socket, upper dirs: podctl_clean_dead),
 * and, as the pod's restartPolicy asks, starts a new keeper on the same
 * instance after 1 s, doubling up to 60 s for deaths in a row (Always,
 * OnFailure), which carries the restart counts on; with Never the pod has
 * Failed and nothing of it is left.
 *
 * A keeper's stderr goes to its run directory's shim.log, never to `up`'s
 * own stderr: a keeper must not block on a pipe nobody reads or die with
 * `up`'s terminal.  `up` follows that file (inotify) and copies new lines to
 * its stderr prefixed with the pod's name.
 *
 * Cgroups: the pods' go under --cgroup-parent (default "podvisor"); without
 * it, `up` started in a delegated cgroup v2 subtree first moves itself to
 * <delegated>/supervisor and puts the pods under <delegated>/podvisor
 * (resource_manager_nest, resource.h).
 *
 * User namespaces: --userns-pool FIRST:COUNT is the pool of host id ranges
 * of the pods with hostUsers: false (idpool.h), checked before anything
 * starts and handed to the keepers in their environment; without it,
 * PODVISOR_USERNS_POOL or the default (65536:1024).
 *
 * Modules: this file owns the run's state (the `up` and its pods,
 * up_internal.h) and every libuv handle in it, which it initialises and
 * closes in finish(); it launches, follows, relaunches and stops the
 * keepers.  The status table is up_view.c's (up_view.h), --logs is
 * up_logs.c's (up_logs.h); both are called from here and never call back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/cli/cli.h"
#include "supervisor/cli/up_internal.h"
#include "supervisor/cli/up_logs.h"
#include "supervisor/cli/up_view.h"
#include "supervisor/core/idpool.h"
#include "supervisor/core/resource.h"
#include "supervisor/core/util.h"
#include "supervisor/podctl/podctl.h"
#include "supervisor/shim/status.h"

/* True when every pod has reached Succeeded or Failed (or its keeper is
 * gone): nothing will run again.  *all_ok when every one Succeeded. */
static bool all_finished(const up *x, bool *all_ok) {
  *all_ok = true;
  for (size_t p = 0; p < x->n; p++) {
    const upod *u = &x->pods[p];
    if (!up_phase_final(u->phase) && u->exit_status < 0)
      return false;
    if (strcmp(u->phase, "Succeeded") != 0)
      *all_ok = false;
  }
  return x->n > 0;
}

static void relaunch_done(upod *u);

static void stop_all(up *x) {
  for (size_t p = 0; p < x->n; p++) {
    upod *u = &x->pods[p];
    if (u->relaunch_pending) {
      /* Its keeper died and left nothing running: nothing to stop. */
      uv_timer_stop(&u->relaunch_timer);
      relaunch_done(u);
    } else if (u->shim != NULL && u->exit_status < 0) {
      (void)podctl_stop(u->shim, -1, NULL);
    }
  }
}

/* --- the keeper's stderr ------------------------------------------------------------------ */

static void emit_shim_line(upod *u) {
  /* The set-up error already printed from the launch is not repeated. */
  const char *e = u->launch_err.code != 0 ? pv_err_str(&u->launch_err) : NULL;
  u->err_partial[u->err_plen < sizeof u->err_partial ? u->err_plen : sizeof u->err_partial - 1] = '\0';
  if (e == NULL || strstr(u->err_partial, e) == NULL)
    fprintf(stderr, "podvisor up: pod %s: %.*s\n", u->spec->name, (int)u->err_plen, u->err_partial);
  u->err_plen = 0;
}

/* Copies the keeper's new stderr lines to ours, "podvisor up: pod NAME: ...".
 * The fd stays readable after the keeper removed its run directory. */
static void drain_shim_log(upod *u, bool final) {
  if (u->log_rfd < 0)
    return;
  char buf[4096];
  ssize_t r;
  while ((r = read(u->log_rfd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] == '\n')
        emit_shim_line(u);
      else if (u->err_plen + 1 < sizeof u->err_partial)
        u->err_partial[u->err_plen++] = buf[i];
    }
  }
  if (final) {
    if (u->err_plen > 0)
      emit_shim_line(u);
    close(u->log_rfd);
    u->log_rfd = -1;
  }
}

static void on_shim_log(uv_fs_event_t *h, const char *file, int events, int status) {
  (void)file;
  (void)events;
  (void)status;
  drain_shim_log(h->data, false);
}

/* --- podctl's callbacks ------------------------------------------------------------------- */

static void on_launched(podctl_shim *s, const pv_err *err, void *ctx) {
  upod *u = ctx;
  up *x = u->up;
  u->log_rfd = podctl_shim_take_log_fd(s);
  if (err != NULL) {
    u->launch_err = *err;
    if (err->code != ECANCELED) /* stopped before it started: no failure */
      fprintf(stderr, "podvisor up: pod %s: %s\n", u->spec->name, pv_err_str(err));
    return;
  }
  const podpaths *pp = podctl_shim_paths(s);
  snprintf(u->key, sizeof u->key, "%s", pp->key);
  u->launched_ms = uv_now(&x->loop);
  if (u->log_rfd >= 0 && uv_fs_event_init(&x->loop, &u->log_event) == 0) {
    u->log_event.data = u;
    u->log_event_open = uv_fs_event_start(&u->log_event, on_shim_log, pp->shim_log, 0) == 0;
    if (!u->log_event_open)
      uv_close((uv_handle_t *)&u->log_event, NULL);
  }
  drain_shim_log(u, false);
  if (x->logs)
    up_logs_start(&u->logs, &x->loop, u->spec->name, pp->log_dir);
  pv_err e;
  if (podctl_watch(s, &e) < 0)
    fprintf(stderr, "podvisor up: pod %s: %s\n", u->spec->name, pv_err_str(&e));
  if (x->stopping)
    (void)podctl_stop(s, -1, NULL);
}

static void on_status(podctl_shim *s, const json_t *doc, void *ctx) {
  (void)s;
  upod *u = ctx;
  up *x = u->up;
  ctrstate_pod st;
  if (status_from_json(doc, &st, NULL) < 0)
    return;
  ctrstate_pod_free(&u->st);
  u->st = st;
  u->have_status = true;
  /* The keeper's own verdict wins (a failed sandbox is reported there). */
  const char *phase = json_string_value(json_object_get(doc, "phase"));
  snprintf(u->phase, sizeof u->phase, "%s", phase != NULL ? phase : ctrstate_phase_name(st.phase));
  if (x->logs)
    up_logs_scan(&u->logs);
  else if (x->tty)
    up_view_schedule_redraw(x);
  else
    up_view_print_changes(u);
  bool all_ok;
  if (!x->stopping && all_finished(x, &all_ok)) {
    /* Like `docker compose up` once every container has exited: done,
     * with a status telling whether every pod succeeded. */
    x->stopping = true;
    x->signals_seen = 0;
    if (!all_ok)
      x->failed = 1;
    printf("podvisor up: every pod has finished (%s)\n", all_ok ? "all Succeeded" : "some Failed");
    fflush(stdout);
    stop_all(x);
  }
}

static void finish(up *x);

#define RELAUNCH_FIRST_MS 1000
#define RELAUNCH_MAX_MS 60000
#define RELAUNCH_RESET_MS 60000

/* The delay before the next keeper after `deaths` deaths in a row: 1 s,
 * doubling, 60 s at most (the kubelet's container back-off, shorter). */
static uint64_t relaunch_delay(unsigned deaths) {
  uint64_t d = RELAUNCH_FIRST_MS;
  for (unsigned i = 1; i < deaths && d < RELAUNCH_MAX_MS; i++)
    d *= 2;
  return d < RELAUNCH_MAX_MS ? d : RELAUNCH_MAX_MS;
}

static void relaunch_done(upod *u) {
  up *x = u->up;
  u->relaunch_pending = false;
  u->exit_status = 0;
  x->alive--;
  if (x->alive == 0)
    finish(x);
}

static const podctl_callbacks shim_cb;

static void on_relaunch(uv_timer_t *t) {
  upod *u = t->data;
  up *x = u->up;
  if (!u->relaunch_pending)
    return;
  if (x->stopping) {
    relaunch_done(u);
    return;
  }
  u->relaunch_pending = false;
  podctl_launch_opts o = {.root = x->root,
                          .run_root = x->run_root,
                          .log_max_size = x->log_max,
                          .cgroup_parent = x->cgroup_parent,
                          .keep_instance = true,
                          .want_log_fd = true};
  pv_err err;
  pv_err_clear(&err);
  pv_err_clear(&u->launch_err);
  u->exit_status = -1;
  /* The pod's snapshot in its run directory: the same instance, so that
   * the new keeper carries the restart counts on. */
  if (podctl_launch(&x->loop, NULL, u->key, &o, &shim_cb, u, &u->shim, &err) < 0) {
    fprintf(stderr, "podvisor up: pod %s: cannot start its shim again: %s\n", u->spec->name, pv_err_str(&err));
    u->shim = NULL;
    u->exit_status = 127;
    snprintf(u->phase, sizeof u->phase, "Failed");
    x->failed = 1;
    x->alive--;
    if (x->alive == 0)
      finish(x);
  }
}

/* The keeper died on its own (it was not asked to stop): what it left is
 * removed at once and its status says so (podctl_clean_dead), then, as the
 * pod's restartPolicy asks, a new keeper starts after a delay (Always,
 * OnFailure: the death is a failure) or the pod has Failed (Never).
 * Returns true when a new keeper will start. */
static bool on_keeper_died(upod *u, podctl_shim *s, int status) {
  up *x = u->up;
  if (status <= 0 || u->launch_err.code != 0 || u->key[0] == '\0')
    return false;
  /* While stopping, a keeper that died was killed (at the end of the grace
   * period, or by someone else): nothing starts again, nothing may stay. */
  bool final = u->spec->restart_policy == SPEC_RESTART_NEVER || x->stopping;
  pv_err err;
  pv_err_clear(&err);
  if (podctl_clean_dead(podctl_shim_paths(s), status, final, &err) < 0)
    fprintf(stderr, "podvisor up: pod %s: cleaning up after its shim: %s\n", u->spec->name, pv_err_str(&err));
  if (final)
    return false;
  if (uv_now(&x->loop) - u->launched_ms >= RELAUNCH_RESET_MS)
    u->deaths = 0;
  uint64_t delay = relaunch_delay(++u->deaths);
  fprintf(stderr, "podvisor up: pod %s: shim exited with status %d; its containers died with it; "
                  "starting it again in %llu ms\n",
          u->spec->name, status, (unsigned long long)delay);
  if (u->log_event_open) {
    u->log_event_open = false;
    uv_close((uv_handle_t *)&u->log_event, NULL);
  }
  if (x->logs)
    up_logs_stop(&u->logs);
  podctl_shim_close(s);
  u->shim = NULL;
  snprintf(u->phase, sizeof u->phase, "Pending");
  u->relaunch_pending = true;
  uv_timer_start(&u->relaunch_timer, on_relaunch, delay, 0);
  return true;
}

static void on_exited(podctl_shim *s, int status, void *ctx) {
  upod *u = ctx;
  up *x = u->up;
  if (status >= 0) {
    drain_shim_log(u, true);
    if (on_keeper_died(u, s, status)) {
      if (x->tty)
        up_view_schedule_redraw(x);
      return;
    }
  }
  /* No process ran: it could not start, or was stopped before it did. */
  if (status < 0)
    u->exit_status = u->launch_err.code == ECANCELED ? 0 : 127;
  else
    u->exit_status = status;
  x->alive--;
  drain_shim_log(u, true);
  if (u->exit_status != 0) {
    /* Reported and counted; the other pods keep running. */
    x->failed = 1;
    snprintf(u->phase, sizeof u->phase, "Failed");
    if (status >= 0)
      fprintf(stderr, "podvisor up: pod %s: shim exited with status %d%s\n", u->spec->name, status,
              x->stopping || x->alive == 0 ? "" : "; the other pods keep running");
  }
  if (x->tty)
    up_view_schedule_redraw(x);
  else if (!x->logs)
    up_view_print_changes(u);
  bool all_ok;
  if (!x->stopping && x->alive > 0 && all_finished(x, &all_ok)) {
    x->stopping = true;
    if (!all_ok)
      x->failed = 1;
    printf("podvisor up: every pod has finished (%s)\n", all_ok ? "all Succeeded" : "some Failed");
    fflush(stdout);
    stop_all(x);
  }
  if (x->alive == 0)
    finish(x);
}

static const podctl_callbacks shim_cb = {.launched = on_launched, .status = on_status, .exited = on_exited};

/* --- signals and the end ------------------------------------------------------------------- */

static void on_signal(uv_signal_t *h, int sig) {
  (void)sig;
  up *x = h->data;
  if (!x->stopping) {
    x->stopping = true;
    x->signals_seen = 1;
    if (!x->tty) {
      printf("podvisor up: stopping %zu pod(s)\n", x->alive);
      fflush(stdout);
    }
    stop_all(x);
  } else if (x->signals_seen > 0) {
    x->signals_seen++;
    fprintf(stderr, "podvisor up: already stopping: each pod's containers are killed when its "
                    "terminationGracePeriodSeconds ends\n");
  } else {
    /* Stopping after every pod finished: the stop is already under way. */
    x->signals_seen = 1;
  }
}

/* Every keeper is gone: the final state, and every handle closed. */
static void finish(up *x) {
  if (x->finishing)
    return;
  x->finishing = true;
  for (size_t p = 0; p < x->n; p++) {
    upod *u = &x->pods[p];
    if (x->logs)
      up_logs_stop(&u->logs);
    if (u->log_event_open) {
      u->log_event_open = false;
      uv_close((uv_handle_t *)&u->log_event, NULL);
    }
    if (u->shim != NULL)
      podctl_shim_close(u->shim);
    u->shim = NULL;
  }
  up_view_final(x);
  for (size_t p = 0; p < x->n; p++)
    uv_close((uv_handle_t *)&x->pods[p].relaunch_timer, NULL);
  uv_close((uv_handle_t *)&x->age_timer, NULL);
  uv_close((uv_handle_t *)&x->redraw_timer, NULL);
  uv_close((uv_handle_t *)&x->sigint, NULL);
  uv_close((uv_handle_t *)&x->sigterm, NULL);
}

/* --- main ------------------------------------------------------------------------------------ */

static int load(int nfiles, char **files, spec_pod_list *pods) {
  diag_list diags;
  diag_list_init(&diags);
  int rc = spec_load_paths((const char *const *)files, (size_t)nfiles, 0, pods, &diags);
  diag_list_sort(&diags);
  for (size_t i = 0; i < diags.n; i++)
    diag_fprint(stderr, &diags.items[i]);
  diag_list_free(&diags);
  if (rc < 0) {
    fprintf(stderr, "podvisor up: invalid manifests, nothing started\n");
    return -1;
  }
  if (pods->n == 0) {
    fprintf(stderr, "podvisor up: no pods found\n");
    return -1;
  }
  return 0;
}

static void launch_all(up *x, const cli_globals *g, const char *log_max, const char *cgroup_parent) {
  x->root = g->root;
  x->run_root = g->run_root;
  x->log_max = log_max;
  x->cgroup_parent = cgroup_parent;
  podctl_launch_opts o = {.root = g->root,
                          .run_root = g->run_root,
                          .log_max_size = log_max,
                          .cgroup_parent = cgroup_parent,
                          .want_log_fd = true};
  for (size_t p = 0; p < x->n; p++) {
    upod *u = &x->pods[p];
    pv_err err;
    pv_err_clear(&err);
    /* A new instance every time: this run's logs are this run's alone. */
    if (podctl_launch(&x->loop, u->spec, NULL, &o, &shim_cb, u, &u->shim, &err) < 0) {
      fprintf(stderr, "podvisor up: pod %s: cannot start its shim: %s\n", u->spec->name, pv_err_str(&err));
      u->exit_status = 127;
      snprintf(u->phase, sizeof u->phase, "Failed");
      x->failed = 1;
      x->alive--;
    }
  }
}

static int usage(void) {
  fprintf(stderr, "usage: podvisor up [--logs] [--root DIR] [--run-root DIR] [--log-max-size SIZE]\n"
                  "                   [--cgroup-parent PATH] [--userns-pool FIRST:COUNT] FILE|DIR...\n");
  return 2;
}

int cmd_up(const cli_globals *g0, int argc, char **argv) {
  cli_globals g = *g0;
  bool logs = false;
  const char *log_max = NULL, *cgroup_given = NULL, *pool_given = NULL;
  pv_err err;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--logs") == 0)
      logs = true;
    else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
      g.root = argv[++i];
    else if (strcmp(argv[i], "--run-root") == 0 && i + 1 < argc)
      g.run_root = argv[++i];
    else if (strcmp(argv[i], "--log-max-size") == 0 && i + 1 < argc)
      log_max = argv[++i];
    else if (strcmp(argv[i], "--cgroup-parent") == 0 && i + 1 < argc) {
      cgroup_given = argv[++i];
      if (resource_manager_check_parent(cgroup_given, &err) < 0) {
        fprintf(stderr, "podvisor up: --cgroup-parent: %s\n", pv_err_str(&err));
        return 2;
      }
    } else if (strcmp(argv[i], "--userns-pool") == 0 && i + 1 < argc) {
      pool_given = argv[++i];
      idpool_config pool;
      if (idpool_config_parse("--userns-pool", pool_given, &pool, &err) < 0) {
        fprintf(stderr, "podvisor up: %s\n", pv_err_str(&err));
        return 2;
      }
    } else
      return usage();
  }
  if (i >= argc)
    return usage();
  /* Before any thread or keeper: the keepers inherit the pool. */
  if (idpool_config_setup("--userns-pool", pool_given, &err) < 0) {
    fprintf(stderr, "podvisor up: %s\n", pv_err_str(&err));
    return 2;
  }
  spec_pod_list list = {0};
  if (load(argc - i, argv + i, &list) < 0) {
    spec_pod_list_free(&list);
    return 1;
  }
  char cgroup_parent[RESOURCE_PARENT_MAX + 1];
  if (pv_mkdir_p(g.run_root, 0755, &err) < 0 || pv_mkdir_p(g.root, 0755, &err) < 0 ||
      resource_manager_pick_parent(cgroup_given, cgroup_parent, sizeof cgroup_parent, &err) < 0) {
    fprintf(stderr, "podvisor up: %s\n", pv_err_str(&err));
    spec_pod_list_free(&list);
    return 1;
  }
  up x = {.n = list.n, .alive = list.n, .logs = logs, .tty = isatty(STDOUT_FILENO) && !logs};
  x.pods = calloc(list.n, sizeof *x.pods);
  if (x.pods == NULL || uv_loop_init(&x.loop) < 0) {
    fprintf(stderr, "podvisor up: out of memory\n");
    free(x.pods);
    spec_pod_list_free(&list);
    return 1;
  }
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  uv_signal_init(&x.loop, &x.sigint);
  uv_signal_init(&x.loop, &x.sigterm);
  x.sigint.data = x.sigterm.data = &x;
  uv_signal_start(&x.sigint, on_signal, SIGINT);
  uv_signal_start(&x.sigterm, on_signal, SIGTERM);
  uv_timer_init(&x.loop, &x.age_timer);
  uv_timer_init(&x.loop, &x.redraw_timer);
  x.age_timer.data = x.redraw_timer.data = &x;
  for (size_t p = 0; p < list.n; p++) {
    upod *u = &x.pods[p];
    u->up = &x;
    u->spec = list.items[p];
    u->exit_status = -1;
    u->log_rfd = -1;
    up_logs_init(&u->logs);
    uv_timer_init(&x.loop, &u->relaunch_timer);
    u->relaunch_timer.data = u;
  }
  up_view_start(&x);
  launch_all(&x, &g, log_max, cgroup_parent);
  if (x.alive == 0)
    finish(&x);
  uv_run(&x.loop, UV_RUN_DEFAULT);
  for (size_t p = 0; p < x.n; p++) {
    if (logs)
      up_logs_free(&x.pods[p].logs);
    drain_shim_log(&x.pods[p], true);
    ctrstate_pod_free(&x.pods[p].st);
  }
  printf("podvisor up: all pods stopped\n");
  uv_loop_close(&x.loop);
  free(x.pods);
  spec_pod_list_free(&list);
  return x.failed;
}
