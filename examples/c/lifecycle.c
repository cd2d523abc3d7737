/*
 * lifecycle.c - a container's whole life through libpodvisor, the core
 * lifecycle API of podvisor, from a C program of its own.
 *
 *   lifecycle [--root DIR] IMAGE        (as root; IMAGE e.g. busybox)
 *
 * It finds IMAGE in podvisor's image store under DIR (default
 * /var/lib/podvisor, the store `podvisor image import` fills), then
 *   1. runs a short container to its end (container_manager_run),
 *   2. creates and starts a long-running one, prints what the manager knows
 *      of it and its cgroup's figures, stops it, starts it again,
 *   3. lists the manager's containers and destroys the long-running one.
 * Each container gets new pid, mount, uts, ipc, network and cgroup
 * namespaces, a 128 MiB memory limit and a cpu share of 512 (half the
 * default weight).  Nothing is left behind: no mount, no cgroup, no
 * directory under DIR/containers.
 *
 * Every call returns 0 (or a count) on success, or -1 with errno set and a
 * readable message in the pv_err it was given; the library itself never
 * prints and never exits.
 *
 * Build: cc -o lifecycle lifecycle.c $(pkg-config --cflags --libs podvisor)
 */
#define _GNU_SOURCE /* the CLONE_NEW* flags of <sched.h> */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <podvisor/container.h>
#include <podvisor/error.h>
#include <podvisor/image.h>
#include <podvisor/namespace.h>
#include <podvisor/resource.h>

#define MIB (1024 * 1024)

/* Prints what failed and the library's message, which names the object. */
static int fail(const char *what, const pv_err *err) {
  fprintf(stderr, "lifecycle: %s: %s\n", what, pv_err_str(err));
  return -1;
}

/* The settings both containers share: namespaces, limits, image. */
static void base_config(container_config *cfg, const char *id, const image_info *img, char *const *argv) {
  /* Defaults first: no namespace to join, no_new_privs, stdio inherited. */
  container_config_init(cfg);
  cfg->id = id;
  /* The image's rootfs is the read-only lower layer of the container's
   * overlay; what the container writes goes to its own upper layer. */
  cfg->rootfs = img->rootfs;
  cfg->envp = img->env; /* PATH and the rest of the image's config */
  cfg->argv = argv;
  cfg->hostname = "lifecycle";
  cfg->namespaces = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
  /* Limits of a cgroup made for the container, podvisor/<id>. */
  cfg->limits.memory_limit = 128 * MIB;
  cfg->limits.cpu_shares = 512;
  cfg->limits.pids_limit = 64;
  /* Should this program die, its containers die with it. */
  cfg->pdeathsig = SIGKILL;
}

/* Step 1: create + start + wait + destroy in one call.  The container
 * prints from inside (stdout is inherited) and exits 3. */
static int run_once(container_manager *m, const image_info *img) {
  char id[64];
  snprintf(id, sizeof id, "lifecycle-run-%d", (int)getpid());
  static char *argv[] = {"sh", "-c",
                         "echo \"hello from $(hostname), pid $$\"; "
                         "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                         "cat /sys/fs/cgroup/memory.max; exit 3",
                         NULL};
  container_config cfg;
  base_config(&cfg, id, img, argv);
  container_exit ex;
  pv_err err;
  if (container_manager_run(m, &cfg, &ex, &err) < 0)
    return fail("run", &err);
  printf("run %s: exit code %d\n", id, ex.exit_code);
  return 0;
}

/* Prints the manager's record of c (container_manager_get_info). */
static void print_info(container_manager *m, const container *c, const char *event) {
  container_info info;
  container_manager_get_info(m, c, &info);
  printf("%s %s: state %s", event, info.id, container_state_name(info.state));
  if (info.state == CONTAINER_RUNNING) {
    char when[32];
    time_t t = (time_t)(info.started_ns / 1000000000u);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    printf(", pid %d, cgroup %s, started %s", (int)info.pid, info.cgroup_path, when);
  } else if (info.state == CONTAINER_STOPPED) {
    printf(", exit code %d", info.exit.exit_code);
  }
  printf("\n");
}

/* Reads the container's cgroup back from the kernel through the resource
 * manager: the memory limit as written, and the live figures. */
static int print_cgroup(container_manager *m, const container *c) {
  container_info info;
  container_manager_get_info(m, c, &info);
  resource_manager *rm = container_manager_resources(m);
  cgroup_handle *cg;
  pv_err err;
  if (resource_manager_open_cgroup(rm, info.cgroup_path, &cg, &err) < 0)
    return fail("open the cgroup", &err);
  /* cgroup v1 has a memory hierarchy of its own; v2 one unified directory. */
  bool v1 = resource_manager_version(rm) == CGROUP_V1;
  const char *dir = cgroup_handle_dir(cg, "memory");
  char path[PATH_MAX], limit[64] = "?";
  snprintf(path, sizeof path, "%s/%s", dir != NULL ? dir : "?", v1 ? "memory.limit_in_bytes" : "memory.max");
  FILE *f = dir != NULL ? fopen(path, "re") : NULL;
  if (f != NULL) {
    if (fscanf(f, "%63s", limit) != 1)
      snprintf(limit, sizeof limit, "?");
    fclose(f);
  }
  printf("memory limit: %s (cgroup v%d, %s)\n", limit, v1 ? 1 : 2, path);
  resource_stats st;
  int r = resource_manager_get_stats(cg, &st, &err);
  if (r == 0)
    printf("stats: memory %" PRIu64 " bytes, %" PRIu64 " pids, cpu %" PRIu64 " ns\n", st.memory_bytes,
           st.pids_current, st.cpu_usage_ns);
  else
    fail("read the stats", &err);
  /* Frees the handle only: the cgroup stays the container's. */
  resource_manager_close_cgroup(cg);
  return r;
}

