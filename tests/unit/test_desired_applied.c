/*
 * Unit tests for supervisor/daemon/desired*.c, the applied pods: the store
 * under <root>/applied/ (atomic files, a restart loads them back alike,
 * corrupt files reported and set aside), all-or-nothing requests, create /
 * replace / prune / delete, and ownership between the API and the manifest
 * directory, both ways.  Real temp directories; no root needed.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/daemon/desired.h"
#include "supervisor/proto/podjson.h"
#include "tests/testutil.h"
#include "tests/unit/desired_fixture.h"

static char *root, *dir, *applied;
static desired_set *set;

static void setup(void) {
  root = testutil_tmpdir("pv-applied");
  ck_assert_ptr_nonnull(root);
  ck_assert_int_ne(asprintf(&dir, "%s/pods", root), -1);
  ck_assert_int_ne(asprintf(&applied, "%s/applied", root), -1);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  desired_opts o = {.root = root, .manifest_dir = dir};
  pv_err err;
  ck_assert_msg(desired_open(&o, &set, NULL, &err) == 0, "%s", err.msg);
  struct stat st;
  ck_assert_int_eq(stat(applied, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0700);
}

static void teardown(void) {
  desired_close(set);
  testutil_rmtree(root);
  free(root);
  free(dir);
  free(applied);
}

static void reopen(desired_report *rep) {
  desired_close(set);
  desired_opts o = {.root = root, .manifest_dir = dir};
  pv_err err;
  ck_assert_msg(desired_open(&o, &set, rep, &err) == 0, "%s", err.msg);
}

/* Documents joined by "---". */
static char *docs(const fx_opts *a, const fx_opts *b, const fx_opts *c) {
  const fx_opts *all[] = {a, b, c};
  char *out = calloc(1, 32768);
  for (int i = 0; i < 3 && all[i]; i++) {
    char *t = fx_pod(all[i]);
    if (i > 0)
      strcat(out, "---\n");
    strcat(out, t);
    free(t);
  }
  return out;
}

/* Applies body; returns the call's result, err and the report kept. */
static int apply(const char *body, const desired_apply_opts *o, desired_report *rep, diag_list *dl,
                 pv_err *err) {
  desired_apply_opts def = {0};
  return desired_apply(set, body, strlen(body), o ? o : &def, fx_now(), rep, dl, err);
}

static void apply_ok(const char *body, const desired_apply_opts *o, desired_report *rep) {
  pv_err err;
  desired_report scratch = {0};
  ck_assert_msg(apply(body, o, rep ? rep : &scratch, NULL, &err) == 0, "%s", err.msg);
  desired_report_free(&scratch);
}

/* apply_ok of a body made for the call. */
static void apply_take(char *body, const desired_apply_opts *o, desired_report *rep) {
  apply_ok(body, o, rep);
  free(body);
}

static size_t dir_entries(const char *path, const char *containing) {
  DIR *d = opendir(path);
  ck_assert_ptr_nonnull(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.' && (containing == NULL || strstr(e->d_name, containing)))
      n++;
  closedir(d);
  return n;
}

static bool exists(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", applied, name);
  return access(path, F_OK) == 0;
}

START_TEST(apply_stores_each_pod_atomically) {
  char *body =
      docs(&(fx_opts){.name = "web", .label = "front"}, &(fx_opts){.name = "db", .ns = "prod"}, NULL);
  desired_report rep = {0};
  apply_ok(body, NULL, &rep);
  free(body);
  ck_assert_uint_eq(rep.n_changes, 2);
  ck_assert_int_eq(rep.changes[0].kind, DESIRED_ADDED);
  ck_assert_str_eq(rep.changes[0].source, DESIRED_SOURCE_API);
  ck_assert(exists("default_web.json"));
  ck_assert(exists("prod_db.json"));
  ck_assert_uint_eq(dir_entries(applied, NULL), 2); /* no temp file left behind */
  char path[4096];
  snprintf(path, sizeof path, "%s/default_web.json", applied);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  json_t *doc = json_load_file(path, 0, NULL);
  ck_assert_ptr_nonnull(doc);
  const desired_pod *p = desired_find(set, "default", "web");
  ck_assert_int_eq(p->origin, DESIRED_FROM_API);
  ck_assert_str_eq(desired_pod_source(p), "api");
  ck_assert_str_eq(json_string_value(json_object_get(doc, "uid")), p->uid);
  ck_assert_int_eq(json_integer_value(json_object_get(doc, "resourceVersion")),
                   (json_int_t)p->resource_version);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(doc, "manifest")), "\"kind\":\"Pod\""));
  json_decref(doc);
  desired_report_free(&rep);
}
END_TEST

