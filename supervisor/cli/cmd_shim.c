/*
 * cmd_shim.c - `podvisor shim`: the per-pod keeper process (shim.h) and the
 * commands that start it by hand, find its files and talk to it.
 *
 *   podvisor [--root DIR] [--run-root DIR] shim --pod-key KEY [--sync-fd N]
 *            [--lock-fd N] [--log-max-size SIZE] [--log-max-files N]
 *            [--cgroup-parent PATH]
 *
 * is the keeper as a launcher (supervisor/podctl/) starts it, for the pod
 * whose snapshot is <run-root>/pods/KEY/pod.json.
 *
 *   podvisor shim run [--pod NAME] [--namespace NS] [--new-instance] FILE
 *                     [--log-max-size SIZE] [--log-max-files N]
 *
 * validates FILE, writes the pod's snapshot (keeping the instance uid of a
 * snapshot already there unless --new-instance) and runs the keeper in the
 * foreground, until the pod is stopped.  `podvisor shim --pod-file FILE
 * [--pod NAME] ...` is the same.
 *
 *   podvisor shim paths [--pod NAME] [--namespace NS] [FILE]
 *
 * prints the pod's paths (supervisor/proto/podpaths.h) as shell lines
 * NAME='value' for `eval`: POD_KEY, POD_RUN_DIR, POD_SNAPSHOT, POD_STATUS,
 * POD_SOCKET, POD_LOCK, POD_PID_FILE, POD_SHIM_LOG, and while a snapshot
 * exists, POD_UID, POD_DATA_DIR, POD_LOG_DIR, POD_CGROUP_PARENT and
 * POD_CGROUP (<parent>/<uid>: the parent the keeper recorded for that
 * instance, podsnap.h; "podvisor" while none is recorded).  The pod is
 * FILE's (the one named by --pod/--namespace, else the first), or, without
 * FILE, the pod named by --pod in --namespace (default "default").
 *
 *   podvisor shim ctl SOCKET status|stop|restart NAME|update NAME FILE
 *   podvisor shim ctl SOCKET exec [-i] [-t] NAME -- CMD [ARG...]
 *
 * is the client side of the control protocol (ctlproto.h): prints the
 * status document, "ok", or "error: MESSAGE" (exit 1); update sends
 * container NAME of FILE's pod inline; exec runs CMD in the container with
 * this command's stdout and stderr (and stdin with -i), or on a terminal the
 * shim allocates (-t, proxied here), and exits with CMD's exit code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/cli/cli.h"
#include "supervisor/core/resource.h"
#include "supervisor/core/util.h"
#include "supervisor/podctl/podctl.h"
#include "supervisor/proto/podjson.h"
#include "supervisor/proto/podsnap.h"
#include "supervisor/shim/shim.h"

static void usage(FILE *f) {
  fprintf(f, "usage: podvisor shim run [--pod NAME] [--namespace NS] [--new-instance] FILE\n"
             "                         [--log-max-size SIZE] [--log-max-files N]\n"
             "       podvisor shim paths [--pod NAME] [--namespace NS] [FILE]\n"
             "       podvisor shim ctl SOCKET status|stop|restart NAME|update NAME FILE\n"
             "       podvisor shim ctl SOCKET exec [-i] [-t] NAME -- CMD [ARG...]\n"
             "       podvisor shim --pod-key KEY [--sync-fd N] [--lock-fd N] [--log-max-size SIZE]\n"
             "                     [--log-max-files N] [--cgroup-parent PATH]\n");
}

/* --- ctl ------------------------------------------------------------------------------- */

/* Prints a reply as `shim ctl` always has; returns the exit status. */
static int print_reply(const ctlproto_msg *m) {
  if (!m->ok) {
    printf("error: %s\n", m->message);
    return 1;
  }
  if (m->status != NULL) {
    char *s = json_dumps(m->status, JSON_INDENT(1));
    printf("%s\n", s != NULL ? s : "{}");
    free(s);
  } else if (m->restarted == 0) {
    printf("ok: unchanged, nothing restarted\n");
  } else {
    printf("ok\n");
  }
  return 0;
}

static int call(const char *sock, const ctlproto_request *req) {
  ctlproto_msg m;
  pv_err err;
  pv_err_clear(&err);
  if (podctl_call(sock, req, NULL, 0, 10000, &m, NULL, &err) < 0) {
    fprintf(stderr, "podvisor shim ctl: %s\n", pv_err_str(&err));
    return 1;
  }
  int rc = print_reply(&m);
  ctlproto_msg_free(&m);
  return rc;
}

