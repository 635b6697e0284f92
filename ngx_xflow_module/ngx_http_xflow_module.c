/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_module.c - the collection module: its directive table,
 * configuration (create, merge, the checks at the end of http{}) and
 * process hooks.  The directive handlers are in
 * ngx_http_xflow_directives.c.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_batch.h"
#include "ngx_http_xflow_directives.h"
#include "ngx_http_xflow_kafka.h"
#include "ngx_http_xflow_dedup.h"
#include "ngx_http_xflow_ledger.h"
#include "ngx_http_xflow_spool.h"
#include "ngx_http_xflow_topic.h"
#include "ngx_http_xflow_variables.h"


static void *ngx_http_xflow_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_xflow_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_xflow_compile_routes(ngx_conf_t *cf,
    ngx_http_xflow_loc_conf_t *conf);
static void ngx_http_xflow_merge_where(ngx_http_xflow_where_t *conf,
    ngx_http_xflow_where_t *prev);
static ngx_int_t ngx_http_xflow_check_loc_conf(ngx_conf_t *cf,
    ngx_http_xflow_loc_conf_t *conf);
static ngx_http_xflow_kv_t *ngx_http_xflow_acks_zero(ngx_conf_t *cf,
    ngx_str_t *topic);
static void ngx_http_xflow_cleanup_rk_conf(void *data);
static ngx_int_t ngx_http_xflow_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_xflow_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_xflow_init_process(ngx_cycle_t *cycle);
static void ngx_http_xflow_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_t  ngx_http_xflow_brokers_where = {
    ngx_http_xflow_brokers_post
};

static ngx_conf_post_t  ngx_http_xflow_spool_after_where = {
    ngx_http_xflow_spool_after_post
};

static ngx_conf_post_t  ngx_http_xflow_ack_timeout_where = {
    ngx_http_xflow_ack_timeout_post
};

static ngx_conf_post_t  ngx_http_xflow_topic_check = {
    ngx_http_xflow_topic_post
};


static ngx_conf_enum_t  ngx_http_xflow_ack_modes[] = {
    { ngx_string("kafka"), NGX_HTTP_XFLOW_ACK_KAFKA },
    { ngx_string("local"), NGX_HTTP_XFLOW_ACK_LOCAL },
    { ngx_null_string, 0 }
};

static ngx_conf_enum_t  ngx_http_xflow_receipts_modes[] = {
    { ngx_string("off"), NGX_HTTP_XFLOW_RECEIPTS_OFF },
    { ngx_string("on"), NGX_HTTP_XFLOW_RECEIPTS_ON },
    { ngx_string("ask"), NGX_HTTP_XFLOW_RECEIPTS_ASK },
    { ngx_null_string, 0 }
};

static ngx_conf_num_bounds_t  ngx_http_xflow_events_bounds = {
    ngx_conf_check_num_bounds, 1, 1000000
};

static ngx_conf_num_bounds_t  ngx_http_xflow_depth_bounds = {
    ngx_conf_check_num_bounds, 1, 1024
};


