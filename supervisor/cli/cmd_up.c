/*
 * cmd_up.c - `podvisor up [--logs] [--log-max-size SIZE] FILE|DIR...`: run pod
 * manifests in the foreground until Ctrl-C or SIGTERM.
 *
 * Every file is parsed and validated first; if any has an error, every
 * diagnostic is printed and nothing starts (exit 1).  Then one shim process
 * per pod is forked and exec'd in its own session (shim.h: the lean
 * `podvisor-shim` found beside this executable, else `podvisor shim`),
 * so a terminal's Ctrl-C reaches only `up`, which then stops the pods
 * gracefully.  While they run, `up` shows a compact status table read from
 * the shims' status files once a second: redrawn in place on a terminal, one
 * line per change otherwise.  --logs follows the pods' CRI log files and
 * prints their text prefixed "pod/container | ", as compose does.
 *
 * On SIGINT/SIGTERM every shim gets SIGTERM (its graceful pod stop); `up`
 * waits for all of them and exits 0.  A second Ctrl-C is only acknowledged:
 * the shims are already stopping and each kills its containers when their
 * terminationGracePeriodSeconds ends; killing the shims would leave their
 * cgroups and directories behind.
 *
 * One bad pod does not hurt the others: a shim that could not set its pod
 * up (or could not be started at all) is reported and counted as a Failed
 * pod, the other pods keep running, and `up` exits 1 at the end (after
 * Ctrl-C, or once every pod has finished).  When every pod has reached a
 * terminal phase (Succeeded or Failed: never with restartPolicy Always),
 * `up` stops the shims by itself and exits 0 if all succeeded, else 1, as
 * `docker compose up` does once every container has exited.
 *
 * A shim's stderr goes to <run-root>/pods/<uid>/shim.log (appended, 0600),
 * never to `up`'s own stderr: a shim must not block on a pipe nobody reads
 * or die with `up`'s terminal.  `up` follows that file and copies new lines
 * to its stderr prefixed with the pod's name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spec/spec.h"
#include "supervisor/cli/cli.h"
#include "supervisor/core/util.h"
#include "supervisor/shim/shim.h"
#include "supervisor/shim/status.h"

#define MAX_CTRS 64

typedef struct follow {
  char name[256]; /* container */
  long restart;   /* the log file followed, -1 none yet */
  off_t off;
  ino_t ino;
  char partial[16384 * 4];
  size_t plen;
} follow;

typedef struct upod {
  const spec_pod *spec;
  char uid[SPEC_POD_UID_LEN + 1];
  char status_path[PATH_MAX];
  char shim_log[PATH_MAX];
  int log_wfd;    /* shim.log opened for the shim's stderr, until the fork */
  int log_rfd;    /* the same file, followed by `up`; -1 none */
  char err_partial[1024];
  size_t err_plen;
  char log_dir[PATH_MAX];
  pid_t pid;
  int exit_status; /* -1 while running */
  char last_line[MAX_CTRS][256];
  char phase[16]; /* the pod's phase, as last read from its status */
  bool phase_shown;
  follow f[MAX_CTRS];
  size_t nf;
} upod;

static volatile sig_atomic_t got_signal;

static void on_signal(int sig) {
  got_signal = sig;
}

/* The lean keeper `podvisor-shim` installed beside this executable (shim.h),
 * else this executable's own `shim` command. */
static void find_shim(char *path, size_t len, bool *lean) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  *lean = false;
  snprintf(path, len, "/proc/self/exe");
  if (n <= 0)
    return;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash == NULL)
    return;
  *slash = '\0';
  char cand[PATH_MAX + 32];
  snprintf(cand, sizeof cand, "%s/podvisor-shim", self);
  if (strlen(cand) < len && access(cand, X_OK) == 0) {
    snprintf(path, len, "%s", cand);
    *lean = true;
  }
}