static json_t *pod_json(const desired_pod *p) {
  json_t *j = podjson_pod(p->spec, NULL);
  ck_assert_ptr_nonnull(j);
  return j;
}

START_TEST(restart_loads_the_applied_pods_back_alike) {
  char *body = docs(&(fx_opts){.name = "web", .label = "front", .log_cmd = "tail", .volume = "data"},
                    &(fx_opts){.name = "db", .ns = "prod", .host_network = true, .init_cmd = "prep"}, NULL);
  apply_ok(body, NULL, NULL);
  free(body);
  json_t *before[2];
  desired_pod copy[2];
  char hashes[2][SPEC_HASH_HEX_LEN + 1];
  for (size_t i = 0; i < 2; i++) {
    copy[i] = *desired_at(set, i);
    before[i] = pod_json(desired_at(set, i));
    snprintf(hashes[i], sizeof hashes[i], "%s", desired_at(set, i)->spec->hash);
  }
  desired_report rep = {0};
  reopen(&rep);
  ck_assert_uint_eq(rep.n_changes, 2);
  ck_assert_uint_eq(rep.n_added_problems, 0);
  ck_assert_uint_eq(desired_count(set), 2);
  for (size_t i = 0; i < 2; i++) {
    const desired_pod *p = desired_at(set, i);
    ck_assert_str_eq(p->uid, copy[i].uid);
    ck_assert_int_eq(p->created_ns, copy[i].created_ns);
    ck_assert_uint_eq(p->resource_version, copy[i].resource_version);
    ck_assert_int_eq(p->origin, DESIRED_FROM_API);
    ck_assert_str_eq(p->spec->hash, hashes[i]);
    json_t *after = pod_json(p);
    ck_assert_msg(json_equal(before[i], after), "pod %s reads back different", p->spec->name);
    json_decref(after);
    json_decref(before[i]);
  }
  desired_report_free(&rep);
}
END_TEST

START_TEST(corrupt_applied_files_are_reported_and_set_aside) {
  apply_take(docs(&(fx_opts){.name = "good"}, NULL, NULL), NULL, NULL);
  char path[4096];
  snprintf(path, sizeof path, "%s/default_bad.json", applied);
  fx_write(applied, "default_bad.json", "{\"apiVersion\": \"podvisor.io/v1\", trunc");
  /* A valid store file under the wrong name. */
  char good[4096], *text = NULL;
  size_t len;
  snprintf(good, sizeof good, "%s/default_good.json", applied);
  ck_assert_int_eq(pv_read_file(good, &text, &len, NULL), 0);
  fx_write(applied, "default_other.json", text);
  free(text);
  fx_write(applied, "default_good.json.tmp.4242", "half a write");
  desired_report rep = {0};
  reopen(&rep);
  ck_assert_uint_eq(desired_count(set), 1);
  ck_assert_uint_eq(rep.n_added_problems, 2);
  ck_assert_uint_eq(desired_problem_count(set), 2);
  const desired_problem *p = desired_problem_at(set, 0);
  ck_assert_int_eq(p->kind, DESIRED_PROBLEM_CORRUPT);
  ck_assert_str_eq(p->file, path);
  ck_assert_ptr_nonnull(strstr(p->message, "not JSON"));
  ck_assert_ptr_nonnull(strstr(p->message, "default_bad.json.corrupt"));
  ck_assert_ptr_nonnull(strstr(desired_problem_at(set, 1)->message, "holds pod default/good"));
  ck_assert(exists("default_bad.json.corrupt"));
  ck_assert(exists("default_other.json.corrupt"));
  ck_assert(!exists("default_bad.json"));
  ck_assert(!exists("default_good.json.tmp.4242"));
  desired_report_free(&rep);
  /* Set aside once: the next start finds nothing more to report. */
  reopen(&rep);
  ck_assert_uint_eq(rep.n_added_problems, 0);
  ck_assert(exists("default_bad.json.corrupt"));
  desired_report_free(&rep);
  /* A second corrupt file of the same name gets a new place. */
  fx_write(applied, "default_bad.json", "[]");
  reopen(&rep);
  ck_assert(exists("default_bad.json.corrupt.1"));
  desired_report_free(&rep);
}
END_TEST

