/* k8s_meta.c - lists, watch events and Status objects (k8s_meta.h). */
#include "supervisor/daemon/k8s_meta.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const watch_types[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

static bool known_type(const char *type) {
  for (size_t i = 0; type != NULL && i < sizeof watch_types / sizeof *watch_types; i++)
    if (strcmp(type, watch_types[i]) == 0)
      return true;
  return false;
}

json_t *k8s_meta_list(const char *kind, const char *api_version, json_t *items, const char *rv, pv_err *err) {
  if (!json_is_array(items)) {
    json_decref(items);
    pv_err_set(err, EINVAL, "%s: the items are not a JSON array", kind);
    return NULL;
  }
  json_t *o = json_pack("{s:s,s:s,s:{s:s},s:o}", "kind", kind, "apiVersion", api_version, "metadata",
                        "resourceVersion", rv != NULL ? rv : "", "items", items);
  if (o == NULL)
    pv_err_set(err, ENOMEM, "%s: cannot build it: out of memory", kind);
  return o;
}

json_t *k8s_meta_watch_event(const char *type, json_t *object, pv_err *err) {
  if (!known_type(type) || !json_is_object(object)) {
    json_decref(object);
    pv_err_set(err, EINVAL, "watch event: %s",
               known_type(type) ? "the object is not a JSON object" : "unknown event type");
    return NULL;
  }
  json_t *o = json_pack("{s:s,s:o}", "type", type, "object", object);
  if (o == NULL)
    pv_err_set(err, ENOMEM, "watch event: out of memory");
  return o;
}

char *k8s_meta_watch_line(const char *type, const json_t *object, pv_err *err) {
  json_t *ev = k8s_meta_watch_event(type, json_incref((json_t *)object), err);
  if (ev == NULL)
    return NULL;
  char *text = json_dumps(ev, JSON_COMPACT);
  json_decref(ev);
  size_t n = text != NULL ? strlen(text) : 0;
  char *line = text != NULL ? realloc(text, n + 2) : NULL;
  if (line == NULL) {
    free(text);
    pv_err_set(err, ENOMEM, "watch event: out of memory");
    return NULL;
  }
  line[n] = '\n';
  line[n + 1] = '\0';
  return line;
}

json_t *k8s_meta_status(int code, const char *reason, const char *message, pv_err *err) {
  json_t *o = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s,s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                        "status", "Failure", "message", message != NULL ? message : "", "reason",
                        reason != NULL ? reason : "", "code", code);
  if (o == NULL)
    pv_err_set(err, ENOMEM, "Status: out of memory");
  return o;
}
