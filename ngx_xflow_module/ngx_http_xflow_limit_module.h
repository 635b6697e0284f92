/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_limit_module.h - the rate limits (xflow_limit_zone,
 * xflow_limit, xflow_limit_report) and the bound on decoded bytes in
 * flight (xflow_max_decoded_in_flight).
 *
 * The part's files, in the order calls may go (never back up the list):
 *
 *   ngx_http_xflow_limit_module.c    directives, configuration, zone init
 *   ngx_http_xflow_limit_report.c    the xflow_limit_report handler
 *   ngx_http_xflow_limit.c           per request: the check, the headers,
 *                                    $xflow_limit_status, $xflow_limit_zone
 *   ngx_http_xflow_limit_inflight.c  decoded bytes in flight, per worker
 *
 * Threads and phases: nginx runs every function below in one thread.
 * "Config time" is the master (or nginx -t) reading the configuration;
 * "worker" is a worker process's event loop, serving a request.  Nothing
 * here locks: the tables are shared memory updated by compare-and-swap,
 * the in-flight count is per worker.
 */

#ifndef NGX_HTTP_XFLOW_LIMIT_MODULE_H
#define NGX_HTTP_XFLOW_LIMIT_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* $xflow_limit_status */
#define NGX_HTTP_XFLOW_LIMIT_NONE              0
#define NGX_HTTP_XFLOW_LIMIT_PASSED            1
#define NGX_HTTP_XFLOW_LIMIT_REJECTED          2
#define NGX_HTTP_XFLOW_LIMIT_REJECTED_DRY_RUN  3
#define NGX_HTTP_XFLOW_LIMIT_OVERFLOW          4


extern ngx_module_t  ngx_http_xflow_limit_module;


/*
 * ---------------------------------------------------------------------
 * The API the rest of the glue uses
 * ---------------------------------------------------------------------
 */

/**
 * @brief Checks the request against the location's request limits (r/s
 *        and r/m zones), before the body is read.
 *
 * Each zone of the location's xflow_limit list that counts requests takes
 * one token for the request's key; an empty key is not limited.  The
 * decision is kept for $xflow_limit_status and $xflow_limit_zone.
 *
 * @returns NGX_OK: go on.  NGX_DECLINED: refused; the RateLimit-Policy
 *          and RateLimit headers are set and
 *          ngx_http_xflow_limit_retry_after() says how long to wait: the
 *          caller answers with the retry status.  NGX_ERROR: no memory
 *          or the key could not be evaluated.
 *
 * Memory: the headers and the request's limit ctx come from r->pool.
 *
 * Called from: a worker, the collection handler, once per request.
 */
ngx_int_t ngx_http_xflow_limit_requests(ngx_http_request_t *r);

/**
 * @brief Checks @p n valid events of a decoded upload against the
 *        location's event limits (e/s and e/m zones).
 *
 * A batch larger than a zone's burst costs a full bucket, so it waits
 * like any other instead of never passing.  @p n == 0 passes at once.
 *
 * @returns NGX_OK: go on.  NGX_DECLINED: refused (as
 *          ngx_http_xflow_limit_requests()).  NGX_BUSY: over a zone with
 *          overflow=, *overflow is set to the topic index every event of
 *          the upload goes to instead.  NGX_ERROR: as above.
 *          @p overflow may be NULL: then an overflow zone refuses.
 *
 * Memory: as ngx_http_xflow_limit_requests().
 *
 * Called from: a worker, once the body is decoded (ngx_http_xflow_ingest.c).
 */
ngx_int_t ngx_http_xflow_limit_events(ngx_http_request_t *r, ngx_uint_t n,
    ngx_uint_t *overflow);

/**
 * @brief Checks the location's byte zones (B/s, B/m) for a request whose
 *        decoded body and nested layers came to @p n bytes.
 *
 * Compression makes a request's bytes in Kafka and the spool hundreds of
 * times what it sent: these zones count what it decoded to, before any
 * message is made.
 *
 * @returns NGX_OK, NGX_DECLINED (refuse with the retry status) or
 *          NGX_ERROR.
 *
 * Called from: a worker, once the body is decoded (ngx_http_xflow_ingest.c).
 */
ngx_int_t ngx_http_xflow_limit_bytes(ngx_http_request_t *r, size_t n);

/**
 * @brief Seconds the limit that refused the request asks the client to
 *        wait (the Retry-After value), rounded up, at least 1.
 *
 * @returns the seconds, or 0 when no limit refused the request.
 *
 * Called from: a worker, when the refusal is answered
 * (ngx_http_xflow_reply.c).
 */