static pid_t spawn_shim(const cli_globals *g, const upod *u, const char *log_max, const char *shim_path,
                        bool lean) {
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  /* Child: its own session, so a terminal's SIGINT goes to `up` alone. */
  setsid();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
  }
  if (u->log_wfd >= 0)
    dup2(u->log_wfd, 2); /* dup2 clears close-on-exec on the copy */
  char *argv[20];
  int n = 0;
  argv[n++] = lean ? "podvisor-shim" : "podvisor";
  argv[n++] = "--root";
  argv[n++] = (char *)g->root;
  argv[n++] = "--run-root";
  argv[n++] = (char *)g->run_root;
  if (!lean)
    argv[n++] = "shim";
  argv[n++] = "--pod-file";
  argv[n++] = u->spec->source_file;
  argv[n++] = "--pod";
  argv[n++] = u->spec->name;
  argv[n++] = "--namespace";
  argv[n++] = u->spec->ns;
  if (log_max != NULL) {
    argv[n++] = "--log-max-size";
    argv[n++] = (char *)log_max;
  }
  argv[n] = NULL;
  execv(shim_path, argv);
  fprintf(stderr, "podvisor up: exec shim: %s\n", strerror(errno));
  _exit(127);
}

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
static void fmt_state(json_t *c, char *buf, size_t len, int64_t *since) {
  json_t *st = json_object_get(c, "state");
  const char *fsm = json_string_value(json_object_get(json_object_get(c, "podvisor"), "fsm"));
  json_t *x;
  *since = 0;
  if ((x = json_object_get(st, "running")) != NULL) {
    const char *t = json_string_value(json_object_get(x, "startedAt"));
    if (t != NULL)
      status_parse_time(t, since);
    snprintf(buf, len, "%s", fsm != NULL && strcmp(fsm, "Stopping") == 0 ? "Stopping" : "Running");
  } else if ((x = json_object_get(st, "terminated")) != NULL) {
    snprintf(buf, len, "Terminated:%s(%lld)", json_string_value(json_object_get(x, "reason")),
             (long long)json_integer_value(json_object_get(x, "exitCode")));
  } else if ((x = json_object_get(st, "waiting")) != NULL) {
    snprintf(buf, len, "Waiting:%s", json_string_value(json_object_get(x, "reason")));
  } else {
    snprintf(buf, len, "Unknown");
  }
}

/* Collects the table rows of one pod and notes its phase; returns the
 * count.  Rows end with the age column (AGE_W characters) on a terminal. */
#define ROW_FMT "%-16.16s %-16.16s %-30.30s %8s"
#define AGE_W 7
static size_t pod_rows(upod *u, char rows[][256], size_t max, bool with_age) {
  json_error_t je;
  json_t *root = json_load_file(u->status_path, 0, &je);
  size_t n = 0;
  if (root == NULL) {
    if (with_age)
      snprintf(rows[n++], 256, ROW_FMT " %6s", u->spec->name, "-",
               u->exit_status >= 0 ? "Exited" : "Starting", "-", "-");
    return n;
  }
  const char *phase = json_string_value(json_object_get(root, "phase"));
  snprintf(u->phase, sizeof u->phase, "%s", phase != NULL ? phase : "");
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  for (int k = 0; k < 2; k++) {
    json_t *arr = json_object_get(root, keys[k]), *c;
    size_t i;
    json_array_foreach(arr, i, c) {
      if (n >= max)
        break;
      char st[96], age[16], restarts[24];
      int64_t since;
      fmt_state(c, st, sizeof st, &since);
      fmt_age(since, age, sizeof age);
      snprintf(restarts, sizeof restarts, "%lld",
               (long long)json_integer_value(json_object_get(c, "restartCount")));
      int len = snprintf(rows[n], 256, ROW_FMT, u->spec->name, json_string_value(json_object_get(c, "name")),
                         st, restarts);
      if (with_age && len > 0 && len < 256 - AGE_W)
        snprintf(rows[n] + len, 256 - (size_t)len, " %6s", since > 0 ? age : "-");
      n++;
    }
  }
  json_decref(root);
  return n;
}

static bool phase_final(const char *phase) {
  return strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
}

/* On a terminal: the whole table, redrawn in place.  Otherwise (a pipe, a
 * file, CI logs): the header once, then one line whenever a container's
 * state or restart count changes, and one when a pod finishes. */
