/*
 * exec_term.c - the local terminal of an exec -t (see exec_term.h).
 */
#include "supervisor/cli/exec_term.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const int end_signals[EXEC_TERM_N_SIGNALS] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};

void exec_term_init(exec_term *t, uv_loop_t *loop, int in_fd, int out_fd, bool forward_stdin) {
  *t = (exec_term){
      .loop = loop, .in_fd = in_fd, .out_fd = out_fd, .forward_stdin = forward_stdin, .master = -1};
}

void exec_term_size(int fd, unsigned *rows, unsigned *cols) {
  struct winsize ws;
  *rows = *cols = 0;
  if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0) {
    *rows = ws.ws_row;
    *cols = ws.ws_col;
  }
}

static void copy_window_size(exec_term *t) {
  struct winsize ws;
  if (t->master >= 0 && ioctl(t->in_fd, TIOCGWINSZ, &ws) == 0)
    (void)ioctl(t->master, TIOCSWINSZ, &ws);
}

static void on_winch(uv_signal_t *h, int sig) {
  (void)sig;
  copy_window_size(h->data);
}

/* A signal that ends the process: the terminal first. */
static void on_end_signal(uv_signal_t *h, int sig) {
  exec_term_restore(h->data);
  signal(sig, SIG_DFL);
  raise(sig);
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

/* Copies what the master has to out_fd; false at its end (EIO: the
 * terminal's last process is gone). */
static bool drain_master(exec_term *t) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(t->master, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return true;
    if (n <= 0)
      return false;
    write_all(t->out_fd, buf, (size_t)n);
  }
}

void exec_term_stop(exec_term *t) {
  if (t->master_open) {
    t->master_open = false;
    uv_close((uv_handle_t *)&t->master_poll, NULL);
  }
  if (t->stdin_open) {
    t->stdin_open = false;
    uv_close((uv_handle_t *)&t->stdin_poll, NULL);
  }
  if (t->winch_open) {
    t->winch_open = false;
    uv_close((uv_handle_t *)&t->winch, NULL);
  }
  if (t->sigs_open) {
    t->sigs_open = false;
    for (int i = 0; i < EXEC_TERM_N_SIGNALS; i++)
      uv_close((uv_handle_t *)&t->sigs[i], NULL);
  }
  if (t->linger_open) {
    t->linger_open = false;
    uv_close((uv_handle_t *)&t->linger, NULL);
  }
}

static void on_master(uv_poll_t *h, int status, int events) {
  (void)events;
  exec_term *t = h->data;
  if (status < 0 || !drain_master(t)) {
    t->master_open = false;
    uv_close((uv_handle_t *)&t->master_poll, NULL);
    if (t->exited)
      exec_term_stop(t); /* the terminal's end after CMD's: done */
  }
}

static void on_stdin(uv_poll_t *h, int status, int events) {
  (void)events;
  exec_term *t = h->data;
  char buf[4096];
  ssize_t n = status < 0 ? -1 : read(t->in_fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    t->stdin_open = false;
    uv_close((uv_handle_t *)&t->stdin_poll, NULL);
    return;
  }
  write_all(t->master, buf, (size_t)n);
}

static void make_raw(exec_term *t) {
  if (!isatty(t->in_fd) || tcgetattr(t->in_fd, &t->saved) < 0)
    return;
  struct termios raw = t->saved;
  cfmakeraw(&raw);
  t->raw = tcsetattr(t->in_fd, TCSANOW, &raw) == 0;
  if (!t->raw)
    return;
  t->sigs_open = true;
  for (int i = 0; i < EXEC_TERM_N_SIGNALS; i++) {
    uv_signal_init(t->loop, &t->sigs[i]);
    t->sigs[i].data = t;
    uv_signal_start(&t->sigs[i], on_end_signal, end_signals[i]);
  }
}

void exec_term_start(exec_term *t, int master) {
  t->master = master;
  (void)fcntl(master, F_SETFL, O_NONBLOCK);
  make_raw(t);
  uv_signal_init(t->loop, &t->winch);
  t->winch_open = true;
  t->winch.data = t;
  uv_signal_start(&t->winch, on_winch, SIGWINCH);
  copy_window_size(t);
  if (uv_poll_init(t->loop, &t->master_poll, master) == 0) {
    t->master_poll.data = t;
    t->master_open = true;
    uv_poll_start(&t->master_poll, UV_READABLE, on_master);
  }
  if (t->forward_stdin && uv_poll_init(t->loop, &t->stdin_poll, t->in_fd) == 0) {
    t->stdin_poll.data = t;
    t->stdin_open = true;
    uv_poll_start(&t->stdin_poll, UV_READABLE, on_stdin);
  }
}

static void on_linger(uv_timer_t *h) {
  exec_term *t = h->data;
  if (t->master_open)
    (void)drain_master(t);
  exec_term_stop(t);
}

void exec_term_exited(exec_term *t) {
  t->exited = true;
  if (t->master_open && uv_timer_init(t->loop, &t->linger) == 0) {
    t->linger.data = t;
    t->linger_open = true;
    uv_timer_start(&t->linger, on_linger, EXEC_TERM_LINGER_MS, 0);
  } else {
    exec_term_stop(t);
  }
}

bool exec_term_busy(const exec_term *t) {
  return t->master_open || t->stdin_open || t->linger_open;
}

void exec_term_restore(exec_term *t) {
  if (t->raw) {
    (void)tcsetattr(t->in_fd, TCSANOW, &t->saved);
    t->raw = false;
  }
}

void exec_term_free(exec_term *t) {
  if (t->master >= 0)
    close(t->master);
  t->master = -1;
}
