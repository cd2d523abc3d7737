/*
 * k8s_time.h - times as the Kubernetes API writes them and as kubectl
 * prints them.
 *
 * Contract: pure functions of their arguments; no clock is ever read (the
 * caller passes "now"), no I/O except the time zone database that
 * localtime_r() consults when asked for local time.  Times are ns since the
 * epoch; 0 is Go's zero time ("unset").
 *
 *  - k8s_time_human() is apimachinery's duration.HumanDuration, which kubectl
 *    prints in AGE and "(5s ago)": "5s" below 2 minutes, "2m30s" below 10
 *    minutes, "45m" below 3 hours, "3h45m" below 8 hours, "20h" below 2 days,
 *    "5d3h" below 8 days, "300d" below 2 years, "3y50d" below 8 years, then
 *    "10y"; "0s" for -1 s < d < 0 (clock skew), "<invalid>" below that.
 *    Every division truncates toward zero, as Go's integer conversions do.
 *  - k8s_time_since() is kubectl's translateTimestampSince: "<unknown>" for
 *    the zero time, else k8s_time_human(now - t).
 *  - k8s_time_format() writes metav1.Time: RFC 3339 in UTC, whole seconds
 *    (the fraction is dropped, as metav1.Time.MarshalJSON does).
 *  - k8s_time_rfc1123z() writes Go's time.RFC1123Z layout that kubectl
 *    describe prints ("Mon, 02 Jan 2006 15:04:05 -0700"), in UTC or, with
 *    local, in the process's time zone as kubectl does.
 */
#ifndef PODVISOR_DAEMON_K8S_TIME_H
#define PODVISOR_DAEMON_K8S_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define K8S_TIME_HUMAN_MAX 32 /* "<invalid>", "2562047y" and everything between */
#define K8S_TIME_RFC3339_MAX 32
#define K8S_TIME_RFC1123_MAX 48

void k8s_time_human(int64_t d_ns, char out[K8S_TIME_HUMAN_MAX]);
void k8s_time_since(int64_t t_ns, int64_t now_ns, char out[K8S_TIME_HUMAN_MAX]);

/* Returns the length, or -1 when buf is too small. */
int k8s_time_format(int64_t ns, char *buf, size_t len);
int k8s_time_rfc1123z(int64_t ns, bool local, char *buf, size_t len);

#endif
