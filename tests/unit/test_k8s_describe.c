/* Unit tests for supervisor/daemon/k8s_describe: `describe pod` text in
 * kubectl 1.32's layout (pkg/describe describePod: one tabwriter with
 * padding 2 over the whole text, its sections and their order, probe and
 * state lines, events) plus podvisor's Source and Back-off lines.  The
 * golden text is the realistic pod of k8s_fixture.h: init container,
 * sidecar, probes, limits, env, mounts, a crash-looping container and
 * events (one of another pod, left out). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "supervisor/daemon/k8s_describe.h"
#include "supervisor/daemon/k8s_pod.h"
#include "tests/testutil.h"
#include "tests/unit/k8s_fixture.h"

#define SEC K8S_FIXTURE_SEC
#define NOW K8S_FIXTURE_NOW

static const char golden[] =
    "Name:         web\n"
    "Namespace:    shop\n"
    "Priority:     0\n"
    "Node:         host1/192.168.1.10\n"
    "Start Time:   Tue, 14 Nov 2023 22:13:20 +0000\n"
    "Labels:       app=web\n"
    "              tier=frontend\n"
    "Annotations:  podvisor.io/backoff-initial: 1s\n"
    "              podvisor.io/source: file:/etc/podvisor/pods/web.yaml\n"
    "              team: storefront\n"
    "Source:       file:/etc/podvisor/pods/web.yaml\n"
    "Status:       Running\n"
    "IP:           \n"
    "IPs:          <none>\n"
    "Init Containers:\n"
    "  migrate:\n"
    "    Container ID:  podvisor://migrate\n"
    "    Image:         shop/app:2.1\n"
    "    Image ID:      \n"
    "    Port:          <none>\n"
    "    Host Port:     <none>\n"
    "    Command:\n"
    "      /app/migrate\n"
    "      --wait\n"
    "    State:          Terminated\n"
    "      Reason:       Completed\n"
    "      Exit Code:    0\n"
    "      Started:      Tue, 14 Nov 2023 22:13:21 +0000\n"
    "      Finished:     Tue, 14 Nov 2023 22:13:23 +0000\n"
    "    Ready:          False\n"
    "    Restart Count:  0\n"
    "    Environment:    <none>\n"
    "    Mounts:         <none>\n"
    "  proxy:\n"
    "    Container ID:   podvisor://proxy\n"
    "    Image:          envoy:1.29\n"
    "    Image ID:       \n"
    "    Port:           8080/TCP\n"
    "    Host Port:      0/TCP\n"
    "    State:          Running\n"
    "      Started:      Tue, 14 Nov 2023 22:13:24 +0000\n"
    "    Ready:          True\n"
    "    Restart Count:  0\n"
    "    Readiness:      tcp-socket :8080 delay=0s timeout=1s period=5s #success=1 #failure=3\n"
    "    Environment:    <none>\n"
    "    Mounts:         <none>\n"
    "Containers:\n"
    "  app:\n"
    "    Container ID:  podvisor://app\n"
    "    Image:         shop/app:2.1\n"
    "    Image ID:      \n"
    "    Ports:         9000/TCP, 9090/UDP\n"
    "    Host Ports:    0/TCP, 0/UDP\n"
    "    Args:\n"
    "      --port\n"
    "      9000\n"
    "      --log-format=json\n"
    "    State:          Running\n"
    "      Started:      Tue, 14 Nov 2023 22:13:25 +0000\n"
    "    Ready:          True\n"
    "    Restart Count:  0\n"
    "    Limits:\n"
    "      cpu:     500m\n"
    "      memory:  128Mi\n"
    "    Requests:\n"
    "      cpu:      250m\n"
    "      memory:   64Mi\n"
    "    Liveness:   http-get http://:9000/healthz delay=5s timeout=1s period=10s #success=1 #failure=3\n"
    "    Readiness:  exec [cat /tmp/ready] delay=0s timeout=1s period=10s #success=1 #failure=3\n"
    "    Startup:    http-get http://:9000/started delay=0s timeout=1s period=10s #success=1 #failure=30\n"
    "    Environment:\n"
    "      MODE:    production\n"
    "      BANNER:  line one\n"
    "               line two\n"
    "    Mounts:\n"
    "      /cache from cache (ro)\n"
    "      /config from data (rw,path=\"conf\")\n"
    "      /data from data (rw)\n"
    "  worker:\n"
    "    Container ID:  podvisor://worker\n"
    "    Image:         shop/worker:2.1\n"
    "    Image ID:      \n"
    "    Port:          <none>\n"
    "    Host Port:     <none>\n"
    "    Command:\n"
    "      /bin/worker\n"
    "    State:          Waiting\n"
    "      Reason:       CrashLoopBackOff\n"
    "      Back-off:     restart in 8s\n"
    "    Last State:     Terminated\n"
    "      Reason:       OOMKilled\n"
    "      Exit Code:    137\n"
    "      Signal:       9\n"
    "      Started:      Tue, 14 Nov 2023 22:21:58 +0000\n"
    "      Finished:     Tue, 14 Nov 2023 22:22:48 +0000\n"
    "    Ready:          False\n"
    "    Restart Count:  5\n"
    "    Limits:\n"
    "      memory:  64Mi\n"
    "    Requests:\n"
    "      memory:     64Mi\n"
    "    Environment:  <none>\n"
    "    Mounts:       <none>\n"
    "Conditions:\n"
    "  Type              Status\n"
    "  PodScheduled      True \n"
    "  Initialized       True \n"
    "  ContainersReady   False \n"
    "  Ready             False \n"
    "Volumes:\n"
    "  data:\n"
    "    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)\n"
    "    Medium:     \n"
    "    SizeLimit:  <unset>\n"
    "  cache:\n"
    "    Type:          HostPath (bare host directory volume)\n"
    "    Path:          /var/cache/shop\n"
    "    HostPathType:  DirectoryOrCreate\n"
    "QoS Class:         Burstable\n"
    "Node-Selectors:    <none>\n"
    "Tolerations:       <none>\n"
    "Events:\n"
    "  Type     Reason     Age                  From      Message\n"
    "  ----     ------     ----                 ----      -------\n"
    "  Normal   Scheduled  10m                  podvisor  Successfully assigned shop/web to host1 (from "
    "file:/etc/podvisor/pods/web.yaml)\n"
    "  Normal   Started    9m59s                podvisor  Started container migrate\n"
    "  Normal   Started    9m56s                podvisor  Started container proxy\n"
    "  Normal   Started    82s (x6 over 9m42s)  podvisor  Started container worker\n"
    "  Warning  OOMKilled  32s                  podvisor  Container worker was killed: out of memory\n"
    "  Warning  BackOff    32s (x5 over 8m52s)  podvisor  Back-off restarting failed container worker\n";

START_TEST(describe_golden_pod) {
  json_t *pod = k8s_fixture_pod_object(), *ev = k8s_fixture_events();
  pv_err err;
  char *s = k8s_describe_pod(pod, ev, NOW, NULL, &err);
  ck_assert_msg(s != NULL, "%s", err.msg);
  if (strcmp(s, golden) != 0) {
    /* the first line that differs, for a readable failure */
    const char *a = s, *b = golden;
    while (*a && *a == *b)
      a++, b++;
    while (a > s && a[-1] != '\n')
      a--, b--;
    ck_abort_msg("describe differs from line\n got [%.*s]\nwant [%.*s]", (int)strcspn(a, "\n"), a,
                 (int)strcspn(b, "\n"), b);
  }
  free(s);
  json_decref(ev);
  json_decref(pod);
}
END_TEST

