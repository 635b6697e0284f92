/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_catalog_module.c - the event catalog's directives, its
 * shared zone and the recording of each request's events
 * (ngx_http_xflow_catalog_module.h).
 *
 *   xflow_catalog_zone 4m;     (http: the table; no zone, no catalog)
 *   xflow_catalog;             (location: the JSON and the page)
 *   xflow_tracking_plan /etc/xflow/plan.json;        (http)
 *   xflow_plan_action unknown=mark invalid=dead_letter;
 *   xflow_kill app=noisy drop;
 *   xflow_future_clamp 23h;
 *   xflow_historical 2d events_historical;
 *   xflow_placeholder_ids default;
 *   xflow_bots mark [dry_run];
 *   xflow_bot_patterns /etc/xflow/bots.txt;          (http)
 *   xflow_bot_asns /etc/xflow/asns.txt AS16509;      (http)
 *   xflow_bot_report;                                (location)
 *                              (http, server, location)
 *
 * The table lives in the zone's slab pool and survives a reload with the
 * same zone size (xf_catalog_init keeps a table of the same layout).
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_catalog_module.h"
#include "ngx_http_xflow_metrics_module.h"
#include "ngx_http_xflow_topic.h"
#include "ngx_http_xflow_util.h"

#include <sys/random.h>


