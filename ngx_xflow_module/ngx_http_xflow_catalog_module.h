/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_catalog_module.h - the event catalog (xflow_catalog_zone,
 * xflow_catalog): what arrives per app, format and event name, in a
 * table all workers share (core/xf_catalog.h), served as JSON and as a
 * page a person reads.
 *
 * The part's files, in the order calls may go:
 *
 *   ngx_http_xflow_catalog_module.c  directives, the zone, recording
 *   ngx_http_xflow_catalog_page.c    the xflow_catalog handler and page
 *
 * The table is locked by its slab pool's mutex: one lock per request
 * records all its events, and the handler copies the table under the
 * lock and renders the copy without it.
 */

#ifndef NGX_HTTP_XFLOW_CATALOG_MODULE_H
#define NGX_HTTP_XFLOW_CATALOG_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "xf_catalog.h"


typedef struct {
    ngx_shm_zone_t             *shm_zone;   /* NULL: no catalog */
    xf_catalog_t               *cat;        /* set by the zone's init */
} ngx_http_xflow_catalog_main_conf_t;


extern ngx_module_t  ngx_http_xflow_catalog_module;


/**
 * @brief Counts the events of one upload in the catalog: each event's
 *        app, name, bytes as sent, validity and how it met the tracking
 *        plan (@p plan, one per event, or NULL: no plan).
 *
 * Does nothing without xflow_catalog_zone.  Evictions are counted in
 * xflow_catalog_evicted_total, the entries in use in
 * xflow_catalog_entries.
 *
 * Memory: nothing is kept; the events stay the caller's.
 *
 * Called from: a worker, once a request's events are planned
 * (ngx_http_xflow_ingest.c).
 */
void ngx_http_xflow_catalog_record(ngx_http_request_t *r, xf_format_t format,
    const xf_event_t *events, size_t n, const xf_catalog_plan_t *plan);

/**
 * @brief The xflow_catalog location: the catalog as JSON (?app=NAME
 *        keeps one app's entries), or the page when a browser asks for
 *        text/html.
 *
 * @returns what the answer's send returns; 404 without a catalog zone.
 *
 * Memory: the copy of the table and the JSON come from r->pool.
 *
 * Called from: a worker, as a content handler.
 */
ngx_int_t ngx_http_xflow_catalog_handler(ngx_http_request_t *r);

#endif /* NGX_HTTP_XFLOW_CATALOG_MODULE_H */
