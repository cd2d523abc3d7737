/*
 * image_unpack.h - writing a root file system into the image store safely.
 *
 * Internal to the image store (image.c is the only caller).  Both functions
 * fill a directory the caller opened (rootfd, a fresh temporary directory
 * inside the store) and never write anywhere else:
 *
 *   - Every path is resolved one component at a time from rootfd with
 *     openat(O_NOFOLLOW | O_DIRECTORY), so a symbolic link that is already in
 *     the destination is never followed: an archive holding "a -> /etc" and
 *     then "a/passwd" is refused instead of writing /etc/passwd.  This is why
 *     libarchive's archive_write_disk is not used: it resolves paths against
 *     the process's working directory, which a library must not chdir().
 *   - Absolute entry names and ".." components are refused (the whole import
 *     fails), as are hard links whose target is absolute, climbs with "..",
 *     or passes through a symbolic link.
 *   - Device nodes and sockets are skipped and counted: a container gets a
 *     fresh tmpfs /dev from the runtime, so nodes in an image are never used,
 *     and skipping them lets distribution tarballs (which carry /dev/null and
 *     friends) import as non-root.  FIFOs are kept.
 *   - Modes, symbolic links and modification times are kept; owners are kept
 *     when running as root (chown needs CAP_CHOWN), otherwise files belong to
 *     the caller.
 *
 * Directory copies do not follow symbolic links in the source, do not cross
 * into other file systems mounted below the source (a mount point becomes an
 * empty directory, like `tar --one-file-system`), and copy hard links as
 * separate files.
 *
 * Both calls block on disk I/O.  0 on success, -1 with errno and a message
 * naming the source and the entry.
 */
#ifndef PODVISOR_CORE_IMAGE_UNPACK_H
#define PODVISOR_CORE_IMAGE_UNPACK_H

#include <stdint.h>
#include <sys/types.h>

#include "supervisor/core/error.h"

typedef struct image_unpack_stats {
  uint64_t entries;          /* entries written */
  uint64_t bytes;            /* apparent size: regular file sizes + symlink lengths */
  uint64_t skipped_devices;  /* device nodes and sockets left out */
} image_unpack_stats;

/* Extracts every entry of the archive at path below rootfd.  Formats: tar
 * (ustar, pax, GNU), cpio, zip and 7-Zip, with any compression libarchive
 * reads; mtree (whose entries name host files) and empty files are refused. */
int image_unpack_archive(int rootfd, const char *path, image_unpack_stats *st, pv_err *err);

/* Copies the tree below the directory srcdir into rootfd.  Entries whose
 * (st_dev, st_ino) equal skip_dev/skip_ino are left out, so that importing a
 * directory that contains the store itself does not copy the import into
 * itself. */
int image_unpack_dir(int rootfd, const char *srcdir, dev_t skip_dev, ino_t skip_ino,
                     image_unpack_stats *st, pv_err *err);

/* Normalises an entry name into out: "./a//b/" -> "a/b", "." -> "".  -1 with
 * EINVAL for an absolute name, a ".." component, or an empty name. Pure. */
int image_unpack_clean_path(const char *in, char *out, size_t outlen);

#endif
