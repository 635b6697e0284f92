/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_privacy.c - privacy per request and per event: the
 * members every envelope of a request shares (kid, cookies, ua, geo), the
 * address text, and the xflow_strip_field rules applied to each event and
 * to the values read out of it.  The key, the databases and the rules
 * are configured in ngx_http_xflow_privacy_module.c; docs/privacy.md is
 * the contract.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_privacy_module.h"
#include "ngx_http_xflow_util.h"

#include "xf_cookie.h"
#include "xf_geo.h"
#include "xf_hashref.h"
#include "xf_ip.h"
#include "xf_seen.h"
#include "xf_strip.h"


static ngx_int_t ngx_http_xflow_privacy_ip(ngx_http_request_t *r,
    ngx_http_xflow_privacy_main_conf_t *pmcf, ngx_uint_t mode,
    const xf_ip_t *ip, ngx_str_t *text);
static ngx_uint_t ngx_http_xflow_privacy_strip_conf(ngx_http_request_t *r,
    xf_strip_conf_t *sc, xf_alloc_t *a);
static ngx_http_xflow_privacy_ctx_t *ngx_http_xflow_privacy_ctx(
    ngx_http_request_t *r);
static ngx_uint_t ngx_http_xflow_privacy_cookies(ngx_http_request_t *r,
    ngx_http_xflow_privacy_ctx_t *ctx,
    ngx_http_xflow_privacy_loc_conf_t *plcf,
    ngx_http_xflow_privacy_main_conf_t *pmcf);
static ngx_int_t ngx_http_xflow_privacy_anon(ngx_http_request_t *r,
    ngx_http_xflow_privacy_ctx_t *ctx);
static void ngx_http_xflow_privacy_body_ua(void *data, const u_char *text,
    size_t len, const u_char *ref);
static ngx_int_t ngx_http_xflow_privacy_treat(ngx_http_request_t *r,
    xf_strip_probe_t *res, xf_str_t *value);


/* The envelope's "ids": what the identifiers of the message are. */
#define NGX_HTTP_XFLOW_IDS_REF         ",\"ids\":\"ref\""
#define NGX_HTTP_XFLOW_IDS_COOKIELESS  ",\"ids\":\"cookieless\""


/*
 * The members every envelope of the request shares, the address text,
 * and the User-Agent dictionary entry to publish, if this worker is the
 * first to see it within the TTL.
 */
