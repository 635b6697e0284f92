/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_dedup.h - the edge dedup window (core/xf_dedup.h) in a
 * shared zone, one table for every worker and location of the gateway.
 *
 * Ingest asks, for each valid event of a location with xflow_dedup,
 * whether its key was kept within the window; a copy that was is a
 * duplicate: answered as success, counted, not produced (or produced to
 * the location's topic=, outside the ledger).  The keys of a request's
 * events are recorded only once its answer is a success, so a copy whose
 * request got a retry status is never what makes the next one a
 * duplicate.  Spool replays never pass here: neither deduplicated nor
 * recorded.
 *
 * Every function may be called without a zone (nothing is a duplicate).
 */

#ifndef NGX_HTTP_XFLOW_DEDUP_H
#define NGX_HTTP_XFLOW_DEDUP_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "xf_dedup.h"


/**
 * @brief Adds the dedup table's zone, of @p size bytes, into @p zone (0:
 * no xflow_dedup anywhere, no zone: NULL).  The same size across a
 * reload keeps the table, its entries and its key.
 *
 * @returns NGX_OK, or NGX_ERROR (no memory).
 *
 * Called from: the collection module's postconfiguration.
 */
ngx_int_t ngx_http_xflow_dedup_zone(ngx_conf_t *cf, size_t size,
    ngx_shm_zone_t **zone);

/**
 * @brief This worker uses the table of @p zone, its configuration's
 * (NULL: none).
 *
 * Called from: init_process.
 */
void ngx_http_xflow_dedup_init_process(ngx_shm_zone_t *zone);

/**
 * @brief The key of one event of format @p f for @p app: its SDK's id,
 * else its bytes (xf_dedup_event_key).  0 without a zone.
 *
 * Called from: a worker, ingest.
 */
uint64_t ngx_http_xflow_dedup_key(ngx_uint_t f, const u_char *app,
    size_t app_len, const u_char *p, size_t len);

/**
 * @brief 1 when @p key was kept within the window, else 0.
 *
 * Called from: a worker, ingest.
 */
ngx_uint_t ngx_http_xflow_dedup_seen(uint64_t key);

/**
 * @brief Records the @p n keys at @p keys as kept, for @p window ms.
 *
 * Called from: a worker, when a request is answered with success.
 */
void ngx_http_xflow_dedup_set(const uint64_t *keys, ngx_uint_t n,
    ngx_msec_t window);

#endif /* NGX_HTTP_XFLOW_DEDUP_H */
