/*
 * names.c - Kubernetes name rules, written as small scanners rather than
 * regular expressions so that nothing is compiled at run time and every
 * check is linear.  The messages follow
 * k8s.io/apimachinery/pkg/util/validation.
 */
#include "spec/names.h"

#include <stdio.h>
#include <string.h>

#include "spec/textutil.h"

static const char label_msg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')";
static const char subdomain_msg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com')";
static const char qname_msg[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')";
static const char label_value_msg[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', "
    "or '12345')";
static const char env_msg[] =
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
    "or '.', and must not start with a digit (e.g. 'my.env-name', or 'MY_ENV.NAME', or "
    "'MyEnvName1')";
static const char header_msg[] =
    "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name')";

/* Collects problems into why, joined with "; ". */
struct why_buf {
  char *buf;
  size_t len;
  size_t used;
  int count;
};

static void why_init(struct why_buf *w, char *buf, size_t len) {
  w->buf = buf;
  w->len = buf ? len : 0;
  w->used = 0;
  w->count = 0;
  if (w->len)
    w->buf[0] = '\0';
}

static void why_add(struct why_buf *w, const char *prefix, const char *msg) {
  w->count++;
  if (w->used >= w->len)
    return;
  int n = snprintf(w->buf + w->used, w->len - w->used, "%s%s%s", w->count > 1 ? "; " : "",
                   prefix, msg);
  if (n > 0)
    w->used += (size_t)n;
}

static void why_max_len(struct why_buf *w, const char *prefix, size_t max) {
  char msg[64];
  snprintf(msg, sizeof msg, "must be no more than %zu characters", max);
  why_add(w, prefix, msg);
}

static bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || textutil_is_digit(c); }
static bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n). */
static bool label_chars(const char *s, size_t n) {
  if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!lower_alnum(s[i]) && s[i] != '-')
      return false;
  return true;
}

/* Labels joined by single dots over s[0..n). */
static bool subdomain_chars(const char *s, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || s[i] == '.') {
      if (!label_chars(s + start, i - start))
        return false;
      start = i + 1;
    }
  }
  return true;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n). */
static bool qualified_chars(const char *s, size_t n) {
  if (n == 0 || !alnum(s[0]) || !alnum(s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!alnum(s[i]) && !strchr("-_.", s[i]))
      return false;
  return true;
}

bool names_dns1123_label(const char *s, char *why, size_t whylen) {
  struct why_buf w;
  why_init(&w, why, whylen);
  size_t n = strlen(s);
  if (n > NAMES_DNS1123_LABEL_MAX)
    why_max_len(&w, "", NAMES_DNS1123_LABEL_MAX);
  if (!label_chars(s, n)) {
    /* A valid subdomain is a label with dots: say only that. */
    if (memchr(s, '.', n) && subdomain_chars(s, n))
      why_add(&w, "", "must not contain dots");
    else
      why_add(&w, "", label_msg);
  }
  return w.count == 0;
}

static bool subdomain_check(const char *s, size_t n, const char *prefix, struct why_buf *w) {
  int before = w->count;
  if (n > NAMES_DNS1123_SUBDOMAIN_MAX)
    why_max_len(w, prefix, NAMES_DNS1123_SUBDOMAIN_MAX);
  if (!subdomain_chars(s, n))
    why_add(w, prefix, subdomain_msg);
  return w->count == before;
}

bool names_dns1123_subdomain(const char *s, char *why, size_t whylen) {
  struct why_buf w;
  why_init(&w, why, whylen);
  return subdomain_check(s, strlen(s), "", &w);
}

bool names_port_name(const char *s, char *why, size_t whylen) {
  struct why_buf w;
  why_init(&w, why, whylen);
  size_t n = strlen(s);
  bool chars_ok = n > 0, letter = false;
  for (size_t i = 0; i < n; i++) {
    if (!lower_alnum(s[i]) && s[i] != '-')
      chars_ok = false;
    if (s[i] >= 'a' && s[i] <= 'z')
      letter = true;
  }
  if (n > NAMES_PORT_NAME_MAX)
    why_max_len(&w, "", NAMES_PORT_NAME_MAX);
  if (!chars_ok)
    why_add(&w, "", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!letter)
    why_add(&w, "", "must contain at least one letter (a-z)");
  if (strstr(s, "--"))
    why_add(&w, "", "must not contain consecutive hyphens");
  if (n > 0 && (s[0] == '-' || s[n - 1] == '-'))
    why_add(&w, "", "must not begin or end with a hyphen");
  return w.count == 0;
}

bool names_env_var(const char *s, char *why, size_t whylen) {
  struct why_buf w;
  why_init(&w, why, whylen);
  size_t n = strlen(s);
  bool ok = n > 0 && !textutil_is_digit(s[0]);
  for (size_t i = 0; i < n && ok; i++)
    if (!alnum(s[i]) && !strchr("-._", s[i]))
      ok = false;
  if (!ok)
    why_add(&w, "", env_msg);
  /* Kubernetes also refuses names that look like directory changes. */
  if (strcmp(s, ".") == 0)
    why_add(&w, "", "must not be '.'");
  else if (strcmp(s, "..") == 0)
    why_add(&w, "", "must not be '..'");
  else if (strncmp(s, "..", 2) == 0)
    why_add(&w, "", "must not start with '..'");
  return w.count == 0;
}

bool names_label_key(const char *s, char *why, size_t whylen) {
  struct why_buf w;
  why_init(&w, why, whylen);
  const char *slash = strchr(s, '/');
  const char *name = s;
  if (slash && strchr(slash + 1, '/')) {
    why_add(&w, "a qualified name ",
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc') with an "
            "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return false;
  }
  if (slash) {
    size_t plen = (size_t)(slash - s);
    if (plen == 0)
      why_add(&w, "prefix part ", "must be non-empty");
    else
      subdomain_check(s, plen, "prefix part ", &w);
    name = slash + 1;
  }
  size_t n = strlen(name);
  if (n == 0)
    why_add(&w, "name part ", "must be non-empty");
  else {
    if (n > NAMES_LABEL_VALUE_MAX)
      why_max_len(&w, "name part ", NAMES_LABEL_VALUE_MAX);
    if (!qualified_chars(name, n))
      why_add(&w, "name part ", qname_msg);
  }
  return w.count == 0;
}

bool names_label_value(const char *s, char *why, size_t whylen) {
  struct why_buf w;
  why_init(&w, why, whylen);
  size_t n = strlen(s);
  if (n > NAMES_LABEL_VALUE_MAX)
    why_max_len(&w, "", NAMES_LABEL_VALUE_MAX);
  if (n > 0 && !qualified_chars(s, n))
    why_add(&w, "", label_value_msg);
  return w.count == 0;
}

bool names_http_header(const char *s, char *why, size_t whylen) {
  struct why_buf w;
  why_init(&w, why, whylen);
  size_t n = strlen(s);
  bool ok = n > 0;
  for (size_t i = 0; i < n && ok; i++)
    if (!alnum(s[i]) && s[i] != '-')
      ok = false;
  if (!ok)
    why_add(&w, "", header_msg);
  return ok;
}
