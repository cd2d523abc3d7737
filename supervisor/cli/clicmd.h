/*
 * clicmd.h - the commands that are clients of the daemon's API: their
 * options, their parsers, and what they share (clicmd.c).
 *
 * What it is for: each cmd_*.c of an API command is a parser (argv ->
 * options, nothing printed: tests/unit/test_cli_args.c drives them all)
 * and a run function that makes its requests through apiclient.h and
 * prints as kubectl prints.  Exit status: 0 success, 1 failure (a refused
 * request, a daemon that is not running), 2 usage error.
 *
 * Options point into argv; the arrays (files, names) are malloc'd by the
 * parser, released by cli_opts_free() (also after a failed parse).  ns is
 * NULL when -n was not given: the command then works in "default" (or
 * takes a manifest's namespace), as kubectl does with no context.
 */
#ifndef PODVISOR_CLI_CLICMD_H
#define PODVISOR_CLI_CLICMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/cli/apiclient.h"
#include "supervisor/cli/cli.h"
#include "supervisor/cli/cliopt.h"

#define CLI_DEFAULT_NS "default"

typedef struct cli_opts {
  const char **files; /* -f, in order */
  size_t n_files;
  const char **names; /* pod names */
  size_t n_names;
  const char *ns; /* -n; NULL: not given */
  bool all_ns;    /* -A */
} cli_opts;

void cli_opts_free(cli_opts *o);
/* o->ns, or "default". */
const char *cli_ns(const cli_opts *o);

/* apply -f FILE|DIR|- [--dry-run] [--prune] [-n NS] */
typedef struct apply_opts {
  cli_opts base;
  bool dry_run, prune;
} apply_opts;
int apply_parse(int argc, char **argv, apply_opts *o, char *msg);

/* create -f FILE [-n NS] */
typedef struct create_opts {
  cli_opts base;
} create_opts;
int create_parse(int argc, char **argv, create_opts *o, char *msg);

/* delete -f FILE | delete pod NAME... [--grace-period N] [--now] [--wait=false] [--timeout D] [-n NS] */
typedef struct delete_opts {
  cli_opts base;
  long grace; /* -1: each pod's own */
  bool wait;
  int64_t timeout_ms; /* of the wait; 0: none */
} delete_opts;
int delete_parse(int argc, char **argv, delete_opts *o, char *msg);

typedef enum get_output { GET_TABLE, GET_WIDE, GET_JSON, GET_YAML, GET_NAME } get_output;

/* get pods [NAME...] [-A] [-n NS] [-o wide|json|yaml|name] [-w] [-l SELECTOR] [--no-headers] */
typedef struct get_opts {
  cli_opts base;
  get_output output;
  bool watch, no_headers;
  const char *selector;
} get_opts;
int get_parse(int argc, char **argv, get_opts *o, char *msg);

/* describe pod [NAME...] [-n NS] */
typedef struct describe_opts {
  cli_opts base;
} describe_opts;
int describe_parse(int argc, char **argv, describe_opts *o, char *msg);

/* logs POD [-c C] [-f] [-p] [--tail N] [--timestamps] [-n NS] */
typedef struct logs_opts {
  cli_opts base; /* names[0]: the pod */
  const char *container;
  bool follow, previous, timestamps;
  long tail; /* -1: all */
} logs_opts;
int logs_parse(int argc, char **argv, logs_opts *o, char *msg);

/* exec POD [-c C] [-i] [-t] [-n NS] -- CMD... */
typedef struct exec_opts {
  cli_opts base; /* names[0]: the pod */
  const char *container;
  bool in, tty;
  char **argv; /* CMD, NULL-terminated (points into the command's argv) */
  size_t argc;
} exec_opts;
int exec_parse(int argc, char **argv, exec_opts *o, char *msg);

/* restart pod NAME... [-c C] [-n NS] */
typedef struct restart_opts {
  cli_opts base;
  const char *container;
} restart_opts;
int restart_parse(int argc, char **argv, restart_opts *o, char *msg);

/* events [-w] [-n NS | -A] */
typedef struct events_opts {
  cli_opts base;
  bool watch;
} events_opts;
int events_parse(int argc, char **argv, events_opts *o, char *msg);

typedef enum version_output { VERSION_TEXT, VERSION_JSON, VERSION_YAML } version_output;

/* version [--client] [-o json|yaml] */
typedef struct version_opts {
  cli_opts base;
  bool client_only;
  version_output output;
} version_opts;
int version_parse(int argc, char **argv, version_opts *o, char *msg);

/* --- shared by the run functions (clicmd.c) ------------------------------------ */

/* Opens the client of g's run-root; 0, or 1 after printing why not. */
int cli_api_open(const cli_globals *g, api_client *c);

/* Opens the client of g's run-root, runs run(c, o) with it and releases it:
 * run's exit code, or 1 after printing why the client could not be opened. */
int cli_api_run(const cli_globals *g, int (*run)(api_client *c, const void *o), const void *o);

/* Prints why a request failed and returns 1: with no reply (rep NULL or
 * rep->code 0), the daemon-not-running message or err; else the reply's
 * Status as kubectl words it (api_status_text's method, what, source). */
int cli_report(const api_client *c, const pv_err *err, const api_reply *rep, const char *method,
               const char *what, const char *source);

/* GET path (Accept JSON): the 2xx reply's JSON in *out, 0; or 1 after
 * cli_report (what: "get pods web", ...). */
int cli_get_json(api_client *c, const char *path, const char *what, json_t **out);

/* kubectl's -o json (four spaces, keys sorted) and -o yaml of j, on stdout.
 * 0, or 1 after printing why not. */
int cli_print_json(const json_t *j);
int cli_print_yaml(const json_t *j);

/* The container kubectl picks when none is named: the annotation
 * kubectl.kubernetes.io/default-container when it names one, else the
 * first container; with several containers it says so on stderr
 * ("Defaulted container "a" out of: a, b, init (init)").  NULL when the
 * pod has no container. */
const char *cli_default_container(const json_t *pod);

int64_t cli_now_ns(void);

#endif
