/*
 * cmd_run.c - `podvisor run`: one container in the foreground, removed at
 * exit, like `podman run --rm`, with no daemon involved.
 *
 * The image comes from the local store (<root>/images); the command and the
 * environment default to the image's.  The container's stdout and stderr
 * are the terminal's; stdin is /dev/null.  SIGINT and SIGTERM sent to
 * podvisor are forwarded to the container's init.
 *
 * Choices, where podman offers more:
 *   - the container is always removed at exit (--rm is accepted and is the
 *     only behaviour: there is no daemon to keep a stopped container);
 *   - networking: "none" (default; a private network namespace with only
 *     the loopback interface, up) or "host";
 *   - the pids limit defaults to 2048, as podman's;
 *   - --user takes numeric UID[:GID] only;
 *   - security as docker and podman have it: RuntimeDefault seccomp (none
 *     with --privileged), no_new_privs only with --security-opt
 *     no-new-privileges, the device allow-list (all devices when privileged);
 *   - the container's cgroup is <parent>/<name>, the parent from
 *     --cgroup-parent (default "podvisor"; in a delegated cgroup v2 subtree
 *     <delegated>/podvisor, after `run` moved itself to
 *     <delegated>/supervisor: resource.h).
 * Exit status: the container's exit code, 128+N when a signal N killed it,
 * 137 after an OOM kill (with a message); 125 for podvisor's own errors,
 * 126/127 when the command cannot be run / is not found (like podman).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "supervisor/cli/cli.h"
#include "supervisor/core/caps.h"
#include "supervisor/core/container.h"
#include "supervisor/core/image.h"
#include "supervisor/core/namespace.h"
#include "supervisor/core/seccomp.h"
#include "supervisor/core/util.h"

#define RUN_DEFAULT_PIDS_LIMIT 2048
#define RUN_MAX_LIST 256

struct run_opts {
  const char *name, *hostname, *workdir, *network, *image, *cgroup_parent;
  char *env[RUN_MAX_LIST];
  size_t n_env;
  container_mount vols[RUN_MAX_LIST];
  char *vol_bufs[RUN_MAX_LIST];
  size_t n_vols;
  resource_limits limits;
  uid_t uid;
  gid_t gid;
  bool readonly, privileged;
  uint64_t cap_add, cap_drop;
  /* --security-opt seccomp=: NULL = RuntimeDefault, "unconfined" or a profile file. */
  const char *seccomp;
  const struct sock_fprog *filter; /* compiled from it, NULL = unconfined */
  /* --security-opt no-new-privileges: off by default, as with docker and
   * podman (and Kubernetes' allowPrivilegeEscalation), so that setuid
   * programs of the image work. */
  bool no_new_privs;
  char **cmd;
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: podvisor run [--rm] [OPTIONS] IMAGE [CMD...]\n"
          "  --name NAME          container name (default run-<pid>)\n"
          "  -m, --memory SIZE    memory limit (64m, 1g)\n"
          "  --memory-swap SIZE   memory+swap limit (-1 = unlimited)\n"
          "  --cpus N             CPU quota in CPUs (0.5 = 50 ms per 100 ms)\n"
          "  --cpu-shares N       relative CPU weight (cgroup v1 shares)\n"
          "  --pids-limit N       maximum number of processes (default %d, -1 = unlimited)\n"
          "  -h, --hostname NAME  hostname inside the container\n"
          "  -e, --env K=V        set an environment variable (repeatable)\n"
          "  -w, --workdir DIR    working directory inside the container\n"
          "  -u, --user UID[:GID] numeric user and group to run as\n"
          "  --read-only          mount the root file system read-only\n"
          "  --network none|host  private network namespace (default) or the host's\n"
          "  --privileged         all capabilities and devices, nothing masked, /sys writable\n"
          "  --cap-add CAP        add a capability (NET_ADMIN, ALL...)\n"
          "  --cap-drop CAP       drop a capability\n"
          "  --security-opt seccomp=unconfined|FILE  no system call filter, or an OCI/Docker JSON\n"
          "                       profile (default: podvisor's RuntimeDefault; none with --privileged)\n"
          "  --security-opt no-new-privileges  set no_new_privs: setuid programs gain nothing\n"
          "                       (off by default, as with docker and podman)\n"
          "  -v, --volume HOST:CTR[:MODE]  bind mount a host path; MODE rw (default), ro\n"
          "                       (submounts read-only too where the kernel can), rro\n"
          "                       (the same, or fail) or ro-non-recursive\n"
          "  --cgroup-parent PATH cgroup parent, relative to the cgroup root (default podvisor)\n"
          "  --rm                 remove the container at exit (always done)\n",
          RUN_DEFAULT_PIDS_LIMIT);
}

