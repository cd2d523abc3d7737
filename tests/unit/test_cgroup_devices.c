/*
 * Unit tests for the device allow-list (cgroup_devices.c) and for how the
 * two cgroup backends put it in place, on fake trees.
 *
 * The rule list is tested once, through both of its forms:
 *   - the v1 writes, line by line;
 *   - the v2 program, run by the small interpreter below (the instructions
 *     cgroup_devices.c emits, nothing more) against a reference matcher
 *     that reads the rules directly, for every type, access and a range of
 *     numbers, plus the structure the kernel's verifier insists on (jumps
 *     forward and inside the program, every instruction reachable, an exit
 *     at the end of every path, r0 set before it).
 * The backends: a fake v1 tree whose devices.deny and devices.allow are
 * FIFOs (a plain file keeps only the last write), read back after create,
 * with inotify telling in which order the writes went to the two; a fake
 * v2 tree with a recorder in place of the bpf(2) attach (rm->set_devices),
 * the one step that has no file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/cgroup_devices.h"
#include "supervisor/core/cgroup_internal.h"
#include "supervisor/core/resource.h"
#include "tests/testutil.h"

/* ---- the rule list, v1 form ---- */

static const char *const default_v1[][2] = {
    {"devices.deny", "a"},
    {"devices.allow", "c 1:3 rwm"},
    {"devices.allow", "c 1:5 rwm"},
    {"devices.allow", "c 1:7 rwm"},
    {"devices.allow", "c 1:8 rwm"},
    {"devices.allow", "c 1:9 rwm"},
    {"devices.allow", "c 5:0 rwm"},
    {"devices.allow", "c 5:1 rwm"},
    {"devices.allow", "c 5:2 rwm"},
    {"devices.allow", "c 136:* rwm"},
    {"devices.allow", "c 10:200 rwm"},
    {"devices.allow", "c *:* m"},
    {"devices.allow", "b *:* m"},
};
#define N_DEFAULT_V1 (sizeof default_v1 / sizeof default_v1[0])

START_TEST(default_list_as_v1_writes) {
  size_t n;
  const cgroup_device_rule *rules = cgroup_devices_default(&n);
  ck_assert_uint_le(n, CGROUP_DEVICES_DEFAULT_MAX);
  cgroup_dev_write w[CGROUP_DEVICES_DEFAULT_MAX + 1];
  ck_assert_int_eq(cgroup_devices_v1_writes(rules, n, false, w), (int)N_DEFAULT_V1);
  for (size_t i = 0; i < N_DEFAULT_V1; i++) {
    ck_assert_str_eq(w[i].file, default_v1[i][0]);
    ck_assert_str_eq(w[i].line, default_v1[i][1]);
  }
  /* Privileged: every device, one write, no deny. */
  ck_assert_int_eq(cgroup_devices_v1_writes(rules, n, true, w), 1);
  ck_assert_str_eq(w[0].file, "devices.allow");
  ck_assert_str_eq(w[0].line, "a");
  /* Access letters in the kernel's order, 'a' for both types. */
  cgroup_device_rule r = {'a', 4, CGROUP_DEV_ANY, CGROUP_DEV_MKNOD | CGROUP_DEV_WRITE};
  ck_assert_int_eq(cgroup_devices_v1_writes(&r, 1, false, w), 2);
  ck_assert_str_eq(w[1].line, "a 4:* wm");
}
END_TEST

START_TEST(bad_rules_refused) {
  static const cgroup_device_rule bad[] = {
      {'x', 1, 3, CGROUP_DEV_RWM},   {'c', 1, 3, 0}, {'c', 1, 3, 8}, {'c', -2, 3, CGROUP_DEV_RWM},
      {'b', 1, -7, CGROUP_DEV_READ},
  };
  cgroup_dev_write w[2];
  struct bpf_insn p[CGROUP_DEVICES_BPF_MAX(1)];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    errno = 0;
    ck_assert_int_eq(cgroup_devices_v1_writes(&bad[i], 1, false, w), -1);
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert_int_eq(cgroup_devices_bpf(&bad[i], 1, p, sizeof p / sizeof p[0]), -1);
    ck_assert_int_eq(errno, EINVAL);
  }
}
END_TEST

/* ---- the rule list, v2 form ---- */

/* Runs prog on one request the way the kernel does; fails the test on an
 * instruction cgroup_devices.c has no business emitting. */
