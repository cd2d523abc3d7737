/*
 * k8s_describe_int.h - what the two halves of describe share (internal to
 * k8s_describe.c and k8s_describe_ctr.c).
 *
 * k8s_describe_write() is kubectl's PrefixWriter.Write: two spaces per
 * level before the formatted text, ESC and CR escaped, everything into the
 * one tabwriter of the description.
 */
#ifndef PODVISOR_DAEMON_K8S_DESCRIBE_INT_H
#define PODVISOR_DAEMON_K8S_DESCRIBE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/daemon/k8s_tabw.h"
#include "supervisor/daemon/k8s_time.h"

typedef struct k8s_describe_ctx {
  k8s_tabw tw;
  int64_t now;
  bool local_time;
} k8s_describe_ctx;

void k8s_describe_write(k8s_describe_ctx *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A time as describe prints it (Go's time.RFC1123Z). */
void k8s_describe_time(const k8s_describe_ctx *d, int64_t ns, char buf[K8S_TIME_RFC1123_MAX]);

/* The "Init Containers:" or "Containers:" section (describeContainers):
 * specs is spec.initContainers or spec.containers, statuses the matching
 * status array. */
void k8s_describe_containers(k8s_describe_ctx *d, const char *label, const json_t *specs,
                             const json_t *statuses);

#endif
