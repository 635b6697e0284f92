/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_limit_module.c - token-bucket limits shared by all
 * workers (rate_limit/, GCRA over a table in shared memory), and the
 * report SRE use to tune them and to write WAF rules: the directives,
 * the configuration and the zones' tables.
 *
 *   xflow_limit_zone NAME:SIZE key=$binary_remote_addr rate=50r/s burst=100;
 *   xflow_limit_zone apps:1m key=$xflow_app rate=20000e/s burst=40000
 *                    overflow=events_overflow;
 *   xflow_limit NAME [dry_run];
 *   xflow_limit_report;
 *
 * r/s and r/m zones count requests and are checked when the collection
 * handler starts, before the body is read: a refused request costs no
 * decoding.  e/s and e/m zones count events and are checked once the
 * upload is decoded; with overflow=TOPIC, events over the limit go to
 * that topic instead of being refused (hot-key isolation).  The checks
 * are in ngx_http_xflow_limit.c, the report in _limit_report.c.  B/s
 * and B/m zones count decoded bytes, checked with the events: a small
 * compressed upload can make hundreds of times its size in Kafka.
 *
 * The table lives in the zone's slab pool and survives a reload with the
 * same zone size (xrl_table_init reuses it).  No lock anywhere: every
 * decision is one compare-and-swap on the key's 64-bit state.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_variables.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_metrics_module.h"
#include "ngx_http_xflow_util.h"
#include "ngx_http_xflow_topic.h"

#include "xrl.h"
#include "xrl_share.h"

#include <sys/random.h>


static ngx_int_t ngx_http_xflow_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static char *ngx_http_xflow_limit_zone_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_limit_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_limit_report_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_xflow_limit_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_xflow_limit_init_share(ngx_shm_zone_t *shm_zone,
    void *data);
