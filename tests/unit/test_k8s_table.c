/* Unit tests for supervisor/daemon/k8s_table and k8s_print: the
 * meta.k8s.io/v1 Table of pods as kube-apiserver returns it to kubectl, and
 * `get pods` text as kubectl 1.32 prints that Table (plain, -o wide, -A,
 * -w, -o name). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/k8s_json.h"
#include "supervisor/daemon/k8s_pod.h"
#include "supervisor/daemon/k8s_print.h"
#include "supervisor/daemon/k8s_table.h"
#include "tests/testutil.h"
#include "tests/unit/k8s_fixture.h"

#define NOW K8S_FIXTURE_NOW

static char *keys(const json_t *o) {
  static char buf[512];
  const char *k;
  const json_t *v;
  buf[0] = '\0';
  json_object_foreach((json_t *)o, k, v) {
    if (buf[0])
      strcat(buf, ",");
    strcat(buf, k);
  }
  return buf;
}

static char *cells(const json_t *row) {
  char *s = json_dumps(k8s_json_arr(row, "cells"), JSON_COMPACT);
  for (char *p = s; *p; p++)
    if (*p == '"')
      *p = '\'';
  return s;
}

/* shop/web (the fixture), a finished job pod with an IP in another
 * namespace, and a pod being deleted. */
static json_t *pod_list(void) {
  json_t *items = json_array();
  json_array_append_new(items, k8s_fixture_pod_object());
  json_array_append_new(
      items,
      k8s_fixture_json("{'kind':'Pod','metadata':{'name':'backup-28391','namespace':'ops',"
                       "'creationTimestamp':'2023-11-12T22:13:20Z'},'spec':{'containers':[{'name':'b'}]},"
                       "'status':{'phase':'Succeeded','podIPs':[{'ip':'10.88.0.7'}],'containerStatuses':"
                       "[{'name':'b','state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}"));
  json_array_append_new(
      items, k8s_fixture_json(
                 "{'kind':'Pod','metadata':{'name':'db','namespace':'shop','creationTimestamp':"
                 "'2023-11-14T22:23:00Z','deletionTimestamp':'2023-11-14T22:23:10Z'},"
                 "'spec':{'nodeName':'host1','containers':[{'name':'pg'}],"
                 "'readinessGates':[{'conditionType':'x.io/lb'},{'conditionType':'x.io/dns'},"
                 "{'conditionType':'x.io/cert'}]},"
                 "'status':{'phase':'Running','podIP':'10.88.0.9','nominatedNodeName':'host2',"
                 "'conditions':[{'type':'x.io/cert','status':'False'},{'type':'x.io/dns','status':'True'}],"
                 "'containerStatuses':[{'name':'pg','ready':true,'state':{'running':{}}}]}}"));
  json_t *list = k8s_pod_list(items, "77", NULL);
  ck_assert_ptr_nonnull(list);
  return list;
}

