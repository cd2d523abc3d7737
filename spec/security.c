/* security.c - pod and container securityContext (see security.h). */
#include "spec/security.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spec/suggest.h"

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

void security_container(decode_ctx *c, const ytree_node *cmap, const spec_security *pod, spec_security *out) {
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
    if (decode_enum(c, m, "procMount", proc_mounts, 2, &pm) == 1 && pm == 1)
      decode_error_key(c, m, "procMount", "not supported by podvisor: an unmasked /proc is not implemented");
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
