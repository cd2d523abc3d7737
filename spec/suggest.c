/*
 * suggest.c - closest-candidate lookup by optimal string alignment distance
 * (Damerau-Levenshtein without repeated edits of one substring).  Keys are
 * short, so a full three-row table on the stack is simple and fast.
 */
#include "spec/suggest.h"

#include <string.h>
#include <strings.h>

#define MAX_WORD 128

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static size_t min3(size_t a, size_t b, size_t c) {
  size_t m = a < b ? a : b;
  return m < c ? m : c;
}

/* OSA distance between a and b, compared case-insensitively.  Both are at
 * most MAX_WORD long.  Keeps the last three rows of the table. */
static size_t osa_distance(const char *a, size_t la, const char *b, size_t lb) {
  size_t rows[3][MAX_WORD + 1];
  size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      size_t d = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1 < d)
        d = prev2[j - 2] + 1;
      cur[j] = d;
    }
    size_t *t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb];
}

const char *suggest_closest(const char *word, const char *const *candidates, size_t n) {
  if (!word || !candidates)
    return NULL;
  size_t lw = strlen(word);
  if (lw == 0 || lw > MAX_WORD)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (candidates[i] && strcasecmp(word, candidates[i]) == 0)
      return candidates[i];
  size_t limit = lw / 3 > 1 ? lw / 3 : 1;
  const char *best = NULL;
  size_t best_d = limit + 1;
  for (size_t i = 0; i < n; i++) {
    if (!candidates[i])
      continue;
    size_t lc = strlen(candidates[i]);
    if (lc > MAX_WORD || (lc > lw ? lc - lw : lw - lc) >= best_d)
      continue; /* the length difference alone is already too far */
    size_t d = osa_distance(word, lw, candidates[i], lc);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best;
}
