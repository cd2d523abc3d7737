/* k8s_describe_ctr.c - the container sections of describe pod
 * (describeContainers of kubectl 1.32, k8s_describe.h), with podvisor's
 * back-off line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/k8s_buf.h"
#include "supervisor/daemon/k8s_describe_int.h"
#include "supervisor/daemon/k8s_json.h"

enum { L0, L1, L2, L3 };

static const json_t *status_of(const json_t *statuses, const char *name) {
  const json_t *s;
  size_t i;
  json_array_foreach(statuses, i, s) {
    if (strcmp(k8s_json_str(s, "name"), name) == 0)
      return s;
  }
  return NULL;
}

/* "9000/TCP, 9090/UDP" of containerPort (or of hostPort, 0 when unset). */
static char *ports(const json_t *c, const char *key) {
  k8s_buf b = {0};
  const json_t *p;
  size_t i;
  json_array_foreach(k8s_json_arr(c, "ports"), i, p) {
    k8s_buf_printf(&b, "%s%lld/%s", i > 0 ? ", " : "", (long long)k8s_json_int(p, key),
                   k8s_json_str(p, "protocol"));
  }
  char *s = k8s_buf_steal(&b);
  return s != NULL ? s : strdup("");
}

static void port_lines(k8s_describe_ctx *d, const json_t *c) {
  char *cp = ports(c, "containerPort"), *hp = ports(c, "hostPort");
  if (cp != NULL && strchr(cp, ','))
    k8s_describe_write(d, L2, "Ports:\t%s\n", cp);
  else
    k8s_describe_write(d, L2, "Port:\t%s\n", cp != NULL && *cp ? cp : "<none>");
  if (hp != NULL && strchr(hp, ','))
    k8s_describe_write(d, L2, "Host Ports:\t%s\n", hp);
  else
    k8s_describe_write(d, L2, "Host Port:\t%s\n", hp != NULL && *hp ? hp : "<none>");
  free(cp);
  free(hp);
}

/* Each string of a list, one line per line of it. */
static void lines(k8s_describe_ctx *d, const char *title, const json_t *list) {
  const json_t *v;
  size_t i;
  if (json_array_size(list) == 0)
    return;
  k8s_describe_write(d, L2, "%s:\n", title);
  json_array_foreach(list, i, v) {
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    for (;;) {
      size_t n = strcspn(s, "\n");
      k8s_describe_write(d, L3, "%.*s\n", (int)n, s);
      if (s[n] == '\0')
        break;
      s += n + 1;
    }
  }
}

static void basic_info(k8s_describe_ctx *d, const json_t *c, const json_t *st) {
  k8s_describe_write(d, L1, "%s:\n", k8s_json_str(c, "name"));
  if (st != NULL)
    k8s_describe_write(d, L2, "Container ID:\t%s\n", k8s_json_str(st, "containerID"));
  k8s_describe_write(d, L2, "Image:\t%s\n", k8s_json_str(c, "image"));
  if (st != NULL)
    k8s_describe_write(d, L2, "Image ID:\t%s\n", k8s_json_str(st, "imageID"));
  port_lines(d, c);
  lines(d, "Command", k8s_json_arr(c, "command"));
  lines(d, "Args", k8s_json_arr(c, "args"));
}

/* describeStatus: one state (running, waiting or terminated). */
static void state(k8s_describe_ctx *d, const char *title, const json_t *s) {
  const json_t *run = k8s_json_obj(s, "running"), *wait = k8s_json_obj(s, "waiting");
  const json_t *term = k8s_json_obj(s, "terminated");
  char t[K8S_TIME_RFC1123_MAX];
  if (run != NULL) {
    k8s_describe_write(d, L2, "%s:\tRunning\n", title);
    k8s_describe_time(d, k8s_json_time(run, "startedAt"), t);
    k8s_describe_write(d, L3, "Started:\t%s\n", t);
  } else if (wait != NULL) {
    k8s_describe_write(d, L2, "%s:\tWaiting\n", title);
    if (*k8s_json_str(wait, "reason") != '\0')
      k8s_describe_write(d, L3, "Reason:\t%s\n", k8s_json_str(wait, "reason"));
  } else if (term != NULL) {
    k8s_describe_write(d, L2, "%s:\tTerminated\n", title);
    if (*k8s_json_str(term, "reason") != '\0')
      k8s_describe_write(d, L3, "Reason:\t%s\n", k8s_json_str(term, "reason"));
    if (*k8s_json_str(term, "message") != '\0')
      k8s_describe_write(d, L3, "Message:\t%s\n", k8s_json_str(term, "message"));
    k8s_describe_write(d, L3, "Exit Code:\t%lld\n", (long long)k8s_json_int(term, "exitCode"));
    if (k8s_json_int(term, "signal") > 0)
      k8s_describe_write(d, L3, "Signal:\t%lld\n", (long long)k8s_json_int(term, "signal"));
    k8s_describe_time(d, k8s_json_time(term, "startedAt"), t);
    k8s_describe_write(d, L3, "Started:\t%s\n", t);
    k8s_describe_time(d, k8s_json_time(term, "finishedAt"), t);
    k8s_describe_write(d, L3, "Finished:\t%s\n", t);
  } else {
    k8s_describe_write(d, L2, "%s:\tWaiting\n", title);
  }
}

