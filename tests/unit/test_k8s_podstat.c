/* Unit tests for supervisor/daemon/k8s_podstat: READY, STATUS, RESTARTS and
 * AGE of `kubectl get pods`, case by case against the rules of printPod
 * (kubernetes pkg/printers/internalversion/printers.go, the server side of
 * kubectl get since 1.11, with the sidecar rules of 1.29+).  Each pod is a
 * Pod document as any API server would return it; the expected cells are
 * what kubectl prints for that pod. */
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/k8s_podstat.h"
#include "tests/testutil.h"

/* now = 2023-11-14T22:14:20Z; times in the documents count back from it. */
#define NOW (1700000060LL * 1000000000LL)

/* The cases write JSON with ' for " to stay readable. */
static json_t *load(const char *squoted) {
  char *s = strdup(squoted);
  for (char *p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  json_error_t e;
  json_t *j = json_loads(s, 0, &e);
  ck_assert_msg(j != NULL, "bad case JSON at %d: %s\n%s", e.position, e.text, s);
  free(s);
  return j;
}

#define ONE_APP "'spec':{'containers':[{'name':'a'}]}"
#define TWO_APPS "'spec':{'containers':[{'name':'a'},{'name':'b'}]}"
#define RUNNING_READY "'state':{'running':{'startedAt':'2023-11-14T22:13:20Z'}},'ready':true"
#define INIT2 "'spec':{'initContainers':[{'name':'i1'},{'name':'i2'}],'containers':[{'name':'a'}]}"
#define SIDECAR                                                                                              \
  "'spec':{'initContainers':[{'name':'setup'},{'name':'proxy','restartPolicy':'Always'}],"                   \
  "'containers':[{'name':'web'}]}"

static const struct {
  const char *what, *pod, *ready, *status, *restarts;
} cases[] = {
    /* The app containers decide once the init containers are done. */
    {"a ready running container: the phase shows",
     "{" ONE_APP ",'status':{'phase':'Running',"
     "'containerStatuses':[{'name':'a'," RUNNING_READY "}]}}",
     "1/1", "Running", "0"},
    {"running but not ready: counted out of READY, the phase shows",
     "{" ONE_APP ",'status':{'phase':'Running','containerStatuses':[{'name':'a',"
     "'state':{'running':{}},'ready':false}]}}",
     "0/1", "Running", "0"},
    {"ready but waiting: READY counts only running containers",
     "{" ONE_APP ",'status':{'phase':'Running','containerStatuses':[{'name':'a',"
     "'state':{'waiting':{'reason':'ContainerCreating'}},'ready':true}]}}",
     "0/1", "ContainerCreating", "0"},
    {"a waiting reason replaces the phase",
     "{" ONE_APP ",'status':{'phase':'Pending',"
     "'containerStatuses':[{'name':'a','state':{'waiting':{'reason':'ContainerCreating'}}}]}}",
     "0/1", "ContainerCreating", "0"},
    {"CrashLoopBackOff, restarts with the age of the last termination",
     "{" ONE_APP ",'status':{'phase':'Running','containerStatuses':[{'name':'a','restartCount':5,"
     "'state':{'waiting':{'reason':'CrashLoopBackOff'}},"
     "'lastState':{'terminated':{'exitCode':1,'reason':'Error','finishedAt':'2023-11-14T22:14:15Z'}}}]}}",
     "0/1", "CrashLoopBackOff", "5 (5s ago)"},
    {"podvisor's StartLimitReached shows like any waiting reason",
     "{" ONE_APP ",'status':{'phase':'Running','containerStatuses':[{'name':'a','restartCount':10,"
     "'state':{'waiting':{'reason':'StartLimitReached'}},"
     "'lastState':{'terminated':{'exitCode':1,'reason':'Error','finishedAt':'2023-11-14T22:11:50Z'}}}]}}",
     "0/1", "StartLimitReached", "10 (2m30s ago)"},
    {"a terminated reason: Error",
     "{" ONE_APP ",'status':{'phase':'Failed','containerStatuses':[{'name':'a',"
     "'state':{'terminated':{'exitCode':1,'reason':'Error'}}}]}}",
     "0/1", "Error", "0"},
    {"a terminated reason: Completed",
     "{" ONE_APP ",'status':{'phase':'Succeeded','containerStatuses':[{"
     "'name':'a','state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}",
     "0/1", "Completed", "0"},
    {"a terminated reason: OOMKilled",
     "{" ONE_APP ",'status':{'phase':'Running','containerStatuses':[{"
     "'name':'a','state':{'terminated':{'exitCode':137,'reason':'OOMKilled'}}}]}}",
     "0/1", "OOMKilled", "0"},
    {"a termination without a reason, by a signal",
     "{" ONE_APP ",'status':{'phase':'Failed',"
     "'containerStatuses':[{'name':'a','state':{'terminated':{'exitCode':137,'signal':9}}}]}}",
     "0/1", "Signal:9", "0"},
    {"a termination without a reason, by an exit code",
     "{" ONE_APP ",'status':{'phase':'Failed',"
     "'containerStatuses':[{'name':'a','state':{'terminated':{'exitCode':3}}}]}}",
     "0/1", "ExitCode:3", "0"},
    {"the first container in spec order wins (the walk is from the last)",
     "{" TWO_APPS ",'status':{'phase':'Running','containerStatuses':["
     "{'name':'a','state':{'waiting':{'reason':'CrashLoopBackOff'}}},"
     "{'name':'b','state':{'terminated':{'exitCode':1,'reason':'Error'}}}]}}",
     "0/2", "CrashLoopBackOff", "0"},
    {"Completed with a ready container still running and the pod not Ready: NotReady",
     "{" TWO_APPS ",'status':{'phase':'Running','conditions':[{'type':'Ready','status':'False'}],"
     "'containerStatuses':[{'name':'a','state':{'terminated':{'exitCode':0,'reason':'Completed'}}},"
     "{'name':'b'," RUNNING_READY "}]}}",
     "1/2", "NotReady", "0"},
    {"Completed with a ready container still running and the pod Ready: Running",
     "{" TWO_APPS ",'status':{'phase':'Running','conditions':[{'type':'Ready','status':'True'}],"
     "'containerStatuses':[{'name':'a','state':{'terminated':{'exitCode':0,'reason':'Completed'}}},"
     "{'name':'b'," RUNNING_READY "}]}}",
     "1/2", "Running", "0"},
    {"app restarts add up; the latest termination gives the age",
     "{" TWO_APPS ",'status':{'phase':'Running','containerStatuses':["
     "{'name':'a'," RUNNING_READY ",'restartCount':2,"
     "'lastState':{'terminated':{'exitCode':1,'finishedAt':'2023-11-14T20:00:00Z'}}},"
     "{'name':'b'," RUNNING_READY ",'restartCount':1,"
     "'lastState':{'terminated':{'exitCode':1,'finishedAt':'2023-11-14T22:04:20Z'}}}]}}",
     "2/2", "Running", "3 (10m ago)"},
    {"restarts without a last termination time: no age",
     "{" ONE_APP ",'status':{'phase':'Running',"
     "'containerStatuses':[{'name':'a'," RUNNING_READY ",'restartCount':3}]}}",
     "1/1", "Running", "3"},
    /* Init containers. */
    {"the first init container runs: Init:0/2",
     "{" INIT2 ",'status':{'phase':'Pending',"
     "'initContainerStatuses':[{'name':'i1','state':{'running':{}}},"
     "{'name':'i2','state':{'waiting':{'reason':'PodInitializing'}}}],"
     "'containerStatuses':[{'name':'a','state':{'waiting':{'reason':'PodInitializing'}}}]}}",
     "0/1", "Init:0/2", "0"},
    {"one init container done (exit 0), the second runs: Init:1/2",
     "{" INIT2 ",'status':{'phase':'Pending',"
     "'initContainerStatuses':[{'name':'i1','state':{'terminated':{'exitCode':0,'reason':'Completed'}}},"
     "{'name':'i2','state':{'running':{}}}]}}",
     "0/1", "Init:1/2", "0"},
    {"waiting for PodInitializing counts as not started: Init:0/2",
     "{" INIT2 ",'status':{'phase':'Pending',"
     "'initContainerStatuses':[{'name':'i1','state':{'waiting':{'reason':'PodInitializing'}}}]}}",
     "0/1", "Init:0/2", "0"},
    {"an init container in CrashLoopBackOff, with its restarts",
     "{" INIT2 ",'status':{'phase':'Pending','initContainerStatuses':[{'name':'i1','restartCount':4,"
     "'state':{'waiting':{'reason':'CrashLoopBackOff'}},"
     "'lastState':{'terminated':{'exitCode':1,'reason':'Error','finishedAt':'2023-11-14T22:14:10Z'}}}],"
     "'containerStatuses':[{'name':'a','restartCount':7,'state':{'waiting':{'reason':'PodInitializing'}}}]}}",
     "0/1", "Init:CrashLoopBackOff", "4 (10s ago)"},
    {"a failed init container: Init:Error",
     "{" INIT2 ",'status':{'phase':'Failed','initContainerStatuses':["
     "{'name':'i1','state':{'terminated':{'exitCode':1,'reason':'Error'}}}]}}",
     "0/1", "Init:Error", "0"},
    {"podvisor's StartError in an init container",
     "{" INIT2 ",'status':{'phase':'Pending',"
     "'initContainerStatuses':[{'name':'i1','state':{'terminated':{'exitCode':128,'reason':'StartError'}}}]}"
     "}",
     "0/1", "Init:StartError", "0"},
    {"a failed init container without a reason: Init:ExitCode:N",
     "{" INIT2 ",'status':{'phase':'Failed',"
     "'initContainerStatuses':[{'name':'i1','state':{'terminated':{'exitCode':2}}}]}}",
     "0/1", "Init:ExitCode:2", "0"},
    {"a killed init container without a reason: Init:Signal:N",
     "{" INIT2 ",'status':{'phase':'Failed',"
     "'initContainerStatuses':[{'name':'i1','state':{'terminated':{'exitCode':143,'signal':15}}}]}}",
     "0/1", "Init:Signal:15", "0"},
    {"init done, the app container waits for PodInitializing",
     "{" INIT2 ",'status':{'phase':'Pending',"
     "'initContainerStatuses':[{'name':'i1','state':{'terminated':{'exitCode':0,'reason':'Completed'}}},"
     "{'name':'i2','state':{'terminated':{'exitCode':0,'reason':'Completed'}}}],"
     "'containerStatuses':[{'name':'a','state':{'waiting':{'reason':'PodInitializing'}}}]}}",
     "0/1", "PodInitializing", "0"},
    {"Initialized True lets the app containers decide; init restarts then do not count",
     "{" INIT2 ",'status':{'phase':'Running','conditions':[{'type':'Initialized','status':'True'}],"
     "'initContainerStatuses':[{'name':'i1','restartCount':2,'state':{'running':{}}}],"
     "'containerStatuses':[{'name':'a','restartCount':1,'state':{'waiting':{'reason':'CrashLoopBackOff'}}}]}"
     "}",
     "0/1", "CrashLoopBackOff", "1"},
    /* Sidecars (init containers with restartPolicy Always). */
    {"a started, ready sidecar counts in READY, its restarts count",
     "{" SIDECAR ",'status':{'phase':'Running','initContainerStatuses':["
     "{'name':'setup','restartCount':2,'state':{'terminated':{'exitCode':0,'reason':'Completed'}},"
     "'lastState':{'terminated':{'exitCode':1,'finishedAt':'2023-11-14T22:14:19Z'}}},"
     "{'name':'proxy','started':true,'restartCount':1," RUNNING_READY ","
     "'lastState':{'terminated':{'exitCode':1,'finishedAt':'2023-11-14T22:13:20Z'}}}],"
     "'containerStatuses':[{'name':'web'," RUNNING_READY "}]}}",
     "2/2", "Running", "1 (60s ago)"},
    {"a started sidecar that is not ready yet",
     "{" SIDECAR ",'status':{'phase':'Running',"
     "'initContainerStatuses':[{'name':'setup','state':{'terminated':{'exitCode':0}}},"
     "{'name':'proxy','started':true,'state':{'running':{}},'ready':false}],"
     "'containerStatuses':[{'name':'web'," RUNNING_READY "}]}}",
     "1/2", "Running", "0"},
    {"a sidecar not started yet holds the init phase",
     "{" SIDECAR ",'status':{'phase':'Pending',"
     "'initContainerStatuses':[{'name':'setup','state':{'terminated':{'exitCode':0}}},"
     "{'name':'proxy','started':false,'state':{'waiting':{'reason':'ContainerCreating'}}}],"
     "'containerStatuses':[{'name':'web','state':{'waiting':{'reason':'PodInitializing'}}}]}}",
     "0/2", "Init:ContainerCreating", "0"},
    /* The pod level. */
    {"status.reason replaces the phase",
     "{" ONE_APP ",'status':{'phase':'Pending','reason':'ManifestConflict'}}", "0/1", "ManifestConflict",
     "0"},
    {"a scheduling gate",
     "{" ONE_APP ",'status':{'phase':'Pending','conditions':[{'type':'PodScheduled',"
     "'status':'False','reason':'SchedulingGated'}]}}",
     "0/1", "SchedulingGated", "0"},
    {"a pod being deleted: Terminating",
     "{'metadata':{'deletionTimestamp':'2023-11-14T22:14:00Z'}," ONE_APP
     ",'status':{'phase':'Running','containerStatuses':[{'name':'a'," RUNNING_READY "}]}}",
     "1/1", "Terminating", "0"},
    {"a finished pod being deleted keeps its status",
     "{'metadata':{'deletionTimestamp':"
     "'2023-11-14T22:14:00Z'}," ONE_APP ",'status':{'phase':'Succeeded','containerStatuses':[{'name':'a',"
     "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}",
     "0/1", "Completed", "0"},
    {"a pod of a lost node being deleted: Unknown",
     "{'metadata':{'deletionTimestamp':'2023-11-14T22:14:00Z'}," ONE_APP
     ",'status':{'phase':'Running','reason':'NodeLost'}}",
     "0/1", "Unknown", "0"},
    {"no status at all", "{" ONE_APP "}", "0/1", "", "0"},
    {"fields of the wrong type read as zero values",
     "{'spec':{'containers':'x','initContainers':3},"
     "'status':{'phase':7,'containerStatuses':[{'name':1,'restartCount':'9','state':[]}]}}",
     "0/0", "", "0"},
};

START_TEST(status_ready_restarts_cases) {
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    json_t *pod = load(cases[i].pod);
    k8s_podstat st;
    k8s_podstat_compute(pod, NOW, &st);
    ck_assert_msg(strcmp(st.ready, cases[i].ready) == 0, "%s: READY %s, want %s", cases[i].what, st.ready,
                  cases[i].ready);
    ck_assert_msg(strcmp(st.status, cases[i].status) == 0, "%s: STATUS %s, want %s", cases[i].what, st.status,
                  cases[i].status);
    ck_assert_msg(strcmp(st.restarts, cases[i].restarts) == 0, "%s: RESTARTS %s, want %s", cases[i].what,
                  st.restarts, cases[i].restarts);
    json_decref(pod);
  }
}
END_TEST

