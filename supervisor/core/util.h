/*
 * util.h - small file-system and parsing helpers shared by every module.
 *
 * All functions return 0 on success and -1 with errno set (and a message in
 * the optional pv_err) on failure.  They retry EINTR and open with O_CLOEXEC.
 */
#ifndef PODVISOR_CORE_UTIL_H
#define PODVISOR_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "supervisor/core/error.h"

/* Writes data to path atomically: path.tmp.<pid>, fsync, rename, fsync dir. */
int pv_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, pv_err *err);

/* Reads a whole (small) file into a NUL-terminated malloc'd buffer. */
int pv_read_file(const char *path, char **out, size_t *len, pv_err *err);

/* mkdir -p with the given mode for the directories it creates. */
int pv_mkdir_p(const char *path, mode_t mode, pv_err *err);

/* rm -rf that never crosses into another file system (a leftover mount
 * point is reported as EBUSY, not emptied). A missing path is success. */
int pv_rm_rf(const char *path, pv_err *err);

/* Parses a docker/podman style size: "64m", "1g", "512k", "100" (bytes),
 * also "64M", "64MiB", "1GB" (binary multiples, as podman does). */
int pv_parse_size(const char *s, int64_t *out, pv_err *err);

/* Formats ns since the epoch as RFC 3339 in UTC ("2026-11-23T00:22:15Z").
 * The fraction is written with 9 digits when always_nanos is true or when it
 * is not zero.  Returns the length, or -1 when buf is too small. */
int pv_format_rfc3339(int64_t ns, bool always_nanos, char *buf, size_t len);

/* Non-blocking reap of the child behind a pidfd: 1 and *si filled when it
 * has exited (and is now reaped), 0 while it still runs, -1 with errno on
 * error.  EINTR is retried. */
int pv_pidfd_try_reap(int pidfd, siginfo_t *si);

/* Blocking reap of the child behind a pidfd: 0 with *si filled once it has
 * exited, -1 with errno on error.  Works on a pidfd that is non-blocking
 * (libuv's uv_poll_init() sets O_NONBLOCK on the fd it watches, and then a
 * plain waitid() fails with EAGAIN while the child still runs): it polls
 * until the child has exited.  EINTR is retried. */
int pv_pidfd_reap(int pidfd, siginfo_t *si);

/* pidfd_send_signal(2): 0, or -1 with errno. */
int pv_pidfd_signal(int pidfd, int sig);

/* SIGKILLs the child behind pidfd and reaps it (pv_pidfd_reap): the wait
 * is only for the kernel to tear it down, and leaves no zombie. */
void pv_pidfd_kill_reap(int pidfd);

/* Monotonic clock in nanoseconds. */
uint64_t pv_now_ns(void);

/* snprintf into a fixed buffer; -1 with ENAMETOOLONG when it does not fit. */
int pv_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
