/* schema.c - the key tables of every object in a Pod (see schema.h). */
#include "spec/schema.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spec/suggest.h"

#define OK(n) {n, SCHEMA_SUPPORTED, NULL}
#define WARN(n, r) {n, SCHEMA_WARN, r}
#define REFUSE(n, r) {n, SCHEMA_REFUSE, r}

static const char API_SERVER[] = "set by the Kubernetes API server; podvisor ignores it";
static const char SCHED[] = "a scheduling setting; podvisor runs every pod on this host";
static const char SA[] = "podvisor has no service accounts and mounts no API token";
static const char MAC[] = "podvisor does not apply SELinux or AppArmor profiles yet; "
                          "the containers run without that extra confinement";
static const char VOLTYPE[] = "only emptyDir and hostPath volumes are implemented; "
                              "the container would start without the files it expects";

static const schema_field top[] = {
    OK("apiVersion"), OK("kind"), OK("metadata"), OK("spec"),
    WARN("status", "status is written by the system, not read from manifests"),
};

static const schema_field metadata[] = {
    OK("name"), OK("namespace"), OK("labels"), OK("annotations"), OK("uid"),
    REFUSE("generateName", "podvisor tracks pods by their fixed name; set metadata.name"),
    WARN("resourceVersion", API_SERVER), WARN("generation", API_SERVER), WARN("creationTimestamp", API_SERVER),
    WARN("deletionTimestamp", API_SERVER), WARN("deletionGracePeriodSeconds", API_SERVER),
    WARN("selfLink", API_SERVER), WARN("managedFields", API_SERVER), WARN("ownerReferences", API_SERVER),
    WARN("finalizers", API_SERVER),
};

static const schema_field pod_spec[] = {
    OK("containers"), OK("initContainers"), OK("volumes"), OK("restartPolicy"),
    OK("terminationGracePeriodSeconds"), OK("hostname"), OK("subdomain"), OK("hostNetwork"),
    OK("shareProcessNamespace"), OK("securityContext"), OK("hostPID"), OK("hostIPC"), OK("hostUsers"),
    WARN("nodeSelector", SCHED), WARN("nodeName", SCHED), WARN("affinity", SCHED), WARN("tolerations", SCHED),
    WARN("schedulerName", SCHED), WARN("priorityClassName", SCHED), WARN("priority", SCHED),
    WARN("preemptionPolicy", SCHED), WARN("topologySpreadConstraints", SCHED), WARN("schedulingGates", SCHED),
    WARN("overhead", SCHED), WARN("os", SCHED),
    WARN("serviceAccountName", SA), WARN("serviceAccount", SA), WARN("automountServiceAccountToken", SA),
    WARN("imagePullSecrets", "podvisor runs images already imported on this host; it pulls nothing"),
    WARN("dnsPolicy", "podvisor has no cluster DNS; containers use the host's resolver configuration"),
    WARN("enableServiceLinks", "podvisor has no Services, so there are no service variables to add"),
    WARN("readinessGates", "readiness gates are set by cluster controllers, which podvisor has none of"),
    REFUSE("ephemeralContainers", "ephemeral debug containers are not implemented"),
    REFUSE("activeDeadlineSeconds", "deadlines are not implemented; the pod would run past its deadline"),
    {"setHostnameAsFQDN", SCHEMA_REFUSE_UNLESS_FALSE, "the hostname would differ from what the pod expects"},
    REFUSE("hostAliases", "extra /etc/hosts entries are not implemented; lookups of those names would fail"),
    REFUSE("dnsConfig", "custom resolver settings are not implemented; name lookups would differ"),
    REFUSE("runtimeClassName", "podvisor has a single runtime; another sandbox was asked for"),
    REFUSE("resourceClaims", "dynamic resource allocation is not implemented"),
    REFUSE("resources", "pod-level resources are not implemented; set them per container"),
};

