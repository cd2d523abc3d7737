/*
 * podjson.h - a validated pod as a Kubernetes Pod document in JSON.
 *
 * What it is for: the one way podvisor writes a pod spec back out.  The
 * launcher writes it as the shim's snapshot (<run-root>/pods/<key>/pod.json),
 * the shim rewrites it when a container is updated, and the daemon's API
 * returns it as a Pod's "spec" (`get -o json|yaml`).  JSON is YAML, so the
 * snapshot is read back with spec_parse_buffer() like any manifest.
 *
 * Contract:
 *  - The document is a valid Kubernetes v1 Pod ("apiVersion": "v1",
 *    "kind": "Pod", metadata: name, namespace, uid when set, labels,
 *    annotations; spec), using Kubernetes' own field names and value forms
 *    (quantities as strings such as "500m" or "64Mi", enums by name).
 *    Defaults are written out explicitly.
 *  - Round trip: spec_parse_buffer(podjson_pod_text(p)) gives a pod
 *    q without any diagnostic, with q->hash, q->sandbox_hash and every
 *    container hash equal to p's, and podjson_pod(q) equal to
 *    podjson_pod(p) (json_equal).  tests/unit/test_podjson.c asserts this
 *    for every manifest of the corpus and of examples/.  The one diagnostic
 *    that comes back is the warning for an env variable set twice: both
 *    entries are part of the pod (a $(VAR) between them sees the first).
 *  - podjson_pod_text() is json_dumps() of podjson_pod() with the few
 *    characters YAML reads differently from JSON (DEL, C1 controls, NEL, LS,
 *    PS, U+FFFE/U+FFFF) as \u escapes and everything else beyond ASCII as
 *    raw UTF-8, so that libyaml reads back exactly the strings written.
 *    Plain json_dumps() text reads back the same unless a string holds one
 *    of those characters.
 *  - podjson_container(c) is the container object as it appears in
 *    spec.containers / spec.initContainers of podjson_pod().
 *  - Where the model holds a derived value, the document holds what runs:
 *    spec.hostname is the effective hostname (none with hostNetwork), and
 *    pod-level securityContext values appear in every container.
 *  - Pure: no I/O, never prints or exits.  Returns a new reference the
 *    caller owns, or NULL with err on out of memory (or on a string that is
 *    not UTF-8, which a pod from spec_parse_*() never holds).
 */
#ifndef PODVISOR_PROTO_PODJSON_H
#define PODVISOR_PROTO_PODJSON_H

#include <jansson.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"

json_t *podjson_pod(const spec_pod *p, pv_err *err);
json_t *podjson_container(const spec_container *c, pv_err *err);

/* json_dumps of podjson_pod(), compact, keys in a fixed order, NUL-terminated
 * (malloc'd, the caller frees); NULL with err on out of memory. */
char *podjson_pod_text(const spec_pod *p, pv_err *err);

#endif
