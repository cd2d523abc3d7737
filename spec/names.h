/*
 * names.h - the name rules Kubernetes applies to Pod fields.
 *
 * What it is for: one predicate per rule of ../shared/corpus/RULES.md
 * section 2, each returning true when s is valid.  When it is not and why is
 * not NULL, why receives Kubernetes' own wording (several problems are joined
 * with "; "), ready to follow a field path in a diagnostic.  Pure functions:
 * no allocation, nothing blocks.  s must not be NULL.
 *
 *   rule                 used for
 *   dns1123_label        containers[].name, volumes[].name, hostname, subdomain
 *   dns1123_subdomain    metadata.name, hostAliases hostnames
 *   port_name            ports[].name and probe ports given by name
 *   env_var              env[].name (strict rule, not the relaxed one)
 *   label_key            metadata.labels keys: [prefix/]name
 *   label_value          metadata.labels values
 *   http_header          httpGet.httpHeaders[].name
 */
#ifndef PODVISOR_SPEC_NAMES_H
#define PODVISOR_SPEC_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAMES_DNS1123_LABEL_MAX 63
#define NAMES_DNS1123_SUBDOMAIN_MAX 253
#define NAMES_PORT_NAME_MAX 15
#define NAMES_LABEL_VALUE_MAX 63

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters. */
bool names_dns1123_label(const char *s, char *why, size_t whylen);

/* Labels joined by '.', at most 253 characters. */
bool names_dns1123_subdomain(const char *s, char *why, size_t whylen);

/* IANA_SVC_NAME: at most 15 of [-a-z0-9], at least one letter, no "--",
 * no '-' at either end. */
bool names_port_name(const char *s, char *why, size_t whylen);

/* [-._a-zA-Z][-._a-zA-Z0-9]*, and not ".", ".." or starting with "..". */
bool names_env_var(const char *s, char *why, size_t whylen);

/* Optional DNS-1123 subdomain prefix and '/', then a name of at most 63
 * characters matching ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]. */
bool names_label_key(const char *s, char *why, size_t whylen);

/* Empty, or at most 63 characters of the label-name class. */
bool names_label_value(const char *s, char *why, size_t whylen);

/* [-A-Za-z0-9]+ */
bool names_http_header(const char *s, char *why, size_t whylen);

#endif
