/*
 * daemon_config.c - the daemon's options: its flags, then its config file
 * (/etc/podvisor/daemon.yaml, libyaml) for what the flags did not set, then
 * the defaults.
 *
 * The config file is one YAML mapping of scalars; its keys are the flags'
 * names, in kebab or camel case alike ("run-root", "runRoot"):
 *   root, run-root, manifests, listen, listen-insecure, log-level,
 *   keep-pods, rescan-seconds, shim, cgroup-parent, userns-pool.
 * An unknown key or a value of the wrong kind is an error naming the file,
 * its line and column, as a manifest's are.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "supervisor/core/idpool.h"
#include "supervisor/core/resource.h"
#include "supervisor/daemon/daemon_core.h"

static const char usage_text[] =
    "usage: podvisor daemon [flags]\n"
    "\n"
    "Keeps every pod of the manifest directory and every pod applied through the API running, one\n"
    "podvisor-shim per pod, and serves the API on <run-root>/" PVD_SOCKET_NAME ".\n"
    "\n"
    "flags:\n"
    "  --root DIR            images, pod data, logs, applied pods (default /var/lib/podvisor)\n"
    "  --run-root DIR        sockets, run directories, the daemon's lock (default /run/podvisor)\n"
    "  --manifests DIR       the watched manifest directory (default " PVD_DEFAULT_MANIFESTS ")\n"
    "  --listen ADDR:PORT    also serve the API on TCP (read-only without the token)\n"
    "  --listen-insecure     allow --listen on an address other than loopback\n"
    "  --log-level LEVEL     debug, info, warn or error (default info)\n"
    "  --config FILE         the config file (default " PVD_DEFAULT_CONFIG "; flags win over it)\n"
    "  --keep-pods           at SIGTERM/SIGINT leave the pods running (the next daemon adopts them)\n"
    "  --rescan-seconds N    the periodic full rescan of the manifest directory (default 20)\n"
    "  --shim PATH           the keeper binary (default: podvisor-shim beside podvisor)\n"
    "  --cgroup-parent PATH  the pods' cgroup parent, relative to the cgroup root (default podvisor;\n"
    "                        in a delegated cgroup v2 subtree <delegated>/podvisor)\n"
    "  --userns-pool FIRST:COUNT\n"
    "                        the host ids of the pods with hostUsers: false: COUNT ranges of 65536\n"
    "                        ids from host id FIRST, a multiple of 65536 (default " IDPOOL_ENV "\n"
    "                        when set, else 65536:1024)\n"
    "\n"
    "Signals: SIGTERM/SIGINT stop every pod gracefully and exit 0; SIGHUP rereads the config file\n"
    "and rescans the manifest directory.\n";

int pvd_log_level_parse(const char *s, pvd_log_level *out) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; i++)
    if (strcasecmp(s, names[i]) == 0) {
      *out = (pvd_log_level)i;
      return 0;
    }
  if (strcasecmp(s, "warning") == 0) {
    *out = PVD_LOG_WARN;
    return 0;
  }
  return -1;
}

static int parse_seconds(const char *s, unsigned *ms) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || v < 0.05 || v > 86400)
    return -1;
  *ms = (unsigned)(v * 1000);
  return 0;
}

static bool parse_bool(const char *s, bool *out) {
  if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0 || strcmp(s, "1") == 0)
    *out = true;
  else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0 || strcmp(s, "0") == 0)
    *out = false;
  else
    return false;
  return true;
}

static void set_str(char **field, const char *v) {
  free(*field);
  *field = strdup(v);
}

/* A flag with a value: "--name VALUE" or "--name=VALUE". */
static const char *flag_value(int argc, char **argv, int *i, const char *name, bool *bad) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0)
    return NULL;
  if (a[n] == '=')
    return a + n + 1;
  if (a[n] != '\0')
    return NULL;
  if (*i + 1 >= argc) {
    fprintf(stderr, "podvisor daemon: %s needs a value\n", name);
    *bad = true;
    return NULL;
  }
  return argv[++*i];
}

