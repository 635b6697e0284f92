/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_hygiene.c - kill switches (xflow_kill) and the hygiene
 * of times and ids (xflow_future_clamp, xflow_historical,
 * xflow_placeholder_ids) for one event, before the tracking plan.  The
 * rules are the core's (core/xf_kill.c, core/xf_time.c); they are read
 * with the configuration, so a reload changes them.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_catalog_module.h"


ngx_int_t
ngx_http_xflow_hygiene_event(ngx_http_request_t *r, xf_event_t *ev,
    ngx_uint_t *topic, xf_str_t *member)
{
    u_char                             *p, *q, ts[48];
    size_t                              off, vlen, n, mlen;
    ssize_t                             k;
    int64_t                             ms, now;
    ngx_time_t                         *tp;
    ngx_uint_t                          action;
    xf_kill_rule_t                     *rules;
    xf_kill_event_t                     kev;
    ngx_http_xflow_catalog_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_catalog_module);

    member->data = NULL;
    member->len = 0;
    action = NGX_HTTP_XFLOW_HYGIENE_PASS;

    if (clcf->kill) {
        kev.app = ev->app;
        kev.name = ev->name;
        kev.distinct_id = ev->distinct_id;
        kev.p = ev->p;
        kev.len = ev->len;

        rules = clcf->kill->elts;
        k = xf_kill_match(rules, clcf->kill->nelts, &kev);

        if (k >= 0) {
            switch (rules[k].action) {
            case XF_KILL_DROP:
                return NGX_HTTP_XFLOW_HYGIENE_DROP;
            case XF_KILL_DEAD_LETTER:
                return NGX_HTTP_XFLOW_HYGIENE_DEAD_LETTER;
            default:
                *topic = ((ngx_uint_t *) clcf->kill_topic->elts)[k];
                return NGX_HTTP_XFLOW_HYGIENE_ROUTE;
            }
        }
    }

    if ((clcf->future || clcf->historical)
        && xf_time_of_event(ev->p, ev->len, &ms, &off, &vlen) == XF_OK)
    {
        tp = ngx_timeofday();
        now = (int64_t) tp->sec * 1000 + (int64_t) tp->msec;

        if (clcf->future && ms > now + (int64_t) clcf->future) {
            /* the event with its time now; the original in the envelope */
            n = xf_time_render(ev->p + off, vlen, now, ts);

            p = ngx_pnalloc(r->pool, ev->len - vlen + n);
            mlen = sizeof(",\"ts_original\":") - 1 + vlen;
            q = ngx_pnalloc(r->pool, mlen);

            if (p == NULL || q == NULL) {
                return NGX_ERROR;
            }

            member->data = q;
            member->len = mlen;
            q = ngx_cpymem(q, ",\"ts_original\":",
                           sizeof(",\"ts_original\":") - 1);
            (void) ngx_cpymem(q, ev->p + off, vlen);

            q = ngx_cpymem(p, ev->p, off);
            q = ngx_cpymem(q, ts, n);
            (void) ngx_cpymem(q, ev->p + off + vlen, ev->len - off - vlen);

            ev->p = p;
            ev->len = ev->len - vlen + n;

        } else if (clcf->historical && ms < now - (int64_t) clcf->historical)
        {
            *topic = clcf->hist_topic;
            action = NGX_HTTP_XFLOW_HYGIENE_ROUTE;
        }
    }

    if (clcf->placeholders
        && xf_placeholder_id(&ev->distinct_id, clcf->placeholders->elts,
                             clcf->placeholders->nelts))
    {
        /* no key: a placeholder must not pile every such event onto
           one partition */
        ev->distinct_id.data = NULL;
        ev->distinct_id.len = 0;

        mlen = member->len + sizeof(",\"anonymous\":true") - 1;
        p = ngx_pnalloc(r->pool, mlen);
        if (p == NULL) {
            return NGX_ERROR;
        }

        q = member->len ? ngx_cpymem(p, member->data, member->len) : p;
        (void) ngx_cpymem(q, ",\"anonymous\":true",
                          sizeof(",\"anonymous\":true") - 1);
        member->data = p;
        member->len = mlen;
    }

    return action;
}


ngx_int_t
ngx_http_xflow_hygiene_member(ngx_http_request_t *r, xf_outbox_t *ob,
    size_t first, const xf_str_t *member)
{
    u_char    *p, *q;
    xf_out_t  *o;

    if (member->len == 0 || first >= ob->n) {
        return NGX_OK;
    }

    o = &ob->out[first];

    p = ngx_pnalloc(r->pool, o->member.len + member->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    q = ngx_cpymem(p, o->member.data, o->member.len);
    (void) ngx_cpymem(q, member->data, member->len);

    o->member.data = p;
    o->member.len += member->len;

    return NGX_OK;
}
