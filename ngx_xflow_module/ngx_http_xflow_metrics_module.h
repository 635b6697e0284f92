/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_metrics_module.h - counters for the rest of xflow, and
 * the "xflow_metrics" Prometheus endpoint.
 *
 * The registry (core/xf_metrics.h) is built while the configuration is
 * read and frozen in this module's postconfiguration, which also sizes
 * and adds the shared memory zone.  Each worker adds to its own slot
 * (ngx_worker modulo the slot count) with relaxed atomic adds; old and
 * new workers share slot numbers during a reload, which atomic adds
 * allow.  A reload keeps the counters: the same layout reuses the zone,
 * another layout (a topic, a zone or workers added) gets a new zone
 * into which the old counts are carried.
 *
 * Label values:
 *   format   xf_format_t; XF_FMT_AUTO is exposed as "unknown"
 *   code     xf_metrics_code_index(status)
 *   result   XF_METRICS_EVENT_*, XF_METRICS_KAFKA_*, XF_METRICS_LIMIT_*
 *   reason,
 *   kind     xf_metrics_status_index(xf_status_t)
 *   topic    the index in ngx_http_xflow_main_conf_t.topics, i.e. the
 *            location's topic_index: read by this module from the
 *            collection module's main configuration
 *   zone     the index returned by ngx_http_xflow_metrics_add_label()
 *
 * Every function below may be called whether or not the zone exists
 * (then it does nothing), from any worker, on the event loop.
 */

#ifndef NGX_HTTP_XFLOW_METRICS_MODULE_H
#define NGX_HTTP_XFLOW_METRICS_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "xf_metrics.h"


extern ngx_module_t  ngx_http_xflow_metrics_module;


/**
 * @brief Registers a value of a dynamic label set (XF_DIM_ZONE) and gets
 *        its label index.  A name registered twice gets the same index.
 *
 * @returns NGX_OK with *index set, or NGX_ERROR after logging why (too
 *          late, too many values, a value too long, no memory).
 *
 * Memory: the registry copies @p value; it lives in cf->pool.
 *
 * Called from: config time, while the http{} block is read and before
 * this module's postconfiguration: a directive handler, a
 * create/init_main_conf or a merge function.
 */
ngx_int_t ngx_http_xflow_metrics_add_label(ngx_conf_t *cf, ngx_uint_t dim,
    ngx_str_t *value, ngx_uint_t *index);

/**
 * @brief Adds @p n to a counter, sets a gauge to @p v, in this worker's
 *        slot: @p id is an xf_metric_id_t, @p l0 and @p l1 the label
 *        indexes (0 for a family without that label).  Out of range
 *        indexes and a family of another type are ignored.
 *
 * Called from: a worker (relaxed atomic adds; no lock).
 */
void ngx_http_xflow_metric_add(ngx_uint_t id, ngx_uint_t l0, ngx_uint_t l1,
    uint64_t n);
void ngx_http_xflow_metric_set(ngx_uint_t id, ngx_uint_t l0, ngx_uint_t l1,
    uint64_t v);

/**
 * @brief A counter summed over every worker slot: what the gateway has
 *        counted since its master started (the zone keeps counts across
 *        reloads).  0 without a zone.
 *
 * Called from: a worker.
 */
uint64_t ngx_http_xflow_metric_sum(ngx_uint_t id, ngx_uint_t l0,
    ngx_uint_t l1);

/**
 * @brief A histogram observation in the family's base unit (us, events).
 *
 * Called from: a worker.
 */
void ngx_http_xflow_metric_observe(ngx_uint_t id, uint64_t v);

/**
 * @brief Accounts one request that is over: xflow_http_requests_total
 *        {format,code} with the status the access log shows,
 *        xflow_request_duration_seconds since the request started
 *        (millisecond resolution, as $request_time), and this worker's
 *        RSS at most once a second.
 *
 * This module's own log-phase handler calls it for every request of an
 * xflow_collect location, and also counts, from the collection module's
 * ctx, bytes received and decoded, events by result and the batch size
 * (see the .c); nothing else needs to call it.
 *
 * Called from: a worker, the log phase.
 */
void ngx_http_xflow_metrics_request(ngx_http_request_t *r,
    ngx_uint_t format);

/**
 * @brief Applies a librdkafka statistics report of this worker's
 *        producer (the one producer a worker creates), parsed once by
 *        the producer: queue gauges, broker state and rtt, retries,
 *        bytes sent, and this worker's RSS.
 *
 * Memory: @p st stays the caller's; nothing is kept.
 *
 * Called from: a worker, the event loop's poll of the producer.
 */
void ngx_http_xflow_metrics_kafka_stats(const xf_kafka_stats_t *st);

#endif /* NGX_HTTP_XFLOW_METRICS_MODULE_H */
