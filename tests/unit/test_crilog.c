/* Unit tests for supervisor/shim/crilog.c: CRI record format, 16 KiB splitting, ordering, rotation, errors.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/crilog.h"
#include "tests/testutil.h"

#define T0 1700000000123456789LL /* 2023-11-14T22:13:20.123456789Z */

typedef struct rec {
  char stream[7];
  char tag;
  size_t len;
  char *text;
} rec;

typedef struct recs {
  rec r[4096];
  size_t n;
  char *buf;
} recs;

static char *tmp;

static void setup(void) {
  tmp = testutil_tmpdir("pv-crilog");
  ck_assert_ptr_nonnull(tmp);
}

static void teardown(void) {
  testutil_rmtree(tmp);
  free(tmp);
}

static char *slurp(const char *path, size_t *len) {
  char *data = NULL;
  pv_err err;
  ck_assert_msg(pv_read_file(path, &data, len, &err) == 0, "%s", err.msg);
  return data;
}

/* Parses a CRI file, checking every line against the format. */
static void parse(const char *path, recs *out) {
  static regex_t re;
  static int compiled;
  if (!compiled) {
    ck_assert_int_eq(
        regcomp(&re,
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z (stdout|stderr) [PF] ",
                REG_EXTENDED),
        0);
    compiled = 1;
  }
  size_t len;
  out->buf = slurp(path, &len);
  out->n = 0;
  char *p = out->buf, *end = out->buf + len;
  while (p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    ck_assert_msg(nl != NULL, "unterminated record in %s", path);
    *nl = '\0';
    ck_assert_msg(regexec(&re, p, 0, NULL, 0) == 0, "bad record: %.80s", p);
    ck_assert_uint_lt(out->n, 4096);
    rec *r = &out->r[out->n++];
    memcpy(r->stream, p + 31, 6);
    r->stream[6] = '\0';
    r->tag = p[38];
    r->text = p + 40;
    r->len = (size_t)(nl - r->text);
    p = nl + 1;
  }
}

static crilog *open_log(unsigned restart, int64_t max_size, int max_files) {
  crilog_opts o;
  crilog_opts_default(&o);
  if (max_files > 0) {
    o.max_size = max_size;
    o.max_files = max_files;
  }
  crilog *log = NULL;
  pv_err err;
  ck_assert_msg(crilog_open(&log, tmp, restart, &o, &err) == 0, "%s", err.msg);
  return log;
}

static void put(crilog *log, crilog_stream s, const char *data, size_t len, int64_t now) {
  pv_err err;
  ck_assert_msg(crilog_write(log, s, data, len, now, &err) == 0, "%s", err.msg);
}

static void puts_(crilog *log, crilog_stream s, const char *str) {
  put(log, s, str, strlen(str), T0);
}

START_TEST(exact_line_format) {
  char ts[64];
  ck_assert_int_eq(crilog_format_time(T0, ts, sizeof ts), 30);
  ck_assert_str_eq(ts, "2023-11-14T22:13:20.123456789Z");
  ck_assert_int_eq(crilog_format_time(0, ts, sizeof ts), 30);
  ck_assert_str_eq(ts, "1970-01-01T00:00:00.000000000Z");
  ck_assert_int_eq(crilog_format_time(T0, ts, 30), -1); /* no room for the NUL */

  crilog *log = open_log(0, 0, 0);
  put(log, CRILOG_STDOUT, "hello\n\nworld\n", 13, T0);
  put(log, CRILOG_STDERR, "oops\n", 5, T0 + 1000000000LL - 123456789 + 7);
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/0.log", tmp);
  size_t len;
  char *data = slurp(path, &len);
  ck_assert_str_eq(data, "2023-11-14T22:13:20.123456789Z stdout F hello\n"
                         "2023-11-14T22:13:20.123456789Z stdout F \n"
                         "2023-11-14T22:13:20.123456789Z stdout F world\n"
                         "2023-11-14T22:13:21.000000007Z stderr F oops\n");
  free(data);
}
END_TEST