static int run(const struct bpf_insn *prog, int n, unsigned type, unsigned access, uint32_t major,
               uint32_t minor) {
  struct bpf_cgroup_dev_ctx ctx = {.access_type = (access << 16) | type, .major = major, .minor = minor};
  uint64_t r[11] = {0};
  r[1] = (uint64_t)(uintptr_t)&ctx;
  for (int pc = 0, steps = 0; steps < 4096; steps++) {
    ck_assert_msg(pc >= 0 && pc < n, "pc %d out of the program (%d)", pc, n);
    const struct bpf_insn *i = &prog[pc++];
    uint64_t src = BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
    switch (i->code) {
    case BPF_LDX | BPF_W | BPF_MEM:
      ck_assert_int_eq(i->src_reg, BPF_REG_1);
      ck_assert_msg(r[1] == (uint64_t)(uintptr_t)&ctx, "load at %d from r1 after r1 was overwritten", pc - 1);
      ck_assert(i->off >= 0 && (size_t)i->off + 4 <= sizeof ctx && i->off % 4 == 0);
      r[i->dst_reg] = ((const uint32_t *)(const void *)&ctx)[i->off / 4];
      break;
    case BPF_ALU | BPF_AND | BPF_K: r[i->dst_reg] = (uint32_t)(r[i->dst_reg] & (uint32_t)i->imm); break;
    case BPF_ALU | BPF_RSH | BPF_K: r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm; break;
    case BPF_ALU | BPF_MOV | BPF_X: r[i->dst_reg] = (uint32_t)src; break;
    case BPF_ALU64 | BPF_MOV | BPF_K: r[i->dst_reg] = src; break;
    case BPF_JMP | BPF_JNE | BPF_K:
    case BPF_JMP | BPF_JNE | BPF_X:
      if (r[i->dst_reg] != src)
        pc += i->off;
      break;
    case BPF_JMP | BPF_EXIT: return (int)r[0];
    default: ck_abort_msg("unexpected instruction 0x%02x at %d", i->code, pc - 1);
    }
  }
  ck_abort_msg("the program does not end");
  return -1;
}

/* What the rules say, read directly. */
static bool allowed(const cgroup_device_rule *rules, size_t n, char type, unsigned access, int major,
                    int minor) {
  for (size_t i = 0; i < n; i++) {
    const cgroup_device_rule *r = &rules[i];
    if ((r->type == 'a' || r->type == type) && (access & ~r->access) == 0 &&
        (r->major == CGROUP_DEV_ANY || r->major == major) &&
        (r->minor == CGROUP_DEV_ANY || r->minor == minor))
      return true;
  }
  return false;
}

/* The verifier's demands: jumps stay forward and inside, every instruction
 * is reached, the program cannot run off its end, and r0 is written on
 * every path before an exit (here: the exit follows a mov to r0). */
static void assert_verifiable(const struct bpf_insn *p, int n) {
  bool reached[512] = {false};
  ck_assert(n > 0 && n <= 512);
  reached[0] = true;
  for (int pc = 0; pc < n; pc++) {
    if (!reached[pc])
      ck_abort_msg("instruction %d cannot be reached", pc);
    uint8_t cls = BPF_CLASS(p[pc].code);
    if (p[pc].code == (BPF_JMP | BPF_EXIT)) {
      ck_assert_msg(pc > 0 && p[pc - 1].code == (BPF_ALU64 | BPF_MOV | BPF_K) &&
                        p[pc - 1].dst_reg == BPF_REG_0,
                    "exit at %d without a verdict in r0", pc);
      ck_assert(p[pc - 1].imm == 0 || p[pc - 1].imm == 1);
      continue;
    }
    ck_assert_msg(pc + 1 < n, "the program runs off its end at %d", pc);
    reached[pc + 1] = true;
    if (cls == BPF_JMP) {
      int to = pc + 1 + p[pc].off;
      ck_assert_msg(p[pc].off >= 0 && to < n, "jump at %d to %d", pc, to);
      reached[to] = true;
    }
  }
}

