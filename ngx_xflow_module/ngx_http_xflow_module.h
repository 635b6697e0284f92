/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_module.h - the types the xflow nginx glue shares: the
 * collection module's configuration and per-request state.  Each part
 * of the glue has its own header for its functions; docs/architecture.md
 * draws how they call each other (downward only).
 *
 *   ngx_http_xflow_module.c      the module, configuration, process hooks
 *   ngx_http_xflow_directives.c  the collection module's directives
 *   ngx_http_xflow_collect.c     xflow_collect: method, body, decoding
 *   ngx_http_xflow_ingest.c      formats, events, dead letters: the plan
 *   ngx_http_xflow_batch.c       delivery: produce, spool, the ack wait
 *   ngx_http_xflow_kafka.c       the producer, event-loop pipe, reports
 *   ngx_http_xflow_kafka_conf.c  librdkafka defaults and load-time check
 *   ngx_http_xflow_spool.c       the disk spool and its replay
 *   ngx_http_xflow_reply.c       answers per SDK, CORS
 *   ngx_http_xflow_health.c      xflow_health
 *   ngx_http_xflow_variables.c   $xflow_* variables
 *   ngx_http_xflow_topic.c       the topic registry, for every module
 *   ngx_http_xflow_util.c        headers, sending, logs, memory
 */

#ifndef NGX_HTTP_XFLOW_MODULE_H
#define NGX_HTTP_XFLOW_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <librdkafka/rdkafka.h>

#include "xf_core.h"
#include "xf_catalog.h"
#include "xf_decode.h"
#include "xf_envelope.h"
#include "xf_format.h"
#include "xf_ip.h"
#include "xf_json.h"
#include "xf_outcome.h"
#include "xf_receipt.h"
#include "xf_route.h"

#include "ngx_http_xflow_util.h"
#include "ngx_http_xflow_batch.h"
#include "ngx_http_xflow_ledger.h"


/*
 * The release and the commit it was built from (version.sh, through
 * config): the workers' start line, xflow_build_info{version,commit}.
 */
extern const char  ngx_http_xflow_version[];
extern const char  ngx_http_xflow_commit[];

#define NGX_HTTP_XFLOW_VERSION     ngx_http_xflow_version
#define NGX_HTTP_XFLOW_COMMIT      ngx_http_xflow_commit

#define NGX_HTTP_XFLOW_ACK_KAFKA   0
#define NGX_HTTP_XFLOW_ACK_LOCAL   1

/* xflow_receipts: plain JSON answers with a receipt per event */
#define NGX_HTTP_XFLOW_RECEIPTS_OFF  0
#define NGX_HTTP_XFLOW_RECEIPTS_ON   1
#define NGX_HTTP_XFLOW_RECEIPTS_ASK  2    /* when the query says
                                             receipts=1 */

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
    ngx_http_xflow_where_t      spool_after_where;
    ngx_uint_t                  spool_replay_rate;  /* records/s, worker */
    ngx_msec_t                  shutdown_timeout;
    ngx_http_xflow_where_t      health_where;   /* first xflow_health */
    ngx_http_xflow_where_t      collect_where;  /* first xflow_collect */
    ngx_uint_t                  enabled;        /* some xflow_collect */
    size_t                      dedup_size;     /* the dedup table, the
                                                   largest size= given */
    ngx_shm_zone_t             *ledger_zone;
    ngx_array_t                *ledger_locs;    /* of the locations'
                                                   ledger series, or NULL */
    ngx_shm_zone_t             *dedup_zone;     /* NULL: no xflow_dedup */
} ngx_http_xflow_main_conf_t;


