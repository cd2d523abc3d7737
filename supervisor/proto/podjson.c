/* podjson.c - a validated pod as a Kubernetes Pod document (see podjson.h).
 *
 * Every builder below adds to its object with json_object_set_new() and
 * json_array_append_new(), which take the new value even when they fail and
 * fail on a NULL value or container.  So an allocation failure anywhere only
 * needs to be noticed, not unwound: each builder ORs the results into a flag
 * and hands back NULL when it is set.
 *
 * Where the model is a derived value, the document carries what runs:
 *  - spec.hostname is the effective hostname (the pod name cut to 63
 *    characters when the manifest gave none), and is left out with
 *    hostNetwork, where a manifest's hostname is ignored;
 *  - pod-level securityContext values are already merged into every
 *    container and are written there;
 *  - resource requests that defaulted to the limits are written out.
 */
#include "supervisor/proto/podjson.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string, or NULL when s is NULL (the caller then leaves the key out). */
static json_t *str(const char *s) {
  return s != NULL ? json_string(s) : NULL;
}

/* Sets key to v; a NULL v counts as a failure. */
static int set(json_t *o, const char *key, json_t *v) {
  return json_object_set_new(o, key, v) < 0;
}

/* Sets key to the string s when s is not NULL. */
static int set_str_opt(json_t *o, const char *key, const char *s) {
  return s != NULL ? set(o, key, json_string(s)) : 0;
}

static json_t *strv(const spec_strv *v) {
  json_t *a = json_array();
  int bad = a == NULL;
  for (size_t i = 0; !bad && i < v->n; i++)
    bad |= json_array_append_new(a, json_string(v->argv[i])) < 0;
  if (bad) {
    json_decref(a);
    return NULL;
  }
  return a;
}

/* Sets key to the list v when it is not empty (absent and [] are the same). */
static int set_strv_opt(json_t *o, const char *key, const spec_strv *v) {
  return v->n > 0 ? set(o, key, strv(v)) : 0;
}

/* [{name, value}...], the shape of env and of httpHeaders. */
static json_t *name_values(const spec_kvs *kv) {
  json_t *a = json_array();
  int bad = a == NULL;
  for (size_t i = 0; !bad && i < kv->n; i++) {
    json_t *e = json_object();
    bad |= set(e, "name", str(kv->items[i].key));
    bad |= set(e, "value", json_string(kv->items[i].value != NULL ? kv->items[i].value : ""));
    bad |= json_array_append_new(a, e) < 0;
  }
  if (bad) {
    json_decref(a);
    return NULL;
  }
  return a;
}

