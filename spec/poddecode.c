/* poddecode.c - a document to a pod (see poddecode.h). */
#include "spec/poddecode.h"

#include <stdlib.h>
#include <string.h>

#include "spec/ctrdecode.h"
#include "spec/duration.h"
#include "spec/names.h"
#include "spec/quantity.h"
#include "spec/security.h"
#include "spec/suggest.h"

#define ANNOTATIONS_MAX_BYTES (256 * 1024) /* Kubernetes' total size limit */

/* When a required top-level key is missing, a near miss ("ind" for
 * "kind") is the likely cause: point at it. */
static void missing_top(decode_ctx *c, const ytree_node *root, const char *key, const char *example) {
  const ytree_node *near = NULL, *present = NULL;
  for (size_t i = 0; i < root->n; i++) {
    const ytree_node *k = ytree_key(root, i);
    const char *cand[] = {key};
    if (strcmp(k->str, key) == 0)
      present = ytree_value(root, i);
    else if (near == NULL && suggest_closest(k->str, cand, 1) != NULL)
      near = k;
  }
  size_t s = decode_push_key(c, key);
  if (present != NULL) {
    decode_error(c, present, "required field is empty (%s)", example);
  } else if (near != NULL) {
    decode_pop(c, s);
    s = decode_push_key(c, near->str);
    decode_error(c, near, "unknown field '%.64s'; did you mean '%s'? (%s is required)", near->str, key, key);
    c->skip_key = near; /* reported here; the key check must not repeat it */
  } else {
    decode_error(c, root, "required field is missing (%s)", example);
  }
  decode_pop(c, s);
}

static const char *workload_hint(const char *kind) {
  static const char *const workloads[] = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                          "ReplicationController", "Job", "CronJob"};
  for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
    if (strcmp(kind, workloads[i]) == 0)
      return "; to run its pod template here, write it as a kind: Pod document";
  return "";
}

/* apiVersion and kind.  Returns true when the document is to be read as a
 * Pod. */
static bool check_kind(decode_ctx *c, const ytree_node *root) {
  const ytree_node *kind = ytree_map_get(root, "kind");
  const ytree_node *api = ytree_map_get(root, "apiVersion");
  bool pod = false;
  if (ytree_is_null(kind)) {
    missing_top(c, root, "kind", "kind: Pod");
    const ytree_node *spec = ytree_map_get(root, "spec");
    pod = spec != NULL && ytree_map_get(spec, "containers") != NULL; /* still looks like a pod */
  } else {
    size_t s = decode_push_key(c, "kind");
    const char *k = decode_scalar_string(c, kind);
    if (k != NULL && strcmp(k, "Pod") == 0)
      pod = true;
    else if (k != NULL && strcmp(k, "pod") == 0)
      decode_error(c, kind, "unsupported kind 'pod'; did you mean 'Pod'? (kinds are case-sensitive)");
    else if (k != NULL)
      decode_error(c, kind, "kind %.64s is not supported yet (podvisor runs kind: Pod)%s", k, workload_hint(k));
    decode_pop(c, s);
  }
  if (ytree_is_null(api)) {
    missing_top(c, root, "apiVersion", "apiVersion: v1");
  } else if (pod) {
    size_t s = decode_push_key(c, "apiVersion");
    const char *a = decode_scalar_string(c, api);
    if (a != NULL && strcmp(a, "v1") != 0)
      decode_error(c, api, "kind Pod has apiVersion v1, not '%.64s'", a);
    decode_pop(c, s);
  }
  return pod;
}

static void labels(decode_ctx *c, const ytree_node *meta, spec_pod *p) {
  if (decode_string_map(c, meta, "labels", &p->labels) != 1)
    return;
  const ytree_node *m = ytree_map_get(meta, "labels");
  size_t s = decode_push_key(c, "labels");
  for (size_t i = 0; i < m->n; i++) {
    const ytree_node *k = ytree_key(m, i), *v = ytree_value(m, i);
    char why[256];
    size_t s2 = decode_push_key(c, k->str);
    if (!names_label_key(k->str, why, sizeof why))
      decode_error(c, k, "invalid label key '%.64s': %s", k->str, why);
    if (v->kind == YTREE_SCALAR && v->stype == YTREE_STR && !names_label_value(v->str, why, sizeof why))
      decode_error(c, v, "invalid label value '%.64s': %s", v->str, why);
    decode_pop(c, s2);
  }
  decode_pop(c, s);
}

