/*
 * ngx_http_xflow_limit_module.c - token-bucket limits shared by all
 * workers (rate_limit/, GCRA over a table in shared memory), and the
 * report SRE use to tune them and to write WAF rules.
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
 * that topic instead of being refused (hot-key isolation).
 *
 * The table lives in the zone's slab pool and survives a reload with the
 * same zone size (xrl_table_init reuses it).  No lock anywhere: every
 * decision is one compare-and-swap on the key's 64-bit state.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_variables.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_metrics_module.h"

#include "xrl.h"

#include <sys/random.h>


#define NGX_HTTP_XFLOW_LIMIT_REQUESTS  0
#define NGX_HTTP_XFLOW_LIMIT_EVENTS    1


typedef struct {
    ngx_str_t                   name;
    ngx_http_complex_value_t    key;
    ngx_uint_t                  unit;       /* requests or events */
    uint64_t                    rate;
    uint64_t                    period_ns;
    uint64_t                    burst;
    ngx_str_t                   overflow;   /* topic, may be empty */
    ngx_uint_t                  overflow_index;
    ngx_uint_t                  metric;     /* zone label of the metrics */
    ngx_uint_t                  on_full;    /* xrl_full_action_t: full= */
    time_t                      full_logged;    /* per process */
    ngx_shm_zone_t             *shm_zone;
    xrl_table_t                *table;      /* per process, after init */
} ngx_http_xflow_limit_zone_t;


typedef struct {
    ngx_http_xflow_limit_zone_t  *zone;
    ngx_uint_t                    dry_run;
} ngx_http_xflow_limit_t;


typedef struct {
    ngx_array_t                  *limits;   /* of ngx_http_xflow_limit_t */
    ngx_flag_t                    report;
} ngx_http_xflow_limit_loc_conf_t;


typedef struct {
    ngx_array_t                   zones;    /* of zone pointers */
    size_t                        max_inflight;     /* per worker, 0: off */
} ngx_http_xflow_limit_main_conf_t;


/* Decoded bytes held by this worker's requests in progress. */
static size_t  ngx_http_xflow_inflight;


/* What the request's limits decided, for the access log. */
typedef struct {
    ngx_uint_t                    status;   /* NGX_HTTP_XFLOW_LIMIT_* */
    ngx_http_xflow_limit_zone_t  *zone;     /* that decided it */
    uint64_t                      retry_after;  /* s, when refused */
} ngx_http_xflow_limit_ctx_t;


static ngx_int_t ngx_http_xflow_limit_check(ngx_http_request_t *r,
    ngx_uint_t unit, uint64_t cost, ngx_uint_t *overflow);
static ngx_int_t ngx_http_xflow_limit_headers(ngx_http_request_t *r,
    ngx_http_xflow_limit_zone_t *zone, xrl_decision_t *d);
