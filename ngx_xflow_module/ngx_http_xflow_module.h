/*
 * ngx_http_xflow_module.h - types shared by the xflow nginx glue.
 *
 * The glue is thin: it parses directives, moves request bytes into the
 * core (core/, pure C), and owns the per-worker Kafka producer.
 *
 *   ngx_http_xflow_module.c    directives, configuration, process hooks
 *   ngx_http_xflow_handler.c   xflow_collect: method, body, decoding
 *   ngx_http_xflow_ingest.c    formats, envelopes, dead letters, produce
 *   ngx_http_xflow_kafka.c     producer, event-loop pipe, delivery reports
 *   ngx_http_xflow_reply.c     answers per SDK, CORS, rate-limited logs
 */

#ifndef NGX_HTTP_XFLOW_MODULE_H
#define NGX_HTTP_XFLOW_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <librdkafka/rdkafka.h>

#include "xf_core.h"
#include "xf_decode.h"
#include "xf_envelope.h"
#include "xf_format.h"
#include "xf_json.h"
#include "xf_route.h"

#include "ngx_http_xflow_util.h"


/* The release: debian/changelog's version, xflow_build_info{version}. */
#define NGX_HTTP_XFLOW_VERSION     "0.1.0"

#define NGX_HTTP_XFLOW_ACK_KAFKA   0
#define NGX_HTTP_XFLOW_ACK_LOCAL   1

/* What a message's opaque is: the first member of both structures. */
#define NGX_HTTP_XFLOW_OPAQUE_BATCH   0x62617463
#define NGX_HTTP_XFLOW_OPAQUE_REPLAY  0x72706c79
#define NGX_HTTP_XFLOW_OPAQUE_NONE    0x6e6f6e65


/* xflow_kafka_topic_conf: librdkafka topic properties of one topic. */
typedef struct {
    ngx_str_t                   topic;
    rd_kafka_topic_conf_t      *conf;           /* validates, at load */
    ngx_array_t                *props;          /* of ngx_keyval_t */
    struct {
        u_char                 *file;           /* the last directive */
        ngx_uint_t              line;
    } where;
} ngx_http_xflow_tconf_t;


/* One xflow_kafka_conf, and where it was written (for late errors). */
typedef struct {
    ngx_str_t                   key;
    ngx_str_t                   value;
    u_char                     *file;
    ngx_uint_t                  line;
} ngx_http_xflow_kv_t;


/* Where a directive was written: errors found at the end of http{}. */
typedef struct {
    u_char                     *file;
    ngx_uint_t                  line;
} ngx_http_xflow_where_t;


typedef struct {
    ngx_str_t                   brokers;
    ngx_http_xflow_where_t      brokers_where;
    ngx_array_t                 kafka_conf;     /* of ngx_http_xflow_kv_t */
    ngx_array_t                 topics;         /* of ngx_str_t */
    ngx_array_t                 topic_confs;    /* of ngx_http_xflow_tconf_t */
    rd_kafka_conf_t            *rk_conf;        /* validated template */
    ngx_path_t                 *spool;          /* xflow_spool DIR */
    uint64_t                    spool_max_size;
    ngx_uint_t                  spool_fsync;    /* xf_spool_fsync_t */
    ngx_msec_t                  spool_fsync_interval;
    ngx_msec_t                  spool_after;    /* xflow_spool_after */
    ngx_msec_t                  shutdown_timeout;
    ngx_http_xflow_where_t      health_where;   /* first xflow_health */
    ngx_uint_t                  enabled;        /* some xflow_collect */
} ngx_http_xflow_main_conf_t;


