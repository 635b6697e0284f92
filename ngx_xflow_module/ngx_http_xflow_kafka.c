/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_kafka.c - the per-worker Kafka producer.
 *
 * librdkafka is not fork-safe, so each worker creates its own producer in
 * init_process.  Delivery reports, logs and errors are all routed to the
 * producer's main queue; librdkafka writes a byte to a non-blocking pipe
 * whenever that queue turns non-empty (rd_kafka_queue_io_event_enable),
 * and the pipe's read end is an nginx connection whose read handler
 * drains it and serves the queue with rd_kafka_poll(rk, 0).  No timer
 * polls, no thread of ours, and every callback runs on the worker's
 * event loop where touching requests is safe.
 *
 *   librdkafka threads --(queue non-empty)--> pipe --> epoll --> handler
 *                                                                 |
 *                        dr_msg_cb(batch) <--- rd_kafka_poll(0) <-+
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_kafka.h"
#include "ngx_http_xflow_metrics_module.h"

#include "xf_outbox.h"


typedef struct {
    rd_kafka_t                 *rk;
    rd_kafka_queue_t           *main_queue;
    rd_kafka_topic_t          **topics;
    ngx_uint_t                  ntopics;
    ngx_connection_t           *pipe_conn;
    ngx_fd_t                    pipe_wfd;
    ngx_uint_t                  queue_max;      /* messages librdkafka holds */
    ngx_uint_t                  brokers_up;     /* in the last statistics */
    time_t                      broker_seen;    /* a broker last answered */
    ngx_uint_t                  spooling;       /* Kafka missed a deadline */
    time_t                      spooling_since;
    time_t                      started;
    unsigned                    connected:1;    /* a broker ever answered */
    ngx_log_t                  *log;
    unsigned                    exiting:1;
} ngx_http_xflow_worker_t;


static void ngx_http_xflow_kafka_dr_msg(rd_kafka_t *rk,
    const rd_kafka_message_t *msg, void *opaque);
static void ngx_http_xflow_kafka_log(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf);
static void ngx_http_xflow_kafka_error(rd_kafka_t *rk, int err,
    const char *reason, void *opaque);
static void ngx_http_xflow_kafka_pipe_handler(ngx_event_t *ev);
static int ngx_http_xflow_kafka_stats(rd_kafka_t *rk, char *json,
    size_t json_len, void *opaque);
static ngx_int_t ngx_http_xflow_kafka_pipe_open(ngx_cycle_t *cycle);
static rd_kafka_topic_conf_t *ngx_http_xflow_kafka_topic_props(
    ngx_http_xflow_main_conf_t *mcf, ngx_str_t *name);
static void ngx_http_xflow_kafka_spooling_on(const char *why);
static void ngx_http_xflow_kafka_notice_lost(const char *dl_topic,
    rd_kafka_resp_err_t err);
static void ngx_http_xflow_kafka_spooling_off(void);
static const char *ngx_http_xflow_kafka_conf_str(
    ngx_http_xflow_main_conf_t *mcf, const char *name);


/* One producer per worker process: this is the worker's own copy. */
static ngx_http_xflow_worker_t  ngx_http_xflow_worker;

/* The opaque of a best-effort notice: nobody gets its report. */
static ngx_http_xflow_opaque_t  ngx_http_xflow_kafka_notice = { NULL };


