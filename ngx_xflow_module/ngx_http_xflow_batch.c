/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_batch.c - one request's messages from the planned
 * outbox to their last delivery report (ngx_http_xflow_batch.h).
 *
 * A batch is one allocation: its header and every rendered envelope.
 * Each message enqueued holds a reference (pending); the request holds
 * one while it waits (ack=kafka) and drops it from its pool cleanup when
 * it is finalized first.  What Kafka does not take, at produce time or
 * in a failed report, goes to the spool; the request is answered once
 * that is durable.
 *
 * A message's opaque says what its report moves in the ledger: an
 * event's message (counted: from in flight) or another (a dead letter,
 * the UA dictionary's: not in the ledger).  Most batches share two, the
 * batch's own.  A request that asks where its messages went (wait->pos:
 * receipts, $xflow_offset_*) gets one opaque per message instead, behind
 * the envelopes: it says the same and also names the message, so its
 * report can say which partition and offset it got.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_batch.h"
#include "ngx_http_xflow_kafka.h"
#include "ngx_http_xflow_spool.h"
#include "ngx_http_xflow_ledger.h"
#include "ngx_http_xflow_limit_module.h"

#include <sys/random.h>


/* A message that is no event (a dead letter, the UA dictionary's): not
   in the ledger */
#define NGX_HTTP_XFLOW_BATCH_UNCOUNTED  XF_LEDGER_CELLS


struct ngx_http_xflow_batch_s {
    ngx_http_xflow_opaque_t         opaque;     /* first: the report */
    ngx_http_xflow_opaque_t         other;      /* of uncounted messages */
    ngx_http_xflow_ack_wait_t      *wait;       /* NULL: nobody waits */
    ngx_uint_t                      pending;    /* messages not reported */
    ngx_uint_t                      failed;     /* neither sent nor spooled */
    ngx_http_xflow_spool_waiter_t   waiter;     /* id: the last append */
    uint64_t                        ts;         /* accepted, ms */
    ngx_uint_t                      dl_topic;   /* for what Kafka refuses */
    rd_kafka_resp_err_t             last_err;
    int32_t                         series;     /* the ledger's */
    ngx_log_t                      *log;
    size_t                          held;       /* in the bytes in flight */
    ngx_http_xflow_position_t      *pos;        /* the waiting request's,
                                                   or NULL */
    unsigned                        sending:1;  /* in batch_send */
    u_char                          data[];     /* envelopes, then the
                                                   message opaques */
};


/* The opaque of one message, when its position is asked for. */
typedef struct {
    ngx_http_xflow_opaque_t         opaque;     /* first: the report */
    ngx_http_xflow_batch_t         *batch;
    ngx_uint_t                      index;      /* in plan order */
    ngx_uint_t                      counted;    /* an event's: in the
                                                   ledger */
} ngx_http_xflow_batch_msg_t;

#define NGX_HTTP_XFLOW_BATCH_NO_MSG  ((ngx_uint_t) -1)


typedef struct {
    xf_id_gen_t                     ids;
    unsigned                        exiting:1;
} ngx_http_xflow_batches_t;


static ngx_uint_t ngx_http_xflow_batch_report(
    ngx_http_xflow_opaque_t *opaque, const rd_kafka_message_t *msg);
static ngx_uint_t ngx_http_xflow_batch_report_other(
    ngx_http_xflow_opaque_t *opaque, const rd_kafka_message_t *msg);
static ngx_uint_t ngx_http_xflow_batch_msg_report(
    ngx_http_xflow_opaque_t *opaque, const rd_kafka_message_t *msg);
static ngx_uint_t ngx_http_xflow_batch_reported(ngx_http_xflow_batch_t *batch,
    const rd_kafka_message_t *msg, xf_ledger_cell_t from, ngx_uint_t index);
static void ngx_http_xflow_batch_mark(ngx_http_xflow_batch_t *batch,
    ngx_uint_t index, const rd_kafka_message_t *msg, ngx_uint_t fate);
static void ngx_http_xflow_batch_durable(ngx_http_xflow_spool_waiter_t *w);
static void ngx_http_xflow_batch_done(ngx_http_xflow_batch_t *batch);
static ngx_uint_t ngx_http_xflow_batch_spool(ngx_http_xflow_batch_t *batch,
    const char *topic, const void *key, size_t key_len, const void *value,
    size_t value_len, rd_kafka_resp_err_t err, xf_ledger_cell_t from);
