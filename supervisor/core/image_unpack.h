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
 *   - Device nodes and sockets are skipped, counted, and the first
 *     IMAGE_UNPACK_SKIPPED_NAMES of them named in the stats (for the caller
 *     to tell the user): a container gets a fresh tmpfs /dev from the
 *     runtime, so nodes in an image are never used, and skipping them lets
 *     distribution tarballs (which carry /dev/null and friends) import as
 *     non-root.  A socket is only an address a process bound once; it is
 *     useless without that process.  FIFOs are kept.
 *   - Limits (the stats' max_bytes and max_entries, 0 = none): an entry that
 *     would take the image's apparent size (regular file sizes, sparse
 *     files counted whole, plus symbolic link lengths) past max_bytes, or its
 *     entry count past max_entries, fails the unpack with EFBIG before
 *     anything of it is written.  A small compressed archive can hold
 *     gigabytes of zeros or sparse holes; the apparent size is what a
 *     container, or a tool that copies the image, would read.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervisor/core/error.h"

#define IMAGE_UNPACK_SKIPPED_NAMES 5

typedef struct image_unpack_stats {
  uint64_t max_bytes;       /* in: the apparent size allowed; 0 = no limit */
  uint64_t max_entries;     /* in: the entries allowed; 0 = no limit */
  uint64_t entries;         /* entries written */
  uint64_t bytes;           /* apparent size: regular file sizes + symlink lengths */
  uint64_t skipped_devices; /* device nodes (and entries of unknown type) left out */
  uint64_t skipped_sockets; /* sockets left out */
  size_t n_skipped_names;   /* how many of the skipped entries are named below */
  char skipped_names[IMAGE_UNPACK_SKIPPED_NAMES][256]; /* "/dev/null", in image order */
} image_unpack_stats;

/* Counts an entry of bytes apparent bytes against st's limits: 0 when it
 * fits (and is counted), -1 with EFBIG and a message naming what (the entry)
 * and the limit when it does not.  Pure. */
int image_unpack_charge(image_unpack_stats *st, uint64_t bytes, const char *what, pv_err *err);

/* Counts a skipped entry (a socket when is_socket, else a device node) and
 * keeps its name ("/" + rel) while fewer than IMAGE_UNPACK_SKIPPED_NAMES are
 * kept.  Pure. */
void image_unpack_note_skipped(image_unpack_stats *st, const char *rel, bool is_socket);

/* A size for a message: "10Mi" when it is a whole number of KiB, MiB, GiB
 * or TiB (the largest), else "12345 bytes".  Returns buf.  Pure. */
const char *image_unpack_format_size(uint64_t bytes, char *buf, size_t len);

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
