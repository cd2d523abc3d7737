/*
 * exec_term.h - the local side of an exec with a terminal: what `podvisor
 * exec -t` and `podvisor shim ctl SOCKET exec -t` do with the pty master
 * the shim hands back.
 *
 * What it is for: with -t the shim gives CMD a terminal and its client
 * receives the master.  This module then, on the client's libuv loop:
 *  - puts the local terminal (in_fd, when it is one) in raw mode, so that
 *    every key, ^C included, goes to CMD;
 *  - copies the master to out_fd, and in_fd to the master when stdin is
 *    forwarded (-i);
 *  - passes the local window size on at the start and on every SIGWINCH
 *    (TIOCSWINSZ on the master);
 *  - after CMD's exit (exec_term_exited), reads on until the terminal
 *    hangs up (EIO) for at most EXEC_TERM_LINGER_MS, since what CMD wrote
 *    last reaches the master a little after its exit (the pty's line
 *    discipline runs in the kernel's workqueue);
 *  - restores the terminal on every way out: exec_term_restore() at the
 *    end, and SIGTERM, SIGHUP, SIGINT or SIGQUIT while raw restore it,
 *    then end the process by that signal as it would have ended without
 *    the handler.
 *
 * Ownership: the struct lives in its owner; the handles are embedded and
 * closed by exec_term_stop() (the loop must then run to finish closing);
 * the master fd belongs to the term from exec_term_start() on and is
 * closed by exec_term_free().  Never prints.
 */
#ifndef PODVISOR_CLI_EXEC_TERM_H
#define PODVISOR_CLI_EXEC_TERM_H

#include <stdbool.h>
#include <termios.h>
#include <uv.h>

#define EXEC_TERM_LINGER_MS 500
#define EXEC_TERM_N_SIGNALS 4

typedef struct exec_term {
  uv_loop_t *loop;
  int in_fd, out_fd; /* the local terminal's side: stdin, stdout */
  bool forward_stdin;
  int master; /* -1 until started */
  uv_poll_t master_poll, stdin_poll;
  bool master_open, stdin_open;
  uv_signal_t winch, sigs[EXEC_TERM_N_SIGNALS];
  bool winch_open, sigs_open;
  uv_timer_t linger;
  bool linger_open, exited;
  struct termios saved;
  bool raw;
} exec_term;

void exec_term_init(exec_term *t, uv_loop_t *loop, int in_fd, int out_fd, bool forward_stdin);

/* The size of the terminal fd, for the exec request's rows and cols (both 0
 * when fd is no terminal). */
void exec_term_size(int fd, unsigned *rows, unsigned *cols);

/* Takes master and starts proxying. */
void exec_term_start(exec_term *t, int master);

/* CMD has exited: drain the master for a little while, then stop. */
void exec_term_exited(exec_term *t);

/* True while the terminal still has something to do (the loop should run). */
bool exec_term_busy(const exec_term *t);

/* Closes every handle (idempotent). */
void exec_term_stop(exec_term *t);

/* Puts the local terminal back as it was (idempotent). */
void exec_term_restore(exec_term *t);

/* Closes the master (after exec_term_stop and the loop's run). */
void exec_term_free(exec_term *t);

#endif