START_TEST(one_invalid_document_refuses_the_whole_request) {
  apply_take(docs(&(fx_opts){.name = "db", .cmd = "v1"}, NULL, NULL), NULL, NULL);
  uint64_t rv = desired_find(set, "default", "db")->resource_version;
  char *body =
      docs(&(fx_opts){.name = "web"}, &(fx_opts){.name = "Bad_Name"}, &(fx_opts){.name = "db", .cmd = "v2"});
  char *second = strstr(body, "Bad_Name");
  char *cmd = strstr(second, "command:");
  memcpy(cmd, "comand: ", 8); /* a second error, in the same document */
  memmove(cmd + 8, cmd + 9, strlen(cmd + 9) + 1);
  diag_list dl;
  diag_list_init(&dl);
  pv_err err;
  desired_report rep = {0};
  desired_apply_opts o = {.label = "request.yaml"};
  ck_assert_int_eq(apply(body, &o, &rep, &dl, &err), -1);
  free(body);
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "nothing was applied"));
  ck_assert_uint_eq(dl.errors, 2);
  char line[1024];
  diag_format(&dl.items[0], line, sizeof line);
  ck_assert_msg(strncmp(line, "request.yaml:", 13) == 0, "%s", line);
  ck_assert_uint_eq(rep.n_changes, 0);
  ck_assert_ptr_null(desired_find(set, "default", "web"));
  ck_assert_uint_eq(desired_find(set, "default", "db")->resource_version, rv);
  ck_assert_str_eq(desired_find(set, "default", "db")->spec->containers[0].command.argv[2], "v1");
  ck_assert_uint_eq(dir_entries(applied, NULL), 1);
  diag_list_free(&dl);
  /* Nothing at all, or only comments: refused too. */
  ck_assert_int_eq(apply("# nothing\n", NULL, NULL, NULL, &err), -1);
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "no pod"));
}
END_TEST

START_TEST(create_replace_and_names) {
  pv_err err;
  desired_apply_opts create = {.mode = DESIRED_CREATE}, replace = {.mode = DESIRED_REPLACE, .name = "web"};
  char *web = fx_pod(&(fx_opts){.name = "web"}), *web2 = fx_pod(&(fx_opts){.name = "web", .cmd = "v2"});
  ck_assert_int_eq(apply(web, &replace, NULL, NULL, &err), -1);
  ck_assert_int_eq(err.code, ENOENT);
  ck_assert_ptr_nonnull(strstr(err.msg, "pods \"web\" not found"));
  apply_ok(web, &create, NULL);
  ck_assert_int_eq(apply(web2, &create, NULL, NULL, &err), -1);
  ck_assert_int_eq(err.code, EEXIST);
  ck_assert_ptr_nonnull(strstr(err.msg, "pods \"web\" already exists"));
  char uid[DESIRED_UID_MAX + 1];
  snprintf(uid, sizeof uid, "%s", desired_find(set, "default", "web")->uid);
  int64_t created = desired_find(set, "default", "web")->created_ns;
  desired_report rep = {0};
  apply_ok(web2, &replace, &rep);
  ck_assert_int_eq(rep.changes[0].kind, DESIRED_CHANGED);
  ck_assert(rep.changes[0].spec_changed);
  ck_assert_str_eq(desired_find(set, "default", "web")->uid, uid);
  ck_assert_int_eq(desired_find(set, "default", "web")->created_ns, created);
  desired_report_free(&rep);
  replace.name = "other";
  ck_assert_int_eq(apply(web2, &replace, NULL, NULL, &err), -1);
  ck_assert_int_eq(err.code, EINVAL);
  free(web);
  free(web2);
}
END_TEST