ngx_int_t
ngx_http_xflow_privacy_request(ngx_http_request_t *r,
    ngx_http_xflow_privacy_t *pv)
{
    u_char                              *p, *last;
    size_t                               len, n, kid_len;
    const xf_ip_t                       *ip;
    ngx_str_t                           *ua;
    ngx_uint_t                           i, ip_mode, ids, refs;
    xf_status_t                          st;
    const u_char                        *kid;
    ngx_table_elt_t                    **cookies;
    ngx_http_xflow_ctx_t                *xctx;
    ngx_http_xflow_privacy_ctx_t        *ctx;
    ngx_http_xflow_privacy_loc_conf_t   *plcf;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_privacy_module);

    ngx_memzero(pv, sizeof(ngx_http_xflow_privacy_t));

    ctx = ngx_http_xflow_privacy_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* a request with no accepted event publishes no User-Agent: any
     * client could fill the dictionary with refused uploads */
    xctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    /* "ids" says which identifiers the request's messages carry */
    ids = plcf->standard || plcf->consent_set;

    /*
     * Without consent, a hashed address would be one more identifier
     * that lasts longer than the day: it is truncated instead.
     */
    ip_mode = plcf->client_ip;

    if (ctx->cookieless && ip_mode == NGX_HTTP_XFLOW_IP_HASH) {
        ip_mode = NGX_HTTP_XFLOW_IP_TRUNCATE;
    }

    /* parsed once a request (the bot check may have), and only for
     * what reads it */
    ip = (pmcf->geo || ip_mode == NGX_HTTP_XFLOW_IP_TRUNCATE
          || ip_mode == NGX_HTTP_XFLOW_IP_HASH)
         ? ngx_http_xflow_client_ip(r) : NULL;

    if (ngx_http_xflow_privacy_ip(r, pmcf, ip_mode, ip, &pv->ip)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (pmcf->key == NULL && pmcf->geo == NULL) {
        return NGX_OK;
    }

    /* room for: kid, cookies, ua, geo */

    ua = r->headers_in.user_agent ? &r->headers_in.user_agent->value : NULL;

    len = 0;

    if (pmcf->key) {
        len += sizeof(",\"kid\":\"\"") - 1 + XF_HASHREF_KID_MAX
               + sizeof(",\"ua\":\"\"") - 1 + XF_HASHREF_LEN
               + sizeof(NGX_HTTP_XFLOW_IDS_COOKIELESS) - 1;
    }

    n = 0;

    /* cookie references are persistent: none without consent */

    refs = pmcf->key && plcf->cookies && r->headers_in.cookies.nelts
           && !ctx->cookieless;

    if (refs) {
        /* several Cookie headers are one list, as if joined with "; " */
        cookies = r->headers_in.cookies.elts;

        for (i = 0; i < r->headers_in.cookies.nelts; i++) {
            n += cookies[i]->value.len + 2;
        }

        len += xf_cookie_member_bound(n, XF_COOKIE_REFS_MAX);
    }

    if (pmcf->geo && ip && !xf_ip_is_local(ip)) {
        len += XF_GEO_MEMBER_MAX;
    }

    pv->extra.data = ngx_pnalloc(r->pool, len);
    if (pv->extra.data == NULL) {
        return NGX_ERROR;
    }

    p = pv->extra.data;

    if (pmcf->key) {
        kid = xf_hashref_kid(pmcf->key, &kid_len);
        p = ngx_cpymem(p, ",\"kid\":\"", sizeof(",\"kid\":\"") - 1);
        p = ngx_cpymem(p, kid, kid_len);
        *p++ = '"';

        if (ids && ctx->cookieless) {
            p = ngx_cpymem(p, NGX_HTTP_XFLOW_IDS_COOKIELESS,
                           sizeof(NGX_HTTP_XFLOW_IDS_COOKIELESS) - 1);

        } else if (ids) {
            p = ngx_cpymem(p, NGX_HTTP_XFLOW_IDS_REF,
                           sizeof(NGX_HTTP_XFLOW_IDS_REF) - 1);
        }

        if (refs) {
            /* the cookies read when the ctx was made */
            st = xf_cookie_render(pmcf->key, ctx->kept, ctx->nkept, p,
                                  pv->extra.data + len - p, &n);
            if (st != XF_OK) {
                return NGX_ERROR;
            }

            p += n;
        }

        if (ua && ua->len) {
            p = ngx_cpymem(p, ",\"ua\":\"", sizeof(",\"ua\":\"") - 1);

            if (xf_hashref(pmcf->key, XF_HASHREF_UA, ua->data, ua->len, p)
                != XF_OK)
            {
                return NGX_ERROR;
            }

            if (pmcf->ua_seen && xctx && xctx->accepted
                && xf_seen_check_and_set(pmcf->ua_seen, xf_hashref_u64(p),
                                         (uint64_t) ngx_time(),
                                         (uint32_t) pmcf->ua_ttl)
                   == XF_SEEN_FIRST)
            {
                /* first time within the TTL: publish it once */
                pv->ua_ref.data = p;
                pv->ua_ref.len = XF_HASHREF_LEN;
                pv->ua_topic = pmcf->ua_topic_index;

                pv->ua_value.data = ngx_pnalloc(r->pool,
                                        sizeof("{\"ua\":\"\"}")
                                        + xf_json_escape_bound(ua->len));
                if (pv->ua_value.data == NULL) {
                    return NGX_ERROR;
                }

                last = ngx_cpymem(pv->ua_value.data, "{\"ua\":\"",
                                  sizeof("{\"ua\":\"") - 1);
                last += xf_json_escape(last, ua->data, ua->len);
                last = ngx_cpymem(last, "\"}", 2);
                pv->ua_value.len = last - pv->ua_value.data;
            }

            p += XF_HASHREF_LEN;
            *p++ = '"';
        }
    }

    if (pmcf->geo && ip && !xf_ip_is_local(ip)) {
        /* the address realip established, before it is truncated */
        st = xf_geo_member(pmcf->geo, ip, p, pv->extra.data + len - p, &n);

        if (st == XF_OK) {
            p += n;

        } else {
            ngx_http_xflow_log_throttled(r->connection->log, NGX_LOG_WARN,
                                         0, "geoip",
                                         "a GeoIP lookup failed");
        }
    }

    pv->extra.len = p - pv->extra.data;

    /*
     * The User-Agents the events carried: marked seen only now that the
     * request's messages are about to be handed over, as the header's
     * is, so that one refused before that is published by a later one.
     */
    n = 0;

    for (i = 0; xctx && xctx->accepted && i < ctx->nbody; i++) {
        if (xf_seen_check_and_set(pmcf->ua_seen,
                                  xf_hashref_u64(ctx->body_ref[i].data),
                                  (uint64_t) ngx_time(),
                                  (uint32_t) pmcf->ua_ttl)
            == XF_SEEN_FIRST)
        {
            ctx->body_ref[n] = ctx->body_ref[i];
            ctx->body_value[n] = ctx->body_value[i];
            n++;
        }
    }

    if (n) {
        pv->nbody = n;
        pv->body_ref = ctx->body_ref;
        pv->body_value = ctx->body_value;
        pv->ua_topic = pmcf->ua_topic_index;
    }

    return NGX_OK;
}


