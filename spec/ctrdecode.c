/* ctrdecode.c - one container: decode, default, validate (see ctrdecode.h). */
#include "spec/ctrdecode.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spec/handlers.h"
#include "spec/names.h"
#include "spec/quantity.h"
#include "spec/security.h"
#include "spec/suggest.h"

/* map[key] when it is a non-empty list (a non-list is reported), else NULL. */
static const ytree_node *list_of_maps(decode_ctx *c, const ytree_node *map, const char *key) {
  const ytree_node *l = ytree_map_get(map, key);
  if (ytree_is_null(l))
    return NULL;
  if (l->kind != YTREE_SEQ) {
    size_t saved = decode_push_key(c, key);
    decode_error(c, l, "expected a list, got %s", ytree_describe(l));
    decode_pop(c, saved);
    return NULL;
  }
  return l->n > 0 ? l : NULL;
}

static void env(decode_ctx *c, const ytree_node *cm, spec_container *ct) {
  const ytree_node *l = list_of_maps(c, cm, "env");
  if (l == NULL)
    return;
  size_t saved = decode_push_key(c, "env");
  ct->env.items = calloc(l->n, sizeof *ct->env.items);
  if (ct->env.items == NULL)
    c->oom = 1;
  for (size_t i = 0; ct->env.items != NULL && i < l->n; i++) {
    size_t s2 = decode_push_index(c, i);
    const ytree_node *e = l->items[i];
    if (decode_check_keys(c, e, SCHEMA_ENV)) {
      spec_kv *kv = &ct->env.items[ct->env.n++];
      char why[256];
      if (decode_string(c, e, "name", true, &kv->key) == 1) {
        size_t s3 = decode_push_key(c, "name");
        if (!names_env_var(kv->key, why, sizeof why))
          decode_error(c, ytree_map_get(e, "name"), "invalid variable name '%.64s': %s", kv->key, why);
        for (size_t j = 0; j + 1 < ct->env.n; j++)
          if (ct->env.items[j].key != NULL && strcmp(ct->env.items[j].key, kv->key) == 0)
            decode_warn(c, ytree_map_get(e, "name"), "variable %.64s is set twice; the last value wins", kv->key);
        decode_pop(c, s3);
      }
      if (decode_string(c, e, "value", false, &kv->value) == 0)
        kv->value = decode_strdup(c, "");
    }
    decode_pop(c, s2);
  }
  decode_pop(c, saved);
}

static void ports(decode_ctx *c, const ytree_node *cm, const ctrdecode_opts *o, spec_container *ct) {
  const ytree_node *l = list_of_maps(c, cm, "ports");
  if (l == NULL)
    return;
  size_t saved = decode_push_key(c, "ports");
  ct->ports = calloc(l->n, sizeof *ct->ports);
  if (ct->ports == NULL)
    c->oom = 1;
  for (size_t i = 0; ct->ports != NULL && i < l->n; i++) {
    size_t s2 = decode_push_index(c, i);
    const ytree_node *e = l->items[i];
    if (decode_check_keys(c, e, SCHEMA_PORT)) {
      spec_port *p = &ct->ports[ct->n_ports++];
      int64_t v = 0;
      if (decode_int(c, e, "containerPort", 1, 65535, &v) == 0) {
        size_t s3 = decode_push_key(c, "containerPort");
        decode_error(c, e, "required field is missing");
        decode_pop(c, s3);
      }
      p->container_port = (int)v;
      v = 0;
      decode_int(c, e, "hostPort", 0, 65535, &v);
      p->host_port = (int)v;
      static const char *const protos[] = {"TCP", "UDP", "SCTP"};
      int proto = 0;
      decode_enum(c, e, "protocol", protos, 3, &proto);
      p->protocol = (spec_protocol)proto;
      size_t s3 = decode_push_key(c, "hostPort");
      if (o->host_network && p->host_port == 0) {
        p->host_port = p->container_port; /* Kubernetes' defaulting under hostNetwork */
      } else if (o->host_network && p->host_port != p->container_port) {
        decode_error(c, ytree_map_get(e, "hostPort"), "with hostNetwork, hostPort must equal containerPort (%d)",
                     p->container_port);
      } else if (!o->host_network && p->host_port != 0) {
        decode_error(c, ytree_map_get(e, "hostPort"),
                     "not supported by podvisor: forwarding a host port into the pod's network namespace is not "
                     "implemented; use hostNetwork: true or remove hostPort");
      }
      decode_pop(c, s3);
      char why[256];
      if (decode_string(c, e, "name", false, &p->name) == 1) {
        s3 = decode_push_key(c, "name");
        if (!names_port_name(p->name, why, sizeof why))
          decode_error(c, ytree_map_get(e, "name"), "invalid port name '%.64s': %s", p->name, why);
        for (size_t j = 0; j + 1 < ct->n_ports; j++)
          if (ct->ports[j].name != NULL && strcmp(ct->ports[j].name, p->name) == 0)
            decode_error(c, ytree_map_get(e, "name"), "duplicate port name '%.64s'", p->name);
        decode_pop(c, s3);
      }
    }
    decode_pop(c, s2);
  }
  decode_pop(c, saved);
}

