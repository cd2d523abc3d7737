/*
 * ctrdecode.h - one container of a pod: decode, default, validate
 * (internal to spec/).
 *
 * Checks everything that concerns a single container: its name, image,
 * pull policy default (Always for ":latest" or no tag, else IfNotPresent),
 * env names, ports, resources (quantities parsed to millicores and bytes,
 * requests defaulting to limits, requests <= limits), volume mount paths,
 * probes, lifecycle and security context.  Rules that span containers
 * (unique names, mounts naming declared volumes) live in poddecode.c.
 */
#ifndef PODVISOR_SPEC_CTRDECODE_H
#define PODVISOR_SPEC_CTRDECODE_H

#include "spec/decode.h"

typedef struct ctrdecode_opts {
  bool is_init;
  bool host_network;
  const spec_security *pod_security;
  int host_users; /* the pod's hostUsers tri-state */
} ctrdecode_opts;

/* Decodes the container mapping n into out (zeroed by the caller). */
void ctrdecode_container(decode_ctx *c, const ytree_node *n, const ctrdecode_opts *o, spec_container *out);

void ctrdecode_free(spec_container *ct);

#endif
