/*
 * container_etc.c - a pod's /etc/hosts and /etc/hostname, written once per
 * pod and bound read-only into each of its containers
 * (container_config.etc_hosts_path / etc_hostname_path, see container.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/core/container.h"
#include "supervisor/core/util.h"

int container_etc_files_write(const char *dir, const char *hostname, pv_err *err) {
  char path[PATH_MAX], hosts[512], name[80];
  if (hostname == NULL || hostname[0] == '\0' || strlen(hostname) > 64 || strpbrk(hostname, " \t\n#") != NULL)
    return pv_err_set(err, EINVAL, "hostname '%s' for %s/hosts: 1 to 64 characters, no blanks or '#'",
                      hostname != NULL ? hostname : "", dir);
  int n = snprintf(hosts, sizeof hosts,
                   "# podvisor-managed hosts file.\n"
                   "127.0.0.1\tlocalhost\n"
                   "::1\tlocalhost ip6-localhost ip6-loopback\n"
                   "fe00::0\tip6-localnet\n"
                   "fe00::0\tip6-mcastprefix\n"
                   "fe00::1\tip6-allnodes\n"
                   "fe00::2\tip6-allrouters\n"
                   "127.0.1.1\t%s\n",
                   hostname);
  int k = snprintf(name, sizeof name, "%s\n", hostname);
  if (pv_path(path, sizeof path, "%s/hosts", dir) < 0 ||
      pv_write_file_atomic(path, hosts, (size_t)n, 0644, err) < 0 ||
      pv_path(path, sizeof path, "%s/hostname", dir) < 0 ||
      pv_write_file_atomic(path, name, (size_t)k, 0644, err) < 0)
    return pv_err_wrap(err, "write the /etc files in %s", dir);
  return 0;
}
