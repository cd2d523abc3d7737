/* sandbox_userns.c - the pod's user namespace (hostUsers: false), made by a
 * helper process and entered by the shim through the namespaces it owns
 * (sandbox.h, "User namespace"). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/namespace.h"
#include "supervisor/core/util.h"
#include "supervisor/shim/sandbox.h"

/* The helper: one unshare() creates the user namespace first and then the
 * network, IPC and UTS namespaces owned by it (the kernel orders it so).
 * It reports the unshare's errno (0: done) and waits for the shim to close
 * its pipe: until then its namespaces are reachable at /proc/<pid>/ns. */
static void helper_main(int ready, int go) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  unsigned char r = unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) == 0 ? 0 : (unsigned char)errno;
  (void)!write(ready, &r, 1);
  ssize_t n;
  do
    n = read(go, &r, 1);
  while (n < 0 && errno == EINTR);
  _exit(0);
}

static int write_map(pid_t pid, const char *which, uint32_t base, uint32_t size, pv_err *err) {
  char path[64], line[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, which);
  int len = snprintf(line, sizeof line, "0 %u %u\n", base, size);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return pv_err_sys(err, "sandbox: open %s", path);
  ssize_t n;
  do
    n = write(fd, line, (size_t)len);
  while (n < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  errno = saved;
  if (n != len)
    return pv_err_sys(err, "sandbox: write \"0 %u %u\" to %s", base, size, path);
  return 0;
}

/* Joins the helper's namespace `name` (type CLONE_NEW*); with keep, the fd
 * is kept in *keep instead of being closed. */
static int join_ns(pid_t pid, const char *name, int type, int *keep, pv_err *err) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return pv_err_sys(err, "sandbox: open %s", path);
  if (keep != NULL) {
    *keep = fd;
    return 0;
  }
  int r;
  do
    r = setns(fd, type);
  while (r < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  errno = saved;
  if (r < 0)
    return pv_err_sys(err, "sandbox: setns into the pod's %s namespace", name);
  return 0;
}

/* The helper's half once the namespaces exist: maps, then the shim moves
 * into the net/ipc/uts namespaces and keeps an fd of the user namespace. */
static int adopt(sandbox *sb, pid_t pid, uint32_t base, uint32_t size, pv_err *err) {
  /* The shim is root of the parent user namespace: it may map any range,
   * and setgroups stays allowed inside (the kubelet's runtimes map the
   * same way). */
  if (write_map(pid, "uid_map", base, size, err) < 0 || write_map(pid, "gid_map", base, size, err) < 0 ||
      join_ns(pid, "user", CLONE_NEWUSER, &sb->userns, err) < 0 || join_ns(pid, "net", CLONE_NEWNET, NULL, err) < 0 ||
      join_ns(pid, "ipc", CLONE_NEWIPC, NULL, err) < 0 || join_ns(pid, "uts", CLONE_NEWUTS, NULL, err) < 0)
    return -1;
  return 0;
}

int sandbox_userns_enter(sandbox *sb, uint32_t base, uint32_t size, pv_err *err) {
  int ready[2], go[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    return pv_err_sys(err, "sandbox: pipe");
  if (pipe2(go, O_CLOEXEC) < 0) {
    pv_err_sys(err, "sandbox: pipe");
    close(ready[0]);
    close(ready[1]);
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    close(go[1]);
    helper_main(ready[1], go[0]);
  }
  int saved = errno;
  close(ready[1]);
  close(go[0]);
  int rc = 0;
  if (pid < 0) {
    errno = saved;
    rc = pv_err_sys(err, "sandbox: fork the user namespace helper");
  } else {
    unsigned char r = 0;
    ssize_t n;
    do
      n = read(ready[0], &r, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1 || r != 0) {
      errno = n == 1 ? r : EIO;
      rc = pv_err_sys(err, "sandbox: unshare user/net/ipc/uts namespaces");
    } else {
      rc = adopt(sb, pid, base, size, err);
      if (rc == 0)
        sb->userns_base = base;
    }
  }
  close(ready[0]);
  close(go[1]); /* the helper ends */
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  if (rc < 0 && sb->userns >= 0) {
    close(sb->userns);
    sb->userns = -1;
  }
  return rc;
}

int sandbox_userns_join(int userns) {
  int step;
  return namespace_join_user(userns, &step);
}
