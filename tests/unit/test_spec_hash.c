/* Unit tests for the hashes of spec/ (spec/REFERENCE.md "Hashes"), field by
 * field: each row edits one field of a base manifest and says which hashes
 * must change.  A container field changes that container's hash and the pod
 * hash, never a sibling's hash or the sandbox hash; a pod-level field changes
 * the sandbox hash and the pod hash; what REFERENCE.md says is not hashed
 * changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "tests/testutil.h"

/* The containers of base, in the order init then app: one bit each. */
enum { SIDE = 1, SETUP = 2, WEB = 4, WORKER = 8, SANDBOX = 16, NONE = 0 };

static const char base[] = "apiVersion: v1\n"
                           "kind: Pod\n"
                           "metadata:\n"
                           "  name: shop\n"
                           "  namespace: prod\n"
                           "  uid: 6f1c2a9e-3b4d-4e5f-8a7b-0c1d2e3f4a5b\n"
                           "  labels:\n"
                           "    app: shop\n"
                           "  annotations:\n"
                           "    note: hello\n"
                           "    podvisor.io/backoff-initial: \"2s\"\n"
                           "    podvisor.io/backoff-max: \"60s\"\n"
                           "    podvisor.io/backoff-reset: \"5m\"\n"
                           "    podvisor.io/start-limit: \"5/60s\"\n"
                           "spec:\n"
                           "  restartPolicy: OnFailure\n"
                           "  terminationGracePeriodSeconds: 20\n"
                           "  shareProcessNamespace: false\n"
                           "  hostname: shophost\n"
                           "  subdomain: shopsub\n"
                           "  securityContext:\n"
                           "    runAsGroup: 3000\n"
                           "  volumes:\n"
                           "  - name: data\n"
                           "    emptyDir:\n"
                           "      sizeLimit: 64Mi\n"
                           "  - name: spare\n"
                           "    emptyDir:\n"
                           "      medium: Memory\n"
                           "      sizeLimit: 1Mi\n"
                           "  - name: host\n"
                           "    hostPath:\n"
                           "      path: /srv/shop\n"
                           "  initContainers:\n"
                           "  - name: side\n"
                           "    image: busybox:side\n"
                           "    restartPolicy: Always\n"
                           "    command: [sh, -c, side]\n"
                           "  - name: setup\n"
                           "    image: busybox:setup\n"
                           "    command: [sh, -c, setup]\n"
                           "  containers:\n"
                           "  - name: web\n"
                           "    image: registry.example/web:1.0\n"
                           "    imagePullPolicy: IfNotPresent\n"
                           "    command: [httpd, -f]\n"
                           "    args: [-p, \"8080\"]\n"
                           "    workingDir: /www\n"
                           "    env:\n"
                           "    - name: MODE\n"
                           "      value: prod\n"
                           "    - name: LEVEL\n"
                           "      value: \"3\"\n"
                           "    - name: EMPTY\n"
                           "    ports:\n"
                           "    - name: http\n"
                           "      containerPort: 8080\n"
                           "      protocol: TCP\n"
                           "    - name: admin\n"
                           "      containerPort: 9090\n"
                           "    resources:\n"
                           "      requests:\n"
                           "        cpu: 250m\n"
                           "        memory: 32Mi\n"
                           "        ephemeral-storage: 10Mi\n"
                           "      limits:\n"
                           "        cpu: 500m\n"
                           "        memory: 64Mi\n"
                           "        ephemeral-storage: 20Mi\n"
                           "    volumeMounts:\n"
                           "    - name: data\n"
                           "      mountPath: /data\n"
                           "      subPath: web\n"
                           "      readOnly: false\n"
                           "    livenessProbe:\n"
                           "      httpGet:\n"
                           "        path: /healthz\n"
                           "        port: http\n"
                           "        host: 127.0.0.1\n"
                           "        httpHeaders:\n"
                           "        - name: X-Probe\n"
                           "          value: live\n"
                           "      initialDelaySeconds: 1\n"
                           "      timeoutSeconds: 2\n"
                           "      periodSeconds: 3\n"
                           "      failureThreshold: 4\n"
                           "      terminationGracePeriodSeconds: 5\n"
                           "    readinessProbe:\n"
                           "      tcpSocket:\n"
                           "        port: 8080\n"
                           "      successThreshold: 1\n"
                           "    startupProbe:\n"
                           "      exec:\n"
                           "        command: [cat, /ready]\n"
                           "    lifecycle:\n"
                           "      postStart:\n"
                           "        exec:\n"
                           "          command: [sh, -c, post]\n"
                           "      preStop:\n"
                           "        exec:\n"
                           "          command: [sh, -c, pre]\n"
                           "    securityContext:\n"
                           "      runAsUser: 1000\n"
                           "      runAsNonRoot: true\n"
                           "      readOnlyRootFilesystem: true\n"
                           "      allowPrivilegeEscalation: false\n"
                           "      capabilities:\n"
                           "        add: [NET_BIND_SERVICE]\n"
                           "        drop: [ALL]\n"
                           "    stdin: false\n"
                           "    tty: false\n"
                           "  - name: worker\n"
                           "    image: busybox:1.36\n"
                           "    command: [sh, -c, work]\n"
                           "    resources:\n"
                           "      limits: {cpu: \"1\"}\n";

