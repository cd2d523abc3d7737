/*
 * podpaths.h - every path of a pod, computed in one place.
 *
 * What it is for: the launcher (podctl), the shim, `podvisor shim paths`
 * (and through it the shell tests) agree on where a pod's files are by all
 * calling this module; nobody else joins these strings.
 *
 * Two identities name a pod's files:
 *  - its KEY, spec_pod_key(): 16 hex digits of sha256("<namespace>/<name>"),
 *    the same for every instance of the pod.  It names the run directory
 *      <run-root>/pods/<key>/pod.json     the snapshot the shim runs (podsnap.h)
 *                            status.json  the status document
 *                            shim.sock    the control socket (ctlproto.h), 0600
 *                            shim.pid     the keeper's pid
 *                            shim.lock    flock()ed by the keeper for its whole life
 *                            shim.log     the keeper's stderr
 *                            cgroup.json  the cgroup parent of the instance
 *                                         that ran here (podsnap.h)
 *    so that a launcher finds the pod's keeper from its name alone.
 *  - its instance UID (the kubelet's pod UID): metadata.uid of the snapshot,
 *    a new random UUID for every new instance (podpaths_new_uid).  It names
 *    what one instance owns and must not share with the next one:
 *      <root>/pods/<uid>/                    pod data (containers/, volumes/)
 *      <root>/logs/<ns>_<name>_<uid>/<container>/<restart>.log
 *      cgroup <parent>/<uid>   (parent "podvisor" unless podpaths_set_cgroup)
 *
 * Every component is validated before it is joined: the key must be 16
 * lower-case hex digits, the uid a DNS-1123 label (spec_uid_is_safe()
 * besides), the namespace and name free of '/' and not starting with '.',
 * and the log directory's name at most NAME_MAX bytes.  -1 with EINVAL or
 * ENAMETOOLONG and a message naming the pod otherwise.
 *
 * Ownership: the strings are malloc'd (a keeper holds them for its life;
 * PATH_MAX arrays would each dirty a page); podpaths_free() releases them
 * and accepts a zeroed or freed struct.  Pure apart from getrandom().
 */
#ifndef PODVISOR_PROTO_PODPATHS_H
#define PODVISOR_PROTO_PODPATHS_H

#include <stdbool.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"

#define PODPATHS_KEY_LEN SPEC_POD_UID_LEN /* spec_pod_key() */
#define PODPATHS_UID_MAX 63               /* a DNS-1123 label */
#define PODPATHS_UUID_LEN 36              /* what podpaths_new_uid() makes */

typedef struct podpaths {
  char key[PODPATHS_KEY_LEN + 1];
  char *run_dir, *snapshot, *status, *socket, *lock, *pid_file, *shim_log, *cgroup_file;
  /* The instance, once known (podpaths_set_instance): else "" and NULL. */
  char uid[PODPATHS_UID_MAX + 1];
  char *pod_dir, *log_dir, *cgroup; /* cgroup: relative, "<parent>/<uid>" */
} podpaths;

/* The run directory's paths for key (16 lower-case hex digits). */
int podpaths_init(podpaths *pp, const char *run_root, const char *key, pv_err *err);

/* podpaths_init with p's key, then podpaths_set_instance when p has a uid. */
int podpaths_for_pod(podpaths *pp, const char *root, const char *run_root, const spec_pod *p, pv_err *err);

/* Adds the instance's paths (replacing earlier ones). */
int podpaths_set_instance(podpaths *pp, const char *root, const char *ns, const char *name, const char *uid,
                          pv_err *err);

/* Puts the instance's cgroup under parent (resource_manager_check_parent
 * rules; NULL = "podvisor"): cgroup becomes "<parent>/<uid>".  Needs the
 * instance (podpaths_set_instance); EINVAL with a message otherwise. */
int podpaths_set_cgroup(podpaths *pp, const char *parent, pv_err *err);

void podpaths_free(podpaths *pp);
/* dst: a copy of src that owns its strings.  -1 with ENOMEM (dst empty). */
int podpaths_copy(podpaths *dst, const podpaths *src);

/* True for 16 lower-case hex digits. */
bool podpaths_key_is_valid(const char *key);

/* True for a uid usable as an instance uid: a DNS-1123 label (lower-case
 * alphanumerics and '-', alphanumeric at both ends, 1 to 63 bytes). */
bool podpaths_uid_is_valid(const char *uid);

/* A fresh random instance uid: a version 4 UUID in lower case, from
 * getrandom(2).  -1 with err when the kernel gives no randomness. */
int podpaths_new_uid(char out[PODPATHS_UUID_LEN + 1], pv_err *err);

#endif
