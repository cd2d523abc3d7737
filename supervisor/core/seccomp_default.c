/*
 * seccomp_default.c - RuntimeDefault: podvisor's built-in profile, as data.
 *
 * The shape is the one Docker and containerd ship (and Kubernetes means by
 * RuntimeDefault): every system call not listed fails with EPERM; the
 * groups below allow what ordinary programs use, some of them only when
 * the container holds the capability that the kernel checks anyway, so a
 * container given CAP_SYS_ADMIN (or CAP_SYS_PTRACE, ...) can use what it
 * was given.  What stays blocked without such a capability, and why:
 *   - kexec_load, kexec_file_load, reboot: replace or stop the host kernel;
 *   - init_module, finit_module, delete_module: load code into the kernel;
 *   - keyctl, add_key, request_key: the keyrings are not namespaced, a
 *     container could read or fill another one's keys;
 *   - bpf, perf_event_open: large kernel attack surface, and perf reads
 *     what other processes do;
 *   - userfaultfd: the classic tool to widen kernel race windows;
 *   - mount, umount2, pivot_root, the new mount API, setns, unshare and
 *     clone with namespace flags: a container must not rebuild its own
 *     confinement (unprivileged user namespaces would hand it
 *     CAP_SYS_ADMIN over fresh namespaces);
 *   - swapon, swapoff, acct, quotactl, settimeofday, clock_settime: host
 *     wide settings;
 *   - open_by_handle_at: opens any file of a file system by handle,
 *     escaping a bind mount (the "shocker" escape);
 *   - lookup_dcookie, nfsservctl, uselib, vm86, ustat, sysfs, _sysctl,
 *     create_module, get_kernel_syms, query_module: obsolete, or kernel
 *     address leaks;
 *   - io_uring_setup, io_uring_enter, io_uring_register: a second system
 *     call interface that this filter cannot see into (containerd and
 *     Docker block it too, in their recent profiles).
 *
 * Names that exist on another architecture only (chown32 on x86, the
 * arm_ ones) are harmless here: libseccomp adds each rule for the
 * architectures where the system call exists, and the built-in table
 * skips names the installed libseccomp is too old to know.
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "supervisor/core/seccomp_internal.h"

#define N(...)                                                                                               \
  .names = (const char *const[]){__VA_ARGS__},                                                               \
  .n_names = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define CAP(c) (1ULL << (c))
#define ALLOW .action = SCMP_ACT_ALLOW

/* Every namespace flag of clone(2). */
#define CLONE_NS_FLAGS                                                                                       \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