/* The pod of FILE this shim keeps: the file's only pod, else the one named
 * like the shim's (asked over the socket). */
static const spec_pod *update_pod(const char *sock, const spec_pod_list *l) {
  if (l->n == 1)
    return l->items[0];
  ctlproto_request req = {.op = CTLPROTO_OP_STATUS, .grace_seconds = -1};
  ctlproto_msg m;
  pv_err err;
  const spec_pod *found = NULL;
  if (podctl_call(sock, &req, NULL, 0, 10000, &m, NULL, &err) == 0) {
    const char *name = json_string_value(json_object_get(json_object_get(m.status, "metadata"), "name"));
    for (size_t i = 0; name != NULL && i < l->n && found == NULL; i++)
      if (strcmp(l->items[i]->name, name) == 0)
        found = l->items[i];
    ctlproto_msg_free(&m);
  }
  return found;
}

static int ctl_update(const char *sock, const char *name, const char *file) {
  spec_pod_list l = {0};
  diag_list diags;
  diag_list_init(&diags);
  int rc = spec_parse_file(file, 0, &l, &diags);
  for (size_t i = 0; i < diags.n; i++)
    diag_fprint(stderr, &diags.items[i]);
  diag_list_free(&diags);
  const spec_pod *p = rc == 0 ? update_pod(sock, &l) : NULL;
  const spec_container *c = p != NULL ? spec_pod_container(p, name) : NULL;
  if (c == NULL) {
    if (rc == 0)
      printf("error: %s: no container %s in the pod\n", file, name);
    spec_pod_list_free(&l);
    return 1;
  }
  pv_err err;
  json_t *spec = podjson_container(c, &err);
  spec_pod_list_free(&l);
  if (spec == NULL) {
    fprintf(stderr, "podvisor shim ctl: %s\n", pv_err_str(&err));
    return 1;
  }
  ctlproto_request req = {.op = CTLPROTO_OP_UPDATE, .container = name, .spec = spec, .grace_seconds = -1};
  rc = call(sock, &req);
  json_decref(spec);
  return rc;
}

static int ctl(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: podvisor shim ctl SOCKET COMMAND...\n");
    return 2;
  }
  const char *sock = argv[2], *cmd = argv[3];
  ctlproto_request req = {.grace_seconds = -1};
  if (strcmp(cmd, "status") == 0 && argc == 4) {
    req.op = CTLPROTO_OP_STATUS;
  } else if (strcmp(cmd, "stop") == 0 && argc == 4) {
    req.op = CTLPROTO_OP_STOP;
  } else if (strcmp(cmd, "restart") == 0 && argc == 5) {
    req.op = CTLPROTO_OP_RESTART;
    req.container = argv[4];
  } else if (strcmp(cmd, "update") == 0 && argc == 6) {
    return ctl_update(sock, argv[4], argv[5]);
  } else if (strcmp(cmd, "exec") == 0) {
    return cmd_shim_exec(sock, argc - 4, argv + 4);
  } else {
    fprintf(stderr,
            "podvisor shim ctl: unknown command '%s' (status, stop, restart NAME, update NAME FILE, "
            "exec [-i] [-t] NAME -- CMD...)\n",
            cmd);
    return 2;
  }
  return call(sock, &req);
}

/* --- paths ------------------------------------------------------------------------------- */

static void put(const char *name, const char *value) {
  printf("%s='", name);
  for (const char *c = value != NULL ? value : ""; *c; c++)
    if (*c == '\'')
      fputs("'\\''", stdout);
    else
      putchar(*c);
  printf("'\n");
}

