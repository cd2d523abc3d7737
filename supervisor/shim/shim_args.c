/* shim_args.c - the shim's command line, shared by `podvisor shim` and the
 * lean `podvisor-shim` executable (see shim.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/core/resource.h"
#include "supervisor/core/util.h"
#include "supervisor/shim/shim.h"

/* A descriptor number given by the launcher (3 and up: 0-2 are stdio). */
static int parse_fd(const char *opt, const char *v, int *out, pv_err *err) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno != 0 || *end != '\0' || end == v || n < 3 || n > INT_MAX)
    return pv_err_set(err, EINVAL, "%s: '%s' is not a descriptor number (3 or more)", opt, v);
  *out = (int)n;
  return 0;
}

int shim_parse_args(int argc, char **argv, shim_options *o, pv_err *err) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--new-instance") == 0) {
      o->new_instance = 1;
      continue;
    }
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL)
      return pv_err_set(err, EINVAL, "%s: unknown option or missing value", a);
    if (strcmp(a, "--root") == 0)
      o->root = v;
    else if (strcmp(a, "--run-root") == 0)
      o->run_root = v;
    else if (strcmp(a, "--pod-key") == 0)
      o->pod_key = v;
    else if (strcmp(a, "--sync-fd") == 0) {
      if (parse_fd(a, v, &o->sync_fd, err) < 0)
        return -1;
    } else if (strcmp(a, "--lock-fd") == 0) {
      if (parse_fd(a, v, &o->lock_fd, err) < 0)
        return -1;
    } else if (strcmp(a, "--pod-file") == 0)
      o->pod_file = v;
    else if (strcmp(a, "--pod") == 0)
      o->pod_name = v;
    else if (strcmp(a, "--namespace") == 0)
      o->pod_namespace = v;
    else if (strcmp(a, "--cgroup-parent") == 0) {
      if (resource_manager_check_parent(v, err) < 0)
        return pv_err_wrap(err, "--cgroup-parent");
      o->cgroup_parent = v;
    } else if (strcmp(a, "--log-max-size") == 0) {
      int64_t sz;
      if (pv_parse_size(v, &sz, err) < 0)
        return pv_err_wrap(err, "--log-max-size");
      if (sz < 0)
        return pv_err_set(err, EINVAL, "--log-max-size: must not be negative");
      o->log_max_size = (uint64_t)sz;
    } else if (strcmp(a, "--log-max-files") == 0) {
      char *end;
      errno = 0;
      unsigned long n = strtoul(v, &end, 10);
      if (errno != 0 || *end != '\0' || end == v || n == 0 || n > 1000)
        return pv_err_set(err, EINVAL, "--log-max-files: '%s' is not a number from 1 to 1000", v);
      o->log_max_files = (unsigned)n;
    } else {
      return pv_err_set(err, EINVAL, "%s: unknown option", a);
    }
    i++;
  }
  if ((o->pod_key == NULL) == (o->pod_file == NULL))
    return pv_err_set(err, EINVAL, "exactly one of --pod-key and --pod-file is required");
  if (o->pod_key != NULL && (o->pod_name != NULL || o->pod_namespace != NULL || o->new_instance))
    return pv_err_set(err, EINVAL, "--pod, --namespace and --new-instance go with --pod-file");
  if (o->root == NULL || o->run_root == NULL)
    return pv_err_set(err, EINVAL, "--root and --run-root are required");
  return 0;
}