static const seccomp_rule rules[] = {
    /* Files, directories, links, pipes and their metadata. */
    {ALLOW,
     N("access", "cachestat", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range",
       "creat", "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
       "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
       "fdatasync", "flock", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
       "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "lchown", "lchown32", "link", "linkat",
       "_llseek", "lseek", "lstat", "lstat64", "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at",
       "newfstatat", "open", "openat", "openat2", "pipe", "pipe2", "pread64", "preadv", "preadv2", "pwrite64",
       "pwritev", "pwritev2", "read", "readahead", "readdir", "readlink", "readlinkat", "readv", "rename",
       "renameat", "renameat2", "rmdir", "sendfile", "sendfile64", "splice", "stat", "stat64", "statfs",
       "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate",
       "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
       "vmsplice", "write", "writev")},
    /* Extended attributes (overlay and security labels are checked by the
     * kernel against the caller's capabilities). */
    {ALLOW, N("fgetxattr", "flistxattr", "fremovexattr", "fsetxattr", "getxattr", "lgetxattr", "listxattr",
              "llistxattr", "lremovexattr", "lsetxattr", "removexattr", "setxattr")},
    /* Waiting for events: poll, select, epoll, inotify, eventfd, timerfd,
     * signalfd, and fanotify marks (fanotify_init needs CAP_SYS_ADMIN). */
    {ALLOW,
     N("epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
       "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark", "inotify_add_watch",
       "inotify_init", "inotify_init1", "inotify_rm_watch", "_newselect", "pause", "poll", "ppoll",
       "ppoll_time64", "pselect6", "pselect6_time64", "select", "signalfd", "signalfd4", "timerfd_create",
       "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64")},
    /* Asynchronous I/O (the old aio interface; io_uring stays blocked, see
     * the top of this file). */
    {ALLOW, N("io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
              "io_submit", "ioctl", "ioprio_get", "ioprio_set")},
    /* Memory. */
    {ALLOW, N("brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2",
              "mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
              "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages")},
    /* Processes, threads, signals and their own credentials (setuid and
     * friends only move between ids the kernel lets the caller use). */
    {ALLOW,
     N("capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "futex", "futex_requeue",
       "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "get_robust_list", "get_thread_area",
       "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
       "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getresgid", "getresgid32", "getresuid",
       "getresuid32", "getrlimit", "getrusage", "getsid", "gettid", "getuid", "getuid32", "kill",
       "pidfd_open", "pidfd_send_signal", "prctl", "prlimit64", "process_mrelease", "restart_syscall", "rseq",
       "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
       "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "seccomp", "set_robust_list",
       "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
       "setgid32", "setgroups", "setgroups32", "setpgid", "setpriority", "setregid", "setregid32",
       "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
       "setsid", "setuid", "setuid32", "sigaction", "sigaltstack", "signal", "sigpending", "sigprocmask",
       "sigreturn", "sigsuspend", "tgkill", "tkill", "ugetrlimit", "vfork", "wait4", "waitid", "waitpid")},
    /* Scheduling (the kernel checks CAP_SYS_NICE for raising priorities). */
    {ALLOW,
     N("getcpu", "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity", "sched_getattr",
       "sched_getparam", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
       "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield")},
    /* Clocks and timers (reading them; setting the clock needs CAP_SYS_TIME,
     * below; adjtimex without it only reads). */
    {ALLOW,
     N("adjtimex", "alarm", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
       "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer",
       "gettimeofday", "nanosleep", "setitimer", "time", "timer_create", "timer_delete", "timer_getoverrun",
       "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "times")},
    /* Sockets, except the creation of one (below). */
    {ALLOW, N("accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen",
              "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg",
              "sendto", "setsockopt", "shutdown", "socketcall", "socketpair")},
    /* Any socket but AF_VSOCK: a vsock talks to the hypervisor, past the
     * network namespace. */
    {ALLOW, N("socket"), .n_args = 1, .args = {{0, SCMP_CMP_NE, AF_VSOCK, 0}}},
    /* System V and POSIX IPC (in the pod's IPC namespace). */
    {ALLOW,
     N("ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
       "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl",
       "semget", "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget")},
    /* Self-sandboxing: Landlock only takes rights away. */
    {ALLOW, N("landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self")},
    /* System information. */
    {ALLOW, N("getrandom", "sysinfo", "uname")},
    /* Architecture-specific calls that libc needs (TLS, LDT, cache flushes). */
    {ALLOW, N("arch_prctl", "modify_ldt", "arm_fadvise64_64", "arm_sync_file_range", "breakpoint",
              "cacheflush", "set_tls", "sync_file_range2", "swapcontext", "riscv_flush_icache",
              "s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr")},
    /* Tracing one's own children: since 4.8 seccomp rechecks the tracee's
     * system calls after a tracer changed them, so ptrace cannot skip the
     * filter; containers run debuggers and strace. */
    {ALLOW, N("ptrace", "process_vm_readv", "process_vm_writev")},
    /* personality: only the execution domains programs ask for (Linux,
     * 32-bit Linux, UNAME26, and the query 0xffffffff); flags such as
     * ADDR_NO_RANDOMIZE, which turn off address space randomisation,
     * stay blocked. */
    {ALLOW, N("personality"), .n_args = 1, .args = {{0, SCMP_CMP_EQ, PER_LINUX, 0}}},
    {ALLOW, N("personality"), .n_args = 1, .args = {{0, SCMP_CMP_EQ, UNAME26, 0}}},
    {ALLOW, N("personality"), .n_args = 1, .args = {{0, SCMP_CMP_EQ, PER_LINUX32, 0}}},
    {ALLOW, N("personality"), .n_args = 1, .args = {{0, SCMP_CMP_EQ, PER_LINUX32 | UNAME26, 0}}},
    {ALLOW, N("personality"), .n_args = 1, .args = {{0, SCMP_CMP_EQ, 0xffffffffu, 0}}},
    /* clone without namespace flags for everyone (fork, threads); with them
     * only under CAP_SYS_ADMIN (below). */
    {ALLOW, N("clone"), .caps_none = CAP(CAP_SYS_ADMIN), .n_args = 1,
     .args = {{0, SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0}}},
    /* clone3 passes its flags in memory, which a filter cannot read: ENOSYS
     * makes libc fall back to clone, whose flags it can check. */
    {.action = SCMP_ACT_ERRNO(ENOSYS), N("clone3"), .caps_none = CAP(CAP_SYS_ADMIN)},
    /* CAP_SYS_ADMIN: mounts, namespaces, host names, BPF and perf (before
     * CAP_BPF and CAP_PERFMON existed), quotas, the kernel log. */
    {ALLOW,
     N("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
       "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
       "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"),
     .caps_all = CAP(CAP_SYS_ADMIN)},
    {ALLOW, N("open_by_handle_at"), .caps_all = CAP(CAP_DAC_READ_SEARCH)},
    {ALLOW, N("reboot"), .caps_all = CAP(CAP_SYS_BOOT)},
    {ALLOW, N("chroot"), .caps_all = CAP(CAP_SYS_CHROOT)},
    {ALLOW, N("delete_module", "init_module", "finit_module"), .caps_all = CAP(CAP_SYS_MODULE)},
    {ALLOW, N("acct"), .caps_all = CAP(CAP_SYS_PACCT)},
    {ALLOW, N("kcmp", "pidfd_getfd", "process_madvise"), .caps_all = CAP(CAP_SYS_PTRACE)},
    {ALLOW, N("iopl", "ioperm"), .caps_all = CAP(CAP_SYS_RAWIO)},
    {ALLOW, N("settimeofday", "stime", "clock_settime", "clock_settime64"), .caps_all = CAP(CAP_SYS_TIME)},
    {ALLOW, N("vhangup"), .caps_all = CAP(CAP_SYS_TTY_CONFIG)},
    {ALLOW, N("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
     .caps_all = CAP(CAP_SYS_NICE)},
    {ALLOW, N("syslog"), .caps_all = CAP(CAP_SYSLOG)},
    {ALLOW, N("bpf"), .caps_all = CAP(CAP_BPF)},
    {ALLOW, N("perf_event_open"), .caps_all = CAP(CAP_PERFMON)},
};

static const seccomp_profile runtime_default = {
    .name = "RuntimeDefault",
    .default_action = SCMP_ACT_ERRNO(EPERM),
#if defined(__x86_64__)
    /* 32-bit x86 programs run on x86_64 kernels too (the x32 ABI rarely). */
    .arches = {SCMP_ARCH_X86, SCMP_ARCH_X32},
    .n_arches = 2,
#elif defined(__aarch64__)
    .arches = {SCMP_ARCH_ARM},
    .n_arches = 1,
#endif
    .rules = rules,
    .n_rules = sizeof rules / sizeof rules[0],
    .skip_unknown = true,
};

const seccomp_profile *seccomp_default_profile(void) {
  return &runtime_default;
}

/* The built-in profile compiled for caps, through the program cache
 * (seccomp_cache.c) like every other profile. */
int seccomp_profile_default(uint64_t caps, const char *cache_dir, seccomp_prog *out, pv_err *err) {
  return seccomp_compile_cached(seccomp_default_profile(), caps, cache_dir, out, err);
}
