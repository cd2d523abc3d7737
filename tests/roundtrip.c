/* roundtrip.c - the round trip of podjson.h, for the Check suites (see
 * roundtrip.h). */
#include "tests/roundtrip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/proto/podjson.h"

void roundtrip_parse(struct roundtrip_parsed *x, const char *name, const char *text) {
  memset(x, 0, sizeof *x);
  diag_list_init(&x->d);
  x->r = spec_parse_buffer(name, text, strlen(text), 0, &x->pods, &x->d);
}

void roundtrip_parsed_free(struct roundtrip_parsed *x) {
  spec_pod_list_free(&x->pods);
  diag_list_free(&x->d);
}

/* Parses a manifest that must hold exactly one valid pod. */
spec_pod *roundtrip_one_pod(const char *yaml) {
  struct roundtrip_parsed x;
  roundtrip_parse(&x, "t.yaml", yaml);
  char buf[1024];
  for (size_t i = 0; i < x.d.n; i++) {
    diag_format(&x.d.items[i], buf, sizeof buf);
    fprintf(stderr, "  %s\n", buf);
  }
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.pods.n, 1);
  spec_pod *p = spec_pod_list_steal(&x.pods, 0);
  roundtrip_parsed_free(&x);
  return p;
}

/* NULL when a and b hold the same pairs in the same order, else a key that
 * differs. */
static const char *kvs_differ(const spec_kvs *a, const spec_kvs *b) {
  size_t i = 0;
  for (; i < a->n && i < b->n; i++)
    if (strcmp(a->items[i].key, b->items[i].key) != 0 || strcmp(a->items[i].value, b->items[i].value) != 0)
      return a->items[i].key;
  return i < a->n ? a->items[i].key : i < b->n ? b->items[i].key : NULL;
}

const spec_container *roundtrip_nth(const spec_pod *p, size_t i) {
  return i < p->n_init_containers ? &p->init_containers[i] : &p->containers[i - p->n_init_containers];
}

/* Reads text back and compares it with p: 0 when the round trip holds, else
 * -1 with the first difference in why. */
int roundtrip_compare(const spec_pod *p, const char *text, char *why, size_t len) {
  struct roundtrip_parsed x;
  roundtrip_parse(&x, "pod.json", text);
  int r = -1;
  json_t *a = NULL, *b = NULL;
  if (x.d.n > 0) {
    char d[1024];
    diag_format(&x.d.items[0], d, sizeof d);
    snprintf(why, len, "%zu diagnostics, the first: %s", x.d.n, d);
  } else if (x.r != 0 || x.pods.n != 1) {
    snprintf(why, len, "spec_parse_buffer returned %d with %zu pods", x.r, x.pods.n);
  } else {
    const spec_pod *q = x.pods.items[0];
    size_t n = p->n_init_containers + p->n_containers;
    const char *k;
    /* what the hashes leave out: the metadata, verbatim */
    if ((p->uid == NULL) != (q->uid == NULL) || (p->uid != NULL && strcmp(p->uid, q->uid) != 0))
      snprintf(why, len, "metadata.uid differs");
    else if ((k = kvs_differ(&p->labels, &q->labels)) != NULL)
      snprintf(why, len, "label %s differs", k);
    else if ((k = kvs_differ(&p->annotations, &q->annotations)) != NULL)
      snprintf(why, len, "annotation %s differs", k);
    else if (strcmp(p->sandbox_hash, q->sandbox_hash) != 0)
      snprintf(why, len, "the sandbox hash differs");
    else if (p->n_init_containers != q->n_init_containers || p->n_containers != q->n_containers)
      snprintf(why, len, "%zu+%zu containers read back as %zu+%zu", p->n_init_containers, p->n_containers,
               q->n_init_containers, q->n_containers);
    else
      r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
      if (strcmp(roundtrip_nth(p, i)->hash, roundtrip_nth(q, i)->hash) != 0) {
        snprintf(why, len, "the hash of container %s differs", roundtrip_nth(p, i)->name);
        r = -1;
      }
    }
    if (r == 0 && strcmp(p->hash, q->hash) != 0) {
      snprintf(why, len, "the pod hash differs");
      r = -1;
    }
    if (r == 0) {
      a = podjson_pod(p, NULL);
      b = podjson_pod(q, NULL);
      if (a == NULL || b == NULL || !json_equal(a, b)) {
        snprintf(why, len, "the second document differs from the first");
        r = -1;
      }
    }
  }
  json_decref(a);
  json_decref(b);
  roundtrip_parsed_free(&x);
  return r;
}

/* The contract of podjson.h for p, asserted. */
void roundtrip_assert(const spec_pod *p, const char *label) {
  pv_err err;
  pv_err_clear(&err);
  char *text = podjson_pod_text(p, &err);
  ck_assert_msg(text != NULL, "%s: %s", label, pv_err_str(&err));
  json_t *doc = podjson_pod(p, &err);
  ck_assert_ptr_nonnull(doc);
  /* The text is the document (Jansson reads it back as the same value). */
  json_error_t jerr;
  json_t *back = json_loads(text, 0, &jerr);
  ck_assert_msg(back != NULL, "%s: the text is not JSON: %s", label, jerr.text);
  ck_assert_msg(json_equal(back, doc), "%s: the text is not podjson_pod()", label);
  /* podjson_container() is the element of spec.containers/initContainers. */
  json_t *spec = json_object_get(doc, "spec");
  for (size_t i = 0; i < p->n_init_containers + p->n_containers; i++) {
    const spec_container *c = roundtrip_nth(p, i);
    json_t *list = json_object_get(spec, c->is_init ? "initContainers" : "containers");
    json_t *want = json_array_get(list, c->is_init ? i : i - p->n_init_containers);
    json_t *got = podjson_container(c, &err);
    ck_assert_msg(got != NULL && json_equal(got, want), "%s: podjson_container(%s) differs", label, c->name);
    json_decref(got);
  }
  char why[1200];
  int r = roundtrip_compare(p, text, why, sizeof why);
  if (r != 0)
    fprintf(stderr, "%s: %.4000s\n", label, text);
  ck_assert_msg(r == 0, "%s: %s", label, why);
  /* Written twice, the text is the same (keys in a fixed order). */
  char *again = podjson_pod_text(p, &err);
  ck_assert_str_eq(again, text);
  free(again);
  json_decref(back);
  json_decref(doc);
  free(text);
}

void roundtrip_yaml(const char *yaml, const char *label) {
  spec_pod *p = roundtrip_one_pod(yaml);
  roundtrip_assert(p, label);
  spec_pod_free(p);
}
