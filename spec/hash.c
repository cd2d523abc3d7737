/* hash.c - canonical serialization and sha256 (see hash.h). */
#include "spec/hash.h"

#include <sha256.h> /* libmd */
#include <stdio.h>
#include <string.h>

struct hasher {
  SHA256_CTX md;
};

static void put(struct hasher *h, const char *tag, const void *data, size_t len) {
  unsigned char hdr[8];
  uint64_t l = len;
  for (int i = 0; i < 8; i++)
    hdr[i] = (unsigned char)(l >> (8 * i));
  SHA256Update(&h->md, (const uint8_t *)tag, strlen(tag) + 1);
  SHA256Update(&h->md, hdr, sizeof hdr);
  if (len > 0)
    SHA256Update(&h->md, data, len);
}

static void put_str(struct hasher *h, const char *tag, const char *s) {
  if (s == NULL)
    put(h, tag, "\xff", 1); /* NULL differs from "" (length 0) and from any text */
  else
    put(h, tag, s, strlen(s) + 1);
}

static void put_i64(struct hasher *h, const char *tag, int64_t v) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
  put(h, tag, buf, (size_t)n);
}

static void put_strv(struct hasher *h, const char *tag, const spec_strv *v) {
  put_i64(h, tag, (int64_t)v->n);
  for (size_t i = 0; i < v->n; i++)
    put_str(h, "item", v->argv[i]);
}

static void put_kvs(struct hasher *h, const char *tag, const spec_kvs *v) {
  put_i64(h, tag, (int64_t)v->n);
  for (size_t i = 0; i < v->n; i++) {
    put_str(h, "k", v->items[i].key);
    put_str(h, "v", v->items[i].value);
  }
}

static void put_probe(struct hasher *h, const char *tag, const spec_probe *p) {
  put_i64(h, tag, p->kind);
  if (p->kind == SPEC_PROBE_NONE)
    return;
  put_strv(h, "exec", &p->exec_command);
  put_str(h, "host", p->host);
  put_str(h, "path", p->path);
  put_i64(h, "https", p->https);
  put_i64(h, "port", p->port);
  put_str(h, "portName", p->port_name);
  put_kvs(h, "headers", &p->http_headers);
  put_i64(h, "initialDelay", p->initial_delay_seconds);
  put_i64(h, "timeout", p->timeout_seconds);
  put_i64(h, "period", p->period_seconds);
  put_i64(h, "success", p->success_threshold);
  put_i64(h, "failure", p->failure_threshold);
  put_i64(h, "grace", p->termination_grace_period_seconds);
}

static void put_container(struct hasher *h, const spec_container *c) {
  put_str(h, "name", c->name);
  put_str(h, "image", c->image);
  put_i64(h, "pull", c->pull_policy);
  put_strv(h, "command", &c->command);
  put_strv(h, "args", &c->args);
  put_str(h, "workingDir", c->working_dir);
  put_kvs(h, "env", &c->env);
  put_i64(h, "ports", (int64_t)c->n_ports);
  for (size_t i = 0; i < c->n_ports; i++) {
    put_str(h, "portName", c->ports[i].name);
    put_i64(h, "containerPort", c->ports[i].container_port);
    put_i64(h, "hostPort", c->ports[i].host_port);
    put_i64(h, "protocol", c->ports[i].protocol);
  }
  const spec_resources *r = &c->resources;
  int64_t res[] = {r->cpu_request_milli, r->cpu_limit_milli, r->memory_request,
                   r->memory_limit,      r->ephemeral_request, r->ephemeral_limit};
  for (size_t i = 0; i < sizeof res / sizeof res[0]; i++)
    put_i64(h, "resource", res[i]);
  put_i64(h, "mounts", (int64_t)c->n_mounts);
  for (size_t i = 0; i < c->n_mounts; i++) {
    put_str(h, "volume", c->mounts[i].name);
    put_str(h, "mountPath", c->mounts[i].mount_path);
    put_str(h, "subPath", c->mounts[i].sub_path);
    put_i64(h, "readOnly", c->mounts[i].read_only);
    /* Only when set: the hashes of pods without it stay what they were. */
    if (c->mounts[i].recursive_read_only != SPEC_RRO_DISABLED)
      put_i64(h, "recursiveReadOnly", c->mounts[i].recursive_read_only);
  }
  put_probe(h, "liveness", &c->liveness);
  put_probe(h, "readiness", &c->readiness);
  put_probe(h, "startup", &c->startup);
  put_strv(h, "postStart", &c->post_start);
  put_strv(h, "preStop", &c->pre_stop);
  const spec_security *s = &c->security;
  put_i64(h, "runAsUser", s->run_as_user);
  put_i64(h, "runAsGroup", s->run_as_group);
  put_i64(h, "runAsNonRoot", s->run_as_non_root);
  put_i64(h, "privileged", s->privileged);
  put_i64(h, "readOnlyRootFs", s->read_only_root_fs);
  put_i64(h, "allowPrivilegeEscalation", s->allow_privilege_escalation);
  put_strv(h, "capAdd", &s->cap_add);
  put_strv(h, "capDrop", &s->cap_drop);
  /* Fields added later are hashed only when set, so that the hash of a pod
   * that does not use them (and its running containers) stays the same. */
  if (s->unmasked_proc)
    put_i64(h, "procMountUnmasked", 1);
  /* Only a profile other than the default: a pod that never named one
   * (unset = RuntimeDefault) keeps the hash it had before seccomp existed. */
  if (s->seccomp == SPEC_SECCOMP_UNCONFINED || s->seccomp == SPEC_SECCOMP_LOCALHOST) {
    put_i64(h, "seccomp", s->seccomp);
    put_str(h, "seccompLocalhost", s->seccomp_localhost);
  }
  put_i64(h, "stdin", c->stdin_open);
  put_i64(h, "tty", c->tty);
  put_i64(h, "init", c->is_init);
  put_i64(h, "sidecar", c->sidecar);
}

