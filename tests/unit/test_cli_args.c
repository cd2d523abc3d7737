/* Unit tests for the argument parsers of the API commands (supervisor/cli/
 * cmd_*.c through clicmd.h, cliopt.h): for each command, good command lines
 * and what they mean, and bad ones with the usage error they get.  A parse
 * is written out as one line ("ns=x names=web,db ...") and compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/cli/clicmd.h"
#include "tests/testutil.h"

static const char *str(const char *s) {
  return s != NULL ? s : "-";
}

static void list(char *b, size_t len, const char *key, const char *const *v, size_t n) {
  size_t off = strlen(b);
  off += (size_t)snprintf(b + off, len - off, "%s=", key);
  for (size_t i = 0; i < n && off < len; i++)
    off += (size_t)snprintf(b + off, len - off, "%s%s", i ? "," : "", v[i]);
  if (n == 0 && off < len)
    snprintf(b + off, len - off, "-");
}

static void base(char *b, size_t len, const cli_opts *o) {
  list(b, len, "files", o->files, o->n_files);
  strncat(b, " ", len - strlen(b) - 1);
  list(b, len, "names", o->names, o->n_names);
  snprintf(b + strlen(b), len - strlen(b), " ns=%s all=%d", str(o->ns), o->all_ns);
}

/* Each command: parse, then write what was understood. */
static int do_apply(int argc, char **argv, char *b, size_t len, char *msg) {
  apply_opts o;
  int r = apply_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK) {
    base(b, len, &o.base);
    snprintf(b + strlen(b), len - strlen(b), " dry=%d prune=%d", o.dry_run, o.prune);
  }
  cli_opts_free(&o.base);
  return r;
}

static int do_create(int argc, char **argv, char *b, size_t len, char *msg) {
  create_opts o;
  int r = create_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK)
    base(b, len, &o.base);
  cli_opts_free(&o.base);
  return r;
}

static int do_delete(int argc, char **argv, char *b, size_t len, char *msg) {
  delete_opts o;
  int r = delete_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK) {
    base(b, len, &o.base);
    snprintf(b + strlen(b), len - strlen(b), " grace=%ld wait=%d timeout=%lld", o.grace, o.wait,
             (long long)o.timeout_ms);
  }
  cli_opts_free(&o.base);
  return r;
}

static int do_get(int argc, char **argv, char *b, size_t len, char *msg) {
  static const char *const outs[] = {"table", "wide", "json", "yaml", "name"};
  get_opts o;
  int r = get_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK) {
    base(b, len, &o.base);
    snprintf(b + strlen(b), len - strlen(b), " o=%s w=%d nohdr=%d l=%s", outs[o.output], o.watch,
             o.no_headers, str(o.selector));
  }
  cli_opts_free(&o.base);
  return r;
}

static int do_describe(int argc, char **argv, char *b, size_t len, char *msg) {
  describe_opts o;
  int r = describe_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK)
    base(b, len, &o.base);
  cli_opts_free(&o.base);
  return r;
}

static int do_logs(int argc, char **argv, char *b, size_t len, char *msg) {
  logs_opts o;
  int r = logs_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK) {
    base(b, len, &o.base);
    snprintf(b + strlen(b), len - strlen(b), " c=%s f=%d p=%d ts=%d tail=%ld", str(o.container), o.follow,
             o.previous, o.timestamps, o.tail);
  }
  cli_opts_free(&o.base);
  return r;
}

static int do_exec(int argc, char **argv, char *b, size_t len, char *msg) {
  exec_opts o;
  int r = exec_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK) {
    base(b, len, &o.base);
    snprintf(b + strlen(b), len - strlen(b), " c=%s i=%d t=%d ", str(o.container), o.in, o.tty);
    list(b, len, "cmd", (const char *const *)o.argv, o.argc);
    ck_assert_ptr_null(o.argv[o.argc]); /* NULL-terminated, as execv wants */
  }
  cli_opts_free(&o.base);
  return r;
}