int pvd_opts_parse(int argc, char **argv, pvd_opts *o, pvd_opts_set *set) {
  memset(o, 0, sizeof *o);
  memset(set, 0, sizeof *set);
  o->log_level = PVD_LOG_INFO;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    bool bad = false;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage_text, stdout);
      return 1;
    } else if ((v = flag_value(argc, argv, &i, "--root", &bad)) != NULL) {
      set_str(&o->root, v), set->root = true;
    } else if ((v = flag_value(argc, argv, &i, "--run-root", &bad)) != NULL) {
      set_str(&o->run_root, v), set->run_root = true;
    } else if ((v = flag_value(argc, argv, &i, "--manifests", &bad)) != NULL) {
      set_str(&o->manifests, v), set->manifests = true;
    } else if ((v = flag_value(argc, argv, &i, "--listen", &bad)) != NULL) {
      set_str(&o->listen, v), set->listen = true;
    } else if ((v = flag_value(argc, argv, &i, "--config", &bad)) != NULL) {
      set_str(&o->config, v);
    } else if ((v = flag_value(argc, argv, &i, "--shim", &bad)) != NULL) {
      set_str(&o->shim_path, v), set->shim = true;
    } else if ((v = flag_value(argc, argv, &i, "--cgroup-parent", &bad)) != NULL) {
      pv_err err;
      if (resource_manager_check_parent(v, &err) < 0) {
        fprintf(stderr, "podvisor daemon: --cgroup-parent: %s\n", pv_err_str(&err));
        return 2;
      }
      set_str(&o->cgroup_parent, v), set->cgroup_parent = true;
    } else if ((v = flag_value(argc, argv, &i, "--userns-pool", &bad)) != NULL) {
      pv_err err;
      idpool_config pool;
      if (idpool_config_parse("--userns-pool", v, &pool, &err) < 0) {
        fprintf(stderr, "podvisor daemon: %s\n", pv_err_str(&err));
        return 2;
      }
      set_str(&o->userns_pool, v), set->userns_pool = true;
    } else if ((v = flag_value(argc, argv, &i, "--log-level", &bad)) != NULL) {
      if (pvd_log_level_parse(v, &o->log_level) < 0) {
        fprintf(stderr, "podvisor daemon: --log-level: '%s' is not debug, info, warn or error\n", v);
        return 2;
      }
      set->log_level = true;
    } else if ((v = flag_value(argc, argv, &i, "--rescan-seconds", &bad)) != NULL) {
      if (parse_seconds(v, &o->rescan_ms) < 0) {
        fprintf(stderr, "podvisor daemon: --rescan-seconds: '%s' is not a number of seconds\n", v);
        return 2;
      }
      set->rescan = true;
    } else if (strcmp(a, "--listen-insecure") == 0) {
      o->listen_insecure = set->listen_insecure = true;
    } else if (strcmp(a, "--keep-pods") == 0) {
      o->keep_pods = set->keep_pods = true;
    } else if (!bad) {
      fprintf(stderr, "podvisor daemon: unknown argument '%s'\n%s", a, usage_text);
      return 2;
    }
    if (bad)
      return 2;
  }
  return 0;
}

/* "run-root", "runRoot", "run_root" -> "runroot". */
static void norm_key(const char *k, char *out, size_t len) {
  size_t o = 0;
  for (; *k != '\0' && o + 1 < len; k++)
    if (*k != '-' && *k != '_')
      out[o++] = (char)tolower((unsigned char)*k);
  out[o] = '\0';
}

static int config_set(const char *path, const yaml_event_t *kev, const char *key, const char *v, pvd_opts *o,
                      const pvd_opts_set *set, pv_err *err) {
  char k[64];
  norm_key(key, k, sizeof k);
  unsigned line = (unsigned)kev->start_mark.line + 1, col = (unsigned)kev->start_mark.column + 1;
  bool b;
  if (strcmp(k, "root") == 0) {
    if (!set->root)
      set_str(&o->root, v);
  } else if (strcmp(k, "runroot") == 0) {
    if (!set->run_root)
      set_str(&o->run_root, v);
  } else if (strcmp(k, "manifests") == 0) {
    if (!set->manifests)
      set_str(&o->manifests, v);
  } else if (strcmp(k, "listen") == 0) {
    if (!set->listen)
      set_str(&o->listen, v);
  } else if (strcmp(k, "shim") == 0) {
    if (!set->shim)
      set_str(&o->shim_path, v);
  } else if (strcmp(k, "cgroupparent") == 0) {
    if (resource_manager_check_parent(v, err) < 0)
      return pv_err_wrap(err, "%s:%u:%u: %s", path, line, col, key);
    if (!set->cgroup_parent)
      set_str(&o->cgroup_parent, v);
  } else if (strcmp(k, "usernspool") == 0) {
    idpool_config pool;
    if (idpool_config_parse(key, v, &pool, err) < 0)
      return pv_err_wrap(err, "%s:%u:%u", path, line, col);
    if (!set->userns_pool)
      set_str(&o->userns_pool, v);
  } else if (strcmp(k, "loglevel") == 0) {
    pvd_log_level l;
    if (pvd_log_level_parse(v, &l) < 0)
      return pv_err_set(err, EINVAL, "%s:%u:%u: logLevel: '%s' is not debug, info, warn or error", path, line,
                        col, v);
    if (!set->log_level)
      o->log_level = l;
  } else if (strcmp(k, "listeninsecure") == 0 || strcmp(k, "keeppods") == 0) {
    if (!parse_bool(v, &b))
      return pv_err_set(err, EINVAL, "%s:%u:%u: %s: '%s' is not true or false", path, line, col, key, v);
    if (k[0] == 'l' && !set->listen_insecure)
      o->listen_insecure = b;
    else if (k[0] == 'k' && !set->keep_pods)
      o->keep_pods = b;
  } else if (strcmp(k, "rescanseconds") == 0) {
    unsigned ms;
    if (parse_seconds(v, &ms) < 0)
      return pv_err_set(err, EINVAL, "%s:%u:%u: rescanSeconds: '%s' is not a number of seconds", path, line,
                        col, v);
    if (!set->rescan)
      o->rescan_ms = ms;
  } else {
    return pv_err_set(err, EINVAL, "%s:%u:%u: unknown key '%s'", path, line, col, key);
  }
  return 0;
}

