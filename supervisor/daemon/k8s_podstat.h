/*
 * k8s_podstat.h - the READY, STATUS, RESTARTS and AGE of a pod, as
 * `kubectl get pods` prints them.
 *
 * What it is for: kube-apiserver computes these cells (printPod in
 * kubernetes/pkg/printers/internalversion/printers.go) and kubectl prints
 * them; podvisor's API computes them the same way from the same fields, so
 * that kubectl and `podvisor get pods` show what a cluster would show for
 * the same pod.  The input is a Pod document (k8s_pod.h's, or any
 * Kubernetes Pod in JSON); only spec.containers, spec.initContainers (their
 * names and restartPolicy), metadata.creationTimestamp,
 * metadata.deletionTimestamp and status are read.
 *
 * The rules (printPod, kubectl >= 1.29 with sidecars):
 *  - READY "r/t": t counts spec.containers plus the init containers with
 *    restartPolicy Always (sidecars); r counts the app containers that are
 *    ready and running, plus the sidecars that are started and ready.
 *  - STATUS starts as status.reason, else status.phase ("SchedulingGated"
 *    when the PodScheduled condition says so).  The init container
 *    statuses are walked in order: one that completed with exit code 0, or
 *    a sidecar that has started, is passed; the first other one decides
 *    and ends the walk: "Init:<reason>" or "Init:Signal:N" /
 *    "Init:ExitCode:N" when it terminated, "Init:<reason>" when it waits
 *    for any reason but PodInitializing, else "Init:i/n" (i init containers
 *    done of n).  Unless an init container decided (or when the Initialized
 *    condition is True), the app container statuses are walked from the
 *    last to the first, each one that waits or terminated overwriting
 *    STATUS, so the first such container in spec order wins: its waiting
 *    reason (CrashLoopBackOff, ContainerCreating, StartLimitReached, ...),
 *    its terminated reason (Completed, Error, OOMKilled, StartError, ...),
 *    or "Signal:N" / "ExitCode:N" for a termination without a reason.  A
 *    "Completed" pod that still has a ready running container shows
 *    "Running" when the pod's Ready condition is True, else "NotReady".
 *    A pod with a deletionTimestamp shows "Terminating" unless its phase
 *    is Succeeded or Failed ("Unknown" when status.reason is NodeLost).
 *  - RESTARTS: the restart counts of the init containers walked (only the
 *    sidecars' when the app containers are walked too) plus the app
 *    containers'; "N (AGE ago)" after the latest lastState.terminated
 *    finishedAt among them when N > 0 and such a time exists.
 *  - AGE: k8s_time_since(metadata.creationTimestamp, now).
 *
 * Contract: pure; the clock is passed in; never fails (a field of the
 * wrong shape reads as its zero value, as in Go).  Cells longer than their
 * buffer are cut (a reason is at most K8S_PODSTAT_REASON_MAX - 1 bytes).
 */
#ifndef PODVISOR_DAEMON_K8S_PODSTAT_H
#define PODVISOR_DAEMON_K8S_PODSTAT_H

#include <jansson.h>
#include <stdint.h>

#include "supervisor/daemon/k8s_time.h"

#define K8S_PODSTAT_REASON_MAX 160

typedef struct k8s_podstat {
  char ready[32];                      /* "1/2" */
  char status[K8S_PODSTAT_REASON_MAX]; /* "CrashLoopBackOff" */
  char restarts[64];                   /* "5 (10s ago)" or "0" */
  char age[K8S_TIME_HUMAN_MAX];        /* "3h45m" */
  int ready_count, total_count;
  long long restart_count;
  int64_t last_restart; /* the latest lastState finishedAt counted, 0 = none */
} k8s_podstat;

void k8s_podstat_compute(const json_t *pod, int64_t now_ns, k8s_podstat *out);

#endif
