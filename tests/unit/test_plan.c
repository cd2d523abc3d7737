/*
 * Unit tests for supervisor/daemon/plan*.c: every verdict of the reconcile
 * planner (create, unchanged, restart container X, recreate naming each
 * pod-level field, delete, relaunch), from snapshots and from hashes alone,
 * and the plan of an apply request in kubectl's words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "supervisor/daemon/plan.h"
#include "tests/testutil.h"
#include "tests/unit/desired_fixture.h"

/* The verdict on going from version a to version b (same uid). */
static plan_change diff(const fx_opts *a, const fx_opts *b) {
  spec_pod *x = fx_parse_opts(a), *y = fx_parse_opts(b);
  plan_change c;
  pv_err err;
  ck_assert_msg(plan_diff_specs(x, "u-1", y, "u-1", &c, &err) == 0, "%s", err.msg);
  spec_pod_free(x);
  spec_pod_free(y);
  return c;
}

static void expect(const fx_opts *a, const fx_opts *b, plan_action action, const char *summary) {
  plan_change c = diff(a, b);
  ck_assert_msg(c.action == action && strcmp(c.summary, summary) == 0, "want %s '%s', got %s '%s'",
                plan_action_name(action), summary, plan_action_name(c.action), c.summary);
  plan_change_free(&c);
}

#define BASE .name = "web", .log_cmd = "tail"

START_TEST(identical_pods_are_unchanged) {
  expect(&(fx_opts){BASE}, &(fx_opts){BASE}, PLAN_UNCHANGED, "unchanged");
  /* Labels do not run: still unchanged for the reconciler. */
  expect(&(fx_opts){BASE}, &(fx_opts){BASE, .label = "x"}, PLAN_UNCHANGED, "unchanged");
  /* A hostname equal to the one derived from the pod name is no change. */
  expect(&(fx_opts){BASE}, &(fx_opts){BASE, .hostname = "web"}, PLAN_UNCHANGED, "unchanged");
}
END_TEST

START_TEST(container_edit_restarts_only_that_container) {
  plan_change c = diff(&(fx_opts){BASE}, &(fx_opts){BASE, .cmd = "run2"});
  ck_assert_int_eq(c.action, PLAN_RESTART);
  ck_assert_uint_eq(c.n_containers, 1);
  ck_assert_str_eq(c.containers[0], "app");
  ck_assert_str_eq(c.summary, "restart container app");
  ck_assert_uint_eq(c.n_reasons, 0);
  plan_change_free(&c);
  expect(&(fx_opts){BASE}, &(fx_opts){.name = "web", .log_cmd = "tail -f"}, PLAN_RESTART,
         "restart container log");
  expect(&(fx_opts){BASE}, &(fx_opts){.name = "web", .cmd = "x", .log_cmd = "y"}, PLAN_RESTART,
         "restart containers app, log");
  /* One container's own securityContext is that container's. */
  expect(&(fx_opts){BASE}, &(fx_opts){BASE, .log_user = 1000}, PLAN_RESTART, "restart container log");
}
END_TEST

START_TEST(init_containers_and_sidecars_restart_too) {
  expect(&(fx_opts){BASE, .init_cmd = "prep"}, &(fx_opts){BASE, .init_cmd = "prep2"}, PLAN_RESTART,
         "restart container setup");
  expect(&(fx_opts){BASE, .init_cmd = "side", .sidecar = true},
         &(fx_opts){BASE, .init_cmd = "side2", .sidecar = true}, PLAN_RESTART, "restart container setup");
  expect(&(fx_opts){BASE, .init_cmd = "p"}, &(fx_opts){BASE, .init_cmd = "p2", .cmd = "r2"}, PLAN_RESTART,
         "restart containers setup, app");
}
END_TEST