START_TEST(request_namespace_applies_to_pods_without_one) {
  pv_err err;
  desired_apply_opts o = {.ns = "prod"};
  apply_take(docs(&(fx_opts){.name = "web"}, &(fx_opts){.name = "db", .ns = "prod"}, NULL), &o, NULL);
  ck_assert_ptr_nonnull(desired_find(set, "prod", "web"));
  ck_assert_ptr_nonnull(desired_find(set, "prod", "db"));
  ck_assert_ptr_null(desired_find(set, "default", "web"));
  /* Moved pods are hashed in their namespace: a re-apply is no change. */
  spec_pod *direct = fx_parse_opts(&(fx_opts){.name = "web", .ns = "prod"});
  ck_assert_str_eq(desired_find(set, "prod", "web")->spec->hash, direct->hash);
  spec_pod_free(direct);
  ck_assert(exists("prod_web.json"));
  char *other = fx_pod(&(fx_opts){.name = "x", .ns = "test"});
  ck_assert_int_eq(apply(other, &o, NULL, NULL, &err), -1);
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "does not match the namespace"));
  free(other);
}
END_TEST

START_TEST(identical_apply_changes_nothing) {
  char *body = docs(&(fx_opts){.name = "web", .label = "a"}, NULL, NULL);
  apply_ok(body, NULL, NULL);
  char path[4096];
  snprintf(path, sizeof path, "%s/default_web.json", applied);
  char state[4096];
  snprintf(state, sizeof state, "%s/desired.json", root);
  struct stat a, b, sa, sb;
  ck_assert_int_eq(stat(path, &a), 0);
  ck_assert_int_eq(stat(state, &sa), 0);
  uint64_t rv = desired_find(set, "default", "web")->resource_version;
  desired_report rep = {0};
  apply_ok(body, NULL, &rep);
  free(body);
  ck_assert_uint_eq(rep.n_changes, 0);
  ck_assert_int_eq(stat(path, &b), 0);
  ck_assert_int_eq(stat(state, &sb), 0);
  ck_assert_uint_eq(a.st_ino, b.st_ino); /* not even rewritten */
  ck_assert_uint_eq(sa.st_ino, sb.st_ino);
  ck_assert_uint_eq(desired_find(set, "default", "web")->resource_version, rv);
  desired_report_free(&rep);
  /* A label is a change of metadata only. */
  body = docs(&(fx_opts){.name = "web", .label = "b"}, NULL, NULL);
  apply_ok(body, NULL, &rep);
  free(body);
  ck_assert_uint_eq(rep.n_changes, 1);
  ck_assert(!rep.changes[0].spec_changed);
  desired_report_free(&rep);
}
END_TEST

