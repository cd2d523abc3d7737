/*
 * suggest.h - "did you mean" for unknown manifest keys and enum values.
 *
 * What it is for: when a manifest has "restartPolcy" or "contianers", name
 * the key the user most likely meant.  Pure function: no allocation beyond a
 * small stack buffer, nothing blocks.
 */
#ifndef PODVISOR_SPEC_SUGGEST_H
#define PODVISOR_SPEC_SUGGEST_H

#include <stddef.h>

/* Returns the candidate closest to word, or NULL when none is close enough.
 * A case-insensitive exact match wins ("restartpolicy" gives
 * "restartPolicy"); otherwise the smallest optimal-string-alignment distance
 * (insertions, deletions, substitutions and swaps of neighbours, compared
 * case-insensitively), accepted when it is at most max(1, strlen(word) / 3).
 * Ties go to the earlier candidate.  Words or candidates longer than 128
 * bytes are never suggested. */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);

#endif