/*
 * The reference of one cookie of the request, as "NAME=REF": what a
 * format adapter may see of the Cookie header (Snowplow's "sp" network
 * user id), so that no raw cookie value can become an event field or a
 * message key.  Empty without a key or without that cookie.
 */
ngx_int_t
ngx_http_xflow_privacy_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *out)
{
    size_t                               nlen;
    u_char                              *p;
    ngx_uint_t                           i, found;
    xf_cookie_t                          c;
    const u_char                        *pos, *end;
    ngx_table_elt_t                    **cookies;
    ngx_http_xflow_privacy_ctx_t        *ctx;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    out->len = 0;
    out->data = NULL;

    if (pmcf->key == NULL) {
        return NGX_OK;
    }

    ctx = ngx_http_xflow_privacy_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->cookieless) {
        /* no consent: the cookie's id is not to become the key */
        return NGX_OK;
    }

    nlen = ngx_strlen(name);
    found = 0;

    if (ctx->fname != NULL && ngx_strcmp(ctx->fname, name) == 0) {
        /* looked for when the ctx read the headers */
        found = ctx->fcookie_set;
        c = ctx->fcookie;

    } else {
        cookies = r->headers_in.cookies.elts;

        for (i = 0; !found && i < r->headers_in.cookies.nelts; i++) {
            pos = cookies[i]->value.data;
            end = pos + cookies[i]->value.len;

            while (xf_cookie_next(&pos, end, &c)) {
                if (c.name_len == nlen
                    && ngx_strncmp(c.name, name, nlen) == 0)
                {
                    found = 1;
                    break;
                }
            }
        }
    }

    if (!found) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, nlen + 1 + XF_HASHREF_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, name, nlen);
    *p++ = '=';

    if (xf_hashref_cookie(pmcf->key, c.name, c.name_len, c.value,
                          c.value_len, p)
        != XF_OK)
    {
        return NGX_ERROR;
    }

    out->len = nlen + 1 + XF_HASHREF_LEN;

    /* the key the adapter makes of it is a reference already */
    ngx_memcpy(ctx->cookie, p, XF_HASHREF_LEN);
    ctx->cookie_set = 1;

    return NGX_OK;
}


/*
 * The "ip" of the envelope, per xflow_client_ip; empty data: no member.
 * ip: the address parsed, or NULL when it is not one.
 */