/* Adds K=V to env, replacing an earlier value of K. */
static int env_set(struct run_opts *o, const char *kv) {
  const char *eq = strchr(kv, '=');
  size_t klen = eq != NULL ? (size_t)(eq - kv) : strlen(kv);
  char *dup = NULL;
  if (eq == NULL) { /* "-e K": take K from podvisor's own environment, as podman does */
    const char *v = getenv(kv);
    if (v == NULL)
      return 0;
    if (asprintf(&dup, "%s=%s", kv, v) < 0)
      return -1;
  } else if ((dup = strdup(kv)) == NULL) {
    return -1;
  }
  for (size_t i = 0; i < o->n_env; i++)
    if (strncmp(o->env[i], dup, klen + 1) == 0) {
      free(o->env[i]);
      o->env[i] = dup;
      return 0;
    }
  if (o->n_env + 1 >= RUN_MAX_LIST) {
    free(dup);
    errno = E2BIG;
    return -1;
  }
  o->env[o->n_env++] = dup;
  return 0;
}

static int parse_volume(struct run_opts *o, const char *spec, pv_err *err) {
  if (o->n_vols >= RUN_MAX_LIST)
    return pv_err_set(err, E2BIG, "too many volumes");
  char *buf = strdup(spec);
  if (buf == NULL)
    return pv_err_sys(err, "volume %s", spec);
  o->vol_bufs[o->n_vols] = buf;
  char *host = buf, *ctr = strchr(buf, ':'), *mode = NULL;
  if (ctr != NULL) {
    *ctr++ = '\0';
    if ((mode = strchr(ctr, ':')) != NULL)
      *mode++ = '\0';
  }
  if (ctr == NULL || host[0] != '/' || ctr[0] != '/')
    return pv_err_set(err, EINVAL, "volume '%s': expected /HOST/PATH:/CONTAINER/PATH[:MODE]", spec);
  /* As in docker since 25 (and the modes are named as there): ro is
   * recursive where the kernel can do it (the submounts of the host path
   * are read-only too), rro insists on it, ro-non-recursive leaves the
   * submounts as they are. */
  static const struct {
    const char *name;
    bool readonly;
    container_rro rro;
  } modes[] = {
      {"rw", false, CONTAINER_RRO_DISABLED},
      {"ro", true, CONTAINER_RRO_IF_POSSIBLE},
      {"rro", true, CONTAINER_RRO_ENABLED},
      {"ro-non-recursive", true, CONTAINER_RRO_DISABLED},
  };
  size_t m = 0;
  while (mode != NULL && m < sizeof modes / sizeof modes[0] && strcmp(mode, modes[m].name) != 0)
    m++;
  if (m == sizeof modes / sizeof modes[0])
    return pv_err_set(err, EINVAL, "volume '%s': unknown mode '%s' (rw, ro, rro or ro-non-recursive)", spec,
                      mode);
  o->vols[o->n_vols++] = (container_mount){
      .source = host, .destination = ctr, .readonly = modes[m].readonly, .rro = modes[m].rro};
  return 0;
}

static int parse_number(const char *opt, const char *s, double *out, pv_err *err) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0')
    return pv_err_set(err, EINVAL, "%s: invalid number '%s'", opt, s);
  return 0;
}

static int parse_user(struct run_opts *o, const char *s, pv_err *err) {
  char *end;
  unsigned long u = strtoul(s, &end, 10), g = u;
  if (end == s || (*end != '\0' && *end != ':'))
    return pv_err_set(err, EINVAL, "--user '%s': expected a numeric UID[:GID]", s);
  if (*end == ':') {
    const char *gs = end + 1;
    g = strtoul(gs, &end, 10);
    if (end == gs || *end != '\0')
      return pv_err_set(err, EINVAL, "--user '%s': expected a numeric UID[:GID]", s);
  }
  o->uid = (uid_t)u;
  o->gid = (gid_t)g;
  return 0;
}

enum { OPT_RM = 256, OPT_NAME, OPT_SWAP, OPT_CPUS, OPT_SHARES, OPT_PIDS, OPT_RO, OPT_NET, OPT_PRIV, OPT_CAPADD,
       OPT_CAPDROP, OPT_CGPARENT, OPT_SECOPT };

