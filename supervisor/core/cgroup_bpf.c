/*
 * cgroup_bpf.c - puts a device program on a cgroup2 directory, or takes it
 * off: the one piece of the v2 device allow-list that is a system call and
 * not a file (the program itself is built in cgroup_devices.c).
 *
 * Attach mode: no flag (neither BPF_F_ALLOW_OVERRIDE nor BPF_F_ALLOW_MULTI),
 * where crun and runc use BPF_F_ALLOW_MULTI and then query and detach the
 * programs they attached before.  Without a flag a cgroup holds one
 * program of the type, and attaching another releases the old one in the
 * same call: a cgroup that is adopted again (a restart of the container, or
 * a new shim taking over a path) gets its program replaced, never a second
 * one, with no query and no window without rules.  The kernel still runs
 * the programs of the ancestors that allow children (systemd attaches its
 * own with BPF_F_ALLOW_MULTI), and a device must pass all of them.  The
 * price: nothing can attach a device program below the container's cgroup,
 * which a container could not do anyway without CAP_BPF or CAP_SYS_ADMIN.
 *
 * The program is owned by the cgroup once attached (the cgroup holds a
 * reference): the fd is closed here, and the program goes with the cgroup.
 * No RLIMIT_MEMLOCK bump: programs are charged to the memory cgroup since
 * Linux 5.11, and older kernels are not supported.
 *
 * The verifier's log is asked for only when a load fails, and its last line
 * goes into the error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/core/cgroup_internal.h"

static int sys_bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

/* The last non-empty line of the verifier's log, in place. */
static const char *last_line(char *log) {
  size_t n = strlen(log);
  while (n > 0 && log[n - 1] == '\n')
    log[--n] = '\0';
  char *nl = strrchr(log, '\n');
  return nl != NULL ? nl + 1 : log;
}

static int load(const struct bpf_insn *insns, size_t n, pv_err *err) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)n;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  int fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  int saved = errno;
  char log[8192];
  log[0] = '\0';
  attr.log_level = 1;
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  return pv_err_set(err, saved, "load the device program (%zu instructions): %s%s%s", n, strerror(saved),
                    log[0] ? ": " : "", last_line(log));
}

int cgroup_bpf_set_devices(const char *dir, const struct bpf_insn *insns, size_t n, pv_err *err) {
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    return pv_err_sys(err, "open %s", dir);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cg;
  attr.attach_type = BPF_CGROUP_DEVICE;
  int r;
  if (n == 0) {
    /* Without BPF_F_ALLOW_MULTI the one program goes, whatever fd. */
    r = sys_bpf(BPF_PROG_DETACH, &attr);
    if (r < 0 && errno == ENOENT)
      r = 0;
    if (r < 0)
      pv_err_sys(err, "detach the device program from %s", dir);
  } else {
    int prog = load(insns, n, err);
    r = prog;
    if (prog >= 0) {
      attr.attach_bpf_fd = (uint32_t)prog;
      r = sys_bpf(BPF_PROG_ATTACH, &attr);
      if (r < 0)
        pv_err_sys(err, "attach the device program to %s", dir);
      int saved = errno;
      close(prog);
      errno = saved;
    }
  }
  int saved = errno;
  close(cg);
  errno = saved;
  return r < 0 ? -1 : 0;
}
