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
 * (SIGWINCH -> TIOCSWINSZ), and restores the terminal at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include "supervisor/cli/cli.h"
#include "supervisor/podctl/podctl.h"

#define LINGER_MS 500

typedef struct exec_session {
  uv_loop_t loop;
  podctl_conn *conn;
  int master; /* -t: the terminal's master, -1 otherwise */
  uv_poll_t master_poll, stdin_poll;
  bool master_open, stdin_open, winch_open, forward_stdin;
  uv_signal_t winch;
  uv_timer_t linger; /* after the exit: the terminal's last output */
  bool linger_open;
  int exit_code; /* -1 until the exit event */
  bool failed;
  struct termios saved;
  bool raw;
} exec_session;

static void copy_window_size(exec_session *x) {
  struct winsize ws;
  if (x->master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    (void)ioctl(x->master, TIOCSWINSZ, &ws);
}

static void on_winch(uv_signal_t *h, int sig) {
  (void)sig;
  copy_window_size(h->data);
}

static void write_all(int fd, const char *b, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    b += w;
    n -= (size_t)w;
  }
}

/* Copies what the master has to stdout; false at its end (EIO: the
 * terminal's last process is gone). */
static bool drain_master(exec_session *x) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(x->master, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return true;
    if (n <= 0)
      return false;
    write_all(STDOUT_FILENO, buf, (size_t)n);
  }
}

static void stop_terminal(exec_session *x) {
  if (x->master_open) {
    x->master_open = false;
    uv_close((uv_handle_t *)&x->master_poll, NULL);
  }
  if (x->stdin_open) {
    x->stdin_open = false;
    uv_close((uv_handle_t *)&x->stdin_poll, NULL);
  }
  if (x->winch_open) {
    x->winch_open = false;
    uv_close((uv_handle_t *)&x->winch, NULL);
  }
  if (x->linger_open) {
    x->linger_open = false;
    uv_close((uv_handle_t *)&x->linger, NULL);
  }
}

static void on_master(uv_poll_t *h, int status, int events) {
  (void)events;
  exec_session *x = h->data;
  if (status < 0 || !drain_master(x)) {
    x->master_open = false;
    uv_close((uv_handle_t *)&x->master_poll, NULL);
    if (x->exit_code >= 0)
      stop_terminal(x); /* the terminal's end after CMD's: done */
  }
}

static void on_stdin(uv_poll_t *h, int status, int events) {
  (void)events;
  exec_session *x = h->data;
  char buf[4096];
  ssize_t n = status < 0 ? -1 : read(STDIN_FILENO, buf, sizeof buf);
  if (n < 0 && errno == EINTR)
    return;
  if (n <= 0) {
    x->stdin_open = false;
    uv_close((uv_handle_t *)&x->stdin_poll, NULL);
    return;
  }
  write_all(x->master, buf, (size_t)n);
}

static void start_terminal(exec_session *x, int master) {
  x->master = master;
  (void)fcntl(master, F_SETFL, O_NONBLOCK);
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &x->saved) == 0) {
    struct termios raw = x->saved;
    cfmakeraw(&raw);
    x->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  uv_signal_init(&x->loop, &x->winch);
  x->winch_open = true;
  x->winch.data = x;
  uv_signal_start(&x->winch, on_winch, SIGWINCH);
  copy_window_size(x);
  if (uv_poll_init(&x->loop, &x->master_poll, master) == 0) {
    x->master_poll.data = x;
    x->master_open = true;
    uv_poll_start(&x->master_poll, UV_READABLE, on_master);
  }
  if (x->forward_stdin && uv_poll_init(&x->loop, &x->stdin_poll, STDIN_FILENO) == 0) {
    x->stdin_poll.data = x;
    x->stdin_open = true;
    uv_poll_start(&x->stdin_poll, UV_READABLE, on_stdin);
  }
}

static void on_linger(uv_timer_t *t) {
  exec_session *x = t->data;
  if (x->master >= 0)
    (void)drain_master(x);
  stop_terminal(x);
}

static void on_msg(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)c;
  exec_session *x = ctx;
  if (m == NULL) {
    /* The shim closes the connection after the exit event: the terminal
     * may still hold CMD's last output (see on_linger). */
    if (x->exit_code >= 0)
      return;
    if (!x->failed) {
      fprintf(stderr, "podvisor shim ctl exec: %s\n", err->code != 0 ? pv_err_str(err) : "no exit status");
      x->failed = true;
    }
    stop_terminal(x);
    return;
  }
  if (m->event != NULL && strcmp(m->event, "exit") == 0) {
    x->exit_code = (int)m->exit_code;
    /* What CMD wrote last reaches the master a little later (the pty's
     * line discipline runs in the kernel's workqueue): read on until the
     * terminal hangs up (EIO), for at most LINGER_MS. */
    if (x->master_open && uv_timer_init(&x->loop, &x->linger) == 0) {
      x->linger.data = x;
      x->linger_open = true;
      uv_timer_start(&x->linger, on_linger, LINGER_MS, 0);
    } else {
      stop_terminal(x);
    }
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
    start_terminal(x, fd);
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
  exec_session x = {.master = -1, .exit_code = -1, .forward_stdin = in};
  uv_loop_init(&x.loop);
  ctlproto_request req = {.op = CTLPROTO_OP_EXEC,
                          .container = argv[i],
                          .argv = argv + i + 2,
                          .tty = tty,
                          .has_stdin = in && !tty,
                          .grace_seconds = -1};
  struct winsize ws;
  if (tty && isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
    req.rows = ws.ws_row;
    req.cols = ws.ws_col;
  }
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
    while ((x.exit_code < 0 && !x.failed) || x.master_open || x.stdin_open)
      if (uv_run(&x.loop, UV_RUN_ONCE) == 0)
        break;
  }
  if (x.raw)
    (void)tcsetattr(STDIN_FILENO, TCSANOW, &x.saved);
  podctl_conn_close(x.conn);
  stop_terminal(&x);
  uv_run(&x.loop, UV_RUN_DEFAULT);
  uv_loop_close(&x.loop);
  if (x.master >= 0)
    close(x.master);
  return x.failed ? 125 : x.exit_code;
}