typedef struct {
    ngx_flag_t                  collect;
    ngx_uint_t                  format;         /* xf_format_t */
    ngx_http_xflow_ledger_loc_t *ledger;        /* its series, by format */
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
    ngx_uint_t                  receipts;       /* NGX_HTTP_XFLOW_RECEIPTS_* */
    /* for the checks at the end of http{}: inherited with the value */
    ngx_http_xflow_where_t      collect_where;
    ngx_http_xflow_where_t      cors_where;     /* NULL file: default */
    ngx_http_xflow_where_t      ack_where;
    ngx_http_xflow_where_t      ack_timeout_where;
    ngx_msec_t                  health_broker_timeout;
    size_t                      max_body;
    size_t                      max_decoded;
    size_t                      zstd_window;    /* largest zstd window */
    size_t                      client_share;   /* what a client may hold
                                                   decoded when
                                                   xflow_max_decoded_per_
                                                   client is not set */
    ngx_uint_t                  decode_ratio;   /* decoded / sent, 0: any */
    size_t                      decode_ratio_from;  /* once decoded */
    ngx_msec_t                  hoard_timeout;  /* body timeout once it
                                                   holds far more than
                                                   it sent */
    size_t                      max_event_size;
    ngx_uint_t                  max_events;
    ngx_uint_t                  max_depth;
    ngx_msec_t                  dedup_window;   /* xflow_dedup; 0: off */
    ngx_str_t                   dedup_topic;    /* empty: not produced */
    ngx_uint_t                  dedup_topic_index;
} ngx_http_xflow_loc_conf_t;


/* Per-request state. */
typedef struct {
    xf_alloc_t                  alloc;          /* the request pool */
    xf_decoder_t               *decoder;
    xf_encoding_t               encoding;
    xf_format_t                 format;         /* resolved by the adapter */
    xf_reply_t                  reply;
    off_t                       received;       /* body bytes on the wire */
    size_t                      decoded;        /* after every layer */
    size_t                      final;          /* the last layer only */
    u_char                     *raw;            /* first bytes of a */
    size_t                      raw_len;        /* compressed body, kept for
                                                   the dead-letter topic */
    ngx_uint_t                  accepted;
    ngx_uint_t                  rejected;
    ngx_uint_t                  duplicates;     /* within xflow_dedup */
    uint64_t                   *dedup_keys;     /* of the events sent, */
    ngx_uint_t                  ndedup;         /* kept at success */
    u_char                     *fates;          /* per event of the upload,
                                                   what ingest decided: an
                                                   xf_ledger_cell_t (in
                                                   flight: the batch's
                                                   reports decide) */
    ngx_uint_t                  dropped;        /* by a kill switch or
                                                   xflow_bots drop */
    ngx_uint_t                  bots;           /* of them, by xflow_bots:
                                                   the outcome is then
                                                   XF_OUTCOME_BOT */
    xf_event_t                 *events;         /* the upload's, with */
    size_t                      nevents;        /* the plan's verdicts:
                                                   the catalog counts */
    xf_catalog_plan_t          *verdicts;       /* them once accepted */
    int32_t                     ledger_series;  /* where the ledger counts
                                                   its events */
    ngx_str_t                   app;
    ngx_uint_t                  ntopics;        /* for $xflow_topic: how */
    ngx_uint_t                  topic_index;    /* many, and the one when
                                                   only one (main conf) */
    xf_outcome_t                outcome;        /* how it ended, set by the
                                                   code that decides it:
                                                   the answer, $xflow_error
                                                   and the metrics follow */
    ngx_http_xflow_ack_wait_t   wait;           /* ack=kafka */
    xf_receipt_t               *receipts;       /* per event, or NULL */
    size_t                     *receipt_msg;    /* each one's first
                                                   message in the outbox */
    ngx_uint_t                  nreceipts;
    ngx_uint_t                  nmsgs;          /* messages of the events
                                                   and dead letters */
    ngx_http_request_t         *request;        /* for the allocator; */
    ngx_pool_t                 *pool;           /* r->pool is NULL while
                                                   the pool is destroyed */
    size_t                      inflight;       /* decoded bytes charged */
    size_t                      held;           /* stripped events held */
    size_t                      shared;         /* of it, in the shares */
    u_char                      client[9];      /* key of its share: */
    u_char                      client_len;     /* family, address (/64) */
    unsigned                    inflight_refused:1;
    unsigned                    share_off:1;    /* the body is read */
    unsigned                    ip_parsed:1;    /* client_ip is known: */
    unsigned                    ip_ok:1;        /* the address parsed */
    xf_ip_t                     client_ip;      /* for GeoIP, privacy and
                                                   bots: parsed once
                                                   (ngx_http_xflow_
                                                   client_ip()) */
} ngx_http_xflow_ctx_t;


extern ngx_module_t  ngx_http_xflow_module;


#endif /* NGX_HTTP_XFLOW_MODULE_H */
