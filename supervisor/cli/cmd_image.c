/*
 * cmd_image.c - `podvisor image import|rm|ls|inspect`: the local image store
 * (supervisor/core/image.h) from the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/quantity.h"
#include "supervisor/cli/cli.h"
#include "supervisor/core/image.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: podvisor image import [--cmd CMD] [--env K=V]... [--workdir DIR] [--max-size SIZE]\n"
          "                             [--max-entries N] NAME[:TAG] DIR|TARBALL\n"
          "       podvisor image rm NAME[:TAG]...\n"
          "       podvisor image ls            (same as podvisor images)\n"
          "       podvisor image inspect NAME[:TAG]\n"
          "\n"
          "import copies a root file system directory, or unpacks a tarball (tar, cpio, zip...,\n"
          "optionally gzip/xz/zstd/bzip2 compressed), into the store as NAME:TAG, replacing an\n"
          "existing image of that name atomically.  Device nodes and sockets are skipped (a container\n"
          "gets its own /dev): their count and first names are shown on stderr.\n"
          "  --cmd CMD      default command: a JSON array ('[\"sh\",\"-c\",\"echo hi\"]') or words\n"
          "                 split on spaces ('sh -i'); default /bin/sh\n"
          "  --env K=V      add an environment variable (PATH is set by default)\n"
          "  --workdir DIR  default working directory (default /)\n"
          "  --max-size SIZE  refuse an image whose unpacked files add up to more than SIZE, a\n"
          "                 quantity like 2Gi or 500M (sparse files count whole; default 16Gi; 0: none)\n"
          "  --max-entries N  refuse an image of more than N files, directories and links\n"
          "                 (default 4194304; 0: none)\n");
}

static void free_strv(char **v) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

/* Splits --cmd into a NULL-terminated vector: a JSON array of strings, or
 * words separated by blanks. */
static char **parse_cmd(const char *s) {
  size_t n = 0;
  char **v = NULL;
  if (s[0] == '[') {
    json_error_t je;
    json_t *a = json_loads(s, 0, &je);
    size_t i;
    json_t *x;
    if (!json_is_array(a) || json_array_size(a) == 0) {
      json_decref(a);
      return NULL;
    }
    v = calloc(json_array_size(a) + 1, sizeof *v);
    json_array_foreach(a, i, x) {
      if (v == NULL || !json_is_string(x)) {
        json_decref(a);
        free_strv(v);
        return NULL;
      }
      v[n++] = strdup(json_string_value(x));
    }
    json_decref(a);
    return v;
  }
  char *copy = strdup(s), *save = NULL;
  v = calloc(strlen(s) / 2 + 2, sizeof *v);
  for (char *w = strtok_r(copy, " \t", &save); v != NULL && w != NULL; w = strtok_r(NULL, " \t", &save))
    v[n++] = strdup(w);
  free(copy);
  if (n == 0) {
    free(v);
    return NULL;
  }
  return v;
}

/* --max-size / --max-entries: a non-negative quantity (2Gi, 500M, 1e9); 0
 * means no limit.  -1 when s is not one. */
static int parse_limit(const char *opt, const char *s, uint64_t *out) {
  quantity q;
  char why[160] = "";
  if (quantity_parse(s, &q, why, sizeof why) < 0 || quantity_is_negative(&q) || q.no_digits) {
    fprintf(stderr, "podvisor image import: invalid %s '%s': give a size like 2Gi or 500M%s%s\n", opt, s,
            why[0] ? ": " : "", why);
    return -1;
  }
  int64_t v = quantity_value_ceil(&q);
  *out = v <= 0 ? IMAGE_IMPORT_NO_LIMIT : (uint64_t)v;
  return 0;
}

/* Says what the import left out: "skipped 3 device nodes: /dev/null, ...". */
static void print_skipped(const image_import_report *r) {
  uint64_t n = r->skipped_devices + r->skipped_sockets;
  if (n == 0)
    return;
  fprintf(stderr, "podvisor image import: skipped ");
  if (r->skipped_devices > 0)
    fprintf(stderr, "%llu device node%s", (unsigned long long)r->skipped_devices, r->skipped_devices == 1 ? "" : "s");
  if (r->skipped_devices > 0 && r->skipped_sockets > 0)
    fprintf(stderr, " and ");
  if (r->skipped_sockets > 0)
    fprintf(stderr, "%llu socket%s", (unsigned long long)r->skipped_sockets, r->skipped_sockets == 1 ? "" : "s");
  fprintf(stderr, " (a container gets its own /dev):");
  for (size_t i = 0; i < r->n_skipped_names; i++)
    fprintf(stderr, "%s %s", i ? "," : "", r->skipped_names[i]);
  fprintf(stderr, "%s\n", n > r->n_skipped_names ? ", ..." : "");
}

