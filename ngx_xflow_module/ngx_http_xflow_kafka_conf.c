/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_kafka_conf.c - what xflow decides of librdkafka's
 * configuration at load: the defaults it sets unless xflow_kafka_conf
 * does, and a check that creates the producer once, without connecting,
 * so that a configuration librdkafka refuses fails "nginx -t" with the
 * directive's file:line (ngx_http_xflow_kafka.h).  Runs in the master.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_kafka.h"


/* ----------------------------------------------------------------
 * Delivery deadline and queue defaults.
 *
 * librdkafka properties whose defaults decide how long an event may wait
 * in librdkafka and how much a worker holds there.  xflow sets them from
 * its own directives unless xflow_kafka_conf sets them (or an alias).
 * Every value is per worker: each worker has its own producer.
 *
 *   message.timeout.ms            xflow_spool_after with a spool (then
 *                                 the spool takes what is late), else
 *                                 xflow_ack_timeout (http level)
 *   queue.buffering.max.messages  100000 (librdkafka's own default)
 *   queue.buffering.max.kbytes    65536: 64 MB per worker, not 1 GB
 *   reconnect.backoff.max.ms      1000, not 10000: a broker that comes
 *                                 back is found within a second, so
 *                                 spooling ends within ~2 s of recovery
 *
 * Batching (linger.ms, batch sizes) is not decided here.
 * ---------------------------------------------------------------- */

typedef struct {
    const char                 *name;
    const char                 *alias;      /* NULL: none */
    ngx_uint_t                  value;      /* 0: computed below */
} ngx_http_xflow_kafka_default_t;


static ngx_http_xflow_kafka_default_t  ngx_http_xflow_kafka_default[] = {
    { "message.timeout.ms", "delivery.timeout.ms", 0 },
    { "queue.buffering.max.messages", NULL, 100000 },
    { "queue.buffering.max.kbytes", NULL, 65536 },
    { "reconnect.backoff.max.ms", NULL, 1000 },
    { NULL, NULL, 0 }
};