START_TEST(pod_table_shape) {
  json_t *list = pod_list();
  json_t *t = k8s_table_pods(list, NOW, false, NULL);
  ck_assert_str_eq(keys(t), "kind,apiVersion,metadata,columnDefinitions,rows");
  ck_assert_str_eq(k8s_json_str(t, "kind"), "Table");
  ck_assert_str_eq(k8s_json_str(t, "apiVersion"), "meta.k8s.io/v1");
  ck_assert_str_eq(k8s_json_str(t, "metadata.resourceVersion"), "77");
  /* columnDefinitions: kube-apiserver's pod columns, wide ones at priority 1 */
  const json_t *cols = k8s_json_arr(t, "columnDefinitions");
  static const char *const names[] = {"Name", "Ready", "Status",         "Restarts",       "Age",
                                      "IP",   "Node",  "Nominated Node", "Readiness Gates"};
  ck_assert_uint_eq(json_array_size(cols), 9);
  for (size_t i = 0; i < 9; i++) {
    const json_t *c = json_array_get(cols, i);
    ck_assert_str_eq(keys(c), "name,type,format,description,priority");
    ck_assert_str_eq(k8s_json_str(c, "name"), names[i]);
    ck_assert_str_eq(k8s_json_str(c, "type"), "string"); /* Restarts too, since "5 (32s ago)" */
    ck_assert_str_eq(k8s_json_str(c, "format"), i == 0 ? "name" : "");
    ck_assert_int_eq(k8s_json_int(c, "priority"), i < 5 ? 0 : 1);
    ck_assert_int_gt(strlen(k8s_json_str(c, "description")), 40);
  }
  ck_assert(strncmp(k8s_json_str(json_array_get(cols, 0), "description"),
                    "Name must be unique within a namespace.", 39) == 0);
  ck_assert(strncmp(k8s_json_str(json_array_get(cols, 4), "description"),
                    "CreationTimestamp is a timestamp representing", 45) == 0);
  /* rows: 9 cells each, the object as PartialObjectMetadata */
  const json_t *rows = k8s_json_arr(t, "rows");
  ck_assert_uint_eq(json_array_size(rows), 3);
  const json_t *r0 = json_array_get(rows, 0), *r1 = json_array_get(rows, 1), *r2 = json_array_get(rows, 2);
  char *c;
  ck_assert_str_eq(keys(r0), "cells,object");
  ck_assert_str_eq(c = cells(r0),
                   "['web','2/3','CrashLoopBackOff','5 (32s ago)','10m','<none>','host1','<none>','<none>']");
  free(c);
  ck_assert_str_eq(c = cells(r1),
                   "['backup-28391','0/1','Completed','0','2d','10.88.0.7','<none>','<none>','<none>']");
  free(c);
  ck_assert_str_eq(c = cells(r2), "['db','1/1','Terminating','0','20s','10.88.0.9','host1','host2','1/3']");
  free(c);
  ck_assert_str_eq(keys(k8s_json_obj(r0, "object")), "kind,apiVersion,metadata");
  ck_assert_str_eq(k8s_json_str(r0, "object.kind"), "PartialObjectMetadata");
  ck_assert_str_eq(k8s_json_str(r0, "object.apiVersion"), "meta.k8s.io/v1");
  ck_assert_str_eq(k8s_json_str(r0, "object.metadata.namespace"), "shop");
  ck_assert_str_eq(k8s_json_str(r0, "object.metadata.labels.app"), "web");
  ck_assert_str_eq(k8s_json_str(r0, "object.metadata.uid"), K8S_FIXTURE_UID);
  /* a finished pod's row condition */
  ck_assert_str_eq(keys(r1), "cells,conditions,object");
  const json_t *cond = json_array_get(k8s_json_arr(r1, "conditions"), 0);
  ck_assert_str_eq(keys(cond), "type,status,reason,message");
  ck_assert_str_eq(k8s_json_str(cond, "type"), "Completed");
  ck_assert_str_eq(k8s_json_str(cond, "reason"), "Succeeded");
  ck_assert_str_eq(k8s_json_str(cond, "message"), "The pod has completed successfully.");
  json_decref(t);

  /* No headers (a watch event after the first): columnDefinitions null. */
  t = k8s_table_pods(json_array_get(k8s_json_arr(list, "items"), 0), NOW, true, NULL);
  ck_assert(json_is_null(json_object_get(t, "columnDefinitions")));
  ck_assert_uint_eq(json_array_size(k8s_json_arr(t, "rows")), 1);      /* a single Pod: one row */
  ck_assert_str_eq(k8s_json_str(t, "metadata.resourceVersion"), "42"); /* the pod's own */
  json_decref(t);
  json_decref(list);

  pv_err err;
  ck_assert_ptr_null(k8s_table_pods(json_array_get(NULL, 0), NOW, false, &err));
  ck_assert_int_eq(err.code, EINVAL);
}
END_TEST

START_TEST(get_pods_text) {
  json_t *list = pod_list();
  json_t *t = k8s_table_pods(list, NOW, false, NULL);
  char *s = k8s_print_table(t, &(k8s_print_opts){0}, NULL);
  ck_assert_str_eq(s, "NAME           READY   STATUS             RESTARTS      AGE\n"
                      "web            2/3     CrashLoopBackOff   5 (32s ago)   10m\n"
                      "backup-28391   0/1     Completed          0             2d\n"
                      "db             1/1     Terminating        0             20s\n");
  free(s);
  s = k8s_print_table(t, &(k8s_print_opts){.wide = true}, NULL);
  ck_assert_str_eq(
      s,
      "NAME           READY   STATUS             RESTARTS      AGE   IP          NODE     NOMINATED NODE   "
      "READINESS GATES\n"
      "web            2/3     CrashLoopBackOff   5 (32s ago)   10m   <none>      host1    <none>           "
      "<none>\n"
      "backup-28391   0/1     Completed          0             2d    10.88.0.7   <none>   <none>           "
      "<none>\n"
      "db             1/1     Terminating        0             20s   10.88.0.9   host1    host2            "
      "1/3\n");
  free(s);
  s = k8s_print_table(t, &(k8s_print_opts){.with_namespace = true}, NULL);
  ck_assert_str_eq(s, "NAMESPACE   NAME           READY   STATUS             RESTARTS      AGE\n"
                      "shop        web            2/3     CrashLoopBackOff   5 (32s ago)   10m\n"
                      "ops         backup-28391   0/1     Completed          0             2d\n"
                      "shop        db             1/1     Terminating        0             20s\n");
  free(s);
  s = k8s_print_table(t, &(k8s_print_opts){.no_headers = true}, NULL);
  ck_assert_str_eq(s, "web            2/3   CrashLoopBackOff   5 (32s ago)   10m\n"
                      "backup-28391   0/1   Completed          0             2d\n"
                      "db             1/1   Terminating        0             20s\n");
  free(s);
  json_decref(t);
  s = k8s_print_names(list, NULL);
  ck_assert_str_eq(s, "pod/web\npod/backup-28391\npod/db\n");
  free(s);
  json_decref(list);
}
END_TEST

