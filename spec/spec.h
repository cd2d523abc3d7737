/*
 * spec.h - podvisor's pod manifests: parse, validate and hash Kubernetes
 * "apiVersion: v1, kind: Pod" documents.
 *
 * What it is for: turn a manifest file into typed, defaulted, validated pod
 * specs, or into diagnostics (diag.h) a person can act on at once.  The
 * accepted subset, every default and what each field becomes in the kernel
 * are documented in spec/REFERENCE.md.
 *
 * Usage:
 *   spec_pod_list pods = {0};
 *   diag_list diags;  diag_list_init(&diags);
 *   if (spec_parse_file("web.yaml", 0, &pods, &diags) < 0) { ...print diags... }
 *   ... use pods.items[i] ...
 *   spec_pod_list_free(&pods);  diag_list_free(&diags);
 *
 * Contract:
 *  - Never crashes and never leaks on any input; recursion depth, alias
 *    expansion and input size are bounded.
 *  - All problems of all documents are collected in one run.
 *  - Return value: 0 when no error diagnostic was added, -1 (errno EINVAL)
 *    when at least one was, or -1 with errno ENOMEM/EIO... when the input
 *    could not be read at all (a diagnostic says so too).  An apply is
 *    all-or-nothing: callers must refuse the whole file on -1.
 *  - Pods with errors are left out of the list unless SPEC_KEEP_INVALID is
 *    given (then they are appended with error_count > 0; fields may be
 *    partially filled and must not be run).
 *  - The library never prints and never exits.  Pure computation, no
 *    blocking calls except reading the named files.
 *  - Every *_free function accepts NULL.
 */
#ifndef PODVISOR_SPEC_SPEC_H
#define PODVISOR_SPEC_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/diag.h"

#define SPEC_HASH_HEX_LEN 64 /* sha256 in lower-case hex */

/* Largest manifest file read; larger ones are refused with a diagnostic. */
#define SPEC_MAX_FILE_SIZE (8u << 20)

/* Most containers (init and app together) one pod may have; more are
 * refused with a diagnostic at the first container over the limit.  One
 * keeper holds about six descriptors per container (its log file, two log
 * pipes, its rootfs lock, its pidfd and the loop's copy of it) and a cgroup
 * per hierarchy: 1024 containers use about 6200 of the 20000 descriptors a
 * host typically allows (the keeper would fail at about 3300), and start in
 * a couple of seconds.  Kubernetes sets no such limit; a single host must. */
#define SPEC_MAX_CONTAINERS 1024

typedef enum spec_restart_policy {
  SPEC_RESTART_ALWAYS = 0,
  SPEC_RESTART_ON_FAILURE,
  SPEC_RESTART_NEVER,
} spec_restart_policy;

typedef enum spec_pull_policy {
  SPEC_PULL_ALWAYS = 0,
  SPEC_PULL_IF_NOT_PRESENT,
  SPEC_PULL_NEVER,
} spec_pull_policy;

typedef enum spec_protocol { SPEC_PROTO_TCP = 0, SPEC_PROTO_UDP, SPEC_PROTO_SCTP } spec_protocol;

typedef enum spec_probe_kind {
  SPEC_PROBE_NONE = 0, /* no probe configured */
  SPEC_PROBE_EXEC,
  SPEC_PROBE_HTTP_GET,
  SPEC_PROBE_TCP_SOCKET,
} spec_probe_kind;

typedef enum spec_hostpath_type {
  SPEC_HOSTPATH_UNSET = 0, /* "": no check before mounting */
  SPEC_HOSTPATH_DIRECTORY_OR_CREATE,
  SPEC_HOSTPATH_DIRECTORY,
  SPEC_HOSTPATH_FILE_OR_CREATE,
  SPEC_HOSTPATH_FILE,
  SPEC_HOSTPATH_SOCKET,
  SPEC_HOSTPATH_CHAR_DEVICE,
  SPEC_HOSTPATH_BLOCK_DEVICE,
} spec_hostpath_type;

typedef enum spec_volume_kind { SPEC_VOLUME_EMPTY_DIR = 0, SPEC_VOLUME_HOST_PATH } spec_volume_kind;