static void *ngx_http_xflow_limit_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_limit_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_xflow_limit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_limit_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_command_t  ngx_http_xflow_limit_commands[] = {

    { ngx_string("xflow_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_xflow_limit_zone_directive,
      0,
      0,
      NULL },

    { ngx_string("xflow_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_xflow_limit_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_max_decoded_in_flight"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_xflow_limit_main_conf_t, max_inflight),
      NULL },

    { ngx_string("xflow_max_decoded_per_client"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_xflow_limit_main_conf_t, per_client),
      NULL },

    { ngx_string("xflow_limit_report"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_xflow_limit_report_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_xflow_limit_module_ctx = {
    ngx_http_xflow_limit_add_variables,    /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_xflow_limit_create_main_conf, /* create main configuration */
    ngx_http_xflow_limit_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_xflow_limit_create_loc_conf,  /* create location configuration */
    ngx_http_xflow_limit_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_xflow_limit_module = {
    NGX_MODULE_V1,
    &ngx_http_xflow_limit_module_ctx,      /* module context */
    ngx_http_xflow_limit_commands,         /* module directives */
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


static ngx_http_variable_t  ngx_http_xflow_limit_vars[] = {

    { ngx_string("xflow_limit_status"), NULL,
      ngx_http_xflow_limit_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_limit_zone"), NULL,
      ngx_http_xflow_limit_variable, 1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_xflow_limit_add_variables(ngx_conf_t *cf)
{
    return ngx_http_xflow_variables_register(cf, ngx_http_xflow_limit_vars);
}


/*
 * The zone's table, in its slab pool.  Three cases, as limit_req: a
 * reload with the old zone (its table is reused when the size and policy
 * match: xrl_table_init keeps a compatible table), an existing zone seen
 * again (shm.exists), or fresh memory.
 */
static ngx_int_t
ngx_http_xflow_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_xflow_limit_zone_t *ozone = data;

    size_t                        size;
    uint64_t                      seed[2];
    xrl_conf_t                    conf;
    xrl_init_t                    how;
    xrl_status_t                  st;
    ngx_slab_pool_t              *shpool;
    ngx_http_xflow_limit_zone_t  *zone;

    zone = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    ngx_memzero(&conf, sizeof(xrl_conf_t));

    /*
     * The slab pool keeps its header and a page table (one entry per
     * page, under 1/64 of the zone) in the zone itself.
     */
    size = shm_zone->shm.size - shm_zone->shm.size / 64 - 8 * ngx_pagesize;
    conf.capacity = xrl_table_capacity_for(size);
    conf.probe = 0;
    conf.rate = zone->rate;
    conf.period_ns = zone->period_ns;
    conf.burst = zone->burst;
    conf.on_full = (xrl_full_action_t) zone->on_full;

    /* the SipHash key: 128 bits no client can know */
    if (getrandom(seed, sizeof(seed), 0) != (ssize_t) sizeof(seed)) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, ngx_errno,
                      "xflow_limit_zone \"%V\": getrandom() failed",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    conf.seed = seed[0];
    conf.seed_hi = seed[1];
    if (conf.capacity == 0) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "xflow_limit_zone \"%V\" is too small",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    size = xrl_table_size_for(conf.capacity);

    /*
     * A reload finds the old zone's memory and an existing zone its own:
     * the table is at the same place.  Fresh memory gets a new table.
     */
    if ((ozone == NULL || ozone->table == NULL) && !shm_zone->shm.exists) {
        shpool->data = ngx_slab_alloc(shpool, size);
        if (shpool->data == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "xflow_limit_zone \"%V\": no room for %uz bytes",
                          &shm_zone->shm.name, size);
            return NGX_ERROR;
        }
    }

    st = xrl_table_init(shpool->data, size, &conf, &zone->table, &how);

    if (st != XRL_OK) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "xflow_limit_zone \"%V\": %s", &shm_zone->shm.name,
                      xrl_strerror(st));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * "50r/s", "600r/m", "20000e/s", "1000e/m"; bytes: "2MB/s", "500kB/s",
 * "100000B/m" (k, m and g are 1024, 1024^2 and 1024^3, either case).
 */
static ngx_int_t
ngx_http_xflow_limit_parse_rate(ngx_str_t *s, ngx_http_xflow_limit_zone_t *z)
{
    u_char     *p, *last;
    uint64_t    scale;
    ngx_int_t   n;

    last = s->data + s->len;

    for (p = s->data; p < last && *p >= '0' && *p <= '9'; p++) {
        /* void */
    }

    if (p == s->data) {
        return NGX_ERROR;
    }

    n = ngx_atoi(s->data, p - s->data);
    if (n <= 0) {
        return NGX_ERROR;
    }

    scale = 1;

    if (last - p == 4) {
        switch (p[0]) {
        case 'k': case 'K':
            scale = 1024;
            break;
        case 'm': case 'M':
            scale = 1024 * 1024;
            break;
        case 'g': case 'G':
            scale = 1024 * 1024 * 1024;
            break;
        default:
            return NGX_ERROR;
        }

        if (p[1] != 'B') {
            return NGX_ERROR;
        }

        p++;
    }

    if (last - p != 3 || p[1] != '/') {
        return NGX_ERROR;
    }

    if ((uint64_t) n > UINT64_MAX / 2 / scale) {
        return NGX_ERROR;
    }

    z->rate = (uint64_t) n * scale;

    switch (p[0]) {
    case 'r':
        z->unit = NGX_HTTP_XFLOW_LIMIT_REQUESTS;
        break;
    case 'e':
        z->unit = NGX_HTTP_XFLOW_LIMIT_EVENTS;
        break;
    case 'B':
        z->unit = NGX_HTTP_XFLOW_LIMIT_BYTES;
        break;
    default:
        return NGX_ERROR;
    }

    if (scale != 1 && z->unit != NGX_HTTP_XFLOW_LIMIT_BYTES) {
        return NGX_ERROR;
    }

    switch (p[2]) {
    case 's':
        z->period_ns = 1000000000ULL;
        break;
    case 'm':
        z->period_ns = 60000000000ULL;
        break;
    default:
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_xflow_limit_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    u_char                             *p;
    ssize_t                             size;
    ngx_int_t                           n, index;
    ngx_str_t                          *value, name, s;
    ngx_uint_t                          i;
    xrl_conf_t                          xc;
    xrl_status_t                        st;
    ngx_http_xflow_limit_zone_t        *zone, **zp;
    ngx_http_xflow_limit_main_conf_t   *lmcf;
    ngx_http_compile_complex_value_t    ccv;

    value = cf->args->elts;

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_limit_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    /* NAME:SIZE */

    p = (u_char *) ngx_strchr(value[1].data, ':');
    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", expected NAME:SIZE",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR || size < (ssize_t) (16 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small or invalid, at least "
                           "%uz bytes", &value[1], 16 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    zone->name = name;
    zone->burst = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = &zone->key;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (ngx_http_xflow_limit_parse_rate(&s, zone) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\", expected like "
                                   "50r/s, 600r/m, 20000e/s, 1000e/m or "
                                   "2MB/s",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            /* a size for bytes: burst=8m */
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;
            n = ngx_parse_size(&s);
            if (n <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            zone->burst = n;
            continue;
        }

        if (ngx_strcmp(value[i].data, "full=allow") == 0) {
            zone->on_full = XRL_FULL_ALLOW;
            continue;
        }

        if (ngx_strcmp(value[i].data, "full=deny") == 0) {
            zone->on_full = XRL_FULL_DENY;
            continue;
        }

        if (ngx_strncmp(value[i].data, "overflow=", 9) == 0) {
            zone->overflow.data = value[i].data + 9;
            zone->overflow.len = value[i].len - 9;

            if (zone->overflow.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (zone->key.value.len == 0 || zone->rate == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs key= and rate=", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (zone->burst == 0) {
        /* no burst given: one period's worth */
        zone->burst = zone->rate;
    }

    if (zone->unit == NGX_HTTP_XFLOW_LIMIT_REQUESTS
        && ngx_strlcasestrn(zone->key.value.data,
                            zone->key.value.data + zone->key.value.len,
                            (u_char *) "$xflow_app", 10 - 1)
           != NULL)
    {
        /* requests are checked before the body names its app */
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": $xflow_app is known only once the "
                           "body is read, a requests rate keyed on it "
                           "would never limit: count events (e/s) or "
                           "bytes (B/s)", &name);
        return NGX_CONF_ERROR;
    }

    if (zone->overflow.len && zone->unit != NGX_HTTP_XFLOW_LIMIT_EVENTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "overflow= needs an events rate (e/s or e/m): "
                           "requests over a limit have no events yet");
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&xc, sizeof(xrl_conf_t));
    xc.capacity = 1;
    xc.rate = zone->rate;
    xc.period_ns = zone->period_ns;
    xc.burst = zone->burst;

    st = xrl_conf_check(&xc);
    if (st != XRL_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rate and burst of \"%V\": %s", &name,
                           xrl_strerror(st));
        return NGX_CONF_ERROR;
    }

    if (zone->overflow.len) {
        index = ngx_http_xflow_topic_index(cf, &zone->overflow);
        if (index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        zone->overflow_index = index;
    }

    if (ngx_http_xflow_metrics_add_label(cf, XF_DIM_ZONE, &name,
                                         &zone->metric)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    zone->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_xflow_limit_module);
    if (zone->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (zone->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    zone->shm_zone->init = ngx_http_xflow_limit_init_zone;
    zone->shm_zone->data = zone;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_limit_module);

    zp = ngx_array_push(&lmcf->zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_xflow_limit_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_limit_loc_conf_t *llcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_xflow_limit_t            *lim;
    ngx_http_xflow_limit_zone_t      **zones;
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    value = cf->args->elts;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_limit_module);
    zones = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->name.len == value[1].len
            && ngx_strncmp(zones[i]->name.data, value[1].data, value[1].len)
               == 0)
        {
            break;
        }
    }

    if (i == lmcf->zones.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown xflow_limit_zone \"%V\" (zones must be "
                           "defined before they are used)", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_xflow_pool_array(cf->pool, &llcf->limits, 2,
                                  sizeof(ngx_http_xflow_limit_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    lim = ngx_array_push(llcf->limits);
    if (lim == NULL) {
        return NGX_CONF_ERROR;
    }

    lim->zone = zones[i];
    lim->dry_run = 0;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "dry_run") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", expected dry_run",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        lim->dry_run = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_xflow_limit_report_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_xflow_limit_report_handler;

    return NGX_CONF_OK;
}


static void *
ngx_http_xflow_limit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_limit_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lmcf->zones, cf->pool, 4,
                       sizeof(ngx_http_xflow_limit_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    lmcf->max_inflight = NGX_CONF_UNSET_SIZE;
    lmcf->per_client = NGX_CONF_UNSET_SIZE;

    return lmcf;
}


static char *
ngx_http_xflow_limit_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_xflow_limit_main_conf_t  *lmcf = conf;

    static ngx_str_t  name = ngx_string("xflow_decoded_share");

    ngx_conf_init_size_value(lmcf->max_inflight, 512 * 1024 * 1024);

    /* unset stays unset: the share is then sized per location, from its
     * xflow_max_decoded (client_share, ngx_http_xflow_module.c) */

    if (lmcf->per_client == 0) {
        return NGX_CONF_OK;
    }

    lmcf->share_zone = ngx_shared_memory_add(cf, &name,
                                             NGX_HTTP_XFLOW_SHARE_ZONE,
                                             &ngx_http_xflow_limit_module);
    if (lmcf->share_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    lmcf->share_zone->init = ngx_http_xflow_limit_init_share;
    lmcf->share_zone->data = lmcf;

    return NGX_CONF_OK;
}


/*
 * The decoded bytes each client address and each connection holds, for
 * all workers: two rows of NGX_HTTP_XFLOW_SHARE_WIDTH counters.  A
 * reload keeps them (the same zone and size): requests of the old
 * workers give their bytes back to the same counters.
 */
static ngx_int_t
ngx_http_xflow_limit_init_share(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_xflow_limit_main_conf_t *olmcf = data;

    size_t                             size;
    uint64_t                           seed[2];
    ngx_slab_pool_t                   *shpool;
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    lmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (olmcf && olmcf->share) {
        lmcf->share = olmcf->share;
        return NGX_OK;
    }

    if (getrandom(seed, sizeof(seed), 0) != (ssize_t) sizeof(seed)) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, ngx_errno,
                      "xflow_decoded_share: getrandom() failed");
        return NGX_ERROR;
    }

    size = xrl_share_size(NGX_HTTP_XFLOW_SHARE_WIDTH);

    shpool->data = ngx_slab_calloc(shpool, size);
    if (shpool->data == NULL) {
        return NGX_ERROR;
    }

    lmcf->share = xrl_share_init(shpool->data, NGX_HTTP_XFLOW_SHARE_WIDTH,
                                 seed[0], seed[1]);

    return NGX_OK;
}


static void *
ngx_http_xflow_limit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_xflow_limit_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_limit_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->limits = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_xflow_limit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_xflow_limit_loc_conf_t *prev = parent;
    ngx_http_xflow_limit_loc_conf_t *conf = child;

    /* as limit_req: a level with its own xflow_limit replaces the outer */
    ngx_conf_merge_ptr_value(conf->limits, prev->limits, NULL);

    return NGX_CONF_OK;
}
