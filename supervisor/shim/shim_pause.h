/*
 * shim_pause.h - the pause process of a pod with shareProcessNamespace:
 * watched with uv_poll on its pidfd, and replaced together with the pod's
 * pid namespace when it dies outside a pod stop (sandbox.h tells the
 * kernel's rules).
 *
 * When the pause dies (kill -9 from the host), the kernel SIGKILLs every
 * process of its pid namespace.  The containers among them are the shim's
 * children: their exits take the normal path (Terminated, reason Error, exit
 * code 137) and the restart policy decides what follows, as the kubelet does
 * when a pod sandbox dies.  The pause itself finishes exiting only after the
 * shim has reaped all of them, so those exits, and the restarts they
 * schedule, usually come before the pause's pidfd turns readable.  Hence two
 * ways to notice: the poll (the pause is gone), and shim_pause_ready()
 * before every container start (the pause is going: the runtime asks, see
 * runtime_core.h).  Whichever comes first renews the namespace (one line on
 * stderr naming both pids, and keeper_touch() for podvisor.pausePid); the
 * old pause then stays watched ("retired") until it is gone, and is reaped.
 * A pause that cannot be replaced fails the pod: keeper_sandbox_failed().
 *
 * Call everything from the thread that entered the sandbox (sandbox.h).
 * Ownership: the module and each of its watches are heap memory; a watch is
 * freed in its handle's close callback, the module by shim_pause_close().
 * The current pause's pidfd belongs to the sandbox; a retired one's to its
 * watch.
 */
#ifndef PODVISOR_SHIM_SHIM_PAUSE_H
#define PODVISOR_SHIM_SHIM_PAUSE_H

#include <uv.h>

#include "supervisor/core/error.h"
#include "supervisor/shim/keeper.h"
#include "supervisor/shim/sandbox.h"

typedef struct shim_pause shim_pause;

/* Watches sb's pause process; *out is NULL (and 0 returned) when sb has no
 * shared pid namespace.  pod names the pod in messages (kept). */
int shim_pause_new(shim_pause **out, uv_loop_t *loop, sandbox *sb, const char *pod, pv_err *err);
/* The keeper told of renewals and failures (set before the loop runs). */
void shim_pause_set_keeper(shim_pause *p, keeper *k);
/* 0 when the pod's pid namespace is alive (renewed first if it was gone)
 * and the calling thread's children will be born in it; -1 with err when
 * it is gone for good (the pod has failed). */
int shim_pause_ready(shim_pause *p, pv_err *err);
/* Closes every watch and frees the module (accepts NULL). */
void shim_pause_close(shim_pause *p);

#endif
