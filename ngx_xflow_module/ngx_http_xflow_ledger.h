/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_ledger.h - the ledger (core/xf_ledger.h) in a shared
 * zone of its own: where every event the gateway read went.
 *
 * The zone's size does not depend on the configuration, so a reload
 * keeps it, counts and slot owners, while old workers finish their
 * requests in it.  Each worker writes its own slot; each move is
 * published at once and balanced by itself (xf_ledger_move), so a scrape
 * served by any worker sees a balanced ledger.
 *
 * Where each move is made, once (docs/operations.md, "The ledger"):
 *   ingest: received -> dead_lettered, duplicate, refused (a request
 *           answered with a retry or limit status, or nothing handed on)
 *   batch:  received -> in_flight or spooled (or refused: neither took
 *           it); in_flight -> delivered, spooled, failed, refused
 *   spool:  on the spool -> delivered, failed (replay); what is on the
 *           spool at start -> received and spooled (in the master)
 *   core:   in_flight of a process that died -> orphaned
 *
 * Every function may be called without a zone (it does nothing).
 */

#ifndef NGX_HTTP_XFLOW_LEDGER_H
#define NGX_HTTP_XFLOW_LEDGER_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "xf_format.h"
#include "xf_ledger.h"
#include "xf_spool_record.h"


/* A message that is no event's (a dead letter, the UA dictionary's). */
#define NGX_HTTP_XFLOW_LEDGER_NONE  (-1)


/*
 * An xflow_collect location's series, one per format it takes (all of
 * them under auto): filled when the zone is set up, shared by the
 * locations nested in it, which count under its name.
 */
typedef struct {
    ngx_str_t           name;
    xf_format_t         format;         /* XF_FMT_AUTO: every format */
    int32_t             series[XF_FMT_MAX];
} ngx_http_xflow_ledger_loc_t;


/**
 * @brief The series of an xflow_collect location named @p name taking
 * @p format, appended to @p locs (an array of pointers, created on first
 * use) for the zone to name.
 *
 * @returns the location's series, or NULL (no memory).
 *
 * Memory: cf's pool.
 *
 * Called from: the xflow_collect directive.
 */
ngx_http_xflow_ledger_loc_t *ngx_http_xflow_ledger_location(ngx_conf_t *cf,
    ngx_array_t **locs, ngx_str_t *name, xf_format_t format);

/**
 * @brief Adds the ledger's shared zone, into @p zone (kept in the
 * configuration: the functions below take it back from the cycle they
 * run); the zone's set-up names the series of @p locs.
 *
 * @returns NGX_OK, or NGX_ERROR (no memory).
 *
 * Called from: the collection module's postconfiguration, when some
 * location has xflow_collect.
 */
ngx_int_t ngx_http_xflow_ledger_zone(ngx_conf_t *cf, ngx_shm_zone_t **zone,
    ngx_array_t *locs);

/**
 * @brief The series of a request of @p loc (NULL: none) in @p format.
 *
 * Called from: ingest and the batch.
 */
int32_t ngx_http_xflow_ledger_series(ngx_http_xflow_ledger_loc_t *loc,
    xf_format_t format);

/**
 * @brief Writes @p series as a spool record's origin into @p buf
 * (XF_LEDGER_ORIGIN_MAX bytes).
 *
 * @returns its length; 0: no origin (series 0, or no ledger).
 *
 * Called from: the spool's append.
 */
size_t ngx_http_xflow_ledger_origin(int32_t series, u_char *buf);

/**
 * @brief The generation of this worker's ledger, for its spool; 0 when
 * it counts in none.
 *
 * Called from: the spool's init_process.
 */
uint64_t ngx_http_xflow_ledger_generation(void);

/**
 * @brief Counts an event whose record this worker adopted from another
 * generation's segment (a binary upgrade's old workers', or one no
 * count at start could lock) as received and spooled, in its origin's
 * series: the spool's conf.foreign.
 *
 * Called from: the spool's adoption, with each such record.
 */
void ngx_http_xflow_ledger_adopted(void *data, const xf_spool_record_t *r);

/**
 * @brief The series a spool record's origin names, in this worker's
 * ledger; 0 when none does.
 *
 * Called from: the spool's replay.
 */
int32_t ngx_http_xflow_ledger_origin_series(const u_char *p, size_t len);

/**
 * @brief Counts the events on the spool in @p dir (records written by a
 * counted event and not acknowledged) as received and spooled, each in
 * the series its origin names, when the zone was created by this
 * configuration (a start, not a reload: then they are counted already).
 *
 * Called from: the master's init_module, before any worker runs.
 */
void ngx_http_xflow_ledger_found(ngx_cycle_t *cycle, ngx_shm_zone_t *zone,
    ngx_str_t *dir);

/**
 * @brief Takes this worker's slot, and settles those of processes that
 * are gone (what they had in flight becomes orphaned).  A ledger without
 * a free slot is logged; the worker then counts nothing.
 *
 * Called from: init_process.
 */
void ngx_http_xflow_ledger_init_process(ngx_cycle_t *cycle,
    ngx_shm_zone_t *zone);

/**
 * @brief Gives the slot back.
 *
 * Called from: exit_process, after the producer and the spool closed.
 */
void ngx_http_xflow_ledger_exit_process(void);

/**
 * @brief Moves @p n events of @p series from @p from to @p to
 * (xf_ledger_move) in this worker's slot, published at once.
 *
 * Called from: a worker, on the event loop.
 */
void ngx_http_xflow_ledger_move(int32_t series, xf_ledger_cell_t from,
    xf_ledger_cell_t to, ngx_uint_t n);

/**
 * @brief Appends the ledger's families to a /metrics page.
 *
 * @returns NGX_OK, or NGX_ERROR (no memory).
 *
 * Memory: @p out grows with @p a.
 *
 * Called from: the metrics module's handler.
 */
ngx_int_t ngx_http_xflow_ledger_render(xf_buf_t *out,
    const xf_alloc_t *a);

#endif /* NGX_HTTP_XFLOW_LEDGER_H */
