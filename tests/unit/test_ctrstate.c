/* Unit tests for supervisor/shim/ctrstate.c: the container state table, reasons, pod phase and conditions. */
#include <errno.h>
#include <string.h>

#include "supervisor/shim/ctrstate.h"
#include "tests/testutil.h"

#define SEC 1000000000LL

/* A predecessor's state for RESTORE events of the generic ev(): it
 * terminated with exit 1 (restarted under Always), so a restore keeps the
 * container where it is. */
static ctrstate prev_exited;

static ctrstate_event ev(ctrstate_event_kind kind, int64_t t) {
  ctrstate_event e = {.kind = kind,
                      .time = t,
                      .pid = 42,
                      .next_try_at = t + 10 * SEC,
                      .deadline = t + 5 * SEC,
                      .cause = CTRSTATE_BY_PROBE,
                      .ok = true,
                      .message = "m",
                      .prev = &prev_exited,
                      .policy = BACKOFF_POLICY_ALWAYS};
  e.exit.exit_code = 1;
  return e;
}

static void apply_ok(ctrstate *c, ctrstate_event e) {
  pv_err err;
  ck_assert_msg(ctrstate_apply(c, &e, &err) == 0, "%s", err.msg);
}

static ctrstate_event exited(int code, int sig, bool oom, int64_t t) {
  ctrstate_event e = {.kind = CTRSTATE_EV_EXITED, .time = t, .exit = {code, sig, oom}};
  return e;
}

/* Drives a fresh container into state s with events only. */
static void reach(ctrstate *c, ctrstate_state s) {
  ctrstate_init(c, "web", BACKOFF_KIND_APP, s == CTRSTATE_WAITING_INIT);
  if (s == CTRSTATE_WAITING_INIT || s == CTRSTATE_CREATING)
    return;
  apply_ok(c, ev(CTRSTATE_EV_CREATED, 1 * SEC));
  if (s == CTRSTATE_CREATED)
    return;
  apply_ok(c, ev(CTRSTATE_EV_STARTED, 2 * SEC));
  if (s == CTRSTATE_RUNNING)
    return;
  if (s == CTRSTATE_PRE_STOP || s == CTRSTATE_STOPPING || s == CTRSTATE_KILLING) {
    ctrstate_event k = ev(CTRSTATE_EV_KILL, 3 * SEC);
    k.hook = s == CTRSTATE_PRE_STOP;
    apply_ok(c, k);
    if (s == CTRSTATE_KILLING)
      apply_ok(c, ev(CTRSTATE_EV_KILL_DEADLINE, 3 * SEC));
    ck_assert_int_eq(c->state, s);
    return;
  }
  apply_ok(c, exited(1, 0, false, 4 * SEC));
  if (s == CTRSTATE_BACKOFF)
    apply_ok(c, ev(CTRSTATE_EV_BACKOFF, 5 * SEC));
  else if (s == CTRSTATE_START_LIMIT)
    apply_ok(c, ev(CTRSTATE_EV_START_LIMIT, 5 * SEC));
  ck_assert_int_eq(c->state, s);
}

START_TEST(every_transition_of_the_table) {
  /* The expected next state for every state x event, -1 = rejected.
   * Written out independently of the table in ctrstate.c. */
  enum { X = -1 };
  enum {
    WI = CTRSTATE_WAITING_INIT,
    CG = CTRSTATE_CREATING,
    CD = CTRSTATE_CREATED,
    RU = CTRSTATE_RUNNING,
    PS = CTRSTATE_PRE_STOP,
    SP = CTRSTATE_STOPPING,
    KI = CTRSTATE_KILLING,
    TE = CTRSTATE_TERMINATED,
    BO = CTRSTATE_BACKOFF,
    SL = CTRSTATE_START_LIMIT
  };
  /* columns: created started start_failed exited restart backoff backoff_expired start_limit
   *          stop_requested kill restart_requested hook_done hook_expired kill_deadline
   *          readiness startup_succeeded restore */
  static const int want[CTRSTATE_STATE_COUNT][CTRSTATE_EVENT_COUNT] = {
      [WI] = {CD, X, TE, X, X, X, X, X, WI, X, X, X, X, X, X, X, WI},
      [CG] = {CD, X, TE, X, X, X, X, X, CG, X, X, X, X, X, X, X, CG},
      [CD] = {X, RU, TE, TE, X, X, X, X, CD, SP, X, X, X, KI, X, X, X},
      [RU] = {X, X, X, TE, X, X, X, X, RU, SP, X, X, X, KI, RU, RU, X},
      [PS] = {X, X, X, TE, X, X, X, X, PS, X, PS, SP, SP, KI, X, X, X},
      [SP] = {X, X, X, TE, X, X, X, X, SP, X, SP, X, X, KI, X, X, X},
      [KI] = {X, X, X, TE, X, X, X, X, KI, X, KI, X, X, X, X, X, X},
      [TE] = {X, X, X, X, CG, BO, X, SL, TE, X, X, X, X, X, X, X, X},
      [BO] = {X, X, X, X, CG, X, CG, SL, TE, X, X, X, X, X, X, X, X},
      [SL] = {X, X, X, X, CG, X, X, X, TE, X, X, X, X, X, X, X, X},
  };
  int accepted = 0, rejected = 0;
  for (int s = 0; s < CTRSTATE_STATE_COUNT; s++) {
    for (int k = 0; k < CTRSTATE_EVENT_COUNT; k++) {
      ctrstate c, before;
      reach(&c, (ctrstate_state)s);
      memcpy(&before, &c, sizeof c);
      ctrstate_event e = ev((ctrstate_event_kind)k, 10 * SEC);
      pv_err err;
      pv_err_clear(&err);
      int r = ctrstate_apply(&c, &e, &err);
      ck_assert_int_eq(ctrstate_accepts((ctrstate_state)s, (ctrstate_event_kind)k), want[s][k] != X);
      if (want[s][k] == X) {
        ck_assert_msg(r == -1, "%s accepted %s", ctrstate_state_name(s), ctrstate_event_name(k));
        ck_assert_int_eq(errno, EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "container web: event"));
        ck_assert_ptr_nonnull(strstr(err.msg, ctrstate_state_name(s)));
        ck_assert_msg(memcmp(&c, &before, sizeof c) == 0, "state changed by a rejected event");
        rejected++;
      } else {
        ck_assert_msg(r == 0, "%s rejected %s: %s", ctrstate_state_name(s), ctrstate_event_name(k), err.msg);
        ck_assert_msg((int)c.state == want[s][k], "%s + %s -> %s", ctrstate_state_name(s),
                      ctrstate_event_name(k), ctrstate_state_name(c.state));
        accepted++;
      }
    }
  }
  ck_assert_int_eq(accepted, 43);
  ck_assert_int_eq(rejected, CTRSTATE_STATE_COUNT * CTRSTATE_EVENT_COUNT - 43);
  ctrstate_event bogus = ev((ctrstate_event_kind)CTRSTATE_EVENT_COUNT, 0);
  ctrstate c;
  reach(&c, CTRSTATE_RUNNING);
  ck_assert_int_eq(ctrstate_apply(&c, &bogus, NULL), -1);
}
END_TEST

