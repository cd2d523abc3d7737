/* up_logs.c - `up --logs`: a pod's CRI log files followed through inotify
 * (up_logs.h). */
#include "supervisor/cli/up_logs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARTIAL_MAX (16384 * 4)

typedef struct up_follow {
  up_logs *owner;
  char name[256]; /* the container */
  long restart;   /* the run followed, -1 none yet */
  off_t off;
  ino_t ino;
  char *partial; /* joined "P" records, PARTIAL_MAX bytes */
  size_t plen;
  uv_fs_event_t ev; /* the container's directory */
  bool ev_open;
} up_follow;

void up_logs_init(up_logs *l) {
  memset(l, 0, sizeof *l);
}

/* "<ts> <stream> <P|F> <text>": joins partial records, prints whole lines. */
static void emit_cri(up_logs *l, up_follow *f, char *line) {
  char *sp1 = strchr(line, ' ');
  char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if (sp2 == NULL || (sp2[1] != 'P' && sp2[1] != 'F'))
    return;
  char tag = sp2[1];
  const char *text = sp2[2] == ' ' ? sp2 + 3 : sp2 + 2;
  size_t tl = strlen(text);
  if (f->plen + tl < PARTIAL_MAX) {
    memcpy(f->partial + f->plen, text, tl);
    f->plen += tl;
  }
  if (tag == 'F') {
    printf("%s/%s | %.*s\n", l->pod, f->name, (int)f->plen, f->partial);
    f->plen = 0;
  }
}

/* Reads the complete lines added to path since the last time. */
static void follow_file(up_logs *l, up_follow *f, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  struct stat st;
  if (fstat(fd, &st) == 0 && (st.st_ino != f->ino || st.st_size < f->off)) {
    f->ino = st.st_ino;
    f->off = 0; /* rotated or new */
  }
  static char buf[65536], line[65536];
  size_t ll = 0;
  ssize_t r;
  off_t consumed = f->off;
  while ((r = pread(fd, buf, sizeof buf, f->off)) > 0) {
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] == '\n') {
        line[ll] = '\0';
        emit_cri(l, f, line);
        ll = 0;
        consumed = f->off + i + 1;
      } else if (ll + 1 < sizeof line) {
        line[ll++] = buf[i];
      }
    }
    f->off += r;
  }
  f->off = consumed; /* an incomplete last line is read again */
  close(fd);
}

static void on_change(uv_fs_event_t *h, const char *file, int events, int status) {
  (void)file;
  (void)events;
  (void)status;
  up_logs_scan(h->data);
}

static up_follow *follower(up_logs *l, const char *name) {
  for (size_t i = 0; i < l->nf; i++)
    if (strcmp(l->f[i]->name, name) == 0)
      return l->f[i];
  if (l->nf >= UP_LOGS_MAX_CONTAINERS)
    return NULL;
  up_follow *f = calloc(1, sizeof *f);
  if (f == NULL || (f->partial = malloc(PARTIAL_MAX)) == NULL) {
    free(f);
    return NULL;
  }
  f->owner = l;
  f->restart = -1;
  snprintf(f->name, sizeof f->name, "%s", name);
  l->f[l->nf++] = f;
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s/%s", l->dir, name) < (int)sizeof dir &&
      uv_fs_event_init(l->loop, &f->ev) == 0) {
    f->ev.data = l;
    f->ev_open = true;
    if (uv_fs_event_start(&f->ev, on_change, dir, 0) < 0) {
      f->ev_open = false;
      uv_close((uv_handle_t *)&f->ev, NULL);
    }
  }
  return f;
}

/* Follows the newest run of a container, finishing the previous one first. */
static void follow_container(up_logs *l, up_follow *f) {
  char path[PATH_MAX + 512];
  for (long r = f->restart < 0 ? 0 : f->restart;; r++) {
    snprintf(path, sizeof path, "%s/%s/%ld.log", l->dir, f->name, r);
    if (access(path, F_OK) != 0)
      break;
    if (r != f->restart) {
      if (f->restart >= 0) {
        char prev[PATH_MAX + 512];
        snprintf(prev, sizeof prev, "%s/%s/%ld.log", l->dir, f->name, f->restart);
        follow_file(l, f, prev);
      }
      f->restart = r;
      f->off = 0;
      f->ino = 0;
      f->plen = 0;
    }
    follow_file(l, f, path);
  }
}

void up_logs_scan(up_logs *l) {
  if (l->dir == NULL)
    return;
  DIR *d = opendir(l->dir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    up_follow *f = follower(l, e->d_name);
    if (f != NULL)
      follow_container(l, f);
  }
  closedir(d);
  fflush(stdout);
}

void up_logs_start(up_logs *l, uv_loop_t *loop, const char *pod, const char *dir) {
  l->loop = loop;
  l->pod = pod;
  l->dir = dir != NULL ? strdup(dir) : NULL;
  if (l->dir == NULL)
    return;
  if (uv_fs_event_init(loop, &l->dir_event) == 0) {
    l->dir_event.data = l;
    l->dir_open = true;
    if (uv_fs_event_start(&l->dir_event, on_change, l->dir, 0) < 0) {
      l->dir_open = false;
      uv_close((uv_handle_t *)&l->dir_event, NULL);
    }
  }
  up_logs_scan(l);
}

void up_logs_stop(up_logs *l) {
  up_logs_scan(l);
  if (l->dir_open) {
    l->dir_open = false;
    uv_close((uv_handle_t *)&l->dir_event, NULL);
  }
  for (size_t i = 0; i < l->nf; i++)
    if (l->f[i]->ev_open) {
      l->f[i]->ev_open = false;
      uv_close((uv_handle_t *)&l->f[i]->ev, NULL);
    }
}

void up_logs_free(up_logs *l) {
  for (size_t i = 0; i < l->nf; i++) {
    free(l->f[i]->partial);
    free(l->f[i]);
  }
  free(l->dir);
  memset(l, 0, sizeof *l);
}
