/*
 * fs_host.c - host probes for the rootfs plan, read from
 * /proc/self/mountinfo: whether "/" is the initial rootfs (no pivot_root),
 * and which cgroup v1 hierarchies a container may see.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/core/fs.h"

/* Splits a mountinfo line in place; returns the number of fields before
 * the " - " separator (f[0..n)) and sets *tail to the 3 after it. */
static int mountinfo_fields(char *line, char **f, int max, char **tail) {
  int n = 0;
  char *save = NULL;
  for (char *t = strtok_r(line, " \n", &save); t != NULL; t = strtok_r(NULL, " \n", &save)) {
    if (strcmp(t, "-") == 0) {
      for (int i = 0; i < 3; i++)
        tail[i] = strtok_r(NULL, " \n", &save);
      return tail[2] != NULL ? n : -1;
    }
    if (n < max)
      f[n++] = t;
  }
  return -1;
}

bool fs_host_root_is_initramfs(void) {
  FILE *fp = fopen("/proc/self/mountinfo", "re");
  if (fp == NULL)
    return false;
  char *line = NULL, *f[8], *tail[3];
  size_t cap = 0;
  bool rootfs = false;
  while (getline(&line, &cap, fp) > 0) {
    if (mountinfo_fields(line, f, 8, tail) >= 5 && strcmp(f[4], "/") == 0)
      rootfs = strcmp(tail[0], "rootfs") == 0; /* the last "/" mount is the visible one */
  }
  free(line);
  fclose(fp);
  return rootfs;
}

/* Keeps only the options that name a v1 hierarchy (controllers, name=). */
static char *hierarchy_options(const char *super) {
  static const char *const skip[] = {
      "rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods", "nofavordynmods"};
  char *copy = strdup(super), *out = calloc(1, strlen(super) + 1), *save = NULL;
  if (copy == NULL || out == NULL) {
    free(copy);
    free(out);
    return NULL;
  }
  for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
    bool drop = strncmp(t, "release_agent=", 14) == 0;
    for (size_t i = 0; !drop && i < sizeof skip / sizeof skip[0]; i++)
      drop = strcmp(t, skip[i]) == 0;
    if (!drop) {
      if (out[0] != '\0')
        strcat(out, ",");
      strcat(out, t);
    }
  }
  free(copy);
  return out;
}

int fs_cgroup_mounts_detect(const char *cgroup_root, fs_cgroup_mount **out, size_t *n, pv_err *err) {
  *out = NULL;
  *n = 0;
  FILE *fp = fopen("/proc/self/mountinfo", "re");
  if (fp == NULL)
    return pv_err_sys(err, "open /proc/self/mountinfo");
  size_t rl = strlen(cgroup_root), cap = 0, lcap = 0;
  char *line = NULL, *f[8], *tail[3];
  int r = 0;
  while (r == 0 && getline(&line, &lcap, fp) > 0) {
    if (mountinfo_fields(line, f, 8, tail) < 5 || strcmp(tail[0], "cgroup") != 0)
      continue;
    const char *mp = f[4];
    if (strncmp(mp, cgroup_root, rl) != 0 || mp[rl] != '/' || strchr(mp + rl + 1, '/') != NULL)
      continue;
    if (*n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      fs_cgroup_mount *m = realloc(*out, nc * sizeof *m);
      if (m == NULL) {
        r = pv_err_sys(err, "detect cgroup mounts");
        break;
      }
      *out = m;
      cap = nc;
    }
    fs_cgroup_mount *m = &(*out)[*n];
    m->name = strdup(mp + rl + 1);
    m->options = hierarchy_options(tail[2]);
    if (m->name == NULL || m->options == NULL) {
      free(m->name);
      free(m->options);
      r = pv_err_sys(err, "detect cgroup mounts");
      break;
    }
    (*n)++;
  }
  free(line);
  fclose(fp);
  if (r < 0) {
    fs_cgroup_mounts_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return r;
}

void fs_cgroup_mounts_free(fs_cgroup_mount *m, size_t n) {
  for (size_t i = 0; m != NULL && i < n; i++) {
    free(m[i].name);
    free(m[i].options);
  }
  free(m);
}
