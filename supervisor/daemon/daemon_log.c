/*
 * daemon_log.c - the daemon's own log: logfmt lines on stderr, readable as
 * they are under journald (`time=… level=… msg="…" pod=ns/name k=v…`).
 *
 * The format given to pvd_log() renders "MESSAGE[ key=value...]": the
 * message is everything before the first " key=" (a word of letters,
 * digits, '_', '.' or '-' followed by '='), and is quoted; the pairs after
 * it are written as the caller gave them (values with spaces quoted by the
 * caller, pvd_logfmt_quote).  One write(2) per line, so that lines of a
 * daemon and its children never interleave mid-line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/daemon/daemon_core.h"

/* The level is the process's (one daemon per process): a static, not a
 * field of pvd, so that pvd_log() works before the struct exists. */
static pvd_log_level min_level = PVD_LOG_INFO;

void pvd_log_set_level(pvd_log_level l) {
  min_level = l;
}

static const char *level_name(pvd_log_level l) {
  switch (l) {
  case PVD_LOG_DEBUG: return "debug";
  case PVD_LOG_INFO: return "info";
  case PVD_LOG_WARN: return "warn";
  default: return "error";
  }
}

const char *pvd_logfmt_quote(const char *s, char *buf, size_t len) {
  size_t o = 0;
  if (len < 3) {
    if (len > 0)
      buf[0] = '\0';
    return buf;
  }
  buf[o++] = '"';
  for (; s != NULL && *s != '\0' && o + 3 < len; s++) {
    char c = *s;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = c;
    } else if (c == '\n') {
      buf[o++] = '\\';
      buf[o++] = 'n';
    } else if ((unsigned char)c < 0x20) {
      buf[o++] = ' ';
    } else {
      buf[o++] = c;
    }
  }
  buf[o++] = '"';
  buf[o] = '\0';
  return buf;
}

/* Where the key=value pairs begin in text: at a space followed by a key and
 * '=', or at the end. */
static size_t pairs_start(const char *text) {
  for (const char *p = text; *p != '\0'; p++) {
    if (*p != ' ')
      continue;
    const char *k = p + 1;
    while (isalnum((unsigned char)*k) || *k == '_' || *k == '.' || *k == '-')
      k++;
    if (k > p + 1 && *k == '=')
      return (size_t)(p - text);
  }
  return strlen(text);
}

void pvd_log(const pvd *d, pvd_log_level level, const char *ns, const char *name, const char *fmt, ...) {
  (void)d;
  if (level < min_level)
    return;
  char text[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  size_t cut = pairs_start(text);
  char pairs[2048];
  snprintf(pairs, sizeof pairs, "%s", text + cut);
  text[cut] = '\0';
  char msg[2100];
  pvd_logfmt_quote(text, msg, sizeof msg);

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[40];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

  char pod[600] = "";
  if (name != NULL)
    snprintf(pod, sizeof pod, " pod=%s/%s", ns != NULL ? ns : "default", name);
  char line[4800];
  int n = snprintf(line, sizeof line, "time=%s.%03ldZ level=%s msg=%s%s%s\n", when, ts.tv_nsec / 1000000,
                   level_name(level), msg, pod, pairs);
  if (n < 0)
    return;
  size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  if ((size_t)n >= sizeof line)
    line[len - 1] = '\n';
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(STDERR_FILENO, line + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    off += (size_t)w;
  }
}