START_TEST(prune_deletes_applied_pods_absent_from_the_request) {
  apply_take(docs(&(fx_opts){.name = "a"}, &(fx_opts){.name = "b"}, &(fx_opts){.name = "c"}), NULL, NULL);
  fx_write_pod(dir, "file.yaml", &(fx_opts){.name = "f"});
  desired_report rep = {0};
  ck_assert_int_eq(desired_scan(set, fx_now(), NULL, NULL), 0);
  desired_apply_opts o = {.prune = true};
  apply_take(docs(&(fx_opts){.name = "b", .cmd = "new"}, NULL, NULL), &o, &rep);
  ck_assert_uint_eq(rep.n_changes, 3);
  ck_assert_int_eq(fx_change(&rep, "a")->kind, DESIRED_REMOVED);
  ck_assert_int_eq(fx_change(&rep, "b")->kind, DESIRED_CHANGED);
  ck_assert_int_eq(fx_change(&rep, "c")->kind, DESIRED_REMOVED);
  ck_assert_uint_ne(fx_change(&rep, "a")->resource_version, fx_change(&rep, "c")->resource_version);
  ck_assert_uint_eq(desired_count(set), 2); /* b and the file's f */
  ck_assert_ptr_nonnull(desired_find(set, "default", "f"));
  ck_assert(!exists("default_a.json"));
  ck_assert(!exists("default_c.json"));
  ck_assert(exists("default_b.json"));
  desired_report_free(&rep);
}
END_TEST

/* The second pod's file cannot be written (a directory is in its place):
 * the first one, already written, is undone, and the set is unchanged. */
START_TEST(failed_write_undoes_the_whole_request) {
  apply_take(docs(&(fx_opts){.name = "a", .cmd = "v1"}, NULL, NULL), NULL, NULL);
  char block[4096], path[4096], *before = NULL, *after = NULL;
  size_t n1, n2;
  snprintf(block, sizeof block, "%s/default_b.json", applied);
  ck_assert_int_eq(mkdir(block, 0700), 0);
  fx_write(block, "keep", "x"); /* a directory that is not empty cannot be renamed over */
  snprintf(path, sizeof path, "%s/default_a.json", applied);
  ck_assert_int_eq(pv_read_file(path, &before, &n1, NULL), 0);
  pv_err err;
  desired_report rep = {0};
  char *body = docs(&(fx_opts){.name = "a", .cmd = "v2"}, &(fx_opts){.name = "b"}, &(fx_opts){.name = "c"});
  ck_assert_int_eq(apply(body, NULL, &rep, NULL, &err), -1);
  free(body);
  ck_assert_ptr_nonnull(strstr(err.msg, "default/b"));
  ck_assert_ptr_nonnull(strstr(err.msg, "nothing was changed"));
  ck_assert_uint_eq(rep.n_changes, 0);
  ck_assert_ptr_null(desired_find(set, "default", "b"));
  ck_assert_str_eq(desired_find(set, "default", "a")->spec->containers[0].command.argv[2], "v1");
  ck_assert_int_eq(pv_read_file(path, &after, &n2, NULL), 0);
  ck_assert_str_eq(before, after);
  ck_assert(!exists("default_c.json"));
  free(before);
  free(after);
  desired_report r2 = {0};
  reopen(&r2); /* what is on disk agrees */
  ck_assert_uint_eq(desired_count(set), 1);
  desired_report_free(&r2);
}
END_TEST

START_TEST(delete_removes_the_applied_pod) {
  apply_take(docs(&(fx_opts){.name = "web"}, NULL, NULL), NULL, NULL);
  pv_err err;
  desired_report rep = {0};
  ck_assert_int_eq(desired_delete(set, "default", "web", fx_now(), &rep, &err), 0);
  ck_assert_uint_eq(rep.n_changes, 1);
  ck_assert_int_eq(rep.changes[0].kind, DESIRED_REMOVED);
  ck_assert(!exists("default_web.json"));
  ck_assert_uint_eq(desired_count(set), 0);
  desired_report_free(&rep);
  ck_assert_int_eq(desired_delete(set, "default", "web", fx_now(), NULL, &err), -1);
  ck_assert_int_eq(err.code, ENOENT);
  reopen(NULL);
  ck_assert_uint_eq(desired_count(set), 0);
}
END_TEST