static void check_split(size_t line_len, size_t chunk, const size_t *want, size_t nwant) {
  char name[64];
  static unsigned restart = 100;
  crilog *log = open_log(++restart, 0, 0);
  char *line = malloc(line_len + 1);
  for (size_t i = 0; i < line_len; i++)
    line[i] = (char)('a' + i % 26);
  line[line_len] = '\n';
  for (size_t off = 0; off < line_len + 1; off += chunk) {
    size_t n = line_len + 1 - off < chunk ? line_len + 1 - off : chunk;
    put(log, CRILOG_STDOUT, line + off, n, T0);
  }
  snprintf(name, sizeof name, "%s", crilog_path(log));
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  recs *r = calloc(1, sizeof *r);
  parse(name, r);
  ck_assert_msg(r->n == nwant, "line %zu chunk %zu: %zu records, want %zu", line_len, chunk, r->n, nwant);
  size_t off = 0;
  for (size_t i = 0; i < nwant; i++) {
    ck_assert_uint_eq(r->r[i].len, want[i]);
    ck_assert_int_eq(r->r[i].tag, i + 1 == nwant ? 'F' : 'P');
    ck_assert(memcmp(r->r[i].text, line + off, want[i]) == 0);
    off += want[i];
  }
  ck_assert_uint_eq(off, line_len);
  free(r->buf);
  free(r);
  free(line);
}

START_TEST(split_at_16k_boundaries) {
  static const size_t chunks[] = {1 << 20, 1000, 4096, 16384, 7};
  for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
    check_split(16383, chunks[c], (size_t[]){16383}, 1);
    check_split(16384, chunks[c], (size_t[]){16384}, 1);
    check_split(16385, chunks[c], (size_t[]){16384, 1}, 2);
    check_split(32768, chunks[c], (size_t[]){16384, 16384}, 2);
    check_split(40000, chunks[c], (size_t[]){16384, 16384, 7232}, 3);
  }
}
END_TEST

START_TEST(streams_interleave_in_arrival_order) {
  crilog *log = open_log(0, 0, 0);
  puts_(log, CRILOG_STDOUT, "a1\n");
  puts_(log, CRILOG_STDERR, "b1\nb2");
  puts_(log, CRILOG_STDOUT, "a2\na3");
  puts_(log, CRILOG_STDERR, "-cont\n");
  puts_(log, CRILOG_STDOUT, "-cont\n");
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  recs *r = calloc(1, sizeof *r);
  char path[512];
  snprintf(path, sizeof path, "%s/0.log", tmp);
  parse(path, r);
  static const char *want[][2] = {
      {"stdout", "a1"}, {"stderr", "b1"}, {"stdout", "a2"}, {"stderr", "b2-cont"}, {"stdout", "a3-cont"}};
  ck_assert_uint_eq(r->n, 5);
  for (size_t i = 0; i < 5; i++) {
    ck_assert_str_eq(r->r[i].stream, want[i][0]);
    ck_assert_int_eq(r->r[i].tag, 'F');
    ck_assert_uint_eq(r->r[i].len, strlen(want[i][1]));
    ck_assert(memcmp(r->r[i].text, want[i][1], r->r[i].len) == 0);
  }
  free(r->buf);
  free(r);
}
END_TEST

START_TEST(partial_line_at_eof_is_P) {
  crilog *log = open_log(0, 0, 0);
  puts_(log, CRILOG_STDOUT, "prompt> ");
  puts_(log, CRILOG_STDERR, "err no newline");
  ck_assert_int_eq(crilog_eof(log, CRILOG_STDOUT, T0, NULL), 0);
  ck_assert_int_eq(crilog_eof(log, CRILOG_STDOUT, T0, NULL), 0); /* nothing held any more */
  puts_(log, CRILOG_STDOUT, "done\n");
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0); /* writes stderr's held text */
  char path[512];
  snprintf(path, sizeof path, "%s/0.log", tmp);
  size_t len;
  char *data = slurp(path, &len);
  ck_assert_str_eq(data, "2023-11-14T22:13:20.123456789Z stdout P prompt> \n"
                         "2023-11-14T22:13:20.123456789Z stdout F done\n"
                         "2023-11-14T22:13:20.123456789Z stderr P err no newline\n");
  free(data);
  /* A reopened log appends instead of truncating. */
  log = open_log(0, 0, 0);
  puts_(log, CRILOG_STDOUT, "again\n");
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  data = slurp(path, &len);
  ck_assert_ptr_nonnull(
      strstr(data, "stderr P err no newline\n2023-11-14T22:13:20.123456789Z stdout F again\n"));
  free(data);
  ck_assert_int_eq(crilog_close(NULL, 0, NULL), 0);
}
END_TEST

/* Writes lines "line NNNN" and returns how many. */
static int write_numbered(crilog *log, int n) {
  for (int i = 0; i < n; i++) {
    char line[32];
    int k = snprintf(line, sizeof line, "line %04d\n", i);
    put(log, i % 3 ? CRILOG_STDOUT : CRILOG_STDERR, line, (size_t)k, T0 + i);
  }
  return n;
}