static int do_restart(int argc, char **argv, char *b, size_t len, char *msg) {
  restart_opts o;
  int r = restart_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK) {
    base(b, len, &o.base);
    snprintf(b + strlen(b), len - strlen(b), " c=%s", str(o.container));
  }
  cli_opts_free(&o.base);
  return r;
}

static int do_events(int argc, char **argv, char *b, size_t len, char *msg) {
  events_opts o;
  int r = events_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK) {
    base(b, len, &o.base);
    snprintf(b + strlen(b), len - strlen(b), " w=%d", o.watch);
  }
  cli_opts_free(&o.base);
  return r;
}

static int do_version(int argc, char **argv, char *b, size_t len, char *msg) {
  version_opts o;
  int r = version_parse(argc, argv, &o, msg);
  if (r == CLI_PARSE_OK)
    snprintf(b, len, "client=%d o=%d", o.client_only, (int)o.output);
  cli_opts_free(&o.base);
  return r;
}

typedef int (*parse_fn)(int argc, char **argv, char *b, size_t len, char *msg);

static const struct {
  const char *name;
  parse_fn fn;
} parsers[] = {{"apply", do_apply},    {"create", do_create},     {"delete", do_delete},
               {"get", do_get},        {"describe", do_describe}, {"logs", do_logs},
               {"exec", do_exec},      {"restart", do_restart},   {"events", do_events},
               {"version", do_version}};

/* argv: the command line after "podvisor", words split at spaces.  want:
 * the parse result; then for CLI_PARSE_OK the understood line, for
 * CLI_PARSE_USAGE a part of the message. */
