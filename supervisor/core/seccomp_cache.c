/*
 * seccomp_cache.c - compiled programs kept on disk between processes.
 *
 * libseccomp takes milliseconds to compile a profile, longer than the rest
 * of a container start; `podvisor run` is one process per container and a
 * shim compiles for its first container.  So a program, once compiled, is
 * written to <cache dir>/<key>.bpf and read back by the next process that
 * asks for the same thing (crun keeps such a cache as well).
 *
 * The key is the SHA-256 of everything the program depends on: the
 * profile model as parsed (every rule, name, action, condition and
 * capability gate), the capability set, the native architecture and the
 * libseccomp version (which decides the names it knows and the code it
 * generates).  Any change is another key, so an entry is never stale; an
 * edited profile file simply makes a new entry.  A file that is not a
 * complete entry for its own key (a crash while writing, a foreign file)
 * is ignored and rewritten.  Entries are small (a few kilobytes) and
 * there are as many as distinct (profile, caps) pairs; nothing removes
 * them but the administrator (removing any or all is always safe).
 *
 * Format: "PVBPF1\n\0", the 32-byte key, the instruction count (uint32,
 * native order), then the instructions.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sha256.h> /* libmd */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/seccomp_internal.h"
#include "supervisor/core/util.h"

static const char MAGIC[8] = "PVBPF1\n";

struct header {
  char magic[8];
  uint8_t key[SHA256_DIGEST_LENGTH];
  uint32_t len;
};

static void put(SHA256_CTX *h, const void *p, size_t n) {
  SHA256Update(h, p, n);
}

static void put_u64(SHA256_CTX *h, uint64_t v) {
  put(h, &v, sizeof v);
}

static void put_rule(SHA256_CTX *h, const seccomp_rule *r) {
  put_u64(h, r->n_names);
  for (size_t i = 0; i < r->n_names; i++)
    put(h, r->names[i], strlen(r->names[i]) + 1);
  put_u64(h, r->action);
  put_u64(h, r->caps_all);
  put_u64(h, r->caps_none);
  put_u64(h, r->skip);
  put_u64(h, r->n_args);
  for (unsigned i = 0; i < r->n_args; i++) {
    put_u64(h, r->args[i].arg);
    put_u64(h, r->args[i].op);
    put_u64(h, r->args[i].datum_a);
    put_u64(h, r->args[i].datum_b);
  }
}

static void cache_key(const seccomp_profile *p, uint64_t caps, uint8_t key[SHA256_DIGEST_LENGTH]) {
  SHA256_CTX h;
  SHA256Init(&h);
  put(&h, MAGIC, sizeof MAGIC);
  const struct scmp_version *v = seccomp_version();
  put_u64(&h, v != NULL ? v->major : 0);
  put_u64(&h, v != NULL ? v->minor : 0);
  put_u64(&h, v != NULL ? v->micro : 0);
  put_u64(&h, seccomp_arch_native());
  put_u64(&h, caps);
  put_u64(&h, p->default_action);
  put_u64(&h, p->skip_unknown);
  put_u64(&h, p->n_arches);
  for (size_t i = 0; i < p->n_arches; i++)
    put_u64(&h, p->arches[i]);
  put_u64(&h, p->n_rules);
  for (size_t i = 0; i < p->n_rules; i++)
    put_rule(&h, &p->rules[i]);
  SHA256Final(key, &h);
}

static int entry_path(char *buf, size_t len, const char *dir, const uint8_t key[SHA256_DIGEST_LENGTH]) {
  char hex[2 * SHA256_DIGEST_LENGTH + 1];
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++)
    snprintf(hex + 2 * i, 3, "%02x", key[i]);
  return pv_path(buf, len, "%s/%s.bpf", dir, hex);
}

/* 0 with *out filled from a valid entry, -1 when there is none. */
static int cache_read(const char *path, const uint8_t key[SHA256_DIGEST_LENGTH], seccomp_prog *out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  struct stat st;
  struct header hd;
  int rc = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (off_t)sizeof hd &&
      pread(fd, &hd, sizeof hd, 0) == (ssize_t)sizeof hd && memcmp(hd.magic, MAGIC, sizeof MAGIC) == 0 &&
      memcmp(hd.key, key, sizeof hd.key) == 0 && hd.len > 0 && hd.len <= USHRT_MAX &&
      (off_t)(sizeof hd + hd.len * sizeof(struct sock_filter)) == st.st_size) {
    size_t n = hd.len * sizeof(struct sock_filter);
    struct sock_filter *f = malloc(n);
    if (f != NULL && pread(fd, f, n, sizeof hd) == (ssize_t)n) {
      out->fprog.filter = f;
      out->fprog.len = (unsigned short)hd.len;
      rc = 0;
    } else {
      free(f);
    }
  }
  close(fd);
  return rc;
}

/* Best effort: a cache that cannot be written only costs the next compile. */
static void cache_write(const char *dir, const char *path, const uint8_t key[SHA256_DIGEST_LENGTH],
                        const seccomp_prog *prog) {
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", dir);
  char *slash = strrchr(parent, '/');
  if (slash != NULL && slash != parent) {
    *slash = '\0';
    (void)mkdir(parent, 0700);
  }
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return;
  struct header hd;
  memset(&hd, 0, sizeof hd);
  memcpy(hd.magic, MAGIC, sizeof MAGIC);
  memcpy(hd.key, key, sizeof hd.key);
  hd.len = prog->fprog.len;
  size_t n = hd.len * sizeof(struct sock_filter);
  char *buf = malloc(sizeof hd + n);
  if (buf == NULL)
    return;
  memcpy(buf, &hd, sizeof hd);
  memcpy(buf + sizeof hd, prog->fprog.filter, n);
  (void)pv_write_file_atomic(path, buf, sizeof hd + n, 0600, NULL);
  free(buf);
}

int seccomp_compile_cached(const seccomp_profile *p, uint64_t caps, const char *cache_dir, seccomp_prog *out,
                           pv_err *err) {
  memset(out, 0, sizeof *out);
  uint8_t key[SHA256_DIGEST_LENGTH];
  char path[PATH_MAX];
  bool cached = cache_dir != NULL && cache_dir[0] != '\0';
  if (cached) {
    cache_key(p, caps, key);
    cached = entry_path(path, sizeof path, cache_dir, key) == 0;
    if (cached && cache_read(path, key, out) == 0)
      return 0;
  }
  if (seccomp_compile(p, caps, out, err) < 0)
    return -1;
  if (cached)
    cache_write(cache_dir, path, key, out);
  return 0;
}
