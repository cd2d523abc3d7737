/*
 * handlers.h - container probes and lifecycle hooks (internal to spec/).
 *
 * Decodes livenessProbe/readinessProbe/startupProbe and lifecycle
 * postStart/preStop into the model with Kubernetes' defaults (period 10 s,
 * timeout 1 s, success 1, failure 3, no initial delay; a 0 in any of these
 * means "default", as in Kubernetes) and checks the handler rules: exactly
 * one of exec, httpGet and tcpSocket, a non-empty exec command, valid ports
 * and header names, successThreshold 1 for liveness and startup probes.
 */
#ifndef PODVISOR_SPEC_HANDLERS_H
#define PODVISOR_SPEC_HANDLERS_H

#include "spec/decode.h"

typedef enum handlers_probe_type { HANDLERS_LIVENESS, HANDLERS_READINESS, HANDLERS_STARTUP } handlers_probe_type;

/* Decodes map[key] into *out (kind NONE when absent). */
void handlers_probe(decode_ctx *c, const ytree_node *map, const char *key, handlers_probe_type type,
                    spec_probe *out);

/* Decodes map.lifecycle into post_start/pre_stop. */
void handlers_lifecycle(decode_ctx *c, const ytree_node *map, spec_strv *post_start, spec_strv *pre_stop);

/* Checks that a probe's named port is a port of the container. */
void handlers_check_port_name(decode_ctx *c, const ytree_node *cmap, const char *key, const spec_probe *p,
                              const spec_container *ct);

void handlers_probe_free(spec_probe *p);

#endif