static const struct {
  const char *argv;
  int want;
  const char *expect;
} cases[] = {
    /* apply */
    {"apply -f web.yaml", CLI_PARSE_OK, "files=web.yaml names=- ns=- all=0 dry=0 prune=0"},
    {"apply -f a.yaml --filename=dir -f - --dry-run --prune -n team", CLI_PARSE_OK,
     "files=a.yaml,dir,- names=- ns=team all=0 dry=1 prune=1"},
    {"apply -fweb.yaml --dry-run=server --namespace=x", CLI_PARSE_OK,
     "files=web.yaml names=- ns=x all=0 dry=1 prune=0"},
    {"apply -f=web.yaml --dry-run=none --prune=false", CLI_PARSE_OK,
     "files=web.yaml names=- ns=- all=0 dry=0 prune=0"},
    {"apply", CLI_PARSE_USAGE, "must specify -f"},
    {"apply web.yaml", CLI_PARSE_USAGE, "unexpected argument \"web.yaml\""},
    {"apply -f", CLI_PARSE_USAGE, "flag needs an argument: 'f' in -f"},
    {"apply --filename", CLI_PARSE_USAGE, "flag needs an argument: --filename"},
    {"apply -f x --dry-run=maybe", CLI_PARSE_USAGE, "invalid argument \"maybe\" for \"--dry-run\""},
    {"apply -f x --force", CLI_PARSE_USAGE, "unknown flag: --force"},
    {"apply -f x -q", CLI_PARSE_USAGE, "unknown shorthand flag: 'q' in -q"},
    {"apply --help", CLI_PARSE_HELP, NULL},
    {"apply -f x -h", CLI_PARSE_HELP, NULL},
    /* create */
    {"create -f web.yaml -n team", CLI_PARSE_OK, "files=web.yaml names=- ns=team all=0"},
    {"create", CLI_PARSE_USAGE, "must specify -f"},
    {"create pod web", CLI_PARSE_USAGE, "unexpected argument \"pod\""},
    /* delete */
    {"delete pod web", CLI_PARSE_OK, "files=- names=web ns=- all=0 grace=-1 wait=1 timeout=0"},
    {"delete pods web db -n x --grace-period 5 --wait=false", CLI_PARSE_OK,
     "files=- names=web,db ns=x all=0 grace=5 wait=0 timeout=0"},
    {"delete pod/web po/db --now --timeout=1m30s", CLI_PARSE_OK,
     "files=- names=web,db ns=- all=0 grace=1 wait=1 timeout=90000"},
    {"delete -f web.yaml -f dir --grace-period=0 --timeout 500ms", CLI_PARSE_OK,
     "files=web.yaml,dir names=- ns=- all=0 grace=0 wait=1 timeout=500"},
    {"delete web --timeout=2", CLI_PARSE_USAGE, "resource type \"web\""},
    {"delete pod web --timeout=2", CLI_PARSE_OK, "files=- names=web ns=- all=0 grace=-1 wait=1 timeout=2000"},
    {"delete", CLI_PARSE_USAGE, "one or more resources"},
    {"delete pod", CLI_PARSE_USAGE, "no name was specified"},
    {"delete -f web.yaml pod web", CLI_PARSE_USAGE, "may not specify resource arguments"},
    {"delete pod web --now --grace-period 3", CLI_PARSE_USAGE, "--now and --grace-period"},
    {"delete pod web --grace-period soon", CLI_PARSE_USAGE,
     "invalid argument \"soon\" for \"--grace-period\""},
    {"delete pod web --timeout 3x", CLI_PARSE_USAGE, "not a duration"},
    {"delete pod web --timeout -3s", CLI_PARSE_USAGE, "not a duration"},
    {"delete deployment web", CLI_PARSE_USAGE, "doesn't have a resource type \"deployment\""},
    {"delete pod web pod/db", CLI_PARSE_USAGE, "no need to specify a resource type"},
    /* get */
    {"get pods", CLI_PARSE_OK, "files=- names=- ns=- all=0 o=table w=0 nohdr=0 l=-"},
    {"get po web -owide", CLI_PARSE_OK, "files=- names=web ns=- all=0 o=wide w=0 nohdr=0 l=-"},
    {"get pods -A -o json -w", CLI_PARSE_OK, "files=- names=- ns=- all=1 o=json w=1 nohdr=0 l=-"},
    {"get pod -n x web db -o=yaml", CLI_PARSE_OK, "files=- names=web,db ns=x all=0 o=yaml w=0 nohdr=0 l=-"},
    {"get pods --output name --selector app=web,tier!=db --no-headers", CLI_PARSE_OK,
     "files=- names=- ns=- all=0 o=name w=0 nohdr=1 l=app=web,tier!=db"},
    {"get pod/web --watch=false --all-namespaces=false", CLI_PARSE_OK,
     "files=- names=web ns=- all=0 o=table w=0 nohdr=0 l=-"},
    {"get pods -- web", CLI_PARSE_OK, "files=- names=web ns=- all=0 o=table w=0 nohdr=0 l=-"},
    {"get", CLI_PARSE_USAGE, "you must specify the type of resource"},
    {"get nodes", CLI_PARSE_USAGE, "doesn't have a resource type \"nodes\""},
    {"get pods -o xml", CLI_PARSE_USAGE, "output format \"xml\", allowed formats are: json,name,wide,yaml"},
    {"get pods -A web", CLI_PARSE_USAGE, "cannot be retrieved by name across all namespaces"},
    {"get pods a b -w", CLI_PARSE_USAGE, "watch is only supported"},
    {"get pods -n", CLI_PARSE_USAGE, "flag needs an argument: 'n' in -n"},
    {"get pods --namespace", CLI_PARSE_USAGE, "flag needs an argument: --namespace"},
    {"get pods --watch maybe", CLI_PARSE_OK, /* a boolean takes no separate value (pflag) */
     "files=- names=maybe ns=- all=0 o=table w=1 nohdr=0 l=-"},
    {"get pods --watch=maybe", CLI_PARSE_USAGE, "invalid argument \"maybe\" for \"--watch\""},
    {"get pods pod/web", CLI_PARSE_USAGE, "no need to specify a resource type"},
    {"get pod/", CLI_PARSE_USAGE, "single resource and name"},
    {"get pod/web/x", CLI_PARSE_USAGE, "single resource and name"},
    {"get pods --bogus=1", CLI_PARSE_USAGE, "unknown flag: --bogus"},
    /* describe */
    {"describe pod web -n x", CLI_PARSE_OK, "files=- names=web ns=x all=0"},
    {"describe pods", CLI_PARSE_OK, "files=- names=- ns=- all=0"},
    {"describe", CLI_PARSE_USAGE, "you must specify the type of resource"},
    {"describe svc web", CLI_PARSE_USAGE, "resource type \"svc\""},
    /* logs */
    {"logs web", CLI_PARSE_OK, "files=- names=web ns=- all=0 c=- f=0 p=0 ts=0 tail=-1"},
    {"logs pod/web -c app -f -p --tail 20 --timestamps -n x", CLI_PARSE_OK,
     "files=- names=web ns=x all=0 c=app f=1 p=1 ts=1 tail=20"},
    {"logs -fp web --container=app --tail=-1", CLI_PARSE_OK,
     "files=- names=web ns=- all=0 c=app f=1 p=1 ts=0 tail=-1"},
    {"logs", CLI_PARSE_USAGE, "a pod must be specified"},
    {"logs web db", CLI_PARSE_USAGE, "only one pod at a time"},
    {"logs web --tail lots", CLI_PARSE_USAGE, "invalid argument \"lots\" for \"--tail\""},
    {"logs web --tail -2", CLI_PARSE_USAGE, "not between -1 and"},
    {"logs svc/web", CLI_PARSE_USAGE, "resource type \"svc\""},
    /* exec */
    {"exec web -- sh", CLI_PARSE_OK, "files=- names=web ns=- all=0 c=- i=0 t=0 cmd=sh"},
    {"exec -it web -c app -n x -- sh -c ls -l", CLI_PARSE_OK,
     "files=- names=web ns=x all=0 c=app i=1 t=1 cmd=sh,-c,ls,-l"},
    {"exec web --stdin --tty=false -- cat --", CLI_PARSE_OK,
     "files=- names=web ns=- all=0 c=- i=1 t=0 cmd=cat,--"},
    {"exec pod/web -ti -- -x", CLI_PARSE_OK, "files=- names=web ns=- all=0 c=- i=1 t=1 cmd=-x"},
    {"exec web", CLI_PARSE_USAGE, "at least one command"},
    {"exec web --", CLI_PARSE_USAGE, "at least one command"},
    {"exec web ls", CLI_PARSE_USAGE, "use podvisor exec POD -- CMD"},
    {"exec -- ls", CLI_PARSE_USAGE, "a pod must be specified"},
    {"exec web db -- ls", CLI_PARSE_USAGE, "only one pod at a time"},
    {"exec web -x -- ls", CLI_PARSE_USAGE, "unknown shorthand flag: 'x' in -x"},
    {"exec web -c", CLI_PARSE_USAGE, "flag needs an argument: 'c' in -c"},
    {"exec -h -- ls", CLI_PARSE_HELP, NULL},
    /* restart */
    {"restart pod web db -c app -n x", CLI_PARSE_OK, "files=- names=web,db ns=x all=0 c=app"},
    {"restart pod", CLI_PARSE_USAGE, "a pod must be specified"},
    {"restart web", CLI_PARSE_USAGE, "resource type \"web\""},
    /* events */
    {"events", CLI_PARSE_OK, "files=- names=- ns=- all=0 w=0"},
    {"events -w -A", CLI_PARSE_OK, "files=- names=- ns=- all=1 w=1"},
    {"events --watch -n x", CLI_PARSE_OK, "files=- names=- ns=x all=0 w=1"},
    {"events web", CLI_PARSE_USAGE, "takes no arguments"},
    /* version */
    {"version", CLI_PARSE_OK, "client=0 o=0"},
    {"version --client -o json", CLI_PARSE_OK, "client=1 o=1"},
    {"version -oyaml", CLI_PARSE_OK, "client=0 o=2"},
    {"version -o wide", CLI_PARSE_USAGE, "--output must be 'yaml' or 'json'"},
    {"version now", CLI_PARSE_USAGE, "takes no arguments"},
};

