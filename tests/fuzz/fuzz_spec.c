/*
 * fuzz_spec.c - libFuzzer target for the manifest parser.
 *
 * Every input is parsed twice, once keeping invalid pods (their partly
 * filled fields are the likeliest place for a bad free) and once discarding
 * them.  The diagnostics are sorted and formatted, the lookup helpers are
 * run over every pod, and everything is freed: AddressSanitizer's leak
 * check then proves nothing is lost on any path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spec/diag.h"
#include "spec/spec.h"

static FILE *sink;

static void print_diags(diag_list *diags) {
  char line[256];
  diag_list_sort(diags);
  for (size_t i = 0; i < diags->n; i++) {
    int n = diag_format(&diags->items[i], line, sizeof line);
    if (n < 0)
      __builtin_trap();
    diag_fprint(sink, &diags->items[i]);
    (void)diag_severity_name(diags->items[i].severity);
  }
}

/* Reads every string a pod holds, so a dangling or uninitialised pointer
 * in the model shows up under AddressSanitizer even when nothing else
 * touches it. */
static void put(const char *s) {
  if (s)
    fputs(s, sink);
}

static void put_strv(const spec_strv *v) {
  for (size_t i = 0; i < v->n && v->argv; i++)
    put(v->argv[i]);
}

static void put_kvs(const spec_kvs *kv) {
  for (size_t i = 0; i < kv->n; i++) {
    put(kv->items[i].key);
    put(kv->items[i].value);
  }
}

static void walk_probe(const spec_container *c, const spec_probe *p) {
  if (p->kind == SPEC_PROBE_NONE)
    return;
  put_strv(&p->exec_command);
  put(p->host);
  put(p->path);
  put(p->port_name);
  put_kvs(&p->http_headers);
  fprintf(sink, "%d\n", spec_probe_port(c, p));
}

static void walk_container(const spec_pod *p, const spec_container *c) {
  if (c->name && spec_pod_container(p, c->name) == NULL && p->error_count == 0)
    __builtin_trap(); /* a valid pod must find its own containers */
  put(c->name);
  put(c->image);
  put(c->working_dir);
  put(spec_pull_policy_name(c->pull_policy));
  put_strv(&c->command);
  put_strv(&c->args);
  put_kvs(&c->env);
  for (size_t i = 0; i < c->n_ports; i++) {
    put(c->ports[i].name);
    put(spec_protocol_name(c->ports[i].protocol));
  }
  for (size_t i = 0; i < c->n_mounts; i++) {
    put(c->mounts[i].name);
    put(c->mounts[i].mount_path);
    put(c->mounts[i].sub_path);
  }
  walk_probe(c, &c->liveness);
  walk_probe(c, &c->readiness);
  walk_probe(c, &c->startup);
  put_strv(&c->post_start);
  put_strv(&c->pre_stop);
  put_strv(&c->security.cap_add);
  put_strv(&c->security.cap_drop);
  put(c->security.seccomp_localhost);
  if ((c->security.seccomp == SPEC_SECCOMP_LOCALHOST) != (c->security.seccomp_localhost != NULL) &&
      p->error_count == 0)
    __builtin_trap(); /* a valid pod has a localhostProfile exactly with type Localhost */
  put(c->hash);
}

static void walk_pod(const spec_pod *p) {
  for (size_t i = 0; i < p->n_init_containers; i++)
    walk_container(p, &p->init_containers[i]);
  for (size_t i = 0; i < p->n_containers; i++)
    walk_container(p, &p->containers[i]);
  for (size_t i = 0; i < p->n_volumes; i++) {
    put(p->volumes[i].name);
    put(p->volumes[i].host_path);
    put(spec_hostpath_type_name(p->volumes[i].host_path_type));
    if (p->volumes[i].name && !spec_pod_volume(p, p->volumes[i].name))
      __builtin_trap();
  }
  put(p->name);
  put(p->ns);
  put(p->uid);
  put_kvs(&p->labels);
  put_kvs(&p->annotations);
  put(p->hostname);
  put(p->subdomain);
  put(p->effective_hostname);
  put(p->source_file);
  put(spec_restart_policy_name(p->restart_policy));
  put(p->hash);
  put(p->sandbox_hash);
}

static void parse_once(const uint8_t *data, size_t size, unsigned flags) {
  spec_pod_list pods = {0};
  diag_list diags;
  diag_list_init(&diags);
  int rc = spec_parse_buffer("fuzz.yaml", (const char *)data, size, flags, &pods, &diags);
  /* The verdict and the diagnostics must agree. */
  if ((rc == 0) != (diags.errors == 0))
    __builtin_trap();
  print_diags(&diags);
  for (size_t i = 0; i < pods.n; i++)
    walk_pod(pods.items[i]);
  if (pods.n > 0)
    spec_pod_free(spec_pod_list_steal(&pods, 0));
  spec_pod_list_free(&pods);
  diag_list_free(&diags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!sink)
    sink = fopen("/dev/null", "we");
  if (!sink)
    return 0;
  parse_once(data, size, SPEC_KEEP_INVALID);
  parse_once(data, size, 0);
  return 0;
}
