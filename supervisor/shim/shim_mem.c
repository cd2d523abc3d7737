/* shim_mem.c - keeps the resident memory of a long-lived shim small.
 *
 * A shim lives as long as its pod, one per pod, so what it keeps resident is
 * paid per pod.  Most of it is left over from bursts of work and never used
 * until the next burst: heap pages freed after parsing, rendering the status
 * or setting a container up; stack pages below the loop's frames; the log
 * scratch buffers; and executable pages, which the kernel maps 64 KiB at a
 * time around each fault ("fault-around") and which a shim that is not
 * shared with other shims pays for alone.  Once the pod has been quiet for
 * a moment (SHIM_MEM_IDLE_MS), all of it is handed back; the next burst
 * faults back what it needs from the page cache.  See shim_mem.h. */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "supervisor/shim/crilog.h"
#include "supervisor/shim/logpump.h"
#include "supervisor/shim/shim_mem.h"

/* Quiet time before the shim trims: long enough that a burst of events
 * (a restart, a probe round) does not pay the re-faults on every step. */
#define SHIM_MEM_IDLE_MS 1000

void shim_mem_setup(void) {
  /* A large allocation (a held 16 KiB log line) comes from mmap: only the
   * pages actually written count, and freeing it returns them at once.
   * The log output and pipe read buffers are shared by the whole process
   * (crilog.h, logpump.h), not allocated per container. */
  mallopt(M_MMAP_THRESHOLD, 24 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024);
  /* The thread pool only writes state files and removes finished
   * containers' directories: one thread, sharing the main heap (no
   * per-thread malloc arena), does. */
  mallopt(M_ARENA_MAX, 1);
  setenv("UV_THREADPOOL_SIZE", "1", 0);
}

/* The file-backed mappings that hold only pages of the file, read from
 * /proc/self/smaps at each trim (once per quiet period): code and
 * read-only data are never written, so dropping their page table entries
 * loses nothing (the next access re-faults the page from the page cache).
 * A mapping with anonymous pages, resident or swapped out, is left alone:
 * relocated read-only data (RELRO) holds written copies that dropping
 * would revert to the file's bytes. */
#define MAX_FILE_MAPS 32
static struct { unsigned long lo, hi; } file_maps[MAX_FILE_MAPS];
static size_t n_file_maps;
static unsigned long stack_lo, stack_hi;

/* Ends the mapping [lo, hi) being read: it is kept when it maps a file
 * read-only and has neither anonymous nor swapped-out pages. */
static void keep_if_clean(bool candidate, unsigned long lo, unsigned long hi, unsigned long anon,
                          unsigned long swap) {
  if (candidate && anon == 0 && swap == 0 && n_file_maps < MAX_FILE_MAPS) {
    file_maps[n_file_maps].lo = lo;
    file_maps[n_file_maps++].hi = hi;
  }
}

static void find_mappings(void) {
  n_file_maps = 0;
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL)
    return;
  char line[512];
  bool candidate = false;
  unsigned long lo = 0, hi = 0, anon = 1, swap = 1;
  while (fgets(line, sizeof line, f) != NULL) {
    char perms[8];
    int path = 0;
    unsigned long a, b, v;
    /* A header line; "Anonymous:" also starts with a hex digit, so the
     * range is taken only once the whole header matched. */
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &a, &b, perms, &path) >= 3 && path > 0) {
      keep_if_clean(candidate, lo, hi, anon, swap);
      lo = a;
      hi = b;
      anon = swap = 1; /* unknown until read */
      candidate = line[path] == '/' && (strcmp(perms, "r-xp") == 0 || strcmp(perms, "r--p") == 0);
      if (strncmp(line + path, "[stack]", 7) == 0) {
        stack_lo = lo;
        stack_hi = hi;
      }
    } else if (sscanf(line, "Anonymous: %lu kB", &v) == 1) {
      anon = v;
    } else if (sscanf(line, "Swap: %lu kB", &v) == 1) {
      swap = v;
    }
  }
  keep_if_clean(candidate, lo, hi, anon, swap);
  fclose(f);
}

/* The main thread's stack pages below the current frame hold nothing live
 * (they were touched by deeper calls); margin bytes below the frame are
 * kept for the calls that follow. */
static void drop_stack_pages(unsigned long margin) {
  unsigned long sp = (unsigned long)__builtin_frame_address(0);
  unsigned long top = (sp - margin) & ~4095UL;
  if (stack_lo == 0 || sp < stack_lo || sp >= stack_hi || top <= stack_lo)
    return;
  madvise((void *)stack_lo, top - stack_lo, MADV_DONTNEED);
}

static void drop_file_pages(void) {
  for (size_t i = 0; i < n_file_maps; i++)
    madvise((void *)file_maps[i].lo, file_maps[i].hi - file_maps[i].lo, MADV_DONTNEED);
}

/* Everything at once; called from shallow frames on the loop's thread
 * (outside any log pump callback). */
static void trim_all(void) {
  find_mappings();
  malloc_trim(0);
  crilog_release_scratch();
  logpump_release_scratch();
  drop_stack_pages(4096);
  drop_file_pages();
}

static void on_idle(uv_timer_t *t) {
  (void)t;
  trim_all();
}

void shim_mem_idle_init(uv_timer_t *t, uv_loop_t *loop) {
  uv_timer_init(loop, t);
}

void shim_mem_burst_done(uv_timer_t *t) {
  uv_timer_start(t, on_idle, SHIM_MEM_IDLE_MS, 0);
}
