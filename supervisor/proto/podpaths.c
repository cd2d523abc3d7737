/* podpaths.c - every path of a pod, in one place (podpaths.h). */
#include "supervisor/proto/podpaths.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "supervisor/core/resource.h"

bool podpaths_key_is_valid(const char *key) {
  if (key == NULL || strlen(key) != PODPATHS_KEY_LEN)
    return false;
  for (const char *c = key; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
      return false;
  return true;
}

static bool alnum_lower(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

bool podpaths_uid_is_valid(const char *uid) {
  size_t n = uid != NULL ? strlen(uid) : 0;
  if (n == 0 || n > PODPATHS_UID_MAX || !spec_uid_is_safe(uid) || !alnum_lower(uid[0]) ||
      !alnum_lower(uid[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!alnum_lower(uid[i]) && uid[i] != '-')
      return false;
  return true;
}

/* A namespace or name as one part of a directory name. */
static bool part_is_safe(const char *s) {
  return s != NULL && *s != '\0' && *s != '.' && strchr(s, '/') == NULL && strchr(s, '_') == NULL;
}

__attribute__((format(printf, 2, 3))) static int dup_path(char **out, const char *fmt, ...) {
  char buf[PATH_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  free(*out);
  *out = NULL;
  if (n < 0 || (size_t)n >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if ((*out = strdup(buf)) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

int podpaths_init(podpaths *pp, const char *run_root, const char *key, pv_err *err) {
  memset(pp, 0, sizeof *pp);
  if (!podpaths_key_is_valid(key))
    return pv_err_set(err, EINVAL, "pod key '%.40s': not %d lower-case hex digits", key ? key : "",
                      PODPATHS_KEY_LEN);
  if (run_root == NULL || run_root[0] == '\0')
    return pv_err_set(err, EINVAL, "pod %s: no run root", key);
  memcpy(pp->key, key, PODPATHS_KEY_LEN + 1);
  if (dup_path(&pp->run_dir, "%s/pods/%s", run_root, key) < 0 ||
      dup_path(&pp->snapshot, "%s/pod.json", pp->run_dir) < 0 ||
      dup_path(&pp->status, "%s/status.json", pp->run_dir) < 0 ||
      dup_path(&pp->socket, "%s/shim.sock", pp->run_dir) < 0 ||
      dup_path(&pp->lock, "%s/shim.lock", pp->run_dir) < 0 ||
      dup_path(&pp->pid_file, "%s/shim.pid", pp->run_dir) < 0 ||
      dup_path(&pp->shim_log, "%s/shim.log", pp->run_dir) < 0 ||
      dup_path(&pp->cgroup_file, "%s/cgroup.json", pp->run_dir) < 0) {
    int e = errno;
    podpaths_free(pp);
    errno = e;
    return pv_err_sys(err, "pod %s: run directory under %s", key, run_root);
  }
  return 0;
}

int podpaths_set_instance(podpaths *pp, const char *root, const char *ns, const char *name, const char *uid,
                          pv_err *err) {
  if (!podpaths_uid_is_valid(uid))
    return pv_err_set(err, EINVAL, "pod %s/%s: unsafe uid '%.80s' (a uid is a DNS-1123 label)", ns ? ns : "",
                      name ? name : "", uid ? uid : "");
  if (!part_is_safe(ns) || !part_is_safe(name))
    return pv_err_set(err, EINVAL,
                      "pod '%.80s/%.80s': namespace and name must not be empty, start with '.' "
                      "or hold '/' or '_'",
                      ns ? ns : "", name ? name : "");
  if (strlen(ns) + strlen(name) + strlen(uid) + 2 > NAME_MAX)
    return pv_err_set(err, ENAMETOOLONG, "pod %s/%s: its log directory name would exceed %d bytes", ns, name,
                      NAME_MAX);
  if (root == NULL || root[0] == '\0')
    return pv_err_set(err, EINVAL, "pod %s/%s: no root", ns, name);
  snprintf(pp->uid, sizeof pp->uid, "%s", uid);
  if (dup_path(&pp->pod_dir, "%s/pods/%s", root, uid) < 0 ||
      dup_path(&pp->log_dir, "%s/logs/%s_%s_%s", root, ns, name, uid) < 0 ||
      dup_path(&pp->cgroup, "%s/%s", RESOURCE_DEFAULT_PARENT, uid) < 0) {
    pp->uid[0] = '\0';
    return pv_err_sys(err, "pod %s/%s: paths under %s", ns, name, root);
  }
  return 0;
}

int podpaths_for_pod(podpaths *pp, const char *root, const char *run_root, const spec_pod *p, pv_err *err) {
  char key[PODPATHS_KEY_LEN + 1];
  spec_pod_key(p, key);
  if (podpaths_init(pp, run_root, key, err) < 0)
    return -1;
  if (p->uid != NULL && podpaths_set_instance(pp, root, p->ns, p->name, p->uid, err) < 0) {
    podpaths_free(pp);
    return -1;
  }
  return 0;
}

int podpaths_set_cgroup(podpaths *pp, const char *parent, pv_err *err) {
  if (parent == NULL)
    parent = RESOURCE_DEFAULT_PARENT;
  if (pp->uid[0] == '\0')
    return pv_err_set(err, EINVAL, "pod %s: a cgroup parent before the instance is known", pp->key);
  if (resource_manager_check_parent(parent, err) < 0)
    return pv_err_wrap(err, "pod %s", pp->key);
  char *cg = NULL;
  if (dup_path(&cg, "%s/%s", parent, pp->uid) < 0)
    return pv_err_sys(err, "pod %s: cgroup under %s", pp->key, parent);
  free(pp->cgroup);
  pp->cgroup = cg;
  return 0;
}

void podpaths_free(podpaths *pp) {
  if (pp == NULL)
    return;
  char **all[] = {&pp->run_dir,  &pp->snapshot, &pp->status,  &pp->socket, &pp->lock,       &pp->pid_file,
                  &pp->shim_log, &pp->pod_dir,  &pp->log_dir, &pp->cgroup, &pp->cgroup_file};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    free(*all[i]);
    *all[i] = NULL;
  }
  pp->uid[0] = '\0';
}

int podpaths_copy(podpaths *dst, const podpaths *src) {
  memset(dst, 0, sizeof *dst);
  memcpy(dst->key, src->key, sizeof dst->key);
  memcpy(dst->uid, src->uid, sizeof dst->uid);
  char *const *from[] = {&src->run_dir,  &src->snapshot, &src->status,  &src->socket, &src->lock,
                         &src->pid_file, &src->shim_log, &src->pod_dir, &src->log_dir, &src->cgroup,
                         &src->cgroup_file};
  char **to[] = {&dst->run_dir,  &dst->snapshot, &dst->status,  &dst->socket, &dst->lock,       &dst->pid_file,
                 &dst->shim_log, &dst->pod_dir,  &dst->log_dir, &dst->cgroup, &dst->cgroup_file};
  for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
    if (*from[i] != NULL && (*to[i] = strdup(*from[i])) == NULL) {
      podpaths_free(dst);
      errno = ENOMEM;
      return -1;
    }
  }
  return 0;
}

int podpaths_new_uid(char out[PODPATHS_UUID_LEN + 1], pv_err *err) {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return pv_err_sys(err, "pod uid: getrandom");
    got += (size_t)n;
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < sizeof b; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = '\0';
  return 0;
}