/* podvisor's lines under a waiting state: when a back-off ends, or why
 * the container waits (kubectl shows neither). */
static void podvisor_waiting(k8s_describe_ctx *d, const json_t *st) {
  const json_t *wait = k8s_json_obj(st, "state.waiting");
  if (wait == NULL)
    return;
  int64_t next = k8s_json_time(st, "podvisor.nextRestartAt");
  if (strcmp(k8s_json_str(wait, "reason"), "CrashLoopBackOff") == 0 && next != 0) {
    char in[K8S_TIME_HUMAN_MAX];
    k8s_time_human(next > d->now ? next - d->now : 0, in);
    k8s_describe_write(d, L3, "Back-off:\trestart in %s\n", in);
  } else if (*k8s_json_str(wait, "message") != '\0') {
    k8s_describe_write(d, L3, "Message:\t%s\n", k8s_json_str(wait, "message"));
  }
}

/* podvisor's lines once the container's log writes failed (a full disk):
 * the output lost, and whether the writes fail still or since when they
 * succeed again. */
static void podvisor_logs(k8s_describe_ctx *d, const json_t *st) {
  if (k8s_json_at(st, "podvisor.logDroppedBytes") == NULL)
    return;
  char t[K8S_TIME_RFC1123_MAX];
  k8s_describe_write(d, L2, "Log Dropped Bytes:\t%lld\n", (long long)k8s_json_int(st, "podvisor.logDroppedBytes"));
  if (*k8s_json_str(st, "podvisor.logError") != '\0') {
    k8s_describe_time(d, k8s_json_time(st, "podvisor.logFailingSince"), t);
    k8s_describe_write(d, L2, "Log Writes:\tfailing: %s since %s\n", k8s_json_str(st, "podvisor.logError"), t);
  } else if (k8s_json_time(st, "podvisor.logResumedAt") != 0) {
    k8s_describe_time(d, k8s_json_time(st, "podvisor.logResumedAt"), t);
    k8s_describe_write(d, L2, "Log Writes:\tresumed %s\n", t);
  }
}

static void container_state(k8s_describe_ctx *d, const json_t *st) {
  state(d, "State", k8s_json_obj(st, "state"));
  podvisor_waiting(d, st);
  if (k8s_json_obj(st, "lastState.terminated") != NULL)
    state(d, "Last State", k8s_json_obj(st, "lastState"));
  k8s_describe_write(d, L2, "Ready:\t%s\n", k8s_json_bool(st, "ready") ? "True" : "False");
  k8s_describe_write(d, L2, "Restart Count:\t%lld\n", (long long)k8s_json_int(st, "restartCount"));
  podvisor_logs(d, st);
}