/* A zero initial backoff is allowed: it means "restart at once", the
 * supervisor's equivalent of systemd's RestartSec=0.  A zero maximum or reset
 * would make the other two meaningless, so those must be positive. */
static void duration_annotation(decode_ctx *c, const ytree_node *v, const char *s, bool allow_zero,
                                uint64_t *out) {
  char why[256];
  uint64_t ms = 0;
  if (duration_parse_ms(s, &ms, why, sizeof why) < 0)
    decode_error(c, v, "invalid duration '%.64s': %s (use e.g. \"200ms\", \"10s\", \"5m\")", s, why);
  else if (ms == 0 && !allow_zero)
    decode_error(c, v, "must be greater than 0");
  else
    *out = ms;
}

/* podvisor.io/ annotations become typed fields. */
static void podvisor_annotations(decode_ctx *c, const ytree_node *meta, spec_pod *p) {
  static const char *const known[] = {"podvisor.io/backoff-initial", "podvisor.io/backoff-max",
                                      "podvisor.io/backoff-reset", "podvisor.io/start-limit"};
  const ytree_node *m = ytree_map_get(meta, "annotations");
  size_t total = 0;
  size_t s = decode_push_key(c, "annotations");
  for (size_t i = 0; m != NULL && m->kind == YTREE_MAP && i < m->n; i++) {
    const ytree_node *k = ytree_key(m, i), *v = ytree_value(m, i);
    char why[256];
    size_t s2 = decode_push_key(c, k->str);
    total += k->len + (v->kind == YTREE_SCALAR ? v->len : 0);
    if (!names_label_key(k->str, why, sizeof why))
      decode_error(c, k, "invalid annotation key '%.64s': %s", k->str, why);
    const char *val = v->kind == YTREE_SCALAR && v->stype == YTREE_STR ? v->str : NULL;
    if (strncmp(k->str, "podvisor.io/", 12) == 0 && val != NULL) {
      if (strcmp(k->str, "podvisor.io/source") == 0) {
        /* Written by the daemon (where the pod came from); read as nothing,
         * so that a pod fetched from the API applies again. */
      } else if (strcmp(k->str, known[0]) == 0) {
        duration_annotation(c, v, val, true, &p->backoff_initial_ms);
      } else if (strcmp(k->str, known[1]) == 0) {
        duration_annotation(c, v, val, false, &p->backoff_max_ms);
      } else if (strcmp(k->str, known[2]) == 0) {
        duration_annotation(c, v, val, false, &p->backoff_reset_ms);
      } else if (strcmp(k->str, known[3]) == 0) {
        if (start_limit_parse(val, &p->start_limit_count, &p->start_limit_window_ms, why, sizeof why) < 0)
          decode_error(c, v, "invalid start limit '%.64s': %s (use \"N/window\", e.g. \"5/60s\")", val, why);
      } else {
        const char *near = suggest_closest(k->str, known, 4);
        decode_error(c, k, "unknown podvisor annotation '%.80s'%s%s%s", k->str, near ? "; did you mean '" : "",
                     near ? near : "", near ? "'?" : "");
      }
    }
    decode_pop(c, s2);
  }
  if (total > ANNOTATIONS_MAX_BYTES)
    decode_error(c, m, "annotations total %zu bytes; Kubernetes allows at most %d", total, ANNOTATIONS_MAX_BYTES);
  if (p->backoff_max_ms < p->backoff_initial_ms)
    decode_error(c, ytree_map_get(m, known[1]) ? ytree_map_get(m, known[1]) : m,
                 "podvisor.io/backoff-max (%llu ms) is smaller than podvisor.io/backoff-initial (%llu ms)",
                 (unsigned long long)p->backoff_max_ms, (unsigned long long)p->backoff_initial_ms);
  decode_pop(c, s);
}

