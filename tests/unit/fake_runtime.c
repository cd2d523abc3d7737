/* fake_runtime.c - the unit tests' runtime (fake_runtime.h). */
#include "tests/unit/fake_runtime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fake_proc {
  int fd;
  bool exited, reaped;
  int code, sig;
  bool oom, ignore_term, term_exits_0;
  struct fake_proc *next; /* exec'd processes, found by fd */
} fake_proc;

struct runtime_ctr {
  char name[64];
  unsigned run;
  fake_proc proc;
  bool started;
};

static fake_proc *execs; /* one fake runtime per test process */

static void note(fake_runtime *f, const char *fmt, ...) {
  if (f->n_log >= sizeof f->log / sizeof f->log[0])
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->log[f->n_log++], sizeof f->log[0], fmt, ap);
  va_end(ap);
}

static const fake_script *script_of(const fake_runtime *f, const char *name, unsigned run) {
  static const fake_script forever = {.run_ms = 0};
  const fake_script *found = &forever;
  for (const fake_script *s = f->scripts; s != NULL && s->name != NULL; s++)
    if (strcmp(s->name, name) == 0 && (unsigned)s->from_run <= run)
      found = s;
  return found;
}

/* Arms the process's fd to turn readable after ms (at once for 0). */
static void arm(fake_proc *p, int ms) {
  struct itimerspec t = {0};
  if (ms <= 0)
    t.it_value.tv_nsec = 1;
  else {
    t.it_value.tv_sec = ms / 1000;
    t.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
  }
  timerfd_settime(p->fd, 0, &t, NULL);
}

static int proc_start(fake_proc *p, const fake_script *s) {
  memset(p, 0, sizeof *p);
  p->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (p->fd < 0)
    return -1;
  p->code = s->exit_code;
  p->oom = s->oom;
  p->ignore_term = s->ignore_term;
  p->term_exits_0 = s->term_exits_0;
  if (s->run_ms != 0)
    arm(p, s->run_ms < 0 ? 0 : s->run_ms);
  return 0;
}

/* True once the process has exited: by its own timer or by a signal. */
static bool proc_done(fake_proc *p) {
  uint64_t n;
  if (!p->exited && read(p->fd, &n, sizeof n) == (ssize_t)sizeof n)
    p->exited = true;
  return p->exited;
}

static void proc_signal(fake_proc *p, int sig) {
  if (p->exited || (sig == SIGTERM && p->ignore_term) || sig == 0)
    return;
  p->exited = true;
  if (sig == SIGTERM && p->term_exits_0)
    p->code = 0;
  else
    p->sig = sig;
  arm(p, 0);
}

static int fr_sandbox_ready(void *ctx, pv_err *err) {
  fake_runtime *f = ctx;
  note(f, "sandbox");
  return f->sandbox_fails ? pv_err_set(err, ESRCH, "the pod's pid namespace is gone") : 0;
}

static int fr_create(void *ctx, runtime_start *rs, runtime_ctr **out, pv_err *err) {
  fake_runtime *f = ctx;
  const fake_script *s = script_of(f, rs->ctr->name, rs->restart);
  note(f, "create %s#%u %s", rs->ctr->name, rs->restart, rs->ctr->image);
  if (s->create_fails)
    return pv_err_set(err, ENOENT, "container %s: image %s not found", rs->ctr->name, rs->ctr->image);
  runtime_ctr *c = calloc(1, sizeof *c);
  if (c == NULL)
    return pv_err_set(err, ENOMEM, "out of memory");
  snprintf(c->name, sizeof c->name, "%s", rs->ctr->name);
  c->run = rs->restart;
  c->proc.fd = -1;
  if (rs->id != NULL)
    snprintf(rs->id, rs->id_len, "fake-%s-%u", c->name, c->run);
  f->ctrs++;
  *out = c;
  return 0;
}

static int fr_start(void *ctx, runtime_ctr *c, pv_err *err) {
  fake_runtime *f = ctx;
  const fake_script *s = script_of(f, c->name, c->run);
  note(f, "start %s#%u", c->name, c->run);
  if (s->start_fails)
    return pv_err_set(err, ENOEXEC, "container %s: exec: no such file", c->name);
  if (proc_start(&c->proc, s) < 0)
    return pv_err_sys(err, "timerfd");
  c->started = true;
  f->live++;
  return 0;
}

static pid_t fr_pid(void *ctx, const runtime_ctr *c) {
  (void)ctx;
  return c->started ? 1000 + (pid_t)c->run : 0;
}

static int fr_pidfd(void *ctx, const runtime_ctr *c) {
  (void)ctx;
  return c->proc.fd;
}

