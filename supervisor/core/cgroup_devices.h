/*
 * cgroup_devices.h - the device allow-list of a container, and the two
 * forms the kernel takes it in.  Pure: no system call, no allocation.
 *
 * One rule list, two translations, so that the list is tested once:
 *   - cgroup v1 (the devices controller): "a" written to devices.deny, then
 *     one devices.allow write per rule ("c 1:3 rwm"); the kernel parses one
 *     rule per write.  A privileged container gets "a" in devices.allow.
 *   - cgroup v2 (no devices controller): a BPF_PROG_TYPE_CGROUP_DEVICE
 *     program, built here as an array of struct bpf_insn: for each rule a
 *     block of compares that jumps to the next block on a mismatch and
 *     returns 1 (allow) when everything matched; after the last block the
 *     program returns 0 (deny).  A privileged container gets no program.
 *
 * The default list is what runc and crun give every container, and what
 * Kubernetes containers get through them:
 *   c 1:3 null, 1:5 zero, 1:7 full, 1:8 random, 1:9 urandom, 5:0 tty,
 *     5:1 console, 5:2 ptmx, 136:* the pts of devpts: rwm;
 *   c 10:200 /dev/net/tun: rwm.  runc 1.2.0 and crun dropped it and both
 *     put it back (runc 1.2.4, January 2025) because users relied on it;
 *     making a tun interface needs CAP_NET_ADMIN, which the default
 *     capability set does not hold;
 *   c *:* m and b *:* m: mknod of any node (CAP_MKNOD is in the default
 *     set, as with docker), never opening one the list does not name.
 * So a block device a container makes, on a file system that is not nodev
 * (a hostPath: / and its /dev/shm), cannot be read or written.
 *
 * The rules only allow: what no rule allows is denied.
 */
#ifndef PODVISOR_CORE_CGROUP_DEVICES_H
#define PODVISOR_CORE_CGROUP_DEVICES_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Access bits, the values of the kernel's BPF_DEVCG_ACC_*. */
enum {
  CGROUP_DEV_MKNOD = 1u << 0,
  CGROUP_DEV_READ = 1u << 1,
  CGROUP_DEV_WRITE = 1u << 2,
  CGROUP_DEV_RWM = CGROUP_DEV_MKNOD | CGROUP_DEV_READ | CGROUP_DEV_WRITE,
};

#define CGROUP_DEV_ANY (-1) /* a major or minor of '*' */

typedef struct cgroup_device_rule {
  char type;       /* 'c', 'b', or 'a' for both */
  int32_t major;   /* CGROUP_DEV_ANY or 0.. */
  int32_t minor;   /* CGROUP_DEV_ANY or 0.. */
  unsigned access; /* CGROUP_DEV_* bits, not 0 */
} cgroup_device_rule;

/* The default allow-list (above); *n is set to its length, at most
 * CGROUP_DEVICES_DEFAULT_MAX. */
#define CGROUP_DEVICES_DEFAULT_MAX 16
const cgroup_device_rule *cgroup_devices_default(size_t *n);

/* One write to a v1 devices cgroup: "devices.deny" or "devices.allow" and
 * the line written to it. */
typedef struct cgroup_dev_write {
  const char *file;
  char line[40];
} cgroup_dev_write;

/* The writes, in order, that give a v1 devices cgroup exactly the rules
 * (allow_all: every device, the rules are ignored).  out has room for
 * n + 1 writes; returns how many it filled, or -1 with EINVAL for a bad
 * rule (type, access, a negative number other than CGROUP_DEV_ANY). */
int cgroup_devices_v1_writes(const cgroup_device_rule *rules, size_t n, bool allow_all,
                             cgroup_dev_write *out);

/* Instructions cgroup_devices_bpf() needs at most for n rules. */
#define CGROUP_DEVICES_BPF_MAX(n) (6 + 8 * (n) + 2)

/* The v2 program for the rules, into out (cap instructions).  Returns the
 * number of instructions, or -1 with EINVAL for a bad rule and ENOSPC when
 * cap is too small.  A rule that matches every access (type 'a', both
 * numbers any, rwm) ends the program: nothing after it could be reached,
 * and the kernel's verifier refuses unreachable instructions. */
int cgroup_devices_bpf(const cgroup_device_rule *rules, size_t n, struct bpf_insn *out, size_t cap);

#endif