START_TEST(exit_code_signal_and_oom_told_apart) {
  static const struct {
    int code, sig;
    bool oom;
    ctrstate_term_reason reason;
    int want_code;
    const char *name;
  } cases[] = {
      {0, 0, false, CTRSTATE_TERM_COMPLETED, 0, "Completed"},
      {3, 0, false, CTRSTATE_TERM_ERROR, 3, "Error"},
      {0, 15, false, CTRSTATE_TERM_ERROR, 143, "Error"},
      {0, 9, true, CTRSTATE_TERM_OOMKILLED, 137, "OOMKilled"},
      {0, 0, true, CTRSTATE_TERM_OOMKILLED, 0, "OOMKilled"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ctrstate c;
    reach(&c, CTRSTATE_RUNNING);
    ck_assert_int_eq(c.pid, 42);
    apply_ok(&c, exited(cases[i].code, cases[i].sig, cases[i].oom, 9 * SEC));
    ck_assert_int_eq(c.state, CTRSTATE_TERMINATED);
    ck_assert_int_eq(c.term.reason, cases[i].reason);
    ck_assert_str_eq(ctrstate_term_reason_name(c.term.reason), cases[i].name);
    ck_assert_int_eq(c.term.exit_code, cases[i].want_code);
    ck_assert_int_eq(c.term.signal, cases[i].sig);
    ck_assert_int_eq(c.term.started_at, 2 * SEC);
    ck_assert_int_eq(c.term.finished_at, 9 * SEC);
    ck_assert_int_eq(c.pid, 0);
    ck_assert(!c.ready);
    ck_assert_ptr_null(ctrstate_waiting_reason(&c));
  }
  ctrstate c;
  reach(&c, CTRSTATE_CREATED);
  ctrstate_event f = {
      .kind = CTRSTATE_EV_START_FAILED, .time = 7 * SEC, .message = "exec /app: no such file"};
  apply_ok(&c, f);
  ck_assert_str_eq(ctrstate_term_reason_name(c.term.reason), "StartError");
  ck_assert_int_eq(c.term.exit_code, 128);
  ck_assert_str_eq(c.term.message, "exec /app: no such file");
  ck_assert_int_eq(c.term.finished_at, 7 * SEC);
  ctrstate_event nopid = {.kind = CTRSTATE_EV_STARTED, .time = 1, .pid = 0};
  reach(&c, CTRSTATE_CREATED);
  ck_assert_int_eq(ctrstate_apply(&c, &nopid, NULL), -1);
  ck_assert_int_eq(c.state, CTRSTATE_CREATED);
}
END_TEST

START_TEST(waiting_reasons_restart_count_last_state) {
  ctrstate c;
  ctrstate_init(&c, "web", BACKOFF_KIND_APP, true);
  ck_assert_str_eq(ctrstate_waiting_reason(&c), "PodInitializing");
  ck_assert_ptr_null(ctrstate_last_state(&c));
  apply_ok(&c, ev(CTRSTATE_EV_CREATED, 1 * SEC));
  ck_assert_str_eq(ctrstate_waiting_reason(&c), "ContainerCreating");
  apply_ok(&c, ev(CTRSTATE_EV_STARTED, 2 * SEC));
  ck_assert_ptr_null(ctrstate_waiting_reason(&c));
  ck_assert_int_eq(c.started_at, 2 * SEC);
  apply_ok(&c, exited(2, 0, false, 3 * SEC));
  ck_assert_ptr_null(ctrstate_last_state(&c));
  ctrstate_event b = {.kind = CTRSTATE_EV_BACKOFF, .time = 3 * SEC, .next_try_at = 3 * SEC + 400000000};
  apply_ok(&c, b);
  ck_assert_str_eq(ctrstate_waiting_reason(&c), "CrashLoopBackOff");
  ck_assert_str_eq(c.message, "back-off 400ms restarting failed container=web");
  ck_assert_int_eq(c.next_try_at, 3 * SEC + 400000000);
  ck_assert_uint_eq(c.restart_count, 0);
  const ctrstate_term *l = ctrstate_last_state(&c);
  ck_assert_ptr_nonnull(l);
  ck_assert_int_eq(l->exit_code, 2);
  apply_ok(&c, ev(CTRSTATE_EV_BACKOFF_EXPIRED, 4 * SEC));
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
  ck_assert_uint_eq(c.restart_count, 1);
  ck_assert_int_eq(c.next_try_at, 0);
  ck_assert_str_eq(c.message, "");
  l = ctrstate_last_state(&c);
  ck_assert_ptr_nonnull(l);
  ck_assert_int_eq(l->reason, CTRSTATE_TERM_ERROR);
  ck_assert_int_eq(l->exit_code, 2);
  ck_assert_int_eq(l->finished_at, 3 * SEC);
  apply_ok(&c, ev(CTRSTATE_EV_CREATED, 5 * SEC));
  apply_ok(&c, ev(CTRSTATE_EV_STARTED, 5 * SEC));
  apply_ok(&c, exited(0, 0, false, 6 * SEC));
  ck_assert_int_eq(ctrstate_last_state(&c)->exit_code, 2); /* the previous run's */
  b.time = 6 * SEC;
  b.next_try_at = 16 * SEC;
  apply_ok(&c, b);
  ck_assert_str_eq(c.message, "back-off 10s restarting failed container=web");
  ck_assert_int_eq(ctrstate_last_state(&c)->reason, CTRSTATE_TERM_COMPLETED);
  apply_ok(&c, ev(CTRSTATE_EV_START_LIMIT, 7 * SEC));
  ck_assert_str_eq(ctrstate_waiting_reason(&c), "StartLimitReached");
  ck_assert_str_eq(c.message, "m");
  ck_assert_int_eq(ctrstate_last_state(&c)->reason, CTRSTATE_TERM_COMPLETED);
  apply_ok(&c, ev(CTRSTATE_EV_RESTART, 8 * SEC)); /* a manual restart lifts it */
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
  ck_assert_uint_eq(c.restart_count, 2);
  ck_assert_int_eq(ctrstate_last_state(&c)->reason, CTRSTATE_TERM_COMPLETED);
}
END_TEST

START_TEST(stop_requested_blocks_restarts) {
  ctrstate c;
  reach(&c, CTRSTATE_RUNNING);
  ck_assert(c.ready);
  /* The pod stops: the run goes on until its own KILL (a sidecar waits for
   * the app containers), but is no longer ready. */
  apply_ok(&c, ev(CTRSTATE_EV_STOP_REQUESTED, 3 * SEC));
  ck_assert_int_eq(c.state, CTRSTATE_RUNNING);
  ck_assert(c.stop_requested);
  ck_assert(!c.ready);
  ck_assert(!c.liveness_kill);
  apply_ok(&c, exited(0, 15, false, 4 * SEC));
  ck_assert(ctrstate_is_final(&c, BACKOFF_POLICY_ALWAYS));
  ctrstate before;
  memcpy(&before, &c, sizeof c);
  pv_err err;
  ctrstate_event r = ev(CTRSTATE_EV_RESTART, 5 * SEC);
  ck_assert_int_eq(ctrstate_apply(&c, &r, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "the pod is stopping"));
  ck_assert(memcmp(&c, &before, sizeof c) == 0);
  r.kind = CTRSTATE_EV_BACKOFF;
  ck_assert_int_eq(ctrstate_apply(&c, &r, &err), -1);
  ck_assert(memcmp(&c, &before, sizeof c) == 0);

  /* Stop during backoff: the last exit becomes the state again. */
  reach(&c, CTRSTATE_BACKOFF);
  ck_assert(!ctrstate_is_final(&c, BACKOFF_POLICY_ALWAYS));
  apply_ok(&c, ev(CTRSTATE_EV_STOP_REQUESTED, 6 * SEC));
  ck_assert_int_eq(c.state, CTRSTATE_TERMINATED);
  ck_assert_int_eq(c.term.exit_code, 1);
  ck_assert_ptr_null(ctrstate_last_state(&c));
  ck_assert(ctrstate_is_final(&c, BACKOFF_POLICY_ALWAYS));

  /* Not yet started: stays waiting, but for good. */
  reach(&c, CTRSTATE_CREATING);
  apply_ok(&c, ev(CTRSTATE_EV_STOP_REQUESTED, 6 * SEC));
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
  ck_assert(ctrstate_is_final(&c, BACKOFF_POLICY_ALWAYS));
  /* Created, its postStart hook running: its process is not down yet. */
  reach(&c, CTRSTATE_CREATED);
  apply_ok(&c, ev(CTRSTATE_EV_STOP_REQUESTED, 6 * SEC));
  ck_assert_int_eq(c.state, CTRSTATE_CREATED);
  ck_assert(!ctrstate_is_final(&c, BACKOFF_POLICY_ALWAYS));
  apply_ok(&c, exited(0, 15, false, 7 * SEC));
  ck_assert(ctrstate_is_final(&c, BACKOFF_POLICY_ALWAYS));
}
END_TEST

START_TEST(probes_drive_ready_and_started) {
  ctrstate c;
  reach(&c, CTRSTATE_RUNNING);
  ck_assert(c.started);
  ck_assert(c.ready); /* no probes: ready once running */

  ctrstate_init(&c, "web", BACKOFF_KIND_APP, false);
  c.has_startup_probe = c.has_readiness_probe = true;
  apply_ok(&c, ev(CTRSTATE_EV_CREATED, 1));
  apply_ok(&c, ev(CTRSTATE_EV_STARTED, 2));
  ck_assert(!c.started);
  ck_assert(!c.ready);
  apply_ok(&c, ev(CTRSTATE_EV_READINESS, 3)); /* before startup passed: not ready */
  ck_assert(!c.ready);
  apply_ok(&c, ev(CTRSTATE_EV_STARTUP_SUCCEEDED, 4));
  ck_assert(c.started);
  ck_assert(!c.ready);
  apply_ok(&c, ev(CTRSTATE_EV_READINESS, 5));
  ck_assert(c.ready);
  ctrstate_event nr = {.kind = CTRSTATE_EV_READINESS, .time = 6, .ok = false};
  apply_ok(&c, nr);
  ck_assert(!c.ready);
  apply_ok(&c, ev(CTRSTATE_EV_READINESS, 7));
  ctrstate_event lf = {.kind = CTRSTATE_EV_KILL, .time = 8, .cause = CTRSTATE_BY_PROBE, .deadline = 9};
  apply_ok(&c, lf);
  ck_assert_int_eq(c.state, CTRSTATE_STOPPING);
  ck_assert(c.liveness_kill);
  ck_assert(!c.ready);
  ck_assert(!c.stop_requested);
  ck_assert_int_eq(c.stop_deadline, 9);
  ck_assert_str_eq(c.message, "container web failed liveness probe, will be restarted");
  apply_ok(&c, exited(0, 9, false, 9));
  ck_assert(!c.liveness_kill);
  ck_assert_int_eq(c.exit_by, CTRSTATE_BY_PROBE);
  ck_assert_str_eq(c.term.message, "container web failed liveness probe, will be restarted");
  ck_assert_int_eq(c.term.exit_code, 137);
  ck_assert(!ctrstate_is_final(&c, BACKOFF_POLICY_ALWAYS));
  ck_assert(ctrstate_is_final(&c, BACKOFF_POLICY_NEVER));
}
END_TEST

/* How a run ended decides what follows (exit_by): a probe's kill counts
 * only once its SIGTERM went out. */
START_TEST(stop_sequence_and_exit_causes) {
  static const struct {
    const char *what;
    ctrstate_cause cause;
    bool hook;
    int steps; /* 0: exit in PRE_STOP/STOPPING; 1: HOOK_DONE; 2: HOOK_DONE gone; 3: HOOK_EXPIRED; 4:
                  KILL_DEADLINE */
    ctrstate_state before_exit;
    ctrstate_cause want;
    bool message;
  } cases[] = {
      {"probe, no hook", CTRSTATE_BY_PROBE, false, 0, CTRSTATE_STOPPING, CTRSTATE_BY_PROBE, true},
      {"probe, exits during its hook", CTRSTATE_BY_PROBE, true, 0, CTRSTATE_PRE_STOP, CTRSTATE_BY_ITSELF,
       false},
      {"probe, hook done, TERM", CTRSTATE_BY_PROBE, true, 1, CTRSTATE_STOPPING, CTRSTATE_BY_PROBE, true},
      {"probe, ended with its hook", CTRSTATE_BY_PROBE, true, 2, CTRSTATE_STOPPING, CTRSTATE_BY_ITSELF,
       false},
      {"probe, hook expired", CTRSTATE_BY_PROBE, true, 3, CTRSTATE_STOPPING, CTRSTATE_BY_PROBE, true},
      {"probe, killed", CTRSTATE_BY_PROBE, false, 4, CTRSTATE_KILLING, CTRSTATE_BY_PROBE, true},
      {"restart", CTRSTATE_BY_RESTART, true, 0, CTRSTATE_PRE_STOP, CTRSTATE_BY_RESTART, false},
      {"restart, killed", CTRSTATE_BY_RESTART, false, 4, CTRSTATE_KILLING, CTRSTATE_BY_RESTART, false},
      {"pod stop", CTRSTATE_BY_POD_STOP, true, 1, CTRSTATE_STOPPING, CTRSTATE_BY_POD_STOP, false},
      {"pod stop during the hook", CTRSTATE_BY_POD_STOP, true, 0, CTRSTATE_PRE_STOP, CTRSTATE_BY_POD_STOP,
       false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ctrstate c;
    reach(&c, CTRSTATE_RUNNING);
    ctrstate_event k = {.kind = CTRSTATE_EV_KILL,
                        .time = 3 * SEC,
                        .cause = cases[i].cause,
                        .hook = cases[i].hook,
                        .deadline = 8 * SEC,
                        .message = "Liveness probe failed"};
    apply_ok(&c, k);
    ck_assert_int_eq(c.stop_deadline, 8 * SEC);
    ck_assert(!c.ready);
    ck_assert_int_eq(c.restart_requested, cases[i].cause == CTRSTATE_BY_RESTART);
    ck_assert_int_eq(c.stop_requested, cases[i].cause == CTRSTATE_BY_POD_STOP);
    switch (cases[i].steps) {
    case 1: apply_ok(&c, (ctrstate_event){.kind = CTRSTATE_EV_HOOK_DONE, .time = 4 * SEC}); break;
    case 2:
      apply_ok(&c, (ctrstate_event){.kind = CTRSTATE_EV_HOOK_DONE, .time = 4 * SEC, .gone = true});
      break;
    case 3:
      apply_ok(&c, (ctrstate_event){.kind = CTRSTATE_EV_HOOK_EXPIRED, .time = 8 * SEC, .deadline = 10 * SEC});
      ck_assert_int_eq(c.stop_deadline, 10 * SEC);
      break;
    case 4:
      apply_ok(&c, (ctrstate_event){.kind = CTRSTATE_EV_KILL_DEADLINE, .time = 8 * SEC});
      ck_assert_int_eq(c.stop_deadline, 0);
      break;
    default: break;
    }
    ck_assert_msg(c.state == cases[i].before_exit, "%s: %s", cases[i].what, ctrstate_state_name(c.state));
    /* Running, as Kubernetes sees it, until the exit. */
    ck_assert_ptr_null(ctrstate_waiting_reason(&c));
    ck_assert(!ctrstate_is_final(&c, BACKOFF_POLICY_NEVER));
    apply_ok(&c, exited(0, 15, false, 9 * SEC));
    ck_assert_msg(c.exit_by == cases[i].want, "%s: exit_by %s", cases[i].what,
                  ctrstate_cause_name(c.exit_by));
    ck_assert_msg((c.term.message[0] != '\0') == cases[i].message, "%s: message '%s'", cases[i].what,
                  c.term.message);
    ck_assert(!c.restart_requested && !c.liveness_kill);
    ck_assert_int_eq(c.stop_deadline, 0);
  }
  /* A restart asked for while a probe's kill is under way wins. */
  ctrstate c;
  reach(&c, CTRSTATE_STOPPING);
  apply_ok(&c, ev(CTRSTATE_EV_RESTART_REQUESTED, 4 * SEC));
  apply_ok(&c, exited(0, 9, false, 5 * SEC));
  ck_assert_int_eq(c.exit_by, CTRSTATE_BY_RESTART);
  /* A run that ends by itself. */
  reach(&c, CTRSTATE_RUNNING);
  apply_ok(&c, exited(3, 0, false, 5 * SEC));
  ck_assert_int_eq(c.exit_by, CTRSTATE_BY_ITSELF);
}
END_TEST

static ctrstate prev_in(ctrstate_state s, uint32_t restarts) {
  ctrstate o;
  reach(&o, s);
  o.restart_count = restarts;
  return o;
}

static ctrstate restored(const ctrstate *o, backoff_kind kind, backoff_policy pol, int64_t now) {
  ctrstate c;
  ctrstate_init(&c, "web", kind, false);
  ctrstate_event r = {.kind = CTRSTATE_EV_RESTORE, .time = now, .prev = o, .policy = pol};
  apply_ok(&c, r);
  return c;
}

START_TEST(restore_carries_a_predecessor_forward) {
  /* Running when its shim died: killed with it, judged by the policy. */
  ctrstate o = prev_in(CTRSTATE_RUNNING, 4);
  ctrstate c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ALWAYS, 20 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
  ck_assert_uint_eq(c.restart_count, 5);
  ck_assert(c.has_last);
  ck_assert_int_eq(c.last.exit_code, 137);
  ck_assert_int_eq(c.last.signal, 9);
  ck_assert_int_eq(c.last.started_at, 2 * SEC);
  ck_assert_int_eq(c.last.finished_at, 20 * SEC);
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_NEVER, 20 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_TERMINATED);
  ck_assert_uint_eq(c.restart_count, 4);
  ck_assert_int_eq(c.term.exit_code, 137);
  ck_assert_str_eq(ctrstate_term_reason_name(c.term.reason), "Error");
  o = prev_in(CTRSTATE_PRE_STOP, 1); /* being stopped counts as running */
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ALWAYS, 20 * SEC);
  ck_assert_uint_eq(c.restart_count, 2);
  ck_assert_int_eq(c.last.exit_code, 137);

  /* Marked ShimDied by whoever saw its keeper die (podctl_clean_dead):
   * the same as running when the keeper died, with that termination. */
  o = prev_in(CTRSTATE_TERMINATED, 4);
  o.term = (ctrstate_term){.reason = CTRSTATE_TERM_SHIM_DIED, .exit_code = 137, .signal = 9,
                           .started_at = 2 * SEC, .finished_at = 10 * SEC};
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ALWAYS, 20 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
  ck_assert_uint_eq(c.restart_count, 5);
  ck_assert_str_eq(ctrstate_term_reason_name(c.last.reason), "ShimDied");
  ck_assert_int_eq(c.last.finished_at, 10 * SEC);
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ON_FAILURE, 20 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_NEVER, 20 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_TERMINATED);
  ck_assert_uint_eq(c.restart_count, 4);
  ck_assert_str_eq(ctrstate_term_reason_name(c.term.reason), "ShimDied");
  ctrstate_term_reason tr;
  ck_assert_int_eq(ctrstate_term_reason_parse("ShimDied", &tr), 0);
  ck_assert_int_eq(tr, CTRSTATE_TERM_SHIM_DIED);

  /* Terminated for good: stays so, with its own termination. */
  o = prev_in(CTRSTATE_TERMINATED, 2);
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_NEVER, 20 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_TERMINATED);
  ck_assert_int_eq(c.term.exit_code, 1);
  ck_assert_int_eq(c.term.finished_at, 4 * SEC);
  ck_assert_uint_eq(c.restart_count, 2);
  /* Terminated, about to restart: starts again, the exit as its last state. */
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ALWAYS, 20 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
  ck_assert_int_eq(c.last.exit_code, 1);

  /* CrashLoopBackOff: waits until the same deadline, never in the past. */
  o = prev_in(CTRSTATE_BACKOFF, 3); /* next try at 15 s */
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ALWAYS, 12 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_BACKOFF);
  ck_assert_int_eq(c.next_try_at, 15 * SEC);
  ck_assert_str_eq(c.message, "back-off 3s restarting failed container=web");
  ck_assert_int_eq(ctrstate_last_state(&c)->exit_code, 1);
  ck_assert_uint_eq(c.restart_count, 3);
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ALWAYS, 30 * SEC);
  ck_assert_int_eq(c.next_try_at, 30 * SEC);
  ck_assert_str_eq(c.message, "back-off 0s restarting failed container=web");

  /* Start limit: stays down, with the same message. */
  o = prev_in(CTRSTATE_START_LIMIT, 7);
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ALWAYS, 30 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_START_LIMIT);
  ck_assert_str_eq(c.message, "m");
  ck_assert_str_eq(ctrstate_waiting_reason(&c), "StartLimitReached");

  /* A pod that was stopping: its waiting container starts afresh. */
  o = prev_in(CTRSTATE_BACKOFF, 3);
  o.stop_requested = true;
  c = restored(&o, BACKOFF_KIND_APP, BACKOFF_POLICY_ALWAYS, 30 * SEC);
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
  ck_assert_uint_eq(c.restart_count, 3);

  /* Only before the first start, and only with a predecessor. */
  reach(&c, CTRSTATE_CREATED);
  ctrstate_event r = {.kind = CTRSTATE_EV_RESTORE, .time = 1, .prev = &o};
  ck_assert_int_eq(ctrstate_apply(&c, &r, NULL), -1);
  ctrstate_init(&c, "web", BACKOFF_KIND_APP, false);
  r.prev = NULL;
  ck_assert_int_eq(ctrstate_apply(&c, &r, NULL), -1);
  ck_assert_int_eq(c.state, CTRSTATE_CREATING);
}
END_TEST