static ngx_int_t
ngx_http_xflow_privacy_ip(ngx_http_request_t *r,
    ngx_http_xflow_privacy_main_conf_t *pmcf, ngx_uint_t mode,
    const xf_ip_t *ip, ngx_str_t *text)
{
    size_t   n;
    u_char  *p;

    switch (mode) {

    case NGX_HTTP_XFLOW_IP_DROP:
        text->data = NULL;
        text->len = 0;
        return NGX_OK;

    case NGX_HTTP_XFLOW_IP_TRUNCATE:
    case NGX_HTTP_XFLOW_IP_HASH:
        /* an address that does not parse is left out, never sent whole */
        p = ngx_pnalloc(r->pool, XF_IP_RENDER_MAX);
        if (p == NULL) {
            return NGX_ERROR;
        }

        n = xf_ip_render_parsed(mode == NGX_HTTP_XFLOW_IP_TRUNCATE
                                ? XF_IP_RENDER_TRUNCATE : XF_IP_RENDER_HASH,
                                ip, pmcf->key, p);
        if (n == (size_t) -1) {
            return NGX_ERROR;
        }

        text->data = n ? p : NULL;
        text->len = n;
        return NGX_OK;

    default: /* NGX_HTTP_XFLOW_IP_FULL */
        break;
    }

    text->data = r->connection->addr_text.data;
    text->len = r->connection->addr_text.len;

    return NGX_OK;
}


/*
 * The location's strip rules and a pool allocator for xf_strip: 0 when
 * the location strips nothing.
 */
static ngx_uint_t
ngx_http_xflow_privacy_strip_conf(ngx_http_request_t *r, xf_strip_conf_t *sc,
    xf_alloc_t *a)
{
    ngx_array_t                         *rules;
    ngx_http_xflow_ctx_t                *xctx;
    ngx_http_xflow_privacy_ctx_t        *ctx;
    ngx_http_xflow_privacy_loc_conf_t   *plcf;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_privacy_module);

    rules = plcf->strip;

    if (plcf->standard) {
        /* the format is known once the adapter has parsed the upload */
        xctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

        if (xctx && xctx->format > XF_FMT_AUTO && xctx->format < XF_FMT_MAX
            && plcf->std[xctx->format])
        {
            rules = plcf->std[xctx->format];
        }
    }

    if (rules == NULL || rules->nelts == 0) {
        return 0;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    sc->rules = rules->elts;
    sc->n = rules->nelts;
    sc->h = pmcf->key;
    sc->anon = NULL;
    sc->ua = pmcf->ua_seen ? ngx_http_xflow_privacy_body_ua : NULL;
    sc->ua_data = r;

    if (plcf->consent_set && pmcf->key) {
        ctx = ngx_http_xflow_privacy_ctx(r);

        if (ctx && ctx->cookieless) {
            if (ctx->anon_set
                || ngx_http_xflow_privacy_anon(r, ctx) == NGX_OK)
            {
                sc->anon = ctx->anon;

            } else {
                /* never the raw ids: without a key the walk fails */
                sc->h = NULL;
            }
        }
    }

    ngx_http_xflow_pool_allocator(a, r->pool);

    return 1;
}


/*
 * Strip one event (a validated object).  *p and *len are replaced by the
 * edited copy, or kept when no rule matched.
 */
ngx_int_t
ngx_http_xflow_privacy_event(ngx_http_request_t *r, const u_char **p,
    size_t *len)
{
    u_char                              *dst;
    size_t                               out, cap;
    xf_alloc_t                           a;
    xf_status_t                          st;
    xf_strip_conf_t                      sc;

    if (!ngx_http_xflow_privacy_strip_conf(r, &sc, &a)) {
        return NGX_OK;
    }

    /*
     * Room for the event and a few hashed values (24 bytes each) first:
     * the worst case, 5.6 times the event, only when that was too small.
     */
    cap = *len + 8 * (XF_HASHREF_LEN + 2);

    dst = ngx_pnalloc(r->pool, cap);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    st = xf_strip(&sc, &a, *p, *len, dst, cap, &out);

    if (st == XF_ERR_BUFFER) {
        cap = xf_strip_bound(*len);

        dst = ngx_pnalloc(r->pool, cap);
        if (dst == NULL) {
            return NGX_ERROR;
        }

        st = xf_strip(&sc, &a, *p, *len, dst, cap, &out);
    }

    if (st == XF_ERR_NOT_OBJECT) {
        return NGX_OK;
    }

    if (st != XF_OK) {
        return NGX_ERROR;
    }

    if (out) {
        *p = dst;
        *len = out;
    }

    return NGX_OK;
}


/* Does the location strip fields (xflow_strip_field)? */
ngx_uint_t
ngx_http_xflow_privacy_strips(ngx_http_request_t *r)
{
    ngx_http_xflow_privacy_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_privacy_module);

    return plcf->standard
           || (plcf->strip != NULL && plcf->strip->nelts != 0);
}