/* Starts c with its stdout on a pipe and waits for the line the command
 * prints once it is ready (its SIGTERM trap set), so that a stop right
 * after finds the trap in place.  The pipe is only for that line. */
static int start_when_ready(container_manager *m, container *c, pv_err *err) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return pv_err_sys(err, "pipe");
  /* The container gets its own copy of p[1]: the library keeps none. */
  int r = container_manager_set_stdio(m, c, -1, p[1], -1, err);
  if (r == 0)
    r = container_manager_start(m, c, err);
  close(p[1]);
  char line[16];
  ssize_t n = 0;
  while (r == 0 && (n = read(p[0], line, sizeof line)) < 0 && errno == EINTR) {
  }
  close(p[0]);
  if (r == 0 && n <= 0)
    r = pv_err_set(err, EPIPE, "container %s: exited before it was ready", container_id(c));
  return r;
}

/* Step 2 and 3: a container that runs until it is stopped. */
static int long_running(container_manager *m, const image_info *img) {
  char id[64];
  snprintf(id, sizeof id, "lifecycle-svc-%d", (int)getpid());
  /* As pid 1 of its namespace, the shell only dies of signals it handles:
   * the trap makes SIGTERM end it with status 0. */
  static char *argv[] = {"sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done", NULL};
  container_config cfg;
  base_config(&cfg, id, img, argv);
  container *c;
  pv_err err;
  /* create: the overlay directories, the cgroup with its limits, the
   * mount and capability plan; nothing runs yet. */
  if (container_manager_create(m, &cfg, &c, &err) < 0)
    return fail("create", &err);
  print_info(m, c, "created");
  int r = -1;
  /* start: clone into the new namespaces, join the cgroup, mount the root,
   * drop capabilities and exec; returns once the command runs. */
  if (start_when_ready(m, c, &err) < 0) {
    fail("start", &err);
    goto out;
  }
  print_info(m, c, "started");
  if (print_cgroup(m, c) < 0)
    goto out;
  /* stop: SIGTERM, then SIGKILL if it is still there after 5 s. */
  container_exit ex;
  if (container_manager_stop(m, c, 5000, &ex, &err) < 0) {
    fail("stop", &err);
    goto out;
  }
  print_info(m, c, "stopped");
  /* A stopped container starts again: same id, cgroup and upper layer. */
  if (start_when_ready(m, c, &err) < 0) {
    fail("start again", &err);
    goto out;
  }
  print_info(m, c, "started again");
  container *all[16];
  size_t n = container_manager_list(m, all, 16);
  printf("list: %zu container%s\n", n, n == 1 ? "" : "s");
  for (size_t i = 0; i < n && i < 16; i++)
    printf("  %s %s\n", container_id(all[i]), container_state_name(container_get_state(all[i])));
  r = 0;
out:
  /* destroy: kills what still runs, removes the cgroup and the container's
   * directory, frees c. */
  if (container_manager_destroy(m, c, &err) < 0)
    return fail("destroy", &err);
  printf("destroyed %s\n", id);
  return r;
}

int main(int argc, char **argv) {
  const char *root = "/var/lib/podvisor";
  int i = 1;
  if (i + 1 < argc && strcmp(argv[i], "--root") == 0) {
    root = argv[i + 1];
    i += 2;
  }
  if (i + 1 != argc) {
    fprintf(stderr, "usage: %s [--root DIR] IMAGE\n", argv[0]);
    return 2;
  }
  /* The containers write to the same stdout: keep the lines in order. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  pv_err err;
  /* The image store: "busybox" names <root>/images/busybox/latest. */
  image_info img;
  if (image_lookup(root, argv[i], &img, &err) < 0) {
    fail("image", &err);
    return 1;
  }
  /* The manager keeps each container's upper layer under state_dir, as
   * `podvisor run` does, and places cgroups under /sys/fs/cgroup. */
  char state[PATH_MAX];
  snprintf(state, sizeof state, "%s/containers", root);
  container_manager_options opts = {.state_dir = state, .cgroup_root = NULL};
  container_manager *m;
  int r = 1;
  if (container_manager_init(&m, &opts, &err) < 0) {
    fail("container manager", &err);
  } else {
    if (run_once(m, &img) == 0 && long_running(m, &img) == 0)
      r = 0;
    /* close: destroys whatever is left, reports a cgroup that could not be
     * removed in time, and frees the manager in any case. */
    if (container_manager_close(m, 1000, &err) < 0) {
      fail("close", &err);
      r = 1;
    }
  }
  image_info_free(&img);
  return r;
}
