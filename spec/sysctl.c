/* sysctl.c - pod sysctl names and their namespaces (see sysctl.h). */
#include "spec/sysctl.h"

#include <stdio.h>
#include <string.h>

static bool comp_char(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); }

/* The separator that splits components: the first '.' or '/' of name. */
static char separator(const char *name) {
  const char *p = strpbrk(name, "./");
  return p != NULL ? *p : '.';
}

bool spec_sysctl_name_valid(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > SPEC_SYSCTL_NAME_MAX)
    return false;
  char sep = separator(name), other = sep == '.' ? '/' : '.';
  /* Each component: [a-z0-9]([-_a-z0-9<other>]*[a-z0-9])?; the other
   * separator only inside a component, as in "eth0.100". */
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (name[i] != sep && name[i] != '\0')
      continue;
    if (i == start || !comp_char(name[start]) || !comp_char(name[i - 1]))
      return false;
    for (size_t k = start; k < i; k++) {
      char ch = name[k];
      if (!comp_char(ch) && ch != '-' && ch != '_' && !(ch == other && sep == '/'))
        return false;
    }
    start = i + 1;
  }
  return true;
}

bool spec_sysctl_canonical(const char *name, char *buf, size_t len) {
  size_t n = strlen(name);
  if (n + 1 > len)
    return false;
  bool swap = separator(name) == '/';
  for (size_t i = 0; i <= n; i++)
    buf[i] = swap && name[i] == '/' ? '.' : swap && name[i] == '.' ? '/' : name[i];
  return true;
}

spec_sysctl_ns spec_sysctl_namespace(const char *name) {
  char c[SPEC_SYSCTL_NAME_MAX + 1];
  if (!spec_sysctl_canonical(name, c, sizeof c))
    return SPEC_SYSCTL_NOT_NAMESPACED;
  /* The kubelet's table (pkg/kubelet/sysctl/namespace.go). */
  if (strcmp(c, "kernel.sem") == 0 || strncmp(c, "kernel.shm", 10) == 0 || strncmp(c, "kernel.msg", 10) == 0 ||
      strncmp(c, "fs.mqueue.", 10) == 0)
    return SPEC_SYSCTL_IPC;
  if (strncmp(c, "net.", 4) == 0)
    return SPEC_SYSCTL_NET;
  return SPEC_SYSCTL_NOT_NAMESPACED;
}

bool spec_sysctl_is_safe(const char *name) {
  static const char *const safe[] = {
      "kernel.shm_rmid_forced",         "net.ipv4.ip_local_port_range",   "net.ipv4.tcp_syncookies",
      "net.ipv4.ping_group_range",      "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
      "net.ipv4.tcp_keepalive_time",    "net.ipv4.tcp_fin_timeout",       "net.ipv4.tcp_keepalive_intvl",
      "net.ipv4.tcp_keepalive_probes",
  };
  char c[SPEC_SYSCTL_NAME_MAX + 1];
  if (!spec_sysctl_canonical(name, c, sizeof c))
    return false;
  for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
    if (strcmp(c, safe[i]) == 0)
      return true;
  return false;
}

bool spec_sysctl_path(const char *name, char *buf, size_t len) {
  int n = snprintf(buf, len, "/proc/sys/%s", name);
  if (n < 0 || (size_t)n >= len)
    return false;
  /* Dot form: every '.' separates; slash form: already a path. */
  if (separator(name) == '.')
    for (char *p = buf + strlen("/proc/sys/"); *p; p++)
      if (*p == '.')
        *p = '/';
  return true;
}

bool spec_sysctl_value_valid(const char *value) {
  size_t n = strlen(value);
  if (n == 0 || n > SPEC_SYSCTL_VALUE_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)value[i];
    if (ch < 0x20 && ch != '\t')
      return false;
    if (ch == 0x7f)
      return false;
  }
  return true;
}
