/*
 * sandbox.h - the pod sandbox: the namespaces every container of a pod shares.
 *
 * There is no "pause container".  The shim itself is the sandbox: at start,
 * before it creates its event loop or any thread, it unshares its own
 * network, IPC and UTS namespaces, sets the pod hostname and brings the
 * loopback interface up.  It also takes a private mount namespace (/ made a
 * slave: host mounts propagate in, none of the pod's propagate out), so the
 * pod's tmpfs volumes and any mount left by a SIGKILLed shim disappear with
 * the pod's last process instead of lingering on the host.  Containers are then cloned with only
 * CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWCGROUP, so they inherit the pod's net,
 * ipc and uts namespaces from their parent, and the shim's probes
 * (httpGet/tcpSocket) connect to 127.0.0.1 inside the very same network
 * namespace.  Unix sockets bound to a path stay reachable from the host, so
 * the shim's control socket works across the network namespace boundary.
 *
 *   hostNetwork: true  → only IPC is private; the pod uses the node's network
 *                        and UTS namespaces (and so the node's hostname), as
 *                        Kubernetes does.
 *   hostIPC: true      → no IPC namespace is unshared: the pod uses the
 *                        node's (its shared memory, semaphores and message
 *                        queues, /dev/mqueue included).
 *   hostPID: true      → containers are created without CLONE_NEWPID and
 *                        without a pause process: they live in the node's
 *                        pid namespace and see every host process (their
 *                        /proc is that namespace's).  Kubernetes refuses it
 *                        together with shareProcessNamespace, and so does
 *                        the decoder.
 *   sysctls            → written to /proc/sys by the shim right after the
 *                        unshare: /proc/sys/net and the IPC sysctls act on
 *                        the writer's own namespaces, which are now the
 *                        pod's.  A failed write fails the sandbox, naming
 *                        the sysctl.
 *   shareProcessNamespace: true → the shim also unshares CLONE_NEWPID and
 *                        forks a tiny pause process, pid 1 of the pod, which
 *                        only reaps orphans.  Every later child of the shim
 *                        (each container) is born in that pid namespace, so
 *                        containers are created without CLONE_NEWPID
 *                        (sandbox_container_namespaces()).  The pause process
 *                        dies with the shim (PR_SET_PDEATHSIG SIGKILL), and
 *                        with it every process of the pod.
 *
 * A pause process that dies on its own (kill -9 from the host) takes its pid
 * namespace with it: the kernel SIGKILLs every process in it, and no process
 * can be born there any more (fork fails with ENOMEM).  The pause then lingers
 * as an exiting task until the shim has reaped every one of those processes
 * that is its child (the containers): only after that its pidfd turns
 * readable.  sandbox_pause_alive() already says false during that wait, and
 * sandbox_renew() replaces the pause with a new one, pid 1 of a fresh pid
 * namespace, handing the old one to the caller to reap once it is gone.
 *
 * Threads and pid namespaces.  After unshare(CLONE_NEWPID) the calling thread's
 * children are born in another pid namespace than its own, and the kernel then
 * refuses it CLONE_THREAD (no thread can be created) and a second
 * unshare(CLONE_NEWPID) (EINVAL).  Threads that exist already (libuv's thread
 * pool) are not affected: namespaces are per thread, and unshare and setns
 * of a pid namespace are allowed in a multi-threaded process.  So threads are
 * started before the first unshare (sandbox_config.before_pid_ns), and
 * sandbox_renew() first setns()es back into the process's own pid namespace
 * (an fd of it is kept from sandbox_enter) and only then unshares a new one.
 * Both change only the calling thread: call every sandbox_* function from
 * the thread that called sandbox_enter() (the shim's loop thread), which is
 * also the thread that creates the containers.
 *
 * User namespace (hostUsers: false, userns_base != 0).  The pod gets a user
 * namespace mapping uid and gid 0..size-1 to host ids base.. (idpool.h), and
 * its network, IPC and UTS namespaces are owned by it, so that the
 * container's root has its capabilities over them (binding port 80,
 * raw sockets for ping, sethostname) and over nothing of the host's.  A
 * process cannot create namespaces owned by a user namespace it is not in,
 * and the shim must stay host root (cgroups, mounts, other pods' files):
 * so a helper forked for the purpose unshares user+net+ipc+uts at once
 * (the kernel creates the user namespace first and makes it the owner of
 * the others), the shim writes its uid_map and gid_map, enters its net,
 * ipc and uts namespaces with setns() (host root has every capability in
 * every user namespace below the host's), keeps an fd of the user namespace
 * (sandbox.userns) and lets the helper end.  Containers join that user
 * namespace as their last step before exec (container_join.user), after
 * every mount is made: their mount, pid and cgroup namespaces stay owned by
 * the host's user namespace, so the container's root cannot mount or
 * unmount anything (its masks stay), as in any unprivileged container.
 * The pause process (share_pid) joins the user namespace too: no process
 * of the pod runs as host root.  A user namespace needs the pod's own
 * network namespace (host_network is refused with it, as Kubernetes does).
 *
 * sandbox_enter() blocks briefly (a few syscalls and a fork); call it once,
 * single threaded, before uv_loop_init().  sandbox_renew() blocks as briefly
 * (a setns, an unshare and a fork); the others never block.  Errors name the
 * step.
 */