/* What the pod's init sequence needs: a sidecar's step is done once it has
 * started, an init container's once it has exited 0, for good. */
START_TEST(init_steps_stay_done) {
  ctrstate c;
  ctrstate_init(&c, "side", BACKOFF_KIND_SIDECAR, false);
  c.has_startup_probe = true;
  apply_ok(&c, ev(CTRSTATE_EV_CREATED, 1));
  apply_ok(&c, ev(CTRSTATE_EV_STARTED, 2));
  ck_assert(!c.ever_started);
  apply_ok(&c, ev(CTRSTATE_EV_STARTUP_SUCCEEDED, 3));
  ck_assert(c.ever_started);
  apply_ok(&c, exited(1, 0, false, 4));
  apply_ok(&c, ev(CTRSTATE_EV_RESTART, 5));
  ck_assert(c.ever_started && !c.started);
  ctrstate_init(&c, "setup", BACKOFF_KIND_INIT, false);
  apply_ok(&c, ev(CTRSTATE_EV_CREATED, 1));
  apply_ok(&c, ev(CTRSTATE_EV_STARTED, 2));
  apply_ok(&c, exited(1, 0, false, 3));
  ck_assert(!c.ever_completed);
  apply_ok(&c, ev(CTRSTATE_EV_RESTART, 4));
  apply_ok(&c, ev(CTRSTATE_EV_CREATED, 5));
  apply_ok(&c, ev(CTRSTATE_EV_STARTED, 6));
  apply_ok(&c, exited(0, 0, false, 7));
  ck_assert(c.ever_completed);
  apply_ok(&c, ev(CTRSTATE_EV_RESTART, 8)); /* a manual restart does not undo it */
  ck_assert(c.ever_completed);
  /* The identity a spec change sets, and the id a run gets. */
  ctrstate_set_spec(&c, "busybox:1", "sha256:ab", true, false);
  ck_assert_str_eq(c.image, "busybox:1");
  ck_assert_str_eq(c.spec_hash, "sha256:ab");
  ck_assert(c.has_startup_probe && !c.has_readiness_probe);
  ctrstate_event cr = {.kind = CTRSTATE_EV_CREATED, .time = 9, .id = "u-setup-2"};
  apply_ok(&c, cr);
  ck_assert_str_eq(c.id, "u-setup-2");
  for (int i = 0; i < CTRSTATE_STATE_COUNT; i++) {
    ctrstate_state back;
    ck_assert_int_eq(ctrstate_state_parse(ctrstate_state_name((ctrstate_state)i), &back), 0);
    ck_assert_int_eq(back, i);
    ck_assert_int_eq(ctrstate_is_live((ctrstate_state)i), i >= CTRSTATE_CREATED && i <= CTRSTATE_KILLING);
  }
}
END_TEST