/* --security-opt KEY=VALUE: seccomp=unconfined or seccomp=FILE, and
 * no-new-privileges[=true|false] (Docker's "KEY:VALUE" spellings too). */
static int parse_security_opt(struct run_opts *o, const char *arg, pv_err *err) {
  if ((strncmp(arg, "seccomp=", 8) == 0 || strncmp(arg, "seccomp:", 8) == 0) && arg[8] != '\0') {
    o->seccomp = arg + 8;
    return 0;
  }
  static const char nnp[] = "no-new-privileges";
  if (strncmp(arg, nnp, sizeof nnp - 1) == 0) {
    const char *v = arg + sizeof nnp - 1;
    if (*v == '\0' || strcmp(v, "=true") == 0 || strcmp(v, ":true") == 0) {
      o->no_new_privs = true;
      return 0;
    }
    if (strcmp(v, "=false") == 0 || strcmp(v, ":false") == 0) {
      o->no_new_privs = false;
      return 0;
    }
  }
  return pv_err_set(err, EINVAL,
                    "--security-opt %s: only seccomp=unconfined, seccomp=FILE and no-new-privileges[=true|false] "
                    "are supported",
                    arg);
}

static int parse_opt(struct run_opts *o, int c, const char *arg, pv_err *err) {
  double d;
  uint64_t cap;
  switch (c) {
  case OPT_RM: return 0;
  case OPT_NAME: o->name = arg; return 0;
  case 'm': return pv_parse_size(arg, &o->limits.memory_limit, err) < 0 ? pv_err_wrap(err, "--memory") : 0;
  case OPT_SWAP:
    if (strcmp(arg, "-1") == 0) {
      o->limits.memory_swap = -1;
      return 0;
    }
    return pv_parse_size(arg, &o->limits.memory_swap, err) < 0 ? pv_err_wrap(err, "--memory-swap") : 0;
  case OPT_CPUS:
    if (parse_number("--cpus", arg, &d, err) < 0)
      return -1;
    if (d <= 0 || d > 1024)
      return pv_err_set(err, EINVAL, "--cpus %s: must be above 0", arg);
    o->limits.cpu_period_us = 100000;
    o->limits.cpu_quota_us = (int64_t)(d * 100000 + 0.5);
    return 0;
  case OPT_SHARES:
    if (parse_number("--cpu-shares", arg, &d, err) < 0 || d < 2 || d > 262144)
      return pv_err_set(err, EINVAL, "--cpu-shares %s: must be 2..262144", arg);
    o->limits.cpu_shares = (uint64_t)d;
    return 0;
  case OPT_PIDS:
    if (parse_number("--pids-limit", arg, &d, err) < 0 || (d < 1 && d != -1))
      return pv_err_set(err, EINVAL, "--pids-limit %s: must be a positive number or -1", arg);
    o->limits.pids_limit = (int64_t)d;
    return 0;
  case 'h': o->hostname = arg; return 0;
  case 'e': return env_set(o, arg) < 0 ? pv_err_sys(err, "--env %s", arg) : 0;
  case 'w': o->workdir = arg; return 0;
  case 'u': return parse_user(o, arg, err);
  case OPT_RO: o->readonly = true; return 0;
  case OPT_NET:
    if (strcmp(arg, "none") != 0 && strcmp(arg, "host") != 0)
      return pv_err_set(err, EINVAL, "--network %s: only 'none' and 'host' are supported", arg);
    o->network = arg;
    return 0;
  case OPT_PRIV: o->privileged = true; return 0;
  case OPT_CAPADD:
  case OPT_CAPDROP:
    if (caps_parse(arg, &cap, err) < 0)
      return -1;
    *(c == OPT_CAPADD ? &o->cap_add : &o->cap_drop) |= cap;
    return 0;
  case 'v': return parse_volume(o, arg, err);
  case OPT_SECOPT: return parse_security_opt(o, arg, err);
  case OPT_CGPARENT:
    o->cgroup_parent = arg;
    return resource_manager_check_parent(arg, err) < 0 ? pv_err_wrap(err, "--cgroup-parent") : 0;
  default: return pv_err_set(err, EINVAL, "unknown option");
  }
}

