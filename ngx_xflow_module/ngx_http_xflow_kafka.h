/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_kafka.h - the per-worker Kafka producer: librdkafka
 * behind the worker's event loop, and nothing else.  It knows no batch,
 * no spool and no request: a message's opaque says who gets its
 * delivery report.
 *
 *   ngx_http_xflow_kafka.c       the producer, the event-loop pipe,
 *                                delivery reports, statistics
 *   ngx_http_xflow_kafka_conf.c  librdkafka defaults xflow sets, and the
 *                                configuration check at load
 *
 * Every runtime function runs on the worker's event loop (librdkafka's
 * callbacks are served there through rd_kafka_poll()).
 */

#ifndef NGX_HTTP_XFLOW_KAFKA_H
#define NGX_HTTP_XFLOW_KAFKA_H

#include "ngx_http_xflow_module.h"

#include "xf_metrics.h"      /* XF_METRICS_KAFKA_*: a report's fate */


/**
 * @brief Who gets a message's delivery report: the first member of
 * whatever a message's opaque points at (a batch, a replayed record).
 * report NULL: nobody (a best-effort notice); report is called once per
 * message, on the event loop.  It returns the message's fate, for
 * xflow_kafka_messages_total{result}: XF_METRICS_KAFKA_DELIVERED,
 * _SPOOLED (a failed message it kept on disk) or _FAILED.
 */
typedef struct ngx_http_xflow_opaque_s  ngx_http_xflow_opaque_t;

typedef ngx_uint_t (*ngx_http_xflow_report_pt)(
    ngx_http_xflow_opaque_t *opaque, const rd_kafka_message_t *msg);

struct ngx_http_xflow_opaque_s {
    ngx_http_xflow_report_pt    report;
};


/* ---------------------------------------------------- worker runtime */

/**
 * @brief Create this worker's producer, its topics and the pipe that
 * wakes the event loop when librdkafka has something to serve.
 *
 * @returns NGX_OK or NGX_ERROR (logged: the worker does not start).
 * init_process of a worker.
 */
ngx_int_t ngx_http_xflow_kafka_init_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf);

/**
 * @brief Flush what librdkafka holds for at most xflow_shutdown_timeout,
 * then purge the rest (its reports come back failed, so their owners can
 * spool them) and destroy the producer.  \p spool says where purged
 * messages go, for the log line.
 *
 * exit_process of a worker; the owners of the opaques must already know
 * the worker is exiting (their requests are never finalized).
 */
void ngx_http_xflow_kafka_exit_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf, ngx_uint_t spool);

/**
 * @brief Enqueue \p n messages on topic \p index without copying their
 * payloads (they must live until their reports), each with \p opaque
 * (NULL: each message's _private is its opaque already).
 *
 * @returns how many were enqueued; the others have err set and *err
 * holds the first such error.
 */
ngx_uint_t ngx_http_xflow_kafka_produce(ngx_uint_t index,
    rd_kafka_message_t *msgs, ngx_uint_t n, ngx_http_xflow_opaque_t *opaque,
    rd_kafka_resp_err_t *err);

/**
 * @brief Enqueue a copy of one message (librdkafka copies value; keys
 * are always copied).  \p topic is NUL-terminated.
 *
 * @returns RD_KAFKA_RESP_ERR_NO_ERROR, or why it was not enqueued.
 */
rd_kafka_resp_err_t ngx_http_xflow_kafka_produce_copy(const char *topic,
    const void *key, size_t key_len, const void *value, size_t value_len,
    ngx_http_xflow_opaque_t *opaque);

/** @brief The name of topic \p index, NUL-terminated, for the cycle. */
const char *ngx_http_xflow_kafka_topic_name(ngx_uint_t index);

/** @brief 1 when librdkafka's queue has room for \p n more messages. */
ngx_int_t ngx_http_xflow_kafka_queue_room(ngx_uint_t n);

/**
 * @brief Kafka missed a deadline: purge what librdkafka holds, queued and
 * in flight (the reports come back failed, through the loop), and say
 * "spooling" until a delivery succeeds again.
 */
void ngx_http_xflow_kafka_purge(void);

/** @brief 1 while Kafka missed a deadline and delivered nothing since. */
ngx_int_t ngx_http_xflow_kafka_spooling(void);

/**
 * @brief Seconds since this worker started when no broker has answered
 * it for longer than \p grace (ms) and no worker of this gateway ever
 * delivered a message (a broker list that reaches nothing); else 0.
 */
time_t ngx_http_xflow_kafka_never_connected(ngx_msec_t grace);

/**
 * @brief What the producer knows of the brokers: how many were up in the
 * last statistics and when one last answered.
 *
 * @returns NGX_OK, or NGX_DECLINED when this worker has no producer.
 */
ngx_int_t ngx_http_xflow_kafka_state(ngx_uint_t *brokers_up,
    time_t *broker_seen);

/**
 * @brief 1 for an error no retry can cure (the message is too large, or
 * an invalid record): spooling such a message would replay it forever.
 * The one list of them, for new messages and replays alike.
 */
ngx_int_t ngx_http_xflow_kafka_refused_for_good(rd_kafka_resp_err_t err);

/**
 * @brief What becomes of a message Kafka refused for good, new or
 * replayed: a throttled warning, and its dead letter to \p dl_topic
 * (what happened and to which event, the envelope id in \p value,
 * without the bytes).  Best effort: nobody waits for the notice's
 * report.  \p ts_ms is when the event was first accepted.  Both topics
 * are NUL-terminated; an empty \p dl_topic (a spool record that names
 * none) gets the warning only.
 */
void ngx_http_xflow_kafka_refused(ngx_log_t *log, const char *dl_topic,
    const char *topic, const void *value, size_t value_len, uint64_t ts_ms,
    rd_kafka_resp_err_t err);


/* -------------------------------------------- configuration (master) */

/**
 * @brief librdkafka's linger/batch defaults on a fresh producer template,
 * before any xflow_kafka_conf (so a user's value replaces them).
 * @returns NGX_OK, or NGX_ERROR with errstr set.
 */
ngx_int_t ngx_http_xflow_kafka_batch_defaults(rd_kafka_conf_t *conf,
    char *errstr, size_t size);

/**
 * @brief Set one librdkafka property on the producer template.
 * @returns NGX_OK, or NGX_ERROR after logging librdkafka's reason.
 */
ngx_int_t ngx_http_xflow_kafka_conf_set(ngx_conf_t *cf,
    ngx_http_xflow_main_conf_t *mcf, const char *name, const char *value);

/**
 * @brief The delivery deadline and queue sizes xflow sets unless
 * xflow_kafka_conf does (docs/directives.md): at the end of http{}.
 * @returns NGX_OK or NGX_ERROR (logged).
 */
ngx_int_t ngx_http_xflow_kafka_defaults(ngx_conf_t *cf,
    ngx_http_xflow_main_conf_t *mcf);

/**
 * @brief Create a producer and its topics once from the final
 * configuration, without connecting, so that what librdkafka refuses
 * fails "nginx -t" with the directive's file:line.
 * @returns NGX_OK or NGX_ERROR (logged).  postconfiguration.
 */
ngx_int_t ngx_http_xflow_kafka_check(ngx_conf_t *cf,
    ngx_http_xflow_main_conf_t *mcf);

#endif /* NGX_HTTP_XFLOW_KAFKA_H */
