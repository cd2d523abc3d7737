/*
 * error.h - the error record every podvisor library call fills.
 *
 * Contract: a library function returns 0 (or a count) on success and -1 on
 * failure with errno set.  When the caller passes a pv_err, it also receives a
 * message that names the object that failed ("cgroup podvisor/web/nginx:
 * write memory.limit_in_bytes: Device or resource busy").  Callers add
 * context as the error travels up with pv_err_wrap().  Only the top level (the
 * CLI's main, an API reply) prints.  Library code never calls exit().
 *
 * Every function here accepts a NULL record, in which case only errno is set.
 */
#ifndef PODVISOR_CORE_ERROR_H
#define PODVISOR_CORE_ERROR_H

#include <stddef.h>

#define PV_ERR_MSG_MAX 1024

typedef struct pv_err {
  int code;                  /* errno value, 0 when no error was recorded */
  char msg[PV_ERR_MSG_MAX];  /* human readable, names the object */
} pv_err;

/* Clears the record. */
void pv_err_clear(pv_err *e);

/* Records code and a formatted message, sets errno = code, returns -1. */
int pv_err_set(pv_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like pv_err_set with code = errno, and appends ": strerror(errno)". */
int pv_err_sys(pv_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes context to the existing message ("ctx: old"), keeps the code,
 * restores errno = code, returns -1. */
int pv_err_wrap(pv_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message, or strerror(code) when no message was recorded. */
const char *pv_err_str(const pv_err *e);

#endif
