#include "supervisor/core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pv_err_clear(pv_err *e) {
  if (e == NULL)
    return;
  e->code = 0;
  e->msg[0] = '\0';
}

static void vset(pv_err *e, int code, const char *fmt, va_list ap) {
  e->code = code;
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

int pv_err_set(pv_err *e, int code, const char *fmt, ...) {
  if (e != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vset(e, code, fmt, ap);
    va_end(ap);
  }
  errno = code;
  return -1;
}

int pv_err_sys(pv_err *e, const char *fmt, ...) {
  int code = errno;
  if (e != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vset(e, code, fmt, ap);
    va_end(ap);
    size_t n = strlen(e->msg);
    snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(code));
  }
  errno = code;
  return -1;
}

int pv_err_wrap(pv_err *e, const char *fmt, ...) {
  int code = e != NULL ? e->code : errno;
  if (e != NULL) {
    char prefix[PV_ERR_MSG_MAX];
    char old[PV_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    if (old[0] == '\0')
      snprintf(old, sizeof old, "%s", strerror(code));
    /* Truncation is fine: the prefix and the start of the cause matter most. */
    size_t n = strnlen(prefix, sizeof e->msg - 3);
    memcpy(e->msg, prefix, n);
    memcpy(e->msg + n, ": ", 2);
    snprintf(e->msg + n + 2, sizeof e->msg - n - 2, "%s", old);
  }
  errno = code;
  return -1;
}

const char *pv_err_str(const pv_err *e) {
  if (e == NULL)
    return "unknown error";
  if (e->msg[0] != '\0')
    return e->msg;
  return strerror(e->code);
}