ngx_int_t
ngx_http_xflow_kafka_init_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf)
{
    char                      errstr[512], client_id[128];
    size_t                    len;
    ngx_str_t                *names;
    ngx_uint_t                i;
    rd_kafka_conf_t          *conf;
    rd_kafka_topic_conf_t    *tconf;
    ngx_http_xflow_worker_t  *w;

    w = &ngx_http_xflow_worker;
    ngx_memzero(w, sizeof(ngx_http_xflow_worker_t));
    w->log = cycle->log;
    w->pipe_wfd = NGX_INVALID_FILE;

    /* a worker that just started has not lost its brokers yet */
    w->broker_seen = ngx_time();
    w->started = w->broker_seen;

    conf = rd_kafka_conf_dup(mcf->rk_conf);
    if (conf == NULL) {
        return NGX_ERROR;
    }

    rd_kafka_conf_set_dr_msg_cb(conf, ngx_http_xflow_kafka_dr_msg);
    rd_kafka_conf_set_stats_cb(conf, ngx_http_xflow_kafka_stats);
    rd_kafka_conf_set_log_cb(conf, ngx_http_xflow_kafka_log);
    rd_kafka_conf_set_error_cb(conf, ngx_http_xflow_kafka_error);

    /* logs go to the main queue too, so they are written by this thread */
    if (rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "xflow: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return NGX_ERROR;
    }

    /*
     * Brokers log and quota per client.id: name each worker's producer
     * (librdkafka's default is "rdkafka" for every client) unless
     * xflow_kafka_conf names it.
     */
    len = sizeof(errstr);
    if (rd_kafka_conf_get(conf, "client.id", errstr, &len) == RD_KAFKA_CONF_OK
        && ngx_strcmp(errstr, "rdkafka") == 0)
    {
        ngx_snprintf((u_char *) client_id, sizeof(client_id) - 1,
                     "xflow-%V-%ui%Z", &cycle->hostname, ngx_worker);
        client_id[sizeof(client_id) - 1] = '\0';

        (void) rd_kafka_conf_set(conf, "client.id", client_id, errstr,
                                 sizeof(errstr));
    }

    len = sizeof(errstr);
    if (rd_kafka_conf_get(conf, "queue.buffering.max.messages", errstr, &len)
        == RD_KAFKA_CONF_OK)
    {
        w->queue_max = strtoul(errstr, NULL, 10);
    }

    /* rd_kafka_new() owns conf from here on, whatever it returns */
    w->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (w->rk == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "xflow: cannot create Kafka producer: %s", errstr);
        return NGX_ERROR;
    }

    rd_kafka_set_log_queue(w->rk, NULL);

    /* this worker's slot: a worker of the same number may have left it
       set when it exited spooling */
    ngx_http_xflow_metric_set(XF_M_SPOOLING, 0, 0, 0);

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "xflow %s (librdkafka %s) started: message.timeout.ms %s",
                  NGX_HTTP_XFLOW_VERSION, rd_kafka_version_str(),
                  ngx_http_xflow_kafka_conf_str(mcf, "message.timeout.ms"));

    w->main_queue = rd_kafka_queue_get_main(w->rk);

    names = mcf->topics.elts;
    w->ntopics = mcf->topics.nelts;
    w->topics = ngx_alloc(w->ntopics * sizeof(rd_kafka_topic_t *), cycle->log);
    if (w->topics == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < w->ntopics; i++) {
        /* topic names are NUL-terminated: they come from the config */
        tconf = ngx_http_xflow_kafka_topic_props(mcf, &names[i]);
        if (tconf == NULL) {
            return NGX_ERROR;
        }

        /* the topic's index, for xflow_kafka_messages_total{topic} */
        rd_kafka_topic_conf_set_opaque(tconf, (void *) (uintptr_t) i);

        w->topics[i] = rd_kafka_topic_new(w->rk, (char *) names[i].data,
                                          tconf);
        if (w->topics[i] == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "xflow: topic \"%V\": %s", &names[i],
                          rd_kafka_err2str(rd_kafka_last_error()));
            return NGX_ERROR;
        }
    }

    return ngx_http_xflow_kafka_pipe_open(cycle);
}


/*
 * A topic's configuration: the producer's default topic configuration
 * (what xflow_kafka_conf set, message.timeout.ms and acks included) with
 * the topic's xflow_kafka_topic_conf on top.  librdkafka takes it.
 */
static rd_kafka_topic_conf_t *
ngx_http_xflow_kafka_topic_props(ngx_http_xflow_main_conf_t *mcf,
    ngx_str_t *name)
{
    char                     errstr[512];
    ngx_uint_t               i, k;
    ngx_keyval_t            *kv;
    rd_kafka_topic_conf_t   *conf;
    ngx_http_xflow_tconf_t  *tc;

    conf = rd_kafka_default_topic_conf_dup(ngx_http_xflow_worker.rk);
    if (conf == NULL) {
        return NULL;
    }

    tc = mcf->topic_confs.elts;

    for (i = 0; i < mcf->topic_confs.nelts; i++) {
        if (tc[i].topic.len != name->len
            || ngx_strncmp(tc[i].topic.data, name->data, name->len) != 0)
        {
            continue;
        }

        kv = tc[i].props->elts;

        for (k = 0; k < tc[i].props->nelts; k++) {
            /* validated at configuration load */
            (void) rd_kafka_topic_conf_set(conf, (char *) kv[k].key.data,
                                           (char *) kv[k].value.data,
                                           errstr, sizeof(errstr));
        }
    }

    return conf;
}


