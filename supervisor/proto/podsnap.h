/*
 * podsnap.h - a pod's snapshot: the validated pod a keeper runs, written
 * into its run directory before the keeper starts (podpaths.h: pod.json).
 *
 * What it is for: the shim never reads the user's manifest.  A launcher
 * (podctl, `podvisor shim run`) validates the pod, gives the instance its
 * uid, and writes the snapshot under the pod's lock; the shim reads only
 * that file, and rewrites it (atomically, before restarting anything) when
 * a container is updated.  A manifest edited between validation and launch
 * cannot slip in, and a keeper restarted after an update keeps the update.
 *
 * The lock.  <run-dir>/shim.lock is flock()ed exclusively by whoever owns
 * the run directory: the launcher while it writes the snapshot, then the
 * keeper it starts, which inherits the very same open file (the lock is
 * handed over with the descriptor, so no second launcher can slip in
 * between).  A keeper that stops cleanly unlinks the lock file last; a lock
 * won on a file no longer linked at the path is taken again on the new one.
 *
 * The instance uid (the kubelet's pod UID): metadata.uid when the manifest
 * gives one; else, when asked to keep the instance (a keeper restarted for
 * the same pod), the uid of the snapshot already in the run directory;
 * else a new random uid.  A new uid is a new instance: new data directory,
 * new log directory, new cgroup (podpaths.h).
 *
 * Contract: no event loop; the calls block only on the file system (and
 * podsnap_lock_wait on a keeper that is just dying).  0 / -1 with err
 * naming the pod.  The caller owns what is returned.
 */
#ifndef PODVISOR_PROTO_PODSNAP_H
#define PODVISOR_PROTO_PODSNAP_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"
#include "supervisor/proto/podpaths.h"

/* Creates the run directory (0700) and takes its lock without waiting:
 * 0 with *fd (close-on-exec), or -1 with EWOULDBLOCK when a keeper holds
 * it (err: "pod NS/NAME is already kept by shim PID") or another errno.
 * what names the pod in messages ("ns/name"). */
int podsnap_lock(const podpaths *pp, const char *what, int *fd, pv_err *err);

/* podsnap_lock, retried for up to wait_ms while the lock is held: a keeper
 * killed just now holds it until the kernel has finished its exit. */
int podsnap_lock_wait(const podpaths *pp, const char *what, unsigned wait_ms, int *fd, pv_err *err);

/* The pid in shim.pid, 0 when there is none. */
long podsnap_read_pid(const podpaths *pp);

/* The metadata.uid of the snapshot in the run directory: 0 and uid, or -1
 * (no snapshot, or none with a valid uid). */
int podsnap_read_uid(const podpaths *pp, char uid[PODPATHS_UID_MAX + 1]);

/* The cgroup parent of an instance (resource.h).  The keeper records it in
 * the run directory (cgroup.json: {"uid": ..., "cgroupParent": ...}) when
 * it starts, and a keeper started again for the same instance keeps it,
 * whatever --cgroup-parent says then, so that it finds that instance's
 * cgroups; a new instance takes the one it is given.  The instance that
 * ran here before (its uid in the file) says where its leftovers are.
 * podsnap_read_cgroup: 0 with uid and parent, -1 when there is no valid
 * record.  podsnap_write_cgroup writes it atomically and durably (0644). */
int podsnap_read_cgroup(const podpaths *pp, char uid[PODPATHS_UID_MAX + 1], char *parent, size_t size);
int podsnap_write_cgroup(const podpaths *pp, const char *uid, const char *parent, pv_err *err);

/* The instance uid for p (see above): keep = reuse the run directory's. */
int podsnap_choose_uid(const podpaths *pp, const spec_pod *p, bool keep, char uid[PODPATHS_UID_MAX + 1],
                       pv_err *err);

/* p as snapshot text with metadata.uid = uid (podjson_pod_text), checked:
 * read back with spec_parse_buffer it gives exactly one pod, without an
 * error, with the same hashes.  malloc'd, NUL-terminated, *len its length. */
char *podsnap_render(const spec_pod *p, const char *uid, size_t *len, pv_err *err);

/* Renders and writes the snapshot atomically and durably (0600). */
int podsnap_write(const podpaths *pp, const spec_pod *p, const char *uid, pv_err *err);

/* Reads a snapshot: exactly one valid pod whose uid is set and valid. */
int podsnap_load(const char *path, spec_pod **out, pv_err *err);

/* What a launcher does before it starts a keeper: paths, lock (waiting
 * up to wait_ms), instance uid, snapshot.  With p, the snapshot is p
 * (keep: with the run directory's uid, see above); with p == NULL it is the
 * snapshot already in <run-root>/pods/<key> (instance and updates kept),
 * which must exist.  On success *pp has the instance's paths and *lock_fd
 * is the held lock, to hand to the keeper. */
int podsnap_prepare(const char *root, const char *run_root, const spec_pod *p, const char *key, bool keep,
                    unsigned wait_ms, podpaths *pp, int *lock_fd, pv_err *err);

/* A launch given up after podsnap_prepare (the keeper was never started):
 * removes the snapshot and, when nothing else is left in it, the run
 * directory (its lock last), then closes lock_fd.  Best effort. */
void podsnap_abandon(const podpaths *pp, int lock_fd);

#endif
