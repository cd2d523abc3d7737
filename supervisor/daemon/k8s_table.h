/*
 * k8s_table.h - the meta.k8s.io/v1 Table that kubectl asks for.
 *
 * What it is for: `kubectl get` does not format objects itself.  It sends
 *   Accept: application/json;as=Table;v=v1;g=meta.k8s.io,
 *           application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json
 * on the list or get request (and on its watch with -w), and prints the
 * Table the server computes (cli-runtime's table printer, k8s_print.h).
 * The daemon answers such a request with k8s_table_pods(); any other kind
 * podvisor serves later needs only its columns and cells, through the
 * generic builders below.
 *
 * The shape, as kube-apiserver writes it (its TableConvertor always
 * generates the wide columns; the client hides the ones with priority 1):
 *   {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
 *    "metadata": {"resourceVersion": "<the list's or the object's>"},
 *    "columnDefinitions": [{"name", "type", "format", "description",
 *                           "priority"}, ...]   (null with no_headers,
 *                           which kube-apiserver sends in watch events
 *                           after the first),
 *    "rows": [{"cells": [...], "conditions": [...] (only when set),
 *              "object": {"kind": "PartialObjectMetadata",
 *                         "apiVersion": "meta.k8s.io/v1",
 *                         "metadata": <the object's metadata>}}]}
 * The row object is what kube-apiserver sends by default (includeObject
 * Metadata); kubectl reads the namespace of -A and the labels of
 * --show-labels from it.
 *
 * Pods (printPod): columns Name, Ready, Status, Restarts, Age, and with
 * priority 1 IP, Node, Nominated Node, Readiness Gates, their types and
 * descriptions as kube-apiserver 1.32 declares them; cells from
 * k8s_podstat_compute(), status.podIPs[0].ip (else podIP, else "<none>"),
 * spec.nodeName, status.nominatedNodeName (else "<none>") and the
 * readiness gates "t/n" (else "<none>").  A Succeeded or Failed pod's row
 * has the condition {"type": "Completed", "status": "True", "reason":
 * "<phase>", "message": ...}.
 *
 * Contract: pure, the clock passed in; new references, NULL with err on
 * out of memory or a document of the wrong kind (EINVAL).  Arguments
 * documented as stolen are stolen also on failure.
 */
#ifndef PODVISOR_DAEMON_K8S_TABLE_H
#define PODVISOR_DAEMON_K8S_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/core/error.h"

typedef struct k8s_table_column {
  const char *name, *type, *format, *description;
  int priority; /* 0: always shown; 1: only with -o wide */
} k8s_table_column;

/* The pod columns, in order (K8S_TABLE_POD_COLUMNS of them). */
#define K8S_TABLE_POD_COLUMNS 9
extern const k8s_table_column k8s_table_pod_columns[K8S_TABLE_POD_COLUMNS];

/* columnDefinitions of cols. */
json_t *k8s_table_columns(const k8s_table_column *cols, size_t n, pv_err *err);

/* A row: cells (an array, stolen), the PartialObjectMetadata of object (its
 * "metadata" is copied), conditions (an array, stolen; NULL: none). */
json_t *k8s_table_row(json_t *cells, const json_t *object, json_t *conditions, pv_err *err);

/* A Table of columns (stolen; NULL: "columnDefinitions": null) and rows
 * (stolen) at resourceVersion rv (NULL or "": none). */
json_t *k8s_table_new(json_t *columns, json_t *rows, const char *rv, pv_err *err);

/* The Table of a Pod, or of a PodList (or any object with "items"). */
json_t *k8s_table_pods(const json_t *pod_or_list, int64_t now_ns, bool no_headers, pv_err *err);

#endif
