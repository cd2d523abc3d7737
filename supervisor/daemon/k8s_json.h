/*
 * k8s_json.h - reading Kubernetes objects in Jansson the way Go clients do.
 *
 * What it is for: the kubectl-like code (k8s_podstat, k8s_table,
 * k8s_describe) reads Pod, Table and Event documents that came from any
 * source (the daemon, a file, another API server).  A Go client decodes a
 * missing field, a null and a value of the wrong type alike as the zero
 * value; these getters do the same, so no document can make the callers
 * crash or branch on shape: a string getter gives "" (never NULL), an
 * integer getter 0, a boolean false, a time 0.
 *
 * Paths are dotted keys ("status.phase"); a path never indexes arrays.
 * Pure, borrowed references only, no allocation.
 */
#ifndef PODVISOR_DAEMON_K8S_JSON_H
#define PODVISOR_DAEMON_K8S_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The value at path, or NULL. */
const json_t *k8s_json_at(const json_t *o, const char *path);

/* The object at path, or NULL when absent or not an object. */
const json_t *k8s_json_obj(const json_t *o, const char *path);

/* The array at path, or NULL when absent or not an array. */
const json_t *k8s_json_arr(const json_t *o, const char *path);

/* The string at path, or "" when absent or not a string. */
const char *k8s_json_str(const json_t *o, const char *path);

/* The string member key of o (the key taken whole: label and annotation
 * keys have dots), or "". */
const char *k8s_json_member(const json_t *o, const char *key);

/* The integer at path, or 0. */
int64_t k8s_json_int(const json_t *o, const char *path);

/* The boolean at path, or false. */
bool k8s_json_bool(const json_t *o, const char *path);

/* The RFC 3339 time at path as ns since the epoch, or 0 (Go's zero time)
 * when absent or unparsable. */
int64_t k8s_json_time(const json_t *o, const char *path);

/* Sets key on o to a new string when s is neither NULL nor "" (Go's
 * omitempty); returns -1 on out of memory. */
int k8s_json_set_str_opt(json_t *o, const char *key, const char *s);

#endif
