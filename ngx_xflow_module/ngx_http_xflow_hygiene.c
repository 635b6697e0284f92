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
    xf_format_t format, ngx_uint_t *topic, xf_str_t *member)
{
    u_char                             *p, *q;
    size_t                              nt, mlen;
    ssize_t                             k;
    int64_t                             now;
    ngx_time_t                         *tp;
    ngx_uint_t                          action;
    xf_kill_rule_t                     *rules;
    xf_kill_event_t                     kev;
    xf_time_field_t                     t[XF_TIME_FIELDS];
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

    nt = clcf->future || clcf->historical
         ? xf_time_fields(format, ev->p, ev->len, t) : 0;

    if (nt) {
        tp = ngx_timeofday();
        now = (int64_t) tp->sec * 1000 + (int64_t) tp->msec;

        if (clcf->future && t[0].ms > now + (int64_t) clcf->future) {
            /* the event with its times now; its own in the envelope */
            p = ngx_pnalloc(r->pool, ev->len + nt * XF_TIME_RENDER_MAX);
            mlen = sizeof(",\"ts_original\":") - 1 + t[0].len;
            q = ngx_pnalloc(r->pool, mlen);

            if (p == NULL || q == NULL) {
                return NGX_ERROR;
            }

            member->data = q;
            member->len = mlen;
            q = ngx_cpymem(q, ",\"ts_original\":",
                           sizeof(",\"ts_original\":") - 1);
            (void) ngx_cpymem(q, ev->p + t[0].off, t[0].len);

            ev->len = xf_time_clamp(ev->p, ev->len, t, nt,
                                    now + (int64_t) clcf->future, now, p);
            ev->p = p;

        } else if (clcf->historical
                   && t[0].ms < now - (int64_t) clcf->historical)
        {
            *topic = clcf->hist_topic;
            action = NGX_HTTP_XFLOW_HYGIENE_ROUTE;
        }
    }

    if (clcf->placeholders
        && xf_placeholder_id(&ev->distinct_id, clcf->placeholders->elts,
                             clcf->placeholders->nelts))
    {
        /* another id of the event that is one (a device's beside a user
           id of "null") is the key */
        p = ngx_pnalloc(r->pool, ev->len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (xf_placeholder_other(format, ev->p, ev->len,
                                 clcf->placeholders->elts,
                                 clcf->placeholders->nelts, p,
                                 &ev->distinct_id))
        {
            return action;
        }

        /* none: no key, so that a placeholder does not pile every such
           event onto one partition */
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