static int render(upod *pods, size_t n, bool tty, int prev_lines) {
  static char rows[MAX_CTRS][256];
  static bool header_done;
  int lines = 0;
  if (tty) {
    if (prev_lines > 0)
      printf("\033[%dA", prev_lines);
    printf("\033[J" ROW_FMT " %6s\n", "POD", "CONTAINER", "STATE", "RESTARTS", "AGE");
    lines = 1;
  } else if (!header_done) {
    printf(ROW_FMT "\n", "POD", "CONTAINER", "STATE", "RESTARTS");
    header_done = true;
  }
  for (size_t p = 0; p < n; p++) {
    upod *u = &pods[p];
    size_t nr = pod_rows(u, rows, MAX_CTRS, tty);
    for (size_t r = 0; r < nr; r++) {
      if (tty) {
        printf("%s\n", rows[r]);
        lines++;
      } else if (strcmp(u->last_line[r], rows[r]) != 0) {
        snprintf(u->last_line[r], sizeof u->last_line[r], "%s", rows[r]);
        printf("%s\n", rows[r]);
      }
    }
    if (!tty && phase_final(u->phase) && !u->phase_shown) {
      u->phase_shown = true;
      printf("podvisor up: pod %s %s\n", u->spec->name, u->phase);
    }
  }
  fflush(stdout);
  return lines;
}

/* --logs mode draws no table: the phase is read on its own. */
static void refresh_phase(upod *u) {
  json_t *root = json_load_file(u->status_path, 0, NULL);
  const char *phase = json_string_value(json_object_get(root, "phase"));
  if (phase != NULL)
    snprintf(u->phase, sizeof u->phase, "%s", phase);
  json_decref(root);
}

/* True when every pod has reached Succeeded or Failed: nothing will run
 * again (a pod with restartPolicy Always never gets there).  *all_ok is
 * true when every one Succeeded. */
static bool all_finished(const upod *pods, size_t n, bool *all_ok) {
  *all_ok = true;
  for (size_t p = 0; p < n; p++) {
    if (!phase_final(pods[p].phase) && pods[p].exit_status < 0)
      return false;
    if (strcmp(pods[p].phase, "Succeeded") != 0)
      *all_ok = false;
  }
  return n > 0;
}

/* --- --logs: follow <log_dir>/<container>/<restart>.log ------------------------- */

/* Lines logged before this `up` started belong to an earlier run of the
 * same pod (its log files are kept): they are not shown again. */
static int64_t logs_since_ns;

static void emit_cri(const char *pod, const char *ctr, follow *f, char *line) {
  /* "<ts> <stream> <P|F> <text>" */
  char *sp1 = strchr(line, ' ');
  char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if (sp2 == NULL || (sp2[1] != 'P' && sp2[1] != 'F'))
    return;
  *sp1 = '\0';
  int64_t ts = 0;
  bool old = status_parse_time(line, &ts) == 0 && ts < logs_since_ns;
  *sp1 = ' ';
  if (old)
    return;
  char tag = sp2[1];
  const char *text = sp2[2] == ' ' ? sp2 + 3 : sp2 + 2;
  size_t tl = strlen(text);
  if (f->plen + tl < sizeof f->partial) {
    memcpy(f->partial + f->plen, text, tl);
    f->plen += tl;
  }
  if (tag == 'F') {
    printf("%s/%s | %.*s\n", pod, ctr, (int)f->plen, f->partial);
    f->plen = 0;
  }
}

static void follow_file(const char *pod, const char *path, follow *f) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  struct stat st;
  if (fstat(fd, &st) == 0 && (st.st_ino != f->ino || st.st_size < f->off)) {
    f->ino = st.st_ino;
    f->off = 0; /* rotated or new */
  }
  char buf[65536];
  static char line[65536];
  static size_t ll;
  ll = 0;
  ssize_t r;
  off_t consumed = f->off;
  while ((r = pread(fd, buf, sizeof buf, f->off)) > 0) {
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] == '\n') {
        line[ll] = '\0';
        emit_cri(pod, f->name, f, line);
        ll = 0;
        consumed = f->off + i + 1;
      } else if (ll + 1 < sizeof line) {
        line[ll++] = buf[i];
      }
    }
    f->off += r;
  }
  f->off = consumed; /* re-read an incomplete last line next time */
  close(fd);
}