static int parse_args(struct run_opts *o, int argc, char **argv, pv_err *err) {
  static const struct option longopts[] = {
      {"rm", no_argument, NULL, OPT_RM},           {"name", required_argument, NULL, OPT_NAME},
      {"memory", required_argument, NULL, 'm'},    {"memory-swap", required_argument, NULL, OPT_SWAP},
      {"cpus", required_argument, NULL, OPT_CPUS}, {"cpu-shares", required_argument, NULL, OPT_SHARES},
      {"pids-limit", required_argument, NULL, OPT_PIDS}, {"hostname", required_argument, NULL, 'h'},
      {"env", required_argument, NULL, 'e'},       {"workdir", required_argument, NULL, 'w'},
      {"user", required_argument, NULL, 'u'},      {"read-only", no_argument, NULL, OPT_RO},
      {"network", required_argument, NULL, OPT_NET}, {"net", required_argument, NULL, OPT_NET},
      {"privileged", no_argument, NULL, OPT_PRIV}, {"cap-add", required_argument, NULL, OPT_CAPADD},
      {"cap-drop", required_argument, NULL, OPT_CAPDROP}, {"volume", required_argument, NULL, 'v'},
      {"cgroup-parent", required_argument, NULL, OPT_CGPARENT},
      {"security-opt", required_argument, NULL, OPT_SECOPT},
      {"help", no_argument, NULL, 'H'},            {NULL, 0, NULL, 0},
  };
  resource_limits_init(&o->limits);
  o->limits.pids_limit = RUN_DEFAULT_PIDS_LIMIT;
  o->network = "none";
  optind = 1;
  opterr = 0;
  int c;
  /* "+": stop at IMAGE, so the command's own options stay its own. */
  while ((c = getopt_long(argc, argv, "+m:h:e:w:u:v:", longopts, NULL)) != -1) {
    if (c == 'H') {
      usage(stdout);
      return 1;
    }
    if (c == '?' || c == ':')
      return pv_err_set(err, EINVAL, "unknown option or missing value: %s (see podvisor run --help)",
                        argv[optind - 1]);
    if (parse_opt(o, c, optarg, err) < 0)
      return -1;
  }
  if (optind >= argc)
    return pv_err_set(err, EINVAL, "an IMAGE is required (see podvisor run --help)");
  o->image = argv[optind];
  o->cmd = optind + 1 < argc ? argv + optind + 1 : NULL;
  return 0;
}

/* Waits for the container, forwarding SIGINT/SIGTERM (blocked and read
 * from a signalfd; the container child resets its signal mask). */
static int supervise(container_manager *m, container *c, int sfd, container_exit *ex, pv_err *err) {
  struct pollfd pfd[2] = {{.fd = container_pidfd(c), .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    int r = poll(pfd, 2, -1);
    if (r < 0 && errno != EINTR)
      return pv_err_sys(err, "poll");
    if (r > 0 && (pfd[1].revents & POLLIN)) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
        container_manager_kill(m, c, (int)si.ssi_signo, NULL);
    }
    if (r > 0 && (pfd[0].revents & POLLIN))
      return container_manager_wait(m, c, ex, err);
  }
}

static void run_opts_free(struct run_opts *o) {
  for (size_t i = 0; i < o->n_env; i++)
    free(o->env[i]);
  for (size_t i = 0; i < o->n_vols; i++)
    free(o->vol_bufs[i]);
}

