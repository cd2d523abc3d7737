/* kevent.c - the keeper's event queue (kevent.h). */
#include "supervisor/shim/kevent.h"

#include <stdio.h>
#include <stdlib.h>

static void on_idle(uv_idle_t *h) {
  kevq *q = h->data;
  uv_idle_stop(h);
  if (!q->closed)
    q->drain(q->ctx);
  /* The drain may have posted more, which re-armed the handle. */
}

void kevq_init(kevq *q, uv_loop_t *loop, void (*drain)(void *ctx), void *ctx) {
  q->head = q->tail = NULL;
  q->drain = drain;
  q->ctx = ctx;
  q->closed = false;
  uv_idle_init(loop, &q->idle);
  q->idle.data = q;
}

void kevq_post(kevq *q, const kevent *ev) {
  if (q->closed)
    return;
  kevent *e = malloc(sizeof *e);
  if (e == NULL) {
    fprintf(stderr, "podvisor shim: out of memory: event %d lost\n", (int)ev->kind);
    return;
  }
  *e = *ev;
  e->next = NULL;
  if (q->tail != NULL)
    q->tail->next = e;
  else
    q->head = e;
  q->tail = e;
  if (!uv_is_active((uv_handle_t *)&q->idle))
    uv_idle_start(&q->idle, on_idle);
}

bool kevq_pop(kevq *q, kevent *out) {
  kevent *e = q->head;
  if (e == NULL)
    return false;
  q->head = e->next;
  if (q->head == NULL)
    q->tail = NULL;
  *out = *e;
  out->next = NULL;
  free(e);
  return true;
}

bool kevq_empty(const kevq *q) {
  return q->head == NULL;
}

void kevq_close(kevq *q, uv_close_cb cb) {
  kevent e;
  while (kevq_pop(q, &e))
    ;
  q->closed = true;
  uv_close((uv_handle_t *)&q->idle, cb);
}
