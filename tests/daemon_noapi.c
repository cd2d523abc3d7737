/*
 * daemon_noapi.c - the daemon's API seam (supervisor/daemon/daemon_internal.h,
 * pvd_api_*) without an API: the podvisor binary links it only while the
 * tree has no supervisor/daemon/daemon_api.c, so that the daemon's core
 * (reconcile, adoption, events) builds and its end-to-end tests, which read
 * the pods' status files and the daemon's log, run on their own.
 */
#include "supervisor/daemon/daemon_internal.h"

int pvd_api_start(pvd *d, pv_err *err) {
  (void)d;
  (void)err;
  return 0;
}

void pvd_api_close(pvd *d, void (*done)(pvd *d)) {
  done(d);
}

void pvd_api_pod_changed(pvd *d, const char *ns, const char *name, pvd_watch_type t) {
  (void)d;
  (void)ns;
  (void)name;
  (void)t;
}

void pvd_api_event(pvd *d, const pvd_event *e, bool modified) {
  (void)d;
  (void)e;
  (void)modified;
}