static int run_container(const cli_globals *g, struct run_opts *o, const image_info *img, pv_err *err) {
  char state[PATH_MAX], name[64];
  if (pv_path(state, sizeof state, "%s/containers", g->root) < 0) {
    pv_err_sys(err, "state directory under %s", g->root);
    return 125;
  }
  if (o->name == NULL) {
    snprintf(name, sizeof name, "run-%d", (int)getpid());
    o->name = name;
  }
  container_config cfg;
  container_config_init(&cfg);
  cfg.id = o->name;
  cfg.rootfs = img->rootfs;
  cfg.argv = o->cmd != NULL ? o->cmd : img->cmd;
  cfg.envp = o->env;
  cfg.cwd = o->workdir != NULL ? o->workdir : img->working_dir;
  cfg.hostname = o->hostname;
  cfg.uid = o->uid;
  cfg.gid = o->gid;
  cfg.limits = o->limits;
  cfg.privileged = o->privileged;
  cfg.cap_add = o->cap_add;
  cfg.cap_drop = o->cap_drop;
  cfg.readonly_rootfs = o->readonly;
  cfg.mounts = o->vols;
  cfg.n_mounts = o->n_vols;
  cfg.pdeathsig = SIGKILL;
  cfg.seccomp = o->filter;
  cfg.no_new_privs = o->no_new_privs;
  if (strcmp(o->network, "host") == 0)
    cfg.namespaces = NAMESPACE_ALL & ~CLONE_NEWNET;
  if (cfg.argv == NULL || cfg.argv[0] == NULL) {
    pv_err_set(err, EINVAL, "image %s has no default command: give one after the image name", o->image);
    return 125;
  }
  char parent[RESOURCE_PARENT_MAX + 1];
  if (resource_manager_pick_parent(o->cgroup_parent, parent, sizeof parent, err) < 0)
    return 125;
  container_manager_options mo = {.state_dir = state, .cgroup_parent = parent};
  container_manager *m;
  if (container_manager_init(&m, &mo, err) < 0)
    return 125;
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, &old);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  container *c = NULL;
  container_exit ex = {0};
  int rc = 125;
  if (sfd < 0) {
    pv_err_sys(err, "signalfd");
  } else if (container_manager_create(m, &cfg, &c, err) == 0) {
    if (container_manager_start(m, c, err) < 0) {
      container_manager_wait(m, c, &ex, NULL);
      rc = ex.exit_code == 126 || ex.exit_code == 127 ? ex.exit_code : 125;
    } else if (supervise(m, c, sfd, &ex, err) == 0) {
      rc = ex.oom_killed ? 137 : ex.exit_code;
    }
  }
  pv_err derr;
  if (c != NULL && container_manager_destroy(m, c, &derr) < 0) {
    fprintf(stderr, "podvisor run: %s\n", pv_err_str(&derr));
    if (rc == 0)
      rc = 125;
  }
  if (ex.oom_killed)
    fprintf(stderr, "podvisor: container %s was OOM-killed\n", o->name);
  if (sfd >= 0)
    close(sfd);
  sigprocmask(SIG_SETMASK, &old, NULL);
  container_manager_cleanup(m);
  return rc;
}

/* The container's filter, as Docker chooses it: none when privileged or
 * seccomp=unconfined, else the file's profile or RuntimeDefault, compiled
 * for the container's capabilities. */
static int run_seccomp(const cli_globals *g, struct run_opts *o, seccomp_prog *prog, pv_err *err) {
  memset(prog, 0, sizeof *prog);
  if (o->privileged || (o->seccomp != NULL && strcmp(o->seccomp, "unconfined") == 0))
    return 0;
  uint64_t caps = (caps_default_set() | o->cap_add) & ~o->cap_drop;
  /* Programs compiled by an earlier run are read back from the disk cache. */
  char dir[PATH_MAX];
  const char *cache = pv_path(dir, sizeof dir, "%s/%s", g->root, SECCOMP_CACHE_DIR) == 0 ? dir : NULL;
  int r = o->seccomp != NULL ? seccomp_profile_load_oci(o->seccomp, caps, cache, prog, err)
                             : seccomp_profile_default(caps, cache, prog, err);
  if (r < 0)
    return pv_err_wrap(err, "--security-opt seccomp");
  o->filter = &prog->fprog;
  return 0;
}

int cmd_run(const cli_globals *g, int argc, char **argv) {
  struct run_opts o;
  memset(&o, 0, sizeof o);
  pv_err err;
  pv_err_clear(&err);
  int r = parse_args(&o, argc, argv, &err);
  if (r != 0) {
    run_opts_free(&o);
    if (r > 0)
      return 0;
    fprintf(stderr, "podvisor run: %s\n", pv_err_str(&err));
    return 125;
  }
  image_info img;
  if (image_lookup(g->root, o.image, &img, &err) < 0) {
    fprintf(stderr, "podvisor run: %s\n", pv_err_str(&err));
    run_opts_free(&o);
    return 125;
  }
  /* The image's environment first, then -e on top of it. */
  struct run_opts final = o;
  final.n_env = 0;
  for (size_t i = 0; img.env != NULL && img.env[i] != NULL; i++)
    env_set(&final, img.env[i]);
  for (size_t i = 0; i < o.n_env; i++) {
    env_set(&final, o.env[i]);
    free(o.env[i]);
  }
  pv_err_clear(&err);
  seccomp_prog prog;
  int rc = run_seccomp(g, &final, &prog, &err) < 0 ? 125 : run_container(g, &final, &img, &err);
  if (err.code != 0)
    fprintf(stderr, "podvisor run: %s\n", pv_err_str(&err));
  seccomp_prog_free(&prog);
  run_opts_free(&final);
  image_info_free(&img);
  return rc;
}
