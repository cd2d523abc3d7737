/* Unit tests of the Kubernetes security fields of a pod: hostPID, hostIPC,
 * fsGroup (+ fsGroupChangePolicy), supplementalGroups (+ policy), sysctls
 * (names, namespaces, the hostNetwork/hostIPC rules), procMount, and the
 * hashes that make a change of them restart the pod. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "spec/sysctl.h"
#include "tests/testutil.h"
#include "tests/unit/spec_fixture.h"

#define CTR "  containers:\n  - name: a\n    image: busybox\n"

#define EXPECT(x, sev, line, text)                                                                           \
  ck_assert_msg(spec_run_find_formatted(x, sev, line, text), "no diagnostic '%s'", text)

static const spec_pod *one(spec_run *x, const char *yaml) {
  spec_run_parse(x, yaml);
  ck_assert_int_eq(x->r, 0);
  ck_assert_uint_eq(x->pods.n, 1);
  return x->pods.items[0];
}

START_TEST(host_namespaces) {
  spec_run x;
  const spec_pod *p = one(&x, HEAD "  hostPID: true\n  hostIPC: true\n" CTR);
  ck_assert(p->host_pid);
  ck_assert(p->host_ipc);
  spec_run_done(&x);
  p = one(&x, HEAD CTR);
  ck_assert(!p->host_pid);
  ck_assert(!p->host_ipc);
  ck_assert_int_eq(p->host_users, -1);
  spec_run_done(&x);
  /* Kubernetes' validation: both at once is an error. */
  spec_run_parse(&x, HEAD "  hostPID: true\n  shareProcessNamespace: true\n" CTR);
  EXPECT(&x, DIAG_ERROR, 7,
         "t.yaml:7:26: error: spec.shareProcessNamespace: shareProcessNamespace and hostPID "
         "cannot both be enabled");
  ck_assert_uint_eq(x.pods.n, 0);
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  hostPID: 1\n" CTR);
  EXPECT(&x, DIAG_ERROR, 6, "spec.hostPID: expected a boolean");
  spec_run_done(&x);
}
END_TEST

START_TEST(fs_group) {
  spec_run x;
  const spec_pod *p = one(&x, HEAD "  securityContext: {fsGroup: 2000}\n" CTR);
  ck_assert_int_eq(p->fs_group, 2000);
  ck_assert_int_eq(p->fs_group_change_policy, SPEC_FS_GROUP_ALWAYS);
  spec_run_done(&x);
  p = one(&x, HEAD "  securityContext: {fsGroup: 0, fsGroupChangePolicy: OnRootMismatch}\n" CTR);
  ck_assert_int_eq(p->fs_group, 0);
  ck_assert_int_eq(p->fs_group_change_policy, SPEC_FS_GROUP_ON_ROOT_MISMATCH);
  spec_run_done(&x);
  p = one(&x, HEAD CTR);
  ck_assert_int_eq(p->fs_group, -1);
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  securityContext:\n    fsGroup: -1\n    fsGroupChangePolicy: Sometimes\n" CTR);
  EXPECT(&x, DIAG_ERROR, 7,
         "t.yaml:7:14: error: spec.securityContext.fsGroup: must be between 0 and 2147483647");
  EXPECT(&x, DIAG_ERROR, 8, "spec.securityContext.fsGroupChangePolicy: unsupported value 'Sometimes'");
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  securityContext: {fsGroupChangePolicy: OnRootMismatch}\n" CTR);
  ck_assert_int_eq(x.r, 0);
  EXPECT(&x, DIAG_WARNING, 6, "fsGroupChangePolicy: ignored: fsGroup is not set");
  spec_run_done(&x);
}
END_TEST

