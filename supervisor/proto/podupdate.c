/* podupdate.c - a pod with one container replaced (podupdate.h). */
#include "supervisor/proto/podupdate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/proto/podjson.h"

/* The array of the pod document that holds container name, and its index. */
static json_t *find_container(json_t *doc, const char *name, size_t *at) {
  const char *keys[2] = {"initContainers", "containers"};
  for (int k = 0; k < 2; k++) {
    json_t *arr = json_object_get(json_object_get(doc, "spec"), keys[k]), *c;
    size_t i;
    json_array_foreach(arr, i, c) {
      const char *n = json_string_value(json_object_get(c, "name"));
      if (n != NULL && strcmp(n, name) == 0) {
        *at = i;
        return arr;
      }
    }
  }
  return NULL;
}

/* The other containers are the same, and the updated one keeps its kind. */
static bool confined(const spec_pod *a, const spec_pod *b, const char *name) {
  if (strcmp(a->sandbox_hash, b->sandbox_hash) != 0 || a->n_init_containers != b->n_init_containers ||
      a->n_containers != b->n_containers)
    return false;
  for (size_t k = 0; k < 2; k++) {
    const spec_container *ca = k ? a->containers : a->init_containers;
    const spec_container *cb = k ? b->containers : b->init_containers;
    size_t n = k ? a->n_containers : a->n_init_containers;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(ca[i].name, cb[i].name) != 0 || ca[i].is_init != cb[i].is_init ||
          ca[i].sidecar != cb[i].sidecar)
        return false;
      if (strcmp(ca[i].name, name) != 0 && strcmp(ca[i].hash, cb[i].hash) != 0)
        return false;
    }
  }
  return true;
}

int podupdate_replace_container(const spec_pod *cur, const char *name, const json_t *ctr, spec_pod **out,
                                bool *changed, diag_list *diags, pv_err *err) {
  *out = NULL;
  *changed = false;
  const spec_container *old = spec_pod_container(cur, name);
  if (old == NULL)
    return pv_err_set(err, ENOENT, "pod %s has no container %s", cur->name, name);
  if (!json_is_object(ctr))
    return pv_err_set(err, EINVAL, "container %s: the spec is not an object", name);
  const char *given = json_string_value(json_object_get(ctr, "name"));
  if (json_object_get(ctr, "name") != NULL && (given == NULL || strcmp(given, name) != 0))
    return pv_err_set(err, EINVAL, "container %s: spec.name '%.64s' is another container's", name,
                      given != NULL ? given : "(not a string)");
  json_t *doc = podjson_pod(cur, err);
  if (doc == NULL)
    return -1;
  size_t at;
  json_t *arr = find_container(doc, name, &at), *copy = json_deep_copy(ctr);
  if (arr == NULL || copy == NULL || json_object_set_new(copy, "name", json_string(name)) < 0 ||
      json_array_set_new(arr, at, copy) < 0) {
    json_decref(doc);
    return pv_err_set(err, ENOMEM, "pod %s: update of %s: out of memory", cur->name, name);
  }
  char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  if (text == NULL)
    return pv_err_set(err, ENOMEM, "pod %s: update of %s: out of memory", cur->name, name);
  char label[128];
  snprintf(label, sizeof label, "update of %.64s", name);
  spec_pod_list l = {0};
  int rc = spec_parse_buffer(label, text, strlen(text), 0, &l, diags);
  free(text);
  if (rc < 0 || l.n != 1) {
    spec_pod_list_free(&l);
    return pv_err_set(err, EINVAL, "pod %s: container %s: invalid spec", cur->name, name);
  }
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  if (!confined(cur, p, name)) {
    spec_pod_free(p);
    return pv_err_set(err, EPERM, "pod-level change: recreate the pod");
  }
  *changed = strcmp(spec_pod_container(p, name)->hash, old->hash) != 0;
  *out = p;
  return 0;
}
