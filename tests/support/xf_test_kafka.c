/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_test_kafka.c - an in-process librdkafka mock cluster and a consumer
 * that reads a whole topic without a consumer group.
 *
 * The mock cluster lives in threads of the test process (one check test,
 * forked).  nginx runs in another process and reaches the brokers over
 * loopback TCP, so the brokers speak the real wire protocol to it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_test.h"


#define XF_KAFKA_META_TIMEOUT  5000     /* ms */
#define XF_KAFKA_API_PRODUCE   0        /* the protocol's ApiKey of Produce */


static int  xf_consumer_seq;


struct xf_consumer_s {
    rd_kafka_t  *rk;
    char        *topic;
};


static void xf_kafka_quiet_log(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf);
static rd_kafka_conf_t *xf_kafka_conf(const char *bootstraps);
static int xf_kafka_partitions(rd_kafka_t *rk, const char *topic);
static void xf_kafka_msgs_add(xf_kafka_msgs_t *m, const rd_kafka_message_t *rm);


static void
xf_kafka_quiet_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    /* Errors only: the mock's and the consumer's chatter hides failures. */
    if (level <= 3) {
        fprintf(stderr, "rdkafka %s: %s\n", fac, buf);
    }
}


static rd_kafka_conf_t *
xf_kafka_conf(const char *bootstraps)
{
    char              err[512];
    rd_kafka_conf_t  *conf;

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, xf_kafka_quiet_log);

    if (bootstraps != NULL
        && rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err,
                             sizeof(err))
           != RD_KAFKA_CONF_OK)
    {
        ck_abort_msg("bootstrap.servers: %s", err);
    }

    return conf;
}


xf_kafka_t *
xf_kafka_start(int brokers)
{
    char         err[512];
    xf_kafka_t  *k;

    k = calloc(1, sizeof(xf_kafka_t));
    ck_assert_ptr_nonnull(k);

    /*
     * The mock cluster needs a handle to own its threads; a producer that
     * never produces is the cheapest one.
     */
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, xf_kafka_conf(NULL), err,
                         sizeof(err));
    ck_assert_msg(k->rk != NULL, "rd_kafka_new: %s", err);

    k->mc = rd_kafka_mock_cluster_new(k->rk, brokers);
    ck_assert_ptr_nonnull(k->mc);

    k->bootstraps = rd_kafka_mock_cluster_bootstraps(k->mc);
    k->brokers = brokers;

    return k;
}


void
xf_kafka_topic(xf_kafka_t *k, const char *topic, int partitions)
{
    rd_kafka_resp_err_t  err;

    err = rd_kafka_mock_topic_create(k->mc, topic, partitions, 1);
    ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR,
                  "mock topic %s: %s", topic, rd_kafka_err2str(err));
}


void
xf_kafka_set_rtt(xf_kafka_t *k, int rtt_ms)
{
    int                  id;
    rd_kafka_resp_err_t  err;

    for (id = 1; id <= k->brokers; id++) {
        err = rd_kafka_mock_broker_set_rtt(k->mc, id, rtt_ms);
        ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR,
                      "broker %d rtt: %s", id, rd_kafka_err2str(err));
    }
}


static void
xf_kafka_set_brokers(xf_kafka_t *k, int up)
{
    int  id;

    for (id = 1; id <= k->brokers; id++) {
        ck_assert_int_eq(up ? rd_kafka_mock_broker_set_up(k->mc, id)
                            : rd_kafka_mock_broker_set_down(k->mc, id),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    }
}


void
xf_kafka_set_down(xf_kafka_t *k)
{
    xf_kafka_set_brokers(k, 0);
}


void
xf_kafka_set_up(xf_kafka_t *k)
{
    xf_kafka_set_brokers(k, 1);
}


void
xf_kafka_set_leaderless(xf_kafka_t *k, const char *topic, int partitions,
    int on)
{
    int32_t  p;

    for (p = 0; p < partitions; p++) {
        ck_assert_int_eq(rd_kafka_mock_partition_set_leader(k->mc, topic, p,
                                                            on ? -1 : 1),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    }
}


void
xf_kafka_fail_produce(xf_kafka_t *k, size_t n, rd_kafka_resp_err_t err)
{
    size_t                i;
    rd_kafka_resp_err_t  *errs;

    errs = calloc(n, sizeof(rd_kafka_resp_err_t));
    ck_assert_ptr_nonnull(errs);

    for (i = 0; i < n; i++) {
        errs[i] = err;
    }

    rd_kafka_mock_push_request_errors_array(k->mc, XF_KAFKA_API_PRODUCE, n,
                                            errs);
    free(errs);
}


void
xf_kafka_stop(xf_kafka_t *k)
{
    if (k == NULL) {
        return;
    }

    rd_kafka_mock_cluster_destroy(k->mc);
    rd_kafka_destroy(k->rk);
    free(k);
}


static int
xf_kafka_partitions(rd_kafka_t *rk, const char *topic)
{
    int                          n;
    rd_kafka_topic_t            *rkt;
    rd_kafka_resp_err_t          err;
    const struct rd_kafka_metadata  *md;

    rkt = rd_kafka_topic_new(rk, topic, NULL);
    ck_assert_ptr_nonnull(rkt);

    err = rd_kafka_metadata(rk, 0, rkt, &md, XF_KAFKA_META_TIMEOUT);
    rd_kafka_topic_destroy(rkt);
    ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR,
                  "metadata for %s: %s", topic, rd_kafka_err2str(err));

    ck_assert_int_eq(md->topic_cnt, 1);
    ck_assert_msg(md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR,
                  "topic %s: %s", topic,
                  rd_kafka_err2str(md->topics[0].err));

    n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);

    ck_assert_int_gt(n, 0);

    return n;
}


