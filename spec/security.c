/* security.c - pod and container securityContext (see security.h). */
#include "spec/security.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/suggest.h"
#include "spec/sysctl.h"

#define ID_MAX 2147483647 /* Kubernetes: user and group ids are 0..MaxInt32 */

/* The kernel's capabilities (capability.h), without the CAP_ prefix. */
static const char *const caps[] = {
    "ALL", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE",
};

void security_init(spec_security *s) {
  memset(s, 0, sizeof *s);
  s->run_as_user = -1;
  s->run_as_group = -1;
  s->run_as_non_root = -1;
  s->allow_privilege_escalation = -1;
}

/* seccompProfile {type, localhostProfile}, as Kubernetes validates it: the
 * type is required, localhostProfile goes with Localhost only and is a
 * path below the profile root (relative, no ".." segment). */
static void seccomp_profile(decode_ctx *c, const ytree_node *m, spec_security *out) {
  static const char *const types[] = {"RuntimeDefault", "Unconfined", "Localhost"};
  size_t saved = decode_push_key(c, "seccompProfile");
  const ytree_node *sp = ytree_map_get(m, "seccompProfile");
  if (decode_check_keys(c, sp, SCHEMA_SECCOMP_PROFILE)) {
    int t = 0;
    int r = decode_enum(c, sp, "type", types, 3, &t);
    if (r == 0)
      decode_error(c, sp, "type is required (RuntimeDefault, Unconfined or Localhost)");
    else if (r == 1)
      out->seccomp = (spec_seccomp)(SPEC_SECCOMP_RUNTIME_DEFAULT + t);
    char *lp = NULL;
    int lr = decode_string(c, sp, "localhostProfile", false, &lp);
    if (r == 1 && out->seccomp == SPEC_SECCOMP_LOCALHOST && lr == 0)
      decode_error(c, sp, "localhostProfile is required with type Localhost");
    else if (r == 1 && out->seccomp != SPEC_SECCOMP_LOCALHOST && lr == 1)
      decode_error_key(c, sp, "localhostProfile", "only allowed with type Localhost");
    else if (lr == 1 && (lp[0] == '\0' || lp[0] == '/' || decode_has_backsteps(lp)))
      decode_error_key(c, sp, "localhostProfile",
                       "'%.200s' must be a relative path below the profile directory, without '..'", lp);
    else if (lr == 1) {
      out->seccomp_localhost = lp;
      lp = NULL;
    }
    free(lp);
  }
  decode_pop(c, saved);
}

static void ids(decode_ctx *c, const ytree_node *m, spec_security *out) {
  decode_int(c, m, "runAsUser", 0, ID_MAX, &out->run_as_user);
  decode_int(c, m, "runAsGroup", 0, ID_MAX, &out->run_as_group);
  bool b;
  if (decode_bool(c, m, "runAsNonRoot", &b) == 1)
    out->run_as_non_root = b;
}

void security_pod(decode_ctx *c, const ytree_node *podspec, spec_security *out) {
  security_init(out);
  size_t saved = decode_push_key(c, "securityContext");
  const ytree_node *m = ytree_map_get(podspec, "securityContext");
  if (decode_check_keys(c, m, SCHEMA_POD_SECURITY_CONTEXT)) {
    ids(c, m, out);
    seccomp_profile(c, m, out);
  }
  decode_pop(c, saved);
}

/* Upper-cases, strips "CAP_" and checks each name against the kernel's. */
static void cap_list(decode_ctx *c, const ytree_node *capsmap, const char *key, spec_strv *out) {
  if (decode_strv(c, capsmap, key, out) != 1)
    return;
  const ytree_node *seq = ytree_map_get(capsmap, key);
  size_t saved = decode_push_key(c, key);
  for (size_t i = 0; i < out->n; i++) {
    char *s = out->argv[i];
    for (char *p = s; *p; p++)
      *p = (char)toupper((unsigned char)*p);
    if (strncmp(s, "CAP_", 4) == 0)
      memmove(s, s + 4, strlen(s + 4) + 1);
    bool known = false;
    for (size_t k = 0; k < sizeof caps / sizeof caps[0] && !known; k++)
      known = strcmp(s, caps[k]) == 0;
    if (!known) {
      size_t s2 = decode_push_index(c, i);
      const char *near = suggest_closest(s, caps, sizeof caps / sizeof caps[0]);
      decode_error(c, seq->items[i], "unknown capability '%.64s'%s%s%s", s, near ? "; did you mean '" : "",
                   near ? near : "", near ? "'?" : "");
      decode_pop(c, s2);
    }
  }
  decode_pop(c, saved);
}