static void follow_pod(upod *u) {
  DIR *d = opendir(u->log_dir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    follow *f = NULL;
    for (size_t i = 0; i < u->nf; i++)
      if (strcmp(u->f[i].name, e->d_name) == 0)
        f = &u->f[i];
    if (f == NULL && u->nf < MAX_CTRS) {
      f = &u->f[u->nf++];
      memset(f, 0, sizeof *f);
      snprintf(f->name, sizeof f->name, "%s", e->d_name);
      f->restart = -1;
    }
    if (f == NULL)
      continue;
    /* Follow the newest restart; finish the previous one first. */
    char path[PATH_MAX + 512];
    for (long r = f->restart < 0 ? 0 : f->restart;; r++) {
      snprintf(path, sizeof path, "%s/%s/%ld.log", u->log_dir, f->name, r);
      if (access(path, F_OK) != 0)
        break;
      if (r != f->restart) {
        if (f->restart >= 0) {
          char prev[PATH_MAX + 512];
          snprintf(prev, sizeof prev, "%s/%s/%ld.log", u->log_dir, f->name, f->restart);
          follow_file(u->spec->name, prev, f);
        }
        f->restart = r;
        f->off = 0;
        f->ino = 0;
        f->plen = 0;
      }
      follow_file(u->spec->name, path, f);
    }
  }
  closedir(d);
  fflush(stdout);
}

/* --- main ------------------------------------------------------------------------- */

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

/* Creates <run-root>/pods/<uid>/shim.log for the shim's stderr and opens it
 * for `up` to follow from its current end (earlier runs' lines are not
 * shown again).  On failure the shim keeps `up`'s stderr. */
