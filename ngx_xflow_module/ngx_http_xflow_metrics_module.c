/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_metrics_module.c - xflow's counters in shared memory and
 * the "xflow_metrics" location handler that renders them for Prometheus.
 *
 *   config read --> registry (formats, codes, topics, zones, ...)
 *   postconfiguration --> layout frozen --> zone "xflow_metrics_<hash>"
 *   init_zone: same layout reloaded: reuse | fresh: zero, carry old counts
 *   workers: ngx_http_xflow_metric_add() -> own slot, atomic add
 *   GET /metrics: sum the slots -> text/plain; version=0.0.4
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_metrics_module.h"
#include "ngx_http_xflow_util.h"
#include "ngx_http_xflow_ledger.h"


typedef struct ngx_http_xflow_metrics_main_conf_s
    ngx_http_xflow_metrics_main_conf_t;

struct ngx_http_xflow_metrics_main_conf_s {
    xf_alloc_t                           alloc;     /* cf->pool */
    xf_metrics_t                        *reg;
    ngx_shm_zone_t                      *shm_zone;
    void                                *mem;       /* in the zone */
    ngx_http_xflow_metrics_main_conf_t  *old;       /* another layout */
    ngx_uint_t                           used;
    unsigned                             frozen:1;
};


typedef void (*ngx_http_xflow_metrics_write_pt)(const xf_metrics_t *m,
    void *mem, size_t slot, xf_metric_id_t id, size_t l0, size_t l1,
    uint64_t v);


static ngx_int_t ngx_http_xflow_metrics_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_xflow_metrics_log_handler(ngx_http_request_t *r);
static void ngx_http_xflow_metrics_receipts(ngx_http_xflow_ctx_t *ctx,
    ngx_uint_t format);
static ngx_int_t ngx_http_xflow_metrics_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_xflow_metrics_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_xflow_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_xflow_metrics_main_conf_t *
    ngx_http_xflow_metrics_old_conf(ngx_conf_t *cf,
    ngx_http_xflow_metrics_main_conf_t *mcf);
static char *ngx_http_xflow_metrics_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_xflow_metrics_init_process(ngx_cycle_t *cycle);
static void ngx_http_xflow_metrics_rss(void);
static ngx_int_t ngx_http_xflow_metrics_build_info(ngx_http_request_t *r,
    xf_buf_t *text);


static ngx_command_t  ngx_http_xflow_metrics_commands[] = {

    { ngx_string("xflow_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_xflow_metrics_directive,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_xflow_metrics_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_xflow_metrics_postconfiguration, /* postconfiguration */

    ngx_http_xflow_metrics_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_xflow_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_xflow_metrics_module_ctx,    /* module context */
    ngx_http_xflow_metrics_commands,       /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_xflow_metrics_init_process,   /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * This process's view, set in init_process: the registry (inherited from
 * the master, read-only), the zone, and this worker's slot.
 */
static xf_metrics_t  *ngx_http_xflow_metrics_reg;
static void          *ngx_http_xflow_metrics_mem;
static ngx_uint_t     ngx_http_xflow_metrics_slot;
static xf_kafka_stats_last_t  ngx_http_xflow_metrics_last;  /* report's */
static time_t         ngx_http_xflow_metrics_rss_time;


static void *
ngx_http_xflow_metrics_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_xflow_metrics_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_metrics_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->shm_zone = NULL;
     *     mcf->mem = NULL;
     *     mcf->old = NULL;
     *     mcf->used = 0;
     *     mcf->frozen = 0;
     */

    ngx_http_xflow_pool_allocator(&mcf->alloc, cf->pool);

    if (xf_metrics_create(&mcf->reg, &mcf->alloc) != XF_OK) {
        return NULL;
    }

    return mcf;
}


ngx_int_t
ngx_http_xflow_metrics_add_label(ngx_conf_t *cf, ngx_uint_t dim,
    ngx_str_t *value, ngx_uint_t *index)
{
    size_t                               i;
    xf_status_t                          st;
    ngx_http_xflow_metrics_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                             ngx_http_xflow_metrics_module);

    if (mcf->frozen || dim != XF_DIM_ZONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "xflow metrics: label \"%V\" cannot be "
                           "registered here", value);
        return NGX_ERROR;
    }

    st = xf_metrics_add_label(mcf->reg, dim, value->data, value->len, &i);

    if (st != XF_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "xflow metrics: label \"%V\": %s "
                           "(at most %d values of %d bytes)", value,
                           xf_strerror(st), XF_METRICS_DYN_MAX,
                           XF_METRICS_VALUE_MAX);
        return NGX_ERROR;
    }

    mcf->used = 1;
    *index = i;

    return NGX_OK;
}