static bool has_cap(const spec_strv *v, const char *name) {
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->argv[i], name) == 0)
      return true;
  return false;
}

void security_container(decode_ctx *c, const ytree_node *cmap, const spec_security *pod, int host_users,
                        spec_security *out) {
  security_init(out);
  size_t saved = decode_push_key(c, "securityContext");
  const ytree_node *m = ytree_map_get(cmap, "securityContext");
  if (decode_check_keys(c, m, SCHEMA_SECURITY_CONTEXT)) {
    ids(c, m, out);
    decode_bool(c, m, "privileged", &out->privileged);
    seccomp_profile(c, m, out);
    decode_bool(c, m, "readOnlyRootFilesystem", &out->read_only_root_fs);
    bool b;
    if (decode_bool(c, m, "allowPrivilegeEscalation", &b) == 1)
      out->allow_privilege_escalation = b;
    static const char *const proc_mounts[] = {"Default", "Unmasked"};
    int pm = 0;
    if (decode_enum(c, m, "procMount", proc_mounts, 2, &pm) == 1 && pm == 1) {
      /* Kubernetes (1.30 on, ProcMountType): an unmasked /proc only inside
       * a user namespace, where root is not the host's root. */
      if (host_users != 0)
        decode_error_key(c, m, "procMount", "`hostUsers` must be false to use `Unmasked`");
      out->unmasked_proc = true;
    }
    size_t s2 = decode_push_key(c, "capabilities");
    const ytree_node *cm = ytree_map_get(m, "capabilities");
    if (decode_check_keys(c, cm, SCHEMA_CAPABILITIES)) {
      cap_list(c, cm, "add", &out->cap_add);
      cap_list(c, cm, "drop", &out->cap_drop);
    }
    decode_pop(c, s2);
    if (out->allow_privilege_escalation == 0 && (out->privileged || has_cap(&out->cap_add, "SYS_ADMIN"))) {
      s2 = decode_push_key(c, "allowPrivilegeEscalation");
      decode_error(c, ytree_map_get(m, "allowPrivilegeEscalation"),
                   "cannot be false when privileged is true or CAP_SYS_ADMIN is added");
      decode_pop(c, s2);
    }
  }
  if (pod != NULL) {
    if (out->run_as_user < 0)
      out->run_as_user = pod->run_as_user;
    if (out->run_as_group < 0)
      out->run_as_group = pod->run_as_group;
    if (out->run_as_non_root < 0)
      out->run_as_non_root = pod->run_as_non_root;
    if (out->seccomp == SPEC_SECCOMP_UNSET) {
      out->seccomp = pod->seccomp;
      if (pod->seccomp_localhost != NULL)
        out->seccomp_localhost = decode_strdup(c, pod->seccomp_localhost);
    }
  }
  if (out->run_as_non_root == 1 && out->run_as_user == 0)
    decode_error(c, m != NULL ? m : cmap, "runAsNonRoot is true but runAsUser is 0 (root); the container would "
                                          "never start");
  decode_pop(c, saved);
}

void security_free(spec_security *s) {
  if (s == NULL)
    return;
  decode_strv_free(&s->cap_add);
  decode_strv_free(&s->cap_drop);
  free(s->seccomp_localhost);
  s->seccomp_localhost = NULL;
}

/* --- pod-only fields: groups and sysctls ------------------------------------ */

/* supplementalGroups: a list of group ids, each 0..MaxInt32. */
static void group_list(decode_ctx *c, const ytree_node *m, spec_pod *p) {
  const ytree_node *l = ytree_map_get(m, "supplementalGroups");
  if (ytree_is_null(l))
    return;
  size_t saved = decode_push_key(c, "supplementalGroups");
  if (l->kind != YTREE_SEQ) {
    decode_error(c, l, "expected a list of group ids, got %s", ytree_describe(l));
  } else if (l->n > 0 && (p->supplemental_groups = calloc(l->n, sizeof *p->supplemental_groups)) == NULL) {
    c->oom = 1;
  } else {
    for (size_t i = 0; i < l->n; i++) {
      /* Plain decimal ids: what a group id is written as. */
      const ytree_node *it = l->items[i];
      size_t s2 = decode_push_index(c, i);
      bool digits = it->kind == YTREE_SCALAR && it->stype == YTREE_INT && it->str[0] != '\0' &&
                    strlen(it->str) <= 10 && strspn(it->str, "0123456789") == strlen(it->str);
      long long v = digits ? strtoll(it->str, NULL, 10) : -1;
      if (digits && v <= ID_MAX)
        p->supplemental_groups[p->n_supplemental_groups++] = v;
      else
        decode_error(c, it, "expected a group id (an integer 0..%d), got %s", ID_MAX,
                     it->kind == YTREE_SCALAR && it->stype == YTREE_INT ? it->str : ytree_describe(it));
      decode_pop(c, s2);
    }
  }
  decode_pop(c, saved);
}