static const schema_field container[] = {
    OK("name"), OK("image"), OK("imagePullPolicy"), OK("command"), OK("args"), OK("workingDir"), OK("env"),
    OK("ports"), OK("resources"), OK("volumeMounts"), OK("livenessProbe"), OK("readinessProbe"),
    OK("startupProbe"), OK("lifecycle"), OK("securityContext"), OK("stdin"), OK("tty"), OK("restartPolicy"),
    WARN("terminationMessagePath", "podvisor keeps the logs and exit code but no termination message"),
    WARN("terminationMessagePolicy", "podvisor keeps the logs and exit code but no termination message"),
    WARN("stdinOnce", "podvisor attaches no client to stdin, so stdin is never closed by one"),
    WARN("resizePolicy", "resources change only through a new manifest, which restarts as needed"),
    REFUSE("envFrom", "variables from config maps and secrets are not implemented; they would be missing"),
    REFUSE("volumeDevices", "raw block devices are not implemented"),
};

static const schema_field env[] = {
    OK("name"), OK("value"),
    REFUSE("valueFrom", "values from secrets, config maps or the downward API are not implemented; "
                        "the variable would be missing"),
};

static const schema_field port[] = {
    OK("containerPort"), OK("hostPort"), OK("protocol"), OK("name"),
    WARN("hostIP", "podvisor forwards no ports; with hostNetwork the program chooses its own address"),
};

static const schema_field resources[] = {
    OK("requests"), OK("limits"),
    WARN("claims", "dynamic resource claims are not implemented; the claim is ignored"),
};

static const schema_field volume_mount[] = {
    OK("name"), OK("mountPath"), OK("readOnly"), OK("subPath"), OK("mountPropagation"), OK("recursiveReadOnly"),
    REFUSE("subPathExpr", "subPathExpr expansion is not implemented"),
};

static const schema_field probe[] = {
    OK("exec"), OK("httpGet"), OK("tcpSocket"), OK("initialDelaySeconds"), OK("timeoutSeconds"),
    OK("periodSeconds"), OK("successThreshold"), OK("failureThreshold"), OK("terminationGracePeriodSeconds"),
    REFUSE("grpc", "gRPC probes are not implemented; the container would go unchecked"),
};

static const schema_field exec_action[] = {OK("command")};
static const schema_field http_get[] = {OK("path"), OK("port"), OK("host"), OK("scheme"), OK("httpHeaders")};
static const schema_field tcp_socket[] = {OK("port"), OK("host")};
static const schema_field http_header[] = {OK("name"), OK("value")};

static const schema_field lifecycle[] = {
    OK("postStart"), OK("preStop"),
    REFUSE("stopSignal", "custom stop signals are not implemented; podvisor sends SIGTERM"),
};

static const schema_field lifecycle_handler[] = {
    OK("exec"),
    REFUSE("httpGet", "only exec lifecycle hooks are implemented; the hook would not run"),
    REFUSE("tcpSocket", "only exec lifecycle hooks are implemented; the hook would not run"),
    REFUSE("sleep", "only exec lifecycle hooks are implemented; use exec with sleep"),
};

static const schema_field security_context[] = {
    OK("runAsUser"), OK("runAsGroup"), OK("runAsNonRoot"), OK("privileged"), OK("readOnlyRootFilesystem"),
    OK("allowPrivilegeEscalation"), OK("capabilities"), OK("procMount"),
    OK("seccompProfile"), WARN("seLinuxOptions", MAC), WARN("appArmorProfile", MAC),
    WARN("windowsOptions", "Windows options do not apply on Linux"),
};

static const schema_field pod_security_context[] = {
    OK("runAsUser"), OK("runAsGroup"), OK("runAsNonRoot"), OK("fsGroup"), OK("fsGroupChangePolicy"),
    OK("supplementalGroups"), OK("supplementalGroupsPolicy"), OK("sysctls"),
    OK("seccompProfile"), WARN("seLinuxOptions", MAC), WARN("appArmorProfile", MAC),
    WARN("seLinuxChangePolicy", MAC), WARN("windowsOptions", "Windows options do not apply on Linux"),
};

static const schema_field capabilities[] = {OK("add"), OK("drop")};
static const schema_field seccomp_profile[] = {OK("type"), OK("localhostProfile")};

