/*
 * roundtrip.h - the round trip of supervisor/proto/podjson.h, checked.
 *
 * roundtrip_compare() reads a pod document back with spec_parse_buffer()
 * and compares the pod it gives with the one written: no diagnostic, the
 * same metadata (uid, labels, annotations: what the hashes leave out), the
 * same sandbox, container and pod hashes, and the same document again.
 * roundtrip_assert() runs it on podjson_pod_text() together with the rest of
 * the header's contract, as Check assertions.
 */
#ifndef PODVISOR_TESTS_ROUNDTRIP_H
#define PODVISOR_TESTS_ROUNDTRIP_H

#include <check.h>

#include "spec/spec.h"

struct roundtrip_parsed {
  spec_pod_list pods;
  diag_list d;
  int r;
};

/* spec_parse_buffer() of text into x (freed with roundtrip_parsed_free). */
void roundtrip_parse(struct roundtrip_parsed *x, const char *name, const char *text);
void roundtrip_parsed_free(struct roundtrip_parsed *x);

/* The one valid pod of yaml (asserted); the caller frees it. */
spec_pod *roundtrip_one_pod(const char *yaml);

/* Container i of p, init containers first. */
const spec_container *roundtrip_nth(const spec_pod *p, size_t i);

/* 0 when text reads back as p, else -1 with the first difference in why. */
int roundtrip_compare(const spec_pod *p, const char *text, char *why, size_t len);

/* Asserts podjson.h's contract for p; label names p in failures. */
void roundtrip_assert(const spec_pod *p, const char *label);
void roundtrip_yaml(const char *yaml, const char *label);

#endif