/* securityContext.fsGroupChangePolicy */
typedef enum spec_fs_group_policy {
  SPEC_FS_GROUP_ALWAYS = 0,          /* default: the whole volume, at every set-up */
  SPEC_FS_GROUP_ON_ROOT_MISMATCH,    /* skipped when the volume root is already right */
} spec_fs_group_policy;

/* securityContext.supplementalGroupsPolicy */
typedef enum spec_groups_policy {
  SPEC_GROUPS_MERGE = 0, /* default: also the user's groups from the image's /etc/group */
  SPEC_GROUPS_STRICT,    /* only runAsGroup, fsGroup and supplementalGroups */
} spec_groups_policy;

/* A NULL-terminated argv-like list of strings.  An absent field and "[]"
 * are the same (as in Kubernetes): n == 0 and argv == NULL. */
typedef struct spec_strv {
  char **argv;
  size_t n;
} spec_strv;

typedef struct spec_kv {
  char *key;
  char *value;
} spec_kv;

/* Ordered as written for env (later entries may refer to earlier ones);
 * sorted by key for labels and annotations. */
typedef struct spec_kvs {
  spec_kv *items;
  size_t n;
} spec_kvs;

typedef struct spec_port {
  char *name;         /* IANA_SVC_NAME or NULL */
  int container_port; /* 1..65535 */
  int host_port;      /* 0 = none; with hostNetwork defaulted to container_port */
  spec_protocol protocol;
} spec_port;

/* Parsed quantities.  -1 means "not set". Requests default to limits. */
typedef struct spec_resources {
  int64_t cpu_request_milli, cpu_limit_milli;  /* millicores (1000 = one CPU), rounded up */
  int64_t memory_request, memory_limit;        /* bytes, rounded up */
  int64_t ephemeral_request, ephemeral_limit;  /* bytes, rounded up */
} spec_resources;

/* volumeMounts[].recursiveReadOnly; the order is the decoder's table's. */
typedef enum spec_rro {
  SPEC_RRO_DISABLED = 0, /* unset or Disabled: only the volume's top mount is read-only */
  SPEC_RRO_IF_POSSIBLE,  /* its submounts too, when the kernel can */
  SPEC_RRO_ENABLED,      /* its submounts too, or the container does not start */
} spec_rro;

typedef struct spec_mount {
  char *name;       /* a volume of the pod */
  char *mount_path; /* absolute path inside the container */
  char *sub_path;   /* relative path inside the volume, or NULL */
  bool read_only;
  spec_rro recursive_read_only; /* not Disabled only with read_only */
} spec_mount;

typedef struct spec_probe {
  spec_probe_kind kind;
  spec_strv exec_command;     /* SPEC_PROBE_EXEC */
  char *host;                 /* httpGet/tcpSocket host, NULL = the pod's IP (loopback here) */
  char *path;                 /* httpGet path, default "/" */
  bool https;                 /* httpGet scheme HTTPS */
  int port;                   /* httpGet/tcpSocket port number, 0 when port_name is used */
  char *port_name;            /* a named container port, resolved by resolve_port */
  spec_kvs http_headers;      /* httpGet httpHeaders, in order */
  int initial_delay_seconds;  /* default 0 */
  int timeout_seconds;        /* default 1 */
  int period_seconds;         /* default 10 */
  int success_threshold;      /* default 1 */
  int failure_threshold;      /* default 3 */
  int64_t termination_grace_period_seconds; /* probe-level override, -1 = pod's */
} spec_probe;

/* Tri-state booleans: -1 unset, 0 false, 1 true. */
/* securityContext.seccompProfile.type. */
typedef enum spec_seccomp {
  SPEC_SECCOMP_UNSET = 0,          /* neither the container nor the pod says: RuntimeDefault */
  SPEC_SECCOMP_RUNTIME_DEFAULT,    /* podvisor's built-in profile */
  SPEC_SECCOMP_UNCONFINED,         /* no filter */
  SPEC_SECCOMP_LOCALHOST,          /* a JSON profile file below <root>/seccomp/ */
} spec_seccomp;

