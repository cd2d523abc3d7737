#include "supervisor/shim/crilog.h"

#include "supervisor/core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OUT_CAP (64 * 1024)
#define TS_LEN 30                            /* 2024-05-01T12:34:56.000000001Z */
#define HDR_LEN (TS_LEN + 1 + 6 + 1 + 1 + 1) /* "<ts> stdout F " */

struct crilog {
  int fd;
  crilog_opts opts;
  int64_t size; /* bytes already in the live file */
  crilog_stats stats;
  int64_t ts_sec;     /* the second ts_prefix was made for */
  char ts_prefix[24]; /* "2024-05-01T12:34:56" */
  size_t out_len;
  char *out;     /* the shared output buffer while a call runs */
  char *pend[2]; /* held partial line, malloc'd only while one is held */
  size_t pend_len[2];
  size_t pend_cap[2];
  char *path;
  int64_t now; /* the time of the call running */
};

/* Every call hands its records to the kernel before it returns, so the
 * output buffer holds nothing between calls: one buffer serves every log of
 * the process (a shim keeps one per container run), taken under a lock.
 * In .bss: only the pages a burst reached are ever resident, and with reads
 * of at most 16 KiB that is about 20 KiB per process, not per container. */
static char shared_out[OUT_CAP] __attribute__((aligned(4096)));
static pthread_mutex_t shared_out_lock = PTHREAD_MUTEX_INITIALIZER;

static void take_out(crilog *log) {
  pthread_mutex_lock(&shared_out_lock);
  log->out = shared_out;
  log->out_len = 0;
}

static void give_out(crilog *log) {
  log->out = NULL;
  pthread_mutex_unlock(&shared_out_lock);
}

void crilog_release_scratch(void) {
  pthread_mutex_lock(&shared_out_lock);
  madvise(shared_out, sizeof shared_out, MADV_DONTNEED);
  pthread_mutex_unlock(&shared_out_lock);
}

/* Room for need bytes of held line.  Small lines keep a small buffer; a
 * held line never exceeds CRILOG_MAX_TEXT. */
static int pend_reserve(crilog *log, crilog_stream s, size_t need) {
  if (need <= log->pend_cap[s])
    return 0;
  size_t cap = log->pend_cap[s] ? log->pend_cap[s] : 256;
  while (cap < need)
    cap *= 2;
  if (cap > CRILOG_MAX_TEXT)
    cap = CRILOG_MAX_TEXT;
  char *p = realloc(log->pend[s], cap);
  if (p == NULL)
    return -1;
  log->pend[s] = p;
  log->pend_cap[s] = cap;
  return 0;
}

/* The held line was written: a buffer grown past 1 KiB goes back. */
static void pend_clear(crilog *log, crilog_stream s) {
  log->pend_len[s] = 0;
  if (log->pend_cap[s] > 1024) {
    free(log->pend[s]);
    log->pend[s] = NULL;
    log->pend_cap[s] = 0;
  }
}

static const char *const stream_names[] = {"stdout", "stderr"};

void crilog_opts_default(crilog_opts *o) {
  o->max_size = CRILOG_DEFAULT_MAX_SIZE;
  o->max_files = CRILOG_DEFAULT_MAX_FILES;
}

static int open_live(crilog *log, bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  int fd;
  do
    fd = open(log->path, flags, 0640);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  log->fd = fd;
  log->size = S_ISREG(st.st_mode) ? st.st_size : 0;
  return 0;
}

int crilog_open(crilog **out, const char *dir, unsigned restart, const crilog_opts *opts, pv_err *err) {
  *out = NULL;
  if (opts != NULL && (opts->max_files < 1 || opts->max_size < 0))
    return pv_err_set(err, EINVAL, "log %s: max_files must be >= 1 and max_size >= 0", dir);
  crilog *log = calloc(1, sizeof *log);
  if (log == NULL)
    return pv_err_set(err, ENOMEM, "log %s: out of memory", dir);
  log->fd = -1;
  log->ts_sec = INT64_MIN;
  if (opts != NULL)
    log->opts = *opts;
  else
    crilog_opts_default(&log->opts);
  if (asprintf(&log->path, "%s/%u.log", dir, restart) < 0) {
    free(log);
    return pv_err_set(err, ENOMEM, "log %s/%u.log: out of memory", dir, restart);
  }
  if (open_live(log, false) < 0) {
    pv_err_sys(err, "open log %s", log->path);
    free(log->path);
    free(log);
    return -1;
  }
  *out = log;
  return 0;
}

