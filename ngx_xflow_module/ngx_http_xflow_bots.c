/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_bots.c - bots (ngx_http_xflow_catalog_module.h): the
 * directives, the check of each request and the xflow_bot_report JSON.
 *
 *   xflow_bots mark | drop | route:TOPIC [dry_run];  (http, server, loc)
 *   xflow_bot_patterns /etc/xflow/bots.txt;          (http)
 *   xflow_bot_asns /etc/xflow/asns.txt AS16509;      (http)
 *   xflow_bot_report;                                (location)
 *
 * A request is a bot's by its User-Agent (one pass over it: the patterns
 * are indexed at configuration time, core/xf_bot.c) or by the AS of its
 * address (the ASN database of xflow_geoip); a server SDK's User-Agent
 * is never a bot's.  The report's counts live in a small shared zone,
 * written under its lock by bots' requests only.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_catalog_module.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_metrics_module.h"
#include "ngx_http_xflow_privacy_module.h"
#include "ngx_http_xflow_topic.h"
#include "ngx_http_xflow_util.h"


#define NGX_HTTP_XFLOW_BOT_K     128    /* counters per table */
#define NGX_HTTP_XFLOW_BOT_TOP   20     /* rows per table in the report */
#define NGX_HTTP_XFLOW_BOT_ZONE  (256 * 1024)


static ngx_int_t ngx_http_xflow_bot_list(ngx_conf_t *cf, ngx_array_t **a,
    const char *const *list);
static ngx_int_t ngx_http_xflow_bot_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_xflow_bot_count(ngx_http_request_t *r,
    ngx_uint_t decision, const xf_str_t *ua, const xf_str_t *why,
    uint32_t asn, ngx_uint_t listed);
static u_char *ngx_http_xflow_bot_report_top(u_char *p,
    const xf_topk_entry_t *e, size_t n, ngx_uint_t asn);


/* xflow_bots off | mark | drop | route:TOPIC [dry_run] */
char *
ngx_http_xflow_bots_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_loc_conf_t *clcf = conf;

    ngx_int_t   index;
    ngx_str_t  *value, topic;

    if (clcf->bots != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    clcf->bots_dry_run = 0;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "dry_run") != 0
            || ngx_strcmp(value[1].data, "off") == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", expected "
                               "dry_run after mark, drop or route:TOPIC",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        clcf->bots_dry_run = 1;
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        clcf->bots = NGX_HTTP_XFLOW_HYGIENE_PASS;

    } else if (ngx_strcmp(value[1].data, "mark") == 0) {
        clcf->bots = NGX_HTTP_XFLOW_HYGIENE_MARK;

    } else if (ngx_strcmp(value[1].data, "drop") == 0) {
        clcf->bots = NGX_HTTP_XFLOW_HYGIENE_DROP;

    } else if (value[1].len > 6
               && ngx_strncmp(value[1].data, "route:", 6) == 0)
    {
        topic.data = value[1].data + 6;
        topic.len = value[1].len - 6;

        index = ngx_http_xflow_topic_index(cf, &topic);
        if (index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        clcf->bots = NGX_HTTP_XFLOW_HYGIENE_ROUTE;
        clcf->bots_topic = (ngx_uint_t) index;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", expected off, mark, "
                           "drop or route:TOPIC", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_xflow_bot_patterns_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_main_conf_t *cmcf = conf;

    u_char     *buf, *p, *last, *nl, *q;
    size_t      n;
    xf_str_t   *s;
    ngx_str_t  *value, name;

    if (cmcf->bot_patterns) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    /* the patterns stay in the buffer: the configuration's pool */
    if (ngx_http_xflow_read_conf_file(cf, &name, cf->pool, "bot patterns",
                                      &buf, &n)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cmcf->bot_patterns = ngx_array_create(cf->pool, 64, sizeof(xf_str_t));
    if (cmcf->bot_patterns == NULL) {
        return NGX_CONF_ERROR;
    }

    last = buf + n;

    for (p = buf; p < last; p = nl + 1) {
        nl = ngx_strlchr(p, last, '\n');
        if (nl == NULL) {
            nl = last;
        }

        q = nl;

        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) {
            q--;
        }

        while (p < q && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == q || *p == '#') {
            continue;
        }

        ngx_strlow(p, p, q - p);

        s = ngx_array_push(cmcf->bot_patterns);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        s->data = p;
        s->len = q - p;
    }

    return NGX_CONF_OK;
}


/*
 * xflow_bot_asns FILE|ASN...: a token that reads as an ASN is one, any
 * other a file of them.  Repeatable: the lists add up.
 */
char *
ngx_http_xflow_bot_asns_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_main_conf_t *cmcf = conf;

    char         err[256];
    u_char      *buf;
    size_t       n, line;
    uint32_t     asn;
    ngx_str_t   *value, name;
    xf_alloc_t   a;
    ngx_uint_t   i;
    xf_status_t  st;

    value = cf->args->elts;
    ngx_http_xflow_pool_allocator(&a, cf->pool);

    for (i = 1; i < cf->args->nelts; i++) {
        if (xf_bot_asn(value[i].data, value[i].len, &asn)) {
            buf = value[i].data;
            n = value[i].len;
            ngx_str_set(&name, "the directive");

        } else {
            name = value[i];

            if (ngx_http_xflow_read_conf_file(cf, &name, cf->temp_pool,
                                              "bot ASNs", &buf, &n)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }
        }

        st = xf_bot_asns_parse(&cmcf->bot_asns, buf, n, &a, err,
                               sizeof(err), &line);

        if (st != XF_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "bot ASNs %V:%uz: %s",
                               &name, line,
                               st == XF_ERR_NOMEM ? "out of memory" : err);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_xflow_bot_report_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                            name;
    ngx_http_core_loc_conf_t            *clcf;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_xflow_bot_report_handler;

    cmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_xflow_catalog_module);

    if (cmcf->bot_zone) {
        return NGX_CONF_OK;
    }

    /* a fixed size: two tables of NGX_HTTP_XFLOW_BOT_K counters */
    ngx_str_set(&name, "xflow_bot_report");

    cmcf->bot_zone = ngx_shared_memory_add(cf, &name,
                                           NGX_HTTP_XFLOW_BOT_ZONE,
                                           &ngx_http_xflow_catalog_module);
    if (cmcf->bot_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    cmcf->bot_zone->init = ngx_http_xflow_bot_init_zone;
    cmcf->bot_zone->data = cmcf;

    return NGX_CONF_OK;
}


/* The counts in the zone's slab pool; a reload keeps the old ones. */
static ngx_int_t
ngx_http_xflow_bot_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_xflow_catalog_main_conf_t *ocmcf = data;

    ngx_slab_pool_t                     *shpool;
    ngx_http_xflow_bot_sh_t             *sh;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    cmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ocmcf && ocmcf->bot_sh) {
        cmcf->bot_sh = ocmcf->bot_sh;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        cmcf->bot_sh = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_xflow_bot_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->ua = ngx_slab_calloc(shpool, xf_topk_size(NGX_HTTP_XFLOW_BOT_K));
    sh->asn = ngx_slab_calloc(shpool, xf_topk_size(NGX_HTTP_XFLOW_BOT_K));
    if (sh->ua == NULL || sh->asn == NULL) {
        return NGX_ERROR;
    }

    (void) xf_topk_init(sh->ua, NGX_HTTP_XFLOW_BOT_K);
    (void) xf_topk_init(sh->asn, NGX_HTTP_XFLOW_BOT_K);

    shpool->data = sh;
    cmcf->bot_sh = sh;

    return NGX_OK;
}