START_TEST(age_from_creation_timestamp) {
  json_t *pod = load("{'metadata':{'creationTimestamp':'2023-11-14T18:29:20Z'}}");
  k8s_podstat st;
  k8s_podstat_compute(pod, NOW, &st);
  ck_assert_str_eq(st.age, "3h45m");
  json_decref(pod);
  pod = load("{'metadata':{}}");
  k8s_podstat_compute(pod, NOW, &st);
  ck_assert_str_eq(st.age, "<unknown>"); /* translateTimestampSince of the zero time */
  json_decref(pod);
}
END_TEST

START_TEST(counts_beside_the_text) {
  json_t *pod = load("{" TWO_APPS ",'status':{'phase':'Running','containerStatuses':["
                     "{'name':'a'," RUNNING_READY ",'restartCount':2,"
                     "'lastState':{'terminated':{'finishedAt':'2023-11-14T22:04:20Z'}}},"
                     "{'name':'b','state':{'running':{}},'restartCount':1}]}}");
  k8s_podstat st;
  k8s_podstat_compute(pod, NOW, &st);
  ck_assert_int_eq(st.ready_count, 1);
  ck_assert_int_eq(st.total_count, 2);
  ck_assert_int_eq(st.restart_count, 3);
  ck_assert_int_eq(st.last_restart, 1700000000LL * 1000000000LL - 600LL * 1000000000LL + 60LL * 1000000000LL);
  json_decref(pod);
}
END_TEST

int main(void) {
  Suite *s = suite_create("k8s_podstat");
  TCase *tc = tcase_create("k8s_podstat");
  tcase_add_test(tc, status_ready_restarts_cases);
  tcase_add_test(tc, age_from_creation_timestamp);
  tcase_add_test(tc, counts_beside_the_text);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