static char *
ngx_http_xflow_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t            *clcf;
    ngx_http_xflow_metrics_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                             ngx_http_xflow_metrics_module);
    mcf->used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_xflow_metrics_handler;

    return NGX_CONF_OK;
}


/*
 * Every merge is done when postconfiguration runs: the collection
 * module's topics are all known, so the layout can be frozen and the
 * zone sized.
 */
static ngx_int_t
ngx_http_xflow_metrics_postconfiguration(ngx_conf_t *cf)
{
    size_t                               i, idx, size;
    ngx_str_t                            name, *topic;
    ngx_int_t                            nslots;
    xf_status_t                          st;
    ngx_core_conf_t                     *ccf;
    ngx_http_handler_pt                 *h;
    ngx_http_core_main_conf_t           *cmcf;
    ngx_http_xflow_main_conf_t          *xmcf;
    ngx_http_xflow_metrics_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                             ngx_http_xflow_metrics_module);
    xmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    mcf->frozen = 1;

    if (!mcf->used && !xmcf->enabled) {
        return NGX_OK;
    }

    topic = xmcf->topics.elts;

    for (i = 0; i < xmcf->topics.nelts; i++) {
        st = xf_metrics_add_label(mcf->reg, XF_DIM_TOPIC, topic[i].data,
                                  topic[i].len, &idx);

        /* the index must be the location's topic_index */
        if (st != XF_OK || idx != i) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "xflow metrics: topic \"%V\": %s",
                               &topic[i], xf_strerror(st));
            return NGX_ERROR;
        }
    }

    /*
     * One slot per worker.  worker_processes may follow the http block,
     * or be "auto": then the CPU count is the best guess, and workers
     * beyond the slots share them (counts stay right, per-worker gauges
     * mix).
     */
    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    nslots = ccf->worker_processes != NGX_CONF_UNSET
             ? ccf->worker_processes : ngx_ncpu;

    if (nslots == 0) {
        nslots = 1;
    }

    if (xf_metrics_layout(mcf->reg, nslots) != XF_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "xflow metrics: %i workers are too many", nslots);
        return NGX_ERROR;
    }

    /*
     * The layout's hash is in the zone's name: a reload with the same
     * layout finds its zone and keeps it, another layout gets a new one.
     * The slab pool needs its header and page descriptors besides the
     * cells: 8 pages are plenty.
     */
    name.data = ngx_pnalloc(cf->pool, sizeof("xflow_metrics_") - 1 + 16);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    name.len = ngx_sprintf(name.data, "xflow_metrics_%016xL",
                           xf_metrics_hash(mcf->reg))
               - name.data;

    size = ngx_align(xf_metrics_size(mcf->reg), ngx_pagesize)
           + 8 * ngx_pagesize;

    mcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                          &ngx_http_xflow_metrics_module);
    if (mcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    mcf->shm_zone->init = ngx_http_xflow_metrics_init_zone;
    mcf->shm_zone->data = mcf;

    mcf->old = ngx_http_xflow_metrics_old_conf(cf, mcf);

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_xflow_metrics_log_handler;

    return NGX_OK;
}


/*
 * The running configuration's zone when its layout differs from ours:
 * its counts are carried into the new zone.  While the configuration is
 * read, ngx_cycle is still the running cycle (the init cycle, without
 * zones, at the first start).
 */
static ngx_http_xflow_metrics_main_conf_t *
ngx_http_xflow_metrics_old_conf(ngx_conf_t *cf,
    ngx_http_xflow_metrics_main_conf_t *mcf)
{
    ngx_uint_t                           i;
    ngx_shm_zone_t                      *zone;
    ngx_list_part_t                     *part;
    ngx_http_xflow_metrics_main_conf_t  *omcf;

    if (ngx_cycle == NULL || ngx_cycle == cf->cycle) {
        return NULL;
    }

    part = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag != &ngx_http_xflow_metrics_module
            || zone[i].data == NULL)
        {
            continue;
        }

        omcf = zone[i].data;

        if (omcf->mem == NULL
            || xf_metrics_hash(omcf->reg) == xf_metrics_hash(mcf->reg))
        {
            /* the same layout: nginx hands us the zone itself */
            return NULL;
        }

        return omcf;
    }

    return NULL;
}


