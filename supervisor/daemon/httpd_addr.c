/* httpd_addr.c - socket addresses of the HTTP server's listeners. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/daemon/httpd_internal.h"

/* No chdir to reach a long path: libuv's thread pool may run beside the
 * loop, and the working directory is the process's. */
int addr_unix(const char *path, struct sockaddr_un *sa, int *dirfd, pv_err *err) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  *dirfd = -1;
  size_t len = strlen(path);
  if (len == 0)
    return pv_err_set(err, EINVAL, "http socket: empty path");
  if (len < sizeof sa->sun_path) {
    memcpy(sa->sun_path, path, len + 1);
    return 0;
  }
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path || (size_t)(slash - path) >= PATH_MAX)
    return pv_err_set(err, ENAMETOOLONG, "http socket %s: path too long", path);
  char dir[PATH_MAX];
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0)
    return pv_err_sys(err, "http socket %s: open its directory", path);
  int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dirfd, slash + 1);
  if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
    close(*dirfd);
    *dirfd = -1;
    return pv_err_set(err, ENAMETOOLONG, "http socket %s: file name too long", path);
  }
  return 0;
}

static int parse_port(const char *s, const char *addr, pv_err *err) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 65535)
    return pv_err_set(err, EINVAL, "listen address %s: invalid port '%s'", addr, s);
  return (int)v;
}

int addr_tcp(const char *addr, struct sockaddr_storage *ss, pv_err *err) {
  char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1";
  const char *port = addr;
  if (addr[0] == '[') {
    const char *close = strchr(addr, ']');
    if (close == NULL || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof host)
      return pv_err_set(err, EINVAL, "listen address %s: expected [ADDR]:PORT", addr);
    memcpy(host, addr + 1, (size_t)(close - addr - 1));
    host[close - addr - 1] = '\0';
    port = close + 2;
  } else if (strrchr(addr, ':') != NULL) {
    const char *colon = strrchr(addr, ':');
    if ((size_t)(colon - addr) >= sizeof host)
      return pv_err_set(err, EINVAL, "listen address %s: invalid host", addr);
    if (colon > addr) {
      memcpy(host, addr, (size_t)(colon - addr));
      host[colon - addr] = '\0';
    }
    port = colon + 1;
  }
  int p = parse_port(port, addr, err);
  if (p < 0)
    return -1;
  if (strcmp(host, "localhost") == 0)
    strcpy(host, "127.0.0.1");
  memset(ss, 0, sizeof *ss);
  if (uv_ip4_addr(host, p, (struct sockaddr_in *)ss) == 0)
    return 0;
  if (uv_ip6_addr(host, p, (struct sockaddr_in6 *)ss) == 0)
    return 0;
  return pv_err_set(err, EINVAL, "listen address %s: '%s' is not a numeric IPv4 or IPv6 address", addr, host);
}

void addr_peer(const struct sockaddr_storage *ss, char *buf, size_t len) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    uv_ip4_name(in, host, sizeof host);
    port = ntohs(in->sin_port);
    snprintf(buf, len, "%s:%d", host, port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    uv_ip6_name(in6, host, sizeof host);
    port = ntohs(in6->sin6_port);
    snprintf(buf, len, "[%s]:%d", host, port);
  } else {
    snprintf(buf, len, "unix");
  }
}
