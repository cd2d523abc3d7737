/* An unmodified kubectl against the objects of supervisor/daemon/k8s_*:
 * a loopback HTTP server in this test serves the discovery documents, the
 * Table, Pod, PodList and EventList that k8s_table, k8s_pod and k8s_event
 * build, and a watch stream of k8s_meta lines; kubectl's get, get -o wide,
 * get -A, get -w, get -o yaml, get -o name and describe must print exactly
 * what k8s_print, k8s_yaml and k8s_describe print for the same objects
 * (describe less podvisor's own Source and Back-off lines).  kubectl is
 * the one on PATH, or $PODVISOR_KUBECTL; without one the suite is skipped
 * (exit 77).  Nothing leaves 127.0.0.1; kubectl's cache goes to a
 * temporary directory. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/daemon/k8s_buf.h"
#include "supervisor/daemon/k8s_describe.h"
#include "supervisor/daemon/k8s_meta.h"
#include "supervisor/daemon/k8s_pod.h"
#include "supervisor/daemon/k8s_print.h"
#include "supervisor/daemon/k8s_table.h"
#include "supervisor/daemon/k8s_yaml.h"
#include "tests/testutil.h"
#include "tests/unit/k8s_fixture.h"

static const char *kubectl;
static int64_t now;
static json_t *pod, *list, *events, *other;

static const char discovery_api[] =
    "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":"
    "[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1\"}]}";
static const char discovery_apis[] = "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[]}";
static const char discovery_v1[] =
    "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
    "{\"name\":\"pods\",\"singularName\":\"pod\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\","
    "\"list\","
    "\"watch\"],\"shortNames\":[\"po\"]},{\"name\":\"events\",\"singularName\":\"event\",\"namespaced\":true,"
    "\"kind\":\"Event\",\"verbs\":[\"get\",\"list\",\"watch\"],\"shortNames\":[\"ev\"]}]}";
static const char version[] = "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.0-podvisor\"}";

/* ---- the server -------------------------------------------------------------- */

static void send_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    s += w, n -= (size_t)w;
  }
}

static void reply(int fd, int code, const char *body) {
  char head[256];
  int n = snprintf(
      head, sizeof head,
      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
      code, code == 200 ? "OK" : "Not Found", strlen(body));
  send_all(fd, head, (size_t)n);
  send_all(fd, body, strlen(body));
}

static void reply_json(int fd, json_t *j) {
  char *s = json_dumps(j, JSON_COMPACT);
  reply(fd, 200, s);
  free(s);
  json_decref(j);
}

/* A watch: two events (Tables without column definitions, as
 * kube-apiserver sends after the first), then the end of the stream. */
static void reply_watch(int fd) {
  static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
  send_all(fd, head, strlen(head));
  json_t *a = k8s_table_pods(pod, now, true, NULL), *b = k8s_table_pods(other, now, true, NULL);
  char *l1 = k8s_meta_watch_line("MODIFIED", a, NULL), *l2 = k8s_meta_watch_line("ADDED", b, NULL);
  send_all(fd, l1, strlen(l1));
  send_all(fd, l2, strlen(l2));
  free(l1);
  free(l2);
  json_decref(a);
  json_decref(b);
}

static void route(int fd, const char *path, bool table) {
  if (strncmp(path, "/version", 8) == 0)
    reply(fd, 200, version);
  else if (strncmp(path, "/api?", 5) == 0 || strcmp(path, "/api") == 0)
    reply(fd, 200, discovery_api);
  else if (strncmp(path, "/apis", 5) == 0)
    reply(fd, 200, discovery_apis);
  else if (strncmp(path, "/api/v1?", 8) == 0 || strcmp(path, "/api/v1") == 0)
    reply(fd, 200, discovery_v1);
  else if (strncmp(path, "/api/v1/namespaces/shop/pods?", 29) == 0 && strstr(path, "watch=") != NULL)
    reply_watch(fd);
  else if (strncmp(path, "/api/v1/namespaces/shop/pods?", 29) == 0 || strncmp(path, "/api/v1/pods?", 13) == 0)
    reply_json(fd, table ? k8s_table_pods(list, now, false, NULL) : json_incref(list));
  else if (strncmp(path, "/api/v1/namespaces/shop/pods/web", 32) == 0)
    reply_json(fd, table ? k8s_table_pods(pod, now, false, NULL) : json_incref(pod));
  else if (strncmp(path, "/api/v1/namespaces/shop/events?", 31) == 0 &&
           strstr(path, "involvedObject.name%3Dweb") != NULL)
    reply_json(fd, json_incref(events));
  else
    reply(fd, 404,
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
          "\"reason\":\"NotFound\",\"code\":404}");
}