static ngx_int_t
ngx_http_xflow_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_xflow_metrics_main_conf_t  *omcf = data;

    size_t                               len;
    ngx_slab_pool_t                     *shpool;
    ngx_http_xflow_metrics_main_conf_t  *mcf;

    mcf = shm_zone->data;

    if (omcf) {
        /* a reload with the same layout: the counters go on */

        if (!xf_metrics_mem_matches(mcf->reg, omcf->mem)) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "xflow metrics zone \"%V\" holds another layout",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

        mcf->mem = omcf->mem;

        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        mcf->mem = shpool->data;

        return NGX_OK;
    }

    /* a fresh zone */

    mcf->mem = ngx_slab_alloc(shpool, xf_metrics_size(mcf->reg));
    if (mcf->mem == NULL) {
        return NGX_ERROR;
    }

    shpool->data = mcf->mem;

    xf_metrics_init_mem(mcf->reg, mcf->mem);

    len = sizeof(" in xflow metrics zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in xflow metrics zone \"%V\"%Z",
                &shm_zone->shm.name);

    if (mcf->old && mcf->old->mem) {
        /*
         * Old workers keep counting in the old zone until they exit:
         * what they count after this copy is not carried.
         */
        xf_metrics_migrate(mcf->reg, mcf->mem, mcf->old->reg, mcf->old->mem);

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "xflow metrics: counters carried into zone \"%V\"",
                      &shm_zone->shm.name);
    }

    /* the old configuration goes away with its cycle */
    mcf->old = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_xflow_metrics_init_process(ngx_cycle_t *cycle)
{
    ngx_http_xflow_metrics_main_conf_t  *mcf;

    ngx_http_xflow_metrics_reg = NULL;
    ngx_http_xflow_metrics_mem = NULL;
    ngx_memzero(&ngx_http_xflow_metrics_last,
                sizeof(xf_kafka_stats_last_t));
    ngx_http_xflow_metrics_rss_time = 0;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        /* no http block */
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_xflow_metrics_module);

    if (mcf == NULL || mcf->mem == NULL) {
        return NGX_OK;
    }

    ngx_http_xflow_metrics_reg = mcf->reg;
    ngx_http_xflow_metrics_mem = mcf->mem;
    ngx_http_xflow_metrics_slot = ngx_worker % xf_metrics_nslots(mcf->reg);

    ngx_http_xflow_metrics_rss();

    return NGX_OK;
}


/*
 * A counter's add or a gauge's set (xf_metrics_add, xf_metrics_set: the
 * same arguments), in this worker's slot, when there is a zone.
 */
static ngx_inline void
ngx_http_xflow_metrics_write(ngx_http_xflow_metrics_write_pt write,
    ngx_uint_t id, ngx_uint_t l0, ngx_uint_t l1, uint64_t v)
{
    if (ngx_http_xflow_metrics_mem) {
        write(ngx_http_xflow_metrics_reg, ngx_http_xflow_metrics_mem,
              ngx_http_xflow_metrics_slot, id, l0, l1, v);
    }
}


void
ngx_http_xflow_metric_add(ngx_uint_t id, ngx_uint_t l0, ngx_uint_t l1,
    uint64_t n)
{
    ngx_http_xflow_metrics_write(xf_metrics_add, id, l0, l1, n);
}


void
ngx_http_xflow_metric_set(ngx_uint_t id, ngx_uint_t l0, ngx_uint_t l1,
    uint64_t v)
{
    ngx_http_xflow_metrics_write(xf_metrics_set, id, l0, l1, v);
}


uint64_t
ngx_http_xflow_metric_sum(ngx_uint_t id, ngx_uint_t l0, ngx_uint_t l1)
{
    if (ngx_http_xflow_metrics_mem == NULL) {
        return 0;
    }

    return xf_metrics_counter_sum(ngx_http_xflow_metrics_reg,
                                  ngx_http_xflow_metrics_mem,
                                  (xf_metric_id_t) id, l0, l1);
}


void
ngx_http_xflow_metric_observe(ngx_uint_t id, uint64_t v)
{
    if (ngx_http_xflow_metrics_mem) {
        xf_metrics_observe(ngx_http_xflow_metrics_reg,
                           ngx_http_xflow_metrics_mem,
                           ngx_http_xflow_metrics_slot, id, v);
    }
}


void
ngx_http_xflow_metrics_request(ngx_http_request_t *r, ngx_uint_t format)
{
    ngx_uint_t       status;
    ngx_time_t      *tp;
    ngx_msec_int_t   ms;

    if (ngx_http_xflow_metrics_mem == NULL) {
        return;
    }

    /* the status the access log shows */
    status = r->err_status ? r->err_status : r->headers_out.status;

    ngx_http_xflow_metric_add(XF_M_HTTP_REQUESTS, format,
                              xf_metrics_code_index(status), 1);

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    ngx_http_xflow_metric_observe(XF_M_REQUEST_DURATION,
                                  (uint64_t) ngx_max(ms, 0) * 1000);

    if (ngx_time() != ngx_http_xflow_metrics_rss_time) {
        ngx_http_xflow_metrics_rss();
    }
}


