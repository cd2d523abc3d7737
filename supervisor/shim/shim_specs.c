/* shim_specs.c - the pod specs a shim holds: the current snapshot's pod,
 * and earlier ones only while runs started from them still borrow from them.
 *
 * A container update makes a new pod the current one (sh->pod, every
 * shim_ctr's spec rebound to it: the other containers' specs are equal, by
 * hash).  What still points into the previous pod are the runs that were
 * live at that moment: their probes borrow argv, host, path and headers
 * until their handles close.  So the previous pod is retired with one hold
 * per such container: the run live at the update (known by its restart
 * count, which the next run no longer has) or probes still closing.
 * collect(), called at every status render, frees a retired pod once none
 * of its holds is left; an update no longer keeps every earlier spec for
 * the life of the shim. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/shim/shim_internal.h"

typedef struct shim_hold {
  shim_ctr *ctr;
  uint32_t restart; /* the restart count of the run live at the update */
  bool had_run;
} shim_hold;

typedef struct shim_retired {
  spec_pod *pod;
  struct shim_retired *next;
  size_t n;
  shim_hold holds[];
} shim_retired;

static bool probes_busy(const shim_ctr *ctr) {
  return ctr->probes_closing > 0 || ctr->probe_on[0] || ctr->probe_on[1] || ctr->probe_on[2];
}

static bool still_held(const shim_hold *h) {
  const shim_ctr *ctr = h->ctr;
  if (h->had_run && ctr->run != NULL && ctr->st->restart_count == h->restart)
    return true;
  /* Probes close asynchronously after their run ended; a later run's
   * probes keep the pod a little longer, which is only conservative. */
  return ctr->probes_closing > 0 || (h->had_run && ctr->st->restart_count == h->restart && probes_busy(ctr));
}

int shim_specs_replace(shim *sh, spec_pod *new_pod, pv_err *err) {
  shim_retired *r = calloc(1, sizeof *r + sh->n_ctrs * sizeof(shim_hold));
  if (r == NULL)
    return pv_err_set(err, ENOMEM, "pod %s: out of memory", sh->pod->name);
  for (size_t i = 0; i < sh->n_ctrs; i++) {
    shim_ctr *ctr = &sh->ctrs[i];
    if (ctr->run == NULL && !probes_busy(ctr))
      continue;
    r->holds[r->n++] =
        (shim_hold){.ctr = ctr, .restart = ctr->st->restart_count, .had_run = ctr->run != NULL};
  }
  /* sh->pods holds exactly the current pod: swap it. */
  r->pod = sh->pods.n > 0 ? sh->pods.items[0] : NULL;
  if (sh->pods.n == 0) {
    spec_pod **items = realloc(sh->pods.items, sizeof *items);
    if (items == NULL) {
      free(r);
      return pv_err_set(err, ENOMEM, "pod %s: out of memory", sh->pod->name);
    }
    sh->pods.items = items;
    sh->pods.n = sh->pods.cap = 1;
  }
  sh->pods.items[0] = new_pod;
  sh->pod = new_pod;
  for (size_t i = 0; i < sh->n_ctrs; i++) {
    const spec_container *c = spec_pod_container(new_pod, sh->ctrs[i].st->name);
    if (c != NULL)
      sh->ctrs[i].spec = c;
  }
  r->next = sh->retired_pods;
  sh->retired_pods = r;
  shim_specs_collect(sh);
  return 0;
}

void shim_specs_collect(shim *sh) {
  for (shim_retired **p = &sh->retired_pods; *p != NULL;) {
    shim_retired *r = *p;
    bool held = false;
    for (size_t i = 0; i < r->n && !held; i++)
      held = still_held(&r->holds[i]);
    if (held) {
      p = &r->next;
      continue;
    }
    *p = r->next;
    spec_pod_free(r->pod);
    free(r);
  }
}

void shim_specs_free(shim *sh) {
  while (sh->retired_pods != NULL) {
    shim_retired *r = sh->retired_pods;
    sh->retired_pods = r->next;
    spec_pod_free(r->pod);
    free(r);
  }
}