static void mounts(decode_ctx *c, const ytree_node *cm, spec_container *ct) {
  const ytree_node *l = list_of_maps(c, cm, "volumeMounts");
  if (l == NULL)
    return;
  size_t saved = decode_push_key(c, "volumeMounts");
  ct->mounts = calloc(l->n, sizeof *ct->mounts);
  if (ct->mounts == NULL)
    c->oom = 1;
  for (size_t i = 0; ct->mounts != NULL && i < l->n; i++) {
    size_t s2 = decode_push_index(c, i);
    const ytree_node *e = l->items[i];
    if (decode_check_keys(c, e, SCHEMA_VOLUME_MOUNT)) {
      spec_mount *m = &ct->mounts[ct->n_mounts++];
      decode_string(c, e, "name", true, &m->name);
      decode_bool(c, e, "readOnly", &m->read_only);
      if (decode_string(c, e, "mountPath", true, &m->mount_path) == 1) {
        size_t s3 = decode_push_key(c, "mountPath");
        const ytree_node *at = ytree_map_get(e, "mountPath");
        if (m->mount_path[0] != '/')
          decode_error(c, at, "must be an absolute path, got '%.128s'", m->mount_path);
        else if (decode_has_backsteps(m->mount_path))
          decode_error(c, at, "must not contain '..'");
        for (size_t j = 0; j + 1 < ct->n_mounts; j++)
          if (ct->mounts[j].mount_path != NULL && strcmp(ct->mounts[j].mount_path, m->mount_path) == 0)
            decode_error(c, at, "mountPath %.128s is used twice in this container", m->mount_path);
        decode_pop(c, s3);
      }
      if (decode_string(c, e, "subPath", false, &m->sub_path) == 1) {
        size_t s3 = decode_push_key(c, "subPath");
        if (m->sub_path[0] == '/' || decode_has_backsteps(m->sub_path))
          decode_error(c, ytree_map_get(e, "subPath"), "must be a relative path without '..'");
        decode_pop(c, s3);
        if (m->sub_path[0] == '\0') {
          free(m->sub_path);
          m->sub_path = NULL;
        }
      }
      static const char *const props[] = {"None", "HostToContainer", "Bidirectional"};
      int prop = 0;
      if (decode_enum(c, e, "mountPropagation", props, 3, &prop) == 1 && prop != 0)
        decode_error_key(c, e, "mountPropagation",
                         "not supported by podvisor: only None (private mounts) is implemented");
      /* Kubernetes' validateMountRecursiveReadOnly, same messages. */
      static const char *const rro[] = {"Disabled", "IfPossible", "Enabled"};
      int r = 0;
      if (decode_enum(c, e, "recursiveReadOnly", rro, 3, &r) == 1 && r != SPEC_RRO_DISABLED) {
        m->recursive_read_only = (spec_rro)r;
        if (!m->read_only)
          decode_error_key(c, e, "recursiveReadOnly", "may only be specified when readOnly is true");
        if (prop != 0)
          decode_error_key(c, e, "recursiveReadOnly",
                           "may only be specified when mountPropagation is None or not specified");
      }
    }
    decode_pop(c, s2);
  }
  decode_pop(c, saved);
}

static const char *const resource_names[] = {"cpu", "memory", "ephemeral-storage"};

