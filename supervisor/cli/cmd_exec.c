/*
 * cmd_exec.c - `podvisor exec POD [-c C] [-i] [-t] [-n NS] -- CMD...`, as
 * kubectl exec: CMD runs in a container of the pod, brokered by the daemon
 * through the pod's shim (execclient.h; neither this command nor the
 * daemon joins a namespace), and its exit code is this command's, with
 * kubectl's "command terminated with exit code N" on stderr when not 0.
 *
 * -t gives CMD a terminal (the local one in raw mode, resized with it;
 * a stdin that is no terminal gets kubectl's warning and no -t), -i passes
 * stdin.  Without -c the container is the one kubectl picks (the pod's
 * default-container annotation, else the first, said on stderr when the
 * pod has several), which takes a GET of the pod first.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/cli/clicmd.h"
#include "supervisor/cli/exec_term.h"
#include "supervisor/cli/execclient.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor exec POD [-c CONTAINER] [-i] [-t] [-n NS] -- CMD [ARG...]\n"
             "  Runs CMD in a container of a running pod; its exit code is podvisor's.\n"
             "\n"
             "  -c, --container C   the container (default: the pod's default or first container)\n"
             "  -i, --stdin         pass stdin to CMD\n"
             "  -t, --tty           give CMD a terminal (stdin must be one)\n"
             "  -n, --namespace NS  the namespace (default \"default\")\n"
             "  -h, --help          this text\n");
}

int exec_parse(int argc, char **argv, exec_opts *o, char *msg) {
  static const struct option longs[] = {{"container", required_argument, NULL, 'c'},
                                        {"stdin", optional_argument, NULL, 'i'},
                                        {"tty", optional_argument, NULL, 't'},
                                        {"namespace", required_argument, NULL, 'n'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (exec_opts){0};
  if ((o->base.names = calloc(2, sizeof *o->base.names)) == NULL)
    return cliopt_fail(msg, "out of memory");
  /* The flags end at the first "--": CMD's own flags are never ours. */
  int dash = 1;
  while (dash < argc && strcmp(argv[dash], "--") != 0)
    dash++;
  const char *pod = NULL;
  size_t npos = 0;
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(dash, argv, CLIOPT_PREFIX "c:itn:h", longs, NULL)) != -1) {
    switch (c) {
    case 1:
      if (npos++ == 0)
        pod = argv[optind - 1];
      break;
    case 'c': o->container = cliopt_arg(optarg); break;
    case 'i': r = cliopt_bool("--stdin", optarg, &o->in, msg); break;
    case 't': r = cliopt_bool("--tty", optarg, &o->tty, msg); break;
    case 'n': o->base.ns = cliopt_arg(optarg); break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  if (r != CLI_PARSE_OK)
    return r;
  if (pod == NULL)
    return cliopt_fail(msg, "a pod must be specified: podvisor exec POD -- CMD");
  if (dash >= argc && npos > 1)
    return cliopt_fail(msg, "exec POD CMD is not supported: use podvisor exec POD -- CMD");
  if (npos > 1)
    return cliopt_fail(msg, "only one pod at a time: podvisor exec POD -- CMD (got %zu arguments before --)",
                       npos);
  if (dash + 1 >= argc)
    return cliopt_fail(msg,
                       "you must specify at least one command for the container: podvisor exec POD -- CMD");
  if (cliopt_one_pod(pod, &pod, msg) != CLI_PARSE_OK)
    return CLI_PARSE_USAGE;
  o->base.names[0] = pod;
  o->base.n_names = 1;
  o->argv = argv + dash + 1;
  o->argc = (size_t)(argc - dash - 1);
  return CLI_PARSE_OK;
}

static int run(const cli_globals *g, api_client *c, exec_opts *o) {
  const char *ns = cli_ns(&o->base), *pod = o->base.names[0];
  json_t *obj = NULL;
  const char *container = o->container;
  if (container == NULL) {
    char *path = api_path_pods(ns, pod, NULL), what[512];
    snprintf(what, sizeof what, "get pods %s", pod);
    int r = path != NULL ? cli_get_json(c, path, what, &obj) : 1;
    free(path);
    if (r != 0)
      return 1;
    if ((container = cli_default_container(obj)) == NULL) {
      fprintf(stderr, "error: pod %s has no container\n", pod);
      json_decref(obj);
      return 1;
    }
  }
  bool tty = o->tty;
  if (tty && !isatty(STDIN_FILENO)) {
    fprintf(stderr, "Unable to use a TTY - input is not a terminal or the right kind of file\n");
    tty = false;
  }
  execclient_req rq = {
      .ns = ns, .pod = pod, .container = container, .argv = o->argv, .tty = tty, .in = o->in};
  if (tty)
    exec_term_size(STDIN_FILENO, &rq.rows, &rq.cols);
  char *sock_path = NULL;
  pv_err err;
  pv_err_clear(&err);
  int status = 1, fd = -1;
  if (asprintf(&sock_path, "%s/%s", g->run_root, API_EXEC_SOCKET_NAME) < 0) {
    sock_path = NULL;
    fprintf(stderr, "error: out of memory\n");
  } else if ((fd = execclient_connect(sock_path, &err)) < 0) {
    if (api_daemon_down(&err)) {
      char text[PV_ERR_MSG_MAX + 256];
      api_down_text(sock_path, g->run_root, &err, text, sizeof text);
      fprintf(stderr, "%s\n", text);
    } else {
      fprintf(stderr, "error: %s\n", pv_err_str(&err));
    }
  } else {
    execclient_io io = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
    execclient_result res;
    if (execclient_run(fd, &rq, &io, &res, &err) < 0) {
      fprintf(stderr, "error: %s\n", pv_err_str(&err));
    } else if (res.refused) {
      fprintf(stderr, "Error from server (%s): %s\n", res.reason, res.message);
    } else {
      status = res.exit_code;
      if (status != 0)
        fprintf(stderr, "command terminated with exit code %d\n", status);
    }
  }
  free(sock_path);
  json_decref(obj);
  return status;
}

int cmd_exec(const cli_globals *g, int argc, char **argv) {
  exec_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(exec_parse(argc, argv, &o, msg), "exec", msg, help);
  if (r < 0) {
    api_client c;
    r = cli_api_open(g, &c);
    if (r == 0)
      r = run(g, &c, &o);
    api_client_free(&c);
  }
  cli_opts_free(&o.base);
  return r;
}