static char *ngx_http_xflow_catalog_zone_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_catalog_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_xflow_catalog_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void *ngx_http_xflow_catalog_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_tracking_plan_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_plan_action_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_kill_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_historical_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_placeholder_ids_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void *ngx_http_xflow_catalog_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_catalog_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_command_t  ngx_http_xflow_catalog_commands[] = {

    { ngx_string("xflow_catalog_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_xflow_catalog_zone_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_catalog"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_xflow_catalog_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_tracking_plan"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_xflow_tracking_plan_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_kill"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_xflow_kill_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_future_clamp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_catalog_loc_conf_t, future),
      NULL },

    { ngx_string("xflow_historical"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_xflow_historical_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_placeholder_ids"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_placeholder_ids_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_bots"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_xflow_bots_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_bot_patterns"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_xflow_bot_patterns_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_bot_asns"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_bot_asns_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_bot_report"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_xflow_bot_report_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_plan_action"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_xflow_plan_action_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_xflow_catalog_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_xflow_catalog_create_main_conf, /* create main configuration */
    ngx_http_xflow_bots_init_main_conf,    /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_xflow_catalog_create_loc_conf, /* create location configuration */
    ngx_http_xflow_catalog_merge_loc_conf  /* merge location configuration */
};


ngx_module_t  ngx_http_xflow_catalog_module = {
    NGX_MODULE_V1,
    &ngx_http_xflow_catalog_module_ctx,    /* module context */
    ngx_http_xflow_catalog_commands,       /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_xflow_catalog_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_catalog_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->shm_zone = NULL;
     *     cmcf->cat = NULL;
     */

    return cmcf;
}


static void *
ngx_http_xflow_catalog_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_xflow_catalog_loc_conf_t  *conf;

    conf = ngx_palloc(cf->pool, sizeof(ngx_http_xflow_catalog_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->kill = NGX_CONF_UNSET_PTR;
    conf->kill_topic = NGX_CONF_UNSET_PTR;
    conf->future = NGX_CONF_UNSET_MSEC;
    conf->historical = NGX_CONF_UNSET_MSEC;
    conf->hist_topic = NGX_CONF_UNSET_UINT;
    conf->placeholders = NGX_CONF_UNSET_PTR;
    conf->bots = NGX_CONF_UNSET_UINT;
    conf->bots_topic = NGX_CONF_UNSET_UINT;
    conf->bots_dry_run = NGX_CONF_UNSET_UINT;
    conf->unknown = NGX_CONF_UNSET_UINT;
    conf->unknown_topic = NGX_CONF_UNSET_UINT;
    conf->invalid = NGX_CONF_UNSET_UINT;
    conf->invalid_topic = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_xflow_catalog_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_xflow_catalog_loc_conf_t  *prev = parent;
    ngx_http_xflow_catalog_loc_conf_t  *conf = child;

    /* marking loses nothing and shows everything: the default */
    if (conf->unknown == NGX_CONF_UNSET_UINT) {
        conf->unknown = prev->unknown;
        conf->unknown_topic = prev->unknown_topic;
    }

    if (conf->invalid == NGX_CONF_UNSET_UINT) {
        conf->invalid = prev->invalid;
        conf->invalid_topic = prev->invalid_topic;
    }

    /* kill switches: a level with any has only its own, as routes */
    if (conf->kill == NGX_CONF_UNSET_PTR) {
        conf->kill = prev->kill == NGX_CONF_UNSET_PTR ? NULL : prev->kill;
        conf->kill_topic = prev->kill_topic == NGX_CONF_UNSET_PTR
                           ? NULL : prev->kill_topic;
    }

    ngx_conf_merge_msec_value(conf->future, prev->future, 0);

    if (conf->historical == NGX_CONF_UNSET_MSEC) {
        conf->historical = prev->historical;
        conf->hist_topic = prev->hist_topic;
    }

    if (conf->historical == NGX_CONF_UNSET_MSEC) {
        conf->historical = 0;
    }

    ngx_conf_merge_ptr_value(conf->placeholders, prev->placeholders, NULL);

    if (conf->bots == NGX_CONF_UNSET_UINT) {
        conf->bots = prev->bots;
        conf->bots_topic = prev->bots_topic;
        conf->bots_dry_run = prev->bots_dry_run;
    }

    ngx_conf_init_uint_value(conf->bots, NGX_HTTP_XFLOW_HYGIENE_PASS);
    ngx_conf_init_uint_value(conf->bots_dry_run, 0);

    ngx_conf_init_uint_value(conf->unknown, NGX_HTTP_XFLOW_PLAN_MARK);
    ngx_conf_init_uint_value(conf->invalid, NGX_HTTP_XFLOW_PLAN_MARK);

    return NGX_CONF_OK;
}


/*
 * xflow_tracking_plan FILE: read and checked now, so that nginx -t
 * refuses a plan with the line of its fault, and a reload reads it
 * again.
 */
static char *
ngx_http_xflow_tracking_plan_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_main_conf_t *cmcf = conf;

    char          err[256];
    u_char       *buf;
    size_t        line, n;
    ngx_str_t    *value, name;
    xf_alloc_t    a;
    xf_status_t   st;

    if (cmcf->plan_file.len) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_http_xflow_read_conf_file(cf, &name, cf->temp_pool,
                                      "tracking plan", &buf, &n)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_http_xflow_pool_allocator(&a, cf->pool);

    st = xf_plan_parse(buf, n, &a, &cmcf->plan, err, sizeof(err),
                       &line);

    if (st != XF_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tracking plan %V:%uz: %s", &name, line,
                           st == XF_ERR_NOMEM ? "out of memory" : err);
        return NGX_CONF_ERROR;
    }

    cmcf->plan_file = name;

    return NGX_CONF_OK;
}


/* xflow_kill CONDITION... drop|dead_letter|route=TOPIC: repeatable. */
static char *
ngx_http_xflow_kill_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_loc_conf_t *clcf = conf;

    char             err[256];
    size_t           i;
    xf_str_t        *tokens;
    ngx_str_t       *value, topic;
    ngx_int_t        index;
    ngx_uint_t      *t;
    xf_alloc_t       a;
    xf_kill_rule_t  *rule;

    value = cf->args->elts;

    if (clcf->kill == NGX_CONF_UNSET_PTR) {
        clcf->kill = ngx_array_create(cf->pool, 4, sizeof(xf_kill_rule_t));
        clcf->kill_topic = ngx_array_create(cf->pool, 4, sizeof(ngx_uint_t));
        if (clcf->kill == NULL || clcf->kill_topic == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* the tokens live as long as the configuration: the rule's strings */
    tokens = ngx_palloc(cf->pool, (cf->args->nelts - 1) * sizeof(xf_str_t));
    rule = ngx_array_push(clcf->kill);
    t = ngx_array_push(clcf->kill_topic);
    if (tokens == NULL || rule == NULL || t == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        tokens[i - 1].data = value[i].data;
        tokens[i - 1].len = value[i].len;
    }

    ngx_http_xflow_pool_allocator(&a, cf->pool);

    if (xf_kill_parse(tokens, cf->args->nelts - 1, &a, rule, err,
                      sizeof(err))
        != XF_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    *t = 0;

    if (rule->action == XF_KILL_ROUTE) {
        topic.data = (u_char *) rule->topic.data;
        topic.len = rule->topic.len;

        index = ngx_http_xflow_topic_index(cf, &topic);
        if (index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        *t = (ngx_uint_t) index;
    }

    return NGX_CONF_OK;
}


/* xflow_historical AGE TOPIC */
static char *
ngx_http_xflow_historical_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_loc_conf_t *clcf = conf;

    ngx_int_t    index;
    ngx_str_t   *value;
    ngx_msec_t   age;

    if (clcf->historical != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    age = ngx_parse_time(&value[1], 0);
    if (age == (ngx_msec_t) NGX_ERROR || age == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid age \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    index = ngx_http_xflow_topic_index(cf, &value[2]);
    if (index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    clcf->historical = age;
    clcf->hist_topic = (ngx_uint_t) index;

    return NGX_CONF_OK;
}


/* xflow_placeholder_ids off | default | ID... (default: the list too) */
static char *
ngx_http_xflow_placeholder_ids_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_loc_conf_t *clcf = conf;

    size_t       k;
    xf_str_t    *id;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (clcf->placeholders != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        clcf->placeholders = NULL;
        return NGX_CONF_OK;
    }

    clcf->placeholders = ngx_array_create(cf->pool, 32, sizeof(xf_str_t));
    if (clcf->placeholders == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "default") == 0) {
            for (k = 0; xf_placeholder_ids[k]; k++) {
                id = ngx_array_push(clcf->placeholders);
                if (id == NULL) {
                    return NGX_CONF_ERROR;
                }

                id->data = (const u_char *) xf_placeholder_ids[k];
                id->len = ngx_strlen(xf_placeholder_ids[k]);
            }

            continue;
        }

        id = ngx_array_push(clcf->placeholders);
        if (id == NULL) {
            return NGX_CONF_ERROR;
        }

        id->data = value[i].data;
        id->len = value[i].len;
    }

    return NGX_CONF_OK;
}


/* unknown=ACTION invalid=ACTION: pass, mark, dead_letter, route:TOPIC */
static char *
ngx_http_xflow_plan_action_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_loc_conf_t *clcf = conf;

    ngx_int_t    index;
    ngx_str_t   *value, v, topic;
    ngx_uint_t   i, action, *which, *which_topic;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "unknown=", 8) == 0) {
            v.data = value[i].data + 8;
            v.len = value[i].len - 8;
            which = &clcf->unknown;
            which_topic = &clcf->unknown_topic;

        } else if (ngx_strncmp(value[i].data, "invalid=", 8) == 0) {
            v.data = value[i].data + 8;
            v.len = value[i].len - 8;
            which = &clcf->invalid;
            which_topic = &clcf->invalid_topic;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", expected "
                               "unknown=ACTION or invalid=ACTION",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (*which != NGX_CONF_UNSET_UINT) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is duplicate", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (v.len == 4 && ngx_strncmp(v.data, "pass", 4) == 0) {
            action = NGX_HTTP_XFLOW_PLAN_PASS;

        } else if (v.len == 4 && ngx_strncmp(v.data, "mark", 4) == 0) {
            action = NGX_HTTP_XFLOW_PLAN_MARK;

        } else if (v.len == 11
                   && ngx_strncmp(v.data, "dead_letter", 11) == 0)
        {
            action = NGX_HTTP_XFLOW_PLAN_DEAD_LETTER;

        } else if (v.len > 6 && ngx_strncmp(v.data, "route:", 6) == 0) {
            action = NGX_HTTP_XFLOW_PLAN_ROUTE;

            topic.data = v.data + 6;
            topic.len = v.len - 6;

            index = ngx_http_xflow_topic_index(cf, &topic);
            if (index == NGX_ERROR) {
                return NGX_CONF_ERROR;
            }

            *which_topic = (ngx_uint_t) index;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid action in \"%V\", expected pass, "
                               "mark, dead_letter or route:TOPIC",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        *which = action;
    }

    return NGX_CONF_OK;
}


