/*
 * applybody.h - the body of an apply request, built from `-f FILE|DIR|-`.
 *
 * What it is for: `podvisor apply` sends every document of every file in
 * one request (the daemon applies it all or nothing), as the files are
 * written: the body is their text, in the order given, a directory's
 * *.yaml, *.yml and *.json files sorted by name (not recursive, dot files
 * skipped, as spec_load_paths() and the daemon's manifest directory take
 * them), "-" standard input.  Files are joined by a "---" line, so each
 * stays its own YAML document(s).
 *
 * The body remembers where each part came from, so that the daemon's
 * diagnostics, whose lines count from the body's start ("<request>:12:5:
 * error: ..."), can be told in the user's terms ("db.yaml:3:5: error:
 * ..."): applybody_map_message() rewrites a message that starts with
 * "<request>:LINE:" or "<input>:LINE:" (the daemon's labels for a request
 * body, desired.h and spec.h) and leaves any other as it is.
 *
 * Content type: application/json for a body that is one JSON file, else
 * application/yaml (JSON documents are YAML too).
 *
 * Ownership: the body owns its text and labels; applybody_free() accepts a
 * zeroed body.  0 / -1 with err naming the path (ENOENT, EACCES, ENOMEM);
 * what a directory holds beside regular manifest files is skipped.  Never
 * prints.
 */
#ifndef PODVISOR_CLI_APPLYBODY_H
#define PODVISOR_CLI_APPLYBODY_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/core/error.h"

typedef struct applybody_part {
  char *label;       /* the path, or "<stdin>" */
  size_t first_line; /* 1-based line of the body where the part begins */
  size_t n_lines;
} applybody_part;

typedef struct applybody {
  char *data; /* NUL-terminated */
  size_t len, cap;
  applybody_part *parts;
  size_t n_parts;
  size_t lines; /* lines in data so far */
  bool json;    /* one part, and it is JSON */
} applybody;

/* Adds FILE, every manifest of DIR, or standard input (stdin_fd) for "-". */
int applybody_add(applybody *b, const char *path, int stdin_fd, pv_err *err);
/* applybody_add of each path in order. */
int applybody_build(applybody *b, const char *const *paths, size_t n, int stdin_fd, pv_err *err);

/* True when no part holds anything but blank lines and comments. */
bool applybody_empty(const applybody *b);
const char *applybody_content_type(const applybody *b);

/* The part and its line of body line `line`: 0, or -1 outside every part
 * (a separator line, or beyond the body). */
int applybody_locate(const applybody *b, size_t line, const char **label, size_t *part_line);

/* msg with a leading "<request>:LINE:" or "<input>:LINE:" rewritten as
 * "FILE:LINE':"; a copy of msg otherwise.  malloc'd, NULL on ENOMEM. */
char *applybody_map_message(const applybody *b, const char *msg);

void applybody_free(applybody *b);

#endif