static void metadata(decode_ctx *c, const ytree_node *root, spec_pod *p) {
  size_t s = decode_push_key(c, "metadata");
  const ytree_node *meta = ytree_map_get(root, "metadata");
  char why[256];
  if (ytree_is_null(meta)) {
    size_t s2 = decode_push_key(c, "name");
    decode_error(c, meta ? meta : root, "required field is missing: a pod needs metadata.name");
    decode_pop(c, s2);
  } else if (decode_check_keys(c, meta, SCHEMA_METADATA)) {
    if (decode_string(c, meta, "name", true, &p->name) == 1 && !names_dns1123_subdomain(p->name, why, sizeof why))
      decode_error_key(c, meta, "name", "invalid pod name '%.80s': %s", p->name, why);
    if (decode_string(c, meta, "namespace", false, &p->ns) == 1 && !names_dns1123_label(p->ns, why, sizeof why))
      decode_error_key(c, meta, "namespace", "invalid namespace '%.80s': %s", p->ns, why);
    /* The uid names directories and a cgroup (see spec_pod_uid), so only
     * Kubernetes' own shape is accepted: no '/', no dots, no "..". */
    if (decode_string(c, meta, "uid", false, &p->uid) == 1 && !names_dns1123_label(p->uid, why, sizeof why))
      decode_error_key(c, meta, "uid", "invalid uid '%.80s': %s (a uid looks like a UUID)", p->uid, why);
    labels(c, meta, p);
    decode_string_map(c, meta, "annotations", &p->annotations);
    podvisor_annotations(c, meta, p);
  }
  if (p->ns == NULL)
    p->ns = decode_strdup(c, "default");
  decode_pop(c, s);
}

static const char *const hostpath_types[] = {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File",
                                             "Socket", "CharDevice", "BlockDevice"};

static void empty_dir(decode_ctx *c, const ytree_node *e, spec_volume *v) {
  size_t s = decode_push_key(c, "emptyDir");
  const ytree_node *m = ytree_map_get(e, "emptyDir");
  v->kind = SPEC_VOLUME_EMPTY_DIR;
  if (decode_check_keys(c, m, SCHEMA_EMPTY_DIR)) {
    static const char *const media[] = {"", "Memory", "HugePages"};
    int medium = 0;
    if (decode_enum(c, m, "medium", media, 3, &medium) == 1 && medium == 2)
      decode_error_key(c, m, "medium", "not supported by podvisor: huge page volumes are not implemented");
    v->medium_memory = medium == 1;
    const ytree_node *sl = ytree_map_get(m, "sizeLimit");
    if (!ytree_is_null(sl)) {
      size_t s2 = decode_push_key(c, "sizeLimit");
      const char *txt = decode_scalar_quantity(c, sl);
      quantity q;
      char why[256];
      if (txt != NULL && quantity_parse(txt, &q, why, sizeof why) < 0)
        decode_error(c, sl, "invalid quantity '%.64s': %s", txt, why);
      else if (txt != NULL && quantity_is_negative(&q))
        decode_error(c, sl, "must not be negative, got %.64s", txt);
      else if (txt != NULL)
        v->size_limit = quantity_value_ceil(&q);
      decode_pop(c, s2);
    }
  }
  decode_pop(c, s);
}

static void host_path(decode_ctx *c, const ytree_node *e, spec_volume *v) {
  size_t s = decode_push_key(c, "hostPath");
  const ytree_node *m = ytree_map_get(e, "hostPath");
  v->kind = SPEC_VOLUME_HOST_PATH;
  if (decode_check_keys(c, m, SCHEMA_HOST_PATH)) {
    if (decode_string(c, m, "path", true, &v->host_path) == 1) {
      size_t s2 = decode_push_key(c, "path");
      const ytree_node *at = ytree_map_get(m, "path");
      if (v->host_path[0] != '/')
        decode_error(c, at, "must be an absolute path, got '%.128s'", v->host_path);
      if (decode_has_backsteps(v->host_path))
        decode_error(c, at, "must not contain '..'");
      decode_pop(c, s2);
    }
    int t = 0;
    decode_enum(c, m, "type", hostpath_types, 8, &t);
    v->host_path_type = (spec_hostpath_type)t;
  }
  decode_pop(c, s);
}

