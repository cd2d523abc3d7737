/* spec_fixture.c - see spec_fixture.h. */
#include "tests/unit/spec_fixture.h"

#include <stdio.h>
#include <string.h>

void spec_run_parse(spec_run *x, const char *yaml) {
  memset(x, 0, sizeof *x);
  diag_list_init(&x->d);
  x->r = spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &x->pods, &x->d);
  char buf[1024];
  for (size_t i = 0; i < x->d.n; i++) {
    diag_format(&x->d.items[i], buf, sizeof buf);
    fprintf(stderr, "  %s\n", buf);
  }
}

void spec_run_done(spec_run *x) {
  spec_pod_list_free(&x->pods);
  diag_list_free(&x->d);
}

static const diag *find(const spec_run *x, diag_severity sev, int line, const char *text, bool formatted) {
  char buf[1024];
  for (size_t i = 0; i < x->d.n; i++) {
    const diag *d = &x->d.items[i];
    if (formatted)
      diag_format(d, buf, sizeof buf);
    else
      snprintf(buf, sizeof buf, "%s: %s", d->path, d->message);
    if (d->severity == sev && (line == 0 || d->line == line) && strstr(buf, text) != NULL)
      return d;
  }
  return NULL;
}

const diag *spec_run_find(const spec_run *x, diag_severity sev, int line, const char *text) {
  return find(x, sev, line, text, false);
}

const diag *spec_run_find_formatted(const spec_run *x, diag_severity sev, int line, const char *text) {
  return find(x, sev, line, text, true);
}