static void put_sandbox(struct hasher *h, const spec_pod *p) {
  put_str(h, "name", p->name);
  put_str(h, "namespace", p->ns);
  put_i64(h, "restartPolicy", p->restart_policy);
  put_i64(h, "grace", p->termination_grace_period_seconds);
  /* What the pod gets is the effective hostname: a hostname equal to the
   * one derived from the pod name, or one hostNetwork ignores, is no change. */
  put_str(h, "hostname", p->effective_hostname);
  put_str(h, "subdomain", p->subdomain);
  put_i64(h, "hostNetwork", p->host_network);
  put_i64(h, "shareProcessNamespace", p->share_process_namespace);
  /* Added later: hashed only when set (see put_container).  A change of any
   * of them makes a new sandbox: the namespaces, the volumes' ownership and
   * every container's groups are set up with the pod. */
  if (p->host_pid)
    put_i64(h, "hostPID", 1);
  if (p->host_ipc)
    put_i64(h, "hostIPC", 1);
  if (p->fs_group >= 0) {
    put_i64(h, "fsGroup", p->fs_group);
    put_i64(h, "fsGroupChangePolicy", p->fs_group_change_policy);
  }
  if (p->n_supplemental_groups > 0) {
    put_i64(h, "supplementalGroups", (int64_t)p->n_supplemental_groups);
    for (size_t i = 0; i < p->n_supplemental_groups; i++)
      put_i64(h, "gid", p->supplemental_groups[i]);
  }
  if (p->supplemental_groups_policy != SPEC_GROUPS_MERGE)
    put_i64(h, "supplementalGroupsPolicy", p->supplemental_groups_policy);
  if (p->sysctls.n > 0)
    put_kvs(h, "sysctls", &p->sysctls);
  /* Only a user namespace changes the sandbox: unset and true hash alike,
   * and the hashes of pods without the field stay what they were. */
  if (p->host_users == 0)
    put_i64(h, "hostUsers", 0);
  put_i64(h, "backoffInitial", (int64_t)p->backoff_initial_ms);
  put_i64(h, "backoffMax", (int64_t)p->backoff_max_ms);
  put_i64(h, "backoffReset", (int64_t)p->backoff_reset_ms);
  put_i64(h, "startLimit", p->start_limit_count);
  put_i64(h, "startWindow", (int64_t)p->start_limit_window_ms);
  put_i64(h, "volumes", (int64_t)p->n_volumes);
  for (size_t i = 0; i < p->n_volumes; i++) {
    const spec_volume *v = &p->volumes[i];
    put_str(h, "volume", v->name);
    put_i64(h, "kind", v->kind);
    put_i64(h, "memory", v->medium_memory);
    put_i64(h, "sizeLimit", v->size_limit);
    put_str(h, "hostPath", v->host_path);
    put_i64(h, "hostPathType", v->host_path_type);
  }
}

void hash_hex(const unsigned char *d, unsigned n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < n; i++) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  out[2 * n] = '\0';
}

/* Runs fn over a fresh digest and writes the hex result. */
static int digest(void (*fn)(struct hasher *, const void *), const void *arg, char out[SPEC_HASH_HEX_LEN + 1]) {
  struct hasher h;
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256Init(&h.md);
  put(&h, "podvisor-spec-v1", NULL, 0);
  fn(&h, arg);
  SHA256Final(md, &h.md);
  hash_hex(md, SHA256_DIGEST_LENGTH, out);
  return 0;
}

static void container_fn(struct hasher *h, const void *arg) { put_container(h, arg); }
static void sandbox_fn(struct hasher *h, const void *arg) { put_sandbox(h, arg); }

static void pod_fn(struct hasher *h, const void *arg) {
  const spec_pod *p = arg;
  put_str(h, "sandbox", p->sandbox_hash);
  put_i64(h, "init", (int64_t)p->n_init_containers);
  for (size_t i = 0; i < p->n_init_containers; i++)
    put_str(h, "c", p->init_containers[i].hash);
  put_i64(h, "app", (int64_t)p->n_containers);
  for (size_t i = 0; i < p->n_containers; i++)
    put_str(h, "c", p->containers[i].hash);
}

int hash_pod(spec_pod *p) {
  int r = 0;
  for (size_t i = 0; i < p->n_init_containers; i++)
    r |= digest(container_fn, &p->init_containers[i], p->init_containers[i].hash);
  for (size_t i = 0; i < p->n_containers; i++)
    r |= digest(container_fn, &p->containers[i], p->containers[i].hash);
  r |= digest(sandbox_fn, p, p->sandbox_hash);
  r |= digest(pod_fn, p, p->hash);
  return r < 0 ? -1 : 0;
}