START_TEST(default_list_as_bpf_program) {
  size_t n;
  const cgroup_device_rule *rules = cgroup_devices_default(&n);
  struct bpf_insn p[CGROUP_DEVICES_BPF_MAX(CGROUP_DEVICES_DEFAULT_MAX)];
  int len = cgroup_devices_bpf(rules, n, p, sizeof p / sizeof p[0]);
  ck_assert_int_gt(len, 0);
  ck_assert_int_le(len, (int)CGROUP_DEVICES_BPF_MAX(n));
  assert_verifiable(p, len);
  /* Default deny: the last path returns 0. */
  ck_assert_int_eq(p[len - 2].imm, 0);
  /* The cases that matter, by name. */
  enum { B = BPF_DEVCG_DEV_BLOCK, C = BPF_DEVCG_DEV_CHAR };
  enum { R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD };
  static const struct {
    unsigned type, access, major, minor;
    int verdict;
  } cases[] = {
      {C, R | W, 1, 3, 1},    /* /dev/null */
      {C, R, 1, 9, 1},        /* /dev/urandom */
      {C, R | W, 5, 2, 1},    /* /dev/ptmx */
      {C, R | W, 136, 7, 1},  /* /dev/pts/7 */
      {C, R | W, 10, 200, 1}, /* /dev/net/tun */
      {B, M, 7, 0, 1},        /* mknod of a loop device */
      {B, R, 7, 0, 0},        /* ... but not reading it */
      {B, W, 8, 0, 0},        /* nor writing a disk */
      {B, R | M, 7, 0, 0},    /* mknod does not carry read with it */
      {C, R, 1, 1, 0},        /* /dev/mem */
      {C, R, 1, 4, 0},        /* /dev/port */
      {C, R | W, 10, 229, 0}, /* /dev/fuse */
      {C, M, 4, 0, 1},        /* mknod of anything */
      {B, R, 1, 3, 0},        /* the type counts: b 1:3 is not /dev/null */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ck_assert_msg(run(p, len, cases[i].type, cases[i].access, cases[i].major, cases[i].minor) ==
                      cases[i].verdict,
                  "case %zu: type %u access %u %u:%u", i, cases[i].type, cases[i].access, cases[i].major,
                  cases[i].minor);
  /* And the program says what the rules say, everywhere. */
  static const int numbers[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 136, 137, 200, 229, 65535};
  for (unsigned t = 0; t < 2; t++)
    for (unsigned acc = 1; acc <= 7; acc++)
      for (size_t a = 0; a < sizeof numbers / sizeof numbers[0]; a++)
        for (size_t b = 0; b < sizeof numbers / sizeof numbers[0]; b++) {
          int want = allowed(rules, n, t ? 'b' : 'c', acc, numbers[a], numbers[b]);
          int got = run(p, len, t ? B : C, acc, (uint32_t)numbers[a], (uint32_t)numbers[b]);
          ck_assert_msg(got == want, "%c %d:%d access %u: program %d, rules %d", t ? 'b' : 'c', numbers[a],
                        numbers[b], acc, got, want);
        }
}
END_TEST

/* A rule that matches everything ends the program: what follows it could
 * never run, and the verifier refuses unreachable code. */
START_TEST(catch_all_rule_ends_the_program) {
  static const cgroup_device_rule rules[] = {
      {'c', 1, 3, CGROUP_DEV_READ},
      {'a', CGROUP_DEV_ANY, CGROUP_DEV_ANY, CGROUP_DEV_RWM},
      {'b', 7, 0, CGROUP_DEV_RWM},
  };
  struct bpf_insn p[CGROUP_DEVICES_BPF_MAX(3)];
  int len = cgroup_devices_bpf(rules, 3, p, sizeof p / sizeof p[0]);
  /* prologue 6, the first block 1 + 3 + 1 + 1 + 2, the catch-all 2. */
  ck_assert_int_eq(len, 6 + 8 + 2);
  assert_verifiable(p, len);
  ck_assert_int_eq(run(p, len, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_ACC_READ, 8, 0), 1);
  /* No room: ENOSPC, never a write past cap. */
  struct bpf_insn small[10];
  memset(small, 0xab, sizeof small);
  errno = 0;
  ck_assert_int_eq(cgroup_devices_bpf(rules, 3, small, 9), -1);
  ck_assert_int_eq(errno, ENOSPC);
  ck_assert_int_eq(small[9].code, 0xab);
  /* No rule at all: deny everything. */
  len = cgroup_devices_bpf(NULL, 0, p, sizeof p / sizeof p[0]);
  ck_assert_int_eq(len, 8);
  assert_verifiable(p, len);
  ck_assert_int_eq(run(p, len, BPF_DEVCG_DEV_CHAR, BPF_DEVCG_ACC_READ, 1, 3), 0);
}
END_TEST

/* ---- the backends on fake trees ---- */

static char *root;
static char rel[160], pod[128];

static void put(const char *dir, const char *file, const char *content) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "create %s: %s", path, strerror(errno));
  fputs(content, f);
  fclose(f);
}

