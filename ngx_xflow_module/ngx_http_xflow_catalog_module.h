/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_catalog_module.h - the event catalog (xflow_catalog_zone,
 * xflow_catalog): what arrives per app, format and event name, in a
 * table all workers share (core/xf_catalog.h), served as JSON and as a
 * page a person reads.
 *
 * and the tracking plan (xflow_tracking_plan, xflow_plan_action): what
 * may arrive, checked per event before it is routed (core/xf_plan.h).
 *
 * The part's files, in the order calls may go:
 *
 *   ngx_http_xflow_catalog_module.c  directives, the zone, recording
 *   ngx_http_xflow_catalog_page.c    the xflow_catalog handler and page
 *   ngx_http_xflow_plan.c            one event against the plan
 *   ngx_http_xflow_hygiene.c         kill switches, times, placeholder ids
 *   ngx_http_xflow_bots.c            bots: directives, the request's
 *                                    check, the xflow_bot_report JSON
 *   ngx_http_xflow_bots_page.c       the bot report's page
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
#include "xf_outbox.h"
#include "xf_plan.h"
#include "xf_hygiene.h"
#include "xf_bot.h"
#include "xf_topk.h"


/* What an event the plan does not list, or that fails it, gets. */
#define NGX_HTTP_XFLOW_PLAN_PASS         0
#define NGX_HTTP_XFLOW_PLAN_MARK         1  /* "plan" in its envelope */
#define NGX_HTTP_XFLOW_PLAN_ROUTE        2  /* to the action's topic */
#define NGX_HTTP_XFLOW_PLAN_DEAD_LETTER  3


/* The bot report's counts, in its zone, under its slab pool's lock. */
typedef struct {
    uint64_t                    decisions[6];   /* XF_METRICS_BOT_* */
    xf_topk_t                  *ua;         /* User-Agents; label: why */
    xf_topk_t                  *asn;        /* ASNs as text; label: why */
} ngx_http_xflow_bot_sh_t;


typedef struct {
    ngx_shm_zone_t             *shm_zone;   /* NULL: no catalog */
    xf_catalog_t               *cat;        /* set by the zone's init */
    xf_plan_t                  *plan;       /* NULL: no tracking plan */
    ngx_str_t                   plan_file;
    ngx_array_t                *bot_patterns;   /* xf_str_t, lower case */
    ngx_array_t                *bot_servers;
    xf_bot_set_t               *bot_set;    /* both, indexed */
    xf_bot_asns_t               bot_asns;   /* xflow_bot_asns, sorted */
    ngx_shm_zone_t             *bot_zone;   /* xflow_bot_report's; NULL:
                                               no report */
    ngx_http_xflow_bot_sh_t    *bot_sh;     /* in bot_zone */
} ngx_http_xflow_catalog_main_conf_t;


/* What a kill switch or the hygiene rules do with an event. */
#define NGX_HTTP_XFLOW_HYGIENE_PASS         0
#define NGX_HTTP_XFLOW_HYGIENE_DROP         1
#define NGX_HTTP_XFLOW_HYGIENE_DEAD_LETTER  2
#define NGX_HTTP_XFLOW_HYGIENE_ROUTE        3
#define NGX_HTTP_XFLOW_HYGIENE_MARK         4


typedef struct {
    ngx_array_t                *kill;       /* xf_kill_rule_t, or NULL */
    ngx_array_t                *kill_topic; /* ngx_uint_t per rule */
    ngx_msec_t                  future;     /* clamp beyond; 0: off */
    ngx_msec_t                  historical; /* older: to hist_topic */
    ngx_uint_t                  hist_topic;
    ngx_array_t                *placeholders;   /* xf_str_t, or NULL */
    ngx_uint_t                  bots;       /* NGX_HTTP_XFLOW_HYGIENE_*,
                                               PASS: off; MARK: mark */
    ngx_uint_t                  bots_topic;
    ngx_uint_t                  bots_dry_run;   /* count, do nothing */
    ngx_uint_t                  unknown;    /* NGX_HTTP_XFLOW_PLAN_* */
    ngx_uint_t                  unknown_topic;
    ngx_uint_t                  invalid;
    ngx_uint_t                  invalid_topic;
} ngx_http_xflow_catalog_loc_conf_t;


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
 * Called from: a worker, once a request's events are accepted, before
 * its answer (ngx_http_xflow_ingest.c): never for a request refused
 * with a retry status, whose events come again.
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

/**
 * @brief Checks one valid event against the tracking plan and says what
 *        it gets by the location's xflow_plan_action.
 *
 * @returns NGX_HTTP_XFLOW_PLAN_PASS (also without a plan, and for an
 *          event that conforms), _MARK, _ROUTE (*topic set to the topic
 *          index) or _DEAD_LETTER.  @p res holds the verdict, the tier
 *          (for tier= routes) and, for an invalid event, why.
 *
 * Memory: @p res points into the plan (the cycle's pool) and the event.
 *
 * Called from: a worker, for each valid event, before it is routed
 * (ngx_http_xflow_ingest.c).
 */
ngx_uint_t ngx_http_xflow_plan_event(ngx_http_request_t *r,
    const xf_event_t *ev, xf_plan_result_t *res, ngx_uint_t *topic);

/**
 * @brief Marks the envelope of the event planned at ob->out[@p first]
 *        with the plan's verdict: ,"plan":"unknown", or ,"plan":"invalid"
 *        and ,"plan_error":"..." (why).
 *
 * @returns NGX_OK, or NGX_ERROR without memory.
 *
 * Memory: the new member comes from r->pool.
 *
 * Called from: a worker, right after the event was planned.
 */