/* kubectl get pods -w: the list's Table, then one Table per watch event,
 * without column definitions after the first; one header, widths kept. */
START_TEST(watch_prints_one_header) {
  json_t *pod = k8s_fixture_pod_object();
  json_t *first = k8s_table_pods(pod, NOW, false, NULL);
  json_t *again = k8s_table_pods(pod, NOW + 30LL * K8S_FIXTURE_SEC, true, NULL);
  json_t *other = k8s_fixture_json("{'metadata':{'name':'a','creationTimestamp':'2023-11-14T22:23:19Z'},"
                                   "'spec':{'containers':[{'name':'c'}]},'status':{'phase':'Pending'}}");
  json_t *later = k8s_table_pods(other, NOW, true, NULL);
  json_t *same_cols = k8s_table_pods(other, NOW, false, NULL);
  k8s_printer pr;
  k8s_printer_init(&pr, &(k8s_print_opts){0});
  pv_err err;
  ck_assert_int_eq(k8s_printer_table(&pr, first, &err), 0);
  char *a = k8s_printer_flush(&pr, &err);
  ck_assert_int_eq(k8s_printer_table(&pr, again, &err), 0);
  char *b = k8s_printer_flush(&pr, &err);
  ck_assert_int_eq(k8s_printer_table(&pr, later, &err), 0);
  ck_assert_int_eq(k8s_printer_table(&pr, same_cols, &err), 0); /* equal columns: no second header */
  char *c = k8s_printer_flush(&pr, &err);
  ck_assert_str_eq(a, "NAME   READY   STATUS             RESTARTS      AGE\n"
                      "web    2/3     CrashLoopBackOff   5 (32s ago)   10m\n");
  ck_assert_str_eq(b, "web    2/3     CrashLoopBackOff   5 (62s ago)   10m\n");
  ck_assert_str_eq(c, "a      0/1     Pending            0             1s\n"
                      "a      0/1     Pending            0             1s\n");
  free(a);
  free(b);
  free(c);
  k8s_printer_free(&pr);
  json_decref(first);
  json_decref(again);
  json_decref(later);
  json_decref(same_cols);
  json_decref(other);
  json_decref(pod);
}
END_TEST

START_TEST(cells_as_kubectl_prints_them) {
  json_t *t = k8s_fixture_json(
      "{'kind':'Table','columnDefinitions':[{'name':'Name','priority':0},"
      "{'name':'Count','priority':0},{'name':'Ok','priority':0},{'name':'Note','priority':0}],"
      "'rows':[{'cells':['multi\\nline','7',true,null,'extra']},"
      "{'cells':['esc\\u001b[31m',2.5,false,'x']},{'cells':[12]}]}");
  char *s = k8s_print_table(t, &(k8s_print_opts){0}, NULL);
  ck_assert_str_eq(s, "NAME        COUNT   OK      NOTE\n"
                      "multi...    7       true    \n"
                      "esc^[[31m   2.5     false   x\n"
                      "12\n");
  free(s);
  json_decref(t);
  /* No rows: nothing at all, not even the header. */
  t = k8s_fixture_json("{'kind':'Table','columnDefinitions':[{'name':'Name'}],'rows':[]}");
  s = k8s_print_table(t, &(k8s_print_opts){0}, NULL);
  ck_assert_str_eq(s, "");
  free(s);
  json_decref(t);
  pv_err err;
  t = k8s_fixture_json("{'kind':'PodList','items':[]}");
  ck_assert_ptr_null(k8s_print_table(t, &(k8s_print_opts){0}, &err));
  ck_assert_int_eq(err.code, EINVAL);
  json_decref(t);
  char msg[128];
  k8s_print_no_resources("shop", msg, sizeof msg);
  ck_assert_str_eq(msg, "No resources found in shop namespace.");
  k8s_print_no_resources(NULL, msg, sizeof msg);
  ck_assert_str_eq(msg, "No resources found");
  t = k8s_fixture_json("{'kind':'EventList','items':[{'metadata':{'name':'e.1'}}]}");
  s = k8s_print_names(t, NULL);
  ck_assert_str_eq(s, "event/e.1\n");
  free(s);
  json_decref(t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("k8s_table");
  TCase *tc = tcase_create("k8s_table");
  tcase_add_test(tc, pod_table_shape);
  tcase_add_test(tc, get_pods_text);
  tcase_add_test(tc, watch_prints_one_header);
  tcase_add_test(tc, cells_as_kubectl_prints_them);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