int64_t
xf_kafka_count(xf_kafka_t *k, const char *topic)
{
    int                  i, n;
    char                 err[512];
    int64_t              lo, hi, sum;
    rd_kafka_t          *rk;
    rd_kafka_resp_err_t  rc;

    rk = rd_kafka_new(RD_KAFKA_CONSUMER, xf_kafka_conf(k->bootstraps), err,
                      sizeof(err));
    ck_assert_msg(rk != NULL, "rd_kafka_new: %s", err);

    n = xf_kafka_partitions(rk, topic);
    sum = 0;

    for (i = 0; i < n; i++) {
        rc = rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi,
                                              XF_KAFKA_META_TIMEOUT);
        ck_assert_msg(rc == RD_KAFKA_RESP_ERR_NO_ERROR,
                      "watermarks %s/%d: %s", topic, i,
                      rd_kafka_err2str(rc));
        sum += hi;
    }

    rd_kafka_destroy(rk);

    return sum;
}


xf_consumer_t *
xf_consumer_new(xf_kafka_t *k, const char *topic)
{
    int                                i, n;
    char                               err[512], group[64];
    xf_consumer_t                     *c;
    rd_kafka_conf_t                   *conf;
    rd_kafka_resp_err_t                rc;
    rd_kafka_topic_partition_list_t   *parts;

    c = calloc(1, sizeof(xf_consumer_t));
    ck_assert_ptr_nonnull(c);

    c->topic = strdup(topic);
    ck_assert_ptr_nonnull(c->topic);

    conf = xf_kafka_conf(k->bootstraps);

    /*
     * librdkafka's consumer wants a group.id even for assign(); the group
     * is never joined (no subscribe) and nothing is committed.
     */
    snprintf(group, sizeof(group), "xf-test-%d-%d", (int) getpid(),
             xf_consumer_seq++);

    if (rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err))
            != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                             sizeof(err)) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "enable.partition.eof", "false", err,
                             sizeof(err)) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "fetch.wait.max.ms", "50", err,
                             sizeof(err)) != RD_KAFKA_CONF_OK)
    {
        ck_abort_msg("consumer conf: %s", err);
    }

    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ck_assert_msg(c->rk != NULL, "rd_kafka_new: %s", err);

    n = xf_kafka_partitions(c->rk, topic);

    parts = rd_kafka_topic_partition_list_new(n);
    for (i = 0; i < n; i++) {
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }

    rc = rd_kafka_assign(c->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    ck_assert_msg(rc == RD_KAFKA_RESP_ERR_NO_ERROR, "assign %s: %s",
                  topic, rd_kafka_err2str(rc));

    return c;
}