/* The sections after the containers, and what a kubectl user sees for a
 * pod the daemon has not started: no Events section without events. */
static char *describe(const char *squoted, const json_t *events) {
  json_t *pod = k8s_fixture_json(squoted);
  char *s = k8s_describe_pod(pod, events, NOW, NULL, NULL);
  ck_assert_ptr_nonnull(s);
  json_decref(pod);
  return s;
}

START_TEST(describe_pending_pod_with_reason) {
  char *s =
      describe("{'metadata':{'name':'a','namespace':'default'},'spec':{'containers':[{'name':'c',"
               "'image':'busybox','resources':{}}]},'status':{'phase':'Pending','reason':'ManifestConflict',"
               "'message':'also declared in b.yaml','qosClass':'BestEffort'}}",
               NULL);
  ck_assert_str_eq(s, "Name:         a\n"
                      "Namespace:    default\n"
                      "Node:         <none>\n"
                      "Labels:       <none>\n"
                      "Annotations:  <none>\n"
                      "Status:       Pending\n"
                      "Reason:       ManifestConflict\n"
                      "Message:      also declared in b.yaml\n"
                      "IP:           \n"
                      "IPs:          <none>\n"
                      "Containers:\n"
                      "  c:\n"
                      "    Image:        busybox\n"
                      "    Port:         <none>\n"
                      "    Host Port:    <none>\n"
                      "    Environment:  <none>\n"
                      "    Mounts:       <none>\n"
                      "Volumes:          <none>\n"
                      "QoS Class:        BestEffort\n"
                      "Node-Selectors:   <none>\n"
                      "Tolerations:      <none>\n");
  free(s);
}
END_TEST

