/*
 * seccomp_oci.c - an OCI/Docker seccomp profile (JSON, Jansson) read into
 * the profile model of seccomp_internal.h, then compiled.
 *
 * The model borrows its strings from the parsed JSON document, which lives
 * until the compiled program has been exported; nothing of the file is
 * kept afterwards.  Keys podvisor does not use ("comment",
 * "includes.minKernel", "listenerPath" without NOTIFY actions...) are
 * ignored, as runc and crun ignore them.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

#include "supervisor/core/seccomp_internal.h"

/* What the parse allocates besides the JSON document. */
struct oci {
  seccomp_profile p;
  seccomp_rule *rules;
  const char **names; /* one pool for every rule's names */
};

static void oci_free(struct oci *o) {
  free(o->rules);
  free((void *)o->names);
}

static const struct {
  const char *name;
  uint32_t action; /* for ERRNO and TRACE: the base, errnoRet added */
  bool with_ret;
} actions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
};

/* "SCMP_ACT_ERRNO" with errnoRet (EPERM when absent) → SCMP_ACT_ERRNO(n). */
static int parse_action(const json_t *v, const json_t *ret, uint32_t *out, const char *where, pv_err *err) {
  const char *s = json_string_value(v);
  if (s == NULL)
    return pv_err_set(err, EINVAL, "%s: action: expected a string such as \"SCMP_ACT_ALLOW\"", where);
  if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
    return pv_err_set(err, EINVAL,
                      "%s: action SCMP_ACT_NOTIFY needs a seccomp agent, which podvisor does not run", where);
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
    if (strcmp(s, actions[i].name) != 0)
      continue;
    json_int_t n = EPERM;
    if (ret != NULL && !json_is_null(ret)) {
      if (!json_is_integer(ret) || json_integer_value(ret) < 0 || json_integer_value(ret) > 0xffff)
        return pv_err_set(err, EINVAL, "%s: errnoRet: expected a number from 0 to 65535", where);
      n = json_integer_value(ret);
    }
    *out = actions[i].action | (actions[i].with_ret ? (uint32_t)n : 0);
    return 0;
  }
  return pv_err_set(err, EINVAL, "%s: unknown action '%.64s'", where, s);
}

static const struct {
  const char *name;
  enum scmp_compare op;
} ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static int parse_u64(const json_t *v, const char *key, uint64_t *out, const char *where, pv_err *err) {
  if (v == NULL || json_is_null(v)) {
    *out = 0;
    return 0;
  }
  if (!json_is_integer(v))
    return pv_err_set(err, EINVAL, "%s: %s: expected an integer", where, key);
  *out = (uint64_t)json_integer_value(v);
  return 0;
}

/* args[{index, value, valueTwo, op}]: for MASKED_EQ value is the mask and
 * valueTwo the expected result, as libseccomp's datum_a and datum_b. */
static int parse_args(const json_t *args, seccomp_rule *r, const char *where, pv_err *err) {
  if (args == NULL || json_is_null(args))
    return 0;
  if (!json_is_array(args))
    return pv_err_set(err, EINVAL, "%s: args: expected a list", where);
  if (json_array_size(args) > SECCOMP_MAX_ARGS)
    return pv_err_set(err, EINVAL, "%s: args: at most %d conditions", where, SECCOMP_MAX_ARGS);
  size_t i;
  const json_t *a;
  json_array_foreach(args, i, a) {
    char at[160];
    snprintf(at, sizeof at, "%s: args[%zu]", where, i);
    const json_t *idx = json_object_get(a, "index");
    if (!json_is_object(a) || !json_is_integer(idx) || json_integer_value(idx) < 0 ||
        json_integer_value(idx) >= SECCOMP_MAX_ARGS)
      return pv_err_set(err, EINVAL, "%s: index: expected an argument number from 0 to 5", at);
    const char *op = json_string_value(json_object_get(a, "op"));
    size_t k = 0;
    while (op != NULL && k < sizeof ops / sizeof ops[0] && strcmp(op, ops[k].name) != 0)
      k++;
    if (op == NULL || k == sizeof ops / sizeof ops[0])
      return pv_err_set(err, EINVAL, "%s: unknown op '%.64s'", at, op != NULL ? op : "");
    struct scmp_arg_cmp *c = &r->args[r->n_args++];
    c->arg = (unsigned)json_integer_value(idx);
    c->op = ops[k].op;
    if (parse_u64(json_object_get(a, "value"), "value", &c->datum_a, at, err) < 0 ||
        parse_u64(json_object_get(a, "valueTwo"), "valueTwo", &c->datum_b, at, err) < 0)
      return -1;
  }
  return 0;
}