/* xflow_catalog_zone SIZE: one zone per http{}, named xflow_catalog. */
static char *
ngx_http_xflow_catalog_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_main_conf_t *cmcf = conf;

    ssize_t     size;
    ngx_str_t  *value, name;

    if (cmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid catalog zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    /* the slab pool's own pages, and room for at least a few entries */
    if (size < (ssize_t) (16 * ngx_pagesize
                          + xf_catalog_size_for(16)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "catalog zone \"%V\" is too small, at least %uzk",
                           &value[1],
                           (16 * ngx_pagesize + xf_catalog_size_for(16))
                           / 1024 + 1);
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "xflow_catalog");

    cmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_xflow_catalog_module);
    if (cmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    cmcf->shm_zone->init = ngx_http_xflow_catalog_init_zone;
    cmcf->shm_zone->data = cmcf;

    return NGX_CONF_OK;
}


static char *
ngx_http_xflow_catalog_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_xflow_catalog_handler;

    return NGX_CONF_OK;
}


/*
 * The table in the zone's slab pool: a reload hands the old zone's
 * memory over (its table is kept when the layout matches), an existing
 * zone is seen again, or the memory is fresh.
 */
static ngx_int_t
ngx_http_xflow_catalog_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_xflow_catalog_main_conf_t *ocmcf = data;

    size_t                               size;
    uint64_t                             seed;
    ngx_slab_pool_t                     *shpool;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    cmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    /* the slab pool's header and page table stay in the zone */
    size = shm_zone->shm.size - shm_zone->shm.size / 64 - 8 * ngx_pagesize;
    size = xf_catalog_size_for(xf_catalog_capacity_for(size));

    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t) sizeof(seed)) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, ngx_errno,
                      "xflow_catalog_zone: getrandom() failed");
        return NGX_ERROR;
    }

    if ((ocmcf == NULL || ocmcf->cat == NULL) && !shm_zone->shm.exists) {
        shpool->data = ngx_slab_alloc(shpool, size);
        if (shpool->data == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "xflow_catalog_zone: no room for %uz bytes",
                          size);
            return NGX_ERROR;
        }

        /* fresh memory is not a table: no stale header to mistake */
        ngx_memzero(shpool->data, size);
    }

    cmcf->cat = xf_catalog_init(shpool->data, size, seed, ngx_time());

    if (cmcf->cat == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "xflow_catalog_zone is too small");
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_xflow_catalog_record(ngx_http_request_t *r, xf_format_t format,
    const xf_event_t *events, size_t n, const xf_catalog_plan_t *plan)
{
    size_t                               i;
    time_t                               now;
    uint32_t                             used;
    ngx_uint_t                           evicted;
    ngx_slab_pool_t                     *shpool;
    xf_catalog_event_t                   ev;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_catalog_module);

    if (cmcf->cat == NULL || n == 0) {
        return;
    }

    shpool = (ngx_slab_pool_t *) cmcf->shm_zone->shm.addr;
    now = ngx_time();
    evicted = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < n; i++) {
        ev.app = events[i].app;
        ev.name = events[i].name;
        ev.format = format;
        ev.p = events[i].p;
        ev.len = events[i].len;
        ev.error = events[i].error;
        ev.plan = plan ? plan[i] : XF_CATALOG_PLAN_NONE;

        evicted += xf_catalog_record(cmcf->cat, &ev, (uint64_t) now);
    }

    used = xf_catalog_used(cmcf->cat);

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_http_xflow_metric_set(XF_M_CATALOG_ENTRIES, 0, 0, used);

    if (evicted) {
        ngx_http_xflow_metric_add(XF_M_CATALOG_EVICTED, 0, 0, evicted);
    }
}
