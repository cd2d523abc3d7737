/* kstatus.c - the keeper's status document (kstatus.h). */
#include "supervisor/shim/kstatus.h"

#include <string.h>

#include "supervisor/shim/status.h"

static json_t *backoff_json(const backoff_state *bo) {
  json_t *starts = json_array();
  for (uint32_t k = 0; k < bo->nstarts; k++)
    json_array_append_new(
        starts,
        json_integer(bo->starts[(bo->head + BACKOFF_LIMIT_MAX - bo->nstarts + k) % BACKOFF_LIMIT_MAX]));
  return json_pack("{s:I,s:o}", "exits", (json_int_t)bo->exits, "startsMs", starts);
}

/* The view's container named name.  The status lists the containers in
 * the view's order, so the one after the last found (*next) is tried
 * first: rendering a pod stays linear in its number of containers. */
static const kstatus_ctr *find(const kstatus_view *v, const char *name, size_t *next) {
  if (name == NULL)
    return NULL;
  if (*next < v->n_ctrs && strcmp(v->ctrs[*next].name, name) == 0)
    return &v->ctrs[(*next)++];
  for (size_t i = 0; i < v->n_ctrs; i++)
    if (strcmp(v->ctrs[i].name, name) == 0) {
      *next = i + 1;
      return &v->ctrs[i];
    }
  return NULL;
}

json_t *kstatus_json(const kstatus_view *v) {
  json_t *root = status_to_json(v->st);
  if (root == NULL)
    return NULL;
  json_object_set_new(root, "metadata",
                      json_pack("{s:s,s:s,s:s}", "name", v->name, "namespace", v->ns, "uid", v->uid));
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  size_t next = 0;
  for (int k = 0; k < 2; k++) {
    json_t *arr = json_object_get(root, keys[k]), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
      const kstatus_ctr *c = find(v, json_string_value(json_object_get(e, "name")), &next);
      json_t *cpv = json_object_get(e, "podvisor");
      if (c == NULL || cpv == NULL)
        continue;
      if (c->restart_gap_ns > 0)
        json_object_set_new(cpv, "restartGapNs", json_integer(c->restart_gap_ns));
      json_object_set_new(cpv, "backoff", backoff_json(c->bo));
    }
  }
  json_t *pv = json_object_get(root, "podvisor");
  if (pv == NULL) {
    pv = json_object();
    json_object_set_new(root, "podvisor", pv);
  }
  json_object_set_new(pv, "stopping", json_boolean(v->stopping));
  if (v->sandbox_error != NULL && v->sandbox_error[0] != '\0') {
    /* The pod's pid namespace died and could not be replaced: whatever its
     * containers would do, the pod is over (the kubelet's failed sandbox). */
    json_object_set_new(root, "phase", json_string("Failed"));
    json_object_set_new(root, "reason", json_string("SandboxFailed"));
    json_object_set_new(root, "message", json_string(v->sandbox_error));
  }
  return root;
}

void kstatus_backoff_restore(const json_t *doc, const char *name, backoff_state *bo) {
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  for (int k = 0; k < 2; k++) {
    const json_t *arr = json_object_get(doc, keys[k]), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
      const char *n = json_string_value(json_object_get(e, "name"));
      if (n == NULL || strcmp(n, name) != 0)
        continue;
      const json_t *j = json_object_get(json_object_get(e, "podvisor"), "backoff");
      const json_t *exits = json_object_get(j, "exits"), *starts = json_object_get(j, "startsMs"), *s;
      if (!json_is_integer(exits) || json_integer_value(exits) < 0 ||
          json_integer_value(exits) > UINT32_MAX || !json_is_array(starts))
        return;
      size_t m;
      json_array_foreach(starts, m, s) if (!json_is_integer(s)) return;
      backoff_state_init(bo);
      bo->exits = (uint32_t)json_integer_value(exits);
      json_array_foreach(starts, m, s) backoff_record_start(bo, json_integer_value(s));
      return;
    }
  }
}