static void ngx_http_xflow_batch_release(ngx_http_xflow_batch_t *batch);
static void ngx_http_xflow_batch_produce(ngx_http_xflow_batch_t *batch,
    ngx_uint_t topic, rd_kafka_message_t *m, ngx_uint_t n, ngx_uint_t room,
    ngx_uint_t counted);
static ngx_int_t ngx_http_xflow_batch_wait(ngx_http_request_t *r,
    ngx_http_xflow_batch_t *batch, ngx_http_xflow_ack_wait_t *wait);
static void ngx_http_xflow_batch_timeout(ngx_event_t *ev);
static ngx_msec_t ngx_http_xflow_batch_deadline(ngx_http_request_t *r);


static ngx_http_xflow_batches_t  ngx_http_xflow_batches;

ngx_int_t
ngx_http_xflow_batch_init_process(ngx_cycle_t *cycle)
{
    uint64_t  seed;

    ngx_memzero(&ngx_http_xflow_batches, sizeof(ngx_http_xflow_batches_t));

    /* ids must be unique across workers and restarts: 64 fresh bits */
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "xflow: getrandom() failed");
        return NGX_ERROR;
    }

    xf_id_init(&ngx_http_xflow_batches.ids, seed);

    return NGX_OK;
}


void
ngx_http_xflow_batch_exiting(void)
{
    ngx_http_xflow_batches.exiting = 1;
}


ngx_int_t
ngx_http_xflow_batch_room(ngx_uint_t n)
{
    ngx_uint_t  room;

    /*
     * librdkafka's threads only ever shrink the queue, so room seen here
     * is still there when this worker produces right after: a batch is
     * refused whole rather than half enqueued.  While Kafka is spooling
     * (it missed a deadline and delivered nothing since), new requests
     * go to the spool at once instead of each waiting for
     * xflow_spool_after; replays probe the brokers meanwhile.
     */
    if (ngx_http_xflow_spool_enabled()) {
        room = !ngx_http_xflow_kafka_spooling()
               && ngx_http_xflow_kafka_queue_room(n);
        return room;
    }

    return ngx_http_xflow_kafka_queue_room(n) ? 1 : NGX_DECLINED;
}


