/*
 * caps.c - container capabilities: planned in the parent, applied in the child.
 */
#include "supervisor/core/caps.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define BIT(c) (1ULL << (c))

uint64_t caps_default_set(void) {
  return BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FSETID) | BIT(CAP_FOWNER) | BIT(CAP_MKNOD) |
         BIT(CAP_NET_RAW) | BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETFCAP) | BIT(CAP_SETPCAP) |
         BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_CHROOT) | BIT(CAP_KILL) | BIT(CAP_AUDIT_WRITE);
}

/* Number of capabilities the running kernel knows (cap_last_cap + 1). */
static int cap_count(void) {
  int n = (int)cap_max_bits();
  return n > 64 ? 64 : n;
}

int caps_parse(const char *name, uint64_t *mask, pv_err *err) {
  char buf[64];
  size_t len = strlen(name);
  if (len == 0 || len + 5 > sizeof buf)
    return pv_err_set(err, EINVAL, "unknown capability '%s'", name);
  if (strcasecmp(name, "all") == 0) {
    int n = cap_count();
    *mask = n >= 64 ? ~0ULL : BIT(n) - 1;
    return 0;
  }
  /* libcap knows lower-case "cap_net_admin". */
  size_t off = strncasecmp(name, "cap_", 4) == 0 ? 0 : 4;
  memcpy(buf, "cap_", 4);
  for (size_t i = 0; i <= len; i++)
    buf[off + i] = (char)tolower((unsigned char)name[i]);
  cap_value_t v;
  if (cap_from_name(buf, &v) < 0 || v < 0 || v >= 64)
    return pv_err_set(err, EINVAL, "unknown capability '%s'", name);
  *mask = BIT(v);
  return 0;
}

/* The capabilities this process could hand on: its permitted set intersected
 * with its bounding set. */
static int own_caps(uint64_t *out, uint64_t *bound, pv_err *err) {
  cap_t self = cap_get_proc();
  if (self == NULL)
    return pv_err_sys(err, "capabilities: cap_get_proc");
  *out = 0;
  *bound = 0;
  int n = cap_count();
  for (int c = 0; c < n; c++) {
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_bound(c) == 1)
      *bound |= BIT(c);
    if (cap_get_flag(self, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET && (*bound & BIT(c)))
      *out |= BIT(c);
  }
  cap_free(self);
  return 0;
}

int caps_plan_init(caps_plan *p, uint64_t add, uint64_t drop, bool privileged, const caps_ids *ids,
                   bool no_new_privs, pv_err *err) {
  memset(p, 0, sizeof *p);
  p->uid = ids->uid;
  p->gid = ids->gid;
  p->set_ids = ids->uid != 0 || ids->gid != 0 || ids->n_groups > 0;
  if (ids->n_groups > 0) {
    p->groups = malloc(ids->n_groups * sizeof *p->groups);
    if (p->groups == NULL)
      return pv_err_sys(err, "capabilities: copy %zu groups", ids->n_groups);
    memcpy(p->groups, ids->groups, ids->n_groups * sizeof *p->groups);
    p->n_groups = ids->n_groups;
  }
  p->privileged = privileged;
  p->no_new_privs = no_new_privs;
  uint64_t have = 0, bound = 0;
  if (own_caps(&have, &bound, err) < 0) {
    caps_plan_free(p);
    return -1;
  }
  p->keep = privileged ? have : ((caps_default_set() | add) & ~drop & have);
  if (privileged)
    return 0;
  for (int c = 0; c < cap_count(); c++)
    if ((bound & BIT(c)) && !(p->keep & BIT(c)))
      p->drop[p->n_drop++] = c;
  p->state = cap_init();
  if (p->state == NULL) {
    pv_err_sys(err, "capabilities: cap_init");
    caps_plan_free(p);
    return -1;
  }
  cap_value_t list[64];
  int n = 0;
  for (int c = 0; c < 64; c++)
    if (p->keep & BIT(c))
      list[n++] = c;
  static const cap_flag_t sets[] = {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE};
  for (size_t i = 0; n > 0 && i < sizeof sets / sizeof sets[0]; i++) {
    if (cap_set_flag(p->state, sets[i], n, list, CAP_SET) < 0) {
      pv_err_sys(err, "capabilities: cap_set_flag");
      caps_plan_free(p);
      return -1;
    }
  }
  return 0;
}

void caps_plan_free(caps_plan *p) {
  if (p == NULL)
    return;
  if (p->state != NULL)
    cap_free(p->state);
  p->state = NULL;
  free(p->groups);
  p->groups = NULL;
  p->n_groups = 0;
}

static int fail(int *step, int s) {
  *step = s;
  return -1;
}

int caps_apply(const caps_plan *p, int *step) {
  /* The bounding set first: dropping needs CAP_SETPCAP, which the final set
   * may lack.  Dropping does not touch the current effective set. */
  for (int i = 0; !p->privileged && i < p->n_drop; i++)
    if (cap_drop_bound(p->drop[i]) < 0)
      return fail(step, CAPS_STEP_BOUNDING);
  if (p->set_ids) {
    /* Keep the permitted set across setuid so cap_set_proc() below can
     * still install the planned sets (the kernel clears them otherwise). */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
      return fail(step, CAPS_STEP_KEEPCAPS);
    if (setgroups(p->n_groups, p->groups) < 0)
      return fail(step, CAPS_STEP_SETGROUPS);
    if (setresgid(p->gid, p->gid, p->gid) < 0)
      return fail(step, CAPS_STEP_SETGID);
    if (setresuid(p->uid, p->uid, p->uid) < 0)
      return fail(step, CAPS_STEP_SETUID);
  }
  if (!p->privileged) {
    if (cap_set_proc(p->state) < 0)
      return fail(step, CAPS_STEP_SET_PROC);
    /* EINVAL: a kernel without ambient capabilities has nothing to clear. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
      return fail(step, CAPS_STEP_AMBIENT);
  }
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail(step, CAPS_STEP_NO_NEW_PRIVS);
  return 0;
}

const char *caps_step_name(int step) {
  switch (step) {
  case CAPS_STEP_BOUNDING: return "drop capabilities from the bounding set";
  case CAPS_STEP_KEEPCAPS: return "prctl PR_SET_KEEPCAPS";
  case CAPS_STEP_SETGROUPS: return "setgroups";
  case CAPS_STEP_SETGID: return "setgid";
  case CAPS_STEP_SETUID: return "setuid";
  case CAPS_STEP_SET_PROC: return "set capabilities (cap_set_proc)";
  case CAPS_STEP_AMBIENT: return "clear the ambient capabilities";
  case CAPS_STEP_NO_NEW_PRIVS: return "prctl PR_SET_NO_NEW_PRIVS";
  default: return NULL;
  }
}
