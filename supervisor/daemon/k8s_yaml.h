/*
 * k8s_yaml.h - a JSON document as YAML, the way `kubectl get -o yaml`
 * writes it.
 *
 * What it is for: `podvisor get pod NAME -o yaml` (and describe-like
 * tools) print the daemon's JSON objects as YAML.  kubectl turns JSON into
 * YAML through sigs.k8s.io/yaml and go-yaml v2, whose emitter is a port of
 * libyaml's; this module drives libyaml's own emitter with the same
 * choices, so the text matches kubectl's in layout:
 *  - block style; a sequence inside a mapping is not indented ("- name"
 *    under its key); empty mappings and sequences as {} and [];
 *  - mapping keys sorted as go-yaml sorts them (runs of digits compared as
 *    numbers, letters after every other character, else code points), so
 *    the order is stable whatever order the JSON had;
 *  - a string that YAML would read as something else (null, ~, true, yes,
 *    off, y, 12, 0x1F, 1e3, .inf, 1:20, 2023-11-14T22:13:20Z, <<, "") is
 *    double-quoted; a string with a line break is a literal block (|, |-)
 *    when libyaml can write it so, else double-quoted; every other string
 *    is plain when libyaml allows it, else single-quoted; lines are folded
 *    at 80 columns where libyaml folds them; non-ASCII is written as is;
 *  - numbers as JSON has them (reals in the shortest form that reads back),
 *    true/false, null;
 *  - one document, without "---" or "...".
 *
 * Round trip: a YAML 1.1 or 1.2 reader gives back exactly the JSON
 * document (tests/unit/test_k8s_yaml.c loads every output back and
 * compares; a Pod document also goes back through spec_parse_buffer()).
 *
 * Contract: pure; returns malloc'd text, or NULL with err (ENOMEM, or
 * EINVAL when libyaml refuses an event, e.g. a string that is not UTF-8,
 * which Jansson never produces).
 */
#ifndef PODVISOR_DAEMON_K8S_YAML_H
#define PODVISOR_DAEMON_K8S_YAML_H

#include <jansson.h>
#include <stdbool.h>

#include "supervisor/core/error.h"

char *k8s_yaml_dump(const json_t *doc, pv_err *err);

/* True when YAML would read the plain scalar s as something other than a
 * string (which k8s_yaml_dump() then quotes). */
bool k8s_yaml_plain_is_typed(const char *s);

/* go-yaml's key order: < 0, 0 or > 0 like strcmp. */
int k8s_yaml_key_cmp(const char *a, const char *b);

#endif
