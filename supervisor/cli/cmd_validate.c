/*
 * cmd_validate.c - `podvisor validate [-o text|json] FILE|DIR...`
 *
 * Reads manifests exactly as `podvisor up` and the daemon will, prints every
 * diagnostic (file:line:col: severity: field.path: message) on stderr and a
 * one-line summary per pod on stdout.  With -o json, one JSON object on
 * stdout holds both.  Exit status: 0 valid (warnings allowed), 1 invalid,
 * 2 usage error.  A path that yields no Pod and no other diagnostic (an empty
 * file, a directory without manifests) is an error, as for `kubectl apply`.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "spec/spec.h"
#include "supervisor/cli/cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: podvisor validate [-o text|json] FILE|DIR...\n"
             "  Checks pod manifests and prints every problem with its file:line:col.\n"
             "  A directory contributes its *.yaml, *.yml and *.json files.  \"-\" reads stdin.\n"
             "  Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error.\n");
}

static void plural(char *buf, size_t len, size_t n, const char *word) {
  snprintf(buf, len, "%zu %s%s", n, word, n == 1 ? "" : "s");
}

static void print_pod(const spec_pod *p) {
  char cs[64], extra[128] = "";
  plural(cs, sizeof cs, p->n_containers, "container");
  if (p->n_init_containers > 0) {
    size_t sidecars = 0;
    for (size_t i = 0; i < p->n_init_containers; i++)
      sidecars += p->init_containers[i].sidecar;
    snprintf(extra, sizeof extra, " + %zu init%s", p->n_init_containers,
             sidecars ? (sidecars == 1 ? " (1 sidecar)" : " (sidecars)") : "");
  }
  char notes[64] = "";
  if (p->error_count > 0) {
    char e[32];
    plural(e, sizeof e, p->error_count, "error");
    snprintf(notes, sizeof notes, ", %s", e);
  } else if (p->warning_count > 0) {
    char w[32];
    plural(w, sizeof w, p->warning_count, "warning");
    snprintf(notes, sizeof notes, ", %s", w);
  }
  printf("%s %s (%s) from %s: %s%s, restartPolicy %s%s\n", p->error_count ? "FAIL" : "ok  ",
         p->name ? p->name : "<unnamed>", p->ns ? p->ns : "default", p->source_file ? p->source_file : "?", cs,
         extra, spec_restart_policy_name(p->restart_policy), notes);
}

static json_t *containers_json(const spec_container *cs, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    const spec_container *c = &cs[i];
    json_array_append_new(arr, json_pack("{s:s?, s:s?, s:b, s:b, s:s}", "name", c->name, "image", c->image, "init",
                                         c->is_init, "sidecar", c->sidecar, "hash", c->hash));
  }
  return arr;
}

static int print_json(const spec_pod_list *pods, const diag_list *diags) {
  json_t *root = json_object();
  json_t *ds = json_array(), *ps = json_array();
  for (size_t i = 0; i < diags->n; i++) {
    const diag *d = &diags->items[i];
    json_array_append_new(ds, json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "severity",
                                        diag_severity_name(d->severity), "file", d->file, "line", d->line, "column",
                                        d->col, "path", d->path, "message", d->message));
  }
  for (size_t i = 0; i < pods->n; i++) {
    const spec_pod *p = pods->items[i];
    json_t *o = json_pack("{s:s?, s:s?, s:s?, s:i, s:i, s:b, s:I, s:I, s:s}", "name", p->name, "namespace", p->ns,
                          "file", p->source_file, "document", p->doc_index, "line", p->line, "valid",
                          p->error_count == 0, "errors", (json_int_t)p->error_count, "warnings",
                          (json_int_t)p->warning_count, "restartPolicy", spec_restart_policy_name(p->restart_policy));
    if (o == NULL)
      continue;
    json_object_set_new(o, "initContainers", containers_json(p->init_containers, p->n_init_containers));
    json_object_set_new(o, "containers", containers_json(p->containers, p->n_containers));
    if (p->error_count == 0) {
      json_object_set_new(o, "hash", json_string(p->hash));
      json_object_set_new(o, "sandboxHash", json_string(p->sandbox_hash));
    }
    json_array_append_new(ps, o);
  }
  json_object_set_new(root, "valid", json_boolean(diags->errors == 0));
  json_object_set_new(root, "errors", json_integer((json_int_t)diags->errors));
  json_object_set_new(root, "warnings", json_integer((json_int_t)diags->warnings));
  json_object_set_new(root, "truncated", json_boolean(diags->truncated));
  json_object_set_new(root, "diagnostics", ds);
  json_object_set_new(root, "pods", ps);
  int r = json_dumpf(root, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(root);
  return r;
}

static void report_nothing(diag_list *diags, const char *path) {
  struct stat st;
  if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    diag_add(diags, DIAG_ERROR, path, 0, 0, "", "no Pod found: the directory has no *.yaml, *.yml or *.json file "
                                                "holding one");
  else
    diag_add(diags, DIAG_ERROR, strcmp(path, "-") == 0 ? "<stdin>" : path, 0, 0, "",
             "no Pod found: the input is empty or holds only comments");
}

int cmd_validate(const cli_globals *g, int argc, char **argv) {
  (void)g;
  int json = 0, npaths = 0, flags_done = 0;
  /* Options may come before or after the paths (like kubectl); "--" ends them. */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *fmt = NULL;
    if (flags_done || a[0] != '-' || strcmp(a, "-") == 0) {
      argv[1 + npaths++] = argv[i];
      continue;
    }
    if (strcmp(a, "--") == 0) {
      flags_done = 1;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "podvisor validate: %s needs a format (text or json)\n", a);
        return 2;
      }
      fmt = argv[++i];
    } else if (strncmp(a, "-o", 2) == 0) {
      fmt = a[2] == '=' ? a + 3 : a + 2;
    } else if (strncmp(a, "--output=", 9) == 0) {
      fmt = a + 9;
    } else {
      fprintf(stderr, "podvisor validate: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    }
    if (strcmp(fmt, "json") == 0) {
      json = 1;
    } else if (strcmp(fmt, "text") == 0) {
      json = 0;
    } else {
      fprintf(stderr, "podvisor validate: unknown output format '%s' (use text or json)\n", fmt);
      return 2;
    }
  }
  if (npaths == 0) {
    fprintf(stderr, "podvisor validate: no FILE or DIR given\n");
    usage(stderr);
    return 2;
  }
  spec_pod_list pods = {0};
  diag_list diags;
  diag_list_init(&diags);
  for (int i = 1; i <= npaths; i++) {
    size_t before_pods = pods.n, before_diags = diags.errors + diags.warnings;
    spec_load_paths((const char *const *)argv + i, 1, SPEC_KEEP_INVALID, &pods, &diags);
    /* Like `kubectl apply`, a path that gives nothing to check is an error: an
     * empty file or a directory without manifests is most likely a wrong path. */
    if (pods.n == before_pods && diags.errors + diags.warnings == before_diags)
      report_nothing(&diags, argv[i]);
  }
  diag_list_sort(&diags);
  int status = diags.errors > 0 ? 1 : 0;
  if (json) {
    print_json(&pods, &diags);
  } else {
    for (size_t i = 0; i < diags.n; i++)
      diag_fprint(stderr, &diags.items[i]);
    if (diags.truncated)
      fprintf(stderr, "(%zu more problems not shown)\n", diags.errors + diags.warnings - diags.n);
    for (size_t i = 0; i < pods.n; i++)
      print_pod(pods.items[i]);
    char e[32], w[32];
    plural(e, sizeof e, diags.errors, "error");
    plural(w, sizeof w, diags.warnings, "warning");
    printf("%s: %zu pod%s, %s, %s\n", status ? "invalid" : "valid", pods.n, pods.n == 1 ? "" : "s", e, w);
  }
  spec_pod_list_free(&pods);
  diag_list_free(&diags);
  return status;
}