typedef struct spec_security {
  int64_t run_as_user;  /* -1 = image default (pod-level value merged in) */
  int64_t run_as_group; /* -1 = image default (pod-level value merged in) */
  int run_as_non_root;  /* tri-state, pod-level value merged in */
  bool privileged;
  bool read_only_root_fs;
  int allow_privilege_escalation; /* tri-state; unset means true unless caps/privileged say otherwise */
  spec_strv cap_add;  /* upper case, without "CAP_"; "ALL" allowed */
  spec_strv cap_drop; /* upper case, without "CAP_"; "ALL" allowed */
  bool unmasked_proc; /* procMount: Unmasked (accepted only with hostUsers: false) */
  /* seccompProfile: the container's, else the pod's (merged in).  Unset
   * means RuntimeDefault, podvisor's default (the kubelet's with --seccomp-default);
   * a privileged container runs without a filter whatever this says, as in
   * Kubernetes. */
  spec_seccomp seccomp;
  char *seccomp_localhost; /* type Localhost: localhostProfile, a relative path without ".." */
} spec_security;

typedef struct spec_container {
  char *name;
  char *image;
  spec_pull_policy pull_policy;
  spec_strv command; /* replaces the image entrypoint when n > 0 */
  spec_strv args;    /* replaces the image cmd when n > 0 */
  char *working_dir; /* NULL = image default */
  spec_kvs env;      /* in order; names are unique (a later duplicate wins, warned) */
  spec_port *ports;
  size_t n_ports;
  spec_resources resources;
  spec_mount *mounts;
  size_t n_mounts;
  spec_probe liveness, readiness, startup; /* kind NONE when absent */
  spec_strv post_start; /* lifecycle.postStart.exec.command, n == 0 when absent */
  spec_strv pre_stop;   /* lifecycle.preStop.exec.command, n == 0 when absent */
  spec_security security;
  bool stdin_open; /* stdin */
  bool tty;
  bool is_init;  /* from spec.initContainers */
  bool sidecar;  /* init container with restartPolicy: Always */
  int line, col; /* where the container's mapping starts */
  char hash[SPEC_HASH_HEX_LEN + 1];
} spec_container;

typedef struct spec_volume {
  char *name;
  spec_volume_kind kind;
  bool medium_memory;         /* emptyDir.medium: Memory (tmpfs) */
  int64_t size_limit;         /* emptyDir.sizeLimit in bytes, -1 unset */
  char *host_path;            /* hostPath.path */
  spec_hostpath_type host_path_type;
} spec_volume;

typedef struct spec_pod {
  /* metadata */
  char *name;
  char *ns;  /* metadata.namespace, default "default" */
  char *uid; /* metadata.uid or NULL (the daemon assigns one) */
  spec_kvs labels;
  spec_kvs annotations;

  /* spec */
  spec_container *init_containers; /* in order, sidecars included */
  size_t n_init_containers;
  spec_container *containers;
  size_t n_containers;
  spec_volume *volumes;
  size_t n_volumes;
  spec_restart_policy restart_policy;       /* default Always */
  int64_t termination_grace_period_seconds; /* default 30 */
  char *hostname;          /* spec.hostname or NULL */
  char *subdomain;         /* spec.subdomain or NULL */
  char *effective_hostname; /* hostname, else the pod name cut to 63 chars as the kubelet does;
                               NULL with hostNetwork (the host's hostname is kept) */
  bool host_network;
  bool share_process_namespace;
  bool host_pid; /* hostPID: the host's pid namespace (no pid namespace of the pod's own) */
  bool host_ipc; /* hostIPC: the host's IPC namespace */
  int host_users; /* tri-state -1 unset, 0 false, 1 true */

  /* spec.securityContext, the pod-only fields (runAsUser & co. are merged
   * into each container's spec_security) */
  int64_t fs_group;                            /* fsGroup, -1 unset */
  spec_fs_group_policy fs_group_change_policy; /* default Always */
  int64_t *supplemental_groups;                /* supplementalGroups, as written */
  size_t n_supplemental_groups;
  spec_groups_policy supplemental_groups_policy; /* default Merge */
  spec_kvs sysctls; /* sysctls, in order; names as written (spec/sysctl.h), unique */

  /* podvisor.io/ annotations, in milliseconds */
  uint64_t backoff_initial_ms; /* podvisor.io/backoff-initial, default 10000 */
  uint64_t backoff_max_ms;     /* podvisor.io/backoff-max, default 300000 */
  uint64_t backoff_reset_ms;   /* podvisor.io/backoff-reset, default 600000 */
  unsigned start_limit_count;  /* podvisor.io/start-limit "N/window"; 0 = no limit */
  uint64_t start_limit_window_ms;

  /* provenance */
  char *source_file;
  int doc_index; /* 0-based document number inside the file */
  int line;      /* line of the document's first key */
  size_t error_count, warning_count;

  /* change detection, see spec/REFERENCE.md "Hashes" */
  char hash[SPEC_HASH_HEX_LEN + 1];         /* everything that affects what runs */
  char sandbox_hash[SPEC_HASH_HEX_LEN + 1]; /* pod-level part only (no containers) */
} spec_pod;