START_TEST(each_pod_level_field_is_named) {
  static const struct {
    fx_opts a, b;
    const char *want;
  } cases[] = {
      {{BASE}, {BASE, .restart = "Never"}, "recreate (restartPolicy changed)"},
      {{BASE}, {BASE, .grace = 5}, "recreate (terminationGracePeriodSeconds changed)"},
      {{BASE}, {BASE, .hostname = "other"}, "recreate (hostname changed)"},
      {{BASE}, {BASE, .subdomain = "svc"}, "recreate (subdomain changed)"},
      /* hostNetwork keeps the host's hostname: the effective one changes too. */
      {{BASE}, {BASE, .host_network = true}, "recreate (hostname, hostNetwork changed)"},
      {{BASE}, {BASE, .share_pid = true}, "recreate (shareProcessNamespace changed)"},
      {{BASE, .volume = "data"},
       {BASE, .volume = "data", .volume_memory = true},
       "recreate (volumes changed)"},
      {{BASE}, {BASE, .backoff = "1s"}, "recreate (podvisor.io/backoff-initial changed)"},
      {{BASE}, {BASE, .start_limit = "5/60s"}, "recreate (podvisor.io/start-limit changed)"},
      {{BASE}, {BASE, .run_as_user = 1000}, "recreate (securityContext changed)"},
      {{BASE, .run_as_user = 1000}, {BASE, .run_as_user = 2000}, "recreate (securityContext changed)"},
      {{BASE}, {BASE, .host_pid = true}, "recreate (hostPID changed)"},
      {{BASE}, {BASE, .pod_sc = "    fsGroup: 5\n"}, "recreate (securityContext changed)"},
      {{BASE}, {BASE, .pod_sc = "    sysctls: [{name: kernel.sem, value: \"1 2 3 4\"}]\n"},
       "recreate (securityContext changed)"},
      {{BASE, .pod_sc = "    supplementalGroups: [1]\n"},
       {BASE, .pod_sc = "    supplementalGroups: [2]\n"},
       "recreate (securityContext changed)"},
      {{BASE},
       {BASE, .share_pid = true, .grace = 1},
       "recreate (terminationGracePeriodSeconds, "
       "shareProcessNamespace changed)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    plan_change c = diff(&cases[i].a, &cases[i].b);
    ck_assert_msg(c.action == PLAN_RECREATE && strcmp(c.summary, cases[i].want) == 0, "case %zu: got %s '%s'",
                  i, plan_action_name(c.action), c.summary);
    ck_assert_uint_ge(c.n_reasons, 1);
    ck_assert_uint_eq(c.n_containers, 0);
    plan_change_free(&c);
  }
}
END_TEST

START_TEST(container_list_changes_recreate) {
  expect(&(fx_opts){.name = "web"}, &(fx_opts){BASE}, PLAN_RECREATE, "recreate (container log added)");
  expect(&(fx_opts){BASE}, &(fx_opts){.name = "web"}, PLAN_RECREATE, "recreate (container log removed)");
  expect(&(fx_opts){BASE}, &(fx_opts){BASE, .app_name = "main"}, PLAN_RECREATE,
         "recreate (container app renamed to main)");
  expect(&(fx_opts){BASE}, &(fx_opts){BASE, .log_first = true}, PLAN_RECREATE,
         "recreate (containers reordered)");
  expect(&(fx_opts){BASE}, &(fx_opts){BASE, .init_cmd = "p"}, PLAN_RECREATE,
         "recreate (init container setup added)");
  expect(&(fx_opts){BASE, .init_cmd = "p"}, &(fx_opts){BASE, .init_cmd = "p", .sidecar = true}, PLAN_RECREATE,
         "recreate (init container setup restartPolicy changed)");
  expect(&(fx_opts){.name = "web", .cmd = "a"}, &(fx_opts){BASE, .cmd = "b", .host_network = true},
         PLAN_RECREATE, "recreate (container log added; hostname, hostNetwork changed)");
}
END_TEST

START_TEST(new_uid_recreates) {
  spec_pod *x = fx_parse_opts(&(fx_opts){BASE});
  plan_change c;
  ck_assert_int_eq(plan_diff_specs(x, "u-1", x, "u-2", &c, NULL), 0);
  ck_assert_int_eq(c.action, PLAN_RECREATE);
  ck_assert_str_eq(c.summary, "recreate (metadata.uid changed)");
  plan_change_free(&c);
  ck_assert_int_eq(plan_diff_specs(x, "u-1", x, NULL, &c, NULL), 0); /* unknown: not compared */
  ck_assert_int_eq(c.action, PLAN_UNCHANGED);
  plan_change_free(&c);
  spec_pod_free(x);
}
END_TEST

/* An observed pod described by the shim's hashes only. */
static plan_observed from_hashes(const spec_pod *p, plan_container *c) {
  size_t n = 0;
  for (size_t i = 0; i < p->n_init_containers; i++)
    c[n++] = (plan_container){p->init_containers[i].name, p->init_containers[i].hash, true,
                              p->init_containers[i].sidecar};
  for (size_t i = 0; i < p->n_containers; i++)
    c[n++] = (plan_container){p->containers[i].name, p->containers[i].hash, false, false};
  return (plan_observed){.ns = p->ns,
                         .name = p->name,
                         .running = true,
                         .shim_alive = true,
                         .uid = "u-1",
                         .hash = p->hash,
                         .sandbox_hash = p->sandbox_hash,
                         .containers = c,
                         .n_containers = n};
}

static plan_change diff_observed(const plan_observed *o, const spec_pod *want) {
  plan_change c;
  ck_assert_int_eq(plan_diff(o, want, "u-1", &c, NULL), 0);
  return c;
}

START_TEST(hashes_alone_tell_restart_from_recreate) {
  spec_pod *old = fx_parse_opts(&(fx_opts){BASE, .init_cmd = "p"});
  spec_pod *same = fx_parse_opts(&(fx_opts){BASE, .init_cmd = "p"});
  spec_pod *ctr = fx_parse_opts(&(fx_opts){.name = "web", .init_cmd = "p", .log_cmd = "tail -n1"});
  spec_pod *pod = fx_parse_opts(&(fx_opts){BASE, .init_cmd = "p", .share_pid = true});
  plan_container c[4];
  plan_observed o = from_hashes(old, c);
  plan_change r = diff_observed(&o, same);
  ck_assert_int_eq(r.action, PLAN_UNCHANGED);
  plan_change_free(&r);
  r = diff_observed(&o, ctr);
  ck_assert_str_eq(r.summary, "restart container log");
  plan_change_free(&r);
  r = diff_observed(&o, pod);
  ck_assert_str_eq(r.summary, "recreate (pod-level fields changed)");
  plan_change_free(&r);
  /* The containers listed out of order still split into init and app. */
  plan_container swapped[3] = {c[1], c[0], c[2]};
  o.containers = swapped;
  r = diff_observed(&o, ctr);
  ck_assert_str_eq(r.summary, "restart container log");
  plan_change_free(&r);
  /* setup ran as an app container: it moved to initContainers. */
  plan_container moved[3] = {c[0], c[1], c[2]};
  moved[0].is_init = false;
  o.containers = moved;
  o.hash = NULL; /* the pod hash would tell it is another pod at once */
  r = diff_observed(&o, same);
  ck_assert_str_eq(r.summary, "recreate (container setup moved from containers to initContainers)");
  plan_change_free(&r);
  /* Nothing known of the containers or the sandbox: recreate. */
  o = from_hashes(old, c);
  o.n_containers = 0;
  r = diff_observed(&o, ctr);
  ck_assert_str_eq(r.summary, "recreate (running spec unknown)");
  plan_change_free(&r);
  o = from_hashes(old, c);
  o.sandbox_hash = NULL;
  r = diff_observed(&o, ctr);
  ck_assert_str_eq(r.summary, "recreate (running spec unknown)");
  plan_change_free(&r);
  /* A pod hash that disagrees with equal parts: never guessed unchanged. */
  o = from_hashes(old, c);
  o.hash = "0000";
  r = diff_observed(&o, same);
  ck_assert_str_eq(r.summary, "recreate (pod hash changed)");
  plan_change_free(&r);
  spec_pod_free(old);
  spec_pod_free(same);
  spec_pod_free(ctr);
  spec_pod_free(pod);
}
END_TEST

/* --- the reconcile plan over a desired set ----------------------------------------- */

static char *root;
static desired_set *set;

static void set_up(void) {
  root = testutil_tmpdir("pv-plan");
  ck_assert_ptr_nonnull(root);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/pods", root);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  desired_opts o = {.root = root, .manifest_dir = dir};
  ck_assert_int_eq(desired_open(&o, &set, NULL, NULL), 0);
}

static void tear_down(void) {
  desired_close(set);
  testutil_rmtree(root);
  free(root);
}

static void apply_pods(const fx_opts *const *pods, size_t n) {
  char *body = calloc(1, 65536);
  for (size_t i = 0; i < n; i++) {
    char *t = fx_pod(pods[i]);
    strcat(body, i ? "---\n" : "");
    strcat(body, t);
    free(t);
  }
  pv_err err;
  desired_apply_opts o = {0};
  ck_assert_msg(desired_apply(set, body, strlen(body), &o, fx_now(), NULL, NULL, &err) == 0, "%s", err.msg);
  free(body);
}

/* What runs: the snapshot of o with the desired pod's uid. */
static spec_pod *snapshot(const fx_opts *o, const char *uid) {
  spec_pod *p = fx_parse_opts(o);
  p->uid = strdup(uid);
  return p;
}

static const plan_entry *entry(const plan *p, const char *name) {
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->items[i].name, name) == 0)
      return &p->items[i];
  ck_abort_msg("no plan entry for %s", name);
  return NULL;
}