/* A property of the producer template, for a log line. */
static const char *
ngx_http_xflow_kafka_conf_str(ngx_http_xflow_main_conf_t *mcf,
    const char *name)
{
    size_t       len;
    static char  value[64];

    len = sizeof(value);

    if (rd_kafka_conf_get(mcf->rk_conf, name, value, &len)
        != RD_KAFKA_CONF_OK)
    {
        return "?";
    }

    return value;
}


static ngx_int_t
ngx_http_xflow_kafka_pipe_open(ngx_cycle_t *cycle)
{
    int                       fds[2];
    ngx_event_t              *rev;
    ngx_connection_t         *c;
    ngx_http_xflow_worker_t  *w;

    w = &ngx_http_xflow_worker;

    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "xflow: pipe2() failed");
        return NGX_ERROR;
    }

    c = ngx_get_connection(fds[0], cycle->log);
    if (c == NULL) {
        close(fds[0]);
        close(fds[1]);
        return NGX_ERROR;
    }

    w->pipe_conn = c;
    w->pipe_wfd = fds[1];

    rev = c->read;
    rev->handler = ngx_http_xflow_kafka_pipe_handler;
    rev->log = cycle->log;
    c->log = cycle->log;

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    rd_kafka_queue_io_event_enable(w->main_queue, w->pipe_wfd, "1", 1);

    /* anything queued before the pipe existed */
    rd_kafka_poll(w->rk, 0);

    return NGX_OK;
}


static void
ngx_http_xflow_kafka_pipe_handler(ngx_event_t *ev)
{
    u_char                    buf[256];
    ssize_t                   n;
    ngx_connection_t         *c;
    ngx_http_xflow_worker_t  *w;

    c = ev->data;
    w = &ngx_http_xflow_worker;

    /*
     * Drain first, then serve: librdkafka writes again only when the queue
     * goes from empty to non-empty, so an event queued while we poll
     * leaves a byte for the next round.  The pipe is edge-triggered under
     * epoll: read until EAGAIN.
     */
    for ( ;; ) {
        n = read(c->fd, buf, sizeof(buf));

        if (n > 0) {
            continue;
        }

        if (n == -1 && ngx_errno == NGX_EINTR) {
            continue;
        }

        break;
    }

    ev->ready = 0;

    rd_kafka_poll(w->rk, 0);
}


ngx_int_t
ngx_http_xflow_kafka_queue_room(ngx_uint_t n)
{
    ngx_http_xflow_worker_t  *w;

    w = &ngx_http_xflow_worker;

    return w->queue_max == 0
           || (ngx_uint_t) rd_kafka_outq_len(w->rk) + n <= w->queue_max;
}


/*
 * A request's deadline (xflow_spool_after) passed with events still in
 * librdkafka.  Purge what librdkafka holds, queued and in flight: purged
 * messages come back as failed delivery reports (on the event loop,
 * through the pipe) and go to the spool, so the request is answered once
 * they are durable.  A purged message was never sent, or was sent and
 * its answer is ignored from now on: only the latter can arrive twice,
 * once from librdkafka and once replayed, with the same envelope id.
 * Every request waiting on Kafka is spooled the same way: they all wait
 * on the same brokers.
 */
void
ngx_http_xflow_kafka_purge(void)
{
    rd_kafka_resp_err_t       err;
    ngx_http_xflow_worker_t  *w;

    w = &ngx_http_xflow_worker;

    if (w->rk == NULL || w->exiting) {
        return;
    }

    ngx_http_xflow_kafka_spooling_on("acknowledged nothing within "
                                     "xflow_spool_after");

    err = rd_kafka_purge(w->rk, RD_KAFKA_PURGE_F_QUEUE
                                | RD_KAFKA_PURGE_F_INFLIGHT
                                | RD_KAFKA_PURGE_F_NON_BLOCKING);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ngx_log_error(NGX_LOG_ERR, w->log, 0, "xflow: rd_kafka_purge(): %s",
                      rd_kafka_err2str(err));
    }
}


