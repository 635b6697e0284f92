/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_ingest.c - from a decoded request to its planned
 * messages, handed to the batch (ngx_http_xflow_ingest.h).
 *
 *   body --> xf_format_parse() --> events[] --> outbox (core) --> batch
 *                                   |  valid: routes, key, stripped
 *                                   |  error: dead-letter topic + reason
 *
 * What is nginx's here: the request (its method, headers, pool), the
 * location's limits and rules, and the answer.  Planning, dead-letter
 * JSON and rendering are the core's (core/xf_outbox.c); delivery is the
 * batch's (ngx_http_xflow_batch.c), which answers a waiting request
 * through ngx_http_xflow_ingest_done().
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_reply.h"
#include "ngx_http_xflow_ingest.h"
#include "ngx_http_xflow_metrics_module.h"
#include "ngx_http_xflow_spool.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_privacy_module.h"
#include "ngx_http_xflow_catalog_module.h"


/* A valid event as the privacy rules leave it: its bytes, key and app. */
typedef struct {
    const u_char   *p;
    size_t          len;
    xf_str_t        id;
    xf_str_t        app;
} ngx_http_xflow_stripped_t;
#include "ngx_http_xflow_ledger.h"
#include "ngx_http_xflow_dedup.h"


static ngx_int_t ngx_http_xflow_ingest_events(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_upload_t *up, xf_outbox_t *ob,
    const xf_alloc_t *a, ngx_uint_t overflow,
    ngx_http_xflow_stripped_t *first);
static ngx_int_t ngx_http_xflow_ingest_route(ngx_http_request_t *r,
    xf_outbox_t *ob, xf_event_t *ev, xf_format_t format,
    ngx_uint_t overflow, const xf_str_t *tier,
    ngx_http_xflow_stripped_t *done);
static ngx_int_t ngx_http_xflow_ingest_privacy(ngx_http_request_t *r,
    xf_event_t *ev, ngx_http_xflow_stripped_t *out);
static ngx_int_t ngx_http_xflow_ingest_send(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_outbox_t *ob, ngx_uint_t wait,
    ngx_uint_t *handed);
static void ngx_http_xflow_ingest_ledger(ngx_http_xflow_ctx_t *ctx,
    xf_outbox_t *ob, ngx_uint_t handed);
static ngx_int_t ngx_http_xflow_ingest_dedup(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_outbox_t *ob, xf_event_t *ev,
    xf_format_t format);
