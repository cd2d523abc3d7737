/*
 * cmd_images.c - `podvisor images`: list the imported images the way
 * `podman images` does (REPOSITORY TAG SIZE CREATED).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "supervisor/cli/cli.h"
#include "supervisor/core/image.h"

/* Decimal units with three significant digits, as podman prints sizes. */
static void human_size(uint64_t bytes, char *buf, size_t len) {
  static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = (double)bytes;
  size_t u = 0;
  /* 999.5 and above would print as "1e+03" with three significant digits. */
  while (v >= 999.5 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1000.0;
    u++;
  }
  snprintf(buf, len, "%.3g %s", v, units[u]);
}

/* "3 minutes ago", "About an hour ago", ... as podman prints ages. */
static void human_age(int64_t created, char *buf, size_t len) {
  int64_t s = (int64_t)time(NULL) - created;
  if (created <= 0) {
    snprintf(buf, len, "unknown");
    return;
  }
  if (s < 1)
    snprintf(buf, len, "Less than a second ago");
  else if (s == 1)
    snprintf(buf, len, "1 second ago");
  else if (s < 60)
    snprintf(buf, len, "%lld seconds ago", (long long)s);
  else if (s < 120)
    snprintf(buf, len, "About a minute ago");
  else if (s < 3600)
    snprintf(buf, len, "%lld minutes ago", (long long)(s / 60));
  else if (s < 7200)
    snprintf(buf, len, "About an hour ago");
  else if (s < 48 * 3600)
    snprintf(buf, len, "%lld hours ago", (long long)(s / 3600));
  else if (s < 14 * 86400)
    snprintf(buf, len, "%lld days ago", (long long)(s / 86400));
  else if (s < 90 * 86400)
    snprintf(buf, len, "%lld weeks ago", (long long)(s / (7 * 86400)));
  else if (s < 730 * 86400)
    snprintf(buf, len, "%lld months ago", (long long)(s / (30 * 86400)));
  else
    snprintf(buf, len, "%lld years ago", (long long)(s / (365 * 86400)));
}

static int width(const image_info *l, size_t n, const char *title, int tag) {
  int w = (int)strlen(title);
  for (size_t i = 0; i < n; i++) {
    int k = (int)strlen(tag ? l[i].ref.tag : l[i].ref.name);
    if (k > w)
      w = k;
  }
  return w;
}

int cmd_images(const cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"quiet", no_argument, NULL, 'q'},
      {"noheading", no_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  int quiet = 0, noheading = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "+qnh", opts, NULL)) != -1) {
    switch (c) {
    case 'q': quiet = 1; break;
    case 'n': noheading = 1; break;
    case 'h': printf("usage: podvisor images [-q|--quiet] [-n|--noheading]\n"); return 0;
    default: fprintf(stderr, "usage: podvisor images [-q|--quiet] [-n|--noheading]\n"); return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "usage: podvisor images [-q|--quiet] [-n|--noheading]\n");
    return 2;
  }
  image_info *list;
  size_t n;
  pv_err err = {0};
  if (image_list(g->root, &list, &n, &err) < 0) {
    fprintf(stderr, "podvisor images: %s\n", pv_err_str(&err));
    return 1;
  }
  if (quiet) {
    for (size_t i = 0; i < n; i++)
      printf("%s:%s\n", list[i].ref.name, list[i].ref.tag);
    image_list_free(list, n);
    return 0;
  }
  int wn = width(list, n, "REPOSITORY", 0), wt = width(list, n, "TAG", 1);
  if (!noheading)
    printf("%-*s  %-*s  %-10s  %s\n", wn, "REPOSITORY", wt, "TAG", "SIZE", "CREATED");
  for (size_t i = 0; i < n; i++) {
    char size[32], age[64];
    human_size(list[i].size_bytes, size, sizeof size);
    human_age(list[i].created, age, sizeof age);
    printf("%-*s  %-*s  %-10s  %s\n", wn, list[i].ref.name, wt, list[i].ref.tag, size, age);
  }
  image_list_free(list, n);
  return 0;
}