/* {key: value...} in the model's order (labels and annotations are sorted). */
static json_t *string_map(const spec_kvs *kv) {
  json_t *o = json_object();
  int bad = o == NULL;
  for (size_t i = 0; !bad && i < kv->n; i++)
    bad |= set(o, kv->items[i].key, json_string(kv->items[i].value != NULL ? kv->items[i].value : ""));
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* --- quantities ------------------------------------------------------------ */

/* Millicores as Kubernetes writes them: whole cores without a suffix, else
 * "<n>m".  Both re-parse to exactly the same number of millicores. */
static json_t *cpu_quantity(int64_t milli) {
  char buf[32];
  if (milli % 1000 == 0)
    snprintf(buf, sizeof buf, "%" PRId64, milli / 1000);
  else
    snprintf(buf, sizeof buf, "%" PRId64 "m", milli);
  return json_string(buf);
}

/* v with the largest suffix of one family (base 1024 or 1000) that divides
 * it exactly, or plain digits. */
static void suffixed(int64_t v, int64_t base, const char *const *suffixes, char *buf, size_t len) {
  int k = 0;
  while (v != 0 && suffixes[k] != NULL && v % base == 0) {
    v /= base;
    k++;
  }
  snprintf(buf, len, "%" PRId64 "%s", v, k > 0 ? suffixes[k - 1] : "");
}

/* Bytes in the shorter of the binary ("64Mi") and decimal ("1G") forms,
 * which both re-parse to exactly v. */
static json_t *byte_quantity(int64_t v) {
  static const char *const bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", NULL};
  static const char *const dec[] = {"k", "M", "G", "T", "P", "E", NULL};
  char b[32], d[32];
  suffixed(v, 1024, bin, b, sizeof b);
  suffixed(v, 1000, dec, d, sizeof d);
  return json_string(strlen(d) < strlen(b) ? d : b);
}

static int set_quantity(json_t *o, const char *key, int64_t v, bool cpu) {
  if (v < 0)
    return 0; /* not set */
  return set(o, key, cpu ? cpu_quantity(v) : byte_quantity(v));
}

static json_t *resources(const spec_resources *r) {
  json_t *res = json_object(), *lim = json_object(), *req = json_object();
  int bad = res == NULL || lim == NULL || req == NULL;
  bad |= set_quantity(lim, "cpu", r->cpu_limit_milli, true);
  bad |= set_quantity(lim, "memory", r->memory_limit, false);
  bad |= set_quantity(lim, "ephemeral-storage", r->ephemeral_limit, false);
  bad |= set_quantity(req, "cpu", r->cpu_request_milli, true);
  bad |= set_quantity(req, "memory", r->memory_request, false);
  bad |= set_quantity(req, "ephemeral-storage", r->ephemeral_request, false);
  if (!bad && json_object_size(lim) > 0)
    bad |= set(res, "limits", json_incref(lim));
  if (!bad && json_object_size(req) > 0)
    bad |= set(res, "requests", json_incref(req));
  json_decref(lim);
  json_decref(req);
  if (bad) {
    json_decref(res);
    return NULL;
  }
  return res;
}

/* --- probes, hooks, security ----------------------------------------------- */

static json_t *probe_port(const spec_probe *p) {
  return p->port_name != NULL ? json_string(p->port_name) : json_integer(p->port);
}

static json_t *probe_handler(const spec_probe *p) {
  json_t *h = json_object();
  int bad = h == NULL;
  if (p->kind == SPEC_PROBE_HTTP_GET) {
    bad |= set(h, "path", str(p->path != NULL ? p->path : "/"));
    bad |= set(h, "port", probe_port(p));
    bad |= set_str_opt(h, "host", p->host);
    bad |= set(h, "scheme", json_string(p->https ? "HTTPS" : "HTTP"));
    if (p->http_headers.n > 0)
      bad |= set(h, "httpHeaders", name_values(&p->http_headers));
  } else if (p->kind == SPEC_PROBE_TCP_SOCKET) {
    bad |= set(h, "port", probe_port(p));
    bad |= set_str_opt(h, "host", p->host);
  } else {
    bad |= set(h, "command", strv(&p->exec_command));
  }
  if (bad) {
    json_decref(h);
    return NULL;
  }
  return h;
}

static json_t *probe(const spec_probe *p) {
  static const char *const handler_keys[] = {
      [SPEC_PROBE_EXEC] = "exec", [SPEC_PROBE_HTTP_GET] = "httpGet", [SPEC_PROBE_TCP_SOCKET] = "tcpSocket"};
  json_t *o = json_object();
  int bad = o == NULL;
  bad |= set(o, handler_keys[p->kind], probe_handler(p));
  bad |= set(o, "initialDelaySeconds", json_integer(p->initial_delay_seconds));
  bad |= set(o, "timeoutSeconds", json_integer(p->timeout_seconds));
  bad |= set(o, "periodSeconds", json_integer(p->period_seconds));
  bad |= set(o, "successThreshold", json_integer(p->success_threshold));
  bad |= set(o, "failureThreshold", json_integer(p->failure_threshold));
  if (p->termination_grace_period_seconds >= 0)
    bad |= set(o, "terminationGracePeriodSeconds", json_integer(p->termination_grace_period_seconds));
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static int set_probe_opt(json_t *o, const char *key, const spec_probe *p) {
  return p->kind != SPEC_PROBE_NONE ? set(o, key, probe(p)) : 0;
}

/* {"exec": {"command": [...]}}, the only hook handler podvisor runs. */
static json_t *hook(const spec_strv *cmd) {
  json_t *h = json_object(), *exec = json_object();
  int bad = set(exec, "command", strv(cmd));
  bad |= set(h, "exec", exec);
  return bad ? (json_decref(h), NULL) : h;
}

static json_t *lifecycle(const spec_container *c) {
  json_t *o = json_object();
  int bad = o == NULL;
  if (c->post_start.n > 0)
    bad |= set(o, "postStart", hook(&c->post_start));
  if (c->pre_stop.n > 0)
    bad |= set(o, "preStop", hook(&c->pre_stop));
  return bad ? (json_decref(o), NULL) : o;
}

static int set_tristate(json_t *o, const char *key, int v) {
  return v >= 0 ? set(o, key, json_boolean(v)) : 0;
}

static json_t *security(const spec_security *s) {
  json_t *o = json_object();
  int bad = o == NULL;
  if (s->run_as_user >= 0)
    bad |= set(o, "runAsUser", json_integer(s->run_as_user));
  if (s->run_as_group >= 0)
    bad |= set(o, "runAsGroup", json_integer(s->run_as_group));
  bad |= set_tristate(o, "runAsNonRoot", s->run_as_non_root);
  bad |= set(o, "privileged", json_boolean(s->privileged));
  bad |= set(o, "readOnlyRootFilesystem", json_boolean(s->read_only_root_fs));
  bad |= set_tristate(o, "allowPrivilegeEscalation", s->allow_privilege_escalation);
  if (s->cap_add.n > 0 || s->cap_drop.n > 0) {
    json_t *caps = json_object();
    bad |= set_strv_opt(caps, "add", &s->cap_add);
    bad |= set_strv_opt(caps, "drop", &s->cap_drop);
    bad |= set(o, "capabilities", caps);
  }
  if (s->seccomp != SPEC_SECCOMP_UNSET) {
    static const char *const types[] = {[SPEC_SECCOMP_RUNTIME_DEFAULT] = "RuntimeDefault",
                                        [SPEC_SECCOMP_UNCONFINED] = "Unconfined",
                                        [SPEC_SECCOMP_LOCALHOST] = "Localhost"};
    json_t *sp = json_object();
    bad |= set(sp, "type", json_string(types[s->seccomp]));
    bad |= set_str_opt(sp, "localhostProfile", s->seccomp_localhost);
    bad |= set(o, "seccompProfile", sp);
  }
  if (s->unmasked_proc)
    bad |= set(o, "procMount", json_string("Unmasked"));
  return bad ? (json_decref(o), NULL) : o;
}

/* spec.securityContext: only its pod-only fields (the others are merged
 * into the containers); NULL-free empty object when none is set. */
static json_t *pod_security(const spec_pod *p) {
  json_t *o = json_object();
  int bad = o == NULL;
  if (p->fs_group >= 0) {
    bad |= set(o, "fsGroup", json_integer(p->fs_group));
    if (p->fs_group_change_policy == SPEC_FS_GROUP_ON_ROOT_MISMATCH)
      bad |= set(o, "fsGroupChangePolicy", json_string("OnRootMismatch"));
  }
  if (p->n_supplemental_groups > 0) {
    json_t *a = json_array();
    for (size_t i = 0; i < p->n_supplemental_groups; i++)
      bad |= json_array_append_new(a, json_integer(p->supplemental_groups[i])) < 0;
    bad |= set(o, "supplementalGroups", a);
  }
  if (p->supplemental_groups_policy == SPEC_GROUPS_STRICT)
    bad |= set(o, "supplementalGroupsPolicy", json_string("Strict"));
  if (p->sysctls.n > 0)
    bad |= set(o, "sysctls", name_values(&p->sysctls));
  return bad ? (json_decref(o), NULL) : o;
}

/* --- containers -------------------------------------------------------------- */

static json_t *ports(const spec_container *c) {
  json_t *a = json_array();
  int bad = a == NULL;
  for (size_t i = 0; !bad && i < c->n_ports; i++) {
    const spec_port *p = &c->ports[i];
    json_t *o = json_object();
    bad |= set_str_opt(o, "name", p->name);
    bad |= set(o, "containerPort", json_integer(p->container_port));
    if (p->host_port != 0)
      bad |= set(o, "hostPort", json_integer(p->host_port));
    bad |= set(o, "protocol", json_string(spec_protocol_name(p->protocol)));
    bad |= json_array_append_new(a, o) < 0;
  }
  return bad ? (json_decref(a), NULL) : a;
}

static json_t *mounts(const spec_container *c) {
  json_t *a = json_array();
  int bad = a == NULL;
  for (size_t i = 0; !bad && i < c->n_mounts; i++) {
    const spec_mount *m = &c->mounts[i];
    json_t *o = json_object();
    bad |= set(o, "name", str(m->name));
    bad |= set(o, "mountPath", str(m->mount_path));
    bad |= set_str_opt(o, "subPath", m->sub_path);
    bad |= set(o, "readOnly", json_boolean(m->read_only));
    static const char *const rro[] = {
        [SPEC_RRO_DISABLED] = NULL, [SPEC_RRO_IF_POSSIBLE] = "IfPossible", [SPEC_RRO_ENABLED] = "Enabled"};
    bad |= set_str_opt(o, "recursiveReadOnly", rro[m->recursive_read_only]);
    bad |= json_array_append_new(a, o) < 0;
  }
  return bad ? (json_decref(a), NULL) : a;
}

static json_t *container(const spec_container *c) {
  json_t *o = json_object();
  int bad = o == NULL;
  bad |= set(o, "name", str(c->name));
  bad |= set(o, "image", str(c->image));
  bad |= set_strv_opt(o, "command", &c->command);
  bad |= set_strv_opt(o, "args", &c->args);
  bad |= set_str_opt(o, "workingDir", c->working_dir);
  if (c->n_ports > 0)
    bad |= set(o, "ports", ports(c));
  if (c->env.n > 0)
    bad |= set(o, "env", name_values(&c->env));
  bad |= set(o, "resources", resources(&c->resources));
  if (c->sidecar)
    bad |= set(o, "restartPolicy", json_string("Always"));
  if (c->n_mounts > 0)
    bad |= set(o, "volumeMounts", mounts(c));
  bad |= set_probe_opt(o, "livenessProbe", &c->liveness);
  bad |= set_probe_opt(o, "readinessProbe", &c->readiness);
  bad |= set_probe_opt(o, "startupProbe", &c->startup);
  if (c->post_start.n > 0 || c->pre_stop.n > 0)
    bad |= set(o, "lifecycle", lifecycle(c));
  bad |= set(o, "imagePullPolicy", json_string(spec_pull_policy_name(c->pull_policy)));
  bad |= set(o, "securityContext", security(&c->security));
  bad |= set(o, "stdin", json_boolean(c->stdin_open));
  bad |= set(o, "tty", json_boolean(c->tty));
  return bad ? (json_decref(o), NULL) : o;
}

json_t *podjson_container(const spec_container *c, pv_err *err) {
  json_t *o = container(c);
  if (o == NULL)
    pv_err_set(err, ENOMEM, "container %s: cannot build its JSON object: out of memory",
               c->name != NULL ? c->name : "?");
  return o;
}

/* --- the pod ------------------------------------------------------------------ */

static json_t *containers(const spec_container *cs, size_t n) {
  json_t *a = json_array();
  int bad = a == NULL;
  for (size_t i = 0; !bad && i < n; i++)
    bad |= json_array_append_new(a, container(&cs[i])) < 0;
  return bad ? (json_decref(a), NULL) : a;
}

static json_t *volume(const spec_volume *v) {
  json_t *o = json_object(), *src = json_object();
  int bad = o == NULL || src == NULL;
  bad |= set(o, "name", str(v->name));
  if (v->kind == SPEC_VOLUME_HOST_PATH) {
    bad |= set(src, "path", str(v->host_path));
    bad |= set(src, "type", json_string(spec_hostpath_type_name(v->host_path_type)));
    bad |= set(o, "hostPath", src);
  } else {
    bad |= set(src, "medium", json_string(v->medium_memory ? "Memory" : ""));
    bad |= set_quantity(src, "sizeLimit", v->size_limit, false);
    bad |= set(o, "emptyDir", src);
  }
  return bad ? (json_decref(o), NULL) : o;
}

static json_t *metadata(const spec_pod *p) {
  json_t *o = json_object();
  int bad = o == NULL;
  bad |= set(o, "name", str(p->name));
  bad |= set(o, "namespace", str(p->ns != NULL ? p->ns : "default"));
  bad |= set_str_opt(o, "uid", p->uid);
  if (p->labels.n > 0)
    bad |= set(o, "labels", string_map(&p->labels));
  if (p->annotations.n > 0)
    bad |= set(o, "annotations", string_map(&p->annotations));
  return bad ? (json_decref(o), NULL) : o;
}

static json_t *pod_spec(const spec_pod *p) {
  json_t *o = json_object();
  int bad = o == NULL;
  if (p->n_volumes > 0) {
    json_t *vs = json_array();
    for (size_t i = 0; i < p->n_volumes; i++)
      bad |= json_array_append_new(vs, volume(&p->volumes[i])) < 0;
    bad |= set(o, "volumes", vs);
  }
  if (p->n_init_containers > 0)
    bad |= set(o, "initContainers", containers(p->init_containers, p->n_init_containers));
  bad |= set(o, "containers", containers(p->containers, p->n_containers));
  bad |= set(o, "restartPolicy", json_string(spec_restart_policy_name(p->restart_policy)));
  bad |= set(o, "terminationGracePeriodSeconds", json_integer(p->termination_grace_period_seconds));
  bad |= set(o, "hostNetwork", json_boolean(p->host_network));
  bad |= set(o, "shareProcessNamespace", json_boolean(p->share_process_namespace));
  if (p->host_pid)
    bad |= set(o, "hostPID", json_true());
  if (p->host_ipc)
    bad |= set(o, "hostIPC", json_true());
  json_t *sc = pod_security(p);
  if (sc == NULL || json_object_size(sc) > 0)
    bad |= set(o, "securityContext", sc);
  else
    json_decref(sc);
  if (p->host_users >= 0)
    bad |= set(o, "hostUsers", json_boolean(p->host_users != 0));
  bad |= set_str_opt(o, "hostname", p->effective_hostname); /* NULL with hostNetwork */
  bad |= set_str_opt(o, "subdomain", p->subdomain);
  return bad ? (json_decref(o), NULL) : o;
}

json_t *podjson_pod(const spec_pod *p, pv_err *err) {
  json_t *o = json_object();
  int bad = o == NULL;
  bad |= set(o, "apiVersion", json_string("v1"));
  bad |= set(o, "kind", json_string("Pod"));
  bad |= set(o, "metadata", metadata(p));
  bad |= set(o, "spec", pod_spec(p));
  if (bad) {
    json_decref(o);
    pv_err_set(err, ENOMEM, "pod %s/%s: cannot build its JSON document: out of memory",
               p->ns ? p->ns : "default", p->name ? p->name : "?");
    return NULL;
  }
  return o;
}

/* --- text ------------------------------------------------------------------- */

/* Code points that YAML does not take raw in a double-quoted scalar while
 * JSON does, so Jansson leaves them raw: libyaml refuses DEL, the C1
 * controls and U+FFFE/U+FFFF as "control characters", and NEL (U+0085),
 * LS (U+2028) and PS (U+2029) are YAML line breaks, which a double-quoted
 * scalar folds together with the spaces around them.  They are written as
 * \u escapes, which both languages read back as the same character.
 * Non-BMP characters stay raw UTF-8: libyaml refuses the surrogate-pair
 * escapes JSON uses for them (so Jansson's JSON_ENSURE_ASCII is no option). */
static bool yaml_needs_escape(uint32_t cp) {
  return cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0xfffe ||
         cp == 0xffff;
}

/* Decodes the UTF-8 sequence at s (Jansson's output is valid UTF-8); returns
 * its length. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp) {
  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
  uint32_t v = s[0] & (0x3f >> (n - 1));
  for (size_t i = 1; i < n; i++)
    v = (v << 6) | (s[i] & 0x3f);
  *cp = v;
  return n;
}

/* Copies text into a new buffer with yaml_needs_escape() characters
 * escaped; NULL on out of memory. */
static char *escape_for_yaml(const char *text) {
  size_t len = 0;
  uint32_t cp;
  for (const unsigned char *s = (const unsigned char *)text; *s;) {
    size_t n = utf8_decode(s, &cp);
    len += yaml_needs_escape(cp) ? 6 : n;
    s += n;
  }
  char *out = malloc(len + 1), *w = out;
  if (out == NULL)
    return NULL;
  for (const unsigned char *s = (const unsigned char *)text; *s;) {
    size_t n = utf8_decode(s, &cp);
    if (yaml_needs_escape(cp)) {
      snprintf(w, 7, "\\u%04x", (unsigned)cp);
      w += 6;
    } else {
      memcpy(w, s, n);
      w += n;
    }
    s += n;
  }
  *w = '\0';
  return out;
}

char *podjson_pod_text(const spec_pod *p, pv_err *err) {
  json_t *doc = podjson_pod(p, err);
  if (doc == NULL)
    return NULL;
  char *raw = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(doc);
  char *text = raw != NULL ? escape_for_yaml(raw) : NULL;
  free(raw);
  if (text == NULL)
    pv_err_set(err, ENOMEM, "pod %s/%s: cannot write its JSON document: out of memory",
               p->ns ? p->ns : "default", p->name ? p->name : "?");
  return text;
}