static void open_shim_log(const cli_globals *g, upod *u) {
  u->log_wfd = u->log_rfd = -1;
  char dir[PATH_MAX];
  pv_err err;
  if (pv_path(dir, sizeof dir, "%s/pods/%s", g->run_root, u->uid) < 0 ||
      pv_path(u->shim_log, sizeof u->shim_log, "%s/shim.log", dir) < 0 || pv_mkdir_p(dir, 0700, &err) < 0)
    return;
  u->log_wfd = open(u->shim_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (u->log_wfd < 0)
    return;
  u->log_rfd = open(u->shim_log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (u->log_rfd >= 0)
    lseek(u->log_rfd, 0, SEEK_END);
}

/* Copies the shim's new stderr lines to ours, "podvisor up: pod NAME: ...".
 * The fd stays readable after the shim removed its run directory. */
static void drain_shim_log(upod *u, bool final) {
  if (u->log_rfd < 0)
    return;
  char buf[4096];
  ssize_t r;
  while ((r = read(u->log_rfd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] != '\n' && u->err_plen + 1 < sizeof u->err_partial) {
        u->err_partial[u->err_plen++] = buf[i];
        continue;
      }
      if (buf[i] == '\n') {
        fprintf(stderr, "podvisor up: pod %s: %.*s\n", u->spec->name, (int)u->err_plen, u->err_partial);
        u->err_plen = 0;
      }
    }
  }
  if (final) {
    if (u->err_plen > 0)
      fprintf(stderr, "podvisor up: pod %s: %.*s\n", u->spec->name, (int)u->err_plen, u->err_partial);
    u->err_plen = 0;
    close(u->log_rfd);
    u->log_rfd = -1;
  }
}

static void stop_all(upod *pods, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (pods[i].pid > 0 && pods[i].exit_status < 0)
      kill(pods[i].pid, SIGTERM);
}

int cmd_up(const cli_globals *g0, int argc, char **argv) {
  cli_globals g = *g0;
  bool logs = false;
  const char *log_max = NULL;
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
    else {
      fprintf(stderr, "usage: podvisor up [--logs] [--root DIR] [--run-root DIR] "
                      "[--log-max-size SIZE] FILE|DIR...\n");
      return 2;
    }
  }
  if (i >= argc) {
    fprintf(stderr, "usage: podvisor up [--logs] FILE|DIR...\n");
    return 2;
  }
  spec_pod_list list = {0};
  if (load(argc - i, argv + i, &list) < 0) {
    spec_pod_list_free(&list);
    return 1;
  }
  pv_err err;
  if (pv_mkdir_p(g.run_root, 0755, &err) < 0 || pv_mkdir_p(g.root, 0755, &err) < 0) {
    fprintf(stderr, "podvisor up: %s\n", pv_err_str(&err));
    spec_pod_list_free(&list);
    return 1;
  }
  struct timespec t0;
  clock_gettime(CLOCK_REALTIME, &t0);
  logs_since_ns = (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec;
  upod *pods = calloc(list.n, sizeof *pods);
  char shim_path[PATH_MAX];
  bool lean;
  find_shim(shim_path, sizeof shim_path, &lean);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGHUP, SIG_IGN);
  for (size_t p = 0; p < list.n; p++) {
    upod *u = &pods[p];
    u->spec = list.items[p];
    u->exit_status = -1;
    spec_pod_uid(u->spec, NULL, u->uid);
    snprintf(u->status_path, sizeof u->status_path, "%s/pods/%s/status.json", g.run_root, u->uid);
    snprintf(u->log_dir, sizeof u->log_dir, "%s/logs/%s_%s_%s", g.root, u->spec->ns, u->spec->name, u->uid);
    open_shim_log(&g, u);
    fflush(stdout);
    fflush(stderr);
    u->pid = spawn_shim(&g, u, log_max, shim_path, lean);
    if (u->pid < 0)
      fprintf(stderr, "podvisor up: pod %s: cannot start its shim: fork: %s\n", u->spec->name, strerror(errno));
    if (u->log_wfd >= 0)
      close(u->log_wfd);
    u->log_wfd = -1;
  }
  bool tty = isatty(STDOUT_FILENO) && !logs;
  int lines = 0, failed = 0;
  bool stopping = false;
  size_t alive = list.n;
  int signals_seen = 0;
  while (alive > 0) {
    if (got_signal && !stopping) {
      stopping = true;
      signals_seen = 1;
      got_signal = 0;
      if (!tty)
        printf("podvisor up: stopping %zu pod(s)\n", alive);
      stop_all(pods, list.n);
    } else if (got_signal && signals_seen > 0) {
      got_signal = 0;
      signals_seen++;
      fprintf(stderr, "podvisor up: already stopping: each pod's containers are killed when its "
                      "terminationGracePeriodSeconds ends\n");
    } else if (got_signal) {
      /* Stopping after every pod finished: the stop is already under way. */
      got_signal = 0;
      signals_seen = 1;
    }
    for (size_t p = 0; p < list.n; p++) {
      int st;
      if (pods[p].exit_status < 0 && pods[p].pid > 0 && waitpid(pods[p].pid, &st, WNOHANG) == pods[p].pid) {
        pods[p].exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        alive--;
        drain_shim_log(&pods[p], true);
        if (pods[p].exit_status != 0) {
          /* Reported and counted; the other pods keep running. */
          failed = 1;
          snprintf(pods[p].phase, sizeof pods[p].phase, "Failed");
          fprintf(stderr, "podvisor up: pod %s: shim exited with status %d%s\n", pods[p].spec->name,
                  pods[p].exit_status, stopping || alive == 0 ? "" : "; the other pods keep running");
        }
      } else if (pods[p].pid <= 0 && pods[p].exit_status < 0) {
        snprintf(pods[p].phase, sizeof pods[p].phase, "Failed");
        pods[p].exit_status = 127;
        alive--;
        failed = 1;
      }
    }
    for (size_t p = 0; p < list.n; p++)
      drain_shim_log(&pods[p], false);
    if (logs)
      for (size_t p = 0; p < list.n; p++) {
        follow_pod(&pods[p]);
        refresh_phase(&pods[p]);
      }
    else if (!stopping || !tty)
      lines = render(pods, list.n, tty, lines);
    bool all_ok;
    if (!stopping && all_finished(pods, list.n, &all_ok)) {
      /* Like `docker compose up` once every container has exited: done,
       * with a status telling whether every pod succeeded. */
      stopping = true;
      if (!all_ok)
        failed = 1;
      printf("podvisor up: every pod has finished (%s)\n", all_ok ? "all Succeeded" : "some Failed");
      stop_all(pods, list.n);
    }
    struct timespec ts = {0, logs ? 100000000 : 250000000};
    nanosleep(&ts, NULL);
  }
  if (logs)
    for (size_t p = 0; p < list.n; p++)
      follow_pod(&pods[p]);
  for (size_t p = 0; p < list.n; p++)
    drain_shim_log(&pods[p], true);
  printf("podvisor up: all pods stopped\n");
  free(pods);
  spec_pod_list_free(&list);
  return failed;
}