START_TEST(parsers_read_kubectl_command_lines) {
  const char *line = cases[_i].argv;
  char *copy = strdup(line), *words[32];
  int argc = 0;
  for (char *w = strtok(copy, " "); w != NULL && argc < 31; w = strtok(NULL, " "))
    words[argc++] = w;
  words[argc] = NULL;
  parse_fn fn = NULL;
  for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++)
    if (strcmp(parsers[i].name, words[0]) == 0)
      fn = parsers[i].fn;
  ck_assert_msg(fn != NULL, "no parser for %s", words[0]);
  char got[1024] = "", msg[CLI_MSG_MAX] = "";
  int r = fn(argc, words, got, sizeof got, msg);
  ck_assert_msg(r == cases[_i].want, "'%s': result %d, want %d (msg '%s')", line, r, cases[_i].want, msg);
  if (r == CLI_PARSE_OK)
    ck_assert_msg(strcmp(got, cases[_i].expect) == 0, "'%s':\n got  %s\n want %s", line, got,
                  cases[_i].expect);
  else if (r == CLI_PARSE_USAGE)
    ck_assert_msg(strstr(msg, cases[_i].expect) != NULL, "'%s': message '%s' lacks '%s'", line, msg,
                  cases[_i].expect);
  free(copy);
}
END_TEST

