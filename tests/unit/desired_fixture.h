/*
 * desired_fixture.h - pods as manifest text, files in temp directories and
 * report look-ups for the suites of supervisor/daemon/ (test_desired*.c,
 * test_plan.c).  Header only: every helper is static inline.
 *
 * fx_pod() writes one Pod document from a few knobs, so that a test says
 * what it changes ("the log container's command", "hostNetwork") and
 * nothing else differs.
 */
#ifndef PODVISOR_TESTS_DESIRED_FIXTURE_H
#define PODVISOR_TESTS_DESIRED_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spec/spec.h"
#include "supervisor/daemon/desired.h"

typedef struct fx_opts {
  const char *name;     /* required */
  const char *ns;       /* NULL: none written (the pod lands in "default") */
  const char *uid;      /* metadata.uid, or NULL */
  const char *label;    /* value of label "tier", or NULL */
  const char *cmd;      /* the app container's command word (default "run") */
  const char *log_cmd;  /* a second container "log" with this command, or NULL: none */
  const char *init_cmd; /* an init container "setup" with this command, or NULL */
  bool sidecar;         /* the init container is a sidecar (restartPolicy: Always) */
  bool host_network;
  const char *hostname;
  bool share_pid;
  const char *restart;  /* restartPolicy, or NULL */
  int grace;            /* terminationGracePeriodSeconds, 0: not written */
  const char *volume;   /* an emptyDir volume of this name (mounted in app at /data), or NULL */
  bool volume_memory;   /* ... with medium: Memory */
  int run_as_user;      /* spec.securityContext.runAsUser, 0: none */
  const char *backoff;  /* podvisor.io/backoff-initial, or NULL */
  bool log_first;       /* the log container comes before app */
  const char *app_name; /* the app container's name (default "app") */
  const char *subdomain;
  const char *start_limit; /* podvisor.io/start-limit, or NULL */
  int log_user;            /* the log container's own securityContext.runAsUser, 0: none */
  bool host_pid;           /* spec.hostPID: true */
  const char *pod_sc;      /* more spec.securityContext lines ("    fsGroup: 5\n"), or NULL */
} fx_opts;

static inline void fx_cat(char *buf, size_t len, const char *fmt, const char *a) {
  size_t n = strlen(buf);
  snprintf(buf + n, len - n, fmt, a);
}

static inline void fx_container(char *b, size_t len, const char *name, const char *cmd, const char *vol,
                                bool sidecar, int user) {
  fx_cat(b, len, "  - name: %s\n    image: busybox\n", name);
  fx_cat(b, len, "    command: [\"sh\", \"-c\", \"%s\"]\n", cmd);
  if (sidecar)
    fx_cat(b, len, "%s", "    restartPolicy: Always\n");
  if (user) {
    char num[32];
    snprintf(num, sizeof num, "%d", user);
    fx_cat(b, len, "    securityContext:\n      runAsUser: %s\n", num);
  }
  if (vol != NULL)
    fx_cat(b, len, "    volumeMounts:\n    - name: %s\n      mountPath: /data\n", vol);
}