static void path_of(char *buf, size_t size, const char *hier, const char *relpath) {
  int n = snprintf(buf, size, "%s/%s%s%s", root, hier, relpath[0] ? "/" : "", relpath);
  ck_assert(n > 0 && (size_t)n < size);
}

static bool exists(const char *hier, const char *relpath) {
  char path[PATH_MAX];
  path_of(path, sizeof path, hier, relpath);
  return access(path, F_OK) == 0;
}

/* mkdir -p of relpath under hier (the v1 code reads no file there). */
static void fake_v1_dirs(const char *hier, const char *relpath) {
  char path[PATH_MAX];
  path_of(path, sizeof path, hier, "");
  size_t base = strlen(path);
  snprintf(path + base, sizeof path - base, "/%s", relpath);
  for (char *p = path + base + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char c = *p;
    *p = '\0';
    (void)mkdir(path, 0755);
    *p = c;
    if (c == '\0')
      break;
  }
}

/* The kernel's side of rmdir: the interface files go with the cgroup. */
static void fake_v1_release(const char *hier, const char *relpath) {
  static const char *const files[] = {"devices.deny", "devices.allow"};
  char path[PATH_MAX], f[PATH_MAX + 32];
  path_of(path, sizeof path, hier, relpath);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(f, sizeof f, "%s/%s", path, files[i]);
    unlink(f);
  }
}

static void setup(void) {
  root = testutil_tmpdir("pv-cgdev");
  ck_assert_ptr_nonnull(root);
  snprintf(pod, sizeof pod, "podvisor/t-%d", (int)getpid());
  snprintf(rel, sizeof rel, "%s/c", pod);
}

static void teardown(void) {
  testutil_rmtree(root);
  free(root);
  root = NULL;
}

/* A v1 host with cpu,cpuacct, memory, pids and (with_devices) devices. */
static resource_manager *v1_manager(bool with_devices) {
  static const char *const hiers[] = {"cpu,cpuacct", "memory", "pids", "devices"};
  for (size_t i = 0; i < (with_devices ? 4u : 3u); i++) {
    char path[PATH_MAX];
    path_of(path, sizeof path, hiers[i], "");
    ck_assert_int_eq(mkdir(path, 0755), 0);
  }
  resource_manager *rm = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_init(&rm, root, &err) == 0, "init: %s", err.msg);
  ck_assert_int_eq(resource_manager_version(rm), CGROUP_V1);
  return rm;
}

/* The leaf's devices.deny and devices.allow as FIFOs with their read ends
 * open (fds[0], fds[1]), and an inotify watch on the leaf (fds[2]). */
