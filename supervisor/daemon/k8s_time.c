/* k8s_time.c - Kubernetes and kubectl time formats (k8s_time.h). */
#include "supervisor/daemon/k8s_time.h"

#include <stdio.h>
#include <time.h>

#include "supervisor/core/util.h"

#define SEC 1000000000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* The branches of duration.HumanDuration, in its order. */
void k8s_time_human(int64_t d, char out[K8S_TIME_HUMAN_MAX]) {
  long long seconds = d / SEC; /* int(d.Seconds()) truncates toward zero */
  if (seconds < -1) {
    snprintf(out, K8S_TIME_HUMAN_MAX, "<invalid>");
    return;
  }
  if (seconds < 0) {
    snprintf(out, K8S_TIME_HUMAN_MAX, "0s");
    return;
  }
  if (seconds < 60 * 2) {
    snprintf(out, K8S_TIME_HUMAN_MAX, "%llds", seconds);
    return;
  }
  long long minutes = d / MIN;
  if (minutes < 10) {
    long long s = (d / SEC) % 60;
    if (s == 0)
      snprintf(out, K8S_TIME_HUMAN_MAX, "%lldm", minutes);
    else
      snprintf(out, K8S_TIME_HUMAN_MAX, "%lldm%llds", minutes, s);
    return;
  }
  if (minutes < 60 * 3) {
    snprintf(out, K8S_TIME_HUMAN_MAX, "%lldm", minutes);
    return;
  }
  long long hours = d / HOUR;
  if (hours < 8) {
    long long m = (d / MIN) % 60;
    if (m == 0)
      snprintf(out, K8S_TIME_HUMAN_MAX, "%lldh", hours);
    else
      snprintf(out, K8S_TIME_HUMAN_MAX, "%lldh%lldm", hours, m);
  } else if (hours < 48) {
    snprintf(out, K8S_TIME_HUMAN_MAX, "%lldh", hours);
  } else if (hours < 24 * 8) {
    long long h = hours % 24;
    if (h == 0)
      snprintf(out, K8S_TIME_HUMAN_MAX, "%lldd", hours / 24);
    else
      snprintf(out, K8S_TIME_HUMAN_MAX, "%lldd%lldh", hours / 24, h);
  } else if (hours < 24 * 365 * 2) {
    snprintf(out, K8S_TIME_HUMAN_MAX, "%lldd", hours / 24);
  } else if (hours < 24 * 365 * 8) {
    long long dy = (hours / 24) % 365;
    if (dy == 0)
      snprintf(out, K8S_TIME_HUMAN_MAX, "%lldy", hours / 24 / 365);
    else
      snprintf(out, K8S_TIME_HUMAN_MAX, "%lldy%lldd", hours / 24 / 365, dy);
  } else {
    snprintf(out, K8S_TIME_HUMAN_MAX, "%lldy", hours / 24 / 365);
  }
}

void k8s_time_since(int64_t t, int64_t now, char out[K8S_TIME_HUMAN_MAX]) {
  if (t == 0)
    snprintf(out, K8S_TIME_HUMAN_MAX, "<unknown>");
  else
    k8s_time_human(now - t, out);
}

/* Floor division, so that a time before the epoch keeps its second. */
static int64_t whole_seconds(int64_t ns) {
  return ns / SEC - (ns % SEC < 0 ? 1 : 0);
}

int k8s_time_format(int64_t ns, char *buf, size_t len) {
  return pv_format_rfc3339(whole_seconds(ns) * SEC, false, buf, len);
}

int k8s_time_rfc1123z(int64_t ns, bool local, char *buf, size_t len) {
  static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = (time_t)whole_seconds(ns);
  struct tm tm;
  if ((local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm)) == NULL)
    return -1;
  long off = local ? tm.tm_gmtoff : 0;
  char sign = off < 0 ? '-' : '+';
  if (off < 0)
    off = -off;
  int n = snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday], tm.tm_mday,
                   months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 3600,
                   off % 3600 / 60);
  return n >= 0 && (size_t)n < len ? n : -1;
}