/* cliopt_finish: help on stdout (0), the usage error and the hint on
 * stderr (2), and nothing for a good parse (-1: go on). */
START_TEST(finish_gives_shell_exit_codes) {
  ck_assert_int_eq(cliopt_finish(CLI_PARSE_OK, "get", "", NULL), -1);
  FILE *saved = stderr;
  char *text = NULL;
  size_t len = 0;
  stderr = open_memstream(&text, &len);
  int r = cliopt_finish(CLI_PARSE_USAGE, "get", "unknown flag: --x", NULL);
  fclose(stderr);
  stderr = saved;
  ck_assert_int_eq(r, 2);
  ck_assert_str_eq(text, "error: unknown flag: --x\nSee 'podvisor get --help' for usage.\n");
  free(text);
}
END_TEST

static void fake_help(FILE *f) {
  fputs("usage: podvisor fake\n", f);
}

START_TEST(finish_prints_help_on_stdout) {
  FILE *saved = stdout;
  char *text = NULL;
  size_t len = 0;
  stdout = open_memstream(&text, &len);
  int r = cliopt_finish(CLI_PARSE_HELP, "fake", "", fake_help);
  fclose(stdout);
  stdout = saved;
  ck_assert_int_eq(r, 0);
  ck_assert_str_eq(text, "usage: podvisor fake\n");
  free(text);
}
END_TEST

/* The parts of a duration add up; units are Go's. */
START_TEST(durations_in_go_units) {
  static const struct {
    const char *s;
    int64_t ms;
  } ok[] = {{"30", 30000},      {"1.5", 1500},  {"30s", 30000},    {"2m", 120000},
            {"1h30m", 5400000}, {"250ms", 250}, {"1m0.5s", 60500}, {"0s", 0}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int64_t v = -1;
    char msg[CLI_MSG_MAX];
    ck_assert_int_eq(cliopt_duration_ms("--timeout", ok[i].s, &v, msg), CLI_PARSE_OK);
    ck_assert_msg(v == ok[i].ms, "%s: %lld", ok[i].s, (long long)v);
  }
  static const char *const bad[] = {"", "s", "3x", "1h-5m", "-3s", "nan", "inf", "1e400s", "5 s", "1.2.3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v = 0;
    char msg[CLI_MSG_MAX];
    ck_assert_msg(cliopt_duration_ms("--timeout", bad[i], &v, msg) == CLI_PARSE_USAGE, "'%s' accepted",
                  bad[i]);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("cli_args");
  TCase *tc = tcase_create("cli_args");
  tcase_add_loop_test(tc, parsers_read_kubectl_command_lines, 0, sizeof cases / sizeof cases[0]);
  tcase_add_test(tc, finish_gives_shell_exit_codes);
  tcase_add_test(tc, finish_prints_help_on_stdout);
  tcase_add_test(tc, durations_in_go_units);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