/*
 * Requests of xflow_collect locations, when they are over, by the
 * outcome the code that decided it left in the ctx (xf_outcome.h):
 *
 *   accepted  accepted: events enqueued; dead_lettered: bad events sent
 *             to the dead-letter topic; the batch size
 *   rate_limited
 *             xflow_rate_limited_total by the status answered, one per
 *             request: the body was not read
 *   a body the core could not use
 *             xflow_decode_errors_total{kind}, one per request
 *   any other, with events read (queue full, delivery failed, no ack in
 *             time, the client gone while waiting)
 *             overflowed: the SDK sends them again
 *
 * A request the handler never saw has no ctx and no outcome: the one
 * fact there is the status nginx answered, and a 429 there is a rate
 * limit of nginx's own (limit_req_status 429) refusing first.
 *
 * xflow_events_total counts events only: requests refused whole are
 * counted per request, each in its own family.
 */
static ngx_int_t
ngx_http_xflow_metrics_log_handler(ngx_http_request_t *r)
{
    ngx_uint_t                  status, format, events;
    xf_status_t                 st;
    ngx_http_xflow_ctx_t       *ctx;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (ngx_http_xflow_metrics_mem == NULL || lcf == NULL || !lcf->collect) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    format = ctx ? (ngx_uint_t) ctx->format : lcf->format;
    status = r->err_status ? r->err_status : r->headers_out.status;

    ngx_http_xflow_metrics_request(r, format);

    if (ctx == NULL) {
        if (status == NGX_HTTP_TOO_MANY_REQUESTS) {
            ngx_http_xflow_metric_add(XF_M_RATE_LIMITED, format,
                                      xf_metrics_code_index(status), 1);
        }

        return NGX_OK;
    }

    /*
     * A rate limit's refusal, told apart from overload (queue_full,
     * spool_full, ack_timeout answer 429 too with xflow_retry_status
     * 429) by its outcome; its label is the status it was answered with.
     */
    if (ctx->outcome == XF_OUTCOME_RATE_LIMITED) {
        ngx_http_xflow_metric_add(XF_M_RATE_LIMITED, format,
                                  xf_metrics_code_index(status), 1);
        return NGX_OK;
    }

    /* a GET beacon's payload is its query string: received too */
    ngx_http_xflow_metric_add(XF_M_RECEIVED_BYTES, 0, 0,
                              ctx->received
                              + (r->method == NGX_HTTP_GET ? r->args.len
                                                           : 0));
    ngx_http_xflow_metric_add(XF_M_DECODED_BYTES, 0, 0, ctx->final);

    events = ctx->accepted + ctx->rejected;

    if (ctx->outcome == XF_OUTCOME_ACCEPTED
        || ctx->outcome == XF_OUTCOME_BOT)
    {
        ngx_http_xflow_metric_add(XF_M_EVENTS, format,
                                  XF_METRICS_EVENT_ACCEPTED, ctx->accepted);
        ngx_http_xflow_metric_add(XF_M_EVENTS, format,
                                  XF_METRICS_EVENT_DEAD_LETTERED,
                                  ctx->rejected);
        if (ctx->dropped > ctx->bots) {
            ngx_http_xflow_metric_add(XF_M_EVENTS, format,
                                      XF_METRICS_EVENT_DROPPED,
                                      ctx->dropped - ctx->bots);
        }

        if (ctx->bots) {
            ngx_http_xflow_metric_add(XF_M_EVENTS, format,
                                      XF_METRICS_EVENT_BOT, ctx->bots);
        }

        if (events) {
            ngx_http_xflow_metric_observe(XF_M_BATCH_EVENTS, events);
        }

        return NGX_OK;
    }

    /* a body the core could not use: no event was read from it */
    st = xf_outcome_status(ctx->outcome);

    if (st != XF_OK) {
        ngx_http_xflow_metric_add(XF_M_DECODE_ERRORS,
                                  xf_metrics_status_index(st), 0, 1);
        return NGX_OK;
    }

    /*
     * PostHog's v1 capture answers a failed request event by event: its
     * SDK sends again only those marked retry, the others were kept or
     * refused for good (ngx_http_xflow_ingest_done())
     */
    if (ctx->receipts != NULL && ctx->reply == XF_REPLY_POSTHOG_V1) {
        ngx_http_xflow_metrics_receipts(ctx, format);
        return NGX_OK;
    }

    if (events) {
        ngx_http_xflow_metric_add(XF_M_EVENTS, format,
                                  XF_METRICS_EVENT_OVERFLOWED, events);
    }

    return NGX_OK;
}