static const schema_field volume[] = {
    OK("name"), OK("emptyDir"), OK("hostPath"),
    REFUSE("configMap", VOLTYPE), REFUSE("secret", VOLTYPE), REFUSE("persistentVolumeClaim", VOLTYPE),
    REFUSE("projected", VOLTYPE), REFUSE("downwardAPI", VOLTYPE), REFUSE("ephemeral", VOLTYPE),
    REFUSE("csi", VOLTYPE), REFUSE("nfs", VOLTYPE), REFUSE("iscsi", VOLTYPE), REFUSE("image", VOLTYPE),
    REFUSE("gitRepo", VOLTYPE), REFUSE("awsElasticBlockStore", VOLTYPE), REFUSE("gcePersistentDisk", VOLTYPE),
    REFUSE("azureDisk", VOLTYPE), REFUSE("azureFile", VOLTYPE), REFUSE("cephfs", VOLTYPE),
    REFUSE("cinder", VOLTYPE), REFUSE("fc", VOLTYPE), REFUSE("flexVolume", VOLTYPE), REFUSE("flocker", VOLTYPE),
    REFUSE("glusterfs", VOLTYPE), REFUSE("photonPersistentDisk", VOLTYPE), REFUSE("portworxVolume", VOLTYPE),
    REFUSE("quobyte", VOLTYPE), REFUSE("rbd", VOLTYPE), REFUSE("scaleIO", VOLTYPE), REFUSE("storageos", VOLTYPE),
    REFUSE("vsphereVolume", VOLTYPE),
};

static const schema_field empty_dir[] = {OK("medium"), OK("sizeLimit")};
static const schema_field host_path[] = {OK("path"), OK("type")};
static const schema_field sysctl[] = {OK("name"), OK("value")};

static const struct {
  const schema_field *fields;
  size_t n;
  const char *where;
} objects[SCHEMA_N_OBJECTS] = {
    [SCHEMA_TOP] = {top, sizeof top / sizeof top[0], "the top level"},
    [SCHEMA_METADATA] = {metadata, sizeof metadata / sizeof metadata[0], "metadata"},
    [SCHEMA_POD_SPEC] = {pod_spec, sizeof pod_spec / sizeof pod_spec[0], "spec"},
    [SCHEMA_CONTAINER] = {container, sizeof container / sizeof container[0], "spec.containers[]"},
    [SCHEMA_ENV] = {env, sizeof env / sizeof env[0], "spec.containers[].env[]"},
    [SCHEMA_PORT] = {port, sizeof port / sizeof port[0], "spec.containers[].ports[]"},
    [SCHEMA_RESOURCES] = {resources, sizeof resources / sizeof resources[0], "spec.containers[].resources"},
    [SCHEMA_VOLUME_MOUNT] = {volume_mount, sizeof volume_mount / sizeof volume_mount[0],
                             "spec.containers[].volumeMounts[]"},
    [SCHEMA_PROBE] = {probe, sizeof probe / sizeof probe[0], "spec.containers[].livenessProbe"},
    [SCHEMA_EXEC] = {exec_action, 1, "spec.containers[].livenessProbe.exec"},
    [SCHEMA_HTTP_GET] = {http_get, sizeof http_get / sizeof http_get[0], "spec.containers[].livenessProbe.httpGet"},
    [SCHEMA_TCP_SOCKET] = {tcp_socket, 2, "spec.containers[].livenessProbe.tcpSocket"},
    [SCHEMA_HTTP_HEADER] = {http_header, 2, "spec.containers[].livenessProbe.httpGet.httpHeaders[]"},
    [SCHEMA_LIFECYCLE] = {lifecycle, sizeof lifecycle / sizeof lifecycle[0], "spec.containers[].lifecycle"},
    [SCHEMA_LIFECYCLE_HANDLER] = {lifecycle_handler, sizeof lifecycle_handler / sizeof lifecycle_handler[0],
                                  "spec.containers[].lifecycle.preStop"},
    [SCHEMA_SECURITY_CONTEXT] = {security_context, sizeof security_context / sizeof security_context[0],
                                 "spec.containers[].securityContext"},
    [SCHEMA_POD_SECURITY_CONTEXT] = {pod_security_context,
                                     sizeof pod_security_context / sizeof pod_security_context[0],
                                     "spec.securityContext"},
    [SCHEMA_CAPABILITIES] = {capabilities, 2, "spec.containers[].securityContext.capabilities"},
    [SCHEMA_SECCOMP_PROFILE] = {seccomp_profile, 2, "spec.containers[].securityContext.seccompProfile"},
    [SCHEMA_VOLUME] = {volume, sizeof volume / sizeof volume[0], "spec.volumes[]"},
    [SCHEMA_EMPTY_DIR] = {empty_dir, 2, "spec.volumes[].emptyDir"},
    [SCHEMA_HOST_PATH] = {host_path, 2, "spec.volumes[].hostPath"},
    [SCHEMA_SYSCTL] = {sysctl, 2, "spec.securityContext.sysctls[]"},
};

