/*
 * poddecode.h - one YAML document to one pod (internal to spec/).
 *
 * Checks the document's apiVersion and kind (another kind is an error: an
 * apply is all-or-nothing, so the user must learn that it was not applied),
 * metadata, the podvisor.io/ annotations, the pod-level spec fields,
 * volumes, and the rules that span containers: unique container names
 * across init and app containers, volumeMounts naming declared volumes.
 */
#ifndef PODVISOR_SPEC_PODDECODE_H
#define PODVISOR_SPEC_PODDECODE_H

#include "spec/decode.h"

/* Decodes doc.  Returns NULL for an empty document or one that is not a
 * Pod (reported); otherwise a pod whose problems are in c (c->errors). */
spec_pod *poddecode_document(decode_ctx *c, const ytree_doc *doc);

#endif
