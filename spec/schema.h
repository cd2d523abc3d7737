/*
 * schema.h - which keys each Kubernetes object in a Pod may hold, and what
 * podvisor does with each one.
 *
 * Every key of every mapping the decoder visits is classified here first:
 *  - SUPPORTED: decoded into the typed model;
 *  - WARN: a Kubernetes field podvisor ignores because ignoring it does not
 *    change what runs on one host (scheduling, cluster services...);
 *  - REFUSE: a Kubernetes field podvisor does not implement and whose
 *    absence would change what runs (other volume types, env from secrets...);
 *    REFUSE_UNLESS_FALSE / REFUSE_UNLESS_TRUE refuse only a non-default
 *    boolean (hostPID: false is harmless);
 *  - anything else is not a Kubernetes field: an error with a suggestion,
 *    including "it belongs in spec" when the key is known somewhere else.
 * spec/REFERENCE.md lists the same classes with the same reasons; keep them
 * together when changing either.
 */
#ifndef PODVISOR_SPEC_SCHEMA_H
#define PODVISOR_SPEC_SCHEMA_H

#include <stddef.h>

typedef enum schema_class {
  SCHEMA_SUPPORTED = 0,
  SCHEMA_WARN,
  SCHEMA_REFUSE,
  SCHEMA_REFUSE_UNLESS_FALSE,
  SCHEMA_REFUSE_UNLESS_TRUE,
} schema_class;

typedef struct schema_field {
  const char *name;
  schema_class cls;
  const char *reason; /* why it is warned or refused */
} schema_field;

typedef enum schema_object {
  SCHEMA_TOP = 0,
  SCHEMA_METADATA,
  SCHEMA_POD_SPEC,
  SCHEMA_CONTAINER,
  SCHEMA_ENV,
  SCHEMA_PORT,
  SCHEMA_RESOURCES,
  SCHEMA_VOLUME_MOUNT,
  SCHEMA_PROBE,
  SCHEMA_EXEC,
  SCHEMA_HTTP_GET,
  SCHEMA_TCP_SOCKET,
  SCHEMA_HTTP_HEADER,
  SCHEMA_LIFECYCLE,
  SCHEMA_LIFECYCLE_HANDLER,
  SCHEMA_SECURITY_CONTEXT,
  SCHEMA_POD_SECURITY_CONTEXT,
  SCHEMA_CAPABILITIES,
  SCHEMA_SECCOMP_PROFILE,
  SCHEMA_VOLUME,
  SCHEMA_EMPTY_DIR,
  SCHEMA_HOST_PATH,
  SCHEMA_SYSCTL,
  SCHEMA_N_OBJECTS
} schema_object;

/* The fields of an object, and where that object sits in a Pod
 * ("spec.containers[]"), for "belongs in" hints. */
const schema_field *schema_fields(schema_object o, size_t *n);
const char *schema_where(schema_object o);

/* The field called name in o, or NULL. */
const schema_field *schema_lookup(schema_object o, const char *name);

/* Writes a hint for an unknown key of o into buf ("" when there is none):
 *   "did you mean 'restartPolicy'?"                     (a close key of o)
 *   "'restartPolicy' belongs in spec, not in metadata"   (known in another object)
 *   "did you mean 'image'? (a field of spec.containers[])"  (close to another object's key) */
void schema_hint(schema_object o, const char *name, char *buf, size_t len);

#endif