static int paths(const cli_globals *g, int argc, char **argv) {
  const char *name = NULL, *ns = NULL, *file = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--pod") == 0 && i + 1 < argc)
      name = argv[++i];
    else if (strcmp(argv[i], "--namespace") == 0 && i + 1 < argc)
      ns = argv[++i];
    else if (argv[i][0] != '-' && file == NULL)
      file = argv[i];
    else {
      usage(stderr);
      return 2;
    }
  }
  if (file == NULL && name == NULL) {
    usage(stderr);
    return 2;
  }
  spec_pod_list l = {0};
  spec_pod named = {.name = (char *)name, .ns = (char *)(ns != NULL ? ns : "default")};
  const spec_pod *p = &named;
  if (file != NULL) {
    diag_list diags;
    diag_list_init(&diags);
    int rc = spec_parse_file(file, 0, &l, &diags);
    for (size_t i = 0; i < diags.n; i++)
      diag_fprint(stderr, &diags.items[i]);
    diag_list_free(&diags);
    p = NULL;
    for (size_t i = 0; rc == 0 && i < l.n && p == NULL; i++)
      if ((name == NULL || strcmp(l.items[i]->name, name) == 0) &&
          (ns == NULL || strcmp(l.items[i]->ns, ns) == 0))
        p = l.items[i];
    if (p == NULL) {
      fprintf(stderr, "podvisor shim paths: %s: no such pod\n", file);
      spec_pod_list_free(&l);
      return 1;
    }
  }
  char key[PODPATHS_KEY_LEN + 1], uid[PODPATHS_UID_MAX + 1];
  spec_pod_key(p, key);
  podpaths pp;
  pv_err err;
  int rc = 0;
  if (podpaths_init(&pp, g->run_root, key, &err) < 0) {
    fprintf(stderr, "podvisor shim paths: %s\n", pv_err_str(&err));
    rc = 1;
  } else {
    put("POD_KEY", pp.key);
    put("POD_RUN_DIR", pp.run_dir);
    put("POD_SNAPSHOT", pp.snapshot);
    put("POD_STATUS", pp.status);
    put("POD_SOCKET", pp.socket);
    put("POD_LOCK", pp.lock);
    put("POD_PID_FILE", pp.pid_file);
    put("POD_SHIM_LOG", pp.shim_log);
    char rec_uid[PODPATHS_UID_MAX + 1], parent[RESOURCE_PARENT_MAX + 1];
    if (podsnap_read_uid(&pp, uid) == 0 &&
        podpaths_set_instance(&pp, g->root, p->ns, p->name, uid, &err) == 0) {
      if (podsnap_read_cgroup(&pp, rec_uid, parent, sizeof parent) < 0 || strcmp(rec_uid, uid) != 0)
        snprintf(parent, sizeof parent, "%s", RESOURCE_DEFAULT_PARENT);
      if (podpaths_set_cgroup(&pp, parent, &err) < 0)
        snprintf(parent, sizeof parent, "%s", RESOURCE_DEFAULT_PARENT); /* a record is checked: not reached */
      put("POD_UID", pp.uid);
      put("POD_DATA_DIR", pp.pod_dir);
      put("POD_LOG_DIR", pp.log_dir);
      put("POD_CGROUP_PARENT", parent);
      put("POD_CGROUP", pp.cgroup);
    }
    podpaths_free(&pp);
  }
  spec_pod_list_free(&l);
  return rc;
}

/* --- the keeper ---------------------------------------------------------------------------- */

static int keeper(const cli_globals *g, int argc, char **argv) {
  shim_options o = {.root = g->root, .run_root = g->run_root, .sync_fd = -1, .lock_fd = -1};
  pv_err err;
  pv_err_clear(&err);
  if (shim_parse_args(argc, argv, &o, &err) < 0) {
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    usage(stderr);
    return 2;
  }
  if ((o.pod_file != NULL && shim_prepare_pod_file(&o, &err) < 0) || shim_main(&o, &err) < 0) {
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    return 1;
  }
  return 0;
}

/* `shim run [--pod N] [--namespace NS] [--new-instance] FILE [opts]` is
 * the keeper with --pod-file FILE. */
static int run(const cli_globals *g, int argc, char **argv) {
  char **args = calloc((size_t)argc + 4, sizeof *args);
  if (args == NULL)
    return 1;
  int n = 0, i = 2;
  args[n++] = "shim";
  const char *file = NULL;
  for (; i < argc; i++) {
    if ((strcmp(argv[i], "--pod") == 0 || strcmp(argv[i], "--namespace") == 0) && i + 1 < argc) {
      args[n++] = argv[i++];
      args[n++] = argv[i];
    } else if (strcmp(argv[i], "--new-instance") == 0) {
      args[n++] = argv[i];
    } else if (argv[i][0] != '-') {
      file = argv[i++];
      break;
    } else {
      break;
    }
  }
  if (file == NULL) {
    free(args);
    usage(stderr);
    return 2;
  }
  args[n++] = "--pod-file";
  args[n++] = (char *)file;
  for (; i < argc; i++)
    args[n++] = argv[i];
  int rc = keeper(g, n, args);
  free(args);
  return rc;
}

int cmd_shim(const cli_globals *g, int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "ctl") == 0)
    return ctl(argc, argv);
  if (argc > 1 && strcmp(argv[1], "paths") == 0)
    return paths(g, argc, argv);
  if (argc > 1 && strcmp(argv[1], "run") == 0)
    return run(g, argc, argv);
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
  return keeper(g, argc, argv);
}
