/* Unit tests for supervisor/daemon/httpd's listeners: the unix socket's
 * mode, a stale socket file replaced and any other file refused, paths
 * longer than sun_path, TCP addresses, and a closed server with no
 * connections. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "supervisor/daemon/httpd.h"
#include "tests/testutil.h"

static int closed_calls;

static void on_closed(void *ctx) {
  (void)ctx;
  closed_calls++;
}

static void handler(void *ctx, httpd_req *req) {
  (void)ctx;
  httpd_reply_status(req, 404, NULL, "nothing here");
}

/* Closes the server and runs the loop to its clean end. */
static void finish(uv_loop_t *loop, httpd *h) {
  closed_calls = 0;
  httpd_close(h, on_closed, NULL);
  ck_assert_int_eq(uv_run(loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed_calls, 1);
  ck_assert_int_eq(uv_loop_close(loop), 0);
}

/* A connect that the kernel completes from the listen backlog. */
static int connect_path(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
  int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
  close(fd);
  return rc;
}

START_TEST(unix_socket_is_0600_and_replaces_a_stale_one) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *dir = testutil_tmpdir("pv-httpd-listen");
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/api.sock", dir);
  /* A stale socket file: bound once, its owner gone. */
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  ck_assert_int_lt(strlen(path), sizeof sa.sun_path);
  memcpy(sa.sun_path, path, strlen(path));
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  close(fd);
  pv_err err = {0};
  httpd *h = httpd_new(&loop, NULL, handler, NULL, &err);
  ck_assert_msg(httpd_listen_unix(h, path, &(httpd_listen_opts){.trusted = true}, &err) == 0, "%s", err.msg);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert(S_ISSOCK(st.st_mode));
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(connect_path(path), 0);
  /* Anything but a socket at the path is left alone. */
  char file[PATH_MAX];
  snprintf(file, sizeof file, "%s/not-a-socket", dir);
  close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  ck_assert_int_eq(httpd_listen_unix(h, file, NULL, &err), -1);
  ck_assert_int_eq(err.code, EEXIST);
  ck_assert_ptr_nonnull(strstr(err.msg, file));
  ck_assert_int_eq(access(file, F_OK), 0);
  finish(&loop, h);
  ck_assert_int_ne(access(path, F_OK), 0); /* unlinked at close */
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

START_TEST(unix_socket_with_a_path_longer_than_sun_path) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char *dir = testutil_tmpdir("pv-httpd-listen");
  char deep[PATH_MAX];
  snprintf(deep, sizeof deep, "%s/%0120d", dir, 0);
  ck_assert_int_eq(mkdir(deep, 0700), 0);
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/podvisor.sock", deep);
  ck_assert_int_gt(strlen(path), sizeof((struct sockaddr_un *)0)->sun_path);
  pv_err err = {0};
  httpd *h = httpd_new(&loop, NULL, handler, NULL, &err);
  ck_assert_msg(httpd_listen_unix(h, path, NULL, &err) == 0, "%s", err.msg);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  /* A client reaches it through its directory's fd too. */
  int dfd = open(deep, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char via[64];
  snprintf(via, sizeof via, "/proc/self/fd/%d/podvisor.sock", dfd);
  ck_assert_int_eq(connect_path(via), 0);
  close(dfd);
  finish(&loop, h);
  ck_assert_int_ne(access(path, F_OK), 0);
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

static int tcp_port_of(uv_loop_t *loop, httpd *h, const char *addr, int *port, pv_err *err) {
  (void)loop;
  *port = -1;
  return httpd_listen_tcp(h, addr, NULL, port, err);
}

START_TEST(tcp_addresses) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  pv_err err = {0};
  httpd *h = httpd_new(&loop, NULL, handler, NULL, &err);
  static const char *const good[] = {"127.0.0.1:0", ":0", "0", "localhost:0"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    int port;
    ck_assert_msg(tcp_port_of(&loop, h, good[i], &port, &err) == 0, "%s: %s", good[i], err.msg);
    ck_assert_int_gt(port, 0);
  }
  int port;
  if (tcp_port_of(&loop, h, "[::1]:0", &port, &err) == 0)
    ck_assert_int_gt(port, 0);
  else
    ck_assert_int_eq(err.code, EADDRNOTAVAIL); /* a host without IPv6 */
  static const char *const bad[] = {"1.2.3:80", "127.0.0.1:99999", "127.0.0.1:x",
                                    "[::1]80",  "example.com:80",  "127.0.0.1:"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(tcp_port_of(&loop, h, bad[i], &port, &err) == -1, "%s accepted", bad[i]);
    ck_assert_int_eq(err.code, EINVAL);
    ck_assert_msg(strstr(err.msg, bad[i]) != NULL, "%s", err.msg);
  }
  /* A port in use is an error naming the address. */
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof sin;
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
  ck_assert_int_eq(listen(fd, 1), 0);
  getsockname(fd, (struct sockaddr *)&sin, &sl);
  char busy[32];
  snprintf(busy, sizeof busy, "127.0.0.1:%d", ntohs(sin.sin_port));
  ck_assert_int_eq(tcp_port_of(&loop, h, busy, &port, &err), -1);
  ck_assert_int_eq(err.code, EADDRINUSE);
  ck_assert_ptr_nonnull(strstr(err.msg, busy));
  close(fd);
  finish(&loop, h);
}
END_TEST

static void own_sigpipe(int sig) {
  (void)sig;
}

/* A client gone in the middle of a write raises SIGPIPE (libuv writes with
 * write(2)); its default action would end the daemon. */
START_TEST(sigpipe_cannot_end_the_process) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  signal(SIGPIPE, SIG_DFL);
  httpd *h = httpd_new(&loop, NULL, handler, NULL, NULL);
  struct sigaction sa;
  ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
  ck_assert_ptr_eq(sa.sa_handler, SIG_IGN);
  finish(&loop, h);
  /* A handler of the caller's own stays. */
  uv_loop_init(&loop);
  signal(SIGPIPE, own_sigpipe);
  h = httpd_new(&loop, NULL, handler, NULL, NULL);
  ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
  ck_assert_ptr_eq(sa.sa_handler, own_sigpipe);
  finish(&loop, h);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("httpd_listen");
  TCase *tc = tcase_create("listen");
  tcase_add_test(tc, unix_socket_is_0600_and_replaces_a_stale_one);
  tcase_add_test(tc, unix_socket_with_a_path_longer_than_sun_path);
  tcase_add_test(tc, tcp_addresses);
  tcase_add_test(tc, sigpipe_cannot_end_the_process);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