int crilog_format_time(int64_t ns, char *buf, size_t len) {
  /* Always 9 fraction digits, so every record's header has the same width. */
  int n = pv_format_rfc3339(ns, true, buf, len);
  return n == TS_LEN ? n : -1;
}

/* The record header for now: the date part is cached per second because a
 * busy container writes many records within one. */
static void put_header(crilog *log, char *dst, crilog_stream s, char tag, int64_t now) {
  int64_t sec = now / 1000000000, frac = now % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    sec--;
  }
  if (sec != log->ts_sec) {
    char full[TS_LEN + 8];
    if (crilog_format_time(sec * 1000000000, full, sizeof full) < 0)
      memcpy(full, "0000-00-00T00:00:00", 19);
    memcpy(log->ts_prefix, full, 19);
    log->ts_sec = sec;
  }
  memcpy(dst, log->ts_prefix, 19);
  dst[19] = '.';
  for (int i = 28; i >= 20; i--) {
    dst[i] = (char)('0' + frac % 10);
    frac /= 10;
  }
  dst[29] = 'Z';
  dst[30] = ' ';
  memcpy(dst + 31, stream_names[s], 6);
  dst[37] = ' ';
  dst[38] = tag;
  dst[39] = ' ';
}

/* A write failed with errno e: the buffered records are dropped (counted),
 * so memory stays bounded; the file is closed so the next write reopens it
 * (and a deleted log frees its space).  An episode begins with the first
 * failure. */
static void drop_out(crilog *log, int e) {
  log->stats.dropped_bytes += log->out_len;
  log->out_len = 0;
  if (log->fd >= 0)
    close(log->fd);
  log->fd = -1;
  if (log->stats.error == 0) {
    log->stats.episodes++;
    log->stats.failing_since_ns = log->now;
  }
  log->stats.error = e != 0 ? e : EIO;
}

/* Hands the output buffer to the kernel.  On failure the buffered records
 * are dropped, and a part the kernel took is cut off again, so the file ends
 * with a whole record; later writes retry. */
static int flush_out(crilog *log, pv_err *err) {
  if (log->out_len == 0)
    return 0;
  if (log->fd < 0 && open_live(log, false) < 0) {
    int e = errno;
    pv_err_sys(err, "reopen log %s", log->path);
    drop_out(log, e);
    return -1;
  }
  const char *p = log->out;
  size_t left = log->out_len;
  int64_t start = log->size;
  while (left > 0) {
    ssize_t n = write(log->fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n == 0 ? EIO : errno;
      errno = e;
      pv_err_sys(err, "write log %s", log->path);
      size_t done = log->out_len - left;
      if (done > 0 && ftruncate(log->fd, start) == 0) {
        log->size = start;
        log->stats.bytes -= done;
      } else {
        log->out_len = left; /* what reached the file stays counted */
      }
      drop_out(log, e);
      return -1;
    }
    p += n;
    left -= (size_t)n;
    log->size += n;
    log->stats.bytes += (uint64_t)n;
  }
  log->out_len = 0;
  log->stats.error = 0;
  log->stats.failing_since_ns = 0;
  return 0;
}

static int rename_rotated(crilog *log, int from, int to, pv_err *err) {
  char a[PATH_MAX + 16], b[PATH_MAX + 16];
  if (from == 0)
    snprintf(a, sizeof a, "%s", log->path);
  else
    snprintf(a, sizeof a, "%s.%d", log->path, from);
  snprintf(b, sizeof b, "%s.%d", log->path, to);
  if (rename(a, b) < 0 && errno != ENOENT)
    return pv_err_sys(err, "rotate log %s to %s", a, b);
  return 0;
}

/* Shifts N.log -> N.log.1 -> ... -> N.log.<max_files-1>, dropping the
 * oldest, and starts a fresh N.log. */
static int rotate(crilog *log, pv_err *err) {
  log->stats.rotations++;
  if (log->opts.max_files <= 1) {
    if (log->fd >= 0 && ftruncate(log->fd, 0) < 0)
      return pv_err_sys(err, "truncate log %s", log->path);
    log->size = 0;
    return 0;
  }
  if (log->fd >= 0)
    close(log->fd);
  log->fd = -1;
  int rc = 0;
  char oldest[PATH_MAX + 16];
  snprintf(oldest, sizeof oldest, "%s.%d", log->path, log->opts.max_files - 1);
  if (unlink(oldest) < 0 && errno != ENOENT)
    rc = pv_err_sys(err, "remove old log %s", oldest);
  for (int i = log->opts.max_files - 2; i >= 0; i--)
    if (rename_rotated(log, i, i + 1, err) < 0)
      rc = -1;
  if (open_live(log, true) < 0)
    return pv_err_sys(err, "open log %s", log->path);
  return rc;
}

