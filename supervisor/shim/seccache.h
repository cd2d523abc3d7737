/*
 * seccache.h - the shim's compiled seccomp filters: one BPF program per
 * (profile, capability set), compiled on first use and kept for the life
 * of the shim, so that a container start (and every restart) installs a
 * ready program instead of compiling one (several milliseconds with
 * libseccomp; installing is one system call).
 *
 * A profile is RuntimeDefault (path NULL) or a JSON file (a Localhost
 * profile).  A file is recognised by its path and its identity on disk
 * (device, inode, size, modification time): an edited file is compiled
 * again for the containers created after the edit, as the kubelet reads a
 * Localhost profile when it creates a container.
 *
 * Ownership: the cache owns every program; the pointer seccache_get()
 * gives stays valid until seccache_free(), which the caller calls only
 * after every container using one is gone (container.h borrows it).
 * Entries are never evicted: there are as many as distinct (profile,
 * capability set, file version) pairs the pod's containers used.
 */
#ifndef PODVISOR_SHIM_SECCACHE_H
#define PODVISOR_SHIM_SECCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/core/error.h"
#include "supervisor/core/seccomp.h"

typedef struct seccache_entry seccache_entry;

/* Zero-initialised = empty, without a disk cache. */
typedef struct seccache {
  seccache_entry *head;
  size_t n;          /* entries */
  unsigned compiles; /* programs made so far (misses: compiled, or read from the disk cache) */
  /* The directory of compiled programs shared by every podvisor process
   * (seccomp.h, <root>/cache/seccomp), "" = none: a miss here is then a
   * file read, not a compile, unless no process compiled it before. */
  char disk_dir[4096];
} seccache;

/* An empty cache over the disk cache disk_dir (NULL = none). */
void seccache_init(seccache *sc, const char *disk_dir);

/* The program of path (NULL = RuntimeDefault) for a container holding caps
 * (1ULL << CAP_X bits).  0 and *out set, or -1 with a message naming the
 * profile (nothing is cached then: the next call tries again). */
int seccache_get(seccache *sc, const char *path, uint64_t caps, const struct sock_fprog **out, pv_err *err);

void seccache_free(seccache *sc);

#endif