/* ---- pod phase ---- */

typedef enum {
  C_WAITINIT,
  C_CREATING,
  C_RUNNING,
  C_UNSTARTED,
  C_OK,
  C_FAIL,
  C_SIG,
  C_BACKOFF,
  C_LIMIT,
  C_STOPPED
} cspec;

static void make(ctrstate *c, const char *name, backoff_kind kind, cspec how) {
  ctrstate_init(c, name, kind, how == C_WAITINIT);
  if (how == C_WAITINIT || how == C_CREATING)
    return;
  if (how == C_UNSTARTED)
    c->has_startup_probe = true;
  apply_ok(c, ev(CTRSTATE_EV_CREATED, 1 * SEC));
  apply_ok(c, ev(CTRSTATE_EV_STARTED, 2 * SEC));
  if (how == C_RUNNING || how == C_UNSTARTED)
    return;
  if (how == C_STOPPED)
    apply_ok(c, ev(CTRSTATE_EV_STOP_REQUESTED, 3 * SEC));
  int code = how == C_FAIL || how == C_BACKOFF || how == C_LIMIT ? 1 : 0;
  int sig = how == C_SIG || how == C_STOPPED ? 15 : 0;
  apply_ok(c, exited(code, sig, false, 4 * SEC));
  if (how == C_BACKOFF)
    apply_ok(c, ev(CTRSTATE_EV_BACKOFF, 5 * SEC));
  if (how == C_LIMIT)
    apply_ok(c, ev(CTRSTATE_EV_START_LIMIT, 5 * SEC));
}

