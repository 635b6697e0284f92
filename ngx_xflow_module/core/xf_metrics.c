/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_metrics.c - the metric families (names, help, types, labels,
 * histogram buckets) and the values of their labels.  The registry and
 * the hot path are in xf_metrics_registry.c, the Prometheus text in
 * xf_metrics_render.c, librdkafka's statistics in xf_metrics_kafka.c.
 */

#include "xf_metrics_impl.h"
#include "xf_format.h"


static const uint64_t  xf_duration_bounds[] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000
};

static const char *const  xf_duration_le[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "0.5", "1", "2.5", "5"
};

static const uint64_t  xf_batch_bounds[] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000
};

static const char *const  xf_batch_le[] = {
    "1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"
};


#define XF_C0(n, h)                                                       \
    { n, h, XF_METRIC_COUNTER, XF_AGG_SUM, { NULL, NULL },                \
      { XF_DIM_NONE, XF_DIM_NONE }, NULL, NULL, 0, 1 }
#define XF_C1(n, h, l, d)                                                 \
    { n, h, XF_METRIC_COUNTER, XF_AGG_SUM, { l, NULL },                   \
      { d, XF_DIM_NONE }, NULL, NULL, 0, 1 }
#define XF_C2(n, h, l0, d0, l1, d1)                                       \
    { n, h, XF_METRIC_COUNTER, XF_AGG_SUM, { l0, l1 }, { d0, d1 },        \
      NULL, NULL, 0, 1 }
#define XF_G(n, h, agg, l, d, scale)                                      \
    { n, h, XF_METRIC_GAUGE, agg, { l, NULL }, { d, XF_DIM_NONE },        \
      NULL, NULL, 0, scale }
#define XF_H(n, h, b, le, scale)                                          \
    { n, h, XF_METRIC_HISTOGRAM, XF_AGG_SUM, { NULL, NULL },              \
      { XF_DIM_NONE, XF_DIM_NONE }, b, le, XF_NB(b), scale }

const xf_metric_def_t  xf_metric_defs[XF_M_MAX] = {

    [XF_M_DECODED_INFLIGHT] = XF_G("xflow_decoded_inflight_bytes",
        "Decoded request bytes held by requests in progress, all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_DECODED_INFLIGHT_REFUSED] = XF_C0(
        "xflow_decoded_inflight_refused_total",
        "Requests refused because their worker held "
        "xflow_max_decoded_in_flight decoded bytes already."),

    [XF_M_HTTP_REQUESTS] = XF_C2("xflow_http_requests_total",
        "Requests to xflow_collect locations by upload format and exact "
        "HTTP status.", "format", XF_DIM_FORMAT, "code", XF_DIM_CODE),

    [XF_M_EVENTS] = XF_C2("xflow_events_total",
        "Events by upload format and what became of them.",
        "format", XF_DIM_FORMAT, "result", XF_DIM_EVENT_RESULT),

    [XF_M_RATE_LIMITED] = XF_C2("xflow_rate_limited_total",
        "Requests a rate limit refused, their events unread, by upload "
        "format and the HTTP status answered (throttling, not failure).",
        "format", XF_DIM_FORMAT, "code", XF_DIM_CODE),

    [XF_M_EVENTS_REJECTED] = XF_C1("xflow_events_rejected_total",
        "Events refused or dead-lettered, by reason.",
        "reason", XF_DIM_STATUS),

    [XF_M_DECODE_ERRORS] = XF_C1("xflow_decode_errors_total",
        "Requests whose body could not be decoded, by error.",
        "kind", XF_DIM_STATUS),

    [XF_M_RECEIVED_BYTES] = XF_C0("xflow_received_bytes_total",
        "Upload bytes received on the wire: request bodies, and the "
        "query of GET beacons."),

    [XF_M_DECODED_BYTES] = XF_C0("xflow_decoded_bytes_total",
        "Bytes of the final decoding layer of request bodies (and GET "
        "beacons), the one events are read from, once per request."),

    [XF_M_KAFKA_PRODUCED_BYTES] = XF_C0("xflow_kafka_produced_bytes_total",
        "Payload bytes of messages delivered to Kafka."),

    [XF_M_KAFKA_MESSAGES] = XF_C2("xflow_kafka_messages_total",
        "Kafka messages by topic and delivery report.",
        "topic", XF_DIM_TOPIC, "result", XF_DIM_KAFKA_RESULT),

    [XF_M_KAFKA_RETRIES] = XF_C0("xflow_kafka_retries_total",
        "Requests to brokers that librdkafka retried."),

    [XF_M_KAFKA_TX_BYTES] = XF_C0("xflow_kafka_tx_bytes_total",
        "Bytes librdkafka sent to the brokers: compressed batches and "
        "protocol framing (txbytes of its statistics)."),

    [XF_M_KAFKA_INFLIGHT] = XF_G("xflow_kafka_inflight_messages",
        "Messages held by librdkafka awaiting delivery, all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_KAFKA_QUEUE_BYTES] = XF_G("xflow_kafka_queue_bytes",
        "Bytes of the messages held by librdkafka, all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_KAFKA_BROKER_UP] = XF_G("xflow_kafka_broker_up",
        "1 if some worker's producer has the broker connection up.",
        XF_AGG_MAX, "broker", XF_DIM_BROKER, 1),

    [XF_M_KAFKA_BROKER_RTT] = XF_G("xflow_kafka_broker_rtt_seconds",
        "Average broker round trip time, the highest among workers.",
        XF_AGG_MAX, "broker", XF_DIM_BROKER, 1000000),

    [XF_M_SPOOL_BYTES] = XF_G("xflow_spool_bytes",
        "Bytes in the on-disk spools of all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_SPOOL_RECORDS] = XF_G("xflow_spool_records",
        "Events waiting in the on-disk spools of all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_SPOOL_REPLAYED] = XF_C0("xflow_spool_replayed_total",
        "Spooled events handed to Kafka again."),

    [XF_M_SPOOL_ADOPTED] = XF_C0("xflow_spool_adopted_total",
        "Spooled events adopted from workers that are gone."),

    [XF_M_SPOOL_CORRUPT] = XF_C0("xflow_spool_corrupt_total",
        "Spool records skipped because their length or CRC is bad."),

    [XF_M_RATELIMIT_DECISIONS] = XF_C2("xflow_ratelimit_decisions_total",
        "Rate limit decisions by zone.",
        "zone", XF_DIM_ZONE, "result", XF_DIM_LIMIT_RESULT),

    [XF_M_REQUEST_DURATION] = XF_H("xflow_request_duration_seconds",
        "Time from the request's first byte to its answer.",
        xf_duration_bounds, xf_duration_le, 1000000),

    [XF_M_BATCH_EVENTS] = XF_H("xflow_batch_events",
        "Events per accepted upload.",
        xf_batch_bounds, xf_batch_le, 1),

    [XF_M_WORKER_RSS] = XF_G("xflow_worker_rss_bytes",
        "Resident memory of each worker process.",
        XF_AGG_WORKER, "worker", XF_DIM_WORKER, 1),

    [XF_M_SPOOLING] = XF_G("xflow_spooling",
        "Workers sending events to the spool: Kafka acknowledged nothing "
        "within xflow_spool_after and has delivered nothing since.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_CATALOG_ENTRIES] = XF_G("xflow_catalog_entries",
        "Entries (app, format, event name) the event catalog holds.",
        XF_AGG_MAX, NULL, XF_DIM_NONE, 1),

    [XF_M_CATALOG_EVICTED] = XF_C0("xflow_catalog_evicted_total",
        "Catalog entries that made room for a new one: many means the "
        "zone is too small, or names are made up per event."),

    [XF_M_BOT_REQUESTS] = XF_C1("xflow_bot_requests_total",
        "Requests xflow_bots found to be a bot's, by what it decided "
        "(dry_run_*: what it would have done, not done).",
        "decision", XF_DIM_BOT_DECISION),
};


