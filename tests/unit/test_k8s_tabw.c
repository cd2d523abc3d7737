/* Unit tests for supervisor/daemon/k8s_tabw: Go's text/tabwriter column
 * blocks, with kubectl get's and kubectl describe's settings, and the
 * remembered widths of liggitt/tabwriter that kubectl get -w relies on. */
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/k8s_tabw.h"
#include "tests/testutil.h"

static char *run(int minwidth, int padding, bool remember, const char *in) {
  k8s_tabw w;
  k8s_tabw_init(&w, minwidth, padding, remember);
  k8s_tabw_puts(&w, in);
  k8s_buf out = {0};
  ck_assert_int_eq(k8s_tabw_flush(&w, &out), 0);
  k8s_tabw_free(&w);
  return k8s_buf_steal(&out);
}

static const struct {
  const char *what;
  int minwidth, padding;
  const char *in, *want;
} cases[] = {
    {"kubectl get: padding 3 after the widest cell", 6, 3,
     "NAME\tREADY\tSTATUS\tRESTARTS\tAGE\nweb\t1/1\tRunning\t0\t5s\n",
     "NAME   READY   STATUS    RESTARTS   AGE\n"
     "web    1/1     Running   0          5s\n"},
    {"minwidth 6 for narrow columns; the last cell is never padded", 6, 3, "a\tb\nc\tdd\n",
     "a     b\n"
     "c     dd\n"},
    {"describe: a line without a tab ends the block", 0, 2,
     "Name:\tweb\nNamespace:\tdefault\nContainers:\n  app:\n    Image:\tbusybox\n",
     "Name:       web\n"
     "Namespace:  default\n"
     "Containers:\n"
     "  app:\n"
     "    Image:  busybox\n"},
    {"a tab-terminated cell before the newline keeps its padding", 0, 2,
     "    Image ID:\t\n    Restart Count:\t0\n  Initialized \tTrue \n",
     "    Image ID:       \n"
     "    Restart Count:  0\n"
     "  Initialized       True \n"},
    {"blocks per column: Go's elastic tabstops example", 0, 1,
     "a\tb\tc\naa\tbb\tcc\naaa\t\naaaa\tdddd\teeee\n",
     "a    b  c\n"
     "aa   bb cc\n"
     "aaa  \n"
     "aaaa dddd eeee\n"},
    {"widths count code points, not bytes", 0, 2, "\xc3\xa9t\xc3\xa9\tx\nabc\ty\n",
     "\xc3\xa9t\xc3\xa9  x\n"
     "abc  y\n"},
    {"an empty cell is padded like any other", 0, 2, "\tx\nabc\ty\n",
     "     x\n"
     "abc  y\n"},
    {"text without a final newline", 6, 3, "a\tb", "a     b"},
    {"empty lines end blocks and stay", 0, 2, "a\tb\n\nccc\td\n",
     "a  b\n"
     "\n"
     "ccc  d\n"},
};

START_TEST(column_blocks) {
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *got = run(cases[i].minwidth, cases[i].padding, false, cases[i].in);
    ck_assert_msg(strcmp(got, cases[i].want) == 0, "%s:\n got [%s]\nwant [%s]", cases[i].what, got,
                  cases[i].want);
    free(got);
  }
}
END_TEST

/* kubectl get -w prints each watch event with a flush of its own; the
 * columns keep the widths of earlier flushes and grow when a wider cell
 * comes, and never shrink. */
START_TEST(remembered_widths_across_flushes) {
  k8s_tabw w;
  k8s_tabw_init(&w, K8S_TABW_GET);
  k8s_buf out = {0};
  k8s_tabw_puts(&w, "NAME\tREADY\tAGE\nweb-server\t1/1\t5s\n");
  ck_assert_int_eq(k8s_tabw_flush(&w, &out), 0);
  k8s_tabw_puts(&w, "db\t0/1\t0s\n");
  ck_assert_int_eq(k8s_tabw_flush(&w, &out), 0);
  k8s_tabw_puts(&w, "a-much-longer-name\t1/1\t1s\n");
  ck_assert_int_eq(k8s_tabw_flush(&w, &out), 0);
  k8s_tabw_puts(&w, "db\t1/1\t9s\n");
  ck_assert_int_eq(k8s_tabw_flush(&w, &out), 0);
  ck_assert_str_eq(out.data, "NAME         READY   AGE\n"
                             "web-server   1/1     5s\n"
                             "db           0/1     0s\n"
                             "a-much-longer-name   1/1     1s\n"
                             "db                   1/1     9s\n");
  k8s_buf_free(&out);
  k8s_tabw_free(&w);

  /* Without remembered widths each flush stands alone. */
  char *a = run(6, 3, false, "web-server\t1/1\n"), *b = run(6, 3, false, "db\t1/1\n");
  ck_assert_str_eq(a, "web-server   1/1\n");
  ck_assert_str_eq(b, "db    1/1\n");
  free(a);
  free(b);
}
END_TEST

START_TEST(printf_and_empty_flush) {
  k8s_tabw w;
  k8s_tabw_init(&w, K8S_TABW_DESCRIBE);
  k8s_buf out = {0};
  ck_assert_int_eq(k8s_tabw_flush(&w, &out), 0); /* nothing written: nothing out */
  ck_assert_uint_eq(out.len, 0);
  k8s_tabw_printf(&w, "%s:\t%d\n%s:\t%s\n", "Restart Count", 3, "Ready", "True");
  ck_assert_int_eq(k8s_tabw_flush(&w, &out), 0);
  ck_assert_str_eq(out.data, "Restart Count:  3\nReady:          True\n");
  k8s_buf_free(&out);
  k8s_tabw_free(&w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("k8s_tabw");
  TCase *tc = tcase_create("k8s_tabw");
  tcase_add_test(tc, column_blocks);
  tcase_add_test(tc, remembered_widths_across_flushes);
  tcase_add_test(tc, printf_and_empty_flush);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
