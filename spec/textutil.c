/*
 * textutil.c - see textutil.h.
 */
#include "spec/textutil.h"

#include <stdarg.h>
#include <stdio.h>

void textutil_why(char *why, size_t whylen, const char *fmt, ...) {
  if (!why || whylen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
}