/* ------------------------------------------------------ static labels */

static const char *const  xf_event_result_values[] = {
    "accepted", "dead_lettered", "overflowed", "dropped", "bot"
};

static const char *const  xf_bot_decision_values[] = {
    "mark", "route", "drop", "dry_run_mark", "dry_run_route", "dry_run_drop"
};

static const char *const  xf_kafka_result_values[] = {
    "delivered", "failed", "spooled"
};

static const char *const  xf_limit_result_values[] = {
    "passed", "rejected", "rejected_dry_run", "overflow", "table_full"
};


size_t
xf_metrics_code_index(unsigned status)
{
    if (status >= 100 && status < 600) {
        return status - 100;
    }

    return XF_METRICS_CODES - 1;
}


const xf_metric_def_t *
xf_metrics_def(xf_metric_id_t id)
{
    if ((unsigned) id >= XF_M_MAX) {
        return NULL;
    }

    return &xf_metric_defs[id];
}


size_t
xf_metrics_dim_size(const xf_metrics_t *m, xf_metric_dim_t dim)
{
    switch (dim) {

    case XF_DIM_NONE:
    case XF_DIM_WORKER:         /* the slot is the label */
        return 1;

    case XF_DIM_FORMAT:
        return XF_FMT_MAX;

    case XF_DIM_CODE:
        return XF_METRICS_CODES;

    case XF_DIM_EVENT_RESULT:
        return XF_NB(xf_event_result_values);

    case XF_DIM_STATUS:
        return XF_STATUS_MAX - 1;

    case XF_DIM_TOPIC:
        return m->topics.n;

    case XF_DIM_KAFKA_RESULT:
        return XF_NB(xf_kafka_result_values);

    case XF_DIM_ZONE:
        return m->zones.n;

    case XF_DIM_LIMIT_RESULT:
        return XF_NB(xf_limit_result_values);

    case XF_DIM_BOT_DECISION:
        return XF_NB(xf_bot_decision_values);

    case XF_DIM_BROKER:
        return XF_METRICS_BROKERS_MAX;

    default:
        return 0;
    }
}


/* See xf_metrics_impl.h. */
const u_char *
xf_metrics_dim_value(const xf_metrics_t *m, xf_metric_dim_t dim, size_t i,
    size_t *len)
{
    const char  *s;

    switch (dim) {

    case XF_DIM_FORMAT:
        /* the format names, but "auto" is an upload none was found for */
        s = i == XF_FMT_AUTO ? "unknown" : xf_format_name((xf_format_t) i);
        break;

    case XF_DIM_CODE:
        *len = 3;
        return m->codes[i];

    case XF_DIM_EVENT_RESULT:
        s = xf_event_result_values[i];
        break;

    case XF_DIM_STATUS:
        s = xf_strerror((xf_status_t) (i + 1));
        break;

    case XF_DIM_TOPIC:
        *len = m->topics.v[i].len;
        return m->topics.v[i].data;

    case XF_DIM_ZONE:
        *len = m->zones.v[i].len;
        return m->zones.v[i].data;

    case XF_DIM_KAFKA_RESULT:
        s = xf_kafka_result_values[i];
        break;

    case XF_DIM_LIMIT_RESULT:
        s = xf_limit_result_values[i];
        break;

    case XF_DIM_BOT_DECISION:
        s = xf_bot_decision_values[i];
        break;

    default:
        *len = 0;
        return (const u_char *) "";
    }

    *len = strlen(s);
    return (const u_char *) s;
}