static void fifo_files(const char *relpath, int fds[3]) {
  static const char *const files[] = {"devices.deny", "devices.allow"};
  char dir[PATH_MAX], f[PATH_MAX + 32];
  fake_v1_dirs("devices", relpath);
  path_of(dir, sizeof dir, "devices", relpath);
  for (int i = 0; i < 2; i++) {
    snprintf(f, sizeof f, "%s/%s", dir, files[i]);
    ck_assert_int_eq(mkfifo(f, 0600), 0);
    fds[i] = open(f, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ck_assert_int_ge(fds[i], 0);
  }
  fds[2] = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ck_assert_int_ge(fds[2], 0);
  /* A FIFO reports no IN_MODIFY; each cgroup_write is one open and one
   * close, and the opens in between keep inotify from merging closes. */
  ck_assert_int_ge(inotify_add_watch(fds[2], dir, IN_OPEN | IN_CLOSE_WRITE), 0);
}

/* What was written to a FIFO (the lines run together: no newlines). */
static const char *drain(int fd) {
  static char buf[2][1024];
  static int which;
  char *b = buf[which++ % 2];
  ssize_t n = read(fd, b, sizeof buf[0] - 1);
  b[n > 0 ? n : 0] = '\0';
  return b;
}

/* The files written, in order, one letter per write ('d' deny, 'a'
 * allow). */
static const char *write_order(int ifd) {
  static char order[64];
  char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  size_t k = 0;
  ssize_t n = read(ifd, ev, sizeof ev);
  for (char *p = ev; n > 0 && p < ev + n;) {
    struct inotify_event *e = (struct inotify_event *)(void *)p;
    char c = strcmp(e->name, "devices.deny") == 0 ? 'd' : strcmp(e->name, "devices.allow") == 0 ? 'a' : '?';
    if ((e->mask & IN_CLOSE_WRITE) && k + 1 < sizeof order)
      order[k++] = c;
    p += sizeof *e + e->len;
  }
  order[k] = '\0';
  return order;
}

static void close_fds(int fds[3]) {
  for (int i = 0; i < 3; i++)
    close(fds[i]);
}

START_TEST(v1_container_gets_deny_then_allow_list) {
  resource_manager *rm = v1_manager(true);
  int fds[3];
  fifo_files(rel, fds);
  resource_limits l;
  resource_limits_init(&l);
  l.devices = RESOURCE_DEVICES_DEFAULT;
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "create: %s", err.msg);
  ck_assert_str_eq(write_order(fds[2]), "daaaaaaaaaaaa"); /* the deny, then 12 allows */
  ck_assert_str_eq(drain(fds[0]), "a");
  char want[512] = "";
  for (size_t i = 1; i < N_DEFAULT_V1; i++)
    strcat(want, default_v1[i][1]);
  ck_assert_str_eq(drain(fds[1]), want);
  char dir[PATH_MAX];
  path_of(dir, sizeof dir, "devices", rel);
  ck_assert_str_eq(cgroup_handle_dir(cg, "devices"), dir);
  /* A live update never touches the rules. */
  l.pids_limit = 0;
  ck_assert_msg(resource_manager_update(cg, &l, &err) == 0, "update: %s", err.msg);
  ck_assert_str_eq(drain(fds[0]), "");
  ck_assert_str_eq(drain(fds[1]), "");
  close_fds(fds);
  /* Destroy removes the devices directory with the others, pod and all. */
  fake_v1_release("devices", rel);
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "destroy: %s", err.msg);
  ck_assert(!exists("devices", rel));
  ck_assert(!exists("devices", pod));
  ck_assert(!exists("memory", rel));
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(v1_privileged_gets_every_device) {
  resource_manager *rm = v1_manager(true);
  int fds[3];
  fifo_files(rel, fds);
  resource_limits l;
  resource_limits_init(&l);
  l.devices = RESOURCE_DEVICES_ALL;
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "create: %s", err.msg);
  ck_assert_str_eq(write_order(fds[2]), "a");
  ck_assert_str_eq(drain(fds[0]), "");
  ck_assert_str_eq(drain(fds[1]), "a");
  close_fds(fds);
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(v1_no_policy_no_devices_cgroup) {
  resource_manager *rm = v1_manager(true);
  fake_v1_dirs("cpu,cpuacct", rel);
  fake_v1_dirs("memory", rel);
  fake_v1_dirs("pids", rel);
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, NULL, &cg, &err) == 0, "create: %s", err.msg);
  ck_assert_ptr_null(cgroup_handle_dir(cg, "devices"));
  ck_assert(!exists("devices", "podvisor"));
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* Without a devices hierarchy the list cannot be enforced: the create
 * fails, and leaves nothing behind, rather than run a container open. */
START_TEST(v1_without_devices_hierarchy_refuses) {
  resource_manager *rm = v1_manager(false);
  resource_limits l;
  resource_limits_init(&l);
  l.devices = RESOURCE_DEVICES_DEFAULT;
  cgroup_handle *cg = NULL;
  pv_err err;
  errno = 0;
  ck_assert_int_eq(resource_manager_create_cgroup(rm, rel, &l, &cg, &err), -1);
  ck_assert_int_eq(errno, ENOTSUP);
  ck_assert_msg(strstr(err.msg, "devices") != NULL, "%s", err.msg);
  ck_assert(!exists("memory", "podvisor"));
  ck_assert(!exists("pids", "podvisor"));
  /* Privileged needs no hierarchy to have every device. */
  l.devices = RESOURCE_DEVICES_ALL;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "create: %s", err.msg);
  ck_assert_ptr_null(cgroup_handle_dir(cg, "devices"));
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "destroy: %s", err.msg);
  resource_manager_cleanup(rm);
}
END_TEST

/* The recorder in place of bpf(2) on a fake v2 tree. */
static struct {
  int calls;
  char dir[PATH_MAX];
  int n;
  struct bpf_insn insns[CGROUP_DEVICES_BPF_MAX(CGROUP_DEVICES_DEFAULT_MAX)];
} seen;

