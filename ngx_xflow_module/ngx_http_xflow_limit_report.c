/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_limit_report.c - the xflow_limit_report location: what
 * the rate limits decided, per zone, for SRE to tune the limits and to
 * write WAF rules from (see ngx_http_xflow_limit_module.c).
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_limit_module.h"

#include "xrl.h"


#define NGX_HTTP_XFLOW_LIMIT_TOP  20


/*
 * A key as a report shows it: $binary_remote_addr keys (4 or 16 bytes
 * that are not text) as the address they hold, anything else escaped.
 */
static u_char *
ngx_http_xflow_limit_report_key(u_char *p, xrl_key_report_t *kr)
{
    size_t   i;
    char     addr[NGX_INET6_ADDRSTRLEN];

    if (kr->text_len == 4 || kr->text_len == 16) {
        for (i = 0; i < kr->text_len; i++) {
            if (kr->text[i] < 0x20 || (u_char) kr->text[i] >= 0x7f) {
                break;
            }
        }

        if (i < kr->text_len
            && inet_ntop(kr->text_len == 4 ? AF_INET : AF_INET6, kr->text,
                         addr, sizeof(addr)) != NULL)
        {
            return ngx_cpymem(p, addr, ngx_strlen(addr));
        }
    }

    return p + xf_json_escape(p, (u_char *) kr->text, kr->text_len);
}


/*
 * JSON per zone: the policy, how full the table is, decisions by result
 * over the last minute and since start, and the top keys by denials and
 * by dry-run would-be denials: what a WAF rule is written from.
 */
ngx_int_t
ngx_http_xflow_limit_report_handler(ngx_http_request_t *r)
{
    u_char                             *p;
    size_t                              size;
    uint64_t                            now, recent[XRL_RESULT_MAX];
    ngx_int_t                           rc;
    ngx_buf_t                          *b;
    ngx_uint_t                          i, j, k, n, nz;
    xrl_stats_t                         st;
    xrl_usage_t                         u;
    xrl_key_report_t                   *top;
    ngx_http_xflow_limit_zone_t       **zones, *z;
    ngx_http_xflow_limit_main_conf_t   *lmcf;

    rc = ngx_http_xflow_read_only(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_xflow_limit_page_wanted(r)) {
        return ngx_http_xflow_limit_page_send(r);
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_limit_module);
    zones = lmcf->zones.elts;

    top = ngx_palloc(r->pool, NGX_HTTP_XFLOW_LIMIT_TOP
                              * sizeof(xrl_key_report_t));
    if (top == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* keys are escaped: up to 6 bytes out per byte in */
    size = 64 + lmcf->zones.nelts
                * (1024 + NGX_HTTP_XFLOW_LIMIT_TOP
                          * (6 * XRL_KEY_TEXT_MAX + 160));

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    now = ngx_http_xflow_limit_now();

    p = ngx_sprintf(p, "{\"zones\":[");
    nz = 0;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        z = zones[i];

        if (z->table == NULL) {
            continue;
        }

        xrl_table_stats(z->table, &st);
        xrl_table_recent(z->table, now, 60, recent);
        xrl_table_usage(z->table, now, &u);

        p = ngx_sprintf(p, "%s{\"name\":\"%V\",\"key\":\"%V\","
                        "\"rate\":%uL,\"per\":\"%s\",\"unit\":\"%s\","
                        "\"burst\":%uL,\"overflow\":\"%V\","
                        "\"table\":{\"capacity\":%uL,\"used\":%uL,"
                        "\"active\":%uL},",
                        nz++ ? "," : "", &z->name, &z->key.value, z->rate,
                        z->period_ns == 1000000000ULL ? "second" : "minute",
                        z->unit == NGX_HTTP_XFLOW_LIMIT_EVENTS
                        ? "events"
                        : z->unit == NGX_HTTP_XFLOW_LIMIT_BYTES
                        ? "bytes" : "requests",
                        z->burst, &z->overflow, u.capacity, u.used,
                        u.active);

        p = ngx_sprintf(p, "\"last_minute\":{\"passed\":%uL,\"rejected\":%uL,"
                        "\"rejected_dry_run\":%uL,\"table_full\":%uL},"
                        "\"total\":{\"passed\":%uL,\"rejected\":%uL,"
                        "\"rejected_dry_run\":%uL,\"table_full\":%uL},",
                        recent[XRL_PASSED], recent[XRL_REJECTED],
                        recent[XRL_REJECTED_DRY_RUN], recent[XRL_TABLE_FULL],
                        st.results[XRL_PASSED], st.results[XRL_REJECTED],
                        st.results[XRL_REJECTED_DRY_RUN],
                        st.results[XRL_TABLE_FULL]);

        n = xrl_table_top(z->table, now, top, NGX_HTTP_XFLOW_LIMIT_TOP);

        p = ngx_sprintf(p, "\"top\":[");

        for (j = 0, k = 0; j < n; j++) {
            if (top[j].rejected + top[j].rejected_dry_run == 0) {
                continue;
            }

            p = ngx_sprintf(p, "%s{\"key\":\"", k++ ? "," : "");
            p = ngx_http_xflow_limit_report_key(p, &top[j]);
            p = ngx_sprintf(p, "\",\"rejected\":%uL,\"rejected_dry_run\":%uL,"
                            "\"passed\":%uL}", top[j].rejected,
                            top[j].rejected_dry_run, top[j].passed);
        }

        p = ngx_sprintf(p, "]}");
    }

    p = ngx_sprintf(p, "]}\n");
    return ngx_http_xflow_send_json(r, NGX_HTTP_OK, b->pos, p - b->pos);
}