/* One edit: the only occurrence of from becomes to; expect is the set of
 * hashes that must change (the pod hash changes with any of them).  When pre
 * is set, that edit is made first to the base of both sides. */
struct row {
  const char *what;
  const char *from, *to;
  unsigned expect;
  const char *pre_from, *pre_to;
};

static const struct row rows[] = {
    /* container fields (REFERENCE.md: container.hash) */
    {"name", "- name: worker\n", "- name: worker2\n", WORKER, NULL, NULL},
    {"image", "web:1.0", "web:1.1", WEB, NULL, NULL},
    {"imagePullPolicy", "imagePullPolicy: IfNotPresent", "imagePullPolicy: Never", WEB, NULL, NULL},
    {"command", "[httpd, -f]", "[httpd, -F]", WEB, NULL, NULL},
    {"args", "    args: [-p, \"8080\"]\n", "    args: [-p, \"8081\"]\n", WEB, NULL, NULL},
    {"args removed", "    args: [-p, \"8080\"]\n", "", WEB, NULL, NULL},
    {"an argument moved from command to args", "[httpd, -f]\n    args: [-p,", "[httpd]\n    args: [-f, -p,",
     WEB, NULL, NULL},
    {"workingDir", "/www\n", "/www2\n", WEB, NULL, NULL},
    {"env value", "value: prod", "value: dev", WEB, NULL, NULL},
    {"env name", "name: LEVEL", "name: LEVEL2", WEB, NULL, NULL},
    {"env order", "    - name: MODE\n      value: prod\n    - name: LEVEL\n      value: \"3\"\n",
     "    - name: LEVEL\n      value: \"3\"\n    - name: MODE\n      value: prod\n", WEB, NULL, NULL},
    {"env entry added", "    - name: EMPTY\n", "    - name: EMPTY\n    - name: MORE\n", WEB, NULL, NULL},
    {"port name", "name: admin\n", "name: admin2\n", WEB, NULL, NULL},
    {"containerPort", "containerPort: 9090", "containerPort: 9091", WEB, NULL, NULL},
    {"protocol", "protocol: TCP", "protocol: UDP", WEB, NULL, NULL},
    {"port added", "      containerPort: 9090\n", "      containerPort: 9090\n    - containerPort: 7000\n",
     WEB, NULL, NULL},
    {"requests.cpu", "cpu: 250m", "cpu: 300m", WEB, NULL, NULL},
    {"limits.cpu", "cpu: 500m", "cpu: 600m", WEB, NULL, NULL},
    {"requests.memory", "memory: 32Mi", "memory: 33Mi", WEB, NULL, NULL},
    {"limits.memory", "memory: 64Mi", "memory: 65Mi", WEB, NULL, NULL},
    {"requests.ephemeral-storage", "ephemeral-storage: 10Mi", "ephemeral-storage: 11Mi", WEB, NULL, NULL},
    {"limits.ephemeral-storage", "ephemeral-storage: 20Mi", "ephemeral-storage: 21Mi", WEB, NULL, NULL},
    {"volumeMounts name", "    - name: data\n      mountPath: /data\n",
     "    - name: host\n      mountPath: /data\n", WEB, NULL, NULL},
    {"volumeMounts mountPath", "mountPath: /data\n", "mountPath: /data2\n", WEB, NULL, NULL},
    {"volumeMounts subPath", "subPath: web", "subPath: web2", WEB, NULL, NULL},
    {"volumeMounts readOnly", "readOnly: false", "readOnly: true", WEB, NULL, NULL},
    {"volumeMounts added", "      readOnly: false\n",
     "      readOnly: false\n    - {name: spare, mountPath: /s}\n", WEB, NULL, NULL},
    {"httpGet path", "path: /healthz", "path: /live", WEB, NULL, NULL},
    {"httpGet port by name", "port: http\n", "port: admin\n", WEB, NULL, NULL},
    {"httpGet port by number", "port: http\n", "port: 8080\n", WEB, NULL, NULL},
    {"httpGet host", "host: 127.0.0.1", "host: 127.0.0.2", WEB, NULL, NULL},
    {"httpGet header name", "name: X-Probe", "name: X-Probe2", WEB, NULL, NULL},
    {"httpGet header value", "value: live", "value: alive", WEB, NULL, NULL},
    {"initialDelaySeconds", "initialDelaySeconds: 1", "initialDelaySeconds: 2", WEB, NULL, NULL},
    {"timeoutSeconds", "timeoutSeconds: 2", "timeoutSeconds: 3", WEB, NULL, NULL},
    {"periodSeconds", "periodSeconds: 3", "periodSeconds: 4", WEB, NULL, NULL},
    {"failureThreshold", "failureThreshold: 4", "failureThreshold: 5", WEB, NULL, NULL},
    {"probe terminationGracePeriodSeconds", "terminationGracePeriodSeconds: 5",
     "terminationGracePeriodSeconds: 6", WEB, NULL, NULL},
    {"livenessProbe removed",
     "    livenessProbe:\n      httpGet:\n        path: /healthz\n        port: http\n        host: "
     "127.0.0.1\n"
     "        httpHeaders:\n        - name: X-Probe\n          value: live\n      initialDelaySeconds: 1\n"
     "      timeoutSeconds: 2\n      periodSeconds: 3\n      failureThreshold: 4\n"
     "      terminationGracePeriodSeconds: 5\n",
     "", WEB, NULL, NULL},
    {"readinessProbe removed",
     "    readinessProbe:\n      tcpSocket:\n        port: 8080\n      successThreshold: 1\n", "", WEB, NULL,
     NULL},
    {"startupProbe removed", "    startupProbe:\n      exec:\n        command: [cat, /ready]\n", "", WEB,
     NULL, NULL},
    {"a probe moved from liveness to startup",
     "    startupProbe:\n      exec:\n        command: [cat, /ready]\n",
     "    livenessProbe:\n      exec:\n        command: [cat, /ready]\n", WEB,
     "    livenessProbe:\n      httpGet:\n        path: /healthz\n        port: http\n        host: "
     "127.0.0.1\n"
     "        httpHeaders:\n        - name: X-Probe\n          value: live\n      initialDelaySeconds: 1\n"
     "      timeoutSeconds: 2\n      periodSeconds: 3\n      failureThreshold: 4\n"
     "      terminationGracePeriodSeconds: 5\n",
     ""},
    /* the same probe in the next slot: the slot is part of the hash */
    {"a probe moved from startup to readiness", "    startupProbe:\n", "    readinessProbe:\n", WEB,
     "    readinessProbe:\n      tcpSocket:\n        port: 8080\n      successThreshold: 1\n", ""},
    {"postStart removed", "      postStart:\n        exec:\n          command: [sh, -c, post]\n", "", WEB,
     NULL, NULL},
    {"readinessProbe successThreshold", "successThreshold: 1", "successThreshold: 2", WEB, NULL, NULL},
    {"tcpSocket port", "        port: 8080\n", "        port: 8081\n", WEB, NULL, NULL},
    {"tcpSocket host", "        port: 8080\n", "        port: 8080\n        host: 127.0.0.1\n", WEB, NULL,
     NULL},
    {"exec command", "[cat, /ready]", "[cat, /ready2]", WEB, NULL, NULL},
    {"probe handler", "      exec:\n        command: [cat, /ready]\n", "      tcpSocket: {port: 8080}\n", WEB,
     NULL, NULL},
    {"postStart", "[sh, -c, post]", "[sh, -c, post2]", WEB, NULL, NULL},
    {"preStop", "[sh, -c, pre]", "[sh, -c, pre2]", WEB, NULL, NULL},
    {"runAsUser", "runAsUser: 1000", "runAsUser: 1001", WEB, NULL, NULL},
    {"runAsGroup", "      runAsUser: 1000\n", "      runAsUser: 1000\n      runAsGroup: 1\n", WEB, NULL,
     NULL},
    {"runAsNonRoot", "runAsNonRoot: true", "runAsNonRoot: false", WEB, NULL, NULL},
    {"privileged", "    command: [sh, -c, work]\n",
     "    command: [sh, -c, work]\n    securityContext: {privileged: true}\n", WORKER, NULL, NULL},
    {"readOnlyRootFilesystem", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", WEB, NULL,
     NULL},
    {"allowPrivilegeEscalation", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", WEB,
     NULL, NULL},
    {"capabilities.add", "[NET_BIND_SERVICE]", "[NET_BIND_SERVICE, NET_RAW]", WEB, NULL, NULL},
    {"capabilities.drop", "[ALL]", "[MKNOD]", WEB, NULL, NULL},
    {"stdin", "stdin: false", "stdin: true", WEB, NULL, NULL},
    {"tty", "tty: false", "tty: true", WEB, NULL, NULL},
    {"a sidecar becomes a plain init container", "    restartPolicy: Always\n", "", SIDE, NULL, NULL},
    {"an init container becomes a sidecar", "    image: busybox:setup\n",
     "    image: busybox:setup\n    restartPolicy: Always\n", SETUP, NULL, NULL},
    /* setup stays the second container of the flat list init-then-app */
    {"an init container becomes an app container",
     "  - name: setup\n    image: busybox:setup\n    command: [sh, -c, setup]\n  containers:\n",
     "  containers:\n  - name: setup\n    image: busybox:setup\n    command: [sh, -c, setup]\n", SETUP, NULL,
     NULL},
    /* pod-level values merged into every container without its own */
    {"pod runAsGroup", "    runAsGroup: 3000\n", "    runAsGroup: 3001\n", SIDE | SETUP | WEB | WORKER, NULL,
     NULL},
    {"pod runAsUser", "    runAsGroup: 3000\n", "    runAsGroup: 3000\n    runAsUser: 7\n",
     SIDE | SETUP | WORKER, NULL, NULL},
    {"pod runAsNonRoot", "    runAsGroup: 3000\n", "    runAsGroup: 3000\n    runAsNonRoot: false\n",
     SIDE | SETUP | WORKER, NULL, NULL},
    /* seccompProfile: a profile other than the default changes the hash;
     * RuntimeDefault written out is the default itself (no restart) */
    {"seccompProfile Unconfined", "      allowPrivilegeEscalation: false\n",
     "      allowPrivilegeEscalation: false\n      seccompProfile: {type: Unconfined}\n", WEB, NULL, NULL},
    {"seccompProfile RuntimeDefault written out", "      allowPrivilegeEscalation: false\n",
     "      allowPrivilegeEscalation: false\n      seccompProfile: {type: RuntimeDefault}\n", NONE, NULL, NULL},
    {"seccompProfile localhostProfile", "a.json", "b.json", WEB, "      allowPrivilegeEscalation: false\n",
     "      allowPrivilegeEscalation: false\n      seccompProfile: {type: Localhost, localhostProfile: a.json}\n"},
    {"pod seccompProfile", "    runAsGroup: 3000\n", "    runAsGroup: 3000\n    seccompProfile: {type: Unconfined}\n",
     WEB | SIDE | SETUP | WORKER, NULL, NULL},

    /* pod-level fields (REFERENCE.md: sandbox_hash) */
    {"metadata.name", "  name: shop\n", "  name: shop2\n", SANDBOX, NULL, NULL},
    {"metadata.namespace", "namespace: prod", "namespace: prod2", SANDBOX, NULL, NULL},
    {"restartPolicy", "restartPolicy: OnFailure", "restartPolicy: Never", SANDBOX, NULL, NULL},
    {"terminationGracePeriodSeconds", "terminationGracePeriodSeconds: 20",
     "terminationGracePeriodSeconds: 21", SANDBOX, NULL, NULL},
    {"shareProcessNamespace", "shareProcessNamespace: false", "shareProcessNamespace: true", SANDBOX, NULL,
     NULL},
    {"hostUsers false", "  restartPolicy: OnFailure\n", "  restartPolicy: OnFailure\n  hostUsers: false\n",
     SANDBOX, NULL, NULL},
    {"hostname", "hostname: shophost", "hostname: shophost2", SANDBOX, NULL, NULL},
    {"hostname removed (the pod name is the hostname)", "  hostname: shophost\n", "", SANDBOX, NULL, NULL},
    {"subdomain", "subdomain: shopsub", "subdomain: shopsub2", SANDBOX, NULL, NULL},
    {"subdomain removed", "  subdomain: shopsub\n", "", SANDBOX, NULL, NULL},
    /* hostNetwork also drops the hostname and defaults web's hostPorts to its containerPorts */
    {"hostNetwork", "  restartPolicy: OnFailure\n", "  restartPolicy: OnFailure\n  hostNetwork: true\n",
     SANDBOX | WEB, NULL, NULL},
    {"podvisor.io/backoff-initial", "\"2s\"", "\"3s\"", SANDBOX, NULL, NULL},
    {"podvisor.io/backoff-max", "\"60s\"", "\"61s\"", SANDBOX, NULL, NULL},
    {"podvisor.io/backoff-reset", "\"5m\"", "\"6m\"", SANDBOX, NULL, NULL},
    {"podvisor.io/start-limit count", "\"5/60s\"", "\"6/60s\"", SANDBOX, NULL, NULL},
    {"podvisor.io/start-limit window", "\"5/60s\"", "\"5/61s\"", SANDBOX, NULL, NULL},
    {"volume name", "name: spare", "name: spare2", SANDBOX, NULL, NULL},
    {"volume type", "    emptyDir:\n      medium: Memory\n      sizeLimit: 1Mi\n",
     "    hostPath: {path: /srv/spare}\n", SANDBOX, NULL, NULL},
    {"emptyDir medium", "      medium: Memory\n", "", SANDBOX, NULL, NULL},
    {"emptyDir sizeLimit", "sizeLimit: 1Mi", "sizeLimit: 2Mi", SANDBOX, NULL, NULL},
    {"emptyDir sizeLimit removed", "    emptyDir:\n      sizeLimit: 64Mi\n", "    emptyDir: {}\n", SANDBOX,
     NULL, NULL},
    {"hostPath path", "path: /srv/shop\n", "path: /srv/shop2\n", SANDBOX, NULL, NULL},
    {"hostPath type", "      path: /srv/shop\n", "      path: /srv/shop\n      type: Directory\n", SANDBOX,
     NULL, NULL},
    {"hostPath type changed", "type: Directory\n", "type: DirectoryOrCreate\n", SANDBOX,
     "      path: /srv/shop\n", "      path: /srv/shop\n      type: Directory\n"},
    {"volume added", "  initContainers:\n", "  - {name: more, emptyDir: {}}\n  initContainers:\n", SANDBOX,
     NULL, NULL},

    /* not hashed (REFERENCE.md): metadata that does not change what runs */
    {"label value", "app: shop", "app: shop2", NONE, NULL, NULL},
    {"label added", "    app: shop\n", "    app: shop\n    tier: web\n", NONE, NULL, NULL},
    {"annotation value", "note: hello", "note: bye", NONE, NULL, NULL},
    {"annotation added", "    note: hello\n", "    note: hello\n    other: x\n", NONE, NULL, NULL},
    {"metadata.uid", "4a5b\n", "4a5c\n", NONE, NULL, NULL},
    {"metadata.uid removed", "  uid: 6f1c2a9e-3b4d-4e5f-8a7b-0c1d2e3f4a5b\n", "", NONE, NULL, NULL},
    /* ... YAML style, key order, quoting, comments ... */
    {"flow style",
     "    env:\n    - name: MODE\n      value: prod\n    - name: LEVEL\n      value: \"3\"\n    - name: "
     "EMPTY\n",
     "    env: [{name: MODE, value: prod}, {value: '3', name: LEVEL}, {name: EMPTY},]\n", NONE, NULL, NULL},
    {"key order", "  - name: worker\n    image: busybox:1.36\n",
     "  - image: busybox:1.36\n    name: worker\n", NONE, NULL, NULL},
    {"quoting", "image: registry.example/web:1.0", "image: \"registry.example/web:1.0\"", NONE, NULL, NULL},
    {"comments", "  containers:\n", "  # the app\n  containers: # two\n", NONE, NULL, NULL},
    /* ... the same value written differently ... */
    {"0.5 for 500m", "cpu: 500m", "cpu: 0.5", NONE, NULL, NULL},
    {"67108864 for 64Mi", "memory: 64Mi", "memory: 67108864", NONE, NULL, NULL},
    {"1Ki for 1024", "sizeLimit: 1Mi", "sizeLimit: 1024Ki", NONE, NULL, NULL},
    {"\"300s\" for \"5m\"", "\"5m\"", "\"300s\"", NONE, NULL, NULL},
    {"0.25 for 250m", "cpu: 250m", "cpu: \"0.25\"", NONE, NULL, NULL},
    /* ... and defaults written out */
    {"requests equal to the limits", "limits: {cpu: \"1\"}",
     "limits: {cpu: \"1\"}\n      requests: {cpu: 1000m}", NONE, NULL, NULL},
    {"protocol TCP", "      containerPort: 9090\n", "      containerPort: 9090\n      protocol: TCP\n", NONE,
     NULL, NULL},
    {"readOnly false", "      readOnly: false\n", "", NONE, NULL, NULL},
    {"successThreshold 1", "      successThreshold: 1\n", "", NONE, NULL, NULL},
    {"periodSeconds 10", "      successThreshold: 1\n",
     "      successThreshold: 1\n      periodSeconds: 10\n", NONE, NULL, NULL},
    {"a timing of 0", "      successThreshold: 1\n", "      successThreshold: 1\n      timeoutSeconds: 0\n",
     NONE, NULL, NULL},
    {"scheme HTTP", "        host: 127.0.0.1\n", "        host: 127.0.0.1\n        scheme: HTTP\n", NONE,
     NULL, NULL},
    {"an empty env value", "    - name: EMPTY\n", "    - name: EMPTY\n      value: \"\"\n", NONE, NULL, NULL},
    {"imagePullPolicy IfNotPresent for a tag", "    image: busybox:1.36\n",
     "    image: busybox:1.36\n    imagePullPolicy: IfNotPresent\n", NONE, NULL, NULL},
    {"shareProcessNamespace false", "  shareProcessNamespace: false\n", "", NONE, NULL, NULL},
    {"hostUsers true", "  subdomain: shopsub\n", "  subdomain: shopsub\n  hostUsers: true\n", NONE, NULL,
     NULL},
    {"hostNetwork false", "  subdomain: shopsub\n", "  subdomain: shopsub\n  hostNetwork: false\n", NONE,
     NULL, NULL},
    {"stdin and tty false", "    stdin: false\n    tty: false\n", "", NONE, NULL, NULL},
    {"privileged false", "    command: [sh, -c, work]\n",
     "    command: [sh, -c, work]\n    securityContext: {privileged: false, readOnlyRootFilesystem: false}\n",
     NONE, NULL, NULL},
    {"empty lists", "    command: [sh, -c, work]\n",
     "    command: [sh, -c, work]\n    args: []\n    env: []\n", NONE, NULL, NULL},
    {"hostPath type \"\"", "      path: /srv/shop\n", "      path: /srv/shop\n      type: \"\"\n", NONE, NULL,
     NULL},
    {"emptyDir medium \"\"", "      sizeLimit: 64Mi\n", "      sizeLimit: 64Mi\n      medium: \"\"\n", NONE,
     NULL, NULL},
    {"namespace default", "  name: shop\n", "  name: shop\n  namespace: default\n", NONE,
     "  namespace: prod\n", ""},
    {"restartPolicy Always", "  subdomain: shopsub\n", "  subdomain: shopsub\n  restartPolicy: Always\n",
     NONE, "  restartPolicy: OnFailure\n", ""},
    {"terminationGracePeriodSeconds 30", "  subdomain: shopsub\n",
     "  subdomain: shopsub\n  terminationGracePeriodSeconds: 30\n", NONE,
     "  terminationGracePeriodSeconds: 20\n", ""},
    {"a negative grace period is 1", "terminationGracePeriodSeconds: 1\n",
     "terminationGracePeriodSeconds: -5\n", NONE, "terminationGracePeriodSeconds: 20\n",
     "terminationGracePeriodSeconds: 1\n"},
    {"podvisor.io/backoff-initial 10s", "    note: hello\n",
     "    note: hello\n    podvisor.io/backoff-initial: 10s\n", NONE,
     "    podvisor.io/backoff-initial: \"2s\"\n", ""},
    {"imagePullPolicy Always for latest", "    image: busybox\n",
     "    image: busybox\n    imagePullPolicy: Always\n", NONE, "    image: busybox:1.36\n",
     "    image: busybox\n"},
    {"a hostname equal to the pod name", "  subdomain: shopsub\n", "  subdomain: shopsub\n  hostname: shop\n",
     NONE, "  hostname: shophost\n", ""},
    {"a hostname hostNetwork ignores", "hostname: shophost", "hostname: other", NONE,
     "  restartPolicy: OnFailure\n", "  restartPolicy: OnFailure\n  hostNetwork: true\n"},
};

