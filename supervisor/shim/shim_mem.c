/* shim_mem.c - keeps the resident memory of a long-lived shim small.
 *
 * A shim lives as long as its pod, one per pod, so what it keeps resident is
 * paid per pod.  Two things inflate it after start-up and are never used
 * again: heap pages touched by parsing the manifest (libyaml's tree, the
 * spec) and executable pages mapped while setting up, including the pages
 * the kernel maps around each fault ("fault-around").  See shim_internal.h. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "supervisor/shim/shim_internal.h"

void shim_mem_setup(void) {
  /* A large allocation (a held 16 KiB log line) comes from mmap: only the
   * pages actually written count, and freeing it returns them at once.
   * The log output and pipe read buffers are shared by the whole process
   * (crilog.h, logpump.h), not allocated per container. */
  mallopt(M_MMAP_THRESHOLD, 24 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024);
  /* The thread pool only removes finished containers' directories: one
   * thread, sharing the main heap (no per-thread malloc arena), does. */
  mallopt(M_ARENA_MAX, 1);
  setenv("UV_THREADPOOL_SIZE", "1", 0);
}

/* Executable code is never written, so dropping its page table entries
 * loses nothing: the next call re-faults the page from the page cache.
 * MADV_RANDOM first, so that from now on a fault maps that page alone
 * rather than the pages around it. */
static void drop_code_pages(void) {
  FILE *f = fopen("/proc/self/maps", "re");
  if (f == NULL)
    return;
  char line[512];
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long lo, hi;
    char perms[8];
    int path = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path) < 3 || path == 0)
      continue;
    if (strcmp(perms, "r-xp") != 0 || line[path] != '/')
      continue; /* only file-backed code; never [vdso] or data */
    void *p = (void *)lo;
    size_t len = hi - lo;
    madvise(p, len, MADV_RANDOM);
    madvise(p, len, MADV_DONTNEED);
  }
  fclose(f);
}

/* The main thread's stack pages below the current frame were touched by
 * deeper calls (set-up's path buffers, parsing, container start) and hold
 * nothing live any more: a later deeper call faults in zeroed pages again.
 * A margin is kept below the caller's frame for the calls that follow. */
static unsigned long stack_lo, stack_hi;

static void find_stack(void) {
  FILE *f = fopen("/proc/self/maps", "re");
  if (f == NULL)
    return;
  char line[512];
  while (fgets(line, sizeof line, f) != NULL)
    if (strstr(line, "[stack]") != NULL && sscanf(line, "%lx-%lx", &stack_lo, &stack_hi) == 2)
      break;
  fclose(f);
}

static void drop_stack_pages(void) {
  unsigned long sp = (unsigned long)__builtin_frame_address(0);
  unsigned long top = (sp - 16 * 1024) & ~4095UL;
  if (stack_lo == 0 || sp < stack_lo || sp >= stack_hi || top <= stack_lo)
    return;
  madvise((void *)stack_lo, top - stack_lo, MADV_DONTNEED);
}

/* Called on the loop after a status change: one madvise and the heap trim,
 * no file read. */
void shim_mem_release(void) {
  malloc_trim(0);
  drop_stack_pages();
}

void shim_mem_trim(void) {
  malloc_trim(0);
  drop_code_pages();
  find_stack();
  drop_stack_pages();
}