/* Reads requests or limits into q[3] / set[3]. */
static void resource_list(decode_ctx *c, const ytree_node *res, const char *key, quantity q[3], bool set[3],
                          const ytree_node *at[3]) {
  size_t saved = decode_push_key(c, key);
  const ytree_node *m = ytree_map_get(res, key);
  if (decode_is_map(c, m)) {
    for (size_t i = 0; i < m->n; i++) {
      const ytree_node *k = ytree_key(m, i), *v = ytree_value(m, i);
      size_t s2 = decode_push_key(c, k->str);
      int idx = -1;
      for (int r = 0; r < 3; r++)
        if (strcmp(k->str, resource_names[r]) == 0)
          idx = r;
      if (idx < 0) {
        if (strncmp(k->str, "hugepages-", 10) == 0 || strchr(k->str, '/') != NULL) {
          decode_error(c, k, "not supported by podvisor: %s resources are not implemented; the container "
                             "would run without them",
                       strchr(k->str, '/') ? "extended" : "huge page");
        } else {
          const char *near = suggest_closest(k->str, resource_names, 3);
          decode_error(c, k, "unknown resource '%.64s'%s%s%s; podvisor knows cpu, memory and ephemeral-storage",
                       k->str, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        }
      } else if (!ytree_is_null(v)) {
        const char *s = decode_scalar_quantity(c, v);
        char why[256];
        quantity x;
        /* Kubernetes trims the spaces of a quoted quantity before parsing. */
        char trimmed[128];
        if (s != NULL) {
          while (isspace((unsigned char)*s))
            s++;
          size_t n = strlen(s);
          while (n > 0 && isspace((unsigned char)s[n - 1]))
            n--;
          snprintf(trimmed, sizeof trimmed, "%.*s", (int)(n < sizeof trimmed ? n : sizeof trimmed - 1), s);
        }
        if (s == NULL) {
          /* reported */
        } else if (quantity_parse(trimmed, &x, why, sizeof why) < 0) {
          decode_error(c, v, "invalid quantity '%.64s': %s", s, why);
        } else if (quantity_is_negative(&x)) {
          decode_error(c, v, "must not be negative, got %.64s", s);
        } else {
          if (x.no_digits)
            decode_warn(c, v, "quantity '%.64s' has no digits and means 0", s);
          quantity_round_up_milli(&x);
          q[idx] = x;
          set[idx] = true;
          at[idx] = v;
        }
      }
      decode_pop(c, s2);
    }
  }
  decode_pop(c, saved);
}

static void resources(decode_ctx *c, const ytree_node *cm, spec_container *ct) {
  spec_resources *r = &ct->resources; /* unset (-1) already: ctrdecode_container */
  size_t saved = decode_push_key(c, "resources");
  const ytree_node *res = ytree_map_get(cm, "resources");
  if (decode_check_keys(c, res, SCHEMA_RESOURCES)) {
    quantity req[3], lim[3];
    bool has_req[3] = {false}, has_lim[3] = {false};
    const ytree_node *req_at[3] = {NULL}, *lim_at[3] = {NULL};
    resource_list(c, res, "requests", req, has_req, req_at);
    resource_list(c, res, "limits", lim, has_lim, lim_at);
    int64_t *reqs[3] = {&r->cpu_request_milli, &r->memory_request, &r->ephemeral_request};
    int64_t *lims[3] = {&r->cpu_limit_milli, &r->memory_limit, &r->ephemeral_limit};
    for (int i = 0; i < 3; i++) {
      if (has_req[i] && has_lim[i] && quantity_cmp(&req[i], &lim[i]) > 0) {
        char a[QUANTITY_FORMAT_MAX], b[QUANTITY_FORMAT_MAX];
        quantity_format(&req[i], a, sizeof a);
        quantity_format(&lim[i], b, sizeof b);
        size_t s2 = decode_push_key(c, "requests");
        size_t s3 = decode_push_key(c, resource_names[i]);
        decode_error(c, req_at[i], "request %s must be less than or equal to the limit %s", a, b);
        decode_pop(c, s3);
        decode_pop(c, s2);
      }
      if (!has_req[i] && has_lim[i]) { /* Kubernetes: requests default to limits */
        req[i] = lim[i];
        has_req[i] = true;
      }
      if (has_lim[i])
        *lims[i] = i == 0 ? quantity_milli_ceil(&lim[i]) : quantity_value_ceil(&lim[i]);
      if (has_req[i])
        *reqs[i] = i == 0 ? quantity_milli_ceil(&req[i]) : quantity_value_ceil(&req[i]);
    }
  }
  decode_pop(c, saved);
}

/* Kubernetes' pull policy default: Always when the image resolves to the
 * tag "latest" (written, or no tag and no digest), else IfNotPresent. */
static spec_pull_policy default_pull(const char *image) {
  if (strchr(image, '@') != NULL)
    return SPEC_PULL_IF_NOT_PRESENT;
  const char *slash = strrchr(image, '/');
  const char *colon = strrchr(slash ? slash : image, ':');
  if (colon == NULL || strcmp(colon + 1, "latest") == 0)
    return SPEC_PULL_ALWAYS;
  return SPEC_PULL_IF_NOT_PRESENT;
}

static void name_and_image(decode_ctx *c, const ytree_node *n, spec_container *ct) {
  char why[256];
  if (decode_string(c, n, "name", true, &ct->name) == 1 && !names_dns1123_label(ct->name, why, sizeof why))
    decode_error_key(c, n, "name", "invalid container name '%.80s': %s", ct->name, why);
  if (decode_string(c, n, "image", true, &ct->image) == 1) {
    size_t len = strlen(ct->image);
    if (isspace((unsigned char)ct->image[0]) || isspace((unsigned char)ct->image[len - 1]))
      decode_error_key(c, n, "image", "must not have leading or trailing whitespace");
  }
  static const char *const pulls[] = {"Always", "IfNotPresent", "Never"};
  int pull = -1;
  if (decode_enum(c, n, "imagePullPolicy", pulls, 3, &pull) == 1)
    ct->pull_policy = (spec_pull_policy)pull;
  else
    ct->pull_policy = ct->image != NULL ? default_pull(ct->image) : SPEC_PULL_ALWAYS;
}

static void restart_policy(decode_ctx *c, const ytree_node *n, const ctrdecode_opts *o, spec_container *ct) {
  const ytree_node *rp = ytree_map_get(n, "restartPolicy");
  if (ytree_is_null(rp))
    return;
  size_t s = decode_push_key(c, "restartPolicy");
  if (!o->is_init) {
    decode_error(c, rp, "may not be set for app containers; set spec.restartPolicy for the pod");
  } else {
    const char *v = decode_scalar_string(c, rp);
    if (v != NULL && strcmp(v, "Always") == 0)
      ct->sidecar = true;
    else if (v != NULL)
      decode_error(c, rp, "unsupported value '%.64s': an init container's restartPolicy may only be Always "
                          "(which makes it a sidecar)", v);
  }
  decode_pop(c, s);
}

void ctrdecode_container(decode_ctx *c, const ytree_node *n, const ctrdecode_opts *o, spec_container *ct) {
  ct->is_init = o->is_init;
  ct->line = n->line;
  ct->col = n->col;
  security_init(&ct->security);
  ct->resources.cpu_request_milli = ct->resources.cpu_limit_milli = -1;
  ct->resources.memory_request = ct->resources.memory_limit = -1;
  ct->resources.ephemeral_request = ct->resources.ephemeral_limit = -1;
  if (!decode_check_keys(c, n, SCHEMA_CONTAINER))
    return;
  name_and_image(c, n, ct);
  decode_strv(c, n, "command", &ct->command);
  decode_strv(c, n, "args", &ct->args);
  if (decode_string(c, n, "workingDir", false, &ct->working_dir) == 1 && ct->working_dir[0] != '/')
    decode_error_key(c, n, "workingDir", "must be an absolute path, got '%.128s'", ct->working_dir);
  env(c, n, ct);
  ports(c, n, o, ct);
  resources(c, n, ct);
  mounts(c, n, ct);
  restart_policy(c, n, o, ct);
  handlers_probe(c, n, "livenessProbe", HANDLERS_LIVENESS, &ct->liveness);
  handlers_probe(c, n, "readinessProbe", HANDLERS_READINESS, &ct->readiness);
  handlers_probe(c, n, "startupProbe", HANDLERS_STARTUP, &ct->startup);
  handlers_check_port_name(c, n, "livenessProbe", &ct->liveness, ct);
  handlers_check_port_name(c, n, "readinessProbe", &ct->readiness, ct);
  handlers_check_port_name(c, n, "startupProbe", &ct->startup, ct);
  handlers_lifecycle(c, n, &ct->post_start, &ct->pre_stop);
  if (o->is_init && !ct->sidecar) {
    static const char *const forbidden[] = {"lifecycle", "livenessProbe", "readinessProbe", "startupProbe"};
    for (size_t i = 0; i < 4; i++) {
      const ytree_node *v = ytree_map_get(n, forbidden[i]);
      if (ytree_is_null(v))
        continue;
      size_t s = decode_push_key(c, forbidden[i]);
      decode_error(c, v, "may not be set for an init container unless its restartPolicy is Always (a sidecar)");
      decode_pop(c, s);
    }
  }
  security_container(c, n, o->pod_security, o->host_users, &ct->security);
  decode_bool(c, n, "stdin", &ct->stdin_open);
  decode_bool(c, n, "tty", &ct->tty);
}

void ctrdecode_free(spec_container *ct) {
  if (ct == NULL)
    return;
  free(ct->name);
  free(ct->image);
  decode_strv_free(&ct->command);
  decode_strv_free(&ct->args);
  free(ct->working_dir);
  decode_kvs_free(&ct->env);
  for (size_t i = 0; i < ct->n_ports; i++)
    free(ct->ports[i].name);
  free(ct->ports);
  for (size_t i = 0; i < ct->n_mounts; i++) {
    free(ct->mounts[i].name);
    free(ct->mounts[i].mount_path);
    free(ct->mounts[i].sub_path);
  }
  free(ct->mounts);
  handlers_probe_free(&ct->liveness);
  handlers_probe_free(&ct->readiness);
  handlers_probe_free(&ct->startup);
  decode_strv_free(&ct->post_start);
  decode_strv_free(&ct->pre_stop);
  security_free(&ct->security);
}
