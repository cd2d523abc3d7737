/*
 * seccomp.h - system call filters for containers (libseccomp).
 *
 * A profile is a list of rules (system call names, an action, optional
 * argument conditions) over a default action, as in the OCI runtime spec
 * and Docker's profile files.  Two kinds exist:
 *   - RuntimeDefault, podvisor's own allow-list (seccomp_default.c): every
 *     system call a program normally needs is allowed, the rest fails with
 *     EPERM (kexec, modules, keyrings, bpf, perf, new namespaces, mounts,
 *     swap, reboot, ...), as with Docker's and containerd's defaults;
 *   - an OCI/Docker JSON file (seccomp_profile_load_oci()), for Kubernetes'
 *     "Localhost" profiles and `podvisor run --security-opt seccomp=FILE`.
 *
 * Some rules depend on the container's capabilities (as Docker's do):
 * mount, setns and unshare are allowed when the container holds
 * CAP_SYS_ADMIN, ptrace with CAP_SYS_PTRACE, and so on.  A profile is
 * therefore compiled for one capability set (a bit mask of 1ULL << CAP_X,
 * the container's bounding set: caps_default_set() + add - drop) into a
 * classic BPF program.  Compiling takes milliseconds (5 to 15 for
 * RuntimeDefault: libseccomp builds and optimises a decision tree for
 * three ABIs on x86_64); installing the result is one system call.  So a
 * caller that starts many containers compiles each (profile, caps) pair
 * once and keeps the program (the shim's seccache.h), and compiled
 * programs can be kept on disk for the next process (cache_dir below:
 * podvisor uses <root>/cache/seccomp, SECCOMP_CACHE_DIR), where the next
 * `podvisor run` or shim reads one in microseconds.  A cache entry is
 * keyed by the SHA-256 of the parsed profile, the capabilities, the
 * architecture and the libseccomp version, so it is never stale.
 *
 * Errors: 0 or -1 with errno set and a message in *err naming the file and
 * the entry ("p.json: syscalls[3]: unknown system call 'mkdri'").
 *
 * Ownership: a seccomp_prog owns its filter array; seccomp_prog_free()
 * releases it (NULL and an empty prog are fine).  container_config.seccomp
 * borrows one (container.h).
 *
 * seccomp_install() is the only function meant for a container child
 * between clone and exec: it makes one system call and allocates nothing.
 */
#ifndef PODVISOR_CORE_SECCOMP_H
#define PODVISOR_CORE_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* A compiled filter: fprog.filter is malloc'd, fprog.len instructions. */
typedef struct seccomp_prog {
  struct sock_fprog fprog;
} seccomp_prog;

/* The cache directory below podvisor's --root. */
#define SECCOMP_CACHE_DIR "cache/seccomp"

/* Compiles RuntimeDefault for a container holding caps.  cache_dir: the
 * directory of compiled programs (created 0700 when missing; a cache that
 * cannot be read or written only costs a compile), NULL for none. */
int seccomp_profile_default(uint64_t caps, const char *cache_dir, seccomp_prog *out, pv_err *err);

/* Reads an OCI/Docker profile from path and compiles it for caps.
 * Understood: defaultAction, defaultErrnoRet, architectures, archMap (its
 * sub-architectures of the native one), syscalls[] with names (or the old
 * name), action, errnoRet, args[{index, value, valueTwo, op}] and
 * includes/excludes {caps, arches}.  Actions: SCMP_ACT_ALLOW, _ERRNO,
 * _KILL, _KILL_PROCESS, _KILL_THREAD, _TRAP, _TRACE, _LOG (SCMP_ACT_NOTIFY
 * needs a listener and is refused).  A system call name that libseccomp
 * does not know is an error: a typo would silently change the profile. */
int seccomp_profile_load_oci(const char *path, uint64_t caps, const char *cache_dir, seccomp_prog *out,
                             pv_err *err);

/* The same from a JSON text in memory, without a cache; name is used in
 * messages. */
int seccomp_profile_parse_oci(const char *json, const char *name, uint64_t caps, seccomp_prog *out,
                              pv_err *err);

void seccomp_prog_free(seccomp_prog *p);

/* Child side: installs the filter on the calling thread
 * (SECCOMP_SET_MODE_FILTER).  The kernel accepts it when no_new_privs is
 * set or the caller holds CAP_SYS_ADMIN (in its user namespace).  Returns
 * 0 or -1 with errno. */
int seccomp_install(const struct sock_fprog *p);

#endif