/* text with the only occurrence of from replaced by to (malloc'd). */
static char *edit(const char *text, const char *from, const char *to, const char *what) {
  const char *at = strstr(text, from);
  ck_assert_msg(at != NULL, "%s: '%s' is not in the manifest", what, from);
  ck_assert_msg(strstr(at + 1, from) == NULL, "%s: '%s' is in the manifest twice", what, from);
  size_t n = strlen(text) - strlen(from) + strlen(to);
  char *out = malloc(n + 1);
  ck_assert_ptr_nonnull(out);
  snprintf(out, n + 1, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  return out;
}

/* The one pod of yaml; no error allowed (warnings are). */
static spec_pod *pod_of(const char *yaml, const char *what) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  int r = spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &l, &d);
  char buf[1024];
  for (size_t i = 0; i < d.n; i++) {
    diag_format(&d.items[i], buf, sizeof buf);
    fprintf(stderr, "  %s: %s\n", what, buf);
  }
  ck_assert_msg(r == 0 && l.n == 1, "%s: the manifest is not valid", what);
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  diag_list_free(&d);
  return p;
}

static const spec_container *nth(const spec_pod *p, size_t i) {
  return i < p->n_init_containers ? &p->init_containers[i] : &p->containers[i - p->n_init_containers];
}