/* xflow_events_total of a request answered event by event. */
static void
ngx_http_xflow_metrics_receipts(ngx_http_xflow_ctx_t *ctx, ngx_uint_t format)
{
    ngx_uint_t  i, result;

    for (i = 0; i < ctx->nreceipts; i++) {
        switch (ctx->receipts[i].fate) {

        case XF_RECEIPT_RETRY:
            result = XF_METRICS_EVENT_OVERFLOWED;
            break;

        case XF_RECEIPT_INVALID:
            result = XF_METRICS_EVENT_DEAD_LETTERED;
            break;

        case XF_RECEIPT_DROPPED:
            result = XF_METRICS_EVENT_DROPPED;
            break;

        default:                /* ok, duplicate: taken */
            result = XF_METRICS_EVENT_ACCEPTED;
        }

        ngx_http_xflow_metric_add(XF_M_EVENTS, format, result, 1);
    }
}


void
ngx_http_xflow_metrics_kafka_stats(const xf_kafka_stats_t *st)
{
    if (ngx_http_xflow_metrics_mem == NULL) {
        return;
    }

    xf_metrics_kafka_stats_apply(ngx_http_xflow_metrics_reg,
                                 ngx_http_xflow_metrics_mem,
                                 ngx_http_xflow_metrics_slot, st,
                                 &ngx_http_xflow_metrics_last);

    ngx_http_xflow_metrics_rss();
}


/* This worker's resident set size, from /proc/self/statm (in pages). */
static void
ngx_http_xflow_metrics_rss(void)
{
    int        fd;
    u_char     buf[128], *p, *last;
    ssize_t    n;
    uint64_t   pages;

    ngx_http_xflow_metrics_rss_time = ngx_time();

    fd = open("/proc/self/statm", O_RDONLY|O_CLOEXEC);
    if (fd == -1) {
        return;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return;
    }

    /* "size resident shared text lib data dt" */
    p = buf;
    last = buf + n;

    while (p < last && *p != ' ') {
        p++;
    }

    pages = 0;

    for (p++; p < last && *p >= '0' && *p <= '9'; p++) {
        pages = pages * 10 + (*p - '0');
    }

    ngx_http_xflow_metric_set(XF_M_WORKER_RSS, 0, 0, pages * ngx_pagesize);
}


static ngx_int_t
ngx_http_xflow_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                            rc;
    xf_alloc_t                           a;
    ngx_core_conf_t                     *ccf;
    xf_buf_t                             text;
    ngx_http_xflow_metrics_main_conf_t  *mcf;

    rc = ngx_http_xflow_read_only(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_metrics_module);

    if (mcf->mem == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    /* what this worker shows of itself is fresh */
    ngx_http_xflow_metrics_rss();

    ngx_http_xflow_pool_allocator(&a, r->pool);

    ngx_memzero(&text, sizeof(xf_buf_t));

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);

    if (xf_metrics_render(mcf->reg, mcf->mem, ccf->worker_processes, &text,
                          &a)
        != XF_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* before build_info, which leaves text without room */
    if (ngx_http_xflow_ledger_render(&text, &a) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_xflow_metrics_build_info(r, &text) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_xflow_send_lit(r, NGX_HTTP_OK,
                                   "text/plain; version=0.0.4", text.p,
                                   text.len);
}


/*
 * xflow_build_info{version,commit,librdkafka} 1: what runs, after an
 * upgrade.
 */
static ngx_int_t
ngx_http_xflow_metrics_build_info(ngx_http_request_t *r,
    xf_buf_t *text)
{
    u_char  *p, *last;
    size_t   size;

    size = text->len + 512;

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_cpymem(p, text->p, text->len);
    last = ngx_snprintf(last, size - text->len,
                        "# HELP xflow_build_info The xflow module and the "
                        "librdkafka it runs with.\n"
                        "# TYPE xflow_build_info gauge\n"
                        "xflow_build_info{version=\"%s\",commit=\"%s\","
                        "librdkafka=\"%s\"} 1\n",
                        NGX_HTTP_XFLOW_VERSION, NGX_HTTP_XFLOW_COMMIT,
                        rd_kafka_version_str());

    text->p = p;
    text->len = last - p;

    return NGX_OK;
}