#ifndef PODVISOR_SHIM_SANDBOX_H
#define PODVISOR_SHIM_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"

typedef struct sandbox_config {
  const char *hostname; /* pod hostname (<= 63 chars); ignored with host_network */
  bool host_network;
  bool share_pid; /* shareProcessNamespace */
  bool host_pid;  /* hostPID: containers stay in the host's pid namespace (never with share_pid) */
  bool host_ipc;  /* hostIPC: no IPC namespace of the pod's own */
  /* spec.securityContext.sysctls (names as spec/sysctl.h takes them),
   * written once into the pod's IPC and network namespaces before any
   * container starts; the decoder let through only namespaced ones that
   * the host_* flags do not forbid. */
  const spec_kv *sysctls;
  size_t n_sysctls;
  uint32_t userns_base; /* host id of the pod's root (user namespace); 0 = none */
  uint32_t userns_size; /* ids mapped from userns_base */
  /* Called once the mount, net, ipc and uts namespaces are entered and
   * before the pid namespace is: the last moment the process can create
   * threads (after unshare(CLONE_NEWPID) the kernel refuses CLONE_THREAD,
   * since its children's pid namespace differs from its own).  May be NULL. */
  void (*before_pid_ns)(void *ctx);
  void *ctx;
} sandbox_config;

typedef struct sandbox {
  bool host_network;
  bool share_pid;
  bool host_pid;
  pid_t pause_pid; /* 0 when there is no pause process */
  int pause_pidfd; /* -1 when there is no pause process */
  int own_pidns;   /* share_pid: the process's own pid namespace (nsfs fd); else -1 */
  int userns;      /* the pod's user namespace (nsfs fd), -1 when it has none */
  uint32_t userns_base; /* the host id of its root (its gid too), 0 without one */
} sandbox;

/* A pause process handed over to the caller by sandbox_renew(). */
typedef struct sandbox_pause {
  pid_t pid; /* 0 when none */
  int pidfd; /* -1 when none; the caller closes it */
} sandbox_pause;

/* An empty sandbox (no fds): what sandbox_release() accepts before
 * sandbox_enter() ran or after it failed. */
void sandbox_init(sandbox *sb);

/* Unshares the pod namespaces for the calling process, sets the hostname,
 * brings "lo" up, writes the sysctls and, with share_pid, forks the pause
 * process. */
int sandbox_enter(sandbox *sb, const sandbox_config *cfg, pv_err *err);

/* Creates the pod's user namespace with its net, ipc and uts namespaces,
 * moves the calling process into the latter three and keeps the former in
 * sb->userns (see "User namespace" above).  Single threaded callers only
 * (it forks).  Exposed for tests. */
int sandbox_userns_enter(sandbox *sb, uint32_t base, uint32_t size, pv_err *err);
/* In a single-threaded child: joins the user namespace behind fd and
 * becomes its root (namespace_join_user). */
int sandbox_userns_join(int userns);

/* The CLONE_NEW* flags a container of this pod must create itself. */
int sandbox_container_namespaces(const sandbox *sb);

/* False when the pod's pid namespace is gone or going: its pause process has
 * exited or is exiting (the kernel's PF_EXITING flag of the task, read from
 * /proc/<pid>/stat), or there is none.  Always true without share_pid.
 * Never blocks. */
bool sandbox_pause_alive(const sandbox *sb);

/* Replaces the pause process: setns back into the process's own pid
 * namespace, unshare a new one, fork a new pause into it.  The old pause
 * (pid 0 / fd -1 when there was none) is moved to *old, also on failure; it
 * may still be exiting, so the caller reaps it (waitid P_PIDFD) once its
 * pidfd is readable and closes the fd.  On failure the sandbox has no pause
 * (sandbox_pause_alive() is false) and err names the step. */
int sandbox_renew(sandbox *sb, sandbox_pause *old, pv_err *err);

/* Kills and reaps the pause process (if any), points the calling thread's
 * children back at the process's own pid namespace, closes the sandbox's
 * fds.  Call after every container is down.  Safe to call twice.  Waits at
 * most SANDBOX_RELEASE_WAIT_MS: the pause process, init of the pod's pid
 * namespace, ends only after every process of the namespace, and one that
 * cannot die (frozen, stuck in uninterruptible sleep) would keep it; it is
 * then left to the host's init to reap. */
#define SANDBOX_RELEASE_WAIT_MS 2000
void sandbox_release(sandbox *sb);

/* Brings a network interface up in the current network namespace
 * (SIOCSIFFLAGS).  Exposed for tests. */
int sandbox_link_up(const char *ifname, pv_err *err);

/* Truncates a pod name to a valid hostname (<= 63 chars, no trailing '-' or
 * '.'), writing into buf[64].  Pure. */
void sandbox_hostname_from(const char *name, char buf[64]);

#endif