/* A NULL-ended list of literals as xf_str_t, into *a (made if NULL). */
static ngx_int_t
ngx_http_xflow_bot_list(ngx_conf_t *cf, ngx_array_t **a,
    const char *const *list)
{
    xf_str_t  *s;

    if (*a == NULL) {
        *a = ngx_array_create(cf->pool, 64, sizeof(xf_str_t));
        if (*a == NULL) {
            return NGX_ERROR;
        }
    }

    for ( ; *list; list++) {
        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_ERROR;
        }

        s->data = (const u_char *) *list;
        s->len = ngx_strlen(*list);
    }

    return NGX_OK;
}


/* The shipped lists, then the operator's patterns after them, indexed. */
char *
ngx_http_xflow_bots_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_xflow_catalog_main_conf_t *cmcf = conf;

    xf_str_t                            *s;
    ngx_uint_t                           i;
    xf_alloc_t                           a;
    ngx_array_t                         *file;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    file = cmcf->bot_patterns;
    cmcf->bot_patterns = NULL;

    if (ngx_http_xflow_bot_list(cf, &cmcf->bot_patterns, xf_bot_patterns)
        != NGX_OK
        || ngx_http_xflow_bot_list(cf, &cmcf->bot_servers, xf_bot_servers)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (file) {
        for (i = 0; i < file->nelts; i++) {
            s = ngx_array_push(cmcf->bot_patterns);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            *s = ((xf_str_t *) file->elts)[i];
        }
    }

    cmcf->bot_set = ngx_palloc(cf->pool, sizeof(xf_bot_set_t));
    if (cmcf->bot_set == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_http_xflow_pool_allocator(&a, cf->pool);

    switch (xf_bot_set_build(cmcf->bot_set, cmcf->bot_patterns->elts,
                             cmcf->bot_patterns->nelts,
                             cmcf->bot_servers->elts,
                             cmcf->bot_servers->nelts, &a))
    {
    case XF_OK:
        break;

    case XF_ERR_TOO_LARGE:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "xflow_bot_patterns: more than %d patterns, or "
                           "one longer than %d bytes", XF_BOT_SET_MAX,
                           XF_BOT_UA_MAX);
        return NGX_CONF_ERROR;

    default:
        return NGX_CONF_ERROR;
    }

    xf_bot_asns_sort(&cmcf->bot_asns);

    pmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_xflow_privacy_module);

    if (cmcf->bot_asns.n && (pmcf->geo == NULL || !pmcf->geo->has_asn)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "xflow_bot_asns needs an ASN database: "
                           "xflow_geoip asn=FILE");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_xflow_bot_request(ngx_http_request_t *r, ngx_uint_t *topic,
    xf_str_t *member)
{
    u_char                              *p, as[16];
    ssize_t                              k;
    const xf_ip_t                       *ip;
    uint32_t                             asn;
    xf_str_t                             ua, why;
    ngx_uint_t                           listed, decision;
    ngx_http_xflow_catalog_loc_conf_t   *clcf;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_catalog_module);
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_catalog_module);

    member->data = NULL;
    member->len = 0;

    if (clcf->bots == NGX_HTTP_XFLOW_HYGIENE_PASS) {
        return NGX_HTTP_XFLOW_HYGIENE_PASS;
    }

    ua.data = (u_char *) "";
    ua.len = 0;

    if (r->headers_in.user_agent) {
        ua.data = r->headers_in.user_agent->value.data;
        ua.len = r->headers_in.user_agent->value.len;
    }

    k = xf_bot_set_match(cmcf->bot_set, &ua);

    if (k == XF_BOT_SERVER) {
        /* a server SDK sends for real users, from hosting ASNs too */
        return NGX_HTTP_XFLOW_HYGIENE_PASS;
    }

    /* the AS: to decide without a pattern, or for the report with one */
    asn = 0;
    listed = 0;
    pmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_privacy_module);

    if ((cmcf->bot_asns.n || (k >= 0 && cmcf->bot_sh))
        && pmcf->geo && pmcf->geo->has_asn
        && (ip = ngx_http_xflow_client_ip(r)) != NULL)
    {
        if (xf_geo_asn(pmcf->geo, ip, &asn) != XF_OK) {
            ngx_http_xflow_log_throttled(r->connection->log, NGX_LOG_WARN,
                                         0, "geoip",
                                         "a GeoIP lookup failed");
        }

        listed = asn && xf_bot_asns_has(&cmcf->bot_asns, asn);
    }

    if (k >= 0) {
        why = ((xf_str_t *) cmcf->bot_patterns->elts)[k];

    } else if (listed) {
        why.data = as;
        why.len = ngx_sprintf(as, "AS%uD", asn) - as;

    } else {
        return NGX_HTTP_XFLOW_HYGIENE_PASS;
    }

    decision = clcf->bots == NGX_HTTP_XFLOW_HYGIENE_MARK
               ? XF_METRICS_BOT_MARK
               : clcf->bots == NGX_HTTP_XFLOW_HYGIENE_ROUTE
               ? XF_METRICS_BOT_ROUTE : XF_METRICS_BOT_DROP;

    if (clcf->bots_dry_run) {
        decision += XF_METRICS_BOT_DRY_RUN;
    }

    ngx_http_xflow_bot_count(r, decision, &ua, &why, asn, listed);

    if (clcf->bots_dry_run) {
        return NGX_HTTP_XFLOW_HYGIENE_PASS;
    }

    if (clcf->bots == NGX_HTTP_XFLOW_HYGIENE_ROUTE) {
        *topic = clcf->bots_topic;
        return NGX_HTTP_XFLOW_HYGIENE_ROUTE;
    }

    if (clcf->bots == NGX_HTTP_XFLOW_HYGIENE_DROP) {
        return NGX_HTTP_XFLOW_HYGIENE_DROP;
    }

    /* the pattern is the operator's or ours: escaped all the same */
    p = ngx_pnalloc(r->pool, sizeof(",\"bot\":\"\"") - 1
                             + xf_json_escape_bound(why.len));
    if (p == NULL) {
        return NGX_ERROR;
    }

    member->data = p;
    p = ngx_cpymem(p, ",\"bot\":\"", sizeof(",\"bot\":\"") - 1);
    p += xf_json_escape(p, why.data, why.len);
    *p++ = '"';
    member->len = p - member->data;

    return NGX_HTTP_XFLOW_HYGIENE_MARK;
}