static void
xf_kafka_msgs_add(xf_kafka_msgs_t *m, const rd_kafka_message_t *rm)
{
    size_t                i, n;
    const char           *name;
    const void           *val;
    size_t                val_len;
    xf_kafka_msg_t       *msg;
    rd_kafka_headers_t   *hdrs;

    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->msgs = realloc(m->msgs, m->cap * sizeof(xf_kafka_msg_t));
        ck_assert_ptr_nonnull(m->msgs);
    }

    msg = &m->msgs[m->n++];
    memset(msg, 0, sizeof(xf_kafka_msg_t));

    msg->partition = rm->partition;
    msg->offset = rm->offset;

    if (rm->key != NULL) {
        msg->key = calloc(1, rm->key_len + 1);
        ck_assert_ptr_nonnull(msg->key);
        memcpy(msg->key, rm->key, rm->key_len);
        msg->key_len = rm->key_len;
    }

    if (rm->payload != NULL) {
        msg->value = calloc(1, rm->len + 1);
        ck_assert_ptr_nonnull(msg->value);
        memcpy(msg->value, rm->payload, rm->len);
        msg->value_len = rm->len;
    }

    if (rd_kafka_message_headers(rm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }

    n = rd_kafka_header_cnt(hdrs);
    msg->headers = calloc(n ? n : 1, sizeof(xf_kafka_header_t));
    ck_assert_ptr_nonnull(msg->headers);

    for (i = 0; i < n; i++) {
        if (rd_kafka_header_get_all(hdrs, i, &name, &val, &val_len)
            != RD_KAFKA_RESP_ERR_NO_ERROR)
        {
            break;
        }

        msg->headers[i].name = strdup(name);
        if (val != NULL) {
            msg->headers[i].value = calloc(1, val_len + 1);
            ck_assert_ptr_nonnull(msg->headers[i].value);
            memcpy(msg->headers[i].value, val, val_len);
            msg->headers[i].value_len = val_len;
        }

        msg->nheaders++;
    }
}


size_t
xf_consumer_read(xf_consumer_t *c, xf_kafka_msgs_t *out, size_t expect,
    int timeout_ms)
{
    int64_t              deadline, left;
    rd_kafka_message_t  *rm;

    deadline = xf_now_ms() + timeout_ms;

    while (out->n < expect) {
        left = deadline - xf_now_ms();
        if (left <= 0) {
            break;
        }

        rm = rd_kafka_consumer_poll(c->rk, left > 100 ? 100 : (int) left);
        if (rm == NULL) {
            continue;
        }

        if (rm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            xf_kafka_msgs_add(out, rm);

        } else if (rm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            fprintf(stderr, "consume %s: %s\n", c->topic,
                    rd_kafka_message_errstr(rm));
        }

        rd_kafka_message_destroy(rm);
    }

    return out->n;
}


void
xf_consumer_expect_quiet(xf_consumer_t *c, int settle_ms)
{
    size_t           i;
    xf_kafka_msgs_t  extra;

    memset(&extra, 0, sizeof(extra));

    xf_consumer_read(c, &extra, 1, settle_ms);
    if (extra.n == 0) {
        return;
    }

    /* Read the rest of them so the failure says how many. */
    xf_consumer_read(c, &extra, (size_t) -1, 200);

    for (i = 0; i < extra.n && i < 5; i++) {
        fprintf(stderr, "unexpected message %s/%d@%lld: %.200s\n",
                c->topic, (int) extra.msgs[i].partition,
                (long long) extra.msgs[i].offset,
                extra.msgs[i].value ? extra.msgs[i].value : "(null)");
    }

    ck_assert_msg(extra.n == 0, "%zu unexpected message(s) on %s",
                  extra.n, c->topic);
}


void
xf_consumer_free(xf_consumer_t *c)
{
    if (c == NULL) {
        return;
    }

    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    free(c->topic);
    free(c);
}


void
xf_kafka_consume(xf_kafka_t *k, const char *topic, size_t expect,
    int timeout_ms, int settle_ms, xf_kafka_msgs_t *out)
{
    xf_consumer_t  *c;

    c = xf_consumer_new(k, topic);

    xf_consumer_read(c, out, expect, timeout_ms);
    ck_assert_msg(out->n >= expect, "%s: %zu message(s), expected %zu",
                  topic, out->n, expect);

    if (settle_ms > 0) {
        xf_consumer_expect_quiet(c, settle_ms);
    }

    xf_consumer_free(c);
}


void
xf_kafka_msgs_free(xf_kafka_msgs_t *m)
{
    size_t           i, j;
    xf_kafka_msg_t  *msg;

    for (i = 0; i < m->n; i++) {
        msg = &m->msgs[i];

        for (j = 0; j < msg->nheaders; j++) {
            free(msg->headers[j].name);
            free(msg->headers[j].value);
        }

        free(msg->headers);
        free(msg->key);
        free(msg->value);
    }

    free(m->msgs);
    memset(m, 0, sizeof(xf_kafka_msgs_t));
}
