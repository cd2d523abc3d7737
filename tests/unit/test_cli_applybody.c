/* Unit tests for the body of an apply request (supervisor/cli/applybody.h):
 * files, a directory's manifests in name order and standard input, joined
 * by "---" in the order given; the content type; and the daemon's body
 * lines told back in the files' terms. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/cli/applybody.h"
#include "tests/testutil.h"

static void put(const char *dir, const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

/* A pipe holding text, as standard input. */
static int stdin_of(const char *text) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  ck_assert_int_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
  close(p[1]);
  return p[0];
}

START_TEST(files_dirs_and_stdin_in_order) {
  char *t = testutil_tmpdir("pv-applybody");
  char dir[4096], sub[8192], one[4096];
  snprintf(dir, sizeof dir, "%s/m", t);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  put(dir, "b.yaml", "kind: Pod # b\nmetadata: {name: b}\n");
  put(dir, "a.yml", "kind: Pod # a\n");     /* sorted before b */
  put(dir, "c.json", "{\"kind\":\"Pod\"}"); /* no final newline: one is added */
  put(dir, ".hidden.yaml", "hidden\n");     /* dot files, backups, other names: skipped */
  put(dir, "b.yaml~", "backup\n");
  put(dir, "b.yaml.bak", "backup\n");
  put(dir, "notes.txt", "notes\n");
  snprintf(sub, sizeof sub, "%s/sub.yaml", dir); /* a directory is no manifest, and not entered */
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  put(sub, "deep.yaml", "deep\n");
  put(t, "one.yaml", "kind: Pod # one\n");
  snprintf(one, sizeof one, "%s/one.yaml", t);
  const char *paths[] = {one, dir, "-"};
  int in = stdin_of("kind: Pod # stdin\n");
  applybody b = {0};
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(applybody_build(&b, paths, 3, in, &err), 0);
  close(in);
  ck_assert_str_eq(b.data,
                   "kind: Pod # one\n---\nkind: Pod # a\n---\nkind: Pod # b\nmetadata: {name: b}\n---\n"
                   "{\"kind\":\"Pod\"}\n---\nkind: Pod # stdin\n");
  ck_assert_uint_eq(b.len, strlen(b.data));
  ck_assert_uint_eq(b.n_parts, 5);
  static const struct {
    const char *suffix;
    size_t first, n;
  } want[] = {
      {"/one.yaml", 1, 1}, {"/m/a.yml", 3, 1}, {"/m/b.yaml", 5, 2}, {"/m/c.json", 8, 1}, {"<stdin>", 10, 1}};
  for (size_t i = 0; i < 5; i++) {
    size_t ll = strlen(b.parts[i].label), sl = strlen(want[i].suffix);
    ck_assert_msg(ll >= sl && strcmp(b.parts[i].label + ll - sl, want[i].suffix) == 0, "part %zu is %s", i,
                  b.parts[i].label);
    ck_assert_uint_eq(b.parts[i].first_line, want[i].first);
    ck_assert_uint_eq(b.parts[i].n_lines, want[i].n);
  }
  ck_assert_str_eq(applybody_content_type(&b), "application/yaml"); /* JSON among YAML: YAML */
  ck_assert(!applybody_empty(&b));

  /* The daemon's lines in the files' terms. */
  const char *label;
  size_t line;
  ck_assert_int_eq(applybody_locate(&b, 6, &label, &line), 0);
  ck_assert_uint_eq(line, 2);
  ck_assert_int_eq(applybody_locate(&b, 4, &label, &line), -1);  /* a separator */
  ck_assert_int_eq(applybody_locate(&b, 11, &label, &line), -1); /* beyond */
  char *m = applybody_map_message(&b, "<request>:6:10: error: metadata.name: bad");
  char expect[16384];
  snprintf(expect, sizeof expect, "%s/b.yaml:2:10: error: metadata.name: bad", dir);
  ck_assert_str_eq(m, expect);
  free(m);
  m = applybody_map_message(&b, "<input>:10:1: error: x");
  ck_assert_str_eq(m, "<stdin>:1:1: error: x");
  free(m);
  static const char *const kept[] = {"<request>:4:1: error: on the separator",
                                     "<request>:99:1: beyond",
                                     "web.yaml:6:1: another label",
                                     "<request>: no line",
                                     "<request>:6x: odd",
                                     "plain text"};
  for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
    m = applybody_map_message(&b, kept[i]);
    ck_assert_str_eq(m, kept[i]);
    free(m);
  }
  applybody_free(&b);
  testutil_rmtree(t);
  free(t);
}
END_TEST

START_TEST(one_json_file_is_json) {
  char *t = testutil_tmpdir("pv-applybody");
  put(t, "p.json", "\n  {\"kind\": \"Pod\"}\n");
  char path[4096];
  snprintf(path, sizeof path, "%s/p.json", t);
  applybody b = {0};
  ck_assert_int_eq(applybody_add(&b, path, -1, NULL), 0);
  ck_assert_str_eq(applybody_content_type(&b), "application/json");
  ck_assert_int_eq(applybody_add(&b, path, -1, NULL), 0); /* two JSON documents: only YAML holds both */
  ck_assert_str_eq(applybody_content_type(&b), "application/yaml");
  applybody_free(&b);
  testutil_rmtree(t);
  free(t);
}
END_TEST

START_TEST(empty_and_missing_input) {
  int in = stdin_of("# only a comment\n---\n\n   \n");
  applybody b = {0};
  ck_assert_int_eq(applybody_add(&b, "-", in, NULL), 0);
  close(in);
  ck_assert(applybody_empty(&b));
  applybody_free(&b);
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(applybody_add(&b, "/nonexistent/web.yaml", -1, &err), -1);
  ck_assert_int_eq(err.code, ENOENT);
  ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/web.yaml"));
  applybody_free(&b);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cli_applybody");
  TCase *tc = tcase_create("cli_applybody");
  tcase_add_test(tc, files_dirs_and_stdin_in_order);
  tcase_add_test(tc, one_json_file_is_json);
  tcase_add_test(tc, empty_and_missing_input);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
