/*
 * status.h - the pod status file: a Kubernetes Pod `status` in JSON, and back.
 *
 * Contract: status_to_json() renders a ctrstate_pod as the `status` object of
 * a Kubernetes Pod (phase, conditions, startTime, initContainerStatuses,
 * containerStatuses with state, lastState, ready, restartCount, started,
 * image, containerID "podvisor://<id>"), plus a "podvisor" object per
 * container (fsm, kind, pid, nextRestartAt, specHash, oomKilled, ...) and
 * one for the pod (shimPid, specHash, restartPolicy).  status_from_json()
 * reads such a document back into a fresh ctrstate_pod, so restart counts,
 * backoff deadlines and lastState survive a shim restart;
 * to_json(from_json(x)) == x for any document to_json made.
 *
 * Field rules, as in the Kubernetes API: "signal" and "message" appear only
 * when set; "lastState" is {} when there is none; times are RFC 3339 in UTC,
 * "2024-05-01T12:34:56Z", with nine fraction digits only when the time has a
 * fraction; an unset time (0) is left out.  The podvisor.previousState field
 * keeps the termination before the last one while a container waits in
 * CrashLoopBackOff or StartLimitReached (its lastState then shows the latest).
 *
 * status_write() replaces a file the way podvisor writes every state file
 * (pv_write_file_atomic: temp file, fsync, rename, fsync of the directory):
 * a reader sees the old or the new document, never a mix, and after a crash
 * the file holds a complete document.  It blocks for the fsyncs (from
 * microseconds on a tmpfs to a few hundred ms on a disk-backed directory),
 * so the shim does not call it on its loop: it renders with status_to_json()
 * and hands the text to a statefile (statefile.h), which does the same
 * write in libuv's thread pool.  status_load() reads a file.  None keeps
 * state.
 */
#ifndef PODVISOR_SHIM_STATUS_H
#define PODVISOR_SHIM_STATUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/core/error.h"
#include "supervisor/shim/ctrstate.h"

/* ns since the epoch -> RFC 3339 UTC; needs 31 bytes.  Returns the length or -1. */
int status_format_time(int64_t ns, char *buf, size_t len);

/* RFC 3339 ("Z" or "+hh:mm", 0 to 9 fraction digits) -> ns since the epoch. */
int status_parse_time(const char *s, int64_t *ns);

/* A new JSON object (caller owns it), or NULL on out of memory. */
json_t *status_to_json(const ctrstate_pod *p);

/* Fills p (which must not hold arrays yet) from a document; on failure p is
 * left empty and err names the field. */
int status_from_json(const json_t *j, ctrstate_pod *p, pv_err *err);

/* Renders p and writes it to path atomically and durably (mode 0644).
 * Blocks for the fsyncs. */
int status_write(const char *path, const ctrstate_pod *p, pv_err *err);

/* Reads path into a fresh p. */
int status_load(const char *path, ctrstate_pod *p, pv_err *err);

#endif