static void volumes(decode_ctx *c, const ytree_node *spec, spec_pod *p) {
  const ytree_node *l = ytree_map_get(spec, "volumes");
  size_t s = decode_push_key(c, "volumes");
  if (!ytree_is_null(l) && l->kind != YTREE_SEQ)
    decode_error(c, l, "expected a list, got %s", ytree_describe(l));
  if (!ytree_is_null(l) && l->kind == YTREE_SEQ && l->n > 0 && (p->volumes = calloc(l->n, sizeof *p->volumes)) == NULL)
    c->oom = 1;
  for (size_t i = 0; p->volumes != NULL && i < l->n; i++) {
    size_t s2 = decode_push_index(c, i);
    const ytree_node *e = l->items[i];
    if (decode_check_keys(c, e, SCHEMA_VOLUME)) {
      spec_volume *v = &p->volumes[p->n_volumes++];
      v->size_limit = -1;
      char why[256];
      if (decode_string(c, e, "name", true, &v->name) == 1) {
        size_t s3 = decode_push_key(c, "name");
        const ytree_node *at = ytree_map_get(e, "name");
        if (!names_dns1123_label(v->name, why, sizeof why))
          decode_error(c, at, "invalid volume name '%.80s': %s", v->name, why);
        for (size_t j = 0; j + 1 < p->n_volumes; j++)
          if (p->volumes[j].name != NULL && strcmp(p->volumes[j].name, v->name) == 0)
            decode_error(c, at, "duplicate volume name '%.80s'", v->name);
        decode_pop(c, s3);
      }
      size_t sources = 0;
      for (size_t k = 0; k < e->n; k++) {
        const char *key = ytree_key(e, k)->str;
        if (strcmp(key, "name") != 0 && schema_lookup(SCHEMA_VOLUME, key) != NULL && !ytree_is_null(ytree_value(e, k)))
          sources++;
      }
      if (sources == 0)
        decode_error(c, e, "a volume must specify a type: emptyDir or hostPath");
      else if (sources > 1)
        decode_error(c, e, "a volume may not specify more than one type");
      if (!ytree_is_null(ytree_map_get(e, "emptyDir")))
        empty_dir(c, e, v);
      else if (!ytree_is_null(ytree_map_get(e, "hostPath")))
        host_path(c, e, v);
    }
    decode_pop(c, s2);
  }
  decode_pop(c, s);
}

static void containers(decode_ctx *c, const ytree_node *spec, const char *key, const ctrdecode_opts *o,
                       spec_container **out, size_t *n) {
  const ytree_node *l = ytree_map_get(spec, key);
  size_t s = decode_push_key(c, key);
  if (ytree_is_null(l) || (l->kind == YTREE_SEQ && l->n == 0)) {
    if (!o->is_init)
      decode_error(c, l ? l : spec, "a pod needs at least one container");
  } else if (l->kind != YTREE_SEQ) {
    decode_error(c, l, "expected a list of containers, got %s", ytree_describe(l));
  } else if ((*out = calloc(l->n, sizeof **out)) == NULL) {
    c->oom = 1;
  } else {
    for (size_t i = 0; i < l->n; i++) {
      size_t s2 = decode_push_index(c, i);
      ctrdecode_container(c, l->items[i], o, &(*out)[(*n)++]);
      decode_pop(c, s2);
    }
  }
  decode_pop(c, s);
}

/* At most SPEC_MAX_CONTAINERS containers, init and app together; the
 * diagnostic points at the first container over the limit. */
static void container_limit(decode_ctx *c, const ytree_node *spec, const spec_pod *p) {
  size_t total = p->n_init_containers + p->n_containers;
  if (total <= SPEC_MAX_CONTAINERS)
    return;
  bool in_init = p->n_init_containers > SPEC_MAX_CONTAINERS;
  const char *key = in_init ? "initContainers" : "containers";
  size_t idx = in_init ? SPEC_MAX_CONTAINERS : SPEC_MAX_CONTAINERS - p->n_init_containers;
  size_t s = decode_push_key(c, key);
  size_t s2 = decode_push_index(c, idx);
  decode_error(c, ytree_map_get(spec, key)->items[idx],
               "too many containers: a pod may have at most %d (init and app containers together), this one has %zu",
               SPEC_MAX_CONTAINERS, total);
  decode_pop(c, s2);
  decode_pop(c, s);
}

/* Container names are unique across init and app containers; mounts name
 * declared volumes. */
