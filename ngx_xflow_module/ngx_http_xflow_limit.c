/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_limit.c - the rate limits per request: the check of the
 * location's xflow_limit zones (GCRA over each zone's shared table, see
 * rate_limit/), the RateLimit headers of a refusal, and the variables
 * $xflow_limit_status and $xflow_limit_zone.  The zones are configured
 * in ngx_http_xflow_limit_module.c.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_metrics_module.h"

#include "xrl.h"


/* What the request's limits decided, for the access log. */
typedef struct {
    ngx_uint_t                    status;   /* NGX_HTTP_XFLOW_LIMIT_* */
    ngx_http_xflow_limit_zone_t  *zone;     /* that decided it */
    uint64_t                      retry_after;  /* s, when refused */
} ngx_http_xflow_limit_ctx_t;


static ngx_int_t ngx_http_xflow_limit_check(ngx_http_request_t *r,
    ngx_uint_t unit, uint64_t cost, ngx_uint_t *overflow);
static void ngx_http_xflow_limit_table_full(ngx_http_request_t *r,
    ngx_http_xflow_limit_zone_t *zone);
static ngx_int_t ngx_http_xflow_limit_refuse(ngx_http_request_t *r,
    ngx_http_xflow_limit_ctx_t *ctx, ngx_http_xflow_limit_zone_t *zone,
    xrl_decision_t *d);
static ngx_int_t ngx_http_xflow_limit_headers(ngx_http_request_t *r,
    ngx_http_xflow_limit_zone_t *zone, xrl_decision_t *d);
static u_char *ngx_http_xflow_limit_header(ngx_http_request_t *r,
    const char *key, u_char *p, u_char *last, const char *fmt, ...);
static ngx_http_xflow_limit_ctx_t *ngx_http_xflow_limit_ctx(
    ngx_http_request_t *r);


static ngx_str_t  ngx_http_xflow_limit_status_names[] = {
    ngx_string(""),
    ngx_string("PASSED"),
    ngx_string("REJECTED"),
    ngx_string("REJECTED_DRY_RUN"),
    ngx_string("OVERFLOW")
};


ngx_int_t
ngx_http_xflow_limit_requests(ngx_http_request_t *r)
{
    return ngx_http_xflow_limit_check(r, NGX_HTTP_XFLOW_LIMIT_REQUESTS, 1,
                                      NULL);
}


ngx_int_t
ngx_http_xflow_limit_events(ngx_http_request_t *r, ngx_uint_t n,
    ngx_uint_t *overflow)
{
    if (n == 0) {
        return NGX_OK;
    }

    return ngx_http_xflow_limit_check(r, NGX_HTTP_XFLOW_LIMIT_EVENTS, n,
                                      overflow);
}


ngx_int_t
ngx_http_xflow_limit_bytes(ngx_http_request_t *r, size_t n)
{
    if (n == 0) {
        return NGX_OK;
    }

    return ngx_http_xflow_limit_check(r, NGX_HTTP_XFLOW_LIMIT_BYTES, n,
                                      NULL);
}


uint64_t
ngx_http_xflow_limit_retry_after(ngx_http_request_t *r)
{
    ngx_http_xflow_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_limit_module);

    return ctx ? ctx->retry_after : 0;
}


/*
 * Every zone of the location that counts this unit, in order: the first
 * real refusal (or overflow) ends the check; dry-run refusals and passes
 * are kept for the variables.
 */