typedef struct {
    ngx_flag_t                  collect;
    ngx_uint_t                  format;         /* xf_format_t */
    ngx_str_t                   topic;
    ngx_uint_t                  topic_index;    /* into main conf topics */
    ngx_array_t                *routes;         /* of xf_route_rule_t */
    xf_route_table_t           *route_table;
    ngx_str_t                   dl_topic;
    ngx_uint_t                  dl_topic_index;
    size_t                      dl_max_raw;
    ngx_uint_t                  retry_status;   /* 0: by format */
    ngx_array_t                *cors_origins;   /* of ngx_str_t; NULL: any */
    ngx_flag_t                  cors;
    time_t                      cors_max_age;
    ngx_uint_t                  ack;
    ngx_msec_t                  ack_timeout;
    ngx_msec_t                  health_broker_timeout;
    size_t                      max_body;
    size_t                      max_decoded;
    size_t                      max_event_size;
    ngx_uint_t                  max_events;
    ngx_uint_t                  max_depth;
} ngx_http_xflow_loc_conf_t;


/*
 * The events of one request on their way to Kafka.  Allocated with
 * ngx_alloc, not from the request pool: it owns the envelope bytes that
 * librdkafka references without copying, and it outlives a request whose
 * client went away.  Each enqueued message holds a reference through its
 * msg_opaque; the request holds r while it waits (ack=kafka) and clears
 * it from a pool cleanup when it is finalized first.
 */
typedef struct {
    ngx_uint_t                  kind;           /* OPAQUE_BATCH */
    ngx_http_request_t         *r;
    ngx_uint_t                  pending;        /* messages not reported */
    ngx_uint_t                  failed;         /* neither sent nor spooled */
    ngx_uint_t                  spooled;
    uint64_t                    spool_id;       /* last append: durable? */
    uint64_t                    ts;             /* accepted, ms */
    ngx_uint_t                  dl_topic;       /* for what Kafka refuses */
    rd_kafka_resp_err_t         last_err;
    ngx_queue_t                 queue;          /* waiting for durability */
    unsigned                    waiting:1;
    size_t                      size;           /* of the data below */
    u_char                      data[];         /* envelopes */
} ngx_http_xflow_batch_t;


/* Per-request state. */
typedef struct {
    xf_alloc_t                  alloc;          /* the request pool */
    xf_decoder_t               *decoder;
    xf_encoding_t               encoding;
    xf_format_t                 format;         /* resolved by the adapter */
    xf_reply_t                  reply;
    off_t                       received;       /* body bytes on the wire */
    size_t                      decoded;        /* after every layer */
    u_char                     *raw;            /* first bytes of a */
    size_t                      raw_len;        /* compressed body, kept for
                                                   the dead-letter topic */
    ngx_uint_t                  accepted;
    ngx_uint_t                  rejected;
    ngx_str_t                   app;
    const char                 *error;          /* for $xflow_error */
    ngx_uint_t                  topic;          /* for $xflow_topic: the */
    ngx_uint_t                  topics;         /* topic, when only one */
    ngx_http_xflow_batch_t     *batch;          /* while waiting for acks */
    ngx_event_t                 ack_timer;
    unsigned                    spool_asked:1;  /* the deadline passed */
    ngx_http_request_t         *request;        /* for the allocator; */
    ngx_pool_t                 *pool;           /* r->pool is NULL while
                                                   the pool is destroyed */
    size_t                      inflight;       /* decoded bytes charged */
    unsigned                    inflight_refused:1;
} ngx_http_xflow_ctx_t;


extern ngx_module_t  ngx_http_xflow_module;


/* ngx_http_xflow_kafka.c */
/* linger/batch defaults on a fresh producer template (see _kafka.c) */
ngx_int_t ngx_http_xflow_kafka_batch_defaults(rd_kafka_conf_t *conf,
    char *errstr, size_t size);
ngx_int_t ngx_http_xflow_kafka_init_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf);
void ngx_http_xflow_kafka_exit_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf);
rd_kafka_topic_t *ngx_http_xflow_kafka_topic(ngx_uint_t index);
ngx_int_t ngx_http_xflow_kafka_has_room(ngx_uint_t n);
ngx_int_t ngx_http_xflow_kafka_queue_room(ngx_uint_t n);
void ngx_http_xflow_kafka_next_id(u_char *dst);
ngx_int_t ngx_http_xflow_kafka_state(ngx_uint_t *brokers_up,
    time_t *broker_seen);
ngx_int_t ngx_http_xflow_kafka_defaults(ngx_conf_t *cf,
    ngx_http_xflow_main_conf_t *mcf);
