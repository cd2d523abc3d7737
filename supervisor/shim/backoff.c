#include "supervisor/shim/backoff.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void backoff_config_default(backoff_config *c) {
  c->initial_ms = BACKOFF_DEFAULT_INITIAL_MS;
  c->max_ms = BACKOFF_DEFAULT_MAX_MS;
  c->reset_ms = BACKOFF_DEFAULT_RESET_MS;
  c->limit_starts = 0;
  c->limit_window_ms = 0;
}

void backoff_state_init(backoff_state *s) {
  memset(s, 0, sizeof *s);
}

void backoff_record_start(backoff_state *s, int64_t now_ms) {
  s->starts[s->head] = now_ms;
  s->head = (s->head + 1) % BACKOFF_LIMIT_MAX;
  if (s->nstarts < BACKOFF_LIMIT_MAX)
    s->nstarts++;
}

void backoff_record_exit(const backoff_config *c, backoff_state *s, int64_t run_ms) {
  if (run_ms >= c->reset_ms)
    s->exits = 0;
  if (s->exits < UINT32_MAX)
    s->exits++;
}

int64_t backoff_next_delay(const backoff_config *c, const backoff_state *s) {
  if (s->exits == 0 || c->initial_ms <= 0)
    return 0;
  int64_t max = c->max_ms < c->initial_ms ? c->initial_ms : c->max_ms;
  uint32_t shift = s->exits - 1;
  /* initial << shift stays within max only while initial <= max >> shift;
   * checking that first keeps the shift from overflowing for any k. */
  if (shift >= 62 || c->initial_ms > (max >> shift))
    return max;
  return c->initial_ms << shift;
}

bool backoff_start_limit_reached(const backoff_config *c, const backoff_state *s, int64_t start_ms) {
  uint32_t n = c->limit_starts;
  if (n == 0 || n > BACKOFF_LIMIT_MAX || s->nstarts < n)
    return false;
  /* The oldest of the last n starts. */
  uint32_t idx = (s->head + BACKOFF_LIMIT_MAX - n) % BACKOFF_LIMIT_MAX;
  return start_ms - s->starts[idx] < c->limit_window_ms;
}

bool backoff_exit_failed(const backoff_exit *e) {
  return e->exit_code != 0 || e->signal != 0 || e->oom;
}

backoff_decision backoff_restart_decide(backoff_policy policy, backoff_kind kind, const backoff_exit *e) {
  bool failed = backoff_exit_failed(e);
  switch (kind) {
  case BACKOFF_KIND_SIDECAR: return BACKOFF_RESTART;
  case BACKOFF_KIND_INIT:
    if (!failed)
      return BACKOFF_STAY_DOWN;
    return policy == BACKOFF_POLICY_NEVER ? BACKOFF_FAIL_POD : BACKOFF_RESTART;
  case BACKOFF_KIND_APP:
  default:
    switch (policy) {
    case BACKOFF_POLICY_ALWAYS: return BACKOFF_RESTART;
    case BACKOFF_POLICY_ON_FAILURE: return failed ? BACKOFF_RESTART : BACKOFF_STAY_DOWN;
    case BACKOFF_POLICY_NEVER:
    default: return BACKOFF_STAY_DOWN;
    }
  }
}

static const char *const policy_names[] = {"Always", "OnFailure", "Never"};

const char *backoff_policy_name(backoff_policy p) {
  if ((unsigned)p >= sizeof policy_names / sizeof policy_names[0])
    return "Unknown";
  return policy_names[p];
}

int backoff_policy_parse(const char *s, backoff_policy *out) {
  for (unsigned i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++) {
    if (s != NULL && strcmp(s, policy_names[i]) == 0) {
      *out = (backoff_policy)i;
      return 0;
    }
  }
  errno = EINVAL;
  return -1;
}
