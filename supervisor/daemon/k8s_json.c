/* k8s_json.c - zero-value getters over Jansson documents (k8s_json.h). */
#include "supervisor/daemon/k8s_json.h"

#include <string.h>

#include "supervisor/shim/status.h"

const json_t *k8s_json_at(const json_t *o, const char *path) {
  const json_t *cur = o;
  const char *p = path;
  while (cur != NULL && *p != '\0') {
    const char *dot = strchr(p, '.');
    size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
    cur = json_is_object(cur) ? json_object_getn(cur, p, n) : NULL;
    p += n;
    if (*p == '.')
      p++;
  }
  return cur;
}

const json_t *k8s_json_obj(const json_t *o, const char *path) {
  const json_t *v = k8s_json_at(o, path);
  return json_is_object(v) ? v : NULL;
}

const json_t *k8s_json_arr(const json_t *o, const char *path) {
  const json_t *v = k8s_json_at(o, path);
  return json_is_array(v) ? v : NULL;
}

const char *k8s_json_str(const json_t *o, const char *path) {
  const json_t *v = k8s_json_at(o, path);
  return json_is_string(v) ? json_string_value(v) : "";
}

const char *k8s_json_member(const json_t *o, const char *key) {
  const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
  return json_is_string(v) ? json_string_value(v) : "";
}

int64_t k8s_json_int(const json_t *o, const char *path) {
  const json_t *v = k8s_json_at(o, path);
  return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

bool k8s_json_bool(const json_t *o, const char *path) {
  return json_is_true(k8s_json_at(o, path));
}

int64_t k8s_json_time(const json_t *o, const char *path) {
  int64_t ns;
  const char *s = k8s_json_str(o, path);
  if (*s == '\0' || status_parse_time(s, &ns) < 0)
    return 0;
  return ns;
}

int k8s_json_set_str_opt(json_t *o, const char *key, const char *s) {
  if (s == NULL || *s == '\0')
    return 0;
  return json_object_set_new(o, key, json_string(s));
}