/* Appends the texts of the F records of a file to acc. */
static void collect(const char *path, char *acc, size_t *acc_len, int64_t max_size) {
  struct stat st;
  if (stat(path, &st) < 0)
    return;
  ck_assert_msg(st.st_size <= max_size, "%s is %lld bytes > %lld", path, (long long)st.st_size,
                (long long)max_size);
  recs *r = calloc(1, sizeof *r);
  parse(path, r);
  for (size_t i = 0; i < r->n; i++) {
    memcpy(acc + *acc_len, r->r[i].text, r->r[i].len);
    *acc_len += r->r[i].len;
    acc[(*acc_len)++] = '\n';
  }
  free(r->buf);
  free(r);
}

START_TEST(rotation_keeps_files_and_loses_nothing) {
  /* Records are 40 + 9 + 1 = 50 bytes: 20 fit in 1000 bytes. */
  crilog *log = open_log(3, 1000, 100);
  int n = write_numbered(log, 500);
  crilog_stats st;
  crilog_get_stats(log, &st);
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  ck_assert_uint_eq(st.records, 500);
  ck_assert_uint_eq(st.bytes, 500 * 50);
  ck_assert_uint_eq(st.rotations, 24);
  ck_assert_uint_eq(st.dropped_bytes, 0);
  char *acc = malloc(1 << 20), path[600];
  size_t acc_len = 0;
  for (int i = 99; i >= 0; i--) {
    if (i == 0)
      snprintf(path, sizeof path, "%s/3.log", tmp);
    else
      snprintf(path, sizeof path, "%s/3.log.%d", tmp, i);
    collect(path, acc, &acc_len, 1000);
  }
  char *want = malloc(1 << 20);
  size_t want_len = 0;
  for (int i = 0; i < n; i++)
    want_len += (size_t)sprintf(want + want_len, "line %04d\n", i);
  ck_assert_uint_eq(acc_len, want_len);
  ck_assert(memcmp(acc, want, want_len) == 0);
  snprintf(path, sizeof path, "%s/3.log.24", tmp);
  ck_assert_int_eq(access(path, F_OK), 0);
  snprintf(path, sizeof path, "%s/3.log.25", tmp);
  ck_assert_int_eq(access(path, F_OK), -1);
  free(acc);
  free(want);
}
END_TEST

START_TEST(rotation_drops_the_oldest) {
  crilog *log = open_log(0, 1000, 3);
  write_numbered(log, 95); /* 20 per file: 0-19 20-39 40-59 60-79 80-94 */
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  char path[600], *acc = malloc(1 << 16);
  size_t acc_len = 0;
  snprintf(path, sizeof path, "%s/0.log.3", tmp);
  ck_assert_int_eq(access(path, F_OK), -1);
  static const char *files[] = {"0.log.2", "0.log.1", "0.log"};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
    ck_assert_int_eq(access(path, F_OK), 0);
    collect(path, acc, &acc_len, 1000);
  }
  acc[acc_len] = '\0';
  char want[4096];
  size_t wl = 0;
  for (int i = 40; i < 95; i++)
    wl += (size_t)sprintf(want + wl, "line %04d\n", i);
  ck_assert_str_eq(acc, want);

  /* max_files 1: the live file is emptied instead. */
  log = open_log(1, 1000, 1);
  write_numbered(log, 45);
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  snprintf(path, sizeof path, "%s/1.log", tmp);
  acc_len = 0;
  collect(path, acc, &acc_len, 1000);
  acc[acc_len] = '\0';
  ck_assert_str_eq(acc, "line 0040\nline 0041\nline 0042\nline 0043\nline 0044\n");
  snprintf(path, sizeof path, "%s/1.log.1", tmp);
  ck_assert_int_eq(access(path, F_OK), -1);
  free(acc);
}
END_TEST