ngx_int_t
ngx_http_xflow_batch_send(ngx_http_request_t *r, xf_outbox_t *ob,
    const u_char *head, size_t head_len, ngx_uint_t room,
    ngx_uint_t dl_topic, ngx_http_xflow_ack_wait_t *wait)
{
    size_t                       i, j, k, total, off, *count, *order;
    ngx_uint_t                   t, ntopics, counted, nslots;
    ngx_time_t                  *tp;
    rd_kafka_message_t          *msgs, *m;
    xf_out_t                    *o;
    ngx_http_xflow_batch_t      *batch;
    ngx_http_xflow_ctx_t        *ctx;
    ngx_http_xflow_batch_msg_t  *slots;
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    ntopics = mcf->topics.nelts;
    count = ngx_palloc(r->pool, (ntopics + ob->n) * sizeof(size_t));
    msgs = ngx_pcalloc(r->pool, ob->n * sizeof(rd_kafka_message_t));

    if (count == NULL || msgs == NULL) {
        return NGX_ERROR;
    }

    order = count + ntopics;

    if (xf_outbox_group(ob, ntopics, count, order) != XF_OK) {
        return NGX_ERROR;
    }

    total = xf_outbox_size(ob, head_len);

    /* the message opaques after the envelopes, aligned (data[] need
       not be) */
    nslots = (wait != NULL && wait->pos != NULL) ? ob->n : 0;
    off = nslots ? total + sizeof(void *)
                   + nslots * sizeof(ngx_http_xflow_batch_msg_t)
                 : total;

    batch = ngx_alloc(sizeof(ngx_http_xflow_batch_t) + off,
                      r->connection->log);
    if (batch == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(batch, sizeof(ngx_http_xflow_batch_t));

    /* the envelopes are held until the last report frees them */
    batch->held = sizeof(ngx_http_xflow_batch_t) + off;
    ngx_http_xflow_limit_inflight_hold(batch->held);

    tp = ngx_timeofday();

    batch->opaque.report = ngx_http_xflow_batch_report;
    batch->other.report = ngx_http_xflow_batch_report_other;
    batch->waiter.durable = ngx_http_xflow_batch_durable;
    batch->ts = (uint64_t) tp->sec * 1000 + tp->msec;
    batch->dl_topic = dl_topic;
    batch->last_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    batch->series = ctx ? ctx->ledger_series : 0;
    batch->log = ngx_cycle->log;
    batch->pos = nslots ? wait->pos : NULL;
    slots = (ngx_http_xflow_batch_msg_t *) ngx_align_ptr(batch->data + total,
                                                         sizeof(void *));

    (void) xf_outbox_render(ob, batch->data, head, head_len,
                            &ngx_http_xflow_batches.ids);

    /* messages grouped by topic, in request order within a topic */

    for (i = 0; i < ob->n; i++) {
        o = &ob->out[order[i]];
        m = &msgs[i];

        m->payload = o->payload;
        m->len = o->payload_len;

        /* librdkafka copies keys */
        m->key = (void *) o->key.data;
        m->key_len = o->key.len;

        if (nslots) {
            slots[order[i]].opaque.report = ngx_http_xflow_batch_msg_report;
            slots[order[i]].batch = batch;
            slots[order[i]].index = order[i];
            slots[order[i]].counted = o->counted;
            m->_private = &slots[order[i]];
        }
    }

    m = msgs;
    i = 0;
    batch->sending = 1;

    for (t = 0; t < ntopics; t++) {

        /* a topic's messages in runs of events and of the others */

        for (j = 0; j < count[t]; j += k) {
            counted = ob->out[order[i + j]].counted;

            for (k = 1; j + k < count[t]; k++) {
                if (ob->out[order[i + j + k]].counted != counted) {
                    break;
                }
            }

            ngx_http_xflow_batch_produce(batch, t, m, k, room, counted);
            m += k;
        }

        i += count[t];
    }

    batch->sending = 0;

    if (batch->failed) {
        /* neither Kafka nor the spool took some: the client must retry */
        batch->pos = NULL;
        ngx_http_xflow_batch_release(batch);
        return NGX_DECLINED;
    }

    if (wait == NULL) {
        /* delivery reports free the batch; nobody waits for them */
        ngx_http_xflow_batch_release(batch);
        return NGX_OK;
    }

    return ngx_http_xflow_batch_wait(r, batch, wait);
}


/*
 * One topic's messages: to Kafka when it has room, else (or what it does
 * not take) to the spool.
 */
static void
ngx_http_xflow_batch_produce(ngx_http_xflow_batch_t *batch, ngx_uint_t topic,
    rd_kafka_message_t *m, ngx_uint_t n, ngx_uint_t room, ngx_uint_t counted)
{
    const char           *name;
    ngx_uint_t            j, queued, fate;
    xf_ledger_cell_t      from;
    rd_kafka_resp_err_t   err;

    queued = 0;
    err = RD_KAFKA_RESP_ERR__QUEUE_FULL;
    from = counted ? XF_LEDGER_RECEIVED : NGX_HTTP_XFLOW_BATCH_UNCOUNTED;

    if (room) {
        /* counted before producing: reports only come through poll */
        batch->pending += n;
        queued = ngx_http_xflow_kafka_produce(topic, m, n,
                                              batch->pos ? NULL
                                              : counted ? &batch->opaque
                                                        : &batch->other,
                                              &err);
        batch->pending -= n - queued;

        ngx_http_xflow_ledger_move(batch->series, from, XF_LEDGER_IN_FLIGHT,
                                   queued);
    }

    if (queued == n) {
        return;
    }

    name = ngx_http_xflow_kafka_topic_name(topic);

    for (j = 0; j < n; j++) {
        if (!room || m[j].err) {
            fate = ngx_http_xflow_batch_spool(batch, name, m[j].key,
                                              m[j].key_len, m[j].payload,
                                              m[j].len,
                                              room ? m[j].err
                                              : RD_KAFKA_RESP_ERR__QUEUE_FULL,
                                              from);

            if (batch->pos) {
                ngx_http_xflow_batch_mark(batch,
                    ((ngx_http_xflow_batch_msg_t *) m[j]._private)->index,
                    &m[j], fate);
            }
        }
    }

    if (batch->failed) {
        batch->last_err = err;
    }
}


/* ack=kafka: answer from the last report, the spool, or the deadline. */
static ngx_int_t
ngx_http_xflow_batch_wait(ngx_http_request_t *r, ngx_http_xflow_batch_t *batch,
    ngx_http_xflow_ack_wait_t *wait)
{
    batch->wait = wait;
    wait->batch = batch;

    if (batch->pending == 0 && ngx_http_xflow_spool_wait(&batch->waiter)
                               != NGX_OK)
    {
        /* all of it spooled and already durable */
        batch->wait = NULL;
        batch->pos = NULL;
        wait->batch = NULL;
        ngx_http_xflow_batch_release(batch);
        return NGX_OK;
    }

    wait->timer.handler = ngx_http_xflow_batch_timeout;
    wait->timer.data = wait;
    wait->timer.log = r->connection->log;
    ngx_add_timer(&wait->timer, ngx_http_xflow_batch_deadline(r));

    /* notice a client that goes away while we wait */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


/* How long a request waits for Kafka before its events are spooled. */
static ngx_msec_t
ngx_http_xflow_batch_deadline(ngx_http_request_t *r)
{
    ngx_http_xflow_loc_conf_t   *lcf;
    ngx_http_xflow_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (!ngx_http_xflow_spool_enabled()) {
        return lcf->ack_timeout;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_module);

    return ngx_min(mcf->spool_after, lcf->ack_timeout);
}


static void
ngx_http_xflow_batch_timeout(ngx_event_t *ev)
{
    ngx_http_request_t          *r;
    ngx_http_xflow_ack_wait_t   *wait;
    ngx_http_xflow_loc_conf_t   *lcf;
    ngx_http_xflow_main_conf_t  *mcf;

    wait = ev->data;
    r = wait->r;

    if (wait->batch && !wait->spool_asked && ngx_http_xflow_spool_enabled()) {
        /*
         * xflow_spool_after passed: what librdkafka still holds goes to
         * the spool, and the request is answered once it is durable.
         * xflow_ack_timeout stays the bound if even that does not come.
         */
        wait->spool_asked = 1;
        ngx_http_xflow_kafka_purge();

        lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);
        mcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_module);

        ngx_add_timer(&wait->timer, lcf->ack_timeout > mcf->spool_after
                                    ? lcf->ack_timeout - mcf->spool_after
                                    : 1000);
        return;
    }

    /* the batch lives on until its last report; the request does not */
    ngx_http_xflow_batch_abandon(wait);

    ngx_http_xflow_log_throttled(r->connection->log, NGX_LOG_WARN,
                                 NGX_HTTP_SERVICE_UNAVAILABLE,
                                 xf_outcome_name(XF_OUTCOME_ACK_TIMEOUT),
                                 "no delivery report within xflow_ack_timeout");

    wait->done(r, XF_OUTCOME_ACK_TIMEOUT, NULL);
}


