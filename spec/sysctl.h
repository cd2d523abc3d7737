/*
 * sysctl.h - pod sysctls (spec.securityContext.sysctls): which names a pod
 * may set, and where they live in /proc/sys.
 *
 * Kubernetes' rules, as the kubelet applies them:
 *  - a name is dot-separated ("net.ipv4.tcp_syncookies") or slash-separated
 *    ("net/ipv4/conf/eth0.100/forwarding", for components holding dots); the
 *    first separator decides, and the other character is then part of a
 *    component (spec_sysctl_canonical());
 *  - only namespaced sysctls can be set per pod: kernel.shm*, kernel.msg*,
 *    kernel.sem and fs.mqueue.* live in the pod's IPC namespace, net.* in its
 *    network namespace.  Everything else (vm.*, kernel.panic, fs.file-max...)
 *    would change the whole host and is refused, as the kubelet refuses
 *    unsafe sysctls;
 *  - the kubelet's "safe" set (spec_sysctl_is_safe()) is allowed on every
 *    kubelet; the other namespaced ones need --allowed-unsafe-sysctls there.
 *    podvisor allows the whole namespaced set (one host, one operator);
 *  - net.* is refused with hostNetwork: true and the IPC ones with
 *    hostIPC: true: they would change the host's namespace.
 *
 * Pure functions, no allocation.
 */
#ifndef PODVISOR_SPEC_SYSCTL_H
#define PODVISOR_SPEC_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum spec_sysctl_ns {
  SPEC_SYSCTL_NOT_NAMESPACED = 0, /* refused */
  SPEC_SYSCTL_IPC,                /* the pod's IPC namespace */
  SPEC_SYSCTL_NET,                /* the pod's network namespace */
} spec_sysctl_ns;

#define SPEC_SYSCTL_NAME_MAX 253  /* Kubernetes' limit */
#define SPEC_SYSCTL_VALUE_MAX 4096 /* a page: what /proc/sys takes in one write */

/* True when name has Kubernetes' sysctl name format: components of
 * [a-z0-9] with inner [-_a-z0-9], separated by '.' or '/' (the other may
 * appear inside components after the first separator), at most
 * SPEC_SYSCTL_NAME_MAX characters. */
bool spec_sysctl_name_valid(const char *name);

/* The dot-separated form of name (the kubelet's conversion: with '/' as the
 * first separator, '/' and '.' swap) into buf; false when it does not fit. */
bool spec_sysctl_canonical(const char *name, char *buf, size_t len);

/* The namespace of a (valid) name. */
spec_sysctl_ns spec_sysctl_namespace(const char *name);

/* True for the kubelet's safe set (kernel.shm_rmid_forced,
 * net.ipv4.ip_local_port_range, ...). */
bool spec_sysctl_is_safe(const char *name);

/* "/proc/sys/net/ipv4/tcp_syncookies" for a valid name into buf; false when
 * it does not fit. */
bool spec_sysctl_path(const char *name, char *buf, size_t len);

/* True when value is acceptable: not empty, at most SPEC_SYSCTL_VALUE_MAX
 * bytes, printable characters, spaces and tabs only (no newline: one value
 * per sysctl). */
bool spec_sysctl_value_valid(const char *value);

#endif