xf_hashref_t *
ngx_http_xflow_privacy_hash_key(ngx_http_request_t *r)
{
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    return pmcf->key;
}


/*
 * A value read out of the event before it was stripped (the Kafka key,
 * the envelope's app, $xflow_app): what the strip rules did to an equal
 * value in the event is done to it too (xf_strip_probe).
 */
ngx_int_t
ngx_http_xflow_privacy_value(ngx_http_request_t *r, const u_char *p,
    size_t len, xf_str_t *value)
{
    xf_alloc_t                           a;
    xf_status_t                          st;
    xf_strip_conf_t                      sc;
    xf_strip_probe_t                     res;

    if (value->len == 0 || !ngx_http_xflow_privacy_strip_conf(r, &sc, &a)) {
        return NGX_OK;
    }

    st = xf_strip_probe(&sc, &a, p, len, value->data, value->len, &res);
    if (st != XF_OK) {
        return NGX_ERROR;
    }

    return ngx_http_xflow_privacy_treat(r, &res, value);
}


/* What a probe found, done to the value. */
static ngx_int_t
ngx_http_xflow_privacy_treat(ngx_http_request_t *r, xf_strip_probe_t *res,
    xf_str_t *value)
{
    u_char  *ref;

    switch (res->action) {

    case XF_STRIP_PROBE_DROP:
        value->data = NULL;
        value->len = 0;
        break;

    case XF_STRIP_PROBE_HASH:
        ref = ngx_pnalloc(r->pool, res->ref_len);
        if (ref == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ref, res->ref, res->ref_len);
        value->data = ref;
        value->len = res->ref_len;
        break;

    default:
        break;
    }

    return NGX_OK;
}


/*
 * The request's consent decision, made once, when privacy is first
 * asked about (the Snowplow cookie: before the upload is parsed), and
 * its Cookie headers, read once for all that privacy takes from them.
 * NULL only when out of memory.
 */
static ngx_http_xflow_privacy_ctx_t *
ngx_http_xflow_privacy_ctx(ngx_http_request_t *r)
{
    ngx_http_xflow_privacy_ctx_t        *ctx;
    ngx_http_xflow_privacy_loc_conf_t   *plcf;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_privacy_module);
    if (ctx) {
        return ctx;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_xflow_privacy_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_privacy_module);
    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    ctx->cookieless = !ngx_http_xflow_privacy_cookies(r, ctx, plcf, pmcf)
                      && plcf->consent_set && pmcf->key;

    ngx_http_set_ctx(r, ctx, ngx_http_xflow_privacy_module);

    return ctx;
}


/*
 * The visitor's cookieless id of the day: a keyed hash of the address,
 * the User-Agent and the app the request names (docs/privacy.md,
 * Consent).  Made when the first identifier is treated, after the
 * adapter has parsed the upload, so that the request's app is known.
 */
static ngx_int_t
ngx_http_xflow_privacy_anon(ngx_http_request_t *r,
    ngx_http_xflow_privacy_ctx_t *ctx)
{
    ngx_str_t                           *ua, app;
    ngx_http_xflow_ctx_t                *xctx;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    ua = r->headers_in.user_agent ? &r->headers_in.user_agent->value : NULL;

    ngx_str_null(&app);
    xctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    if (xctx) {
        app = xctx->app;
    }

    /* the UTC day: ngx_time() counts seconds since the epoch */

    if (xf_hashref_cookieless(pmcf->key, (uint64_t) ngx_time() / 86400,
                              app.data, app.len,
                              r->connection->addr_text.data,
                              r->connection->addr_text.len,
                              ua ? ua->data : NULL, ua ? ua->len : 0,
                              ctx->anon)
        != XF_OK)
    {
        return NGX_ERROR;
    }

    ctx->anon_set = 1;

    return NGX_OK;
}


/*
 * The Cookie headers, read once: the cookies of xflow_cookie_ref for the
 * member (ctx->kept), the one the format's adapter may see (ctx->fcookie),
 * and the consent cookie.  Returns whether the visitor consents to
 * persistent identifiers: no when the browser sends Sec-GPC: 1 and gpc
 * is configured; no when a consent cookie is configured and the request
 * does not carry it with its consenting value (several cookies of that
 * name: the first one).
 */