START_TEST(describe_terminating_and_start_limit) {
  json_t *none = json_array();
  char *s = describe(
      "{'metadata':{'name':'a','namespace':'ns','uid':'u1','deletionTimestamp':'2023-11-14T22:23:15Z',"
      "'deletionGracePeriodSeconds':30},'spec':{'containers':[{'name':'c','image':'x'}]},"
      "'status':{'phase':'Running','podIPs':[{'ip':'10.0.0.5'}],'podIP':'10.0.0.5',"
      "'containerStatuses':[{'name':'c','restartCount':10,'state':{'waiting':{'reason':"
      "'StartLimitReached','message':'10 starts in 5m0s: left down until a restart'}},"
      "'lastState':{'terminated':{'exitCode':128,'reason':'StartError','message':'no image'}}}]}}",
      none);
  ck_assert_str_eq(s, "Name:                      a\n"
                      "Namespace:                 ns\n"
                      "Node:                      <none>\n"
                      "Labels:                    <none>\n"
                      "Annotations:               <none>\n"
                      "Status:                    Terminating (lasts 5s)\n"
                      "Termination Grace Period:  30s\n"
                      "IP:                        10.0.0.5\n"
                      "IPs:\n"
                      "  IP:  10.0.0.5\n"
                      "Containers:\n"
                      "  c:\n"
                      "    Container ID:   \n"
                      "    Image:          x\n"
                      "    Image ID:       \n"
                      "    Port:           <none>\n"
                      "    Host Port:      <none>\n"
                      "    State:          Waiting\n"
                      "      Reason:       StartLimitReached\n"
                      "      Message:      10 starts in 5m0s: left down until a restart\n"
                      "    Last State:     Terminated\n"
                      "      Reason:       StartError\n"
                      "      Message:      no image\n"
                      "      Exit Code:    128\n"
                      "      Started:      Mon, 01 Jan 0001 00:00:00 +0000\n"
                      "      Finished:     Mon, 01 Jan 0001 00:00:00 +0000\n"
                      "    Ready:          False\n"
                      "    Restart Count:  10\n"
                      "    Environment:    <none>\n"
                      "    Mounts:         <none>\n"
                      "Volumes:            <none>\n"
                      "QoS Class:          BestEffort\n"
                      "Node-Selectors:     <none>\n"
                      "Tolerations:        <none>\n"
                      "Events:             <none>\n");
  free(s);
  json_decref(none);
}
END_TEST

/* A container whose log writes fail (a full disk): its dropped bytes and
 * since when, then when they resumed; the pod's LogsWritable condition is
 * listed with the others. */
START_TEST(describe_log_writes) {
  const char *pod =
      "{'metadata':{'name':'a','namespace':'ns'},'spec':{'containers':[{'name':'c','image':'x'}]},"
      "'status':{'phase':'Running','conditions':[{'type':'Ready','status':'True'},"
      "{'type':'podvisor.io/LogsWritable','status':'False','reason':'LogWritesFailing'}],"
      "'containerStatuses':[{'name':'c','restartCount':0,'state':{'running':{'startedAt':"
      "'2023-11-14T22:13:20Z'}},'podvisor':{'logDroppedBytes':123456,'logError':'No space left on device',"
      "'logFailingSince':'2023-11-14T22:13:20Z'}}]}}";
  char *s = describe(pod, NULL);
  ck_assert_msg(strstr(s, "    Restart Count:      0\n    Log Dropped Bytes:  123456\n"
                          "    Log Writes:         failing: No space left on device since Tue, 14 Nov 2023 "
                          "22:13:20 +0000\n") != NULL,
                "%s", s);
  ck_assert_msg(strstr(s, "  podvisor.io/LogsWritable   False \n") != NULL, "%s", s);
  free(s);
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", pod);
  char *at = strstr(buf, "'logError'");
  snprintf(at, sizeof buf - (size_t)(at - buf), "'logResumedAt':'2023-11-14T22:14:00Z'}}]}}");
  s = describe(buf, NULL);
  ck_assert_msg(strstr(s, "    Log Writes:         resumed Tue, 14 Nov 2023 22:14:00 +0000\n") != NULL, "%s", s);
  free(s);
  s = describe("{'metadata':{'name':'a','namespace':'ns'},'spec':{'containers':[{'name':'c','image':'x'}]},"
               "'status':{'phase':'Running','containerStatuses':[{'name':'c','podvisor':{}}]}}",
               NULL);
  ck_assert_ptr_null(strstr(s, "Log "));
  free(s);
}
END_TEST