static ngx_http_xflow_kv_t *
ngx_http_xflow_kafka_user_conf(ngx_http_xflow_main_conf_t *mcf,
    const char *name)
{
    ngx_uint_t            i;
    ngx_http_xflow_kv_t  *kv;

    kv = mcf->kafka_conf.elts;

    for (i = 0; i < mcf->kafka_conf.nelts; i++) {
        if (ngx_strcmp(kv[i].key.data, name) == 0) {
            return &kv[i];
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_xflow_kafka_defaults(ngx_conf_t *cf, ngx_http_xflow_main_conf_t *mcf)
{
    char                             errstr[512], value[NGX_INT_T_LEN + 1];
    ngx_uint_t                       v;
    ngx_http_xflow_loc_conf_t       *lcf;
    ngx_http_xflow_kafka_default_t  *d;

    /* the http{} level: what a location inherits unless it says */
    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_xflow_module);

    for (d = ngx_http_xflow_kafka_default; d->name; d++) {

        if (ngx_http_xflow_kafka_user_conf(mcf, d->name)
            || (d->alias && ngx_http_xflow_kafka_user_conf(mcf, d->alias)))
        {
            continue;
        }

        v = d->value;

        if (v == 0) {
            /* message.timeout.ms */
            v = mcf->spool ? mcf->spool_after
                : lcf->ack_timeout != NGX_CONF_UNSET_MSEC ? lcf->ack_timeout
                : 30000;
        }

        ngx_sprintf((u_char *) value, "%ui%Z", v);

        if (rd_kafka_conf_set(mcf->rk_conf, d->name, value, errstr,
                              sizeof(errstr))
            != RD_KAFKA_CONF_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "xflow: default %s %s: %s", d->name, value,
                               errstr);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}

/* ------------------------------------------------- end of defaults */


/*
 * Where a librdkafka error most likely comes from: the last
 * xflow_kafka_conf whose property the message names, else
 * xflow_kafka_brokers.
 */
static ngx_http_xflow_kv_t *
ngx_http_xflow_kafka_blame(ngx_http_xflow_main_conf_t *mcf,
    const char *errstr, u_char **file, ngx_uint_t *line)
{
    ngx_uint_t            i;
    ngx_http_xflow_kv_t  *kv, *found;

    *file = mcf->brokers_where.file;
    *line = mcf->brokers_where.line;
    found = NULL;

    kv = mcf->kafka_conf.elts;

    for (i = 0; i < mcf->kafka_conf.nelts; i++) {
        if (ngx_strstr(errstr, kv[i].key.data) != NULL) {
            *file = kv[i].file;
            *line = kv[i].line;
            found = &kv[i];
        }
    }

    return found;
}


/* The check's producer says nothing: its error string does. */
static void
ngx_http_xflow_kafka_check_log(const rd_kafka_t *rk, int level,
    const char *fac, const char *buf)
{
}


/*
 * "nginx -t" and every start and reload: create a producer and its
 * topics once from the final configuration, without connecting, and
 * destroy it.  librdkafka checks at rd_kafka_new() what it does not
 * check property by property (enable.idempotence with acks other than
 * all, an SSL CA file that cannot be read, ...): a configuration it
 * refuses would otherwise stop every worker at start ("cannot be
 * respawned").
 */
ngx_int_t
ngx_http_xflow_kafka_check(ngx_conf_t *cf, ngx_http_xflow_main_conf_t *mcf)
{
    char                     errstr[512], value[64];
    size_t                   len;
    u_char                  *file;
    ngx_str_t               *names;
    ngx_uint_t               i, k, line;
    ngx_keyval_t            *kvs;
    rd_kafka_t              *rk;
    rd_kafka_conf_t         *conf;
    rd_kafka_topic_t        *rkt;
    ngx_http_xflow_kv_t     *kv;
    rd_kafka_topic_conf_t   *tconf;
    ngx_http_xflow_tconf_t  *tc;

    /* health answers from the statistics: they must be on */
    len = sizeof(value);

    if (mcf->health_where.file
        && rd_kafka_conf_get(mcf->rk_conf, "statistics.interval.ms", value,
                             &len)
           == RD_KAFKA_CONF_OK
        && ngx_atoi((u_char *) value, ngx_strlen(value)) == 0)
    {
        kv = ngx_http_xflow_kafka_user_conf(mcf, "statistics.interval.ms");

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"statistics.interval.ms 0\" switches off the "
                      "statistics from which \"xflow_health\" (%s:%ui) "
                      "learns the brokers' state in %s:%ui",
                      mcf->health_where.file, mcf->health_where.line,
                      kv ? kv->file : mcf->brokers_where.file,
                      kv ? kv->line : mcf->brokers_where.line);
        return NGX_ERROR;
    }

    conf = rd_kafka_conf_dup(mcf->rk_conf);
    if (conf == NULL) {
        return NGX_ERROR;
    }

    /* no broker: nothing connects, nothing is sent */
    if (rd_kafka_conf_set(conf, "bootstrap.servers", "", errstr,
                          sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        rd_kafka_conf_destroy(conf);
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "xflow: %s", errstr);
        return NGX_ERROR;
    }

    rd_kafka_conf_set_log_cb(conf, ngx_http_xflow_kafka_check_log);

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));

    if (rk == NULL) {
        kv = ngx_http_xflow_kafka_blame(mcf, errstr, &file, &line);
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "librdkafka refuses the producer configuration: %s "
                      "(%s %s) in %s:%ui", errstr,
                      kv ? (char *) kv->key.data : "bootstrap.servers",
                      kv ? (char *) kv->value.data
                         : (char *) mcf->brokers.data,
                      file, line);
        return NGX_ERROR;
    }

    names = mcf->topics.elts;
    tc = mcf->topic_confs.elts;

    for (i = 0; i < mcf->topics.nelts; i++) {
        tconf = rd_kafka_default_topic_conf_dup(rk);
        if (tconf == NULL) {
            rd_kafka_destroy(rk);
            return NGX_ERROR;
        }

        file = mcf->brokers_where.file;
        line = mcf->brokers_where.line;

        for (len = 0; len < mcf->topic_confs.nelts; len++) {
            if (tc[len].topic.len == names[i].len
                && ngx_strncmp(tc[len].topic.data, names[i].data,
                               names[i].len) == 0)
            {
                /* as each worker does: the topic's own on top */
                kvs = tc[len].props->elts;

                for (k = 0; k < tc[len].props->nelts; k++) {
                    (void) rd_kafka_topic_conf_set(tconf,
                                               (char *) kvs[k].key.data,
                                               (char *) kvs[k].value.data,
                                               errstr, sizeof(errstr));
                }

                file = tc[len].where.file;
                line = tc[len].where.line;
            }
        }

        rkt = rd_kafka_topic_new(rk, (char *) names[i].data, tconf);

        if (rkt == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "librdkafka refuses topic \"%V\": %s in %s:%ui",
                          &names[i],
                          rd_kafka_err2str(rd_kafka_last_error()), file,
                          line);
            rd_kafka_destroy(rk);
            return NGX_ERROR;
        }

        rd_kafka_topic_destroy(rkt);
    }

    rd_kafka_destroy(rk);

    return NGX_OK;
}


