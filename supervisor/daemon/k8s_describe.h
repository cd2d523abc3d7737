/*
 * k8s_describe.h - `describe pod` text, laid out as kubectl 1.32 lays it
 * out (k8s.io/kubectl pkg/describe describePod), plus podvisor's own lines
 * where kubectl has no place for what podvisor knows.
 *
 * What it is for: `podvisor describe pod NAME` gets the Pod and the pod's
 * events from the daemon's API, as kubectl does, and prints this text;
 * kubectl describe against the daemon prints the same layout from the same
 * objects.
 *
 * The layout: one tabwriter over the whole text (K8S_TABW_DESCRIBE: two
 * spaces after the widest label of each block of lines), sections in
 * kubectl's order: Name, Namespace, Priority, Node ("<name>/<hostIP>"),
 * Start Time, Labels, Annotations, Status (or "Terminating (lasts 5s)"
 * and Termination Grace Period), Reason, Message, IP, IPs, Init Containers
 * and Containers (Container ID, Image, Image ID, Port(s), Host Port(s),
 * Command, Args, State with Reason / Message / Exit Code / Signal /
 * Started / Finished, Last State, Ready, Restart Count, Limits, Requests,
 * Liveness / Readiness / Startup as "exec [cmd] delay=0s timeout=1s
 * period=10s #success=1 #failure=3", "http-get http://:8080/healthz ...",
 * "tcp-socket :8080 ...", Environment, Mounts sorted by path with
 * (ro|rw[,path="sub"])), Conditions (Type / Status), Volumes (EmptyDir,
 * HostPath), QoS Class, Node-Selectors, Tolerations, and Events (Type,
 * Reason, Age as "5m (x3 over 10m)", From, Message; sorted by last time)
 * when events is not NULL ("Events: <none>" for an empty list).  Times are
 * Go's RFC1123Z, in UTC unless local_time; a zero time prints as Go prints
 * one ("Mon, 01 Jan 0001 00:00:00 +0000"); ESC and CR in values print as
 * "^[" and "\r" (kubectl's terminal escaping).
 *
 * podvisor's lines, which kubectl never prints (its objects lack them):
 *  - "Source:" after Annotations: where the pod came from (the
 *    podvisor.io/source annotation);
 *  - "Back-off:  restart in 8s" under a container waiting in
 *    CrashLoopBackOff, from its status' podvisor.nextRestartAt;
 *  - "Message:" under any other waiting state that has a message (the
 *    reason podvisor's StartLimitReached keeps a container down).
 *
 * Contract: pure, the clock passed in (AGE and the back-off count from
 * now); events may hold other pods' events, only those whose
 * involvedObject names this pod (namespace, name, and uid when both have
 * one) are shown, as kubectl's field selector would select them.  Returns
 * malloc'd text, or NULL with err (ENOMEM; EINVAL when pod is not an
 * object).
 */
#ifndef PODVISOR_DAEMON_K8S_DESCRIBE_H
#define PODVISOR_DAEMON_K8S_DESCRIBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/core/error.h"

typedef struct k8s_describe_opts {
  bool local_time; /* times in the local time zone (as kubectl), else UTC */
} k8s_describe_opts;

/* events: an EventList, an array of Events, or NULL (no Events section). */
char *k8s_describe_pod(const json_t *pod, const json_t *events, int64_t now_ns, const k8s_describe_opts *o,
                       pv_err *err);

#endif
