/*
 * cliopt.h - what the parsers of the API commands share: getopt_long as
 * kubectl's flags behave, kubectl's words for a bad command line, and the
 * resource arguments ("pods web", "pod/web").
 *
 * What it is for: each command parses its argv into an options struct
 * (clicmd.h) without printing, so that the unit tests can drive every
 * parser with good and bad command lines; cliopt_finish() then prints what
 * the parser decided, the same way for every command.
 *
 * Flags as kubectl (pflag) takes them: anywhere among the arguments
 * ("get pods -n x web"); "--" ends them; "-n x", "-nx", "-n=x",
 * "--namespace x", "--namespace=x"; booleans as "-w", "--watch",
 * "--watch=false" (never "--watch false").  A usage error fills msg with
 * pflag's or kubectl's sentence ("unknown flag: --foo", "flag needs an
 * argument: 'n' in -n").
 *
 * A parser returns CLI_PARSE_OK, CLI_PARSE_HELP (-h, --help) or
 * CLI_PARSE_USAGE with msg.  cliopt_begin() resets getopt's state (glibc's
 * optind = 0), so parses may follow each other in one process.
 */
#ifndef PODVISOR_CLI_CLIOPT_H
#define PODVISOR_CLI_CLIOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { CLI_PARSE_OK = 0, CLI_PARSE_HELP = 1, CLI_PARSE_USAGE = 2 };

#define CLI_MSG_MAX 512

/* getopt_long's optstring prefix: non-options come back as code 1, in
 * order (kubectl's interspersed flags, whatever POSIXLY_CORRECT says), and
 * a missing argument as ':'. */
#define CLIOPT_PREFIX "-:"

void cliopt_begin(void);

/* The usage message for getopt's '?' or ':' (the argv element at
 * optind - 1).  Returns CLI_PARSE_USAGE. */
int cliopt_bad(int c, char **argv, char *msg);
/* Formats msg; returns CLI_PARSE_USAGE. */
int cliopt_fail(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* optarg without the '=' of "-n=x". */
const char *cliopt_arg(const char *optarg);
/* A boolean flag's value: NULL (given alone) is true; "true|false|1|0|t|f". */
int cliopt_bool(const char *flag, const char *arg, bool *out, char *msg);
/* An integer flag within [min, max]. */
int cliopt_long(const char *flag, const char *arg, long min, long max, long *out, char *msg);
/* A duration ("30s", "2m", "1h30m", "500ms"; a bare number is seconds). */
int cliopt_duration_ms(const char *flag, const char *arg, int64_t *out, char *msg);

/* "pod", "pods" or "po" (kubectl's names of the resource). */
bool cliopt_is_pods(const char *type);

/* The positional arguments of get, describe, delete, restart: "pods
 * [NAME...]" or "pod/NAME...".  names (an array of at least n) receives the
 * names, pointing into args; *n_names their count.  Returns CLI_PARSE_OK,
 * or CLI_PARSE_USAGE (no type, a type other than pods, "pods" mixed with
 * "pod/NAME"). */
int cliopt_pod_args(char **args, size_t n, const char **names, size_t *n_names, char *msg);

/* The one pod of logs and exec: "NAME" or "pod/NAME" (*name into arg). */
int cliopt_one_pod(const char *arg, const char **name, char *msg);

/* What the command's main does with a parser's result: help on stdout
 * (exit 0), or "error: MSG" and "See 'podvisor CMD --help' for usage." on
 * stderr (exit 2).  Returns -1 for CLI_PARSE_OK (go on), else the exit
 * status. */
int cliopt_finish(int parsed, const char *cmd, const char *msg, void (*help)(FILE *));

#endif