static uint64_t ngx_http_xflow_limit_now(void);
static ngx_http_xflow_limit_ctx_t *ngx_http_xflow_limit_ctx(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_xflow_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static char *ngx_http_xflow_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_xflow_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_xflow_limit_report(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_xflow_limit_report_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_xflow_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_xflow_limit_add_variables(ngx_conf_t *cf);
static void *ngx_http_xflow_limit_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_limit_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_xflow_limit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_limit_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_command_t  ngx_http_xflow_limit_commands[] = {

    { ngx_string("xflow_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_xflow_limit_zone,
      0,
      0,
      NULL },

    { ngx_string("xflow_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_xflow_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_max_decoded_in_flight"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_xflow_limit_main_conf_t, max_inflight),
      NULL },

    { ngx_string("xflow_limit_report"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_xflow_limit_report,
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


static ngx_str_t  ngx_http_xflow_limit_status_names[] = {
    ngx_string(""),
    ngx_string("PASSED"),
    ngx_string("REJECTED"),
    ngx_string("REJECTED_DRY_RUN"),
    ngx_string("OVERFLOW")
};


static ngx_http_variable_t  ngx_http_xflow_limit_vars[] = {

    { ngx_string("xflow_limit_status"), NULL,
      ngx_http_xflow_limit_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_limit_zone"), NULL,
      ngx_http_xflow_limit_variable, 1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/*
 * Requests: called when the collection handler starts.  Returns NGX_OK
 * (go on) or NGX_DECLINED (refused: the caller answers with the retry
 * status; the rate-limit headers are already set).
 */
ngx_int_t
ngx_http_xflow_limit_requests(ngx_http_request_t *r)
{
    return ngx_http_xflow_limit_check(r, NGX_HTTP_XFLOW_LIMIT_REQUESTS, 1,
                                      NULL);
}


/*
 * Events: called once the upload is decoded, with the number of valid
 * events.  Returns NGX_OK, NGX_DECLINED (refused), or NGX_BUSY: over a
 * limit with overflow=, *overflow is the topic index for every event.
 */
/* Seconds the refusing limit asks a client to wait; 0 when none did. */
uint64_t
ngx_http_xflow_limit_retry_after(ngx_http_request_t *r)
{
    ngx_http_xflow_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_limit_module);

    return ctx ? ctx->retry_after : 0;
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
            /*
             * Every slot holds a key still active: this one is not
             * metered, and the zone's full= says what it gets.  Counted,
             * and logged at most once a second per worker and zone.
             */
            ngx_http_xflow_metric_add(XF_M_RATELIMIT_DECISIONS, zone->metric,
                                      XF_METRICS_LIMIT_TABLE_FULL, 1);

            if (zone->full_logged != ngx_time()) {
                zone->full_logged = ngx_time();
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "xflow_limit_zone \"%V\" is full of active "
                              "keys: a new key is %s (full=%s), make the "
                              "zone larger", &zone->name,
                              zone->on_full == XRL_FULL_DENY
                              ? "refused" : "not limited",
                              zone->on_full == XRL_FULL_DENY
                              ? "deny" : "allow");
            }

            if (d.allowed) {
                if (ctx->status == NGX_HTTP_XFLOW_LIMIT_NONE) {
                    ctx->status = NGX_HTTP_XFLOW_LIMIT_PASSED;
                    ctx->zone = zone;
                }

                continue;
            }

            ctx->zone = zone;
            ctx->status = NGX_HTTP_XFLOW_LIMIT_REJECTED;

            if (ngx_http_xflow_limit_headers(r, zone, &d) != NGX_OK) {
                return NGX_ERROR;
            }

            return NGX_DECLINED;
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

        ctx->status = NGX_HTTP_XFLOW_LIMIT_REJECTED;

        ngx_http_xflow_metric_add(XF_M_RATELIMIT_DECISIONS, zone->metric,
                                  XF_METRICS_LIMIT_REJECTED, 1);

        if (ngx_http_xflow_limit_headers(r, zone, &d) != NGX_OK) {
            return NGX_ERROR;
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
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
    u_char                      *p;
    uint64_t                     retry, reset;
    ngx_table_elt_t             *h;
    ngx_http_xflow_limit_ctx_t  *ctx;

    retry = d->retry_after_ns == XRL_RETRY_NEVER
            ? 60 : (d->retry_after_ns + 999999999) / 1000000000;
    reset = (d->reset_ns + 999999999) / 1000000000;

    if (retry == 0) {
        retry = 1;
    }

    p = ngx_pnalloc(r->pool, 3 * NGX_INT64_LEN + 2 * zone->name.len + 64);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* Retry-After itself is written with the answer (reply_retry) */
    ctx = ngx_http_xflow_limit_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->retry_after = retry;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "RateLimit-Policy");
    h->value.data = p;
    p = ngx_sprintf(p, "\"%V\";q=%uL;w=%uL", &zone->name, zone->rate,
                    zone->period_ns / 1000000000);
    h->value.len = p - h->value.data;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "RateLimit");
    h->value.data = p;
    p = ngx_sprintf(p, "\"%V\";r=%uL;t=%uL", &zone->name, d->remaining,
                    reset);
    h->value.len = p - h->value.data;

    return NGX_OK;
}


static uint64_t
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


static ngx_int_t
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


static ngx_int_t
ngx_http_xflow_limit_add_variables(ngx_conf_t *cf)
{
    return ngx_http_xflow_register_variables(cf, ngx_http_xflow_limit_vars);
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

    if (ozone && ozone->table) {
        /* reload: the old zone's memory, the table at the same place */
        size = xrl_table_size_for(conf.capacity);
        st = xrl_table_init(shpool->data, size, &conf, &zone->table, &how);

        if (st != XRL_OK) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "xflow_limit_zone \"%V\": %s", &shm_zone->shm.name,
                          xrl_strerror(st));
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    size = xrl_table_size_for(conf.capacity);

    if (shm_zone->shm.exists) {
        st = xrl_table_init(shpool->data, size, &conf, &zone->table, &how);
        return st == XRL_OK ? NGX_OK : NGX_ERROR;
    }

    shpool->data = ngx_slab_alloc(shpool, size);
    if (shpool->data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "xflow_limit_zone \"%V\": no room for %uz bytes",
                      &shm_zone->shm.name, size);
        return NGX_ERROR;
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


/* "50r/s", "600r/m", "20000e/s", "1000e/m" */
static ngx_int_t
ngx_http_xflow_limit_parse_rate(ngx_str_t *s, ngx_http_xflow_limit_zone_t *z)
{
    u_char     *p, *last;
    ngx_int_t   n;

    last = s->data + s->len;

    for (p = s->data; p < last && *p >= '0' && *p <= '9'; p++) {
        /* void */
    }

    if (p == s->data || last - p != 3 || p[1] != '/') {
        return NGX_ERROR;
    }

    n = ngx_atoi(s->data, p - s->data);
    if (n <= 0) {
        return NGX_ERROR;
    }

    z->rate = n;

    switch (p[0]) {
    case 'r':
        z->unit = NGX_HTTP_XFLOW_LIMIT_REQUESTS;
        break;
    case 'e':
        z->unit = NGX_HTTP_XFLOW_LIMIT_EVENTS;
        break;
    default:
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
ngx_http_xflow_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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
                                   "50r/s, 600r/m, 20000e/s or 1000e/m",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
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
ngx_http_xflow_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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

    if (llcf->limits == NULL || llcf->limits == NGX_CONF_UNSET_PTR) {
        llcf->limits = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_xflow_limit_t));
        if (llcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
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
ngx_http_xflow_limit_report(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_xflow_limit_report_handler;

    return NGX_CONF_OK;
}


#define NGX_HTTP_XFLOW_LIMIT_TOP  20


/*
 * A key as a report shows it: $binary_remote_addr keys (4 or 16 bytes
 * that are not text) as the address they hold, anything else escaped.
 */
static u_char *
ngx_http_xflow_limit_key_text(u_char *p, xrl_key_report_t *kr)
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
static ngx_int_t
ngx_http_xflow_limit_report_handler(ngx_http_request_t *r)
{
    u_char                             *p;
    size_t                              size;
    uint64_t                            now, recent[XRL_RESULT_MAX];
    ngx_int_t                           rc;
    ngx_buf_t                          *b;
    ngx_uint_t                          i, j, k, n, nz;
    ngx_chain_t                         out;
    xrl_stats_t                         st;
    xrl_usage_t                         u;
    xrl_key_report_t                   *top;
    ngx_http_xflow_limit_zone_t       **zones, *z;
    ngx_http_xflow_limit_main_conf_t   *lmcf;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
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
                        ? "events" : "requests",
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
            p = ngx_http_xflow_limit_key_text(p, &top[j]);
            p = ngx_sprintf(p, "\",\"rejected\":%uL,\"rejected_dry_run\":%uL,"
                            "\"passed\":%uL}", top[j].rejected,
                            top[j].rejected_dry_run, top[j].passed);
        }

        p = ngx_sprintf(p, "]}");
    }

    p = ngx_sprintf(p, "]}\n");
    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = sizeof("application/json") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
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

    return lmcf;
}


static char *
ngx_http_xflow_limit_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_xflow_limit_main_conf_t  *lmcf = conf;

    ngx_conf_init_size_value(lmcf->max_inflight, 512 * 1024 * 1024);

    return NGX_CONF_OK;
}


/*
 * Decoded bytes in flight: what this worker's requests hold of decoded
 * bodies and nested layers, from the first decoded byte to the end of
 * the request.  A slow client that sent a small compressed body holds
 * its decoded bytes while it drips the rest: many of them could hold the
 * worker's memory.  NGX_DECLINED: over xflow_max_decoded_in_flight, the
 * request is to be refused with the retry status.
 */
ngx_int_t
ngx_http_xflow_inflight_charge(ngx_http_request_t *r, size_t n)
{
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_limit_module);

    if (lmcf->max_inflight != 0
        && n > lmcf->max_inflight - ngx_min(ngx_http_xflow_inflight,
                                            lmcf->max_inflight))
    {
        ngx_http_xflow_metric_add(XF_M_DECODED_INFLIGHT_REFUSED, 0, 0, 1);
        return NGX_DECLINED;
    }

    ngx_http_xflow_inflight += n;
    ngx_http_xflow_metric_set(XF_M_DECODED_INFLIGHT, 0, 0,
                              ngx_http_xflow_inflight);

    return NGX_OK;
}


void
ngx_http_xflow_inflight_release(size_t n)
{
    ngx_http_xflow_inflight -= ngx_min(n, ngx_http_xflow_inflight);
    ngx_http_xflow_metric_set(XF_M_DECODED_INFLIGHT, 0, 0,
                              ngx_http_xflow_inflight);
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