static ngx_int_t
ngx_http_xflow_limit_check(ngx_http_request_t *r, ngx_uint_t unit,
    uint64_t cost, ngx_uint_t *overflow)
{
    ngx_str_t                         key;
    uint64_t                          now;
    ngx_uint_t                        i, flags, result;
    xrl_key_t                         k;
    xrl_decision_t                    d;
    ngx_http_xflow_limit_t           *lim;
    ngx_http_xflow_limit_ctx_t       *ctx;
    ngx_http_xflow_limit_zone_t      *zone;
    ngx_http_xflow_limit_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_limit_module);

    if (llcf->limits == NULL) {
        return NGX_OK;
    }

    now = ngx_http_xflow_limit_now();
    lim = llcf->limits->elts;

    for (i = 0; i < llcf->limits->nelts; i++) {
        zone = lim[i].zone;

        if (zone->unit != unit || zone->table == NULL) {
            continue;
        }

        if (ngx_http_complex_value(r, &zone->key, &key) != NGX_OK) {
            return NGX_ERROR;
        }

        if (key.len == 0) {
            /* an empty key is not limited */
            continue;
        }

        k.hash = xrl_table_hash(zone->table, key.data, key.len);
        k.text = key.data;
        k.len = key.len;

        flags = lim[i].dry_run ? XRL_DRY_RUN : 0;

        /*
         * A batch larger than the bucket could never pass: it costs a
         * full bucket instead, so it waits like any other, not forever.
         */
        result = xrl_table_take(zone->table, &k, ngx_min(cost, zone->burst),
                                now, flags, &d);

        ctx = ngx_http_xflow_limit_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        if (result == XRL_TABLE_FULL) {
            ngx_http_xflow_limit_table_full(r, zone);

            if (!d.allowed) {
                return ngx_http_xflow_limit_refuse(r, ctx, zone, &d);
            }

            if (ctx->status == NGX_HTTP_XFLOW_LIMIT_NONE) {
                ctx->status = NGX_HTTP_XFLOW_LIMIT_PASSED;
                ctx->zone = zone;
            }

            continue;
        }

        if (d.allowed) {
            if (ctx->status == NGX_HTTP_XFLOW_LIMIT_NONE) {
                ctx->status = result == XRL_REJECTED_DRY_RUN
                              ? NGX_HTTP_XFLOW_LIMIT_REJECTED_DRY_RUN
                              : NGX_HTTP_XFLOW_LIMIT_PASSED;
                ctx->zone = zone;

            } else if (result == XRL_REJECTED_DRY_RUN) {
                ctx->status = NGX_HTTP_XFLOW_LIMIT_REJECTED_DRY_RUN;
                ctx->zone = zone;
            }

            ngx_http_xflow_metric_add(XF_M_RATELIMIT_DECISIONS, zone->metric,
                                      result == XRL_REJECTED_DRY_RUN
                                      ? XF_METRICS_LIMIT_REJECTED_DRY
                                      : XF_METRICS_LIMIT_PASSED, 1);
            continue;
        }

        /* over the limit, for real */

        ctx->zone = zone;

        if (overflow && zone->overflow.len) {
            ctx->status = NGX_HTTP_XFLOW_LIMIT_OVERFLOW;
            *overflow = zone->overflow_index;

            ngx_http_xflow_metric_add(XF_M_RATELIMIT_DECISIONS, zone->metric,
                                      XF_METRICS_LIMIT_OVERFLOW, 1);
            return NGX_BUSY;
        }

        ngx_http_xflow_metric_add(XF_M_RATELIMIT_DECISIONS, zone->metric,
                                  XF_METRICS_LIMIT_REJECTED, 1);

        return ngx_http_xflow_limit_refuse(r, ctx, zone, &d);
    }

    return NGX_OK;
}


/*
 * Every slot holds a key still active: this one is not metered, and the
 * zone's full= says what it gets.  Counted, and logged at most once a
 * second per worker and zone.
 */
static void
ngx_http_xflow_limit_table_full(ngx_http_request_t *r,
    ngx_http_xflow_limit_zone_t *zone)
{
    ngx_log_t  log;

    ngx_http_xflow_metric_add(XF_M_RATELIMIT_DECISIONS, zone->metric,
                              XF_METRICS_LIMIT_TABLE_FULL, 1);

    if (zone->full_logged == ngx_time()) {
        return;
    }

    zone->full_logged = ngx_time();

    /* without the request's handler: no client address, no request line */
    log = *r->connection->log;
    log.handler = NULL;
    log.data = NULL;

    ngx_log_error(NGX_LOG_WARN, &log, 0,
                  "xflow_limit_zone \"%V\" is full of active keys: a new "
                  "key is %s (full=%s), make the zone larger", &zone->name,
                  zone->on_full == XRL_FULL_DENY ? "refused" : "not limited",
                  zone->on_full == XRL_FULL_DENY ? "deny" : "allow");
}


