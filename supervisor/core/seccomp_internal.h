/*
 * seccomp_internal.h - the profile model that seccomp.c compiles, filled
 * by seccomp_default.c (the built-in RuntimeDefault table) and
 * seccomp_oci.c (a JSON file).  Not part of the public API.
 */
#ifndef PODVISOR_CORE_SECCOMP_INTERNAL_H
#define PODVISOR_CORE_SECCOMP_INTERNAL_H

#include <seccomp.h>

#include "supervisor/core/seccomp.h"

#define SECCOMP_MAX_ARGS 6
#define SECCOMP_MAX_ARCHES 16

/* One rule: the same action for every name, when the argument conditions
 * hold.  Conditions on distinct arguments are ANDed in one libseccomp rule;
 * several on the same argument (which libseccomp cannot AND) become one
 * rule each, ORed, as runc and crun do. */
typedef struct seccomp_rule {
  const char *const *names;
  size_t n_names;
  uint32_t action;    /* SCMP_ACT_* */
  uint64_t caps_all;  /* only when the container holds every one of these */
  uint64_t caps_none; /* only when it holds none of these */
  bool skip;          /* left out on this machine (includes/excludes arches) */
  unsigned n_args;
  struct scmp_arg_cmp args[SECCOMP_MAX_ARGS];
} seccomp_rule;

typedef struct seccomp_profile {
  const char *name; /* for messages: "RuntimeDefault" or the file */
  uint32_t default_action;
  uint32_t arches[SECCOMP_MAX_ARCHES]; /* SCMP_ARCH_*, besides the native one */
  size_t n_arches;
  const seccomp_rule *rules;
  size_t n_rules;
  /* A name libseccomp does not know: skipped (the built-in table may name
   * system calls newer than the library) or an error (a file's typo). */
  bool skip_unknown;
} seccomp_profile;

/* The built-in RuntimeDefault (seccomp_default.c). */
const seccomp_profile *seccomp_default_profile(void);

/* Compiles p for a container holding caps into out (seccomp.c). */
int seccomp_compile(const seccomp_profile *p, uint64_t caps, seccomp_prog *out, pv_err *err);

/* The same through the on-disk cache in cache_dir (NULL: none), see
 * seccomp_cache.c. */
int seccomp_compile_cached(const seccomp_profile *p, uint64_t caps, const char *cache_dir, seccomp_prog *out,
                           pv_err *err);

#endif