static void serve_one(int fd) {
  char req[16384];
  size_t n = 0;
  while (n + 1 < sizeof req) {
    ssize_t r = read(fd, req + n, sizeof req - 1 - n);
    if (r <= 0)
      return;
    n += (size_t)r;
    req[n] = '\0';
    if (strstr(req, "\r\n\r\n") != NULL)
      break;
  }
  char path[4096];
  if (sscanf(req, "GET %4095s", path) != 1)
    return;
  const char *accept = strcasestr(req, "\r\nAccept:");
  bool table = accept != NULL && strstr(accept, "as=Table") != NULL &&
               strstr(accept, "as=Table") < strstr(accept + 2, "\r\n");
  route(fd, path, table);
}

static void *server(void *arg) {
  int ls = *(int *)arg;
  for (;;) {
    int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR)
        continue;
      return NULL;
    }
    serve_one(fd);
    close(fd);
  }
}

static int listen_loopback(int *port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  ck_assert_int_ge(s, 0);
  ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(s, 16), 0);
  ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return s;
}

/* ---- kubectl ----------------------------------------------------------------- */

static int port;
static char *cache;

/* Builds the objects and starts the server, once per test process. */
static void start(void) {
  static bool started;
  if (started)
    return;
  started = true;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  now = (int64_t)ts.tv_sec * K8S_FIXTURE_SEC;
  pod = k8s_fixture_pod_object();
  other =
      k8s_fixture_json("{'kind':'Pod','apiVersion':'v1','metadata':{'name':'backup-28391','namespace':'shop',"
                       "'uid':'u2','resourceVersion':'43','creationTimestamp':'2023-11-12T22:13:20Z'},"
                       "'spec':{'containers':[{'name':'b','image':'x'}]},'status':{'phase':'Succeeded',"
                       "'podIPs':[{'ip':'10.88.0.7'}],'containerStatuses':[{'name':'b','ready':false,"
                       "'restartCount':0,'image':'x','imageID':'','state':{'terminated':{'exitCode':0,"
                       "'reason':'Completed'}}}]}}");
  json_t *items = json_pack("[O,O]", pod, other);
  list = k8s_pod_list(items, "77", NULL);
  /* the events the field selector selects: the fixture's, less the other pod's */
  events = k8s_fixture_events();
  json_array_remove(json_object_get(events, "items"), json_array_size(json_object_get(events, "items")) - 1);
  cache = testutil_tmpdir("k8s-kubectl");
  int *ls = malloc(sizeof *ls);
  *ls = listen_loopback(&port);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, server, ls), 0);
  pthread_detach(t);
}

/* kubectl's discovery cache, removed at the end of each test. */
static void finish(void) {
  testutil_rmtree(cache);
  free(cache);
  cache = NULL; /* the next test (in the same process without fork) makes its own */
}

static char *run(const char *args) {
  char cmd[8192];
  if (cache == NULL)
    cache = testutil_tmpdir("k8s-kubectl");
  snprintf(cmd, sizeof cmd,
           "TZ=UTC KUBECONFIG=/dev/null timeout 30 %s --server=http://127.0.0.1:%d --cache-dir=%s %s",
           kubectl, port, cache, args);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  k8s_buf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
    k8s_buf_add(&b, chunk, n);
  ck_assert_msg(pclose(p) == 0, "kubectl %s failed:\n%s", args, b.data ? b.data : "");
  return k8s_buf_steal(&b);
}