/* A refusal by zone: the variables say so, the headers tell the client. */
static ngx_int_t
ngx_http_xflow_limit_refuse(ngx_http_request_t *r,
    ngx_http_xflow_limit_ctx_t *ctx, ngx_http_xflow_limit_zone_t *zone,
    xrl_decision_t *d)
{
    ctx->zone = zone;
    ctx->status = NGX_HTTP_XFLOW_LIMIT_REJECTED;

    if (ngx_http_xflow_limit_headers(r, zone, d) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * Retry-After, and the IETF rate-limit fields in their structured-field
 * form (draft-ietf-httpapi-ratelimit-headers):
 *
 *   RateLimit-Policy: "ip";q=50;w=1
 *   RateLimit: "ip";r=0;t=1
 */
static ngx_int_t
ngx_http_xflow_limit_headers(ngx_http_request_t *r,
    ngx_http_xflow_limit_zone_t *zone, xrl_decision_t *d)
{
    u_char                      *p, *last;
    size_t                       size;
    uint64_t                     retry, reset;
    ngx_http_xflow_limit_ctx_t  *ctx;

    retry = d->retry_after_ns == XRL_RETRY_NEVER
            ? 60 : (d->retry_after_ns + 999999999) / 1000000000;
    reset = (d->reset_ns + 999999999) / 1000000000;

    if (retry == 0) {
        retry = 1;
    }

    size = 3 * NGX_INT64_LEN + 2 * zone->name.len + 64;

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = p + size;

    /* Retry-After itself is written with the answer (reply_retry) */
    ctx = ngx_http_xflow_limit_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->retry_after = retry;

    p = ngx_http_xflow_limit_header(r, "RateLimit-Policy", p, last,
                                    "\"%V\";q=%uL;w=%uL", &zone->name,
                                    zone->rate, zone->period_ns / 1000000000);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_xflow_limit_header(r, "RateLimit", p, last,
                                    "\"%V\";r=%uL;t=%uL", &zone->name,
                                    d->remaining, reset);

    return p ? NGX_OK : NGX_ERROR;
}


/*
 * One response header KEY: VALUE, the value printed from fmt into
 * [p, last).  Returns the end of the value, or NULL without memory.
 */
static u_char *
ngx_http_xflow_limit_header(ngx_http_request_t *r, const char *key,
    u_char *p, u_char *last, const char *fmt, ...)
{
    va_list           args;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);

    va_start(args, fmt);
    h->value.data = p;
    p = ngx_vslprintf(p, last, fmt, args);
    h->value.len = p - h->value.data;
    va_end(args);

    return p;
}


uint64_t
ngx_http_xflow_limit_now(void)
{
    struct timespec  ts;

    /* shared by every worker: one monotonic clock, nanoseconds */
    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static ngx_http_xflow_limit_ctx_t *
ngx_http_xflow_limit_ctx(ngx_http_request_t *r)
{
    ngx_http_xflow_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_limit_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_xflow_limit_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_xflow_limit_module);
    }

    return ctx;
}


ngx_int_t
ngx_http_xflow_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_xflow_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_limit_module);

    if (ctx == NULL || ctx->status == NGX_HTTP_XFLOW_LIMIT_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    if (data == 0) {
        v->data = ngx_http_xflow_limit_status_names[ctx->status].data;
        v->len = ngx_http_xflow_limit_status_names[ctx->status].len;

    } else {
        v->data = ctx->zone->name.data;
        v->len = ctx->zone->name.len;
    }

    return NGX_OK;
}
