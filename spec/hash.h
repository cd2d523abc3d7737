/*
 * hash.h - change-detection hashes of pods and containers (internal to spec/).
 *
 * The hashes are sha256 over a canonical serialization of the typed,
 * defaulted model, never of the YAML text: key order, quoting, comments and
 * flow or block style cannot change them, while any field that affects what
 * runs does.  Every value is written as a tag, its length and its bytes, so
 * no two different models serialize alike.  Labels, annotations other than
 * podvisor.io/ ones and metadata.uid do not affect what runs and are left
 * out (the uid names one instance of a pod: a new instance of the same
 * manifest gets a new uid and the same hashes).
 *
 *   container->hash     one container's own fields
 *   pod->sandbox_hash   pod-level fields: namespace/name, volumes, namespaces,
 *                       effective hostname, subdomain, restart policy, grace
 *                       period, backoff and start limits
 *   pod->hash           the sandbox hash and every container hash, in order
 *
 * So a daemon can restart only the containers whose hash changed when the
 * sandbox hash is the same, and recreate the pod otherwise.
 */
#ifndef PODVISOR_SPEC_HASH_H
#define PODVISOR_SPEC_HASH_H

#include "spec/spec.h"

/* Fills every hash of p (sha256 from libmd).  Returns 0 (-1 is kept for
 * callers: a digest that cannot be computed). */
int hash_pod(spec_pod *p);

/* Lowercase hex of d[0..n) into out[2n + 1], NUL-terminated. */
void hash_hex(const unsigned char *d, unsigned n, char *out);

#endif