START_TEST(file_pods_cannot_be_touched_through_the_api) {
  fx_write_pod(dir, "web.yaml", &(fx_opts){.name = "web"});
  fx_write_pod(dir, "x1.yaml", &(fx_opts){.name = "twice"});
  fx_write_pod(dir, "x2.yaml", &(fx_opts){.name = "twice"});
  ck_assert_int_eq(desired_scan(set, fx_now(), NULL, NULL), 0);
  pv_err err;
  const desired_apply_mode modes[] = {DESIRED_APPLY, DESIRED_CREATE, DESIRED_REPLACE};
  char *body = fx_pod(&(fx_opts){.name = "web", .cmd = "api"});
  for (size_t i = 0; i < 3; i++) {
    desired_apply_opts o = {.mode = modes[i]};
    ck_assert_int_eq(apply(body, &o, NULL, NULL, &err), -1);
    ck_assert_int_eq(err.code, EPERM);
    ck_assert_msg(strstr(err.msg, "/pods/web.yaml") != NULL, "%s", err.msg);
  }
  free(body);
  ck_assert_int_eq(desired_delete(set, "default", "web", fx_now(), NULL, &err), -1);
  ck_assert_int_eq(err.code, EPERM);
  ck_assert_ptr_nonnull(strstr(err.msg, "/pods/web.yaml"));
  ck_assert_ptr_nonnull(desired_find(set, "default", "web"));
  /* Held back by a conflict, "twice" still belongs to the files. */
  body = fx_pod(&(fx_opts){.name = "twice"});
  ck_assert_int_eq(apply(body, NULL, NULL, NULL, &err), -1);
  ck_assert_int_eq(err.code, EPERM);
  ck_assert_ptr_nonnull(strstr(err.msg, "/pods/x1.yaml"));
  free(body);
  ck_assert_int_eq(desired_delete(set, "default", "twice", fx_now(), NULL, &err), -1);
  ck_assert_int_eq(err.code, EPERM);
  ck_assert_uint_eq(dir_entries(applied, NULL), 0);
}
END_TEST

/* A file that declares the pod between the check and the commit wins. */
START_TEST(commit_checks_ownership_again) {
  char *body = fx_pod(&(fx_opts){.name = "web"});
  spec_pod_list l = {0};
  desired_apply_opts o = {0};
  ck_assert_int_eq(desired_request_parse(set, body, strlen(body), &o, &l, NULL, NULL), 0);
  fx_write_pod(dir, "web.yaml", &(fx_opts){.name = "web"});
  ck_assert_int_eq(desired_scan(set, fx_now(), NULL, NULL), 0);
  pv_err err;
  ck_assert_int_eq(desired_request_commit(set, &l, &o, fx_now(), NULL, &err), -1);
  ck_assert_int_eq(err.code, EPERM);
  ck_assert_uint_eq(l.n, 0);
  ck_assert_int_eq(desired_find(set, "default", "web")->origin, DESIRED_FROM_FILE);
  ck_assert_uint_eq(dir_entries(applied, NULL), 0);
  free(body);
}
END_TEST

