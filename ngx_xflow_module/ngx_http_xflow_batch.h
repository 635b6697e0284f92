/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_batch.h - delivery of one request's messages: the batch
 * owns them from the planned outbox to the last delivery report.
 *
 *   ingest --> batch_send(): render into one allocation, produce topic
 *              by topic, spool what Kafka does not take
 *                 |                               |
 *        report (kafka, per message)        durable (spool waiter)
 *                 \______________  ______________/
 *                                \/
 *                 wait->done(r, outcome, detail)   (ack=kafka only)
 *
 * The batch calls up only through the pointer its caller set: nginx's
 * upstream pattern.  It is allocated with ngx_alloc, not from the
 * request pool: librdkafka references its envelopes without copying,
 * and it outlives a request whose client went away.
 *
 * Every function runs on the worker's event loop.
 */

#ifndef NGX_HTTP_XFLOW_BATCH_H
#define NGX_HTTP_XFLOW_BATCH_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "xf_outbox.h"
#include "xf_outcome.h"


typedef struct ngx_http_xflow_batch_s  ngx_http_xflow_batch_t;

/**
 * @brief The answer of a request that waited (ack=kafka): outcome
 * ACCEPTED, DELIVERY_FAILED (detail: Kafka's error) or ACK_TIMEOUT.
 * Called once, on the loop; the callee replies and finalizes r.
 */
typedef void (*ngx_http_xflow_batch_done_pt)(ngx_http_request_t *r,
    xf_outcome_t outcome, const char *detail);


/** @brief Where one message of a waiting request went: its Kafka
 * partition and offset once delivered, or that it was spooled, or that
 * it failed (Kafka refused it for good, or nothing took it). */
#define NGX_HTTP_XFLOW_POS_NONE       0     /* no report (yet) */
#define NGX_HTTP_XFLOW_POS_DELIVERED  1
#define NGX_HTTP_XFLOW_POS_SPOOLED    2
#define NGX_HTTP_XFLOW_POS_REFUSED    3     /* for good: dead-lettered */
#define NGX_HTTP_XFLOW_POS_LOST       4     /* the client must resend */

typedef struct {
    int64_t                         offset;
    int32_t                         partition;
    ngx_uint_t                      state;  /* NGX_HTTP_XFLOW_POS_* */
} ngx_http_xflow_position_t;


/**
 * @brief A request's side of the wait, in its ctx: the batch it waits
 * for, the deadline, and whom to tell.  pos (NULL: not asked): one entry
 * per planned message, in plan order (the request pool's), filled by
 * the batch while the request waits.  Zeroed with the ctx.
 */
typedef struct {
    ngx_http_request_t             *r;
    ngx_http_xflow_batch_t         *batch;
    ngx_event_t                     timer;
    ngx_http_xflow_batch_done_pt    done;
    ngx_http_xflow_position_t      *pos;
    unsigned                        spool_asked:1;
} ngx_http_xflow_ack_wait_t;


/** @brief Seed the envelope ids of this worker (64 random bits).
 * @returns NGX_OK or NGX_ERROR (logged).  init_process. */
ngx_int_t ngx_http_xflow_batch_init_process(ngx_cycle_t *cycle);

/** @brief Reports served from now on finalize no request.  exit_process,
 * before the producer is flushed. */
void ngx_http_xflow_batch_exiting(void);

/**
 * @brief Where n new messages can go: 1 Kafka's queue, 0 the spool only
 * (the queue is full, or Kafka missed a deadline and the spool takes
 * everything meanwhile), NGX_DECLINED neither (the client must retry).
 */
ngx_int_t ngx_http_xflow_batch_room(ngx_uint_t n);

/**
 * @brief Deliver the planned messages of \p ob: render them (envelopes
 * from \p head) into one batch, produce them one rd_kafka_produce_batch()
 * per topic (\p room from ngx_http_xflow_batch_room()), spool what Kafka
 * does not take.  \p dl_topic receives the notice of a message Kafka
 * refuses for good.  \p wait NULL: nobody waits, the reports free the
 * batch.  \p wait set (ack=kafka): the answer comes through wait->done,
 * at the last report, once spooled records are durable, or at
 * xflow_ack_timeout; wait->done, wait->r must be set.
 *
 * The outbox and head are the caller's (the request pool): copied into
 * the batch.
 *
 * @returns NGX_OK (answer now), NGX_AGAIN (wait->done answers),
 * NGX_DECLINED (some messages were taken by neither Kafka nor the
 * spool: the client must retry), NGX_ERROR (no memory).
 */
ngx_int_t ngx_http_xflow_batch_send(ngx_http_request_t *r, xf_outbox_t *ob,
    const u_char *head, size_t head_len, ngx_uint_t room,
    ngx_uint_t dl_topic, ngx_http_xflow_ack_wait_t *wait);

/**
 * @brief The request goes away first (its pool cleanup): no answer is
 * sent, the batch lives on until its last report.  Idempotent.
 */
void ngx_http_xflow_batch_abandon(ngx_http_xflow_ack_wait_t *wait);

#endif /* NGX_HTTP_XFLOW_BATCH_H */
