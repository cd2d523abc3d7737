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
/* A process-wide counter for unique temporary names. */
unsigned long image_unique_counter(void);

#endif