ngx_int_t ngx_http_xflow_kafka_check(ngx_conf_t *cf,
    ngx_http_xflow_main_conf_t *mcf);
ngx_int_t ngx_http_xflow_kafka_spooling(void);
void ngx_http_xflow_kafka_spool_queued(void);
ngx_msec_t ngx_http_xflow_ack_deadline(ngx_http_request_t *r,
    ngx_http_xflow_loc_conf_t *lcf);
rd_kafka_resp_err_t ngx_http_xflow_kafka_produce_copy(const char *topic,
    const void *key, size_t key_len, const void *value, size_t value_len,
    void *opaque);
void ngx_http_xflow_batch_spool(ngx_http_xflow_batch_t *batch,
    const char *topic, const void *key, size_t key_len, const void *value,
    size_t value_len, rd_kafka_resp_err_t err);

/* ngx_http_xflow_spool.c */
ngx_int_t ngx_http_xflow_spool_init_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf);
void ngx_http_xflow_spool_exit_process(ngx_cycle_t *cycle);
void ngx_http_xflow_spool_exiting(void);
ngx_int_t ngx_http_xflow_spool_enabled(void);
ngx_int_t ngx_http_xflow_spool_configured(void);
ngx_int_t ngx_http_xflow_spool_check(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf);
ngx_int_t ngx_http_xflow_spool_full(void);
ngx_int_t ngx_http_xflow_spool_high_water(void);
uint64_t ngx_http_xflow_spool_bytes(void);
ngx_int_t ngx_http_xflow_spool_append(const char *topic, const void *key,
    size_t key_len, const void *value, size_t value_len, uint64_t timestamp,
    uint32_t attempt, uint64_t *id);
ngx_int_t ngx_http_xflow_spool_wait(ngx_http_xflow_batch_t *batch);
void ngx_http_xflow_spool_unwait(ngx_http_xflow_batch_t *batch);
void ngx_http_xflow_spool_replayed(void *opaque,
    const rd_kafka_message_t *msg);
ngx_uint_t ngx_http_xflow_kafka_produce(ngx_http_xflow_batch_t *batch,
    rd_kafka_topic_t *rkt, rd_kafka_message_t *msgs, ngx_uint_t n,
    rd_kafka_resp_err_t *err);
void ngx_http_xflow_batch_release(ngx_http_xflow_batch_t *batch);

/* ngx_http_xflow_handler.c */
ngx_int_t ngx_http_xflow_collect_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_xflow_reply_not_allowed(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
void ngx_http_xflow_ack_timeout(ngx_event_t *ev);
void ngx_http_xflow_batch_done(ngx_http_xflow_batch_t *batch);

/* ngx_http_xflow_ingest.c */
ngx_int_t ngx_http_xflow_ingest(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, const u_char *body, size_t len);
ngx_int_t ngx_http_xflow_reject_request(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_status_t st, const u_char *raw,
    size_t raw_len);

/* ngx_http_xflow_health.c */
ngx_int_t ngx_http_xflow_health_handler(ngx_http_request_t *r);

/* ngx_http_xflow_variables.c */
ngx_int_t ngx_http_xflow_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_xflow_register_variables(ngx_conf_t *cf,
    ngx_http_variable_t *vars);

/* ngx_http_xflow_reply.c */
ngx_int_t ngx_http_xflow_reply_accepted(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
ngx_int_t ngx_http_xflow_reply_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *detail);
ngx_int_t ngx_http_xflow_reply_status(ngx_http_request_t *r,
    xf_status_t st);
ngx_int_t ngx_http_xflow_reply_retry(ngx_http_request_t *r,
    ngx_uint_t throttle, const char *code, const char *detail);
ngx_int_t ngx_http_xflow_reply_posthog_config(ngx_http_request_t *r,
    xf_str_t *token, ngx_uint_t javascript);
ngx_int_t ngx_http_xflow_cors(ngx_http_request_t *r);
ngx_int_t ngx_http_xflow_preflight(ngx_http_request_t *r);

#endif /* NGX_HTTP_XFLOW_MODULE_H */