START_TEST(applied_pods_are_never_touched_by_the_directory) {
  apply_take(docs(&(fx_opts){.name = "web", .cmd = "api"}, NULL, NULL), NULL, NULL);
  char uid[DESIRED_UID_MAX + 1];
  snprintf(uid, sizeof uid, "%s", desired_find(set, "default", "web")->uid);
  fx_write_pod(dir, "web.yaml", &(fx_opts){.name = "web", .cmd = "file"});
  desired_report rep = {0};
  ck_assert_int_eq(desired_scan(set, fx_now(), &rep, NULL), 0);
  ck_assert_uint_eq(rep.n_changes, 0);
  ck_assert_uint_eq(rep.n_added_problems, 1);
  const desired_problem *p = &rep.added_problems[0];
  ck_assert_int_eq(p->kind, DESIRED_PROBLEM_APPLIED);
  ck_assert_ptr_nonnull(strstr(p->file, "web.yaml"));
  ck_assert_str_eq(p->name, "web");
  ck_assert_ptr_nonnull(strstr(p->message, "applied through the API"));
  const desired_pod *w = desired_find(set, "default", "web");
  ck_assert_int_eq(w->origin, DESIRED_FROM_API);
  ck_assert_str_eq(w->spec->containers[0].command.argv[2], "api");
  const desired_problem *mine[2];
  ck_assert_uint_eq(desired_pod_problems(set, "default", "web", mine, 2), 1);
  desired_report_free(&rep);
  /* The applied pod stays the API's: it can be applied again. */
  apply_take(docs(&(fx_opts){.name = "web", .cmd = "api2"}, NULL, NULL), NULL, NULL);
  /* Deleting it hands the pod to the file: a new instance from web.yaml. */
  ck_assert_int_eq(desired_delete(set, "default", "web", fx_now(), &rep, NULL), 0);
  ck_assert_uint_eq(rep.n_changes, 2);
  ck_assert_int_eq(rep.changes[0].kind + rep.changes[1].kind, DESIRED_REMOVED + DESIRED_ADDED);
  ck_assert_uint_eq(rep.n_resolved_problems, 1);
  w = desired_find(set, "default", "web");
  ck_assert_int_eq(w->origin, DESIRED_FROM_FILE);
  ck_assert_str_eq(w->spec->containers[0].command.argv[2], "file");
  ck_assert_str_ne(w->uid, uid);
  desired_report_free(&rep);
}
END_TEST

START_TEST(applied_uid_is_stable_and_can_be_given) {
  apply_take(docs(&(fx_opts){.name = "web"}, NULL, NULL), NULL, NULL);
  char uid[DESIRED_UID_MAX + 1];
  snprintf(uid, sizeof uid, "%s", desired_find(set, "default", "web")->uid);
  ck_assert_uint_eq(strlen(uid), 36);
  apply_take(docs(&(fx_opts){.name = "web", .host_network = true}, NULL, NULL), NULL, NULL);
  ck_assert_str_eq(desired_find(set, "default", "web")->uid, uid);
  reopen(NULL);
  ck_assert_str_eq(desired_find(set, "default", "web")->uid, uid);
  ck_assert_str_eq(desired_find(set, "default", "web")->spec->uid, uid);
  desired_report rep = {0};
  apply_take(docs(&(fx_opts){.name = "web", .host_network = true, .uid = "given-1"}, NULL, NULL), NULL, &rep);
  ck_assert(rep.changes[0].spec_changed); /* same hash, new instance */
  ck_assert_str_eq(desired_find(set, "default", "web")->uid, "given-1");
  desired_report_free(&rep);
  /* Without a uid in the next request, the instance is kept. */
  apply_take(docs(&(fx_opts){.name = "web", .host_network = true}, NULL, NULL), NULL, &rep);
  ck_assert_uint_eq(rep.n_changes, 0);
  ck_assert_str_eq(desired_find(set, "default", "web")->uid, "given-1");
  desired_report_free(&rep);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("desired_applied");
  TCase *tc = tcase_create("applied");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, apply_stores_each_pod_atomically);
  tcase_add_test(tc, restart_loads_the_applied_pods_back_alike);
  tcase_add_test(tc, corrupt_applied_files_are_reported_and_set_aside);
  tcase_add_test(tc, one_invalid_document_refuses_the_whole_request);
  tcase_add_test(tc, create_replace_and_names);
  tcase_add_test(tc, request_namespace_applies_to_pods_without_one);
  tcase_add_test(tc, identical_apply_changes_nothing);
  tcase_add_test(tc, prune_deletes_applied_pods_absent_from_the_request);
  tcase_add_test(tc, failed_write_undoes_the_whole_request);
  tcase_add_test(tc, delete_removes_the_applied_pod);
  tcase_add_test(tc, file_pods_cannot_be_touched_through_the_api);
  tcase_add_test(tc, commit_checks_ownership_again);
  tcase_add_test(tc, applied_pods_are_never_touched_by_the_directory);
  tcase_add_test(tc, applied_uid_is_stable_and_can_be_given);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