static int fr_kill(void *ctx, runtime_ctr *c, int sig) {
  fake_runtime *f = ctx;
  note(f, "kill %s#%u %d", c->name, c->run, sig);
  proc_signal(&c->proc, sig);
  return 0;
}

static int fr_reap(void *ctx, runtime_ctr *c, container_exit *ex, pv_err *err) {
  fake_runtime *f = ctx;
  if (!c->started || !proc_done(&c->proc)) {
    errno = EAGAIN;
    return pv_err_set(err, EAGAIN, "container %s: still running", c->name);
  }
  if (!c->proc.reaped) {
    c->proc.reaped = true;
    f->live--;
  }
  ex->signal = c->proc.sig;
  ex->exit_code = c->proc.sig ? 128 + c->proc.sig : c->proc.code;
  ex->oom_killed = c->proc.oom;
  note(f, "exit %s#%u %d", c->name, c->run, ex->exit_code);
  return 0;
}

static void fr_destroy(void *ctx, runtime_ctr *c) {
  fake_runtime *f = ctx;
  note(f, "destroy %s#%u", c->name, c->run);
  if (c->started && !c->proc.reaped)
    f->live--; /* killed with its container */
  if (c->proc.fd >= 0)
    close(c->proc.fd);
  f->ctrs--;
  free(c);
}

static size_t fr_collect(void *ctx, pv_err *err) {
  fake_runtime *f = ctx;
  if (f->pending > 0)
    f->pending--;
  if (f->pending > 0)
    pv_err_set(err, EBUSY, "%zu cgroup(s) pending", f->pending);
  return f->pending;
}

static size_t fr_pending(void *ctx) {
  fake_runtime *f = ctx;
  return f->pending;
}

static int fr_exec(void *ctx, runtime_ctr *c, runtime_exec *x, int *fd, pv_err *err) {
  fake_runtime *f = ctx;
  note(f, "exec %s#%u %s", c->name, c->run, x->argv[0]);
  const fake_script *s = script_of(f, x->argv[0], 0);
  if (s->create_fails)
    return pv_err_set(err, ENOENT, "exec %s: no such file", x->argv[0]);
  fake_proc *p = malloc(sizeof *p);
  if (p == NULL || proc_start(p, s) < 0) {
    free(p);
    return pv_err_sys(err, "exec");
  }
  p->next = execs;
  execs = p;
  f->live++;
  x->pid = 2000 + (pid_t)f->n_log;
  *fd = p->fd;
  return 0;
}

static fake_proc *exec_of(int fd) {
  for (fake_proc *p = execs; p != NULL; p = p->next)
    if (p->fd == fd && !p->reaped)
      return p;
  return NULL;
}

static int fr_exec_reap(void *ctx, int fd, siginfo_t *si) {
  fake_runtime *f = ctx;
  fake_proc *p = exec_of(fd);
  if (p == NULL) {
    errno = ECHILD;
    return -1;
  }
  if (!proc_done(p))
    return 0;
  p->reaped = true;
  f->live--;
  memset(si, 0, sizeof *si);
  si->si_code = p->sig ? CLD_KILLED : CLD_EXITED;
  si->si_status = p->sig ? p->sig : p->code;
  /* The fd is the caller's to close: forget it. */
  for (fake_proc **q = &execs; *q != NULL; q = &(*q)->next)
    if (*q == p) {
      *q = p->next;
      break;
    }
  free(p);
  return 1;
}

static int fr_exec_signal(void *ctx, int fd, int sig) {
  fake_runtime *f = ctx;
  fake_proc *p = exec_of(fd);
  if (p == NULL)
    return -1;
  note(f, "signal exec %d", sig);
  proc_signal(p, sig);
  return 0;
}

const runtime_ops fake_runtime_ops = {
    .sandbox_ready = fr_sandbox_ready,
    .create = fr_create,
    .start = fr_start,
    .pid = fr_pid,
    .pidfd = fr_pidfd,
    .kill = fr_kill,
    .reap = fr_reap,
    .destroy = fr_destroy,
    .collect = fr_collect,
    .pending = fr_pending,
    .exec = fr_exec,
    .exec_reap = fr_exec_reap,
    .exec_signal = fr_exec_signal,
};

int fake_find(const fake_runtime *f, const char *line, int from) {
  for (size_t i = from < 0 ? 0 : (size_t)from; i < f->n_log; i++)
    if (strcmp(f->log[i], line) == 0)
      return (int)i;
  return -1;
}

int fake_count(const fake_runtime *f, const char *prefix) {
  int n = 0;
  for (size_t i = 0; i < f->n_log; i++)
    if (strncmp(f->log[i], prefix, strlen(prefix)) == 0)
      n++;
  return n;
}