START_TEST(describe_annotations_gates_tolerations) {
  char long_value[200];
  memset(long_value, 'v', 150);
  long_value[150] = '\0';
  char doc[2048];
  snprintf(doc, sizeof doc,
           "{'metadata':{'name':'a','namespace':'ns','annotations':{'long':'%s','multi':'one\\ntwo\\n',"
           "'esc':'\\u001b[1m'}},'spec':{'containers':[],'readinessGates':[{'conditionType':'x.io/lb'},"
           "{'conditionType':'x.io/dns'}],'tolerations':[{'key':'b','operator':'Exists','effect':'NoExecute',"
           "'tolerationSeconds':300},{'key':'a','value':'v','effect':'NoSchedule'},{'operator':'Exists'}]},"
           "'status':{'conditions':[{'type':'x.io/dns','status':'True'}]}}",
           long_value);
  char *s = describe(doc, NULL);
  char want[4096];
  snprintf(want, sizeof want,
           "Name:         a\n"
           "Namespace:    ns\n"
           "Node:         <none>\n"
           "Labels:       <none>\n"
           "Annotations:  esc: ^[[1m\n"
           "              long:\n"
           "                %.138s...\n"
           "              multi:\n"
           "                one\n"
           "                two\n"
           "Status:       \n"
           "IP:           \n"
           "IPs:          <none>\n"
           "Containers: <none>\n"
           "Readiness Gates:\n"
           "  Type       Status\n"
           "  x.io/lb    <none> \n"
           "  x.io/dns   True \n"
           "Conditions:\n"
           "  Type           Status\n" /* one block with the lines below, which have tabs */
           "  x.io/dns       True \n"
           "Volumes:         <none>\n"
           "QoS Class:       BestEffort\n"
           "Node-Selectors:  <none>\n"
           "Tolerations:     op=Exists\n"
           "                 a=v:NoSchedule\n"
           "                 b:NoExecute op=Exists for 300s\n",
           long_value);
  ck_assert_str_eq(s, want);
  free(s);
}
END_TEST

START_TEST(describe_local_time_and_errors) {
  setenv("TZ", "CET-1", 1);
  tzset();
  json_t *pod = k8s_fixture_json("{'metadata':{'name':'a'},'status':{'startTime':'2023-11-14T22:13:20Z'}}");
  char *s = k8s_describe_pod(pod, NULL, NOW, &(k8s_describe_opts){.local_time = true}, NULL);
  ck_assert_ptr_nonnull(strstr(s, "Start Time:   Tue, 14 Nov 2023 23:13:20 +0100\n"));
  free(s);
  s = k8s_describe_pod(pod, NULL, NOW, NULL, NULL);
  ck_assert_ptr_nonnull(strstr(s, "Start Time:   Tue, 14 Nov 2023 22:13:20 +0000\n"));
  free(s);
  unsetenv("TZ");
  tzset();
  json_decref(pod);
  pv_err err;
  ck_assert_ptr_null(k8s_describe_pod(NULL, NULL, NOW, NULL, &err));
  ck_assert_int_eq(err.code, EINVAL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("k8s_describe");
  TCase *tc = tcase_create("k8s_describe");
  tcase_add_test(tc, describe_golden_pod);
  tcase_add_test(tc, describe_pending_pod_with_reason);
  tcase_add_test(tc, describe_terminating_and_start_limit);
  tcase_add_test(tc, describe_annotations_gates_tolerations);
  tcase_add_test(tc, describe_log_writes);
  tcase_add_test(tc, describe_local_time_and_errors);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
