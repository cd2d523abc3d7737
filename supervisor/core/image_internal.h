/*
 * image_internal.h - the image store's layout, shared by image.c (lookup,
 * list, remove) and image_import.c.  Not an API.
 *
 *   <root>/images/<name with '/' as '+'>/<tag>/{rootfs/,config.json}
 */
#ifndef PODVISOR_CORE_IMAGE_INTERNAL_H
#define PODVISOR_CORE_IMAGE_INTERNAL_H

#include <stddef.h>

#include "supervisor/core/error.h"
#include "supervisor/core/image.h"

/* <root>/images/<encoded name> into buf[len]. */
int image_name_dir(const char *root, const image_ref *ref, char *buf, size_t len, pv_err *err);
/* <root>/images/<encoded name>/<tag> into buf[len]. */
int image_tag_dir(const char *root, const image_ref *ref, char *buf, size_t len, pv_err *err);
/* Takes the exclusive lock on <tag_dir>/rootfs that a container's shared
 * one (container.h) excludes: *fd is the locked directory, to close once
 * the image is gone, or -1 when there is no rootfs.  EBUSY (the message
 * names ref) while a container runs from it.  Never waits. */
int image_lock_unused(const char *tag_dir, const image_ref *ref, int *fd, pv_err *err);
/* A process-wide counter for unique temporary names. */
unsigned long image_unique_counter(void);

#endif
