/*
 * k8s_event.h - podvisor's events as Kubernetes core/v1 Event objects.
 *
 * What it is for: the daemon records what happened to a pod (started,
 * back-off, OOM kill, a manifest conflict, ...) and serves it as
 * Kubernetes serves the kubelet's events: GET /api/v1/events (an
 * EventList), watch streams, and the "Events:" table of describe, which
 * kubectl builds from an EventList it asks for with a field selector on
 * involvedObject (name, namespace and uid).
 *
 * The object, in the field order of core/v1 Event:
 *   kind Event, apiVersion v1,
 *   metadata {name, namespace, uid, resourceVersion, creationTimestamp},
 *   involvedObject {kind Pod, namespace, name, uid, apiVersion v1,
 *                   fieldPath "spec.containers{c}" / "spec.initContainers{c}"
 *                   when the event is about one container},
 *   reason, message, source {component "podvisor", host},
 *   firstTimestamp, lastTimestamp, count, type "Normal" | "Warning",
 *   eventTime null, reportingComponent "podvisor", reportingInstance host.
 * The name defaults to "<pod>.<first time in ns, hex>", as client-go's
 * event recorder names events; creationTimestamp is the first time.
 *
 * Contract: pure; a new reference, or NULL with err (ENOMEM, or EINVAL
 * when the pod, namespace or reason is missing or count < 1).
 */
#ifndef PODVISOR_DAEMON_K8S_EVENT_H
#define PODVISOR_DAEMON_K8S_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/core/error.h"

#define K8S_EVENT_COMPONENT "podvisor"

typedef struct k8s_event_spec {
  const char *name;             /* metadata.name; NULL: "<pod>.<hex ns of first>" */
  const char *uid;              /* metadata.uid of the event; NULL: left out */
  const char *resource_version; /* NULL: left out */
  const char *ns;               /* the pod's namespace (also the event's) */
  const char *pod, *pod_uid;    /* involvedObject name and uid (pod_uid NULL: left out) */
  const char *container;        /* NULL: the event is about the pod */
  bool init_container;          /* container is in spec.initContainers */
  const char *reason;           /* "BackOff", "Started", ... */
  const char *message;          /* NULL: "" */
  bool warning;                 /* type Warning, else Normal */
  int64_t first, last;          /* ns; last 0: the same as first */
  int count;                    /* times seen, >= 1 */
  const char *host;             /* source.host and reportingInstance; NULL: left out */
} k8s_event_spec;

json_t *k8s_event_json(const k8s_event_spec *e, pv_err *err);

/* An EventList of items (an array; stolen, also on failure). */
json_t *k8s_event_list(json_t *items, const char *rv, pv_err *err);

#endif
