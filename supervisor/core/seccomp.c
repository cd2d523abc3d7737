/*
 * seccomp.c - compiles a profile (seccomp_internal.h) into a BPF program
 * with libseccomp, and installs one in a container child.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/seccomp_internal.h"

/* The cleanup of a filter context. */
static void ctx_release(scmp_filter_ctx *ctx) {
  if (*ctx != NULL)
    seccomp_release(*ctx);
}

static bool applies(const seccomp_rule *r, uint64_t caps) {
  return !r->skip && (caps & r->caps_all) == r->caps_all && (caps & r->caps_none) == 0;
}

/* True when no two conditions of r test the same argument. */
static bool distinct_args(const seccomp_rule *r) {
  for (unsigned i = 0; i < r->n_args; i++)
    for (unsigned k = i + 1; k < r->n_args; k++)
      if (r->args[i].arg == r->args[k].arg)
        return false;
  return true;
}

/* Adds rule r for system call nr; libseccomp returns -errno. */
static int add_rule(scmp_filter_ctx ctx, const seccomp_rule *r, int nr) {
  if (r->n_args == 0 || distinct_args(r))
    return seccomp_rule_add_array(ctx, r->action, nr, r->n_args, r->args);
  for (unsigned i = 0; i < r->n_args; i++) {
    int rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &r->args[i]);
    if (rc < 0)
      return rc;
  }
  return 0;
}

static int add_rules(scmp_filter_ctx ctx, const seccomp_profile *p, uint64_t caps, pv_err *err) {
  for (size_t i = 0; i < p->n_rules; i++) {
    const seccomp_rule *r = &p->rules[i];
    /* libseccomp refuses a rule whose action is the default one (EACCES):
     * it would change nothing. */
    if (!applies(r, caps) || r->action == p->default_action)
      continue;
    for (size_t k = 0; k < r->n_names; k++) {
      int nr = seccomp_syscall_resolve_name(r->names[k]);
      if (nr == __NR_SCMP_ERROR) {
        if (p->skip_unknown)
          continue;
        return pv_err_set(err, EINVAL, "%s: syscalls[%zu]: unknown system call '%s'", p->name, i,
                          r->names[k]);
      }
      int rc = add_rule(ctx, r, nr);
      if (rc < 0) {
        errno = -rc;
        return pv_err_sys(err, "%s: syscalls[%zu]: system call '%s'", p->name, i, r->names[k]);
      }
    }
  }
  return 0;
}

/* libseccomp 2.5 exports only to a file descriptor: a memfd, read back. */
static int export_prog(scmp_filter_ctx ctx, seccomp_prog *out, const char *name, pv_err *err) {
  int fd = memfd_create("podvisor-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return pv_err_sys(err, "%s: memfd_create", name);
  int rc = seccomp_export_bpf(ctx, fd);
  struct stat st;
  if (rc < 0) {
    errno = -rc;
    pv_err_sys(err, "%s: export the BPF program", name);
  } else if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0) {
    rc = -1;
    pv_err_set(err, EIO, "%s: the exported BPF program has a bad size", name);
  } else if ((out->fprog.filter = malloc((size_t)st.st_size)) == NULL) {
    rc = -1;
    pv_err_sys(err, "%s: BPF program", name);
  } else if (pread(fd, out->fprog.filter, (size_t)st.st_size, 0) != st.st_size) {
    rc = -1;
    pv_err_set(err, EIO, "%s: read the exported BPF program back", name);
    seccomp_prog_free(out);
  } else {
    out->fprog.len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
    rc = 0;
  }
  close(fd);
  return rc < 0 ? -1 : 0;
}

int seccomp_compile(const seccomp_profile *p, uint64_t caps, seccomp_prog *out, pv_err *err) {
  memset(out, 0, sizeof *out);
  __attribute__((cleanup(ctx_release))) scmp_filter_ctx ctx = seccomp_init(p->default_action);
  if (ctx == NULL)
    return pv_err_set(err, EINVAL, "%s: libseccomp cannot make a filter with this default action", p->name);
  /* The filter is only exported: the caller's no_new_privs is not libseccomp's business. */
  if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
      /* A binary tree of system call numbers instead of a linear list:
       * ~10 comparisons per call instead of up to ~400. */
      seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
    return pv_err_set(err, EINVAL, "%s: libseccomp refused a filter attribute", p->name);
  for (size_t i = 0; i < p->n_arches; i++) {
    int rc = seccomp_arch_add(ctx, p->arches[i]);
    if (rc < 0 && rc != -EEXIST) {
      errno = -rc;
      return pv_err_sys(err, "%s: architectures[%zu]", p->name, i);
    }
  }
  if (add_rules(ctx, p, caps, err) < 0)
    return -1;
  return export_prog(ctx, out, p->name, err);
}

void seccomp_prog_free(seccomp_prog *p) {
  if (p == NULL)
    return;
  free(p->fprog.filter);
  p->fprog.filter = NULL;
  p->fprog.len = 0;
}

int seccomp_install(const struct sock_fprog *p) {
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, p, 0, 0);
}