typedef struct {
  const char *what;
  backoff_policy policy;
  int n_init;
  backoff_kind init_kind[2];
  cspec init[2];
  int n_app;
  cspec app[2];
  ctrstate_phase want;
} phase_case;

#define A BACKOFF_POLICY_ALWAYS
#define O BACKOFF_POLICY_ON_FAILURE
#define N BACKOFF_POLICY_NEVER
#define I BACKOFF_KIND_INIT
#define SC BACKOFF_KIND_SIDECAR
#define PEND CTRSTATE_PHASE_PENDING
#define RUN CTRSTATE_PHASE_RUNNING
#define SUCC CTRSTATE_PHASE_SUCCEEDED
#define FAIL CTRSTATE_PHASE_FAILED

static const phase_case phase_cases[] = {
    {"Never+success", N, 0, {0}, {0}, 1, {C_OK}, SUCC},
    {"Never+fail", N, 0, {0}, {0}, 1, {C_FAIL}, FAIL},
    {"Never+signal", N, 0, {0}, {0}, 1, {C_SIG}, FAIL},
    {"Never one done one running", N, 0, {0}, {0}, 2, {C_OK, C_RUNNING}, RUN},
    {"Never one ok one failed", N, 0, {0}, {0}, 2, {C_OK, C_FAIL}, FAIL},
    {"Always+crash (about to restart)", A, 0, {0}, {0}, 1, {C_FAIL}, RUN},
    {"Always+crash in backoff", A, 0, {0}, {0}, 1, {C_BACKOFF}, RUN},
    {"Always+exit 0 (restarts)", A, 0, {0}, {0}, 1, {C_OK}, RUN},
    {"Always+start limit", A, 0, {0}, {0}, 1, {C_LIMIT}, FAIL},
    {"Always+stopped by SIGTERM", A, 0, {0}, {0}, 1, {C_STOPPED}, FAIL},
    {"OnFailure+success", O, 0, {0}, {0}, 1, {C_OK}, SUCC},
    {"OnFailure+fail (restarts)", O, 0, {0}, {0}, 1, {C_FAIL}, RUN},
    {"OnFailure+backoff", O, 0, {0}, {0}, 2, {C_OK, C_BACKOFF}, RUN},
    {"all creating", A, 0, {0}, {0}, 2, {C_CREATING, C_CREATING}, PEND},
    {"one creating one running", A, 0, {0}, {0}, 2, {C_CREATING, C_RUNNING}, PEND},
    {"running", A, 0, {0}, {0}, 2, {C_RUNNING, C_RUNNING}, RUN},
    {"init running", A, 1, {I}, {C_RUNNING}, 1, {C_WAITINIT}, PEND},
    {"init done, app creating", A, 1, {I}, {C_OK}, 1, {C_CREATING}, PEND},
    {"init done, app running", N, 1, {I}, {C_OK}, 1, {C_RUNNING}, RUN},
    {"init failed Never", N, 1, {I}, {C_FAIL}, 1, {C_WAITINIT}, FAIL},
    {"init failed OnFailure", O, 1, {I}, {C_FAIL}, 1, {C_WAITINIT}, PEND},
    {"init in backoff Always", A, 1, {I}, {C_BACKOFF}, 1, {C_WAITINIT}, PEND},
    {"init start limit Always", A, 1, {I}, {C_LIMIT}, 1, {C_WAITINIT}, FAIL},
    {"second init waiting", A, 2, {I, I}, {C_OK, C_WAITINIT}, 1, {C_WAITINIT}, PEND},
    {"sidecar not started yet", A, 1, {SC}, {C_UNSTARTED}, 1, {C_WAITINIT}, PEND},
    {"sidecar started, app running", N, 1, {SC}, {C_RUNNING}, 1, {C_RUNNING}, RUN},
    {"sidecar runs after app completed", N, 1, {SC}, {C_RUNNING}, 1, {C_OK}, RUN},
    {"sidecar stopped after app completed", N, 1, {SC}, {C_STOPPED}, 1, {C_OK}, SUCC},
    {"sidecar in backoff after app started", A, 1, {SC}, {C_BACKOFF}, 1, {C_RUNNING}, RUN},
    {"sidecar and init", N, 2, {SC, I}, {C_RUNNING, C_RUNNING}, 1, {C_WAITINIT}, PEND},
};