static ngx_uint_t
ngx_http_xflow_privacy_cookies(ngx_http_request_t *r,
    ngx_http_xflow_privacy_ctx_t *ctx,
    ngx_http_xflow_privacy_loc_conf_t *plcf,
    ngx_http_xflow_privacy_main_conf_t *pmcf)
{
    size_t                 npats, flen;
    ngx_str_t             *gpc;
    ngx_uint_t             i, consent, want_consent, gpc_off;
    xf_cookie_t            c;
    const u_char          *pos, *end;
    ngx_table_elt_t      **cookies;
    xf_cookie_pattern_t   *pats;
    ngx_http_xflow_ctx_t  *xctx;

    gpc_off = 0;

    if (plcf->consent_set && pmcf->key
        && (plcf->consent & NGX_HTTP_XFLOW_CONSENT_GPC))
    {
        gpc = ngx_http_xflow_header_in(r, "Sec-GPC", sizeof("Sec-GPC") - 1);

        gpc_off = gpc && gpc->len == 1 && gpc->data[0] == '1';
    }

    want_consent = plcf->consent_set && pmcf->key && !gpc_off
                   && plcf->consent_cookie.len;
    consent = !gpc_off && !want_consent;

    if (pmcf->key == NULL) {
        return consent;
    }

    pats = NULL;
    npats = 0;

    if (plcf->cookies) {
        pats = plcf->cookies->elts;
        npats = plcf->cookies->nelts;
    }

    xctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);
    ctx->fname = xctx ? xf_format_cookie(xctx->format) : NULL;

    if (!want_consent && npats == 0 && ctx->fname == NULL) {
        return consent;
    }

    flen = ctx->fname ? ngx_strlen(ctx->fname) : 0;

    cookies = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        pos = cookies[i]->value.data;
        end = pos + cookies[i]->value.len;

        while (xf_cookie_next(&pos, end, &c)) {

            if (want_consent
                && c.name_len == plcf->consent_cookie.len
                && ngx_strncmp(c.name, plcf->consent_cookie.data,
                               c.name_len) == 0)
            {
                consent = c.value_len == plcf->consent_value.len
                          && ngx_strncmp(c.value, plcf->consent_value.data,
                                         c.value_len) == 0;
                want_consent = 0;
            }

            if (ctx->fname && !ctx->fcookie_set
                && c.name_len == flen
                && ngx_strncmp(c.name, ctx->fname, c.name_len) == 0)
            {
                ctx->fcookie = c;
                ctx->fcookie_set = 1;
            }

            if (npats) {
                (void) xf_cookie_keep(pats, npats, XF_COOKIE_REFS_MAX, &c,
                                      ctx->kept, &ctx->nkept);
            }
        }
    }

    return consent;
}


/*
 * One event, one walk: the event stripped as ngx_http_xflow_privacy_event()
 * strips it, while the key and the app read out of it are probed as
 * ngx_http_xflow_privacy_value() probes them.
 */
