/*
 * crilog.h - container stdout/stderr to a CRI log file, with rotation.
 *
 * Contract: one crilog per container run.  The shim reads a container's
 * stdout and stderr pipes and hands every chunk it read to crilog_write(), in
 * the order it read them; crilog turns them into CRI records
 *
 *     <timestamp> <stdout|stderr> <P|F> <text>\n
 *
 * in ONE file, so records of the two streams interleave in arrival order and
 * records of one stream are never lost or reordered by crilog itself.
 *
 * Record rules (they follow containerd's CRI logger):
 *  - F: a complete line; its '\n' is not part of the text.  An empty line
 *    gives an F record with empty text.
 *  - A line whose text exceeds CRILOG_MAX_TEXT (16 KiB) is written as P
 *    records of exactly 16384 bytes, then an F record with the rest (1 to
 *    16384 bytes): a 16384-byte line is one F, 16385 bytes are P(16384) +
 *    F(1), 40000 bytes are P + P + F(7232).
 *  - An unterminated line is held (at most 16 KiB per stream) until its '\n'
 *    arrives; crilog_flush(), crilog_eof() and crilog_close() write what is
 *    held as a P record, as containerd and conmon do for output that never
 *    ended with a newline: a reader sees a partial line, not a completed one.
 *  - The timestamp is the time given to the call that completes the record,
 *    in UTC with nine fraction digits: 2024-05-01T12:34:56.000000001Z.  It
 *    is RFC 3339 and parsed by kubelet's RFC3339Nano reader; fixed width keeps
 *    the file sortable.
 *
 * Files: <dir>/<restart>.log, opened for append (a restarted shim continues a
 * file).  Rotation by size: before a record would take the file past
 * max_size, <restart>.log.<n> becomes .<n+1> (the oldest, past max_files-1,
 * is deleted), <restart>.log becomes <restart>.log.1 and a new
 * <restart>.log is started.  So max_files counts the live file too: 5 means
 * N.log plus N.log.1 (newest) ... N.log.4 (oldest).  max_files 1 truncates
 * the file instead; max_size 0 never rotates.  A single record larger than
 * max_size still goes whole into a fresh file.
 *
 * Memory: a log costs ~100 bytes plus its path while it holds nothing.  A
 * held partial line lives in a buffer sized to it (at most 16 KiB per
 * stream), freed once the line is written (kept while <= 1 KiB) and at
 * EOF.  Records are formatted in one 64 KiB output buffer shared by every
 * log of the process (taken under a mutex for the length of one call,
 * since every call empties it), so a container that logs nothing costs no
 * buffer pages; a burst of any size is written through in bounded pieces.  Writes are plain
 * write(2) calls to a regular file; every crilog_write() ends with its data
 * handed to the kernel.
 *
 * Failing writes (a full disk: ENOSPC, EDQUOT; EIO): the records that could
 * not be written are dropped and counted in dropped_bytes, the call fails
 * with pv_err, and the next call tries again, so the caller keeps draining
 * the container's pipes and the container never blocks on them.  A record
 * the kernel took only in part is cut off again (ftruncate back to the last
 * whole record), so the file never holds a torn line.  After a failure the
 * file is closed and reopened (created if gone) by the next write: an
 * administrator who deletes the log to make room frees its space at once,
 * and logging goes on in a new file.  The stats tell an episode of failures
 * (error != 0 from the first failing write to the next one that succeeds,
 * failing_since_ns when it began, episodes counts them), so a caller can say
 * once that logging stopped and once that it resumed.
 */
#ifndef PODVISOR_SHIM_CRILOG_H
#define PODVISOR_SHIM_CRILOG_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/core/error.h"

#define CRILOG_MAX_TEXT 16384
#define CRILOG_DEFAULT_MAX_SIZE (10 * 1024 * 1024)
#define CRILOG_DEFAULT_MAX_FILES 5

typedef enum crilog_stream { CRILOG_STDOUT = 0, CRILOG_STDERR = 1 } crilog_stream;

typedef struct crilog_opts {
  int64_t max_size; /* bytes per file; 0 = no rotation */
  int max_files;    /* files kept, the live one included; >= 1 */
} crilog_opts;

typedef struct crilog_stats {
  uint64_t records;       /* records written */
  uint64_t bytes;         /* bytes written to files */
  uint64_t dropped_bytes; /* bytes lost to write errors */
  uint64_t rotations;
  int error;                /* errno of the failing writes, 0 while they succeed */
  int64_t failing_since_ns; /* the first failing write of this episode (now_ns) */
  uint64_t episodes;        /* episodes of failing writes so far */
} crilog_stats;

typedef struct crilog crilog;

void crilog_opts_default(crilog_opts *o);

/* Returns the pages of the process-wide output buffer to the kernel (it
 * holds nothing between calls); for an idle process. */
void crilog_release_scratch(void);

/* Opens (creating) <dir>/<restart>.log for append.  dir must exist. */
int crilog_open(crilog **out, const char *dir, unsigned restart, const crilog_opts *opts, pv_err *err);

/* Appends a chunk read from one stream; now_ns is the wall clock in ns. */
int crilog_write(crilog *log, crilog_stream stream, const void *data, size_t len, int64_t now_ns,
                 pv_err *err);

/* Writes the held partial line of one stream as a P record (stream EOF). */
int crilog_eof(crilog *log, crilog_stream stream, int64_t now_ns, pv_err *err);

/* Writes the held partial lines of both streams as P records. */
int crilog_flush(crilog *log, int64_t now_ns, pv_err *err);

/* crilog_flush, then closes the file and frees log.  NULL is a no-op. */
int crilog_close(crilog *log, int64_t now_ns, pv_err *err);

/* The live file's path. */
const char *crilog_path(const crilog *log);

void crilog_get_stats(const crilog *log, crilog_stats *out);

/* Formats ns since the epoch as 2024-05-01T12:34:56.000000001Z into buf
 * (at least 31 bytes).  Returns the length (30) or -1. */
int crilog_format_time(int64_t ns, char *buf, size_t len);

#endif