/*
 * Kafka missed a deadline: a request waited xflow_spool_after, or
 * librdkafka gave up on a message within message.timeout.ms (which
 * follows it) and its owner spooled it.  New events go to the spool
 * until a delivery succeeds again, under every xflow_ack.
 */
static void
ngx_http_xflow_kafka_spooling_on(const char *why)
{
    ngx_http_xflow_worker_t  *w;

    w = &ngx_http_xflow_worker;

    if (w->spooling || w->exiting) {
        return;
    }

    w->spooling = 1;
    w->spooling_since = ngx_time();

    ngx_log_error(NGX_LOG_WARN, w->log, 0,
                  "xflow: Kafka %s: spooling until it delivers again", why);

    ngx_http_xflow_metric_set(XF_M_SPOOLING, 0, 0, 1);
}


static void
ngx_http_xflow_kafka_spooling_off(void)
{
    ngx_http_xflow_worker_t  *w;

    w = &ngx_http_xflow_worker;

    if (!w->spooling) {
        return;
    }

    w->spooling = 0;

    ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                  "xflow: Kafka delivers again after %T s of spooling",
                  ngx_time() - w->spooling_since);

    ngx_http_xflow_metric_set(XF_M_SPOOLING, 0, 0, 0);
}


/* 1 while this worker sends new events to the spool, not to Kafka. */
ngx_int_t
ngx_http_xflow_kafka_spooling(void)
{
    return ngx_http_xflow_worker.spooling;
}


/*
 * What this worker's producer knows of the brokers: how many were up in
 * the last statistics report and when one last answered.  Every worker
 * talks to the same cluster, so one worker's view answers a health check.
 * NGX_DECLINED when this worker has no producer.
 */
ngx_int_t
ngx_http_xflow_kafka_state(ngx_uint_t *brokers_up, time_t *broker_seen)
{
    if (ngx_http_xflow_worker.rk == NULL) {
        return NGX_DECLINED;
    }

    *brokers_up = ngx_http_xflow_worker.brokers_up;
    *broker_seen = ngx_http_xflow_worker.broker_seen;

    return NGX_OK;
}


/*
 * A broker list that reaches no broker (a typo, a wrong port, a leftover
 * placeholder) must not hide behind the spool: this worker has heard
 * from no broker in the grace time since it started, and no worker of
 * this gateway has delivered anything since the master started (the
 * metrics zone keeps that across reloads, so workers started by a reload
 * during an outage do not say it).  Returns how long, in seconds, or 0.
 */
time_t
ngx_http_xflow_kafka_never_connected(ngx_msec_t grace)
{
    time_t                    ago;
    ngx_http_xflow_worker_t  *w;

    w = &ngx_http_xflow_worker;

    if (w->rk == NULL || w->connected) {
        return 0;
    }

    ago = ngx_time() - w->started;

    if (ago * 1000 <= (time_t) grace
        || ngx_http_xflow_metric_sum(XF_M_KAFKA_PRODUCED_BYTES, 0, 0) > 0)
    {
        return 0;
    }

    return ago;
}


ngx_uint_t
ngx_http_xflow_kafka_produce(ngx_uint_t index, rd_kafka_message_t *msgs,
    ngx_uint_t n, ngx_http_xflow_opaque_t *opaque, rd_kafka_resp_err_t *err)
{
    int         queued;
    ngx_uint_t  i;

    for (i = 0; opaque != NULL && i < n; i++) {
        msgs[i]._private = opaque;
    }

    queued = rd_kafka_produce_batch(ngx_http_xflow_worker.topics[index],
                                    RD_KAFKA_PARTITION_UA, 0, msgs, (int) n);

    *err = RD_KAFKA_RESP_ERR_NO_ERROR;

    if ((ngx_uint_t) queued != n) {
        for (i = 0; i < n; i++) {
            if (msgs[i].err) {
                *err = msgs[i].err;
                break;
            }
        }
    }

    return queued;
}