START_TEST(pod_phase_table) {
  for (size_t i = 0; i < sizeof phase_cases / sizeof phase_cases[0]; i++) {
    const phase_case *pc = &phase_cases[i];
    ctrstate_pod p;
    ck_assert_int_eq(ctrstate_pod_init(&p, pc->policy, (size_t)pc->n_init, (size_t)pc->n_app, NULL), 0);
    for (int k = 0; k < pc->n_init; k++)
      make(&p.init[k], "init", pc->init_kind[k], pc->init[k]);
    for (int k = 0; k < pc->n_app; k++)
      make(&p.app[k], "app", BACKOFF_KIND_APP, pc->app[k]);
    ctrstate_phase got = ctrstate_pod_phase(&p);
    ck_assert_msg(got == pc->want, "%s: got %s, want %s", pc->what, ctrstate_phase_name(got),
                  ctrstate_phase_name(pc->want));
    ctrstate_pod_free(&p);
  }
}
END_TEST

START_TEST(pod_conditions_and_transitions) {
  ctrstate_pod p;
  ck_assert_int_eq(ctrstate_pod_init(&p, BACKOFF_POLICY_ALWAYS, 1, 1, NULL), 0);
  ctrstate_init(&p.init[0], "setup", BACKOFF_KIND_INIT, false);
  ctrstate_init(&p.app[0], "web", BACKOFF_KIND_APP, true);
  p.app[0].has_readiness_probe = true;
  ck_assert(ctrstate_pod_update(&p, 100));
  ck_assert_int_eq(p.phase, CTRSTATE_PHASE_PENDING);
  ck_assert_int_eq(p.start_time, 100);
  ck_assert(p.cond[CTRSTATE_COND_POD_SCHEDULED].status);
  ck_assert(!p.cond[CTRSTATE_COND_INITIALIZED].status);
  ck_assert(!p.cond[CTRSTATE_COND_READY].status);
  for (int i = 0; i < CTRSTATE_COND_COUNT; i++)
    ck_assert_int_eq(p.cond[i].last_transition, 100);
  ck_assert(!ctrstate_pod_update(&p, 150)); /* nothing changed */

  apply_ok(&p.init[0], ev(CTRSTATE_EV_CREATED, 200));
  apply_ok(&p.init[0], ev(CTRSTATE_EV_STARTED, 200));
  apply_ok(&p.init[0], exited(0, 0, false, 300));
  ck_assert(ctrstate_pod_update(&p, 300));
  ck_assert(p.cond[CTRSTATE_COND_INITIALIZED].status);
  ck_assert_int_eq(p.cond[CTRSTATE_COND_INITIALIZED].last_transition, 300);
  ck_assert_int_eq(p.cond[CTRSTATE_COND_POD_SCHEDULED].last_transition, 100);

  apply_ok(&p.app[0], ev(CTRSTATE_EV_CREATED, 400));
  apply_ok(&p.app[0], ev(CTRSTATE_EV_STARTED, 400));
  ck_assert(ctrstate_pod_update(&p, 400));
  ck_assert_int_eq(p.phase, CTRSTATE_PHASE_RUNNING);
  ck_assert(!p.cond[CTRSTATE_COND_CONTAINERS_READY].status);
  apply_ok(&p.app[0], ev(CTRSTATE_EV_READINESS, 500));
  ck_assert(ctrstate_pod_update(&p, 500));
  ck_assert(p.cond[CTRSTATE_COND_CONTAINERS_READY].status);
  ck_assert(p.cond[CTRSTATE_COND_READY].status);
  ck_assert_int_eq(p.cond[CTRSTATE_COND_READY].last_transition, 500);
  ck_assert_int_eq(p.start_time, 100);

  apply_ok(&p.app[0], exited(1, 0, false, 600));
  ck_assert(ctrstate_pod_update(&p, 600));
  ck_assert(!p.cond[CTRSTATE_COND_READY].status);
  ck_assert(p.cond[CTRSTATE_COND_INITIALIZED].status); /* stays initialized */
  ck_assert_int_eq(p.phase, CTRSTATE_PHASE_RUNNING);   /* Always: restarting */

  static const char *names[] = {"PodScheduled", "Initialized", "ContainersReady", "Ready"};
  for (int i = 0; i < CTRSTATE_COND_COUNT; i++) {
    ctrstate_cond_type t;
    ck_assert_str_eq(ctrstate_cond_name((ctrstate_cond_type)i), names[i]);
    ck_assert_int_eq(ctrstate_cond_parse(names[i], &t), 0);
    ck_assert_int_eq(t, i);
  }
  ctrstate_pod_free(&p);
  ctrstate_pod_free(&p); /* twice is harmless */
}
END_TEST

