/*
 * shim.h - the pod keeper: one process per pod, on one libuv loop.
 *
 * Process model.  `podvisor-shim --root R --run-root RR --pod-key KEY
 * [--sync-fd N] [--lock-fd N] [--cgroup-parent P]` (a lean executable installed beside
 * `podvisor`, which links only the shim, the core, proto/ and spec/, so that
 * a pod's keeper costs little memory; also `podvisor shim ...`), started by
 * a launcher (supervisor/podctl/ for `podvisor up` and the daemon), keeps
 * the pod whose snapshot is <run-root>/pods/<KEY>/pod.json
 * (supervisor/proto/podsnap.h: the validated pod with its instance uid, the
 * only thing the shim reads; never the user's manifest) and exits only when
 * the pod is fully down.  It ignores SIGHUP and runs in its own session (the
 * launcher calls setsid), so it keeps supervising when whoever started it
 * is gone.  SIGTERM/SIGINT or "stop" on its socket stop the pod gracefully.
 *   --lock-fd N: the run directory's lock (shim.lock), already flock()ed by
 *     the launcher, which wrote the snapshot under it; without it the shim
 *     takes the lock itself (waiting 2 s for a keeper that is just dying).
 *   --sync-fd N: once the socket listens, the shim writes one line there,
 *     {"ok":true,"pid":N}, and closes it; when the pod cannot be set up it
 *     writes {"ok":false,"error":"..."} instead, then exits 1.  The launcher
 *     learns either without polling.
 * For tests and users, --pod-file FILE [--pod NAME] [--namespace NS]
 * [--new-instance] does the launcher's part first (shim_prepare_pod_file):
 * validate FILE, write the snapshot (keeping the run directory's uid unless
 * --new-instance), then keep it.
 *
 * Identity and files (supervisor/proto/podpaths.h has the whole layout).
 * The run directory is keyed by the pod's key, spec_pod_key(): the same for
 * every instance of the pod, so a launcher finds its keeper by name:
 *   <run-root>/pods/<key>/pod.json     the snapshot; rewritten atomically by
 *                                      an update before the container restarts
 *   <run-root>/pods/<key>/status.json  Kubernetes-shaped status, rewritten
 *                                      atomically and durably (temp file,
 *                                      fsync, rename) after every change, in
 *                                      the thread pool (statefile.h); the
 *                                      final status is on disk before exit
 *   <run-root>/pods/<key>/shim.sock    control socket, mode 0600 (shimsock.h)
 *   <run-root>/pods/<key>/shim.pid     the shim's pid
 *   <run-root>/pods/<key>/shim.lock    flock held for the shim's whole life: one shim per pod
 *   <run-root>/pods/<key>/shim.log     the shim's stderr (opened by the launcher)
 * What one instance owns is keyed by its uid (metadata.uid of the snapshot):
 *   <root>/pods/<uid>/containers/<name>-<restart>  overlay upper/work dirs
 *   <root>/pods/<uid>/volumes/<name>   emptyDir volumes
 *   <root>/logs/<ns>_<pod>_<uid>/<container>/<restart>.log  CRI logs
 *   cgroups <parent>/<uid>/<container>
 * The parent is --cgroup-parent ("podvisor" without it; the launcher
 * passes the one it resolved, resource.h), recorded with the uid in
 * <run-root>/pods/<key>/cgroup.json (podsnap.h) before anything is
 * created: a keeper started again for the same instance keeps the parent
 * recorded there, so it finds and cleans that instance's cgroups even
 * when the launcher's parent has changed; for a new instance the recorded
 * one says where the previous instance's leftovers are.
 * On a clean stop everything but the logs is removed; earlier instances'
 * logs stay in their own directories.
 *
 * Sandbox (sandbox.h).  The shim itself holds the pod's net, ipc, uts and
 * mount namespaces (pid too with shareProcessNamespace, through a pause
 * process); containers are cloned with CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWCGROUP
 * only and inherit the rest.  Every container gets PR_SET_PDEATHSIG SIGKILL,
 * so `kill -9 <shim>` takes the whole pod down with it; its mounts vanish
 * with the mount namespace.  With shareProcessNamespace the pause process
 * (pid 1 of the pod) is watched: when it dies outside a pod stop, the kernel
 * has killed every process of the pod, and the shim gives the pod a new pid
 * namespace with a new pause (one line on stderr) while the killed
 * containers exit (137, reason Error) and restart per restartPolicy, as with
 * the kubelet's new sandbox; status.json's podvisor.pausePid names the
 * current pause (shim_pause.c).  What a SIGKILLed shim leaves is its cgroup
 * directories, upper dirs and run-root files: the next shim started for the
 * same pod removes them before it starts anything (it "cleans" rather than
 * adopts: the containers are already dead by then).  When it keeps the same
 * instance (the same uid) it carries the previous status.json forward:
 * restart counts, last terminations, the backoff state (consecutive exits,
 * recent start times: podvisor.backoff in each container's status), a
 * CrashLoopBackOff deadline and a reached start limit.  A new instance (the
 * previous status names another uid) starts fresh, after removing what the
 * old instance left (its cgroups and pod data).
 *
 * Lifecycle (driven by ctrstate.h's table, decisions by backoff.h):
 *   init containers run one at a time, each to exit 0; sidecars (init
 *   containers with restartPolicy Always) start in order and count as done
 *   once started (startup probe passed, when they have one); then every app
 *   container starts.  Exits are watched with uv_poll on each pidfd, reaped
 *   with container_manager_reap and destroyed at once (cgroup, upper dir);
 *   a restart is a fresh container "<name>-<restart>" after the backoff timer.
 *   Stop: preStop hooks, SIGTERM, SIGKILL at terminationGracePeriodSeconds,
 *   then sidecars in reverse order; nothing blocks the loop.
 *
 * shim_main() blocks for the life of the pod (it is the process's main loop).
 */