const schema_field *schema_fields(schema_object o, size_t *n) {
  *n = objects[o].n;
  return objects[o].fields;
}

const char *schema_where(schema_object o) { return objects[o].where; }

const schema_field *schema_lookup(schema_object o, const char *name) {
  for (size_t i = 0; i < objects[o].n; i++)
    if (strcmp(objects[o].fields[i].name, name) == 0)
      return &objects[o].fields[i];
  return NULL;
}

/* Objects searched for "belongs in" hints, the likeliest homes first. */
static const schema_object search_order[] = {
    SCHEMA_POD_SPEC, SCHEMA_METADATA, SCHEMA_CONTAINER, SCHEMA_TOP, SCHEMA_VOLUME, SCHEMA_PROBE,
    SCHEMA_RESOURCES, SCHEMA_SECURITY_CONTEXT, SCHEMA_POD_SECURITY_CONTEXT, SCHEMA_PORT, SCHEMA_VOLUME_MOUNT,
    SCHEMA_ENV, SCHEMA_EXEC, SCHEMA_HTTP_GET, SCHEMA_TCP_SOCKET, SCHEMA_LIFECYCLE, SCHEMA_LIFECYCLE_HANDLER,
    SCHEMA_CAPABILITIES, SCHEMA_SECCOMP_PROFILE, SCHEMA_EMPTY_DIR, SCHEMA_HOST_PATH, SCHEMA_HTTP_HEADER, SCHEMA_SYSCTL,
};

static const char *closest(schema_object o, const char *name) {
  const char *cands[64];
  size_t n = 0;
  for (size_t i = 0; i < objects[o].n && n < 64; i++) {
    if (strcasecmp(objects[o].fields[i].name, name) == 0)
      return objects[o].fields[i].name; /* gRPC vs grpc, RestartPolicy vs restartPolicy */
    cands[n++] = objects[o].fields[i].name;
  }
  return suggest_closest(name, cands, n);
}

void schema_hint(schema_object o, const char *name, char *buf, size_t len) {
  buf[0] = '\0';
  const char *s = closest(o, name);
  if (s != NULL) {
    snprintf(buf, len, "did you mean '%s'?", s);
    return;
  }
  /* Known elsewhere: the classic restartPolicy under metadata.  Only the
   * likeliest home is named; a list of every object with a "name" field
   * would not help anyone. */
  for (size_t i = 0; i < sizeof search_order / sizeof search_order[0]; i++) {
    schema_object other = search_order[i];
    const schema_field *f = other != o ? schema_lookup(other, name) : NULL;
    if (f != NULL && f->cls == SCHEMA_SUPPORTED) {
      snprintf(buf, len, "'%s' belongs in %s, not in %s", name, objects[other].where, objects[o].where);
      return;
    }
  }
  for (size_t i = 0; i < sizeof search_order / sizeof search_order[0]; i++) {
    schema_object other = search_order[i];
    if (other == o)
      continue;
    s = closest(other, name);
    if (s != NULL) {
      snprintf(buf, len, "did you mean '%s'? (a field of %s)", s, objects[other].where);
      return;
    }
  }
}