ngx_int_t
ngx_http_xflow_privacy_strip(ngx_http_request_t *r, const u_char **p,
    size_t *len, xf_str_t *key, xf_str_t *app)
{
    u_char            *dst;
    size_t             out, cap, lens[2];
    xf_alloc_t         a;
    xf_status_t        st;
    const u_char      *values[2];
    xf_strip_conf_t    sc;
    xf_strip_probe_t   res[2];

    if (!ngx_http_xflow_privacy_strip_conf(r, &sc, &a)) {
        return NGX_OK;
    }

    values[0] = key->data;
    lens[0] = key->len;
    values[1] = app->data;
    lens[1] = app->len;

    /* as ngx_http_xflow_privacy_event(): a few hashed values' room first */
    cap = *len + 8 * (XF_HASHREF_LEN + 2);

    dst = ngx_pnalloc(r->pool, cap);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    st = xf_strip_values(&sc, &a, *p, *len, dst, cap, &out, values, lens, 2,
                         res);

    if (st == XF_ERR_BUFFER) {
        cap = xf_strip_bound(*len);

        dst = ngx_pnalloc(r->pool, cap);
        if (dst == NULL) {
            return NGX_ERROR;
        }

        st = xf_strip_values(&sc, &a, *p, *len, dst, cap, &out, values,
                             lens, 2, res);
    }

    if (st != XF_OK && st != XF_ERR_NOT_OBJECT) {
        return NGX_ERROR;
    }

    if (ngx_http_xflow_privacy_treat(r, &res[0], key) != NGX_OK
        || ngx_http_xflow_privacy_treat(r, &res[1], app) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (st == XF_OK && out) {
        *p = dst;
        *len = out;
    }

    return NGX_OK;
}


/*
 * The Kafka key once the rules treated it (orig: its data before): with
 * the standard treatment, never the value as it came.
 */
ngx_int_t
ngx_http_xflow_privacy_key(ngx_http_request_t *r, xf_str_t *value,
    const u_char *orig)
{
    u_char                              *ref;
    ngx_http_xflow_privacy_ctx_t        *ctx;
    ngx_http_xflow_privacy_loc_conf_t   *plcf;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_privacy_module);
    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    if (!plcf->standard || pmcf->key == NULL || value->len == 0
        || value->data != orig)
    {
        /* no treatment asked for, no key, or a rule treated it */
        return NGX_OK;
    }

    ctx = ngx_http_xflow_privacy_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (!ctx->cookieless && ctx->cookie_set && value->len == XF_HASHREF_LEN
        && ngx_memcmp(value->data, ctx->cookie, XF_HASHREF_LEN) == 0)
    {
        return NGX_OK;
    }

    ref = ngx_pnalloc(r->pool, XF_HASHREF_LEN);
    if (ref == NULL) {
        return NGX_ERROR;
    }

    if (ctx->cookieless) {
        if (!ctx->anon_set && ngx_http_xflow_privacy_anon(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_memcpy(ref, ctx->anon, XF_HASHREF_LEN);

    } else if (xf_hashref(pmcf->key, XF_HASHREF_FIELD, value->data,
                          value->len, ref)
               != XF_OK)
    {
        return NGX_ERROR;
    }

    value->data = ref;
    value->len = XF_HASHREF_LEN;

    return NGX_OK;
}


/*
 * A User-Agent a ua rule replaced in an event: the dictionary must be
 * able to resolve its reference too (an app SDK's, a server library's
 * copy of the browser's).  Kept for ngx_http_xflow_privacy_request(),
 * which publishes it with the request's envelope members when this
 * worker is the first to see it within the TTL; past
 * NGX_HTTP_XFLOW_BODY_UA_MAX per request, a later request publishes it.
 */
static void
ngx_http_xflow_privacy_body_ua(void *data, const u_char *text, size_t len,
    const u_char *ref)
{
    u_char                              *v, *last;
    ngx_uint_t                           i;
    ngx_http_request_t                  *r;
    ngx_http_xflow_privacy_ctx_t        *ctx;

    r = data;

    ctx = ngx_http_xflow_privacy_ctx(r);
    if (ctx == NULL || ctx->nbody == NGX_HTTP_XFLOW_BODY_UA_MAX) {
        return;
    }

    for (i = 0; i < ctx->nbody; i++) {
        if (ngx_memcmp(ctx->body_ref[i].data, ref, XF_HASHREF_LEN) == 0) {
            return;
        }
    }

    v = ngx_pnalloc(r->pool, XF_HASHREF_LEN + sizeof("{\"ua\":\"\"}")
                             + xf_json_escape_bound(len));
    if (v == NULL) {
        return;
    }

    ngx_memcpy(v, ref, XF_HASHREF_LEN);
    ctx->body_ref[ctx->nbody].data = v;
    ctx->body_ref[ctx->nbody].len = XF_HASHREF_LEN;

    v += XF_HASHREF_LEN;
    last = ngx_cpymem(v, "{\"ua\":\"", sizeof("{\"ua\":\"") - 1);
    last += xf_json_escape(last, text, len);
    last = ngx_cpymem(last, "\"}", 2);

    ctx->body_value[ctx->nbody].data = v;
    ctx->body_value[ctx->nbody].len = last - v;
    ctx->nbody++;
}