void
ngx_http_xflow_batch_abandon(ngx_http_xflow_ack_wait_t *wait)
{
    if (wait->timer.timer_set) {
        ngx_del_timer(&wait->timer);
    }

    /* the reports will find nobody waiting */
    if (wait->batch) {
        wait->batch->wait = NULL;
        wait->batch->pos = NULL;
        ngx_http_xflow_batch_release(wait->batch);
        wait->batch = NULL;
    }
}


/* The delivery report of an event's message. */
static ngx_uint_t
ngx_http_xflow_batch_report(ngx_http_xflow_opaque_t *opaque,
    const rd_kafka_message_t *msg)
{
    return ngx_http_xflow_batch_reported((ngx_http_xflow_batch_t *) opaque,
                                         msg, XF_LEDGER_IN_FLIGHT,
                                         NGX_HTTP_XFLOW_BATCH_NO_MSG);
}


/* The delivery report of a dead letter or a dictionary message. */
static ngx_uint_t
ngx_http_xflow_batch_report_other(ngx_http_xflow_opaque_t *opaque,
    const rd_kafka_message_t *msg)
{
    ngx_http_xflow_batch_t  *batch;

    batch = (ngx_http_xflow_batch_t *) ((u_char *) opaque
                                        - offsetof(ngx_http_xflow_batch_t,
                                                   other));

    return ngx_http_xflow_batch_reported(batch, msg,
                                         NGX_HTTP_XFLOW_BATCH_UNCOUNTED,
                                         NGX_HTTP_XFLOW_BATCH_NO_MSG);
}