static int do_import(const cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"cmd", required_argument, NULL, 'c'},
      {"env", required_argument, NULL, 'e'},
      {"workdir", required_argument, NULL, 'w'},
      {"max-size", required_argument, NULL, 's'},
      {"max-entries", required_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  image_import_report report;
  memset(&report, 0, sizeof report);
  image_import_options io = {.report = &report};
  char **cmd = NULL;
  char **env = calloc((size_t)argc + 1, sizeof *env);
  size_t n_env = 0;
  int rc = 2, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "+c:e:w:s:n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      free_strv(cmd);
      cmd = parse_cmd(optarg);
      if (cmd == NULL) {
        fprintf(stderr, "podvisor image import: invalid --cmd '%s': give words or a JSON array of strings\n",
                optarg);
        goto out;
      }
      break;
    case 'e': env[n_env++] = optarg; break;
    case 'w': io.working_dir = optarg; break;
    case 's':
      if (parse_limit("--max-size", optarg, &io.max_bytes) < 0)
        goto out;
      break;
    case 'n':
      if (parse_limit("--max-entries", optarg, &io.max_entries) < 0)
        goto out;
      break;
    case 'h':
      usage(stdout);
      rc = 0;
      goto out;
    default: usage(stderr); goto out;
    }
  }
  if (argc - optind != 2) {
    usage(stderr);
    goto out;
  }
  io.cmd = cmd;
  io.env = env;
  pv_err err = {0};
  if (image_import_with(g->root, argv[optind], argv[optind + 1], &io, &err) < 0) {
    fprintf(stderr, "podvisor image import: %s%s\n", pv_err_str(&err),
            err.code == EFBIG ? "; nothing was imported (see --max-size and --max-entries)" : "");
    rc = 1;
    goto out;
  }
  print_skipped(&report);
  image_ref ref;
  image_ref_parse(argv[optind], &ref, NULL);
  printf("%s:%s\n", ref.name, ref.tag);
  rc = 0;
out:
  free_strv(cmd);
  free(env);
  return rc;
}

static int do_rm(const cli_globals *g, int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    pv_err err = {0};
    if (image_remove(g->root, argv[i], &err) < 0) {
      fprintf(stderr, "podvisor image rm: %s\n", pv_err_str(&err));
      rc = 1;
    } else {
      image_ref ref;
      image_ref_parse(argv[i], &ref, NULL);
      printf("Untagged: %s:%s\n", ref.name, ref.tag);
    }
  }
  return rc;
}

static json_t *strv_json(char *const *v) {
  json_t *a = json_array();
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static int do_inspect(const cli_globals *g, int argc, char **argv) {
  if (argc != 2) {
    usage(stderr);
    return 2;
  }
  image_info info;
  pv_err err = {0};
  if (image_lookup(g->root, argv[1], &info, &err) < 0) {
    fprintf(stderr, "podvisor image inspect: %s\n", pv_err_str(&err));
    return 1;
  }
  json_t *o = json_object();
  json_object_set_new(o, "name", json_string(info.ref.name));
  json_object_set_new(o, "tag", json_string(info.ref.tag));
  json_object_set_new(o, "dir", json_string(info.dir));
  json_object_set_new(o, "rootfs", json_string(info.rootfs));
  json_object_set_new(o, "cmd", strv_json(info.cmd));
  json_object_set_new(o, "env", strv_json(info.env));
  json_object_set_new(o, "workingDir", info.working_dir ? json_string(info.working_dir) : json_null());
  json_object_set_new(o, "size", json_integer((json_int_t)info.size_bytes));
  json_object_set_new(o, "created", json_integer(info.created));
  char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  printf("%s\n", text != NULL ? text : "{}");
  free(text);
  json_decref(o);
  image_info_free(&info);
  return 0;
}

int cmd_image(const cli_globals *g, int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "import") == 0)
    return do_import(g, argc - 1, argv + 1);
  if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0 || strcmp(sub, "rmi") == 0)
    return do_rm(g, argc - 1, argv + 1);
  if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
    return cmd_images(g, argc - 1, argv + 1);
  if (strcmp(sub, "inspect") == 0)
    return do_inspect(g, argc - 1, argv + 1);
  if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "podvisor image: unknown subcommand '%s'\n", sub);
  usage(stderr);
  return 2;
}