typedef struct spec_pod_list {
  spec_pod **items;
  size_t n, cap;
} spec_pod_list;

/* The pod's uid as podvisor uses it in paths and cgroup names
 * (<run-root>/pods/<uid>, <root>/pods/<uid>, the log directory, the cgroup
 * podvisor/<uid>): metadata.uid cut to SPEC_POD_UID_LEN characters when the
 * manifest gives one (the parser accepts only [a-z0-9-] there), else the
 * first SPEC_POD_UID_LEN hex digits of sha256("<namespace>/<name>"), or of
 * sha256("<scope>\n<namespace>/<name>") when scope is not NULL, so that two
 * state roots running a pod of the same name get different uids.  Every
 * user of the uid must call this one function.  Pure. */
#define SPEC_POD_UID_LEN 16
void spec_pod_uid(const spec_pod *p, const char *scope, char out[SPEC_POD_UID_LEN + 1]);

/* The pod's key: the first SPEC_POD_UID_LEN hex digits of
 * sha256("<namespace>/<name>"), whatever metadata.uid says.  It names what
 * belongs to the pod across its instances (its run directory
 * <run-root>/pods/<key>), which must not move when a new instance of the pod
 * gets a new uid.  Always safe as a path component.  Pure. */
void spec_pod_key(const spec_pod *p, char out[SPEC_POD_UID_LEN + 1]);

/* True when uid is safe as one path component: not empty, no '/', and not
 * starting with '.'.  A second line of defence for uids that did not come
 * through the parser. */
bool spec_uid_is_safe(const char *uid);

/* Flags for the parse functions. */
#define SPEC_KEEP_INVALID 0x1u /* append pods with errors too (error_count > 0) */

/* Parses every YAML document of buf (len bytes, need not be NUL-terminated).
 * filename only labels diagnostics (NULL gives "<input>"). */
int spec_parse_buffer(const char *filename, const char *buf, size_t len, unsigned flags,
                      spec_pod_list *out, diag_list *diags);

/* Reads and parses one file ("-" reads standard input). */
int spec_parse_file(const char *path, unsigned flags, spec_pod_list *out, diag_list *diags);

/* Loads FILE|DIR arguments: a directory contributes its *.yaml, *.yml and
 * *.json files (sorted by name, not recursive, hidden files skipped).  Two
 * pods with the same namespace/name across everything loaded is an error. */
int spec_load_paths(const char *const *paths, size_t n, unsigned flags, spec_pod_list *out,
                    diag_list *diags);

void spec_pod_list_free(spec_pod_list *l);
void spec_pod_free(spec_pod *p);

/* Removes and returns item i (the caller then owns it), or NULL. */
spec_pod *spec_pod_list_steal(spec_pod_list *l, size_t i);

/* Finds a container (init or app) by name, or NULL. */
const spec_container *spec_pod_container(const spec_pod *p, const char *name);

/* Finds a volume by name, or NULL. */
const spec_volume *spec_pod_volume(const spec_pod *p, const char *name);

/* Resolves a probe's port: its number, or the containerPort of the named
 * port of c.  Returns 0 when unresolvable (validation prevents that). */
int spec_probe_port(const spec_container *c, const spec_probe *p);

/* Names for printing ("Always", "IfNotPresent", "TCP", ...). */
const char *spec_restart_policy_name(spec_restart_policy p);
const char *spec_pull_policy_name(spec_pull_policy p);
const char *spec_protocol_name(spec_protocol p);
const char *spec_hostpath_type_name(spec_hostpath_type t);

#endif
