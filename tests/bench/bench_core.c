/*
 * bench_core.c - times full container cycles through the core lifecycle API,
 * in process: create, start, wait, destroy of /bin/true in the busybox image
 * with full isolation (pid, mount, uts, ipc, net and cgroup namespaces, a
 * cgroup with a pids limit, an overlay rootfs and pivot_root).
 *
 *   bench_core [-n N] [-w WARMUP] [--root DIR] [--image REF] [--state-dir DIR] [--seccomp]
 *
 * --seccomp runs every container under RuntimeDefault, compiled once
 * before the timed cycles (as the shim's cache does), so that the figures
 * price installing the filter and running under it, not compiling it.
 *
 * Prints one summary line per phase and a final machine-readable line:
 *   bench_core n=200 median_ms=4.1 min_ms=3.2 max_ms=9.8 mean_ms=4.3 p90_ms=5.0
 * This is a benchmark, not a test: it is built as an extra target and never
 * run by ctest.  It needs root.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/caps.h"
#include "supervisor/core/image.h"
#include "supervisor/core/seccomp.h"
#include "supervisor/core/util.h"

enum { PH_CREATE, PH_START, PH_WAIT, PH_DESTROY, PH_TOTAL, PH_N };
static const char *phase_names[PH_N] = {"create", "start", "wait", "destroy", "total"};

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void report(const char *label, uint64_t *ns, size_t n, int machine) {
  qsort(ns, n, sizeof *ns, cmp_u64);
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += (double)ns[i];
  double med = n % 2 ? (double)ns[n / 2] : ((double)ns[n / 2 - 1] + (double)ns[n / 2]) / 2;
  double p90 = (double)ns[(size_t)((double)(n - 1) * 0.9 + 0.5)];
  if (machine)
    printf("bench_core n=%zu median_ms=%.3f min_ms=%.3f max_ms=%.3f mean_ms=%.3f p90_ms=%.3f\n", n, med / 1e6,
           (double)ns[0] / 1e6, (double)ns[n - 1] / 1e6, sum / (double)n / 1e6, p90 / 1e6);
  else
    printf("  %-8s median %7.3f ms  min %7.3f  max %8.3f  mean %7.3f  p90 %7.3f\n", label, med / 1e6,
           (double)ns[0] / 1e6, (double)ns[n - 1] / 1e6, sum / (double)n / 1e6, p90 / 1e6);
}

/* One full cycle; fills the per-phase durations. */
static int cycle(container_manager *m, const container_config *cfg, uint64_t t[PH_N], pv_err *err) {
  container *c = NULL;
  container_exit ex;
  uint64_t t0 = pv_now_ns();
  if (container_manager_create(m, cfg, &c, err) < 0)
    return -1;
  uint64_t t1 = pv_now_ns();
  if (container_manager_start(m, c, err) < 0) {
    container_manager_destroy(m, c, NULL);
    return -1;
  }
  uint64_t t2 = pv_now_ns();
  if (container_manager_wait(m, c, &ex, err) < 0) {
    container_manager_destroy(m, c, NULL);
    return -1;
  }
  uint64_t t3 = pv_now_ns();
  if (container_manager_destroy(m, c, err) < 0)
    return -1;
  uint64_t t4 = pv_now_ns();
  if (ex.exit_code != 0)
    return pv_err_set(err, EIO, "container %s: /bin/true exited with %d (signal %d)", cfg->id, ex.exit_code,
                      ex.signal);
  t[PH_CREATE] = t1 - t0;
  t[PH_START] = t2 - t1;
  t[PH_WAIT] = t3 - t2;
  t[PH_DESTROY] = t4 - t3;
  t[PH_TOTAL] = t4 - t0;
  return 0;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"root", required_argument, NULL, 'r'},
      {"image", required_argument, NULL, 'i'},
      {"state-dir", required_argument, NULL, 's'},
      {"seccomp", no_argument, NULL, 'S'},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  long n = 200, warmup = 5;
  const char *root = "/var/lib/podvisor", *ref = "busybox", *state_dir = NULL;
  bool with_seccomp = false;
  int c;
  while ((c = getopt_long(argc, argv, "n:w:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': n = strtol(optarg, NULL, 10); break;
    case 'w': warmup = strtol(optarg, NULL, 10); break;
    case 'r': root = optarg; break;
    case 'i': ref = optarg; break;
    case 's': state_dir = optarg; break;
    case 'S': with_seccomp = true; break;
    default:
      fprintf(stderr,
              "usage: bench_core [-n N] [-w WARMUP] [--root DIR] [--image REF] [--state-dir DIR] [--seccomp]\n");
      return c == 'h' ? 0 : 2;
    }
  }
  if (n < 1 || warmup < 0) {
    fprintf(stderr, "bench_core: -n must be >= 1 and -w >= 0\n");
    return 2;
  }
  pv_err err = {0};
  image_info img;
  if (image_lookup(root, ref, &img, &err) < 0) {
    fprintf(stderr, "bench_core: %s\n", pv_err_str(&err));
    return 1;
  }
  char sd[4200];
  if (state_dir == NULL) {
    snprintf(sd, sizeof sd, "%s/bench-%d", root, (int)getpid());
    state_dir = sd;
  }
  container_manager_options mo = {.state_dir = state_dir};
  container_manager *m;
  if (container_manager_init(&m, &mo, &err) < 0) {
    fprintf(stderr, "bench_core: %s\n", pv_err_str(&err));
    image_info_free(&img);
    return 1;
  }
  char *const args[] = {"/bin/true", NULL};
  char id[64];
  container_config cfg;
  container_config_init(&cfg);
  cfg.id = id;
  cfg.rootfs = img.rootfs;
  cfg.argv = args;
  cfg.envp = img.env;
  cfg.hostname = "bench";
  cfg.namespaces = 0;     /* all six */
  cfg.cgroup_path = NULL; /* podvisor/<id>, as podvisor run uses */
  cfg.limits.pids_limit = 64;
  seccomp_prog prog = {0};
  if (with_seccomp) {
    if (seccomp_profile_default(caps_default_set(), NULL, &prog, &err) < 0) {
      fprintf(stderr, "bench_core: %s\n", pv_err_str(&err));
      container_manager_cleanup(m);
      image_info_free(&img);
      return 1;
    }
    cfg.seccomp = &prog.fprog;
  }
  uint64_t *t[PH_N];
  for (int p = 0; p < PH_N; p++)
    t[p] = calloc((size_t)n, sizeof(uint64_t));
  int rc = 0;
  for (long i = -warmup; i < n && rc == 0; i++) {
    uint64_t one[PH_N] = {0};
    snprintf(id, sizeof id, "bench-%d-%ld", (int)getpid(), i + warmup);
    if (cycle(m, &cfg, one, &err) < 0) {
      fprintf(stderr, "bench_core: cycle %ld: %s\n", i + warmup, pv_err_str(&err));
      rc = 1;
    } else if (i >= 0) {
      for (int p = 0; p < PH_N; p++)
        t[p][i] = one[p];
    }
  }
  container_manager_cleanup(m);
  pv_rm_rf(state_dir, NULL);
  if (rc == 0) {
    printf("bench_core: %ld cycles of /bin/true in %s (create+start+wait+destroy, 6 namespaces, pids limit, "
           "overlay, pivot_root%s), %ld warm-up\n",
           n, ref, with_seccomp ? ", seccomp RuntimeDefault" : "", warmup);
    for (int p = 0; p < PH_N; p++)
      report(phase_names[p], t[p], (size_t)n, 0);
    report("total", t[PH_TOTAL], (size_t)n, 1);
  }
  for (int p = 0; p < PH_N; p++)
    free(t[p]);
  seccomp_prog_free(&prog);
  image_info_free(&img);
  return rc;
}
