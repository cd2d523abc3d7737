/*
 * k8s_pod.h - a podvisor pod as a Kubernetes v1 Pod object, the one the
 * daemon's API serves (GET .../pods/NAME, the items of a PodList, the
 * objects of a watch stream).
 *
 * The object:
 *  - "kind": "Pod", "apiVersion": "v1";
 *  - metadata, in the order kube-apiserver writes it: name, namespace, uid,
 *    resourceVersion, creationTimestamp, deletionTimestamp and
 *    deletionGracePeriodSeconds (only while the pod is being deleted),
 *    labels, annotations.  The annotations are the manifest's plus
 *    K8S_POD_SOURCE_ANNOTATION naming where the pod came from
 *    ("file:/etc/podvisor/pods/web.yaml", "api"); spec/ accepts and ignores
 *    that key, so `get -o yaml` output applies again;
 *  - spec: the pod as applied (podjson_pod()'s spec), plus what a cluster
 *    fills in: nodeName (the host) and priority 0;
 *  - status: the shim's status document (kstatus_json(): Kubernetes'
 *    phase, conditions, startTime, initContainerStatuses and
 *    containerStatuses) without its "metadata", plus qosClass (computed
 *    from the spec as the API server does) and hostIP/hostIPs when known.
 *    podvisor's own fields stay where the shim put them, in "podvisor"
 *    members of the status and of each container status (fsm,
 *    nextRestartAt, stopping, backoff, ...): Kubernetes clients decode
 *    unknown fields as nothing (Go's encoding/json and client-go drop
 *    them), so kubectl and client libraries read the object unchanged
 *    while podvisor's CLI and dashboard find the extensions.
 *  - Without a shim status (the pod is not started yet, or cannot start),
 *    the status is k8s_pod_pending_status().
 *
 * Contract: pure (no I/O, no clock: every time is passed in); returns a
 * new reference or NULL with err (ENOMEM; EINVAL for a shim status that is
 * not an object).  Times are written as metav1.Time, whole seconds.
 */
#ifndef PODVISOR_DAEMON_K8S_POD_H
#define PODVISOR_DAEMON_K8S_POD_H

#include <jansson.h>
#include <stdint.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"

#define K8S_POD_SOURCE_ANNOTATION "podvisor.io/source"

typedef struct k8s_pod_meta {
  const char *uid;              /* NULL: the manifest's metadata.uid, else spec_pod_uid(p, NULL) */
  const char *resource_version; /* NULL: left out */
  int64_t created;              /* creationTimestamp (ns); 0: left out */
  const char *source;           /* "file:<path>" or "api"; NULL: no source annotation */
  const char *node_name;        /* spec.nodeName, the host's name; NULL: left out */
  const char *host_ip;          /* status.hostIP and hostIPs; NULL: left out */
  int64_t deletion;             /* deletionTimestamp (ns); 0 unless being deleted */
  int64_t deletion_grace_s;     /* deletionGracePeriodSeconds, written with deletion */
} k8s_pod_meta;

/* The Pod object of p; shim_status is the shim's status document or NULL. */
json_t *k8s_pod(const spec_pod *p, const k8s_pod_meta *m, const json_t *shim_status, pv_err *err);

/* The status of a pod that no shim has reported on yet, as the kubelet
 * writes it before any container runs: phase Pending; conditions
 * PodScheduled True, Initialized (True without init containers, else False
 * with reason ContainersNotInitialized and "containers with incomplete
 * status: [a b]"), ContainersReady and Ready False (ContainersNotReady,
 * "containers with unready status: [...]"), all at time now; every
 * container waiting with reason PodInitializing when the pod has init
 * containers, else ContainerCreating; qosClass.
 *
 * With reason (a pod podvisor will not start as it is, e.g.
 * "ManifestConflict"), status.reason and status.message are set and there
 * are no container statuses, as for a pod no node has taken: kubectl then
 * shows reason as the pod's STATUS and "Reason:"/"Message:" in describe. */
json_t *k8s_pod_pending_status(const spec_pod *p, const char *reason, const char *message, int64_t now,
                               pv_err *err);

/* "Guaranteed", "Burstable" or "BestEffort", as ComputePodQOS decides from
 * the cpu and memory requests and limits of every container. */
const char *k8s_pod_qos_class(const spec_pod *p);

/* A PodList of items (a JSON array of Pod objects; the reference is
 * stolen, also on failure) with metadata.resourceVersion rv (NULL: ""). */
json_t *k8s_pod_list(json_t *items, const char *rv, pv_err *err);

#endif
