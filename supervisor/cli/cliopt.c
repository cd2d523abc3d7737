/*
 * cliopt.c - the API commands' shared argument parsing (see cliopt.h).
 */
#include "supervisor/cli/cliopt.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cliopt_begin(void) {
  optind = 0; /* glibc: a full reinitialisation, also of a cluster in progress */
  opterr = 0;
}

int cliopt_fail(char *msg, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, CLI_MSG_MAX, fmt, ap);
  va_end(ap);
  return CLI_PARSE_USAGE;
}

int cliopt_bad(int c, char **argv, char *msg) {
  const char *el = optind > 0 ? argv[optind - 1] : "";
  bool is_long = el != NULL && strncmp(el, "--", 2) == 0;
  size_t n = is_long ? strcspn(el, "=") : 0;
  if (c == ':') {
    if (is_long)
      return cliopt_fail(msg, "flag needs an argument: %.*s", (int)n, el);
    return cliopt_fail(msg, "flag needs an argument: '%c' in -%c", optopt, optopt);
  }
  if (optopt != 0 && !is_long)
    return cliopt_fail(msg, "unknown shorthand flag: '%c' in -%c", optopt, optopt);
  if (is_long)
    return cliopt_fail(msg, "unknown flag: %.*s", (int)n, el);
  return cliopt_fail(msg, "unknown flag: %s", el != NULL ? el : "?");
}

const char *cliopt_arg(const char *arg) {
  return arg != NULL && arg[0] == '=' ? arg + 1 : arg;
}

int cliopt_bool(const char *flag, const char *arg, bool *out, char *msg) {
  arg = cliopt_arg(arg);
  if (arg == NULL || strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0 || strcmp(arg, "t") == 0 ||
      strcmp(arg, "T") == 0 || strcmp(arg, "TRUE") == 0 || strcmp(arg, "True") == 0) {
    *out = true;
    return CLI_PARSE_OK;
  }
  if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0 || strcmp(arg, "f") == 0 || strcmp(arg, "F") == 0 ||
      strcmp(arg, "FALSE") == 0 || strcmp(arg, "False") == 0) {
    *out = false;
    return CLI_PARSE_OK;
  }
  return cliopt_fail(msg, "invalid argument \"%s\" for \"%s\" flag: not a boolean", arg, flag);
}

int cliopt_long(const char *flag, const char *arg, long min, long max, long *out, char *msg) {
  arg = cliopt_arg(arg);
  char *end;
  errno = 0;
  long v = strtol(arg, &end, 10);
  if (arg[0] == '\0' || *end != '\0' || errno != 0)
    return cliopt_fail(msg, "invalid argument \"%s\" for \"%s\" flag: not an integer", arg, flag);
  if (v < min || v > max)
    return cliopt_fail(msg, "invalid argument \"%s\" for \"%s\" flag: not between %ld and %ld", arg, flag,
                       min, max);
  *out = v;
  return CLI_PARSE_OK;
}

int cliopt_duration_ms(const char *flag, const char *arg, int64_t *out, char *msg) {
  arg = cliopt_arg(arg);
  bool bare = arg[0] != '\0' && strspn(arg, "0123456789.") == strlen(arg); /* seconds */
  bool bad = arg[0] == '\0';
  double total = 0;
  for (const char *p = arg; !bad && *p != '\0';) {
    char *end;
    errno = 0;
    double v = strtod(p, &end), unit = 0;
    bad = end == p || errno != 0 || !(v >= 0) || *p == '-' || *p == '+';
    p = end;
    if (bare)
      unit = 1000, bad = bad || *p != '\0';
    else if (strncmp(p, "ms", 2) == 0)
      unit = 1, p += 2;
    else if (*p == 's')
      unit = 1000, p++;
    else if (*p == 'm')
      unit = 60000, p++;
    else if (*p == 'h')
      unit = 3600000, p++;
    else
      bad = true;
    total += v * unit;
    bad = bad || !(total <= 1e15);
  }
  if (bad)
    return cliopt_fail(msg, "invalid argument \"%s\" for \"%s\" flag: not a duration (like 30s, 2m, 1h)", arg,
                       flag);
  *out = (int64_t)total;
  return CLI_PARSE_OK;
}

bool cliopt_is_pods(const char *type) {
  return strcmp(type, "pods") == 0 || strcmp(type, "pod") == 0 || strcmp(type, "po") == 0;
}

int cliopt_pod_args(char **args, size_t n, const char **names, size_t *n_names, char *msg) {
  *n_names = 0;
  if (n == 0)
    return cliopt_fail(msg, "you must specify the type of resource (pods)");
  if (strchr(args[0], '/') == NULL) {
    if (!cliopt_is_pods(args[0]))
      return cliopt_fail(msg, "the server doesn't have a resource type \"%s\"", args[0]);
    for (size_t i = 1; i < n; i++) {
      if (strchr(args[i], '/') != NULL)
        return cliopt_fail(msg,
                           "there is no need to specify a resource type as a separate argument when passing "
                           "arguments in resource/name form (e.g. 'podvisor get resource/<resource_name>' "
                           "instead of 'podvisor get resource resource/<resource_name>'");
      names[(*n_names)++] = args[i];
    }
    return CLI_PARSE_OK;
  }
  for (size_t i = 0; i < n; i++) {
    char *slash = strchr(args[i], '/');
    if (slash == NULL)
      return cliopt_fail(msg, "arguments in resource/name form must have a single resource and name");
    size_t tl = (size_t)(slash - args[i]);
    char type[16];
    if (tl == 0 || tl >= sizeof type || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
      return cliopt_fail(msg, "arguments in resource/name form must have a single resource and name");
    memcpy(type, args[i], tl);
    type[tl] = '\0';
    if (!cliopt_is_pods(type))
      return cliopt_fail(msg, "the server doesn't have a resource type \"%s\"", type);
    names[(*n_names)++] = slash + 1;
  }
  return CLI_PARSE_OK;
}

int cliopt_one_pod(const char *arg, const char **name, char *msg) {
  size_t n = 0;
  char *args[1] = {(char *)arg};
  if (strchr(arg, '/') == NULL) {
    *name = arg;
    return CLI_PARSE_OK;
  }
  return cliopt_pod_args(args, 1, name, &n, msg);
}

int cliopt_finish(int parsed, const char *cmd, const char *msg, void (*help)(FILE *)) {
  if (parsed == CLI_PARSE_OK)
    return -1;
  if (parsed == CLI_PARSE_HELP) {
    help(stdout);
    return 0;
  }
  fprintf(stderr, "error: %s\nSee 'podvisor %s --help' for usage.\n", msg, cmd);
  return 2;
}