/* ----------------------------------------------------------------
 * Batching and compression defaults: linger, batch sizes, the codec.
 *
 * Set on the producer template before any xflow_kafka_conf, so that a
 * user's value (or its alias: queue.buffering.max.ms for linger.ms,
 * compression.type for compression.codec) replaces them.  See
 * docs/benchmarks.md, "librdkafka settings" and "Compressed Kafka".
 *
 *   linger.ms          1    librdkafka's 5 makes ack=kafka wait 5 ms per
 *                           batch (32 connections: ~6k req/s whatever
 *                           the CPU) and its p99 over 5 ms; 0 sends a
 *                           produce request per few messages (5-10x the
 *                           broker thread's work on batches).  At 1 ms a
 *                           busy worker still fills batches of hundreds.
 *   compression.codec  lz4  librdkafka's none puts 129% of the decoded
 *                           upload on the wire for the real SDK mix
 *                           with the privacy setup (the envelope and
 *                           key on every event); lz4 24-25%, zstd
 *                           15-19%, zstd level 1 19-22%.  lz4 costs
 *                           the least CPU: under load no more than
 *                           none (fewer bytes to write), and 40-60k
 *                           instructions per event on one-message
 *                           batches against zstd's 145k (level 1:
 *                           87k).
 *
 * batch.num.messages (10000) and batch.size (1 MB) stay librdkafka's:
 * at 1 ms of linger a worker never reaches them.
 * ---------------------------------------------------------------- */

static const char  *ngx_http_xflow_kafka_batching[][2] = {
    { "linger.ms", "1" },
    { "compression.codec", "lz4" },
};


ngx_int_t
ngx_http_xflow_kafka_batch_defaults(rd_kafka_conf_t *conf, char *errstr,
    size_t size)
{
    ngx_uint_t  i;

    for (i = 0; i < sizeof(ngx_http_xflow_kafka_batching)
                    / sizeof(ngx_http_xflow_kafka_batching[0]); i++)
    {
        if (rd_kafka_conf_set(conf, ngx_http_xflow_kafka_batching[i][0],
                              ngx_http_xflow_kafka_batching[i][1], errstr,
                              size)
            != RD_KAFKA_CONF_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}

/* ------------------------------------------ end of batching defaults */


ngx_int_t
ngx_http_xflow_kafka_conf_set(ngx_conf_t *cf, ngx_http_xflow_main_conf_t *mcf,
    const char *name, const char *value)
{
    char  errstr[512];

    if (rd_kafka_conf_set(mcf->rk_conf, name, value, errstr, sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Kafka property \"%s\": %s", name, errstr);
        return NGX_ERROR;
    }

    return NGX_OK;
}