static void
ngx_http_xflow_kafka_dr_msg(rd_kafka_t *rk, const rd_kafka_message_t *msg,
    void *opaque)
{
    uintptr_t                 topic;
    ngx_uint_t                fate;
    ngx_http_xflow_opaque_t  *owner;

    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ngx_http_xflow_worker.broker_seen = ngx_time();
        ngx_http_xflow_worker.connected = 1;
        ngx_http_xflow_kafka_spooling_off();
        ngx_http_xflow_metric_add(XF_M_KAFKA_PRODUCED_BYTES, 0, 0, msg->len);
    }

    /* read before the owner's report, which may free what msg points at */
    topic = (uintptr_t) rd_kafka_topic_opaque(msg->rkt);
    owner = msg->_private;

    /* NULL: a notice nobody waits for (a refused message's dead letter) */
    if (owner->report != NULL) {
        fate = owner->report(owner, msg);

    } else if (msg->err) {
        fate = XF_METRICS_KAFKA_FAILED;
        ngx_http_xflow_kafka_notice_lost(rd_kafka_topic_name(msg->rkt),
                                         msg->err);

    } else {
        fate = XF_METRICS_KAFKA_DELIVERED;
    }

    /* a message librdkafka gave up on: not a purge of ours */
    if (fate == XF_METRICS_KAFKA_SPOOLED
        && msg->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE
        && msg->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    {
        ngx_http_xflow_kafka_spooling_on("delivered nothing within "
                                         "message.timeout.ms");
    }

    ngx_http_xflow_metric_add(XF_M_KAFKA_MESSAGES, topic, fate, 1);
}


/*
 * Errors no retry can cure: the message is too large for the broker or
 * the topic, or a record the broker will never take.
 */
ngx_int_t
ngx_http_xflow_kafka_refused_for_good(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
           || err == RD_KAFKA_RESP_ERR_INVALID_MSG
           || err == RD_KAFKA_RESP_ERR_INVALID_RECORD
           || err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}


void
ngx_http_xflow_kafka_refused(ngx_log_t *log, const char *dl_topic,
    const char *topic, const void *value, size_t value_len, uint64_t ts_ms,
    rd_kafka_resp_err_t err)
{
    u_char  buf[512];
    size_t  len;

    ngx_http_xflow_log_throttled(log, NGX_LOG_WARN,
                                 NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                 "refused", rd_kafka_err2str(err));

    if (dl_topic[0] == '\0') {
        return;
    }

    len = xf_outbox_refused(buf, sizeof(buf), value, value_len, ts_ms,
                            rd_kafka_err2name(err), topic);

    err = ngx_http_xflow_kafka_produce_copy(dl_topic, NULL, 0, buf, len,
                                            &ngx_http_xflow_kafka_notice);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* a spool record may name a topic this gateway cannot write */
        ngx_http_xflow_kafka_notice_lost(dl_topic, err);
    }
}


/*
 * A dead-letter notice that could not be sent (nobody waits for it): not
 * without a trace, one warning a second at most.
 */
static void
ngx_http_xflow_kafka_notice_lost(const char *dl_topic,
    rd_kafka_resp_err_t err)
{
    ngx_uint_t                         suppressed;
    static ngx_http_xflow_throttle_t   throttle;

    if (!ngx_http_xflow_throttle(&throttle, &suppressed)) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_http_xflow_worker.log, 0,
                  "xflow: the dead letter of a message Kafka refused was "
                  "not sent to \"%s\": %s (%ui similar lines suppressed)",
                  dl_topic, rd_kafka_err2str(err), suppressed);
}


const char *
ngx_http_xflow_kafka_topic_name(ngx_uint_t index)
{
    return rd_kafka_topic_name(ngx_http_xflow_worker.topics[index]);
}


rd_kafka_resp_err_t
ngx_http_xflow_kafka_produce_copy(const char *topic, const void *key,
    size_t key_len, const void *value, size_t value_len,
    ngx_http_xflow_opaque_t *opaque)
{
    return rd_kafka_producev(ngx_http_xflow_worker.rk,
                             RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, key_len),
                             RD_KAFKA_V_VALUE((void *) value, value_len),
                             RD_KAFKA_V_OPAQUE(opaque),
                             RD_KAFKA_V_END);
}


/*
 * librdkafka's log lines, at most one a second per facility (a dead
 * broker makes it log every reconnect attempt of every connection): the
 * lines held back are counted in the next one of that facility.
 */