static ngx_int_t ngx_http_xflow_ingest_accepted(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
static void ngx_http_xflow_ingest_catalog(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
static ngx_int_t ngx_http_xflow_ingest_topics(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_outbox_t *ob);
static void ngx_http_xflow_ingest_done(ngx_http_request_t *r,
    xf_outcome_t outcome, const char *detail);
static void ngx_http_xflow_ingest_strip(ngx_http_request_t *r,
    xf_outbox_strip_t *strip);
static xf_status_t ngx_http_xflow_ingest_strip_event(void *data,
    const u_char **p, size_t *len);
static xf_status_t ngx_http_xflow_ingest_strip_value(void *data,
    const u_char *event, size_t len, xf_str_t *value);
static void ngx_http_xflow_ingest_request(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_request_t *req, const u_char *body,
    size_t len);
static ngx_int_t ngx_http_xflow_ingest_receipts(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_upload_t *up);
static void ngx_http_xflow_ingest_receipt(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_outbox_t *ob, xf_event_t *ev,
    ngx_uint_t i, size_t msg, xf_receipt_fate_t fate, xf_status_t st);


ngx_int_t
ngx_http_xflow_ingest(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    const u_char *body, size_t len)
{
    ngx_int_t                   rc;
    ngx_uint_t                  overflow, handed;
    xf_str_t                    app;
    xf_alloc_t                  a;
    xf_status_t                 st;
    xf_outbox_t                 ob;
    xf_limits_t                 lim;
    xf_upload_t                 up;
    xf_request_t                req;
    ngx_http_xflow_stripped_t   first, *done;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    done = NULL;

    ngx_http_xflow_ingest_request(r, ctx, &req, body, len);

    /*
     * Every nested layer shares one budget with the body itself: the
     * core counts the body (len) against the whole cap, so the whole cap
     * is passed, not what the body left of it.
     */
    lim.max_decoded = lcf->max_decoded;
    lim.max_events = lcf->max_events;
    lim.max_event_size = lcf->max_event_size;
    lim.max_depth = lcf->max_depth;

    ngx_memzero(&up, sizeof(xf_upload_t));

    st = xf_format_parse(&req, &lim, &ctx->alloc, &up);

    ctx->format = up.format;
    ctx->reply = up.reply;
    ctx->decoded = len + up.decoded;

    /* counted once: the layer the events came from, else the body */
    ctx->final = up.final ? up.final : len;

    if (up.app.len) {
        ctx->app.data = (u_char *) up.app.data;
        ctx->app.len = up.app.len;

    } else if (up.n && up.events[0].app.len) {
        /* plain JSON carries the app per event: the first one's names
           the request ($xflow_app, limit keys), as stripping leaves it */
        app = up.events[0].app;

        if (st == XF_OK && up.events[0].error == XF_OK) {
            /* the event's one walk, which its route then takes over */
            if (ngx_http_xflow_ingest_privacy(r, &up.events[0], &first)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            done = &first;
            app = first.app;

        } else if (ngx_http_xflow_privacy_value(r, up.events[0].p,
                                                up.events[0].len, &app)
                   != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->app.data = (u_char *) app.data;
        ctx->app.len = app.len;
    }

    if (st != XF_OK) {
        if (req.method == XF_METHOD_GET && !xf_format_takes_get(up.format)) {
            /* no beacon or pixel format recognised the GET */
            ctx->outcome = XF_OUTCOME_METHOD_NOT_ALLOWED;
            return ngx_http_xflow_reply_outcome(r, ctx, NULL);
        }

        return ngx_http_xflow_ingest_reject(r, ctx, st, body,
                                             ngx_min(len, lcf->dl_max_raw));
    }

    if (up.reply == XF_REPLY_POSTHOG_CONFIG) {
        return ngx_http_xflow_reply_posthog_config(r, &up.token,
                   up.token.len && req.path.len > 3
                   && ngx_strncmp(req.path.data + req.path.len - 3, ".js", 3)
                      == 0);
    }

    if (up.n == 0) {
        ctx->outcome = XF_OUTCOME_ACCEPTED;
        return ngx_http_xflow_reply_accepted(r, ctx);
    }

    /* the format is known: where the ledger counts this request */
    ctx->ledger_series = ngx_http_xflow_ledger_series(lcf->ledger,
                                                      up.format);

    /*
     * Event limits: refuse the request, or send its events elsewhere.
     * Every event costs, dead-lettered ones too: each is a message.
     */

    overflow = NGX_CONF_UNSET_UINT;

    rc = ngx_http_xflow_limit_events(r, up.n, &overflow);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ctx->outcome = XF_OUTCOME_RATE_LIMITED;
        /* read, and refused: the SDK keeps them */
        ngx_http_xflow_ledger_move(ctx->ledger_series, XF_LEDGER_RECEIVED,
                                   XF_LEDGER_REFUSED, up.n);
        return ngx_http_xflow_reply_outcome(r, ctx,
                                            "over an event rate limit");
    }

    /* what it decoded to, as Kafka and the spool would take it */
    rc = ngx_http_xflow_limit_bytes(r, ctx->decoded);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ctx->outcome = XF_OUTCOME_RATE_LIMITED;
        ngx_http_xflow_ledger_move(ctx->ledger_series, XF_LEDGER_RECEIVED,
                                   XF_LEDGER_REFUSED, up.n);
        return ngx_http_xflow_reply_outcome(r, ctx,
                                            "over a byte rate limit");
    }

    if (ngx_http_xflow_ingest_receipts(r, ctx, &up) != NGX_OK) {
        /* read, and refused with an error status: the SDK keeps them */
        ngx_http_xflow_ledger_move(ctx->ledger_series, XF_LEDGER_RECEIVED,
                                   XF_LEDGER_REFUSED, up.n);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the outbox's memory: the request pool, uncharged (it is not
       decoded bytes), for as long as ingest runs */
    ngx_http_xflow_pool_allocator(&a, r->pool);

    if (ngx_http_xflow_ingest_events(r, ctx, &up, &ob, &a, overflow, done)
        != NGX_OK)
    {
        ngx_http_xflow_ledger_move(ctx->ledger_series, XF_LEDGER_RECEIVED,
                                   XF_LEDGER_REFUSED, up.n);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ob.n == 0) {
        /* nothing to send (duplicates, or events a kill switch
           dropped): the SDK is answered */
        ngx_http_xflow_ingest_ledger(ctx, &ob, 1);
        return ngx_http_xflow_ingest_accepted(r, ctx);
    }

    rc = ngx_http_xflow_ingest_send(r, ctx, &ob,
                                    lcf->ack == NGX_HTTP_XFLOW_ACK_KAFKA,
                                    &handed);

    ngx_http_xflow_ingest_ledger(ctx, &ob, handed);

    if (rc == NGX_DECLINED) {
        /* neither Kafka nor the spool took it: the disk, or the queue */
        ctx->outcome = ngx_http_xflow_spool_write_error()
                       ? XF_OUTCOME_SPOOL_FULL : XF_OUTCOME_QUEUE_FULL;
        return ngx_http_xflow_reply_outcome(r, ctx, NULL);
    }

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_xflow_ingest_accepted(r, ctx);
}


/*
 * The request's events are kept (in Kafka, or on the spool, or on their
 * way under ack=local): from now on a copy of one within xflow_dedup's
 * window is a duplicate, and they count in the catalog.  This is the one
 * place an upload's outcome becomes XF_OUTCOME_ACCEPTED (or _BOT, a
 * dropped bot's, answered the same way): a request refused with a retry
 * status (a limit, backpressure, Kafka down) never gets here, so its
 * events count once, when the SDK's retry is taken
 * (PostHog's v1 receipts, which refuse events one by one, count the
 * others in ngx_http_xflow_ingest_done()).  Then the success answer.
 */
static ngx_int_t
ngx_http_xflow_ingest_accepted(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx)
{
    ngx_http_xflow_loc_conf_t  *lcf;

    if (ctx->ndedup) {
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);
        ngx_http_xflow_dedup_set(ctx->dedup_keys, ctx->ndedup,
                                 lcf->dedup_window);
        ctx->ndedup = 0;
    }

    /* answered as accepted all the same: the bot must not learn */
    ctx->outcome = ctx->bots ? XF_OUTCOME_BOT : XF_OUTCOME_ACCEPTED;

    /* before the answer: whoever saw it sees them in the catalog */
    ngx_http_xflow_ingest_catalog(r, ctx);

    return ngx_http_xflow_reply_accepted(r, ctx);
}


/*
 * The request's kept events into the catalog: all of them when it was
 * accepted; when it failed but its receipts answer per event (PostHog's
 * v1 capture), those not marked retry, which its SDK does not send
 * again.
 */
static void
ngx_http_xflow_ingest_catalog(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx)
{
    size_t              i, n;
    xf_event_t         *kept;
    xf_catalog_plan_t  *verdicts;

    if (ctx->outcome == XF_OUTCOME_ACCEPTED || ctx->outcome == XF_OUTCOME_BOT
        || ctx->receipts == NULL)
    {
        ngx_http_xflow_catalog_record(r, ctx->format, ctx->events,
                                      ctx->nevents, ctx->verdicts);
        return;
    }

    kept = ngx_palloc(r->pool, ctx->nevents * sizeof(xf_event_t));
    verdicts = ngx_palloc(r->pool,
                          ctx->nevents * sizeof(xf_catalog_plan_t));
    if (kept == NULL || verdicts == NULL) {
        return;
    }

    n = 0;

    for (i = 0; i < ctx->nevents && i < ctx->nreceipts; i++) {
        if (ctx->receipts[i].fate != XF_RECEIPT_RETRY) {
            kept[n] = ctx->events[i];
            verdicts[n++] = ctx->verdicts[i];
        }
    }

    ngx_http_xflow_catalog_record(r, ctx->format, kept, n, verdicts);
}


/*
 * xflow_dedup: NGX_DECLINED for a copy of an event kept within the
 * window (planned to the location's duplicates topic, if any, outside
 * the ledger), NGX_OK for a first copy, whose key the success answer
 * records.
 */
static ngx_int_t
ngx_http_xflow_ingest_dedup(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    xf_outbox_t *ob, xf_event_t *ev, xf_format_t format)
{
    uint64_t                    key;
    xf_route_target_t           t;
    ngx_http_xflow_stripped_t   sev;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    key = ngx_http_xflow_dedup_key(format, ev->app.data, ev->app.len, ev->p,
                                   ev->len);
    if (key == 0) {
        return NGX_OK;
    }

    if (!ngx_http_xflow_dedup_seen(key)) {
        ctx->dedup_keys[ctx->ndedup++] = key;
        return NGX_OK;
    }

    /* answered as accepted, as the first copy was */
    ctx->duplicates++;
    ctx->accepted++;

    if (lcf->dedup_topic.len == 0) {
        return NGX_DECLINED;
    }

    /* the copy, stripped as its first was, to the operator's topic */

    t.topic = lcf->dedup_topic_index;
    t.key = XF_ROUTE_KEY_DISTINCT;

    if (ngx_http_xflow_ingest_privacy(r, ev, &sev) != NGX_OK
        || ngx_http_xflow_privacy_key(r, &sev.id, ev->distinct_id.data)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (xf_outbox_event(ob, &t, 1, &sev.id, &sev.app, sev.p, sev.len)
        != XF_OK)
    {
        return NGX_ERROR;
    }

    /* a duplicate's message is no event the ledger owes Kafka */
    ob->out[ob->n - 1].counted = 0;

    return NGX_DECLINED;
}


/*
 * Plan every event: valid ones by their routes, the others dead.  first:
 * event 0 as the privacy rules left it, when that was done already.
 */
static ngx_int_t
ngx_http_xflow_ingest_events(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    xf_upload_t *up, xf_outbox_t *ob, const xf_alloc_t *a, ngx_uint_t overflow,
    ngx_http_xflow_stripped_t *first)
{
    size_t                      at;
    xf_str_t                    why, extra, id0, botm;
    const u_char               *p0;
    ngx_int_t                   rc;
    ngx_uint_t                  i, action, topic, htopic, btopic;
    ngx_int_t                   bot;
    xf_event_t                 *ev;
    xf_status_t                 st;
    xf_plan_result_t            plan;
    xf_outbox_strip_t           strip;
    xf_catalog_plan_t          *verdicts;
    ngx_http_xflow_stripped_t  *done;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (xf_outbox_init(ob, up->n, a) != XF_OK) {
        return NGX_ERROR;
    }

    /* a bot's request: each of its events gets what xflow_bots says */
    bot = ngx_http_xflow_bot_request(r, &btopic, &botm);
    if (bot == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* what the tracking plan said of each event, for the catalog */
    verdicts = ngx_pcalloc(r->pool, up->n * sizeof(xf_catalog_plan_t));
    if (verdicts == NULL) {
        return NGX_ERROR;
    }

    ngx_http_xflow_ingest_strip(r, &strip);

    /* each event's fate, decided here, in one place */
    ctx->fates = ngx_palloc(r->pool, up->n);
    if (ctx->fates == NULL) {
        return NGX_ERROR;
    }

    if (lcf->dedup_window) {
        ctx->dedup_keys = ngx_palloc(r->pool, up->n * sizeof(uint64_t));
        if (ctx->dedup_keys == NULL) {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < up->n; i++) {
        ev = &up->events[i];
        ctx->fates[i] = XF_LEDGER_DEAD_LETTERED;

        if (ev->error != XF_OK) {
            ctx->rejected++;
            ngx_http_xflow_metric_add(XF_M_EVENTS_REJECTED,
                                      xf_metrics_status_index(ev->error), 0,
                                      1);
            ngx_http_xflow_ingest_receipt(r, ctx, ob, ev, i, 0,
                                          XF_RECEIPT_INVALID, ev->error);

            if (xf_outbox_dead_letter(ob, lcf->dl_topic_index, ev->p, ev->len,
                                      &ev->app, xf_strerror(ev->error), NULL,
                                      &strip)
                != XF_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        /* kill switches, then the hygiene of its time and ids */
        p0 = ev->p;
        id0 = ev->distinct_id;

        rc = ngx_http_xflow_hygiene_event(r, ev, up->format, &htopic, &extra);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_HTTP_XFLOW_HYGIENE_PASS
            && bot == NGX_HTTP_XFLOW_HYGIENE_DROP)
        {
            /* the ledger's fate of a kill switch's drop; its own count,
               outcome and receipt reason (XF_OK: the bot outcome's) */
            ctx->dropped++;
            ctx->bots++;
            ctx->fates[i] = XF_LEDGER_DROPPED;
            ngx_http_xflow_ingest_receipt(r, ctx, ob, ev, i, 0,
                                          XF_RECEIPT_DROPPED, XF_OK);
            continue;
        }

        if (rc == NGX_HTTP_XFLOW_HYGIENE_PASS
            && bot == NGX_HTTP_XFLOW_HYGIENE_ROUTE)
        {
            rc = bot;
            htopic = btopic;
        }

        if (rc == NGX_HTTP_XFLOW_HYGIENE_DROP) {
            ctx->dropped++;
            ctx->fates[i] = XF_LEDGER_DROPPED;
            ngx_http_xflow_ingest_receipt(r, ctx, ob, ev, i, 0,
                                          XF_RECEIPT_DROPPED, XF_ERR_KILLED);
            continue;
        }

        if (rc == NGX_HTTP_XFLOW_HYGIENE_DEAD_LETTER) {
            ctx->rejected++;
            ngx_http_xflow_metric_add(XF_M_EVENTS_REJECTED,
                xf_metrics_status_index(XF_ERR_KILLED), 0, 1);
            ngx_http_xflow_ingest_receipt(r, ctx, ob, ev, i, 0,
                                          XF_RECEIPT_INVALID, XF_ERR_KILLED);

            if (xf_outbox_dead_letter(ob, lcf->dl_topic_index, ev->p,
                                      ev->len, &ev->app,
                                      xf_strerror(XF_ERR_KILLED), NULL,
                                      &strip)
                != XF_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        action = ngx_http_xflow_plan_event(r, ev, &plan, &topic);
        verdicts[i] = plan.verdict;

        if (rc == NGX_HTTP_XFLOW_HYGIENE_ROUTE) {
            /* a kill switch's or the historical topic wins */
            action = NGX_HTTP_XFLOW_PLAN_ROUTE;
            topic = htopic;
        }

        if (action == NGX_HTTP_XFLOW_PLAN_DEAD_LETTER) {
            st = plan.verdict == XF_CATALOG_PLAN_UNKNOWN
                 ? XF_ERR_PLAN_UNKNOWN : XF_ERR_PLAN_INVALID;
            ctx->rejected++;
            ngx_http_xflow_metric_add(XF_M_EVENTS_REJECTED,
                                      xf_metrics_status_index(st), 0, 1);
            ngx_http_xflow_ingest_receipt(r, ctx, ob, ev, i, 0,
                                          XF_RECEIPT_INVALID, st);

            /* why it failed, as the member a request's dead letter has */
            if (ngx_http_xflow_plan_why(r, &plan, &why) != NGX_OK
                || xf_outbox_dead_letter(ob, lcf->dl_topic_index, ev->p,
                                         ev->len, &ev->app, xf_strerror(st),
                                         &why, &strip)
                   != XF_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (lcf->dedup_window) {
            rc = ngx_http_xflow_ingest_dedup(r, ctx, ob, ev, up->format);

            if (rc == NGX_DECLINED) {
                ctx->fates[i] = XF_LEDGER_DUPLICATE;
                ngx_http_xflow_ingest_receipt(r, ctx, ob, ev, i, 0,
                                              XF_RECEIPT_DUPLICATE, XF_OK);
                continue;
            }

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }
        }

        /* event 0's walk, done to name the request's app, holds unless
           the hygiene changed the event or its id */
        done = i == 0 && ev->p == p0 && ev->distinct_id.data == id0.data
               && ev->distinct_id.len == id0.len
               ? first : NULL;
        at = ob->n;

        rc = ngx_http_xflow_ingest_route(r, ob, ev, up->format,
                                         action == NGX_HTTP_XFLOW_PLAN_ROUTE
                                         ? topic : overflow, &plan.tier, done);

        if (rc == NGX_OK
            && ((action == NGX_HTTP_XFLOW_PLAN_MARK
                 && ngx_http_xflow_plan_mark(r, ob, at, &plan) != NGX_OK)
                || ngx_http_xflow_hygiene_member(r, ob, at, &extra)
                   != NGX_OK
                || ngx_http_xflow_hygiene_member(r, ob, at, &botm)
                   != NGX_OK))
        {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            /* over xflow_max_event_size once stripped */
            ev->error = XF_ERR_EVENT_TOO_LARGE;
            ctx->rejected++;
            ngx_http_xflow_metric_add(XF_M_EVENTS_REJECTED,
                xf_metrics_status_index(XF_ERR_EVENT_TOO_LARGE), 0, 1);
            ngx_http_xflow_ingest_receipt(r, ctx, ob, ev, i, 0,
                                          XF_RECEIPT_INVALID,
                                          XF_ERR_EVENT_TOO_LARGE);

            if (xf_outbox_dead_letter(ob, lcf->dl_topic_index, ev->p, ev->len,
                                      &ev->app,
                                      xf_strerror(XF_ERR_EVENT_TOO_LARGE),
                                      NULL, &strip)
                != XF_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->fates[i] = XF_LEDGER_IN_FLIGHT;
        ngx_http_xflow_ingest_receipt(r, ctx, ob, ev, i, at, XF_RECEIPT_OK,
                                      XF_OK);
        ctx->accepted++;
    }

    /* counted in the catalog if the request is accepted, not now: a
       refusal the SDK retries would count its events twice */
    ctx->events = up->events;
    ctx->nevents = up->n;
    ctx->verdicts = verdicts;

    return NGX_OK;
}


/*
 * Whether the answer carries a receipt per event: always for PostHog's
 * v1 capture (its SDKs read nothing else), for plain JSON when the
 * location says so (xflow_receipts on) or the request asks (ask, with
 * ?receipts=1).  Then a receipt per event, filled in as they are planned.
 */
static ngx_int_t
ngx_http_xflow_ingest_receipts(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_upload_t *up)
{
    ngx_str_t                   v;
    ngx_uint_t                  want;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    want = up->reply == XF_REPLY_POSTHOG_V1;

    if (up->format == XF_FMT_JSON && up->reply == XF_REPLY_JSON) {
        want = lcf->receipts == NGX_HTTP_XFLOW_RECEIPTS_ON
               || (lcf->receipts == NGX_HTTP_XFLOW_RECEIPTS_ASK
                   && ngx_http_arg(r, (u_char *) "receipts", 8, &v) == NGX_OK
                   && v.len == 1 && v.data[0] == '1');
    }

    if (!want) {
        return NGX_OK;
    }

    ctx->receipts = ngx_pcalloc(r->pool, up->n * sizeof(xf_receipt_t));
    ctx->receipt_msg = ngx_palloc(r->pool, up->n * sizeof(size_t));

    if (ctx->receipts == NULL || ctx->receipt_msg == NULL) {
        return NGX_ERROR;
    }

    ctx->nreceipts = up->n;

    return NGX_OK;
}


/*
 * Event i's receipt: invalid or dropped (a kill switch) with st's name,
 * dropped by xflow_bots (st XF_OK) with the bot outcome's name,
 * ok with the topic of its first message, msg in the outbox (its
 * position comes with its report), or duplicate: the edge dedup window,
 * where it answers a copy as success instead of planning it, calls this
 * with XF_RECEIPT_DUPLICATE (msg and st unused).  PostHog's events are
 * named by their uuid, as sent.
 */
static void
ngx_http_xflow_ingest_receipt(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_outbox_t *ob, xf_event_t *ev,
    ngx_uint_t i, size_t msg, xf_receipt_fate_t fate, xf_status_t st)
{
    ngx_str_t                   *topics;
    xf_receipt_t                *rc;
    ngx_http_xflow_main_conf_t  *mcf;

    if (ctx->receipts == NULL) {
        return;
    }

    rc = &ctx->receipts[i];

    if (ctx->reply == XF_REPLY_POSTHOG_V1 && st != XF_ERR_NOT_OBJECT) {
        (void) xf_receipt_id(ev->p, ev->len, "uuid", &rc->id);
    }

    if (fate != XF_RECEIPT_OK) {
        rc->fate = fate;
        rc->reason = fate == XF_RECEIPT_DROPPED && st == XF_OK
                     ? xf_outcome_name(XF_OUTCOME_BOT)
                     : fate == XF_RECEIPT_INVALID
                       || fate == XF_RECEIPT_DROPPED
                     ? xf_strerror(st) : NULL;
        ctx->receipt_msg[i] = (size_t) -1;
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_module);
    topics = mcf->topics.elts;

    rc->fate = XF_RECEIPT_OK;
    rc->topic.data = topics[ob->out[msg].topic].data;
    rc->topic.len = topics[ob->out[msg].topic].len;
    ctx->receipt_msg[i] = msg;
}


/*
 * A request that cannot be used at all: answer with its status and keep
 * its first bytes (raw, may be empty) on the dead-letter topic, so a
 * broken SDK release can be diagnosed from Kafka.  The dead letter is
 * best effort: nobody waits for its delivery report.
 */
ngx_int_t
ngx_http_xflow_ingest_reject(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_status_t st, const u_char *raw,
    size_t raw_len)
{
    u_char                     *p;
    xf_str_t                    app, request;
    ngx_str_t                  *ct, *ce;
    xf_alloc_t                  a;
    ngx_uint_t                  handed;
    xf_outbox_t                 ob;
    xf_outbox_strip_t           strip;
    xf_outbox_request_t         what;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (st == XF_ERR_NOMEM && ctx->inflight_refused) {
        /* the worker holds xflow_max_decoded_in_flight: come back later */
        if (r->reading_body) {
            r->keepalive = 0;
        }

        ctx->outcome = XF_OUTCOME_DECODED_IN_FLIGHT;
        return ngx_http_xflow_reply_outcome(r, ctx, NULL);
    }

    ctx->outcome = xf_outcome_unusable(st);

    if (st == XF_ERR_NOMEM) {
        return ngx_http_xflow_reply_outcome(r, ctx, NULL);
    }

    ct = ngx_http_xflow_header_in(r, "Content-Type",
                                  sizeof("Content-Type") - 1);
    ce = ngx_http_xflow_header_in(r, "Content-Encoding",
                                  sizeof("Content-Encoding") - 1);

    /*
     * With fields stripped, a body that is not one event object (an
     * array, NDJSON, a wrapper, a form, bytes cut at the raw limit)
     * cannot be stripped like an event: its dead letter keeps none of
     * it, and no query string (a GET beacon's payload), only the path.
     */
    ngx_memzero(&what, sizeof(xf_outbox_request_t));

    what.method.data = r->method_name.data;
    what.method.len = r->method_name.len;
    what.uri.data = r->unparsed_uri.data;
    what.uri.len = r->unparsed_uri.len;

    if (ngx_http_xflow_privacy_strips(r)) {
        p = ngx_strlchr(r->unparsed_uri.data,
                        r->unparsed_uri.data + r->unparsed_uri.len, '?');
        if (p != NULL) {
            what.uri.len = p - r->unparsed_uri.data;
        }
    }

    if (ct) {
        what.content_type.data = ct->data;
        what.content_type.len = ct->len;
    }

    if (ce) {
        what.content_encoding.data = ce->data;
        what.content_encoding.len = ce->len;
    }

    ngx_http_xflow_pool_allocator(&a, r->pool);
    ngx_http_xflow_ingest_strip(r, &strip);

    app.data = ctx->app.data;
    app.len = ctx->app.len;

    if (xf_outbox_request_member(&what, &a, &request) != XF_OK
        || xf_outbox_init(&ob, 1, &a) != XF_OK
        || xf_outbox_dead_letter(&ob, lcf->dl_topic_index,
                                 raw ? raw : (const u_char *) "", raw_len,
                                 &app, xf_outcome_name(ctx->outcome),
                                 &request, &strip)
           != XF_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a full queue loses only this diagnostic copy, never an event (and
       it counts in no ledger: its request is counted as a request) */
    (void) ngx_http_xflow_ingest_send(r, ctx, &ob, 0, &handed);

    return ngx_http_xflow_reply_outcome(r, ctx, NULL);
}


/*
 * Plan the messages of one valid event: its topics from the location's
 * routing rules (the default topic when none matches), each with the
 * key its rule asks for.  An overflow topic (an event limit's
 * overflow=) replaces the rules.  The key and the envelope come from the
 * event as stripped: what a rule hashed or dropped in the event is
 * hashed or dropped here too (done: already so, or NULL).
 */
static ngx_int_t
ngx_http_xflow_ingest_route(ngx_http_request_t *r, xf_outbox_t *ob,
    xf_event_t *ev, xf_format_t format, ngx_uint_t overflow,
    const xf_str_t *tier, ngx_http_xflow_stripped_t *done)
{
    size_t                      n;
    xf_route_event_t            re;
    ngx_http_xflow_ctx_t       *ctx;
    ngx_http_xflow_stripped_t   sev;
    xf_route_target_t           t[XF_ROUTE_MAX_TARGETS];
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    n = 0;

    if (overflow != NGX_CONF_UNSET_UINT) {
        t[0].topic = overflow;
        t[0].key = XF_ROUTE_KEY_DISTINCT;
        n = 1;

    } else if (lcf->route_table) {
        re.name = ev->name;
        re.app = ev->app;
        re.format = format;
        re.tier = *tier;
        re.event = ev->p;
        re.event_len = ev->len;

        n = xf_route_match(lcf->route_table, &re, t);
    }

    if (n == 0) {
        t[0].topic = lcf->topic_index;
        t[0].key = XF_ROUTE_KEY_DISTINCT;
        n = 1;
    }

    if (done == NULL) {
        if (ngx_http_xflow_ingest_privacy(r, ev, &sev) != NGX_OK) {
            return NGX_ERROR;
        }

        done = &sev;
    }

    if (ngx_http_xflow_privacy_key(r, &done->id, ev->distinct_id.data)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (done->p != ev->p) {
        /* the stripped copy lives as long as the request */
        ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);
        ctx->held += done->len;
        ngx_http_xflow_limit_inflight_hold(done->len);

        if (done->len > lcf->max_event_size) {
            /* a hashed value grows an event: the limit holds as sent */
            return NGX_DECLINED;
        }
    }

    return xf_outbox_event(ob, t, n, &done->id, &done->app, done->p,
                           done->len)
           == XF_OK ? NGX_OK : NGX_ERROR;
}


/* A valid event through the strip rules: one walk for all it yields. */
static ngx_int_t
ngx_http_xflow_ingest_privacy(ngx_http_request_t *r, xf_event_t *ev,
    ngx_http_xflow_stripped_t *out)
{
    out->p = ev->p;
    out->len = ev->len;
    out->id = ev->distinct_id;
    out->app = ev->app;

    return ngx_http_xflow_privacy_strip(r, &out->p, &out->len, &out->id,
                                        &out->app);
}


/*
 * Add what every envelope of the request shares (rendered once) and the
 * UA dictionary's message, and hand the outbox to the batch.  wait: the
 * request waits for the delivery reports (ack=kafka).  Returns what
 * ngx_http_xflow_batch_send() does; NGX_DECLINED at once when neither
 * Kafka nor the spool has room.
 */
static ngx_int_t
ngx_http_xflow_ingest_send(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    xf_outbox_t *ob, ngx_uint_t wait, ngx_uint_t *handed)
{
    size_t                      head_len;
    u_char                     *head;
    xf_str_t                    key;
    ngx_int_t                   rc, room;
    ngx_uint_t                  i;
    ngx_time_t                 *tp;
    xf_envelope_req_t           req;
    ngx_http_xflow_privacy_t    pv;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    *handed = 0;

    /* the events' messages and dead letters, before the UA dictionary's */
    ctx->nmsgs = ob->n;

    /* no room in librdkafka's queue: the spool takes the request whole */
    room = ngx_http_xflow_batch_room(ob->n);

    if (room == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    if (ngx_http_xflow_ingest_topics(r, ctx, ob) != NGX_OK
        || ngx_http_xflow_privacy_request(r, &pv) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (pv.ua_ref.len) {
        /* a User-Agent this gateway publishes for the first time */
        key.data = pv.ua_ref.data;
        key.len = pv.ua_ref.len;

        if (xf_outbox_raw(ob, pv.ua_topic, &key, pv.ua_value.data,
                          pv.ua_value.len)
            != XF_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < pv.nbody; i++) {
        /* ... and those the events carried */
        key.data = pv.body_ref[i].data;
        key.len = pv.body_ref[i].len;

        if (xf_outbox_raw(ob, pv.ua_topic, &key, pv.body_value[i].data,
                          pv.body_value[i].len)
            != XF_OK)
        {
            return NGX_ERROR;
        }
    }

    tp = ngx_timeofday();
    req.ts_ms = (uint64_t) tp->sec * 1000 + tp->msec;
    req.src = xf_format_name(ctx->format);
    req.ip = pv.ip.data;
    req.ip_len = pv.ip.len;
    req.extra = pv.extra.data;
    req.extra_len = pv.extra.len;

    head = ngx_pnalloc(r->pool, xf_envelope_head_size(&req));
    if (head == NULL) {
        return NGX_ERROR;
    }

    head_len = xf_envelope_head(head, &req);

    if (wait) {
        ctx->wait.r = r;
        ctx->wait.done = ngx_http_xflow_ingest_done;

        /* where each message lands: receipts and $xflow_offset_* */
        ctx->wait.pos = ngx_pcalloc(r->pool,
                                    ob->n * sizeof(ngx_http_xflow_position_t));
        if (ctx->wait.pos == NULL) {
            return NGX_ERROR;
        }
    }

    rc = ngx_http_xflow_batch_send(r, ob, head, head_len, room,
                                   lcf->dl_topic_index,
                                   wait ? &ctx->wait : NULL);

    /* the batch's error comes before it produces anything */
    *handed = (rc != NGX_ERROR);

    return rc;
}


/*
 * The ledger's moves of a request's events that the batch does not make:
 * the dead-lettered ones, and all of them when nothing was handed to the
 * batch (the request gets an error status: the SDK keeps them).  The
 * batch moves each event's message it was handed.
 */
static void
ngx_http_xflow_ingest_ledger(ngx_http_xflow_ctx_t *ctx, xf_outbox_t *ob,
    ngx_uint_t handed)
{
    size_t  i, n;

    if (handed) {
        ngx_http_xflow_ledger_move(ctx->ledger_series, XF_LEDGER_RECEIVED,
                                   XF_LEDGER_DEAD_LETTERED, ctx->rejected);
        ngx_http_xflow_ledger_move(ctx->ledger_series, XF_LEDGER_RECEIVED,
                                   XF_LEDGER_DUPLICATE, ctx->duplicates);
        return;
    }

    n = ctx->rejected + ctx->duplicates;

    for (i = 0; i < ob->n; i++) {
        n += ob->out[i].counted;
    }

    ngx_http_xflow_ledger_move(ctx->ledger_series, XF_LEDGER_RECEIVED,
                               XF_LEDGER_REFUSED, n);
}


/*
 * $xflow_topic: the events' topics, counted before the UA dictionary's
 * message is added.  One pass, a byte per configured topic.
 */
static ngx_int_t
ngx_http_xflow_ingest_topics(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    xf_outbox_t *ob)
{
    size_t                       i;
    u_char                      *seen;
    uint32_t                     t;
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_module);

    seen = ngx_pcalloc(r->pool, mcf->topics.nelts);
    if (seen == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ob->n; i++) {
        t = ob->out[i].topic;

        if (!seen[t]) {
            seen[t] = 1;
            ctx->topic_index = t;
            ctx->ntopics++;
        }
    }

    return NGX_OK;
}


/* The batch's answer to a request that waited (ack=kafka). */
static void
ngx_http_xflow_ingest_done(ngx_http_request_t *r, xf_outcome_t outcome,
    const char *detail)
{
    ngx_int_t              rc;
    ngx_connection_t      *c;
    ngx_http_xflow_ctx_t  *ctx;

    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    /* the batch decided: delivered, failed, or no report in time */
    ctx->outcome = outcome;

    if (outcome == XF_OUTCOME_ACCEPTED) {
        rc = ngx_http_xflow_ingest_accepted(r, ctx);

    } else if (ctx->receipts != NULL && ctx->reply == XF_REPLY_POSTHOG_V1) {
        /* PostHog's v1 SDKs send again only the events marked retry: the
           others are kept, and counted (the receipts tell them apart) */
        rc = ngx_http_xflow_reply_receipts(r, ctx);
        ngx_http_xflow_ingest_catalog(r, ctx);

    } else {
        rc = ngx_http_xflow_reply_outcome(r, ctx, detail);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* The location's privacy rules, for the dead letters the core plans. */
static void
ngx_http_xflow_ingest_strip(ngx_http_request_t *r, xf_outbox_strip_t *strip)
{
    strip->strip_event = ngx_http_xflow_ingest_strip_event;
    strip->strip_value = ngx_http_xflow_ingest_strip_value;
    strip->data = r;
    strip->strips = ngx_http_xflow_privacy_strips(r) ? 1 : 0;
}


static xf_status_t
ngx_http_xflow_ingest_strip_event(void *data, const u_char **p, size_t *len)
{
    return ngx_http_xflow_privacy_event(data, p, len) == NGX_OK
           ? XF_OK : XF_ERR_NOMEM;
}


static xf_status_t
ngx_http_xflow_ingest_strip_value(void *data, const u_char *event, size_t len,
    xf_str_t *value)
{
    return ngx_http_xflow_privacy_value(data, event, len, value) == NGX_OK
           ? XF_OK : XF_ERR_NOMEM;
}


static void
ngx_http_xflow_ingest_request(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    xf_request_t *req, const u_char *body, size_t len)
{
    ngx_str_t    sp;
    const char  *cookie;

    ngx_memzero(req, sizeof(xf_request_t));

    req->format = ctx->format;
    req->method = r->method == NGX_HTTP_GET ? XF_METHOD_GET
                  : r->method == NGX_HTTP_HEAD ? XF_METHOD_GET
                  : r->method == NGX_HTTP_POST ? XF_METHOD_POST
                  : r->method == NGX_HTTP_PUT ? XF_METHOD_PUT
                  : XF_METHOD_OTHER;

    req->path.data = r->uri.data;
    req->path.len = r->uri.len;
    req->query.data = r->args.data;
    req->query.len = r->args.len;

    if (r->headers_in.content_type) {
        req->content_type.data = r->headers_in.content_type->value.data;
        req->content_type.len = r->headers_in.content_type->value.len;
    }

    if (r->headers_in.authorization) {
        req->authorization.data = r->headers_in.authorization->value.data;
        req->authorization.len = r->headers_in.authorization->value.len;
    }

    /*
     * Adapters never see raw cookies: the one a format reads (Snowplow's
     * network user id, "sp") is handed over as its keyed reference, or
     * not at all.
     */
    cookie = xf_format_cookie(ctx->format);

    if (cookie) {
        if (ngx_http_xflow_privacy_cookie(r, cookie, &sp) == NGX_OK) {
            req->cookie.data = sp.data;
            req->cookie.len = sp.len;
        }
    }

    req->body = body;
    req->body_len = len;

    /* credentials an adapter finds are keyed under it, never sent */
    req->hash_key = ngx_http_xflow_privacy_hash_key(r);
}
