/*
 * k8s_meta.h - the kind-independent objects of the Kubernetes API: lists,
 * watch events and Status errors.
 *
 *  - k8s_meta_list(): {"kind": "<Kind>List", "apiVersion", "metadata":
 *    {"resourceVersion": rv}, "items": [...]}, the shape of PodList and
 *    EventList.
 *  - k8s_meta_watch_event(): one event of a `?watch=true` stream,
 *    {"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": ...};
 *    k8s_meta_watch_line() is its compact JSON text and a newline, the
 *    framing kube-apiserver uses for JSON watches (one event per line).
 *    An ERROR event carries a Status object.
 *  - k8s_meta_status(): a failure Status ({"kind": "Status", "apiVersion":
 *    "v1", "metadata": {}, "status": "Failure", "message", "reason",
 *    "code"}), which kubectl prints as "Error from server (<reason>):
 *    <message>".  reason is one of Kubernetes' StatusReason values
 *    ("NotFound", "AlreadyExists", "Conflict", "Invalid", "BadRequest",
 *    "Forbidden", "MethodNotAllowed", "InternalError", ...).
 *
 * Contract: pure; new references (or text) the caller owns, NULL with err
 * on out of memory or on arguments of the wrong shape (EINVAL).  Arguments
 * documented as stolen are stolen also on failure.
 */
#ifndef PODVISOR_DAEMON_K8S_META_H
#define PODVISOR_DAEMON_K8S_META_H

#include <jansson.h>

#include "supervisor/core/error.h"

/* kind is the list's kind ("PodList"); items (an array) is stolen. */
json_t *k8s_meta_list(const char *kind, const char *api_version, json_t *items, const char *rv, pv_err *err);

/* object is stolen. */
json_t *k8s_meta_watch_event(const char *type, json_t *object, pv_err *err);

/* The event's text with a trailing newline (malloc'd, the caller frees). */
char *k8s_meta_watch_line(const char *type, const json_t *object, pv_err *err);

json_t *k8s_meta_status(int code, const char *reason, const char *message, pv_err *err);

#endif
