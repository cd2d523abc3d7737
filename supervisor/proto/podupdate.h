/*
 * podupdate.h - the pod a container update makes: the current pod with one
 * container replaced, validated, and refused when the change reaches past
 * that container.
 *
 * What it is for: a running pod's keeper applies "update CONTAINER SPEC"
 * (ctlproto.h) by building its next snapshot from its current one
 * (podsnap.h) with this function, so the merge and its rules have one
 * definition and a unit test of their own (tests/unit/test_podupdate.c).
 *
 * Rules:
 *  - ctr is the container object in the form podjson writes it (the
 *    Kubernetes container fields); its "name", when present, must be the
 *    container's.  The result is parsed and validated by spec/ like any
 *    manifest: every diagnostic comes back in diags.
 *  - Only a change confined to that container is an update: the pod's
 *    sandbox hash, every other container's hash, and the container's kind
 *    (init, sidecar, app) must stay as they are, else -1 with EPERM and
 *    "pod-level change: recreate the pod".
 *  - *changed tells whether the container's own hash changed (an update
 *    that changes nothing restarts nothing).
 *
 * Pure: no I/O.  0 with *out (the caller owns it), or -1 with errno and
 * err: ENOENT (no such container), EINVAL (invalid; see diags), EPERM
 * (pod-level change), ENOMEM.
 */
#ifndef PODVISOR_PROTO_PODUPDATE_H
#define PODVISOR_PROTO_PODUPDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"

int podupdate_replace_container(const spec_pod *cur, const char *name, const json_t *ctr, spec_pod **out,
                                bool *changed, diag_list *diags, pv_err *err);

#endif
