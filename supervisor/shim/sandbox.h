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
 *   shareProcessNamespace: true → the shim also unshares CLONE_NEWPID and
 *                        forks a tiny pause process, pid 1 of the pod, which
 *                        only reaps orphans.  Every later child of the shim
 *                        (each container) is born in that pid namespace, so
 *                        containers are created without CLONE_NEWPID
 *                        (sandbox_container_namespaces()).  The pause process
 *                        dies with the shim (PR_SET_PDEATHSIG SIGKILL), and
 *                        with it every process of the pod.
 *
 * sandbox_enter() blocks briefly (a few syscalls and a fork); call it once,
 * single threaded, before uv_loop_init().  Errors name the step.
 */
#ifndef PODVISOR_SHIM_SANDBOX_H
#define PODVISOR_SHIM_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "supervisor/core/error.h"

typedef struct sandbox_config {
  const char *hostname; /* pod hostname (<= 63 chars); ignored with host_network */
  bool host_network;
  bool share_pid; /* shareProcessNamespace */
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
  pid_t pause_pid; /* 0 when there is no pause process */
  int pause_pidfd; /* -1 when there is no pause process */
} sandbox;

/* Unshares the pod namespaces for the calling process, sets the hostname,
 * brings "lo" up and, with share_pid, forks the pause process. */
int sandbox_enter(sandbox *sb, const sandbox_config *cfg, pv_err *err);

/* The CLONE_NEW* flags a container of this pod must create itself. */
int sandbox_container_namespaces(const sandbox *sb);

/* Kills and reaps the pause process (if any).  Call after every container
 * is down.  Safe to call twice.  Waits at most SANDBOX_RELEASE_WAIT_MS: the
 * pause process, init of the pod's pid namespace, ends only after every
 * process of the namespace, and one that cannot die (frozen, stuck in
 * uninterruptible sleep) would keep it; it is then left to the host's init
 * to reap. */
#define SANDBOX_RELEASE_WAIT_MS 2000
void sandbox_release(sandbox *sb);

/* Brings a network interface up in the current network namespace
 * (SIOCSIFFLAGS).  Exposed for tests. */
int sandbox_link_up(const char *ifname, pv_err *err);

/* Truncates a pod name to a valid hostname (<= 63 chars, no trailing '-' or
 * '.'), writing into buf[64].  Pure. */
void sandbox_hostname_from(const char *name, char buf[64]);

#endif
