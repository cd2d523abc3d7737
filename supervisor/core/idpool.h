/*
 * idpool.h - host id ranges for pod user namespaces (hostUsers: false).
 *
 * Every pod with a user namespace owns IDPOOL_RANGE (65536) consecutive host
 * uids and gids, the same numbers for both: its uid_map and gid_map are
 * "0 <base> 65536", so root in the pod is <base> on the host and no two
 * pods share an id.  The ranges come from a pool of `count` slots starting
 * at host id `first` (IDPOOL_DEFAULT_FIRST, a multiple of 65536, so that
 * ids below 65536, the host's own users, are never handed out), as the
 * kubelet does.  Another pool ("FIRST:COUNT", for a host whose /etc/subuid
 * already uses that part of the id space, and for tests) is an option of
 * the launchers: `podvisor daemon --userns-pool` (key userns-pool of its
 * config file) and `podvisor up --userns-pool`.  A launcher checks it at
 * start (idpool_config_setup(): a bad value is an error naming the option
 * before any pod runs) and puts it in its environment as
 * PODVISOR_USERNS_POOL, which the shims it forks inherit and read
 * (idpool_config_from_env()).  Without the option the launcher's own
 * PODVISOR_USERNS_POOL, when set, is the pool (checked at start too).  A
 * shim adopted by a new daemon keeps the pool it was started with.
 *
 * State: <root>/userns/ranges, one line per allocation, "<base> <owner>\n"
 * (owner: the pod's uid), written atomically (temp file, fsync, rename,
 * fsync of the directory), and changed only under an exclusive flock of
 * <root>/userns/lock, so two shims starting at once never pick the same
 * range.  An owner that already has a range gets the same one back: a pod
 * whose shim restarts (or is adopted again) keeps its ids, and the files it
 * wrote keep meaning the same owners.  idpool_release() frees the range when
 * the pod's data goes (the shim's teardown, the daemon's removal of a dead
 * pod's leftovers).
 *
 * A corrupt table (a line that does not parse, a base below IDPOOL_RANGE or
 * not on a range boundary, an owner twice, two owners of one range) is an
 * error naming the file and the line, never silently repaired: guessing
 * could hand a running pod's ids to another pod.  A base outside the
 * configured pool is kept (the pool was changed while the pod ran): it
 * blocks nothing and is released as usual.
 *
 * The parse/first-fit/format functions are pure (the unit tests drive
 * them); idpool_acquire/release do the locking and the file work and block
 * briefly on the file system.  Errors: -1, errno, and a message naming the
 * file.
 */
#ifndef PODVISOR_CORE_IDPOOL_H
#define PODVISOR_CORE_IDPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/core/error.h"

#define IDPOOL_RANGE 65536u
#define IDPOOL_DEFAULT_FIRST 65536u
#define IDPOOL_DEFAULT_COUNT 1024u
#define IDPOOL_OWNER_MAX 64 /* bytes of an owner, without the NUL */
#define IDPOOL_ENV "PODVISOR_USERNS_POOL"

typedef struct idpool_config {
  uint32_t first; /* first host id of the pool, a multiple of IDPOOL_RANGE */
  uint32_t count; /* how many ranges of IDPOOL_RANGE ids it holds */
} idpool_config;

typedef struct idpool_entry {
  uint32_t base;
  char owner[IDPOOL_OWNER_MAX + 1];
} idpool_entry;

/* The allocations, sorted by base. */
typedef struct idpool_table {
  idpool_entry *v;
  size_t n, cap;
} idpool_table;

/* Parses "FIRST:COUNT" (decimal, no sign or blanks) into *cfg and checks it
 * (idpool_config_check); `what` (the option or variable) starts the
 * message of an error, -1 EINVAL, *cfg untouched then.  The one parser of a
 * pool, for the options and the environment alike. */
int idpool_config_parse(const char *what, const char *s, idpool_config *cfg, pv_err *err);
/* The default pool, or PODVISOR_USERNS_POOL's when set; -1 (EINVAL) when
 * that value is malformed or leaves the 32-bit id space. */
int idpool_config_from_env(idpool_config *cfg, pv_err *err);
/* For a launcher, at start before any shim is forked (setenv: not
 * thread-safe): `given` (the value of option `what`; NULL when not given)
 * parsed and checked, then set as PODVISOR_USERNS_POOL in the environment
 * the shims inherit, overriding what was there; without it, the
 * environment's value (if any) is checked. */
int idpool_config_setup(const char *what, const char *given, pv_err *err);
/* Checks first (a multiple of IDPOOL_RANGE, >= IDPOOL_RANGE), count (>= 1)
 * and that the pool ends below 2^32 - 1 (the kernel's invalid id). */
int idpool_config_check(const idpool_config *cfg, pv_err *err);

void idpool_table_free(idpool_table *t);
/* Parses text[0..len) (NUL not needed) into an empty *t; `name` names the
 * file in errors.  On failure *t is emptied. */
int idpool_parse(const char *name, const char *text, size_t len, idpool_table *t,
                 pv_err *err);
/* The table as the file holds it (malloc'd, "" for none). */
char *idpool_format(const idpool_table *t);
/* The index of owner's entry, or -1. */
long idpool_find(const idpool_table *t, const char *owner);
/* The lowest free base of the pool, or -1 with ENOSPC. */
int idpool_first_fit(const idpool_config *cfg, const idpool_table *t, uint32_t *base, pv_err *err);
/* Inserts (owner, base), keeping the order; the caller checked both free. */
int idpool_add(idpool_table *t, const char *owner, uint32_t base);
/* Removes owner's entry; 1 when there was one, else 0. */
int idpool_remove(idpool_table *t, const char *owner);
/* An owner is 1..IDPOOL_OWNER_MAX of [A-Za-z0-9._-]. */
int idpool_owner_valid(const char *owner);

/* <state_dir> is <root>/userns.  Gives owner its range (the one it has
 * already, or the first free one) in *base. */
int idpool_acquire(const char *state_dir, const idpool_config *cfg, const char *owner, uint32_t *base,
                   pv_err *err);
/* Frees owner's range; an owner without one (or no table at all) is no
 * error. */
int idpool_release(const char *state_dir, const char *owner, pv_err *err);

#endif