static void describe(unsigned m, char *buf, size_t len) {
  static const char *const names[] = {"side", "setup", "web", "worker", "sandbox"};
  size_t n = 0;
  buf[0] = '\0';
  for (int i = 0; i < 5; i++)
    if (m & (1u << i))
      n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "+" : "", names[i]);
  if (n == 0)
    snprintf(buf, len, "nothing");
}

START_TEST(base_is_clean) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  ck_assert_int_eq(spec_parse_buffer("t.yaml", base, strlen(base), 0, &l, &d), 0);
  ck_assert_uint_eq(d.n, 0);
  ck_assert_uint_eq(l.items[0]->n_init_containers + l.items[0]->n_containers, 4);
  spec_pod_list_free(&l);
  diag_list_free(&d);
}
END_TEST

START_TEST(hash_contract) {
  const struct row *r = &rows[_i];
  char *a_text = r->pre_from != NULL ? edit(base, r->pre_from, r->pre_to, r->what) : strdup(base);
  char *b_text = edit(a_text, r->from, r->to, r->what);
  spec_pod *a = pod_of(a_text, r->what), *b = pod_of(b_text, r->what);
  size_t n = a->n_init_containers + a->n_containers;
  ck_assert_uint_eq(n, 4);
  ck_assert_uint_eq(b->n_init_containers + b->n_containers, n);
  unsigned got = 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(nth(a, i)->hash, nth(b, i)->hash) != 0)
      got |= 1u << i;
  if (strcmp(a->sandbox_hash, b->sandbox_hash) != 0)
    got |= SANDBOX;
  char want_s[64], got_s[64];
  describe(r->expect, want_s, sizeof want_s);
  describe(got, got_s, sizeof got_s);
  ck_assert_msg(got == r->expect, "%s: %s changed, want %s", r->what, got_s, want_s);
  ck_assert_msg((strcmp(a->hash, b->hash) != 0) == (r->expect != 0), "%s: the pod hash %s", r->what,
                r->expect ? "did not change" : "changed");
  spec_pod_free(a);
  spec_pod_free(b);
  free(a_text);
  free(b_text);
}
END_TEST

int main(void) {
  Suite *s = suite_create("spec_hash");
  TCase *tc = tcase_create("hash");
  tcase_add_test(tc, base_is_clean);
  tcase_add_loop_test(tc, hash_contract, 0, sizeof rows / sizeof rows[0]);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