/* Asserts equal texts, naming the first line that differs. */
static void same(const char *what, char *ours, char *theirs) {
  const char *a = ours, *b = theirs;
  while (*a && *a == *b)
    a++, b++;
  while (a > ours && a[-1] != '\n')
    a--, b--;
  ck_assert_msg(strcmp(ours, theirs) == 0, "%s: from line\npodvisor [%.*s]\n kubectl [%.*s]", what,
                (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
  free(ours);
  free(theirs);
}

START_TEST(kubectl_get_prints_the_same) {
  start();
  json_t *t = k8s_table_pods(list, now, false, NULL);
  same("get pods", k8s_print_table(t, &(k8s_print_opts){0}, NULL), run("get pods -n shop"));
  same("get pods -o wide", k8s_print_table(t, &(k8s_print_opts){.wide = true}, NULL),
       run("get pods -n shop -o wide"));
  same("get pods -A", k8s_print_table(t, &(k8s_print_opts){.with_namespace = true}, NULL),
       run("get pods -A"));
  same("get pods -o name", k8s_print_names(list, NULL), run("get pods -n shop -o name"));
  same("get pod -o yaml", k8s_yaml_dump(pod, NULL), run("get pod web -n shop -o yaml"));
  json_decref(t);
  finish();
}
END_TEST

START_TEST(kubectl_get_watch_prints_the_same) {
  start();
  json_t *t = k8s_table_pods(list, now, false, NULL), *a = k8s_table_pods(pod, now, true, NULL);
  json_t *b = k8s_table_pods(other, now, true, NULL);
  k8s_printer pr;
  k8s_printer_init(&pr, &(k8s_print_opts){0});
  k8s_buf out = {0};
  json_t *tables[] = {t, a, b};
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(k8s_printer_table(&pr, tables[i], NULL), 0);
    char *s = k8s_printer_flush(&pr, NULL);
    k8s_buf_puts(&out, s);
    free(s);
  }
  same("get pods -w", k8s_buf_steal(&out), run("get pods -n shop -w"));
  k8s_printer_free(&pr);
  json_decref(t);
  json_decref(a);
  json_decref(b);
  finish();
}
END_TEST

/* Our text without podvisor's own lines, which kubectl cannot print. */
static char *without_podvisor_lines(char *s) {
  char *w = s;
  for (char *line = s; *line;) {
    size_t n = strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n');
    const char *t = line + strspn(line, " ");
    if (strncmp(t, "Source:", 7) != 0 && strncmp(t, "Back-off:", 9) != 0) {
      memmove(w, line, n);
      w += n;
    }
    line += n;
  }
  *w = '\0';
  return s;
}

START_TEST(kubectl_describe_prints_the_same) {
  start();
  char *ours = k8s_describe_pod(pod, events, now, NULL, NULL);
  ck_assert_ptr_nonnull(strstr(ours, "Source:"));
  same("describe pod", without_podvisor_lines(ours), run("describe pod web -n shop"));
  finish();
}
END_TEST

static const char *find_kubectl(void) {
  const char *k = getenv("PODVISOR_KUBECTL"), *path = getenv("PATH");
  if (k != NULL && *k)
    return k;
  static char buf[4096];
  for (const char *p = path; p != NULL && *p;) {
    size_t n = strcspn(p, ":");
    snprintf(buf, sizeof buf, "%.*s/kubectl", (int)n, p);
    if (access(buf, X_OK) == 0)
      return buf;
    p += n + (p[n] == ':');
  }
  return NULL;
}

int main(void) {
  kubectl = find_kubectl();
  if (kubectl == NULL) {
    fprintf(stderr, "SKIPPING k8s_kubectl: no kubectl on PATH (set PODVISOR_KUBECTL to use one)\n");
    return 77;
  }
  Suite *s = suite_create("k8s_kubectl");
  TCase *tc = tcase_create("k8s_kubectl");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, kubectl_get_prints_the_same);
  tcase_add_test(tc, kubectl_get_watch_prints_the_same);
  tcase_add_test(tc, kubectl_describe_prints_the_same);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