/* One Pod document (malloc'd). */
static inline char *fx_pod(const fx_opts *o) {
  size_t len = 8192;
  char *b = calloc(1, len), num[32];
  fx_cat(b, len, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n", o->name);
  if (o->ns)
    fx_cat(b, len, "  namespace: %s\n", o->ns);
  if (o->uid)
    fx_cat(b, len, "  uid: %s\n", o->uid);
  if (o->label)
    fx_cat(b, len, "  labels:\n    tier: %s\n", o->label);
  if (o->backoff || o->start_limit)
    fx_cat(b, len, "%s", "  annotations:\n");
  if (o->backoff)
    fx_cat(b, len, "    podvisor.io/backoff-initial: \"%s\"\n", o->backoff);
  if (o->start_limit)
    fx_cat(b, len, "    podvisor.io/start-limit: \"%s\"\n", o->start_limit);
  fx_cat(b, len, "%s", "spec:\n");
  if (o->host_network)
    fx_cat(b, len, "%s", "  hostNetwork: true\n");
  if (o->hostname)
    fx_cat(b, len, "  hostname: %s\n", o->hostname);
  if (o->subdomain)
    fx_cat(b, len, "  subdomain: %s\n", o->subdomain);
  if (o->share_pid)
    fx_cat(b, len, "%s", "  shareProcessNamespace: true\n");
  if (o->restart)
    fx_cat(b, len, "  restartPolicy: %s\n", o->restart);
  if (o->grace) {
    snprintf(num, sizeof num, "%d", o->grace);
    fx_cat(b, len, "  terminationGracePeriodSeconds: %s\n", num);
  }
  if (o->host_pid)
    fx_cat(b, len, "%s", "  hostPID: true\n");
  if (o->run_as_user || o->pod_sc)
    fx_cat(b, len, "%s", "  securityContext:\n");
  if (o->run_as_user) {
    snprintf(num, sizeof num, "%d", o->run_as_user);
    fx_cat(b, len, "    runAsUser: %s\n", num);
  }
  if (o->pod_sc)
    fx_cat(b, len, "%s", o->pod_sc);
  if (o->volume) {
    fx_cat(b, len, "  volumes:\n  - name: %s\n    emptyDir:", o->volume);
    fx_cat(b, len, "%s", o->volume_memory ? "\n      medium: Memory\n" : " {}\n");
  }
  if (o->init_cmd) {
    fx_cat(b, len, "%s", "  initContainers:\n");
    fx_container(b, len, "setup", o->init_cmd, NULL, o->sidecar, 0);
  }
  fx_cat(b, len, "%s", "  containers:\n");
  const char *app = o->app_name ? o->app_name : "app", *cmd = o->cmd ? o->cmd : "run";
  if (o->log_cmd && o->log_first)
    fx_container(b, len, "log", o->log_cmd, NULL, false, o->log_user);
  fx_container(b, len, app, cmd, o->volume, false, 0);
  if (o->log_cmd && !o->log_first)
    fx_container(b, len, "log", o->log_cmd, NULL, false, o->log_user);
  return b;
}

/* Writes text to dir/name in place (as cp does). */
static inline void fx_write(const char *dir, const char *name, const char *text) {
  char path[8192];
  snprintf(path, sizeof path, "%.4000s/%.4000s", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
  fputs(text, f);
  ck_assert_int_eq(fclose(f), 0);
}

/* Writes one fx_pod document to dir/name. */
static inline void fx_write_pod(const char *dir, const char *name, const fx_opts *o) {
  char *t = fx_pod(o);
  fx_write(dir, name, t);
  free(t);
}

static inline void fx_unlink(const char *dir, const char *name) {
  char path[8192];
  snprintf(path, sizeof path, "%.4000s/%.4000s", dir, name);
  ck_assert_int_eq(unlink(path), 0);
}

/* A realtime clock 2 s ahead: files written just now are not "racy". */
static inline int64_t fx_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + 2000000000LL;
}

static inline const desired_change *fx_change(const desired_report *r, const char *name) {
  for (size_t i = 0; i < r->n_changes; i++)
    if (strcmp(r->changes[i].name, name) == 0)
      return &r->changes[i];
  return NULL;
}

/* Parses one document into a pod (the caller frees it), asserting it is valid. */
static inline spec_pod *fx_parse(const char *text) {
  spec_pod_list l = {0};
  diag_list dl;
  diag_list_init(&dl);
  int r = spec_parse_buffer("fx.yaml", text, strlen(text), 0, &l, &dl);
  ck_assert_msg(r == 0 && l.n == 1, "fixture pod invalid: %s", dl.n ? dl.items[0].message : "?");
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  diag_list_free(&dl);
  return p;
}

static inline spec_pod *fx_parse_opts(const fx_opts *o) {
  char *t = fx_pod(o);
  spec_pod *p = fx_parse(t);
  free(t);
  return p;
}

#endif
