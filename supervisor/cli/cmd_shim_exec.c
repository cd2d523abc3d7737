/*
 * cmd_shim_exec.c - `podvisor shim ctl SOCKET exec [-i] [-t] NAME -- CMD...`:
 * runs CMD in a container of a running pod through its shim (the exec op
 * of ctlproto.h) and exits with CMD's exit code.
 *
 * Without -t, CMD writes straight to this command's stdout and stderr (the
 * descriptors are passed to the shim) and reads its stdin with -i (else
 * /dev/null).  With -t the shim gives CMD a terminal and hands its master
 * back; this command then puts its own terminal in raw mode, copies stdin
 * to the master (with -i) and the master to stdout, passes window sizes on
 * (SIGWINCH -> TIOCSWINSZ), and restores the terminal at the end: all of
 * that is exec_term.h, which `podvisor exec` shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "supervisor/cli/cli.h"
#include "supervisor/cli/exec_term.h"
#include "supervisor/podctl/podctl.h"

typedef struct exec_session {
  uv_loop_t loop;
  podctl_conn *conn;
  exec_term term;
  int exit_code; /* -1 until the exit event */
  bool failed;
} exec_session;

static void on_msg(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)c;
  exec_session *x = ctx;
  if (m == NULL) {
    /* The shim closes the connection after the exit event: the terminal
     * may still hold CMD's last output (exec_term_exited lingers). */
    if (x->exit_code >= 0)
      return;
    if (!x->failed) {
      fprintf(stderr, "podvisor shim ctl exec: %s\n", err->code != 0 ? pv_err_str(err) : "no exit status");
      x->failed = true;
    }
    exec_term_stop(&x->term);
    return;
  }
  if (m->event != NULL && strcmp(m->event, "exit") == 0) {
    x->exit_code = (int)m->exit_code;
    exec_term_exited(&x->term);
    return;
  }
  if (!m->ok) {
    fprintf(stderr, "podvisor shim ctl exec: %s\n", m->message);
    x->failed = true;
    if (fd >= 0)
      close(fd);
    return;
  }
  if (fd >= 0)
    exec_term_start(&x->term, fd);
}

int cmd_shim_exec(const char *sock, int argc, char **argv) {
  bool in = false, tty = false;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "-i") == 0)
      in = true;
    else if (strcmp(argv[i], "-t") == 0)
      tty = true;
    else if (strcmp(argv[i], "-it") == 0 || strcmp(argv[i], "-ti") == 0)
      in = tty = true;
    else
      break;
  }
  if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0) {
    fprintf(stderr, "usage: podvisor shim ctl SOCKET exec [-i] [-t] NAME -- CMD [ARG...]\n");
    return 2;
  }
  exec_session x = {.exit_code = -1};
  uv_loop_init(&x.loop);
  exec_term_init(&x.term, &x.loop, STDIN_FILENO, STDOUT_FILENO, in);
  ctlproto_request req = {.op = CTLPROTO_OP_EXEC,
                          .container = argv[i],
                          .argv = argv + i + 2,
                          .tty = tty,
                          .has_stdin = in && !tty,
                          .grace_seconds = -1};
  if (tty)
    exec_term_size(STDIN_FILENO, &req.rows, &req.cols);
  int fds[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  size_t nfds = tty ? 0 : in ? 3 : 2;
  pv_err err;
  pv_err_clear(&err);
  if (podctl_conn_open(&x.loop, sock, &x.conn, &err) < 0 ||
      podctl_conn_request(x.conn, &req, in ? fds : fds + 1, nfds, on_msg, &x, &err) < 0) {
    fprintf(stderr, "podvisor shim ctl exec: %s\n", pv_err_str(&err));
    x.failed = true;
  } else {
    /* Until the exit event (or the failure) came and the terminal is drained. */
    while ((x.exit_code < 0 && !x.failed) || exec_term_busy(&x.term))
      if (uv_run(&x.loop, UV_RUN_ONCE) == 0)
        break;
  }
  exec_term_restore(&x.term);
  podctl_conn_close(x.conn);
  exec_term_stop(&x.term);
  uv_run(&x.loop, UV_RUN_DEFAULT);
  uv_loop_close(&x.loop);
  exec_term_free(&x.term);
  return x.failed ? 125 : x.exit_code;
}