/* Appends one record whose text is a (alen bytes) followed by b (blen). */
static int emit(crilog *log, crilog_stream s, char tag, const char *a, size_t alen, const char *b,
                size_t blen, int64_t now, pv_err *err) {
  int rc = 0;
  size_t rec = HDR_LEN + alen + blen + 1;
  int64_t used = log->size + (int64_t)log->out_len;
  if (log->opts.max_size > 0 && used > 0 && used + (int64_t)rec > log->opts.max_size) {
    if (flush_out(log, err) < 0)
      rc = -1;
    if (rotate(log, err) < 0)
      rc = -1;
  }
  if (log->out_len + rec > OUT_CAP && flush_out(log, err) < 0)
    rc = -1;
  char *dst = log->out + log->out_len;
  put_header(log, dst, s, tag, now);
  dst += HDR_LEN;
  if (alen)
    memcpy(dst, a, alen);
  if (blen)
    memcpy(dst + alen, b, blen);
  dst[alen + blen] = '\n';
  log->out_len += rec;
  log->stats.records++;
  return rc;
}

int crilog_write(crilog *log, crilog_stream s, const void *data, size_t len, int64_t now_ns, pv_err *err) {
  if ((unsigned)s > CRILOG_STDERR)
    return pv_err_set(err, EINVAL, "log %s: bad stream %d", log->path, (int)s);
  const char *p = data;
  size_t *plen = &log->pend_len[s];
  int rc = 0;
  take_out(log);
  log->now = now_ns;
  while (len > 0) {
    const char *nl = memchr(p, '\n', len);
    size_t seg = nl ? (size_t)(nl - p) : len;
    /* More than 16 KiB without a newline: cut P records of exactly 16 KiB. */
    while (*plen + seg > CRILOG_MAX_TEXT) {
      size_t take = CRILOG_MAX_TEXT - *plen;
      if (emit(log, s, 'P', log->pend[s], *plen, p, take, now_ns, err) < 0)
        rc = -1;
      pend_clear(log, s);
      p += take;
      seg -= take;
      len -= take;
    }
    if (nl == NULL) {
      if (pend_reserve(log, s, *plen + seg) < 0) {
        /* No memory to hold it: write it now as a partial line. */
        if (emit(log, s, 'P', log->pend[s], *plen, p, seg, now_ns, err) < 0)
          rc = -1;
        pend_clear(log, s);
        break;
      }
      memcpy(log->pend[s] + *plen, p, seg);
      *plen += seg;
      break;
    }
    if (emit(log, s, 'F', log->pend[s], *plen, p, seg, now_ns, err) < 0)
      rc = -1;
    pend_clear(log, s);
    p += seg + 1;
    len -= seg + 1;
  }
  if (flush_out(log, err) < 0)
    rc = -1;
  give_out(log);
  return rc;
}

int crilog_eof(crilog *log, crilog_stream s, int64_t now_ns, pv_err *err) {
  if ((unsigned)s > CRILOG_STDERR)
    return pv_err_set(err, EINVAL, "log %s: bad stream %d", log->path, (int)s);
  int rc = 0;
  if (log->pend_len[s] > 0) {
    take_out(log);
    log->now = now_ns;
    rc = emit(log, s, 'P', log->pend[s], log->pend_len[s], NULL, 0, now_ns, err);
    if (flush_out(log, err) < 0)
      rc = -1;
    give_out(log);
  }
  free(log->pend[s]); /* the stream ended: nothing more to hold */
  log->pend[s] = NULL;
  log->pend_len[s] = log->pend_cap[s] = 0;
  return rc;
}

int crilog_flush(crilog *log, int64_t now_ns, pv_err *err) {
  int rc = 0;
  if (crilog_eof(log, CRILOG_STDOUT, now_ns, err) < 0)
    rc = -1;
  if (crilog_eof(log, CRILOG_STDERR, now_ns, err) < 0)
    rc = -1;
  return rc;
}

int crilog_close(crilog *log, int64_t now_ns, pv_err *err) {
  if (log == NULL)
    return 0;
  int rc = crilog_flush(log, now_ns, err);
  if (log->fd >= 0 && close(log->fd) < 0 && errno != EINTR) {
    pv_err_sys(err, "close log %s", log->path);
    rc = -1;
  }
  free(log->path);
  free(log);
  return rc;
}

const char *crilog_path(const crilog *log) {
  return log->path;
}

void crilog_get_stats(const crilog *log, crilog_stats *out) {
  *out = log->stats;
}