START_TEST(supplemental_groups) {
  spec_run x;
  const spec_pod *p = one(&x, HEAD "  securityContext: {supplementalGroups: [3000, 0, 2147483647]}\n" CTR);
  ck_assert_uint_eq(p->n_supplemental_groups, 3);
  ck_assert_int_eq(p->supplemental_groups[0], 3000);
  ck_assert_int_eq(p->supplemental_groups[1], 0);
  ck_assert_int_eq(p->supplemental_groups[2], 2147483647);
  ck_assert_int_eq(p->supplemental_groups_policy, SPEC_GROUPS_MERGE);
  spec_run_done(&x);
  p = one(&x, HEAD "  securityContext: {supplementalGroups: [], supplementalGroupsPolicy: Strict}\n" CTR);
  ck_assert_uint_eq(p->n_supplemental_groups, 0);
  ck_assert_int_eq(p->supplemental_groups_policy, SPEC_GROUPS_STRICT);
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  securityContext:\n    supplementalGroups: [1, \"2\", -3, 2147483648, x]\n"
                          "    supplementalGroupsPolicy: merge\n" CTR);
  EXPECT(&x, DIAG_ERROR, 7,
         "supplementalGroups[1]: expected a group id (an integer 0..2147483647), got a string");
  EXPECT(&x, DIAG_ERROR, 7, "supplementalGroups[2]: expected a group id (an integer 0..2147483647), got -3");
  EXPECT(&x, DIAG_ERROR, 7, "supplementalGroups[3]: expected a group id");
  EXPECT(&x, DIAG_ERROR, 7, "supplementalGroups[4]: expected a group id");
  ck_assert(!spec_run_find_formatted(&x, DIAG_ERROR, 7, "supplementalGroups[0]"));
  EXPECT(&x, DIAG_ERROR, 8, "supplementalGroupsPolicy: unsupported value 'merge'; did you mean 'Merge'?");
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  securityContext: {supplementalGroups: 5}\n" CTR);
  EXPECT(&x, DIAG_ERROR, 6, "supplementalGroups: expected a list of group ids");
  spec_run_done(&x);
}
END_TEST

