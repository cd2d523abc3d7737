/*
 * daemon.h - `podvisor daemon`: keeps every desired pod running, on one
 * libuv loop, through one podvisor-shim per pod (supervisor/podctl), and
 * serves the Kubernetes-shaped API of API.md on <run-root>/podvisor.sock.
 *
 * The desired pods come from the manifest directory and from the API
 * (desired.h); the reconciler (plan.h) turns what differs from what the
 * shims run into launches, container updates, recreations and stops.  The
 * daemon is never the parent of a container: a daemon that dies or is
 * restarted leaves every shim running, and the next one adopts them.
 */
#ifndef PODVISOR_DAEMON_DAEMON_H
#define PODVISOR_DAEMON_DAEMON_H

/* The command: `podvisor daemon [flags]`.  Returns the process's exit code
 * (0 after a clean shutdown, 1 on a start-up error, 2 on a usage error);
 * prints its log on stderr. */
int daemon_main(int argc, char **argv);

#endif