static ngx_command_t  ngx_http_xflow_commands[] = {

    { ngx_string("xflow_kafka_brokers"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_xflow_main_conf_t, brokers),
      &ngx_http_xflow_brokers_where },

    { ngx_string("xflow_kafka_conf"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_xflow_kafka_conf_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_kafka_topic_conf"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_http_xflow_kafka_topic_conf_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_route"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_route_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_spool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_spool_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_spool_after"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_xflow_main_conf_t, spool_after),
      &ngx_http_xflow_spool_after_where },

    { ngx_string("xflow_shutdown_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_xflow_main_conf_t, shutdown_timeout),
      NULL },

    { ngx_string("xflow_collect"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_xflow_collect_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_xflow_health_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_health_broker_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, health_broker_timeout),
      NULL },

    { ngx_string("xflow_topic"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, topic),
      &ngx_http_xflow_topic_check },

    { ngx_string("xflow_dead_letter_topic"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, dl_topic),
      &ngx_http_xflow_topic_check },

    { ngx_string("xflow_dedup"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_dedup_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_dead_letter_max_raw"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, dl_max_raw),
      NULL },

    { ngx_string("xflow_retry_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_xflow_retry_status_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_cors_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_cors_origins_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_cors_max_age"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, cors_max_age),
      NULL },

    { ngx_string("xflow_ack"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_xflow_ack_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, ack),
      &ngx_http_xflow_ack_modes },

    { ngx_string("xflow_receipts"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, receipts),
      &ngx_http_xflow_receipts_modes },

    { ngx_string("xflow_ack_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, ack_timeout),
      &ngx_http_xflow_ack_timeout_where },

    { ngx_string("xflow_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, max_body),
      NULL },

    { ngx_string("xflow_max_decoded"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, max_decoded),
      NULL },

    { ngx_string("xflow_zstd_window_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, zstd_window),
      NULL },

    { ngx_string("xflow_max_decode_ratio"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, decode_ratio),
      NULL },

    { ngx_string("xflow_decode_ratio_from"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, decode_ratio_from),
      NULL },

    { ngx_string("xflow_hoard_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, hoard_timeout),
      NULL },

    { ngx_string("xflow_max_event_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, max_event_size),
      NULL },

    { ngx_string("xflow_max_events"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, max_events),
      &ngx_http_xflow_events_bounds },

    { ngx_string("xflow_max_depth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_loc_conf_t, max_depth),
      &ngx_http_xflow_depth_bounds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_xflow_module_ctx = {
    ngx_http_xflow_variables_add,          /* preconfiguration */
    ngx_http_xflow_postconfiguration,      /* postconfiguration */

    ngx_http_xflow_create_main_conf,       /* create main configuration */
    ngx_http_xflow_init_main_conf,         /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_xflow_create_loc_conf,        /* create location configuration */
    ngx_http_xflow_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_xflow_module = {
    NGX_MODULE_V1,
    &ngx_http_xflow_module_ctx,            /* module context */
    ngx_http_xflow_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_xflow_init_module,            /* init module */
    ngx_http_xflow_init_process,           /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_xflow_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_xflow_create_main_conf(ngx_conf_t *cf)
{
    char                         errstr[512];
    ngx_pool_cleanup_t          *cln;
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->brokers = { 0, NULL };
     *     mcf->enabled = 0;
     */

    if (ngx_array_init(&mcf->kafka_conf, cf->pool, 8,
                       sizeof(ngx_http_xflow_kv_t))
        != NGX_OK
        || ngx_array_init(&mcf->topics, cf->pool, 4, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&mcf->topic_confs, cf->pool, 2,
                          sizeof(ngx_http_xflow_tconf_t))
           != NGX_OK)
    {
        return NULL;
    }

    /*
     * librdkafka validates each property as it is set, so a bad name or
     * value fails "nginx -t" with librdkafka's own message.  The template
     * is duplicated by every worker in init_process.
     */
    mcf->rk_conf = rd_kafka_conf_new();
    if (mcf->rk_conf == NULL) {
        return NULL;
    }

    /* statistics feed the metrics; xflow_kafka_conf may change this */
    if (rd_kafka_conf_set(mcf->rk_conf, "statistics.interval.ms", "5000",
                          errstr, sizeof(errstr))
        != RD_KAFKA_CONF_OK
        || ngx_http_xflow_kafka_batch_defaults(mcf->rk_conf, errstr,
                                               sizeof(errstr))
           != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "xflow: %s", errstr);
        rd_kafka_conf_destroy(mcf->rk_conf);
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        rd_kafka_conf_destroy(mcf->rk_conf);
        return NULL;
    }

    cln->handler = ngx_http_xflow_cleanup_rk_conf;
    cln->data = mcf;

    mcf->shutdown_timeout = NGX_CONF_UNSET_MSEC;
    mcf->spool_after = NGX_CONF_UNSET_MSEC;

    return mcf;
}


static void
ngx_http_xflow_cleanup_rk_conf(void *data)
{
    ngx_http_xflow_main_conf_t  *mcf = data;

    ngx_uint_t               i;
    ngx_http_xflow_tconf_t  *tc;

    tc = mcf->topic_confs.elts;
    for (i = 0; i < mcf->topic_confs.nelts; i++) {
        rd_kafka_topic_conf_destroy(tc[i].conf);
    }

    rd_kafka_conf_destroy(mcf->rk_conf);
}


static char *
ngx_http_xflow_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_xflow_main_conf_t  *mcf = conf;

    ngx_conf_init_msec_value(mcf->shutdown_timeout, 5000);
    ngx_conf_init_msec_value(mcf->spool_after, 2000);

    if (mcf->spool_after == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"xflow_spool_after\" must be more than 0 in %s:%ui",
                      mcf->spool_after_where.file,
                      mcf->spool_after_where.line);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_xflow_kafka_defaults(cf, mcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (mcf->brokers.len) {
        if (ngx_http_xflow_kafka_conf_set(cf, mcf, "bootstrap.servers",
                                    (char *) mcf->brokers.data)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else if (mcf->enabled) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"xflow_collect\" needs \"xflow_kafka_brokers\" "
                      "in %s:%ui", mcf->collect_where.file,
                      mcf->collect_where.line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_xflow_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_xflow_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->topic = { 0, NULL };
     *     conf->topic_index = 0;
     */

    conf->collect = NGX_CONF_UNSET;
    conf->format = NGX_CONF_UNSET_UINT;
    conf->dl_max_raw = NGX_CONF_UNSET_SIZE;
    conf->retry_status = NGX_CONF_UNSET_UINT;
    conf->cors = NGX_CONF_UNSET;
    conf->cors_origins = NGX_CONF_UNSET_PTR;
    conf->cors_max_age = NGX_CONF_UNSET;
    conf->ack = NGX_CONF_UNSET_UINT;
    conf->receipts = NGX_CONF_UNSET_UINT;
    conf->ack_timeout = NGX_CONF_UNSET_MSEC;
    conf->health_broker_timeout = NGX_CONF_UNSET_MSEC;
    conf->max_body = NGX_CONF_UNSET_SIZE;
    conf->max_decoded = NGX_CONF_UNSET_SIZE;
    conf->zstd_window = NGX_CONF_UNSET_SIZE;
    conf->hoard_timeout = NGX_CONF_UNSET_MSEC;
    conf->decode_ratio = NGX_CONF_UNSET_UINT;
    conf->decode_ratio_from = NGX_CONF_UNSET_SIZE;
    conf->max_event_size = NGX_CONF_UNSET_SIZE;
    conf->max_events = NGX_CONF_UNSET_UINT;
    conf->max_depth = NGX_CONF_UNSET_UINT;
    conf->dedup_window = NGX_CONF_UNSET_MSEC;

    return conf;
}


static char *
ngx_http_xflow_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_xflow_loc_conf_t *prev = parent;
    ngx_http_xflow_loc_conf_t *conf = child;

    ngx_int_t                  index;
    ngx_http_core_loc_conf_t  *clcf;

    if (conf->routes == NULL) {
        conf->routes = prev->routes;
    }

    ngx_conf_merge_value(conf->collect, prev->collect, 0);
    ngx_conf_merge_uint_value(conf->format, prev->format, XF_FMT_AUTO);
    ngx_conf_merge_str_value(conf->topic, prev->topic, "");
    ngx_conf_merge_str_value(conf->dl_topic, prev->dl_topic,
                             "xflow_dead_letter");
    ngx_conf_merge_size_value(conf->dl_max_raw, prev->dl_max_raw, 16 * 1024);
    ngx_conf_merge_uint_value(conf->retry_status, prev->retry_status, 0);
    ngx_conf_merge_value(conf->cors, prev->cors, 1);
    ngx_conf_merge_ptr_value(conf->cors_origins, prev->cors_origins, NULL);
    ngx_conf_merge_sec_value(conf->cors_max_age, prev->cors_max_age, 7200);
    ngx_conf_merge_uint_value(conf->ack, prev->ack, NGX_HTTP_XFLOW_ACK_KAFKA);
    ngx_conf_merge_uint_value(conf->receipts, prev->receipts,
                              NGX_HTTP_XFLOW_RECEIPTS_ASK);
    ngx_conf_merge_msec_value(conf->ack_timeout, prev->ack_timeout, 30000);
    ngx_conf_merge_msec_value(conf->health_broker_timeout,
                              prev->health_broker_timeout, 15000);
    ngx_conf_merge_size_value(conf->max_body, prev->max_body, 1024 * 1024);
    ngx_conf_merge_size_value(conf->max_decoded, prev->max_decoded,
                              10 * 1024 * 1024);
    /* browsers never send zstd; an app's encoder needs 1 MiB or less at
     * the levels SDKs use (windowLog 20) */
    ngx_conf_merge_size_value(conf->zstd_window, prev->zstd_window,
                              1024 * 1024);
    /* four of the location's largest bodies, with the zstd windows of
     * two of them (ngx_http_xflow_limit_inflight.c says why four) */
    conf->client_share = 4 * conf->max_decoded + 2 * conf->zstd_window;
    ngx_conf_merge_msec_value(conf->hoard_timeout, prev->hoard_timeout,
                              5000);
    ngx_conf_merge_uint_value(conf->decode_ratio, prev->decode_ratio, 0);
    ngx_conf_merge_size_value(conf->decode_ratio_from,
                              prev->decode_ratio_from, 1024 * 1024);
    ngx_conf_merge_size_value(conf->max_event_size, prev->max_event_size,
                              256 * 1024);
    ngx_conf_merge_uint_value(conf->max_events, prev->max_events, 1000);
    ngx_conf_merge_uint_value(conf->max_depth, prev->max_depth, 64);

    /* the window and its topic go together */
    if (conf->dedup_window == NGX_CONF_UNSET_MSEC) {
        conf->dedup_topic = prev->dedup_topic;
    }

    ngx_conf_merge_msec_value(conf->dedup_window, prev->dedup_window, 0);

    /* where each value was written comes with the value */
    ngx_http_xflow_merge_where(&conf->cors_where, &prev->cors_where);
    ngx_http_xflow_merge_where(&conf->ack_where, &prev->ack_where);
    ngx_http_xflow_merge_where(&conf->ack_timeout_where,
                               &prev->ack_timeout_where);

    if (!conf->collect) {
        return NGX_CONF_OK;
    }

    if (ngx_http_xflow_check_loc_conf(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->topic.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"xflow_collect\" needs \"xflow_topic\" in %s:%ui",
                      conf->collect_where.file, conf->collect_where.line);
        return NGX_CONF_ERROR;
    }

    index = ngx_http_xflow_topic_index(cf, &conf->topic);
    if (index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    conf->topic_index = index;

    index = ngx_http_xflow_topic_index(cf, &conf->dl_topic);
    if (index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    conf->dl_topic_index = index;

    if (conf->dedup_window && conf->dedup_topic.len) {
        index = ngx_http_xflow_topic_index(cf, &conf->dedup_topic);
        if (index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        conf->dedup_topic_index = index;
    }

    if (ngx_http_xflow_compile_routes(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * xflow_max_body is enforced by the handler while it streams the body,
     * for Content-Length and chunked bodies alike, with a JSON answer; the
     * core module's own check would answer with an HTML page first.
     */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->client_max_body_size = 0;

    return NGX_CONF_OK;
}


static void
ngx_http_xflow_merge_where(ngx_http_xflow_where_t *conf,
    ngx_http_xflow_where_t *prev)
{
    if (conf->file == NULL) {
        *conf = *prev;
    }
}


/*
 * The last "acks" (or its alias) of the topic's own properties, else of
 * xflow_kafka_conf, when it is 0: the brokers then acknowledge nothing
 * and a delivery report only says the message left the worker.
 */
static ngx_http_xflow_kv_t *
ngx_http_xflow_acks_zero(ngx_conf_t *cf, ngx_str_t *topic)
{
    ngx_uint_t                   i, k;
    ngx_keyval_t                *p;
    ngx_http_xflow_kv_t         *kv, *found;
    ngx_http_xflow_tconf_t      *tc;
    ngx_http_xflow_main_conf_t  *mcf;

    static ngx_http_xflow_kv_t   topic_kv;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    tc = mcf->topic_confs.elts;

    for (i = 0; i < mcf->topic_confs.nelts; i++) {
        if (tc[i].topic.len != topic->len
            || ngx_strncmp(tc[i].topic.data, topic->data, topic->len) != 0)
        {
            continue;
        }

        p = tc[i].props->elts;
        found = NULL;

        for (k = 0; k < tc[i].props->nelts; k++) {
            if (ngx_strcmp(p[k].key.data, "acks") == 0
                || ngx_strcmp(p[k].key.data, "request.required.acks") == 0)
            {
                topic_kv.key = p[k].key;
                topic_kv.value = p[k].value;
                topic_kv.file = tc[i].where.file;
                topic_kv.line = tc[i].where.line;
                found = &topic_kv;
            }
        }

        if (found) {
            return ngx_strcmp(found->value.data, "0") == 0 ? found : NULL;
        }
    }

    kv = mcf->kafka_conf.elts;
    found = NULL;

    for (i = 0; i < mcf->kafka_conf.nelts; i++) {
        if (ngx_strcmp(kv[i].key.data, "acks") == 0
            || ngx_strcmp(kv[i].key.data, "request.required.acks") == 0)
        {
            found = &kv[i];
        }
    }

    return found && ngx_strcmp(found->value.data, "0") == 0 ? found : NULL;
}


/*
 * Settings each valid on its own that together lose events or uploads
 * without a word at run time.  Found at the end of http{}, so each
 * message names the directives' own file:line, not the "}".  A location
 * that does not say inherits the place with the value; a default has
 * no place: then the xflow_collect that uses it is named.
 */
static ngx_int_t
ngx_http_xflow_check_loc_conf(ngx_conf_t *cf, ngx_http_xflow_loc_conf_t *conf)
{
    ngx_http_xflow_kv_t         *kv;
    ngx_http_xflow_where_t       ack, timeout, after;
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    ack = conf->ack_where.file ? conf->ack_where : conf->collect_where;
    timeout = conf->ack_timeout_where.file ? conf->ack_timeout_where
                                           : conf->collect_where;
    after = mcf->spool_after_where.file ? mcf->spool_after_where
                                        : conf->collect_where;

    /*
     * The ack wait ends (and the SDK is told to retry) before the events
     * go to the spool: uploads are refused while Kafka is away although
     * the spool would have kept them, and sent twice.
     */
    if (mcf->spool && conf->ack == NGX_HTTP_XFLOW_ACK_KAFKA
        && mcf->spool_after >= conf->ack_timeout)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"xflow_spool_after %Mms\" is not shorter than "
                      "\"xflow_ack_timeout %Mms\" (%s:%ui): uploads would "
                      "time out before their events are spooled in %s:%ui",
                      mcf->spool_after, conf->ack_timeout, timeout.file,
                      timeout.line, after.file, after.line);
        return NGX_ERROR;
    }

    kv = ngx_http_xflow_acks_zero(cf, &conf->topic);

    if (kv != NULL && conf->ack == NGX_HTTP_XFLOW_ACK_KAFKA) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"%V 0\" (%s:%ui) has the brokers acknowledge "
                      "nothing, so \"xflow_ack kafka\" would answer "
                      "uploads before any broker has their events in "
                      "%s:%ui; use \"xflow_ack local\" or acks 1 or all",
                      &kv->key, kv->file, kv->line, ack.file, ack.line);
        return NGX_ERROR;
    }

    /*
     * Snowplow's browser tracker uploads with credentials; "any" answers
     * without Access-Control-Allow-Credentials (ngx_http_xflow_reply_cors),
     * so the browser drops every answer and the tracker retries for ever.
     */
    if (conf->format == XF_FMT_SNOWPLOW && conf->cors
        && conf->cors_origins == NULL)
    {
        if (conf->cors_where.file) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"xflow_cors_origins any\" fails every upload "
                          "of Snowplow's browser tracker, which sends "
                          "credentials, to \"xflow_collect snowplow\" "
                          "(%s:%ui): list the sites' origins in %s:%ui",
                          conf->collect_where.file, conf->collect_where.line,
                          conf->cors_where.file, conf->cors_where.line);
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "\"xflow_collect snowplow\" answers browsers under "
                      "\"xflow_cors_origins any\" (the default), which "
                      "fails every upload of Snowplow's browser tracker "
                      "(it sends credentials): list the sites' origins "
                      "for %s:%ui",
                      conf->collect_where.file, conf->collect_where.line);
    }

    return NGX_OK;
}


/* Compile the rules a location sees; each location gets its own table. */
static ngx_int_t
ngx_http_xflow_compile_routes(ngx_conf_t *cf, ngx_http_xflow_loc_conf_t *conf)
{
    ngx_int_t         index;
    ngx_str_t         name;
    uint32_t         *topics;
    xf_alloc_t        a;
    ngx_uint_t        i;
    xf_route_rule_t  *rules;

    if (conf->routes == NULL || conf->routes->nelts == 0) {
        return NGX_OK;
    }

    rules = conf->routes->elts;

    topics = ngx_palloc(cf->pool, conf->routes->nelts * sizeof(uint32_t));
    if (topics == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < conf->routes->nelts; i++) {
        name.data = (u_char *) rules[i].topic.data;
        name.len = rules[i].topic.len;

        index = ngx_http_xflow_topic_index(cf, &name);
        if (index == NGX_ERROR) {
            return NGX_ERROR;
        }

        topics[i] = (uint32_t) index;
    }

    ngx_http_xflow_pool_allocator(&a, cf->pool);

    if (xf_route_compile(rules, topics, conf->routes->nelts, &a,
                         &conf->route_table)
        != XF_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* After every location was merged: the topics are all known. */
static ngx_int_t
ngx_http_xflow_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    if (!mcf->enabled) {
        return NGX_OK;
    }

    if (ngx_http_xflow_ledger_zone(cf, &mcf->ledger_zone) != NGX_OK
        || ngx_http_xflow_dedup_zone(cf, mcf->dedup_size, &mcf->dedup_zone)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_xflow_kafka_check(cf, mcf);
}


/*
 * In the master, "nginx -t" included, once the paths exist (nginx made
 * them and gave them to the worker user): the spool must be writable by
 * the workers, or they would run without it.
 */
static ngx_int_t
ngx_http_xflow_init_module(ngx_cycle_t *cycle)
{
    ngx_http_xflow_main_conf_t  *mcf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_xflow_module);

    if (mcf == NULL || !mcf->enabled || mcf->spool == NULL) {
        return NGX_OK;
    }

    /* at a start, before any worker: what the spool holds is counted */
    ngx_http_xflow_ledger_found(cycle, mcf->ledger_zone, &mcf->spool->name);

    return ngx_http_xflow_spool_check(cycle, mcf);
}


static ngx_int_t
ngx_http_xflow_init_process(ngx_cycle_t *cycle)
{
    ngx_http_xflow_main_conf_t  *mcf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        /* no http block */
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_xflow_module);

    if (mcf == NULL || !mcf->enabled) {
        return NGX_OK;
    }

    /* the ledger's slot before anything can count, this cycle's tables */
    ngx_http_xflow_ledger_init_process(cycle, mcf->ledger_zone);
    ngx_http_xflow_dedup_init_process(mcf->dedup_zone);

    /* the producer first: the spool replays through it */
    if (ngx_http_xflow_kafka_init_process(cycle, mcf) != NGX_OK
        || ngx_http_xflow_batch_init_process(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_xflow_spool_init_process(cycle, mcf);
}


static void
ngx_http_xflow_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_xflow_main_conf_t  *mcf;

    xf_decode_shutdown();

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        /* no http block */
        return;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_xflow_module);

    if (mcf == NULL || !mcf->enabled) {
        return;
    }

    /*
     * Requests are never finalized at exit: reports served from here on
     * only spool.  The producer's flush and purge hand what is left to
     * the spool, which is closed last.
     */
    ngx_http_xflow_batch_exiting();
    ngx_http_xflow_spool_exiting();

    ngx_http_xflow_kafka_exit_process(cycle, mcf,
                                      ngx_http_xflow_spool_enabled());

    ngx_http_xflow_spool_exit_process(cycle);

    /* what is still in flight now will never be reported: orphaned */
    ngx_http_xflow_ledger_exit_process();
}