START_TEST(sysctl_classes) {
  ck_assert_int_eq(spec_sysctl_namespace("kernel.shm_rmid_forced"), SPEC_SYSCTL_IPC);
  ck_assert_int_eq(spec_sysctl_namespace("kernel.shmmax"), SPEC_SYSCTL_IPC);
  ck_assert_int_eq(spec_sysctl_namespace("kernel.msgmax"), SPEC_SYSCTL_IPC);
  ck_assert_int_eq(spec_sysctl_namespace("kernel.sem"), SPEC_SYSCTL_IPC);
  ck_assert_int_eq(spec_sysctl_namespace("fs.mqueue.msg_max"), SPEC_SYSCTL_IPC);
  ck_assert_int_eq(spec_sysctl_namespace("net.ipv4.tcp_syncookies"), SPEC_SYSCTL_NET);
  ck_assert_int_eq(spec_sysctl_namespace("net/ipv4/conf/eth0.100/forwarding"), SPEC_SYSCTL_NET);
  ck_assert_int_eq(spec_sysctl_namespace("vm.swappiness"), SPEC_SYSCTL_NOT_NAMESPACED);
  ck_assert_int_eq(spec_sysctl_namespace("kernel.panic"), SPEC_SYSCTL_NOT_NAMESPACED);
  ck_assert_int_eq(spec_sysctl_namespace("kernel.semx"), SPEC_SYSCTL_NOT_NAMESPACED);
  ck_assert_int_eq(spec_sysctl_namespace("kernel.hostname"), SPEC_SYSCTL_NOT_NAMESPACED);
  ck_assert_int_eq(spec_sysctl_namespace("fs.mqueue"), SPEC_SYSCTL_NOT_NAMESPACED);
  ck_assert_int_eq(spec_sysctl_namespace("fs.file-max"), SPEC_SYSCTL_NOT_NAMESPACED);
  ck_assert(spec_sysctl_is_safe("kernel.shm_rmid_forced"));
  ck_assert(spec_sysctl_is_safe("net.ipv4.ip_unprivileged_port_start"));
  ck_assert(spec_sysctl_is_safe("net/ipv4/tcp_keepalive_probes"));
  ck_assert(!spec_sysctl_is_safe("kernel.msgmax"));
  ck_assert(!spec_sysctl_is_safe("net.core.somaxconn"));
  static const char *const good[] = {"a",
                                     "net.ipv4.tcp_syncookies",
                                     "net/ipv4/conf/eth0.100/forwarding",
                                     "fs.mqueue.msg_max",
                                     "net.ipv4.conf.all.rp_filter",
                                     "a-b_c.d0"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    ck_assert_msg(spec_sysctl_name_valid(good[i]), "%s refused", good[i]);
  static const char *const bad[] = {"",
                                    ".net",
                                    "net.",
                                    "net..ipv4",
                                    "Net.ipv4",
                                    "net.-x",
                                    "net.x-",
                                    "net ipv4",
                                    "net.ipv4.tcp/syncookies",
                                    "../../etc/passwd",
                                    "net.ipv4/../x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(!spec_sysctl_name_valid(bad[i]), "%s accepted", bad[i]);
  char long_name[300];
  memset(long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  ck_assert(!spec_sysctl_name_valid(long_name));
  char path[256];
  ck_assert(spec_sysctl_path("net.ipv4.tcp_syncookies", path, sizeof path));
  ck_assert_str_eq(path, "/proc/sys/net/ipv4/tcp_syncookies");
  ck_assert(spec_sysctl_path("net/ipv4/conf/eth0.100/forwarding", path, sizeof path));
  ck_assert_str_eq(path, "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
  ck_assert(!spec_sysctl_path("net.ipv4.tcp_syncookies", path, 12));
  ck_assert(spec_sysctl_value_valid("1"));
  ck_assert(spec_sysctl_value_valid("1024\t65535"));
  ck_assert(!spec_sysctl_value_valid(""));
  ck_assert(!spec_sysctl_value_valid("1\n2"));
}
END_TEST

START_TEST(sysctls_decoded) {
  spec_run x;
  const spec_pod *p = one(&x, HEAD "  securityContext:\n    sysctls:\n"
                                   "    - {name: kernel.shm_rmid_forced, value: \"1\"}\n"
                                   "    - {name: net.ipv4.ip_unprivileged_port_start, value: \"0\"}\n"
                                   "    - {name: kernel.msgmax, value: \"65536\"}\n" CTR);
  ck_assert_uint_eq(p->sysctls.n, 3);
  ck_assert_str_eq(p->sysctls.items[0].key, "kernel.shm_rmid_forced");
  ck_assert_str_eq(p->sysctls.items[0].value, "1");
  ck_assert_str_eq(p->sysctls.items[1].key, "net.ipv4.ip_unprivileged_port_start");
  ck_assert_str_eq(p->sysctls.items[2].value, "65536");
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  securityContext:\n    sysctls:\n"
                          "    - {name: vm.swappiness, value: \"10\"}\n"
                          "    - {name: Net.ipv4.x, value: \"1\"}\n"
                          "    - {name: net.ipv4.tcp_syncookies}\n"
                          "    - {name: net.ipv4.tcp_syncookies, value: 1}\n"
                          "    - {name: kernel.sem, value: \"1\", other: 2}\n" CTR);
  EXPECT(&x, DIAG_ERROR, 8,
         "t.yaml:8:14: error: spec.securityContext.sysctls[0].name: sysctl 'vm.swappiness' is "
         "not namespaced");
  EXPECT(&x, DIAG_ERROR, 8, "kubelet refuses it as unsafe");
  EXPECT(&x, DIAG_ERROR, 9, "sysctls[1].name: invalid sysctl name 'Net.ipv4.x'");
  EXPECT(&x, DIAG_ERROR, 10, "sysctls[2].value: required field is missing");
  EXPECT(&x, DIAG_ERROR, 11, "sysctls[3].name: duplicate sysctl 'net.ipv4.tcp_syncookies'");
  EXPECT(&x, DIAG_ERROR, 11, "sysctls[3].value: expected a string");
  EXPECT(&x, DIAG_ERROR, 12, "sysctls[4].other: unknown field 'other'");
  ck_assert_uint_eq(x.pods.n, 0);
  spec_run_done(&x);
  /* The host's namespaces are not the pod's to change. */
  spec_run_parse(&x, HEAD "  hostNetwork: true\n  securityContext:\n    sysctls:\n"
                          "    - {name: net.ipv4.tcp_syncookies, value: \"1\"}\n"
                          "    - {name: kernel.shm_rmid_forced, value: \"1\"}\n" CTR);
  EXPECT(&x, DIAG_ERROR, 9, "sysctl 'net.ipv4.tcp_syncookies' is not allowed with hostNetwork: true");
  ck_assert(!spec_run_find_formatted(&x, DIAG_ERROR, 10, "sysctl"));
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  hostIPC: true\n  securityContext:\n    sysctls:\n"
                          "    - {name: net.ipv4.tcp_syncookies, value: \"1\"}\n"
                          "    - {name: kernel.shm_rmid_forced, value: \"1\"}\n"
                          "    - {name: fs.mqueue.msg_max, value: \"10\"}\n" CTR);
  ck_assert(!spec_run_find_formatted(&x, DIAG_ERROR, 9, "sysctl"));
  EXPECT(&x, DIAG_ERROR, 10, "sysctl 'kernel.shm_rmid_forced' is not allowed with hostIPC: true");
  EXPECT(&x, DIAG_ERROR, 11, "sysctl 'fs.mqueue.msg_max' is not allowed with hostIPC: true");
  spec_run_done(&x);
}
END_TEST

START_TEST(proc_mount) {
  spec_run x;
  const spec_pod *p = one(&x, HEAD CTR "    securityContext: {procMount: Default}\n");
  ck_assert(!p->containers[0].security.unmasked_proc);
  spec_run_done(&x);
  /* Unmasked needs a user namespace (hostUsers: false), as in Kubernetes. */
  spec_run_parse(&x, HEAD CTR "    securityContext: {procMount: Unmasked}\n");
  EXPECT(&x, DIAG_ERROR, 9,
         "spec.containers[0].securityContext.procMount: `hostUsers` must be false to use "
         "`Unmasked`");
  spec_run_done(&x);
  spec_run_parse(&x, HEAD CTR "    securityContext: {procMount: unmasked}\n");
  EXPECT(&x, DIAG_ERROR, 9, "procMount: unsupported value 'unmasked'");
  spec_run_done(&x);
}
END_TEST

static void hashes(const char *yaml, char pod[SPEC_HASH_HEX_LEN + 1], char sandbox[SPEC_HASH_HEX_LEN + 1],
                   char ctr[SPEC_HASH_HEX_LEN + 1]) {
  spec_run x;
  const spec_pod *p = one(&x, yaml);
  strcpy(pod, p->hash);
  strcpy(sandbox, p->sandbox_hash);
  strcpy(ctr, p->containers[0].hash);
  spec_run_done(&x);
}

START_TEST(hash_inputs) {
  char p0[65], s0[65], c0[65], p1[65], s1[65], c1[65];
  hashes(HEAD CTR, p0, s0, c0);
  static const char *const variants[] = {
      HEAD "  hostPID: true\n" CTR,
      HEAD "  hostIPC: true\n" CTR,
      HEAD "  securityContext: {fsGroup: 1}\n" CTR,
      HEAD "  securityContext: {supplementalGroups: [5]}\n" CTR,
      HEAD "  securityContext: {supplementalGroupsPolicy: Strict}\n" CTR,
      HEAD "  securityContext: {sysctls: [{name: kernel.sem, value: \"1 2 3 4\"}]}\n" CTR,
  };
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
    hashes(variants[i], p1, s1, c1);
    ck_assert_msg(strcmp(s0, s1) != 0, "variant %zu: the sandbox hash did not change", i);
    ck_assert_msg(strcmp(p0, p1) != 0, "variant %zu: the pod hash did not change", i);
    ck_assert_str_eq(c0, c1); /* a pod-level change: the sandbox is new, not the container spec */
  }
  /* Defaults written out change nothing (old pods keep their hashes). */
  hashes(HEAD "  hostPID: false\n  hostIPC: false\n  securityContext: {supplementalGroupsPolicy: Merge, "
              "supplementalGroups: []}\n" CTR,
         p1, s1, c1);
  ck_assert_str_eq(p0, p1);
  hashes(HEAD "  securityContext: {fsGroup: 1}\n" CTR, p0, s0, c0);
  hashes(HEAD "  securityContext: {fsGroup: 1, fsGroupChangePolicy: OnRootMismatch}\n" CTR, p1, s1, c1);
  ck_assert_str_ne(s0, s1);
}
END_TEST

static Suite *spec_security_suite(void) {
  Suite *s = suite_create("spec_security");
  TCase *t = tcase_create("fields");
  tcase_add_test(t, host_namespaces);
  tcase_add_test(t, fs_group);
  tcase_add_test(t, supplemental_groups);
  tcase_add_test(t, sysctl_classes);
  tcase_add_test(t, sysctls_decoded);
  tcase_add_test(t, proc_mount);
  tcase_add_test(t, hash_inputs);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  return testutil_run(spec_security_suite());
}