static int by_key(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Limits or Requests, resource names sorted. */
static void resources(k8s_describe_ctx *d, const char *title, const json_t *list) {
  size_t n = json_object_size(list), i = 0;
  const char **names = n > 0 ? calloc(n, sizeof *names) : NULL, *k;
  const json_t *v;
  if (names == NULL)
    return;
  json_object_foreach((json_t *)list, k, v) names[i++] = k;
  qsort(names, n, sizeof *names, by_key);
  k8s_describe_write(d, L2, "%s:\n", title);
  for (i = 0; i < n; i++)
    k8s_describe_write(d, L3, "%s:\t%s\n", names[i], k8s_json_member(list, names[i]));
  free(names);
}

/* The url.URL kubectl builds for an httpGet probe: lower-case scheme,
 * net.JoinHostPort(host, port) (an IPv6 host in brackets), the path. */
static char *http_url(const json_t *h, const char *port) {
  k8s_buf b = {0};
  const char *scheme = k8s_json_str(h, "scheme"), *host = k8s_json_str(h, "host"),
             *path = k8s_json_str(h, "path");
  for (const char *c = scheme; *c; c++)
    k8s_buf_putc(&b, (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c));
  if (*scheme)
    k8s_buf_putc(&b, ':');
  bool v6 = *port && strchr(host, ':') != NULL;
  if (*host || *port)
    k8s_buf_printf(&b, "//%s%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", *port ? ":" : "", port);
  if ((*host || *port) && *path && *path != '/')
    k8s_buf_putc(&b, '/');
  k8s_buf_puts(&b, path);
  return k8s_buf_steal(&b);
}

/* DescribeProbe of kubectl 1.32. */
static void probe(k8s_describe_ctx *d, const char *title, const json_t *p) {
  char attrs[160], port[32];
  if (p == NULL)
    return;
  snprintf(attrs, sizeof attrs, "delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld",
           (long long)k8s_json_int(p, "initialDelaySeconds"), (long long)k8s_json_int(p, "timeoutSeconds"),
           (long long)k8s_json_int(p, "periodSeconds"), (long long)k8s_json_int(p, "successThreshold"),
           (long long)k8s_json_int(p, "failureThreshold"));
  const json_t *h = k8s_json_obj(p, "httpGet") ? k8s_json_obj(p, "httpGet") : k8s_json_obj(p, "tcpSocket");
  const json_t *pv = json_object_get(h, "port");
  snprintf(port, sizeof port, "%s", json_is_string(pv) ? json_string_value(pv) : "");
  if (json_is_integer(pv))
    snprintf(port, sizeof port, "%lld", (long long)json_integer_value(pv));
  if (k8s_json_obj(p, "exec") != NULL) {
    k8s_buf b = {0};
    const json_t *a;
    size_t i;
    json_array_foreach(k8s_json_arr(p, "exec.command"), i, a) {
      k8s_buf_printf(&b, "%s%s", i > 0 ? " " : "", json_is_string(a) ? json_string_value(a) : "");
    }
    k8s_describe_write(d, L2, "%s:\texec [%s] %s\n", title, b.data != NULL ? b.data : "", attrs);
    k8s_buf_free(&b);
  } else if (k8s_json_obj(p, "httpGet") != NULL) {
    char *url = http_url(h, port);
    k8s_describe_write(d, L2, "%s:\thttp-get %s %s\n", title, url != NULL ? url : "", attrs);
    free(url);
  } else if (k8s_json_obj(p, "tcpSocket") != NULL) {
    k8s_describe_write(d, L2, "%s:\ttcp-socket %s:%s %s\n", title, k8s_json_str(h, "host"), port, attrs);
  } else {
    k8s_describe_write(d, L2, "%s:\tunknown %s\n", title, attrs);
  }
}

static void env(k8s_describe_ctx *d, const json_t *c) {
  const json_t *list = k8s_json_arr(c, "env"), *e;
  size_t i;
  k8s_describe_write(d, L2, "Environment:%s\n", json_array_size(list) == 0 ? "\t<none>" : "");
  json_array_foreach(list, i, e) {
    const char *s = k8s_json_str(e, "value");
    for (bool first = true;; first = false) {
      size_t n = strcspn(s, "\n");
      if (first)
        k8s_describe_write(d, L3, "%s:\t%.*s\n", k8s_json_str(e, "name"), (int)n, s);
      else
        k8s_describe_write(d, L3, "\t%.*s\n", (int)n, s);
      if (s[n] == '\0')
        break;
      s += n + 1;
    }
  }
}

static int by_mount_path(const void *a, const void *b) {
  return strcmp(k8s_json_str(*(const json_t *const *)a, "mountPath"),
                k8s_json_str(*(const json_t *const *)b, "mountPath"));
}

static void mounts(k8s_describe_ctx *d, const json_t *c) {
  const json_t *list = k8s_json_arr(c, "volumeMounts");
  size_t n = json_array_size(list);
  k8s_describe_write(d, L2, "Mounts:%s\n", n == 0 ? "\t<none>" : "");
  const json_t **m = n > 0 ? calloc(n, sizeof *m) : NULL;
  if (m == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    m[i] = json_array_get(list, i);
  qsort(m, n, sizeof *m, by_mount_path);
  for (size_t i = 0; i < n; i++) {
    const char *sub = k8s_json_str(m[i], "subPath");
    k8s_describe_write(d, L3, "%s from %s (%s%s%s%s)\n", k8s_json_str(m[i], "mountPath"),
                       k8s_json_str(m[i], "name"), k8s_json_bool(m[i], "readOnly") ? "ro" : "rw",
                       *sub ? ",path=\"" : "", sub, *sub ? "\"" : "");
  }
  free(m);
}

void k8s_describe_containers(k8s_describe_ctx *d, const char *label, const json_t *specs,
                             const json_t *statuses) {
  const json_t *c;
  size_t i;
  k8s_describe_write(d, L0, "%s:%s\n", label, json_array_size(specs) == 0 ? " <none>" : "");
  json_array_foreach(specs, i, c) {
    const json_t *st = status_of(statuses, k8s_json_str(c, "name"));
    basic_info(d, c, st);
    if (st != NULL)
      container_state(d, st);
    if (json_object_size(k8s_json_obj(c, "resources.limits")) > 0)
      resources(d, "Limits", k8s_json_obj(c, "resources.limits"));
    if (json_object_size(k8s_json_obj(c, "resources.requests")) > 0)
      resources(d, "Requests", k8s_json_obj(c, "resources.requests"));
    probe(d, "Liveness", k8s_json_obj(c, "livenessProbe"));
    probe(d, "Readiness", k8s_json_obj(c, "readinessProbe"));
    probe(d, "Startup", k8s_json_obj(c, "startupProbe"));
    env(d, c);
    mounts(d, c);
  }
}