static const char *text(const plan_entry *e) {
  static char buf[512];
  plan_entry_text(e, buf, sizeof buf);
  return buf;
}

START_TEST(reconcile_gives_every_verdict) {
  const fx_opts same = {.name = "same"}, edit = {.name = "edit", .cmd = "new"}, field = {.name = "field"},
                fresh = {.name = "fresh"}, dead = {.name = "dead"}, never = {.name = "never"};
  apply_pods((const fx_opts *[]){&same, &edit, &field, &fresh, &dead, &never}, 6);
  spec_pod *snaps[6] = {
      snapshot(&same, desired_find(set, "default", "same")->uid),
      snapshot(&(fx_opts){.name = "edit", .cmd = "old"}, desired_find(set, "default", "edit")->uid),
      snapshot(&(fx_opts){.name = "field", .host_network = true}, desired_find(set, "default", "field")->uid),
      snapshot(&dead, desired_find(set, "default", "dead")->uid),
      snapshot(&(fx_opts){.name = "gone"}, "u-gone"),
      snapshot(&never, desired_find(set, "default", "never")->uid),
  };
  plan_observed obs[7];
  for (size_t i = 0; i < 6; i++)
    obs[i] = (plan_observed){
        .ns = "default", .name = snaps[i]->name, .running = true, .shim_alive = true, .spec = snaps[i]};
  obs[3].shim_alive = false;
  obs[5].running = false; /* its run directory is gone: absent */
  obs[6] = obs[0];        /* a second entry for "same": ignored */
  plan p;
  pv_err err;
  ck_assert_msg(plan_compute(set, obs, 7, &p, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(p.n, 7); /* six desired, and "gone" */
  for (size_t i = 1; i < p.n; i++)
    ck_assert_int_lt(strcmp(p.items[i - 1].name, p.items[i].name), 0);
  ck_assert_int_eq(entry(&p, "same")->action, PLAN_UNCHANGED);
  ck_assert_str_eq(text(entry(&p, "edit")), "restart container app");
  ck_assert_str_eq(text(entry(&p, "field")), "recreate (hostname, hostNetwork changed)");
  ck_assert_int_eq(entry(&p, "fresh")->action, PLAN_CREATE);
  ck_assert_ptr_null(entry(&p, "fresh")->observed);
  ck_assert_str_eq(text(entry(&p, "fresh")), "create");
  ck_assert_int_eq(entry(&p, "dead")->action, PLAN_RELAUNCH);
  ck_assert_str_eq(text(entry(&p, "dead")), "relaunch (shim died)");
  ck_assert_int_eq(entry(&p, "gone")->action, PLAN_DELETE);
  ck_assert_ptr_null(entry(&p, "gone")->desired);
  ck_assert_str_eq(text(entry(&p, "gone")), "delete");
  ck_assert_int_eq(entry(&p, "never")->action, PLAN_CREATE);
  ck_assert_ptr_eq(entry(&p, "same")->desired, desired_find(set, "default", "same"));
  plan_free(&p);
  for (size_t i = 0; i < 6; i++)
    spec_pod_free(snaps[i]);
}
END_TEST

START_TEST(reconcile_edge_cases) {
  apply_pods((const fx_opts *[]){&(fx_opts){.name = "web"}}, 1);
  const desired_pod *d = desired_find(set, "default", "web");
  /* Another instance runs: recreate.  Its shim dead too: relaunch, which
   * still tells what differs. */
  spec_pod *other = snapshot(&(fx_opts){.name = "web"}, "someone-else");
  plan_observed o = {.ns = "default", .name = "web", .running = true, .shim_alive = true, .spec = other};
  plan p;
  ck_assert_int_eq(plan_compute(set, &o, 1, &p, NULL), 0);
  ck_assert_str_eq(text(&p.items[0]), "recreate (metadata.uid changed)");
  plan_free(&p);
  o.shim_alive = false;
  ck_assert_int_eq(plan_compute(set, &o, 1, &p, NULL), 0);
  ck_assert_int_eq(p.items[0].action, PLAN_RELAUNCH);
  ck_assert_int_eq(p.items[0].change.action, PLAN_RECREATE);
  plan_free(&p);
  /* A running pod that is not desired is deleted even with its shim dead. */
  spec_pod *stray = snapshot(&(fx_opts){.name = "stray"}, "u-s");
  plan_observed s = {.ns = "default", .name = "stray", .running = true, .spec = stray};
  ck_assert_int_eq(plan_compute(set, &s, 1, &p, NULL), 0);
  ck_assert_uint_eq(p.n, 2);
  ck_assert_int_eq(entry(&p, "stray")->action, PLAN_DELETE);
  ck_assert_int_eq(entry(&p, "web")->action, PLAN_CREATE);
  plan_free(&p);
  /* Not running and not desired: nothing to do, no entry. */
  s.running = false;
  ck_assert_int_eq(plan_compute(set, &s, 1, &p, NULL), 0);
  ck_assert_uint_eq(p.n, 1);
  plan_free(&p);
  (void)d;
  spec_pod_free(other);
  spec_pod_free(stray);
}
END_TEST

/* The daemon's no-op pass: 500 unchanged pods planned well within 10 ms. */
START_TEST(noop_reconcile_of_500_pods_is_cheap) {
  char *body = calloc(1, 500 * 512);
  for (int i = 0; i < 500; i++) {
    char name[32];
    snprintf(name, sizeof name, "pod-%03d", i);
    char *t = fx_pod(&(fx_opts){.name = name});
    strcat(body, i ? "---\n" : "");
    strcat(body, t);
    free(t);
  }
  ck_assert_int_eq(
      desired_apply(set, body, strlen(body), &(desired_apply_opts){0}, fx_now(), NULL, NULL, NULL), 0);
  free(body);
  plan_observed *obs = calloc(500, sizeof *obs);
  for (size_t i = 0; i < 500; i++) {
    const desired_pod *d = desired_at(set, i);
    obs[i] = (plan_observed){
        .ns = d->spec->ns, .name = d->spec->name, .running = true, .shim_alive = true, .spec = d->spec};
  }
  plan p = {0};
  double ms = 1e9; /* the best of three: the machine is shared */
  for (int k = 0; k < 3; k++) {
    struct timespec a, b;
    plan_free(&p);
    clock_gettime(CLOCK_MONOTONIC, &a);
    ck_assert_int_eq(plan_compute(set, obs, 500, &p, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double t = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    ms = t < ms ? t : ms;
  }
  ck_assert_uint_eq(p.n, 500);
  for (size_t i = 0; i < 500; i++)
    ck_assert_int_eq(p.items[i].action, PLAN_UNCHANGED);
  ck_assert_msg(ms < 10, "a no-op plan of 500 pods took %.2f ms", ms);
  plan_free(&p);
  free(obs);
}
END_TEST

/* --- the plan of an apply request -------------------------------------------------- */

START_TEST(apply_plan_in_kubectls_words) {
  apply_pods((const fx_opts *[]){&(fx_opts){BASE}, &(fx_opts){.name = "net"}, &(fx_opts){.name = "same"},
                                 &(fx_opts){.name = "meta"}, &(fx_opts){.name = "old"}},
             5);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/pods", root);
  fx_write_pod(dir, "file.yaml", &(fx_opts){.name = "file"});
  ck_assert_int_eq(desired_scan(set, fx_now(), NULL, NULL), 0);
  const fx_opts *req[] = {&(fx_opts){.name = "new"}, &(fx_opts){BASE, .cmd = "v2"},
                          &(fx_opts){.name = "net", .host_network = true}, &(fx_opts){.name = "same"},
                          &(fx_opts){.name = "meta", .label = "x"}};
  char *body = calloc(1, 65536);
  for (size_t i = 0; i < 5; i++) {
    char *t = fx_pod(req[i]);
    strcat(body, i ? "---\n" : "");
    strcat(body, t);
    free(t);
  }
  desired_apply_opts o = {.prune = true};
  spec_pod_list l = {0};
  pv_err err;
  ck_assert_msg(desired_request_parse(set, body, strlen(body), &o, &l, NULL, &err) == 0, "%s", err.msg);
  plan_apply pa;
  ck_assert_int_eq(plan_apply_compute(set, &l, true, &pa, &err), 0);
  const char *want[] = {"pod/new created",
                        "pod/web configured: restart container app",
                        "pod/net configured: recreate (hostname, hostNetwork changed)",
                        "pod/same unchanged",
                        "pod/meta configured",
                        "pod/old pruned"};
  ck_assert_uint_eq(pa.n, 6); /* the file's pod is never pruned */
  for (size_t i = 0; i < 6; i++) {
    char line[512];
    plan_apply_text(&pa.items[i], line, sizeof line);
    ck_assert_msg(strcmp(line, want[i]) == 0, "line %zu: '%s', want '%s'", i, line, want[i]);
  }
  ck_assert_int_eq(pa.items[4].change.action, PLAN_UNCHANGED);
  ck_assert_int_eq(pa.items[5].verdict, PLAN_PRUNED);
  plan_apply_free(&pa);
  /* Without prune, nothing is pruned; the dry run changed nothing. */
  ck_assert_int_eq(plan_apply_compute(set, &l, false, &pa, &err), 0);
  ck_assert_uint_eq(pa.n, 5);
  plan_apply_free(&pa);
  ck_assert_ptr_nonnull(desired_find(set, "default", "old"));
  ck_assert_ptr_null(desired_find(set, "default", "new"));
  /* A new metadata.uid in the request is a new instance. */
  spec_pod_list_free(&l);
  free(body);
  body = fx_pod(&(fx_opts){.name = "same", .uid = "brand-new"});
  l = (spec_pod_list){0};
  ck_assert_int_eq(desired_request_parse(set, body, strlen(body), &o, &l, NULL, NULL), 0);
  ck_assert_int_eq(plan_apply_compute(set, &l, false, &pa, NULL), 0);
  char line[512];
  plan_apply_text(&pa.items[0], line, sizeof line);
  ck_assert_str_eq(line, "pod/same configured: recreate (metadata.uid changed)");
  plan_apply_free(&pa);
  spec_pod_list_free(&l);
  free(body);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("plan");
  TCase *tc = tcase_create("diff");
  tcase_add_test(tc, identical_pods_are_unchanged);
  tcase_add_test(tc, container_edit_restarts_only_that_container);
  tcase_add_test(tc, init_containers_and_sidecars_restart_too);
  tcase_add_test(tc, each_pod_level_field_is_named);
  tcase_add_test(tc, container_list_changes_recreate);
  tcase_add_test(tc, new_uid_recreates);
  tcase_add_test(tc, hashes_alone_tell_restart_from_recreate);
  suite_add_tcase(s, tc);
  TCase *tr = tcase_create("reconcile");
  tcase_add_checked_fixture(tr, set_up, tear_down);
  tcase_add_test(tr, reconcile_gives_every_verdict);
  tcase_add_test(tr, reconcile_edge_cases);
  tcase_add_test(tr, noop_reconcile_of_500_pods_is_cheap);
  tcase_add_test(tr, apply_plan_in_kubectls_words);
  suite_add_tcase(s, tr);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