/* One sysctl {name, value}: format, namespace and the host-namespace rules. */
static void sysctl_entry(decode_ctx *c, const ytree_node *e, spec_pod *p, spec_kv *kv) {
  if (!decode_check_keys(c, e, SCHEMA_SYSCTL))
    return;
  if (decode_string(c, e, "name", true, &kv->key) == 1) {
    const ytree_node *at = ytree_map_get(e, "name");
    size_t s = decode_push_key(c, "name");
    spec_sysctl_ns ns = spec_sysctl_namespace(kv->key);
    if (!spec_sysctl_name_valid(kv->key))
      decode_error(c, at, "invalid sysctl name '%.80s': must be components of lower-case letters, digits, '-' "
                          "and '_' separated by '.' or '/', like net.ipv4.tcp_syncookies", kv->key);
    else if (ns == SPEC_SYSCTL_NOT_NAMESPACED)
      decode_error(c, at, "sysctl '%.80s' is not namespaced: setting it would change the whole host, and the "
                          "kubelet refuses it as unsafe (a pod may set kernel.shm*, kernel.msg*, kernel.sem, "
                          "fs.mqueue.* and net.*)", kv->key);
    else if (ns == SPEC_SYSCTL_NET && p->host_network)
      decode_error(c, at, "sysctl '%.80s' is not allowed with hostNetwork: true (it would change the host's "
                          "network namespace)", kv->key);
    else if (ns == SPEC_SYSCTL_IPC && p->host_ipc)
      decode_error(c, at, "sysctl '%.80s' is not allowed with hostIPC: true (it would change the host's IPC "
                          "namespace)", kv->key);
    for (size_t j = 0; j < p->sysctls.n; j++)
      if (&p->sysctls.items[j] != kv && p->sysctls.items[j].key != NULL && strcmp(p->sysctls.items[j].key, kv->key) == 0)
        decode_error(c, at, "duplicate sysctl '%.80s'", kv->key);
    decode_pop(c, s);
  }
  if (decode_string(c, e, "value", true, &kv->value) == 1 && !spec_sysctl_value_valid(kv->value))
    decode_error_key(c, e, "value", "invalid sysctl value: one line of at most %d printable characters",
                     SPEC_SYSCTL_VALUE_MAX);
}

static void sysctls(decode_ctx *c, const ytree_node *m, spec_pod *p) {
  const ytree_node *l = ytree_map_get(m, "sysctls");
  if (ytree_is_null(l))
    return;
  size_t saved = decode_push_key(c, "sysctls");
  if (l->kind != YTREE_SEQ) {
    decode_error(c, l, "expected a list of {name, value}, got %s", ytree_describe(l));
  } else if (l->n > 0 && (p->sysctls.items = calloc(l->n, sizeof *p->sysctls.items)) == NULL) {
    c->oom = 1;
  } else {
    for (size_t i = 0; i < l->n; i++) {
      size_t s2 = decode_push_index(c, i);
      sysctl_entry(c, l->items[i], p, &p->sysctls.items[p->sysctls.n++]);
      decode_pop(c, s2);
    }
  }
  decode_pop(c, saved);
}

void security_pod_spec(decode_ctx *c, const ytree_node *podspec, spec_pod *p) {
  p->fs_group = -1;
  const ytree_node *m = ytree_map_get(podspec, "securityContext");
  if (ytree_is_null(m) || m->kind != YTREE_MAP)
    return; /* security_pod() reported a non-map */
  size_t saved = decode_push_key(c, "securityContext");
  decode_int(c, m, "fsGroup", 0, ID_MAX, &p->fs_group);
  static const char *const fs_policies[] = {"Always", "OnRootMismatch"};
  int fp = 0;
  decode_enum(c, m, "fsGroupChangePolicy", fs_policies, 2, &fp);
  p->fs_group_change_policy = (spec_fs_group_policy)fp;
  if (fp != SPEC_FS_GROUP_ALWAYS && p->fs_group < 0)
    decode_warn_key(c, m, "fsGroupChangePolicy", "ignored: fsGroup is not set");
  group_list(c, m, p);
  static const char *const g_policies[] = {"Merge", "Strict"};
  int gp = 0;
  decode_enum(c, m, "supplementalGroupsPolicy", g_policies, 2, &gp);
  p->supplemental_groups_policy = (spec_groups_policy)gp;
  sysctls(c, m, p);
  decode_pop(c, saved);
}