static int record_devices(const char *dir, const struct bpf_insn *insns, size_t n, pv_err *err) {
  (void)err;
  seen.calls++;
  snprintf(seen.dir, sizeof seen.dir, "%s", dir);
  seen.n = (int)n;
  ck_assert_uint_le(n, sizeof seen.insns / sizeof seen.insns[0]);
  memcpy(seen.insns, insns, n * sizeof *insns);
  return 0;
}

static resource_manager *v2_manager(void) {
  put(root, "cgroup.controllers", "cpu io memory pids\n");
  put(root, "cgroup.subtree_control", "");
  put(root, "cgroup.procs", "");
  resource_manager *rm = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_init(&rm, root, &err) == 0, "init: %s", err.msg);
  ck_assert_int_eq(resource_manager_version(rm), CGROUP_V2);
  rm->set_devices = record_devices;
  memset(&seen, 0, sizeof seen);
  /* The pod and leaf directories as the kernel would fill them. */
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/podvisor", root);
  ck_assert_int_eq(mkdir(path, 0755), 0);
  put(path, "cgroup.subtree_control", "");
  snprintf(path, sizeof path, "%s/%s", root, pod);
  ck_assert_int_eq(mkdir(path, 0755), 0);
  put(path, "cgroup.subtree_control", "");
  snprintf(path, sizeof path, "%s/%s", root, rel);
  ck_assert_int_eq(mkdir(path, 0755), 0);
  return rm;
}

START_TEST(v2_container_gets_the_program) {
  resource_manager *rm = v2_manager();
  resource_limits l;
  resource_limits_init(&l);
  l.devices = RESOURCE_DEVICES_DEFAULT;
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "create: %s", err.msg);
  ck_assert_int_eq(seen.calls, 1);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/%s", root, rel);
  ck_assert_str_eq(seen.dir, dir);
  /* The very program of the rule list. */
  size_t n;
  const cgroup_device_rule *rules = cgroup_devices_default(&n);
  struct bpf_insn want[CGROUP_DEVICES_BPF_MAX(CGROUP_DEVICES_DEFAULT_MAX)];
  int len = cgroup_devices_bpf(rules, n, want, sizeof want / sizeof want[0]);
  ck_assert_int_eq(seen.n, len);
  ck_assert(memcmp(seen.insns, want, (size_t)len * sizeof want[0]) == 0);
  ck_assert_int_eq(run(seen.insns, seen.n, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_ACC_READ, 7, 0), 0);
  /* A live update leaves it alone. */
  ck_assert_msg(resource_manager_update(cg, &l, &err) == 0, "update: %s", err.msg);
  ck_assert_int_eq(seen.calls, 1);
  resource_manager_close_cgroup(cg);
  /* Adopted by a privileged container: the program comes off. */
  l.devices = RESOURCE_DEVICES_ALL;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "create: %s", err.msg);
  ck_assert_int_eq(seen.calls, 2);
  ck_assert_int_eq(seen.n, 0);
  resource_manager_close_cgroup(cg);
  /* No policy: nothing is attached or detached. */
  l.devices = RESOURCE_DEVICES_UNSET;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "create: %s", err.msg);
  ck_assert_int_eq(seen.calls, 2);
  resource_manager_close_cgroup(cg);
  /* An unknown policy is refused. */
  l.devices = (resource_devices)7;
  ck_assert_int_eq(resource_manager_create_cgroup(rm, rel, &l, &cg, &err), -1);
  ck_assert_int_eq(errno, EINVAL);
  resource_manager_cleanup(rm);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cgroup_devices");
  TCase *rules = tcase_create("rules");
  tcase_add_test(rules, default_list_as_v1_writes);
  tcase_add_test(rules, bad_rules_refused);
  tcase_add_test(rules, default_list_as_bpf_program);
  tcase_add_test(rules, catch_all_rule_ends_the_program);
  suite_add_tcase(s, rules);
  TCase *tree = tcase_create("fake_tree");
  tcase_add_checked_fixture(tree, setup, teardown);
  tcase_add_test(tree, v1_container_gets_deny_then_allow_list);
  tcase_add_test(tree, v1_privileged_gets_every_device);
  tcase_add_test(tree, v1_no_policy_no_devices_cgroup);
  tcase_add_test(tree, v1_without_devices_hierarchy_refuses);
  tcase_add_test(tree, v2_container_gets_the_program);
  suite_add_tcase(s, tree);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