uint64_t ngx_http_xflow_limit_retry_after(ngx_http_request_t *r);

/**
 * @brief Charges @p n decoded bytes to this worker's bytes in flight
 *        (xflow_max_decoded_in_flight), to the client's share and to its
 *        connection's (xflow_max_decoded_per_client, in shared memory).
 *
 * Decoded bytes are held from the first decoded byte to the end of the
 * request: a slow client that sent a small compressed body holds them
 * while it drips the rest.  The shares keep a few such clients from
 * holding the worker's whole budget.
 *
 * @returns NGX_OK: charged; give them back with
 *          ngx_http_xflow_limit_inflight_release().  NGX_DECLINED: the
 *          charge would pass a bound, nothing is charged, the request is
 *          to be refused with the retry status.
 *
 * @p share is the client's share when xflow_max_decoded_per_client is not
 * set: the caller's location sizes it (from its xflow_max_decoded).
 *
 * Memory: none; the worker's count is a static, the shares are counters
 * in a shared zone (ngx_http_xflow_limit_inflight.c); the request's key
 * in them is kept in its ctx (the ctx of ngx_http_xflow_module).
 *
 * Called from: a worker, the collection handler (ngx_http_xflow_collect.c).
 */
ngx_int_t ngx_http_xflow_limit_inflight_charge(ngx_http_request_t *r,
    size_t n, size_t share);

/**
 * @brief Gives back @p n bytes charged by
 *        ngx_http_xflow_limit_inflight_charge() for @p r; never takes
 *        the worker's count below zero.
 *
 * Called from: a worker, when the request's decoded bytes are freed
 * (also from the request pool's cleanup: @p r's pool may be gone).
 */
void ngx_http_xflow_limit_inflight_release(ngx_http_request_t *r, size_t n);

/**
 * @brief The body of @p r is read: its bytes leave its client's share
 *        (they stay in the worker's budget), and what it decodes from
 *        now on is charged to the worker's budget only.  The shares
 *        bound what slow clients hold while they send.
 *
 * Called from: a worker, the collection handler, before ingest.
 */
void ngx_http_xflow_limit_inflight_body_read(ngx_http_request_t *r);

/**
 * @brief Counts @p n bytes a request made beyond its decoded body (the
 *        stripped copies of its events, its batch of rendered envelopes)
 *        in this worker's bytes in flight, whatever the bound: they
 *        exist already, and while they do later requests decode less.
 *        Give them back with ngx_http_xflow_limit_inflight_unhold().
 *
 * Called from: a worker, ingest (stripped events) and the batch.
 */
void ngx_http_xflow_limit_inflight_hold(size_t n);

/** @brief Gives back @p n bytes ngx_http_xflow_limit_inflight_hold()
 * counted. */
void ngx_http_xflow_limit_inflight_unhold(size_t n);


/*
 * ---------------------------------------------------------------------
 * Shared by the limit part's own files only
 * ---------------------------------------------------------------------
 */

#define NGX_HTTP_XFLOW_LIMIT_REQUESTS  0
#define NGX_HTTP_XFLOW_LIMIT_EVENTS    1
#define NGX_HTTP_XFLOW_LIMIT_BYTES     2

/* The share zone: 2 x 16384 counters (256 KiB) and the slab's pages. */
#define NGX_HTTP_XFLOW_SHARE_WIDTH     16384
#define NGX_HTTP_XFLOW_SHARE_ZONE      (512 * 1024)


struct xrl_table_s;


/* One xflow_limit_zone: built at config time, read by workers. */
typedef struct {
    ngx_str_t                   name;
    ngx_http_complex_value_t    key;
    ngx_uint_t                  unit;       /* requests or events */
    uint64_t                    rate;
    uint64_t                    period_ns;
    uint64_t                    burst;
    ngx_str_t                   overflow;   /* topic, may be empty */
    ngx_uint_t                  overflow_index;
    ngx_uint_t                  metric;     /* zone label of the metrics */
    ngx_uint_t                  on_full;    /* xrl_full_action_t: full= */
    time_t                      full_logged;    /* per process */
    ngx_shm_zone_t             *shm_zone;
    struct xrl_table_s         *table;      /* per process, after init */
} ngx_http_xflow_limit_zone_t;


/* One xflow_limit of a location. */
typedef struct {
    ngx_http_xflow_limit_zone_t  *zone;
    ngx_uint_t                    dry_run;
} ngx_http_xflow_limit_t;


