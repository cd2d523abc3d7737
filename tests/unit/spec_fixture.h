/*
 * spec_fixture.h - what the spec/ suites (test_spec_parse, test_spec_security,
 * test_spec_seccomp) share: a manifest parsed from a string, its pods and
 * diagnostics, and the lookup of a diagnostic by its text.
 *
 * A spec_run owns its pods and diagnostics until spec_run_done().  Parsing
 * prints every diagnostic to stderr, so a failing assertion shows them.
 */
#ifndef PODVISOR_TESTS_SPEC_FIXTURE_H
#define PODVISOR_TESTS_SPEC_FIXTURE_H

#include <check.h>

#include "spec/spec.h"

/* The start of a pod manifest named web, up to its spec's fields. */
#define HEAD "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n"

typedef struct spec_run {
  spec_pod_list pods;
  diag_list d;
  int r; /* spec_parse_buffer's result */
} spec_run;

/* Parses yaml as the file "t.yaml" into an uninitialised *x. */
void spec_run_parse(spec_run *x, const char *yaml);
void spec_run_done(spec_run *x);
/* A diagnostic of severity sev at line (0 = any) whose "path: message"
 * contains text; NULL when there is none. */
const diag *spec_run_find(const spec_run *x, diag_severity sev, int line, const char *text);
/* The same, matched against the whole formatted diagnostic
 * ("t.yaml:L:C: error: path: message"). */
const diag *spec_run_find_formatted(const spec_run *x, diag_severity sev, int line, const char *text);

#endif
