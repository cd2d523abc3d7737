/*
 * cgroup_devices.c - the device allow-list and its v1 and v2 forms (see
 * cgroup_devices.h).
 *
 * The v2 program.  Its context is struct bpf_cgroup_dev_ctx: access_type
 * (the access bits in the upper 16 bits, the device type in the lower),
 * major and minor, three 32-bit words that r1 points to.  The prologue
 * loads them once into registers the blocks only read:
 *   r2 = type, r3 = access, r4 = major, r5 = minor;
 * a block compares what its rule constrains and jumps over the rest of
 * itself to the next block on the first mismatch:
 *   type:   r2 != TYPE                      -> next
 *   access: w1 = w3; w1 &= ACCESS; r1 != r3 -> next   (asked ⊄ allowed)
 *   major:  r4 != MAJOR                     -> next
 *   minor:  r5 != MINOR                     -> next
 *   r0 = 1; exit
 * and the program ends with r0 = 0; exit.  A jump's offset counts the
 * instructions after it, so each one is "what is left of the block".
 * The type and access compares are left out when the rule allows every
 * type or all of rwm, and a number compare when the rule says '*'.
 */
#include "supervisor/core/cgroup_devices.h"

#include <errno.h>
#include <stdio.h>

static const cgroup_device_rule default_rules[] = {
    {'c', 1, 3, CGROUP_DEV_RWM},                             /* /dev/null */
    {'c', 1, 5, CGROUP_DEV_RWM},                             /* /dev/zero */
    {'c', 1, 7, CGROUP_DEV_RWM},                             /* /dev/full */
    {'c', 1, 8, CGROUP_DEV_RWM},                             /* /dev/random */
    {'c', 1, 9, CGROUP_DEV_RWM},                             /* /dev/urandom */
    {'c', 5, 0, CGROUP_DEV_RWM},                             /* /dev/tty */
    {'c', 5, 1, CGROUP_DEV_RWM},                             /* /dev/console */
    {'c', 5, 2, CGROUP_DEV_RWM},                             /* /dev/ptmx */
    {'c', 136, CGROUP_DEV_ANY, CGROUP_DEV_RWM},              /* /dev/pts/N */
    {'c', 10, 200, CGROUP_DEV_RWM},                          /* /dev/net/tun */
    {'c', CGROUP_DEV_ANY, CGROUP_DEV_ANY, CGROUP_DEV_MKNOD}, /* mknod only */
    {'b', CGROUP_DEV_ANY, CGROUP_DEV_ANY, CGROUP_DEV_MKNOD},
};

const cgroup_device_rule *cgroup_devices_default(size_t *n) {
  *n = sizeof default_rules / sizeof default_rules[0];
  return default_rules;
}

static bool rule_ok(const cgroup_device_rule *r) {
  return (r->type == 'a' || r->type == 'b' || r->type == 'c') && r->access != 0 &&
         (r->access & ~(unsigned)CGROUP_DEV_RWM) == 0 && r->major >= CGROUP_DEV_ANY &&
         r->minor >= CGROUP_DEV_ANY;
}

static void fmt_number(char *buf, size_t size, int32_t v) {
  if (v == CGROUP_DEV_ANY)
    snprintf(buf, size, "*");
  else
    snprintf(buf, size, "%d", (int)v);
}

int cgroup_devices_v1_writes(const cgroup_device_rule *rules, size_t n, bool allow_all,
                             cgroup_dev_write *out) {
  if (allow_all) {
    out[0] = (cgroup_dev_write){.file = "devices.allow", .line = "a"};
    return 1;
  }
  out[0] = (cgroup_dev_write){.file = "devices.deny", .line = "a"};
  for (size_t i = 0; i < n; i++) {
    const cgroup_device_rule *r = &rules[i];
    if (!rule_ok(r)) {
      errno = EINVAL;
      return -1;
    }
    char major[16], minor[16], access[4];
    size_t k = 0;
    fmt_number(major, sizeof major, r->major);
    fmt_number(minor, sizeof minor, r->minor);
    if (r->access & CGROUP_DEV_READ)
      access[k++] = 'r';
    if (r->access & CGROUP_DEV_WRITE)
      access[k++] = 'w';
    if (r->access & CGROUP_DEV_MKNOD)
      access[k++] = 'm';
    access[k] = '\0';
    out[i + 1].file = "devices.allow";
    snprintf(out[i + 1].line, sizeof out[i + 1].line, "%c %s:%s %s", r->type, major, minor, access);
  }
  return (int)n + 1;
}

/* ---- the v2 program ---- */

typedef struct emitter {
  struct bpf_insn *out;
  size_t n, cap;
} emitter;

static void emit(emitter *e, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  if (e->n < e->cap)
    e->out[e->n] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  e->n++;
}

/* dst = *(u32 *)(r1 + off) */
static void load_ctx_word(emitter *e, uint8_t dst, int16_t off) {
  emit(e, BPF_LDX | BPF_W | BPF_MEM, dst, BPF_REG_1, off, 0);
}

static void prologue(emitter *e) {
  load_ctx_word(e, BPF_REG_2, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, access_type));
  emit(e, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  load_ctx_word(e, BPF_REG_3, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, access_type));
  emit(e, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  load_ctx_word(e, BPF_REG_4, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, major));
  load_ctx_word(e, BPF_REG_5, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, minor));
}

static void ret(emitter *e, int32_t verdict) {
  emit(e, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict);
  emit(e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* One rule's block; returns false when the rule matches everything (the
 * block is then a bare "allow", and the program ends with it). */
static bool block(emitter *e, const cgroup_device_rule *r) {
  bool has_type = r->type != 'a';
  bool has_access = r->access != CGROUP_DEV_RWM;
  bool has_major = r->major != CGROUP_DEV_ANY;
  bool has_minor = r->minor != CGROUP_DEV_ANY;
  /* Instructions of the block after the compares: the allow. */
  int16_t left = (int16_t)(has_type + 3 * has_access + has_major + has_minor + 2);
  if (has_type) {
    left -= 1;
    emit(e, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, left,
         r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  }
  if (has_access) {
    left -= 3;
    emit(e, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
    emit(e, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)r->access);
    emit(e, BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, left, 0);
  }
  if (has_major) {
    left -= 1;
    emit(e, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, left, r->major);
  }
  if (has_minor) {
    left -= 1;
    emit(e, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, left, r->minor);
  }
  ret(e, 1);
  return has_type || has_access || has_major || has_minor;
}

int cgroup_devices_bpf(const cgroup_device_rule *rules, size_t n, struct bpf_insn *out, size_t cap) {
  emitter e = {out, 0, cap};
  prologue(&e);
  bool open_end = true;
  for (size_t i = 0; i < n && open_end; i++) {
    if (!rule_ok(&rules[i])) {
      errno = EINVAL;
      return -1;
    }
    open_end = block(&e, &rules[i]);
  }
  if (open_end)
    ret(&e, 0);
  if (e.n > cap) {
    errno = ENOSPC;
    return -1;
  }
  return (int)e.n;
}