static void
ngx_http_xflow_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    ngx_uint_t                         nlevel, slot, suppressed;
    const u_char                      *p;
    static ngx_http_xflow_throttle_t   slots[16];

    /* syslog levels, as librdkafka uses them */
    nlevel = level <= 2 ? NGX_LOG_CRIT
             : level == 3 ? NGX_LOG_ERR
             : level == 4 ? NGX_LOG_WARN
             : level <= 6 ? NGX_LOG_INFO : NGX_LOG_DEBUG;

    if (ngx_http_xflow_worker.log->log_level < nlevel) {
        return;
    }

    for (slot = 0, p = (const u_char *) fac; *p; p++) {
        slot = slot * 31 + *p;
    }

    if (!ngx_http_xflow_throttle(&slots[slot % 16], &suppressed)) {
        return;
    }

    if (suppressed) {
        ngx_log_error(nlevel, ngx_http_xflow_worker.log, 0,
                      "xflow: kafka %s: %s (%ui similar lines suppressed)",
                      fac, buf, suppressed);
        return;
    }

    ngx_log_error(nlevel, ngx_http_xflow_worker.log, 0,
                  "xflow: kafka %s: %s", fac, buf);
}


static void
ngx_http_xflow_kafka_error(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
    ngx_uint_t                         suppressed;
    static ngx_http_xflow_throttle_t   throttle;

    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        ngx_http_xflow_worker.brokers_up = 0;
    }

    /*
     * A connection that failed or could not resolve is also a FAIL line
     * of the log callback: one line for one failure.
     */
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT
        || err == RD_KAFKA_RESP_ERR__RESOLVE)
    {
        return;
    }

    if (!ngx_http_xflow_throttle(&throttle, &suppressed)) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, ngx_http_xflow_worker.log, 0,
                  "xflow: kafka error: %s: %s (%ui similar lines "
                  "suppressed)", rd_kafka_err2name(err), reason, suppressed);
}


void
ngx_http_xflow_kafka_exit_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf, ngx_uint_t spool)
{
    int                       left;
    ngx_uint_t                i;
    ngx_http_xflow_worker_t  *w;

    w = &ngx_http_xflow_worker;

    if (w->rk == NULL) {
        return;
    }

    /* reports served from here on must not touch requests */
    w->exiting = 1;

    /*
     * Bounded: a dead broker must not hold a reload forever.  While
     * spooling, Kafka has delivered nothing since it missed a deadline:
     * what librdkafka holds goes to the spool now, not after the wait.
     */
    if (!w->spooling) {
        rd_kafka_flush(w->rk, (int) mcf->shutdown_timeout);
    }

    /* serve what the flush delivered before purging the rest */
    rd_kafka_poll(w->rk, 0);

    left = rd_kafka_outq_len(w->rk);
    if (left > 0) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "xflow: %d Kafka messages undelivered at exit, "
                      "%s", left, spool ? "spooled" : "lost (no xflow_spool)");

        /* purged messages come back as failed reports: to the spool */
        rd_kafka_purge(w->rk, RD_KAFKA_PURGE_F_QUEUE
                              | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(w->rk, 0);
    }

    rd_kafka_queue_io_event_enable(w->main_queue, -1, NULL, 0);
    rd_kafka_queue_destroy(w->main_queue);

    for (i = 0; i < w->ntopics; i++) {
        rd_kafka_topic_destroy(w->topics[i]);
    }

    ngx_free(w->topics);

    rd_kafka_destroy(w->rk);
    w->rk = NULL;

    if (w->pipe_conn) {
        ngx_close_connection(w->pipe_conn);
        w->pipe_conn = NULL;
    }

    if (w->pipe_wfd != NGX_INVALID_FILE) {
        close(w->pipe_wfd);
    }
}


/*
 * librdkafka's statistics, every statistics.interval.ms, on the loop:
 * parsed once, for the metrics and for health.
 */
static int
ngx_http_xflow_kafka_stats(rd_kafka_t *rk, char *json, size_t json_len,
    void *opaque)
{
    size_t            i;
    xf_kafka_stats_t  st;

    if (xf_metrics_kafka_stats_parse((const u_char *) json, json_len, &st)
        == XF_OK)
    {
        ngx_http_xflow_metrics_kafka_stats(&st);

        /* health: how many brokers this worker's producer sees up */
        ngx_http_xflow_worker.brokers_up = 0;

        for (i = 0; i < st.nbrokers; i++) {
            ngx_http_xflow_worker.brokers_up += st.brokers[i].up;
        }

        if (ngx_http_xflow_worker.brokers_up) {
            ngx_http_xflow_worker.broker_seen = ngx_time();
            ngx_http_xflow_worker.connected = 1;
        }
    }

    /* 0: librdkafka frees json */
    return 0;
}
