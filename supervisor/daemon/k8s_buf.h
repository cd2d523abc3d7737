/*
 * k8s_buf.h - a growing text buffer for the k8s_* text builders.
 *
 * Contract: appends never fail visibly; an allocation failure sets
 * b->failed, drops every later append, and k8s_buf_steal() then returns
 * NULL.  So a builder appends without checking each call and looks once at
 * the end.  The text is always NUL-terminated while not failed.  Pure: no
 * I/O.  k8s_buf_free() accepts a zeroed or failed buffer.
 *
 *   k8s_buf b = {0};
 *   k8s_buf_printf(&b, "%s:\t%d\n", key, n);
 *   char *text = k8s_buf_steal(&b);   // NULL when out of memory
 */
#ifndef PODVISOR_DAEMON_K8S_BUF_H
#define PODVISOR_DAEMON_K8S_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct k8s_buf {
  char *data;
  size_t len, cap;
  bool failed;
} k8s_buf;

void k8s_buf_add(k8s_buf *b, const char *s, size_t n);
void k8s_buf_puts(k8s_buf *b, const char *s);
void k8s_buf_putc(k8s_buf *b, char c);
void k8s_buf_repeat(k8s_buf *b, char c, size_t n);
void k8s_buf_printf(k8s_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text (the caller frees it), or NULL when an append failed; the buffer
 * is empty afterwards either way. */
char *k8s_buf_steal(k8s_buf *b);

void k8s_buf_free(k8s_buf *b);

#endif
