/*
 * image.h - the local image store.
 *
 * Layout: <root>/images/<name>/<tag>/rootfs/ plus <root>/images/<name>/<tag>/config.json
 * ({"cmd": [...], "env": ["K=V", ...], "workingDir": "/", "created": "..."}).
 * References are normalised the way podman users write them: "busybox",
 * "busybox:latest", "localhost/busybox:latest" and "docker.io/library/busybox"
 * all name <root>/images/busybox/latest.  Names: [a-z0-9][a-z0-9._/-]*, tags:
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; nothing in a reference can climb out of
 * the store: every '/'-separated part of a name starts and ends with
 * [a-z0-9] (so no "." or ".." part), and a name with several parts
 * ("example.com/team/app") is stored in one directory whose '/' are written
 * as '+' ("example.com+team+app"), so that every image sits exactly two
 * levels below <root>/images and no name can reach into another's tag.
 * Digests ("@sha256:...") and registries with a port are refused.
 *
 * Import unpacks into a temporary directory inside the store and renames it
 * into place, so a failed import leaves nothing and a concurrent reader never
 * sees half an image; importing over an existing tag swaps the two
 * directories with one renameat2(RENAME_EXCHANGE) and then removes the old
 * one.  Tar extraction (libarchive) refuses absolute paths, ".." components,
 * writes through symbolic links and hard links that point outside the
 * rootfs; it skips device nodes and keeps modes, owners (as root) and
 * symlinks (see image_unpack.h).  config.json also records "size" (the
 * apparent size of the rootfs, counted at import) so that lookups and
 * listings never walk the tree.  Temporary entries in the store start with
 * '.' and are ignored by listings.
 *
 * <root>/images is created 0700 (and an older, searchable one is narrowed to
 * 0700 when it belongs to the caller): images keep their set-user-ID
 * programs, which work inside a container as its image meant them (unless
 * it sets no_new_privs) but which any host user could run straight from a
 * searchable store, as root of the host.
 *
 * Every call blocks on the file system; none keeps state between calls.
 */
#ifndef PODVISOR_CORE_IMAGE_H
#define PODVISOR_CORE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct image_ref {
  char name[256];
  char tag[128];
} image_ref;

typedef struct image_info {
  image_ref ref;
  char dir[4096];      /* <root>/images/<name>/<tag> */
  char rootfs[4096];   /* <dir>/rootfs */
  char **cmd;          /* NULL-terminated, may be NULL */
  char **env;          /* NULL-terminated, may be NULL */
  char *working_dir;   /* may be NULL */
  uint64_t size_bytes; /* apparent size of the rootfs */
  int64_t created;     /* unix seconds */
} image_info;

/* Limits of an import (image_unpack.h): the unpacked image's apparent size
 * (file sizes as the archive or directory gives them, sparse files counted
 * whole) and its number of entries.  16 GiB is well above what real root
 * file systems unpack to (a CUDA development image is ~10 GiB) and stops a
 * small archive of zeros or holes before it becomes a huge tree; 4 Mi
 * entries is ~20 times a full distribution.  An import past a limit fails
 * with EFBIG, naming the image and the limit, and leaves nothing behind. */
#define IMAGE_IMPORT_DEFAULT_MAX_BYTES (16ULL << 30)
#define IMAGE_IMPORT_DEFAULT_MAX_ENTRIES (4ULL << 20)
#define IMAGE_IMPORT_NO_LIMIT UINT64_MAX
#define IMAGE_IMPORT_SKIPPED_NAMES 5

/* What an import wrote and left out. */
typedef struct image_import_report {
  uint64_t entries, bytes;
  uint64_t skipped_devices, skipped_sockets; /* device nodes and sockets are not imported */
  size_t n_skipped_names;
  char skipped_names[IMAGE_IMPORT_SKIPPED_NAMES][256]; /* the first skipped, "/dev/null" */
} image_import_report;

/* Settings written into config.json at import; NULL (0) fields take the defaults. */
typedef struct image_import_options {
  char *const *cmd;        /* NULL-terminated; NULL = ["/bin/sh"] */
  char *const *env;        /* "K=V" entries, added to (or replacing a key of) the default PATH */
  const char *working_dir; /* NULL = "/"; must be absolute */
  uint64_t max_bytes;      /* 0 = IMAGE_IMPORT_DEFAULT_MAX_BYTES; IMAGE_IMPORT_NO_LIMIT = none */
  uint64_t max_entries;    /* 0 = IMAGE_IMPORT_DEFAULT_MAX_ENTRIES; IMAGE_IMPORT_NO_LIMIT = none */
  image_import_report *report; /* filled when not NULL (also when the import fails) */
} image_import_options;

int image_ref_parse(const char *s, image_ref *out, pv_err *err);
/* Imports a directory or an archive (tar, cpio, zip or 7-Zip, compressed or
 * not: see image_unpack.h). */
int image_import(const char *root, const char *ref, const char *source, pv_err *err);
/* The same with config settings; opts may be NULL. */
int image_import_with(const char *root, const char *ref, const char *source, const image_import_options *opts,
                      pv_err *err);
/* Resolves a reference to an imported image. ENOENT with a helpful message if absent. */
int image_lookup(const char *root, const char *ref, image_info *out, pv_err *err);
void image_info_free(image_info *info);
/* Lists every imported image; *out is a malloc'd array the caller frees with image_list_free. */
int image_list(const char *root, image_info **out, size_t *n, pv_err *err);
void image_list_free(image_info *list, size_t n);
int image_remove(const char *root, const char *ref, pv_err *err);

#endif
