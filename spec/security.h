/*
 * security.h - securityContext of pods and containers (internal to spec/).
 *
 * The pod-level runAsUser/runAsGroup/runAsNonRoot are defaults that each
 * container's own securityContext overrides, as in Kubernetes; the decoder
 * merges them so the shim sees one effective value per container.
 * Capability names are normalised to upper case without "CAP_" and checked
 * against the kernel's list.
 */
#ifndef PODVISOR_SPEC_SECURITY_H
#define PODVISOR_SPEC_SECURITY_H

#include "spec/decode.h"

/* Sets the "unset" values (-1 user/group, tri-states -1). */
void security_init(spec_security *s);

/* Decodes spec.securityContext (the pod-level subset). */
void security_pod(decode_ctx *c, const ytree_node *podspec, spec_security *out);

/* Decodes a container's securityContext, then fills what it leaves unset
 * from pod (may be NULL).  host_users is the pod's hostUsers tri-state
 * (procMount: Unmasked needs it false). */
void security_container(decode_ctx *c, const ytree_node *cmap, const spec_security *pod, int host_users,
                        spec_security *out);

/* Decodes the pod-only fields of spec.securityContext into p: fsGroup,
 * fsGroupChangePolicy, supplementalGroups, supplementalGroupsPolicy and
 * sysctls (spec/sysctl.h: names, namespaces, and the hostNetwork/hostIPC
 * rules, so p->host_network and p->host_ipc must be decoded first). */
void security_pod_spec(decode_ctx *c, const ytree_node *podspec, spec_pod *p);

void security_free(spec_security *s);

#endif