/*
 * The delivery report of one message of a batch: its fate.  from: where
 * the ledger has it; index: the message whose position the request
 * waits for, or NGX_HTTP_XFLOW_BATCH_NO_MSG.
 */
static ngx_uint_t
ngx_http_xflow_batch_reported(ngx_http_xflow_batch_t *batch,
    const rd_kafka_message_t *msg, xf_ledger_cell_t from, ngx_uint_t index)
{
    ngx_uint_t  fate;

    fate = XF_METRICS_KAFKA_DELIVERED;

    if (msg->err) {
        if (msg->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE
            && msg->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        {
            /* purges are ours: the spooling and exit lines say so */
            ngx_http_xflow_log_throttled(batch->log, NGX_LOG_WARN,
                                         NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "delivery_failed",
                                         rd_kafka_err2str(msg->err));
        }

        /* librdkafka gave up (or the worker is exiting): to disk */
        fate = ngx_http_xflow_batch_spool(batch,
                                          rd_kafka_topic_name(msg->rkt),
                                          msg->key, msg->key_len,
                                          msg->payload, msg->len, msg->err,
                                          from);

        if (batch->failed) {
            batch->last_err = msg->err;
        }

    } else {
        ngx_http_xflow_ledger_move(batch->series, from, XF_LEDGER_DELIVERED,
                                   1);
    }

    /* before the answer below, which frees the request's positions */
    ngx_http_xflow_batch_mark(batch, index, msg, fate);

    if (--batch->pending) {
        return fate;
    }

    if (batch->wait && !ngx_http_xflow_batches.exiting) {
        /* spooled records not durable yet: the group commit answers */
        if (ngx_http_xflow_spool_wait(&batch->waiter) != NGX_OK) {
            ngx_http_xflow_batch_done(batch);
        }

        return fate;
    }

    /*
     * The request is gone, or the worker is exiting and its requests are
     * never finalized (their pools are not destroyed at exit).
     */

    batch->wait = NULL;
    ngx_http_xflow_batch_release(batch);

    return fate;
}


/* The report of one message whose position is asked for. */
static ngx_uint_t
ngx_http_xflow_batch_msg_report(ngx_http_xflow_opaque_t *opaque,
    const rd_kafka_message_t *msg)
{
    ngx_http_xflow_batch_msg_t  *slot;

    slot = (ngx_http_xflow_batch_msg_t *) opaque;

    return ngx_http_xflow_batch_reported(slot->batch, msg,
                                         slot->counted
                                         ? XF_LEDGER_IN_FLIGHT
                                         : NGX_HTTP_XFLOW_BATCH_UNCOUNTED,
                                         slot->index);
}


/* Where message index went, for the request that waits for it. */
static void
ngx_http_xflow_batch_mark(ngx_http_xflow_batch_t *batch, ngx_uint_t index,
    const rd_kafka_message_t *msg, ngx_uint_t fate)
{
    ngx_http_xflow_position_t  *pos;

    if (batch->pos == NULL || index == NGX_HTTP_XFLOW_BATCH_NO_MSG) {
        return;
    }

    pos = &batch->pos[index];

    switch (fate) {

    case XF_METRICS_KAFKA_DELIVERED:
        pos->state = NGX_HTTP_XFLOW_POS_DELIVERED;
        pos->partition = msg->partition;
        pos->offset = msg->offset;
        break;

    case XF_METRICS_KAFKA_SPOOLED:
        pos->state = NGX_HTTP_XFLOW_POS_SPOOLED;
        break;

    default:
        pos->state = ngx_http_xflow_kafka_refused_for_good(msg->err)
                     ? NGX_HTTP_XFLOW_POS_REFUSED : NGX_HTTP_XFLOW_POS_LOST;
        break;
    }
}


static void
ngx_http_xflow_batch_durable(ngx_http_xflow_spool_waiter_t *w)
{
    ngx_http_xflow_batch_t  *batch;

    batch = ngx_queue_data(w, ngx_http_xflow_batch_t, waiter);

    if (w->lost) {
        /* the spool's fsync failed: the client must send them again */
        batch->failed++;
        batch->last_err = RD_KAFKA_RESP_ERR__FS;
    }

    ngx_http_xflow_batch_done(batch);
}


/* Every message is reported and durable: answer the waiting request. */
static void
ngx_http_xflow_batch_done(ngx_http_xflow_batch_t *batch)
{
    const char                 *detail;
    xf_outcome_t                outcome;
    ngx_http_xflow_ack_wait_t  *wait;

    wait = batch->wait;

    outcome = batch->failed ? XF_OUTCOME_DELIVERY_FAILED
                            : XF_OUTCOME_ACCEPTED;
    detail = batch->failed ? rd_kafka_err2str(batch->last_err) : NULL;

    /* drops the request's reference: the batch may be freed here */
    ngx_http_xflow_batch_abandon(wait);

    wait->done(wait->r, outcome, detail);
}


/*
 * One message Kafka did not take: kept on the spool, or counted as
 * failed when there is no spool or it cannot write.  What Kafka refuses
 * for good is not spooled (it would be replayed forever): its notice
 * goes to the dead-letter topic.  An event's message (from: where the
 * ledger had it) gets its fate in the ledger here.  Returns the
 * message's fate.
 */
static ngx_uint_t
ngx_http_xflow_batch_spool(ngx_http_xflow_batch_t *batch, const char *topic,
    const void *key, size_t key_len, const void *value, size_t value_len,
    rd_kafka_resp_err_t err, xf_ledger_cell_t from)
{
    uint64_t  id;

    if (ngx_http_xflow_kafka_refused_for_good(err)) {
        ngx_http_xflow_kafka_refused(batch->log,
                                     ngx_http_xflow_kafka_topic_name(
                                         batch->dl_topic),
                                     topic, value, value_len, batch->ts, err);
        ngx_http_xflow_ledger_move(batch->series, from, XF_LEDGER_FAILED, 1);
        return XF_METRICS_KAFKA_FAILED;
    }

    if (ngx_http_xflow_spool_append(topic,
                                    ngx_http_xflow_kafka_topic_name(
                                        batch->dl_topic),
                                    key, key_len, value, value_len,
                                    batch->ts, 1,
                                    from != NGX_HTTP_XFLOW_BATCH_UNCOUNTED
                                    ? batch->series
                                    : NGX_HTTP_XFLOW_LEDGER_NONE,
                                    &id)
        == NGX_OK)
    {
        if (id > batch->waiter.id) {
            batch->waiter.id = id;
        }

        ngx_http_xflow_ledger_move(batch->series, from, XF_LEDGER_SPOOLED, 1);
        return XF_METRICS_KAFKA_SPOOLED;
    }

    batch->failed++;

    /* a request still to be answered gets the retry status: its SDK
       keeps the event */
    ngx_http_xflow_ledger_move(batch->series, from,
                               batch->wait || batch->sending
                               ? XF_LEDGER_REFUSED : XF_LEDGER_FAILED, 1);

    /*
     * A request still waiting (or still being sent) is answered with the
     * retry status and its SDK sends the events again; once answered
     * (ack=local) they are lost.
     */
    if (batch->wait == NULL && !batch->sending) {
        ngx_http_xflow_log_throttled(batch->log, NGX_LOG_WARN,
                                     NGX_HTTP_SERVICE_UNAVAILABLE, "lost",
                                     "an event Kafka did not take after its "
                                     "request was answered could not be "
                                     "spooled");
    }

    return XF_METRICS_KAFKA_FAILED;
}


static void
ngx_http_xflow_batch_release(ngx_http_xflow_batch_t *batch)
{
    if (batch->pending == 0 && batch->wait == NULL) {
        ngx_http_xflow_spool_unwait(&batch->waiter);
        ngx_http_xflow_limit_inflight_unhold(batch->held);
        ngx_free(batch);
    }
}
