/*
 * shim.h - the pod keeper: one process per pod, on one libuv loop.
 *
 * Process model.  `podvisor-shim --pod-file FILE --pod NAME [--namespace NS]`
 * (a lean executable installed beside `podvisor`, which links only the shim,
 * the core and spec/, so that a pod's keeper costs little memory; also
 * `podvisor shim ...`), run by `podvisor up`, later by the daemon, reads FILE,
 * keeps the pod named NAME and exits only when the pod is fully down.  It
 * ignores SIGHUP and runs in its own session (the launcher calls setsid), so
 * it keeps supervising when whoever started it is gone.  SIGTERM/SIGINT or
 * the socket command "stop" stop the pod gracefully.
 *
 * Identity and files.  The pod uid is metadata.uid when set, else the first
 * 16 hex digits of sha256("<namespace>/<name>"): stable for a given pod, so a
 * restarted shim finds its predecessor's files.
 *   <run-root>/pods/<uid>/status.json  Kubernetes-shaped status, rewritten
 *                                      atomically and durably (temp file,
 *                                      fsync, rename) after every change, in
 *                                      the thread pool (statefile.h); the
 *                                      final status is on disk before exit
 *   <run-root>/pods/<uid>/shim.sock    control socket, mode 0600 (shimsock.h)
 *   <run-root>/pods/<uid>/shim.pid     the shim's pid
 *   <run-root>/pods/<uid>/shim.lock    flock held for the shim's whole life: one shim per pod
 *   <root>/pods/<uid>/containers/<name>-<restart>  overlay upper/work dirs
 *   <root>/pods/<uid>/volumes/<name>   emptyDir volumes
 *   <root>/logs/<ns>_<pod>_<uid>/<container>/<restart>.log  CRI logs
 *   cgroups podvisor/<uid>/<container>
 * On a clean stop everything but the logs is removed.
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
 * same pod (same uid) removes them before it starts anything (it "cleans"
 * rather than adopts: the containers are already dead by then), and carries
 * the previous status.json forward: restart counts, last terminations, the
 * backoff state (consecutive exits, recent start times: podvisor.backoff in
 * each container's status), a CrashLoopBackOff deadline and a reached start
 * limit.
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
 * The pod uid is spec_pod_uid()'s (spec/spec.h), shared with `podvisor up`.
 */
#ifndef PODVISOR_SHIM_SHIM_H
#define PODVISOR_SHIM_SHIM_H

#include <stdint.h>

#include "supervisor/core/error.h"

#define SHIM_UID_LEN 16 /* = SPEC_POD_UID_LEN */

typedef struct shim_options {
  const char *root;          /* images, pod data, logs */
  const char *run_root;      /* status files and sockets */
  const char *pod_file;      /* manifest file holding the pod */
  const char *pod_name;      /* metadata.name; NULL = the only pod of the file */
  const char *pod_namespace; /* NULL = any */
  uint64_t log_max_size;     /* bytes per log file before rotation; 0 = 10 MiB */
  unsigned log_max_files;    /* files kept per container; 0 = 5 */
} shim_options;

/* Parses the shim's options (argv[0] is skipped): --root, --run-root,
 * --pod-file (required), --pod, --namespace, --log-max-size SIZE,
 * --log-max-files N.  Fields already set in o are defaults.  Returns 0, or
 * -1 with err for a usage error.  The strings stay argv's. */
int shim_parse_args(int argc, char **argv, shim_options *o, pv_err *err);

/* Runs the pod until it is stopped and fully down.  Returns 0 after a clean
 * stop, -1 with err when the pod could not be set up at all, or when it
 * failed with its sandbox (a dead pause process that could not be replaced:
 * status.json then shows phase Failed, reason SandboxFailed). */
int shim_main(const shim_options *o, pv_err *err);

#endif