#ifndef PODVISOR_SHIM_SHIM_H
#define PODVISOR_SHIM_SHIM_H

#include <stdint.h>

#include "supervisor/core/error.h"

typedef struct shim_options {
  const char *root;     /* images, pod data, logs */
  const char *run_root; /* status files and sockets */
  const char *pod_key;  /* the run directory <run-root>/pods/<key> */
  int sync_fd;          /* -1 = none; see above */
  int lock_fd;          /* -1 = take the lock; else held by the launcher */
  /* --pod-file: the shim prepares its own snapshot first. */
  const char *pod_file;      /* manifest file holding the pod */
  const char *pod_name;      /* metadata.name; NULL = the only pod of the file */
  const char *pod_namespace; /* NULL = any */
  int new_instance;          /* --new-instance: a new uid even if the run dir has one */
  uint64_t log_max_size;     /* bytes per log file before rotation; 0 = 10 MiB */
  unsigned log_max_files;    /* files kept per container; 0 = 5 */
  const char *cgroup_parent; /* NULL = "podvisor"; checked by shim_parse_args */
} shim_options;

/* Parses the shim's options (argv[0] is skipped): --root, --run-root,
 * --pod-key KEY, --sync-fd N, --lock-fd N, --log-max-size SIZE,
 * --log-max-files N, --cgroup-parent PATH, and the convenience --pod-file FILE, --pod, --namespace,
 * --new-instance; exactly one of --pod-key and --pod-file.  Fields already
 * set in o are defaults (set sync_fd and lock_fd to -1 first).  Returns 0,
 * or -1 with err for a usage error.  The strings stay argv's. */
int shim_parse_args(int argc, char **argv, shim_options *o, pv_err *err);

/* --pod-file: validates o->pod_file, picks the pod (o->pod_name,
 * o->pod_namespace; the only one when unset), writes its snapshot under the
 * run directory's lock (podsnap_prepare; the uid is kept unless
 * o->new_instance) and sets o->pod_key (a static buffer) and o->lock_fd
 * for shim_main.  0, or -1 with err (the file's first error diagnostic). */
int shim_prepare_pod_file(shim_options *o, pv_err *err);

/* Runs the pod until it is stopped and fully down.  Returns 0 after a clean
 * stop, -1 with err when the pod could not be set up at all (also reported
 * on the sync fd), or when it failed with its sandbox (a dead pause process
 * that could not be replaced: status.json then shows phase Failed, reason
 * SandboxFailed). */
int shim_main(const shim_options *o, pv_err *err);

#endif
