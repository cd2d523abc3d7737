/*
 * applybody.c - an apply request's body from files, directories and
 * standard input (see applybody.h).
 */
#include "supervisor/cli/applybody.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int grow(applybody *b, size_t more, pv_err *err) {
  if (b->len + more + 1 <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *d = realloc(b->data, cap);
  if (d == NULL)
    return pv_err_set(err, ENOMEM, "out of memory");
  b->data = d;
  b->cap = cap;
  return 0;
}

static void append(applybody *b, const char *s, size_t n) {
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
  for (size_t i = 0; i < n; i++)
    b->lines += s[i] == '\n';
}

static int add_part(applybody *b, const char *label, const char *text, size_t n, pv_err *err) {
  applybody_part *p = realloc(b->parts, (b->n_parts + 1) * sizeof *p);
  if (p == NULL)
    return pv_err_set(err, ENOMEM, "out of memory");
  b->parts = p;
  if (grow(b, n + 5, err) < 0)
    return -1;
  if (b->n_parts > 0)
    append(b, "---\n", 4); /* the previous part ends in a newline */
  applybody_part *part = &b->parts[b->n_parts];
  if ((part->label = strdup(label)) == NULL)
    return pv_err_set(err, ENOMEM, "out of memory");
  b->n_parts++;
  part->first_line = b->lines + 1;
  size_t before = b->lines;
  append(b, text, n);
  if (n > 0 && text[n - 1] != '\n')
    append(b, "\n", 1);
  part->n_lines = b->lines - before;
  size_t skip = strspn(text, " \t\r\n");
  b->json = b->n_parts == 1 && skip < n && (text[skip] == '{' || text[skip] == '[');
  return 0;
}

static int read_all(int fd, const char *label, char **out, size_t *len, pv_err *err) {
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap);
  if (buf == NULL)
    return pv_err_set(err, ENOMEM, "out of memory");
  for (;;) {
    if (n == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (nb == NULL) {
        free(buf);
        return pv_err_set(err, ENOMEM, "out of memory");
      }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(buf);
      return pv_err_sys(err, "%s: read", label);
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  *out = buf;
  *len = n;
  return 0;
}

static int add_file(applybody *b, const char *path, pv_err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return pv_err_sys(err, "%s", path);
  char *text;
  size_t n;
  int r = read_all(fd, path, &text, &n, err);
  close(fd);
  if (r == 0) {
    r = add_part(b, path, text, n, err);
    free(text);
  }
  return r;
}

/* The names a manifest directory holds (spec.c's rule). */
static bool manifest_name(const char *name) {
  if (name[0] == '.')
    return false;
  size_t n = strlen(name);
  static const char *const exts[] = {".yaml", ".yml", ".json"};
  for (size_t i = 0; i < 3; i++) {
    size_t e = strlen(exts[i]);
    if (n > e && strcmp(name + n - e, exts[i]) == 0)
      return true;
  }
  return false;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(applybody *b, const char *dir, pv_err *err) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return pv_err_sys(err, "%s", dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  int r = 0;
  struct dirent *e;
  while (r == 0 && (e = readdir(d)) != NULL) {
    if (!manifest_name(e->d_name))
      continue;
    if (n == cap) {
      char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *nn);
      if (nn == NULL) {
        r = pv_err_set(err, ENOMEM, "out of memory");
        break;
      }
      names = nn;
    }
    if ((names[n] = strdup(e->d_name)) == NULL)
      r = pv_err_set(err, ENOMEM, "out of memory");
    else
      n++;
  }
  closedir(d);
  if (n > 1)
    qsort(names, n, sizeof *names, cmp_str);
  const char *sep = dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/";
  for (size_t i = 0; i < n; i++) {
    char *path = NULL;
    struct stat st;
    if (r == 0 && asprintf(&path, "%s%s%s", dir, sep, names[i]) < 0)
      r = pv_err_set(err, ENOMEM, "out of memory"), path = NULL;
    if (r == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
      r = add_file(b, path, err);
    free(path);
    free(names[i]);
  }
  free(names);
  return r;
}

int applybody_add(applybody *b, const char *path, int stdin_fd, pv_err *err) {
  if (strcmp(path, "-") == 0) {
    char *text;
    size_t n;
    if (read_all(stdin_fd, "<stdin>", &text, &n, err) < 0)
      return -1;
    int r = add_part(b, "<stdin>", text, n, err);
    free(text);
    return r;
  }
  struct stat st;
  if (stat(path, &st) < 0)
    return pv_err_sys(err, "%s", path);
  return S_ISDIR(st.st_mode) ? add_dir(b, path, err) : add_file(b, path, err);
}

int applybody_build(applybody *b, const char *const *paths, size_t n, int stdin_fd, pv_err *err) {
  for (size_t i = 0; i < n; i++)
    if (applybody_add(b, paths[i], stdin_fd, err) < 0)
      return -1;
  return 0;
}

bool applybody_empty(const applybody *b) {
  const char *s = b->data != NULL ? b->data : "";
  while (*s != '\0') {
    s += strspn(s, " \t\r");
    size_t line = strcspn(s, "\n");
    bool blank = line == 0 || s[0] == '#' || (line == 3 && strncmp(s, "---", 3) == 0);
    if (!blank)
      return false;
    s += line;
    if (*s == '\n')
      s++;
  }
  return true;
}

const char *applybody_content_type(const applybody *b) {
  return b->json ? "application/json" : "application/yaml";
}

int applybody_locate(const applybody *b, size_t line, const char **label, size_t *part_line) {
  for (size_t i = 0; i < b->n_parts; i++) {
    const applybody_part *p = &b->parts[i];
    if (line >= p->first_line && line < p->first_line + p->n_lines) {
      *label = p->label;
      *part_line = line - p->first_line + 1;
      return 0;
    }
  }
  return -1;
}

char *applybody_map_message(const applybody *b, const char *msg) {
  static const char *const labels[] = {"<request>:", "<input>:"};
  for (size_t i = 0; i < 2; i++) {
    size_t ln = strlen(labels[i]);
    if (strncmp(msg, labels[i], ln) != 0)
      continue;
    char *end;
    errno = 0;
    unsigned long line = strtoul(msg + ln, &end, 10);
    const char *label;
    size_t part_line;
    if (end == msg + ln || *end != ':' || errno != 0 || applybody_locate(b, line, &label, &part_line) < 0)
      break;
    char *out = NULL;
    if (asprintf(&out, "%s:%zu%s", label, part_line, end) < 0)
      return NULL;
    return out;
  }
  return strdup(msg);
}

void applybody_free(applybody *b) {
  for (size_t i = 0; i < b->n_parts; i++)
    free(b->parts[i].label);
  free(b->parts);
  free(b->data);
  *b = (applybody){0};
}