/* A sidecar (an init container with restartPolicy Always) counts in
 * ContainersReady and Ready: while its readiness probe fails the pod is not
 * Ready, even with every app container ready. */
START_TEST(pod_ready_waits_for_sidecar_readiness) {
  ctrstate_pod p;
  ck_assert_int_eq(ctrstate_pod_init(&p, BACKOFF_POLICY_ALWAYS, 1, 1, NULL), 0);
  ctrstate_init(&p.init[0], "proxy", BACKOFF_KIND_SIDECAR, false);
  p.init[0].has_readiness_probe = true;
  ctrstate_init(&p.app[0], "web", BACKOFF_KIND_APP, true);
  apply_ok(&p.init[0], ev(CTRSTATE_EV_CREATED, 100));
  apply_ok(&p.init[0], ev(CTRSTATE_EV_STARTED, 100));
  apply_ok(&p.app[0], ev(CTRSTATE_EV_CREATED, 200));
  apply_ok(&p.app[0], ev(CTRSTATE_EV_STARTED, 200));
  ck_assert(p.app[0].ready); /* no probe: ready once running */
  ctrstate_event failing = {.kind = CTRSTATE_EV_READINESS, .time = 250, .ok = false};
  apply_ok(&p.init[0], failing);
  ck_assert(ctrstate_pod_update(&p, 300));
  ck_assert_int_eq(p.phase, CTRSTATE_PHASE_RUNNING);
  ck_assert(p.cond[CTRSTATE_COND_INITIALIZED].status);
  ck_assert_msg(!p.cond[CTRSTATE_COND_CONTAINERS_READY].status, "ContainersReady with a not-ready sidecar");
  ck_assert_msg(!p.cond[CTRSTATE_COND_READY].status, "Ready with a not-ready sidecar");

  apply_ok(&p.init[0], ev(CTRSTATE_EV_READINESS, 400));
  ck_assert(ctrstate_pod_update(&p, 400));
  ck_assert(p.cond[CTRSTATE_COND_CONTAINERS_READY].status);
  ck_assert(p.cond[CTRSTATE_COND_READY].status);
  ck_assert_int_eq(p.cond[CTRSTATE_COND_READY].last_transition, 400);

  apply_ok(&p.init[0], failing); /* the probe fails again */
  ck_assert(ctrstate_pod_update(&p, 500));
  ck_assert(!p.cond[CTRSTATE_COND_CONTAINERS_READY].status);
  ck_assert(!p.cond[CTRSTATE_COND_READY].status);
  ck_assert_int_eq(p.cond[CTRSTATE_COND_READY].last_transition, 500);
  ctrstate_pod_free(&p);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("ctrstate");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, every_transition_of_the_table);
  tcase_add_test(tc, exit_code_signal_and_oom_told_apart);
  tcase_add_test(tc, waiting_reasons_restart_count_last_state);
  tcase_add_test(tc, stop_requested_blocks_restarts);
  tcase_add_test(tc, probes_drive_ready_and_started);
  tcase_add_test(tc, stop_sequence_and_exit_causes);
  tcase_add_test(tc, restore_carries_a_predecessor_forward);
  tcase_add_test(tc, init_steps_stay_done);
  tcase_add_test(tc, pod_phase_table);
  tcase_add_test(tc, pod_conditions_and_transitions);
  tcase_add_test(tc, pod_ready_waits_for_sidecar_readiness);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