/* Go's architecture names (Docker's includes.arches) of the native one. */
static const char *native_go_arch(void) {
  switch (seccomp_arch_native()) {
  case SCMP_ARCH_X86_64: return "amd64";
  case SCMP_ARCH_X86: return "386";
  case SCMP_ARCH_AARCH64: return "arm64";
  case SCMP_ARCH_ARM: return "arm";
  case SCMP_ARCH_PPC64LE: return "ppc64le";
  case SCMP_ARCH_S390X: return "s390x";
  case SCMP_ARCH_RISCV64: return "riscv64";
  default: return "";
  }
}

/* includes/excludes {caps, arches}: caps into a mask, arches into whether
 * the native architecture is listed.  The rule is skipped when includes
 * lists arches without the native one, or excludes lists it. */
static int parse_filter(const json_t *f, bool includes, seccomp_rule *r, const char *where, pv_err *err) {
  if (f == NULL || json_is_null(f))
    return 0;
  const char *key = includes ? "includes" : "excludes";
  if (!json_is_object(f))
    return pv_err_set(err, EINVAL, "%s: %s: expected an object", where, key);
  const json_t *caps = json_object_get(f, "caps"), *arches = json_object_get(f, "arches"), *v;
  size_t i;
  json_array_foreach(caps, i, v) {
    const char *s = json_string_value(v);
    char buf[64];
    cap_value_t cv;
    snprintf(buf, sizeof buf, "%s", s != NULL ? s : "");
    for (char *p = buf; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    if (s == NULL || cap_from_name(buf, &cv) < 0 || cv < 0 || cv > 63)
      return pv_err_set(err, EINVAL, "%s: %s.caps[%zu]: unknown capability '%.64s'", where, key, i,
                        s ? s : "");
    *(includes ? &r->caps_all : &r->caps_none) |= 1ULL << cv;
  }
  if (json_is_array(arches) && json_array_size(arches) > 0) {
    bool listed = false;
    json_array_foreach(arches, i, v) listed |=
        json_is_string(v) && strcmp(json_string_value(v), native_go_arch()) == 0;
    if (listed != includes)
      r->skip = true;
  }
  return 0;
}

/* One syscalls[] entry: its names go to the pool from *pool on. */
static int parse_syscall(const json_t *s, size_t i, seccomp_rule *r, const char ***pool, const char *name,
                         pv_err *err) {
  char where[128];
  snprintf(where, sizeof where, "%s: syscalls[%zu]", name, i);
  if (!json_is_object(s))
    return pv_err_set(err, EINVAL, "%s: expected an object", where);
  const json_t *names = json_object_get(s, "names"), *one = json_object_get(s, "name"), *v;
  r->names = *pool;
  if (json_is_string(one))
    *(*pool)++ = json_string_value(one);
  size_t k;
  json_array_foreach(names, k, v) {
    if (!json_is_string(v))
      return pv_err_set(err, EINVAL, "%s: names[%zu]: expected a string", where, k);
    *(*pool)++ = json_string_value(v);
  }
  r->n_names = (size_t)(*pool - r->names);
  if (r->n_names == 0)
    return pv_err_set(err, EINVAL, "%s: no system call names (\"names\": [...])", where);
  for (k = 0; k < r->n_names; k++)
    if (seccomp_syscall_resolve_name(r->names[k]) == __NR_SCMP_ERROR)
      return pv_err_set(err, EINVAL, "%s: unknown system call '%.64s'", where, r->names[k]);
  if (parse_action(json_object_get(s, "action"), json_object_get(s, "errnoRet"), &r->action, where, err) <
          0 ||
      parse_args(json_object_get(s, "args"), r, where, err) < 0 ||
      parse_filter(json_object_get(s, "includes"), true, r, where, err) < 0 ||
      parse_filter(json_object_get(s, "excludes"), false, r, where, err) < 0)
    return -1;
  return 0;
}

/* "SCMP_ARCH_X86_64" → SCMP_ARCH_X86_64, added unless it is the native one. */
static int add_arch(struct oci *o, const json_t *v, const char *where, pv_err *err) {
  const char *s = json_string_value(v);
  char buf[32];
  if (s == NULL || strncmp(s, "SCMP_ARCH_", 10) != 0 || strlen(s + 10) >= sizeof buf)
    return pv_err_set(err, EINVAL, "%s: unknown architecture '%.64s'", where, s ? s : "");
  for (size_t i = 0; i <= strlen(s + 10); i++)
    buf[i] = (char)tolower((unsigned char)s[10 + i]);
  uint32_t a = seccomp_arch_resolve_name(buf);
  if (a == 0)
    return pv_err_set(err, EINVAL, "%s: unknown architecture '%.64s'", where, s);
  if (a == seccomp_arch_native())
    return 0;
  if (o->p.n_arches == SECCOMP_MAX_ARCHES)
    return pv_err_set(err, EINVAL, "%s: too many architectures", where);
  o->p.arches[o->p.n_arches++] = a;
  return 0;
}

/* architectures[], or else the native entry of archMap[]. */
static int parse_arches(struct oci *o, const json_t *root, pv_err *err) {
  const json_t *list = json_object_get(root, "architectures"), *map = json_object_get(root, "archMap"), *v;
  char where[160];
  size_t i;
  json_array_foreach(list, i, v) {
    snprintf(where, sizeof where, "%s: architectures[%zu]", o->p.name, i);
    if (add_arch(o, v, where, err) < 0)
      return -1;
  }
  if (json_array_size(list) > 0)
    return 0;
  json_array_foreach(map, i, v) {
    snprintf(where, sizeof where, "%s: archMap[%zu]", o->p.name, i);
    struct oci probe = {.p = {.name = o->p.name}};
    if (add_arch(&probe, json_object_get(v, "architecture"), where, err) < 0)
      return -1;
    if (probe.p.n_arches > 0) /* not the native architecture */
      continue;
    const json_t *sub;
    size_t k;
    json_array_foreach(json_object_get(v, "subArchitectures"), k,
                       sub) if (add_arch(o, sub, where, err) < 0) return -1;
  }
  return 0;
}

static int parse_profile(struct oci *o, const json_t *root, const char *name, pv_err *err) {
  o->p.name = name;
  if (!json_is_object(root))
    return pv_err_set(err, EINVAL, "%s: expected a JSON object", name);
  char where[128];
  snprintf(where, sizeof where, "%s: defaultAction", name);
  const json_t *def = json_object_get(root, "defaultAction");
  if (def == NULL)
    return pv_err_set(err, EINVAL, "%s: no defaultAction", name);
  if (parse_action(def, json_object_get(root, "defaultErrnoRet"), &o->p.default_action, where, err) < 0 ||
      parse_arches(o, root, err) < 0)
    return -1;
  const json_t *calls = json_object_get(root, "syscalls"), *s;
  if (calls != NULL && !json_is_null(calls) && !json_is_array(calls))
    return pv_err_set(err, EINVAL, "%s: syscalls: expected a list", name);
  size_t n = json_array_size(calls), n_names = 0, i;
  json_array_foreach(calls, i, s) n_names += json_array_size(json_object_get(s, "names")) + 1;
  o->rules = calloc(n + 1, sizeof *o->rules);
  o->names = calloc(n_names + 1, sizeof *o->names);
  if (o->rules == NULL || o->names == NULL)
    return pv_err_sys(err, "%s", name);
  const char **pool = o->names;
  json_array_foreach(calls, i, s) if (parse_syscall(s, i, &o->rules[i], &pool, name, err) < 0) return -1;
  o->p.rules = o->rules;
  o->p.n_rules = n;
  return 0;
}

static int parse_compile(const char *json, const char *name, uint64_t caps, const char *cache_dir,
                         seccomp_prog *out, pv_err *err) {
  memset(out, 0, sizeof *out);
  json_error_t je;
  json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
  if (root == NULL)
    return pv_err_set(err, EINVAL, "%s:%d:%d: %s", name, je.line, je.column, je.text);
  struct oci o = {0};
  int rc = parse_profile(&o, root, name, err);
  if (rc == 0)
    rc = seccomp_compile_cached(&o.p, caps, cache_dir, out, err);
  oci_free(&o);
  json_decref(root);
  return rc;
}

int seccomp_profile_parse_oci(const char *json, const char *name, uint64_t caps, seccomp_prog *out,
                              pv_err *err) {
  return parse_compile(json, name, caps, NULL, out, err);
}

int seccomp_profile_load_oci(const char *path, uint64_t caps, const char *cache_dir, seccomp_prog *out,
                             pv_err *err) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return pv_err_sys(err, "seccomp profile %s", path);
  /* Profiles are tens of kilobytes; a megabyte is surely not one. */
  char *buf = malloc(1 << 20);
  size_t n = buf != NULL ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  int rc;
  if (buf == NULL)
    rc = pv_err_sys(err, "seccomp profile %s", path);
  else if (ferror(f))
    rc = pv_err_set(err, EIO, "seccomp profile %s: read error", path);
  else if (!feof(f))
    rc = pv_err_set(err, EFBIG, "seccomp profile %s: larger than 1 MiB", path);
  else {
    buf[n] = '\0';
    rc = parse_compile(buf, path, caps, cache_dir, out, err);
  }
  free(buf);
  fclose(f);
  return rc;
}