static void cross_checks(decode_ctx *c, const ytree_node *spec, spec_pod *p) {
  size_t total = p->n_init_containers + p->n_containers;
  for (size_t i = 0; i < total; i++) {
    bool init = i < p->n_init_containers;
    spec_container *ct = init ? &p->init_containers[i] : &p->containers[i - p->n_init_containers];
    size_t idx = init ? i : i - p->n_init_containers;
    const char *key = init ? "initContainers" : "containers";
    const ytree_node *cnode = ytree_map_get(spec, key)->items[idx];
    size_t s = decode_push_key(c, key);
    size_t s2 = decode_push_index(c, idx);
    for (size_t j = 0; ct->name != NULL && j < i; j++) {
      spec_container *o = j < p->n_init_containers ? &p->init_containers[j] : &p->containers[j - p->n_init_containers];
      if (o->name != NULL && strcmp(o->name, ct->name) == 0) {
        decode_error_key(c, cnode, "name", "duplicate container name '%.64s' (also used at line %d)",
                         ct->name, o->line);
        break;
      }
    }
    const ytree_node *mounts = ytree_map_get(cnode, "volumeMounts");
    for (size_t m = 0; m < ct->n_mounts; m++) {
      const char *name = ct->mounts[m].name;
      if (name == NULL || spec_pod_volume(p, name) != NULL)
        continue;
      const char *cands[64];
      size_t nc = 0;
      for (size_t v = 0; v < p->n_volumes && nc < 64; v++)
        if (p->volumes[v].name != NULL)
          cands[nc++] = p->volumes[v].name;
      const char *near = suggest_closest(name, cands, nc);
      size_t s3 = decode_push_key(c, "volumeMounts");
      size_t s4 = decode_push_index(c, m);
      size_t s5 = decode_push_key(c, "name");
      decode_error(c, ytree_map_get(mounts->items[m], "name"), "volume '%.64s' is not declared in spec.volumes%s%s%s",
                   name, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
      decode_pop(c, s5);
      decode_pop(c, s4);
      decode_pop(c, s3);
    }
    decode_pop(c, s2);
    decode_pop(c, s);
  }
}

static void hostname(decode_ctx *c, const ytree_node *spec, const ytree_node *name_node, spec_pod *p) {
  char why[256];
  static const char *const keys[] = {"hostname", "subdomain"};
  char **outs[] = {&p->hostname, &p->subdomain};
  for (int i = 0; i < 2; i++) {
    if (decode_string(c, spec, keys[i], false, outs[i]) == 1 && !names_dns1123_label(*outs[i], why, sizeof why)) {
      size_t s = decode_push_key(c, keys[i]);
      decode_error(c, ytree_map_get(spec, keys[i]), "invalid %s '%.80s': %s", keys[i], *outs[i], why);
      decode_pop(c, s);
    }
  }
  if (p->host_network) {
    if (p->hostname != NULL)
      decode_warn_key(c, spec, "hostname", "ignored: with hostNetwork the pod keeps the host's hostname");
    return;
  }
  if (p->hostname != NULL) {
    p->effective_hostname = decode_strdup(c, p->hostname);
  } else if (p->name != NULL) {
    /* The kubelet cuts a long pod name to 63 characters and trims a
     * trailing '-' or '.' so the result is still a valid label. */
    size_t n = strlen(p->name);
    if (n > 63) {
      n = 63;
      while (n > 0 && (p->name[n - 1] == '-' || p->name[n - 1] == '.'))
        n--;
    }
    p->effective_hostname = strndup(p->name, n);
    if (p->effective_hostname == NULL)
      c->oom = 1;
    else if (strlen(p->name) > 63) {
      char keep[DECODE_PATH_MAX];
      size_t klen = c->plen;
      memcpy(keep, c->path, sizeof keep);
      decode_pop(c, 0);
      decode_push_key(c, "metadata.name");
      decode_warn(c, name_node, "the pod name is longer than 63 characters; its hostname is cut to '%s'",
                  p->effective_hostname);
      memcpy(c->path, keep, sizeof keep);
      c->plen = klen;
    }
  }
}

/* hostUsers: false gives the pod a user namespace of its own.  As in
 * Kubernetes, it cannot be combined with the host's network, pid or ipc
 * namespace: a user namespace owns the pod's namespaces, and the host's are
 * owned by the host's. */
static void host_users(decode_ctx *c, const ytree_node *spec, spec_pod *p) {
  bool v = true;
  if (decode_bool(c, spec, "hostUsers", &v) != 1)
    return;
  p->host_users = v ? 1 : 0;
  const char *shared = p->host_network ? "hostNetwork" : p->host_pid ? "hostPID" : p->host_ipc ? "hostIPC" : NULL;
  if (!v && shared != NULL)
    decode_error_key(c, spec, "hostUsers",
                     "hostUsers: false cannot be combined with %s: true (a user namespace owns the pod's "
                     "namespaces), as in Kubernetes",
                     shared);
}

static void pod_spec(decode_ctx *c, const ytree_node *root, spec_pod *p) {
  size_t s = decode_push_key(c, "spec");
  const ytree_node *spec = ytree_map_get(root, "spec");
  if (ytree_is_null(spec)) {
    decode_error(c, spec ? spec : root, "required field is missing: a pod needs spec.containers");
  } else if (decode_check_keys(c, spec, SCHEMA_POD_SPEC)) {
    static const char *const policies[] = {"Always", "OnFailure", "Never"};
    int rp = 0;
    decode_enum(c, spec, "restartPolicy", policies, 3, &rp);
    p->restart_policy = (spec_restart_policy)rp;
    int64_t grace = 30;
    if (decode_int(c, spec, "terminationGracePeriodSeconds", INT64_MIN, INT64_MAX, &grace) == 1 && grace < 0) {
      decode_warn_key(c, spec, "terminationGracePeriodSeconds",
                      "negative grace period %lld is treated as 1 second, as Kubernetes does",
                      (long long)grace);
      grace = 1;
    }
    p->termination_grace_period_seconds = grace;
    decode_bool(c, spec, "hostNetwork", &p->host_network);
    decode_bool(c, spec, "shareProcessNamespace", &p->share_process_namespace);
    decode_bool(c, spec, "hostPID", &p->host_pid);
    decode_bool(c, spec, "hostIPC", &p->host_ipc);
    if (p->host_pid && p->share_process_namespace)
      decode_error_key(c, spec, "shareProcessNamespace", "shareProcessNamespace and hostPID cannot both be enabled");
    host_users(c, spec, p);
    hostname(c, spec, ytree_map_get(ytree_map_get(root, "metadata"), "name"), p);
    spec_security pod_sc;
    security_pod(c, spec, &pod_sc);
    security_pod_spec(c, spec, p);
    volumes(c, spec, p);
    ctrdecode_opts o = {
        .is_init = true, .host_network = p->host_network, .pod_security = &pod_sc, .host_users = p->host_users};
    containers(c, spec, "initContainers", &o, &p->init_containers, &p->n_init_containers);
    o.is_init = false;
    containers(c, spec, "containers", &o, &p->containers, &p->n_containers);
    security_free(&pod_sc);
    container_limit(c, spec, p);
    cross_checks(c, spec, p);
  }
  decode_pop(c, s);
}

spec_pod *poddecode_document(decode_ctx *c, const ytree_doc *doc) {
  const ytree_node *root = doc->root;
  if (ytree_is_null(root))
    return NULL; /* an empty document: nothing to do */
  if (root->kind != YTREE_MAP) {
    decode_error(c, root, "a manifest document must be a mapping with apiVersion, kind, metadata and spec; got %s",
                 ytree_describe(root));
    return NULL;
  }
  if (!check_kind(c, root))
    return NULL;
  spec_pod *p = calloc(1, sizeof *p);
  if (p == NULL) {
    c->oom = 1;
    return NULL;
  }
  p->termination_grace_period_seconds = 30;
  p->host_users = -1;
  p->fs_group = -1;
  p->backoff_initial_ms = 10000;
  p->backoff_max_ms = 300000;
  p->backoff_reset_ms = 600000;
  p->doc_index = doc->index;
  p->line = root->line;
  p->source_file = decode_strdup(c, c->file);
  decode_check_keys(c, root, SCHEMA_TOP);
  metadata(c, root, p);
  pod_spec(c, root, p);
  return p;
}
