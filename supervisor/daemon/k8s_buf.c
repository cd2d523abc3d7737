/* k8s_buf.c - the growing text buffer (k8s_buf.h). */
#include "supervisor/daemon/k8s_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(k8s_buf *b, size_t extra) {
  if (b->failed)
    return false;
  if (b->len + extra + 1 <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *d = realloc(b->data, cap);
  if (d == NULL) {
    b->failed = true;
    return false;
  }
  b->data = d;
  b->cap = cap;
  return true;
}

void k8s_buf_add(k8s_buf *b, const char *s, size_t n) {
  if (!reserve(b, n))
    return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void k8s_buf_puts(k8s_buf *b, const char *s) {
  k8s_buf_add(b, s, strlen(s));
}

void k8s_buf_putc(k8s_buf *b, char c) {
  k8s_buf_add(b, &c, 1);
}

void k8s_buf_repeat(k8s_buf *b, char c, size_t n) {
  if (!reserve(b, n))
    return;
  memset(b->data + b->len, c, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void k8s_buf_printf(k8s_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = true;
    return;
  }
  if (!reserve(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

char *k8s_buf_steal(k8s_buf *b) {
  char *d = NULL;
  if (!b->failed)
    d = b->data != NULL ? b->data : strdup("");
  else
    free(b->data);
  *b = (k8s_buf){0};
  return d;
}

void k8s_buf_free(k8s_buf *b) {
  free(b->data);
  *b = (k8s_buf){0};
}
