/*
 * k8s_fixture.h - one realistic pod for the k8s_* suites, with the status
 * document its shim writes (built through ctrstate and kstatus_json, as
 * the keeper builds it) and the events the daemon would keep for it.
 *
 * The pod shop/web: init container "migrate" (completed), sidecar "proxy"
 * (running, ready, tcp readiness probe, a named port), app container "app"
 * (running, ready; http liveness, exec readiness and startup probes,
 * limits and requests, env, three mounts) and app container "worker"
 * (crash-looping: 5 restarts, the last exit an OOM kill, waiting in
 * CrashLoopBackOff for 8 more seconds).  Volumes: an emptyDir and a
 * hostPath.  Everything happens between K8S_FIXTURE_T0 (creation) and
 * K8S_FIXTURE_NOW, ten minutes later.
 */
#ifndef PODVISOR_TESTS_K8S_FIXTURE_H
#define PODVISOR_TESTS_K8S_FIXTURE_H

#include <jansson.h>

#include "spec/spec.h"

#define K8S_FIXTURE_SEC 1000000000LL
#define K8S_FIXTURE_T0 (1700000000LL * K8S_FIXTURE_SEC) /* 2023-11-14T22:13:20Z */
#define K8S_FIXTURE_NOW (K8S_FIXTURE_T0 + 600 * K8S_FIXTURE_SEC)
#define K8S_FIXTURE_UID "7d1f0c2a9b3e4d5f"

extern const char k8s_fixture_manifest[];

/* The one pod of k8s_fixture_manifest (asserted valid); the caller frees it. */
spec_pod *k8s_fixture_pod(void);

/* The shim's status document of that pod at K8S_FIXTURE_NOW. */
json_t *k8s_fixture_shim_status(const spec_pod *p);

/* k8s_pod() of both, with resourceVersion "42", source
 * "file:/etc/podvisor/pods/web.yaml", node "host1", host IP 192.168.1.10. */
json_t *k8s_fixture_pod_object(void);

/* An EventList for the pod (and one event of another pod, which describe
 * must leave out). */
json_t *k8s_fixture_events(void);

/* json_loads of text with ' for ", asserted. */
json_t *k8s_fixture_json(const char *squoted);

#endif