typedef struct {
    ngx_array_t                  *limits;   /* of ngx_http_xflow_limit_t */
    ngx_flag_t                    report;
} ngx_http_xflow_limit_loc_conf_t;


typedef struct {
    ngx_array_t                   zones;    /* of zone pointers */
    size_t                        max_inflight;     /* per worker, 0: off */
    size_t                        per_client;       /* 0: off, unset: auto */
    ngx_shm_zone_t               *share_zone;
    void                         *share;            /* xrl_share_t */
} ngx_http_xflow_limit_main_conf_t;


/**
 * @brief The xflow_limit_report location handler: JSON per zone (policy,
 *        table use, decisions over the last minute and since start, top
 *        keys by denials and dry-run denials).
 *
 * @returns an HTTP status or what the output filter returns.
 *
 * Memory: the body is one buffer from r->pool.
 *
 * Called from: a worker, as the content handler the directive installs
 * (ngx_http_xflow_limit_report.c).
 */
ngx_int_t ngx_http_xflow_limit_report_handler(ngx_http_request_t *r);

/**
 * @brief 1 when the report is asked for by a browser (Accept: text/html)
 * or with ?format=html, and not with ?format=json: it gets the page.
 */
ngx_int_t ngx_http_xflow_limit_page_wanted(ngx_http_request_t *r);

/*
 * The start of the limit and bot reports' pages, to the style of their
 * cards: the document, its title (a string literal), the fonts, the
 * headings, the .meta line and the cards of counts.
 */
#define NGX_HTTP_XFLOW_PAGE_HEAD(title)                                     \
"<!DOCTYPE html>\n"                                                          \
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"                         \
"<title>" title "</title>\n"                                                \
"<style>\n"                                                                  \
"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330}\n"      \
"h1{font-size:20px;margin:0 0 .2em}h2{font-size:16px;margin:1.4em 0 .3em}\n" \
".meta{color:#5b6475;margin:.2em 0 .6em}\n"                                  \
".cards{display:flex;gap:.6em;flex-wrap:wrap;margin:.4em 0}\n"               \
".card{border:1px solid #d5dae3;border-radius:6px;padding:.4em .8em;"        \
"min-width:9em}\n"                                                           \
".card b{display:block;font-size:18px}\n"

/* A report page's script's el(tag, attrs, text): a new element. */
#define NGX_HTTP_XFLOW_PAGE_EL                                              \
"function el(tag, attrs, text) {\n"                                          \
"  const e = document.createElement(tag);\n"                                 \
"  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);\n"              \
"  if (text !== undefined) e.textContent = text;\n"                          \
"  return e;\n"                                                              \
"}\n"

/*
 * The end of a report page's script (the limit report's, the catalog's,
 * the bot report's): load() reads the same location's JSON, hands it to
 * the page's draw(d), says on the page's #when why it could not, and runs
 * again every ms milliseconds (a string literal).
 */
#define NGX_HTTP_XFLOW_PAGE_LOAD(ms)                                        \
"async function load() {\n"                                                  \
"  try {\n"                                                                  \
"    const r = await fetch(location.pathname + '?format=json',\n"            \
"                          {cache: 'no-store'});\n"                          \
"    draw(await r.json());\n"                                                \
"  } catch (e) {\n"                                                          \
"    document.getElementById('when').textContent = 'cannot load: ' + e;\n"   \
"  }\n"                                                                      \
"}\n"                                                                        \
"load();\n"                                                                  \
"setInterval(load, " ms ");\n"                                              \
"</script></body></html>\n"

/**
 * @brief The report's page (ngx_http_xflow_limit_page.c): static HTML
 * that reads the JSON and shows each zone's decisions and its top keys,
 * sortable, enforced beside dry run.  Returns what the send returns.
 */
ngx_int_t ngx_http_xflow_limit_page_send(ngx_http_request_t *r);

/**
 * @brief Getter of $xflow_limit_status (@p data 0) and $xflow_limit_zone
 *        (@p data 1): not found when no limit decided on the request.
 *
 * @returns NGX_OK.  Memory: points into the zone's configuration.
 *
 * Called from: a worker, whenever the variable is read (the log phase).
 */
ngx_int_t ngx_http_xflow_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/**
 * @brief The clock every limit and every worker shares: CLOCK_MONOTONIC
 *        in nanoseconds.
 *
 * Called from: a worker (ngx_http_xflow_limit.c, _limit_report.c).
 */
uint64_t ngx_http_xflow_limit_now(void);

#endif /* NGX_HTTP_XFLOW_LIMIT_MODULE_H */