/* A bot's request in the metrics and, with a report, in its tables. */
static void
ngx_http_xflow_bot_count(ngx_http_request_t *r, ngx_uint_t decision,
    const xf_str_t *ua, const xf_str_t *why, uint32_t asn,
    ngx_uint_t listed)
{
    u_char                              *p, text[16];
    ngx_slab_pool_t                     *shpool;
    ngx_http_xflow_bot_sh_t             *sh;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    ngx_http_xflow_metric_add(XF_M_BOT_REQUESTS, decision, 0, 1);

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_catalog_module);
    sh = cmcf->bot_sh;

    if (sh == NULL) {
        return;
    }

    p = asn ? ngx_sprintf(text, "%uD", asn) : text;
    shpool = (ngx_slab_pool_t *) cmcf->bot_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    sh->decisions[decision]++;
    xf_topk_add(sh->ua, ua->data, ua->len, why->data, why->len, 1);
    xf_topk_add(sh->asn, text, p - text,
                (u_char *) (listed ? "listed" : ""), listed ? 6 : 0, 1);

    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * The report: what xflow_bots decided (enforced and dry run), and the
 * top User-Agents and ASNs of the bots seen, with their counts and the
 * error bound of each (Space-Saving): what a WAF rule is written from.
 */
ngx_int_t
ngx_http_xflow_bot_report_handler(ngx_http_request_t *r)
{
    u_char                              *p;
    size_t                               size, nua, nasn;
    uint64_t                             d[6], total;
    ngx_int_t                            rc;
    ngx_buf_t                           *b;
    xf_topk_entry_t                     *ua, *asn;
    ngx_slab_pool_t                     *shpool;
    ngx_http_xflow_bot_sh_t             *sh;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    rc = ngx_http_xflow_read_only(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_xflow_limit_page_wanted(r)) {
        return ngx_http_xflow_bot_page_send(r);
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_catalog_module);
    sh = cmcf->bot_sh;

    if (sh == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    ua = ngx_palloc(r->pool, 2 * NGX_HTTP_XFLOW_BOT_K
                             * sizeof(xf_topk_entry_t));
    if (ua == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    asn = ua + NGX_HTTP_XFLOW_BOT_K;

    /* copied under the lock, rendered without it */
    shpool = (ngx_slab_pool_t *) cmcf->bot_zone->shm.addr;
    ngx_shmtx_lock(&shpool->mutex);

    ngx_memcpy(d, sh->decisions, sizeof(d));
    total = sh->ua->total;
    nua = xf_topk_list(sh->ua, ua, NGX_HTTP_XFLOW_BOT_TOP);
    nasn = xf_topk_list(sh->asn, asn, NGX_HTTP_XFLOW_BOT_TOP);

    ngx_shmtx_unlock(&shpool->mutex);

    size = 512 + (nua + nasn)
                 * (128 + 6 * (XF_TOPK_KEY_MAX + XF_TOPK_LABEL_MAX));

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(b->last, "{\"requests\":%uL,\"decisions\":{"
                    "\"mark\":%uL,\"route\":%uL,\"drop\":%uL,"
                    "\"dry_run_mark\":%uL,\"dry_run_route\":%uL,"
                    "\"dry_run_drop\":%uL},\"user_agents\":[",
                    total, d[XF_METRICS_BOT_MARK], d[XF_METRICS_BOT_ROUTE],
                    d[XF_METRICS_BOT_DROP],
                    d[XF_METRICS_BOT_DRY_RUN + XF_METRICS_BOT_MARK],
                    d[XF_METRICS_BOT_DRY_RUN + XF_METRICS_BOT_ROUTE],
                    d[XF_METRICS_BOT_DRY_RUN + XF_METRICS_BOT_DROP]);

    p = ngx_http_xflow_bot_report_top(p, ua, nua, 0);
    p = ngx_sprintf(p, "],\"asns\":[");
    p = ngx_http_xflow_bot_report_top(p, asn, nasn, 1);
    p = ngx_sprintf(p, "]}\n");

    return ngx_http_xflow_send_json(r, NGX_HTTP_OK, b->pos, p - b->pos);
}


/* One table's rows: a User-Agent and its pattern, or an ASN. */
static u_char *
ngx_http_xflow_bot_report_top(u_char *p, const xf_topk_entry_t *e,
    size_t n, ngx_uint_t asn)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        if (asn) {
            p = ngx_sprintf(p, "{\"asn\":%*s,\"listed\":%s,",
                            (size_t) e[i].key_len, e[i].key,
                            e[i].label_len ? "true" : "false");

        } else {
            p = ngx_cpymem(p, "{\"user_agent\":\"",
                           sizeof("{\"user_agent\":\"") - 1);
            p += xf_json_escape(p, e[i].key, e[i].key_len);
            p = ngx_cpymem(p, "\",\"why\":\"", sizeof("\",\"why\":\"") - 1);
            p += xf_json_escape(p, e[i].label, e[i].label_len);
            p = ngx_cpymem(p, "\",", 2);
        }

        p = ngx_sprintf(p, "\"requests\":%uL,\"error\":%uL}", e[i].count,
                        e[i].error);
    }

    return p;
}