ngx_int_t ngx_http_xflow_plan_mark(ngx_http_request_t *r, xf_outbox_t *ob,
    size_t first, const xf_plan_result_t *res);

/**
 * @brief The ,"plan_error":"..." member of an event's dead letter: why it
 *        failed the plan.  An empty string when it has no why.
 *
 * @returns NGX_OK, or NGX_ERROR without memory.
 *
 * Called from: a worker, when the plan dead-letters an event.
 */
ngx_int_t ngx_http_xflow_plan_why(ngx_http_request_t *r,
    const xf_plan_result_t *res, xf_str_t *member);

/**
 * @brief The location's kill switches and hygiene rules for one valid
 *        event: the first kill switch it meets decides (drop, dead
 *        letter, route); else an event whose time (the first of its
 *        format's time fields) is further ahead than xflow_future_clamp
 *        has the times beyond it set to now (@p ev points to a new
 *        copy, @p member gets ,"ts_original":...); an event older than
 *        xflow_historical goes to its topic; a placeholder distinct id
 *        gives way to another id of the event that is none, else is
 *        emptied (no key) and @p member gets ,"anonymous":true.
 *
 * @returns NGX_HTTP_XFLOW_HYGIENE_* (*topic set for _ROUTE), or
 *          NGX_ERROR without memory.
 *
 * Memory: the copy and the member come from r->pool.
 *
 * Called from: a worker, for each valid event, before the tracking plan
 * (ngx_http_xflow_ingest.c).
 */
ngx_int_t ngx_http_xflow_hygiene_event(ngx_http_request_t *r,
    xf_event_t *ev, xf_format_t format, ngx_uint_t *topic,
    xf_str_t *member);

/**
 * @brief Whether the request comes from a bot (its User-Agent holds a
 *        shipped or xflow_bot_patterns pattern, or its address is in an
 *        xflow_bot_asns AS; never with a server SDK's signature), and
 *        what its events get by xflow_bots.  A bot's request is counted
 *        in xflow_bot_requests_total and in the bot report, dry run or
 *        not.
 *
 * @returns NGX_HTTP_XFLOW_HYGIENE_PASS (not a bot, xflow_bots off, or
 *          dry_run), _MARK (@p member gets ,"bot":"PATTERN" or
 *          ,"bot":"AS16509"), _DROP or _ROUTE (*topic set); NGX_ERROR
 *          without memory.
 *
 * Called from: a worker, once per request, before its events
 * (ngx_http_xflow_ingest.c).
 */
ngx_int_t ngx_http_xflow_bot_request(ngx_http_request_t *r,
    ngx_uint_t *topic, xf_str_t *member);

/**
 * @brief xflow_bots off | mark | drop | route:TOPIC [dry_run].
 * @returns NGX_CONF_OK, or an error said at emerg.  Configuration time.
 */
char *ngx_http_xflow_bots_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/**
 * @brief xflow_bot_patterns FILE: one pattern a line, matched anywhere
 *        in the User-Agent, case aside; blank lines and lines from '#'
 *        are skipped.
 * @returns NGX_CONF_OK, or an error said at emerg.  Configuration time.
 */
char *ngx_http_xflow_bot_patterns_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/**
 * @brief xflow_bot_asns FILE|ASN...: ASNs (16509, AS16509) and files of
 *        them, one a line; nginx -t names a bad line.
 * @returns NGX_CONF_OK, or an error said at emerg.  Configuration time.
 */
char *ngx_http_xflow_bot_asns_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/**
 * @brief xflow_bot_report: the location's handler, and the small shared
 *        zone the top bots are counted in (made by the first one).
 * @returns NGX_CONF_OK or NGX_CONF_ERROR.  Configuration time.
 */
char *ngx_http_xflow_bot_report_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/**
 * @brief The catalog module's init main conf: the shipped bot patterns
 *        and the operator's in one indexed set, the ASNs sorted, and
 *        xflow_bot_asns refused without xflow_geoip asn=.
 * @returns NGX_CONF_OK, or an error said at emerg.  Configuration time.
 */
char *ngx_http_xflow_bots_init_main_conf(ngx_conf_t *cf, void *conf);

/**
 * @brief The xflow_bot_report location: what xflow_bots decided, dry run
 *        beside enforced, and the top bot User-Agents and ASNs as JSON,
 *        or the page when a browser asks for text/html.
 *
 * @returns what the answer's send returns; 404 without a report zone.
 *
 * Memory: the copies of the tables and the JSON come from r->pool.
 *
 * Called from: a worker, as a content handler.
 */
ngx_int_t ngx_http_xflow_bot_report_handler(ngx_http_request_t *r);

/**
 * @brief The bot report's page (ngx_http_xflow_bots_page.c): static
 *        HTML that reads the report's JSON.
 * @returns what the send returns.
 *
 * Called from: ngx_http_xflow_bot_report_handler().
 */
ngx_int_t ngx_http_xflow_bot_page_send(ngx_http_request_t *r);

/**
 * @brief Appends @p member (may be empty) to the envelope members of the
 *        event planned at ob->out[@p first].
 *
 * @returns NGX_OK, or NGX_ERROR without memory (r->pool).
 *
 * Called from: a worker, right after the event was planned.
 */
ngx_int_t ngx_http_xflow_hygiene_member(ngx_http_request_t *r,
    xf_outbox_t *ob, size_t first, const xf_str_t *member);

#endif /* NGX_HTTP_XFLOW_CATALOG_MODULE_H */
