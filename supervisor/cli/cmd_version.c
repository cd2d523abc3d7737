/*
 * cmd_version.c - `podvisor version [--client] [-o json|yaml]`, as kubectl
 * version: "Client Version: v0.1.0" and, from the daemon's /version,
 * "Server Version: v1.32.0-podvisor.0.1.0".  A daemon that cannot be
 * reached is said so after the client's version (exit 1), unless --client
 * asked for the client alone.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/clicmd.h"

static void help(FILE *f) {
  fprintf(f, "usage: podvisor version [--client] [-o json|yaml]\n"
             "  Prints the version of this client and of the daemon it talks to.\n"
             "\n"
             "      --client         the client's version only (no daemon needed)\n"
             "  -o, --output FORMAT  json or yaml (kubectl's clientVersion / serverVersion)\n"
             "  -h, --help           this text\n");
}

enum { OPT_CLIENT = 256 };

int version_parse(int argc, char **argv, version_opts *o, char *msg) {
  static const struct option longs[] = {{"client", optional_argument, NULL, OPT_CLIENT},
                                        {"output", required_argument, NULL, 'o'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  *o = (version_opts){0};
  int r = CLI_PARSE_OK, c;
  cliopt_begin();
  while (r == CLI_PARSE_OK && (c = getopt_long(argc, argv, CLIOPT_PREFIX "o:h", longs, NULL)) != -1) {
    const char *a = cliopt_arg(optarg);
    switch (c) {
    case 1:
      r = cliopt_fail(msg, "unexpected argument \"%s\": podvisor version takes no arguments", optarg);
      break;
    case OPT_CLIENT: r = cliopt_bool("--client", optarg, &o->client_only, msg); break;
    case 'o':
      if (strcmp(a, "json") == 0)
        o->output = VERSION_JSON;
      else if (strcmp(a, "yaml") == 0)
        o->output = VERSION_YAML;
      else
        r = cliopt_fail(msg, "--output must be 'yaml' or 'json'");
      break;
    case 'h': r = CLI_PARSE_HELP; break;
    default: r = cliopt_bad(c, argv, msg);
    }
  }
  if (r == CLI_PARSE_OK && optind < argc)
    r = cliopt_fail(msg, "unexpected argument \"%s\": podvisor version takes no arguments", argv[optind]);
  return r;
}

static json_t *client_version(void) {
  const char *v = PODVISOR_VERSION;
  char git[64];
  snprintf(git, sizeof git, "v%s", v);
  char major[16] = "", minor[16] = "";
  sscanf(v, "%15[0-9].%15[0-9]", major, minor);
  return json_pack("{s:s, s:s, s:s, s:s}", "major", major, "minor", minor, "gitVersion", git, "platform",
                   "linux/"
#if defined(__x86_64__)
                   "amd64"
#elif defined(__aarch64__)
                   "arm64"
#else
                   "unknown"
#endif
  );
}

static int run(const cli_globals *g, const version_opts *o) {
  json_t *client = client_version(), *server = NULL;
  int status = 0;
  api_client c = {.dirfd = -1};
  pv_err err;
  pv_err_clear(&err);
  api_reply rep = {0};
  if (!o->client_only && cli_api_open(g, &c) == 0) {
    api_request rq = {.path = "/version"};
    if (api_call(&c, &rq, &rep, &err) == 0 && api_reply_ok(&rep))
      server = api_reply_json(&rep, &err);
    if (server == NULL)
      status = 1; /* said below, after the client's version */
  } else if (!o->client_only) {
    status = 1;
  }
  if (o->output == VERSION_TEXT) {
    printf("Client Version: %s\n", json_string_value(json_object_get(client, "gitVersion")));
    if (server != NULL)
      printf("Server Version: %s\n", json_string_value(json_object_get(server, "gitVersion")) ?: "<unknown>");
  } else {
    json_t *all = json_pack("{s:O}", "clientVersion", client);
    if (server != NULL)
      json_object_set(all, "serverVersion", server);
    status |= o->output == VERSION_JSON ? cli_print_json(all) : cli_print_yaml(all);
    json_decref(all);
  }
  fflush(stdout);
  if (!o->client_only && server == NULL && c.sock_path != NULL) {
    if (rep.code != 0 && !api_reply_ok(&rep))
      cli_report(&c, &err, &rep, "GET", "get version", NULL);
    else
      cli_report(&c, &err, NULL, "GET", "get version", NULL);
  }
  api_reply_free(&rep);
  api_client_free(&c);
  json_decref(client);
  json_decref(server);
  return status;
}

int cmd_version(const cli_globals *g, int argc, char **argv) {
  version_opts o;
  char msg[CLI_MSG_MAX];
  int r = cliopt_finish(version_parse(argc, argv, &o, msg), "version", msg, help);
  if (r < 0)
    r = run(g, &o);
  cli_opts_free(&o.base);
  return r;
}