int pvd_config_load(const char *path, bool must_exist, pvd_opts *o, const pvd_opts_set *set, pv_err *err) {
  FILE *f = fopen(path, "re");
  if (f == NULL) {
    if (errno == ENOENT && !must_exist)
      return 0;
    return pv_err_sys(err, "config %s", path);
  }
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_file(&p, f);
  int rc = 0, depth = 0;
  char *key = NULL;
  yaml_event_t kev;
  memset(&kev, 0, sizeof kev);
  bool have_kev = false;
  for (bool done = false; !done && rc == 0;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = pv_err_set(err, EINVAL, "%s:%zu:%zu: %s", path, p.problem_mark.line + 1, p.problem_mark.column + 1,
                      p.problem != NULL ? p.problem : "invalid YAML");
      break;
    }
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = true; break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
      if (++depth > 1 || ev.type == YAML_SEQUENCE_START_EVENT)
        rc = pv_err_set(err, EINVAL, "%s:%zu:%zu: the config is one mapping of scalars", path,
                        ev.start_mark.line + 1, ev.start_mark.column + 1);
      break;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT: depth--; break;
    case YAML_SCALAR_EVENT: {
      const char *v = (const char *)ev.data.scalar.value;
      if (depth != 1) {
        /* An empty document ("" or "~") is an empty config. */
        if (*v != '\0' && strcmp(v, "~") != 0 && strcmp(v, "null") != 0)
          rc = pv_err_set(err, EINVAL, "%s:%zu:%zu: the config is one mapping of scalars", path,
                          ev.start_mark.line + 1, ev.start_mark.column + 1);
      } else if (key == NULL) {
        key = strdup(v);
        kev = ev;
        have_kev = true;
        continue; /* kev keeps the event (its marks); deleted below */
      } else {
        rc = config_set(path, &kev, key, v, o, set, err);
        free(key);
        key = NULL;
        if (have_kev)
          yaml_event_delete(&kev);
        have_kev = false;
      }
      break;
    }
    default: break;
    }
    yaml_event_delete(&ev);
  }
  free(key);
  if (have_kev)
    yaml_event_delete(&kev);
  yaml_parser_delete(&p);
  fclose(f);
  return rc;
}

void pvd_opts_defaults(pvd_opts *o) {
  if (o->root == NULL)
    o->root = strdup("/var/lib/podvisor");
  if (o->run_root == NULL)
    o->run_root = strdup("/run/podvisor");
  if (o->manifests == NULL)
    o->manifests = strdup(PVD_DEFAULT_MANIFESTS);
  if (o->config == NULL)
    o->config = strdup(PVD_DEFAULT_CONFIG);
  if (o->rescan_ms == 0)
    o->rescan_ms = PVD_RESCAN_MS;
}

void pvd_opts_free(pvd_opts *o) {
  free(o->root);
  free(o->run_root);
  free(o->manifests);
  free(o->listen);
  free(o->config);
  free(o->shim_path);
  free(o->cgroup_parent);
  free(o->userns_pool);
  memset(o, 0, sizeof *o);
}
