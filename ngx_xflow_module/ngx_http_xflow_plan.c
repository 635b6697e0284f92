/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_plan.c - one event against the tracking plan, and what
 * the location's xflow_plan_action gives an event the plan does not list
 * (unknown=) or that fails it (invalid=): passed as it is, marked in its
 * envelope, routed to a topic or dead-lettered with the reason.  The
 * check is the core's (core/xf_plan.c); the plan is read at
 * configuration time (ngx_http_xflow_catalog_module.c).
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_catalog_module.h"


ngx_uint_t
ngx_http_xflow_plan_event(ngx_http_request_t *r, const xf_event_t *ev,
    xf_plan_result_t *res, ngx_uint_t *topic)
{
    ngx_http_xflow_catalog_loc_conf_t   *clcf;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_catalog_module);

    xf_plan_check(cmcf->plan, &ev->app, &ev->name, ev->p, ev->len, res);

    if (res->verdict == XF_CATALOG_PLAN_UNKNOWN) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_catalog_module);
        *topic = clcf->unknown_topic;
        return clcf->unknown;
    }

    if (res->verdict == XF_CATALOG_PLAN_INVALID) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_catalog_module);
        *topic = clcf->invalid_topic;
        return clcf->invalid;
    }

    return NGX_HTTP_XFLOW_PLAN_PASS;
}


ngx_int_t
ngx_http_xflow_plan_why(ngx_http_request_t *r, const xf_plan_result_t *res,
    xf_str_t *member)
{
    u_char  *p;
    size_t   len;

    static const char  name[] = ",\"plan_error\":\"";

    len = ngx_strlen(res->why);

    if (len == 0) {
        member->data = (u_char *) "";
        member->len = 0;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, sizeof(name) - 1 + xf_json_escape_bound(len)
                             + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    member->data = p;
    p = ngx_cpymem(p, name, sizeof(name) - 1);
    p += xf_json_escape(p, (u_char *) res->why, len);
    *p++ = '"';
    member->len = p - member->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_xflow_plan_mark(ngx_http_request_t *r, xf_outbox_t *ob,
    size_t first, const xf_plan_result_t *res)
{
    u_char      *p, *q;
    size_t       len, mlen;
    xf_str_t     why;
    xf_out_t    *o;
    const char  *mark;

    if (first >= ob->n) {
        return NGX_OK;
    }

    o = &ob->out[first];
    why.len = 0;

    if (res->verdict == XF_CATALOG_PLAN_UNKNOWN) {
        mark = ",\"plan\":\"unknown\"";

    } else {
        mark = ",\"plan\":\"invalid\"";

        if (ngx_http_xflow_plan_why(r, res, &why) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* after the event's own members (its app), before the event */
    mlen = ngx_strlen(mark);
    len = o->member.len + mlen + why.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    q = ngx_cpymem(p, o->member.data, o->member.len);
    q = ngx_cpymem(q, mark, mlen);
    (void) ngx_cpymem(q, why.data, why.len);

    o->member.data = p;
    o->member.len = len;

    return NGX_OK;
}
