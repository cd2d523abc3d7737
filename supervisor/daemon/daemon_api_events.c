/*
 * daemon_api_events.c - the daemon's events as an EventList (GET
 * /api/v1/events, /api/v1/namespaces/NS/events) with field selectors on
 * the Event's fields (kubectl describe asks for
 * involvedObject.name,involvedObject.namespace,involvedObject.uid).  Their
 * watch streams are daemon_api_pods.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/daemon/daemon_api_internal.h"
#include "supervisor/daemon/k8s_event.h"
#include "supervisor/daemon/k8s_json.h"

json_t *api_event_object(const pvd *d, const pvd_event *e, pv_err *err) {
  char rv[24];
  snprintf(rv, sizeof rv, "%" PRIu64, e->rv);
  k8s_event_spec s = {
      .name = e->name[0] != '\0' ? e->name : NULL,
      .resource_version = rv,
      .ns = e->ns,
      .pod = e->pod,
      .pod_uid = e->pod_uid,
      .container = e->container,
      .init_container = e->init_container,
      .reason = e->reason,
      .message = e->message,
      .warning = e->warning,
      .first = e->first,
      .last = e->last,
      .count = e->count > 0 ? e->count : 1,
      .host = pvd_hostname(d),
  };
  return k8s_event_json(&s, err);
}

void api_events_list(pvd_api *a, httpd_req *req, const char *ns) {
  api_sel fields;
  pv_err err = {0};
  if (api_sel_parse(httpd_req_query(req, "fieldSelector"), true, &fields, &err) < 0) {
    api_reply_status(req, err.code == ENOMEM ? 500 : 400, NULL, NULL, "%s", err.msg);
    return;
  }
  json_t *items = json_array();
  size_t n = pvd_events_count(a->d);
  for (size_t i = 0; items != NULL && i < n; i++) {
    const pvd_event *e = pvd_events_at(a->d, i);
    if (ns != NULL && strcmp(e->ns, ns) != 0)
      continue;
    json_t *ev = api_event_object(a->d, e, &err);
    if (ev == NULL)
      continue;
    if (api_sel_match_fields(&fields, ev))
      json_array_append_new(items, ev);
    else
      json_decref(ev);
  }
  api_sel_free(&fields);
  char rv[24];
  snprintf(rv, sizeof rv, "%" PRIu64, pvd_resource_version(a->d));
  json_t *list = items != NULL ? k8s_event_list(items, rv, &err) : NULL;
  if (list == NULL) {
    httpd_reply_status(req, 500, NULL, "out of memory");
    return;
  }
  httpd_reply_json(req, 200, list);
  json_decref(list);
}
