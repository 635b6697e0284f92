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
    ngx_str_t *text);
static ngx_uint_t ngx_http_xflow_privacy_strip_conf(ngx_http_request_t *r,
    xf_strip_conf_t *sc, xf_alloc_t *a);


/*
 * The members every envelope of the request shares, the address text,
 * and the User-Agent dictionary entry to publish, if this worker is the
 * first to see it within the TTL.
 */
ngx_int_t
ngx_http_xflow_privacy_request(ngx_http_request_t *r,
    ngx_http_xflow_privacy_t *pv)
{
    u_char                              *p, *cookie, *last;
    size_t                               len, n, kid_len;
    xf_ip_t                              ip;
    ngx_str_t                           *ua;
    ngx_uint_t                           i, have_ip;
    xf_status_t                          st;
    const u_char                        *kid;
    ngx_table_elt_t                    **cookies;
    xf_cookie_pattern_t                 *pats;
    ngx_http_xflow_privacy_loc_conf_t   *plcf;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_privacy_module);

    ngx_memzero(pv, sizeof(ngx_http_xflow_privacy_t));

    have_ip = xf_ip_parse(r->connection->addr_text.data,
                          r->connection->addr_text.len, &ip);

    if (ngx_http_xflow_privacy_ip(r, pmcf, plcf->client_ip, &pv->ip)
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
               + sizeof(",\"ua\":\"\"") - 1 + XF_HASHREF_LEN;
    }

    cookie = NULL;
    n = 0;

    if (pmcf->key && plcf->cookies && r->headers_in.cookies.nelts) {
        /* several Cookie headers are one list, joined with "; " */
        cookies = r->headers_in.cookies.elts;

        for (i = 0; i < r->headers_in.cookies.nelts; i++) {
            n += cookies[i]->value.len + 2;
        }

        cookie = ngx_pnalloc(r->pool, n);
        if (cookie == NULL) {
            return NGX_ERROR;
        }

        last = cookie;
        for (i = 0; i < r->headers_in.cookies.nelts; i++) {
            if (i) {
                *last++ = ';';
                *last++ = ' ';
            }
            last = ngx_cpymem(last, cookies[i]->value.data,
                              cookies[i]->value.len);
        }

        n = last - cookie;
        len += xf_cookie_member_bound(n, XF_COOKIE_REFS_MAX);
    }

    if (pmcf->geo && have_ip && !xf_ip_is_local(&ip)) {
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

        if (cookie) {
            pats = plcf->cookies->elts;

            st = xf_cookie_member(pmcf->key, pats, plcf->cookies->nelts,
                                  XF_COOKIE_REFS_MAX, cookie, n, p,
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

            if (pmcf->ua_seen
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

    if (pmcf->geo && have_ip && !xf_ip_is_local(&ip)) {
        /* the address realip established, before it is truncated */
        st = xf_geo_member(pmcf->geo, &ip, p, pv->extra.data + len - p, &n);

        if (st == XF_OK) {
            p += n;

        } else {
            ngx_http_xflow_log_throttled(r->connection->log, NGX_LOG_WARN,
                                         0, "geoip",
                                         "a GeoIP lookup failed");
        }
    }

    pv->extra.len = p - pv->extra.data;

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
    ngx_uint_t                           i;
    xf_cookie_t                          c;
    const u_char                        *pos, *end;
    ngx_table_elt_t                    **cookies;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    out->len = 0;
    out->data = NULL;

    if (pmcf->key == NULL) {
        return NGX_OK;
    }

    nlen = ngx_strlen(name);
    cookies = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        pos = cookies[i]->value.data;
        end = pos + cookies[i]->value.len;

        while (xf_cookie_next(&pos, end, &c)) {
            if (c.name_len != nlen || ngx_strncmp(c.name, name, nlen) != 0) {
                continue;
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
            return NGX_OK;
        }
    }

    return NGX_OK;
}


/* The "ip" of the envelope, per xflow_client_ip; empty data: no member. */
static ngx_int_t
ngx_http_xflow_privacy_ip(ngx_http_request_t *r,
    ngx_http_xflow_privacy_main_conf_t *pmcf, ngx_uint_t mode,
    ngx_str_t *text)
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

        n = xf_ip_render(mode == NGX_HTTP_XFLOW_IP_TRUNCATE
                         ? XF_IP_RENDER_TRUNCATE : XF_IP_RENDER_HASH,
                         r->connection->addr_text.data,
                         r->connection->addr_text.len, pmcf->key, p);
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
    ngx_http_xflow_privacy_loc_conf_t   *plcf;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_privacy_module);

    if (plcf->strip == NULL || plcf->strip->nelts == 0) {
        return 0;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    sc->rules = plcf->strip->elts;
    sc->n = plcf->strip->nelts;
    sc->h = pmcf->key;

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
    size_t                               out;
    xf_alloc_t                           a;
    xf_status_t                          st;
    xf_strip_conf_t                      sc;

    if (!ngx_http_xflow_privacy_strip_conf(r, &sc, &a)) {
        return NGX_OK;
    }

    dst = ngx_pnalloc(r->pool, xf_strip_bound(*len));
    if (dst == NULL) {
        return NGX_ERROR;
    }

    st = xf_strip(&sc, &a, *p, *len, dst, xf_strip_bound(*len), &out);

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

    return plcf->strip != NULL && plcf->strip->nelts != 0;
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
    u_char                              *ref;
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

    switch (res.action) {

    case XF_STRIP_PROBE_DROP:
        value->data = NULL;
        value->len = 0;
        break;

    case XF_STRIP_PROBE_HASH:
        ref = ngx_pnalloc(r->pool, res.ref_len);
        if (ref == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ref, res.ref, res.ref_len);
        value->data = ref;
        value->len = res.ref_len;
        break;

    default:
        break;
    }

    return NGX_OK;
}
