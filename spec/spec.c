/* spec.c - entry points: files and directories to pods (see spec.h). */
#include "spec/spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sha256.h> /* libmd */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/ctrdecode.h"
#include "spec/decode.h"
#include "spec/hash.h"
#include "spec/poddecode.h"
#include "spec/ytree.h"

static int list_push(spec_pod_list *l, spec_pod *p) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    spec_pod **items = realloc(l->items, cap * sizeof *items);
    if (items == NULL)
      return -1;
    l->items = items;
    l->cap = cap;
  }
  l->items[l->n++] = p;
  return 0;
}

/* Two pods with one namespace/name would fight over one sandbox. */
static void check_unique(decode_ctx *c, const spec_pod_list *out, const spec_pod *p, const ytree_node *root) {
  if (p->name == NULL || p->ns == NULL)
    return;
  for (size_t i = 0; i < out->n; i++) {
    const spec_pod *o = out->items[i];
    if (o->name != NULL && o->ns != NULL && strcmp(o->name, p->name) == 0 && strcmp(o->ns, p->ns) == 0) {
      decode_push_key(c, "metadata.name");
      decode_error(c, ytree_map_get(ytree_map_get(root, "metadata"), "name"), "pod %s/%s is defined twice (first in %s, line %d)", p->ns, p->name,
                   o->source_file ? o->source_file : "?", o->line);
      decode_pop(c, 0);
      return;
    }
  }
}

int spec_parse_buffer(const char *filename, const char *buf, size_t len, unsigned flags, spec_pod_list *out,
                      diag_list *diags) {
  size_t errors_before = diags ? diags->errors : 0;
  diag_list scratch;
  diag_list_init(&scratch);
  if (diags == NULL)
    diags = &scratch; /* callers that only want the verdict */
  if (filename == NULL)
    filename = "<input>";
  int oom = 0;
  if (len > SPEC_MAX_FILE_SIZE) {
    diag_add(diags, DIAG_ERROR, filename, 0, 0, "", "the file is larger than %u bytes", SPEC_MAX_FILE_SIZE);
  } else if (buf == NULL && len > 0) {
    diag_add(diags, DIAG_ERROR, filename, 0, 0, "", "no input");
  } else {
    ytree_docs docs;
    ytree_parse(filename, buf ? buf : "", len, &docs, diags);
    for (size_t i = 0; i < docs.n; i++) {
      decode_ctx c = {.file = filename, .diags = diags, .errors = docs.items[i].errors};
      spec_pod *p = poddecode_document(&c, &docs.items[i]);
      if (p != NULL && out != NULL)
        check_unique(&c, out, p, docs.items[i].root);
      if (p != NULL) {
        p->error_count = c.errors;
        p->warning_count = c.warnings;
        if (c.errors == 0 && hash_pod(p) < 0) {
          diag_add(diags, DIAG_ERROR, filename, p->line, 0, "", "computing the pod hash failed");
          p->error_count++;
        }
      }
      oom |= c.oom;
      if (p != NULL && out != NULL && (p->error_count == 0 || (flags & SPEC_KEEP_INVALID))) {
        if (list_push(out, p) < 0) {
          oom = 1;
          spec_pod_free(p);
        }
      } else {
        spec_pod_free(p);
      }
    }
    ytree_docs_free(&docs);
  }
  size_t errors = diags->errors - errors_before;
  diag_list_free(&scratch);
  if (oom) {
    errno = ENOMEM;
    return -1;
  }
  if (errors > 0) {
    errno = EINVAL;
    return -1;
  }
  return 0;
}

static int read_all(int fd, char **out, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  if (buf == NULL)
    return -1;
  for (;;) {
    if (n == cap) {
      if (cap > SPEC_MAX_FILE_SIZE) {
        free(buf);
        errno = EFBIG;
        return -1;
      }
      char *b = realloc(buf, cap * 2);
      if (b == NULL) {
        free(buf);
        return -1;
      }
      buf = b;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      errno = e;
      return -1;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  *out = buf;
  *len = n;
  return 0;
}

int spec_parse_file(const char *path, unsigned flags, spec_pod_list *out, diag_list *diags) {
  bool is_stdin = strcmp(path, "-") == 0;
  const char *label = is_stdin ? "<stdin>" : path;
  int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
  char *buf = NULL;
  size_t len = 0;
  if (fd < 0 || read_all(fd, &buf, &len) < 0) {
    int e = errno;
    diag_add(diags, DIAG_ERROR, label, 0, 0, "", "cannot read the file: %s",
             e == EFBIG ? "it is larger than 8 MiB" : strerror(e));
    if (fd >= 0 && !is_stdin)
      close(fd);
    errno = e;
    return -1;
  }
  if (!is_stdin)
    close(fd);
  int r = spec_parse_buffer(label, buf, len, flags, out, diags);
  free(buf);
  return r;
}

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

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int load_dir(const char *dir, unsigned flags, spec_pod_list *out, diag_list *diags) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    diag_add(diags, DIAG_ERROR, dir, 0, 0, "", "cannot read the directory: %s", strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int r = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!manifest_name(e->d_name))
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(names, cap * sizeof *nn);
      if (nn == NULL) {
        r = -1;
        break;
      }
      names = nn;
    }
    if ((names[n] = strdup(e->d_name)) == NULL) {
      r = -1;
      break;
    }
    n++;
  }
  closedir(d);
  if (r < 0)
    diag_add(diags, DIAG_ERROR, dir, 0, 0, "", "out of memory listing the directory");
  if (n > 1)
    qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    char *path = NULL;
    const char *sep = dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/";
    if (asprintf(&path, "%s%s%s", dir, sep, names[i]) < 0) {
      r = -1;
    } else {
      struct stat st;
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && spec_parse_file(path, flags, out, diags) < 0)
        r = -1;
      free(path);
    }
    free(names[i]);
  }
  free(names);
  return r;
}

