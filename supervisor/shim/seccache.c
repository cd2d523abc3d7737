/* seccache.c - compiled seccomp filters by (profile, caps) (seccache.h). */
#include "supervisor/shim/seccache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct seccache_entry {
  seccache_entry *next;
  char *path; /* NULL = RuntimeDefault */
  uint64_t caps;
  /* The file's identity when it was compiled. */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  seccomp_prog prog;
};

static bool same_file(const seccache_entry *e, const struct stat *st) {
  return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
         e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static seccache_entry *find(const seccache *sc, const char *path, uint64_t caps, const struct stat *st) {
  for (seccache_entry *e = sc->head; e != NULL; e = e->next) {
    if (e->caps != caps || (e->path == NULL) != (path == NULL))
      continue;
    if (path == NULL || (strcmp(e->path, path) == 0 && same_file(e, st)))
      return e;
  }
  return NULL;
}

int seccache_get(seccache *sc, const char *path, uint64_t caps, const struct sock_fprog **out, pv_err *err) {
  struct stat st;
  memset(&st, 0, sizeof st);
  if (path != NULL && stat(path, &st) < 0)
    return pv_err_sys(err, "seccomp profile %s", path);
  seccache_entry *e = find(sc, path, caps, &st);
  if (e != NULL) {
    *out = &e->prog.fprog;
    return 0;
  }
  e = calloc(1, sizeof *e);
  if (e == NULL || (path != NULL && (e->path = strdup(path)) == NULL)) {
    free(e);
    return pv_err_sys(err, "seccomp profile %s", path != NULL ? path : "RuntimeDefault");
  }
  const char *disk = sc->disk_dir[0] != '\0' ? sc->disk_dir : NULL;
  int rc = path != NULL ? seccomp_profile_load_oci(path, caps, disk, &e->prog, err)
                        : seccomp_profile_default(caps, disk, &e->prog, err);
  if (rc < 0) {
    free(e->path);
    free(e);
    return -1;
  }
  e->caps = caps;
  e->dev = st.st_dev;
  e->ino = st.st_ino;
  e->size = st.st_size;
  e->mtime = st.st_mtim;
  e->next = sc->head;
  sc->head = e;
  sc->n++;
  sc->compiles++;
  *out = &e->prog.fprog;
  return 0;
}

void seccache_init(seccache *sc, const char *disk_dir) {
  memset(sc, 0, sizeof *sc);
  if (disk_dir != NULL && strlen(disk_dir) < sizeof sc->disk_dir)
    strcpy(sc->disk_dir, disk_dir);
}

void seccache_free(seccache *sc) {
  if (sc == NULL)
    return;
  for (seccache_entry *e = sc->head, *next; e != NULL; e = next) {
    next = e->next;
    seccomp_prog_free(&e->prog);
    free(e->path);
    free(e);
  }
  sc->head = NULL;
  sc->n = 0;
  sc->compiles = 0;
}