START_TEST(big_burst_reassembles) {
  /* 3 MiB in one call: long lines, short lines, empty lines, no newline at the end. */
  size_t len = 3 << 20;
  char *in = malloc(len);
  unsigned x = 12345;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    in[i] = (x >> 16) % 40000 == 0 ? '\n' : (x >> 16) % 97 == 0 ? '\n' : (char)('!' + (x >> 8) % 90);
    if (i > len / 2 && i < len / 2 + 50000)
      in[i] = 'L'; /* one line far over 16 KiB */
  }
  in[len - 1] = 'z';
  crilog *log = open_log(0, 0, 0);
  put(log, CRILOG_STDOUT, in, len, T0);
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/0.log", tmp);
  recs *r = calloc(1, sizeof *r);
  size_t flen;
  char *file = slurp(path, &flen);
  /* Rebuild the stream: F records end a line, P records continue. */
  char *out = malloc(len + 1);
  size_t ol = 0;
  for (char *p = file; p < file + flen;) {
    char *nl = memchr(p, '\n', (size_t)(file + flen - p));
    ck_assert_ptr_nonnull(nl);
    size_t tl = (size_t)(nl - p) - 40;
    ck_assert_uint_le(tl, 16384);
    if (p[38] == 'P')
      ck_assert(tl == 16384 || nl + 1 == file + flen);
    memcpy(out + ol, p + 40, tl);
    ol += tl;
    if (p[38] == 'F')
      out[ol++] = '\n';
    p = nl + 1;
  }
  ck_assert_uint_eq(ol, len);
  ck_assert(memcmp(out, in, len) == 0);
  free(out);
  free(file);
  free(r);
  free(in);
}
END_TEST

START_TEST(write_errors_are_reported_not_fatal) {
  char path[512];
  snprintf(path, sizeof path, "%s/0.log", tmp);
  ck_assert_int_eq(symlink("/dev/full", path), 0);
  crilog *log = open_log(0, 0, 0);
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(crilog_write(log, CRILOG_STDOUT, "x\n", 2, T0, &err), -1);
  ck_assert_int_eq(err.code, ENOSPC);
  ck_assert_ptr_nonnull(strstr(err.msg, "0.log"));
  ck_assert_int_eq(crilog_write(log, CRILOG_STDERR, "y\n", 2, T0, &err), -1);
  crilog_stats st;
  crilog_get_stats(log, &st);
  ck_assert_uint_eq(st.dropped_bytes, 2 * 42);                                /* two 42-byte records */
  ck_assert_int_eq(crilog_write(log, CRILOG_STDOUT, "held", 4, T0, &err), 0); /* nothing to write yet */
  ck_assert_int_eq(crilog_close(log, T0, &err), -1);

  /* A directory that does not exist. */
  crilog_opts o;
  crilog_opts_default(&o);
  snprintf(path, sizeof path, "%s/missing", tmp);
  ck_assert_int_eq(crilog_open(&log, path, 0, &o, &err), -1);
  ck_assert_ptr_null(log);
  ck_assert_ptr_nonnull(strstr(err.msg, "missing/0.log"));
  o.max_files = 0;
  ck_assert_int_eq(crilog_open(&log, tmp, 0, &o, &err), -1);
}
END_TEST

/* A full disk (/dev/full says ENOSPC to every write): every chunk is
 * dropped and counted, one episode of failures is told with its start, and
 * once the file can be written again (here: the link to /dev/full removed,
 * as an administrator deletes a log to make room) the next write reopens it,
 * the episode ends and the new records land whole. */
START_TEST(a_failing_log_drops_counts_and_resumes) {
  char path[512];
  snprintf(path, sizeof path, "%s/0.log", tmp);
  ck_assert_int_eq(symlink("/dev/full", path), 0);
  crilog *log = open_log(0, 0, 0);
  pv_err err;
  crilog_stats st;
  crilog_get_stats(log, &st);
  ck_assert_int_eq(st.error, 0);
  ck_assert_uint_eq(st.episodes, 0);
  for (int i = 0; i < 5; i++) {
    pv_err_clear(&err);
    ck_assert_int_eq(crilog_write(log, CRILOG_STDOUT, "0123456789\n", 11, T0 + i, &err), -1);
    ck_assert_int_eq(err.code, ENOSPC);
  }
  crilog_get_stats(log, &st);
  ck_assert_int_eq(st.error, ENOSPC);
  ck_assert_uint_eq(st.episodes, 1);
  ck_assert_int_eq(st.failing_since_ns, T0); /* the first failure, not the last */
  ck_assert_uint_eq(st.dropped_bytes, 5 * 51); /* five 51-byte records */
  ck_assert_uint_eq(st.bytes, 0);

  ck_assert_int_eq(unlink(path), 0);
  put(log, CRILOG_STDOUT, "back\n", 5, T0 + 10);
  put(log, CRILOG_STDERR, "again\n", 6, T0 + 11);
  crilog_get_stats(log, &st);
  ck_assert_int_eq(st.error, 0);
  ck_assert_int_eq(st.failing_since_ns, 0);
  ck_assert_uint_eq(st.episodes, 1);
  ck_assert_uint_eq(st.dropped_bytes, 5 * 51);
  ck_assert_uint_eq(st.bytes, 45 + 46);
  recs r;
  parse(path, &r);
  ck_assert_uint_eq(r.n, 2);
  ck_assert_str_eq(r.r[0].text, "back");
  ck_assert_str_eq(r.r[1].text, "again");
  free(r.buf);
  ck_assert_int_eq(crilog_close(log, T0, &err), 0);
}
END_TEST

