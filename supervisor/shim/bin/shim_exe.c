/*
 * shim_exe.c - `podvisor-shim`: the per-pod keeper as its own executable.
 *
 *   podvisor-shim [--root DIR] [--run-root DIR] --pod-key KEY [--sync-fd N]
 *                 [--lock-fd N] [--log-max-size SIZE] [--log-max-files N]
 *   podvisor-shim [--root DIR] [--run-root DIR] --pod-file FILE [--pod NAME]
 *                 [--namespace NS] [--new-instance] [--log-max-size SIZE] ...
 *
 * The same keeper as `podvisor shim` (shim.h), in a binary that links only
 * what a shim uses (the shim, the core and spec/ with libuv, jansson, libyaml,
 * libcap and libmd, statically when their archives exist): one runs per pod,
 * for as long as the pod lives, so its start-up time and resident memory are
 * paid per pod.  The launcher (supervisor/podctl/) runs the podvisor-shim
 * found beside its own executable with --pod-key, after writing the pod's
 * snapshot; --pod-file writes the snapshot itself first.  Exit status: 0 after a clean stop, 1 when the pod
 * could not be set up, 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/shim/shim.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: podvisor-shim [--root DIR] [--run-root DIR] --pod-key KEY [--sync-fd N] [--lock-fd N]\n"
          "                     [--log-max-size SIZE] [--log-max-files N]\n"
          "       podvisor-shim [--root DIR] [--run-root DIR] --pod-file FILE [--pod NAME] [--namespace NS]\n"
          "                     [--new-instance] [--log-max-size SIZE] [--log-max-files N]\n");
}

int main(int argc, char **argv) {
  shim_options o = {.root = "/var/lib/podvisor", .run_root = "/run/podvisor", .sync_fd = -1, .lock_fd = -1};
  const char *env = getenv("PODVISOR_ROOT");
  if (env != NULL && *env != '\0')
    o.root = env;
  env = getenv("PODVISOR_RUN_ROOT");
  if (env != NULL && *env != '\0')
    o.run_root = env;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
  pv_err err;
  pv_err_clear(&err);
  if (shim_parse_args(argc, argv, &o, &err) < 0) {
    fprintf(stderr, "podvisor-shim: %s\n", pv_err_str(&err));
    usage(stderr);
    return 2;
  }
  if ((o.pod_file != NULL && shim_prepare_pod_file(&o, &err) < 0) || shim_main(&o, &err) < 0) {
    fprintf(stderr, "podvisor-shim: %s\n", pv_err_str(&err));
    return 1;
  }
  return 0;
}