int spec_load_paths(const char *const *paths, size_t n, unsigned flags, spec_pod_list *out, diag_list *diags) {
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (strcmp(paths[i], "-") != 0 && stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      if (load_dir(paths[i], flags, out, diags) < 0)
        r = -1;
    } else if (spec_parse_file(paths[i], flags, out, diags) < 0) {
      r = -1;
    }
  }
  if (r < 0 && errno == 0)
    errno = EINVAL;
  return r;
}

void spec_pod_free(spec_pod *p) {
  if (p == NULL)
    return;
  free(p->name);
  free(p->ns);
  free(p->uid);
  decode_kvs_free(&p->labels);
  decode_kvs_free(&p->annotations);
  for (size_t i = 0; i < p->n_init_containers; i++)
    ctrdecode_free(&p->init_containers[i]);
  free(p->init_containers);
  for (size_t i = 0; i < p->n_containers; i++)
    ctrdecode_free(&p->containers[i]);
  free(p->containers);
  for (size_t i = 0; i < p->n_volumes; i++) {
    free(p->volumes[i].name);
    free(p->volumes[i].host_path);
  }
  free(p->volumes);
  free(p->hostname);
  free(p->subdomain);
  free(p->effective_hostname);
  free(p->supplemental_groups);
  decode_kvs_free(&p->sysctls);
  free(p->source_file);
  free(p);
}

void spec_pod_list_free(spec_pod_list *l) {
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n; i++)
    spec_pod_free(l->items[i]);
  free(l->items);
  memset(l, 0, sizeof *l);
}

spec_pod *spec_pod_list_steal(spec_pod_list *l, size_t i) {
  if (l == NULL || i >= l->n)
    return NULL;
  spec_pod *p = l->items[i];
  memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof *l->items);
  l->n--;
  return p;
}

const spec_container *spec_pod_container(const spec_pod *p, const char *name) {
  for (size_t i = 0; p != NULL && name != NULL && i < p->n_init_containers; i++)
    if (p->init_containers[i].name != NULL && strcmp(p->init_containers[i].name, name) == 0)
      return &p->init_containers[i];
  for (size_t i = 0; p != NULL && name != NULL && i < p->n_containers; i++)
    if (p->containers[i].name != NULL && strcmp(p->containers[i].name, name) == 0)
      return &p->containers[i];
  return NULL;
}

const spec_volume *spec_pod_volume(const spec_pod *p, const char *name) {
  for (size_t i = 0; p != NULL && name != NULL && i < p->n_volumes; i++)
    if (p->volumes[i].name != NULL && strcmp(p->volumes[i].name, name) == 0)
      return &p->volumes[i];
  return NULL;
}

int spec_probe_port(const spec_container *c, const spec_probe *p) {
  if (p->port_name == NULL)
    return p->port;
  for (size_t i = 0; i < c->n_ports; i++)
    if (c->ports[i].name != NULL && strcmp(c->ports[i].name, p->port_name) == 0)
      return c->ports[i].container_port;
  return 0;
}

const char *spec_restart_policy_name(spec_restart_policy p) {
  static const char *const n[] = {"Always", "OnFailure", "Never"};
  return (unsigned)p < 3 ? n[p] : "?";
}

const char *spec_pull_policy_name(spec_pull_policy p) {
  static const char *const n[] = {"Always", "IfNotPresent", "Never"};
  return (unsigned)p < 3 ? n[p] : "?";
}

const char *spec_protocol_name(spec_protocol p) {
  static const char *const n[] = {"TCP", "UDP", "SCTP"};
  return (unsigned)p < 3 ? n[p] : "?";
}

const char *spec_hostpath_type_name(spec_hostpath_type t) {
  static const char *const n[] = {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File",
                                  "Socket", "CharDevice", "BlockDevice"};
  return (unsigned)t < 8 ? n[t] : "?";
}

/* The first SPEC_POD_UID_LEN hex digits of sha256("[<scope>\n]<namespace>/<name>"). */
static void name_digest(const spec_pod *p, const char *scope, char out[SPEC_POD_UID_LEN + 1]) {
  const char *ns = p->ns != NULL ? p->ns : "default";
  const char *name = p->name != NULL ? p->name : "";
  SHA256_CTX ctx;
  SHA256Init(&ctx);
  if (scope != NULL) {
    SHA256Update(&ctx, (const uint8_t *)scope, strlen(scope));
    SHA256Update(&ctx, (const uint8_t *)"\n", 1);
  }
  SHA256Update(&ctx, (const uint8_t *)ns, strlen(ns));
  SHA256Update(&ctx, (const uint8_t *)"/", 1);
  SHA256Update(&ctx, (const uint8_t *)name, strlen(name));
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256Final(md, &ctx);
  hash_hex(md, SPEC_POD_UID_LEN / 2, out);
}

void spec_pod_uid(const spec_pod *p, const char *scope, char out[SPEC_POD_UID_LEN + 1]) {
  if (p->uid != NULL && *p->uid != '\0') {
    snprintf(out, SPEC_POD_UID_LEN + 1, "%s", p->uid);
    return;
  }
  name_digest(p, scope, out);
}

void spec_pod_key(const spec_pod *p, char out[SPEC_POD_UID_LEN + 1]) {
  name_digest(p, NULL, out);
}

bool spec_uid_is_safe(const char *uid) {
  return uid != NULL && *uid != '\0' && *uid != '.' && strchr(uid, '/') == NULL;
}