/* A write the kernel takes only in part (here the file size limit cuts it,
 * as a disk filling up does): what it took is cut off again, so the file
 * ends with a whole record and a reader never sees a torn line; the whole
 * chunk counts as dropped. */
START_TEST(a_partly_written_chunk_leaves_no_torn_record) {
  struct rlimit old, lim;
  ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  crilog *log = open_log(0, 0, 0);
  char path[512];
  snprintf(path, sizeof path, "%s/0.log", tmp);
  put(log, CRILOG_STDOUT, "first\n", 6, T0); /* 46 bytes */
  lim = old;
  lim.rlim_cur = 100;
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
  pv_err err;
  pv_err_clear(&err);
  int rc = crilog_write(log, CRILOG_STDOUT, "a\nb\nc\n", 6, T0 + 1, &err); /* 3 x 42 bytes */
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, prev);
  ck_assert_int_eq(rc, -1);
  ck_assert_int_eq(err.code, EFBIG);
  crilog_stats st;
  crilog_get_stats(log, &st);
  ck_assert_uint_eq(st.dropped_bytes, 3 * 42);
  ck_assert_uint_eq(st.bytes, 46);
  struct stat sb;
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_int_eq(sb.st_size, 46);
  put(log, CRILOG_STDOUT, "d\n", 2, T0 + 2);
  recs r;
  parse(path, &r);
  ck_assert_uint_eq(r.n, 2);
  ck_assert_str_eq(r.r[0].text, "first");
  ck_assert_str_eq(r.r[1].text, "d");
  free(r.buf);
  ck_assert_int_eq(crilog_close(log, T0, &err), 0);
}
END_TEST

/* The header's date part is cached per second; when the wall clock steps
 * back (NTP, a manual date), the next record carries the earlier time, not
 * the cached later one.  Back by a second, forward again, back by a day to
 * the same time of day, back within one second; a held partial line takes
 * the time of the write that completes it. */
START_TEST(timestamps_follow_a_clock_stepped_back) {
  const int64_t sec = 1000000000LL, day = 86400 * sec;
  crilog *log = open_log(7, 0, 0);
  put(log, CRILOG_STDOUT, "a\n", 2, T0);
  put(log, CRILOG_STDOUT, "b\n", 2, T0 + 2 * sec);
  put(log, CRILOG_STDOUT, "c\n", 2, T0 - sec);
  put(log, CRILOG_STDOUT, "d\n", 2, T0);
  put(log, CRILOG_STDERR, "e\n", 2, T0 - day);
  put(log, CRILOG_STDERR, "f\n", 2, T0 - day - 123456788);
  put(log, CRILOG_STDOUT, "par", 3, T0 + 3 * sec);
  put(log, CRILOG_STDOUT, "tial\n", 5, T0 - 2 * sec);
  char path[512];
  snprintf(path, sizeof path, "%s", crilog_path(log));
  ck_assert_int_eq(crilog_close(log, T0, NULL), 0);
  size_t len;
  char *data = slurp(path, &len);
  ck_assert_str_eq(data, "2023-11-14T22:13:20.123456789Z stdout F a\n"
                         "2023-11-14T22:13:22.123456789Z stdout F b\n"
                         "2023-11-14T22:13:19.123456789Z stdout F c\n"
                         "2023-11-14T22:13:20.123456789Z stdout F d\n"
                         "2023-11-13T22:13:20.123456789Z stderr F e\n"
                         "2023-11-13T22:13:20.000000001Z stderr F f\n"
                         "2023-11-14T22:13:18.123456789Z stdout F partial\n");
  free(data);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("crilog");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, exact_line_format);
  tcase_add_test(tc, split_at_16k_boundaries);
  tcase_add_test(tc, streams_interleave_in_arrival_order);
  tcase_add_test(tc, partial_line_at_eof_is_P);
  tcase_add_test(tc, rotation_keeps_files_and_loses_nothing);
  tcase_add_test(tc, rotation_drops_the_oldest);
  tcase_add_test(tc, big_burst_reassembles);
  tcase_add_test(tc, write_errors_are_reported_not_fatal);
  tcase_add_test(tc, a_failing_log_drops_counts_and_resumes);
  tcase_add_test(tc, a_partly_written_chunk_leaves_no_torn_record);
  tcase_add_test(tc, timestamps_follow_a_clock_stepped_back);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
